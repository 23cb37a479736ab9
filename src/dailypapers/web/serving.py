"""How ``dailypapers serve`` runs uvicorn: connection limits and timeouts, and the site's own address.

uvicorn closes a keep-alive connection that stays idle after a response (``timeout_keep_alive``), but not
a connection that never finishes its first request line and headers: a client that opens connections
and sends nothing, or a byte every few seconds (slowloris), holds them for ever. The protocol classes
here add that deadline: a connection must deliver a complete request head within
``server_header_timeout_seconds`` of opening, or of the moment it started sending the next request after
a response, or it is closed. They also bound the bytes of a request head for the httptools parser as
h11's ``h11_max_incomplete_event_size`` does for h11 (431 past it). They subclass uvicorn's own protocol
classes, passed as ``http=``; nothing in uvicorn is patched.

Links in mails and the account page's examples use ``base_url``. :func:`site_address` fills it in from
the listening address in development when it was not set, and says in one line when it points to this
machine but not to where the server listens.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from uvicorn.protocols.http.h11_impl import H11Protocol

from dailypapers.config import Settings
from dailypapers.signing import is_loopback

_TOO_LARGE_TEXT = b"The request line and headers are too long."
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: "
    + str(len(_TOO_LARGE_TEXT)).encode()
    + b"\r\n\r\n"
    + _TOO_LARGE_TEXT
)


class _HeadDeadline:
    """Mixin for a uvicorn HTTP protocol: close connections whose request head is late or too large."""

    header_timeout: float = 10.0
    max_head_bytes: int = 16 * 1024

    # Set by the uvicorn protocol class this is mixed into.
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def _arm_head_deadline(self) -> None:
        self._head_cycle = self.cycle
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.header_timeout, self._head_deadline_passed
        )

    def _disarm_head_deadline(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
        self._head_timer = None

    def _head_deadline_passed(self) -> None:
        self._head_timer = None
        # Only if no new request began since the deadline was armed (a request in progress is the app's).
        if self.cycle is self._head_cycle and self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        waiting = self._waiting_for_head()
        if waiting:
            if getattr(self, "_head_timer", None) is None:
                # The first bytes of the next request on a kept-alive connection: its head has a deadline.
                self._arm_head_deadline()
            # Count the head only (up to its blank line), before the parser sees it: one read may hold
            # a whole oversized head.
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > self.max_head_bytes:
                if not self.transport.is_closing():
                    self.transport.write(HEAD_TOO_LARGE)
                    self.transport.close()
                return
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not self._head_cycle:  # a complete request head arrived
            self._disarm_head_deadline()
            self._head_cycle = self.cycle

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)  # type: ignore[misc]


class DeadlineH11Protocol(_HeadDeadline, H11Protocol):
    def __init__(self, *args: Any, header_timeout: float, max_head_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout, self.max_head_bytes = header_timeout, max_head_bytes


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a core dependency
    DeadlineHttpToolsProtocol: type[asyncio.Protocol] | None = None
else:

    class _DeadlineHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
        def __init__(self, *args: Any, header_timeout: float, max_head_bytes: int, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.header_timeout, self.max_head_bytes = header_timeout, max_head_bytes

    DeadlineHttpToolsProtocol = _DeadlineHttpToolsProtocol


def protocol_factory(settings: Settings) -> Callable[..., asyncio.Protocol]:
    """uvicorn's fastest HTTP/1.1 protocol with the request-head deadline and size limit.

    A ``partial`` of a module-level class rather than a class made on the fly: with several workers
    uvicorn pickles its configuration into each worker process.
    """
    base: Callable[..., asyncio.Protocol] = DeadlineHttpToolsProtocol or DeadlineH11Protocol
    return partial(
        base,
        header_timeout=settings.server_header_timeout_seconds,
        max_head_bytes=settings.server_max_header_bytes,
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` from the ``server_*`` settings."""
    return {
        "http": protocol_factory(settings),
        "timeout_keep_alive": settings.server_keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.server_max_header_bytes,
        "limit_concurrency": settings.server_limit_concurrency or None,
    }


def listening_url(host: str, port: int) -> str:
    """The address a browser on this machine uses to reach a server listening on ``host:port``."""
    if host in {"", "0.0.0.0"}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        is_v6 = ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        is_v6 = False
    name = f"[{host.strip('[]')}]" if is_v6 else host
    return f"http://{name}:{port}"


def _same_place(base_url: str, host: str, port: int) -> bool:
    parts = urlsplit(base_url)
    default_port = 443 if parts.scheme == "https" else 80
    if (parts.port or default_port) != port:
        return False
    wildcard = host in {"", "0.0.0.0", "::"}
    name = parts.hostname or ""
    return wildcard or name == host.strip("[]") or (is_loopback(name) and is_loopback(host))


def site_address(settings: Settings, host: str, port: int) -> tuple[Settings, str | None]:
    """``settings`` with ``base_url`` fitted to where the server listens, and a warning (or ``None``).

    In development an unset ``base_url`` becomes the listening address. A ``base_url`` naming this machine
    (loopback) at another port or address than the server's gets a one-line warning with the fix. A public
    name is not checked: behind a reverse proxy it differs from the listening address, as it should.
    """
    here = listening_url(host, port)
    if settings.environment == "development" and "base_url" not in settings.model_fields_set:
        return settings.model_copy(update={"base_url": here}), None
    hostname = urlsplit(settings.base_url).hostname or ""
    if is_loopback(hostname) and not _same_place(settings.base_url, host, port):
        return settings, (
            f"Links in mails will point to {settings.base_url}, but the site listens on {here}: "
            f"set DAILYPAPERS_BASE_URL={here} (or the public address of a proxy in front)."
        )
    return settings, None


__all__ = [
    "DeadlineH11Protocol",
    "DeadlineHttpToolsProtocol",
    "listening_url",
    "protocol_factory",
    "site_address",
    "uvicorn_options",
]
