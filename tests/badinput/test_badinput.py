"""Every bad-input case through the real CLI: the stated outcome, never a crash, a hang or a
silent pass (see runner.py for the case format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from runner import CASE_TIMEOUT, Case, Outcome, load_cases, run_case

SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "report.schema.json").read_text())
CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, record_badinput: Any) -> None:
    outcome = run_case(case, tmp_path)
    expect = case.spec["expect"]
    _never_a_crash(outcome)
    if "error" in expect:
        assert outcome.code == 2, f"expected exit 2, got {outcome.code}: {outcome.stdout[:500]}"
        ci = case.spec.get("mode", case.kind_spec.get("mode")) == "ci-github"
        # The Action reports through a workflow command on stdout; the CLI on stderr.
        lines = (outcome.stdout if ci else outcome.stderr).strip().splitlines()
        assert len(lines) == 1, outcome.stdout + outcome.stderr
        prefix = "::error title=impact-check::" if ci else "impact-check: error: "
        assert lines[0].startswith(prefix), lines[0]
        assert expect["error"] in lines[0], lines[0]
        record_badinput(case, "exit 2")
        return
    assert outcome.code in (0, 1), f"exit {outcome.code}: {outcome.stderr}"
    report = outcome.report
    assert report is not None
    jsonschema.validate(report, SCHEMA)
    if "exit" in expect:
        assert outcome.code == expect["exit"], _summary(report)
    checked = []
    for want in _listed(expect, "finding"):
        _has_finding(report, want)
        checked.append("finding")
    for want in _listed(expect, "unanalyzed"):
        _has_unanalyzed(report, want)
        checked.append("unanalyzed")
    for want in _listed(expect, "source"):
        _has_source(report, want)
    for rule in expect.get("no_finding", []):
        assert not [f for f in report["findings"] if f["rule"].startswith(rule)], _summary(report)
    if expect.get("outcome") == "pass":
        assert expect.get("why"), "a pass case must say why passing is the truth"
        assert not report["summary"]["failed"], _summary(report)
        record_badinput(case, "correct pass")
        return
    assert checked, "a case must expect a finding, an unanalyzed entry or an error"
    record_badinput(case, "+".join(sorted(set(checked))))


def _never_a_crash(outcome: Outcome) -> None:
    assert outcome.seconds < CASE_TIMEOUT
    for stream in (outcome.stdout, outcome.stderr):
        assert "Traceback" not in stream, stream[-2000:]
        assert "internal error" not in stream, stream[-2000:]


def _listed(expect: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = expect.get(key) or expect.get(key + "s") or []
    return value if isinstance(value, list) else [value]


def _summary(report: dict[str, Any]) -> str:
    findings = [(f["rule"], f.get("location"), f["message"][:160]) for f in report["findings"]]
    return json.dumps({"findings": findings, "unanalyzed": report["unanalyzed"]}, indent=1)


def _has_finding(report: dict[str, Any], want: dict[str, Any]) -> None:
    for found in report["findings"]:
        location = found.get("location") or {}
        if found["rule"] != want["rule"]:
            continue
        if "file" in want and location.get("file") != want["file"]:
            continue
        if "line" in want and location.get("line") != want["line"]:
            continue
        if want.get("contains", "") not in found["message"]:
            continue
        return
    raise AssertionError(f"no finding like {want}:\n{_summary(report)}")


def _has_unanalyzed(report: dict[str, Any], want: dict[str, Any]) -> None:
    for entry in report["unanalyzed"]:
        same_line = "line" not in want or entry.get("line") == want["line"]
        if (
            entry["file"] == want["file"]
            and want.get("contains", "") in entry["reason"]
            and same_line
        ):
            return
    raise AssertionError(f"no unanalyzed entry like {want}:\n{_summary(report)}")


def _has_source(report: dict[str, Any], want: dict[str, Any]) -> None:
    """A lineage source entry of that kind whose status is one of ``status`` (a word or a
    list) and whose detail says ``contains``."""
    statuses = want["status"] if isinstance(want["status"], list) else [want["status"]]
    for entry in report["sources"]:
        if entry["kind"] != want["kind"] or entry["status"] not in statuses:
            continue
        if want.get("contains", "") in entry.get("detail", ""):
            return
    sources = [(s["kind"], s["status"], s.get("detail", "")[:160]) for s in report["sources"]]
    raise AssertionError(f"no source like {want}: {sources}")
