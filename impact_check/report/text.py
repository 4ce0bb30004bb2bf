"""Text for people: grouped by change, ``file:line``, rule, consumers with their paths."""

from __future__ import annotations

from impact_check.model import Finding, Impact, Report, Severity
from impact_check.report.common import AtRisk, ml_at_risk, plain

_COLOURS = {
    "error": "\x1b[31m",
    "warning": "\x1b[33m",
    "info": "\x1b[36m",
    "ok": "\x1b[32m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
}
_RESET = "\x1b[0m"
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, style: str) -> str:
        return f"{_COLOURS[style]}{text}{_RESET}" if self.colour else text


def render(report: Report, colour: bool = False, verbose: bool = False) -> str:
    """The report as text; infos are listed only with ``verbose``."""
    style = _Style(colour)
    lines = [_header(report)]
    lines += _ml_section(ml_at_risk(report), style)
    shown = [f for f in report.findings if verbose or f.severity != Severity.INFO]
    for finding in sorted(shown, key=_sort_key):
        lines.append("")
        lines.extend(_finding(finding, style))
    hidden = len(report.findings) - len(shown)
    if hidden:
        lines.append("")
        lines.append(
            style(
                f"({hidden} info finding{'s' if hidden != 1 else ''} not shown: use --verbose)",
                "dim",
            )
        )
    if report.coverage is not None and report.coverage.defined:
        from impact_check.report.coverage import detail_lines, headline

        lines.append("")
        lines += [
            plain(line) for line in [headline(report.coverage), *detail_lines(report.coverage)]
        ]
    if report.unanalyzed:
        lines.append("")
        lines.append("Not analysed:")
        lines += [
            plain(f"  {u.file}{f':{u.line}' if u.line else ''}: {u.reason}")
            for u in report.unanalyzed
        ]
    lines.append("")
    lines.append(_verdict(report, style))
    return "\n".join(lines) + "\n"


def _sort_key(finding: Finding) -> tuple[int, str, int]:
    loc = finding.location
    return (_ORDER[finding.severity], loc.file if loc else "", (loc.line or 0) if loc else 0)


def _header(report: Report) -> str:
    head = report.head if report.head in ("WORKTREE", "INDEX") else report.head[:12]
    return (
        f"impact-check {report.base[:12]}..{head}: {len(report.changes)} change"
        f"{'s' if len(report.changes) != 1 else ''} in the diff"
    )


def _finding(finding: Finding, style: _Style) -> list[str]:
    loc = finding.location
    where = plain(f"{loc.file}:{loc.line}" if loc and loc.line else (loc.file if loc else "-"))
    sev = style(finding.severity.value, finding.severity.value)
    suppressed = (
        style(f" [suppressed: {plain(finding.suppressed)}]", "dim") if finding.suppressed else ""
    )
    message = plain(finding.message)
    lines = [f"{where}: {sev} {finding.rule} {finding.name}: {message}{suppressed}"]
    for impact in finding.impacted:
        lines.extend(_impact(impact, style))
    if finding.help and finding.severity != Severity.INFO:
        lines.append(style(f"  help: {finding.help}", "dim"))
    return lines


def _impact(impact: Impact, style: _Style) -> list[str]:
    if impact.breaks and impact.preexisting:
        mark = style("already broken", "dim")
    elif impact.breaks:
        mark = style("BREAKS", "error")
    else:
        mark = "affected"
    where = f" ({plain(impact.file)})" if impact.file else ""
    if impact.owners:
        where += f" owners: {plain(', '.join(impact.owners))}"
    node = style(plain(impact.node), "bold")
    lines = [f"  {mark} {node} [{plain(impact.kind)}, {impact.certainty}]{where}"]
    lines.append(f"      path: {plain(' -> '.join(impact.path))}")
    if impact.reason:
        lines.append(f"      why: {plain(impact.reason)}")
    return lines


def _ml_section(risks: list[AtRisk], style: _Style) -> list[str]:
    """ "ML features and models at risk": each once, with what identifies it and the path."""
    if not risks:
        return []
    lines = ["", style(f"ML features and models at risk ({len(risks)}):", "bold")]
    for risk in risks:
        impact = risk.impact
        mark = style("BREAKS", "error") if risk.breaks else "affected"
        owners = f" owners: {', '.join(impact.owners)}" if impact.owners else ""
        node = f" {impact.node}" if impact.name and impact.name != impact.node else ""
        lines.append(f"  {mark} {style(risk.label, 'bold')} [{impact.kind}{node}]{owners}")
        facts = risk.facts()
        if facts:
            lines.append(f"      {' · '.join(facts)}")
        for path in risk.paths[:3]:
            lines.append(f"      path: {' -> '.join(path)}")
        if len(risk.paths) > 3:
            lines.append(f"      (+{len(risk.paths) - 3} more paths)")
        lines.append(f"      rules: {', '.join(risk.rules)}")
    return lines


def _verdict(report: Report, style: _Style) -> str:
    active = [f for f in report.findings if not f.suppressed]
    errors = sum(1 for f in active if f.severity == Severity.ERROR)
    warnings = sum(1 for f in active if f.severity == Severity.WARNING)
    broken = {i.node for f in active for i in f.impacted if i.breaks and not i.preexisting}
    counts = (
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning"
        f"{'s' if warnings != 1 else ''}, {len(broken)} consumer"
        f"{'s' if len(broken) != 1 else ''} broken"
    )
    partial = " (partial: the time budget ran out)" if report.partial else ""
    if report.failed:
        return style(f"FAILED: {counts} (fail-on: {report.fail_on}){partial}", "error")
    return style(f"PASSED: {counts} (fail-on: {report.fail_on}){partial}", "ok")
