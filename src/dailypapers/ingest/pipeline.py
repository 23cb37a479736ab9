"""The ingest pipeline: files and folders in, idempotent upserts out.

``ingest_paths`` works in two phases so that a broken file never leaves a half-done run behind:

1. *check*: every file is identified (format detected from its content) and every whole-document
   format (Atom, OAI-PMH, Hugging Face JSON, listings) is parsed once; an empty, truncated, undecodable
   or unknown file given by name stops the run here with a one-line error, before anything is written;
2. *write*: records are merged in batches. Document files are written in one transaction each; the
   streaming formats (the arXiv snapshot, BEIR corpora) commit every batch together with a checkpoint,
   so an interrupted run — even one killed with SIGKILL — resumes where it stopped and never leaves a
   half-written paper.

A record that cannot be read is *rejected* (file, position, reason) while the rest goes in.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from dailypapers import store
from dailypapers.db import chunked
from dailypapers.errors import FormatError, IngestError
from dailypapers.ingest.formats.detect import Format, detect_format
from dailypapers.ingest.merge import Prepared, differs, local_id_for, merge_paper, new_paper_state, prepare
from dailypapers.ingest.records import ParsedItem, Rejected
from dailypapers.store.papers import FeedCounts, FeedEntryRow, PaperSourceRow, PaperState

HEAD_BYTES = 64 * 1024
STREAM_FORMATS = {Format.ARXIV_SNAPSHOT, Format.BEIR_CORPUS}
# Streaming files at least this large are parsed in a second process (it costs ~0.5 s to start).
PARALLEL_PARSE_BYTES = 32 * 1024 * 1024
MAX_REPORTED_ERRORS = 1000

ProgressCallback = Callable[[str, int, int | None], None]
"""Called with (description, bytes or records done, total or None)."""


@dataclass
class IngestReport:
    """What one run did. ``to_json`` is the documented ``--json`` shape."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    changed_ids: set[str] = field(default_factory=set)

    def add_rejection(self, file: str, position: str, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"file": file, "position": position, "reason": reason})

    def count(self, paper_id: str, status: PaperStatus) -> None:
        if status is PaperStatus.NEW:
            self.new += 1
        elif status is PaperStatus.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1
        if status is not PaperStatus.UNCHANGED:
            self.changed_ids.add(paper_id)

    def merge(self, other: IngestReport) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(other.errors[: max(room, 0)])
        self.skipped.extend(other.skipped)
        self.files.extend(other.files)
        self.changed_ids |= other.changed_ids

    def to_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
        }


class PaperStatus(StrEnum):
    """What one record did to its paper; each record counts once in the report under its status."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class InputFile:
    path: Path
    format: Format
    explicit: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------------


def expand_paths(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """Files named directly (explicit) and every non-hidden file below the named folders, in order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name, False
        elif path.exists():
            yield path, True
        else:
            raise IngestError("no such file or folder", path=str(path))


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror}", path=str(path)) from exc


def parse_document(fmt: Format, data: bytes, path: Path) -> list[ParsedItem]:
    """Parse a whole-document format; raises FormatError (with the path) for a broken file."""
    from dailypapers.ingest.formats import atom, hf, listing, oai

    try:
        if fmt is Format.ARXIV_ATOM:
            return atom.parse_atom(data).items
        if fmt is Format.OAI_PMH:
            return oai.parse_oai(data).items
        if fmt is Format.HF_DAILY_PAPERS:
            return hf.parse_hf_daily_papers(data)
        if fmt is Format.LISTING:
            return listing.parse_listing(data)
    except IngestError as exc:
        raise type(exc)(str(exc), path=str(path)) from exc
    raise AssertionError(f"{fmt} is not a document format")


def iter_stream(
    fmt: Format, handle: BinaryIO, path: Path, *, start_offset: int, start_line: int
) -> Iterator[tuple[ParsedItem, int, int]]:
    from dailypapers.ingest.formats import beir, snapshot

    if fmt is Format.ARXIV_SNAPSHOT:
        return snapshot.iter_snapshot(handle, start_offset=start_offset, start_line=start_line)
    if fmt is Format.BEIR_CORPUS:
        return beir.iter_beir(
            handle, dataset=beir.dataset_name_for(path), start_offset=start_offset, start_line=start_line
        )
    raise AssertionError(f"{fmt} is not a streaming format")


def identify(
    paths: Iterable[Path], *, forced: Format | None = None
) -> tuple[list[InputFile], list[dict[str, str]]]:
    """Detect each file's format. Problems with a file named explicitly raise; files found inside a
    folder whose format is unknown are skipped and listed instead (folders hold READMEs and checksums)."""
    inputs: list[InputFile] = []
    skipped: list[dict[str, str]] = []
    for path, explicit in expand_paths(paths):
        head = _read_head(path)
        try:
            fmt = forced or detect_format(head, first_line_length=partial(_first_line_length, path))
            if forced and not head.strip():
                raise FormatError("file is empty")
        except IngestError as exc:
            if explicit:
                raise type(exc)(str(exc), path=str(path)) from exc
            skipped.append({"file": str(path), "reason": str(exc)})
            continue
        inputs.append(InputFile(path, fmt, explicit))
    return inputs, skipped


def check_documents(inputs: list[InputFile]) -> list[InputFile]:
    """Parse every document file once, so that a broken one stops the run before anything is written.

    Broken files inside folders are skipped with their reason rather than stopping the run.
    """
    usable = []
    for item in inputs:
        if item.format in STREAM_FORMATS:
            usable.append(item)
            continue
        try:
            parse_document(item.format, item.path.read_bytes(), item.path)
        except FormatError:
            if item.explicit:
                raise
            continue
        usable.append(item)
    return usable


# --------------------------------------------------------------------------------------------------
# Writing records
# --------------------------------------------------------------------------------------------------


class Ingestor:
    """Merges parsed records into the database. One instance per run."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        batch_size: int = 2000,
        dry_run: bool = False,
        now: Callable[[], datetime] = _utcnow,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.batch_size = batch_size
        self.dry_run = dry_run
        self.now = now
        self.progress = progress
        self.messages: list[str] = []

    # -- whole runs ---------------------------------------------------------------------------------

    def ingest_paths(self, paths: Iterable[Path], *, forced: Format | None = None) -> IngestReport:
        inputs, skipped = identify(paths, forced=forced)
        inputs = check_documents(inputs)
        report = IngestReport(skipped=skipped)
        if self.dry_run:
            # One transaction that is never committed: the counts are real, the database untouched.
            with self.session_factory() as session:
                for item in inputs:
                    report.merge(self._ingest_file(session, item))
                session.rollback()
        else:
            for item in inputs:
                with self.session_factory() as session:
                    report.merge(self._ingest_file(session, item))
        return report

    def ingest_records(self, records: Iterable[ParsedItem], *, label: str) -> IngestReport:
        """Merge records that did not come from a file (live fetches, submissions) in one transaction."""
        report = IngestReport()
        with self.session_factory() as session:
            for batch in chunked(records, self.batch_size):
                self._write_batch(session, batch, label, report)
            if self.dry_run:
                session.rollback()
            else:
                session.commit()
        return report

    # -- one file -----------------------------------------------------------------------------------

    def _ingest_file(self, session: Session, item: InputFile) -> IngestReport:
        report = IngestReport()
        label = str(item.path)
        if item.format in STREAM_FORMATS:
            self._ingest_stream(session, item, report)
        else:
            data = item.path.read_bytes()
            if self.progress:
                self.progress(label, 0, len(data))
            records = parse_document(item.format, data, item.path)
            # Progress is in bytes, like the streamed files: the rows of one run share their unit.
            done = 0
            for batch in chunked(records, self.batch_size):
                self._write_batch(session, batch, label, report)
                done += len(batch)
                if self.progress:
                    self.progress(label, len(data) * done // max(len(records), 1), len(data))
            if self.progress:
                self.progress(label, len(data), len(data))
            if not self.dry_run:
                session.commit()
        report.files.append({"file": label, "format": item.format.value})
        return report

    def _ingest_stream(self, session: Session, item: InputFile, report: IngestReport) -> None:
        path = item.path
        label = str(path)
        size = path.stat().st_size
        key = _file_key(path)
        start_offset, start_line = 0, 1
        checkpoint = None if self.dry_run else store.get_checkpoint(session, file_key=key)
        if checkpoint is not None:
            start_offset, start_line = checkpoint.byte_offset, checkpoint.line
            self.messages.append(f"{label}: resuming an interrupted ingest at line {start_line:,}")
        reader = _parse_in_subprocess if size - start_offset >= PARALLEL_PARSE_BYTES else _parse_here
        with _cyclic_gc_paused():
            for batch, offset, line in reader(item.format, path, start_offset, start_line, self.batch_size):
                self._write_batch(session, batch, label, report)
                if line is not None:
                    self._commit_stream_batch(session, key, label, offset, line)
                if self.progress:
                    self.progress(label, offset, size)
        if not self.dry_run:
            store.delete_checkpoint(session, file_key=key)
            session.commit()
        if self.progress:
            self.progress(label, size, size)

    def _commit_stream_batch(self, session: Session, key: str, label: str, offset: int, line: int) -> None:
        if self.dry_run:
            session.flush()
            return
        store.save_checkpoint(
            session, file_key=key, path=label, byte_offset=offset, line=line, now=self.now()
        )
        session.commit()

    # -- one batch ----------------------------------------------------------------------------------

    def _write_batch(
        self,
        session: Session,
        items: list[ParsedItem] | list[Prepared | Rejected],
        label: str,
        report: IngestReport,
    ) -> None:
        records = _prepared_records(items, label, report)
        if not records:
            return
        now = self.now()
        ids = self._resolve_ids(session, records)
        changes = _BatchChanges.read(session, records, ids)
        for record, paper_id in zip(records, ids, strict=True):
            report.count(paper_id, changes.apply(record, paper_id, now))
        changes.write(session)

    def _resolve_ids(self, session: Session, records: list[Prepared]) -> list[str]:
        """The paper id each record belongs to.

        arXiv records use their arXiv id. A record without one is matched to an existing paper by title
        (a listing copied from a feed whose papers are already known), else gets a stable local id.
        An arXiv paper arriving after a local paper with the same title absorbs it.
        """
        arxiv_by_hash = {r.title_hash: r.arxiv_id for r in records if r.arxiv_id}
        by_title = self._papers_by_title(session, records, arxiv_by_hash)
        return [_paper_id_for(record, by_title, arxiv_by_hash) for record in records]

    def _papers_by_title(
        self, session: Session, records: list[Prepared], arxiv_by_hash: dict[int, str]
    ) -> dict[int, list[str]]:
        """Stored papers sharing a title with the batch's records, by title hash, once local papers
        that an arXiv record of the batch describes are folded into it."""
        untitled = {r.title_hash for r in records if r.arxiv_id is None and not r.dataset}
        # Only papers known by title alone can be absorbed by an arXiv paper; usually there are none.
        wanted = untitled | (set(arxiv_by_hash) if store.has_local_papers(session) else set())
        by_title = store.paper_ids_by_title_hash(session, hashes=wanted)
        for hash_, arxiv_id in arxiv_by_hash.items():
            for local_id in by_title.get(hash_, []):
                if local_id.startswith("dp-") and arxiv_id is not None:
                    store.merge_local_paper(session, local_id=local_id, arxiv_id=arxiv_id, now=self.now())
                    by_title[hash_] = [arxiv_id]
        return by_title


def _paper_id_for(record: Prepared, by_title: dict[int, list[str]], arxiv_by_hash: dict[int, str]) -> str:
    """The id of one record's paper (see ``Ingestor._resolve_ids``): an arXiv paper of the same title
    wins over a local one."""
    if record.arxiv_id:
        return record.arxiv_id
    if record.dataset and record.external_id:
        return local_id_for(record)
    hash_ = record.title_hash
    matches = by_title.get(hash_) or ([arxiv_by_hash[hash_]] if hash_ in arxiv_by_hash else [])
    arxiv_matches = [m for m in matches if m and not m.startswith("dp-")]
    return (arxiv_matches or matches or [local_id_for(record)])[0]


def _prepared_records(
    items: list[ParsedItem] | list[Prepared | Rejected], label: str, report: IngestReport
) -> list[Prepared]:
    """The batch's records, prepared; rejected ones are counted in the report and left out."""
    records: list[Prepared] = []
    for item in items:
        if isinstance(item, Rejected):
            report.add_rejection(label, item.position, item.reason)
        else:
            records.append(item if isinstance(item, Prepared) else prepare(item))
    return records


@dataclass
class _BatchChanges:
    """What one batch writes, worked out against what the database holds before it.

    The batch's papers, sources and feed entries are read once (``read``), every record is applied in
    memory (``apply``), and the result is written in a few bulk statements (``write``). A paper that
    several records of the batch describe is merged once per record, each time into the state that the
    previous ones left, so the order of records within a batch is the order of their effects.
    """

    current: dict[str, PaperState]
    sources: dict[str, set[str]]
    feeds: dict[str, FeedCounts]
    created: dict[str, PaperState] = field(default_factory=dict)
    changed: dict[str, PaperState] = field(default_factory=dict)
    new_sources: list[PaperSourceRow] = field(default_factory=list)
    created_feeds: dict[str, FeedEntryRow] = field(default_factory=dict)
    recounted_feeds: dict[str, FeedCounts] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, records: list[Prepared], ids: list[str]) -> _BatchChanges:
        current = store.papers_state(session, ids=set(ids))
        # Papers not in the database yet have no sources or feed entries: only ask about the others.
        sources = store.paper_source_map(session, ids=current.keys())
        feed_ids = {
            paper_id for paper_id, r in zip(ids, records, strict=True) if r.feed and paper_id in current
        }
        return cls(current, sources, store.feed_entries_state(session, ids=feed_ids))

    def apply(self, record: Prepared, paper_id: str, now: datetime) -> PaperStatus:
        """Merge one record into its paper; a new source or feed entry alone makes it updated too."""
        status = self._merge_paper(record, paper_id, now)
        source_added = self._add_source(record, paper_id, now)
        feed_changed = self._update_feed(record, paper_id, now)
        if status is PaperStatus.UNCHANGED and (source_added or feed_changed):
            return PaperStatus.UPDATED
        return status

    def _merge_paper(self, record: Prepared, paper_id: str, now: datetime) -> PaperStatus:
        before = self.created.get(paper_id) or self.changed.get(paper_id) or self.current.get(paper_id)
        if before is None:
            self.created[paper_id] = new_paper_state(paper_id, record, now)
            return PaperStatus.NEW
        state = merge_paper(before, record.values)
        if not differs(before, state):
            return PaperStatus.UNCHANGED
        state["changed_at"] = now
        if paper_id in self.created:
            self.created[paper_id] = state
        else:
            self.changed[paper_id] = state
        return PaperStatus.UPDATED

    def _add_source(self, record: Prepared, paper_id: str, now: datetime) -> bool:
        """Remember the record's source for the paper; whether it is a new one."""
        known_sources = self.sources.setdefault(paper_id, set())
        if record.source in known_sources:
            return False
        known_sources.add(record.source)
        self.new_sources.append(
            {
                "paper_id": paper_id,
                "source": record.source,
                "external_id": record.external_id,
                "first_seen_at": now,
            }
        )
        return True

    def _update_feed(self, record: Prepared, paper_id: str, now: datetime) -> bool:
        """Put the paper on the feed, or move its upstream counts on; whether anything changed.

        The day and submitter of the first appearance stay, also within a batch.
        """
        feed = record.feed
        if feed is None:
            return False
        entry = self.feeds.get(paper_id)
        if entry is None:
            created: FeedEntryRow = {
                "paper_id": paper_id,
                "day": feed.day,
                "submitted_by": feed.submitted_by,
                "source": record.source,
                "upvotes": feed.upvotes,
                "num_comments": feed.num_comments,
                "created_at": now,
            }
            self.created_feeds[paper_id] = self.feeds[paper_id] = created
            return True
        if (entry["upvotes"], entry["num_comments"]) == (feed.upvotes, feed.num_comments):
            return False
        entry["upvotes"], entry["num_comments"] = feed.upvotes, feed.num_comments
        if paper_id not in self.created_feeds:
            self.recounted_feeds[paper_id] = entry
        return True

    def write(self, session: Session) -> None:
        store.write_papers(session, created=list(self.created.values()), changed=list(self.changed.values()))
        store.add_paper_sources(
            session,
            rows=[row for row in self.new_sources if row["paper_id"] not in self.current],
            may_exist=[row for row in self.new_sources if row["paper_id"] in self.current],
        )
        store.write_feed_entries(
            session, created=list(self.created_feeds.values()), recounted=list(self.recounted_feeds.values())
        )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while batches stream through.

    Each batch allocates tens of thousands of lists and dicts, and the collector kept re-scanning them:
    it took a third of the writer's time. Records hold no reference cycles, so reference counting frees
    them as usual; one collection at the end catches anything else.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


Batches = Iterator[tuple[list[ParsedItem], int, int | None]]
PreparedBatches = Iterator[tuple[list[Prepared | Rejected], int, int | None]]


def _stream_batches(stream: Iterator[tuple[ParsedItem, int, int]], batch_size: int) -> Batches:
    """Batches of parsed records with the (byte offset, next line) to resume after each one.

    The last batch comes with ``None`` as its line: the file is done.
    """
    batch: list[ParsedItem] = []
    offset, line = 0, 1
    for parsed, line_no, offset_after in stream:
        batch.append(parsed)
        offset, line = offset_after, line_no + 1
        if len(batch) >= batch_size:
            yield batch, offset, line
            batch = []
    yield batch, offset, None


def _parse_here(fmt: Format, path: Path, start_offset: int, start_line: int, batch_size: int) -> Batches:
    with path.open("rb") as handle:
        yield from _stream_batches(
            iter_stream(fmt, handle, path, start_offset=start_offset, start_line=start_line), batch_size
        )


def _parse_worker(
    fmt: Format, path: Path, start_offset: int, start_line: int, batch_size: int, conn: Any
) -> None:
    """Runs in the parser process: parse batches and send them, pickled, down the pipe."""
    gc.disable()  # see _cyclic_gc_paused
    try:
        for batch, offset, line in _parse_here(fmt, path, start_offset, start_line, batch_size):
            wire = [item if isinstance(item, Rejected) else prepare(item).to_wire() for item in batch]
            conn.send_bytes(pickle.dumps(("batch", (wire, offset, line)), protocol=pickle.HIGHEST_PROTOCOL))
    except BrokenPipeError:
        return  # the ingest process is gone (interrupted or killed): nothing left to do
    except BaseException as exc:
        conn.send_bytes(pickle.dumps(("error", f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def _parse_in_subprocess(
    fmt: Format, path: Path, start_offset: int, start_line: int, batch_size: int
) -> PreparedBatches:
    """Parse in a second process while this one writes: on two cores both run at full speed.

    (A thread does not help: sqlite3 releases the GIL for every row it writes, and a busy parser thread
    then makes the writer wait for the GIL thousands of times per batch.) The pipe holds at most a
    batch or two, so memory stays bounded; if this process dies, the parser's next send fails and it ends.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_parse_worker, args=(fmt, path, start_offset, start_line, batch_size, sender), daemon=True
    )
    worker.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise IngestError("the parser process stopped unexpectedly", path=str(path)) from None
            if kind == "error":
                raise IngestError(f"parsing failed: {payload}", path=str(path))
            wire, offset, line = payload
            yield (
                [item if isinstance(item, Rejected) else Prepared.from_wire(item) for item in wire],
                offset,
                line,
            )
            if line is None:
                return
    finally:
        receiver.close()
        worker.join(timeout=5)
        if worker.is_alive():
            worker.terminate()


def _first_line_length(path: Path, *, chunk: int = 1 << 20) -> int:
    """Bytes before the first newline, read a chunk at a time: a one-line 4 GB file costs no memory."""
    length = 0
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            newline = block.find(b"\n")
            if newline != -1:
                return length + newline
            length += len(block)
    return length


def _file_key(path: Path) -> str:
    """Identifies a file by its absolute path, size and first 64 KiB, so that a checkpoint is only
    used for the very file it was made for."""
    digest = hashlib.sha256()
    digest.update(str(path.resolve()).encode())
    digest.update(str(path.stat().st_size).encode())
    digest.update(_read_head(path))
    return digest.hexdigest()


__all__ = [
    "STREAM_FORMATS",
    "IngestReport",
    "Ingestor",
    "InputFile",
    "PaperStatus",
    "check_documents",
    "expand_paths",
    "identify",
]
