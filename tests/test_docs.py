"""The documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine

from dailypapers.config import Settings
from dailypapers.models import Base

REPO = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs/configuration.md").read_text()
    documented = set(re.findall(r"`(DAILYPAPERS_[A-Z0-9_]+)`", doc))
    declared = {f"DAILYPAPERS_{name.upper()}" for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from docs/configuration.md"
    assert documented - declared == set(), "docs/configuration.md documents settings that do not exist"


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"


def test_readme_quickstart_is_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \w+)\s*$", quickstart, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]


def test_cli_commands_in_readme_exist() -> None:
    from typer.testing import CliRunner

    from dailypapers.cli import app

    readme = (REPO / "README.md").read_text()
    mentioned = set(re.findall(r"^\s*dailypapers ([a-z]+)", readme, flags=re.MULTILINE))
    assert mentioned, "the README shows no dailypapers command"
    help_text = CliRunner().invoke(app, ["--help"], terminal_width=200).stdout
    for command in mentioned:
        assert re.search(rf"\b{command}\b", help_text), (
            f"README mentions `dailypapers {command}`, which does not exist"
        )


def test_migrations_match_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_trending_rule_in_docs_is_the_codes() -> None:
    from dailypapers import trending

    section = (REPO / "docs/site.md").read_text().split("\n## Trending\n", 1)[1].split("\n## ", 1)[0]
    assert section.split("```")[1].strip() == trending.FORMULA
    # Constants named in the text, such as "14 days (`FIRST_VERSION_DAYS`)" and "1,000 (`CANDIDATES`)".
    named = {name: value for value, name in re.findall(r"([\d,.]+) (?:days )?\(`([A-Z_]+)`\)", section)}
    assert set(named) >= {"FIRST_VERSION_DAYS", "CANDIDATES"}
    values = {**trending.CONSTANTS, "CANDIDATES": trending.CANDIDATES}
    for name, value in named.items():
        assert float(value.replace(",", "")) == values[name], f"docs/site.md says {name} is {value}"


def test_the_about_page_prints_the_trending_constants_of_the_code(settings: Settings) -> None:
    import lxml.html
    from fastapi.testclient import TestClient

    from dailypapers import trending
    from dailypapers.web.app import create_app

    with TestClient(create_app(settings)) as client:
        tree = lxml.html.fromstring(client.get("/about").text)
    text = {
        key: " ".join(tree.xpath(f"string({path})").split())
        for key, path in [
            ("formula", "//p[@class='formula']"),
            ("age", "//p[@id='trending-age']"),
            ("candidates", "//p[@id='trending-candidates']"),
        ]
    }
    assert text["formula"] == trending.FORMULA
    rows = {
        r.xpath("string(th)").strip(): r.xpath("string(td)").strip() for r in tree.xpath("//table//tbody/tr")
    }
    assert rows == {name: str(value) for name, value in trending.CONSTANTS.items()}
    assert f"no later than {trending.FIRST_VERSION_DAYS} days after" in text["age"]
    assert f"the top {trending.CANDIDATES:,} of the whole feed" in text["candidates"]
    assert f"the {trending.CANDIDATES:,} most recent papers of the feed are scored" in text["candidates"]
