"""``html``: one self-contained page (no network at view time) with the impact graph drawn
as inline SVG by a small layered layout of our own, consumers listed by kind, and each
finding's path spelled out and highlighted."""

from __future__ import annotations

import html
import itertools
from collections import defaultdict

from impact_check.model import Finding, Report, Severity
from impact_check.report.common import counts, grouped, location_text, ordered

_W, _H, _GAP_X, _GAP_Y = 230, 34, 70, 18
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
.fail{color:#b00020} .pass{color:#146c2e}
.finding{border:1px solid #d8dce3;border-radius:8px;padding:10px 14px;margin:10px 0}
.error{border-left:6px solid #c62828} .warning{border-left:6px solid #f2a900}
.info{border-left:6px solid #3d7bd9}
.path code{background:#fff3c4;padding:1px 4px;border-radius:4px}
.path.breaks code{background:#ffd6d6}
table{border-collapse:collapse} td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
svg text{font:12px system-ui,sans-serif}
.node rect{fill:#eef2f8;stroke:#8a94a6} .node.changed rect{fill:#fff3c4;stroke:#b80}
.node.broken rect{fill:#ffd6d6;stroke:#c00} .edge{stroke:#8a94a6;fill:none;marker-end:url(#a)}
"""


def render(report: Report) -> str:
    c = counts(report)
    verdict = "failed" if report.failed else "passed"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>impact-check report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1 class='{'fail' if report.failed else 'pass'}'>impact-check {verdict}: "
        f"{html.escape(c.headline)}</h1>",
        f"<p>base <code>{html.escape(report.base[:12])}</code> → head "
        f"<code>{html.escape(report.head[:12])}</code> · {len(report.changes)} changes</p>",
        "<h2>Impact graph</h2>",
        svg(report),
        "<h2>Findings</h2>",
    ]
    parts += [_finding(f) for f in ordered(report.findings)]
    parts.append("<h2>Consumers by kind</h2>")
    parts.append(_consumers(report))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _finding(finding: Finding) -> str:
    sev = finding.severity.value
    where = html.escape(location_text(finding))
    suppressed = (
        f" <em>(suppressed: {html.escape(finding.suppressed)})</em>" if finding.suppressed else ""
    )
    rows = []
    for impact in finding.impacted:
        chain = " → ".join(f"<code>{html.escape(p)}</code>" for p in impact.path)
        state = "breaks" if impact.breaks else "affected"
        rows.append(
            f"<div class='path {state}' data-node='{html.escape(impact.node)}'>"
            f"<b>{state}</b> {chain}</div>"
        )
    return (
        f"<div class='finding {sev}'><b>{finding.rule} {finding.name}</b> "
        f"<code>{where}</code>: {html.escape(finding.message)}{suppressed}"
        + "".join(rows)
        + "</div>"
    )


def _consumers(report: Report) -> str:
    rows = []
    for finding in report.findings:
        if finding.severity == Severity.INFO:
            continue
        for group, impacts in grouped(finding).items():
            for impact in impacts:
                rows.append(
                    f"<tr><td>{html.escape(group)}</td><td>{html.escape(impact.node)}"
                    f"</td><td>{html.escape(impact.kind)}</td><td>"
                    f"{html.escape(', '.join(impact.owners) or '—')}</td><td>"
                    f"{'breaks' if impact.breaks else 'affected'}</td></tr>"
                )
    if not rows:
        return "<p>No consumer is impacted.</p>"
    return (
        "<table><tr><th>kind</th><th>consumer</th><th>type</th><th>owners</th>"
        "<th>verdict</th></tr>" + "".join(dict.fromkeys(rows)) + "</table>"
    )


def svg(report: Report) -> str:
    """A left-to-right layered drawing of every path from a change to its consumers."""
    edges: list[tuple[str, str]] = []
    for finding in report.findings:
        for impact in finding.impacted:
            edges += list(itertools.pairwise(impact.path))
    edges = list(dict.fromkeys(edges))
    if not edges:
        return "<p>No path to draw.</p>"
    layer = _layers(edges)
    columns: dict[int, list[str]] = defaultdict(list)
    for node in sorted(layer, key=lambda n: (layer[n], n)):
        columns[layer[node]].append(node)
    pos = {
        node: (col * (_W + _GAP_X) + 10, row * (_H + _GAP_Y) + 10)
        for col, nodes in columns.items()
        for row, node in enumerate(nodes)
    }
    width = (max(columns) + 1) * (_W + _GAP_X)
    height = max(len(n) for n in columns.values()) * (_H + _GAP_Y) + 20
    broken = {i.node for f in report.findings for i in f.impacted if i.breaks}
    changed = {f.change.target for f in report.findings if f.change}
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"role='img' aria-label='impact graph'><defs><marker id='a' viewBox='0 0 10 10' "
        "refX='10' refY='5' markerWidth='7' markerHeight='7' orient='auto'>"
        "<path d='M0,0L10,5L0,10z' fill='#8a94a6'/></marker></defs>"
    ]
    for a, b in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        out.append(
            f"<path class='edge' d='M{x1 + _W},{y1 + _H / 2} C{x1 + _W + 35},"
            f"{y1 + _H / 2} {x2 - 35},{y2 + _H / 2} {x2},{y2 + _H / 2}'/>"
        )
    for node, (x, y) in pos.items():
        state = (
            "broken"
            if node.split("#")[0] in broken
            else ("changed" if node in changed else "plain")
        )
        label = node if len(node) <= 32 else "…" + node[-31:]
        out.append(
            f"<g class='node {state}' data-node='{html.escape(node)}'>"
            f"<rect x='{x}' y='{y}' width='{_W}' height='{_H}' rx='6'/>"
            f"<text x='{x + 8}' y='{y + 21}'>{html.escape(label)}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _layers(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest distance from a source node (paths are acyclic in practice; capped)."""
    layer = {node: 0 for edge in edges for node in edge}
    for _ in range(len(layer)):
        moved = False
        for a, b in edges:
            if layer[b] < layer[a] + 1 and layer[a] + 1 < len(layer):
                layer[b] = layer[a] + 1
                moved = True
        if not moved:
            break
    return layer
