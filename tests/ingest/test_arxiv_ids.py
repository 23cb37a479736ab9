"""arXiv identifiers in ids, URLs and OAI identifiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.ingest.arxiv_ids import ArxivId, abs_url, is_arxiv_id, parse_arxiv_id, pdf_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2104.12255", ArxivId("2104.12255")),
        ("2104.12255v1", ArxivId("2104.12255", 1)),
        ("arXiv:2104.12255v3", ArxivId("2104.12255", 3)),
        ("  0704.0001 ", ArxivId("0704.0001")),
        ("1412.9999", ArxivId("1412.9999")),
        ("1501.00001", ArxivId("1501.00001")),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("astro-ph/0601001v1", ArxivId("astro-ph/0601001", 1)),
        ("math.GT/0309136", ArxivId("math/0309136")),  # the subject class is not part of the identity
        ("cond-mat/0412498v1", ArxivId("cond-mat/0412498", 1)),
        ("http://arxiv.org/abs/1111.2011v2", ArxivId("1111.2011", 2)),
        ("https://arxiv.org/abs/astro-ph/0601001v1", ArxivId("astro-ph/0601001", 1)),
        ("https://arxiv.org/pdf/2104.12255v2.pdf", ArxivId("2104.12255", 2)),
        ("https://export.arxiv.org/abs/1605.08386", ArxivId("1605.08386")),
        ("https://www.arxiv.org/html/2606.13677v1#S2", ArxivId("2606.13677", 1)),
        ("oai:arXiv.org:1207.1019", ArxivId("1207.1019")),
        ("oai:arXiv.org:hep-th/9901001", ArxivId("hep-th/9901001")),
    ],
)
def test_recognised_forms(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected
    assert is_arxiv_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "0808.05394",  # five digits before 2015
        "1501.0001",  # four digits from 2015 on
        "0713.1234",  # month 13
        "2104.12255v0",  # versions count from 1
        "http://arxiv.org/api/errors#incorrect_id_format_for_0808.05394",
        "https://example.org/abs/2104.12255",
        "hep-th/990100",
        "",
        "paper",
    ],
)
def test_rejected_forms(text: str) -> None:
    assert parse_arxiv_id(text) is None
    assert not is_arxiv_id(text)


def test_str_puts_the_version_back() -> None:
    assert str(ArxivId("2104.12255", 1)) == "2104.12255v1"
    assert str(ArxivId("hep-th/9901001")) == "hep-th/9901001"


def test_urls() -> None:
    assert abs_url("hep-th/9901001") == "https://arxiv.org/abs/hep-th/9901001"
    assert pdf_url("2104.12255") == "https://arxiv.org/pdf/2104.12255"


new_style = st.builds(
    lambda year, month, number: (
        f"{year:02d}{month:02d}.{number:05d}"
        if year >= 15
        else f"{year:02d}{month:02d}.{number % 10_000:04d}"
    ),
    st.integers(7, 99),
    st.integers(1, 12),
    st.integers(0, 99_999),
)
old_style = st.builds(
    lambda archive, number: f"{archive}/{number:07d}",
    st.sampled_from(["hep-th", "hep-ph", "astro-ph", "cond-mat", "math", "quant-ph", "gr-qc", "nlin"]),
    st.integers(0, 9_999_999),
)
arxiv_ids = st.builds(ArxivId, new_style | old_style, st.none() | st.integers(1, 30))


@given(arxiv_ids)
def test_parse_round_trips_str(arxiv_id: ArxivId) -> None:
    assert parse_arxiv_id(str(arxiv_id)) == arxiv_id
    assert parse_arxiv_id(f"https://arxiv.org/abs/{arxiv_id}") == arxiv_id
    assert parse_arxiv_id(f"oai:arXiv.org:{arxiv_id}") == arxiv_id


@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = parse_arxiv_id(text)
    assert result is None or parse_arxiv_id(str(result)) == result
