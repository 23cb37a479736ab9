"""The search index on disk: build it, update it, open it.

A built index is one folder ``<data_dir>/index/v<NNNNNN>/`` holding:

* ``manifest.json``: version, embedder, counts, the BM25 parameters and the analyzer version;
* ``ids.npy`` (sorted paper ids), ``hashes.npy`` (content hash per paper), ``published.npy`` (days since
  1970, or ``NO_DATE``), ``categories.npz`` and ``authors.npz`` (posting lists for the filters);
* ``names_keys.npy``, ``names_ptr.npy``, ``names_rows.npy``: the papers of every author name form, for
  names typed without ``author:`` (see ``names.py``);
* ``bm25/``: the BM25 weight matrix built by bm25s;
* ``vectors.npy`` (one float16 row per paper), ``passages.npy`` and ``passage_ptr.npy`` (CSR-style: the
  passage vectors of paper ``i`` are rows ``ptr[i]:ptr[i+1]``), ``ann.faiss`` (HNSW over the paper vectors).

``CURRENT`` names the version in use. A build writes a new folder under a temporary name, renames it into
place, then replaces ``CURRENT`` atomically: readers see the old index or the new one, never half of
one, and a running server notices the change and switches (see :class:`IndexHolder`). Vectors of papers
whose title and abstract did not change are copied from the previous version, so an update embeds only
what is new; a different embedder rebuilds them all rather than mixing two models' vectors.

An index made with another analyzer (``analyzer.ANALYZER_VERSION``) holds terms that queries no longer
produce, so it is refused with :class:`OutdatedIndexError` rather than searched half-right; the next
``dailypapers index`` rebuilds its keyword part and keeps its vectors.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dailypapers.errors import SearchError
from dailypapers.search.analyzer import ANALYZER_VERSION, analyze, words
from dailypapers.search.names import NameIndex

if TYPE_CHECKING:
    pass

FORMAT_VERSION = 1
NO_DATE = np.iinfo(np.int32).min
KEEP_VERSIONS = 2
ANN_LINKS = 16  # HNSW neighbours per node
ANN_EF_CONSTRUCTION = 128
ANN_EF_SEARCH = 128  # graph search breadth for the hybrid shortlist, whose papers are all re-scored exactly
# Breadth when the graph's answer is the result (semantic search, similar papers): at a million papers
# 128 found 0.79 of the exact top 10 and 1,536 found 0.988, for 4 ms more.
ANN_EF_RESULTS = 1536

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class LexicalParams:
    """BM25 parameters (Lucene's formula) and how much more a title term counts than an abstract term.

    The defaults were tuned on the SciFact train split; ``k1=0.9, b=0.4, title_weight=1`` is the
    Anserini "flat" baseline that published BM25 figures use.
    """

    k1: float = 1.2
    b: float = 0.9
    title_weight: int = 3

    def as_json(self) -> dict[str, Any]:
        return {
            "k1": self.k1,
            "b": self.b,
            "title_weight": self.title_weight,
            "method": "lucene",
            "analyzer": ANALYZER_VERSION,
        }


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What the index needs to know about one paper."""

    id: str
    title: str
    abstract: str
    authors: Sequence[str] = ()
    categories: Sequence[str] = ()
    published: date | None = None

    @property
    def content_hash(self) -> str:
        """Changes exactly when the embedded text changes."""
        return hashlib.blake2b(f"{self.title}\n{self.abstract}".encode(), digest_size=12).hexdigest()

    @property
    def embed_text(self) -> str:
        return f"{self.title}. {self.abstract}" if self.title else self.abstract

    def lexical_terms(self, title_weight: int = 1) -> list[str]:
        return analyze(self.title) * title_weight + analyze(self.abstract) + analyze(" ".join(self.authors))


class OutdatedIndexError(SearchError):
    """The index was built by another version of the analyzer or of the index format."""


def check_index_version(manifest: dict[str, Any]) -> None:
    """Refuse an index whose terms or files this version does not read, saying how to rebuild it."""
    if "bm25" not in manifest:
        return  # not an index manifest at all: opening it fails on what is missing
    analyzer = manifest["bm25"].get("analyzer")
    if manifest.get("format") != FORMAT_VERSION or analyzer != ANALYZER_VERSION:
        raise OutdatedIndexError(
            f"the search index was built by another version of Daily Papers (text analyzer {analyzer}, "
            f"this version reads {ANALYZER_VERSION}): run `dailypapers index` to rebuild it (the paper "
            "vectors are kept)"
        )


def author_keys(name: str) -> set[str]:
    """Keys an author is found under: every folded word of the name (``author:balazs`` finds C. Balázs)."""
    return {w for w in words(name) if len(w) > 1}


# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------


class IndexStore:
    """The index folder of a data dir: its versions and the ``CURRENT`` pointer."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "index"

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    def current_version(self) -> str | None:
        try:
            name = self.current_file.read_text().strip()
        except FileNotFoundError:
            return None
        return name if (self.root / name / "manifest.json").exists() else None

    def current_path(self) -> Path | None:
        name = self.current_version()
        return self.root / name if name else None

    def next_version(self) -> str:
        existing = [int(p.name[1:]) for p in self.root.glob("v[0-9]*") if p.name[1:].isdigit()]
        return f"v{max(existing, default=0) + 1:06d}"

    def publish(self, staging: Path) -> Path:
        """Move a finished build into place and point ``CURRENT`` at it, atomically."""
        name = self.next_version()
        final = self.root / name
        os.replace(staging, final)
        pointer = self.root / f".CURRENT.{os.getpid()}"
        pointer.write_text(name + "\n")
        os.replace(pointer, self.current_file)
        self._prune(keep=name)
        return final

    def _prune(self, keep: str) -> None:
        # Older versions may still be open in a running server for a moment; keep the last few.
        versions = sorted(p for p in self.root.glob("v[0-9]*") if p.is_dir())
        for old in versions[:-KEEP_VERSIONS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
        for stale in self.root.glob(".build-*"):
            if time.time() - stale.stat().st_mtime > 24 * 3600:
                shutil.rmtree(stale, ignore_errors=True)


def load_faiss() -> Any:
    """faiss, typed as Any: its SWIG-generated stubs lack most of the Python API it really has."""
    return importlib.import_module("faiss")


def load_bm25s() -> Any:
    """bm25s, with its logger put back to WARNING: the library sets it to DEBUG on import, which fills
    any configured log handler (and our CLI's output) with its progress chatter."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


# --------------------------------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------------------------------


class Postings:
    """Posting lists saved by ``_save_postings``: key -> sorted doc indices."""

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.keys = data["keys"]
            self.ptr = data["ptr"]
            self.docs = data["docs"]
        self._position = {str(k): i for i, k in enumerate(self.keys)}

    def get(self, key: str) -> np.ndarray:
        i = self._position.get(key)
        if i is None:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.docs[self.ptr[i] : self.ptr[i + 1]])

    def with_prefix(self, prefix: str) -> np.ndarray:
        matched = [self.get(str(k)) for k in self.keys if str(k).startswith(prefix)]
        return np.unique(np.concatenate(matched)) if matched else np.zeros(0, dtype=np.int32)


class DiskRows:
    """Rows of a ``.npy`` array read from disk on demand with ``pread``, not memory-mapped.

    The large per-paper arrays (paper and passage vectors, the paper-by-term counts) are only ever read
    a few hundred rows at a time, for the papers on a shortlist. Memory-mapping them makes every page a
    query touches, and the pages the kernel maps around it, part of the search process for good: at a
    million papers that grew the process by several GB over a few hundred queries. Read with ``pread``,
    the same bytes come from the operating system's page cache (shared, and given back under memory
    pressure, as a database's files are) while the process holds only the rows of the current query.
    Rows are sorted and adjacent ones read together, so a paper's passages cost one system call.
    """

    def __init__(self, path: Path) -> None:
        with path.open("rb") as file:
            major, _ = np.lib.format.read_magic(file)
            if major == 1:
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
            self._offset = file.tell()
        if fortran:
            raise ValueError(f"{path} is stored in Fortran order")
        self.path = path
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._row_shape = self.shape[1:]
        self._row_bytes = int(np.prod(self._row_shape, dtype=np.int64)) * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: int | np.ndarray) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            return np.asarray(self.ranges(np.asarray([int(rows)]), np.ones(1, dtype=np.int64))[0])
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, *self._row_shape), dtype=self.dtype)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        # Runs of consecutive rows become one read each.
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        starts = ordered[np.concatenate([[0], breaks])]
        counts = np.diff(np.concatenate([[0], breaks, [len(ordered)]]))
        values = self.ranges(starts, counts)
        out = np.empty_like(values)
        out[order] = values
        return out

    def ranges(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows ``start:start + count`` for each pair, concatenated in the order given."""
        total = int(np.sum(counts))
        out = np.empty((total, *self._row_shape), dtype=self.dtype)
        view = out.reshape(-1).view(np.uint8).data
        position = 0
        size = self._row_bytes
        for start, count in zip(starts.tolist(), counts.tolist(), strict=True):
            if count <= 0:
                continue
            if start < 0 or start + count > self.shape[0]:
                raise IndexError(f"rows {start}:{start + count} outside {self.path.name} of {self.shape[0]}")
            wanted = count * size
            got = os.preadv(self._fd, [view[position : position + wanted]], self._offset + start * size)
            if got != wanted:
                raise OSError(f"short read from {self.path}: {got} of {wanted} bytes")
            position += wanted
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self.ranges(np.zeros(1, dtype=np.int64), np.asarray([self.shape[0]]))
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


class OpenIndex:
    """A published index version, opened for searching.

    Small arrays are memory-mapped; the large per-paper ones are :class:`DiskRows`; the HNSW graph and
    its 8-bit codes are in memory.
    """

    def __init__(self, path: Path) -> None:
        faiss = load_faiss()

        bm25s = load_bm25s()
        self.path = path
        self.version = path.name
        self.manifest = json.loads((path / "manifest.json").read_text())
        check_index_version(self.manifest)
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.size = len(self.ids)
        self.published = np.load(path / "published.npy", mmap_mode="r")
        self.categories = Postings(path / "categories.npz")
        self.authors = Postings(path / "authors.npz")
        self.names = NameIndex(path)
        self.vectors = DiskRows(path / "vectors.npy")
        self.passages = DiskRows(path / "passages.npy")
        self.passage_ptr = np.load(path / "passage_ptr.npy", mmap_mode="r")
        self.bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False)
        self.vocab: dict[str, int] = self.bm25.vocab_dict
        params = self.manifest["bm25"]
        self.params = LexicalParams(k1=params["k1"], b=params["b"], title_weight=params["title_weight"])
        self.doc_terms_ptr = np.load(path / "doc_terms_ptr.npy", mmap_mode="r")
        self.doc_terms = DiskRows(path / "doc_terms.npy")
        self.doc_term_counts = DiskRows(path / "doc_term_counts.npy")
        self.doc_lengths = np.load(path / "doc_lengths.npy", mmap_mode="r")
        self.document_frequency = np.load(path / "document_frequency.npy", mmap_mode="r")
        self.average_length = float(np.mean(self.doc_lengths)) if self.size else 0.0
        self.ann = faiss.read_index(str(path / "ann.faiss"))
        self.ann.hnsw.efSearch = ANN_EF_SEARCH
        self.embedder_key: str = self.manifest["embedder"]

    def position(self, paper_id: str) -> int | None:
        """Row of a paper (ids are sorted, so a binary search)."""
        i = int(np.searchsorted(self.ids, paper_id))
        return i if i < self.size and self.ids[i] == paper_id else None

    def close(self) -> None:
        self.ann = None
        for rows in (self.vectors, self.passages, self.doc_terms, self.doc_term_counts):
            rows.close()


class IndexHolder:
    """Gives the current :class:`OpenIndex`, switching to a newer version when ``CURRENT`` changes.

    The check is one small file read at most every ``check_every`` seconds, so a long-running server
    picks up a rebuilt index without a restart.
    """

    def __init__(self, store: IndexStore, *, check_every: float = 2.0) -> None:
        self.store = store
        self.check_every = check_every
        self._lock = threading.Lock()
        self._index: OpenIndex | None = None
        self._checked = 0.0

    def get(self) -> OpenIndex | None:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.check_every:
            return self._index
        with self._lock:
            self._checked = now
            version = self.store.current_version()
            if version is None:
                self._index = None
            elif self._index is None or self._index.version != version:
                path = self.store.current_path()
                assert path is not None
                self._index = OpenIndex(path)
            return self._index


def iter_index_docs(rows: Iterable[Any]) -> Iterator[IndexDoc]:
    """Index documents from paper rows (anything with the Paper attributes)."""
    for row in rows:
        published = row.published_at.date() if row.published_at else None
        yield IndexDoc(
            id=row.id,
            title=row.title or "",
            abstract=row.abstract or "",
            authors=tuple(row.authors or ()),
            categories=tuple(row.categories or ()),
            published=published,
        )


__all__ = [
    "IndexDoc",
    "IndexHolder",
    "IndexStore",
    "LexicalParams",
    "OpenIndex",
    "OutdatedIndexError",
    "check_index_version",
    "load_bm25s",
    "load_faiss",
]
