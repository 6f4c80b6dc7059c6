"""The README is what a newcomer follows: its settings table and its test command must match the code and CI."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from chatserver.config import Settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_readme_documents_every_setting() -> None:
    names = {"CHATSERVER_" + f.name.upper() for f in fields(Settings) if f.name != "extra"}
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == []


def test_readme_names_no_setting_that_does_not_exist() -> None:
    names = {"CHATSERVER_" + f.name.upper() for f in fields(Settings) if f.name != "extra"}
    documented = set(re.findall(r"`(CHATSERVER_[A-Z_]+)`", README))
    unknown = sorted(d for d in documented if d not in names and not d.startswith("CHATSERVER_TEST_"))
    assert unknown == []


def test_ci_runs_the_readme_test_command() -> None:
    command = 'python -m pip install -e ".[test]" && python -m pytest'
    assert command in README
    assert command in (REPO / ".ci" / "run").read_text()
