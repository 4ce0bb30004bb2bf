"""benchmarks/coverage.py: coverage as a CI job on the newest commit sees it, on a tiny real
git repository — a dbt project whose model calls a package macro. Without the package the
model is a relation of unknown columns (analysed); with the package copied into
dbt_packages/ (as `dbt deps` would) its macro is expanded; a model that is not a query is
named with its reason either way."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


coverage = _load("coverage")


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("coverage")
    package = GitRepo(root / "unions")
    package.commit(
        {
            "dbt_project.yml": "name: unions\n",
            "macros/union_connections.sql": "{% macro union_connections(table) %}"
            "select 1 as id, 2 as amount{% endmacro %}",
        },
        "v1",
    )
    package.git("tag", "v1.0.0")
    package.commit({"README.md": "newer\n"}, "after the release")
    project = GitRepo(root / "pay")
    project.commit(
        {
            "dbt_project.yml": "name: pay\n",
            "packages.yml": "packages:\n  - package: acme/unions\n    version: 1.0.0\n",
            "models/charge_tmp.sql": "{{ unions.union_connections('charge') }}",
            "models/charge.sql": "select id, amount from {{ ref('charge_tmp') }}",
        },
        "base",
    )
    project.commit(
        {
            "models/semantic.sql": "{{ config(materialized='semantic_view') }}\ntables: []\n",
            "models/charge_tmp.sql": "-- all\n{{ unions.union_connections('charge') }}",
        },
        "a semantic view, a comment",
    )
    return project.root, package.root / ".git"


def test_coverage_per_repository_with_and_without_packages(
    repos: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, package = repos
    out = tmp_path / "out.json"
    assert coverage.main([f"pay={project}", "--list", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pay @ " in printed and ": 2 of 3 analysed" in printed, printed
    assert "materialized='semantic_view'" in printed and "models/semantic.sql" in printed
    [result] = json.loads(out.read_text())
    assert result["exit"] == 0 and result["packages"] == []
    assert [e["file"] for e in result["coverage"]["not_analysed"]] == ["models/semantic.sql"]
    assert result["rules"].get("AN908"), result["rules"]  # the macro was not expanded

    installed = [f"pay={project}", "--dbt-packages", f"{package}@v1.0.0", "--json", str(out)]
    assert coverage.main(installed) == 0
    printed = capsys.readouterr().out
    assert "packages: unions" in printed and ": 2 of 3 analysed" in printed, printed
    [result] = json.loads(out.read_text())
    assert result["packages"] == ["unions"] and "AN908" not in result["rules"], result
    assert not (project / "dbt_packages").exists()  # the repository is never modified
