"""Polite HTTP for upstream services: spacing between calls, retries with backoff, Retry-After, deadlines.

* arXiv asks for at least 3 seconds between calls, so requests to one site *start* at least
  ``min_interval`` seconds apart (``export.arxiv.org`` and ``oaipmh.arxiv.org`` are one site,
  ``arxiv.org``). The query API and OAI-PMH clients share one :class:`PoliteHttp` so that the pause
  holds across both.
* 429 and the 5xx statuses that mean "not now", timeouts and dropped connections are retried with
  exponential backoff and jitter; a ``Retry-After`` header wins over the backoff. arXiv's OAI-PMH
  endpoint uses 503 + ``Retry-After`` for flow control, so honouring it is part of normal paging.
* A host name that does not resolve and a connection that is refused or cannot be routed fail at once:
  they say that the address is wrong or the network is down, which waiting a minute rarely changes, and
  retrying them like a busy server kept callers waiting for minutes.
* Any other 4xx fails at once: asking again will not change the answer.
* Callers that must answer someone who waits (the web site) run their calls under :meth:`deadline`:
  every try, pause and wait then fits in a total budget, and what would pass it fails at once.

Clock, sleep, randomness and the HTTP transport are injected, so tests drive a real local server
with a fake clock and never wait for real.
"""

from __future__ import annotations

import errno
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from dailypapers.errors import UpstreamError

if TYPE_CHECKING:
    from dailypapers.config import Settings

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 600.0
UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH})

Params = Mapping[str, str | int]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _site(host: str) -> str:
    """The part of a host name that pacing is keyed on: its last two labels, or the whole IP address.

    arXiv serves the query API and OAI-PMH from different hosts (export.arxiv.org, oaipmh.arxiv.org)
    but asks for the pause between any two of its calls. Treating ``a.co.uk`` and ``b.co.uk`` as one
    site would only make us slower, never ruder.
    """
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    return ".".join(host.split(".")[-2:])


def _tries(count: int) -> str:
    return f"{count} try" if count == 1 else f"{count} tries"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"


def unreachable_reason(exc: BaseException) -> str | None:
    """Why a connection could not even be opened, when retrying soon will not help; else ``None``.

    httpx wraps the operating system's error twice (httpx, then httpcore), so the chain is walked.
    """
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is short; the bound only guards against a cycle
        if seen is None:
            return None
        if isinstance(seen, socket.gaierror):
            return "its host name could not be resolved"
        if isinstance(seen, OSError) and seen.errno in UNREACHABLE_ERRNOS:
            if seen.errno == errno.ECONNREFUSED:
                return "the connection was refused"
            return "there is no route to it"
        seen = seen.__cause__ or seen.__context__
    return None


class _OutOfTime(Exception):
    """The next step would pass the caller's deadline."""


class PoliteHttp:
    """An HTTP client that paces requests per host and retries what is worth retrying.

    ``get`` returns the body of a 2xx response or raises :class:`UpstreamError` with a one-line
    message naming the host, the last status or network error and the number of tries.
    ``on_wait`` receives a short sentence before each retry wait so the CLI can show why it pauses;
    the routine ``min_interval`` pause is not reported.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 30.0,
        max_retries: int = 5,
        min_interval: float = 0.0,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
        on_wait: Callable[[str], None] | None = None,
        backoff_base: float = 2.0,
        backoff_max: float = 120.0,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        if min_interval < 0:
            raise ValueError(f"min_interval must be 0 or more seconds, not {min_interval}")
        self.timeout = timeout
        self.max_retries = max_retries
        self.min_interval = min_interval
        self.name = name
        self.on_wait = on_wait
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent},
            follow_redirects=True,
        )
        self._last_start: dict[str, float] = {}
        # One lock for the pacing bookkeeping: two threads sharing this client must not both decide
        # that the interval has passed and fire at once. It is held while pausing, which is the point.
        self._pace_lock = threading.Lock()
        # Deadlines are per thread: the web app's look-up workers share this client, each with its own.
        self._local = threading.local()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        min_interval: float,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> PoliteHttp:
        return cls(
            user_agent=settings.user_agent,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
            min_interval=min_interval,
            name=name,
            transport=transport,
            sleep=sleep,
            monotonic=monotonic,
            rng=rng,
            on_wait=on_wait,
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Within the block, every ``get`` of this thread ends by ``at`` (on the injected ``monotonic``
        clock): request timeouts shrink to the time left, and a pause, backoff or ``Retry-After`` wait that
        would end later fails at once with :class:`UpstreamError` instead of sleeping."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = at if previous is None else min(at, previous)
        try:
            yield
        finally:
            self._local.deadline = previous

    def _time_left(self) -> float | None:
        deadline: float | None = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline - self._monotonic()

    # -- requests --------------------------------------------------------------------------------

    def get(self, url: str, params: Params | None = None) -> bytes:
        """GET ``url`` and return the body, pacing and retrying as described on the class."""
        host = httpx.URL(url).host
        label = f"{self.name} ({host})" if self.name else host
        path = httpx.URL(url).path or "/"
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._pace(_site(host))
                response = self._send(url, params, label=label, path=path)
            except _OutOfTime as out:
                raise UpstreamError(
                    f"gave up on GET {path} from {label} after {_tries(attempt - 1)}: {out}", url=url
                ) from None
            if isinstance(response, httpx.Response):
                if response.is_success:
                    return response.content
                self._check_status(
                    response, label=label, path=path, attempt=attempt, last=attempt == attempts
                )
                delay, message = self._status_wait(response, label, attempt)
            else:
                if attempt == attempts:
                    raise UpstreamError(
                        f"could not get {path} from {label}: {response} after {_tries(attempt)}; "
                        "check the network connection or try again later",
                        url=url,
                    )
                delay = self._backoff(attempt)
                message = f"{label}: {response}; retrying in {_seconds(delay)}"
            try:
                self._wait(delay, message)
            except _OutOfTime as out:
                problem = message.split(";")[0]
                raise UpstreamError(
                    f"{problem} (GET {path}); gave up after {_tries(attempt)}: {out}", url=url
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _send(self, url: str, params: Params | None, *, label: str, path: str) -> httpx.Response | str:
        """One try: the response, or a sentence saying which network error is worth another try."""
        left = self._time_left()
        timeout = self.timeout if left is None else min(self.timeout, left)
        if timeout <= 0:
            raise _OutOfTime("no time was left for another try")
        try:
            return self._client.get(url, params=params, timeout=timeout)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            reason = unreachable_reason(exc)
            if reason is not None:
                raise UpstreamError(
                    f"could not reach {label} for GET {path}: {reason}; "
                    "check the network connection and the URL settings",
                    url=url,
                ) from None
            return self._describe_network_error(exc, timeout)
        except httpx.HTTPError as exc:
            # Not worth retrying (unsupported scheme, malformed request): say so at once.
            raise UpstreamError(
                f"could not get {path} from {label}: {_one_line(str(exc)) or type(exc).__name__}",
                url=url,
            ) from None

    def _check_status(
        self, response: httpx.Response, *, label: str, path: str, attempt: int, last: bool
    ) -> None:
        """Raise for a status that is not worth another try, or for the last try."""
        status = response.status_code
        status_text = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status not in RETRY_STATUSES:
            raise UpstreamError(
                f"{label} answered {status_text} to GET {path} after {_tries(attempt)}; "
                "check the request and the URL settings",
                url=str(response.request.url),
                status=status,
            )
        if last:
            raise UpstreamError(
                f"{label} answered {status_text} to GET {path} after {_tries(attempt)}; "
                "the service is busy or down, try again later",
                url=str(response.request.url),
                status=status,
            )

    def _status_wait(self, response: httpx.Response, label: str, attempt: int) -> tuple[float, str]:
        """How long to wait after a 429 or 5xx, and the sentence that says why."""
        retry_after = self._retry_after(response)
        if retry_after is None:
            delay = self._backoff(attempt)
            status_text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            return delay, f"{label} answered {status_text}; retrying in {_seconds(delay)}"
        delay, capped = retry_after
        if capped:
            return delay, (
                f"{label} asked us to wait more than {_seconds(self.max_retry_after)} "
                f"(Retry-After: {response.headers['Retry-After']}); "
                f"waiting {_seconds(delay)}, the most we wait"
            )
        return delay, f"{label} asked us to wait {_seconds(delay)} (Retry-After)"

    def _pace(self, site: str) -> None:
        left = self._time_left()
        # Under a deadline the lock is waited for no longer than the time left (a thread holding it may
        # be pausing for arXiv's interval); without one, as long as it takes.
        if not self._pace_lock.acquire(timeout=-1 if left is None else max(0.0, left)):
            raise _OutOfTime("other calls to the same site were still waiting for their turn")
        try:
            last = self._last_start.get(site)
            if last is not None and self.min_interval > 0:
                remaining = last + self.min_interval - self._monotonic()
                if remaining > 0:
                    left = self._time_left()
                    if left is not None and remaining >= left:
                        raise _OutOfTime(f"its turn would come in {_seconds(remaining)}, after the time left")
                    self._sleep(remaining)
            self._last_start[site] = self._monotonic()
        finally:
            self._pace_lock.release()

    def _wait(self, seconds: float, message: str) -> None:
        left = self._time_left()
        if left is not None and seconds >= left:
            raise _OutOfTime(f"the next try would be in {_seconds(seconds)}, after the time left")
        logger.info(message)
        if self.on_wait is not None:
            self.on_wait(message)
        if seconds > 0:
            self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff after try number ``attempt`` (1-based), plus up to 50 % jitter."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        # Jitter keeps several clients that failed together from retrying in lock-step.
        return float(delay * (1.0 + 0.5 * self._rng.random()))

    def _retry_after(self, response: httpx.Response) -> tuple[float, bool] | None:
        """Seconds to wait from a ``Retry-After`` header, and whether they were capped; ``None`` if absent."""
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        value = value.strip()
        seconds: float
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            # Measure against the server's own Date header when there is one, so that a skewed local
            # clock does not turn "in 30 seconds" into "now" or "in an hour".
            reference = self._wall_clock()
            server_date = response.headers.get("Date")
            if server_date:
                try:
                    reference = parsedate_to_datetime(server_date)
                    if reference.tzinfo is None:
                        reference = reference.replace(tzinfo=UTC)
                except (TypeError, ValueError, IndexError):
                    reference = self._wall_clock()
            seconds = max(0.0, (when - reference).total_seconds())
        if seconds > self.max_retry_after:
            return self.max_retry_after, True
        return seconds, False

    def _describe_network_error(self, exc: httpx.HTTPError, timeout: float) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {_seconds(timeout)} ({type(exc).__name__})"
        detail = _one_line(str(exc))
        return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
