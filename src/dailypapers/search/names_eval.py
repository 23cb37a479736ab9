"""How well plain author-name queries find the person's papers: a query set built from the papers held.

For each of the people with the most papers, and each person whose name has letters beyond ASCII, the
set asks for them the ways people type a name: in full as the papers spell it ("Adrian Del Maestro"),
by surname alone ("Del Maestro", only where no one else here has that surname), by initial and surname
("A. Del Maestro") and, for names with accents, without them ("Paul Erdos"). A query's relevant papers
are those of that person (any spelling of the same full name), and the measure is MRR@10: one over the
rank of the first of them, 0 when none is in the top 10. ``bench/search.py --authors`` prints it for
an installation, and the tests assert it on the demo papers.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dailypapers.search.names import name_words, same_person, split_name
from dailypapers.search.service import Mode, SearchService

_WORD = re.compile(r"[^\W_]+")
TOP_PEOPLE = 20
ACCENTED_PEOPLE = 10


@dataclass(frozen=True)
class AuthorQuery:
    text: str
    kind: str  # full, surname, initials or unaccented
    person: str
    relevant: frozenset[str]


def _people(papers: Iterable[tuple[str, Sequence[str]]]) -> dict[str, tuple[str, set[str]]]:
    """Folded full name -> (its fullest spelling, the ids of its papers), spellings of one person merged.

    "A. Del Maestro" and "Adrian Del Maestro" are one person when no one else here has that surname.
    """
    spellings: dict[str, tuple[str, set[str]]] = {}
    for paper_id, authors in papers:
        for author in authors:
            if len(name_words(author)) >= 2:  # one-word names are not people to look up by surname
                spellings.setdefault(" ".join(name_words(author)), (author.strip(), set()))[1].add(paper_id)
    by_surname: dict[str, list[str]] = defaultdict(list)
    for key in spellings:
        by_surname[_surname(key)].append(key)
    people: dict[str, tuple[str, set[str]]] = {}
    for keys in by_surname.values():
        fullest = max(keys, key=lambda key: (len(key.split()), len(key), key))
        if all(same_person(spellings[key][0], spellings[fullest][0]) for key in keys):
            people[fullest] = (spellings[fullest][0], set().union(*(spellings[key][1] for key in keys)))
        else:
            people.update((key, spellings[key]) for key in keys)
    return people


def _surname(key: str) -> str:
    return " ".join(split_name(key.split())[1])


def author_queries(
    papers: Iterable[tuple[str, Sequence[str]]],
    *,
    top: int = TOP_PEOPLE,
    accented: int = ACCENTED_PEOPLE,
) -> list[AuthorQuery]:
    """The query set for these papers ((id, authors) pairs), in a fixed order."""
    people = _people(papers)
    surnames: dict[str, int] = defaultdict(int)
    for key in people:
        surnames[_surname(key)] += 1
    ranked = sorted(people, key=lambda key: (-len(people[key][1]), key))
    chosen = ranked[:top] + [key for key in sorted(people) if not people[key][0].isascii()][:accented]
    queries: list[AuthorQuery] = []
    for key in dict.fromkeys(chosen):
        spelling, ids = people[key]
        unique = surnames[_surname(key)] == 1
        queries.extend(_queries_for(key, spelling, frozenset(ids), unique_surname=unique))
    return queries


def _queries_for(key: str, spelling: str, ids: frozenset[str], *, unique_surname: bool) -> list[AuthorQuery]:
    """The ways to type one person's name, cased as the papers spell it."""
    typed = _WORD.findall(spelling)
    if len(typed) < len(key.split()):
        typed = key.split()
    typed = typed[: len(key.split())]  # without Jr. and the like
    given_count = len(split_name(key.split())[0])
    given, surname = typed[:given_count], typed[given_count:]
    found = [AuthorQuery(spelling, "full", spelling, ids)]
    if unique_surname:
        found.append(AuthorQuery(" ".join(surname), "surname", spelling, ids))
    if given:
        found.append(AuthorQuery(f"{given[0][0].upper()}. {' '.join(surname)}", "initials", spelling, ids))
    if not spelling.isascii():
        found.append(AuthorQuery(_without_accents(spelling), "unaccented", spelling, ids))
    return found


def _without_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def author_mrr(
    service: SearchService, queries: Sequence[AuthorQuery], *, mode: Mode | str = Mode.hybrid, k: int = 10
) -> dict[str, Any]:
    """MRR@k of "a paper by that person comes first", over all queries and per kind, and the misses."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    misses: list[dict[str, Any]] = []
    for query in queries:
        hits = [hit.id for hit in service.search(query.text, k=k, mode=mode).hits]
        rank = next((place for place, paper in enumerate(hits, 1) if paper in query.relevant), None)
        by_kind[query.kind].append(1.0 / rank if rank else 0.0)
        if rank != 1:
            misses.append({"query": query.text, "kind": query.kind, "rank": rank})
    every = [value for values in by_kind.values() for value in values]
    return {
        "mode": str(Mode(mode).value),
        "queries": len(every),
        "mrr@10": round(sum(every) / max(len(every), 1), 4),
        "by_kind": {
            kind: {"queries": len(values), "mrr@10": round(sum(values) / len(values), 4)}
            for kind, values in sorted(by_kind.items())
        },
        "misses": misses,
    }


__all__ = ["AuthorQuery", "author_mrr", "author_queries"]
