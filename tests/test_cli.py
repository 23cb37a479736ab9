"""The command line, in-process with Typer's CliRunner (and as a real process where it matters)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dailypapers import __version__
from dailypapers.cli import app
from tests.loopback import free_port


@pytest.fixture
def run(cli_env: dict[str, str]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=cli_env, input=input, catch_exceptions=False)

    return invoke


def test_version(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_init_creates_database(run, settings) -> None:  # type: ignore[no-untyped-def]
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.stdout
    if settings.is_sqlite:
        assert (settings.data_dir / "dailypapers.db").exists()
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["papers"] == 0


def test_ingest_json_report_then_zero_new(run, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    first = run("ingest", str(shared_data / "arxiv/oai-pmh"), str(shared_data / "seed"), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert set(report) == {"new", "updated", "unchanged", "rejected", "errors"}
    assert report["new"] == 191 + 41
    second = json.loads(
        run("ingest", str(shared_data / "arxiv/oai-pmh"), str(shared_data / "seed"), "--json").stdout
    )
    assert second["new"] == 0 and second["updated"] == 0


def test_ingest_human_report(run, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("ingest", str(shared_data / "arxiv/api-atom"))
    assert result.exit_code == 0
    assert "121 new" in result.stdout
    assert "Ingested 11 file(s)" in result.stdout
    assert "10 unchanged" in result.stdout  # entries repeated across the recorded responses


def test_ingest_dry_run(run, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("ingest", str(shared_data / "hf-daily-papers"), "--dry-run", "--json")
    assert json.loads(result.stdout)["new"] == 35
    assert json.loads(run("stats", "--json").stdout)["papers"] == 0


def test_forced_format_mismatch_is_a_clear_error(run, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("ingest", str(shared_data / "seed/000_f44c086a8a650424.txt"), "--format", "hf-daily-papers")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "000_f44c086a8a650424.txt" in result.output


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><entry><id>http://arxiv", "XML"),
        (b'[{"paper": {"id": "2606.00467", "title": "x"}', "JSON"),
        ("Ångström\n\n".encode("utf-16"), "UTF-8"),
        (b"col1,col2\n1,2\n", "format"),
    ],
)
def test_bad_file_gives_one_line_error(run, tmp_path: Path, content: bytes, words: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "input.dat"
    bad.write_bytes(content)
    result = run("ingest", str(bad))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert words.lower() in lines[0].lower()
    assert str(bad) in lines[0].replace("\n", "")


def test_papers_list_and_show(run, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(shared_data / "hf-daily-papers"), str(shared_data / "arxiv/oai-snapshot"))
    listed = json.loads(run("papers", "list", "--date", "2026-07-31", "--json").stdout)
    assert len(listed) == 5
    upvotes = [p["feed"]["upvotes"] for p in listed]
    assert upvotes == sorted(upvotes, reverse=True)
    assert all(p["feed"]["day"] == "2026-07-31" for p in listed)
    human = run("papers", "list", "--date", "2026-07-31")
    assert listed[0]["id"] in human.stdout

    shown = json.loads(run("papers", "show", "https://arxiv.org/abs/0704.0001v1", "--json").stdout)
    assert shown["id"] == "0704.0001"
    assert shown["version"] == 2
    assert shown["links"]["pdf"] == "https://arxiv.org/pdf/0704.0001"
    assert shown["doi"] == "10.1103/PhysRevD.76.013009"
    text = run("papers", "show", "0704.0001").stdout
    assert "Calculation of prompt diphoton production" in text

    missing = run("papers", "show", "2401.99999")
    assert missing.exit_code != 0
    assert "no paper" in missing.output


def test_papers_list_bad_date(run) -> None:  # type: ignore[no-untyped-def]
    result = run("papers", "list", "--date", "31/07/2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_export_jsonl_and_bibtex(run, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(shared_data / "arxiv/oai-snapshot"))
    out = tmp_path / "papers.jsonl"
    assert run("export", "--format", "jsonl", "--output", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 200
    assert rows[0]["id"] == "0704.0001"
    bib = run("export", "--format", "bibtex").stdout
    assert bib.count("@misc{") == 200
    assert "eprint = {0704.0001}" in bib
    assert "author = {C. Balázs and E. L. Berger and P. M. Nadolsky and C.-P. Yuan}" in bib


def test_backup_is_a_usable_copy(run, shared_data: Path, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    run("ingest", str(shared_data / "hf-daily-papers"))
    target = tmp_path / "backup.db"
    result = run("backup", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    if settings.is_sqlite:
        copy = sqlite3.connect(target)
        assert copy.execute("SELECT count(*) FROM papers").fetchone()[0] == 35
        copy.close()
    else:
        listing = subprocess.run(["pg_restore", "--list", str(target)], capture_output=True, text=True)
        assert listing.returncode == 0
        assert "TABLE DATA public papers" in listing.stdout


def test_backup_into_missing_folder(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("backup", str(tmp_path / "nope" / "x.db"))
    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_bad_settings_are_reported(tmp_path: Path) -> None:
    env = {"DAILYPAPERS_DATA_DIR": str(tmp_path), "DAILYPAPERS_INGEST_BATCH_SIZE": "lots"}
    result = CliRunner().invoke(app, ["stats"], env=env)
    assert result.exit_code == 78
    assert "DAILYPAPERS_INGEST_BATCH_SIZE" in result.output


def test_unsupported_database_url(tmp_path: Path) -> None:
    env = {"DAILYPAPERS_DATA_DIR": str(tmp_path), "DAILYPAPERS_DATABASE_URL": "mysql://localhost/x"}
    result = CliRunner().invoke(app, ["stats"], env=env)
    assert result.exit_code == 78
    assert "SQLite and PostgreSQL" in result.output


def test_serve_answers_http(cli_env: dict[str, str], shared_data: Path) -> None:
    env = {**os.environ, **cli_env}
    subprocess.run(
        [sys.executable, "-m", "dailypapers", "ingest", str(shared_data / "hf-daily-papers")],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200
        assert "Daily Papers" in response.text
    finally:
        server.terminate()
        server.wait(timeout=10)
