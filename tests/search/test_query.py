"""What people type into the search box, parsed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.search.query import MAX_QUERY_CHARS, parse_query


def test_filters_words_and_phrases() -> None:
    q = parse_query('graph "neural network" author:LeCun cat:cs.LG since:2020 until:2021-06')
    assert q.text == "graph"
    assert q.phrases == ["neural network"]
    assert q.authors == ["LeCun"]
    assert q.categories == ["cs.LG"]
    assert q.since == date(2020, 1, 1)
    assert q.until == date(2021, 6, 30)
    assert q.search_text == "graph neural network"
    assert q.notices == []


def test_quoted_author_and_unbalanced_quote() -> None:
    q = parse_query('author:"van der Berg" "open quote to the end')
    assert q.authors == ["van der Berg"]
    assert q.phrases == ["open quote to the end"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://arxiv.org/abs/1706.03762v5", ["1706.03762"]),
        ("arXiv:2104.12255 and hep-th/9901001", ["2104.12255", "hep-th/9901001"]),
        ("see (2104.12255)", ["2104.12255"]),
        ("https://arxiv.org/pdf/2104.12255v2.pdf", ["2104.12255"]),
    ],
)
def test_arxiv_ids_are_recognised(raw: str, expected: list[str]) -> None:
    assert parse_query(raw).arxiv_ids == expected


def test_unknown_filter_is_text_with_a_notice() -> None:
    q = parse_query("venue:neurips transformers")
    assert "venue neurips" in q.text
    assert any("Unknown filter venue" in n for n in q.notices)


def test_bad_and_swapped_dates() -> None:
    q = parse_query("since:yesterday until:2020-13-01 x")
    assert q.since is None and q.until is None
    assert len(q.notices) == 2
    swapped = parse_query("since:2022 until:2021")
    assert swapped.since == date(2021, 1, 1) and swapped.until == date(2022, 12, 31)
    assert swapped.notices


def test_long_query_is_cut() -> None:
    q = parse_query("word " * 5000)
    assert len(q.text) <= MAX_QUERY_CHARS
    assert q.notices


def test_empty_query() -> None:
    assert parse_query("").is_empty
    assert parse_query('   ""  ').is_empty


@given(st.text(max_size=300))
def test_any_text_parses(raw: str) -> None:
    q = parse_query(raw)
    assert isinstance(q.text, str)
    assert all(isinstance(p, str) and p for p in q.phrases)


@pytest.mark.parametrize(
    ("raw", "notice"),
    [
        ("author:% graphs", "author:% has no name in it"),
        ('author:"" graphs', "author: has no value after it; ignored."),
        ("cat: graphs", "cat: has no value after it; ignored."),
        ("author:x graphs", "author:x has no name in it"),
    ],
)
def test_an_ignored_filter_always_gets_a_notice(raw: str, notice: str) -> None:
    q = parse_query(raw)
    assert (q.authors, q.categories, q.text) == ([], [], "graphs")
    assert any(n.startswith(notice) for n in q.notices), q.notices


def test_the_query_keeps_what_was_typed() -> None:
    typed = "graphs  author:Hinton"
    assert parse_query(typed).raw == typed


def test_a_query_at_the_limit_is_whole_and_one_over_is_cut_with_a_notice() -> None:
    at_limit = "a" * MAX_QUERY_CHARS
    assert parse_query(at_limit).notices == []
    assert parse_query(at_limit).text == at_limit
    over = parse_query(at_limit + "b")
    assert over.text == at_limit
    assert over.notices == [f"The query was cut to its first {MAX_QUERY_CHARS} characters."]


def test_a_nul_character_separates_words() -> None:
    assert parse_query("graph\x00neural").text == "graph neural"
    assert parse_query("graph\x00\r\nneural").text == "graph neural"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("http://example.org/paper", "http://example.org/paper"),
        ("HTTPS://example.org/paper", "HTTPS://example.org/paper"),
        ("see https://example.org/x now", "see https://example.org/x now"),
    ],
)
def test_a_web_link_is_text_not_a_filter(raw: str, text: str) -> None:
    q = parse_query(raw)
    assert (q.text, q.notices) == (text, [])


def test_an_arxiv_link_or_prefixed_id_is_an_id_not_text() -> None:
    q = parse_query("arXiv:2104.12255 graphs")
    assert (q.arxiv_ids, q.text, q.notices) == (["2104.12255"], "graphs", [])
    q = parse_query("https://arxiv.org/abs/2104.12255")
    assert (q.arxiv_ids, q.text, q.notices) == (["2104.12255"], "", [])
    bracketed = parse_query("[2104.12255], (hep-th/9901001); <1706.03762>")
    assert bracketed.arxiv_ids == ["2104.12255", "hep-th/9901001", "1706.03762"]
    assert bracketed.text == ""
    # Only brackets and punctuation around an id are taken off, not letters.
    lettered = parse_query("X2104.12255 2104.12255X")
    assert (lettered.arxiv_ids, lettered.text) == ([], "X2104.12255 2104.12255X")


@pytest.mark.parametrize("name", ["cat", "category", "CAT", "Category"])
def test_category_and_its_alias(name: str) -> None:
    q = parse_query(f"{name}:cs.CL graphs")
    assert (q.categories, q.text, q.notices) == (["cs.CL"], "graphs", [])


def test_the_words_of_a_query_are_joined_by_one_space() -> None:
    assert parse_query("sparse   attention\tmodels").text == "sparse attention models"


def test_each_notice_says_exactly_what_was_ignored() -> None:
    assert parse_query("since:yesterday x").notices == [
        "since:yesterday is not a date (use YYYY, YYYY-MM or YYYY-MM-DD); ignored."
    ]
    assert parse_query("venue:neurips").notices == [
        "Unknown filter venue: searched as text. Filters: author:, cat: (or category:), since:, until:."
    ]
    assert parse_query("until: graphs").notices == ["until: has no value after it; ignored."]
    # A word that only ends in a colon is a word, unless it names a filter.
    plain = parse_query("note: graphs")
    assert (plain.text, plain.notices) == ("note: graphs", [])


def test_swapped_dates_are_put_in_order_and_said_so() -> None:
    swapped = parse_query("since:2022-03 until:2021-07-04")
    assert (swapped.since, swapped.until) == (date(2021, 7, 4), date(2022, 3, 31))
    assert swapped.notices == ["since: is after until:, so nothing could match; the two dates were swapped."]
    # One and the same day is a range already: nothing to swap.
    same = parse_query("since:2021-07-04 until:2021-07-04")
    assert (same.since, same.until, same.notices) == (date(2021, 7, 4), date(2021, 7, 4), [])
    month = parse_query("since:2021-07 until:2021-07")
    assert (month.since, month.until, month.notices) == (date(2021, 7, 1), date(2021, 7, 31), [])
