"""Property-based tests of the whole OpenAPI description against a served instance.

schemathesis (its command line, as one would point it at a deployment) reads ``/openapi.json`` from the
app served by uvicorn on a loopback port, with the real Hugging Face papers and an account whose API
token goes with every request, and sends each operation examples, boundary values and generated
requests, valid and invalid. Every answer must be documented (status code, content type, body schema,
headers), invalid requests must be refused, authentication must be enforced, and nothing may be a server
error. arXiv is a local server that knows no paper, so submitting a new id ends in a documented 404
without leaving the machine. The run is bounded (examples per operation, fixed seed) to about a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from dailypapers.config import Settings
from dailypapers.ingest.formats.atom import parse_atom
from dailypapers.ingest.pipeline import Ingestor
from dailypapers.ingest.records import new_on_feed
from tests.community.support import (
    ATOM_FOR_SUBMISSION,
    Clock,
    load_hf_papers,
    make_token,
    make_user,
)
from tests.live_server import LiveServer
from tests.replay import ReplayServer, Reply
from tests.web.support import build_test_index

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
    ]
)
MAX_EXAMPLES = 100
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@pytest.fixture
def served(
    settings: Settings, sessions: sessionmaker[Session], shared_data: Path
) -> Iterator[dict[str, Any]]:
    load_hf_papers(sessions, shared_data)
    # The paper the API description gives as its example, on the feed, so that examples reach real data.
    atom = parse_atom((shared_data / ATOM_FOR_SUBMISSION).read_bytes()).items
    Ingestor(sessions).ingest_records(new_on_feed(atom, date(2021, 1, 1)), label="example paper")
    build_test_index(settings)
    user = make_user(sessions, "fuzzer", role="moderator")
    token = make_token(sessions, user)
    arxiv = ReplayServer()
    empty = (shared_data / "arxiv/api-atom/arxivpy-id_0000.0000_s0_m100.xml").read_bytes()
    arxiv.routes["/api/query"] = lambda request: Reply(body=empty)
    arxiv.start()
    configured = settings.model_copy(update={"arxiv_api_url": arxiv.url("/api/query"), "http_max_retries": 0})
    try:
        with LiveServer(configured, Clock()) as server:
            yield {"url": server.url, "token": token}
    finally:
        arxiv.stop()


def test_the_api_keeps_to_its_description(served: dict[str, Any], tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        served["url"] + "/openapi.json",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "20260801",
        "--workers", "1",  # several workers occasionally trip over a thread race inside hypothesis
        "--header", f"Authorization: Bearer {served['token']}",
        "--request-timeout", "30",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    summary = done.stdout[-8000:] + done.stderr[-2000:]
    assert done.returncode == 0, summary
    assert_every_operation_passed(done.stdout, tmp_path, operations=count_operations(served["url"]))


def count_operations(url: str) -> int:
    """How many operations the served API description holds."""
    paths = httpx.get(url + "/openapi.json", timeout=10).json()["paths"]
    return sum(method in HTTP_METHODS for item in paths.values() for method in item)


def assert_every_operation_passed(output: str, report_dir: Path, *, operations: int) -> None:
    """The run's own counts: every operation of the description was tested, in every phase asked for,
    with test cases generated, and not one failed or errored (the exit status alone would also be 0 for
    a run that tested nothing)."""
    summary = output[output.rindex("SUMMARY") :]
    selected = re.search(r"^\s*Selected: (\d+)/(\d+)$", summary, re.MULTILINE)
    tested = re.search(r"^\s*Tested: (\d+)$", summary, re.MULTILINE)
    assert selected and tested, summary
    assert operations > 0
    assert (int(selected[1]), int(selected[2]), int(tested[1])) == (operations,) * 3, summary
    assert not re.search(r"^\s*(Errored|Skipped):", summary, re.MULTILINE), summary
    for phase in ("Examples", "Coverage", "Fuzzing"):
        assert re.search(rf"^\s*✅ {phase}$", summary, re.MULTILINE), f"phase {phase} did not pass\n{summary}"
    cases = re.search(r"^\s*(\d+) generated, (\d+) passed(?:, (\d+) skipped)?$", summary, re.MULTILINE)
    assert cases, f"some test cases failed or errored\n{summary}"
    generated, passed = int(cases[1]), int(cases[2])
    assert generated > 0 and passed == generated, summary
    # The JUnit report says the same per operation.
    (report,) = report_dir.glob("junit-*.xml")
    suites = ElementTree.parse(report).getroot()
    counts = {name: int(suites.get(name, "-1")) for name in ("tests", "failures", "errors")}
    assert counts == {"tests": operations, "failures": 0, "errors": 0}, counts
