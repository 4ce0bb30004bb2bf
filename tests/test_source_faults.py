"""A networked lineage source that fails, through the CLI: under ``on_source_error: fail``
the check fails (exit 1, AN905 as an error naming the URL); under the default ``warn`` the
same run passes with a warning. Each source talks to a real local HTTP server that answers
every request with the fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gitrepo import GitRepo
from pytest_httpserver import HTTPServer

CREATE = "CREATE SCHEMA raw;\nCREATE TABLE raw.orders (id INT, amount INT, status VARCHAR);\n"
DROP = "ALTER TABLE raw.orders DROP COLUMN status;\n"
FAULTS = {
    "http-503": {"response_data": "down for maintenance", "status": 503},
    "html-200": {"response_data": "<html>login</html>", "content_type": "text/html"},
}


def _config(kind: str, url: str, policy: str) -> str:
    return (
        f"on_source_error: {policy}\n"
        "lineage:\n"
        f"  - kind: {kind}\n"
        f"    location: {url}\n"
        "    options: {retries: 0, backoff: 0.01}\n"
    )


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("kind", ["marquez", "datahub", "mlflow"])
def test_failing_source_fails_the_check_under_on_source_error_fail(
    kind: str, fault: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_data(**FAULTS[fault])
    url = httpserver.url_for("/").rstrip("/")
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"db/V1__init.sql": CREATE})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V2__drop.sql": DROP})
    outcomes = {}
    for policy in ("warn", "fail"):
        repo.write({".impact-check.yml": _config(kind, url, policy)})
        code, report = repo.report("--base", "main", "--head", "feature", "--no-cache")
        an905 = [f for f in report["findings"] if f["rule"] == "AN905"]
        assert len(an905) == 1 and url in an905[0]["message"], report["findings"]
        (source,) = [s for s in report["sources"] if s["kind"] == kind]
        assert source["status"] == "failed", source
        outcomes[policy] = (code, an905[0]["severity"])
    assert outcomes == {"warn": (0, "warning"), "fail": (1, "error")}
    assert len(httpserver.log) >= 2  # the source asked the server each time
