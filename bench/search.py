"""Search latency, throughput, memory and ANN recall at a given corpus size, with baselines.

Usage: ``python bench/search.py --docs 1000000 [--queries 300] [--json] [--rebuild]``

Two quality figures live here too, since they need a real index and take a while:

* ``--authors [--data-dir DIR] [--mode hybrid]``: MRR@10 of plain author-name queries (full name,
  surname, initial and surname, without accents) on the papers of an installation, by default the demo
  corpus ingested into bench/out/authors-demo and indexed with the default model (see
  ``dailypapers.search.names_eval``);
* ``--calibrate-floor [--split train]``: the semantic evidence of SciFact's relevant pairs and the
  relevance floor it gives (see ``dailypapers.search.relevance``), on the index that
  ``dailypapers eval beir`` builds (``--work-dir`` to reuse one).

For N papers (see ``synthetic.py`` for how a large corpus keeps a realistic vocabulary and how its
vectors are made) this builds an index with the production ``IndexBuilder`` (cached in bench/out), then,
in a fresh process so that memory is measured cleanly, answers the SciFact test queries one at a time
in each mode with the production ``SearchService`` — the query embedding is part of every dense and
hybrid timing — and reports p50/p99 latency, queries/s and the search process's peak RSS. In the same
run it measures two baselines on the same corpus and queries: a brute-force numpy scan over every paper
vector (exact dense search), and bm25s's own ``retrieve`` on the same BM25 matrix. ANN recall@10 compares
the semantic top 10 with the exact top 10 of the brute-force scan.

BLAS and ONNX threads are held to what the machine has: with two cores, numpy and the model each
starting their own pools made a query several times slower.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import multiprocessing
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import synthetic  # noqa: E402

TARGETS = {"hybrid_p50_ms": 15.0, "hybrid_p99_ms": 50.0, "ann_recall_at_10": 0.98, "search_rss_mb": 2048.0}
OUT = REPO / "bench" / "out"


def _settings(data_dir: Path) -> Any:
    from dailypapers.config import Settings

    return Settings(data_dir=data_dir)


def real_vectors(embedder: Any, corpus: synthetic.RealCorpus) -> np.ndarray:
    """MiniLM vectors of the real abstracts, embedded once and cached."""
    path = OUT / f"real-vectors-{embedder.key.replace('/', '_').replace(':', '_')}-{len(corpus)}.npy"
    if path.exists():
        return np.load(path)
    texts = [f"{t}. {a}" for t, a in zip(corpus.titles, corpus.abstracts, strict=True)]
    vectors = embedder.embed_documents(texts).astype(np.float32)
    np.save(path, vectors)
    return vectors


def build(n: int, rebuild: bool) -> dict[str, Any]:
    """Runs in a child process: build (or reuse) the index for N papers; report time and peak RSS."""
    from dailypapers.search.build import IndexBuilder
    from dailypapers.search.embedders import load_embedder
    from dailypapers.search.index import IndexStore

    data_dir = OUT / f"search-{n}"
    store = IndexStore(data_dir)
    if store.current_version() and not rebuild:
        manifest = json.loads((store.current_path() / "manifest.json").read_text())  # type: ignore[operator]
        return {
            "reused": True,
            "seconds": manifest.get("build_seconds"),
            "peak_rss_mb": manifest.get("build_rss_mb"),
        }
    if data_dir.exists():
        shutil.rmtree(data_dir)
    corpus = synthetic.real_corpus()
    embedder = load_embedder(_settings(data_dir))
    base = real_vectors(embedder, corpus)
    started = time.perf_counter()
    builder = IndexBuilder(store, None, precomputed=synthetic.SyntheticVectors(base))
    report = builder.build(synthetic.synthetic_docs(corpus, n), total=n)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    manifest_path = store.current_path() / "manifest.json"  # type: ignore[operator]
    manifest = json.loads(manifest_path.read_text())
    manifest.update(build_seconds=round(seconds, 1), build_rss_mb=round(peak), corpus=synthetic.DESCRIPTION)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return {
        "reused": False,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "documents": report.documents,
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "qps": round(1000 / float(ms.mean()), 1),
    }


def measure(n: int, queries: list[str]) -> dict[str, Any]:
    """Runs in a fresh child process: open the index as the server does and time every mode."""
    import psutil

    from dailypapers.search.embedders import load_embedder
    from dailypapers.search.index import IndexHolder, IndexStore
    from dailypapers.search.service import SearchService

    data_dir = OUT / f"search-{n}"
    embedder = load_embedder(_settings(data_dir))
    holder = IndexHolder(IndexStore(data_dir))
    service = SearchService(holder, lambda: embedder)
    index = service.index()
    # The benchmark index was built with precomputed vectors; queries use the real model.
    index.embedder_key = embedder.key
    for query in queries[:10]:  # warm-up: model, page cache
        service.search(query, mode="hybrid", syntax=False)
    results: dict[str, Any] = {}
    dense_top: list[np.ndarray] = []
    for mode in ("bm25", "dense", "hybrid"):
        samples = []
        for query in queries:
            started = time.perf_counter()
            found = service.search(query, k=10, mode=mode, syntax=False)
            samples.append(time.perf_counter() - started)
            if mode == "dense":
                dense_top.append(np.asarray([index.position(h.id) for h in found.hits]))
        results[mode] = _percentiles(samples)
    rss_search = psutil.Process().memory_info().rss / 2**20
    peak_search = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    memory = _memory_status()

    # What leaving very common terms out of the hybrid first stage changes: the same queries with every
    # term walked, compared on their top 10.
    from dailypapers.search import lexical

    pruned = [[h.id for h in service.search(q, k=10, mode="hybrid", syntax=False).hits] for q in queries]
    saved, lexical.COMMON_TERM_PAPERS = lexical.COMMON_TERM_PAPERS, index.size + 1
    samples = []
    agreement = []
    for query, top in zip(queries, pruned, strict=True):
        started = time.perf_counter()
        found = service.search(query, k=10, mode="hybrid", syntax=False)
        samples.append(time.perf_counter() - started)
        full = [h.id for h in found.hits]
        agreement.append(len(set(full) & set(top)) / max(len(full), 1))
    lexical.COMMON_TERM_PAPERS = saved
    results["baseline_hybrid_all_terms"] = _percentiles(samples)
    results["hybrid_top10_agreement_with_all_terms"] = round(float(np.mean(agreement)), 4)

    # Baseline 1: brute-force numpy scan over every paper vector (exact), embedding included.
    vectors = np.asarray(index.vectors, dtype=np.float32)
    samples, exact_top = [], []
    for query in queries:
        started = time.perf_counter()
        q = embedder.embed_query(query)
        scores = vectors @ q
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        samples.append(time.perf_counter() - started)
        exact_top.append(top)
    results["baseline_numpy_scan"] = _percentiles(samples)
    recall = np.mean(
        [len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(dense_top, exact_top, strict=True)]
    )
    del vectors

    # Baseline 2: bm25s's own retrieve over the same BM25 matrix and the same analysed queries.
    from bm25s.tokenization import Tokenized

    from dailypapers.search.analyzer import analyze

    retriever = index.bm25
    samples = []
    for query in queries:
        started = time.perf_counter()
        terms = [t for t in analyze(query) if t in index.vocab] or ["__none__"]
        ids = [index.vocab.get(t, 0) for t in terms]
        retriever.retrieve(Tokenized(ids=[ids], vocab=index.vocab), k=10, show_progress=False, n_threads=1)
        samples.append(time.perf_counter() - started)
    results["baseline_bm25s_retrieve"] = _percentiles(samples)
    results["ann_recall_at_10"] = round(float(recall), 4)
    results["search_rss_mb"] = round(rss_search)
    results["search_peak_rss_mb"] = round(peak_search)
    results["search_rss_anonymous_mb"] = memory.get("RssAnon")
    results["search_rss_file_mb"] = memory.get("RssFile")
    results["index_on_disk_mb"] = round(
        sum(f.stat().st_size for f in index.path.rglob("*") if f.is_file()) / 2**20
    )
    results["vocabulary"] = len(index.vocab)
    results["passages"] = int(index.passage_ptr[-1])
    return results


def _memory_status() -> dict[str, int]:
    """This process's resident memory split as Linux reports it: anonymous, and pages of mapped files (MB)."""
    found: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("RssAnon", "RssFile"):
                found[name] = int(value.split()[0]) // 1024
    return found


def author_figures(data_dir: Path | None, mode: str) -> dict[str, Any]:
    """MRR@10 of the author-name query set on an installation (the demo corpus unless given)."""
    from dailypapers import store
    from dailypapers.db import create_engine_from_settings, make_session_factory, upgrade_schema
    from dailypapers.ingest.pipeline import Ingestor
    from dailypapers.search.names_eval import author_mrr, author_queries
    from dailypapers.search.runtime import make_search_service, update_index

    settings = _settings(data_dir or OUT / "authors-demo")
    engine = create_engine_from_settings(settings)
    sessions = make_session_factory(engine)
    if data_dir is None:
        upgrade_schema(engine)
        shared = synthetic.shared_data()
        Ingestor(sessions).ingest_paths([shared / name for name in ("arxiv", "hf-daily-papers", "seed")])
        update_index(settings, sessions)
    with sessions() as session:
        papers = [(row.id, list(row.authors or ())) for row in store.iter_index_rows(session)]
    figures = author_mrr(make_search_service(settings, sessions), author_queries(papers), mode=mode)
    engine.dispose()
    return {"papers": len(papers), **figures}


def floor_figures(split: str, work_dir: Path | None) -> dict[str, Any]:
    from dailypapers.search.evaluate import floor_calibration

    data = synthetic.shared_data() / "beir-scifact"
    return floor_calibration(data, split=split, settings=_settings(OUT / "floor"), work_dir=work_dir)


def _print(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key}: {json.dumps(value)}")


def _in_child(function: Any, *args: Any) -> Any:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000, help="corpus size")
    parser.add_argument("--queries", type=int, default=300, help="number of SciFact test queries to run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index even if one is cached")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--authors", action="store_true", help="MRR@10 of author-name queries instead")
    parser.add_argument("--data-dir", type=Path, help="with --authors: an installation's data dir")
    parser.add_argument("--mode", default="hybrid", help="with --authors: bm25, dense or hybrid")
    parser.add_argument("--calibrate-floor", action="store_true", help="the relevance floor on SciFact")
    parser.add_argument("--split", default="train", help="with --calibrate-floor: the qrels split")
    parser.add_argument("--work-dir", type=Path, help="with --calibrate-floor: the evaluation data dir")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.authors:
        _print(author_figures(args.data_dir, args.mode), args.json)
        return
    if args.calibrate_floor:
        _print(floor_figures(args.split, args.work_dir), args.json)
        return

    data = synthetic.shared_data() / "beir-scifact"
    test_ids = {line.split("\t")[0] for line in (data / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    queries = [
        item["text"]
        for item in map(json.loads, (data / "queries.jsonl").read_text().splitlines())
        if item["_id"] in test_ids
    ][: args.queries]

    built = _in_child(build, args.docs, args.rebuild)
    measured = _in_child(measure, args.docs, queries)
    figures = {
        "docs": args.docs,
        "queries": len(queries),
        "corpus": synthetic.DESCRIPTION,
        "build": built,
        **measured,
    }
    figures["meets_targets"] = {
        "hybrid_p50": measured["hybrid"]["p50_ms"] <= TARGETS["hybrid_p50_ms"],
        "hybrid_p99": measured["hybrid"]["p99_ms"] <= TARGETS["hybrid_p99_ms"],
        "ann_recall": measured["ann_recall_at_10"] >= TARGETS["ann_recall_at_10"],
        "search_rss": measured["search_peak_rss_mb"] <= TARGETS["search_rss_mb"],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"Search at {args.docs:,} papers, {len(queries)} SciFact test queries, one process")
    for column in ("run", "p50 ms", "p99 ms", "mean ms", "queries/s"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name in (
        "bm25",
        "dense",
        "hybrid",
        "baseline_hybrid_all_terms",
        "baseline_numpy_scan",
        "baseline_bm25s_retrieve",
    ):
        row = measured[name]
        table.add_row(
            name, f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}", f"{row['mean_ms']:.2f}", f"{row['qps']:.1f}"
        )
    console.print(table)
    console.print(
        f"ANN recall@10 vs exact: {measured['ann_recall_at_10']:.4f} · "
        f"search RSS {measured['search_rss_mb']} MB "
        f"(peak {measured['search_peak_rss_mb']} MB; anonymous {measured['search_rss_anonymous_mb']} MB, "
        f"mapped files {measured['search_rss_file_mb']} MB) · "
        f"index on disk {measured['index_on_disk_mb']:,} MB "
        f"· vocabulary {measured['vocabulary']:,} terms · {measured['passages']:,} passages"
    )
    console.print(
        "Hybrid top 10 agreeing with a first stage that walks every term: "
        f"{measured['hybrid_top10_agreement_with_all_terms']:.4f}"
    )
    console.print(
        f"Index build: {built['seconds']} s, peak RSS {built['peak_rss_mb']} MB"
        + (" (cached from an earlier run)" if built["reused"] else "")
    )
    console.print(f"Corpus: {synthetic.DESCRIPTION}")
    console.print(f"Targets met: {figures['meets_targets']}")


if __name__ == "__main__":
    main()
