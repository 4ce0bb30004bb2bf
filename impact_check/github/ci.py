"""``impact-check ci github``: the whole Action in Python, driven by environment variables.

Reads the event from ``$GITHUB_EVENT_PATH`` (three-dot diff for pull requests), runs the
check, then writes annotations (stdout), the job summary (``$GITHUB_STEP_SUMMARY``), SARIF
and JSON files, one sticky pull-request comment, and the step outputs (``$GITHUB_OUTPUT``).
The analysis never fails the step by itself: the exit code is 0 for pass, warn and fail
(action.yml's last step turns ``verdict=fail`` into a failure, after the comment and SARIF
exist) and 2 for configuration or internal errors.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from impact_check import git
from impact_check.atomic import write_text
from impact_check.errors import ImpactCheckError
from impact_check.github.event import Event, load_event
from impact_check.model import Report

DEFAULT_SKIP_LABEL = "impact-check: acknowledged"


@dataclass
class Inputs:
    """The Action's inputs, as action.yml passes them through ``env:``."""

    config: str | None
    base: str | None
    fail_on: str | None
    comment: bool
    summary: bool
    annotations: bool
    sarif: str
    report_json: str
    skip_label: str
    token: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def flag(name: str, default: bool = True) -> bool:
            raw = env.get(f"IMPACT_CHECK_{name}", "")
            return default if raw == "" else raw.lower() in ("1", "true", "yes", "on")

        return cls(
            config=env.get("IMPACT_CHECK_CONFIG") or None,
            base=env.get("IMPACT_CHECK_BASE") or None,
            fail_on=env.get("IMPACT_CHECK_FAIL_ON") or None,
            comment=flag("COMMENT"),
            summary=flag("SUMMARY"),
            annotations=flag("ANNOTATIONS"),
            sarif=env.get("IMPACT_CHECK_SARIF", "impact-check.sarif"),
            report_json=env.get("IMPACT_CHECK_REPORT_JSON", "impact-check.json"),
            skip_label=env.get("IMPACT_CHECK_SKIP_LABEL") or DEFAULT_SKIP_LABEL,
            token=env.get("IMPACT_CHECK_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None,
        )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def marker(env: Mapping[str, str]) -> str:
    """The hidden marker of this workflow job's sticky comment."""
    raw = f"{env.get('GITHUB_WORKFLOW', '')}:{env.get('GITHUB_JOB', '')}"
    safe = re.sub(r"[^A-Za-z0-9_.:/ -]", "", raw).replace("--", "-")
    return f"<!-- impact-check:{safe} -->"


def run(env: Mapping[str, str] | None = None) -> int:
    """Run the Action step; returns the process exit code."""
    env = dict(os.environ if env is None else env)
    outputs = _Outputs(env.get("GITHUB_OUTPUT"))
    inputs = Inputs.from_env(env)
    try:
        report, event = _check(env, inputs)
    except ImpactCheckError as err:
        print(f"::error title=impact-check::{_one_line(str(err))}")
        outputs.set("verdict", "error")
        outputs.flush()
        return 2
    acknowledged = _acknowledged(event, inputs) if report.failed else None
    verdict = "warn" if acknowledged else _verdict(report)
    if acknowledged:
        report.failed = False  # the PR label turns the failure into a warning
    _publish(report, event, inputs, env, acknowledged)
    outputs.set("verdict", verdict)
    outputs.set("findings", str(sum(1 for f in report.findings if not f.suppressed)))
    outputs.set("report-json", inputs.report_json)
    outputs.set("sarif-file", inputs.sarif if inputs.sarif else "")
    outputs.flush()
    log(f"impact-check verdict: {verdict}")
    return 0


def _check(env: Mapping[str, str], inputs: Inputs) -> tuple[Report, Event | None]:
    from impact_check.check import Revisions, check
    from impact_check.config import load_config

    root = git.repo_root(Path(env.get("GITHUB_WORKSPACE") or Path.cwd()))
    event = None
    if env.get("GITHUB_EVENT_PATH") and env.get("GITHUB_EVENT_NAME"):
        event = load_event(env["GITHUB_EVENT_NAME"], Path(env["GITHUB_EVENT_PATH"]))
    config = load_config(root, Path(inputs.config) if inputs.config else None)
    if inputs.fail_on:
        config.fail_on = inputs.fail_on  # type: ignore[assignment]
    head = git.resolve(root, event.head) if event and event.head else git.resolve(root, "HEAD")
    base_rev = inputs.base or (event.base if event else None)
    if base_rev is None:
        base = git.merge_base(root, git.resolve(root, git.default_branch(root)), head)
    else:  # three-dot: what the branch changed since it forked
        base = git.merge_base(root, git.resolve(root, base_rev), head)
    from impact_check.github.trusted import trusted_config

    # a pull request cannot redirect fetches or credentials (DESIGN.md, Config)
    trusted = trusted_config(root, base, config, inputs.config)
    config = trusted.config
    if trusted.note:
        log(f"impact-check: {trusted.note}")
    report, _graph = check(root, Revisions(base, head), config)
    return report, event


def _acknowledged(event: Event | None, inputs: Inputs) -> str | None:
    """Who acknowledged the breaking change with the skip label, if anybody did."""
    pr = event.pull_request if event else None
    if pr is None or inputs.skip_label not in pr.labels:
        return None
    by = (
        f"@{event.sender}"
        if event and event.sender and event.label == inputs.skip_label
        else ("a maintainer")
    )
    return f"acknowledged by {by} with the label `{inputs.skip_label}`"


def _verdict(report: Report) -> str:
    from impact_check.report.common import verdict_word

    return verdict_word(report)


def _publish(
    report: Report,
    event: Event | None,
    inputs: Inputs,
    env: Mapping[str, str],
    acknowledged: str | None,
) -> None:
    from impact_check.report import github, json_report, sarif

    note = (
        f"\n\n> ⚠️ Breaking changes {acknowledged}: reported as warnings.\n"
        if (acknowledged)
        else ""
    )
    if inputs.annotations:
        sys.stdout.write(github.render(report))
    if inputs.summary and env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(github.summary(report) + note)
    if inputs.sarif:
        write_text(Path(inputs.sarif), sarif.render(report))
    if inputs.report_json:
        write_text(Path(inputs.report_json), json_report.render(report))
    if inputs.comment:
        _comment(report, event, inputs, env, note)


def _comment(
    report: Report, event: Event | None, inputs: Inputs, env: Mapping[str, str], note: str
) -> None:
    from impact_check.github.client import GitHubClient, GitHubError
    from impact_check.github.comment import upsert
    from impact_check.report.markdown import render

    pr = event.pull_request if event else None
    if pr is None:
        log("impact-check: not a pull request: no comment")
        return
    if pr.from_fork:
        log(
            "impact-check: pull request from a fork (read-only token): no comment; "
            "annotations, summary and SARIF are still written"
        )
        return
    if not inputs.token or not event or not event.repository:
        log("impact-check: no token: no comment (pass github-token)")
        return
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    client = GitHubClient(api, inputs.token, event.repository)
    tag = marker(env)
    try:
        action, comment_id = upsert(
            client,
            pr.number,
            tag,
            lambda limit: render(report, marker=tag, limit=limit - len(note)) + note,
        )
        log(f"impact-check: {action} comment {comment_id}")
    except GitHubError as err:
        hint = " (the token needs `pull-requests: write`)" if err.status == 403 else ""
        log(f"impact-check: could not comment: {err}{hint}")
    finally:
        client.close()


def _one_line(text: str) -> str:
    return text.replace("%", "%25").replace("\r", " ").replace("\n", " ")


class _Outputs:
    """Step outputs appended to ``$GITHUB_OUTPUT`` (skipped when not set)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.values: dict[str, str] = {}

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def flush(self) -> None:
        if not self.path:
            return
        with open(self.path, "a", encoding="utf-8") as handle:
            for name, value in self.values.items():
                handle.write(f"{name}={value.replace(chr(10), ' ')}\n")
