"""``markdown``: a pull-request comment body, kept under GitHub's 65,536-character limit.

A hidden marker identifies the sticky comment. Findings that fail the build come first, each
with a table of its consumers grouped by kind (every breaking one visible; the rest fold into
``<details>`` after a few). The other findings follow as one line each or, where one rule has
many, one line per rule with a count, its relations and first places. A Mermaid graph shows
the changes and what they reach. When the body is too long it degrades in steps — no graph,
then only breaking consumers, then one line per finding — and always keeps the marker, the
verdict and every failing finding.
"""

from __future__ import annotations

from impact_check.model import Finding, Impact, Report, Severity
from impact_check.report.common import (
    MAX_LINE,
    AtRisk,
    RuleGroup,
    capped,
    clip,
    counts,
    diff_size,
    group_summary,
    grouped,
    impact_mark,
    location_text,
    md_code,
    md_text,
    mermaid_label,
    ml_at_risk,
    plural,
    reach,
    triage,
    unanalyzed_groups,
)
from impact_check.report.impact_graph import box_of, column_of, impact_graph

LIMIT = 65_000
MARKER = "<!-- impact-check -->"
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
_FOLD_AFTER = 10
_FAILING_MESSAGE = 2_000  # characters of a failing finding's message
_UNANALYZED_SHOWN = 10  # reasons listed under "Not analysed"
_LEVELS = ("full", "no_graph", "breaking_only", "headlines")


def render(report: Report, marker: str = MARKER, limit: int = LIMIT) -> str:
    """The comment body; the richest form that fits ``limit``."""
    for level in _LEVELS:
        body = _render(report, marker, level)
        if len(body) <= limit:
            return body
    return _truncate(_render(report, marker, "headlines"), limit)


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
        f"`{report.base[:12]}` → `{head}` · {diff_size(report)} · fail-on `{report.fail_on}`"
        + (f" · {c.suppressed} suppressed" if c.suppressed else "")
        + (" · **partial: the time budget ran out**" if report.partial else "")
    )


def _render(report: Report, marker: str, level: str) -> str:
    parts = [marker, header(report)]
    ml = ml_section(ml_at_risk(report), level)
    if ml:
        parts.append(ml)
    shown = [f for f in report.findings if f.severity != Severity.INFO]
    failing, rest = triage(report, shown)
    infos = len(report.findings) - len(shown)
    if not shown:
        parts.append("No breaking or risky schema change found.")
    if failing:
        parts.append(f"### Failing the build ({len(failing)})")
        parts += [_failing(finding, level) for finding in failing]
    if rest:
        total = sum(len(i.findings) if isinstance(i, RuleGroup) else 1 for i in rest)
        parts.append(f"### Not failing the build ({plural(total, 'finding')})")
        parts.append("\n".join(_quiet(item) for item in rest))
    if infos:
        parts.append(f"<sub>{plural(infos, 'info finding')} not shown.</sub>")
    if report.unanalyzed:
        parts.append(_unanalyzed(report))
    if level == "full":
        graph = mermaid(report)
        if graph:
            parts.append("<details><summary>Impact graph</summary>\n\n" + graph + "\n</details>")
    return "\n\n".join(parts) + "\n"


def _title(finding: Finding, width: int | None = None) -> str:
    where = location_text(finding)
    suppressed = f" — _suppressed: {md_text(finding.suppressed)}_" if finding.suppressed else ""
    message = finding.message
    if width is not None:
        message = clip(message, width)
    elif len(message) > _FAILING_MESSAGE:
        left = len(message) - _FAILING_MESSAGE
        message = f"{message[:_FAILING_MESSAGE]}… (+{left:,} characters: see the JSON report)"
    return (
        f"{_ICON[finding.severity]} **{finding.rule} {finding.name}** "
        f"{md_code(where) if where else ''}: {md_text(message)}{suppressed}"
    )


def _failing(finding: Finding, level: str) -> str:
    """A finding that fails the build: every consumer it breaks stays visible at every level."""
    title = _title(finding)
    breaking = [i for i in finding.impacted if i.breaks and not i.preexisting]
    if not finding.impacted:
        return title
    if level == "headlines":
        names = ", ".join(md_code(i.node) for i in breaking)
        others = len(finding.impacted) - len(breaking)
        return (
            title
            + (f" — breaks {names}" if names else "")
            + (f" ({plural(others, 'other consumer')} in the JSON report)" if others else "")
        )
    table_head = "| | consumer | kind | owners | path | why |\n|---|---|---|---|---|---|"
    blocks = [title]
    left_out = 0
    for group, impacts in grouped(finding).items():
        if level == "breaking_only":
            left_out += sum(1 for i in impacts if i not in breaking)
            impacts = [i for i in impacts if i in breaking]
            if not impacts:
                continue
        rows = [_row(i, True) for i in impacts]
        visible = max(_FOLD_AFTER, sum(1 for i in impacts if i in breaking))
        shown = "\n".join([table_head, *rows[:visible]])
        block = f"**{group}** ({len(impacts)})\n\n{shown}"
        if len(rows) > visible:
            rest = "\n".join([table_head, *rows[visible:]])
            block += (
                f"\n\n<details><summary>{len(rows) - visible} more</summary>\n\n{rest}\n</details>"
            )
        blocks.append(block)
    if left_out:
        blocks.append(
            f"<sub>{plural(left_out, 'consumer')} affected, not breaking: "
            "see the JSON report.</sub>"
        )
    return "\n\n".join(blocks)


def _quiet(item: Finding | RuleGroup) -> str:
    """One bullet for a finding, or a rule's findings, that do not fail the build."""
    if isinstance(item, RuleGroup):
        return clip(
            f"- {_ICON[item.severity]} **{item.rule} {item.name}** {group_summary(item, md_code)}",
            2 * MAX_LINE,
        )
    reached = reach(item, md_code)
    return f"- {_title(item, MAX_LINE)}" + (f" — {reached}" if reached else "")


def _unanalyzed(report: Report) -> str:
    groups = unanalyzed_groups(report.unanalyzed)
    rows = []
    for reason, places in groups[:_UNANALYZED_SHOWN]:
        why = md_text(clip(reason, MAX_LINE))
        if len(places) == 1:
            rows.append(f"- {md_code(places[0])}: {why}")
        else:
            rows.append(f"- {why} — {len(places)} files: {capped(md_code(p) for p in places)}")
    left = groups[_UNANALYZED_SHOWN:]
    if left:
        files = sum(len(places) for _, places in left)
        rows.append(
            f"- (+{plural(files, 'more file')} for {len(left)} other reasons: see the JSON report)"
        )
    title = f"**Not analysed** ({plural(len(report.unanalyzed), 'file')}):"
    return title + "\n" + "\n".join(rows)


def ml_section(risks: list[AtRisk], level: str = "full") -> str:
    """The "ML features and models at risk" block: one row per feature or model."""
    if not risks:
        return ""
    broken = sum(1 for r in risks if r.breaks)
    title = f"### ML features and models at risk ({len(risks)}, {broken} breaking)"
    if level in ("breaking_only", "headlines"):
        names = ", ".join(md_code(r.label) for r in risks[:20])
        return f"{title}\n\n{names}" + (" …" if len(risks) > 20 else "")
    head = (
        "| | feature / model | kind | version · alias · view · services | owners "
        "| path from the change | rules |\n|---|---|---|---|---|---|---|"
    )
    rows = []
    for risk in risks:
        impact = risk.impact
        mark = ("🔴 breaks" if risk.blocking else "would break") if risk.breaks else "affected"
        name = md_code(risk.label) + (f"<br>{md_code(impact.node)}" if impact.name else "")
        path = "<br>".join(" → ".join(md_code(p) for p in steps) for steps in risk.paths[:3])
        rows.append(
            f"| {mark} | {name} | {md_text(impact.kind)} "
            f"| {md_text(' · '.join(risk.facts()) or '—')} "
            f"| {md_text(', '.join(impact.owners) or '—')} | {path} | {', '.join(risk.rules)} |"
        )
    return "\n".join([title, "", head, *rows])


def _row(impact: Impact, blocks: bool) -> str:
    mark = impact_mark(impact, blocks)
    mark = {"BREAKS": "🔴 breaks"}.get(mark, mark)
    path = " → ".join(md_code(p) for p in impact.path)
    owners = md_text(", ".join(impact.owners) or "—")
    return (
        f"| {mark} | {md_code(impact.node)} | {md_text(impact.kind)} | {owners} | {path} "
        f"| {md_text(impact.reason)} |"
    )


def mermaid(report: Report, max_edges: int = 200) -> str:
    """A ``graph LR`` of every change and the paths to its consumers, grouped like the HTML
    report: a dataset is a subgraph holding its affected columns; broken ones in red."""
    graph = impact_graph(report, max_edges)
    if not graph.edges:
        return ""
    ids: dict[str, str] = {}
    lines = ["```mermaid", "graph LR"]
    for number, box in enumerate(graph.boxes.values()):
        if not box.columns:
            ids[box.id] = f"n{len(ids)}"
            lines.append(f'  {ids[box.id]}["{mermaid_label(box.id)}"]')
            continue
        lines.append(f'  subgraph d{number}["{mermaid_label(box.id)}"]')
        for column in box.columns:
            node = f"{box.id}#{column}"
            ids[node] = f"n{len(ids)}"
            lines.append(f'    {ids[node]}["{mermaid_label(column)}"]')
        lines.append("  end")
        if box.state in ("broken", "changed"):
            fill = "fill:#ffd6d6,stroke:#c00" if box.state == "broken" else "fill:#fff3c4"
            lines.append(f"  style d{number} {fill}")
    lines += [f"  {_mermaid_id(a, ids)} --> {_mermaid_id(b, ids)}" for a, b in graph.edges]
    lines.append("  classDef broken fill:#ffd6d6,stroke:#c00,color:#600")
    lines.append("  classDef changed fill:#fff3c4,stroke:#b80")
    for node, short in ids.items():
        owner = graph.boxes[box_of(node)]
        part = column_of(node)
        if part in owner.broken_columns or (part is None and owner.state == "broken"):
            lines.append(f"  class {short} broken")
        elif part in owner.changed_columns or (part is None and owner.state == "changed"):
            lines.append(f"  class {short} changed")
    lines.append("```")
    return "\n".join(lines)


def _mermaid_id(node: str, ids: dict[str, str]) -> str:
    """A path node's Mermaid id: its column node, else its dataset's first one."""
    if node in ids:
        return ids[node]
    box = box_of(node)
    return ids.get(box) or next(v for k, v in ids.items() if box_of(k) == box)
