"""A free loopback port, for every server the tests start (the site, SMTP, PostgreSQL, ``serve``).

Apart from ``live_server.py`` so that the SMTP and PostgreSQL servers, which ``conftest.py`` imports for
every test, do not import the web app with it.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
