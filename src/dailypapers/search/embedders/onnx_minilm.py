"""The default embedder: all-MiniLM-L6-v2 as an int8 ONNX model, run by onnxruntime.

It reproduces sentence-transformers' vectors for the model (the same tokenizer, truncation to the model's
256 tokens, mean pooling over real tokens, unit length) to a cosine of 0.99 or more, at 1.5 to 2 times the
speed of PyTorch on two cores. Activations are quantised with one scale per batch, so a text's vector
moves a little (cosine ≥ 0.99) with the texts it is batched with. ``bench/embed.py`` measures all of this
and says where the time goes; in short:

* the graph is fused and its weights quantised to int8 per channel (see ``onnx_export``);
* texts are batched by token length, so little work goes into padding;
* only onnxruntime's threads compute, one per usable core, and they sleep rather than spin between batches,
  since spinning threads take the cores from the tokenizer and from the next batch's preparation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from dailypapers.errors import ConfigurationError
from dailypapers.search.embedders import MINILM_NAME, Progress, packaged_minilm_dir, usable_cores
from dailypapers.search.embedders.batching import length_sorted_batches, unit_rows, windows
from dailypapers.search.embedders.onnx_export import (
    INPUT_NAMES,
    QUANTIZATIONS,
    OnnxExport,
    Quantization,
    ensure_onnx_export,
    model_checksum,
)


class OnnxMiniLMEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime; exported on first use into ``cache_dir``."""

    def __init__(
        self,
        *,
        cache_dir: Path,
        model_dir: Path | None = None,
        quantization: Quantization = "int8",
        threads: int = 0,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        if device not in ("cpu", "cuda"):
            raise ConfigurationError(f"unknown device {device!r}: use cpu or cuda")
        if device == "cuda" and "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ConfigurationError(
                "device cuda needs onnxruntime-gpu (pip install onnxruntime-gpu in place of onnxruntime)"
            )
        if quantization not in QUANTIZATIONS:
            raise ConfigurationError(
                f"unknown quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}"
            )
        if batch_size < 1:
            raise ConfigurationError(f"batch size must be at least 1, not {batch_size}")
        self.model_dir = model_dir or packaged_minilm_dir()
        self.quantization = quantization
        self.key = f"{MINILM_NAME}:onnx-{quantization}"
        self.batch_size = batch_size
        self.threads = threads or usable_cores()
        self.dim = int(_read_json(self.model_dir / "config.json")["hidden_size"])
        self.max_tokens: int | None = int(
            _read_json(self.model_dir / "sentence_bert_config.json").get("max_seq_length", 256)
        )
        self.export: OnnxExport = ensure_onnx_export(
            self.model_dir,
            cache_dir / f"{MINILM_NAME}-onnx-{quantization}",
            quantization=quantization,
            key=self.key,
            source_checksum=model_checksum(self.model_dir),
        )
        self._tokenizer = _tokenizer(self.model_dir / "tokenizer.json", self.max_tokens)
        self.device = device
        self._session = _session(self.export.model_path, threads=self.threads, device=device)

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        total = len(texts)
        vectors = np.empty((total, self.dim), dtype=np.float32)
        done = 0
        for window in windows(total, self.batch_size):
            encodings = self._tokenizer.encode_batch([texts[i] for i in window])
            lengths = [len(encoding.ids) for encoding in encodings]
            for batch in length_sorted_batches(lengths, self.batch_size):
                vectors[window.start + batch] = self._run([encodings[i] for i in batch])
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        return unit_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_documents([text])[0])

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        width = max(len(encoding.ids) for encoding in encodings)
        input_ids = np.zeros((len(encodings), width), dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        feed = dict(zip(INPUT_NAMES, (input_ids, attention_mask, np.zeros_like(input_ids)), strict=True))
        (pooled,) = self._session.run(None, feed)
        return np.asarray(pooled, dtype=np.float32)

    def __repr__(self) -> str:
        return f"OnnxMiniLMEmbedder(key={self.key!r}, threads={self.threads}, batch_size={self.batch_size})"


def _tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    # The model's tokenizer.json pads every text to 128 tokens and truncates there; sentence-transformers
    # overrides both (no fixed padding, 256 tokens), and so must we to get its vectors.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def _session(model_path: Path, *, threads: int, device: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning workers keep their cores busy between runs, starving the tokenizer and the Python code that
    # prepares the next batch; on few cores that costs more than waking them up.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
    )
    return ort.InferenceSession(str(model_path), sess_options=options, providers=providers)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"{path.parent} is not a complete model folder: {path.name} is missing"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} does not hold a JSON object")
    return data
