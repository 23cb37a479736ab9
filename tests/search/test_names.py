"""Author names typed without ``author:``: the forms a name is found under, and finding them in a query."""

from __future__ import annotations

import numpy as np

from dailypapers.search.names import display_name, find_names, name_forms, without_names


def test_forms_of_a_name_with_a_particle() -> None:
    assert name_forms("Adrian Del Maestro") == {
        "adrian del maestro",
        "del maestro adrian",
        "a del maestro",
        "del maestro",
        "maestro",
    }


def test_forms_are_folded_and_drop_suffixes() -> None:
    assert {"paul erdos", "erdos", "p erdos"} <= name_forms("Paul Erdős")
    assert {"lukasz kaiser", "kaiser"} <= name_forms("Łukasz Kaiser")
    assert "king" in name_forms("Martin Luther King Jr.") and "jr" not in name_forms("Martin Luther King Jr.")


class Papers:
    """Papers by form, as a built index answers (rows of each name form)."""

    def __init__(self, authors: dict[int, list[str]]) -> None:
        self.by_form: dict[str, list[int]] = {}
        for row, names in authors.items():
            for name in names:
                for form in name_forms(name):
                    self.by_form.setdefault(form, []).append(row)

    def papers(self, form: str) -> np.ndarray:
        return np.asarray(sorted(set(self.by_form.get(form, []))), dtype=np.int64)


PAPERS = Papers({0: ["Adrian Del Maestro", "Ian Affleck"], 1: ["A. Del Maestro"], 2: ["Xin Long"]})


def test_a_name_is_found_longest_first_and_the_topic_remains() -> None:
    names = find_names("helium Adrian del Maestro nanopores", PAPERS, is_name_word=lambda word: True)
    assert [(n.typed, n.form, n.rows.tolist()) for n in names] == [
        ("Adrian del Maestro", "adrian del maestro", [0])
    ]
    assert without_names("helium Adrian del Maestro nanopores", names) == "helium nanopores"


def test_initials_and_surname_forms() -> None:
    assert [n.rows.tolist() for n in find_names("A. Del Maestro", PAPERS, is_name_word=bool)] == [[0, 1]]
    assert [n.form for n in find_names("affleck", PAPERS, is_name_word=bool)] == ["affleck"]


def test_a_one_word_name_that_is_mostly_a_word_is_a_topic() -> None:
    assert find_names("long context", PAPERS, is_name_word=lambda word: word != "long") == []


def test_the_name_shown_is_the_fullest_spelling_of_one_person() -> None:
    assert display_name("del maestro", [["Adrian Del Maestro"], ["A. Del Maestro"]]) == "Adrian Del Maestro"
    assert display_name("xu", [["Jiawei Xu"], ["Jun Xu"]]) is None
