"""``github``: workflow-command annotations, and the job summary.

GitHub shows at most 10 error and 10 warning annotations per step, so findings that fail the
build are annotated first, the others one per rule where a rule has many, and one notice
counts what is left. Only a failing finding says "Breaks:"; a consumer that breaks under a
finding that does not fail the build "would break". Values are escaped as the runner expects.
"""

from __future__ import annotations

from impact_check.model import Finding, Report, Severity
from impact_check.report import markdown
from impact_check.report.common import (
    MAX_LINE,
    RuleGroup,
    capped,
    clip,
    group_summary,
    triage,
)

MAX_PER_LEVEL = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_MESSAGE = 2_000  # characters of a failing finding's message in its annotation
_NAMES = 30  # consumers a failing finding's annotation names


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(severity: Severity, finding: Finding, title: str, message: str) -> str:
    props = []
    if finding.location is not None:
        props.append(f"file={escape_property(finding.location.file)}")
        if finding.location.line:
            props.append(f"line={finding.location.line}")
    props.append(f"title={escape_property(title)}")
    return f"::{_COMMAND[severity]} {','.join(props)}::{escape_data(message)}"


def annotation(finding: Finding, blocks: bool = True) -> str:
    """One finding's annotation: a failing one in full (up to _MESSAGE characters), with
    the consumers it breaks; any other clipped to MAX_LINE, its breaks said "would break"."""
    broken = [i.node for i in finding.impacted if i.breaks and not i.preexisting]
    if blocks:
        message = clip(finding.message, _MESSAGE)
        if broken:
            message += f"\nBreaks: {capped(broken, _NAMES)}"
    else:
        message = clip(finding.message, MAX_LINE)
        if broken:
            message += f"\nWould break (does not fail the build): {capped(broken)}"
    return _command(finding.severity, finding, f"{finding.rule} {finding.name}", message)


def _group_annotation(group: RuleGroup) -> str:
    """One annotation for a rule's many findings, at the first one's place."""
    title = f"{group.rule} {group.name} ×{len(group.findings)}"
    return _command(
        group.severity,
        group.findings[0],
        title,
        clip(group_summary(group, count=False), 2 * MAX_LINE),
    )


def render(report: Report) -> str:
    """Annotation lines for the unsuppressed errors and warnings (capped), failing ones
    first, then a notice counting the rest."""
    active = [f for f in report.findings if f.severity != Severity.INFO and not f.suppressed]
    failing, rest = triage(report, active)
    entries = [(f.severity, 1, annotation(f, True)) for f in failing]
    for item in rest:
        if isinstance(item, RuleGroup):
            entries.append((item.severity, len(item.findings), _group_annotation(item)))
        else:
            entries.append((item.severity, 1, annotation(item, False)))
    lines: list[str] = []
    used = dict.fromkeys(_COMMAND, 0)
    left = 0
    for severity, size, line in entries:
        if used[severity] < MAX_PER_LEVEL:
            used[severity] += 1
            lines.append(line)
        else:
            left += size
    if left:
        lines.append(
            f"::notice title=impact-check::{left} more finding"
            f"{'s' if left != 1 else ''} not annotated: see the job summary"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def summary(report: Report) -> str:
    """The job summary: the same body as the PR comment (1 MiB is the step limit)."""
    return markdown.render(report, marker="", limit=1_000_000)
