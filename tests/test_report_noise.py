"""A real report must be readable in under a minute: failing findings first and in full, the
rest grouped per rule with counts, lists and lines capped, "BREAKS" only where the build
fails, and the JSON report complete. Checked on a generated noisy report (about 800 findings)
and on a real repository whose migration drops 300 columns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
from gitrepo import GitRepo
from noisy import LONG, noisy_report

from impact_check.model import Finding, Report
from impact_check.report import github, json_report, markdown, text
from impact_check.report.common import MAX_LINE, blocking

SCHEMA = json.loads((Path(__file__).parent / "data" / "report.schema.json").read_text())
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _failing(report: Report) -> list[Finding]:
    return [f for f in report.findings if blocking(f, report)]


def _flat(out: str) -> str:
    """The output with line wrapping undone (continuation indents are whitespace)."""
    return " ".join(out.split())


def test_text_noisy_report_is_short_and_no_line_is_long() -> None:
    report = noisy_report()
    out = text.render(report)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= MAX_LINE
    assert out.startswith("impact-check aaaaaaaaaaaa..bbbbbbbbbbbb: 61 files changed, 433 changes")
    # What does not fail the build (536 findings) takes a handful of lines.
    start = lines.index("Not failing the build (536 findings):")
    end = next(i for i, line in enumerate(lines) if line.startswith("Not analysed"))
    assert end - start <= 12, "\n".join(lines[start:end])
    assert any(
        "CO201 column-dropped ×430 on raw.table_00, raw.table_01, raw.table_02 (+9 more)" in line
        for line in lines
    )
    assert any("AN901 sql-unparseable ×104 in 40 files" in line for line in lines)
    assert "(200 info findings not shown: use --verbose)" in lines
    # 269 files not analysed for 19 reasons: ten reasons (two lines for a reason that
    # several files share) and a count.
    assert lines[end : end + 3] == [
        "Not analysed (269 files):",
        "  250 files: macros/m000.sql, macros/m001.sql, macros/m002.sql (+247 more)",
        "      Jinja outside a dbt project",
    ]
    assert lines[end + 13] == "  (+8 more files for 8 other reasons: --format json)"
    # Every line but those of the three failing findings (40 consumers with 12-hop paths).
    assert len(lines) - _failing_lines(lines) <= 40


def _failing_lines(lines: list[str]) -> int:
    start = lines.index("Failing the build (3):")
    end = next(i for i, line in enumerate(lines) if line.startswith("Not failing the build"))
    return end - start


def test_text_shows_every_failing_finding_in_full_first() -> None:
    report = noisy_report()
    out = text.render(report)
    flat = _flat(out)
    failing = _failing(report)
    assert len(failing) == 3
    positions = []
    for finding in failing:
        assert finding.location is not None
        head = f"{finding.location.file}:{finding.location.line}: error {finding.rule}"
        assert head in out
        positions.append(out.index(head))
        shown = finding.message[:2000]
        assert _flat(shown) in flat  # wrapped, not cut (up to 2,000 characters)
        for impact in finding.impacted:
            if impact.breaks and not impact.preexisting:
                assert f"BREAKS {impact.node} [view, certain]" in out
                assert " -> ".join(impact.path) in flat
                assert impact.reason in flat
    assert "(+12,664 characters: --format json)" in flat  # the one over 2,000 says so
    assert max(positions) < out.index("Not failing the build")


def test_text_says_breaks_only_under_a_failing_finding() -> None:
    report = noisy_report()
    out = text.render(report)
    breaking = sum(
        1 for f in _failing(report) for i in f.impacted if i.breaks and not i.preexisting
    )
    assert out.count("BREAKS") == breaking == 42
    assert "would break 1: mart.refund_reasons" in out  # a rule demoted to warning
    assert "would break 1: mart.old_report" in out  # a suppressed error
    assert "already broken at base (1): mart.legacy" in out
    # A failure acknowledged by a PR label (the report no longer fails): nothing "BREAKS".
    acknowledged = noisy_report(failed=False)
    quiet = text.render(acknowledged)
    assert "BREAKS" not in quiet and "Failing the build" not in quiet
    assert "would break 40: mart.wide_000, mart.wide_001, mart.wide_002 (+37 more)" in quiet
    assert len(quiet.splitlines()) <= 35
    snapshot = SNAPSHOTS / "noisy.txt"
    if os.environ.get("IMPACT_CHECK_UPDATE_SNAPSHOTS") == "1" or not snapshot.exists():
        snapshot.write_text(quiet)
    assert quiet == snapshot.read_text(), "IMPACT_CHECK_UPDATE_SNAPSHOTS=1 to accept"


def test_markdown_keeps_every_failing_finding_at_every_size() -> None:
    report = noisy_report()
    failing = _failing(report)
    breaking = [i.node for f in failing for i in f.impacted if i.breaks and not i.preexisting]
    # Each limit takes the next step of the ladder: no graph, only breaking consumers, one
    # line per finding; a breaking consumer is named at every step.
    for limit, rows in ((markdown.LIMIT, 42), (40_000, 42), (25_000, 42), (12_000, 0)):
        body = markdown.render(report, limit=limit)
        assert len(body) <= limit
        assert ("```mermaid" in body) == (limit == markdown.LIMIT)
        assert body.count("| 🔴 breaks |") == rows == (len(breaking) if rows else 0)
        assert body.index("### Failing the build (3)") < body.index("### Not failing the build")
        for finding in failing:
            assert finding.location is not None
            assert f"**{finding.rule} {finding.name}** `{finding.location.file}:" in body
        for node in breaking:
            assert f"`{node}`" in body, (limit, node)
        assert "`mart.refund_reasons`" in body and "would break 1: `mart.refund_reasons`" in body
        assert "×430 on `raw.table_00`, `raw.table_01`, `raw.table_02` (+9 more)" in body
    full = markdown.render(report, limit=10_000_000)
    assert "<details><summary>60 more</summary>" in full  # 40 breaking shown, 60 affected folded
    rest = full.split("### Not failing the build", 1)[1].split("<sub>", 1)[0]
    assert len(rest.strip().splitlines()) <= 6 and max(len(x) for x in rest.splitlines()) <= 400


def test_github_annotates_failing_findings_first_and_groups_the_rest() -> None:
    report = noisy_report()
    lines = github.render(report).splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:3]] == ["::error"] * 3
    assert "Breaks: mart.revenue, mart.margin" in lines[0].replace("%0A", "\n")
    assert "title=CO201 column-dropped ×430::" in "\n".join(lines)
    assert "title=AN901 sql-unparseable ×104::" in "\n".join(lines)
    rest = lines[3:]
    assert len(rest) == 3  # AN901 group, CO201 group, the demoted CO202 (suppressed: none)
    assert all("Breaks:" not in line for line in rest)
    assert any("Would break (does not fail the build): mart.refund_reasons" in x for x in rest)
    assert all(len(line) <= 3 * MAX_LINE for line in rest)


def test_json_report_stays_complete() -> None:
    report = noisy_report()
    data = json.loads(json_report.render(report))
    jsonschema.validate(data, SCHEMA)
    assert len(data["findings"]) == len(report.findings) == 739
    assert max(len(f["message"]) for f in data["findings"]) == LONG + len("unsupported statement: ")
    assert len(data["unanalyzed"]) == 269 and len(data["unanalyzed"][253]["reason"]) == 5000
    assert data["summary"]["files_changed"] == 61 and data["summary"]["changes"] == 433
    wide = next(f for f in data["findings"] if f["change"] == "C1")
    assert len(wide["impacted"]) == 100


def test_real_migration_dropping_300_columns_reads_in_a_few_lines(tmp_path: Path) -> None:
    """One migration drops 300 columns; one of them a view reads: one failing finding with
    its consumer, and one line for the 299 others."""
    columns = ", ".join(f"c{i} INT" for i in range(300))
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "migrations/V1__wide.sql": f"CREATE TABLE raw.wide (id INT, {columns});\n",
            "views/uses_c0.sql": "CREATE VIEW mart.uses_c0 AS SELECT id, c0 FROM raw.wide;\n",
        }
    )
    drops = "".join(f"ALTER TABLE raw.wide DROP COLUMN c{i};\n" for i in range(300))
    repo.commit({"migrations/V2__drop_legacy.sql": drops, "notes.md": "why\n"})
    code, out, _ = repo.run("check", "--base", "HEAD~1", "--head", "HEAD")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].endswith(": 2 files changed, 300 changes")
    assert "migrations/V2__drop_legacy.sql:1: error CO201 column-dropped" in out
    assert "  BREAKS mart.uses_c0 [view, certain] (views/uses_c0.sql)" in lines
    assert any(
        "warning CO201 column-dropped ×299 on raw.wide columns c1, c2, c3 (+296 more) in "
        "migrations/V2__drop_legacy.sql lines 2, 3, 4 (+296 more)" in line
        for line in lines
    )
    assert len(lines) <= 20 and max(len(line) for line in lines) <= MAX_LINE
    code, data = repo.report("--base", "HEAD~1", "--head", "HEAD")
    assert len([f for f in data["findings"] if f["rule"] == "CO201"]) == 300


def test_one_model_dropping_40_columns_names_them_on_one_line(tmp_path: Path) -> None:
    """mattermost-dwh e161fc0157: one staging model stopped selecting 108 columns nobody
    reads; the group names the columns (not "lines 1, 1, 1")."""
    columns = ", ".join(f"enable_p{i:02d}" for i in range(1, 41))
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "dbt_project.yml": "name: telemetry\n",
            "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n"
            "      - name: plugins\n",
            "models/stg_plugins.sql": f"select id, {columns} from "
            "{{ source('raw', 'plugins') }}",
        }
    )
    repo.commit({"models/stg_plugins.sql": "select id from {{ source('raw', 'plugins') }}"})
    code, out, _ = repo.run("check", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0
    assert (
        "warning CO201 column-dropped ×40 on main.stg_plugins columns enable_p01, enable_p02, "
        "enable_p03 (+37 more) in models/stg_plugins.sql line 1" in out
    ), out
