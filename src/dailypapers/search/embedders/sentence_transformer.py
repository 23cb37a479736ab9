"""Any local sentence-transformers model, run by PyTorch: the reference the ONNX embedder is checked against,
and the way to use a model of one's own (``DAILYPAPERS_EMBEDDER=/path/to/model``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from dailypapers.errors import ConfigurationError
from dailypapers.search.embedders import Progress, usable_cores
from dailypapers.search.embedders.batching import unit_rows

_PROGRESS_STEP_BATCHES = 16
"""Texts go to ``encode`` in slices of this many batches, so that progress can be reported between them."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model folder, loaded from disk only (never from the Hugging Face Hub)."""

    def __init__(
        self,
        model_path: Path,
        *,
        key: str,
        device: str = "cpu",
        threads: int = 0,
        batch_size: int = 32,
    ) -> None:
        if device not in ("cpu", "cuda"):
            raise ConfigurationError(f"unknown device {device!r}: use cpu or cuda")
        if device == "cuda" and not torch.cuda.is_available():
            raise ConfigurationError("device cuda was asked for, but PyTorch sees no CUDA GPU: use cpu")
        if not Path(model_path).is_dir():
            raise ConfigurationError(f"embedder folder {model_path} does not exist")
        self.key = key
        self.device = device
        self.batch_size = batch_size
        if device == "cpu":
            # PyTorch's thread count is per process; it is set only when asked, or when its default
            # (every core of the machine) exceeds the cores this process may use.
            wanted = threads or usable_cores()
            if threads or torch.get_num_threads() > wanted:
                torch.set_num_threads(wanted)
        # transformers draws a tqdm bar of its own while loading the weights, which breaks into the
        # CLI's Rich progress and the server's log; the load takes well under a second anyway.
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self.model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
        if hasattr(self.model, "get_embedding_dimension"):  # sentence-transformers 6 renamed it
            dim = self.model.get_embedding_dimension()
        else:
            dim = self.model.get_sentence_embedding_dimension()
        if not dim:
            raise ConfigurationError(f"{model_path} does not give the size of its vectors")
        self.dim = int(dim)
        max_tokens = self.model.max_seq_length
        self.max_tokens: int | None = int(max_tokens) if max_tokens else None

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        total = len(texts)
        vectors = np.empty((total, self.dim), dtype=np.float32)
        step = self.batch_size * _PROGRESS_STEP_BATCHES
        for start in range(0, total, step):
            chunk = list(texts[start : start + step])
            vectors[start : start + len(chunk)] = self.model.encode(
                chunk, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
            )
            if progress is not None:
                progress(start + len(chunk), total)
        return unit_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_documents([text])[0])

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(key={self.key!r}, device={self.device!r})"
