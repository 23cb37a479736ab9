"""Embedding throughput (abstracts/s) and retrieval quality of every embedder variant, measured in one run.

Variants, all on the first N SciFact abstracts (``title + " " + text``):

* ``st-fp32``: plain sentence-transformers, ``model.encode(texts, batch_size=32)`` with its defaults — the
  baseline the others are compared with;
* ``onnx-fp32``: the same model exported to ONNX and fused, unquantised;
* ``openvino-bf16``: the float32 ONNX export compiled by OpenVINO in bfloat16 — the default embedder
  (``minilm``) on CPUs with native bfloat16 (AMX);
* ``onnx-int8``: int8 weights, one scale per output channel (``minilm-int8``, the default elsewhere);
* ``onnx-int8-per-tensor``: int8 weights with one scale per matrix, to show what that costs in quality;
* ``wordllama``: the 256-d static model;
* ``st-bf16``: sentence-transformers with bfloat16 weights — not an embedder of Daily Papers, but what a CPU
  with AMX (Intel Sapphire Rapids or newer) does with PyTorch alone; elsewhere bfloat16 is slow.

``--texts passages`` embeds the title-prefixed sentence windows that the search index embeds beside each
abstract (``dailypapers.search.passages``), cut from the same N abstracts, instead of the abstracts.

Each variant embeds a warm-up batch first (not timed). ``--rounds R`` times every variant R times,
interleaved, and keeps the best round, which tames other processes competing for the cores. The table also
gives the CPU seconds the process used per 1,000 abstracts, which load on the machine disturbs less.

``--quality`` also embeds all 5,183 abstracts and the 300 test claims, ranks the abstracts by exact cosine
for each claim and reports nDCG@10 (ranx) and its difference from ``st-fp32``. The published MTEB figure
for all-MiniLM-L6-v2 on SciFact is 0.645.

``--device cuda`` runs the sentence-transformers variants on a GPU (and ``onnx-fp32`` too where
onnxruntime-gpu is installed); without a CUDA GPU it stops with a message.

Why int8 is 1.5 to 2 times PyTorch here and not 3 (two cores of a Xeon with AVX-512 VNNI and AMX,
onnxruntime 1.30–1.32, torch 2.11–2.13): quantisation makes the matrix products about four times cheaper,
but attention over 256 tokens, the layer norms and GELU stay float32 and cost as much in onnxruntime as in
PyTorch. A one-thread profile of a batch of 32 abstracts of 256 tokens: PyTorch 1.8 s, of which 0.4 s
attention; int8 ONNX 1.1 s, of which 0.45 s attention and 0.3 s norms and GELU. 71 % of SciFact abstracts
fill the 256 tokens. Levers that were measured: graph fusion 5–10 % less CPU time; sleeping instead of
spinning worker threads 10–15 %; sorting by length 6 % (the long abstracts are all 256 tokens); batch sizes
8 to 64 within 10 % of each other; tokenising is 1.5 % of the time and a batch's input 64 kB, so I/O binding
has nothing to save. Shorter texts gain more (2.1× on the index's passages of about 130 tokens). What comes
close to 3× on such CPUs is ``st-bf16`` (2.8× on two otherwise idle cores, nDCG@10 within 0.001): AMX runs
attention as well as the matrix products in bfloat16. OpenVINO does the same with the whole graph fused and
no Python in the loop, which is why ``openvino-bf16`` is the default where the CPU has it.

Usage: ``python bench/embed.py [--docs 1000] [--quality] [--rounds 1] [--device cpu|cuda]
[--texts abstracts|passages] [--variants st-fp32,onnx-int8,...] [--data-dir bench/out/embed] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model is local; a lookup on the Hub would be a bug

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from dailypapers.search.embedders import MINILM_NAME, packaged_minilm_dir, usable_cores  # noqa: E402
from dailypapers.search.embedders.onnx_export import Quantization  # noqa: E402

VARIANTS = (
    "st-fp32",
    "openvino-bf16",
    "onnx-fp32",
    "onnx-int8",
    "onnx-int8-per-tensor",
    "wordllama",
    "st-bf16",
)
ONNX_VARIANTS: dict[str, Quantization] = {
    "onnx-fp32": "fp32",
    "onnx-int8": "int8",
    "onnx-int8-per-tensor": "int8-per-tensor",
}
BASELINE = "st-fp32"
DEFAULT = "openvino-bf16"
TARGET_SPEEDUP = 3.0
TARGET_NDCG_LOSS = 0.005
MTEB_NDCG10 = 0.645
WARMUP_DOCS = 32

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass
class Result:
    variant: str
    device: str
    dim: int
    load_seconds: float
    texts_per_s: float = 0.0
    cpu_s_per_1000: float = 0.0
    rounds: list[float] = field(default_factory=list)
    ndcg10: float | None = None
    notes: str = ""


def shared_data() -> Path:
    path = Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (path / "beir-scifact" / "corpus.jsonl").exists():
        sys.exit(f"bench/embed.py needs the real data at {path} (set DAILYPAPERS_SHARED_DATA)")
    return path / "beir-scifact"


def read_scifact(
    folder: Path,
) -> tuple[list[str], list[tuple[str, str]], dict[str, str], dict[str, dict[str, int]]]:
    """Document ids, (title, text) pairs, test claims by id, and test judgements."""
    ids, texts = [], []
    with (folder / "corpus.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            ids.append(record["_id"])
            texts.append((record["title"], record["text"]))
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        qrels.setdefault(query_id, {})[doc_id] = int(score)
    queries = {}
    with (folder / "queries.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            if record["_id"] in qrels:
                queries[record["_id"]] = record["text"]
    return ids, texts, queries, qrels


def load_variant(name: str, *, device: str, data_dir: Path) -> tuple[Embed, int, str, str]:
    """The variant's embedding function, its dimension, the device it runs on, and a note."""
    cache = data_dir / "models"
    if name in ("st-fp32", "st-bf16"):
        import torch
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(
            str(packaged_minilm_dir()),
            device=device,
            local_files_only=True,
            model_kwargs={"dtype": torch.bfloat16} if name == "st-bf16" else None,
        )

        def encode(texts: Sequence[str]) -> np.ndarray:
            # The progress bar is off only because importing wordllama turns on INFO logging, which makes
            # sentence-transformers draw one; nothing else departs from its defaults.
            vectors = model.encode(list(texts), batch_size=32, show_progress_bar=False)
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

        note = (
            f"torch {name[3:]}, {torch.get_num_threads()} threads, encode(batch_size=32)"
            if device == "cpu"
            else f"torch {name[3:]}, {torch.cuda.get_device_name()}"
        )
        return encode, int(model.get_embedding_dimension() or 0), device, note
    if name in ONNX_VARIANTS:
        import onnxruntime as ort

        from dailypapers.search.embedders import OnnxMiniLMEmbedder

        quantization = ONNX_VARIANTS[name]
        # int8 kernels are CPU kernels; only the fp32 graph is worth a GPU, and only with onnxruntime-gpu.
        on_gpu = (
            device == "cuda"
            and quantization == "fp32"
            and "CUDAExecutionProvider" in ort.get_available_providers()
        )
        embedder = OnnxMiniLMEmbedder(
            cache_dir=cache,
            quantization=quantization,
            device="cuda" if on_gpu else "cpu",
        )
        note = f"onnxruntime, {embedder.threads} threads, batches of {embedder.batch_size} sorted by length"
        if embedder.export.exported:
            note += f"; exported in {embedder.export.manifest['export_seconds']} s"
        return embedder.embed_documents, embedder.dim, "cuda" if on_gpu else "cpu", note
    if name == "openvino-bf16":
        from dailypapers.search.embedders.openvino_minilm import OpenVinoMiniLMEmbedder, cpu_has_bf16

        if not cpu_has_bf16():
            raise SystemExit("openvino-bf16: this CPU has no native bfloat16; leave the variant out")
        bf16 = OpenVinoMiniLMEmbedder(cache_dir=cache)
        note = f"OpenVINO bf16, {bf16.threads} threads, batches of {bf16.batch_size} sorted by length"
        return bf16.embed_documents, bf16.dim, "cpu", note
    if name == "wordllama":
        from dailypapers.search.embedders import WordLlamaEmbedder

        static = WordLlamaEmbedder(batch_size=256)
        return static.embed_documents, static.dim, "cpu", "numpy, batches of 256 sorted by length"
    raise SystemExit(f"unknown variant {name!r}: choose from {', '.join(VARIANTS)}")


def time_once(embed: Embed, texts: Sequence[str]) -> tuple[float, float]:
    """Wall and CPU seconds for one pass over ``texts``."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    embed(texts)
    return time.perf_counter() - wall, time.process_time() - cpu


def ndcg_at_10(
    doc_vectors: np.ndarray,
    query_vectors: np.ndarray,
    doc_ids: list[str],
    query_ids: list[str],
    qrels: dict[str, dict[str, int]],
) -> float:
    from ranx import Qrels, Run, evaluate

    scores = query_vectors @ doc_vectors.T
    run: dict[str, dict[str, float]] = {}
    for row, query_id in enumerate(query_ids):
        top = np.argpartition(-scores[row], 100)[:100]
        run[query_id] = {doc_ids[j]: float(scores[row, j]) for j in top}
    return float(evaluate(Qrels(qrels), Run(run), "ndcg@10"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--docs", type=int, default=1000, help="abstracts to time, or to cut passages from (default 1000)"
    )
    parser.add_argument("--quality", action="store_true", help="also compute nDCG@10 on SciFact test")
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds per variant; the best is kept")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    parser.add_argument("--texts", choices=["abstracts", "passages"], default="abstracts")
    parser.add_argument("--data-dir", type=Path, default=REPO / "bench" / "out" / "embed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    console = Console(stderr=args.json)

    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            sys.exit(
                "--device cuda: PyTorch sees no CUDA GPU here (CPU build or no driver); run with --device cpu"
            )
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    doc_ids, titled, queries, qrels = read_scifact(shared_data())
    corpus = [f"{title} {text}" for title, text in titled]
    texts = corpus[: args.docs]
    if args.texts == "passages":
        from dailypapers.search.passages import passages

        texts = [p for record in titled[: args.docs] for p in passages(*record)]
    load_before = os.getloadavg()[0]

    loaded: dict[str, tuple[Embed, Result]] = {}
    for name in variants:
        started = time.perf_counter()
        with console.status(f"loading {name}"):
            embed, dim, device, note = load_variant(name, device=args.device, data_dir=args.data_dir)
            embed(texts[:WARMUP_DOCS])
        loaded[name] = (embed, Result(name, device, dim, time.perf_counter() - started, notes=note))

    for round_number in range(args.rounds):
        for name, (embed, result) in loaded.items():
            with console.status(
                f"round {round_number + 1}/{args.rounds}: {name} on {len(texts)} {args.texts}"
            ):
                wall, cpu = time_once(embed, texts)
            result.rounds.append(len(texts) / wall)
            if len(texts) / wall >= result.texts_per_s:
                result.texts_per_s = len(texts) / wall
                result.cpu_s_per_1000 = cpu / len(texts) * 1000

    if args.quality:
        query_ids = sorted(queries, key=int)
        query_texts = [queries[q] for q in query_ids]
        for name, (embed, result) in loaded.items():
            with console.status(f"quality: {name} on {len(corpus)} abstracts and {len(query_ids)} claims"):
                result.ndcg10 = ndcg_at_10(embed(corpus), embed(query_texts), doc_ids, query_ids, qrels)

    report(loaded, args, len(texts), load_before, console)


def report(
    loaded: dict[str, tuple[Embed, Result]],
    args: argparse.Namespace,
    text_count: int,
    load: float,
    console: Console,
) -> None:
    results = [result for _, result in loaded.values()]
    by_name = {r.variant: r for r in results}
    base = by_name.get(BASELINE)
    figures: dict[str, Any] = {
        "docs": args.docs,
        "texts": text_count,
        "kind": args.texts,
        "rounds": args.rounds,
        "usable_cores": usable_cores(),
        "load_average_before": round(load, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "model": MINILM_NAME,
        "variants": {
            r.variant: {
                "device": r.device,
                "dim": r.dim,
                "texts_per_s": round(r.texts_per_s, 2),
                "every_round_texts_per_s": [round(x, 2) for x in r.rounds],
                "cpu_s_per_1000_texts": round(r.cpu_s_per_1000, 1),
                "load_s": round(r.load_seconds, 1),
                "speedup": round(r.texts_per_s / base.texts_per_s, 2) if base else None,
                "ndcg10": None if r.ndcg10 is None else round(r.ndcg10, 4),
                "ndcg10_change": (
                    round(r.ndcg10 - base.ndcg10, 4)
                    if base and base.ndcg10 is not None and r.ndcg10 is not None
                    else None
                ),
                "notes": r.notes,
            }
            for r in results
        },
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return

    what = "abstracts" if args.texts == "abstracts" else f"passages of {args.docs} abstracts"
    table = Table(title=f"Embedding {figures['texts']} SciFact {what} ({usable_cores()} usable cores)")
    for column in ("variant", "device", "dim", f"{args.texts}/s", "× baseline", "CPU s/1000", "× in CPU"):
        table.add_column(column, justify="left" if column in ("variant", "device") else "right", no_wrap=True)
    if args.quality:
        table.add_column("nDCG@10", justify="right")
        table.add_column("Δ nDCG@10", justify="right")
    for r in results:
        row = [
            r.variant,
            r.device,
            str(r.dim),
            f"{r.texts_per_s:.1f}",
            f"{r.texts_per_s / base.texts_per_s:.2f}" if base else "-",
            f"{r.cpu_s_per_1000:.0f}",
            f"{base.cpu_s_per_1000 / r.cpu_s_per_1000:.2f}" if base and r.cpu_s_per_1000 else "-",
        ]
        if args.quality:
            change = figures["variants"][r.variant]["ndcg10_change"]
            row += [
                f"{r.ndcg10:.4f}" if r.ndcg10 is not None else "-",
                f"{change:+.4f}" if change is not None else "-",
            ]
        table.add_row(*row)
    console.print(table)
    for r in results:
        rounds = ", ".join(f"{x:.1f}" for x in r.rounds)
        console.print(
            f"  {r.variant}: {r.notes}; loaded in {r.load_seconds:.1f} s; rounds {rounds} {args.texts}/s"
        )
    console.print(
        f"Load average {figures['load_average_before']} before, {figures['load_average_after']} after "
        f"on {usable_cores()} cores: other processes take their share of the wall-clock figures."
    )
    default = by_name.get(DEFAULT)
    if base and default:
        speedup = default.texts_per_s / base.texts_per_s
        cpu_speedup = base.cpu_s_per_1000 / default.cpu_s_per_1000 if default.cpu_s_per_1000 else 0.0
        verdict = "meets" if speedup >= TARGET_SPEEDUP else "misses"
        console.print(
            f"{DEFAULT} is {speedup:.2f}× {BASELINE} in {args.texts}/s ({cpu_speedup:.2f}× in CPU time): "
            f"{verdict} the {TARGET_SPEEDUP:.0f}× target."
        )
        if default.ndcg10 is not None and base.ndcg10 is not None:
            change = default.ndcg10 - base.ndcg10
            verdict = "within" if -change <= TARGET_NDCG_LOSS else "beyond"
            console.print(
                f"{DEFAULT} changes nDCG@10 by {change:+.4f} against {BASELINE} ({base.ndcg10:.4f}): "
                f"{verdict} the {TARGET_NDCG_LOSS} budget for a loss. Published MTEB figure: {MTEB_NDCG10}."
            )


if __name__ == "__main__":
    main()
