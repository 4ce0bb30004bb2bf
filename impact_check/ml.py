"""ML consumers in the analysis: typed expectations and the ML7xx findings (no I/O).

Lineage sources put features and models into the graph (sources/mlflow.py, sources/mlmodel.py,
the Feast source) with these conventions, which this module relies on:

- kinds ``ml_model`` (``mlflow:<model>/<version>``), ``feature`` (``feast:feature/<view>/<name>``),
  ``feature_view`` (``feast:feature_view/<name>``), ``feature_service``
  (``feast:feature_service/<name>``), ``entity``;
- a ``column`` edge from each warehouse column a feature or model reads (``exposure`` for a
  possible use, ``reads`` from the relation when the columns are unknown), and a ``reads``
  (or ``column``) edge from a feature to each feature service / model that uses it;
- node ``expects``: {column node id: declared type} — a Feast ``Field`` dtype or an MLflow
  signature type, spelled as the source spells it (sql/ml_types.py maps them);
- feature view attrs ``entity_keys`` ([column node ids]) and ``timestamp_field`` (a column
  node id); feature attrs ``feature_view`` (the view's node id); model attrs ``version``,
  ``aliases``, ``stage``, ``run_id``.

What the analysis adds:

- **typed expectations** (``expectation_breaks``, used by external.fetched_breaks): a
  consumer whose declared type the column's head type no longer fits in family
  (``compare()`` says incompatible) breaks — a violated typed schema breaks (DESIGN.md);
- **ML701** when a change breaks features or models (dropped/renamed column or table, a
  broken upstream view), naming every feature, feature view, feature service and model
  version it reaches; **ML702** when a column's type at head matches its declaration less
  well than at base (incompatible: error and the consumer breaks; wider or narrower:
  warning); **ML703** when a change reaches a column a feature view uses as entity join key
  or timestamp (every feature of the view is listed);
- value and row changes (RS5xx/VL6xx) keep their own rule and severity; the features and
  models they reach are marked as a training/serving skew risk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from impact_check.bind import Break
from impact_check.graph import LineageGraph
from impact_check.impact import DETAIL_KEYS, lineage_reach, start_nodes
from impact_check.model import Catalog, Change, Finding, Impact, split_node_id
from impact_check.rules import RULES
from impact_check.sql.ml_types import declared_sql
from impact_check.sql.types import compare

ML_KINDS = frozenset({"ml_model", "feature", "feature_view", "feature_service", "entity"})
_BREAKING_VERDICTS = ("incompatible", "nested_removed")
_NOT_KEY_CHANGES = ("column_added", "column_reordered")


@dataclass(frozen=True)
class Mismatch:
    """A consumer's declared type that the column's head type fits worse than its base type."""

    consumer: str
    column: str  # column node id
    declared: str  # as the source spells it (``long``, ``Int64``)
    before: str | None  # canonical column types
    after: str
    verdict: str  # compare(declared, after): incompatible, widened, narrowed, unknown, …

    @property
    def breaks(self) -> bool:
        return self.verdict in _BREAKING_VERDICTS


def column_type(catalog: Catalog, column: str) -> str | None:
    """The canonical type of ``relation#column`` in a catalog, None when unknown."""
    relation, name = split_node_id(column)
    dataset = catalog.datasets.get(relation)
    if dataset is None or name is None or name not in dataset.columns:
        return None
    return dataset.columns[name].type


def mismatches_of(node: str, attrs: dict[str, Any], base: Catalog, head: Catalog) -> list[Mismatch]:
    """The typed expectations of one node that got worse between base and head."""
    out = []
    for column, declared in sorted((attrs.get("expects") or {}).items()):
        before, after = column_type(base, column), column_type(head, column)
        if after is None or before == after or not declared:
            continue
        sql = declared_sql(str(declared))
        if sql is None:
            continue  # tensor/object/any: no SQL meaning to compare with
        verdict = compare(sql, after)
        if verdict == "alias" or (before is not None and compare(sql, before) == verdict):
            continue
        out.append(Mismatch(node, column, str(declared), before, after, verdict))
    return out


def type_mismatches(graph: LineageGraph, base: Catalog, head: Catalog) -> list[Mismatch]:
    """Every typed expectation in the graph that the diff makes worse."""
    out = []
    for node, attrs in graph.g.nodes(data=True):
        if attrs.get("expects"):
            out += mismatches_of(node, attrs, base, head)
    return out


def expectation_breaks(graph: LineageGraph, node: str, base: Catalog, head: Catalog) -> list[Break]:
    """Break reasons of a fetched consumer whose declared types the head columns violate."""
    attrs = graph.attrs(node)
    return [
        Break(
            f"declares {_column_text(m.column)} as {m.declared} ({_vocabulary(attrs)}); "
            f"it is {m.after} at head",
            {m.column},
        )
        for m in mismatches_of(node, attrs, base, head)
        if m.breaks
    ]


def ml_findings(
    findings: list[Finding],
    graph: LineageGraph,
    base: Catalog,
    head: Catalog,
    describe: Callable[[Change], str],
) -> list[Finding]:
    """ML701/ML702/ML703 for the change findings that reach features or models.

    Also marks the ML consumers of value and row changes as a training/serving skew risk.
    """
    if not any(attrs.get("kind") in ML_KINDS for _, attrs in graph.g.nodes(data=True)):
        return []
    mismatches = type_mismatches(graph, base, head)
    owner = _mismatch_owners(findings, mismatches, graph)
    out: list[Finding] = []
    for finding in findings:
        change = finding.change
        if change is None or finding.rule[:2] in ("AN", "ML"):
            continue
        reach = lineage_reach(graph, [n for n in start_nodes(change, graph) if n in graph])
        ml = [i for i in finding.impacted if i.kind in ML_KINDS]
        if finding.rule[:2] in ("RS", "VL"):
            for impact in ml:
                impact.reason = f"training/serving skew risk: {impact.reason}"
        keyed = _key_finding(finding, change, reach, graph, describe)
        typed = [m for m in mismatches if owner.get(m) is finding]
        typed_finding = _type_finding(finding, change, typed, graph, describe)
        skip = {i.node for f in (keyed, typed_finding) if f is not None for i in f.impacted}
        broken = [i for i in ml if i.breaks and not i.preexisting and i.node not in skip]
        if broken and finding.rule[:2] not in ("RS", "VL"):
            message = f"{describe(change)}: breaks {_names(broken, graph)}"
            broken = list(_copies(broken).values())
            out.append(
                RULES["ML701"].finding(message, finding.location, change, _with_users(broken, ml))
            )
        out += [f for f in (keyed, typed_finding) if f is not None]
    orphans = [m for m in mismatches if m not in owner]
    if orphans:
        out.append(_orphan_finding(orphans, graph))
    return out


def _mismatch_owners(
    findings: list[Finding], mismatches: list[Mismatch], graph: LineageGraph
) -> dict[Mismatch, Finding]:
    """Each mismatch goes to one finding: the change of that very column, else the first
    change whose lineage reaches it."""
    owner: dict[Mismatch, Finding] = {}
    changed = [f for f in findings if f.change is not None and f.rule[:2] not in ("AN", "ML")]
    for mismatch in mismatches:
        exact = [f for f in changed if f.change is not None and f.change.target == mismatch.column]
        if exact:
            owner[mismatch] = exact[0]
            continue
        for finding in changed:
            assert finding.change is not None
            starts = [n for n in start_nodes(finding.change, graph) if n in graph]
            if mismatch.column in lineage_reach(graph, starts):
                owner[mismatch] = finding
                break
    return owner


def _type_finding(
    finding: Finding,
    change: Change,
    typed: list[Mismatch],
    graph: LineageGraph,
    describe: Callable[[Change], str],
) -> Finding | None:
    # a feature view declares its features' dtypes too: name the feature, not both
    featured = {
        (str(graph.attrs(m.consumer).get("feature_view")), m.column)
        for m in typed
        if graph.attrs(m.consumer).get("kind") == "feature"
    }
    consumers = {m.consumer for m in typed}
    typed = [m for m in typed if (m.consumer, m.column) not in featured]
    if not typed:
        return None
    by_node = _copies(finding.impacted)
    impacts, parts = [], []
    for mismatch in typed:
        impact = by_node.get(mismatch.consumer) or _new_impact(
            graph, mismatch.consumer, [mismatch.column, mismatch.consumer], "", mismatch.breaks
        )
        impact.reason = _mismatch_reason(mismatch, graph)
        impacts.append(impact)
        vocabulary = _vocabulary(graph.attrs(mismatch.consumer))
        parts.append(
            f"{_display(graph, mismatch.consumer)} declares {_column_text(mismatch.column)} as "
            f"{mismatch.declared} ({vocabulary}; now {mismatch.after}: {mismatch.verdict})"
        )
    message = f"{describe(change)}: " + "; ".join(parts)
    # the views named through their features, and the services and models that use them,
    # break (or are affected) through the same mismatch
    impacts += [
        i
        for node, i in by_node.items()
        if node not in {m.consumer for m in typed}
        and (
            node in consumers
            or (i.kind in ("feature_service", "ml_model") and consumers & set(i.path[:-1]))
        )
    ]
    impacts = _unique(impacts)
    return RULES["ML702"].finding(message, finding.location, change, _with_users(impacts, impacts))


def _key_finding(
    finding: Finding,
    change: Change,
    reach: set[str],
    graph: LineageGraph,
    describe: Callable[[Change], str],
) -> Finding | None:
    if change.column is None or change.kind in _NOT_KEY_CHANGES:
        return None
    if change.kind == "type_changed" and change.types and compare(*change.types) == "alias":
        return None
    impacts: list[Impact] = []
    by_node = _copies(finding.impacted)
    roles = []
    for view, attrs in graph.g.nodes(data=True):
        if attrs.get("kind") != "feature_view":
            continue
        keys = {str(k): "entity join key" for k in attrs.get("entity_keys") or []}
        if attrs.get("timestamp_field"):
            keys[str(attrs["timestamp_field"])] = "timestamp field"
        hit = sorted(k for k in keys if k in reach)
        if not hit:
            continue
        roles.append(
            f"{_column_text(hit[0])} is the {keys[hit[0]]} of feature view {_display(graph, view)}"
        )
        reason = f"{_column_text(hit[0])} is its {keys[hit[0]]}"
        path = [change.target, *([hit[0]] if hit[0] != change.target else []), view]
        impacts.append(by_node.get(view) or _new_impact(graph, view, path, reason))
        for member in _features_of(graph, view):
            impacts.append(
                by_node.get(member)
                or _new_impact(
                    graph, member, [*path, member], f"a feature of {_display(graph, view)}"
                )
            )
            for user in _ml_users(graph, member):
                impacts.append(
                    by_node.get(user)
                    or _new_impact(graph, user, [*path, member, user], "uses an affected feature")
                )
    if not impacts:
        return None
    message = f"{describe(change)}: " + "; ".join(roles) + f"; affects {_names(impacts, graph)}"
    return RULES["ML703"].finding(message, finding.location, change, _unique(impacts))


def _orphan_finding(orphans: list[Mismatch], graph: LineageGraph) -> Finding:
    """Mismatches no change explains (a type changed upstream of what the diff shows)."""
    impacts = [
        _new_impact(graph, m.consumer, [m.column, m.consumer], _mismatch_reason(m, graph), m.breaks)
        for m in orphans
    ]
    message = "; ".join(
        f"{_column_text(m.column)} is now {m.after}: {_display(graph, m.consumer)} declares "
        f"{m.declared} ({m.verdict})"
        for m in orphans
    )
    return RULES["ML702"].finding(message, None, None, _unique(impacts))


def _features_of(graph: LineageGraph, view: str) -> list[str]:
    """The features of a feature view (attr ``feature_view``, or an edge either way)."""
    members = {
        node
        for node, attrs in graph.g.nodes(data=True)
        if attrs.get("kind") == "feature" and attrs.get("feature_view") == view
    }
    for near in (*graph.g.successors(view), *graph.g.predecessors(view)):
        if graph.attrs(near).get("kind") == "feature":
            members.add(near)
    return sorted(members)


def _ml_users(graph: LineageGraph, node: str) -> list[str]:
    """ML nodes downstream of ``node`` (feature services, models)."""
    reached = graph.walk(node)
    return sorted(
        n
        for n in reached
        if n != node and graph.attrs(n).get("kind") in ("feature_service", "ml_model")
    )


def _with_users(impacts: list[Impact], pool: Iterable[Impact]) -> list[Impact]:
    """``impacts`` plus, for each, the details of the ML nodes that use it."""
    for impact in impacts:
        users = [
            i.name or i.node for i in pool if i.node != impact.node and impact.node in i.path[:-1]
        ]
        if users:
            impact.details.setdefault("used_by", sorted(set(users)))
    return _unique(impacts)


def _new_impact(
    graph: LineageGraph, node: str, path: list[str], reason: str, breaks: bool = False
) -> Impact:
    attrs = graph.attrs(node)
    return Impact(
        node=node,
        kind=str(attrs.get("kind", "unknown")),
        breaks=breaks,
        path=path,
        reason=reason,
        file=attrs.get("file"),
        column=split_node_id(path[0])[1],
        owners=list(attrs.get("owners") or []),
        name=attrs.get("name"),
        origin=attrs.get("origin"),
        details={k: attrs[k] for k in DETAIL_KEYS if attrs.get(k) not in (None, "", [], {})},
    )


def _copies(impacts: list[Impact]) -> dict[str, Impact]:
    """The impacts by node, copied: an ML finding rewords its own, not the change's."""
    return {
        i.node: dataclasses.replace(i, path=list(i.path), details=dict(i.details)) for i in impacts
    }


def _unique(impacts: list[Impact]) -> list[Impact]:
    seen: dict[str, Impact] = {}
    for impact in impacts:
        seen.setdefault(impact.node, impact)
    return list(seen.values())


def _names(impacts: list[Impact], graph: LineageGraph) -> str:
    """``feature x (view v), feature service s, model version churn_model/3 (alias a)``."""
    labels = {
        "feature": "feature",
        "feature_view": "feature view",
        "feature_service": "feature service",
        "ml_model": "model version",
        "entity": "entity",
    }
    parts = []
    for impact in sorted(_unique(impacts), key=lambda i: (_KIND_ORDER.get(i.kind, 9), i.node)):
        text = f"{labels.get(impact.kind, impact.kind)} {_display(graph, impact.node)}"
        view = graph.attrs(impact.node).get("feature_view")
        if impact.kind == "feature" and view:
            text += f" (view {_display(graph, str(view))})"
        parts.append(text)
    return ", ".join(parts)


_KIND_ORDER = {"feature": 0, "feature_view": 1, "feature_service": 2, "ml_model": 3, "entity": 4}


def _display(graph: LineageGraph, node: str) -> str:
    return str(graph.attrs(node).get("name") or node)


def _column_text(column: str) -> str:
    relation, name = split_node_id(column)
    return f"{relation}.{name}" if name else relation


def _vocabulary(attrs: dict[str, Any]) -> str:
    origin = str(attrs.get("origin") or "")
    if origin.startswith("feast"):
        return "Feast dtype"
    if origin.startswith(("mlflow", "mlmodel")):
        return "MLflow signature"
    return "declared type"


def _mismatch_reason(mismatch: Mismatch, graph: LineageGraph) -> str:
    vocabulary = _vocabulary(graph.attrs(mismatch.consumer))
    was = f" (was {mismatch.before})" if mismatch.before else ""
    effect = "schema enforcement rejects it" if mismatch.breaks else "it is fed another type"
    return (
        f"{vocabulary} says {mismatch.declared}; {_column_text(mismatch.column)} is "
        f"{mismatch.after} at head{was}: {mismatch.verdict}, {effect}"
    )
