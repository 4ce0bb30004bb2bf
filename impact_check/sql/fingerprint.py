"""Per-column and per-clause fingerprints of a qualified query, in one pass over its scopes.

A column's fingerprint hashes its expression with every column reference replaced by what
it reads: ``relation.column`` for a relation, the fingerprint of the inner column for a CTE,
derived table or subquery. So formatting, comments and renamed intermediate CTE aliases do
not change a fingerprint, while an edit anywhere on the column's path does. Row-level
fingerprints (filters, grain, joins, sources, limits, row-multiplying projections) collect
the same canonical forms from every scope, since a filter in a CTE changes the rows too.
Linear in the size of the query (``sqlglot.diff`` is quadratic and names no column).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope

from impact_check.model import Fingerprints
from impact_check.sql.pivots import PivotSource

Resolve = Callable[[exp.Column, Scope], "tuple[exp.Table | Scope | PivotSource, str] | None"]
ROW_KINDS = ("filter", "grain", "join", "source", "limit", "cardinality")


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class _Scopes:
    def __init__(self, resolve: Resolve, dialect: str) -> None:
        self.resolve = resolve
        self.dialect = dialect
        self.named: dict[int, dict[str, str]] = {}
        self.ordered: dict[int, list[str]] = {}
        self.rows: dict[str, list[str]] = {kind: [] for kind in ROW_KINDS}
        # a scope's own row-level parts (its rows without its columns: what joining it
        # means), hashed with its sources' only when a join reads it (row_id)
        self.row_parts: dict[int, list[str]] = {}
        self.row_ids: dict[int, str] = {}

    def column_ref(self, col: exp.Column, scope: Scope) -> str:
        found = self.resolve(col, scope)
        if found is None:
            return f"?{col.table}.{col.name}"
        source, name = found
        if isinstance(source, exp.Table):  # most references: no call further
            return f"{source.name}.{name}"
        return self.ref_of(source, name, scope)

    def row_id(self, scope: Scope) -> str:
        """A scope's rows (filters, grain, joins, sources… of it and what it reads)."""
        found = self.row_ids.get(id(scope))
        if found is None:
            inner: list[object] = list(scope.set_operation_scopes)
            inner += [s for _, s in scope.selected_sources.values()]
            parts = sorted(self.row_parts.get(id(scope), []))
            nested = sorted(self.row_id(s) for s in inner if isinstance(s, Scope))
            found = self.row_ids[id(scope)] = _hash("|".join([*parts, *nested]))
        return found

    def ref_of(self, source: exp.Table | Scope | PivotSource, name: str, scope: Scope) -> str:
        if isinstance(source, exp.Table):
            return f"{source.name}.{name}"
        if isinstance(source, PivotSource):
            kept = source.kept_name(name)
            if kept is not None:
                return self.ref_of(source.source, kept, scope)
            return f"pivot({self.canonical(source.node, scope)}).{name}"
        inner = self.named.get(id(source), {})
        return inner.get(name, f"?{name}")

    def canonical(self, node: exp.Expr, scope: Scope) -> str:
        """The node's SQL with columns and subqueries replaced by what they stand for."""
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            return self.column_ref(node, scope)  # most projections: no SQL to generate
        replacements: dict[int, str] = {}
        for col in find_all_in_scope(node, exp.Column):
            if not isinstance(col.this, exp.Star):
                replacements[id(col)] = self.column_ref(col, scope)
        by_expression = {id(s.expression): s for s in scope.subquery_scopes}
        for query in find_all_in_scope(node, exp.Select, exp.SetOperation):
            sub = by_expression.get(id(query))
            if sub is not None:
                replacements[id(query)] = "(" + ",".join(self.ordered.get(id(sub), [])) + ")"
        if not replacements:
            return node.sql(comments=False, copy=False)
        if id(node) in replacements:
            return replacements[id(node)]
        return _sql_with(node, replacements)


def _sql_with(node: exp.Expr, replacements: dict[int, str]) -> str:
    """``node.sql()`` with some descendants shown as text. The tree is edited in place and
    restored (copying it cost as much as parsing it). SQL is generated without sqlglot's
    defensive copy (about 4% of a cold check): the default dialect's generator only reads
    a node that has a parent (it rewrites nothing but a root query's nested CTEs)."""
    swapped: list[tuple[exp.Expr, exp.Expr]] = []
    try:
        for original in list(node.walk(prune=lambda n: id(n) in replacements)):
            text = replacements.get(id(original))
            if text is not None and original.parent is not None:
                swapped.append((original, original.replace(exp.var(text))))
        return node.sql(comments=False, copy=False)
    finally:
        for original, stand_in in reversed(swapped):
            stand_in.replace(original)


def fingerprint(scopes: list[Scope], resolve: Resolve, dialect: str = "") -> Fingerprints:
    """Fingerprints of the root scope's outputs and of its row-level clauses."""
    state = _Scopes(resolve, dialect)
    result = Fingerprints()
    for scope in scopes:
        _scope(state, scope)
        if scope.is_root:
            result.columns = dict(state.named.get(id(scope), {}))
            result.aggregated = _aggregated(scope.expression)
    result.rows = {kind: _hash("|".join(sorted(parts))) for kind, parts in state.rows.items()}
    return result


def _scope(state: _Scopes, scope: Scope) -> None:
    node = scope.expression
    named: dict[str, str] = {}
    ordered: list[str] = []
    if isinstance(node, exp.SetOperation):
        sides = [state.ordered.get(id(s), []) for s in scope.set_operation_scopes]
        kind = f"{node.key}:{bool(node.args.get('distinct'))}"
        for i, name in enumerate(node.named_selects):
            fp = _hash(kind + "|" + "|".join(side[i] if i < len(side) else "" for side in sides))
            named[name] = fp
            ordered.append(fp)
        state.row_parts[id(scope)] = [kind]
    elif isinstance(node, exp.Select):
        for sel in node.selects:
            inner = sel.this if isinstance(sel, exp.Alias) else sel
            fp = _hash(state.canonical(inner, scope))
            named.setdefault(sel.alias_or_name, fp)
            ordered.append(fp)
        _rows(state, scope, node)
    else:  # UNNEST, VALUES, table functions
        fp = _hash(state.canonical(node, scope))
        ordered.append(fp)
        state.row_parts[id(scope)] = [fp]
    state.named[id(scope)] = named
    state.ordered[id(scope)] = ordered


def _rows(state: _Scopes, scope: Scope, node: exp.Select) -> None:
    """The scope's row-level aspects, into the query's and into the scope's row id."""
    rows: dict[str, list[str]] = {kind: [] for kind in ROW_KINDS}
    for key in ("where", "having", "qualify"):
        if node.args.get(key) is not None:
            rows["filter"].append(key + ":" + state.canonical(node.args[key].this, scope))
    traits = [_traits(sel, node, state.dialect) for sel in node.selects]
    group = node.args.get("group")
    if group is not None:
        parts = sorted(state.canonical(e, scope) for e in group.expressions)
        rows["grain"].append("group:" + ",".join(parts))
    elif any(aggregates for _multiplies, aggregates in traits):
        rows["grain"].append("all-rows")  # an aggregate without GROUP BY: one row in all
    if node.args.get("distinct") is not None:
        projections = sorted(state.canonical(s, scope) for s in node.selects)
        rows["grain"].append("distinct:" + ",".join(projections))
    for join in node.args.get("joins") or []:
        on = join.args.get("on")
        using = ",".join(sorted(i.name for i in join.args.get("using") or []))
        target = _source_id(state, join.this, scope)
        condition = state.canonical(on, scope) if on is not None else ""
        rows["join"].append(f"{join.side}:{join.kind}:{target}:{condition}:{using}")
    for table in scope.tables:
        is_relation = not isinstance(scope.sources.get(table.alias_or_name), Scope)
        if isinstance(table.this, exp.Identifier) and is_relation:
            rows["source"].append(table.name)
    for pivot in scope.pivots:  # a PIVOT groups, an UNPIVOT multiplies the rows
        rows["grain"].append("pivot:" + state.canonical(pivot, scope))
    for key in ("limit", "offset", "sample"):
        if node.args.get(key) is not None:
            rows["limit"].append(key + ":" + node.args[key].sql(comments=False, copy=False))
    for sel, (multiplies, _aggregates) in zip(node.selects, traits):
        if multiplies:
            rows["cardinality"].append("explode:" + state.canonical(sel, scope))
    if node.args.get("distinct") is not None:
        rows["cardinality"].append("distinct-width:" + str(len(node.selects)))
    if _in_expression(scope):  # a subquery yields values: its grain is not the rows'
        rows["grain"], rows["cardinality"] = [], []
    for kind, parts in rows.items():
        state.rows[kind] += parts
    state.row_parts[id(scope)] = [f"{k}:{p}" for k, parts in rows.items() for p in parts]


def _source_id(state: _Scopes, source: exp.Expr, scope: Scope) -> str:
    """What a join reads: a relation by name, a CTE or derived table by its rows (not its
    columns: a column added to or edited in it changes no join)."""
    inner = scope.sources.get(source.alias_or_name)
    if isinstance(inner, Scope):
        return "(" + state.row_id(inner) + ")"
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        return source.name
    return source.sql(comments=False, copy=False)


# Set-returning functions: in a projection they emit one row per element.
_SET_RETURNING = (exp.Explode, exp.Unnest, exp.Inline)
_POSTGRES_SET_RETURNING = {
    "generate_series",
    "generate_subscripts",
    "json_array_elements",
    "jsonb_array_elements",
    "json_array_elements_text",
    "jsonb_array_elements_text",
    "json_each",
    "jsonb_each",
    "json_object_keys",
    "jsonb_object_keys",
    "regexp_split_to_table",
    "regexp_matches",
    "string_to_table",
}


def _traits(projection: exp.Expr, select: exp.Select, dialect: str) -> tuple[bool, bool]:
    """(multiplies rows, aggregates) for one projection, in one pass over it: a
    set-returning function, an aggregate outside a window, at the projection's own level
    (inside a scalar subquery they yield one value, and change no rows)."""
    multiplies = aggregates = False
    if projection.find(*_SET_RETURNING, exp.GenerateSeries, exp.Anonymous, exp.AggFunc) is None:
        return multiplies, aggregates  # most projections: a quick look says no
    postgres = dialect in ("postgres", "redshift")
    for node in find_all_in_scope(
        projection, *_SET_RETURNING, exp.GenerateSeries, exp.Anonymous, exp.AggFunc
    ):
        if isinstance(node, _SET_RETURNING) or (
            postgres
            and (
                isinstance(node, exp.GenerateSeries)
                or (
                    isinstance(node, exp.Anonymous) and node.name.lower() in _POSTGRES_SET_RETURNING
                )
            )
        ):
            multiplies = True
        elif isinstance(node, exp.AggFunc) and node.find_ancestor(exp.Window, exp.Select) is select:
            aggregates = True
    return multiplies, aggregates


def _in_expression(scope: Scope) -> bool:
    """Whether the scope is (inside) a subquery used as an expression: scalar, EXISTS, IN."""
    current: Scope | None = scope
    while current is not None:
        if current.is_subquery:
            return True
        current = current.parent
    return False


def _aggregated(node: exp.Expr) -> dict[str, bool]:
    if not isinstance(node, exp.Select):
        return {}
    out = {}
    for sel in node.selects:
        aggs = [a for a in sel.find_all(exp.AggFunc) if a.find_ancestor(exp.Window) is None]
        out[sel.alias_or_name] = bool(aggs)
    return out
