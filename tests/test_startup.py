"""Start-up of the command line (issue 16): what a run imports, and the collector's state.

Each run is a fresh interpreter (``cli.main_entry`` as the console script calls it); what
it imported and the garbage collector's state are read at exit. Module names, not timings:
robust on a loaded machine.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GIT_ENV, GitRepo

from impact_check import startup

PROBE = """
import atexit, gc, json, sys

def report():
    watched = ("sqlglot", "sqlglot.optimizer.qualify", "pydantic", "yaml", "networkx")
    state = {name: name in sys.modules for name in watched}
    state["gc_enabled"] = gc.isenabled()
    state["frozen"] = gc.get_freeze_count()
    sys.stderr.write("PROBE " + json.dumps(state) + "\\n")

atexit.register(report)
from impact_check.cli import main_entry

sys.argv = ["impact-check", *sys.argv[1:]]
main_entry()
"""


def probe(root: Path, *argv: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PROBE "))
    state: dict[str, Any] = json.loads(line.removeprefix("PROBE "))
    return state


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit(
        {
            "README.md": "hello\n",
            "migrations/V1__init.sql": "CREATE TABLE raw.orders (id INT, amount DECIMAL(10, 2));\n",
            "views/revenue.sql": "CREATE VIEW analytics.revenue AS\n"
            "SELECT id, SUM(amount) AS total FROM raw.orders GROUP BY id;\n",
        },
        "base",
    )
    r.git("checkout", "-q", "-b", "feature")
    r.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    return r


def test_help_imports_no_heavy_dependency(repo: GitRepo) -> None:
    state = probe(repo.root, "--help")
    assert not any(state[m] for m in ("sqlglot", "pydantic", "yaml", "networkx")), state


def test_a_diff_without_sql_never_imports_sqlglot(repo: GitRepo) -> None:
    repo.write({"README.md": "hello again\n"})
    state = probe(repo.root, "check", "--base", "HEAD", "--format", "json")
    assert not state["sqlglot"], state


def test_a_warm_check_of_cached_files_never_qualifies(repo: GitRepo) -> None:
    argv = ("check", "--base", "main", "--head", "feature", "--format", "json")
    cold = probe(repo.root, *argv)
    assert cold["sqlglot.optimizer.qualify"], cold  # the view was qualified once…
    warm = probe(repo.root, *argv)
    assert warm["sqlglot"] and not warm["sqlglot.optimizer.qualify"], warm  # …then cached
    # the collector paused for start-up runs again, with start-up's objects frozen
    assert warm["gc_enabled"] and warm["frozen"] > 0, warm


def test_other_commands_resume_the_collector(repo: GitRepo) -> None:
    state = probe(repo.root, "rules")
    assert state["gc_enabled"], state
    assert not state["sqlglot"], state


def test_a_library_callers_collector_is_left_alone(repo: GitRepo) -> None:
    assert gc.isenabled()
    startup.resume()  # without pause(): nothing to undo
    assert gc.isenabled()
    gc.disable()
    try:
        startup.resume()
        assert not gc.isenabled()  # a caller that turned it off keeps it off
        code, _report = repo.report("--base", "main", "--head", "feature")
        assert code == 1 and not gc.isenabled()
    finally:
        gc.enable()
