"""The catalogue: stable codes, slugs, and an example pair for every rule."""

from __future__ import annotations

import re

import pytest

from impact_check.cli import main
from impact_check.rules import RULES
from impact_check.rules.examples import EXAMPLES


def test_every_rule_has_a_code_slug_and_examples() -> None:
    for code, rule in RULES.items():
        assert re.fullmatch(r"(TB|CO|TY|CN|RS|VL|ML|MS|AN)\d{3}", code)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
        assert rule.help and rule.summary
        triggers, safe = EXAMPLES[code]
        assert triggers and safe
    assert set(EXAMPLES) == set(RULES)


def test_rules_command_prints_examples(capsys: object) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "CO202 column-renamed" in out and "safe form:" in out
    assert out.count("triggers:") == len(RULES)


def test_one_version() -> None:
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from impact_check import __version__

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == __version__
    changelog = (Path(__file__).parent.parent / "CHANGELOG.md").read_text()
    assert f"## {__version__}" in changelog
