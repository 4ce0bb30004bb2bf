"""Data-driven rule tests: one YAML file per rule, positive and negative cases.

Each case commits ``base`` on main, applies ``head`` (a null file is deleted) on a branch,
runs ``impact-check check --format json`` and compares the findings of the file's rule:
their severities, and for each listed consumer whether it ``breaks`` or is ``affected``.
``shared`` files are part of base. ``expect: []`` means the rule must not fire. ``missing``
lists ``rev:path`` blobs deleted from the repository before the check (an incomplete copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import GitRepo

FIXTURES = sorted(Path(__file__).parent.glob("*.yml"))


def _cases() -> list[Any]:
    params = []
    for path in FIXTURES:
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            case.setdefault("dialect", data.get("dialect", "duckdb"))
            params.append(
                pytest.param(
                    data["rule"], data.get("shared", {}), case, id=f"{path.stem}-{case['name']}"
                )
            )
    return params


@pytest.mark.parametrize(("rule", "shared", "case"), _cases())
def test_rule_case(tmp_path: Path, rule: str, shared: dict[str, str], case: dict[str, Any]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**shared, **case.get("base", {})}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    head = dict(case["head"])
    if "config" in case:
        head[".impact-check.yml"] = yaml.safe_dump(case["config"])
    repo.commit(head, "head")
    for blob in case.get("missing", []):  # `rev:path` objects this copy lacks (loose files)
        sha = repo.git("rev-parse", blob).strip()
        (repo.root / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    args = [
        "--base",
        "main",
        "--head",
        "feature",
        "--dialect",
        case.get("dialect", "duckdb"),
        *case.get("args", []),
    ]
    code, report = repo.report(*args)
    hits = [f for f in report["findings"] if f["rule"] == rule]
    expected = case["expect"]
    assert [f["severity"] for f in hits] == [e["severity"] for e in expected], [
        (f["rule"], f["severity"], f["message"]) for f in report["findings"]
    ]
    for finding, want in zip(hits, expected):
        got = {
            i["node"]["id"]: "breaks" if i["breaks"] else "affected" for i in finding["impacted"]
        }
        if "impacted" in want:
            assert got == (want["impacted"] or {}), finding["message"]
        if "suppressed" in want:
            assert bool(finding["suppressed"]) == want["suppressed"]
    if "exit" in case:
        assert code == case["exit"]


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    from impact_check.rules import RULES

    seen: dict[str, set[bool]] = {}
    for path in FIXTURES:
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            seen.setdefault(data["rule"], set()).add(bool(case["expect"]))
    missing = [code for code in RULES if seen.get(code) != {True, False}]
    assert not missing, f"rules without a positive and a negative fixture: {missing}"
