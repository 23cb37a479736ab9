"""The plain-text listing parser, checked against a real copied Hugging Face papers page."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailypapers.errors import FormatError
from dailypapers.ingest.formats.listing import looks_like_listing, parse_listing
from dailypapers.ingest.records import PaperRecord, Rejected, Source

SEED = Path("seed") / "000_f44c086a8a650424.txt"
HEADER_LINES = {"new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers"}
ABSTRACT = (
    "We study a problem that matters. Our method improves over strong baselines on four benchmarks, "
    "and an ablation shows where the gains come from. Code: https://github.com/example/method."
)


@pytest.fixture(scope="module")
def seed_bytes(shared_data: Path) -> bytes:
    return (shared_data / SEED).read_bytes()


def papers(items: list[PaperRecord | Rejected]) -> list[PaperRecord]:
    return [item for item in items if isinstance(item, PaperRecord)]


def test_seed_listing_has_41_papers_and_no_header_lines(seed_bytes: bytes) -> None:
    items = parse_listing(seed_bytes)
    assert len(items) == 41
    assert all(isinstance(item, PaperRecord) for item in items)
    found = papers(items)
    assert not {paper.title for paper in found} & (HEADER_LINES | {"by AK and the research community"})
    assert found[0].title == (
        "Learned feature representations are biased by complexity, learning order, position, and more"
    )
    assert found[0].position == "line 11"
    assert found[0].abstract.startswith("Representation learning, and interpreting learned representations")
    assert found[-1].title == "Improved Active Multi-Task Representation Learning via Lasso"
    assert found[-1].position == "line 171"
    assert [paper.position for paper in found] == [f"line {11 + 4 * n}" for n in range(41)]
    for paper in found:
        assert paper.source is Source.LISTING
        assert paper.arxiv_id is None and paper.authors == [] and paper.published is None
        assert len(paper.abstract) >= 1398 and "\n" not in paper.abstract


def test_links_in_abstracts_become_code_urls(seed_bytes: bytes) -> None:
    found = {paper.position: paper for paper in papers(parse_listing(seed_bytes))}
    assert found["line 15"].title.startswith("Exploring Concept Depth")
    assert found["line 15"].code_urls == ["https://github.com/Luckfort/CD"]  # trailing "." removed
    assert found["line 67"].code_urls == ["https://github.com/RAIVNLab/MRL"]
    assert sum(1 for paper in found.values() if paper.code_urls) == 8


def test_crlf_and_bom_give_the_same_records(seed_bytes: bytes) -> None:
    windows = b"\xef\xbb\xbf" + seed_bytes.replace(b"\n", b"\r\n")
    assert parse_listing(windows) == parse_listing(seed_bytes)


def test_title_without_abstract_is_skipped_at_the_top_and_reported_later() -> None:
    text = "\n\n".join(
        [
            "Daily Papers",
            "A first paper",
            ABSTRACT,
            "An orphan title",
            "A second paper",
            ABSTRACT,
            "Trailing title",
        ]
    )
    items = parse_listing(text.encode())
    assert [type(item).__name__ for item in items] == ["PaperRecord", "Rejected", "PaperRecord", "Rejected"]
    first, orphan, second, trailing = items
    assert isinstance(first, PaperRecord) and first.title == "A first paper" and first.position == "line 3"
    assert first.code_urls == ["https://github.com/example/method"]
    assert orphan == Rejected("line 7", "title without an abstract")
    assert (
        isinstance(second, PaperRecord) and second.title == "A second paper" and second.position == "line 9"
    )
    assert trailing == Rejected("line 13", "title without an abstract")


def test_a_paragraph_where_a_title_belongs_is_reported() -> None:
    text = f"A paper\n\n{ABSTRACT}\n\n{ABSTRACT * 2}\n"
    items = parse_listing(text.encode())
    assert isinstance(items[0], PaperRecord)
    assert items[1] == Rejected("line 5", f"paragraph without a title ({len(ABSTRACT * 2)} characters)")


def test_empty_and_non_utf8_input_are_format_errors() -> None:
    with pytest.raises(FormatError, match="file is empty"):
        parse_listing(b"\xef\xbb\xbf \r\n")
    latin1 = f"Un article très court\n\n{ABSTRACT}\n".encode("latin-1")
    with pytest.raises(FormatError, match=f"invalid byte 0xe8 at byte offset {latin1.index(0xE8)}; .*iconv"):
        parse_listing(latin1)


def test_the_seed_and_a_short_listing_look_like_listings(seed_bytes: bytes) -> None:
    assert looks_like_listing(seed_bytes.decode())
    assert looks_like_listing(seed_bytes.decode()[:20_000])  # a head cut mid-abstract
    assert looks_like_listing(f"One paper\n\n{ABSTRACT}")


@pytest.mark.parametrize(
    "relative",
    [
        "README.md",
        "SHA256SUMS",
        "reference-scores/ndcg10.csv",
        "beir-scifact/qrels/test.tsv",
        "beir-scifact/corpus.jsonl",
        "hf-daily-papers/daily_papers-2026-07-31.all-news-ai.json",
        "arxiv/api-atom/arxivpy-id_1605.08386_s0_m100.xml",
    ],
)
def test_other_real_files_do_not_look_like_listings(shared_data: Path, relative: str) -> None:
    assert not looks_like_listing((shared_data / relative).read_text(encoding="utf-8")[:65536])


@pytest.mark.parametrize(
    "text",
    [
        f"# Project\n\n{ABSTRACT}\n",  # a Markdown heading over a one-line paragraph
        f"Project\n\n{ABSTRACT} See [the docs](https://example.org).\n",
        f"Usage\n\n- {ABSTRACT}\n",
        f"Table\n\n| a | b |\n\n{ABSTRACT}\n",
        "Just one short line\n",
        "Title\n\nAnother short line\n\nAnd another\n",
    ],
)
def test_markdown_and_short_texts_do_not_look_like_listings(text: str) -> None:
    assert not looks_like_listing(text)
