"""Rendered responses kept in memory, and emptied when the data they were made from changes.

Feed pages are the same for every visitor until papers, votes or comments change, so each is rendered
once per (page, parameters) and served as bytes, gzipped once, with an ``ETag`` so browsers revalidate
for the price of a 304. Whether the data changed is asked at most every ``check_every`` seconds (one
cheap aggregate query, see ``store.feed_version``, and the search index's version). Entries also expire
after ``max_age`` seconds (five minutes), which bounds how long an edit that the version does not see (a
corrected abstract) stays hidden; an expired page is served while one request renders it again in the
background, so popular pages never make their readers wait. Each worker process has its own cache:
nothing here is shared between processes.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

GZIP_MIN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str
    created: float
    cache_control: str

    def response(self, request: Request) -> Response:
        # Vary on Cookie: a signed-in visitor gets another page (auth.serve_page), which a shared cache
        # between us and the browser must not answer from this one.
        headers = {"ETag": self.etag, "Cache-Control": self.cache_control, "Vary": "Accept-Encoding, Cookie"}
        if _etag_matches(request.headers.get("if-none-match", ""), self.etag):
            return Response(status_code=304, headers=headers)
        if self.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip() for c in header.split(",")}
    return "*" in candidates or etag in candidates or etag.removeprefix("W/") in candidates


def make_page(
    body: bytes, *, media_type: str, cache_control: str = "no-cache", created: float | None = None
) -> CachedPage:
    digest = hashlib.blake2b(body, digest_size=10).hexdigest()
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return CachedPage(
        body=body,
        gzipped=gzipped,
        etag=f'W/"{digest}"',
        media_type=media_type,
        created=time.monotonic() if created is None else created,
        cache_control=cache_control,
    )


class PageCache:
    """A bounded LRU of :class:`CachedPage`, cleared whenever ``version()`` returns something new."""

    def __init__(
        self,
        version: Callable[[], Hashable],
        *,
        check_every: float = 2.0,
        max_age: float = 300.0,
        max_entries: int = 2048,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._version_of = version
        self.check_every = check_every
        self.max_age = max_age
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}
        self._stale: set[Hashable] = set()
        self._version: Hashable = None
        self._checked = -float("inf")
        self.hits = 0
        self.misses = 0

    @property
    def version(self) -> Hashable:
        return self._version

    def claim_refresh(self) -> bool:
        """True for the one caller that should re-read the data version now (others go on)."""
        with self._lock:
            now = self._monotonic()
            if now - self._checked < self.check_every:
                return False
            self._checked = now
            return True

    def refresh(self) -> None:
        """Ask for the data version (a database query: call it from a worker thread)."""
        version = self._version_of()
        with self._lock:
            if version != self._version:
                self._version = version
                self._entries.clear()
                self._stale.clear()

    def get(self, key: Hashable) -> CachedPage | None:
        with self._lock:
            page = self._entries.get(key)
            if page is None:
                return None
            if self._monotonic() - page.created > self.max_age:
                return None  # kept for get_stale until a new page replaces it
            self._entries.move_to_end(key)
            self.hits += 1
            return page

    def get_stale(self, key: Hashable) -> tuple[CachedPage | None, bool]:
        """An entry past ``max_age`` (but made from the current data), and whether to re-render it.

        Every caller may serve the expired entry while one of them, the first, renders it again: a
        popular page never makes its requests wait for a new rendering.
        """
        with self._lock:
            page = self._entries.get(key)
            if page is None or self._monotonic() - page.created <= self.max_age:
                return None, False
            first = key not in self._stale
            self._stale.add(key)
            return page, first

    def put(self, key: Hashable, page: CachedPage) -> CachedPage:
        with self._lock:
            self._stale.discard(key)
            self._entries[key] = page
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return page

    def get_or_make(self, key: Hashable, make: Callable[[], CachedPage]) -> CachedPage:
        """The cached page, or a new one; concurrent requests for the same missing page make it once."""
        page = self.get(key)
        if page is not None:
            return page
        with self._lock:
            key_lock = self._rendering.setdefault(key, threading.Lock())
        try:
            with key_lock:
                page = self.get(key)
                if page is not None:
                    return page
                self.misses += 1
                return self.put(key, make())
        finally:
            with self._lock:
                self._rendering.pop(key, None)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._stale.discard(key)
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._stale.clear()


async def serve_cached(
    request: Request, cache: PageCache, key: Hashable, make: Callable[[], CachedPage]
) -> Response:
    """The cached response for ``key``, rendering it in a worker thread when missing.

    The hit path stays on the event loop and touches no database; the data version is re-read (in a
    worker thread) by one request every ``check_every`` seconds.
    """
    from starlette.concurrency import run_in_threadpool

    if cache.claim_refresh():
        await run_in_threadpool(cache.refresh)
    page = cache.get(key)
    if page is None:
        stale, render_again = cache.get_stale(key)
        if stale is not None:
            # Serve the expired page while it is rendered again in the background.
            if render_again:
                task = asyncio.create_task(_rerender(cache, key, make))
                _background.add(task)
                task.add_done_callback(_background.discard)
            return stale.response(request)
        page = await run_in_threadpool(cache.get_or_make, key, make)
    return page.response(request)


_background: set[asyncio.Task[None]] = set()  # referenced until done, as asyncio asks


async def _rerender(cache: PageCache, key: Hashable, make: Callable[[], CachedPage]) -> None:
    from starlette.concurrency import run_in_threadpool

    try:
        page = await run_in_threadpool(make)
    except Exception:  # the next request renders it again and reports the error itself
        cache.forget(key)
        return
    cache.put(key, page)


__all__ = ["CachedPage", "PageCache", "make_page", "serve_cached"]
