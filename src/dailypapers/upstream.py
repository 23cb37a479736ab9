"""Looking papers up on arXiv for the web site: a few at a time, each within a total time budget.

A visitor who submits or fetches a paper that the site does not have yet waits for arXiv. Done inside
the request as it was, a look-up held a web worker thread while the client retried for minutes, and a
burst of them held every worker, so no page could be served. Here the look-ups run on a small pool of
threads of their own (``submission_fetch_concurrency``); as many more may wait for a free thread, and
any beyond that are refused at once with :class:`~dailypapers.errors.UpstreamBusy`, so that at most
``2 × concurrency`` requests are ever waiting for arXiv. Each look-up has a deadline
(``submission_fetch_budget_seconds`` from the start of the request, waiting included): the HTTP
client shortens its timeouts to it and gives up rather than pause, back off or honour a
``Retry-After`` past it, and the caller stops waiting at the deadline even if the thread has not given
up yet.

The command line's fetches do not come through here: a person running ``dailypapers papers fetch`` can
wait for arXiv's flow control, and should.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable

import httpx

from dailypapers.config import Settings
from dailypapers.errors import IngestError, UpstreamBusy, UpstreamError
from dailypapers.ingest.clients import ArxivApiClient
from dailypapers.ingest.http import PoliteHttp
from dailypapers.ingest.records import PaperRecord

FINISH_RESERVE_SECONDS = 0.5


class PaperFetcher:
    """Looks one arXiv paper up at a time per worker, within ``budget`` seconds, for the web app."""

    def __init__(
        self,
        client: ArxivApiClient,
        *,
        concurrency: int,
        budget: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, not {concurrency}")
        if budget <= 0:
            raise ValueError(f"budget must be more than 0 seconds, not {budget}")
        self.client = client
        self.concurrency = concurrency
        self.budget = budget
        self._monotonic = monotonic
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="arxiv-lookup"
        )
        # A slot is taken before a look-up is queued and given back when its thread is done with it,
        # not when the visitor stops waiting: a look-up that overruns still holds its slot, so the number
        # of requests tied to arXiv never exceeds the bound, however slow arXiv is.
        self._slots = threading.BoundedSemaphore(2 * concurrency)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> PaperFetcher:
        budget = settings.submission_fetch_budget_seconds
        http = PoliteHttp(
            user_agent=settings.user_agent,
            timeout=min(settings.http_timeout_seconds, budget),
            max_retries=settings.http_max_retries,
            min_interval=settings.arxiv_delay_seconds,
            name="arXiv",
            transport=transport,
            sleep=sleep,
            monotonic=monotonic,
        )
        client = ArxivApiClient(http, settings.arxiv_api_url)
        return cls(
            client, concurrency=settings.submission_fetch_concurrency, budget=budget, monotonic=monotonic
        )

    def close(self) -> None:
        """Stop taking look-ups; those queued are dropped, those running end by their deadline."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.client.http.close()

    def budgeted(self) -> Callable[[str], PaperRecord | None]:
        """:meth:`fetch` with a budget that starts now, at the start of a request: the time the request
        spends before it asks (checking the daily limit, waiting for the database) comes out of it."""
        deadline = self._monotonic() + self.budget - self._reserve()
        return lambda arxiv_id: self.fetch(arxiv_id, deadline=deadline)

    def _reserve(self) -> float:
        # Kept back from the budget for what follows the look-up (recording the outcome, the answer), so
        # that the visitor's whole wait stays within the budget.
        return min(FINISH_RESERVE_SECONDS, self.budget / 10)

    def fetch(self, arxiv_id: str, *, deadline: float | None = None) -> PaperRecord | None:
        """The paper ``arxiv_id`` (without version) as arXiv describes it, or ``None`` if arXiv has none.

        Blocks until ``deadline`` (on this fetcher's clock; by default the budget from now). Raises
        :class:`UpstreamBusy` at once when every slot is taken, and :class:`UpstreamError` when arXiv failed
        or did not answer in time.
        """
        if deadline is None:
            deadline = self._monotonic() + self.budget
        if not self._slots.acquire(blocking=False):
            raise UpstreamBusy(
                f"{2 * self.concurrency} arXiv look-ups are already running or waiting; not starting another"
            )
        try:
            future = self._executor.submit(self._look_up, arxiv_id, deadline)
        except RuntimeError:  # shut down: the app is stopping
            self._slots.release()
            raise UpstreamError("the site is shutting down; arXiv was not asked") from None
        future.add_done_callback(lambda _future: self._slots.release())
        try:
            return future.result(timeout=max(0.0, deadline - self._monotonic()))
        except concurrent.futures.TimeoutError:
            future.cancel()  # still queued: it will not start; running: it ends by its deadline
            raise UpstreamError(f"arXiv did not answer the look-up of {arxiv_id} in time") from None
        except concurrent.futures.CancelledError:
            raise UpstreamError("the site is shutting down; arXiv was not asked") from None

    def _look_up(self, arxiv_id: str, deadline: float) -> PaperRecord | None:
        if self._monotonic() >= deadline:
            raise UpstreamError(f"the look-up of {arxiv_id} waited its whole budget for a turn")
        try:
            with self.client.http.deadline(deadline):
                items = self.client.fetch_ids([arxiv_id])
        except IngestError as exc:
            raise UpstreamError(
                f"arXiv answered the look-up of {arxiv_id} with something unreadable: {exc}"
            ) from None
        for item in items:
            if isinstance(item, PaperRecord) and item.arxiv_id == arxiv_id:
                return item
        return None


__all__ = ["PaperFetcher"]
