"""Author names in plain queries: "Jiawei Xu", "Del Maestro", "A. Del Maestro", "erdos".

People type a name into the search box as often as a topic, without ``author:``. Ranking alone does
not find the person: a name is two short words among a paper's many, and its vector means nothing to
the embedding model. So every author's name is indexed under the forms people type, and a query is
checked for them before it is ranked (see ``service.py``: the person's papers come first).

The forms of "Adrian Del Maestro", folded like all text (``Erdős`` is ``erdos``): the full name
``adrian del maestro``, the surname first ``del maestro adrian`` (as Chinese and Hungarian names are often
written), the initial and surname ``a del maestro``, the surname ``del maestro``, and the surname's last
word ``maestro`` where a particle (del, van, de la...) comes before it. A name is recognised in a query
as a run of consecutive words equal to one of these forms, longest first.

A form of one word is also an ordinary word in many cases (Long, Green, Bell), so a one-word form counts
only when most papers that contain that word have it in an author's name; "long context" stays a topic.

Forms are stored as 64-bit hashes, sorted, with the rows of each form's papers beside them (three
``.npy`` files, memory-mapped): at a million papers there are millions of distinct names, which as
strings in a dictionary would cost the search process hundreds of MB.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from dailypapers.search.analyzer import fold

# Lower-case words that belong to the surname that follows them.
PARTICLES = frozenset(
    "al bin da das de degli dei del della der di do dos du el la le los van vander von ten ter zu".split()
)
SUFFIXES = frozenset("jr sr ii iii iv".split())
MAX_NAME_WORDS = 6  # longest run of query words tried as a name
_WORD = re.compile(r"[^\W_]+")
_FILES = ("names_keys.npy", "names_ptr.npy", "names_rows.npy")


class PapersByName(Protocol):
    """What :func:`find_names` looks names up in (a :class:`NameIndex`)."""

    def papers(self, form: str) -> np.ndarray: ...


NameWordCheck = Callable[[str], bool]
"""Whether a one-word form is mostly a name in this corpus (see the module docstring)."""


def name_words(name: str) -> list[str]:
    """The folded words of a name, without suffixes such as Jr. (``"Erdős, Jr."`` -> ``["erdos"]``)."""
    tokens = _WORD.findall(fold(name))
    while len(tokens) > 1 and tokens[-1] in SUFFIXES:
        tokens.pop()
    return tokens


def split_name(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(given names, surname): the surname is the last word and the particles just before it."""
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1] in PARTICLES:
        start -= 1
    return tokens[:start], tokens[start:]


@lru_cache(maxsize=65536)
def name_forms(name: str) -> frozenset[str]:
    """Every form (folded words joined by spaces) under which an author of this name is found."""
    tokens = name_words(name)
    if not tokens:
        return frozenset()
    given, surname = split_name(tokens)
    forms = {" ".join(tokens), " ".join(surname)}
    if given:
        forms.add(" ".join(surname + given))
        forms.add(" ".join([given[0][0], *surname]))
        forms.add(" ".join([*(g[0] for g in given), *surname]))
    if len(surname) > 1:
        forms.add(surname[-1])
    return frozenset(f for f in forms if len(f) > 1)


def form_hash(form: str) -> int:
    """A form's 64-bit key (collisions among millions of names are vanishingly rare)."""
    return int.from_bytes(hashlib.blake2b(form.encode(), digest_size=8).digest(), "little", signed=True)


@lru_cache(maxsize=65536)
def name_hashes(name: str) -> tuple[int, ...]:
    return tuple(form_hash(form) for form in name_forms(name))


class NameIndexWriter:
    """Collects (form, paper row) pairs while papers are read, in compact arrays."""

    def __init__(self) -> None:
        self._keys = array("q")
        self._rows = array("i")

    def add(self, row: int, authors: Iterable[str]) -> None:
        keys = {key for author in authors for key in name_hashes(author)}
        self._keys.extend(keys)
        self._rows.extend([row] * len(keys))

    def write(self, folder: Path) -> None:
        keys = np.frombuffer(self._keys, dtype=np.int64) if self._keys else np.zeros(0, np.int64)
        rows = np.frombuffer(self._rows, dtype=np.int32) if self._rows else np.zeros(0, np.int32)
        order = np.lexsort((rows, keys))
        keys, rows = keys[order], rows[order]
        unique, starts = np.unique(keys, return_index=True)
        ptr = np.append(starts, len(keys)).astype(np.int64)
        arrays: tuple[np.ndarray, ...] = (unique, ptr, rows)
        for name, values in zip(_FILES, arrays, strict=True):
            np.save(folder / name, values)
        self._keys, self._rows = array("q"), array("i")


class NameIndex:
    """The papers of each name form: a binary search over the sorted hashes."""

    def __init__(self, folder: Path) -> None:
        self.keys, self.ptr, self.rows = (np.load(folder / name, mmap_mode="r") for name in _FILES)

    def papers(self, form: str) -> np.ndarray:
        """Rows of the papers with an author found under ``form`` (sorted), or an empty array."""
        key = form_hash(form)
        i = int(np.searchsorted(self.keys, key))
        if i >= len(self.keys) or int(self.keys[i]) != key:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.rows[self.ptr[i] : self.ptr[i + 1]], dtype=np.int64)


@dataclass(frozen=True)
class QueryWord:
    folded: str
    start: int
    end: int


@dataclass(frozen=True)
class NameInQuery:
    """A name found in a query: the words as typed, their folded form and the rows of its papers."""

    typed: str
    form: str
    rows: np.ndarray
    start: int
    end: int


def query_words(text: str) -> list[QueryWord]:
    """The folded words of a query with where each stands in the text (to cut a name out of it)."""
    found = []
    for match in _WORD.finditer(text):
        for folded in _WORD.findall(fold(match.group(0))):
            found.append(QueryWord(folded, match.start(), match.end()))
    return found


def find_names(text: str, papers: PapersByName, *, is_name_word: NameWordCheck) -> list[NameInQuery]:
    """Names in ``text``, longest first and not overlapping, each with the rows of its papers."""
    tokens = query_words(text)
    taken = [False] * len(tokens)
    found: list[NameInQuery] = []
    for length in range(min(MAX_NAME_WORDS, len(tokens)), 0, -1):
        for first in range(len(tokens) - length + 1):
            span = range(first, first + length)
            if any(taken[i] for i in span):
                continue
            form = " ".join(tokens[i].folded for i in span)
            rows = papers.papers(form) if len(form) > 1 else np.zeros(0, dtype=np.int64)
            if len(rows) == 0 or (length == 1 and not is_name_word(form)):
                continue
            start, end = tokens[first].start, tokens[first + length - 1].end
            found.append(NameInQuery(text[start:end], form, rows, start, end))
            for i in span:
                taken[i] = True
    return sorted(found, key=lambda name: name.start)


def without_names(text: str, names: Sequence[NameInQuery]) -> str:
    """The query with the names cut out: the topic words that rank the person's papers."""
    pieces, position = [], 0
    for name in sorted(names, key=lambda n: n.start):
        pieces.append(text[position : name.start])
        position = name.end
    pieces.append(text[position:])
    return " ".join("".join(pieces).split())


def display_name(form: str, author_lists: Iterable[Sequence[str]]) -> str | None:
    """The author name, as the papers spell it, that ``form`` stands for; None when it is several people.

    Spellings of one person ("A. Del Maestro", "Adrian Del Maestro") give the fullest one.
    """
    key = form_hash(form)
    spellings = {author for authors in author_lists for author in authors if key in name_hashes(author)}
    if not spellings:
        return None
    fullest = max(sorted(spellings), key=lambda s: (len(name_words(s)), len(s)))
    return fullest if all(same_person(s, fullest) for s in spellings) else None


def same_person(spelling: str, fullest: str) -> bool:
    """Same surname, and each given name the same as the fullest spelling's or its initial."""
    given, surname = split_name(name_words(spelling))
    full_given, full_surname = split_name(name_words(fullest))
    if surname != full_surname or len(given) > len(full_given):
        return False
    return all(full.startswith(part) for part, full in zip(given, full_given, strict=False))
