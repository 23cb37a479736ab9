"""The guides say what the code does: the layout in DEVELOPERS.md, the search operators, serving to others."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dailypapers
from dailypapers.search.query import KNOWN_FILTERS, parse_query
from tests.loopback import free_port

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(dailypapers.__file__).parent
# An entry of a layout block: a module, a folder or the test_*.py pattern, at the start of its line.
_ENTRY = re.compile(r"^(?P<indent> *)(?P<name>[\w*]+(?:\.py|/))(?:\s|$)")


def layout_blocks() -> tuple[list[str], list[str]]:
    """The code blocks of DEVELOPERS.md's layout section: the package's, then the tests'."""
    section = (REPO / "DEVELOPERS.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.strip("\n").splitlines() for block in section.split("```")[1::2]]
    package, tests = (b for b in blocks if b and b[0] in {"src/dailypapers/", "tests/"})
    return package, tests


def entries(block: list[str]) -> dict[str, set[str]]:
    """Each top-level entry of a layout block, with the entries listed under it."""
    tree: dict[str, set[str]] = {}
    current = ""
    for line in block[1:]:
        found = _ENTRY.match(line)
        if not found or len(found["indent"]) not in (2, 4):
            continue
        if len(found["indent"]) == 2:
            current = found["name"]
            tree[current] = set()
        else:
            tree[current].add(found["name"])
    return tree


def members(folder: Path) -> set[str]:
    """Modules (``name.py``) and packages (``name/``) of a folder, as the layout names them."""
    names = {p.name for p in folder.glob("*.py")} - {"__init__.py"}
    names |= {f"{p.name}/" for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"}
    return names


def test_the_layout_names_every_module_and_package() -> None:
    listed = entries(layout_blocks()[0])
    assert set(listed) == members(PACKAGE) | {"__init__.py"}, "DEVELOPERS.md's layout and the package differ"
    for name, children in listed.items():
        # A package whose modules are listed one by one lists all of them, and only those.
        if children:
            assert children == members(PACKAGE / name), f"DEVELOPERS.md's layout of {name}"


def test_the_layout_names_every_test_folder_and_helper() -> None:
    listed = set(entries(layout_blocks()[1]))
    tests = REPO / "tests"
    folders = {f"{p.name}/" for p in tests.iterdir() if (p / "__init__.py").exists()}
    helpers = {p.name for p in tests.glob("*.py")} - {"__init__.py"}
    expected = folders | {name for name in helpers if not name.startswith("test_")} | {"test_*.py"}
    assert listed == expected, "DEVELOPERS.md's layout and tests/ differ"


def test_search_docs_list_every_filter_and_each_example_parses() -> None:
    doc = (REPO / "docs/search.md").read_text()
    table = doc.split("## What you can type\n", 1)[1].strip().split("\n\n", 1)[0]
    examples = [
        span for row in table.splitlines()[2:] for span in re.findall(r"`([^`]+)`", row.split(" | ")[0])
    ]
    documented = {m.group(1).lower() for e in examples if (m := re.match(r"([A-Za-z]+):\S", e))}
    missing = KNOWN_FILTERS - documented
    assert not missing, f"docs/search.md does not list {sorted(missing)}"
    for example in examples:
        parsed = parse_query(example)
        assert not parsed.notices, (example, parsed.notices)
        if re.match(rf"(?i)({'|'.join(KNOWN_FILTERS)}):", example):
            assert parsed.has_filters and not parsed.text, example


def test_the_readme_says_why_serving_beyond_loopback_stops(cli_env: dict[str, str]) -> None:
    readme = (REPO / "README.md").read_text()
    assert "exits with status 78" in readme
    (quoted,) = re.findall(r"`(Error: DAILYPAPERS_SECRET_KEY[^`]*)`", readme.replace("\n", " "))
    env = {**os.environ, **cli_env, "DAILYPAPERS_SECRET_KEY": "", "DAILYPAPERS_ENVIRONMENT": "development"}
    command = [sys.executable, "-m", "dailypapers", "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 78, done.stderr
    said = " ".join(done.stderr.split())
    for piece in quoted.split("..."):
        assert piece.strip() in said, (piece, said)
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
