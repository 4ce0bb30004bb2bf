"""What several report formats share: counts, the verdict line, consumers grouped by kind,
and what keeps a big report readable: failing findings apart and in full, the others grouped
per rule with counts and the first few places, long lists and lines capped."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from impact_check.model import Finding, Impact, Report, Severity, Unanalyzed

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
    """Most severe first, then by place (file, then line as a number)."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

    def key(f: Finding) -> tuple[bool, int, str, int]:
        loc = f.location
        place = (loc.file, loc.line or 0) if loc else ("", 0)
        return (f.suppressed is not None, rank[f.severity], *place)

    return sorted(findings, key=key)


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
    blocking: bool = False  # it breaks under a finding that fails the build

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
            blocks = breaks and blocking(finding, report)
            users = sorted(
                names[i.node]
                for i in finding.impacted
                if i.node != impact.node
                and i.kind in ("feature_service", "ml_model")
                and impact.node in i.path[:-1]
            )
            entry = seen.get(impact.node)
            if entry is None:
                seen[impact.node] = AtRisk(
                    impact, breaks, [finding.rule], users, [impact.path], blocks
                )
                continue
            entry.blocking = entry.blocking or blocks
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


# --- keeping a big report readable ----------------------------------------------------------

MAX_LINE = 200  # characters per line of text output (the JSON report keeps every character)
GROUP_FROM = 3  # non-failing findings of one rule from which they read as one line
FIRST = 3  # names shown of a capped list, before "(+N more)"


def blocking(finding: Finding, report: Report) -> bool:
    """Whether this finding fails the build: the report failed, and it is unsuppressed and at
    or above ``fail_on``. A PR label that acknowledges the failure makes nothing blocking."""
    from impact_check.policy import failed

    return report.failed and failed([finding], report.fail_on)


def capped(items: Iterable[str], first: int = FIRST) -> str:
    """``a, b, c (+N more)``: the first few of a list, and how many are left out."""
    listed = list(items)
    shown = ", ".join(listed[:first])
    return shown + (f" (+{len(listed) - first} more)" if len(listed) > first else "")


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in ``…`` when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)].rstrip() + "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 file``, ``3 files`` (``many`` for irregular plurals)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def diff_size(report: Report) -> str:
    """``3 files changed, 12 changes``: files in the diff apart from schema changes in them."""
    changes = plural(len(report.changes), "change")
    if report.files_changed is None:
        return changes
    return f"{plural(report.files_changed, 'file')} changed, {changes}"


def impact_mark(impact: Impact, finding_blocks: bool) -> str:
    """How a consumer reads under its finding: ``BREAKS`` only where the build fails."""
    if impact.breaks and impact.preexisting:
        return "already broken"
    if impact.breaks:
        return "BREAKS" if finding_blocks else "would break"
    return "affected"


@dataclass
class RuleGroup:
    """Non-failing findings of one rule (same severity, same suppression state)."""

    rule: str
    name: str
    severity: Severity
    suppressed: bool
    findings: list[Finding]

    def datasets(self) -> list[str]:
        """The relations the findings are about, first seen first."""
        return list(dict.fromkeys(f.change.dataset for f in self.findings if f.change))

    def places(self) -> dict[str, list[int]]:
        """Their files, first seen first, each with the lines in it."""
        out: dict[str, list[int]] = {}
        for finding in self.findings:
            if finding.location is not None:
                lines = out.setdefault(finding.location.file, [])
                if finding.location.line and finding.location.line not in lines:
                    lines.append(finding.location.line)  # 40 columns on line 1: "line 1"
        return out

    def columns(self) -> list[str]:
        """The columns the findings are about, first seen first."""
        return list(
            dict.fromkeys(f.change.column for f in self.findings if f.change and f.change.column)
        )

    def consumers(self) -> tuple[list[str], list[str]]:
        """Consumers that would break (not blocking) and consumers affected, over the group."""
        breaking: dict[str, None] = {}
        affected: dict[str, None] = {}
        for finding in self.findings:
            for impact in finding.impacted:
                if impact.breaks and not impact.preexisting:
                    breaking[impact.node] = None
                else:
                    affected[impact.node] = None
        return list(breaking), [n for n in affected if n not in breaking]


def triage(
    report: Report, findings: list[Finding]
) -> tuple[list[Finding], list[Finding | RuleGroup]]:
    """(the failing findings, most severe first; the rest: a finding alone, or a RuleGroup
    where one rule has GROUP_FROM or more of them), in the order a person reads them."""
    failing = [f for f in ordered(findings) if blocking(f, report)]
    groups: dict[tuple[str, Severity, bool], list[Finding]] = {}
    for finding in ordered(findings):
        if not blocking(finding, report):
            key = (finding.rule, finding.severity, finding.suppressed is not None)
            groups.setdefault(key, []).append(finding)
    rest: list[tuple[tuple[int, int, str], Finding | RuleGroup]] = []
    for (rule, severity, suppressed), members in groups.items():
        rank = (int(suppressed), -severity.rank)
        if len(members) >= GROUP_FROM:
            group = RuleGroup(rule, members[0].name, severity, suppressed, members)
            rest.append(((*rank, rule), group))
        else:
            rest += [((*rank, location_text(f)), f) for f in members]
    rest.sort(key=lambda item: item[0])
    return failing, [item for _, item in rest]


def reach(finding: Finding, name: Callable[[str], str] = str) -> str:
    """``would break 2: a, b; affected 12: c, d, e (+9 more)``: who a finding that does not
    fail the build reaches, in one line."""
    kinds: dict[str, list[str]] = {"would break": [], "already broken": [], "affected": []}
    for impact in finding.impacted:
        mark = impact_mark(impact, False)
        kinds[mark].append(impact.node)
    return "; ".join(
        f"{label} {len(nodes)}: {capped(name(n) for n in nodes)}"
        for label, nodes in kinds.items()
        if nodes
    )


def group_summary(group: RuleGroup, name: Callable[[str], str] = str, count: bool = True) -> str:
    """``×37 on raw.orders, raw.items (+3 more) in a.sql lines 3, 9, 12 (+34 more)`` (on one
    relation: ``on raw.orders columns a, b, c (+34 more)``), then the consumers; ``name``
    formats each name (Markdown code spans, or as is)."""
    parts = [f"×{len(group.findings)}"] if count else []
    datasets = group.datasets()
    if datasets:
        parts.append("on " + capped(name(d) for d in datasets))
    columns = group.columns()
    if len(datasets) == 1 and columns:  # which columns, not only how many
        parts.append(("column " if len(columns) == 1 else "columns ") + capped(map(name, columns)))
    places = group.places()
    if len(places) == 1:
        file, lines = next(iter(places.items()))
        word = "line" if len(lines) == 1 else "lines"
        at = f" {word} {capped(str(n) for n in lines)}" if lines else ""
        parts.append(f"in {name(file)}{at}")
    elif places:
        files = [name(f) + (f" ({len(n)})" if len(n) > 1 else "") for f, n in places.items()]
        parts.append(f"in {plural(len(files), 'file')}: {capped(files)}")
    breaking, affected = group.consumers()
    if breaking:
        listed = capped(name(n) for n in breaking)
        parts.append(f"· would break {plural(len(breaking), 'consumer')}: {listed}")
    if affected:
        parts.append(f"· affects {plural(len(affected), 'consumer')}")
    if group.suppressed:
        parts.append("· suppressed")
    if not datasets:  # an analysis limit: its first message says what kind
        parts.append(f"· e.g. {name(clip(group.findings[0].message, 80))}")
    return " ".join(parts)


def unanalyzed_groups(entries: list[Unanalyzed]) -> list[tuple[str, list[str]]]:
    """(reason, the places with that reason): one line per reason, not per file."""
    out: dict[str, list[str]] = {}
    for entry in entries:
        place = f"{entry.file}:{entry.line}" if entry.line else entry.file
        out.setdefault(entry.reason, []).append(place)
    return sorted(out.items(), key=lambda item: -len(item[1]))
