"""Building a search index version from papers (see ``index.py`` for the files and how they are used).

Documents are read once, in id order. What stays in memory is the token ids of the corpus (4 bytes per
term) and, for the papers that need embedding, their texts; vectors are written chunk by chunk straight
into the memory-mapped files, so a million papers build in a few GB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dailypapers.errors import SearchError
from dailypapers.search.index import (
    ANN_EF_CONSTRUCTION,
    ANN_LINKS,
    FORMAT_VERSION,
    NO_DATE,
    IndexDoc,
    IndexStore,
    LexicalParams,
    Progress,
    author_keys,
    load_bm25s,
    load_faiss,
)
from dailypapers.search.names import NameIndexWriter
from dailypapers.search.passages import passages

if TYPE_CHECKING:
    from dailypapers.search.embedders import Embedder

EMBED_CHUNK = 4096  # papers embedded and written per step


class PrecomputedVectors(Protocol):
    """For benchmarks: vectors without a model (paper ids in, vectors out)."""

    def passage_count(self, paper_id: str) -> int: ...

    def vectors(self, paper_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(one row per paper, the passages of all of them concatenated in order)."""
        ...


@dataclass(frozen=True)
class VectorFunction:
    """``PrecomputedVectors`` from a function and a fixed number of passages per paper."""

    make: Callable[[list[str]], tuple[np.ndarray, np.ndarray]]
    passages_per_paper: int

    def passage_count(self, paper_id: str) -> int:
        return self.passages_per_paper

    def vectors(self, paper_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.make(paper_ids)


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


@dataclass
class _Collected:
    """One streaming pass over the documents: everything the index files are made of."""

    ids: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    published: list[int] = field(default_factory=list)
    categories: list[tuple[str, ...]] = field(default_factory=list)
    authors: list[set[str]] = field(default_factory=list)
    names: NameIndexWriter = field(default_factory=NameIndexWriter)
    terms: list[np.ndarray] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)
    fresh: list[tuple[int, IndexDoc | str]] = field(default_factory=list)  # (row, doc or id) to embed
    fingerprint: str = ""


def _days(published: Any) -> int:
    from datetime import date

    return (published - date(1970, 1, 1)).days if published else int(NO_DATE)


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
    np.savez(path, keys=np.asarray(keys, dtype=str), ptr=ptr, docs=flat)


def _load_previous(path: Path, embedder_key: str, params: LexicalParams) -> dict[str, Any] | None:
    """What a new build can reuse from the previous version (only if the same embedder made it)."""
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("format") != FORMAT_VERSION or manifest.get("embedder") != embedder_key:
        return None
    return {
        "ids": np.load(path / "ids.npy").tolist(),
        "hashes": np.load(path / "hashes.npy").tolist(),
        "vectors": np.load(path / "vectors.npy", mmap_mode="r"),
        "passages": np.load(path / "passages.npy", mmap_mode="r"),
        "passage_ptr": np.load(path / "passage_ptr.npy"),
        "fingerprint": manifest.get("metadata_fingerprint"),
        "same_lexical": manifest.get("bm25") == params.as_json(),
    }


class IndexBuilder:
    """Builds a new index version from documents, reusing the vectors of unchanged ones."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder | None,
        *,
        params: LexicalParams | None = None,
        progress: Progress | None = None,
        precomputed: PrecomputedVectors | None = None,
    ) -> None:
        if embedder is None and precomputed is None:
            raise SearchError("an index needs an embedder (or precomputed vectors)")
        self.store = store
        self.embedder = embedder
        self.params = params or LexicalParams()
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
        old = _load_previous(previous, embedder_key, self.params) if previous and not force else None
        reusable = {h: i for i, h in enumerate(old["hashes"])} if old else {}
        collected = self._collect(docs, reusable, total)
        if (
            old is not None
            and not collected.fresh
            and old["ids"] == collected.ids
            and old["fingerprint"] == collected.fingerprint
            and old["same_lexical"]
        ):
            n = len(collected.ids)
            return BuildReport(
                previous.name if previous else None, n, 0, n, len(old["passages"]),
                time.perf_counter() - started, up_to_date=True,
            )  # fmt: skip
        self.store.root.mkdir(parents=True, exist_ok=True)
        staging = self.store.root / f".build-{os.getpid()}-{int(time.time() * 1000)}"
        staging.mkdir()
        try:
            self._write_metadata(staging, collected)
            self._write_lexical(staging, collected)
            dim, passage_count = self._write_vectors(staging, collected, old, reusable)
            self._write_ann(staging)
            manifest = {
                "format": FORMAT_VERSION,
                "created": datetime.now(UTC).isoformat(),
                "embedder": embedder_key,
                "dim": dim,
                "documents": len(collected.ids),
                "passages": passage_count,
                "bm25": self.params.as_json(),
                "metadata_fingerprint": collected.fingerprint,
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
            final = self.store.publish(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        n, fresh = len(collected.ids), len(collected.fresh)
        return BuildReport(final.name, n, fresh, n - fresh, passage_count, time.perf_counter() - started)

    # -- reading ------------------------------------------------------------------------------------

    def _collect(self, docs: Iterable[IndexDoc], reusable: dict[str, int], total: int | None) -> _Collected:
        collected = _Collected()
        vocab = collected.vocab
        fingerprint = hashlib.blake2b(digest_size=16)
        keep_texts = self.precomputed is None
        last = ""
        for position, doc in enumerate(docs):
            if position and doc.id <= last:
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
            collected.names.add(position, doc.authors)
            terms = doc.lexical_terms(self.params.title_weight)
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
                collected.fresh.append((position, doc if keep_texts else doc.id))
            if position % 5000 == 0:
                self._report("Reading papers", position, total)
        collected.fingerprint = fingerprint.hexdigest()
        self._report("Reading papers", len(collected.ids), len(collected.ids))
        return collected

    # -- writing ------------------------------------------------------------------------------------

    def _write_metadata(self, folder: Path, collected: _Collected) -> None:
        np.save(folder / "ids.npy", np.asarray(collected.ids, dtype=str))
        np.save(folder / "hashes.npy", np.asarray(collected.hashes, dtype=str))
        np.save(folder / "published.npy", np.asarray(collected.published, dtype=np.int32))
        _save_postings(folder / "categories.npz", _postings(collected.categories))
        _save_postings(folder / "authors.npz", _postings(collected.authors))
        collected.names.write(folder)

    def _write_lexical(self, folder: Path, collected: _Collected) -> None:
        """The BM25 matrix (bm25s, term by term) and its transpose in counts (paper by paper).

        The second serves query expansion and rescoring a shortlist: both need the terms of a given
        paper, which the term-major BM25 matrix cannot give without scanning it.
        """
        bm25s = load_bm25s()
        from bm25s.tokenization import Tokenized

        self._report("Keyword index", 0, 2)
        retriever = bm25s.BM25(k1=self.params.k1, b=self.params.b, method="lucene")
        retriever.index(Tokenized(ids=collected.terms, vocab=collected.vocab), show_progress=False)
        retriever.save(str(folder / "bm25"), show_progress=False)
        self._report("Keyword index", 1, 2)
        n = len(collected.terms)
        ptr = np.zeros(n + 1, dtype=np.int64)
        lengths = np.zeros(n, dtype=np.int32)
        terms_parts, counts_parts = [], []
        for i, tokens in enumerate(collected.terms):
            unique, counts = np.unique(tokens, return_counts=True)
            terms_parts.append(unique.astype(np.int32))
            counts_parts.append(np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16))
            ptr[i + 1] = ptr[i] + len(unique)
            lengths[i] = len(tokens)
        all_terms = np.concatenate(terms_parts) if terms_parts else np.zeros(0, np.int32)
        document_frequency = np.bincount(all_terms, minlength=len(collected.vocab)).astype(np.int32)
        np.save(folder / "doc_terms_ptr.npy", ptr)
        np.save(folder / "doc_terms.npy", all_terms)
        np.save(
            folder / "doc_term_counts.npy",
            np.concatenate(counts_parts) if counts_parts else np.zeros(0, np.uint16),
        )
        np.save(folder / "doc_lengths.npy", lengths)
        np.save(folder / "document_frequency.npy", document_frequency)
        collected.terms.clear()
        self._report("Keyword index", 2, 2)

    def _passage_texts(self, doc: IndexDoc) -> list[str]:
        return passages(doc.title, doc.abstract)

    def _write_vectors(
        self, folder: Path, collected: _Collected, old: dict[str, Any] | None, reusable: dict[str, int]
    ) -> tuple[int, int]:
        n = len(collected.ids)
        fresh_rows = {row: item for row, item in collected.fresh}
        counts = np.zeros(n, dtype=np.int64)
        for row, content in enumerate(collected.hashes):
            item = fresh_rows.get(row)
            if item is None:
                assert old is not None
                j = reusable[content]
                counts[row] = old["passage_ptr"][j + 1] - old["passage_ptr"][j]
            elif isinstance(item, str):
                assert self.precomputed is not None
                counts[row] = self.precomputed.passage_count(item)
            else:
                counts[row] = len(self._passage_texts(item))
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        dim = self._dim(old)
        vectors = np.lib.format.open_memmap(
            folder / "vectors.npy", mode="w+", dtype=np.float16, shape=(n, dim)
        )
        passages_out = np.lib.format.open_memmap(
            folder / "passages.npy", mode="w+", dtype=np.float16, shape=(int(ptr[-1]), dim)
        )
        total_fresh, done_fresh = len(collected.fresh), 0
        if total_fresh:
            self._report("Embedding", 0, total_fresh)
        for start in range(0, n, EMBED_CHUNK):
            rows = range(start, min(start + EMBED_CHUNK, n))
            fresh = [row for row in rows if row in fresh_rows]
            if fresh:
                paper_vectors, passage_vectors = self._vectors(
                    [fresh_rows[row] for row in fresh], done=done_fresh, total=total_fresh
                )
                offset = 0
                for k, row in enumerate(fresh):
                    vectors[row] = paper_vectors[k]
                    count = int(counts[row])
                    passages_out[ptr[row] : ptr[row + 1]] = passage_vectors[offset : offset + count]
                    offset += count
                done_fresh += len(fresh)
                self._report("Embedding", done_fresh, total_fresh)
            for row in rows:
                if row not in fresh_rows:
                    assert old is not None
                    j = reusable[collected.hashes[row]]
                    vectors[row] = old["vectors"][j]
                    old_ptr = old["passage_ptr"]
                    passages_out[ptr[row] : ptr[row + 1]] = old["passages"][old_ptr[j] : old_ptr[j + 1]]
        vectors.flush()
        passages_out.flush()
        del vectors, passages_out
        np.save(folder / "passage_ptr.npy", ptr)
        return dim, int(ptr[-1])

    def _dim(self, old: dict[str, Any] | None) -> int:
        if self.embedder is not None:
            return int(self.embedder.dim)
        if old is not None:
            return int(old["vectors"].shape[1])
        assert self.precomputed is not None
        paper, _ = self.precomputed.vectors([])
        return int(paper.shape[1])

    def _vectors(
        self, items: Sequence[IndexDoc | str], *, done: int = 0, total: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.precomputed is not None:
            return self.precomputed.vectors([item if isinstance(item, str) else item.id for item in items])
        assert self.embedder is not None
        docs = [item for item in items if isinstance(item, IndexDoc)]
        flat = [text for d in docs for text in self._passage_texts(d)]
        texts = max(len(docs) + len(flat), 1)

        def embedded(offset: int) -> Callable[[int, int], None]:
            # A chunk takes minutes on a CPU: report papers done after each batch of texts, not per chunk.
            return lambda finished, _: self._report(
                "Embedding", done + len(docs) * (offset + finished) // texts, total
            )

        paper_vectors = self.embedder.embed_documents([d.embed_text for d in docs], progress=embedded(0))
        passage_vectors = (
            self.embedder.embed_documents(flat, progress=embedded(len(docs)))
            if flat
            else np.zeros((0, paper_vectors.shape[1]), np.float32)
        )
        return paper_vectors, passage_vectors

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
            index.train(np.asarray(vectors[:: max(1, n // 50_000)], dtype=np.float32))
        chunk = 50_000
        for start in range(0, n, chunk):
            index.add(np.asarray(vectors[start : start + chunk], dtype=np.float32))
            self._report("Vector index", min(start + chunk, n), n)
        faiss.write_index(index, str(folder / "ann.faiss"))
