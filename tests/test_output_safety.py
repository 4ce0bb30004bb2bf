"""What the checked repository writes cannot steer the outputs: markup, mentions, Mermaid
directives, workflow commands and terminal escapes are neutralised in every format, tokens
from the environment appear in none of them, and the same input gives the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from gitrepo import GitRepo
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

REPO = Path(__file__).parent.parent
FORMATS = ("text", "json", "markdown", "github", "sarif", "junit", "gitlab", "html")
TOKEN = "ghp_MARKERtoken0123456789abcdefSECRET"

IMG = "<img src=x onerror=alert(1)>"
MERMAID = '"]\n%%{init: {"securityLevel": "loose"}}%%\nclick n0 call alert(1)\nx["'
EVIL_NAME = f"@octocat [click](https://evil.example) `tick` {IMG} $(touch pwned) \x1b[31mred"
EVIL_FILE = "views/<img src=x onerror=alert(1)>@octocat;$(id)`x`.sql"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hostile_repo(root: Path, branch: str = "feature") -> GitRepo:
    repo = GitRepo(root)
    col = _quoted(EVIL_NAME)
    mcol = _quoted("m" + MERMAID)
    repo.commit(
        {
            "db/V1.sql": "CREATE TABLE raw.orders (id INT, amount INT);\n",
            EVIL_FILE: (
                f"CREATE VIEW mart.{_quoted('v ' + IMG)} AS\n"
                f"SELECT id AS {col}, amount AS {mcol} FROM raw.orders;\n"
            ),
            "views/reader.sql": (
                f"CREATE VIEW mart.reader AS SELECT {col}, {mcol} "
                f"FROM mart.{_quoted('v ' + IMG)};\n"
            ),
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", branch)
    repo.commit(
        {
            "db/V2.sql": (
                f"-- a comment: {IMG} @octocat $(touch pwned)\n"
                "ALTER TABLE raw.orders DROP COLUMN id;\n"
            ),
            ".impact-check.yml": (
                "ignores:\n  - rule: TY3*\n    object: '*'\n"
                f"    reason: {json.dumps(IMG + ' @octocat $(touch pwned) [x](https://evil.example)')}\n"
            ),
        },
        f"Drop {IMG} @octocat $(touch pwned) `id`",
    )
    return repo


def _outputs(repo: GitRepo, head: str, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(extra_env or {})}
    out = {}
    for fmt in FORMATS:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "impact_check.cli",
                "check",
                "--base",
                "main",
                "--head",
                head,
                "--format",
                fmt,
            ],
            cwd=repo.root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr
        out[fmt] = proc.stdout
    return out


@pytest.fixture(scope="module")
def hostile_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    branch = "feature/$(touch${IFS}pwned);`id`<img>@octocat|x&y"
    repo = _hostile_repo(tmp_path_factory.mktemp("hostile") / "repo", branch)
    return _outputs(repo, branch)


def test_the_hostile_names_reach_every_report(hostile_outputs: dict[str, str]) -> None:
    report = json.loads(hostile_outputs["json"])
    assert report["summary"]["failed"]  # the drop of id breaks the reader: nothing lost
    paths = [p for f in report["findings"] for i in f["impacted"] for p in i["path"]]
    assert any("@octocat" in p and IMG in p for p in paths)  # JSON keeps names exactly
    assert EVIL_FILE in json.dumps(report, ensure_ascii=False)  # the file name, exactly


def test_markdown_has_no_html_links_mentions_or_mermaid_directives(
    hostile_outputs: dict[str, str], record_figure: Callable[[str, str], None]
) -> None:
    # Code spans render their content literally (no HTML, no mentions, no links), and their
    # content cannot close them (backticks are replaced): check the text outside them.
    md = re.sub(r"`[^`\n]*`", "`…`", hostile_outputs["markdown"].split("```mermaid")[0])
    assert "<img" not in md
    assert re.search(r"(?<![`\w])@octocat", md.replace("@\u200b", "")) is None
    assert "@octocat" not in md.replace("@\u200boctocat", "")
    assert "](https://evil.example)" not in md.replace("\\](https://evil.example)", "")
    assert "\x1b" not in md
    graph = hostile_outputs["markdown"].split("```mermaid", 1)[1].split("```", 1)[0]
    for line in graph.strip().splitlines():
        assert re.fullmatch(
            r'graph LR|  n\d+ --> n\d+|  (  )?n\d+\["[^"\n]*"\]|  subgraph d\d+\["[^"\n]*"\]'
            r"|  end|  style d\d+ [\w:#,]+|  classDef \w+ [\w:#,]+|  class n\d+ \w+",
            line,
        ), line
    record_figure("hostile-markdown", "hostile markdown/mermaid: 0 unescaped injections")


def test_html_escapes_everything(hostile_outputs: dict[str, str]) -> None:
    html = hostile_outputs["html"]
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "onerror=alert(1)>" not in html


def test_text_and_annotations_carry_no_control_sequences(hostile_outputs: dict[str, str]) -> None:
    assert "\x1b" not in hostile_outputs["text"]
    for line in hostile_outputs["github"].splitlines():
        assert line.startswith("::"), line  # one workflow command per line, nothing injected
        assert "\x1b" not in line
    commands = [line.split(" ", 1)[0] for line in hostile_outputs["github"].splitlines()]
    assert set(commands) <= {"::error", "::warning", "::notice"}


def test_machine_formats_stay_valid(hostile_outputs: dict[str, str]) -> None:
    for fmt in ("json", "sarif", "gitlab"):
        json.loads(hostile_outputs[fmt])
    ElementTree.fromstring(hostile_outputs["junit"])


def _echo_server(httpserver: HTTPServer) -> None:
    """A hostile server: answers every request with the headers it received, as an error."""

    def handler(request: Request) -> Response:
        echoed = json.dumps(
            {"message": str(dict(request.headers)), "headers": dict(request.headers)}
        )
        return Response(echoed, status=500, content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)


def test_tokens_never_reach_any_output(
    tmp_path: Path, httpserver: HTTPServer, record_figure: Callable[[str, str], None]
) -> None:
    _echo_server(httpserver)
    repo = _hostile_repo(tmp_path / "repo")
    repo.commit(
        {
            ".impact-check.yml": (
                "dbt:\n"
                f"  manifest: {httpserver.url_for('/manifest.json')}\n"
                "  token_env: DBT_CLOUD_TOKEN\n"
            ),
            "shop/dbt_project.yml": "name: shop\n",
            "shop/models/m.sql": "select '{{ env_var(\"MY_SECRET_TOKEN\") }}' as id",
        }
    )
    secrets = {
        "GITHUB_TOKEN": TOKEN,
        "IMPACT_CHECK_GITHUB_TOKEN": TOKEN,
        "DBT_CLOUD_TOKEN": TOKEN,
        "MY_SECRET_TOKEN": TOKEN,
    }
    outputs = _outputs(repo, "feature", {**secrets, "IMPACT_CHECK_DEBUG": "1"})
    report = json.loads(outputs["json"])
    assert any(s["kind"] == "dbt-manifest" and s["status"] == "failed" for s in report["sources"])
    assert len(httpserver.log) >= len(FORMATS)  # the token was really sent to the server
    assert all(req.headers.get("Authorization") == f"Bearer {TOKEN}" for req, _ in httpserver.log)
    leaked = [fmt for fmt, text in outputs.items() if TOKEN in text]
    ci = _ci_run(repo, httpserver, tmp_path, secrets)
    leaked += [name for name, text in ci.items() if TOKEN in text]
    record_figure(
        "hostile-tokens",
        f"hostile tokens: {len(outputs) + len(ci)} outputs scanned "
        f"({', '.join(sorted(outputs) + sorted(ci))}), {len(leaked)} leaked tokens",
    )
    assert leaked == []


def _ci_run(
    repo: GitRepo, httpserver: HTTPServer, tmp: Path, secrets: dict[str, str]
) -> dict[str, str]:
    """The Action's run: comment posted to the echoing server, every file it writes read."""
    base = repo.git("rev-parse", "main").strip()
    head = repo.git("rev-parse", "feature").strip()
    event = tmp / "event.json"
    event.write_text(
        json.dumps(
            {
                "repository": {"full_name": "octo/repo"},
                "pull_request": {
                    "number": 7,
                    "title": f"Drop {IMG} @octocat $(touch pwned)",
                    "base": {"sha": base, "repo": {"full_name": "octo/repo"}},
                    "head": {"sha": head, "ref": "x;$(id)", "repo": {"full_name": "octo/repo"}},
                    "labels": [],
                },
            }
        )
    )
    files = {name: tmp / name for name in ("summary.md", "out.txt", "r.json", "r.sarif")}
    env = {
        **os.environ,
        **secrets,
        "PYTHONPATH": str(REPO),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_WORKSPACE": str(repo.root),
        "GITHUB_API_URL": httpserver.url_for("/"),
        "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
        "GITHUB_OUTPUT": str(files["out.txt"]),
        "IMPACT_CHECK_REPORT_JSON": str(files["r.json"]),
        "IMPACT_CHECK_SARIF": str(files["r.sarif"]),
        "IMPACT_CHECK_DEBUG": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "impact_check.cli", "ci", "github"],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "comment" in proc.stderr  # the comment call failed against the echoing server
    texts = {"ci stdout": proc.stdout, "ci stderr": proc.stderr}
    texts.update({name: path.read_text() for name, path in files.items() if path.exists()})
    return texts


def _normalised(fmt: str, text: str) -> str:
    if fmt == "json":
        return re.sub(r'"elapsed_ms": [0-9.]+', '"elapsed_ms": 0', text)
    return text


def test_same_input_same_bytes_whatever_the_hash_seed(
    tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    runs = [_outputs(repo, "feature", {"PYTHONHASHSEED": seed}) for seed in ("0", "1", "4242")]
    differing = [fmt for fmt in FORMATS if len({_normalised(fmt, run[fmt]) for run in runs}) != 1]
    record_figure(
        "determinism",
        f"determinism: {len(FORMATS)} formats x {len(runs)} runs (PYTHONHASHSEED 0, 1, 4242), "
        f"{len(differing)} differing outside summary.elapsed_ms",
    )
    assert differing == []
    assert (
        runs[0]["json"] != _normalised("json", runs[0]["json"]) or '"elapsed_ms"' in runs[0]["json"]
    )
