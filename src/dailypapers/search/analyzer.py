"""Text analysis for keyword search: the same steps for documents and queries.

1. LaTeX: accents and text symbols become their letters (``Fr\\'echet`` -> ``Fréchet``, with the ingest's
   own converter, for queries typed in LaTeX and for data ingested before it), Greek letters become
   words (``$\\alpha$-synuclein`` -> ``alpha synuclein``), every other command name is dropped and its
   argument kept (``\\mathrm{CO}_2`` -> ``co 2``);
2. Unicode folding: NFKD and accents removed (``Röglin`` -> ``roglin``, ``Erdős`` -> ``erdos``), then the
   Latin letters that have no decomposition spelled in ASCII as anyascii spells them (``Łukasz`` ->
   ``lukasz``, ``Søren`` -> ``soren``, ``Æ`` -> ``ae``), case folded;
3. terms are runs of at least two letters or digits;
4. English stop words (Lucene's list) are dropped;
5. Snowball English stemming (PyStemmer, in C).

The stop-word list is deliberately short, because a long list hurts short scientific queries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from dailypapers.ingest.latex import latex_text

# Part of every index manifest: a change rebuilds the keyword index (the vectors are kept), and an index
# made by another version is refused until then (see ``index.check_analyzer``).
ANALYZER_VERSION = 3

GREEK = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho
    sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega""".split()
)

# Lucene's English stop words: the list the tuned parameters and the published baselines assume.
STOP_WORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then there these
    they this to was will with""".split()
)

_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
_TOKEN = re.compile(r"[^\W_]+")
_TERM = re.compile(r"[^\W_]{2,}")  # index terms: one-character tokens carry no meaning on their own


def _latex_words(match: re.Match[str]) -> str:
    name = match.group(1)
    return f" {name} " if name in GREEK else " "


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each non-ASCII character once and remembers it.

    Only Latin letters are transliterated: Greek, Cyrillic or CJK words stay in their own script, where
    a romanisation would match unrelated words.
    """

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(_ascii_latin(ch) for ch in decomposed if not unicodedata.combining(ch))
        self[code] = folded
        return folded


def _ascii_latin(ch: str) -> str:
    """``ø`` -> ``o``, ``ł`` -> ``l``, ``þ`` -> ``th``: letters that NFKD leaves alone; others unchanged."""
    if ch.isascii() or not _is_latin_letter(ch):
        return ch
    from anyascii import anyascii

    return anyascii(ch) or ch


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """LaTeX commands out, accents off, case folded: the form tokens and phrases are matched in."""
    if "\\" in text:
        text = _LATEX_COMMAND.sub(_latex_words, latex_text(text))
    if not text.isascii():
        text = text.translate(_FOLD)
    return text.casefold()


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Folded tokens, stop words included (used for phrases)."""
    return _TOKEN.findall(fold(text))


def analyze(text: str) -> list[str]:
    """Index terms of a text: folded, stop words removed, stemmed."""
    tokens = [t for t in _TERM.findall(fold(text)) if t not in STOP_WORDS]
    return list(_stemmer().stemWords(tokens)) if tokens else []


def analyze_many(texts: Iterable[str]) -> list[list[str]]:
    return [analyze(text) for text in texts]
