"""The app served by uvicorn on a real loopback socket, in a thread of the test process.

For what an in-process client cannot stand in for: a real browser, a command-line client such as
schemathesis, concurrent HTTP clients. The port is chosen before the app is made, so that
``BASE_URL`` (used in mails and feeds) names the address the server really listens on; cached pages
ask on every request whether the data changed, so a test sees what it has just written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import uvicorn

from dailypapers.config import Settings
from dailypapers.web.app import create_app
from tests.loopback import free_port


class LiveServer:
    """``with LiveServer(settings, clock) as server:`` serves the site at ``server.url`` in the block."""

    def __init__(
        self, settings: Settings, clock: Callable[[], datetime], *, cache_check_seconds: float = 0
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.model_copy(update={"base_url": self.url})
        app = create_app(self.settings, now=clock, cache_check_seconds=cache_check_seconds)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
