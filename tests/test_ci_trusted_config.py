"""In the Action, lineage URLs and credentials come from the base revision's config: a pull
request that points a lineage source elsewhere (or names another secret) changes nothing.
A real repository, a real pull_request payload, a real local server standing in for Marquez."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo
from pytest_httpserver import HTTPServer
from test_ci_github import FIXTURES, step
from test_source_marquez import serve

from impact_check.config import Config
from impact_check.github.trusted import base_config, with_base_network

SQL = {
    "db/V1__init.sql": "CREATE TABLE public.orders (id INT, amount DECIMAL(10, 2), note TEXT);\n",
}


def lineage_config(url: str, token_env: str | None = None) -> str:
    source: dict[str, Any] = {"kind": "marquez", "location": url, "options": {"retries": 0}}
    if token_env:
        source["token_env"] = token_env
    return json.dumps(
        {"aliases": {"postgres://db.example:5432": ""}, "lineage": [source], "cache": False}
    )


def runner_for(
    tmp_path: Path, base_files: dict[str, str], head_files: dict[str, str]
) -> dict[str, Any]:
    repo = GitRepo(tmp_path / "work")
    base = repo.commit({**SQL, **base_files}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit(
        {"db/V2__drop.sql": "ALTER TABLE public.orders DROP COLUMN amount;\n", **head_files}
    )
    payload = json.loads((FIXTURES / "pull_request-opened.json").read_text())
    payload["pull_request"]["base"]["sha"] = base
    payload["pull_request"]["head"]["sha"] = head
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    out = tmp_path / "runner"
    out.mkdir()
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKSPACE": str(repo.root),
        "GITHUB_OUTPUT": str(out / "output"),
        "IMPACT_CHECK_COMMENT": "false",
        "IMPACT_CHECK_SUMMARY": "false",
        "IMPACT_CHECK_SARIF": "",
        "IMPACT_CHECK_REPORT_JSON": str(out / "impact.json"),
    }
    return {"env": env, "out": out, "repo": repo}


def report(runner: dict[str, Any], verdict: str = "fail") -> tuple[str, dict[str, Any]]:
    _code, _stdout, stderr, outputs = step(runner)
    assert outputs["verdict"] == verdict, stderr
    return stderr, json.loads((runner["out"] / "impact.json").read_text())


def test_pull_request_cannot_redirect_the_lineage_url_or_the_secret(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_KEY", "do-not-send-me")
    serve(httpserver)
    trusted_url = httpserver.url_for("/")
    hostile_url = httpserver.url_for("/collector")
    runner = runner_for(
        tmp_path,
        {".impact-check.yml": lineage_config(trusted_url)},
        {".impact-check.yml": lineage_config(hostile_url, token_env="DEPLOY_KEY")},
    )
    stderr, data = report(runner)
    (source,) = [s for s in data["sources"] if s["kind"] == "marquez"]
    assert source["name"] == f"marquez:{trusted_url}" and source["status"] == "ok"
    assert not [r for r, _ in httpserver.log if r.path.startswith("/collector")]
    assert not [r for r, _ in httpserver.log if "Authorization" in r.headers]
    assert "base revision's configuration" in stderr
    # the trusted source still finds the consumer only Marquez knows
    (dropped,) = [f for f in data["findings"] if f["rule"] == "CO201"]
    assert "marquez:airflow/etl.orders_daily" in {i["node"]["id"] for i in dropped["impacted"]}


def test_lineage_added_by_the_pull_request_is_not_fetched(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve(httpserver)
    runner = runner_for(
        tmp_path, {}, {".impact-check.yml": lineage_config(httpserver.url_for("/"))}
    )
    stderr, data = report(runner, verdict="warn")  # no consumer the repository knows
    assert not [s for s in data["sources"] if s["kind"] == "marquez"]
    assert not httpserver.log
    assert "apply once merged" in stderr


def test_base_config_keeps_the_heads_other_settings(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "r")
    base = repo.commit(
        {
            "pyproject.toml": '[tool.impact-check]\nfail_on = "never"\n\n[tool.impact-check.dbt]\n'
            'manifest = "https://ci.example/manifest.json"\ntoken_env = "DBT_TOKEN"\n'
        }
    )
    base_cfg = base_config(repo.root, base, None)
    assert base_cfg.dbt.manifest == "https://ci.example/manifest.json"
    head = Config(fail_on="warning", offline=True)
    head.dbt.manifest = "https://evil.example/manifest.json"
    trusted = with_base_network(head, base_cfg)
    assert trusted.config.dbt.manifest == "https://ci.example/manifest.json"
    assert trusted.config.dbt.token_env == "DBT_TOKEN"
    assert trusted.config.offline is False  # a committed cache cannot replace the fetch
    assert trusted.config.fail_on == "warning" and trusted.note
