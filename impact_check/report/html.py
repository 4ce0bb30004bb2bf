"""``html``: one self-contained page (no network at view time): the impact graph drawn as
inline SVG — datasets as boxes holding their affected columns, laid out left to right by a
small layered layout of our own, fitted to the page with pan and zoom, the paths to a
consumer highlighted on hover — then the findings and the consumers by kind."""

from __future__ import annotations

import html
from collections import defaultdict

from impact_check.model import Finding, Report, Severity
from impact_check.report.common import (
    blocking,
    counts,
    diff_size,
    grouped,
    impact_mark,
    location_text,
    ordered,
)
from impact_check.report.impact_graph import Box, ImpactGraph, box_of, column_of, impact_graph

# Geometry in SVG units. Labels are set in a monospace face, so a box fits its longest name
# exactly (no name is ever cut); CHAR_W is that face's advance at 12px, with a margin.
CHAR_W, ROW_H, HEAD_H, PAD = 7.4, 18, 24, 10
GAP_X, GAP_Y = 90, 16
ASPECT = 1.6  # tall layers wrap into columns so the drawing is about this wide per height

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
.graph{border:1px solid #d8dce3;border-radius:8px;overflow:hidden;background:#fbfcfe}
.graph svg{width:100%;height:min(75vh,var(--h));cursor:grab;display:block}
.graph .legend{display:flex;flex-wrap:wrap;align-items:center;gap:4px;padding:6px 8px;
 border-bottom:1px solid #e4e7ec;background:#fff}
.graph .tools{margin-left:auto;display:flex;gap:4px}
.graph button{font:13px system-ui;border:1px solid #b9c0cc;background:#fff;border-radius:4px;
 padding:2px 8px;cursor:pointer}
.legend span{display:inline-block;padding:1px 8px;border-radius:4px;margin-right:6px;
 border:1px solid #8a94a6}
svg text{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.box rect.frame{fill:#eef2f8;stroke:#8a94a6} .box text.head{font-weight:bold}
.box.changed rect.frame{fill:#fff3c4;stroke:#b80} .box.broken rect.frame{fill:#ffd6d6;stroke:#c00}
.box.preexisting rect.frame{fill:#eeeeee;stroke:#aaa;stroke-dasharray:4 3}
.box text.col.broken{fill:#b00020;font-weight:bold}
.box text.col.changed{fill:#8a5a00;font-weight:bold}
.edge{stroke:#8a94a6;fill:none;stroke-width:1.2;marker-end:url(#a)}
svg.dim .edge,svg.dim .box{opacity:.18} svg.dim .hl{opacity:1}
svg.dim .edge.hl{stroke:#c62828;stroke-width:2.4}
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
        f"<code>{html.escape(report.head[:12])}</code> · {html.escape(diff_size(report))}</p>",
        "<h2>Impact graph</h2>",
        graph_section(report),
        "<h2>Findings</h2>",
    ]
    parts += [_finding(f, blocking(f, report)) for f in ordered(report.findings)]
    parts.append("<h2>Consumers by kind</h2>")
    parts.append(_consumers(report))
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _finding(finding: Finding, blocks: bool) -> str:
    sev = finding.severity.value
    where = html.escape(location_text(finding))
    suppressed = (
        f" <em>(suppressed: {html.escape(finding.suppressed)})</em>" if finding.suppressed else ""
    )
    rows = []
    for impact in finding.impacted:
        chain = " → ".join(f"<code>{html.escape(p)}</code>" for p in impact.path)
        mark = impact_mark(impact, blocks)
        state = "breaks" if mark == "BREAKS" else "affected"
        rows.append(
            f"<div class='path {state}' data-node='{html.escape(impact.node)}'>"
            f"<b>{html.escape(mark.lower() if mark == 'BREAKS' else mark)}</b> {chain}</div>"
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


def graph_section(report: Report) -> str:
    """The impact graph with its legend and zoom buttons, or a sentence when there is none."""
    graph = impact_graph(report)
    if not graph.edges:
        return "<p>No path to draw.</p>"
    drawing, width, height = svg(graph)
    legend = (
        "<div class='legend'><span style='background:#fff3c4'>changed</span>"
        "<span style='background:#ffd6d6'>breaks</span><span style='background:#eef2f8'>"
        "affected</span><span style='background:#eee'>already broken</span> "
        f"{len(graph.boxes)} datasets and assets · hover a box to see how the change reaches "
        "it · scroll to zoom, drag to pan"
    )
    tools = (
        "<div class='tools'><button data-zoom='1.25' title='zoom in'>+</button>"
        "<button data-zoom='0.8' title='zoom out'>−</button>"
        "<button data-zoom='fit' title='fit to the page'>fit</button></div>"
    )
    return (
        f"<div class='graph' style='--h:{height + 20:.0f}px' data-width='{width:.0f}' "
        f"data-height='{height:.0f}'>{legend}{tools}</div>{drawing}</div>"
    )


def _box_size(box: Box) -> tuple[float, float]:
    longest = max([len(box.id) + 2, *(len(c) + 4 for c in box.columns)])
    return longest * CHAR_W + 2 * PAD, HEAD_H + ROW_H * len(box.columns) + (6 if box.columns else 0)


def layout(graph: ImpactGraph) -> tuple[dict[str, tuple[float, float, float, float]], float, float]:
    """Box id -> (x, y, width, height), and the drawing's width and height.

    Layers by longest path over box edges (changes on the left), ordered within a layer by
    the mean row of what they read (one sweep); layers taller than the column height wrap
    into several columns, the height chosen so the drawing fits a page's shape.
    """
    layer = _layers(graph.box_edges(), list(graph.boxes))
    preds: dict[str, list[str]] = defaultdict(list)
    for a, b in graph.box_edges():
        preds[b].append(a)
    rank: dict[str, float] = {}
    layers: list[list[str]] = []
    for level in range(max(layer.values(), default=0) + 1):
        members = [b for b in graph.boxes if layer[b] == level]
        members.sort(key=lambda b: (_mean(rank, preds[b]), b))
        rank.update((b, i) for i, b in enumerate(members))
        layers.append(members)
    sizes = {b: _box_size(box) for b, box in graph.boxes.items()}
    best = None
    tallest = max(h for _w, h in sizes.values()) + GAP_Y
    for column_h in [tallest * k for k in range(1, 400)]:
        place, width, height = _place(layers, sizes, column_h)
        score = abs(width / height - ASPECT) if height else 0.0
        if best is None or score < best[0]:
            best = (score, place, width, height)
        if width / max(height, 1.0) < ASPECT:
            break  # taller columns only make it narrower still
    assert best is not None
    return best[1], best[2], best[3]


def _place(
    layers: list[list[str]], sizes: dict[str, tuple[float, float]], column_h: float
) -> tuple[dict[str, tuple[float, float, float, float]], float, float]:
    place: dict[str, tuple[float, float, float, float]] = {}
    x, height = 10.0, 0.0
    for members in layers:
        for column in _wrap(members, sizes, column_h):
            y = 10.0
            for b in column:
                w, h = sizes[b]
                place[b] = (x, y, w, h)
                y += h + GAP_Y
            height = max(height, y)
            x += max(sizes[b][0] for b in column) + GAP_X
    return place, x - GAP_X + 10, height


def _mean(rank: dict[str, float], nodes: list[str]) -> float:
    known = [rank[n] for n in nodes if n in rank]
    return sum(known) / len(known) if known else 0.0


def _wrap(
    members: list[str], sizes: dict[str, tuple[float, float]], column_h: float
) -> list[list[str]]:
    out: list[list[str]] = [[]]
    used = 0.0
    for b in members:
        h = sizes[b][1] + GAP_Y
        if out[-1] and used + h > column_h:
            out.append([])
            used = 0.0
        out[-1].append(b)
        used += h
    return [c for c in out if c]


def _anchor(
    node: str, place: dict[str, tuple[float, float, float, float]], graph: ImpactGraph, right: bool
) -> tuple[float, float]:
    x, y, w, _h = place[box_of(node)]
    column = column_of(node)
    columns = graph.boxes[box_of(node)].columns
    row = columns.index(column) if column in columns else None
    cy = y + HEAD_H / 2 if row is None else y + HEAD_H + ROW_H * row + ROW_H / 2 + 2
    return (x + w if right else x), cy


def svg(graph: ImpactGraph) -> tuple[str, float, float]:
    """The drawing (an ``<svg>`` with a viewBox, scaled to its container) and its size."""
    place, width, height = layout(graph)
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width:.0f} {height:.0f}' "
        "preserveAspectRatio='xMidYMid meet' role='img' aria-label='impact graph'>"
        "<defs><marker id='a' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto'><path d='M0,0L10,5L0,10z' fill='#8a94a6'/></marker>"
        "</defs><g class='view'>"
    ]
    for i, (a, b) in enumerate(graph.edges):
        if box_of(a) == box_of(b):
            continue
        x1, y1 = _anchor(a, place, graph, right=True)
        x2, y2 = _anchor(b, place, graph, right=False)
        bend = max(30.0, abs(x2 - x1) / 3)
        out.append(
            f"<path class='edge' data-edge='{i}' d='M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},"
            f"{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}'/>"
        )
    for box in graph.boxes.values():
        out.append(_box_svg(box, place[box.id], graph))
    out.append("</g></svg>")
    return "".join(out), width, height


def _box_svg(box: Box, at: tuple[float, float, float, float], graph: ImpactGraph) -> str:
    x, y, w, h = at
    on_path = sorted(graph.paths.get(box.id, ()))
    edges = ",".join(str(i) for i in on_path)
    boxes = "|".join(sorted({box_of(n) for i in on_path for n in graph.edges[i]} - {box.id}))
    title = box.id + (f" ({box.kind})" if box.kind else "")
    parts = [
        f"<g class='box {box.state}' data-node='{html.escape(box.id)}' data-edges='{edges}' "
        f"data-onpath='{html.escape(boxes)}'>"
        f"<title>{html.escape(title)}: {box.state}</title>"
        f"<rect class='frame' x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{h:.1f}' rx='6'/>"
        f"<text class='head' x='{x + PAD:.1f}' y='{y + 16:.1f}'>{html.escape(box.id)}</text>"
    ]
    for row, column in enumerate(box.columns):
        state = (
            "broken"
            if column in box.broken_columns
            else ("changed" if column in box.changed_columns else "")
        )
        mark = "✗ " if state == "broken" else ("Δ " if state == "changed" else "· ")
        cy = y + HEAD_H + ROW_H * row + 14
        parts.append(
            f"<text class='col {state}' x='{x + PAD:.1f}' y='{cy:.1f}'>"
            f"{mark}{html.escape(column)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _layers(edges: list[tuple[str, str]], nodes: list[str]) -> dict[str, int]:
    """Longest distance from a source node (cycles are cut by capping at the node count)."""
    layer = dict.fromkeys(nodes, 0)
    for _ in range(len(layer)):
        moved = False
        for a, b in edges:
            if layer[b] < layer[a] + 1 and layer[a] + 1 < len(layer):
                layer[b] = layer[a] + 1
                moved = True
        if not moved:
            break
    return layer


# Pan and zoom by rewriting the viewBox; hover dims everything but the paths to a box.
_SCRIPT = """
(function(){
document.querySelectorAll('.graph').forEach(function(g){
  var svg=g.querySelector('svg'), W=+g.dataset.width, H=+g.dataset.height;
  var vb={x:0,y:0,w:W,h:H};
  function set(){svg.setAttribute('viewBox',vb.x+' '+vb.y+' '+vb.w+' '+vb.h);}
  function zoom(f,cx,cy){var nw=vb.w/f,nh=vb.h/f;
    if(cx===undefined){cx=vb.x+vb.w/2;cy=vb.y+vb.h/2;}
    vb.x=cx-(cx-vb.x)/f;vb.y=cy-(cy-vb.y)/f;vb.w=nw;vb.h=nh;set();}
  function point(e){var r=svg.getBoundingClientRect(),s=Math.max(vb.w/r.width,vb.h/r.height);
    var ox=(r.width*s-vb.w)/2,oy=(r.height*s-vb.h)/2;
    return [vb.x+(e.clientX-r.left)*s-ox, vb.y+(e.clientY-r.top)*s-oy, s];}
  g.querySelectorAll('button').forEach(function(b){b.addEventListener('click',function(){
    if(b.dataset.zoom==='fit'){vb={x:0,y:0,w:W,h:H};set();}else{zoom(+b.dataset.zoom);}});});
  svg.addEventListener('wheel',function(e){e.preventDefault();var p=point(e);
    zoom(e.deltaY<0?1.15:1/1.15,p[0],p[1]);},{passive:false});
  var drag=null;
  svg.addEventListener('mousedown',function(e){drag=point(e);svg.style.cursor='grabbing';});
  window.addEventListener('mouseup',function(){drag=null;svg.style.cursor='';});
  svg.addEventListener('mousemove',function(e){if(!drag)return;var p=point(e);
    vb.x-=p[0]-drag[0];vb.y-=p[1]-drag[1];set();});
  svg.querySelectorAll('.box').forEach(function(box){
    box.addEventListener('mouseenter',function(){
      var on=(box.dataset.onpath||'').split('|');
      svg.classList.add('dim');box.classList.add('hl');
      (box.dataset.edges||'').split(',').filter(Boolean).forEach(function(i){
        var e=svg.querySelector('[data-edge="'+i+'"]');if(e)e.classList.add('hl');});
      svg.querySelectorAll('.box').forEach(function(b){
        if(on.indexOf(b.dataset.node)>=0)b.classList.add('hl');});
    });
    box.addEventListener('mouseleave',function(){svg.classList.remove('dim');
      svg.querySelectorAll('.hl').forEach(function(x){x.classList.remove('hl');});});
  });
});
})();
"""
