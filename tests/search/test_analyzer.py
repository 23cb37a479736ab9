"""The analyzer turns text into the terms keyword search matches."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dailypapers.search.analyzer import analyze, fold, words


def test_stemming_and_stop_words() -> None:
    assert analyze("The networks are learning") == ["network", "learn"]


def test_latex_commands_are_stripped_and_greek_kept() -> None:
    assert analyze(r"$\alpha$-synuclein in \mathrm{CO}_2 and \emph{mice}") == [
        "alpha",
        "synuclein",
        "co",
        "mice",
    ]


def test_unicode_folding() -> None:
    assert fold("Röglin ÅNGSTRÖM ﬁnite") == "roglin angstrom finite"
    assert analyze("Röglin") == analyze("Roglin")


def test_words_keep_stop_words_for_phrases() -> None:
    assert words("The state of the art") == ["the", "state", "of", "the", "art"]


def test_only_stop_words_and_single_characters() -> None:
    assert analyze("the of and to a x 2") == []


@given(st.text(max_size=200))
def test_analyze_never_fails_and_is_stable(text: str) -> None:
    terms = analyze(text)
    assert all(t and t == t.casefold() for t in terms)
    assert analyze(text) == terms


def test_latin_letters_without_a_decomposition_are_spelled_out() -> None:
    assert fold("Łukasz Søren Æsir Þór straße") == "lukasz soren aesir thor strasse"
    assert analyze("Erdős Fréchet") == analyze("erdos frechet") == analyze("ERDOS FRECHET")


def test_other_scripts_are_kept() -> None:
    assert fold("Привет 大模型 α") == "привет 大模型 α"


def test_latex_accents_are_their_letters() -> None:
    assert analyze(r"Fr\'echet and Erd\H{o}s, \L{}ukasz") == analyze("Fréchet and Erdős, Łukasz")
