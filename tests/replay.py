"""A real HTTP server on loopback that replays recorded upstream responses, for client and CLI tests.

Routes map a path to a function of the request; paging routes re-page real recorded feeds by slicing
their entries, as arXiv itself would.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def entry_id(entry: Any) -> str:
    """The unversioned arXiv id of an Atom entry, read straight from the XML."""
    text = entry.findtext(f"{ATOM}id")
    return re.sub(r"v\d+$", "", text.rsplit("/abs/", 1)[1])


def feed_entries(feed: bytes) -> list[Any]:
    return etree.fromstring(feed).findall(f"{ATOM}entry")


def repage(
    feed: bytes, entries: list[Any], start: int, max_results: int, *, total: int | None = None
) -> bytes:
    """``feed`` with the entries ``entries[start:start + max_results]`` and its counts rewritten."""
    root = etree.fromstring(feed)
    for entry in root.findall(f"{ATOM}entry"):
        root.remove(entry)
    for entry in entries[start : start + max_results]:
        root.append(copy.deepcopy(entry))
    root.find(f"{OPENSEARCH}totalResults").text = str(len(entries) if total is None else total)
    root.find(f"{OPENSEARCH}startIndex").text = str(start)
    root.find(f"{OPENSEARCH}itemsPerPage").text = str(max_results)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering


Route = Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has hung up before the stalled answer; that is the test, not an error.
        pass


class ReplayServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(parts.path, parse_qs(parts.query), dict(self.headers.items()))
                server.requests.append(request)
                route = server.routes.get(parts.path)
                reply = route(request) if route else Reply(404, b"no such route")
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response_only(reply.status)
                headers = {"Date": self.date_time_string(), **reply.headers}
                headers["Content-Length"] = str(len(reply.body))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def sequence(*replies: Reply) -> Route:
    """A route that answers with ``replies`` in turn, repeating the last one."""
    queue = list(replies)

    def route(_request: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return route


def arxiv_id_list_route(shared_data: Path) -> Route:
    """The arXiv API answering ``id_list`` from every recorded response: the entries of the ids asked
    for that arXiv has (unknown ids are simply missing), in the order asked, paged like any query."""
    recorded = sorted((shared_data / "arxiv" / "api-atom").glob("*.xml"))
    template = (shared_data / "arxiv" / "api-atom" / "sotawhat-arxiv_transformer.xml").read_bytes()
    by_id = {entry_id(e): e for path in recorded for e in feed_entries(path.read_bytes())}

    def route(request: Request) -> Reply:
        wanted = [re.sub(r"v\d+$", "", i) for i in (request.param("id_list") or "").split(",") if i]
        entries = [by_id[i] for i in wanted if i in by_id]
        start, count = int(request.param("start") or 0), int(request.param("max_results") or 10)
        return Reply(body=repage(template, entries, start, count))

    return route
