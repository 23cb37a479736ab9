"""How a record from one source is merged into what is already known about a paper (pure functions).

The rules make ingest idempotent and order-independent enough to trust:

* a record describing a *newer* state of the paper (a higher version number, or the same version
  updated later) overwrites every field it provides and keeps the others;
* any other record only fills fields that are still empty, so re-reading a source, or reading a second
  source that formats the same abstract differently, never flip-flops a paper between two spellings;
* lists that grow by nature (version history, code links) are unions; ``extra`` facts are added;
* predicted categories count as empty: the first source that gives real ones replaces them.

The paper state is a ``dict`` of column values, exactly what the pipeline reads and writes, typed as
:class:`~dailypapers.models.PaperState` (a ``TypedDict`` costs nothing over the dict it is, and the
writer handles millions of them). The fields are listed once, there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

from dailypapers.ingest.records import FeedRecord, PaperRecord, Version, title_key
from dailypapers.models import PAPER_VALUE_FIELDS, PaperState, PaperValues

# Fields that a record describes: a newer record overwrites them, any other only fills them when empty.
_DescribedField = Literal[
    "title",
    "abstract",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "project_url",
    "published_at",
    "authors",
    "categories",
]
_DESCRIBED_FIELDS: tuple[_DescribedField, ...] = get_args(_DescribedField)


def title_hash(title: str) -> int:
    """A signed 64-bit hash of the title's key, for finding a paper by its title.

    An integer keeps the index three times smaller than a hex digest, which matters because every
    ingested paper inserts into it at a random place. (The chance of two of 3 million titles sharing
    a hash is about 1 in 4 million.)
    """
    digest = hashlib.blake2b(title_key(title).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _versions_as_json(versions: list[Version]) -> list[dict[str, Any]]:
    return [{"version": v.number, "date": v.date.isoformat() if v.date else None} for v in versions]


VALUE_KEYS = PAPER_VALUE_FIELDS


def record_values(record: PaperRecord) -> PaperValues:
    """The column values a record provides (empty values mean 'not provided')."""
    return {
        "arxiv_id": record.arxiv_id,
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "categories": list(dict.fromkeys(record.categories)),
        "version": record.version,
        "versions": _versions_as_json(record.versions),
        "published_at": record.published,
        "updated_at": record.updated,
        "comments": record.comments,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "license": record.license,
        "code_urls": list(record.code_urls),
        "project_url": record.project_url,
        "extra": dict(record.extra),
    }


@dataclass(slots=True)
class Prepared:
    """A record reduced to what the writer needs: column values, title hash and provenance.

    Preparing is pure, so the parser process of a large ingest does it; ``to_wire``/``from_wire`` move
    it between processes as plain tuples, which unpickle several times faster than objects.
    """

    source: str
    external_id: str | None
    dataset: str | None
    feed: FeedRecord | None
    position: str
    title_hash: int
    values: PaperValues

    @property
    def arxiv_id(self) -> str | None:
        return self.values["arxiv_id"]

    @property
    def title(self) -> str:
        return self.values["title"]

    def to_wire(self) -> tuple[Any, ...]:
        feed = self.feed
        values: Mapping[str, Any] = self.values
        return (
            self.source,
            self.external_id,
            self.dataset,
            None if feed is None else (feed.day, feed.submitted_by, feed.upvotes, feed.num_comments),
            self.position,
            self.title_hash,
            tuple(values[key] for key in VALUE_KEYS),
        )

    @classmethod
    def from_wire(cls, wire: tuple[Any, ...]) -> Prepared:
        source, external_id, dataset, feed, position, hashed, values = wire
        return cls(
            source,
            external_id,
            dataset,
            None if feed is None else FeedRecord(*feed),
            position,
            hashed,
            cast(PaperValues, dict(zip(VALUE_KEYS, values, strict=True))),
        )


def prepare(record: PaperRecord) -> Prepared:
    return Prepared(
        source=record.source.value,
        external_id=record.external_id,
        dataset=record.dataset,
        feed=record.feed,
        position=record.position,
        title_hash=title_hash(record.title),
        values=record_values(record),
    )


def local_id_for(prepared: Prepared) -> str:
    """A stable id for a paper without an arXiv id: the dataset's own id, else a hash of the title."""
    if prepared.dataset and prepared.external_id:
        return f"{prepared.dataset}-{prepared.external_id}"
    return f"dp-{prepared.title_hash & 0xFFFFFFFFFFFFFFFF:016x}"


def new_paper_state(paper_id: str, prepared: Prepared, now: datetime) -> PaperState:
    values = prepared.values
    return {
        **values,
        "id": paper_id,
        "updated_at": values["updated_at"] or values["published_at"],
        "primary_category": values["categories"][0] if values["categories"] else None,
        "categories_predicted": False,
        "title_hash": prepared.title_hash,
        "first_seen_at": now,
        "changed_at": now,
    }


def _is_newer(current: PaperState, incoming: PaperValues) -> bool:
    current_version, version = current.get("version"), incoming["version"]
    if version is not None and current_version is not None and version != current_version:
        return bool(version > current_version)
    if version is not None and current_version is None:
        return True
    current_updated, updated = current.get("updated_at"), incoming["updated_at"]
    if updated is not None and current_updated is not None:
        return _as_aware(updated) > _as_aware(current_updated)
    return False


def _as_aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; all stored times are UTC.
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _merge_versions(current: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_number: dict[int, dict[str, Any]] = {v["version"]: dict(v) for v in current}
    for version in incoming:
        known = by_number.get(version["version"])
        if known is None:
            by_number[version["version"]] = dict(version)
        elif not known.get("date") and version.get("date"):
            known["date"] = version["date"]
    return [by_number[n] for n in sorted(by_number)]


def merge_paper(current: PaperState, incoming: PaperValues) -> PaperState:
    """The paper's state after applying a record's values; ``current`` is not modified."""
    merged = current.copy()
    newer = _is_newer(current, incoming)
    _merge_described_fields(merged, current, incoming, newer=newer)
    if incoming["arxiv_id"] and not current.get("arxiv_id"):
        merged["arxiv_id"] = incoming["arxiv_id"]
    _merge_version_and_date(merged, current, incoming, newer=newer)
    merged["versions"] = _merge_versions(current.get("versions") or [], incoming["versions"])
    merged["code_urls"] = list(dict.fromkeys([*(current.get("code_urls") or []), *incoming["code_urls"]]))
    merged["extra"] = _merge_extra(current.get("extra") or {}, incoming["extra"], newer=newer)
    merged["primary_category"] = merged["categories"][0] if merged.get("categories") else None
    if merged["title"] != current.get("title") or not current.get("title_hash"):
        merged["title_hash"] = title_hash(merged["title"])
    return merged


def _merge_described_fields(
    merged: PaperState, current: PaperState, incoming: PaperValues, *, newer: bool
) -> None:
    """Overwrite (newer record) or fill (any other) the described fields; real categories replace
    predicted ones."""
    predicted = bool(current.get("categories_predicted"))
    for name in _DESCRIBED_FIELDS:
        value = incoming[name]
        if not value:
            continue
        if newer or not current.get(name) or (name == "categories" and predicted):
            merged[name] = value
            if name == "categories":
                merged["categories_predicted"] = False


def _merge_version_and_date(
    merged: PaperState, current: PaperState, incoming: PaperValues, *, newer: bool
) -> None:
    """A newer record sets the version and update time it gives; any other only fills a missing update
    time (an undated record's publication time stands in for it). A record with a version is always
    newer than a paper without one (``_is_newer``), so only a newer record ever sets the version."""
    version, updated = incoming["version"], incoming["updated_at"] or incoming["published_at"]
    if newer:
        if version is not None:
            merged["version"] = version
        if incoming["updated_at"] is not None:
            merged["updated_at"] = incoming["updated_at"]
    elif not current.get("updated_at") and updated:
        merged["updated_at"] = updated


def _merge_extra(current: dict[str, Any], incoming: dict[str, Any], *, newer: bool) -> dict[str, Any]:
    """Facts are added; only a newer record changes one that is known."""
    extra = dict(current)
    for key, value in incoming.items():
        if newer or key not in extra:
            extra[key] = value
    return extra


# What a merge may change: the values and whether the categories are predicted ones.
_COMPARED = (*PAPER_VALUE_FIELDS, "categories_predicted")


def differs(before: PaperState, after: PaperState) -> bool:
    """Whether merging changed anything worth writing."""
    for name in _COMPARED:
        a, b = before.get(name), after.get(name)
        if isinstance(a, datetime) and isinstance(b, datetime):
            if _as_aware(a) != _as_aware(b):
                return True
        elif a != b:
            return True
    return False
