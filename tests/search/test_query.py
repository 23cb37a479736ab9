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
