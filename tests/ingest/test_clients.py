"""The network clients against a real HTTP server on loopback that replays recorded upstream responses.

Nothing here touches the network or waits for real: the server runs in a thread on 127.0.0.1, the
clients use the real httpx transport, and only the clock is faked (injected ``sleep``/``monotonic``).
Paging tests re-page real recorded feeds by slicing their entries, as arXiv itself would.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.config import DEFAULT_USER_AGENT, Settings
from dailypapers.errors import UpstreamError
from dailypapers.ingest.clients import (
    ArxivApiClient,
    HuggingFaceClient,
    OaiClient,
    PoliteHttp,
    make_clients,
    validate_category,
)
from dailypapers.ingest.records import PaperRecord, ParsedItem
from tests.replay import ATOM, ReplayServer, Reply, Request, entry_id, feed_entries, repage, sequence

# -- recorded data (``shared_data`` comes from tests/conftest.py) ------------------------------------


@pytest.fixture(scope="module")
def testing_feed(shared_data: Path) -> bytes:
    return (shared_data / "arxiv" / "api-atom" / "arxivpy-q_testing_s0_m100.xml").read_bytes()


def ids_of(items: list[ParsedItem]) -> list[str | None]:
    assert all(isinstance(item, PaperRecord) for item in items), items
    return [item.arxiv_id for item in items if isinstance(item, PaperRecord)]


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    replay = ReplayServer()
    replay.start()
    yield replay
    replay.stop()


# -- the fake clock ----------------------------------------------------------------------------------


class FakeClock:
    """Monotonic time that only moves when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def polite_http(clock: FakeClock, **options: Any) -> PoliteHttp:
    settings: dict[str, Any] = {
        "user_agent": DEFAULT_USER_AGENT,
        "timeout": 5.0,
        "max_retries": 3,
        "transport": httpx.HTTPTransport(),  # the real transport, and no proxy from the environment
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "rng": random.Random(7),
    }
    settings.update(options)
    return PoliteHttp(**settings)


# -- arXiv query API: paging -------------------------------------------------------------------------


def serve_repaged(server: ReplayServer, feed: bytes, entries: list[Any] | None = None) -> None:
    chosen = feed_entries(feed) if entries is None else entries

    def route(request: Request) -> Reply:
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        return Reply(body=repage(feed, chosen, start, count))

    server.routes["/api/query"] = route


def test_search_pages_through_all_entries_in_order(
    server: ReplayServer, clock: FakeClock, testing_feed: bytes
) -> None:
    serve_repaged(server, testing_feed)
    seen: list[tuple[int, int | None]] = []
    with polite_http(clock) as http:
        client = ArxivApiClient(http, server.url("/api/query"))
        items = list(client.search("all:testing", page_size=30, progress=lambda d, t: seen.append((d, t))))

    assert ids_of(items) == [entry_id(e) for e in feed_entries(testing_feed)]
    assert [(r.param("start"), r.param("max_results")) for r in server.requests] == [
        ("0", "30"),
        ("30", "30"),
        ("60", "30"),
        ("90", "30"),
    ]
    first = server.requests[0]
    assert first.param("search_query") == "all:testing"
    assert (first.param("sortBy"), first.param("sortOrder")) == ("submittedDate", "descending")
    assert seen == [(30, 100), (60, 100), (90, 100), (100, 100)]


def test_search_stops_at_max_results(server: ReplayServer, clock: FakeClock, testing_feed: bytes) -> None:
    serve_repaged(server, testing_feed)
    with polite_http(clock) as http:
        items = list(
            ArxivApiClient(http, server.url("/api/query")).search("all:testing", page_size=30, max_results=70)
        )

    assert ids_of(items) == [entry_id(e) for e in feed_entries(testing_feed)][:70]
    assert [r.param("max_results") for r in server.requests] == ["30", "30", "10"]


def test_search_asks_again_for_a_transiently_empty_page(
    server: ReplayServer, clock: FakeClock, testing_feed: bytes
) -> None:
    entries = feed_entries(testing_feed)
    glitches = [1]

    def route(request: Request) -> Reply:
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        if start == 50 and glitches:
            glitches.pop()
            return Reply(body=repage(testing_feed, [], start, count, total=len(entries)))
        return Reply(body=repage(testing_feed, entries, start, count))

    server.routes["/api/query"] = route
    with polite_http(clock) as http:
        items = list(ArxivApiClient(http, server.url("/api/query")).search("all:testing", page_size=50))

    assert ids_of(items) == [entry_id(e) for e in entries]
    assert [r.param("start") for r in server.requests] == ["0", "50", "50"]


def test_search_gives_up_on_a_page_that_stays_empty(
    server: ReplayServer, clock: FakeClock, testing_feed: bytes
) -> None:
    entries = feed_entries(testing_feed)

    def route(request: Request) -> Reply:
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        chosen = [] if start >= 40 else entries
        return Reply(body=repage(testing_feed, chosen, start, count, total=len(entries)))

    server.routes["/api/query"] = route
    with polite_http(clock) as http:
        client = ArxivApiClient(http, server.url("/api/query"), empty_page_retries=2)
        items = list(client.search("all:testing", page_size=40))

    assert len(items) == 40
    assert [r.param("start") for r in server.requests] == ["0", "40", "40", "40"]


def test_search_without_results_asks_once(server: ReplayServer, clock: FakeClock, shared_data: Path) -> None:
    empty = (shared_data / "arxiv" / "api-atom" / "arxivpy-id_0000.0000_s0_m100.xml").read_bytes()
    server.routes["/api/query"] = lambda _request: Reply(body=empty)
    with polite_http(clock) as http:
        items = list(ArxivApiClient(http, server.url("/api/query")).search("ti:nothing-at-all"))

    assert items == []
    assert len(server.requests) == 1


# -- arXiv query API: id look-ups --------------------------------------------------------------------

ID_LOOKUPS = {
    "1605.08386": "arxivpy-id_1605.08386_s0_m100.xml",
    "2104.12255v1": "arxivpy-id_2104.12255v1_s0_m100.xml",
    "astro-ph/0601001": "arxivpy-id_astro-ph_0601001_s0_m100.xml",
    "0808.05394,1707.08567": "arxivpy-id_0808.05394_1707.08567_s0_m100.xml",
}


def serve_id_lookups(server: ReplayServer, shared_data: Path) -> None:
    folder = shared_data / "arxiv" / "api-atom"

    def route(request: Request) -> Reply:
        name = ID_LOOKUPS.get(request.param("id_list") or "", "arxivpy-id_0000.0000_s0_m100.xml")
        return Reply(body=(folder / name).read_bytes())

    server.routes["/api/query"] = route


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["1605.08386"], ["1605.08386"]),
        (["2104.12255v1"], ["2104.12255"]),
        (["astro-ph/0601001"], ["astro-ph/0601001"]),
        (["0808.05394", "1707.08567"], ["1707.08567"]),  # arXiv drops the id it does not know
        (["0000.0000"], []),
    ],
)
def test_fetch_ids_replays_recorded_lookups(
    server: ReplayServer, clock: FakeClock, shared_data: Path, ids: list[str], expected: list[str]
) -> None:
    serve_id_lookups(server, shared_data)
    with polite_http(clock) as http:
        items = ArxivApiClient(http, server.url("/api/query")).fetch_ids(ids)

    assert ids_of(items) == expected
    [request] = server.requests
    assert request.param("id_list") == ",".join(ids)
    assert request.param("max_results") == str(len(ids))


def test_fetch_ids_sends_at_most_100_ids_per_request(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    serve_id_lookups(server, shared_data)
    ids = [f"2401.{n:05d}" for n in range(1, 251)]
    with polite_http(clock) as http:
        ArxivApiClient(http, server.url("/api/query")).fetch_ids(ids)

    sent = [(r.param("id_list") or "").split(",") for r in server.requests]
    assert [len(chunk) for chunk in sent] == [100, 100, 50]
    assert [i for chunk in sent for i in chunk] == ids


# -- arXiv query API: new papers of a category -------------------------------------------------------


def serve_category_listing(server: ReplayServer, feed: bytes) -> None:
    """Answer ``cat:X`` queries from the recorded entries of category X, newest first, as arXiv would."""

    def route(request: Request) -> Reply:
        query = request.param("search_query") or ""
        category = query.removeprefix("cat:")
        entries = [
            e
            for e in feed_entries(feed)
            if any(c.get("term") == category for c in e.findall(f"{ATOM}category"))
        ]
        entries.sort(key=lambda e: e.findtext(f"{ATOM}published"), reverse=True)
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        return Reply(body=repage(feed, entries, start, count))

    server.routes["/api/query"] = route


def published_days(feed: bytes, category: str) -> list[date]:
    days = [
        date.fromisoformat(e.findtext(f"{ATOM}published")[:10])
        for e in feed_entries(feed)
        if any(c.get("term") == category for c in e.findall(f"{ATOM}category"))
    ]
    return sorted(days, reverse=True)


def test_new_in_category_stops_after_a_page_older_than_since(
    server: ReplayServer, clock: FakeClock, testing_feed: bytes
) -> None:
    serve_category_listing(server, testing_feed)
    since = date(2025, 1, 1)
    with polite_http(clock) as http:
        items = list(
            ArxivApiClient(http, server.url("/api/query")).new_in_category("cs.SE", since, page_size=5)
        )

    days = published_days(testing_feed, "cs.SE")
    expected = [d for d in days if d >= since]
    assert len(expected) == 14  # the recorded data: 14 of the 69 cs.SE papers are from 2025 or later
    records = [item for item in items if isinstance(item, PaperRecord)]
    assert [r.published.date() for r in records if r.published] == expected
    # Pages of 5: three pages reach back to 2025-01-01, the fourth is wholly older and ends the listing.
    assert [r.param("start") for r in server.requests] == ["0", "5", "10", "15"]
    first = server.requests[0]
    assert first.param("search_query") == "cat:cs.SE"
    assert (first.param("sortBy"), first.param("sortOrder")) == ("submittedDate", "descending")


def test_new_in_category_leaves_out_papers_after_until(
    server: ReplayServer, clock: FakeClock, testing_feed: bytes
) -> None:
    serve_category_listing(server, testing_feed)
    since, until = date(2025, 1, 1), date(2025, 3, 31)
    with polite_http(clock) as http:
        client = ArxivApiClient(http, server.url("/api/query"))
        items = list(client.new_in_category("cs.SE", since, until=until, page_size=5))

    expected = [d for d in published_days(testing_feed, "cs.SE") if since <= d <= until]
    assert [i.published.date() for i in items if isinstance(i, PaperRecord) and i.published] == expected
    assert len(expected) == 8


@pytest.mark.parametrize(
    "category", ["", "nonsense", "cs CL", "cs.cl", "CS.CL", "hep-th.XX", "cond-mat.Mes-Hall", "cs.CL OR x"]
)
def test_new_in_category_refuses_nonsense_before_any_request(
    server: ReplayServer, clock: FakeClock, category: str
) -> None:
    with polite_http(clock) as http, pytest.raises(ValueError, match="arXiv category"):
        next(ArxivApiClient(http, server.url("/api/query")).new_in_category(category, date(2025, 1, 1)))
    assert server.requests == []


@pytest.mark.parametrize(
    "category",
    ["cs", "cs.CL", "hep-th", "math.AG", "astro-ph.CO", "cond-mat.mes-hall", "q-bio.NC", "physics.acc-ph"],
)
def test_validate_category_accepts_real_categories(category: str) -> None:
    assert validate_category(category) == category


def test_validate_category_suggests_the_right_case() -> None:
    with pytest.raises(ValueError, match=r"did you mean cs\.CL\?"):
        validate_category("cs.cl")


# -- OAI-PMH -----------------------------------------------------------------------------------------


def with_token(document: bytes, token: bytes) -> bytes:
    assert document.count(b"</ListRecords>") == 1
    return document.replace(b"</ListRecords>", token + b"\n</ListRecords>")


def serve_oai_pages(server: ReplayServer, shared_data: Path, *, first: list[Reply] | None = None) -> None:
    folder = shared_data / "arxiv" / "oai-pmh"
    page1 = with_token(
        (folder / "invenio-sample_arxiv_response_listrecords_cs.xml").read_bytes(),
        b'<resumptionToken cursor="0" completeListSize="196">tok1</resumptionToken>',
    )
    page2 = with_token(
        (folder / "invenio-sample_arxiv_response_listrecords_physics.xml").read_bytes(),
        b'<resumptionToken cursor="46" completeListSize="196"/>',
    )
    opening = sequence(*(first or []), Reply(body=page1))

    def route(request: Request) -> Reply:
        if request.param("resumptionToken") == "tok1":
            return Reply(body=page2)
        return opening(request)

    server.routes["/oai2"] = route


def test_oai_list_records_follows_the_resumption_token(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    serve_oai_pages(server, shared_data)
    seen: list[tuple[int, int | None]] = []
    with polite_http(clock) as http:
        items = list(
            OaiClient(http, server.url("/oai2")).list_records(
                set_spec="cs",
                from_date=date(2015, 1, 16),
                until=date(2015, 1, 18),
                progress=lambda d, t: seen.append((d, t)),
            )
        )

    assert len(items) == 196
    assert all(isinstance(item, PaperRecord) for item in items)
    first, second = server.requests
    assert first.query == {
        "verb": ["ListRecords"],
        "metadataPrefix": ["arXiv"],
        "set": ["cs"],
        "from": ["2015-01-16"],
        "until": ["2015-01-18"],
    }
    assert second.query == {"verb": ["ListRecords"], "resumptionToken": ["tok1"]}
    assert seen == [(46, 196), (196, 196)]


def test_oai_flow_control_503_retry_after_is_waited_out(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    serve_oai_pages(server, shared_data, first=[Reply(503, b"Retry after 7 seconds", {"Retry-After": "7"})])
    messages: list[str] = []
    started = time.monotonic()
    with polite_http(clock, on_wait=messages.append, name="arXiv") as http:
        items = list(
            OaiClient(http, server.url("/oai2")).list_records(set_spec="cs", from_date=date(2015, 1, 16))
        )

    assert len(items) == 196
    assert clock.sleeps == [7.0]
    assert messages == ["arXiv (127.0.0.1) asked us to wait 7 s (Retry-After)"]
    assert len(server.requests) == 3
    assert time.monotonic() - started < 5  # the 7 seconds went by on the fake clock only


def test_oai_get_record_asks_for_the_unversioned_identifier(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    body = (shared_data / "arxiv" / "oai-pmh" / "invenio-sample_arxiv_response.xml").read_bytes()
    server.routes["/oai2"] = lambda _request: Reply(body=body)
    with polite_http(clock) as http:
        record = OaiClient(http, server.url("/oai2")).get_record("1507.03011v2")

    assert isinstance(record, PaperRecord)
    assert record.arxiv_id == "1507.03011"
    [request] = server.requests
    assert request.query == {
        "verb": ["GetRecord"],
        "identifier": ["oai:arXiv.org:1507.03011"],
        "metadataPrefix": ["arXiv"],
    }


# -- retries -----------------------------------------------------------------------------------------


def test_retry_after_as_an_http_date(server: ReplayServer, clock: FakeClock) -> None:
    server_now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    busy = Reply(
        503,
        headers={
            "Date": format_datetime(server_now, usegmt=True),
            "Retry-After": format_datetime(server_now + timedelta(seconds=12), usegmt=True),
        },
    )
    server.routes["/x"] = sequence(busy, Reply(body=b"ok"))
    with polite_http(clock) as http:
        assert http.get(server.url("/x")) == b"ok"
    assert clock.sleeps == [12.0]


def test_retry_after_is_capped_and_the_cap_is_reported(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/x"] = sequence(Reply(503, headers={"Retry-After": "86400"}), Reply(body=b"ok"))
    messages: list[str] = []
    with polite_http(clock, on_wait=messages.append, max_retry_after=600) as http:
        assert http.get(server.url("/x")) == b"ok"
    assert clock.sleeps == [600.0]
    [message] = messages
    assert "Retry-After: 86400" in message
    assert "600 s, the most we wait" in message


def test_429_without_retry_after_backs_off_exponentially(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/x"] = sequence(Reply(429), Reply(429), Reply(429), Reply(body=b"ok"))
    with polite_http(clock, backoff_base=2.0, max_retries=3) as http:
        assert http.get(server.url("/x")) == b"ok"

    assert len(server.requests) == 4
    assert len(clock.sleeps) == 3
    for n, slept in enumerate(clock.sleeps):
        base = 2.0 * 2**n
        assert base <= slept <= 1.5 * base, (n, slept)
    assert len(set(clock.sleeps)) == 3


def test_a_timeout_is_retried(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/slow"] = sequence(Reply(body=b"late", delay=0.6), Reply(body=b"on time"))
    started = time.monotonic()
    with polite_http(clock, timeout=0.2) as http:
        assert http.get(server.url("/slow")) == b"on time"

    assert len(server.requests) == 2
    assert len(clock.sleeps) == 1  # one backoff, on the fake clock
    assert time.monotonic() - started < 1.0


def test_persistent_503_ends_in_a_one_line_upstream_error(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/busy"] = lambda _request: Reply(503, b"<html>\n<h1>Service Unavailable</h1>\n</html>")
    with polite_http(clock, max_retries=2) as http, pytest.raises(UpstreamError) as caught:
        http.get(server.url("/busy"))

    message = str(caught.value)
    assert "\n" not in message
    assert "127.0.0.1" in message
    assert "HTTP 503" in message
    assert "3 tries" in message
    assert "Traceback" not in message
    assert caught.value.status == 503
    assert len(server.requests) == 3


def test_404_fails_at_once(server: ReplayServer, clock: FakeClock) -> None:
    with polite_http(clock) as http, pytest.raises(UpstreamError) as caught:
        http.get(server.url("/missing"), {"q": "x"})

    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value)
    assert "1 try" in str(caught.value)
    assert len(server.requests) == 1
    assert clock.sleeps == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
    # The port is closed again on return: connecting to it is refused.


def test_a_refused_connection_fails_at_once_without_backoff(clock: FakeClock) -> None:
    port = closed_port()
    with polite_http(clock, max_retries=5) as http, pytest.raises(UpstreamError) as caught:
        http.get(f"http://127.0.0.1:{port}/api/query")

    message = str(caught.value)
    assert "\n" not in message
    assert "127.0.0.1" in message and "connection was refused" in message
    assert clock.sleeps == []


def test_a_host_name_that_does_not_resolve_is_not_retried_like_a_503(clock: FakeClock) -> None:
    # .invalid never resolves (RFC 6761), so the look-up fails locally without any network.
    with polite_http(clock, max_retries=5) as http, pytest.raises(UpstreamError) as caught:
        http.get("http://export.arxiv.invalid/api/query")

    assert "host name could not be resolved" in str(caught.value)
    assert clock.sleeps == []


def test_a_deadline_ends_backoff_that_would_pass_it(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/busy"] = lambda _request: Reply(503)
    http = polite_http(clock, max_retries=5, backoff_base=2.0)
    with http, http.deadline(clock.now + 5.0), pytest.raises(UpstreamError) as caught:
        http.get(server.url("/busy"))
    # The first backoff (2 to 3 s) fits in 5 s, the second (4 to 6 s) would not: nothing sleeps past it.
    assert len(clock.sleeps) == 1 and sum(clock.sleeps) < 5.0
    assert len(server.requests) == 2
    assert "HTTP 503" in str(caught.value) and "gave up after 2 tries" in str(caught.value)


def test_retry_after_is_honoured_without_a_deadline_and_refused_past_one(
    server: ReplayServer, clock: FakeClock
) -> None:
    busy = Reply(503, headers={"Retry-After": "30"})
    server.routes["/x"] = sequence(busy, busy, Reply(body=b"ok"))
    with polite_http(clock) as http:
        with http.deadline(clock.now + 10.0), pytest.raises(UpstreamError):
            http.get(server.url("/x"))
        assert clock.sleeps == []
        # Outside the block the same client waits as long as the server asks (the CLI's fetches).
        assert http.get(server.url("/x")) == b"ok"
    assert clock.sleeps == [30.0]


def test_a_deadline_shortens_the_request_timeout(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/slow"] = lambda _request: Reply(body=b"late", delay=1.0)
    started = time.monotonic()
    http = polite_http(clock, timeout=30.0)
    with http, http.deadline(clock.now + 0.2), pytest.raises(UpstreamError):
        http.get(server.url("/slow"))
    assert time.monotonic() - started < 0.9
    assert len(server.requests) == 1 and clock.sleeps == []


def test_the_pause_between_calls_is_not_waited_past_a_deadline(
    server: ReplayServer, clock: FakeClock
) -> None:
    server.routes["/x"] = lambda _request: Reply(body=b"ok")
    with polite_http(clock, min_interval=3.0) as http:
        http.get(server.url("/x"))
        with http.deadline(clock.now + 2.0), pytest.raises(UpstreamError) as caught:
            http.get(server.url("/x"))
        assert "its turn would come in 3 s" in str(caught.value)
        assert clock.sleeps == []
        with http.deadline(clock.now + 5.0):
            assert http.get(server.url("/x")) == b"ok"
    assert clock.sleeps == [pytest.approx(3.0)]
    assert len(server.requests) == 2


# -- politeness --------------------------------------------------------------------------------------


def test_requests_to_one_host_start_min_interval_apart(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/x"] = lambda _request: Reply(body=b"ok")
    with polite_http(clock, min_interval=3.0) as http:
        http.get(server.url("/x"))
        assert clock.sleeps == []  # nothing to wait for before the first call
        http.get(server.url("/x"))
        assert clock.sleeps == [pytest.approx(3.0)]
        clock.now += 1.0  # the caller spent a second on the answer: only two are left to wait
        http.get(server.url("/x"))
        assert clock.sleeps == [pytest.approx(3.0), pytest.approx(2.0)]
        clock.now += 5.0
        http.get(server.url("/x"))
        assert len(clock.sleeps) == 2


def test_arxiv_api_and_oai_share_the_three_second_pause(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    serve_id_lookups(server, shared_data)
    body = (shared_data / "arxiv" / "oai-pmh" / "invenio-sample_arxiv_response.xml").read_bytes()
    server.routes["/oai2"] = lambda _request: Reply(body=body)
    server.routes["/api/daily_papers"] = lambda _request: Reply(body=b"[]")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        arxiv_api_url=server.url("/api/query"),
        arxiv_oai_url=server.url("/oai2"),
        hf_api_url=server.url("/api"),
        arxiv_delay_seconds=3.0,
    )
    with make_clients(
        settings, transport=httpx.HTTPTransport(), sleep=clock.sleep, monotonic=clock.monotonic
    ) as clients:
        clients.arxiv.fetch_ids(["1605.08386"])
        assert clock.sleeps == []
        clients.oai.get_record("1507.03011")
        assert clock.sleeps == [pytest.approx(3.0)]
        clients.hf.daily_papers(date(2026, 6, 12))  # its own pacing: nothing to wait for yet
        assert clock.sleeps == [pytest.approx(3.0)]

    assert [r.path for r in server.requests] == ["/api/query", "/oai2", "/api/daily_papers"]


def test_user_agent_names_the_project(server: ReplayServer, clock: FakeClock) -> None:
    server.routes["/x"] = lambda _request: Reply(body=b"ok")
    with polite_http(clock) as http:
        http.get(server.url("/x"))
    [request] = server.requests
    assert request.headers["User-Agent"].startswith("DailyPapers/")


# -- Hugging Face ------------------------------------------------------------------------------------


def test_hf_daily_papers_replays_each_recorded_day(
    server: ReplayServer, clock: FakeClock, shared_data: Path
) -> None:
    folder = shared_data / "hf-daily-papers"
    by_day = {
        "2026-06-12": (folder / "daily_papers-2026-06-12.sotawhat.json").read_bytes(),
        "2026-07-31": (folder / "daily_papers-2026-07-31.all-news-ai.json").read_bytes(),
    }
    server.routes["/api/daily_papers"] = lambda request: Reply(
        body=by_day.get(request.param("date") or "", b"[]"), headers={"Content-Type": "application/json"}
    )
    with polite_http(clock) as http:
        client = HuggingFaceClient(http, server.url("/api"))
        june = client.daily_papers(date(2026, 6, 12))
        july = client.daily_papers(date(2026, 7, 31))
        quiet = client.daily_papers(date(2026, 8, 1))

    expected_june = [item["paper"]["id"] for item in json.loads(by_day["2026-06-12"])]
    assert ids_of(june) == expected_june
    assert len(july) == 5
    assert quiet == []
    assert [r.param("date") for r in server.requests] == ["2026-06-12", "2026-07-31", "2026-08-01"]
    assert all(r.param("limit") == "100" for r in server.requests)
