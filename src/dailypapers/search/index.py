"""The search index on disk: build it, update it, open it.

A built index is one folder ``<data_dir>/index/v<NNNNNN>/`` holding:

* ``manifest.json``: version, embedder, counts, the BM25 parameters;
* ``ids.npy`` (sorted paper ids), ``hashes.npy`` (content hash per paper), ``published.npy`` (days since
  1970, or ``NO_DATE``), ``categories.npz`` and ``authors.npz`` (posting lists for the filters);
* ``bm25/``: the BM25 weight matrix built by bm25s;
* ``vectors.npy`` (one float16 row per paper), ``passages.npy`` and ``passage_ptr.npy`` (CSR-style: the
  passage vectors of paper ``i`` are rows ``ptr[i]:ptr[i+1]``), ``ann.faiss`` (HNSW over the paper vectors).

``CURRENT`` names the version in use. A build writes a new folder under a temporary name, renames it into
place, then replaces ``CURRENT`` atomically: readers see the old index or the new one, never half of
one, and a running server notices the change and switches (see :class:`IndexHolder`). Vectors of papers
whose title and abstract did not change are copied from the previous version, so an update embeds only
what is new; a different embedder rebuilds them all rather than mixing two models' vectors.
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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dailypapers.errors import SearchError
from dailypapers.search.analyzer import analyze, fold, words
from dailypapers.search.passages import passages

if TYPE_CHECKING:
    from dailypapers.search.embedders import Embedder

FORMAT_VERSION = 1
NO_DATE = np.iinfo(np.int32).min
TITLE_WEIGHT = 2  # title terms count this many times (a BM25F-style field weight)
BM25_K1 = 0.9
BM25_B = 0.4
KEEP_VERSIONS = 2
ANN_LINKS = 16  # HNSW neighbours per node
ANN_EF_CONSTRUCTION = 128
ANN_EF_SEARCH = 128

Progress = Callable[[str, int, int | None], None]


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

    def lexical_terms(self) -> list[str]:
        return analyze(self.title) * TITLE_WEIGHT + analyze(self.abstract) + analyze(" ".join(self.authors))


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


# --------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    version: str | None
    documents: int
    embedded: int
    reused: int
    passages: int
    seconds: float
    up_to_date: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "documents": self.documents,
            "embedded": self.embedded,
            "reused_vectors": self.reused,
            "passages": self.passages,
            "seconds": round(self.seconds, 2),
            "up_to_date": self.up_to_date,
        }


def _days(value: date | None) -> int:
    return (value - date(1970, 1, 1)).days if value else int(NO_DATE)


def _postings(keys_per_doc: Iterable[Iterable[str]]) -> dict[str, np.ndarray]:
    lists: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_per_doc):
        for key in keys:
            lists.setdefault(key, []).append(index)
    return {key: np.asarray(values, dtype=np.int32) for key, values in lists.items()}


def _save_postings(path: Path, postings: dict[str, np.ndarray]) -> None:
    keys = sorted(postings)
    lengths = np.asarray([len(postings[k]) for k in keys], dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate([postings[k] for k in keys]) if keys else np.zeros(0, dtype=np.int32)
    np.savez(path, keys=np.asarray(keys, dtype=object).astype(str), ptr=ptr, docs=flat)


@dataclass
class _Collected:
    """One streaming pass over the documents: everything the index files are made of."""

    ids: list[str]
    hashes: list[str]
    published: list[int]
    categories: list[tuple[str, ...]]
    authors: list[set[str]]
    terms: list[np.ndarray]
    vocab: dict[str, int]
    fingerprint: str


PrecomputedVectors = Callable[[list[str]], tuple[np.ndarray, list[np.ndarray]]]
"""For benchmarks: (paper ids) -> (paper vectors, passage vectors per paper), without a model."""


class IndexBuilder:
    """Builds a new index version from documents, reusing the vectors of unchanged ones.

    Documents are read once, in id order; the memory needed is the token ids of the corpus (4 bytes per
    term) plus the texts of the papers that need embedding.
    """

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder | None,
        *,
        progress: Progress | None = None,
        precomputed: PrecomputedVectors | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.precomputed = precomputed

    def _report(self, label: str, done: int, total: int | None) -> None:
        if self.progress:
            self.progress(label, done, total)

    def build(
        self, docs: Iterable[IndexDoc], *, force: bool = False, total: int | None = None
    ) -> BuildReport:
        started = time.perf_counter()
        embedder_key = self.embedder.key if self.embedder else "precomputed"
        previous = self.store.current_path()
        old = _load_previous(previous, embedder_key) if previous and not force else None
        reusable = {h: i for i, h in enumerate(old["hashes"])} if old else {}
        to_embed: list[tuple[int, IndexDoc]] = []
        collected = self._collect(docs, reusable, to_embed, total)
        if (
            old is not None
            and not to_embed
            and old["ids"] == collected.ids
            and old["fingerprint"] == collected.fingerprint
        ):
            return BuildReport(
                previous.name if previous else None,
                len(collected.ids),
                0,
                len(collected.ids),
                int(old["passages"]),
                time.perf_counter() - started,
                up_to_date=True,
            )
        self.store.root.mkdir(parents=True, exist_ok=True)
        staging = self.store.root / f".build-{os.getpid()}-{int(time.time() * 1000)}"
        staging.mkdir()
        try:
            self._write_metadata(staging, collected)
            self._write_lexical(staging, collected)
            dim, passage_count = self._write_vectors(staging, collected, to_embed, old, reusable)
            self._write_ann(staging)
            manifest = {
                "format": FORMAT_VERSION,
                "created": datetime.now(UTC).isoformat(),
                "embedder": embedder_key,
                "dim": dim,
                "documents": len(collected.ids),
                "passages": passage_count,
                "bm25": {"k1": BM25_K1, "b": BM25_B, "method": "lucene", "title_weight": TITLE_WEIGHT},
                "metadata_fingerprint": collected.fingerprint,
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
            final = self.store.publish(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        n = len(collected.ids)
        return BuildReport(
            final.name, n, len(to_embed), n - len(to_embed), passage_count, time.perf_counter() - started
        )

    def _collect(
        self,
        docs: Iterable[IndexDoc],
        reusable: dict[str, int],
        to_embed: list[tuple[int, IndexDoc]],
        total: int | None,
    ) -> _Collected:
        collected = _Collected([], [], [], [], [], [], {}, "")
        vocab = collected.vocab
        fingerprint = hashlib.blake2b(digest_size=16)
        last = ""
        for position, doc in enumerate(docs):
            if doc.id <= last and position:
                raise ValueError(f"documents must come in increasing id order ({doc.id!r} after {last!r})")
            last = doc.id
            content = doc.content_hash
            collected.ids.append(doc.id)
            collected.hashes.append(content)
            collected.published.append(_days(doc.published))
            collected.categories.append(tuple(doc.categories))
            collected.authors.append(
                set().union(*(author_keys(a) for a in doc.authors)) if doc.authors else set()
            )
            terms = doc.lexical_terms()
            collected.terms.append(
                np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), np.int32, len(terms))
            )
            fingerprint.update(
                "|".join(
                    [doc.id, content, *doc.authors, " ".join(doc.categories), str(doc.published)]
                ).encode()
                + b"\n"
            )
            if content not in reusable:
                to_embed.append((position, doc))
            if position % 5000 == 0:
                self._report("Reading papers", position, total)
        collected.fingerprint = fingerprint.hexdigest()
        self._report("Reading papers", len(collected.ids), len(collected.ids))
        return collected

    def _write_metadata(self, folder: Path, collected: _Collected) -> None:
        np.save(folder / "ids.npy", np.asarray(collected.ids, dtype=str))
        np.save(folder / "hashes.npy", np.asarray(collected.hashes, dtype=str))
        np.save(folder / "published.npy", np.asarray(collected.published, dtype=np.int32))
        _save_postings(folder / "categories.npz", _postings(collected.categories))
        _save_postings(folder / "authors.npz", _postings(collected.authors))

    def _write_lexical(self, folder: Path, collected: _Collected) -> None:
        bm25s = _bm25s()
        from bm25s.tokenization import Tokenized

        self._report("Keyword index", 0, 1)
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
        retriever.index(Tokenized(ids=collected.terms, vocab=collected.vocab), show_progress=False)
        retriever.save(str(folder / "bm25"), show_progress=False)
        collected.terms.clear()
        self._report("Keyword index", 1, 1)

    def _write_vectors(
        self,
        folder: Path,
        collected: _Collected,
        to_embed: list[tuple[int, IndexDoc]],
        old: dict[str, Any] | None,
        reusable: dict[str, int],
    ) -> tuple[int, int]:
        n = len(collected.ids)
        if self.precomputed is not None:
            fresh_vectors, fresh_passages = self.precomputed([doc.id for _, doc in to_embed])
        else:
            fresh_vectors, fresh_passages = self._embed([doc for _, doc in to_embed])
        if to_embed:
            dim = int(fresh_vectors.shape[1])
        elif old is not None:
            dim = int(old["vectors"].shape[1])
        else:
            dim = self._dim()
        vectors = np.lib.format.open_memmap(
            folder / "vectors.npy", mode="w+", dtype=np.float16, shape=(n, dim)
        )
        fresh_at = {position: k for k, (position, _) in enumerate(to_embed)}
        ptr = np.zeros(n + 1, dtype=np.int64)
        counts = np.zeros(n, dtype=np.int64)
        for i, content in enumerate(collected.hashes):
            k = fresh_at.get(i)
            if k is not None:
                vectors[i] = fresh_vectors[k]
                counts[i] = len(fresh_passages[k])
            else:
                assert old is not None
                j = reusable[content]
                vectors[i] = old["vectors"][j]
                counts[i] = old["passage_count"](j)
        np.cumsum(counts, out=ptr[1:])
        vectors.flush()
        del vectors
        passages_out = np.lib.format.open_memmap(
            folder / "passages.npy", mode="w+", dtype=np.float16, shape=(int(ptr[-1]), dim)
        )
        for i, content in enumerate(collected.hashes):
            if counts[i] == 0:
                continue
            k = fresh_at.get(i)
            rows = fresh_passages[k] if k is not None else old["passages_of"](reusable[content])  # type: ignore[index]
            passages_out[ptr[i] : ptr[i + 1]] = rows
        passages_out.flush()
        del passages_out
        np.save(folder / "passage_ptr.npy", ptr)
        return dim, int(ptr[-1])

    def _dim(self) -> int:
        if self.embedder is None:
            raise SearchError("no embedder configured")
        return int(self.embedder.dim)

    def _embed(self, docs: list[IndexDoc]) -> tuple[np.ndarray, list[np.ndarray]]:
        if not docs:
            return np.zeros((0, self._dim()), dtype=np.float32), []
        assert self.embedder is not None
        texts = [d.embed_text for d in docs]
        pieces = [passages(d.title, d.abstract) for d in docs]
        flat = [p for group in pieces for p in group]
        total = len(texts) + len(flat)
        doc_vectors = self.embedder.embed_documents(
            texts, progress=lambda done, _t: self._report("Embedding", done, total)
        )
        passage_vectors = (
            self.embedder.embed_documents(
                flat, progress=lambda done, _t: self._report("Embedding", len(texts) + done, total)
            )
            if flat
            else np.zeros((0, doc_vectors.shape[1]), dtype=np.float32)
        )
        grouped: list[np.ndarray] = []
        start = 0
        for group in pieces:
            grouped.append(passage_vectors[start : start + len(group)])
            start += len(group)
        return doc_vectors, grouped

    def _write_ann(self, folder: Path) -> None:
        """HNSW graph over 8-bit scalar-quantised paper vectors (faiss); exact scores come later.

        (faiss rather than usearch: usearch's compiled module, imported before onnxruntime, makes the
        process crash with a segmentation fault, and the default embedder runs on onnxruntime.)
        """
        faiss = load_faiss()

        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        n, dim = vectors.shape
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, ANN_LINKS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ANN_EF_CONSTRUCTION
        if n:
            sample = np.asarray(vectors[:: max(1, n // 50_000)], dtype=np.float32)
            index.train(sample)
        chunk = 50_000
        for start in range(0, n, chunk):
            index.add(np.asarray(vectors[start : start + chunk], dtype=np.float32))
            self._report("Vector index", min(start + chunk, n), n)
        faiss.write_index(index, str(folder / "ann.faiss"))


def load_faiss() -> Any:
    """faiss, typed as Any: its SWIG-generated stubs lack most of the Python API it really has."""
    return importlib.import_module("faiss")


def _bm25s() -> Any:
    """bm25s, with its logger put back to WARNING: the library sets it to DEBUG on import, which fills
    any configured log handler (and our CLI's output) with its progress chatter."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _load_previous(path: Path, embedder_key: str) -> dict[str, Any] | None:
    """What a new build can reuse from the previous version (only if the same embedder made it)."""
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT_VERSION or manifest.get("embedder") != embedder_key:
        return None
    vectors = np.load(path / "vectors.npy", mmap_mode="r")
    passages_all = np.load(path / "passages.npy", mmap_mode="r")
    ptr = np.load(path / "passage_ptr.npy")
    return {
        "ids": np.load(path / "ids.npy").tolist(),
        "hashes": np.load(path / "hashes.npy").tolist(),
        "vectors": vectors,
        "passages": manifest.get("passages", 0),
        "passages_of": lambda j: passages_all[ptr[j] : ptr[j + 1]],
        "passage_count": lambda j: int(ptr[j + 1] - ptr[j]),
        "fingerprint": manifest.get("metadata_fingerprint"),
    }


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
        return self.docs[self.ptr[i] : self.ptr[i + 1]]

    def with_prefix(self, prefix: str) -> np.ndarray:
        matched = [self.get(str(k)) for k in self.keys if str(k).startswith(prefix)]
        return np.unique(np.concatenate(matched)) if matched else np.zeros(0, dtype=np.int32)


class OpenIndex:
    """A published index version, opened for searching (large arrays are memory-mapped)."""

    def __init__(self, path: Path) -> None:
        faiss = load_faiss()

        bm25s = _bm25s()
        self.path = path
        self.version = path.name
        self.manifest = json.loads((path / "manifest.json").read_text())
        self.ids = np.load(path / "ids.npy", mmap_mode="r")
        self.size = len(self.ids)
        self.published = np.load(path / "published.npy", mmap_mode="r")
        self.categories = Postings(path / "categories.npz")
        self.authors = Postings(path / "authors.npz")
        self.vectors = np.load(path / "vectors.npy", mmap_mode="r")
        self.passages = np.load(path / "passages.npy", mmap_mode="r")
        self.passage_ptr = np.load(path / "passage_ptr.npy", mmap_mode="r")
        self.bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, show_progress=False)
        self.vocab: dict[str, int] = self.bm25.vocab_dict
        self.ann = faiss.read_index(str(path / "ann.faiss"))
        self.ann.hnsw.efSearch = ANN_EF_SEARCH
        self.embedder_key: str = self.manifest["embedder"]

    def position(self, paper_id: str) -> int | None:
        """Row of a paper (ids are sorted, so a binary search)."""
        i = int(np.searchsorted(self.ids, paper_id))
        return i if i < self.size and self.ids[i] == paper_id else None

    def close(self) -> None:
        self.ann = None


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


__all__ = ["IndexBuilder", "IndexDoc", "IndexHolder", "IndexStore", "OpenIndex", "fold"]
