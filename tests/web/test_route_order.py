"""The order in which ``create_app`` includes the route modules' routers matters for one path only.

Every route is asked for with its own method at a concrete path, through the real app (requests without
a session, a CSRF token or an API token, so nothing is written), and the endpoint that served it is
noted. Included in reverse order, the routers serve every one of those requests from the same endpoint
but one: ``GET /api/papers/{id}/comments`` (``api_community``) is also a path of
``GET /api/papers/{paper_id:path}`` (``api``), whose id may hold slashes (``hep-th/9901001``, an arXiv
link), so ``api_community`` has to be included first, as ``app.py`` says where it does.

Paths that overlap only across methods (``POST /papers/{id}/upvote`` against ``GET /papers/{id}``) are
served the same either way: Starlette takes a route that fits path and method before one that fits the
path alone. What the order does change there is the ``Allow`` header of a 405 for a method that no route
takes (``PUT``): it names the methods of the first route whose path fits, whichever that is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from dailypapers.config import Settings
from dailypapers.web.app import create_app
from tests.web.support import fixed_clock

PAPER_IDS = ("2104.12255", "hep-th/9901001")
# Served by another endpoint when the routers are included in reverse order (see the docstring).
ORDER_DEPENDENT = {("GET", "/api/papers/{paper_id:path}/comments")}

Resolved = dict[tuple[str, str], tuple[str, int]]


class EndpointProbe:
    """The app, noting which endpoint the router picked for the last request (``scope["endpoint"]``)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.endpoint: Callable[..., Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.endpoint = scope.get("endpoint")


def build_app(settings: Settings, *, reverse: bool) -> tuple[FastAPI, list[APIRouter]]:
    """``create_app(settings)``, with its routers included in its own order or the reverse one.

    ``app.py`` keeps its routers in its body, so the calls to ``include_router`` are collected while it
    runs and made afterwards, in the order asked for."""
    included: list[tuple[APIRouter, dict[str, Any]]] = []
    include = FastAPI.include_router

    def collect(self: FastAPI, router: APIRouter, **options: Any) -> None:
        included.append((router, options))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastAPI, "include_router", collect)
        app = create_app(settings, now=fixed_clock)
    for router, options in reversed(included) if reverse else included:
        include(app, router, **options)
    return app, [router for router, _ in included]


def concrete_paths(route: APIRoute) -> list[str]:
    """The route's path with its parameters filled in (a paper id with and without a slash)."""
    plain = re.sub(r"\{\w+\}", "7", route.path)
    return sorted({re.sub(r"\{\w+:path\}", paper_id, plain) for paper_id in PAPER_IDS})


def resolve(settings: Settings, *, reverse: bool) -> tuple[Resolved, Resolved]:
    """For each (method, route path) of every router: the endpoint that served it and the status; and the
    same for the route's own endpoint, to compare with."""
    app, routers = build_app(settings, reverse=reverse)
    probe = EndpointProbe(app)
    served: Resolved = {}
    own: Resolved = {}
    with TestClient(probe, raise_server_exceptions=False, follow_redirects=False) as client:
        for router in routers:
            for route in router.routes:
                assert isinstance(route, APIRoute)
                for method in sorted(route.methods):
                    for path in concrete_paths(route):
                        status = client.request(method, path).status_code
                        endpoint = probe.endpoint
                        assert endpoint is not None, f"{method} {path} reached no endpoint"
                        key = (method, f"{route.path} as {path}")
                        served[key] = (f"{endpoint.__module__}.{endpoint.__qualname__}", status)
                        own[key] = (f"{route.endpoint.__module__}.{route.endpoint.__qualname__}", status)
    return served, own


def test_every_route_serves_its_own_paths(settings: Settings) -> None:
    served, own = resolve(settings, reverse=False)
    assert len(served) >= 60
    shadowed = {key: (served[key][0], own[key][0]) for key in served if served[key][0] != own[key][0]}
    assert not shadowed


def test_reversed_routers_serve_the_same_but_the_api_comments(settings: Settings) -> None:
    in_order, _ = resolve(settings, reverse=False)
    reversed_order, _ = resolve(settings, reverse=True)
    assert in_order.keys() == reversed_order.keys()
    changed = {key for key in in_order if in_order[key] != reversed_order[key]}
    assert {(method, path.split(" as ")[0]) for method, path in changed} == ORDER_DEPENDENT
    assert {reversed_order[key][0] for key in changed} == {"dailypapers.web.api.paper_detail"}
