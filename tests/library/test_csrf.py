"""Every form of the library is in the CSRF test of the community (``tests/community/test_csrf.py``),
which posts each one without this browser's token and expects 403 with nothing written."""

from __future__ import annotations

from fastapi.routing import APIRoute

from dailypapers.web import library
from tests.community.test_csrf import FORM_ROUTERS, post_routes


def test_every_library_form_is_checked_for_its_csrf_token() -> None:
    assert library.router in FORM_ROUTERS
    posts = {
        route.path
        for route in library.router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    }
    assert len(posts) == 10
    assert posts <= set(post_routes())
