"""Mutation testing of the core rules: does a test fail when a rule is broken on purpose?

    python bench/mutation.py [--group NAME ...] [--jobs 2] [--json] [--keep] [--report]

For each group of rule modules below, mutmut (https://github.com/boxed/mutmut) writes every small
change it knows to the code (a comparison flipped, a constant moved by one, a condition dropped, an
argument removed...) and runs the tests that reach the changed function. A mutant is *killed* when a
test fails; one that survives is a rule that no test defends, or a change that makes no observable
difference (an *equivalent* mutant, listed in ``EQUIVALENT`` with the reason).

Each group runs in a snapshot of the working tree under ``bench/out/mutation/<group>`` (mutmut writes
its mutated copy beside the code it mutates), against SQLite; browser and schemathesis tests are left
out because they start servers in other processes, which the mutated code does not reach. The table
gives per group the mutants, how many were killed, survived, reached by no test, or timed out, and
how many of the survivors are equivalent; ``--json`` prints ``{"killed", "equivalent", "total",
"kill_rate", "raw_kill_rate", "groups", "survivors": [...]}``. Killed counts timeouts too (a mutant that
makes a test hang is caught), as mutmut does, except those listed in ``EQUIVALENT``: mutmut's CPU-time
limit also stops mutants whose tests all pass when the machine is busy, so an equivalent mutant can come
back as a timeout, and it is counted (and listed) as equivalent. ``kill_rate`` is (killed + equivalent) /
total: an equivalent mutant cannot be killed, so it does not count against the tests; ``raw_kill_rate``
is killed / total. Mutant names are numbered by mutmut within each function, so an edit to a function
can renumber its mutants: re-read the survivors after changing a rule module and keep ``EQUIVALENT`` in
step.

A *crashed* mutant is one whose test process died of a signal (mutmut says "segfault"): it is not
counted as killed. mutmut tests each mutant in a process forked from one that has run the whole test
selection, and an ONNX Runtime session does not survive a fork, so a mutant whose first failing test is
reached only after a test that embeds with the real model can crash instead; the query-parsing rules are
therefore pinned by model-free tests (tests/search/test_query.py) that fail first.

This is a benchmark, not part of ``make test``: the whole run takes tens of minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "mutation"
SHARED_DATA = Path(os.environ.get("DAILYPAPERS_SHARED_DATA", REPO.parent / "shared" / "data"))


@dataclass(frozen=True)
class Group:
    """Rule modules and the tests that defend them."""

    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS = (
    Group(
        "trending",
        ("src/dailypapers/trending.py",),
        (
            "tests/web/test_trending.py",
            "tests/digest/test_selection.py",
            "tests/test_docs.py",
            "tests/test_trending_rules.py",
            "tests/test_trending_policy.py",
            "tests/test_trending_bands.py",
        ),
    ),
    Group(
        "ingest merge",
        ("src/dailypapers/ingest/merge.py",),
        (
            "tests/test_ingest_pipeline.py",
            "tests/ingest/test_listing_merge.py",
            "tests/ingest/test_fetch_cli.py",
            "tests/ingest/test_merge_rules.py",
        ),
    ),
    Group("votes and comments", ("src/dailypapers/store/community.py",), ("tests/community",)),
    Group(
        "moderation and roles",
        ("src/dailypapers/community/moderation.py", "src/dailypapers/community/discussion.py"),
        ("tests/community",),
    ),
    Group(
        "digest selection and compose",
        ("src/dailypapers/digest/selection.py", "src/dailypapers/digest/compose.py"),
        ("tests/digest",),
    ),
    Group("search query and filters", ("src/dailypapers/search/query.py",), ("tests/search", "tests/web")),
    Group(
        "accounts and throttling",
        ("src/dailypapers/community/accounts.py", "src/dailypapers/store/accounts.py"),
        ("tests/community",),
    ),
)


def _equivalent(module: str, reason: str, *mutants: str) -> dict[str, str]:
    return {f"dailypapers.{module}.{mutant}": reason for mutant in mutants}


EQUIVALENT: dict[str, str] = {
    # trending
    **_equivalent(
        "trending",
        "round() has already cleared the fraction, and the zeros and point written after it are stripped",
        "x_readable_number__mutmut_23",
    ),
    **_equivalent(
        "trending",
        "rstrip takes a set of characters, and a number has no X: the same characters are stripped",
        *(f"x_readable_number__mutmut_{n}" for n in (30, 31)),
    ),
    **_equivalent(
        "trending", "time(0) and time(0, 0) are the same time", *(f"x_posted_at__mutmut_{n}" for n in (9, 10))
    ),
    **_equivalent("trending", "_utc_day(None) is None, as the shortcut gives", "x_trending_score__mutmut_24"),
    # ingest merge
    **_equivalent("ingest.merge", '"UTF-8" and "utf-8" name the same codec', "x_title_hash__mutmut_9"),
    **_equivalent(
        "ingest.merge",
        'int.from_bytes defaults to byteorder "big" on Python 3.11+',
        "x_title_hash__mutmut_15",
    ),
    **_equivalent(
        "ingest.merge",
        "Prepared.position is carried but never read (a rejection carries its own position)",
        "x_prepare__mutmut_5",
    ),
    **_equivalent(
        "ingest.merge",
        "inside `version != current_version`, `>=` and `>` give the same answer",
        "x__is_newer__mutmut_13",
    ),
    **_equivalent(
        "ingest.merge",
        "typing.cast does nothing at run time, whatever type it names",
        "xǁPreparedǁfrom_wire__mutmut_19",
    ),
    **_equivalent(
        "ingest.merge",
        "the title hash is recomputed even when the title is unchanged, and the hash of a title is the one "
        "it already has",
        *(f"x_merge_paper__mutmut_{n}" for n in (89, 90, 91, 93, 94, 95)),
    ),
    # votes and comments
    **_equivalent(
        "store.community",
        "not on SQLite, which the benchmark runs: SQLite takes an upsert whose conflict target is None, left "
        "out or upper-cased (the primary key is the only conflict); PostgreSQL refuses them",
        *(f"x__bump__mutmut_{n}" for n in (28, 30, 33)),
        *(f"x_add_vote__mutmut_{n}" for n in (15, 17)),
        "x_put_on_feed__mutmut_27",
    ),
    **_equivalent(
        "store.community",
        "RETURNING NULL still returns a row exactly when one was written, and only whether one was is read",
        "x_add_vote__mutmut_2",
        "x_remove_vote__mutmut_3",
        "x_put_on_feed__mutmut_2",
    ),
    **_equivalent(
        "store.community",
        "DO NOTHING without a target: the votes primary key and the unique feed paper_id are the only "
        "constraints a duplicate can break",
        "x_add_vote__mutmut_3",
        "x_put_on_feed__mutmut_3",
    ),
    **_equivalent("store.community", "SELECT NULL still finds the row", "x_has_voted__mutmut_7"),
    **_equivalent(
        "store.community",
        "the join condition dropped: SQLAlchemy infers the same ON clause from the only foreign key",
        *(f"x_paper_counts__mutmut_{n}" for n in (5, 7, 36, 38)),
        *(f"x__comment_select__mutmut_{n}" for n in (21, 23)),
    ),
    **_equivalent(
        "store.community",
        "a value left out of the INSERT takes the column default, which is the same value",
        "x_add_comment__mutmut_15",
        *(f"x_put_on_feed__mutmut_{n}" for n in (15, 16)),
    ),
    **_equivalent(
        "store.community",
        "the alias and the column labels are never read: LoggedAction(*row) takes the columns by position",
        *(f"x_moderation_log__mutmut_{n}" for n in (4, 5, 6, 8, 9, 10, 32, 33, 34, 35, 36, 37)),
    ),
    **_equivalent(
        "store.community",
        "not on SQLite: without the ORDER BY, SQLite reads the comments in index order, which is id order; "
        "the test lays out PostgreSQL's rows against it",
        "x_paper_comments__mutmut_5",
    ),
    **_equivalent(
        "store.community",
        "on SQLite: without the tie-break, ties come in the index order, which is the tie-break's order "
        "(not known to hold on PostgreSQL, which the benchmark does not run)",
        *(f"x_user_submissions__mutmut_{n}" for n in (6, 8)),
        *(f"x_user_upvoted__mutmut_{n}" for n in (6, 8)),
    ),
    **_equivalent(
        "store.community",
        "not on SQLite, where any UPDATE takes the one write lock; the PostgreSQL-only test in "
        "tests/community/test_store_community_rules.py kills both",
        *(f"x_lock_user_row__mutmut_{n}" for n in (3, 5)),
    ),
    # moderation and roles
    **_equivalent(
        "community.moderation",
        "hidden is only tested for truth, and None is falsy as False is",
        "x_unhide_comment__mutmut_6",
    ),
    **_equivalent(
        "community.discussion",
        "_own_comment has just checked the comment is the user's, and a comment never changes author: the "
        "store's author filter matches the same row",
        "x_delete_comment__mutmut_12",
    ),
    **_equivalent(
        "community.discussion",
        "nodes is keyed by comment ids, never None: nodes.get(None) is None, as the shortcut gives",
        "x_build_threads__mutmut_9",
    ),
    **_equivalent(
        "community.discussion",
        "not on SQLite, which the benchmark runs: an UPDATE takes SQLite's write lock even when it matches "
        "no row, so comments stay serialised; on PostgreSQL test_comment_limits.py::"
        "test_comments_posted_at_once_never_pass_the_limit kills it (7 posted against a limit of 3)",
        "x_check_comment_limit__mutmut_4",
    ),
    # accounts and throttling
    **_equivalent(
        "community.accounts",
        "unreachable: a refused claim always leaves a lockout that locked_until finds in one transaction",
        "x__claim_attempt__mutmut_27",
    ),
    **_equivalent(
        "community.accounts", "also looks up the empty name, which no account has", "x_log_in__mutmut_5"
    ),
    **_equivalent(
        "community.accounts",
        "only changes what the dummy hash (for an unknown name) is checked against: it never matches, "
        "so only the time taken changes",
        *(f"x_log_in__mutmut_{n}" for n in (30, 31)),
    ),
    **_equivalent("community.accounts", "correct = None is falsy, as False is", "x_log_in__mutmut_32"),
    **_equivalent(
        "store.accounts",
        "show_upvotes None or left out: the ORM leaves it out of the INSERT, and the column default is False",
        *(f"x_create_user__mutmut_{n}" for n in (11, 21)),
    ),
    **_equivalent(
        "store.accounts",
        "select(None) still returns a row when one matches, and only whether one does is read",
        "x_username_taken__mutmut_3",
        "x_email_taken__mutmut_3",
    ),
    **_equivalent(
        "store.accounts",
        "the join condition dropped: SQLAlchemy infers the same one from the only foreign key",
        *(f"x_signed_in__mutmut_{n}" for n in (10, 12)),
        *(f"x_user_for_token__mutmut_{n}" for n in (8, 10)),
    ),
    **_equivalent(
        "store.accounts",
        "not on SQLite, which the benchmark runs: SQLite accepts an upsert with its conflict target None, "
        "left out or misnamed; PostgreSQL refuses all three (tests/community/test_accounts_rules.py fails)",
        *(f"x_claim_login_attempt__mutmut_{n}" for n in (15, 18, 22)),
    ),
    **_equivalent(
        "store.accounts",
        "not on SQLite: without ORDER BY, SQLite returns users in id order anyway (PostgreSQL need not)",
        "x_list_users__mutmut_3",
    ),
    **_equivalent(
        "store.accounts",
        "> 1 instead of > 0 when taking a count back: a count of 1 becomes 0 either way",
        "x_uncount_login_attempt__mutmut_9",
    ),
    # digest selection and compose
    **_equivalent(
        "digest.selection",
        "bypasses the per-keyword cache: the keyword is searched again, with the same answer",
        *(f"xǁCandidateǁmentions__mutmut_{n}" for n in (2, 3)),
    ),
    **_equivalent(
        "digest.selection",
        "arXiv category names have at most one dot, so every split gives the same archive",
        *(f"x_prepare_candidates__mutmut_{n}" for n in (21, 22, 24)),
    ),
    **_equivalent(
        "digest.selection",
        "archives are the part before the first dot, so a category with a dot is never one of them",
        "x__category_match__mutmut_4",
    ),
    **_equivalent(
        "digest.compose",
        "the preview's sample subscription has id 0, which has no digests: the look-up finds nothing",
        *(f"x_compose_one__mutmut_{n}" for n in (3, 28)),
    ),
    **_equivalent(
        "digest.compose",
        "asking which of no papers were sent finds none, as the shortcut does",
        "x_compose_digests__mutmut_38",
    ),
    **_equivalent(
        "digest.compose",
        "a dry run never reads the rendering, and other runs render before storing",
        "x_compose_digests__mutmut_76",
    ),
    **_equivalent(
        "digest.compose",
        "the insert without a time fails (NOT NULL) and is retried mail by mail with it: the same rows",
        "x__store__mutmut_20",
    ),
    **_equivalent(
        "digest.compose",
        "a batch of BATCH_SIZE + 1 mails is stored like two batches: the same rows, one transaction fewer",
        "x_compose_digests__mutmut_93",
    ),
}
"""Mutant name -> why it changes nothing that can be observed (checked by reading the mutant)."""

COPIED = {"src", "tests", "docs", "README.md", "DEVELOPERS.md"}
"""What of the working tree a snapshot holds."""

# Tests that drive the site in another process (browser, schemathesis): the mutated code does not run
# there, so they can only slow the run down.
DESELECT = "not browser and not schemathesis"
# mutmut limits a mutant's tests by CPU time, which a test waiting on a server thread that a mutant broke
# never uses up: a wall-clock limit per test (pytest-timeout) ends such a wait, and the mutant counts as
# killed, since its tests did not pass.
TEST_TIMEOUT_S = 90


@dataclass
class GroupResult:
    group: Group
    counts: dict[str, int] = field(default_factory=dict)
    survivors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        listed_timeouts = sum(1 for survivor in self.survivors if survivor["status"] == "timeout")
        return self.counts.get("killed", 0) + self.counts.get("timeout", 0) - listed_timeouts

    @property
    def equivalent(self) -> int:
        return sum(1 for survivor in self.survivors if survivor["equivalent"])


def _rate(part: int, total: int) -> float:
    return part / total if total else 0.0


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return [Path(name.decode()) for name in listed if name]


def _snapshot(group: Group, folder: Path) -> None:
    """A copy of the working tree (tracked and new files) with mutmut's settings for ``group``."""
    if folder.exists():
        shutil.rmtree(folder)
    for relative in _tracked_files():
        source = REPO / relative
        if relative.parts[0] not in COPIED and relative.name != "pyproject.toml":
            continue
        if not source.is_file():
            continue
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    settings = {
        "source_paths": ["src/dailypapers"],
        "only_mutate": list(group.modules),
        "pytest_add_cli_args_test_selection": list(group.tests),
        "pytest_add_cli_args": [
            *("-p", "no:cacheprovider", "-q", "--db=sqlite", "-k", DESELECT),
            *(f"--timeout={TEST_TIMEOUT_S}", "--timeout-method=thread"),
        ],
        "use_git_change_detection": False,
        # Tests read the docs (every setting documented, the published trending constants).
        "also_copy": [name for name in sorted(COPIED) if name not in {"src", "tests"}],
    }
    lines = ["", "[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    with (folder / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _statuses(folder: Path) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    statuses: dict[str, str] = {}
    for meta in (folder / "mutants").rglob("*.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, exit_code in data.get("exit_code_by_key", {}).items():
            statuses[name] = status_by_exit_code[exit_code]
    return statuses


def _diff(folder: Path, mutant: str) -> str:
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant], cwd=folder, capture_output=True, text=True
    )
    lines = [
        line for line in shown.stdout.splitlines() if line.startswith(("+", "-")) and line[1:2] != line[:1]
    ]
    return "\n".join(lines)


def run_group(group: Group, *, jobs: int, console: Console) -> GroupResult:
    folder = OUT / group.name.replace(" ", "-")
    _snapshot(group, folder)
    env = {
        **os.environ,
        "DAILYPAPERS_SHARED_DATA": str(SHARED_DATA),
        "DAILYPAPERS_TEST_MODELS_DIR": str(REPO / ".cache" / "models"),
    }
    result = GroupResult(group)
    started = time.perf_counter()
    console.print(f"[bold]{group.name}[/]: mutating {', '.join(group.modules)}")
    run = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    result.seconds = time.perf_counter() - started
    statuses = _statuses(folder)
    if run.returncode != 0 and not statuses:
        tail = (run.stdout + run.stderr).strip().splitlines()[-15:]
        result.error = "\n".join(tail)
        return result
    _classify(result, folder, statuses)
    return result


def report_group(group: Group) -> GroupResult:
    """The result of the last run kept in ``bench/out/mutation`` (``--keep``), read again: after a survivor
    is found equivalent and listed in ``EQUIVALENT``, the table is printed without testing again."""
    folder = OUT / group.name.replace(" ", "-")
    result = GroupResult(group)
    statuses = _statuses(folder) if (folder / "mutants").is_dir() else {}
    if not statuses:
        result.error = f"no kept run in {folder} (run with --keep first)"
        return result
    _classify(result, folder, statuses)
    return result


def _classify(result: GroupResult, folder: Path, statuses: dict[str, str]) -> None:
    for name, status in statuses.items():
        result.counts[status] = result.counts.get(status, 0) + 1
        if status == "killed" or (status == "timeout" and name not in EQUIVALENT):
            continue
        result.survivors.append(
            {
                "mutant": name,
                "group": result.group.name,
                "status": status,
                "equivalent": EQUIVALENT.get(name, ""),
                "diff": _diff(folder, name),
            }
        )


def _table(results: list[GroupResult]) -> Table:
    table = Table(title="Mutants of the core rules (killed = a test failed)")
    columns = (
        "group",
        "mutants",
        "killed",
        "equivalent",
        "survived",
        "no tests",
        "timeout",
        "crashed",
        "kill rate",
        "raw rate",
        "s",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "group" else "right")
    for result in results:
        if result.error:
            table.add_row(result.group.name, "error", *[""] * 8, f"{result.seconds:.0f}")
            continue
        table.add_row(
            result.group.name,
            str(result.total),
            str(result.killed),
            str(result.equivalent),
            str(result.counts.get("survived", 0)),
            str(result.counts.get("no tests", 0)),
            str(result.counts.get("timeout", 0)),
            str(result.counts.get("segfault", 0)),
            f"{_rate(result.killed + result.equivalent, result.total):.3f}",
            f"{_rate(result.killed, result.total):.3f}",
            f"{result.seconds:.0f}",
        )
    killed = sum(r.killed for r in results)
    equivalent = sum(r.equivalent for r in results)
    total = sum(r.total for r in results)
    table.add_row(
        "all",
        str(total),
        str(killed),
        str(equivalent),
        "",
        "",
        "",
        "",
        f"{_rate(killed + equivalent, total):.3f}",
        f"{_rate(killed, total):.3f}",
        "",
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", choices=[g.name for g in GROUPS], help="only this group")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the snapshots in bench/out/mutation")
    parser.add_argument(
        "--report", action="store_true", help="read the kept snapshots again, without testing"
    )
    args = parser.parse_args(argv)
    try:
        import mutmut  # noqa: F401
    except ImportError:
        print("bench/mutation.py needs mutmut: pip install 'mutmut>=3.3'", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    groups = [g for g in GROUPS if not args.group or g.name in args.group]
    if args.report:
        results = [report_group(group) for group in groups]
    else:
        results = [run_group(group, jobs=args.jobs, console=console) for group in groups]
    for result in results:
        if result.error:
            console.print(f"[red]{result.group.name} did not run:[/]\n{result.error}")
    killed = sum(r.killed for r in results)
    equivalent = sum(r.equivalent for r in results)
    total = sum(r.total for r in results)
    survivors = [s for r in results for s in r.survivors]
    if args.json:
        report: dict[str, Any] = {
            "killed": killed,
            "equivalent": equivalent,
            "total": total,
            "kill_rate": round(_rate(killed + equivalent, total), 4),
            "raw_kill_rate": round(_rate(killed, total), 4),
            "groups": {
                r.group.name: {
                    "killed": r.killed,
                    "equivalent": r.equivalent,
                    "total": r.total,
                    "kill_rate": round(_rate(r.killed + r.equivalent, r.total), 4),
                    "raw_kill_rate": round(_rate(r.killed, r.total), 4),
                    **r.counts,
                    "seconds": round(r.seconds, 1),
                }
                for r in results
            },
            "survivors": survivors,
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        console.print(_table(results))
        for survivor in survivors:
            why = f" (equivalent: {survivor['equivalent']})" if survivor["equivalent"] else ""
            console.print(f"[yellow]{survivor['mutant']}[/] {survivor['status']}{why}\n{survivor['diff']}")
    if not args.keep and not args.report:
        for group in groups:
            shutil.rmtree(OUT / group.name.replace(" ", "-"), ignore_errors=True)
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
