"""WordLlama: a static model (one 256-d vector per token, averaged), fast enough for any corpus on a laptop.

Its weights ship inside the ``wordllama`` package; loading them from the package's own folder with downloads
disabled keeps it offline (the library would otherwise look in ``~/.cache`` and then on the Hub).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import wordllama

from dailypapers.errors import ConfigurationError
from dailypapers.search.embedders import Progress
from dailypapers.search.embedders.batching import length_sorted_batches, unit_rows, windows

CONFIG = "l2_supercat"
DIM = 256
MAX_TOKENS = 4096
"""A bag of token vectors has no length limit, but a batch costs ``batch × longest text × 256`` floats:
without a cap one 10 MB text would need gigabytes. Abstracts are far shorter."""


class WordLlamaEmbedder:
    def __init__(self, *, batch_size: int = 64) -> None:
        package_dir = Path(wordllama.__file__).resolve().parent
        try:
            self._model = wordllama.WordLlama.load(
                config=CONFIG, dim=DIM, cache_dir=package_dir, disable_download=True
            )
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"the wordllama package has no {CONFIG} weights in {package_dir}: "
                "reinstall it with pip install --force-reinstall wordllama"
            ) from exc
        self._model.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.key = f"wordllama-{CONFIG}-{DIM}:static"
        self.dim = DIM
        self.max_tokens: int | None = MAX_TOKENS
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        total = len(texts)
        vectors = np.empty((total, self.dim), dtype=np.float32)
        done = 0
        for window in windows(total, self.batch_size):
            # Character length is a good enough proxy for token length to keep padding small.
            lengths = [len(texts[i]) for i in window]
            for batch in length_sorted_batches(lengths, self.batch_size):
                vectors[window.start + batch] = self._model.embed(
                    [texts[window.start + i] for i in batch], norm=False, batch_size=len(batch)
                )
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        # A text with no tokens (an empty string) has the zero vector; wordllama's own norm=True makes it NaN.
        return unit_rows(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_documents([text])[0])

    def __repr__(self) -> str:
        return f"WordLlamaEmbedder(key={self.key!r})"
