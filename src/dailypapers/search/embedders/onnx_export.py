"""Exporting a sentence-transformers BERT model to ONNX once, and keeping the result.

The steps, each chosen by measurement on two CPU cores (``bench/embed.py``):

1. ``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``). The newer exporter needs the
   ``onnxscript`` package, which nothing else here uses; the TorchScript one is still in torch 2.13 and its
   graph is one that onnxruntime's BERT fusions recognise. Mean pooling over the attention mask is part of the
   graph, so a batch returns ``(batch, dim)`` rather than every token's vector.
2. onnxruntime's transformer optimiser fuses each layer's attention, skip + layer norm and bias + GELU into
   single kernels (5 to 10 % less CPU time).
3. Dynamic int8 quantisation of the weight matrices with one scale per output channel: the matrix products
   take a quarter of their float32 time. One scale per matrix (per tensor) is as fast but costs 0.009
   nDCG@10 on SciFact (0.637 against 0.645); per channel stays within 0.002 of float32.

The result lives in a cache folder with a manifest holding the source model's checksum. Folders are built
under a temporary name and renamed into place, so a crash or a concurrent export never leaves a half-written
model where a reader would load it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dailypapers.errors import ConfigurationError

Quantization = Literal["int8", "int8-per-tensor", "fp32"]
QUANTIZATIONS: tuple[Quantization, ...] = ("int8", "int8-per-tensor", "fp32")

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"

# Files that only describe a model folder; editing them does not change the vectors.
_NOT_MODEL_FILES = frozenset({"README.md", "data_config.json"})

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxExport:
    """An exported model in the cache."""

    folder: Path
    manifest: dict[str, Any]
    exported: bool
    """True when this call wrote the folder, False when it reused one."""

    @property
    def model_path(self) -> Path:
        return self.folder / MODEL_FILE


def model_checksum(model_dir: Path) -> str:
    """SHA-256 over the names and contents of the files that make up a model folder."""
    digest = hashlib.sha256()
    files = sorted(
        p
        for p in model_dir.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(model_dir).parts)
        and p.name not in _NOT_MODEL_FILES
    )
    for path in files:
        digest.update(path.relative_to(model_dir).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def cached_export(folder: Path, *, source_checksum: str, quantization: Quantization) -> OnnxExport | None:
    """The export in ``folder`` if it was made from this very model with these settings, else None."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT_VERSION
        or manifest.get("source_checksum") != source_checksum
        or manifest.get("quantization") != quantization
        or not (folder / MODEL_FILE).is_file()
    ):
        return None
    return OnnxExport(folder=folder, manifest=manifest, exported=False)


def ensure_onnx_export(
    model_dir: Path, folder: Path, *, quantization: Quantization, key: str, source_checksum: str | None = None
) -> OnnxExport:
    """The ONNX export of ``model_dir`` in ``folder``: reused when current, (re)built otherwise."""
    checksum = source_checksum or model_checksum(model_dir)
    found = cached_export(folder, source_checksum=checksum, quantization=quantization)
    if found is not None:
        return found
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is as readable as the rest of the data dir
    try:
        started = time.perf_counter()
        _log.info("exporting %s to ONNX (%s) in %s", model_dir, quantization, folder)
        export_onnx(model_dir, staging / MODEL_FILE, quantization=quantization)
        manifest = {
            "format": FORMAT_VERSION,
            "key": key,
            "source": str(model_dir),
            "source_checksum": checksum,
            "quantization": quantization,
            "versions": _versions(),
            "export_seconds": round(time.perf_counter() - started, 1),
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return _publish(staging, folder, manifest, source_checksum=checksum, quantization=quantization)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(
    staging: Path, folder: Path, manifest: dict[str, Any], *, source_checksum: str, quantization: Quantization
) -> OnnxExport:
    """Moves a finished export into place, replacing a stale one; another process may win the race."""
    stale: Path | None = None
    if folder.exists():
        stale = folder.with_name(f".{folder.name}.{os.getpid()}.{time.monotonic_ns()}.stale")
        try:
            folder.rename(stale)
        except FileNotFoundError:
            stale = None  # someone else moved it away first
    try:
        staging.rename(folder)
    except OSError:
        # A concurrent export put its folder there between our two renames: use it if it is current.
        winner = cached_export(folder, source_checksum=source_checksum, quantization=quantization)
        if winner is None:
            raise
        return winner
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)
    return OnnxExport(folder=folder, manifest=manifest, exported=True)


def export_onnx(model_dir: Path, target: Path, *, quantization: Quantization) -> None:
    """Writes ``target``: the model of ``model_dir`` with mean pooling, fused, quantised as asked."""
    pooling = _read_json(model_dir / "1_Pooling" / "config.json")
    if pooling and not pooling.get("pooling_mode_mean_tokens", False):
        raise ConfigurationError(
            f"{model_dir} pools with {pooling}; only mean pooling can be exported to ONNX here: "
            "use the model folder path as DAILYPAPERS_EMBEDDER to run it through sentence-transformers"
        )
    config = _read_json(model_dir / "config.json")
    work = target.parent
    raw = work / "raw.onnx"
    fused = work / "fused.onnx"
    _export_torchscript(model_dir, raw)
    _fuse_bert(
        raw, fused, num_heads=int(config["num_attention_heads"]), hidden_size=int(config["hidden_size"])
    )
    raw.unlink()
    if quantization == "fp32":
        fused.rename(target)
        return
    _quantize(fused, target, per_channel=quantization == "int8")
    fused.unlink()


def _export_torchscript(model_dir: Path, target: Path) -> Any:
    """Exports the model with mean pooling to ``target``; returns the PyTorch module that was exported."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    # Its bar would garble the CLI's Rich progress (the export takes seconds anyway).
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # Eager attention traces to plain MatMul/Softmax, the pattern the attention fusion looks for.
    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    bert.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            tokens = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled: torch.Tensor = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return pooled

    model = MeanPooled().eval()
    example = torch.ones((2, 16), dtype=torch.int64)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one (see the module docstring);
        # tracing warnings about Python booleans concern code paths this fixed-architecture model never takes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example, example, torch.zeros_like(example)),
            str(target),
            dynamo=False,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes={**dynamic, OUTPUT_NAME: {0: "batch"}},
            opset_version=17,
        )
    return model


def _fuse_bert(source: Path, target: Path, *, num_heads: int, hidden_size: int) -> None:
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(
        str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
    )
    optimized.save_model_to_file(str(target))


def _check_same_vectors(reference: Any, exported: Path, *, vocab_size: int) -> None:
    """Compares the unquantised graph with PyTorch on a padded batch, so a tracing or fusion fault that
    froze a shape or dropped the mask fails the export instead of silently degrading search."""
    import numpy as np
    import onnxruntime as ort
    import torch

    generator = np.random.default_rng(0)
    lengths = [5, 37, 64]
    input_ids = np.zeros((len(lengths), max(lengths)), dtype=np.int64)
    attention_mask = np.zeros_like(input_ids)
    for row, length in enumerate(lengths):
        input_ids[row, :length] = generator.integers(1000, vocab_size, size=length)
        attention_mask[row, :length] = 1
    token_type_ids = np.zeros_like(input_ids)
    with torch.no_grad():
        expected = reference(
            *(torch.from_numpy(a) for a in (input_ids, attention_mask, token_type_ids))
        ).numpy()
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    (got,) = session.run(
        None, dict(zip(INPUT_NAMES, (input_ids, attention_mask, token_type_ids), strict=True))
    )
    error = float(np.abs(got - expected).max() / max(float(np.abs(expected).max()), 1e-6))
    if not error < 1e-3:
        raise RuntimeError(f"the ONNX export of the model differs from PyTorch (relative error {error:.2g})")


def _quantize(source: Path, target: Path, *, per_channel: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_preprocessing_hint():
        quantize_dynamic(
            str(source),
            str(target),
            per_channel=per_channel,
            weight_type=QuantType.QInt8,
            # The fused operators come from onnxruntime's own domain, which ONNX shape inference cannot type;
            # their outputs are float32, which is what this tells the quantiser.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


class _DropPreprocessingHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")


@contextmanager
def _without_preprocessing_hint() -> Iterator[None]:
    # quantize_dynamic warns on the root logger unless its own pre-processing ran first; that step re-does
    # the graph optimisation already done by the fusion and takes longer than the quantisation itself.
    hint_filter = _DropPreprocessingHint()
    root = logging.getLogger()
    root.addFilter(hint_filter)
    try:
        yield
    finally:
        root.removeFilter(hint_filter)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _versions() -> dict[str, str]:
    import onnxruntime
    import torch

    return {"torch": str(torch.__version__), "onnxruntime": str(onnxruntime.__version__)}
