"""dbt as real projects write it, against real dbt (dbt-core 1.11 + dbt-duckdb, own venv).

The fixture (tests/data/dbt_real, see its README) uses every Jinja construct issue 14
lists: Jinja in profiles.yml, vars and config, a ``source()`` override with ``{% do %}``
and ``builtins``, ``adapter.dispatch`` through the project and an installed package
(``dbt_packages/``, ignored by git as after ``dbt deps``), ``return()``, dbt's
cross-database macros, ``run_started_at``, a package star macro, a macro that leaves its SQL
to run time, a contracted ``select 1 as row_version`` under ``int``, dbt tests.

Truth: ``dbt seed && dbt run`` at base, then ``dbt run`` (or ``dbt parse``) at each head
in a copy of the base warehouse. Five dbt invocations in CI: harmless changes together
(dbt builds; the checker must pass), a breaking change (the models dbt fails or skips
are exactly the ones the checker says break), a new model whose Jinja does not parse
(dbt refuses the project; the checker fails). The checker runs without ``--dialect``:
DuckDB comes from the profile.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo, broken_nodes
from test_dbt_truth import dbt_bin

PROJECT = Path(__file__).parent.parent / "data" / "dbt_real"
PACKAGES = "dbt_packages/"


def read(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): p.read_text()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def run_dbt(workdir: Path, *command: str) -> tuple[int, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IC_DBT")},
        "DBT_PROFILES_DIR": str(workdir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [dbt_bin(), *command], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    return proc.returncode, proc.stdout + proc.stderr


def write(workdir: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        path = workdir / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def failed_models(workdir: Path) -> set[str]:
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]
        for r in results
        if r["unique_id"].startswith("model.") and r["status"] in ("error", "skipped")
    }


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base project built by dbt (seeds, then every model)."""
    workdir = tmp_path_factory.mktemp("dbt_real") / "base"
    write(workdir, dict(read(PROJECT)))
    for command in (["seed"], ["run"]):
        code, output = run_dbt(workdir, *command)
        assert code == 0, output
    return workdir


def head_run(
    base: Path, tmp: Path, files: dict[str, str | None], *command: str
) -> tuple[Path, int, str]:
    """A copy of the built base with ``files`` changed, and dbt ``command`` run in it."""
    workdir = tmp / "head"
    shutil.copytree(base, workdir, ignore=shutil.ignore_patterns("target", "logs"))
    write(workdir, files)
    code, output = run_dbt(workdir, *command)
    return workdir, code, output


def checker(tmp: Path, head: Mapping[str, str | None], packages: bool = True) -> Any:
    """The checker on the git diff base -> head (packages on disk only: git ignores them);
    (exit code, JSON report, the repository)."""
    base = read(PROJECT)
    tracked = {p: t for p, t in base.items() if not p.startswith(PACKAGES)}
    repo = GitRepo(tmp / "repo")
    repo.commit({**tracked, ".gitignore": "dbt_packages/\n*.duckdb\ntarget/\n"}, "base")
    if packages:
        repo.write({p: t for p, t in base.items() if p.startswith(PACKAGES)})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict(head), "head")
    code, report = repo.report("--base", "main", "--head", "feature")
    return code, report, repo


def edit(path: str, old: str, new: str) -> Callable[[dict[str, str]], dict[str, str]]:
    def apply(files: dict[str, str]) -> dict[str, str]:
        assert old in files[path], (path, old)
        return {path: files[path].replace(old, new)}

    return apply


HARMLESS = [
    # `{% do %}` added to the project's source() override (once: 196 models "dropped")
    edit(
        "macros/source.sql",
        "{% do seen.append(table_name) %}",
        "{% do seen.append(table_name) %}\n    {% do log('source ' ~ table_name) %}",
    ),
    # not_null and unique tests removed: at most a warning (CN407, CN408)
    edit(
        "models/marts/schema.yml",
        "        data_tests: [not_null, unique]\n      - name: full",
        "      - name: full",
    ),
    # a changed expression through a project macro
    edit("macros/labels.sql", "'shipped': 'done'", "'shipped': 'done', 'returned': 'back'"),
]
NEW_MODELS = {
    # dispatch, package macros and cross-database macros in a new model
    "models/marts/order_facts.sql": """select
    {{ shop_utils.surrogate_key(['order_id', 'customer_id']) }} as order_key,
    order_id,
    {{ cents_to_dollars('amount * 100') }} as amount,
    cast({{ dbt.dateadd('month', 1, 'order_date') }} as {{ dbt.type_timestamp() }}) as due_at,
    {% if target.type == 'duckdb' %}'local'{% else %}'remote'{% endif %} as place
from {{ ref('orders') }}
""",
    # a new contracted model whose integer literal meets an int contract
    "models/marts/order_flags.sql": "select 1 as flag_version, order_id from {{ ref('orders') }}\n",
    "models/marts/order_flags.yml": """version: 2
models:
  - name: order_flags
    config:
      contract: {enforced: true}
    columns:
      - name: flag_version
        data_type: int
      - name: order_id
        data_type: integer
""",
}
BREAKING = edit("models/staging/stg_payments.sql", "    method,\n", "")
SYNTAX = {"models/marts/products.sql": "select * from {{ ref('stg_orders' }}\n"}


def _harmless_head() -> dict[str, str | None]:
    base = read(PROJECT)
    head: dict[str, str | None] = {}
    for mutate in HARMLESS:
        head.update(mutate(base))
    head.update(NEW_MODELS)
    return head


@pytest.mark.dbt
def test_relation_names_and_coverage_match_dbt(base_run: Path, tmp_path: Path) -> None:
    """Jinja in profiles.yml, dbt_project.yml and sources names relations as dbt does."""
    manifest = json.loads((base_run / "target" / "manifest.json").read_text())
    dbt_names = {
        n["relation_name"].replace('"', "").split(".", 1)[1]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
    }
    _code, report, repo = checker(tmp_path, NEW_MODELS)
    coverage = report["coverage"]
    assert coverage["defined"] == coverage["analysed"] == len(dbt_names) + 2, coverage
    assert coverage["projects"][0]["dialect"] == "duckdb"
    assert coverage["projects"][0]["dialect_origin"].startswith("profiles.yml")
    added = {c["target"]["id"] for c in report["changes"] if c["kind"] == "table_added"}
    assert added == {"analytics_marts.order_facts", "analytics_marts.order_flags"}
    _, out, _ = repo.run("graph", "--format", "json")
    checker_names = {n["id"] for n in json.loads(out)["nodes"] if "#" not in n["id"]}
    assert dbt_names <= checker_names, sorted(dbt_names - checker_names)


@pytest.mark.dbt
def test_harmless_changes_pass_like_dbt(base_run: Path, tmp_path: Path) -> None:
    head = _harmless_head()
    dbt_dir, code, output = head_run(base_run, tmp_path, head, "run")
    assert code == 0 and failed_models(dbt_dir) == set(), output[-2000:]
    code, report, _repo = checker(tmp_path / "with", head)
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == 0 and not errors, errors
    rules = {f["rule"] for f in report["findings"]}
    assert {"CN407", "CN408"} <= rules and "TB101" not in rules
    assert report["coverage"]["analysed"] == report["coverage"]["defined"]
    # without the installed package the checker sees placeholders: unknown, never broken
    code, report, _repo = checker(tmp_path / "without", head, packages=False)
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == 0 and not errors, errors
    assert any(f["rule"] == "AN908" for f in report["findings"])


@pytest.mark.dbt
def test_breaking_change_matches_dbt_run(
    base_run: Path, tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    head: dict[str, str | None] = dict(BREAKING(read(PROJECT)))
    truth = failed_models(head_run(base_run, tmp_path, head, "run")[0])
    assert truth, "the mutation must break something in dbt"
    code, report, _repo = checker(tmp_path, head)
    claimed = {n.split(".")[-1] for n in broken_nodes(report) if not n.startswith("dbt:")}
    record_figure(
        "dbt-real",
        f"dbt as really written: {len(truth)} models dbt fails or skips "
        f"({', '.join(sorted(truth))}), the checker says {len(claimed)} break, "
        f"{len(claimed & truth)} agree",
    )
    assert code == 1 and claimed == truth, (sorted(claimed), sorted(truth))


@pytest.mark.dbt
def test_new_model_whose_jinja_does_not_parse_fails_like_dbt(
    base_run: Path, tmp_path: Path
) -> None:
    head: dict[str, str | None] = dict(SYNTAX)
    _dir, code, output = head_run(base_run, tmp_path, head, "parse")
    assert code != 0 and "products" in output, output[-2000:]
    code, report, _repo = checker(tmp_path, head)
    tb108 = [f for f in report["findings"] if f["rule"] == "TB108"]
    assert code == 1 and tb108 and tb108[0]["location"]["file"] == "models/marts/products.sql"
    assert "does not parse" in tb108[0]["message"]
