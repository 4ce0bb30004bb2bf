"""Data-quality checks in the analysis: what an expectation needs of its columns, and the
DQ8xx findings (no I/O).

Sources put checks into the graph with an attribute ``dq`` on the check's node
(sources/gx.py): ``relation`` (the node of the table or query it validates), ``needs``
({column node: family it needs: numeric, text, text_values, number_values}), ``types``
({column node: [type names it accepts]}), ``compares`` ([[column, column]] compared with each
other) and ``pin`` (the columns it pins: an exact set, an ordered list, a count or a count
range). ``dq_breaks`` turns them into break reasons at a revision (external.fetched_breaks
calls it for every fetched node, at base and at head, so a check already failing at base is
``preexisting``), verified against real Great Expectations checkpoints on PostgreSQL
(tests/dq/test_gx_truth.py):

- a column an expectation reads that is gone breaks it (external.py, as for any consumer);
- a type its check no longer accepts breaks it (``expect_column_values_to_be_of_type`` /
  ``…_in_type_list`` compare the type itself: any other type fails, even a wider one;
  numeric ranges need a number, lengths and patterns a text, a value set values of the
  column's family, a column pair comparable families);
- a schema-pinned expectation breaks when the relation's columns no longer match its pin.

``dq_findings`` adds, for each change finding that breaks checks, DQ801 (a column or table
they read is gone, or a query asset fails), DQ802 (a type they check) or DQ803 (the columns
they pin), naming expectations, suites and checkpoints; value and row changes reaching a
checked column keep their own rule and mark the checks as affected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from impact_check.bind import Break
from impact_check.graph import LineageGraph
from impact_check.ml import column_type
from impact_check.model import Catalog, Change, Finding, Impact, column_id, split_node_id
from impact_check.rules import RULES
from impact_check.sql.types import family, parse_type

DQ_KINDS = frozenset({"expectation", "expectation_suite"})
PINS = "pins the columns of"
_TYPED = ("accepts only", "needs a", "compares")
_NUMERIC = {"numeric"}
_TEXTUAL = {"text"}
_COMPARABLE = [{"numeric"}, {"text"}, {"date", "timestamp"}, {"time"}, {"boolean"}]


def dq_breaks(graph: LineageGraph, node: str, base: Catalog, head: Catalog) -> list[Break]:
    """Why a data-quality check fails at ``head`` for what it checks (not for a missing
    column: external.py says that), compared with ``base`` only to name causes."""
    dq = graph.attrs(node).get("dq")
    if not isinstance(dq, dict):
        return []
    out = []
    for column, need in sorted((dq.get("needs") or {}).items()):
        problem = _need_problem(need, column_type(head, column))
        if problem:
            out.append(Break(f"{_text(column)} {problem}", {column}))
    for column, accepted in sorted((dq.get("types") or {}).items()):
        actual = column_type(head, column)
        if actual and not any(_same_type(t, actual) for t in accepted):
            out.append(
                Break(
                    f"accepts only {' or '.join(accepted)} for {_text(column)}; "
                    f"it is {actual} at head",
                    {column},
                )
            )
    for left, right in dq.get("compares") or []:
        families = {family(column_type(head, left)), family(column_type(head, right))}
        if "unknown" not in families and not any(families <= group for group in _COMPARABLE):
            message = (
                f"compares {_text(left)} ({column_type(head, left)}) with "
                f"{_text(right)} ({column_type(head, right)})"
            )
            out.append(Break(message, {left, right}))
    pin = dq.get("pin")
    if isinstance(pin, dict):
        out += _pin_breaks(str(dq.get("relation")), pin, base, head)
    return out


def _need_problem(need: str, actual: str | None) -> str | None:
    kind = family(actual)
    if kind == "unknown":
        return None
    if need.startswith("tfx_"):
        declared = need.removeprefix("tfx_")
        found = tfx_type(actual)
        if found is None or found == declared:
            return None
        return f"is {actual}: the schema declares the feature {declared} ({TFX_TYPE}: {found})"
    if need == "numeric" and kind not in _NUMERIC:
        return f"is {actual}: the check needs a numeric column"
    if need == "text" and kind not in _TEXTUAL:
        return f"is {actual}: the check needs a text column"
    if need == "text_values" and kind in ("numeric", "boolean"):
        return f"is {actual}: the check compares it with text values"
    if need == "number_values" and kind not in _NUMERIC:
        return f"is {actual}: the check compares it with numbers"
    return None


TFX_TYPE = "TFX type"


def tfx_type(type_sql: str | None) -> str | None:
    """The TFX feature type a column of this SQL type feeds (None: no telling)."""
    dtype = parse_type(type_sql) if type_sql else None
    if dtype is None:
        return None
    T = exp.DataType
    if dtype.this in (T.Type.ARRAY, T.Type.LIST) and dtype.expressions:
        inner = dtype.expressions[0]
        return tfx_type(inner.sql()) if isinstance(inner, exp.DataType) else None
    if dtype.this in T.INTEGER_TYPES or dtype.this == T.Type.BOOLEAN:
        return "INT"
    if dtype.this in T.REAL_TYPES:
        return "FLOAT"
    if dtype.this in (T.Type.STRUCT, T.Type.OBJECT):
        return "STRUCT"
    if family(type_sql) in ("text", "binary", "date", "timestamp", "time", "json"):
        return "BYTES"
    return None


def _same_type(declared: str, actual: str) -> bool:
    """Whether a GX type name (SQLAlchemy's, ``DOUBLE_PRECISION``) names ``actual``'s type:
    the check tests the type itself, parameters aside."""
    left = parse_type(declared.replace("_", " "), "postgres") or parse_type(declared)
    right = parse_type(actual)
    if left is None or right is None:
        return declared.split("(", 1)[0].upper() == actual.split("(", 1)[0].upper()
    return bool(left.this == right.this)


def _pin_breaks(relation: str, pin: dict[str, Any], base: Catalog, head: Catalog) -> list[Break]:
    dataset = head.datasets.get(relation)
    if dataset is None or not dataset.columns_known:
        return []
    columns = list(dataset.columns)
    before = base.datasets.get(relation)
    previous = list(before.columns) if before is not None and before.columns_known else []
    kind = pin.get("kind")
    pinned = [str(c) for c in pin.get("columns") or []]
    if kind == "set":
        exact = bool(pin.get("exact", True))
        ok = set(pinned) == set(columns) if exact else set(pinned) <= set(columns)
        wanted = f"{'exactly ' if exact else ''}{{{', '.join(pinned)}}}"
    elif kind == "ordered":
        ok = pinned == columns
        wanted = f"[{', '.join(pinned)}] in this order"
    elif kind == "count":
        ok = not isinstance(pin.get("value"), int) or len(columns) == pin["value"]
        wanted = f"{pin.get('value')} columns"
    else:
        low, high = pin.get("min"), pin.get("max")
        ok = (not isinstance(low, int) or len(columns) >= low) and (
            not isinstance(high, int) or len(columns) <= high
        )
        wanted = f"between {low} and {high} columns"
    if ok:
        return []
    moved = set(columns) ^ set(previous) if previous else set(columns)
    if kind == "ordered" and previous:
        moved |= {c for i, c in enumerate(columns) if i >= len(previous) or previous[i] != c}
    causes = {relation} | {column_id(relation, c) for c in moved | (set(pinned) - set(columns))}
    message = f"{PINS} {relation} to {wanted}; at head they are [{', '.join(columns)}]"
    return [Break(message, causes)]


def _text(column: str) -> str:
    relation, name = split_node_id(column)
    return f"{relation}.{name}" if name else relation


def dq_findings(
    findings: list[Finding], graph: LineageGraph, describe: Callable[[Change], str]
) -> list[Finding]:
    """DQ801/DQ802/DQ803 for the change findings that break data-quality checks; value and
    row changes mark the checks they reach as affected (their rows or values change)."""
    out: list[Finding] = []
    for finding in findings:
        change = finding.change
        if change is None or finding.rule[:2] in ("AN", "ML", "DQ"):
            continue
        checks = [i for i in finding.impacted if i.kind in DQ_KINDS or _tfx(i)]
        if not checks:
            continue
        if finding.rule[:2] in ("RS", "VL"):
            for impact in checks:
                if not impact.breaks:
                    impact.reason = f"the values it checks change: {impact.reason}"
        broken = [i for i in checks if i.breaks and not i.preexisting]
        if not broken:
            continue
        by_rule: dict[str, list[Impact]] = {}
        for impact in broken:
            if impact.kind in ("expectation_suite", "feature_schema"):
                continue
            code = ("ML705" if TFX_TYPE in impact.reason else "ML704") if _tfx(impact) else None
            by_rule.setdefault(code or _rule(impact.reason), []).append(impact)
        for code in sorted(by_rule):
            impacts = [dataclasses.replace(i, path=list(i.path)) for i in by_rule[code]]
            suites = {str(graph.attrs(i.node).get("suite")) for i in impacts}
            schemas = {str(graph.attrs(i.node).get("feature_view")) for i in impacts}
            impacts += [
                dataclasses.replace(i, path=list(i.path))
                for i in finding.impacted
                if (i.kind == "expectation_suite" and str(i.name) in suites)
                or (i.kind == "feature_schema" and i.node in schemas)
            ]
            message = f"{describe(change)}: breaks {_names(impacts, graph)}"
            out.append(RULES[code].finding(message, finding.location, change, impacts))
    return out


def _tfx(impact: Impact) -> bool:
    return impact.origin == "tfx" and impact.kind == "feature"


def _rule(reason: str) -> str:
    if PINS in reason:
        return "DQ803"
    if any(word in reason for word in _TYPED):
        return "DQ802"
    return "DQ801"


def _names(impacts: list[Impact], graph: LineageGraph) -> str:
    parts = []
    for impact in sorted(impacts, key=lambda i: (i.kind != "expectation", i.node)):
        attrs = graph.attrs(impact.node)
        if impact.kind == "feature_schema":
            parts.append(f"TFX schema {impact.name or impact.node}")
        elif impact.kind == "feature":
            parts.append(f"feature {impact.name or impact.node} ({attrs.get('dtype')})")
        elif impact.kind == "expectation_suite":
            checkpoints = attrs.get("checkpoints") or []
            via = f" (checkpoint {', '.join(checkpoints)})" if checkpoints else ""
            parts.append(f"suite {impact.name or impact.node}{via}")
        else:
            parts.append(f"expectation {impact.name or impact.node}")
    return ", ".join(parts)
