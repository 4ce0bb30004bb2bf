"""Lineage kinds at the configuration edge: a kind the checker does not know is a
configuration error (exit 2 naming the known kinds), never a failed source that lets the
build pass; the new kinds are known; in pull requests their settings come from the base
revision like every other source's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from impact_check.config import LineageSource
from impact_check.errors import ConfigError
from impact_check.sources import fetch_one, known_kinds
from impact_check.sources.base import SourceContext
from tests import test_source_airflow
from tests.gitrepo import GitRepo
from tests.test_ci_trusted_config import report, runner_for

NEW_KINDS = {"airflow", "unity_catalog", "openmetadata", "snowflake", "dbt_cloud", "atlas"}


def test_the_new_kinds_are_known() -> None:
    assert set(known_kinds()) >= NEW_KINDS


def _repo(tmp_path: Path, config: str | None) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    files = {"db/V1__init.sql": "CREATE TABLE public.orders (id INT, amount INT);\n"}
    if config is not None:
        files[".impact-check.yml"] = config
    repo.commit(files)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V2__drop.sql": "ALTER TABLE public.orders DROP COLUMN amount;\n"})
    return repo


def test_unknown_kind_in_the_config_file_is_exit_2_naming_the_known_kinds(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path, "lineage:\n  - {kind: airflw, location: 'http://airflow:8080'}\n")
    code, out, err = repo.run("check", "--base", "main")
    assert code == 2 and not out
    assert ".impact-check.yml" in err and "'lineage.0.kind'" in err
    assert "unknown lineage kind 'airflw'" in err
    assert all(kind in err for kind in NEW_KINDS | {"marquez", "datahub"})
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_unknown_kind_on_the_command_line_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    repo = _repo(tmp_path, None)
    if how == "flag":
        code, _out, err = repo.run("check", "--base", "main", "--lineage", "unity:https://x")
    else:
        monkeypatch.setenv("IMPACT_CHECK_LINEAGE", "marquez:http://m:5000,unity:https://x")
        code, _out, err = repo.run("check", "--base", "main")
    assert code == 2 and "unknown lineage kind 'unity'" in err and "unity_catalog" in err


def test_a_hand_built_spec_of_unknown_kind_is_a_config_error(tmp_path: Path) -> None:
    spec = LineageSource.model_construct(kind="nope", location="x", name=None)
    with pytest.raises(ConfigError, match="unknown lineage kind 'nope'"):
        fetch_one(spec, SourceContext(root=tmp_path, touched={"a.b"}))


def test_pull_request_cannot_redirect_an_airflow_source(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_USER", "impact")
    monkeypatch.setenv("AIRFLOW_PASSWORD", test_source_airflow.PASSWORD)
    monkeypatch.setenv("DEPLOY_KEY", "do-not-send-me")
    test_source_airflow.Airflow3(httpserver)

    def config(url: str, password_env: str) -> str:
        source = {
            "kind": "airflow",
            "location": url,
            "username_env": "AIRFLOW_USER",
            "password_env": password_env,
            "options": {"retries": 0},
        }
        return json.dumps({"lineage": [source], "cache": False})

    trusted = httpserver.url_for("/")
    runner = runner_for(
        tmp_path,
        {".impact-check.yml": config(trusted, "AIRFLOW_PASSWORD")},
        {".impact-check.yml": config(httpserver.url_for("/collector"), "DEPLOY_KEY")},
    )
    stderr, data = report(runner, verdict="warn")  # the recorded assets name other tables
    (source,) = [s for s in data["sources"] if s["kind"] == "airflow"]
    assert source["name"] == f"airflow:{trusted}" and source["status"] == "ok"
    assert not [r for r, _ in httpserver.log if r.path.startswith("/collector")]
    assert not [r for r, _ in httpserver.log if b"do-not-send-me" in r.get_data()]
    assert "base revision's configuration" in stderr


# the least each catalog source needs to ask its server about raw.orders
MINIMAL = {
    "airflow": {},
    "unity_catalog": {"options": {"catalog": "main"}},
    "openmetadata": {"namespace": "pg.shop"},
    "snowflake": {"options": {"database": "shop"}},
    "dbt_cloud": {"options": {"environments": [42]}},
    "atlas": {"namespace": "primary"},
}


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_a_catalog_source_that_fails_fails_the_check_under_on_source_error_fail(
    tmp_path: Path, httpserver: HTTPServer, kind: str
) -> None:
    import re

    httpserver.expect_request(re.compile(".*")).respond_with_data("down", status=503)
    url = httpserver.url_for("/").rstrip("/")
    source = {"kind": kind, "location": url, **MINIMAL[kind]}
    source["options"] = {**source.get("options", {}), "retries": 0}
    outcomes = {}
    for policy in ("warn", "fail"):
        config = json.dumps({"on_source_error": policy, "lineage": [source]})
        repo = _repo(tmp_path / policy, config)
        code, out, err = repo.run("check", "--base", "main", "--format", "json", "--no-cache")
        assert code in (0, 1), err
        report = json.loads(out)
        (an905,) = [f for f in report["findings"] if f["rule"] == "AN905"]
        assert url in an905["message"] and "HTTP 503" in an905["message"]
        (status,) = [s["status"] for s in report["sources"] if s["kind"] == kind]
        outcomes[policy] = (code, an905["severity"], status)
    assert outcomes == {"warn": (0, "warning", "failed"), "fail": (1, "error", "failed")}
