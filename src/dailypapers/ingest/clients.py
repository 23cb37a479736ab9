"""Network clients for arXiv (query API and OAI-PMH) and Hugging Face, kept apart from the parsers.

The clients only fetch bytes and hand them to the pure parsers in :mod:`dailypapers.ingest.formats`;
everything about being a good citizen lives in :class:`PoliteHttp`:

* arXiv asks for at least 3 seconds between calls, so requests to one site *start* at least
  ``min_interval`` seconds apart (``export.arxiv.org`` and ``oaipmh.arxiv.org`` are one site,
  ``arxiv.org``). The query API and OAI-PMH clients share one :class:`PoliteHttp` (see
  :func:`make_clients`) so that the pause holds across both.
* 429 and the 5xx statuses that mean "not now", timeouts and dropped connections are retried with
  exponential backoff and jitter; a ``Retry-After`` header wins over the backoff. arXiv's OAI-PMH
  endpoint uses 503 + ``Retry-After`` for flow control, so honouring it is part of normal paging.
* Any other 4xx fails at once: asking again will not change the answer.

Clock, sleep, randomness and the HTTP transport are injected, so tests drive a real local server
with a fake clock and never wait for real.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from dailypapers.errors import UpstreamError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id
from dailypapers.ingest.formats.atom import AtomPage, parse_atom
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.formats.oai import parse_oai
from dailypapers.ingest.records import PaperRecord, ParsedItem

if TYPE_CHECKING:
    from dailypapers.config import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""Called after each page with (items so far, expected total or ``None`` when unknown)."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 600.0
HF_MIN_INTERVAL_SECONDS = 0.25
ARXIV_MAX_PAGE_SIZE = 2000  # the query API refuses larger pages
ARXIV_ID_CHUNK = 100

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

    # -- requests --------------------------------------------------------------------------------

    def get(self, url: str, params: Params | None = None) -> bytes:
        """GET ``url`` and return the body, pacing and retrying as described on the class."""
        host = httpx.URL(url).host
        site = _site(host)
        label = f"{self.name} ({host})" if self.name else host
        path = httpx.URL(url).path or "/"
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            self._pace(site)
            try:
                response = self._client.get(url, params=params)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                problem = self._describe_network_error(exc)
                if attempt == attempts:
                    raise UpstreamError(
                        f"could not get {path} from {label}: {problem} after {_tries(attempt)}; "
                        "check the network connection or try again later",
                        url=url,
                    ) from None
                delay = self._backoff(attempt)
                self._wait(delay, f"{label}: {problem}; retrying in {_seconds(delay)}")
                continue
            except httpx.HTTPError as exc:
                # Not worth retrying (unsupported scheme, malformed request): say so at once.
                raise UpstreamError(
                    f"could not get {path} from {label}: {_one_line(str(exc)) or type(exc).__name__}",
                    url=url,
                ) from None

            status = response.status_code
            if response.is_success:
                return response.content
            status_text = f"HTTP {status} {response.reason_phrase}".rstrip()
            if status not in RETRY_STATUSES:
                raise UpstreamError(
                    f"{label} answered {status_text} to GET {path} after {_tries(attempt)}; "
                    "check the request and the URL settings",
                    url=str(response.request.url),
                    status=status,
                )
            if attempt == attempts:
                raise UpstreamError(
                    f"{label} answered {status_text} to GET {path} after {_tries(attempt)}; "
                    "the service is busy or down, try again later",
                    url=str(response.request.url),
                    status=status,
                )
            retry_after = self._retry_after(response)
            if retry_after is not None:
                delay, capped = retry_after
                if capped:
                    message = (
                        f"{label} asked us to wait more than {_seconds(self.max_retry_after)} "
                        f"(Retry-After: {response.headers['Retry-After']}); "
                        f"waiting {_seconds(delay)}, the most we wait"
                    )
                else:
                    message = f"{label} asked us to wait {_seconds(delay)} (Retry-After)"
            else:
                delay = self._backoff(attempt)
                message = f"{label} answered {status_text}; retrying in {_seconds(delay)}"
            self._wait(delay, message)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _pace(self, site: str) -> None:
        with self._pace_lock:
            last = self._last_start.get(site)
            if last is not None and self.min_interval > 0:
                remaining = last + self.min_interval - self._monotonic()
                if remaining > 0:
                    self._sleep(remaining)
            self._last_start[site] = self._monotonic()

    def _wait(self, seconds: float, message: str) -> None:
        logger.info(message)
        if self.on_wait is not None:
            self.on_wait(message)
        if seconds > 0:
            self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff after try number ``attempt`` (1-based), plus up to 50 % jitter."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        # Jitter keeps several clients that failed together from retrying in lock-step.
        return delay * (1.0 + 0.5 * self._rng.random())

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

    def _describe_network_error(self, exc: httpx.HTTPError) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {_seconds(self.timeout)} ({type(exc).__name__})"
        detail = _one_line(str(exc))
        return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# -- arXiv categories --------------------------------------------------------------------------------

# Archives whose subject classes are upper-case (cs.CL) and lower-case (cond-mat.mes-hall).
_UPPER_SUBJECT_ARCHIVES = frozenset(
    {"astro-ph", "cs", "econ", "eess", "math", "nlin", "q-bio", "q-fin", "stat"}
)
_LOWER_SUBJECT_ARCHIVES = frozenset({"cond-mat", "physics"})
_PLAIN_ARCHIVES = frozenset(
    {
        "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph",
        # Retired archives: their papers still carry these categories.
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph",
        "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg",
        "solv-int", "supr-con",
    }
)  # fmt: skip
_CATEGORY_RE = re.compile(r"^(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<subject>[A-Za-z]+(?:-[a-z]+)*))?$")


def validate_category(category: str) -> str:
    """Return ``category`` if it is an arXiv category (``cs.CL``, ``hep-th``); raise ``ValueError`` if not."""
    hint = "expected an arXiv category such as cs.CL, hep-th or math.AG (https://arxiv.org/category_taxonomy)"
    match = _CATEGORY_RE.match(category)
    if not match:
        raise ValueError(f"{category!r} is not an arXiv category; {hint}")
    archive, subject = match.group("archive"), match.group("subject")
    if archive in _PLAIN_ARCHIVES:
        if subject is not None:
            raise ValueError(
                f"{category!r} is not an arXiv category: {archive} has no subject classes; {hint}"
            )
        return category
    if archive in _UPPER_SUBJECT_ARCHIVES:
        if subject is not None and not re.fullmatch(r"[A-Z]{2}", subject):
            suggestion = f"; did you mean {archive}.{subject.upper()}?" if len(subject) == 2 else f"; {hint}"
            raise ValueError(
                f"{category!r} is not an arXiv category: "
                f"{archive} subject classes are two capitals{suggestion}"
            )
        return category
    if archive in _LOWER_SUBJECT_ARCHIVES:
        if subject is not None and subject != subject.lower():
            raise ValueError(
                f"{category!r} is not an arXiv category: {archive} subject classes are lower-case; "
                f"did you mean {archive}.{subject.lower()}?"
            )
        return category
    raise ValueError(f"{category!r} is not an arXiv category: unknown archive {archive!r}; {hint}")


# -- arXiv query API ---------------------------------------------------------------------------------


class ArxivApiClient:
    """The arXiv query API (Atom): searches, id look-ups and the newest papers of a category.

    Paging follows ``start``/``max_results``. arXiv sometimes answers a page with no entries although
    more results exist; such a page is asked for again ``empty_page_retries`` times before giving up.
    """

    def __init__(self, http: PoliteHttp, base_url: str, *, empty_page_retries: int = 2) -> None:
        self.http = http
        self.base_url = base_url
        self.empty_page_retries = empty_page_retries

    def search(
        self,
        query: str,
        *,
        page_size: int = 100,
        max_results: int | None = None,
        sort_by: str = "submittedDate",
        sort_order: str = "descending",
        progress: Progress | None = None,
    ) -> Iterator[ParsedItem]:
        """Every result of ``query`` (arXiv syntax, e.g. ``all:transformer AND cat:cs.LG``), in order."""
        self._check_page_size(page_size)
        if max_results is not None and max_results < 0:
            raise ValueError(f"max_results must be 0 or more, not {max_results}")
        done = 0
        for page, total in self._pages(
            query, page_size=page_size, max_results=max_results, sort_by=sort_by, sort_order=sort_order
        ):
            yield from page
            done += len(page)
            if progress is not None:
                expected = max_results if total is None else total
                if max_results is not None and total is not None:
                    expected = min(max_results, total)
                progress(done, expected)

    def fetch_ids(self, ids: Sequence[str]) -> list[ParsedItem]:
        """Look papers up by id (versioned or not), at most 100 ids per request.

        Ids that arXiv does not know are simply missing from the result.
        """
        wanted = [i.strip() for i in ids if i.strip()]
        items: list[ParsedItem] = []
        for offset in range(0, len(wanted), ARXIV_ID_CHUNK):
            chunk = wanted[offset : offset + ARXIV_ID_CHUNK]
            params: dict[str, str | int] = {"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)}
            items.extend(parse_atom(self.http.get(self.base_url, params)).items)
        return items

    def new_in_category(
        self,
        category: str,
        since: date,
        *,
        until: date | None = None,
        page_size: int = 100,
        progress: Progress | None = None,
    ) -> Iterator[ParsedItem]:
        """Papers of ``category`` first published (version 1) on or after ``since`` and up to ``until``.

        Pages go newest first; paging stops after a page in which every paper is older than ``since``
        (a whole page, so that a few out-of-order entries at a page boundary are not lost).
        Unreadable entries are passed on as they are, wherever they appear.
        """
        validate_category(category)
        self._check_page_size(page_size)
        if until is not None and until < since:
            raise ValueError(f"until ({until}) is before since ({since})")
        done = 0
        for page, _total in self._pages(
            f"cat:{category}",
            page_size=page_size,
            max_results=None,
            sort_by="submittedDate",
            sort_order="descending",
        ):
            any_recent = False
            for item in page:
                if isinstance(item, PaperRecord) and item.published is not None:
                    day = item.published.date()
                    if day < since:
                        continue
                    any_recent = True
                    if until is not None and day > until:
                        continue
                else:
                    any_recent = True  # no date to judge by: do not let it end the listing
                done += 1
                yield item
            if progress is not None:
                progress(done, None)
            if not any_recent:
                return

    def _pages(
        self,
        query: str,
        *,
        page_size: int,
        max_results: int | None,
        sort_by: str,
        sort_order: str,
    ) -> Iterator[tuple[list[ParsedItem], int | None]]:
        """Pages of results as (items, totalResults); stops at the total, at ``max_results`` or when empty."""
        start = 0
        total: int | None = None
        while True:
            want = page_size if max_results is None else min(page_size, max_results - start)
            if want <= 0 or (total is not None and start >= total):
                return
            params: dict[str, str | int] = {
                "search_query": query,
                "start": start,
                "max_results": want,
                "sortBy": sort_by,
                "sortOrder": sort_order,
            }
            page = self._fetch_page(params, start=start)
            if page.total_results is not None:
                total = page.total_results
            if not page.items:
                return
            items = page.items[:want]
            yield items, total
            start += len(items)

    def _fetch_page(self, params: Params, *, start: int) -> AtomPage:
        for attempt in range(self.empty_page_retries + 1):
            page = parse_atom(self.http.get(self.base_url, params))
            if page.items:
                return page
            # No entries where the total says there are none is the real end, not a glitch.
            if page.total_results is not None and start >= page.total_results:
                return page
            if attempt < self.empty_page_retries:
                logger.info("arXiv returned an empty page at start=%d; asking again", start)
        logger.warning(
            "arXiv kept returning an empty page at start=%d of %s results; stopping there",
            start,
            page.total_results if page.total_results is not None else "an unknown number of",
        )
        return page

    @staticmethod
    def _check_page_size(page_size: int) -> None:
        if not 1 <= page_size <= ARXIV_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {ARXIV_MAX_PAGE_SIZE}, not {page_size}")


# -- arXiv OAI-PMH -----------------------------------------------------------------------------------


class OaiClient:
    """arXiv's OAI-PMH interface: bulk harvesting by set and date, and single records.

    Flow control (503 + ``Retry-After``) is waited out by :class:`PoliteHttp`.
    """

    def __init__(self, http: PoliteHttp, base_url: str) -> None:
        self.http = http
        self.base_url = base_url

    def list_records(
        self,
        *,
        set_spec: str | None,
        from_date: date | None,
        until: date | None = None,
        metadata_prefix: str = "arXiv",
        progress: Progress | None = None,
    ) -> Iterator[ParsedItem]:
        """Every record of ``set_spec`` (``cs``, ``physics:hep-th``; ``None``: all) changed in the dates.

        Follows ``resumptionToken``; as OAI-PMH requires, later requests carry only the verb and the token.
        """
        params: dict[str, str | int] = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        if from_date is not None:
            params["from"] = from_date.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        done = 0
        total: int | None = None
        seen_tokens: set[str] = set()
        while True:
            page = parse_oai(self.http.get(self.base_url, params))
            yield from page.items
            done += len(page.items)
            if page.complete_list_size is not None:
                total = page.complete_list_size
            if progress is not None:
                progress(done, total)
            token = page.resumption_token
            if not token:
                return
            if token in seen_tokens:
                raise UpstreamError(
                    f"OAI-PMH at {httpx.URL(self.base_url).host} sent resumption token {token!r} twice; "
                    "stopping to avoid an endless harvest",
                    url=self.base_url,
                )
            seen_tokens.add(token)
            params = {"verb": "ListRecords", "resumptionToken": token}

    def get_record(self, arxiv_id: str, metadata_prefix: str = "arXiv") -> ParsedItem | None:
        """One paper by arXiv id (any version suffix is dropped: OAI-PMH knows papers, not versions)."""
        parsed = parse_arxiv_id(arxiv_id)
        if parsed is None:
            raise ValueError(f"{arxiv_id!r} is not an arXiv id (expected e.g. 2104.12255 or hep-th/9901001)")
        params = {
            "verb": "GetRecord",
            "identifier": f"oai:arXiv.org:{parsed.id}",
            "metadataPrefix": metadata_prefix,
        }
        items = parse_oai(self.http.get(self.base_url, params)).items
        return items[0] if items else None


# -- Hugging Face ------------------------------------------------------------------------------------


class HuggingFaceClient:
    """The Hugging Face daily papers feed (``/api/daily_papers``)."""

    def __init__(self, http: PoliteHttp, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def daily_papers(self, day: date, *, limit: int | None = 100) -> list[ParsedItem]:
        """The papers on the feed of ``day``; ``limit`` asks for more than the endpoint's default page."""
        params: dict[str, str | int] = {"date": day.isoformat()}
        if limit is not None:
            params["limit"] = limit
        return parse_hf_daily_papers(self.http.get(f"{self.base_url}/daily_papers", params))


# -- construction ------------------------------------------------------------------------------------


@dataclass
class Clients:
    """The three clients built from one set of settings; closing it closes their connections."""

    arxiv: ArxivApiClient
    oai: OaiClient
    hf: HuggingFaceClient

    def close(self) -> None:
        self.arxiv.http.close()
        if self.oai.http is not self.arxiv.http:
            self.oai.http.close()
        self.hf.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def make_clients(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Clients:
    """Build the arXiv, OAI-PMH and Hugging Face clients from settings.

    The arXiv query API and OAI-PMH share one :class:`PoliteHttp`, so ``arxiv_delay_seconds`` separates
    any two arXiv calls, whichever endpoint they go to.
    """
    arxiv_http = PoliteHttp.from_settings(
        settings,
        min_interval=settings.arxiv_delay_seconds,
        name="arXiv",
        transport=transport,
        sleep=sleep,
        monotonic=monotonic,
        rng=rng,
        on_wait=on_wait,
    )
    hf_http = PoliteHttp.from_settings(
        settings,
        min_interval=HF_MIN_INTERVAL_SECONDS,
        name="Hugging Face",
        transport=transport,
        sleep=sleep,
        monotonic=monotonic,
        rng=rng,
        on_wait=on_wait,
    )
    return Clients(
        arxiv=ArxivApiClient(arxiv_http, settings.arxiv_api_url),
        oai=OaiClient(arxiv_http, settings.arxiv_oai_url),
        hf=HuggingFaceClient(hf_http, settings.hf_api_url),
    )
