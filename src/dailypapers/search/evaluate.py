"""Search quality on BEIR datasets, measured with ranx so the figures compare with published ones.

The dataset is ingested into a data dir of its own (``<data dir>/eval/<name>`` by default), indexed
with the configured embedder, and every query of the chosen split is run through the same
:class:`~dailypapers.search.service.SearchService` the site uses. Queries are taken as plain text (no
filter syntax), as the benchmark intends. A 95% confidence interval comes from a bootstrap over queries.

:func:`floor_calibration` measures, on the same index, how similar by meaning the relevant abstracts of
a split are to their claims: the relevance floor of ``relevance.py`` is taken from the train split.
"""

from __future__ import annotations

import csv
import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.config import Settings
from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
from dailypapers.errors import IngestError
from dailypapers.ingest.formats.beir import dataset_name_for
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.search.index import Progress
from dailypapers.search.lexical import bm25_and_matches, query_term_ids
from dailypapers.search.relevance import FLOOR_QUANTILE
from dailypapers.search.runtime import make_search_service, update_index
from dailypapers.search.service import SearchService

METRICS = ("ndcg@10", "recall@100", "mrr@10")
BOOTSTRAP_SAMPLES = 10_000


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            score = int(row[2])
            if score > 0:
                qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


def load_queries(path: Path) -> dict[str, str]:
    queries = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                queries[str(item["_id"])] = item["text"]
    return queries


def bootstrap_ci(
    values: np.ndarray, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(samples, len(values)))
    means = values[picks].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _beir_files(folder: Path, split: str) -> tuple[Path, Path, Path]:
    corpus, queries_file, qrels_file = (
        folder / "corpus.jsonl",
        folder / "queries.jsonl",
        folder / "qrels" / f"{split}.tsv",
    )
    for needed in (corpus, queries_file, qrels_file):
        if not needed.exists():
            raise IngestError(f"not a BEIR dataset folder: {needed} is missing", path=str(folder))
    return corpus, queries_file, qrels_file


@contextmanager
def beir_service(
    folder: Path, *, settings: Settings, work_dir: Path | None = None, progress: Progress | None = None
) -> Iterator[tuple[SearchService, str]]:
    """(a search service over the dataset's corpus, the prefix of its paper ids), indexed if need be."""
    corpus = folder / "corpus.jsonl"
    name = dataset_name_for(corpus)
    eval_settings = settings.model_copy(
        update={
            "data_dir": work_dir or settings.data_dir / "eval" / name,
            "database_url": "",
            "models_dir": settings.resolved_models_dir,  # reuse the exported model, don't export again
        }
    )
    engine = create_engine_from_settings(eval_settings)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    try:
        Ingestor(sessions, batch_size=settings.ingest_batch_size).ingest_paths([corpus])
        update_index(eval_settings, sessions, progress=progress)
        yield make_search_service(eval_settings, sessions), f"{name}-"
    finally:
        engine.dispose()


def evaluate_beir(
    folder: Path,
    *,
    split: str = "test",
    mode: str = "hybrid",
    settings: Settings,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    from ranx import Qrels, Run, evaluate

    _, queries_file, qrels_file = _beir_files(folder, split)
    with beir_service(folder, settings=settings, work_dir=work_dir, progress=progress) as (service, prefix):
        qrels = load_qrels(qrels_file)
        queries = load_queries(queries_file)
        run: dict[str, dict[str, float]] = {}
        started = time.perf_counter()
        for done, query_id in enumerate(sorted(qrels)):
            results = service.search(queries[query_id], k=100, mode=mode, syntax=False)
            run[query_id] = {hit.id.removeprefix(prefix): float(hit.score) for hit in results.hits} or {
                "__none__": 0.0
            }
            if progress:
                progress("Queries", done + 1, len(qrels))
        seconds = time.perf_counter() - started
        embedder_key = service.index().embedder_key
    ranx_qrels, ranx_run = Qrels(qrels), Run(run)
    with warnings.catch_warnings():
        # ranx's compiled metrics warn about an integer cast inside the library on every call.
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        means = evaluate(ranx_qrels, ranx_run, list(METRICS))
        per_query = evaluate(ranx_qrels, ranx_run, list(METRICS), return_mean=False)
    result: dict[str, Any] = {metric: round(float(means[metric]), 4) for metric in METRICS}
    result["ci95"] = {
        metric: [round(v, 4) for v in bootstrap_ci(np.asarray(per_query[metric]))] for metric in METRICS
    }
    result.update(
        dataset=dataset_name_for(folder / "corpus.jsonl"),
        split=split,
        mode=mode,
        queries=len(qrels),
        embedder=embedder_key,
        seconds_per_query=round(seconds / max(len(qrels), 1), 4),
    )
    return result


def semantic_evidence(service: SearchService, text: str, rows: np.ndarray) -> np.ndarray:
    """What the relevance floor is compared with: the better of paper and best-sentence cosine."""
    index = service.index()
    vector = service.embedder.embed_query(text)
    dense = service.cosines(index, vector, rows)
    return np.asarray(np.maximum(dense, service.best_passages(index, vector, rows, dense)))


def floor_calibration(
    folder: Path,
    *,
    split: str = "train",
    settings: Settings,
    quantile: float = FLOOR_QUANTILE,
    nonsense: tuple[str, ...] = ("xyzzyqwerty", "qwertyuiop asdfgh", "zzyzx plugh"),
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The semantic evidence of every relevant (claim, abstract) pair of ``split``, and the floor it gives.

    The floor is the ``quantile`` of that evidence rounded down to two decimals: the relevant abstracts
    less similar than it are cut if they share no word with their claim. For comparison, the best
    evidence any paper of the corpus has for a few nonsense queries, which the floor should exceed.
    """
    _, queries_file, qrels_file = _beir_files(folder, split)
    with beir_service(folder, settings=settings, work_dir=work_dir, progress=progress) as (service, prefix):
        index = service.index()
        queries, qrels = load_queries(queries_file), load_qrels(qrels_file)
        values: list[float] = []
        worded: list[bool] = []
        for done, query_id in enumerate(sorted(qrels)):
            rows = [index.position(prefix + doc) for doc in qrels[query_id]]
            known = np.asarray([r for r in rows if r is not None], dtype=np.int64)
            text = queries[query_id]
            values.extend(semantic_evidence(service, text, known).tolist())
            worded.extend(bm25_and_matches(index, {}, query_term_ids(index, text), known)[1].tolist())
            if progress:
                progress("Queries", done + 1, len(qrels))
        everything = np.arange(index.size, dtype=np.int64)
        noise = {text: float(semantic_evidence(service, text, everything).max()) for text in nonsense}
        embedder_key = index.embedder_key
    evidence, has_word = np.asarray(values), np.asarray(worded, dtype=bool)
    floor = float(np.floor(np.quantile(evidence, quantile) * 100) / 100)
    return {
        "split": split,
        "embedder": embedder_key,
        "pairs": len(evidence),
        "quantile": quantile,
        "floor": floor,
        "kept_share": round(float((evidence >= floor).mean()), 4),
        # What the floor really costs: a relevant paper is only cut when it also holds no query word.
        "relevant_without_a_query_word": int((~has_word).sum()),
        "relevant_cut": int((~has_word & (evidence < floor)).sum()),
        "evidence_percentiles": {
            str(p): round(float(np.percentile(evidence, p)), 4) for p in (0.5, 1, 2, 5, 10, 25, 50)
        },
        "nonsense_best": {text: round(value, 4) for text, value in noise.items()},
    }
