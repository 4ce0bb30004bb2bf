"""A dbt package developed in its repository, built by its own integration-test project
(``integration_tests/packages.yml``: ``- local: ../``), against real dbt (dbt-core 1.11 +
dbt-duckdb, own venv).

The package's models are disabled unless a var enables them (``enabled=var('claims_enabled',
false)``, as tuva writes every mart); the integration project sets the vars. Read with the
package's own vars, every model was disabled: tuva's replay had 1 of 1,196 models in the
catalog, so every check there passed without looking. dbt builds the package with the
installing project's vars; so does the checker.

Truth: ``dbt deps && dbt run`` in the integration project at base and at head (from
scratch); the models dbt fails or skips at head are exactly the ones the checker breaks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gitrepo import GitRepo
from test_dbt_real import failed_models, run_dbt, write

BASE = {
    "dbt_project.yml": "name: claims_pkg\nversion: '1.0'\nconfig-version: 2\nprofile: ci\n"
    "models:\n  claims_pkg:\n    +materialized: view\n",
    "models/stg_claims.sql": "{{ config(enabled=var('claims_enabled', false) | as_bool) }}\n"
    "select 1 as claim_id, 10 as amount, 'open' as status",
    "models/claims_summary.sql": "{{ config(enabled=var('claims_enabled', false) | as_bool) }}\n"
    "select status, sum(amount) as total from {{ ref('stg_claims') }} group by status",
    "models/always.sql": "select 1 as id",
    "integration_tests/dbt_project.yml": "name: integration_tests\nversion: '1.0'\n"
    "config-version: 2\nprofile: ci\nvars:\n  claims_enabled: true\n",
    "integration_tests/packages.yml": "packages:\n  - local: ../\n",
    "integration_tests/profiles.yml": "ci:\n  target: dev\n  outputs:\n    dev:\n"
    "      type: duckdb\n      path: ci.duckdb\n      threads: 1\n",
    "integration_tests/models/smoke.sql": "select 1 as ok",
}
HEADS = {
    # stg_claims stops selecting amount: claims_summary fails in dbt
    "break": {
        "models/stg_claims.sql": "{{ config(enabled=var('claims_enabled', false) | as_bool) }}\n"
        "select 1 as claim_id, 'open' as status"
    },
    # a column added: nothing breaks
    "harmless": {
        "models/stg_claims.sql": "{{ config(enabled=var('claims_enabled', false) | as_bool) }}\n"
        "select 1 as claim_id, 10 as amount, 'open' as status, 2 as extra"
    },
}


def _dbt_failures(tmp: Path, files: dict[str, str]) -> set[str]:
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp, dict(files))
    project = tmp / "integration_tests"
    code, output = run_dbt(project, "deps")
    assert code == 0, output
    run_dbt(project, "run")
    return failed_models(project)


@pytest.mark.dbt
def test_a_package_is_read_with_the_vars_of_the_project_installing_it(tmp_path: Path) -> None:
    assert _dbt_failures(tmp_path / "dbt", BASE) == set()
    for case, changed in sorted(HEADS.items()):
        truth = _dbt_failures(tmp_path / "dbt", {**BASE, **changed})
        assert truth == ({"claims_summary"} if case == "break" else set())
        repo = GitRepo(tmp_path / case)
        repo.commit({**BASE, ".gitignore": "dbt_packages/\n*.duckdb\ntarget/\n"}, "base")
        repo.git("checkout", "-q", "-b", "feature")
        repo.commit(dict(changed), "head")
        code, report = repo.report("--base", "main", "--head", "feature")
        broken = {
            i["node"]["id"].rsplit(".", 1)[-1]
            for f in report["findings"]
            if f["severity"] == "error"
            for i in f["impacted"]
            if i["breaks"]
        }
        assert (code, broken) == ((1, truth) if truth else (0, set())), report["findings"]
        # every model is in the catalog, the package's as the integration project builds them
        coverage = report["coverage"]
        assert coverage["analysed"] == coverage["defined"] == 4, coverage
