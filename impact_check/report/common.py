"""What several report formats share: counts, the verdict line, consumers grouped by kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from impact_check.model import Finding, Impact, Report, Severity

# Consumer kinds as users think of them (report.schema.json node kinds).
GROUPS = {
    "Models": {"table", "view", "materialized_view", "model", "source", "seed", "snapshot", "job"},
    "ML features and models": {
        "ml_model",
        "feature",
        "feature_view",
        "feature_service",
        "entity",
        "data_source",
        "feature_schema",
        "ml_pipeline",
        "data_import",
    },
    "Data-quality checks": {"expectation", "expectation_suite"},
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


def consumer_text(impact: Impact) -> str:
    """A consumer for one-line formats: its name (or id) and, when known, its owners."""
    label = impact.name or impact.node
    if label != impact.node:
        label = f"{label} ({impact.node})"
    return label + (f" [owners: {', '.join(impact.owners)}]" if impact.owners else "")


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


ML_KINDS = GROUPS["ML features and models"]


@dataclass
class AtRisk:
    """One ML feature or model reached by the diff, over all findings that reach it."""

    impact: Impact  # the most severe sighting (a break first, then the shortest path)
    breaks: bool
    rules: list[str]
    used_by: list[str]  # feature services and models downstream of it
    paths: list[list[str]] = field(default_factory=list)  # each distinct path from a change

    @property
    def label(self) -> str:
        return self.impact.name or self.impact.node

    def facts(self) -> list[str]:
        """Version, aliases, stage, feature view, services: what identifies it to people."""
        details = self.impact.details
        out = []
        if details.get("version") is not None:
            out.append(f"version {details['version']}")
        if details.get("aliases"):
            out.append(f"alias {', '.join(str(a) for a in _listed(details['aliases']))}")
        if str(details.get("stage") or "none").lower() != "none":
            out.append(f"stage {details['stage']}")
        if details.get("feature_view"):
            out.append(f"feature view {_short(details['feature_view'])}")
        services = [_short(s) for s in _listed(details.get("feature_services") or [])]
        if services:
            out.append(f"feature services {', '.join(services)}")
        users = [u for u in self.used_by if u not in services]
        if users:
            out.append(f"used by {', '.join(users)}")
        if details.get("signature") in ("tensor", "none"):
            out.append("no column signature: read at table level")
        return out


def _short(node: object) -> str:
    """``feast:feature_view/customer_stats`` -> ``customer_stats`` (names, not ids)."""
    text = str(node)
    return text.split("/", 1)[1] if ":" in text.split("/", 1)[0] and "/" in text else text


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def ml_at_risk(report: Report) -> list[AtRisk]:
    """The ML features and models the unsuppressed findings reach, breaking ones first."""
    seen: dict[str, AtRisk] = {}
    for finding in report.findings:
        if finding.suppressed:
            continue
        names = {i.node: i.name or i.node for i in finding.impacted}
        for impact in finding.impacted:
            if impact.kind not in ML_KINDS:
                continue
            breaks = impact.breaks and not impact.preexisting
            users = sorted(
                names[i.node]
                for i in finding.impacted
                if i.node != impact.node
                and i.kind in ("feature_service", "ml_model")
                and impact.node in i.path[:-1]
            )
            entry = seen.get(impact.node)
            if entry is None:
                seen[impact.node] = AtRisk(impact, breaks, [finding.rule], users, [impact.path])
                continue
            if impact.path not in entry.paths:
                entry.paths.append(impact.path)
            if (breaks and not entry.breaks) or (
                breaks == entry.breaks and len(impact.path) < len(entry.impact.path)
            ):
                entry.impact = impact
            entry.breaks = entry.breaks or breaks
            if finding.rule not in entry.rules:
                entry.rules.append(finding.rule)
            entry.used_by = sorted(set(entry.used_by) | set(users))
    order = {"feature": 0, "feature_view": 1, "feature_service": 2, "ml_model": 3}
    return sorted(
        seen.values(), key=lambda r: (not r.breaks, order.get(r.impact.kind, 4), r.impact.node)
    )
