"""How a record from one source is merged into what is already known about a paper (pure functions).

The rules make ingest idempotent and order-independent enough to trust:

* a record describing a *newer* state of the paper (a higher version number, or the same version
  updated later) overwrites every field it provides and keeps the others;
* any other record only fills fields that are still empty, so re-reading a source, or reading a second
  source that formats the same abstract differently, never flip-flops a paper between two spellings;
* lists that grow by nature (version history, code links) are unions; ``extra`` facts are added;
* predicted categories count as empty: the first source that gives real ones replaces them.

The paper state is a plain ``dict`` of column values, exactly what the pipeline reads and writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from dailypapers.ingest.records import FeedRecord, PaperRecord, Version, title_key

# Fields that a record may provide, and that are copied as they are.
_SCALAR_FIELDS = (
    "title",
    "abstract",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "project_url",
    "published_at",
)


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


VALUE_KEYS = (
    "arxiv_id",
    "title",
    "abstract",
    "authors",
    "categories",
    "version",
    "versions",
    "published_at",
    "updated_at",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "code_urls",
    "project_url",
    "extra",
)


def record_values(record: PaperRecord) -> dict[str, Any]:
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
    values: dict[str, Any]

    @property
    def arxiv_id(self) -> str | None:
        return cast(str | None, self.values["arxiv_id"])

    @property
    def title(self) -> str:
        return cast(str, self.values["title"])

    def to_wire(self) -> tuple[Any, ...]:
        feed = self.feed
        return (
            self.source,
            self.external_id,
            self.dataset,
            None if feed is None else (feed.day, feed.submitted_by, feed.upvotes, feed.num_comments),
            self.position,
            self.title_hash,
            tuple(self.values[key] for key in VALUE_KEYS),
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
            dict(zip(VALUE_KEYS, values, strict=True)),
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


def new_paper_state(paper_id: str, prepared: Prepared, now: datetime) -> dict[str, Any]:
    state = dict(prepared.values)
    state["id"] = paper_id
    if not state["updated_at"]:
        state["updated_at"] = state["published_at"]
    state["primary_category"] = state["categories"][0] if state["categories"] else None
    state["categories_predicted"] = False
    state["title_hash"] = prepared.title_hash
    state["first_seen_at"] = now
    state["changed_at"] = now
    return state


def _is_newer(current: dict[str, Any], incoming: dict[str, Any]) -> bool:
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


def merge_paper(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The paper's state after applying a record's values; ``current`` is not modified."""
    merged = dict(current)
    newer = _is_newer(current, incoming)
    predicted = bool(current.get("categories_predicted"))

    for name in (*_SCALAR_FIELDS, "authors", "categories"):
        value = incoming[name]
        if not value:
            continue
        if newer or not current.get(name) or (name == "categories" and predicted):
            merged[name] = value
            if name == "categories":
                merged["categories_predicted"] = False
    if incoming["arxiv_id"] and not current.get("arxiv_id"):
        merged["arxiv_id"] = incoming["arxiv_id"]
    version, updated = incoming["version"], incoming["updated_at"] or incoming["published_at"]
    if newer:
        if version is not None:
            merged["version"] = version
        if incoming["updated_at"] is not None:
            merged["updated_at"] = incoming["updated_at"]
    else:
        if current.get("version") is None and version is not None:
            merged["version"] = version
        if not current.get("updated_at") and updated:
            merged["updated_at"] = updated
    merged["versions"] = _merge_versions(current.get("versions") or [], incoming["versions"])
    merged["code_urls"] = list(dict.fromkeys([*(current.get("code_urls") or []), *incoming["code_urls"]]))
    extra = dict(current.get("extra") or {})
    for key, value in incoming["extra"].items():
        if newer or key not in extra:
            extra[key] = value
    merged["extra"] = extra
    merged["primary_category"] = merged["categories"][0] if merged.get("categories") else None
    if merged["title"] != current.get("title") or not current.get("title_hash"):
        merged["title_hash"] = title_hash(merged["title"])
    return merged


_COMPARED = (
    "arxiv_id",
    "title",
    "abstract",
    "authors",
    "categories",
    "categories_predicted",
    "version",
    "versions",
    "published_at",
    "updated_at",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "code_urls",
    "project_url",
    "extra",
)


def differs(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether merging changed anything worth writing."""
    for name in _COMPARED:
        a, b = before.get(name), after.get(name)
        if isinstance(a, datetime) and isinstance(b, datetime):
            if _as_aware(a) != _as_aware(b):
                return True
        elif a != b:
            return True
    return False
