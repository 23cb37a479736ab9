"""A throwaway PostgreSQL server for the test suite: initdb into a temporary folder, listen on a free
loopback port, and remove everything afterwards.

PostgreSQL refuses to run as root, so when the tests run as root (as in CI containers) the server
processes run as the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.loopback import free_port


class PostgresUnavailable(RuntimeError):
    pass


def _find_bindir() -> Path:
    for candidate in (os.environ.get("DAILYPAPERS_PG_BINDIR"), shutil.which("pg_config")):
        if candidate and candidate.endswith("pg_config"):
            out = subprocess.run([candidate, "--bindir"], capture_output=True, text=True)
            if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
                return Path(out.stdout.strip())
        elif candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (initdb). Install them with `apt-get install postgresql` "
        "or set DAILYPAPERS_PG_BINDIR; `make test` does this itself."
    )


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *command]
        return command

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = _find_bindir()
        run_as = None
        if os.geteuid() == 0:
            run_as = os.environ.get("DAILYPAPERS_PG_USER", "postgres")
            if subprocess.run(["id", "-u", run_as], capture_output=True).returncode != 0:
                raise PostgresUnavailable(
                    f"running as root and there is no {run_as!r} user to run PostgreSQL as"
                )
        root = Path(tempfile.mkdtemp(prefix="dailypapers-pg-"))
        server = cls(bindir=bindir, root=root, port=free_port(), run_as=run_as)
        if run_as:
            shutil.chown(root, user=run_as)
        os.chmod(root, 0o700)
        init = subprocess.run(
            server._cmd(
                "initdb",
                "-D",
                str(server.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ),
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()}")
        # Durability settings are off: the cluster lives for one test run and is deleted afterwards.
        options = (
            f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
            # Each test database is a copy of a template, which CREATE DATABASE refuses while any other
            # session is in it; autovacuum's workers are such sessions, so a copy could fail at random.
            "-c autovacuum=off"
        )
        started = subprocess.run(
            server._cmd(
                "pg_ctl",
                "-D",
                str(server.datadir),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"PostgreSQL did not start: {started.stderr.strip()} {log[-2000:]}")
        return server

    def stop(self) -> None:
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop"), capture_output=True
        )
        time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
