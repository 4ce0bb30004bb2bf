"""dbt truth on the jaffle fixture: real `dbt seed && dbt run` (dbt-core 1.11 + dbt-duckdb,
in their own venv) at base and head versus the checker on the git diff, without a manifest.

Models that error at head, and those dbt skips because of them, are the truth for
"breaks". The project is a copy of shared/fixtures/dbt/jaffle_project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from gitrepo import GitRepo, broken_nodes

PROJECT = Path(__file__).parent.parent / "data" / "jaffle_project"
BASE_RUN = Path("/nonexistent")
DBT = os.environ.get("IMPACT_CHECK_DBT", "/tmp/impact-check-dbt-venv/bin/dbt")


def dbt_bin() -> str:
    if not Path(DBT).exists():
        if os.environ.get("CI"):
            pytest.fail(f"dbt not found at {DBT}; .ci/run installs it in its own venv")
        pytest.skip("dbt not installed (see .ci/run: a venv with dbt-core<1.12 and dbt-duckdb)")
    return DBT


def read(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): p.read_text() for p in path.rglob("*") if p.is_file()}


def dbt_broken(files: dict[str, str], workdir: Path) -> set[str]:
    """Model names that error or are skipped by `dbt run`."""
    shutil.rmtree(workdir, ignore_errors=True)
    for rel, text in files.items():
        (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (workdir / rel).write_text(text)
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(workdir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    output = ""
    for command in (["seed"], ["run"]):
        proc = subprocess.run(
            [dbt_bin(), *command, "--quiet"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output += proc.stdout + proc.stderr
    results_file = workdir / "target" / "run_results.json"
    if results_file.exists() and "Encountered an error" not in output:
        results = json.loads(results_file.read_text())["results"]
        return {
            r["unique_id"].split(".")[-1] for r in results if r["status"] in ("error", "skipped")
        }
    # dbt refused the whole project (a ref to a missing or disabled model): the models named
    # in the error cannot build, and neither can anything downstream of them.
    failed = set(re.findall(r"Model 'model\.\w+\.(\w+)'", output))
    assert failed, output
    return failed | downstream(failed)


def downstream(models: set[str]) -> set[str]:
    """Models below ``models`` in the base project (from the base run's manifest)."""
    manifest = json.loads((BASE_RUN / "target" / "manifest.json").read_text())
    children = manifest["child_map"]
    found: set[str] = set()
    queue = [f"model.jaffle_shop.{m}" for m in models]
    while queue:
        for child in children.get(queue.pop(), []):
            name = child.split(".")[-1]
            if child.startswith("model.") and name not in found:
                found.add(name)
                queue.append(child)
    return found


def edit(path: str, old: str, new: str) -> Callable[[dict[str, str]], None]:
    def apply(files: dict[str, str]) -> None:
        assert old in files[path], (path, old)
        files[path] = files[path].replace(old, new)

    return apply


def delete(path: str) -> Callable[[dict[str, str]], None]:
    return lambda files: files.pop(path)


STG = "models/staging/"
MUTATIONS = {
    "drop a staging column a mart and an ML exposure use": edit(
        STG + "stg_customers.sql", "first_name, last_name from", "first_name from"
    ),
    "rename a staging column": edit(
        STG + "stg_orders.sql", "order_date,", "order_date as ordered_on,"
    ),
    "retype a staging column to text": edit(
        STG + "stg_payments.sql", "amount / 100 as amount", "cast(amount as varchar) as amount"
    ),
    "change a filter only": edit(
        STG + "stg_orders.sql",
        "from {{ source('raw', 'raw_orders') }}",
        "from {{ source('raw', 'raw_orders') }} where status <> 'returned'",
    ),
    "delete a model": delete(STG + "stg_payments.sql"),
    "disable a model": edit(
        STG + "stg_orders.sql", "select id", "{{ config(enabled=false) }}\nselect id"
    ),
    "break the contract in the SQL": edit(
        "models/marts/customers.sql", "co.number_of_orders,", "co.number_of_orders as n_orders,"
    ),
    "break the contract in schema.yml": edit(
        "models/marts/customers.yml", "      - name: last_name\n        data_type: varchar\n", ""
    ),
    # ref() follows a schema the model's own file sets: its readers still build
    "give a staging model its own schema in its file": edit(
        STG + "stg_customers.sql", "select", "{{ config(schema='staging') }}\nselect"
    ),
    "add a column": edit(STG + "stg_customers.sql", "last_name from", "last_name, 1 as flag from"),
}


@pytest.mark.dbt
def test_jaffle_mutations_match_dbt_run(
    tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    global BASE_RUN
    base = read(PROJECT)
    BASE_RUN = tmp_path / "base"
    assert dbt_broken(base, BASE_RUN) == set()
    misses, tp, found = [], 0, 0
    for index, (name, mutate) in enumerate(MUTATIONS.items()):
        head = dict(base)
        mutate(head)
        truth = dbt_broken(head, tmp_path / f"dbt{index}")
        repo = GitRepo(tmp_path / f"repo{index}")
        repo.commit(dict(base), "base")
        repo.git("checkout", "-q", "-b", "feature")
        repo.commit({p: head.get(p) for p in set(base) | set(head)}, name)
        _code, report = repo.report("--base", "main", "--head", "feature")
        claimed = {n.split(".")[-1] for n in broken_nodes(report) if not n.startswith("dbt:")}
        tp += len(claimed & truth)
        found += len(claimed)
        if claimed != truth:
            misses.append(f"{name}: checker {sorted(claimed)}, dbt {sorted(truth)}")
        if name.startswith("drop a staging column"):
            exposures = {i["node"]["id"]: i for f in report["findings"] for i in f["impacted"]}
            churn = exposures["dbt:exposure.jaffle_shop.churn_model"]
            assert churn["breaks"] and churn["node"]["owners"] == ["ML Platform"]
    record_figure(
        "dbt-jaffle",
        f"dbt jaffle: {len(MUTATIONS)} mutations, {tp} broken models "
        f"agreed with dbt run, {found - tp} extra, misses: {len(misses)}",
    )
    assert not misses, misses


def test_production_manifest_gives_names_and_compiled_code(tmp_path: Path) -> None:
    """Slim CI: the base's manifest names the relations and compiles unchanged models."""
    base = read(PROJECT)
    manifest = Path(__file__).parent.parent / "data" / "dbt" / "manifest.json"
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**base, ".impact-check.yml": f"dbt:\n  manifest: {manifest}\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    head = dict(base)
    MUTATIONS["drop a staging column a mart and an ML exposure use"](head)
    repo.commit(head, "drop")
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    assert report["sources"][0]["kind"] == "dbt-manifest" and report["sources"][0]["status"] == "ok"
    broken = broken_nodes(report)
    assert {
        "jaffle.main.customers",
        "jaffle.main.customer_features",
        "dbt:exposure.jaffle_shop.churn_model",
    } <= broken
    assert not any(f["rule"] == "AN908" for f in report["findings"])


def test_unreachable_manifest_is_reported_not_fatal(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            **read(PROJECT),
            ".impact-check.yml": "dbt:\n  manifest: http://127.0.0.1:9/manifest.json\n",
        },
        "base",
    )
    code, report = repo.report("--base", "main")
    assert code == 0
    assert report["sources"][0]["status"] == "failed"
    assert "127.0.0.1:9" in report["sources"][0]["detail"]
