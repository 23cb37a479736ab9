"""Large corpora for benchmarks, made from the real abstracts in ../shared/data.

Repeating the same few thousand abstracts would give every word a posting list hundreds of times too
long and a vocabulary that never grows, which flatters nothing and misleads everything. Real corpora grow
their vocabulary by Heaps' law (V ≈ K·N^β, β ≈ 0.5 for scientific text) because most new words are rare:
names, compounds, genes, acronyms. So each synthetic paper is a real abstract (cycled) in which

* every word that is rare in the real corpus (in at most ``RARE_DF`` real papers) is replaced by one of
  ``ceil(copy ** BETA)`` spelling variants of it, chosen at random — rare words multiply as the corpus
  grows while common words stay common, keeping posting lists of common terms as long as they really are;
* 10% of the words are dropped at random, so no two copies are identical.

Vectors are noisy copies of the real vectors of the source abstract: Gaussian noise scaled so that a
copy's cosine with its source is about ``COPY_COSINE``, then re-normalised; each paper's passages are
noisier copies of its own vector.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dailypapers.search.analyzer import words
from dailypapers.search.index import IndexDoc

RARE_DF = 3
BETA = 0.55
DROPOUT = 0.10
COPY_COSINE = 0.90
PASSAGE_COSINE = 0.85
PASSAGES_PER_PAPER = 8  # about the sentences of a real abstract

DESCRIPTION = (
    f"synthetic corpus: real abstracts cycled; words in <= {RARE_DF} real papers replaced by one of "
    f"ceil(copy^{BETA}) variants (Heaps-law vocabulary growth); {DROPOUT:.0%} word dropout. Vectors: real "
    f"MiniLM vectors of the source abstract plus Gaussian noise (cosine ~{COPY_COSINE} to the source), "
    f"{PASSAGES_PER_PAPER} passage vectors per paper (cosine ~{PASSAGE_COSINE} to the paper)."
)


def shared_data() -> Path:
    path = Path(
        os.environ.get("DAILYPAPERS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    if not (path / "beir-scifact" / "corpus.jsonl").exists():
        raise SystemExit(f"benchmarks need the real data at {path} (set DAILYPAPERS_SHARED_DATA)")
    return path


@dataclass
class RealCorpus:
    titles: list[str]
    abstracts: list[str]

    def __len__(self) -> int:
        return len(self.titles)


def real_corpus() -> RealCorpus:
    data = shared_data()
    titles, abstracts = [], []
    with (data / "beir-scifact" / "corpus.jsonl").open() as handle:
        for line in handle:
            item = json.loads(line)
            titles.append(item["title"])
            abstracts.append(item["text"])
    with (data / "arxiv" / "oai-snapshot" / "arxiv-metadata-oai-snapshot.first200.jsonl").open() as handle:
        for line in handle:
            item = json.loads(line)
            titles.append(" ".join(item["title"].split()))
            abstracts.append(" ".join(item["abstract"].split()))
    return RealCorpus(titles, abstracts)


def _variant(word: str, number: int) -> str:
    if number == 0:
        return word
    suffix = ""
    while number:
        number, digit = divmod(number, 26)
        suffix += chr(ord("a") + digit)
    return word + suffix


def synthetic_docs(real: RealCorpus, n: int, *, seed: int = 0) -> Iterator[IndexDoc]:
    tokenised = [(words(t), words(a)) for t, a in zip(real.titles, real.abstracts, strict=True)]
    df: Counter[str] = Counter()
    for title, abstract in tokenised:
        df.update(set(title) | set(abstract))
    rare = {w for w, count in df.items() if count <= RARE_DF}
    rng = np.random.default_rng(seed)
    width = len(str(n))
    for j in range(n):
        source = j % len(real)
        copy = j // len(real)
        variants = max(1, math.ceil(copy**BETA)) if copy else 1

        def rewrite(tokens: list[str], variants: int = variants) -> str:
            keep = rng.random(len(tokens)) >= DROPOUT
            picks = rng.integers(0, variants, size=len(tokens))
            out = [
                _variant(t, int(p)) if t in rare else t
                for t, k, p in zip(tokens, keep, picks, strict=True)
                if k
            ]
            return " ".join(out)

        title, abstract = tokenised[source]
        yield IndexDoc(id=f"syn{j:0{width}d}", title=rewrite(title), abstract=rewrite(abstract))


def noisy_vectors(
    base: np.ndarray, sources: np.ndarray, cosine: float, rng: np.random.Generator
) -> np.ndarray:
    """Unit vectors whose cosine with ``base[sources]`` is about ``cosine``."""
    dim = base.shape[1]
    sigma = math.sqrt((1 / cosine**2 - 1) / dim)
    out = base[sources] + rng.normal(0, sigma, size=(len(sources), dim)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


class SyntheticVectors:
    """``PrecomputedVectors`` for IndexBuilder: vectors of synthetic papers from their numbers, no model."""

    def __init__(self, real_vectors: np.ndarray, *, seed: int = 1) -> None:
        self.real = real_vectors
        self.rng = np.random.default_rng(seed)

    def passage_count(self, paper_id: str) -> int:
        return PASSAGES_PER_PAPER

    def vectors(self, paper_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        numbers = np.asarray([int(i[3:]) for i in paper_ids], dtype=np.int64)
        papers = noisy_vectors(self.real, numbers % len(self.real), COPY_COSINE, self.rng)
        owners = np.repeat(np.arange(len(paper_ids)), PASSAGES_PER_PAPER)
        return papers, noisy_vectors(papers, owners, PASSAGE_COSINE, self.rng)
