"""``dailypapers fetch`` end to end: the CLI, the clients and the pipeline against a local replay server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.models import FeedEntry, Paper
from tests.replay import (
    ATOM,
    ReplayServer,
    Reply,
    Request,
    arxiv_id_list_route,
    feed_entries,
    repage,
)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    replay = ReplayServer()
    replay.start()
    yield replay
    replay.stop()


@pytest.fixture
def fetch_env(cli_env: dict[str, str], server: ReplayServer) -> dict[str, str]:
    return {
        **cli_env,
        "DAILYPAPERS_ARXIV_API_URL": server.url("/api/query"),
        "DAILYPAPERS_ARXIV_OAI_URL": server.url("/oai"),
        "DAILYPAPERS_HF_API_URL": server.url("/hf/api"),
        "DAILYPAPERS_ARXIV_DELAY_SECONDS": "0",
    }


def invoke(env: dict[str, str], *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_fetch_hf_puts_the_day_on_the_feed(
    fetch_env: dict[str, str], server: ReplayServer, shared_data: Path, sessions: sessionmaker[Session]
) -> None:
    body = (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_bytes()
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(
        body=body if request.param("date") == "2026-07-31" else b"[]"
    )
    first = invoke(fetch_env, "fetch", "hf", "--date", "2026-07-31", "--json")
    assert first["new"] == 5
    again = invoke(fetch_env, "fetch", "hf", "--date", "2026-07-31", "--json")
    assert again["new"] == 0 and again["updated"] == 0
    with sessions() as session:
        days = session.scalars(select(FeedEntry.day)).all()
    assert {d.isoformat() for d in days} == {"2026-07-31"}


def test_fetch_arxiv_adds_new_papers_of_the_window_to_the_feed(
    fetch_env: dict[str, str], server: ReplayServer, shared_data: Path, sessions: sessionmaker[Session]
) -> None:
    feed = (shared_data / "arxiv" / "api-atom" / "arxivpy-q_testing_s0_m100.xml").read_bytes()

    def route(request: Request) -> Reply:
        category = (request.param("search_query") or "").removeprefix("cat:")
        entries = [
            e
            for e in feed_entries(feed)
            if any(c.get("term") == category for c in e.findall(f"{ATOM}category"))
        ]
        entries.sort(key=lambda e: e.findtext(f"{ATOM}published"), reverse=True)
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        return Reply(body=repage(feed, entries, start, count))

    server.routes["/api/query"] = route
    report = invoke(fetch_env, "fetch", "arxiv", "--category", "cs.SE", "--since", "2025-01-01", "--json")
    assert report["new"] > 0 and report["rejected"] == 0
    with sessions() as session:
        papers = session.scalar(select(func.count()).select_from(Paper))
        entries = session.scalars(select(FeedEntry)).all()
    assert papers == report["new"]
    assert len(entries) == papers
    assert all(e.day.year >= 2025 for e in entries)


def test_fetch_reports_an_upstream_failure_in_one_line(
    fetch_env: dict[str, str], server: ReplayServer
) -> None:
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(status=404, body=b"gone")
    result = CliRunner().invoke(app, ["fetch", "hf", "--date", "2026-07-31"], env=fetch_env)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert "404" in result.output


def test_fetch_refuses_a_nonsense_category(fetch_env: dict[str, str], server: ReplayServer) -> None:
    result = CliRunner().invoke(
        app, ["fetch", "arxiv", "--category", "cs.cl", "--since", "2025-01-01"], env=fetch_env
    )
    assert result.exit_code != 0
    assert "cs.CL" in result.output
    assert server.requests == []


def test_fetch_hf_looks_the_categories_up_on_arxiv(
    fetch_env: dict[str, str], server: ReplayServer, shared_data: Path, sessions: sessionmaker[Session]
) -> None:
    # The real feed of a day, three of whose papers arXiv's recorded answers describe.
    items = json.loads(
        (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_text()
    )
    on_arxiv = ["2606.13677", "2606.13591", "1605.08386"]
    for item, arxiv_id in zip(items, on_arxiv, strict=False):
        item["paper"]["id"] = arxiv_id
    body = json.dumps(items).encode()
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(body=body)
    server.routes["/api/query"] = arxiv_id_list_route(shared_data)

    report = invoke(fetch_env, "fetch", "hf", "--date", "2026-07-31", "--json")
    assert report["new"] == 5
    assert report["arxiv_lookup"] == {"asked": 5, "found": 3, "failed": None}
    asked = [r for r in server.requests if r.path == "/api/query"]
    assert len(asked) == 1  # one batched id_list call, not one per paper
    assert sorted((asked[0].param("id_list") or "").split(",")) == sorted(i["paper"]["id"] for i in items)
    with sessions() as session:
        papers = {p.id: p for p in session.scalars(select(Paper))}
    assert papers["2606.13677"].categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert papers["1605.08386"].primary_category == "math.CO"
    assert not any(papers[i].categories_predicted for i in on_arxiv)
    assert {s.source for s in papers["2606.13677"].sources} == {"huggingface", "arxiv-api"}
    assert [i for i, p in papers.items() if not p.categories] == [i["paper"]["id"] for i in items[3:]]

    # Known now: a second fetch of the day asks arXiv only for the two it did not know.
    server.requests.clear()
    again = invoke(fetch_env, "fetch", "hf", "--date", "2026-07-31", "--json")
    assert again["arxiv_lookup"]["asked"] == 2
    assert (
        sorted(server.requests[-1].param("id_list").split(","))
        == sorted(  # type: ignore[union-attr]
            i["paper"]["id"] for i in items[3:]
        )
    )


def test_fetch_hf_goes_on_when_arxiv_fails(
    fetch_env: dict[str, str], server: ReplayServer, shared_data: Path, sessions: sessionmaker[Session]
) -> None:
    body = (shared_data / "hf-daily-papers" / "daily_papers-2026-07-31.all-news-ai.json").read_bytes()
    server.routes["/hf/api/daily_papers"] = lambda request: Reply(body=body)
    server.routes["/api/query"] = lambda request: Reply(status=400, body=b"bad request")
    result = CliRunner().invoke(app, ["fetch", "hf", "--date", "2026-07-31", "--json"], env=fetch_env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["new"] == 5 and report["arxiv_lookup"]["found"] == 0
    assert "400" in report["arxiv_lookup"]["failed"]
    assert "categories not looked up on arXiv" in result.stderr and "Traceback" not in result.output
