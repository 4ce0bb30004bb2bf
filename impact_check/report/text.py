"""Text for people: what fails the build first and in full, the rest grouped per rule.

A real report can hold hundreds of findings; this one is read in under a minute. Findings
that fail the build come first, each with every consumer it breaks and the path to it
(long lines wrapped, never cut). The others follow, one line per finding or, where one rule
has many, one line per rule with a count, the relations and the first few places. Lists are
capped with "(+N more)", no line is over MAX_LINE characters, and "BREAKS" appears only
under a finding that fails the build. The JSON report keeps everything.
"""

from __future__ import annotations

import textwrap

from impact_check.model import Finding, Impact, Report, Severity
from impact_check.report.common import (
    FIRST,
    MAX_LINE,
    AtRisk,
    RuleGroup,
    capped,
    clip,
    counts,
    diff_size,
    group_summary,
    impact_mark,
    location_text,
    ml_at_risk,
    plain,
    plural,
    reach,
    triage,
    unanalyzed_groups,
)

_COLOURS = {
    "error": "\x1b[31m",
    "warning": "\x1b[33m",
    "info": "\x1b[36m",
    "ok": "\x1b[32m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
}
_RESET = "\x1b[0m"
_AFFECTED_SHOWN = 5  # affected consumers of a failing finding shown with their path
_UNANALYZED_SHOWN = 10  # reasons listed under "Not analysed"
_ML_SHOWN = 10  # ML features and models listed
_FAILING_MESSAGE = 2_000  # characters of a failing finding's message (about ten lines)


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
    failing, rest = triage(report, shown)
    if failing:
        lines += ["", style(f"Failing the build ({len(failing)}):", "bold")]
        for finding in failing:
            lines.append("")
            lines.extend(_failing(finding, style))
    if rest:
        total = sum(len(item.findings) if isinstance(item, RuleGroup) else 1 for item in rest)
        lines += ["", style(f"Not failing the build ({plural(total, 'finding')}):", "bold")]
        for item in rest:
            if isinstance(item, RuleGroup):
                lines.append(_group(item, style))
            else:
                lines.extend(_quiet(item, style))
    hidden = len(report.findings) - len(shown)
    if hidden:
        lines.append("")
        lines.append(style(f"({plural(hidden, 'info finding')} not shown: use --verbose)", "dim"))
    lines += _unanalyzed(report)
    lines.append("")
    lines.append(_verdict(report, style))
    return "\n".join(lines) + "\n"


def _wrap(text: str, indent: str, hang: str | None = None) -> list[str]:
    """``text`` on lines of at most MAX_LINE characters, continuation lines indented."""
    return textwrap.wrap(
        text,
        width=MAX_LINE,
        initial_indent=indent,
        subsequent_indent=hang if hang is not None else indent + "    ",
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [indent.rstrip()]


def _header(report: Report) -> str:
    head = report.head if report.head in ("WORKTREE", "INDEX") else report.head[:12]
    return f"impact-check {report.base[:12]}..{head}: {diff_size(report)}"


def _where(finding: Finding) -> str:
    return plain(location_text(finding) or "-")


def _title(finding: Finding, style: _Style, width: int | None) -> tuple[str, str]:
    """(the line's prefix, its message): ``file:line: severity RULE name: `` and the text,
    the message clipped to ``width`` characters when a width is given."""
    sev = style(finding.severity.value, finding.severity.value)
    suppressed = f" [suppressed: {plain(finding.suppressed)}]" if finding.suppressed else ""
    message = plain(finding.message) + suppressed
    prefix = f"{_where(finding)}: {sev} {finding.rule} {finding.name}: "
    if width is not None:
        visible = len(prefix) - (len(sev) - len(finding.severity.value))
        message = clip(message, max(40, width - visible))
    return prefix, message


def _failing(finding: Finding, style: _Style) -> list[str]:
    """A finding that fails the build, in full: every consumer it breaks, with its path."""
    prefix, message = _title(finding, style, None)
    if len(message) > _FAILING_MESSAGE:
        cut = len(message) - _FAILING_MESSAGE
        message = f"{message[:_FAILING_MESSAGE]}… (+{cut:,} characters: --format json)"
    lines = _wrap(prefix + message, "", "    ")
    breaking = [i for i in finding.impacted if i.breaks and not i.preexisting]
    others = [i for i in finding.impacted if not (i.breaks and not i.preexisting)]
    for impact in breaking:  # in the analysis' order: nearest first
        lines.extend(_impact(impact, style, True))
    already = sorted(i.node for i in others if i.preexisting)
    if already:
        lines += _wrap(
            f"already broken at base ({len(already)}): {capped(plain(n) for n in already)}",
            "  ",
        )
    affected = [i for i in others if not i.preexisting]
    for impact in affected[:_AFFECTED_SHOWN]:
        lines.extend(_impact(impact, style, True))
    if len(affected) > _AFFECTED_SHOWN:
        left = affected[_AFFECTED_SHOWN:]
        names = capped(plain(i.node) for i in left)
        lines += _wrap(f"(+{len(left)} more affected: {names}; all in --format json)", "  ")
    if finding.help:
        lines += [style(line, "dim") for line in _wrap(f"help: {finding.help}", "  ")]
    return lines


def _impact(impact: Impact, style: _Style, blocks: bool) -> list[str]:
    mark = impact_mark(impact, blocks)
    styled = style(mark, "error" if mark == "BREAKS" else "dim") if mark != "affected" else mark
    where = f" ({plain(impact.file)})" if impact.file else ""
    if impact.owners:
        where += f" owners: {plain(', '.join(impact.owners))}"
    node = style(plain(impact.node), "bold")
    lines = _wrap(f"{styled} {node} [{plain(impact.kind)}, {impact.certainty}]{where}", "  ")
    lines += _wrap(f"path: {plain(' -> '.join(impact.path))}", "      ")
    if impact.reason:
        lines += _wrap(f"why: {plain(impact.reason)}", "      ")
    return lines


def _quiet(finding: Finding, style: _Style) -> list[str]:
    """A finding that does not fail the build: one line (clipped), and who it reaches."""
    prefix, message = _title(finding, style, MAX_LINE - 2)
    lines = [f"  {prefix}{message}"]
    reached = reach(finding, plain)
    if reached:
        lines.append(clip(f"      {reached}", MAX_LINE))
    return lines


def _group(group: RuleGroup, style: _Style) -> str:
    """``  warning CO203 column-added ×37 on raw.orders, … at a.sql:3, … (+35 more)``."""
    sev = style(group.severity.value, group.severity.value)
    summary = group_summary(group, plain)
    text = f"  {group.severity.value} {group.rule} {group.name} {summary}"
    line = clip(text, MAX_LINE)
    return line.replace(group.severity.value, sev, 1)


def _unanalyzed(report: Report) -> list[str]:
    if not report.unanalyzed:
        return []
    groups = unanalyzed_groups(report.unanalyzed)
    lines = ["", f"Not analysed ({plural(len(report.unanalyzed), 'file')}):"]
    for reason, places in groups[:_UNANALYZED_SHOWN]:
        if len(places) == 1:
            lines.append(clip(plain(f"  {places[0]}: {reason}"), MAX_LINE))
            continue
        lines.append(clip(f"  {len(places)} files: {capped(plain(p) for p in places)}", MAX_LINE))
        lines.append(clip(f"      {plain(reason)}", MAX_LINE))
    left = groups[_UNANALYZED_SHOWN:]
    if left:
        more = sum(len(places) for _, places in left)
        lines.append(
            f"  (+{plural(more, 'more file')} for {len(left)} other reasons: --format json)"
        )
    return lines


def _ml_section(risks: list[AtRisk], style: _Style) -> list[str]:
    """ "ML features and models at risk": each once, with what identifies it and the path."""
    if not risks:
        return []
    lines = ["", style(f"ML features and models at risk ({len(risks)}):", "bold")]
    for risk in risks[:_ML_SHOWN]:
        impact = risk.impact
        if risk.breaks:
            mark = style("BREAKS", "error") if risk.blocking else style("would break", "dim")
        else:
            mark = "affected"
        owners = f" owners: {', '.join(impact.owners)}" if impact.owners else ""
        node = f" {impact.node}" if impact.name and impact.name != impact.node else ""
        lines += _wrap(
            plain(f"{mark} {style(risk.label, 'bold')} [{impact.kind}{node}]{owners}"), "  "
        )
        facts = risk.facts()
        if facts:
            lines += _wrap(plain(" · ".join(facts)), "      ")
        for path in risk.paths[:FIRST]:
            lines += _wrap(plain(f"path: {' -> '.join(path)}"), "      ")
        if len(risk.paths) > FIRST:
            lines.append(f"      (+{len(risk.paths) - FIRST} more paths)")
        lines.append(f"      rules: {capped(risk.rules, 8)}")
    if len(risks) > _ML_SHOWN:
        left = risks[_ML_SHOWN:]
        lines += _wrap(f"(+{len(left)} more: {capped(plain(r.label) for r in left)})", "  ")
    return lines


def _verdict(report: Report, style: _Style) -> str:
    c = counts(report)
    partial = " (partial: the time budget ran out)" if report.partial else ""
    if report.failed:
        return style(f"FAILED: {c.headline} (fail-on: {report.fail_on}){partial}", "error")
    return style(f"PASSED: {c.headline} (fail-on: {report.fail_on}){partial}", "ok")
