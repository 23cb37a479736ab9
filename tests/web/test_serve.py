"""``dailypapers serve`` as an operator starts it: connection limits, body limit, the site's address and key.

The server runs as a subprocess on a free loopback port; raw sockets play the clients that a proxy would
have to fend off (one that sends nothing, one that sends half a request, one that announces 200 MB).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from dailypapers.config import Settings
from dailypapers.errors import ConfigurationError
from dailypapers.web.app import create_app
from dailypapers.web.serving import listening_url, site_address
from tests.loopback import free_port

HEADER_TIMEOUT = 1.0


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return sock

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


def serve_command(port: int) -> list[str]:
    return [str(Path(sys.executable).with_name("dailypapers")), "serve", "--port", str(port)]


def start_serve(cli_env: dict[str, str], **env: str) -> Served:
    port = free_port()
    command = serve_command(port)
    environment = {
        **os.environ,
        **cli_env,
        "DAILYPAPERS_SERVER_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "DAILYPAPERS_SERVER_KEEP_ALIVE_SECONDS": "1",
        "DAILYPAPERS_MAX_REQUEST_BODY_BYTES": "4096",
        **env,
    }
    environment.pop("DAILYPAPERS_BASE_URL", None) if "DAILYPAPERS_BASE_URL" not in env else None
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    served = Served(port, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            served.connect().close()
            return served
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start: {served.stop()}") from None
            time.sleep(0.1)


@pytest.fixture
def served(cli_env: dict[str, str]) -> Iterator[Served]:
    server = start_serve(cli_env)
    try:
        yield server
    finally:
        server.stop()


def closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``sock`` within ``seconds``, and what it sent before."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
        return True, received
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        return True, received


def test_serve_closes_a_connection_that_sends_nothing(served: Served) -> None:
    with served.connect() as sock:
        started = time.monotonic()
        closed, _ = closed_within(sock, HEADER_TIMEOUT + 5)
        assert closed and time.monotonic() - started < HEADER_TIMEOUT + 3


def test_serve_closes_a_connection_that_never_finishes_its_headers(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(3):  # a byte now and then does not keep it open
            time.sleep(HEADER_TIMEOUT / 3)
            try:
                sock.sendall(b"X")
            except OSError:
                break
        closed, _ = closed_within(sock, HEADER_TIMEOUT + 5)
        assert closed


def test_serve_still_answers_and_keeps_alive_within_the_limits(served: Served) -> None:
    with served.connect() as sock:
        for _ in range(2):
            sock.sendall(b"GET /about HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.settimeout(10)
            head = sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200"), head[:100]
            while b"</html>" not in head:
                head += sock.recv(65536)
        closed, _ = closed_within(sock, 5)  # idle after a response: closed after the keep-alive time
        assert closed


def test_serve_refuses_a_body_over_the_limit_before_it_arrives(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(
            b"POST /api/papers/submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200000000\r\n\r\n{"id": '
        )
        closed, answer = closed_within(sock, 10)  # answered at once, and closed: the body is never read
    assert closed and answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"The request body is larger than 4 KiB, the most this site accepts."' in answer


def test_serve_refuses_request_headers_over_the_limit(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 40_000 + b"\r\n\r\n")
        closed, answer = closed_within(sock, 10)
    assert closed and answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_serve_warns_when_the_base_url_names_another_local_port(cli_env: dict[str, str]) -> None:
    server = start_serve(cli_env, DAILYPAPERS_BASE_URL="http://127.0.0.1:8000")
    err = server.stop()
    expected = (
        f"Links in mails will point to http://127.0.0.1:8000, but the site listens on "
        f"http://127.0.0.1:{server.port}: set DAILYPAPERS_BASE_URL=http://127.0.0.1:{server.port}"
    )
    assert expected in " ".join(err.split()), err


def test_serve_does_not_warn_when_the_base_url_is_where_it_listens(cli_env: dict[str, str]) -> None:
    server = start_serve(cli_env)
    assert "Links in mails" not in server.stop()


@pytest.mark.parametrize(
    ("configured", "host", "port", "base_url", "warns"),
    [
        ({}, "127.0.0.1", 8080, "http://127.0.0.1:8080", False),  # development: derived
        ({}, "0.0.0.0", 9000, "http://127.0.0.1:9000", False),
        ({}, "::1", 9000, "http://[::1]:9000", False),
        ({"base_url": "http://localhost:8080"}, "127.0.0.1", 8080, "http://localhost:8080", False),
        ({"base_url": "http://127.0.0.1:8000"}, "127.0.0.1", 8080, "http://127.0.0.1:8000", True),
        ({"base_url": "https://papers.example.org"}, "127.0.0.1", 8080, "https://papers.example.org", False),
        ({"environment": "production"}, "127.0.0.1", 8080, "http://127.0.0.1:8000", True),
    ],
)
def test_the_site_address_follows_where_serve_listens(
    tmp_path: Path, configured: dict[str, str], host: str, port: int, base_url: str, warns: bool
) -> None:
    settings = Settings(data_dir=tmp_path, **configured)  # type: ignore[arg-type]
    fitted, warning = site_address(settings, host, port)
    assert fitted.base_url == base_url
    assert (warning is not None) == warns
    if warning:
        assert "\n" not in warning and f"DAILYPAPERS_BASE_URL={listening_url(host, port)}" in warning


WEAK_KEY = "changeme"


@pytest.mark.parametrize(
    "configured",
    [{"smtp_host": "mail.example.org"}, {"environment": "production"}],
    ids=["mail goes out", "production"],
)
def test_an_app_with_a_weak_key_is_refused_when_it_is_made(
    tmp_path: Path, configured: dict[str, str]
) -> None:
    """The key signs the links in account and digest mails, so the app refuses it before serving anything,
    not at the first sign-up."""
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr(WEAK_KEY), **configured)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="DAILYPAPERS_SECRET_KEY is unusable"):
        create_app(settings)


def test_a_weak_key_is_kept_for_local_use_without_mail(tmp_path: Path) -> None:
    create_app(Settings(data_dir=tmp_path, secret_key=SecretStr(WEAK_KEY)))  # development: accepted


def test_serve_refuses_a_weak_key_when_mail_goes_out(cli_env: dict[str, str]) -> None:
    """On loopback the address is no reason to refuse, but real mail is: serve stops before it listens,
    with the CLI's one-line message and EX_CONFIG, as it does for a weak key on a public address."""
    environment = {
        **os.environ,
        **cli_env,
        "DAILYPAPERS_SECRET_KEY": WEAK_KEY,
        "DAILYPAPERS_SMTP_HOST": "127.0.0.1",
    }
    done = subprocess.run(
        serve_command(free_port()), env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 78, done.stderr
    assert "DAILYPAPERS_SECRET_KEY is unusable" in done.stderr and "Traceback" not in done.stderr
