"""What several report formats share: counts, the verdict line, consumers grouped by kind."""

from __future__ import annotations

import re
from dataclasses import dataclass

from impact_check.model import Finding, Impact, Report, Severity

# Consumer kinds as users think of them (report.schema.json node kinds).
GROUPS = {
    "Models": {"table", "view", "materialized_view", "model", "source", "seed", "snapshot", "job"},
    "ML features and models": {"ml_model", "feature", "feature_view", "feature_service", "entity"},
    "Dashboards and exposures": {
        "dashboard",
        "chart",
        "exposure",
        "notebook",
        "application",
        "analysis",
    },
}


@dataclass
class Counts:
    """Unsuppressed findings per severity, suppressed ones, and broken consumers."""

    errors: int
    warnings: int
    infos: int
    suppressed: int
    broken: int

    @property
    def headline(self) -> str:
        return (
            f"{self.errors} error{_s(self.errors)}, {self.warnings} warning"
            f"{_s(self.warnings)}, {self.broken} consumer{_s(self.broken)} broken"
        )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def counts(report: Report) -> Counts:
    active = [f for f in report.findings if not f.suppressed]
    return Counts(
        errors=sum(1 for f in active if f.severity == Severity.ERROR),
        warnings=sum(1 for f in active if f.severity == Severity.WARNING),
        infos=sum(1 for f in active if f.severity == Severity.INFO),
        suppressed=sum(1 for f in report.findings if f.suppressed),
        broken=len({i.node for f in active for i in f.impacted if i.breaks and not i.preexisting}),
    )


def verdict_word(report: Report) -> str:
    """pass, warn or fail (the Action's `verdict` output, minus `error`)."""
    if report.failed:
        return "fail"
    return "warn" if counts(report).warnings else "pass"


def group_of(impact: Impact) -> str:
    for group, kinds in GROUPS.items():
        if impact.kind in kinds:
            return group
    return "Other consumers"


def grouped(finding: Finding) -> dict[str, list[Impact]]:
    """A finding's consumers by group, breaking ones first, in a stable order."""
    out: dict[str, list[Impact]] = {}
    for impact in sorted(finding.impacted, key=lambda i: (not i.breaks, i.node)):
        out.setdefault(group_of(impact), []).append(impact)
    return out


def location_text(finding: Finding) -> str:
    loc = finding.location
    if loc is None:
        return ""
    return f"{loc.file}:{loc.line}" if loc.line else loc.file


def ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by place."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(
        findings, key=lambda f: (f.suppressed is not None, rank[f.severity], location_text(f))
    )


# Text from the checked repository (file names, quoted identifiers, owners, SQL) reaches
# comments and logs: it must not become markup, mentions, links or terminal commands.
_MD_SPECIAL = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "[": "\\[",
        "]": "\\]",
        "`": "\\`",
        "|": "\\|",
        "\\": "\\\\",
    }
)


def plain(text: str) -> str:
    """One line without control characters (newlines, ANSI escapes, NUL)."""
    return "".join(
        " " if ch in "\r\n\t" else (f"\\x{ord(ch):02x}" if ord(ch) < 32 or ord(ch) == 127 else ch)
        for ch in text
    )


def md_text(text: str) -> str:
    """Repository text as inert Markdown: no HTML, links, code spans, table cells or @mentions
    (emphasis may still apply: it changes how text looks, not what it does)."""
    escaped = plain(text).translate(_MD_SPECIAL)
    return escaped.replace("@", "@\u200b")  # a zero-width space: GitHub does not notify


def md_code(text: str) -> str:
    """Repository text inside an inline code span (code spans render no HTML or mentions)."""
    return "`" + plain(text).replace("`", "\u02cb").replace("|", "\\|") + "`"


def mermaid_label(text: str) -> str:
    """A quoted Mermaid node label: only letters, digits and a few signs stay literal, the
    rest become ``#code;`` entities, so no quote, newline, ``%%{init}%%`` or ``click``
    directive can leave the label."""
    # `#` stays: with `;` always encoded it cannot start an entity.
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/#-")
    return "".join(ch if ch in safe else f"#{ord(ch)};" for ch in text)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text XML 1.0 can hold: forbidden characters shown as ``\\xNN``."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
