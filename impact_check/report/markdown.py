"""``markdown``: a pull-request comment body, kept under GitHub's 65,536-character limit.

A hidden marker identifies the sticky comment. Each finding gets a table of its consumers
grouped by kind, long lists fold into ``<details>``, and a Mermaid graph shows the changes
and what they reach, broken nodes styled apart. When the body is too long it degrades in
steps — no graph, then no consumer tables, then one line per finding — and always keeps the
marker and the verdict.
"""

from __future__ import annotations

import itertools

from impact_check.model import Finding, Impact, Report, Severity
from impact_check.report.common import (
    AtRisk,
    counts,
    grouped,
    location_text,
    md_code,
    md_text,
    mermaid_label,
    ml_at_risk,
    ordered,
)

LIMIT = 65_000
MARKER = "<!-- impact-check -->"
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
_FOLD_AFTER = 10


def render(report: Report, marker: str = MARKER, limit: int = LIMIT) -> str:
    """The comment body; the richest form that fits ``limit``."""
    for level in ("full", "no_graph", "no_tables", "headlines"):
        body = _render(report, marker, level)
        if len(body) <= limit:
            return body
    return _truncate(_render(report, marker, "headlines"), limit)


def _coverage(report: Report, level: str) -> str:
    """One line of coverage; what was left out folds into <details> (not in headlines)."""
    from impact_check.report.coverage import detail_lines, headline

    assert report.coverage is not None
    text = md_text(headline(report.coverage))
    line = f"**{text[:1].upper()}{text[1:]}**"
    details = detail_lines(report.coverage)
    if level == "headlines" or not details:
        return line
    body = "\n".join(f"- {md_text(d.strip())}" for d in details[1:])
    return f"{line}\n<details><summary>{md_text(details[0])}</summary>\n\n{body}\n</details>"


def _truncate(body: str, limit: int) -> str:
    note = "\n\n_…report truncated to fit a comment: see the job summary or the JSON report._\n"
    head = body[: limit - len(note)]
    return head[: head.rfind("\n")] + note


def header(report: Report) -> str:
    c = counts(report)
    icon = "❌" if report.failed else ("⚠️" if c.warnings else "✅")
    word = "failed" if report.failed else "passed"
    head = report.head if report.head in ("WORKTREE", "INDEX") else report.head[:12]
    return (
        f"## {icon} impact-check {word}: {c.headline}\n\n"
        f"`{report.base[:12]}` → `{head}` · {len(report.changes)} change"
        f"{'s' if len(report.changes) != 1 else ''} · fail-on `{report.fail_on}`"
        + (f" · {c.suppressed} suppressed" if c.suppressed else "")
        + (" · **partial: the time budget ran out**" if report.partial else "")
    )


def _render(report: Report, marker: str, level: str) -> str:
    parts = [marker, header(report)]
    ml = ml_section(ml_at_risk(report), level)
    if ml:
        parts.append(ml)
    findings = [f for f in ordered(report.findings) if f.severity != Severity.INFO]
    infos = len(report.findings) - len(findings)
    if not findings:
        parts.append("No breaking or risky schema change found.")
    for finding in findings:
        parts.append(_finding(finding, level))
    if infos:
        parts.append(f"<sub>{infos} info finding{'s' if infos != 1 else ''} not shown.</sub>")
    if report.coverage is not None and report.coverage.defined:
        parts.append(_coverage(report, level))
    if report.unanalyzed:
        rows = "\n".join(f"- `{u.file}`: {u.reason}" for u in report.unanalyzed[:50])
        parts.append(f"**Not analysed** ({len(report.unanalyzed)}):\n{rows}")
    if level == "full":
        graph = mermaid(report)
        if graph:
            parts.append("<details><summary>Impact graph</summary>\n\n" + graph + "\n</details>")
    return "\n\n".join(parts) + "\n"


def _finding(finding: Finding, level: str) -> str:
    where = location_text(finding)
    suppressed = f" — _suppressed: {md_text(finding.suppressed)}_" if finding.suppressed else ""
    title = (
        f"{_ICON[finding.severity]} **{finding.rule} {finding.name}** "
        f"{md_code(where) if where else ''}: {md_text(finding.message)}{suppressed}"
    )
    if level == "headlines" or not finding.impacted:
        return title
    if level == "no_tables":
        broken = sum(1 for i in finding.impacted if i.breaks)
        return f"{title} ({broken} breaking of {len(finding.impacted)} consumers)"
    blocks = [title]
    for group, impacts in grouped(finding).items():
        rows = [_row(i) for i in impacts]
        table_head = "| | consumer | kind | owners | path | why |\n|---|---|---|---|---|---|"
        shown = "\n".join([table_head, *rows[:_FOLD_AFTER]])
        block = f"**{group}** ({len(impacts)})\n\n{shown}"
        if len(rows) > _FOLD_AFTER:
            rest = "\n".join([table_head, *rows[_FOLD_AFTER:]])
            block += (
                f"\n\n<details><summary>{len(rows) - _FOLD_AFTER} more</summary>\n\n"
                f"{rest}\n</details>"
            )
        blocks.append(block)
    return "\n\n".join(blocks)


def ml_section(risks: list[AtRisk], level: str = "full") -> str:
    """The "ML features and models at risk" block: one row per feature or model."""
    if not risks:
        return ""
    broken = sum(1 for r in risks if r.breaks)
    title = f"### ML features and models at risk ({len(risks)}, {broken} breaking)"
    if level in ("no_tables", "headlines"):
        names = ", ".join(md_code(r.label) for r in risks[:20])
        return f"{title}\n\n{names}" + (" …" if len(risks) > 20 else "")
    head = (
        "| | feature / model | kind | version · alias · view · services | owners "
        "| path from the change | rules |\n|---|---|---|---|---|---|---|"
    )
    rows = []
    for risk in risks:
        impact = risk.impact
        mark = "🔴 breaks" if risk.breaks else "affected"
        name = md_code(risk.label) + (f"<br>{md_code(impact.node)}" if impact.name else "")
        path = "<br>".join(" → ".join(md_code(p) for p in steps) for steps in risk.paths[:3])
        rows.append(
            f"| {mark} | {name} | {md_text(impact.kind)} "
            f"| {md_text(' · '.join(risk.facts()) or '—')} "
            f"| {md_text(', '.join(impact.owners) or '—')} | {path} | {', '.join(risk.rules)} |"
        )
    return "\n".join([title, "", head, *rows])


def _row(impact: Impact) -> str:
    mark = (
        "already broken" if impact.preexisting else ("🔴 breaks" if impact.breaks else "affected")
    )
    path = " → ".join(md_code(p) for p in impact.path)
    owners = md_text(", ".join(impact.owners) or "—")
    return (
        f"| {mark} | {md_code(impact.node)} | {md_text(impact.kind)} | {owners} | {path} "
        f"| {md_text(impact.reason)} |"
    )


def mermaid(report: Report, max_edges: int = 200) -> str:
    """A ``graph LR`` of every change and the paths to its consumers (broken ones in red)."""
    ids: dict[str, str] = {}
    broken = {i.node for f in report.findings for i in f.impacted if i.breaks}
    changed = {f.change.target for f in report.findings if f.change and f.impacted}

    def ref(node: str) -> str:
        if node not in ids:
            ids[node] = f"n{len(ids)}"
        return ids[node]

    edges = []
    for finding in report.findings:
        for impact in finding.impacted:
            edges += list(itertools.pairwise(impact.path))
    edges = list(dict.fromkeys(edges))[:max_edges]
    if not edges:
        return ""
    lines = ["```mermaid", "graph LR"]
    lines += [f"  {ref(a)} --> {ref(b)}" for a, b in edges]
    for node, short in ids.items():
        lines.append(f'  {short}["{mermaid_label(node)}"]')
    lines.append("  classDef broken fill:#ffd6d6,stroke:#c00,color:#600")
    lines.append("  classDef changed fill:#fff3c4,stroke:#b80")
    for node, short in ids.items():
        if node in broken or (node.split("#")[0] in broken and node.split("#")[0] != node):
            lines.append(f"  class {short} broken")
        elif node in changed:
            lines.append(f"  class {short} changed")
    lines.append("```")
    return "\n".join(lines)
