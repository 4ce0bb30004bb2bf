"""The bundled demo: it runs, fails, and its verdicts match a real DuckDB build."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from gitrepo import GitRepo, broken_nodes

from impact_check.cli import main
from impact_check.demo import build_demo_repo


def _natural(path: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


def duckdb_failures(root: Path) -> set[str]:
    """Names of the objects whose CREATE fails when every file is run in natural order."""
    con = duckdb.connect()
    failed = set()
    for path in sorted((str(p.relative_to(root)) for p in root.rglob("*.sql")), key=_natural):
        text = (root / path).read_text()
        try:
            con.execute(text)
        except duckdb.Error:
            match = re.search(r"CREATE (?:TABLE|VIEW) (\S+)", text)
            assert match, path
            failed.add(match.group(1))
    return failed


def test_demo_verdicts_match_duckdb(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build_demo_repo(root)
    repo = GitRepo.__new__(GitRepo)
    repo.root = root
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    head_failures = duckdb_failures(root)  # the work tree holds the feature branch
    repo.git("checkout", "-q", "main")
    assert duckdb_failures(root) == set()
    assert broken_nodes(report) == head_failures
    assert len(head_failures) >= 5
    affected = {
        i["node"]["id"] for f in report["findings"] for i in f["impacted"] if not i["breaks"]
    }
    assert "staging.stg_customers" in affected  # the SELECT * pass-through


def test_demo_command_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "CO201 column-dropped" in out and "CO202 column-renamed" in out
    assert "raw.customers#signup_channel -> staging.stg_customers#signup_channel" in out
    assert "FAILED" in out
