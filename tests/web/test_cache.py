"""The page cache: emptied when the data version changes, entries expire, one render per missing page."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from dailypapers.web.cache import PageCache, make_page


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_new_data_version_empties_the_cache() -> None:
    version = ["v1"]
    clock = Clock()
    cache = PageCache(lambda: version[0], check_every=2.0, monotonic=clock)
    assert cache.claim_refresh()
    cache.refresh()
    cache.put("home", make_page(b"old", media_type="text/html"))
    assert not cache.claim_refresh()  # asked less than two seconds ago
    version[0] = "v2"
    clock.now += 2.5
    assert cache.claim_refresh()
    assert not cache.claim_refresh()  # one caller re-reads the version, the others go on
    cache.refresh()
    assert cache.get("home") is None


def test_entries_expire_after_max_age() -> None:
    clock = Clock()
    cache = PageCache(lambda: 1, max_age=60.0, monotonic=clock)
    cache.put("home", make_page(b"page", media_type="text/html", created=clock.now))
    clock.now += 59
    assert cache.get("home") is not None
    clock.now += 2
    assert cache.get("home") is None


def test_least_recently_used_pages_go_first() -> None:
    cache = PageCache(lambda: 1, max_entries=2)
    for key in ("a", "b"):
        cache.put(key, make_page(key.encode(), media_type="text/plain"))
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", make_page(b"c", media_type="text/plain"))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None


def test_no_entries_means_no_caching() -> None:
    cache = PageCache(lambda: 1, max_entries=0)
    made: list[int] = []
    for _ in range(3):
        cache.get_or_make("home", lambda: made.append(1) or make_page(b"x", media_type="text/plain"))
    assert len(made) == 3


def test_concurrent_requests_for_a_missing_page_render_it_once() -> None:
    cache = PageCache(lambda: 1)
    renders: list[int] = []

    def slow_render():  # type: ignore[no-untyped-def]
        renders.append(1)
        time.sleep(0.2)
        return make_page(b"page", media_type="text/html")

    threads = [threading.Thread(target=cache.get_or_make, args=("home", slow_render)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(renders) == 1 and cache.get("home") is not None


def test_small_pages_are_not_compressed_and_etags_follow_content() -> None:
    small = make_page(b"tiny", media_type="text/plain")
    big = make_page(b"x" * 5000, media_type="text/plain")
    assert small.gzipped is None and big.gzipped is not None and len(big.gzipped) < 100
    assert make_page(b"tiny", media_type="text/plain").etag == small.etag != big.etag


def test_an_expired_page_is_served_once_more_while_it_is_rendered_again() -> None:
    clock = Clock()
    cache = PageCache(lambda: 1, max_age=60.0, monotonic=clock)
    old = cache.put("home", make_page(b"old", media_type="text/html", created=clock.now))
    clock.now += 61
    assert cache.get("home") is None
    assert cache.get_stale("home") == (old, True)  # served, and this request has it rendered again
    assert cache.get_stale("home") == (old, False)  # served meanwhile to the others
    cache.put("home", make_page(b"new", media_type="text/html", created=clock.now))
    page = cache.get("home")
    assert page is not None and page.body == b"new"


def test_expired_pages_keep_being_served_while_they_are_rendered_again(client: TestClient) -> None:
    cache = client.app.state.page_cache
    first = client.get("/")
    cache.max_age = 0.0  # every entry is expired at once from now on
    for _ in range(5):
        response = client.get("/")
        assert response.status_code == 200 and response.text == first.text
