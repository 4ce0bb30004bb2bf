"""Column lineage of one query, for all output columns at once.

One qualify and one bottom-up walk of sqlglot's scopes (children before parents), memoising
each scope's output columns, so the cost is O(AST) instead of O(columns x AST) for
``sqlglot.lineage()`` called per column (measured 18x slower, research/sqlglot.md §7).

Besides projection lineage it records what the query needs in order to bind: columns read in
every clause, references to columns a known relation lacks (``missing``), ambiguous names,
set operations of unequal width, and columns used in operations that need a type family
(``type_uses``). That is what decides, statically, whether a view still builds at head.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.scope import Scope, find_all_in_scope, traverse_scope
from sqlglot.schema import MappingSchema

from impact_check.model import Comparison, FieldUse, Lineage, Src, TypeUse
from impact_check.sql.engine_names import name_outputs
from impact_check.sql.fingerprint import fingerprint
from impact_check.sql.names import table_name
from impact_check.sql.pivots import PivotSource, read_columns
from impact_check.sql.placeholders import PLACEHOLDER_PREFIX
from impact_check.sql.types import ELEMENT, field_type, stackable, struct_fields, struct_type

Schema = Mapping[str, Mapping[str, str | None]]  # relation -> column -> canonical type
STAR = "*"
# A schema entry (never a column) marking a relation whose engine-given column names are
# approximations: a name it lacks is unknown, not missing.
GUESSED_NAMES = "\x00guessed-names"
_CLAUSES = ("where", "joins", "group", "having", "qualify", "order", "distinct", "laterals")
_ARITHMETIC = (exp.Mul, exp.Div, exp.Mod, exp.IntDiv)
_ADDITIVE = (exp.Add, exp.Sub)
_NUMERIC_FUNCS = (
    exp.Sum,
    exp.Avg,
    exp.Stddev,
    exp.StddevPop,
    exp.StddevSamp,
    exp.Variance,
    exp.VariancePop,
    exp.Round,
    exp.Abs,
    exp.Ceil,
    exp.Floor,
    exp.Sqrt,
    exp.Ln,
    exp.Log,
    exp.Exp,
    exp.Pow,
)
_TEXT_FUNCS = (
    exp.Upper,
    exp.Lower,
    exp.Length,
    exp.Substring,
    exp.Trim,
    exp.Initcap,
    exp.Left,
    exp.Right,
    exp.StrPosition,
    exp.RegexpLike,
    exp.Like,
    exp.ILike,
)
_TEMPORAL_FUNCS = (
    exp.DateTrunc,
    exp.TimestampTrunc,
    exp.Extract,
    exp.DateAdd,
    exp.DateSub,
    exp.DateDiff,
    exp.Year,
    exp.Month,
    exp.Day,
)
_ORDERED = (exp.GT, exp.GTE, exp.LT, exp.LTE)
_TYPE_KEEPING = (exp.Paren, exp.Min, exp.Max, exp.AnyValue, exp.First, exp.Last)
_EQUALITY = (exp.EQ, exp.NEQ)


class _Unknown:
    """What a projection the checker could not expand (a dbt macro placeholder) yields:
    columns of unknown names, like a `*` over a relation of unknown schema."""


UNKNOWN_COLUMNS = _Unknown()


def is_placeholder(node: exp.Expr) -> bool:
    """A column reference that stands for Jinja the checker could not expand."""
    return isinstance(node, exp.Column) and node.name.startswith(PLACEHOLDER_PREFIX)


def _unknown_projection(sel: exp.Expr) -> bool:
    """A projection whose output names are unknown: an unexpanded macro in the select list
    (``select {{ pkg.star(…) }}``; qualify aliases it to itself), or one whose alias is
    itself a placeholder (two macros side by side)."""
    return is_placeholder(sel) or (
        isinstance(sel, exp.Alias) and sel.alias.startswith(PLACEHOLDER_PREFIX)
    )


Origin = tuple[Src, tuple[str, ...]]  # a relation column and a field path into it
Source = exp.Table | Scope | PivotSource  # what a column reference reads from


class _Outputs:
    """Output columns of one scope: by name, by position, and what a `*` passes through."""

    __slots__ = ("element", "named", "ordered", "paths", "pure", "stars", "types", "udtf")

    def __init__(self) -> None:
        self.named: dict[str, set[Src]] = {}
        self.ordered: list[set[Src]] = []
        self.pure: dict[str, Src] = {}  # outputs that are a bare column of a relation
        self.paths: dict[str, Origin] = {}  # outputs that are a relation column or a field
        # of one (``info.a AS a``, ``unnest(arr) AS e``)
        self.types: dict[str, str | None] = {}  # CASTs and the like, seen through CTEs
        self.stars: list[Source | _Unknown] = []  # sources behind an unexpanded `*`
        self.udtf: set[Src] | None = None  # UNNEST/EXPLODE: every output comes from these
        # UNNEST of one relation column: (its origin, the names its elements go by)
        self.element: tuple[Origin, set[str]] | None = None


def rewrite_tables(query: exp.Expr, resolve: Callable[[str], str]) -> set[str]:
    """Replace every relation reference by one identifier holding its canonical name.

    sqlglot's MappingSchema needs every table at the same depth; a single identifier holding
    ``schema.table`` (or ``table``, or ``db.schema.table``) makes mixed depths meet. A table
    without an alias gets its written name as alias so ``orders.amount`` still resolves.
    Returns the canonical names read.
    """
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    names: set[str] = set()
    for table in list(query.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # table function, UNNEST, VALUES
        written = table_name(table)
        if "." not in written and written in ctes:
            continue
        name = resolve(written)
        names.add(name)
        if not table.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))
        table.set("catalog", None)
        table.set("db", None)
        table.set("this", exp.to_identifier(name, quoted=True))
    return names


def mapping_schema(schema: Schema, tables: set[str], dialect: str) -> MappingSchema:
    """A sqlglot schema holding the relations ``tables`` whose columns are known."""
    mapping: dict[str, object] = {
        name: {col: (typ or "UNKNOWN") for col, typ in schema[name].items() if col != GUESSED_NAMES}
        for name in tables
        if schema.get(name)
    }
    return MappingSchema(mapping, dialect=dialect, normalize=False)


def query_lineage(
    query: exp.Expr,
    schema: Schema,
    dialect: str,
    again: Callable[[], exp.Expr] | None = None,
) -> Lineage:
    """Lineage of a query whose tables were rewritten by :func:`rewrite_tables`.

    With ``again`` (a maker of the same query, unqualified), ``query`` itself is qualified
    in place and ``again`` is called only if a second attempt is needed; without it the
    query is copied first (a copy costs about what parsing does).
    """
    res = Lineage()
    first = query if again is not None else query.copy()
    selects, tables, ctes = _parts(first)
    res.star_tables = _star_relations(selects, ctes)
    mapping = mapping_schema(schema, tables, dialect)
    res.guessed_names = name_outputs(selects, dialect, _leftmost(first))
    renamed_stars = _aliased_stars(selects)
    try:
        scopes = _qualified_scopes(first, mapping, dialect, True, renamed_stars)
    except (OptimizeError, SqlglotError) as err:
        # sqlglot gives up on columns it cannot attribute (a source of unknown schema): keep
        # the tables qualified and attribute the columns ourselves; an analysis limit, not a
        # binding error.
        res.unresolved.add(f"({str(err).splitlines()[0]})")
        second = again() if again is not None else query.copy()
        repeated = list(second.find_all(exp.Select))
        name_outputs(repeated, dialect, _leftmost(second))
        renamed_stars = _aliased_stars(repeated)
        try:
            scopes = _qualified_scopes(second, mapping, dialect, False, renamed_stars)
        except (OptimizeError, SqlglotError) as again:
            res.errors.append(f"cannot qualify the query: {again}")
            return res
    walker = _Walker(res, schema, dialect)
    walker.walk(scopes)
    walker.res = Lineage()  # fingerprinting re-resolves columns: record nothing twice
    res.fingerprints = fingerprint(scopes, walker.find_source, dialect)
    return res


def _qualified_scopes(
    query: exp.Expr,
    mapping: MappingSchema,
    dialect: str,
    qualify_columns: bool,
    renamed_stars: list[tuple[exp.Select, int, int, exp.Identifier]],
) -> list[Scope]:
    # imported here: a warm run whose changed files are all cached never qualifies (and
    # sqlglot's qualify, qualify_columns, annotate_types, … are not imported by sqlglot)
    from sqlglot.optimizer.qualify import qualify

    qualified = qualify(
        query,
        schema=mapping,
        dialect=dialect,
        qualify_columns=qualify_columns,
        validate_qualify_columns=False,  # unknown tables and ambiguity are ours to report
        allow_partial_qualification=True,
        quote_identifiers=False,
        identify=False,
    )
    for select, index, after, alias in renamed_stars:
        _rename_expanded(select, index, after, alias)
    return traverse_scope(qualified)


def _aliased_stars(selects: list[exp.Select]) -> list[tuple[exp.Select, int, int, exp.Identifier]]:
    """DuckDB's ``SELECT * AS a`` names every column the `*` brings ``a``: left as a plain
    `*` for qualify to expand, each is renamed afterwards (see _rename_expanded)."""
    found = []
    for select in selects:
        for index, projection in enumerate(select.expressions):
            if isinstance(projection, exp.Alias) and _is_star(projection.this):
                after = len(select.expressions) - index - 1
                found.append((select, index, after, projection.args["alias"]))
                projection.replace(projection.this)
    return found


def _rename_expanded(select: exp.Select, index: int, after: int, alias: exp.Identifier) -> None:
    projections = select.expressions
    expanded = projections[index : len(projections) - after]
    if any(_is_star(p) for p in expanded):
        return  # not expanded (unknown columns): the names stay unknown
    for count, projection in enumerate(expanded):
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        name = alias.name if count == 0 else f"{alias.name}_{count}"
        projection.replace(exp.Alias(this=inner, alias=exp.to_identifier(name, quoted=True)))


def _parts(query: exp.Expr) -> tuple[list[exp.Select], set[str], set[str]]:
    """The SELECTs, relations read and CTE names of a query, in one pass over its tree."""
    selects: list[exp.Select] = []
    tables: set[str] = set()
    ctes: set[str] = set()
    for node in query.walk():
        if isinstance(node, exp.Select):
            selects.append(node)
        elif isinstance(node, exp.Table):
            if isinstance(node.this, exp.Identifier):
                tables.add(node.name)
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name)
    return selects, tables, ctes


def _leftmost(query: exp.Expr) -> exp.Expr:
    """The SELECT whose projections name a query's output columns."""
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this
    return query


def _star_relations(selects: list[exp.Select], ctes: set[str]) -> set[str]:
    """Relations read through ``*`` or ``t.*`` (before expansion): they depend on positions."""
    found: set[str] = set()
    for select in selects:
        stars = [sel for sel in select.selects if _is_star(sel)]
        if not stars:
            continue
        sources: dict[str, str] = {}
        for part in [select.args.get("from_"), *(select.args.get("joins") or [])]:
            table = part.this if part is not None else None
            if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
                continue
            if table.name not in ctes:
                sources[table.alias_or_name] = table.name
        for star in stars:
            qualifier = star.table if isinstance(star, exp.Column) else ""
            found |= {sources[qualifier]} if qualifier in sources else set(sources.values())
    return found


class _View(NamedTuple):
    """A scope's sources as its columns see them: a pivoted table or subquery is its
    PIVOT/UNPIVOT (by the pivot's alias too); ``inner`` maps each pivot node's id to it."""

    named: Mapping[str, Source]
    selected: list[Source]
    inner: dict[int, PivotSource]


class _Walker:
    """One bottom-up pass over the scopes of a qualified query."""

    def __init__(self, res: Lineage, schema: Schema, dialect: str) -> None:
        self.res = res
        self.schema = schema
        self.dialect = dialect
        self.outs: dict[int, _Outputs] = {}
        self.whole: set[Src] = set()  # relation columns read as a whole somewhere
        self.passing: set[int] = set()  # ids of UNNEST arguments (their elements are read)
        self._projecting: tuple[exp.Column, exp.Expr] | None = None  # (column, projection)
        self._projected: Origin | None = None  # what _record_use found it to be
        self.loose = dialect == "snowflake"  # field paths into VARIANT/OBJECT: not checked
        self._views: dict[int, _View] = {}

    def walk(self, scopes: list[Scope]) -> None:
        lazy = self.dialect in _LAZY_CTE_DIALECTS and scopes
        used = _used_scopes(scopes[-1]) if lazy else set()
        for scope in scopes:
            if lazy and id(scope) not in used:
                # the engine never binds a CTE nobody reads: neither do we
                real, self.res = self.res, Lineage()
                whole, self.whole = self.whole, set()
                self.outs[id(scope)] = self._scope_outputs(scope)
                self.res, self.whole = real, whole
                continue
            out = self._scope_outputs(scope)
            self.outs[id(scope)] = out
            if scope.is_root:
                self._finish_root(scope, out)
        reads = self.res.field_reads
        for src in self.whole & set(reads):
            del reads[src]  # read whole somewhere: every field matters

    def _finish_root(self, scope: Scope, out: _Outputs) -> None:
        self.res.columns = dict(out.named)
        self.res.pure = dict(out.pure)
        if out.stars:
            self.res.columns[STAR] = {(t, STAR) for t in self.res.star_unknown}
        self.res.output_types = {
            name: out.types.get(name) or output_type(sel, self.res, out, self.dialect)
            for name, sel in _named_selects(scope.expression)
        }

    def _scope_outputs(self, scope: Scope) -> _Outputs:
        node = scope.expression
        out = _Outputs()
        if scope.is_udtf:
            out.udtf = set()
            element = _unnested_column(node)
            if element is not None:
                self.passing.add(id(element))  # its elements are read, not the array
            for col in node.find_all(exp.Column):
                out.udtf |= self.resolve_column(col, scope)
            if element is not None:
                out.element = self._element(element, node, scope)
        elif isinstance(node, exp.SetOperation):
            self._set_operation(scope, node, out)
        elif isinstance(node, exp.Select):
            self._select(scope, node, out)
        for table in scope.tables:
            # a reference to a CTE or derived table is a scope, not a relation read
            if isinstance(table.this, exp.Identifier) and not isinstance(
                scope.sources.get(table.alias_or_name), Scope
            ):
                self.res.tables.add(table.name)
        return out

    def sources(self, scope: Scope) -> Mapping[str, Source]:
        """The scope's sources by name, pivots seen as what they make."""
        view = self._views.get(id(scope))
        return (view or self._view(scope)).named

    def selected(self, scope: Scope) -> list[Source]:
        """The sources an unqualified column or `*` may read."""
        view = self._views.get(id(scope))
        return (view or self._view(scope)).selected

    def _view(self, scope: Scope) -> _View:
        view = self._views.get(id(scope))
        if view is None:
            view = self._views[id(scope)] = self._make_view(scope)
        return view

    def _make_view(self, scope: Scope) -> _View:
        selected: list[Source] = [src for _, src in scope.selected_sources.values()]
        if scope.is_udtf and not selected:
            # `FROM t, UNNEST(arr)`: the function reads the items before it (a lateral join)
            selected = list(scope.sources.values())
        if not scope.pivots:
            return _View(scope.sources, selected, {})
        named: dict[str, Source] = dict(scope.sources)
        inner: dict[int, PivotSource] = {}
        last: dict[int, Source] = {}  # holder (table, subquery) id -> its last pivot
        for holder in dict.fromkeys(p.parent for p in scope.pivots if p.parent is not None):
            current: Source | None = scope.sources.get(holder.alias_or_name)
            if current is None:
                continue
            for pivot in holder.args.get("pivots") or []:
                made = PivotSource(pivot, current, self._columns_of(current))
                inner[id(pivot)] = made
                if pivot.alias:
                    named[pivot.alias] = made
                current = made
            last[id(holder)] = current
        picked: list[Source] = []
        for _alias, (node, src) in scope.selected_sources.items():
            item = last.get(id(node), src)
            if not any(item is seen for seen in picked):
                picked.append(item)
        return _View(named, picked, inner)

    def _columns_of(self, source: Source) -> list[str] | None:
        """A source's columns in order, when known."""
        if isinstance(source, PivotSource):
            return source.columns
        if isinstance(source, exp.Table):
            columns = (
                self.schema.get(source.name) if isinstance(source.this, exp.Identifier) else None
            )
            return [c for c in columns if c != GUESSED_NAMES] if columns else None
        out = self.outs.get(id(source))
        if out is None or out.stars or out.udtf is not None:
            return None
        return list(out.named)

    def _pivots(self, scope: Scope) -> None:
        """What each PIVOT/UNPIVOT of the scope reads: bound against its source, a clause of
        the query (it groups and spreads the rows); UNPIVOT stacks columns of one type."""
        for pivot in dict.fromkeys(self._view(scope).inner.values()):
            deps: set[Src] = set()
            for col in read_columns(pivot.node):
                deps |= self.resolve_column(col, scope)
            self.res.clauses.setdefault("pivot", set()).update(deps)
            self.res.referenced |= deps
            if pivot.node.args.get("unpivot") and self.dialect == "duckdb":
                types = [self._source_type(pivot.source, name) for name in pivot.reads]
                if not stackable(types):
                    listed = ", ".join(f"{n} ({t})" for n, t in zip(pivot.reads, types))
                    self.res.errors.append(f"UNPIVOT stacks columns that do not mix: {listed}")

    def _source_type(self, source: Source, name: str) -> str | None:
        """The type of a source's column at this revision, when known."""
        origin = self.origin(source, name)
        if origin is not None:
            (relation, column), path = origin
            verdict, found = field_type(self.schema.get(relation, {}).get(column), path)
            return found if verdict == "ok" else None
        if isinstance(source, Scope) and id(source) in self.outs:
            return self.outs[id(source)].types.get(name)
        return None

    def _set_operation(self, scope: Scope, node: exp.SetOperation, out: _Outputs) -> None:
        sides = [self.outs.get(id(s)) for s in scope.set_operation_scopes]
        widths = {len(side.ordered) for side in sides if side is not None and not side.stars}
        if len(widths) > 1:
            self.res.errors.append(
                f"set operation sides have {' and '.join(map(str, sorted(widths)))} columns"
            )
        for i, name in enumerate(node.named_selects):
            deps: set[Src] = set()
            for side in sides:
                if side and i < len(side.ordered):
                    deps |= side.ordered[i]
            out.ordered.append(deps)
            out.named[name] = deps
        for side in sides:
            if side:
                out.stars.extend(side.stars)

    def _select(self, scope: Scope, node: exp.Select, out: _Outputs) -> None:
        outer = _outer_joined(node)
        if self._view(scope).inner:
            self._pivots(scope)
        for sel in node.selects:
            if _is_star(sel):
                self._star(scope, sel, out)
                continue
            if _unknown_projection(sel):  # `select {{ dbt_utils.star(…) }}`: unknown columns
                out.stars.append(UNKNOWN_COLUMNS)
                out.ordered.append(set())
                self.res.star_unknown.add(sel.alias_or_name)
                continue
            if isinstance(sel, exp.Dot) and isinstance(sel.expression, exp.Star):
                self._struct_star(scope, sel.this, out)  # DuckDB's `s.*`
                continue
            name = sel.alias_or_name
            inner = sel.this if isinstance(sel, exp.Alias) else sel
            col = _column_under(inner)
            self._projecting = (col, inner) if col is not None else None
            self._projected = None
            deps = self.resolve_expr(sel, scope)
            self._projecting = None
            origin = self._projected  # a relation column (or a field of one) passed on
            if origin is not None:
                out.paths.setdefault(name, origin)
            out.named.setdefault(name, deps)
            out.ordered.append(deps)
            out.types.setdefault(name, self._scope_type(sel, scope, out))
            pure = origin[0] if origin is not None and not origin[1] else None
            if pure is not None:
                out.pure.setdefault(name, pure)
                inner = sel.this if isinstance(sel, exp.Alias) else sel
                if scope.is_root and isinstance(inner, exp.Column) and inner.table in outer:
                    self.res.outer_joined.add(name)
            self.res.referenced |= deps
        self._clauses(scope, node, out)

    def _star(self, scope: Scope, sel: exp.Expr, out: _Outputs) -> None:
        qualifier = sel.table if isinstance(sel, exp.Column) else ""
        named = self.sources(scope)
        if qualifier and qualifier not in named:  # `s.*` qualify did not turn into a Dot
            self._struct_star(scope, exp.column(qualifier), out)
            return
        sources = [named[qualifier]] if qualifier in named else self.selected(scope)
        out.stars.extend(sources)
        for src in sources:
            while isinstance(src, PivotSource):
                src = src.source
            if isinstance(src, exp.Table):
                self.res.star_unknown.add(src.name)  # qualify left it: columns unknown
                self.res.tables.add(src.name)
        out.ordered.append(set())

    def _struct_star(self, scope: Scope, struct: exp.Expr, out: _Outputs) -> None:
        """DuckDB's ``s.*``: one output per field of the struct column ``s``; a `*` of
        unknown columns when its type is not known."""
        deps = self.resolve_expr(struct, scope)
        col = _column_under(struct)
        found = self.find_source(col, scope) if col is not None else None
        origin = self.origin(*found) if found is not None else None
        fields = None
        if origin is not None and col is not None:
            (relation, name), prefix = origin
            path = (*prefix, *_field_steps(col)[0])
            verdict, type_sql = field_type(self.schema.get(relation, {}).get(name), path)
            fields = struct_fields(type_sql) if verdict == "ok" else None
        if found is None or origin is None or not fields:
            if found is not None:  # its columns are not known: like a `*` over its relation
                out.stars.append(found[0])
                self.res.star_unknown.add(origin[0][0] if origin else "")
            out.ordered.append(set())
            return
        self.whole.add(origin[0])
        for field, field_sql in fields.items():
            out.named.setdefault(field, deps)
            out.ordered.append(deps)
            out.paths.setdefault(field, (origin[0], (*path, field)))
            out.types.setdefault(field, field_sql)
        self.res.referenced |= deps

    def _clauses(self, scope: Scope, node: exp.Select, out: _Outputs) -> None:
        for key in _CLAUSES:
            arg = node.args.get(key)
            parts = arg if isinstance(arg, list) else [arg] if arg else []
            for part in parts:
                deps: set[Src] = set()
                for col in find_all_in_scope(part, exp.Column):
                    if not col.table and col.name in out.named:  # ORDER BY / QUALIFY alias
                        deps |= out.named[col.name]
                    else:
                        deps |= self.resolve_column(col, scope)
                deps |= self._subquery_deps(part, scope)
                if key == "joins" and part.args.get("using"):
                    deps |= self._using(scope, node, part)
                self.res.clauses.setdefault(key, set()).update(deps)
                self.res.referenced |= deps

    def _using(self, scope: Scope, node: exp.Select, join: exp.Join) -> set[Src]:
        """``JOIN r USING (c)`` (left as written when qualify could not expand it): ``c``
        must be a column of ``r`` and of a relation joined before it."""
        named = self.sources(scope)
        right = named.get(join.this.alias_or_name)
        from_ = node.args.get("from_")
        parts = [from_.this] if isinstance(from_, exp.From) else []
        for earlier in node.args.get("joins") or []:
            if earlier is join:
                break
            parts.append(earlier.this)
        left = [named[p.alias_or_name] for p in parts if p.alias_or_name in named]
        deps: set[Src] = set()
        for ident in join.args["using"]:
            name = ident.name
            if right is not None:
                if self.has_column(right, name) is False:
                    self._missing(right, name)
                deps |= self.lookup(right, name)
            having = [src for src in left if self.has_column(src, name) is not False]
            if left and not having:
                self._missing(left[0], name)
            for src in having:
                deps |= self.lookup(src, name)
        return deps

    def resolve_expr(self, node: exp.Expr, scope: Scope) -> set[Src]:
        deps: set[Src] = set()
        for col in find_all_in_scope(node, exp.Column):
            deps |= self.resolve_column(col, scope)
        return deps | self._subquery_deps(node, scope)

    def _subquery_deps(self, node: exp.Expr, scope: Scope) -> set[Src]:
        deps: set[Src] = set()
        by_expression = {id(s.expression): s for s in scope.subquery_scopes}
        for query in find_all_in_scope(node, exp.Select, exp.SetOperation):
            sub = by_expression.get(id(query))
            if sub is not None and id(sub) in self.outs:
                for values in self.outs[id(sub)].ordered:
                    deps |= values
        return deps

    # -- resolving one column reference ------------------------------------------------

    def resolve_column(self, col: exp.Column, scope: Scope) -> set[Src]:
        if not col.name or isinstance(col.this, exp.Star) or is_placeholder(col):
            return set()
        ref: exp.Column = col
        lead: tuple[str, ...] = ()
        if col.args.get("db") is not None and self._names_column(col, scope):
            # `t.column.field` qualify left alone (unknown columns), DuckDB's
            # `schema.table.column.field`: the part before the column names the relation
            ref, lead = exp.column(col.table, table=col.db), (col.name,)
        found = self.find_source(ref, scope)
        if found is None:
            return set()
        source, name = found
        origin = self.origin(source, name)
        if origin is not None:
            self._record_use(col, (origin[0], (*origin[1], *lead)), scope)
        return self.lookup(source, name)

    def _names_column(self, col: exp.Column, scope: Scope) -> bool:
        """``t.c.f`` (or ``schema.t.c.f``): the part before the column names a relation,
        the column part names no source."""
        named = self.sources(scope)
        return col.db in named and col.table not in named

    def origin(self, source: Source, name: str) -> Origin | None:
        """The relation column (and field path into it) a source's column stands for."""
        if isinstance(source, exp.Table):
            return ((source.name, name), ()) if isinstance(source.this, exp.Identifier) else None
        if isinstance(source, PivotSource):
            kept = source.kept_name(name)
            return self.origin(source.source, kept) if kept is not None else None
        out = self.outs.get(id(source))
        if out is None:
            return None
        if name in out.paths:
            return out.paths[name]
        if out.element is not None:
            (src, prefix), names = out.element
            return (src, prefix) if name in names else (src, (*prefix, name))
        return None

    def _record_use(self, col: exp.Column, origin: Origin, scope: Scope) -> None:
        """A relation column read: a field of it (bound against its type at head), its
        elements, or the whole value (type uses, comparisons)."""
        src, prefix = origin
        steps, top, loose = _field_steps(col)
        path = (*prefix, *steps)
        named = [step for step in path if step != ELEMENT]
        projecting = self._projecting
        if projecting is not None and projecting[0] is col and top is projecting[1]:
            # the projection is this column (or a field of it): a CTE/subquery passes it
            # on, and what reads that output decides how it is read
            self._projected = (src, path)
            passing = not scope.is_root
        else:
            passing = id(col) in self.passing
        if named:
            need = type_need(top)
            self.res.field_uses.append(
                FieldUse(
                    src,
                    path,
                    top.sql(dialect=self.dialect),
                    need[1] if need else None,
                    loose or self.loose,
                )
            )
            self.res.field_reads.setdefault(src, set()).add(".".join(named))
            return
        if passing:
            return  # a CTE column or UNNEST argument: its reader decides how it is read
        self.whole.add(src)
        if not path:
            self._record_type_use(col, src, scope)

    def _element(
        self, col: exp.Column, node: exp.Expr, scope: Scope
    ) -> tuple[Origin, set[str]] | None:
        """What the rows of ``UNNEST(col) AS alias`` are: the elements of a relation column,
        named by the alias (or its one column alias)."""
        found = self.find_source(col, scope) if col.table else None
        origin = self.origin(*found) if found is not None else None
        if origin is None:
            return None
        alias = node.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            names = {c.name for c in alias.columns} or {alias.name}
        else:
            names = {"unnest"}
        return (origin[0], (*origin[1], ELEMENT)), names

    def find_source(self, col: exp.Column, scope: Scope) -> tuple[Source, str] | None:
        """The relation or scope a column reference reads, walking out for correlation."""
        qualifier, name = col.table, col.name
        if name.startswith(PLACEHOLDER_PREFIX):
            self.res.unresolved.add(name)
            return None  # unexpanded Jinja: nothing is known of what it reads
        if self._date_part_keyword(col, scope):
            return None
        view = self._views.get(id(scope)) or self._view(scope)
        inside = view.inner
        if inside:  # a column a PIVOT/UNPIVOT reads: from the source it pivots
            holder = col.find_ancestor(exp.Pivot)
            pivot = inside.get(id(holder)) if holder is not None else None
            if pivot is not None:
                if self.has_column(pivot.source, name) is False:
                    self._missing(pivot.source, name)
                return pivot.source, name
        first_lacking: Source | None = None
        current: Scope | None = scope
        while current is not None:
            if qualifier:
                named = view.named if current is scope else self.sources(current)
                if qualifier in named:
                    source = named[qualifier]
                    if self.has_column(source, name) is False:
                        self._missing(source, name)
                    return source, name
            else:
                picked = self._pick_unqualified(current, name, col)
                if picked is not None:
                    return picked, name
                sources = self.selected(current)
                if (
                    first_lacking is None
                    and sources
                    and all(self.has_column(src, name) is False for src in sources)
                ):
                    first_lacking = sources[0]
                elif not all(self.has_column(src, name) is False for src in sources):
                    break  # ambiguous or unknown: stop here, reported by _pick_unqualified
            # only a subquery in an expression may read its outer query (correlation);
            # a CTE or a derived table may not
            current = current.parent if current.is_subquery else None
        if first_lacking is not None:
            self._missing(first_lacking, name)
            return first_lacking, name  # keep the lineage a missing column would have had
        if qualifier:
            self._unknown_qualifier(qualifier, name, scope)
        elif not any(self.selected(s) for s in _correlation_chain(scope)):
            if name.lower() not in _BARE_FUNCTIONS:  # `SELECT a` with no FROM anywhere
                self.res.errors.append(f"reads {name}, but the query has no FROM clause")
        else:
            self.res.unresolved.add(name)
        return None

    def _date_part_keyword(self, col: exp.Column, scope: Scope) -> bool:
        """``dateadd(month, 1, d)``, ``datediff(day, a, b)``: Snowflake, Redshift, SQL Server
        and BigQuery take a bare date part as a keyword argument, which another dialect's
        parser reads as a column. A function argument named like a date part that no
        source in reach has (nor may have: unknown columns) is that keyword, not a read."""
        parent = col.parent
        if col.name.lower() not in _DATE_PARTS or not isinstance(parent, exp.Func):
            return False
        function = parent.name if isinstance(parent, exp.Anonymous) else parent.key
        if function.lower().replace("_", "") not in _DATE_FUNCTIONS:
            return False
        return all(
            self.has_column(src, col.name) is False
            for current in _correlation_chain(scope)
            for src in self.selected(current)
        )

    def _unknown_qualifier(self, qualifier: str, name: str, scope: Scope) -> None:
        """``x.a`` where no relation in reach is called ``x``: the engine refuses it, unless
        ``x`` may be a struct column of a relation whose columns are unknown (then the
        reference is only unattributed) or names a source of an enclosing query."""
        current: Scope | None = scope
        while current is not None:
            if qualifier in self.sources(current) or any(
                self.has_column(src, qualifier) is not False for src in self.selected(current)
            ):
                self.res.unresolved.add(f"{qualifier}.{name}")
                return
            current = current.parent
        self.res.errors.append(f"reads {qualifier}.{name}, but no relation {qualifier} is in scope")

    def _pick_unqualified(self, scope: Scope, name: str, col: exp.Column) -> Source | None:
        sources = self.selected(scope)
        having = [src for src in sources if self.has_column(src, name) is True]
        if len(having) == 1:
            return having[0]
        if len(having) > 1:
            self.res.errors.append(f"column reference {name!r} is ambiguous")
            return None
        unknown = [src for src in sources if self.has_column(src, name) is None]
        if len(unknown) == 1:
            return unknown[0]
        if len(unknown) > 1:
            listed = " or ".join(sorted(_source_label(src) for src in unknown))
            self.res.unresolved.add(f"{name} (in {listed}, whose columns are unknown)")
        return None

    def _missing(self, source: Source, name: str) -> None:
        if isinstance(source, PivotSource) and name not in source.generated:
            # a column it would have passed on: the source lacks it
            self._missing(source.source, source.kept_name(name) or name)
            return
        relation = source.name if isinstance(source, exp.Table) else ""
        self.res.missing.add((relation, name))

    def lookup(self, source: Source | _Unknown, name: str) -> set[Src]:
        if isinstance(source, _Unknown):
            return set()
        if isinstance(source, exp.Table):
            return {(source.name, name)} if isinstance(source.this, exp.Identifier) else set()
        if isinstance(source, PivotSource):
            kept = source.kept_name(name)
            if kept is not None:
                return self.lookup(source.source, kept)
            return set().union(*(self.lookup(source.source, read) for read in source.reads))
        out = self.outs.get(id(source))
        if out is None:
            return set()
        if name in out.named:
            return out.named[name]
        if out.udtf is not None:
            return out.udtf
        found: set[Src] = set()
        for star_source in out.stars:  # unexpanded `*`: assume the name passes through
            found |= self.lookup(star_source, name)
        return found

    def has_column(self, source: Source, name: str) -> bool | None:
        """True/False when the source's columns are known, None when they are not."""
        if isinstance(source, exp.Table):
            if not isinstance(source.this, exp.Identifier):
                return None
            columns = self.schema.get(source.name)
            if not columns:
                return None
            if name in columns:
                return True
            return None if GUESSED_NAMES in columns else False
        if isinstance(source, PivotSource):
            return source.has(name)
        out = self.outs.get(id(source))
        if out is None:
            return None
        if name in out.named:
            return True
        return None if (out.stars or out.udtf is not None) else False

    def _scope_type(self, sel: exp.Expr, scope: Scope, out: _Outputs) -> str | None:
        """The type of a projection, or of the CTE/subquery column it passes through."""
        inner = sel.this if isinstance(sel, exp.Alias) else sel
        origin = out.paths.get(sel.alias_or_name)
        if origin is not None and origin[1]:  # a field: its type in the relation's struct
            (relation, column), path = origin
            verdict, found = field_type(self.schema.get(relation, {}).get(column), path)
            return found if verdict == "ok" else None
        if isinstance(inner, exp.Column) and not isinstance(inner.this, exp.Star):
            source = self.sources(scope).get(inner.table) if inner.table else None
            if isinstance(source, Scope) and id(source) in self.outs:
                return self.outs[id(source)].types.get(inner.name)
            return None
        if isinstance(inner, exp.Struct):
            return self._struct_type(inner, scope)
        kept = _type_kept(inner)
        if kept is not inner or isinstance(kept, exp.Subquery):  # MAX(c), (SELECT …)
            return self._kept_type(kept, scope)
        return output_type(sel, self.res, out, self.dialect)

    def _kept_type(self, node: exp.Expr, scope: Scope) -> str | None:
        """The type of a column or of a scalar subquery's one output, when known."""
        if isinstance(node, exp.Subquery):
            query = node.unnest()
            sub = next((s for s in scope.subquery_scopes if s.expression is query), None)
            selects = query.selects if isinstance(query, exp.Select) else []
            if sub is None or id(sub) not in self.outs or len(selects) != 1:
                return None
            return self.outs[id(sub)].types.get(selects[0].alias_or_name)
        if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
            return None
        source = self.sources(scope).get(node.table) if node.table else None
        if source is None:
            return None
        if isinstance(source, Scope) and id(source) in self.outs:
            typed = self.outs[id(source)].types.get(node.name)
            if typed:
                return typed
        origin = self.origin(source, node.name)
        if origin is None:
            return None
        (relation, column), path = origin
        verdict, found = field_type(self.schema.get(relation, {}).get(column), path)
        return found if verdict == "ok" else None

    def _struct_type(self, node: exp.Struct, scope: Scope) -> str | None:
        """``{'a': x, 'b': 1}``, ``struct_pack(a := x)``, ``STRUCT(x AS a)``: its fields
        (readers of ``s.a`` bind against them), with the types that are known."""
        fields: list[tuple[str, str | None]] = []
        for item in node.expressions:
            if isinstance(item, exp.PropertyEQ):
                name, value = item.this.name, item.expression
            elif isinstance(item, exp.Alias):
                name, value = item.alias, item.this
            else:
                return None  # an unnamed field: the engine names it
            fields.append((name, self._value_type(value, scope)))
        return struct_type(fields) if fields else None

    def _value_type(self, value: exp.Expr, scope: Scope) -> str | None:
        if isinstance(value, exp.Struct):
            return self._struct_type(value, scope)
        named = self.sources(scope)
        if isinstance(value, exp.Column) and value.table in named:
            origin = self.origin(named[value.table], value.name)
            if origin is not None and not origin[1]:
                return self.schema.get(origin[0][0], {}).get(origin[0][1])
            return None
        return output_type(value, self.res, _Outputs())

    # -- type uses ----------------------------------------------------------------------

    def _record_type_use(self, col: exp.Column, src: Src, scope: Scope) -> None:
        self._record_comparison(col, src, scope)
        if isinstance(col.parent, (exp.Min, exp.Max)):
            use = TypeUse(src, col.parent.key, "orderable", col.parent.sql())
            self.res.type_uses.append(use)
        need = type_need(col)
        if need is not None:
            operation, family = need
            context = col.parent if col.parent is not None else col
            self.res.type_uses.append(TypeUse(src, operation, family, context.sql()))

    def _record_comparison(self, col: exp.Column, src: Src, scope: Scope) -> None:
        """Remember ``col <op> other_column``; recorded once, from the left operand."""
        node, parent = _operation_parent(col)
        if not isinstance(parent, (*_ORDERED, *_EQUALITY)) or parent.this is not node:
            return
        other = parent.expression
        while isinstance(other, _TYPE_KEEPING):
            other = other.this
        if not isinstance(other, exp.Column):
            return
        found = self.find_source(other, scope)
        if found is None:
            return
        source, name = found
        if isinstance(source, exp.Table):
            right: Src | None = (source.name, name)
        else:
            out = self.outs.get(id(source))
            right = out.pure.get(name) if out is not None else None
        if right is not None:
            self.res.comparisons.append(
                Comparison(src, right, isinstance(parent, _ORDERED), parent.sql())
            )


def _operation_parent(col: exp.Expr) -> tuple[exp.Expr, exp.Expr | None]:
    """The operation a column feeds (and its operand holding the column), looking through
    parentheses and functions that keep the type (MIN, MAX, COALESCE's first argument)."""
    node: exp.Expr = col
    parent = col.parent
    while parent is not None and (
        isinstance(parent, _TYPE_KEEPING)
        or (isinstance(parent, (exp.Coalesce, exp.Nullif)) and parent.this is node)
    ):
        node, parent = parent, parent.parent
    return node, parent


# Names that parse as columns but are values in some engines (SQL's niladic functions).
_BARE_FUNCTIONS = {
    "current_user",
    "session_user",
    "user",
    "current_role",
    "current_schema",
    "current_catalog",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "sysdate",
    "systimestamp",
}


# Date parts the dialects that take them bare accept (Snowflake, Redshift, SQL Server,
# BigQuery), with their common abbreviations.
_DATE_PARTS = frozenset(
    [
        "year",
        "years",
        "yy",
        "yyyy",
        "yr",
        "quarter",
        "quarters",
        "qtr",
        "qq",
        "month",
        "months",
        "mon",
        "mm",
        "week",
        "weeks",
        "wk",
        "ww",
        "isoweek",
        "weekday",
        "dayofweek",
        "dow",
        "dayofyear",
        "doy",
        "day",
        "days",
        "dd",
        "hour",
        "hours",
        "hh",
        "minute",
        "minutes",
        "mi",
        "second",
        "seconds",
        "ss",
        "millisecond",
        "milliseconds",
        "ms",
        "microsecond",
        "microseconds",
        "us",
        "nanosecond",
        "nanoseconds",
        "ns",
        "epoch",
        "isoyear",
    ]
)

# Functions taking such a date part (sqlglot's node key, or the name it left unparsed,
# without underscores)
_DATE_FUNCTIONS = frozenset(
    [
        "dateadd",
        "datesub",
        "datediff",
        "timestampadd",
        "timestampsub",
        "timestampdiff",
        "datetimeadd",
        "datetimesub",
        "datetimediff",
        "datetimetrunc",
        "timestamptrunc",
        "datetrunc",
        "timetrunc",
        "datepart",
        "lastday",
        "timeslice",
        "extract",
        "timeadd",
        "timesub",
        "timediff",
    ]
)


def _correlation_chain(scope: Scope) -> list[Scope]:
    """The scope and the queries it may read by correlation (a subquery's outer queries)."""
    chain = [scope]
    while chain[-1].is_subquery and chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


def _source_label(source: Source) -> str:
    """How a message names a source: its relation, else the CTE or subquery's alias."""
    while isinstance(source, PivotSource):
        source = source.source
    if isinstance(source, exp.Table):
        return source.name
    return source.expression.alias_or_name or "a subquery"


def _outer_joined(node: exp.Select) -> set[str]:
    """Aliases of the sources an outer join may fill with NULLs."""
    seen = []
    from_ = node.args.get("from_")
    if isinstance(from_, exp.From):
        seen.append(from_.this.alias_or_name)
    nullable: set[str] = set()
    for join in node.args.get("joins") or []:
        alias = join.this.alias_or_name
        side = (join.side or "").upper()
        if side in ("LEFT", "FULL"):
            nullable.add(alias)
        if side in ("RIGHT", "FULL"):
            nullable.update(seen)
        seen.append(alias)
    return nullable


# The type each engine gives a bare integer literal (checked by execution where one runs):
# DuckDB and PostgreSQL an INTEGER up to 2^31-1, then BIGINT; BigQuery INT64 always.
_INT_LITERAL_DIALECTS = {"duckdb", "postgres", "redshift", "trino", "presto", "athena", "spark"}


def number_literal_type(text: str, dialect: str) -> str | None:
    """The type of a number literal: an integer is an integer (``select 1 as id`` meets an
    ``int`` contract), a literal with a point or exponent a decimal (BigQuery: FLOAT64)."""
    name = dialect.split(",", 1)[0].strip().lower()
    if re.fullmatch(r"\d+", text):
        if name == "bigquery":
            return "BIGINT"
        if name in _INT_LITERAL_DIALECTS or name in ("databricks", ""):
            return "INT" if int(text) <= 2**31 - 1 else "BIGINT"
        return None  # Snowflake: NUMBER(38, 0) whatever the spelling; not compared
    if name == "bigquery":
        return "DOUBLE"
    return "DECIMAL"


_LAZY_CTE_DIALECTS = {"duckdb"}  # PostgreSQL analyses unused CTEs too (checked by execution)


def _used_scopes(root: Scope) -> set[int]:
    """Scopes the root query actually reads (unused CTEs left out)."""
    used: set[int] = set()
    stack = [root]
    while stack:
        scope = stack.pop()
        if id(scope) in used:
            continue
        used.add(id(scope))
        stack += [s for _, s in scope.selected_sources.values() if isinstance(s, Scope)]
        stack += scope.subquery_scopes + scope.set_operation_scopes + scope.udtf_scopes
        stack += scope.derived_table_scopes
    return used


_FIELD_ACCESS = (exp.Dot, exp.Bracket, exp.StructExtract, exp.JSONExtract)
_STEP_PARENTS = (*_FIELD_ACCESS, exp.Paren, exp.Unnest, exp.Explode)


def _field_steps(col: exp.Expr) -> tuple[tuple[str, ...], exp.Expr, bool]:
    """The field path the nodes around ``col`` read from it, the outermost of those nodes,
    and whether the path is semi-structured (a JSON path: nothing to bind it against).

    ``info.a``, ``(info).a`` (PostgreSQL), ``info['a']``, ``struct_extract(info, 'a')``,
    ``arr[1].x`` (``[]`` for the element step), Snowflake ``v:a.b``.
    """
    if not isinstance(col.parent, _STEP_PARENTS):
        return (), col, False  # most columns: read whole
    steps: list[str] = []
    node, loose = col, False
    while True:
        parent = node.parent
        if isinstance(parent, exp.Paren) and parent.this is node:
            outer = parent.parent
            if isinstance(outer, _FIELD_ACCESS) and outer.this is parent:
                node = parent
                continue
            break
        if isinstance(parent, (exp.Unnest, exp.Explode)) and _unnested_column(parent) is col:
            steps.append(ELEMENT)  # `unnest(arr).x`: a field of each element
            node = parent
            continue
        if not isinstance(parent, _FIELD_ACCESS) or parent.this is not node:
            break
        if isinstance(parent, exp.Dot) and isinstance(parent.expression, exp.Star):
            break  # DuckDB's `s.*`: every field (see _Walker._struct_star)
        if isinstance(parent, exp.Dot):
            steps.append(parent.name)
        elif isinstance(parent, exp.StructExtract):
            key = parent.expression
            if not (isinstance(key, exp.Literal) and key.is_string):
                break
            steps.append(key.name)
        elif isinstance(parent, exp.Bracket):
            if len(parent.expressions) != 1 or isinstance(parent.expressions[0], exp.Slice):
                break
            key = parent.expressions[0]
            steps.append(key.name if isinstance(key, exp.Literal) and key.is_string else ELEMENT)
        else:
            path = parent.expression
            if not isinstance(path, exp.JSONPath):
                break
            keys = [
                k.name if isinstance(k, exp.JSONPathKey) else ELEMENT
                for k in path.expressions
                if isinstance(k, (exp.JSONPathKey, exp.JSONPathSubscript))
            ]
            if not keys:
                break
            steps += keys
            loose = True
        node = parent
    return tuple(steps), node, loose


def _type_kept(node: exp.Expr) -> exp.Expr:
    """What a projection's type is the type of: through parentheses, MIN/MAX/ANY_VALUE/
    FIRST/LAST (also as windows) and a scalar subquery's wrapping."""
    while (isinstance(node, exp.Window) and isinstance(node.this, _TYPE_KEEPING)) or (
        isinstance(node, _TYPE_KEEPING) and node.this is not None
    ):
        node = node.this
    return node


def _column_under(node: exp.Expr) -> exp.Column | None:
    """The column a chain of field accesses starts from (``info`` in ``(info).a.b``)."""
    while isinstance(node, (*_FIELD_ACCESS, exp.Paren)):
        node = node.this
    if isinstance(node, (exp.Unnest, exp.Explode)):
        return _unnested_column(node)
    return node if isinstance(node, exp.Column) else None


def _unnested_column(node: exp.Expr) -> exp.Column | None:
    """The one column an UNNEST/EXPLODE (or a LATERAL VIEW of one) spreads into rows."""
    if isinstance(node, exp.Lateral):
        node = node.this
    if isinstance(node, exp.Unnest):
        args = node.expressions
    elif isinstance(node, exp.Explode):
        args = [node.this]
    else:
        return None
    return args[0] if len(args) == 1 and isinstance(args[0], exp.Column) else None


def _is_star(sel: exp.Expr) -> bool:
    return isinstance(sel, exp.Star) or (
        isinstance(sel, exp.Column) and isinstance(sel.this, exp.Star)
    )


def _named_selects(node: exp.Expr) -> list[tuple[str, exp.Expr]]:
    if isinstance(node, exp.SetOperation):
        left = node.left
        while isinstance(left, exp.SetOperation):
            left = left.left
        node = left
    if isinstance(node, exp.Subquery):
        node = node.unnest()
    if not isinstance(node, exp.Select):
        return []
    return [
        (sel.alias_or_name, sel)
        for sel in node.selects
        if not _is_star(sel) and not _unknown_projection(sel)
    ]


def type_need(col: exp.Expr) -> tuple[str, str] | None:
    """The operation a column is used in and the type family it needs, if any.

    Only operations that fail to bind on a wrong family in the engines we check by execution
    (DuckDB, PostgreSQL) are listed; equality with a number literal fails in PostgreSQL but
    not in DuckDB, so it is reported as its own need (``number_equality``).
    """
    mixed = _mixed_with_literal(col)
    if mixed is not None:
        return mixed
    node, parent = _operation_parent(col)
    if isinstance(parent, (exp.Neg, _ARITHMETIC)):
        return "arithmetic", "numeric"
    if isinstance(parent, _ADDITIVE):
        other = parent.expression if parent.this is node else parent.this
        while isinstance(other, exp.Paren):
            other = other.this
        if isinstance(other, exp.Interval):  # `ts + interval '1' day`: a date or timestamp
            return "interval arithmetic", "temporal"
        return "arithmetic", "numeric_or_date"
    if isinstance(parent, _NUMERIC_FUNCS):
        return parent.key, "numeric"
    if isinstance(parent, _TEXT_FUNCS) and parent.this is node:
        return parent.key, "text"
    if isinstance(parent, _TEMPORAL_FUNCS):
        return parent.key, "temporal"
    if isinstance(parent, (*_ORDERED, *_EQUALITY, exp.Between)):
        return _comparison_need(parent, node)
    return None


def _mixed_with_literal(col: exp.Expr) -> tuple[str, str] | None:
    """COALESCE/GREATEST/LEAST of the column with a number literal: both engines want the
    column numeric (``coalesce(text_col, 0)`` does not bind)."""
    parent = col.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if not isinstance(parent, (exp.Coalesce, exp.Greatest, exp.Least)):
        return None
    args = [parent.this, *parent.expressions]
    if any(isinstance(a, exp.Literal) and not a.is_string for a in args):
        return parent.key, "numeric"
    return None


def _comparison_need(parent: exp.Expr, node: exp.Expr) -> tuple[str, str] | None:
    others = [v for k, v in parent.args.items() if isinstance(v, exp.Expr) and v is not node]
    for other in others:
        if isinstance(other, exp.Literal) and not other.is_string:
            strict = isinstance(parent, _EQUALITY)
            return "comparison", "number_equality" if strict else "numeric"
        if isinstance(other, exp.Cast) and isinstance(other.this, exp.Literal):
            family = _literal_family(other.to)
            if family:
                return "comparison", family
    return None


def _literal_family(dtype: exp.DataType) -> str | None:
    from impact_check.sql.types import family

    fam = family(dtype.sql())
    return {"date": "temporal", "timestamp": "temporal", "numeric": "numeric"}.get(fam)


def output_type(sel: exp.Expr, res: Lineage, out: _Outputs, dialect: str = "") -> str | None:
    """A best-effort type of an output column: known for pass-through, CAST, literals, COUNT."""
    inner = sel.this if isinstance(sel, exp.Alias) else sel
    if isinstance(inner, exp.Cast):
        return inner.to.sql()
    if isinstance(inner, exp.Count):
        return "BIGINT"
    if isinstance(inner, exp.Literal):
        return "TEXT" if inner.is_string else number_literal_type(inner.this, dialect)
    if isinstance(inner, (exp.Avg, *_ARITHMETIC)):
        return "DOUBLE"
    return None  # pass-through types are filled in by the loader from the source's types
