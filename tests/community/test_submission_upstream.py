"""When arXiv refuses, stays silent or is swamped, a submission answers in plain words within its budget,
counts toward the daily limit, and leaves the rest of the site alone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.errors import UpstreamError
from tests.community.submitting import outcomes, page_text, send_form, silent_arxiv
from tests.community.support import Clock, app_client, log_in, make_token, make_user
from tests.live_server import LiveServer
from tests.loopback import free_port
from tests.replay import ReplayServer

UNREACHABLE = (
    "arXiv could not be reached just now; your submission was not added. Try again in a few minutes."
)
BUSY = "Many papers are being looked up on arXiv right now; your submission was not added."


@pytest.fixture
def refusing_arxiv(settings: Settings) -> Settings:
    """arXiv at a loopback port where nothing listens: every connection is refused."""
    return settings.model_copy(
        update={"arxiv_api_url": f"http://127.0.0.1:{free_port()}/api/query", "submission_max_age_days": 0}
    )


@pytest.fixture
def silent() -> Iterator[ReplayServer]:
    server = silent_arxiv(5.0)
    yield server
    server.stop()


def test_a_refused_connection_is_told_in_plain_words_and_counts(
    refusing_arxiv: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    make_user(papers, "ada")
    configured = refusing_arxiv.model_copy(update={"submissions_per_day": 1, "http_max_retries": 1})
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        response = send_form(client, "/submit", "2607.99999")
        assert response.status_code == 503
        text = page_text(response)
        assert UNREACHABLE in text
        assert "127.0.0.1" not in text and "refused" not in text and "Error" not in text
        assert int(response.headers["retry-after"]) > 0
        again = send_form(client, "/submit", "2607.99998")
    assert again.status_code == 429
    assert outcomes(papers, "ada") == [("submit", "2607.99999", "failed")]


def test_an_arxiv_that_never_answers_is_given_up_on_within_the_budget(
    settings: Settings, papers: sessionmaker[Session], clock: Clock, silent: ReplayServer
) -> None:
    make_user(papers, "ada")
    configured = settings.model_copy(
        update={
            "arxiv_api_url": silent.url("/api/query"),
            "submission_fetch_budget_seconds": 0.5,
            "http_timeout_seconds": 30.0,
        }
    )
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        started = time.monotonic()
        response = send_form(client, "/submit", "2607.99999")
        waited = time.monotonic() - started
    assert response.status_code == 503 and UNREACHABLE in page_text(response)
    # Half a second of budget against a 30 s timeout and a server that would answer after 5 s: the
    # margin only absorbs a slow machine.
    assert waited < 3.0
    assert len(silent.requests) == 1
    assert outcomes(papers, "ada") == [("submit", "2607.99999", "failed")]


@pytest.fixture
def trickling_arxiv() -> Iterator[str]:
    """An arXiv that answers 200 at once and then sends its body a byte every tenth of a second, so that
    no single read ever times out: only a deadline on the whole look-up ends it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n")
                connection.sendall(b"Content-Length: 100000\r\n\r\n")
                for _ in range(50):
                    if stopping.is_set():
                        break
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/query"
    stopping.set()
    thread.join(timeout=10)
    listener.close()


def test_an_arxiv_that_trickles_its_answer_is_cut_off_at_the_budget(
    settings: Settings, papers: sessionmaker[Session], clock: Clock, trickling_arxiv: str
) -> None:
    make_user(papers, "ada")
    configured = settings.model_copy(
        update={"arxiv_api_url": trickling_arxiv, "submission_fetch_budget_seconds": 0.5}
    )
    with app_client(configured, clock) as client:
        log_in(client, "ada")
        started = time.monotonic()
        response = send_form(client, "/submit", "2607.99999")
        waited = time.monotonic() - started
    assert response.status_code == 503 and UNREACHABLE in page_text(response)
    assert waited < 3.0  # the body alone would take 5 s


def test_a_burst_of_submissions_waits_for_arxiv_a_few_at_a_time(
    settings: Settings, papers: sessionmaker[Session], silent: ReplayServer
) -> None:
    token = make_token(papers, make_user(papers, "ada"))
    configured = settings.model_copy(
        update={
            "arxiv_api_url": silent.url("/api/query"),
            "submission_fetch_budget_seconds": 1.5,
            "submission_fetch_concurrency": 1,
            "submissions_per_day": 50,
        }
    )
    with LiveServer(configured, Clock()) as server, httpx.Client(base_url=server.url, timeout=20) as http:

        def one(n: int) -> httpx.Response:
            return http.post(
                "/api/papers/submit",
                json={"id": f"2607.{90000 + n}"},
                headers={"Authorization": f"Bearer {token}"},
            )

        with ThreadPoolExecutor(8) as pool:
            pending = [pool.submit(one, n) for n in range(8)]
            time.sleep(0.3)
            about = http.get("/about")  # while the look-ups are waiting on arXiv
            answers = [future.result() for future in pending]
    assert about.status_code == 200
    assert all(answer.status_code == 503 for answer in answers)
    messages = sorted(answer.json()["error"] for answer in answers)
    # One look-up runs and one waits for its turn; the six others are told at once that arXiv is busy.
    assert sum(BUSY in message for message in messages) == 6
    assert sum(UNREACHABLE in message for message in messages) == 2
    # At most the two look-ups that got a slot reached arXiv (the second one only if its turn came before
    # its budget ran out).
    assert 1 <= len(silent.requests) <= 2
    assert sorted(o for _, _, o in outcomes(papers, "ada")) == ["busy"] * 6 + ["failed"] * 2


def test_the_api_answers_503_in_plain_words(
    refusing_arxiv: Settings, papers: sessionmaker[Session], clock: Clock
) -> None:
    token = make_token(papers, make_user(papers, "ada"))
    with app_client(refusing_arxiv, clock) as client:
        answer = client.post(
            "/api/papers/submit", json={"id": "2607.99999"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 503
    assert answer.json() == {"error": UNREACHABLE, "status": 503}
    assert "retry-after" in answer.headers


def test_the_fetcher_is_closed_with_the_app(settings: Settings, papers: sessionmaker[Session]) -> None:
    with app_client(settings, Clock()) as client:
        fetcher = client.app.state.paper_fetcher  # type: ignore[attr-defined]
    with pytest.raises(UpstreamError, match="shutting down"):
        fetcher.fetch("2607.99999")
