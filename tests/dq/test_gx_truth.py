"""Truth: real Great Expectations checkpoints on PostgreSQL agree with every DQ verdict.

tests/data/gx_pg/gx is a GX 1.24 file project written by GX itself (tests/dq/make_gx_project.py):
a table asset (shop.orders) with 15 expectations of every kind the checker models, and a
query asset with 2. For each schema change below, the checkpoint runs (GX's own venv,
created by .ci/run) on a PostgreSQL database built at base and one built at head; the
expectations that pass at base and fail at head must be exactly those the checker says
break, by expectation id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo

HERE = Path(__file__).parent
PROJECT = HERE.parent / "data" / "gx_pg" / "gx"
GX_VENV = Path(os.environ.get("IMPACT_CHECK_GX_VENV", "/tmp/impact-check-gx-venv"))
BASE = (
    "CREATE SCHEMA shop;\n"
    "CREATE TABLE shop.orders (id INT, customer_id INT, amount NUMERIC(10,2), status TEXT, "
    "qty INT);\n"
)
ROWS = "INSERT INTO shop.orders VALUES (1, 10, 20, 'paid', 1), (2, 11, 30, 'open', 2);"
SCENARIOS = {
    "drop_amount": ("ALTER TABLE shop.orders DROP COLUMN amount;", {"DQ801", "DQ803"}),
    "rename_status": (
        "ALTER TABLE shop.orders RENAME COLUMN status TO state;",
        {"DQ801", "DQ803"},
    ),
    "add_note": ("ALTER TABLE shop.orders ADD COLUMN note TEXT;", {"DQ803"}),
    "qty_bigint": ("ALTER TABLE shop.orders ALTER COLUMN qty TYPE BIGINT;", {"DQ802"}),
    "qty_text": ("ALTER TABLE shop.orders ALTER COLUMN qty TYPE TEXT;", {"DQ802"}),
    "customer_text": (
        "ALTER TABLE shop.orders ALTER COLUMN customer_id TYPE TEXT;",
        {"DQ802"},
    ),
    "amount_text": (
        "ALTER TABLE shop.orders ALTER COLUMN amount TYPE TEXT;",
        {"DQ801", "DQ802"},
    ),
    "status_int": (
        "ALTER TABLE shop.orders ALTER COLUMN status TYPE INT USING 1;",
        {"DQ802"},
    ),
    "status_varchar": ("ALTER TABLE shop.orders ALTER COLUMN status TYPE VARCHAR(20);", set()),
}


def _gx_python() -> Path:
    python = GX_VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{python} missing: .ci/run creates the Great Expectations venv")
        pytest.skip(f"Great Expectations venv not installed ({python}; see .ci/run)")
    return python


def _gx_verdicts(python: Path, dsn: str, tmp: Path) -> dict[str, dict[str, bool]]:
    """Per scenario (and "base"): expectation id -> passed, from real checkpoint runs."""
    import psycopg

    parts = dict(p.split("=", 1) for p in dsn.split())
    urls = {}
    for name, (change, _rules) in {"base": ("", set()), **SCENARIOS}.items():
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS gx_{name}")
            con.execute(f"CREATE DATABASE gx_{name}")
        with psycopg.connect(dsn.replace("dbname=postgres", f"dbname=gx_{name}")) as con:
            con.execute(BASE + ROWS)
            if change:
                con.execute(change)
        urls[name] = f"postgresql+psycopg2://postgres@/gx_{name}?host={parts['host']}"
    project = tmp / "gxproject"
    shutil.copytree(PROJECT.parent, project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        [str(python), str(HERE / "gx_runner.py"), str(project), *urls.values()],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: answer[url] for name, url in urls.items()}


def _checker_verdicts(tmp: Path) -> dict[str, tuple[set[str], set[str], int]]:
    """Per scenario: broken expectation ids, DQ rules that fired, exit code."""
    repo = GitRepo(tmp / "repo")
    shutil.copytree(PROJECT, repo.root / "gx")
    repo.commit(
        {"migrations/V1__shop.sql": BASE, ".impact-check.yml": "dialect: postgres\n"}, "base"
    )
    out = {}
    for name, (change, _rules) in SCENARIOS.items():
        repo.git("checkout", "-q", "main")
        repo.git("checkout", "-q", "-b", name)
        repo.commit({"migrations/V2__change.sql": change + "\n"})
        code, report = repo.report("--base", "main", "--head", name)
        broken = {
            i["node"]["id"].rsplit("/", 1)[1]
            for f in report["findings"]
            for i in f["impacted"]
            if i["node"]["kind"] == "expectation" and i["breaks"] and not i.get("preexisting")
        }
        rules = {f["rule"] for f in report["findings"] if f["rule"].startswith("DQ")}
        out[name] = (broken, rules, code)
    return out


@pytest.mark.postgres
@pytest.mark.truth
@pytest.mark.slow
def test_real_checkpoints_fail_exactly_where_the_checker_says(
    tmp_path: Path, postgres_dsn: str
) -> None:
    python = _gx_python()
    gx = _gx_verdicts(python, postgres_dsn, tmp_path)
    assert gx["base"] and all(gx["base"].values()), gx["base"]  # the suite passes at base
    checker = _checker_verdicts(tmp_path)
    for name, (_change, rules) in SCENARIOS.items():
        failing = {i for i, ok in gx[name].items() if not ok and gx["base"].get(i)}
        broken, fired, code = checker[name]
        assert broken == failing, (name, sorted(broken - failing), sorted(failing - broken))
        assert fired == rules, (name, fired)
        assert code == (1 if failing else 0), name
