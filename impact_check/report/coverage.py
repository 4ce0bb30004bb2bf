"""The coverage part of every report: models and views analysed of those defined, per dbt
project, and what was left out and why (grouped by reason, the first few named)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from impact_check.model import Coverage, Defined

SHOWN = 10  # models named in text and markdown; the JSON report lists every one


def headline(coverage: Coverage) -> str:
    """``coverage: 640 of 677 models and views analysed (94.5%)`` (+ per project)."""
    text = (
        f"coverage: {coverage.analysed} of {coverage.defined} models and views analysed "
        f"({coverage.ratio:.1%})"
    )
    projects = [p for p in coverage.projects if p.name]
    if len(projects) > 1 or any(p.dialect_origin for p in projects):
        parts = []
        for p in projects:
            dialect = f", {p.dialect}" + (f" from {p.dialect_origin}" if p.dialect_origin else "")
            parts.append(f"{p.name}: {p.analysed} of {p.defined}{dialect if p.dialect else ''}")
        text += "; " + "; ".join(parts)
    return text


def reason_kind(reason: str) -> str:
    """A reason without its specifics, to count alike reasons together."""
    reason = re.sub(r"\s*\(the base version stands in\)", "", reason)
    head, _, rest = reason.partition(": ")
    if head.startswith(("cannot parse", "cannot render")) and rest:
        rest = re.split(r"['\"`<(]| near | at ", rest, maxsplit=1)[0]
        return f"{head}: {' '.join(rest.split()[:8])}".strip()
    return head.strip()


def grouped_reasons(entries: list[Defined]) -> list[tuple[str, int]]:
    """(kind of reason, count), most frequent first."""
    return Counter(reason_kind(e.reason or "") for e in entries).most_common()


def detail_lines(coverage: Coverage, shown: int = SHOWN) -> list[str]:
    """Lines naming what was not analysed: counts per kind of reason, then the first few."""
    left = coverage.not_analysed
    if not left:
        return []
    kinds = ", ".join(f"{n} {kind}" for kind, n in grouped_reasons(left))
    lines = [f"not analysed ({len(left)}): {kinds}"]
    for entry in left[:shown]:
        where = f"{entry.location.file}" + (
            f":{entry.location.line}" if entry.location.line else ""
        )
        lines.append(f"  {entry.name} ({where}): {entry.reason}")
    if len(left) > shown:
        lines.append(f"  … and {len(left) - shown} more (all listed in the JSON report)")
    return lines


def to_json(coverage: Coverage) -> dict[str, Any]:
    """The report's ``coverage`` field."""
    names = {p.root: p.name for p in coverage.projects if p.name}
    return {
        "defined": coverage.defined,
        "analysed": coverage.analysed,
        "ratio": round(coverage.ratio, 4),
        "projects": [
            {
                "name": p.name,
                "root": p.root,
                "defined": p.defined,
                "analysed": p.analysed,
                "dialect": p.dialect,
                "dialect_origin": p.dialect_origin,
            }
            for p in coverage.projects
        ],
        "not_analysed": [
            {
                "name": e.name,
                "file": e.location.file,
                **({"line": e.location.line} if e.location.line else {}),
                "reason": e.reason,
                "project": names.get(e.project or "", "") if e.project is not None else "",
            }
            for e in coverage.not_analysed
        ],
    }
