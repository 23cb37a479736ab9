"""Network clients for arXiv (query API and OAI-PMH) and Hugging Face, kept apart from the parsers.

The clients only fetch bytes and hand them to the pure parsers in :mod:`dailypapers.ingest.formats`;
spacing, retries and ``Retry-After`` live in :class:`~dailypapers.ingest.http.PoliteHttp`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from dailypapers.errors import UpstreamError
from dailypapers.ingest.arxiv_ids import parse_arxiv_id, validate_category
from dailypapers.ingest.formats.atom import AtomPage, parse_atom
from dailypapers.ingest.formats.hf import parse_hf_daily_papers
from dailypapers.ingest.formats.oai import parse_oai
from dailypapers.ingest.http import Params, PoliteHttp
from dailypapers.ingest.records import PaperRecord, ParsedItem

if TYPE_CHECKING:
    from dailypapers.config import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""Called after each page with (items so far, expected total or ``None`` when unknown)."""

HF_MIN_INTERVAL_SECONDS = 0.25
ARXIV_MAX_PAGE_SIZE = 2000  # the query API refuses larger pages
ARXIV_ID_CHUNK = 100


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
