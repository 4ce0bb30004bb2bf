"""``github``: workflow-command annotations, and the job summary.

GitHub shows at most 10 error and 10 warning annotations per step, so the most severe are
annotated and one notice counts the rest. Values are escaped as the runner expects.
"""

from __future__ import annotations

from impact_check.model import Finding, Report, Severity
from impact_check.report import markdown
from impact_check.report.common import consumer_text, ordered

MAX_PER_LEVEL = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    props = []
    if finding.location is not None:
        props.append(f"file={escape_property(finding.location.file)}")
        if finding.location.line:
            props.append(f"line={finding.location.line}")
    props.append(f"title={escape_property(f'{finding.rule} {finding.name}')}")
    broken = [consumer_text(i) for i in finding.impacted if i.breaks and not i.preexisting]
    message = finding.message + (f"\nBreaks: {', '.join(broken)}" if broken else "")
    return f"::{_COMMAND[finding.severity]} {','.join(props)}::{escape_data(message)}"


def render(report: Report) -> str:
    """Annotation lines for the unsuppressed errors and warnings (capped), then a notice."""
    lines: list[str] = []
    left = 0
    for severity in (Severity.ERROR, Severity.WARNING):
        hits = [f for f in ordered(report.findings) if f.severity == severity and not f.suppressed]
        lines += [annotation(f) for f in hits[:MAX_PER_LEVEL]]
        left += max(0, len(hits) - MAX_PER_LEVEL)
    if left:
        lines.append(
            f"::notice title=impact-check::{left} more finding"
            f"{'s' if left != 1 else ''} not annotated: see the job summary"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def summary(report: Report) -> str:
    """The job summary: the same body as the PR comment (1 MiB is the step limit)."""
    return markdown.render(report, marker="", limit=1_000_000)
