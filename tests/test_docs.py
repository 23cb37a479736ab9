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
