"""``--format json``: exactly the document described by report.schema.json (version 1)."""

from __future__ import annotations

import json
from typing import Any

from impact_check import __version__
from impact_check.model import Change, Finding, Impact, Location, Report, split_node_id

_RELATION_KINDS = {"table", "view", "materialized_view", "job"}


def to_dict(report: Report, fast: bool | None = None) -> dict[str, Any]:
    """The report as plain JSON data."""
    findings = [_finding(f) for f in report.findings]
    impacted = {i.node for f in report.findings for i in f.impacted}
    counts = {
        s: sum(1 for f in report.findings if f.severity.value == s and not f.suppressed)
        for s in ("error", "warning", "info")
    }
    tool: dict[str, Any] = {"name": "impact-check", "version": __version__}
    if fast is not None:
        tool["fast"] = fast
    return {
        "version": 1,
        "tool": tool,
        "base": report.base,
        "head": report.head,
        "summary": {
            "errors": counts["error"],
            "warnings": counts["warning"],
            "infos": counts["info"],
            "suppressed": sum(1 for f in report.findings if f.suppressed),
            "changes": len(report.changes),
            "impacted": len(impacted),
            "failed": report.failed,
            "partial": report.partial,
            "elapsed_ms": report.elapsed_ms,
            **({"files_changed": report.files_changed} if report.files_changed is not None else {}),
        },
        "changes": [_change(c) for c in report.changes],
        "findings": findings,
        "unanalyzed": [
            {"file": u.file, "reason": u.reason, **({"line": u.line} if u.line else {})}
            for u in report.unanalyzed
        ],
        "sources": [
            {
                "name": s.name,
                "kind": s.kind,
                "status": s.status,
                "detail": s.detail,
                "nodes": s.nodes,
                "edges": s.edges,
                **({"counts": dict(s.counts)} if s.counts else {}),
            }
            for s in report.sources
        ],
    }


def render(report: Report, fast: bool | None = None) -> str:
    """The JSON document as text."""
    return json.dumps(to_dict(report, fast), indent=2, default=str) + "\n"


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    out: dict[str, Any] = {"file": location.file}
    if location.line:
        out["line"] = location.line
    return out


def _node(node_id: str, kind: str, file: str | None) -> dict[str, Any]:
    dataset, column = split_node_id(node_id)
    return {
        "id": node_id,
        "name": dataset,
        "kind": kind,
        "column": column,
        "origin": "sql",
        "file": file,
        "owners": [],
    }


def _change(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": change.id,
        "kind": change.kind,
        "target": _node(
            change.target, change.dataset_kind, change.location.file if change.location else None
        ),
        "before": change.before,
        "after": change.after,
    }
    location = _location(change.location)
    if location:
        out["location"] = location
    return out


def _impact(impact: Impact) -> dict[str, Any]:
    node = _node(impact.node, impact.kind, impact.file)
    node["owners"] = impact.owners
    if impact.name:  # a fetched asset's display name (``churn_model/3 (alias champion)``)
        node["name"] = impact.name
    if impact.origin:
        node["origin"] = impact.origin
    out: dict[str, Any] = {
        "node": node,
        "breaks": impact.breaks,
        "certainty": impact.certainty,
        "path": impact.path,
        "reason": impact.reason,
        "preexisting": impact.preexisting,
    }
    if impact.details:  # version, aliases, stage, feature view, … (added field)
        out["details"] = impact.details
    return out


def _finding(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "change": finding.change.id if finding.change else None,
        "suppressed": finding.suppressed,
        "impacted": [_impact(i) for i in finding.impacted],
        "help": finding.help,
    }
    location = _location(finding.location)
    if location:
        out["location"] = location
    return out
