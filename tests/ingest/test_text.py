"""Text clean-up shared by the parsers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.ingest.text import (
    clean_abstract,
    clean_whitespace,
    code_repositories,
    find_urls,
    latex_to_unicode,
    parse_date,
    parse_datetime,
    project_page,
    split_authors,
)


def test_clean_whitespace_joins_wrapped_lines() -> None:
    assert clean_whitespace(
        "Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies"
    ) == ("Calculation of prompt diphoton production cross sections at Tevatron and LHC energies")
    assert clean_whitespace("\u00a0a\u2003 b\t\r\nc ") == "a b c"


@given(st.text())
def test_clean_whitespace_is_idempotent_and_matches_the_regex_definition(text: str) -> None:
    cleaned = clean_whitespace(text)
    assert clean_whitespace(cleaned) == cleaned
    assert cleaned == re.sub(r"\s+", " ", text).strip()


def test_clean_abstract_keeps_paragraphs_marked_by_indentation() -> None:
    raw = "  Partial cubes are isometric\nsubgraphs of hypercubes.\n  The operations of Cartesian\nproduct.\n"
    assert (
        clean_abstract(raw)
        == "Partial cubes are isometric subgraphs of hypercubes.\n\nThe operations of Cartesian product."
    )


def test_clean_abstract_ignores_indentation_shared_by_every_line() -> None:
    pretty_printed = (
        "  A lot of attention has been\n"
        "                    devoted to indexing.\n"
        "                    We propose MinCq.\n   "
    )
    assert (
        clean_abstract(pretty_printed) == "A lot of attention has been devoted to indexing. We propose MinCq."
    )
    nested = "First line\n    continues here.\n      A new paragraph\n    that wraps.\n"
    assert clean_abstract(nested) == "First line continues here.\n\nA new paragraph that wraps."


def test_clean_abstract_treats_blank_lines_as_paragraph_breaks() -> None:
    assert clean_abstract("One.\r\n\r\nTwo\r\nwraps.") == "One.\n\nTwo wraps."


@given(st.text())
def test_clean_abstract_is_idempotent(text: str) -> None:
    cleaned = clean_abstract(text)
    assert clean_abstract(cleaned) == cleaned


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (r"Bal\'azs", "Balázs"),
        (r"G\"ahler", "Gähler"),
        (r"R{\"o}glin", "Röglin"),
        (r"Fran\c{c}ois", "François"),
        ("Heiko  Röglin", "Heiko Röglin"),
        ("C. -P. Yuan", "C. -P. Yuan"),
    ],
)
def test_latex_accents_in_names_become_unicode(raw: str, name: str) -> None:
    assert latex_to_unicode(raw) == name


def test_split_authors_keeps_order_and_drops_affiliations() -> None:
    assert split_authors("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan") == [
        "C. Balázs",
        "E. L. Berger",
        "P. M. Nadolsky",
        "C.-P. Yuan",
    ]
    assert split_authors("Ileana Streinu and Louis Theran") == ["Ileana Streinu", "Louis Theran"]
    assert split_authors(
        'Peter Brommer and Franz G\\"ahler (Institut f\\"ur Theoretische und\n'
        '  Angewandte Physik, Universit\\"at Stuttgart)'
    ) == ["Peter Brommer", "Franz Gähler"]
    assert split_authors("A. One, B. Two, and C. Three") == ["A. One", "B. Two", "C. Three"]


def test_code_repositories_normalises_and_deduplicates() -> None:
    text = (
        "Code: https://github.com/foo/bar.git and https://github.com/foo/bar/tree/main. "
        "Demo at https://huggingface.co/spaces/org/demo, weights at https://huggingface.co/org/model, "
        "see https://github.com/features/actions and https://gitlab.com/group/project."
    )
    assert code_repositories(text) == [
        "https://github.com/foo/bar",
        "https://huggingface.co/spaces/org/demo",
        "https://gitlab.com/group/project",
    ]


def test_project_page_finds_hosted_sites_only() -> None:
    assert (
        project_page("Project Page: https://zhaohengyin.github.io/mana")
        == "https://zhaohengyin.github.io/mana"
    )
    assert project_page("Code at https://github.com/a/b.", None, "and https://demo.pages.dev/x") == (
        "https://demo.pages.dev/x"
    )
    assert project_page("nothing here") is None


def test_find_urls_strips_trailing_punctuation() -> None:
    assert find_urls("(see https://example.org/a.), https://example.org/a") == ["https://example.org/a"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 2 Apr 2007 19:18:42 GMT", datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        ("2026-05-30T00:00:00.000Z", datetime(2026, 5, 30, tzinfo=UTC)),
        ("2016-10-09T00:00:00-04:00", datetime(2016, 10, 9, 4, tzinfo=UTC)),
        ("2015-01-16", datetime(2015, 1, 16, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_parse_datetime_forms(value: str | None, expected: datetime | None) -> None:
    assert parse_datetime(value) == expected


def test_parse_date() -> None:
    assert parse_date("2026-06-12T00:00:00.000Z") == date(2026, 6, 12)
    assert parse_date("not a date") is None


@given(st.text(max_size=60))
def test_parse_datetime_never_raises_and_returns_utc(value: str) -> None:
    parsed = parse_datetime(value)
    assert parsed is None or (parsed.utcoffset() is not None and parsed.tzinfo is UTC)
