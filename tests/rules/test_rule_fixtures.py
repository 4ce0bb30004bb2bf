"""Data-driven rule tests: one YAML file per rule, positive and negative cases.

Each case commits ``base`` on main, applies ``head`` (a null file is deleted) on a branch,
runs ``impact-check check --format json`` and compares the findings of the file's rule:
their severities, and for each listed consumer whether it ``breaks`` or is ``affected``.
``shared`` files are part of base. ``expect: []`` means the rule must not fire. ``missing``
lists ``rev:path`` blobs deleted from the repository before the check (an incomplete copy).

``truth: [duckdb, postgres]`` also builds the case's SQL files from scratch in those
engines at base and at head (tests/truth/build.py): every base must build, and the
consumers the checker (run with that engine's dialect) says break must be exactly the ones
that fail at head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import GitRepo, broken_nodes

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
def test_rule_case(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    rule: str,
    shared: dict[str, str],
    case: dict[str, Any],
) -> None:
    for engine in case.get("truth", []):
        dsn = request.getfixturevalue("postgres_dsn") if engine == "postgres" else ""
        _check_truth(tmp_path / f"truth-{engine}", shared, case, engine, dsn)
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


def _check_truth(
    root: Path, shared: dict[str, str], case: dict[str, Any], engine: str, dsn: str
) -> None:
    """The checker's broken consumers against builds of base and head in ``engine``."""
    from tests.truth.build import DuckDBBackend, PostgresBackend

    base = {**shared, **case.get("base", {})}
    head = {p: t for p, t in {**base, **case["head"]}.items() if t is not None}
    backend = DuckDBBackend() if engine == "duckdb" else PostgresBackend(dsn)
    sql = {"base": _sql_files(base), "head": _sql_files(head)}
    before, after = backend.broken(sql["base"]), backend.broken(sql["head"])
    assert not before, f"the base does not build in {engine}: {sorted(before)}"
    repo = GitRepo(root)
    repo.commit(base, "base")
    repo.git("checkout", "-q", "-b", "feature")
    changed = {p: case["head"].get(p, base.get(p)) for p in set(base) | set(case["head"])}
    if "config" in case:
        changed[".impact-check.yml"] = yaml.safe_dump(case["config"])
    repo.commit(changed, "head")
    args = ["--base", "main", "--head", "feature", "--dialect", engine, *case.get("args", [])]
    _code, report = repo.report(*args)
    assert broken_nodes(report) == after, (
        f"{engine}: checker says {sorted(broken_nodes(report))} break, the build {sorted(after)}"
    )


def _sql_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.endswith(".sql")}


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    from impact_check.rules import RULES

    seen: dict[str, set[bool]] = {}
    for path in FIXTURES:
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            seen.setdefault(data["rule"], set()).add(bool(case["expect"]))
    missing = [code for code in RULES if seen.get(code) != {True, False}]
    assert not missing, f"rules without a positive and a negative fixture: {missing}"
