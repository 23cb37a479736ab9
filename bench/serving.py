"""What the benchmarks that start the site in a process of its own share: a free port on loopback, and
waiting until the server answers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    process: subprocess.Popen[bytes], url: str, *, seconds: float = 60, log: Path | None = None
) -> None:
    """Return once ``url`` answers 200; stop the benchmark if the server exits or is not up in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise SystemExit(f"the server exited with status {process.returncode}: {said}")
        time.sleep(0.2)
    raise SystemExit(f"the server did not start within {seconds:.0f} s")
