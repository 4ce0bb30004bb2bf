"""SQL carried by consumers, bound like a view (no I/O).

A lineage source may hand back a consumer's own query (``FragmentNode.sql``: an OpenLineage
``sql`` facet, a Feast query source, a Great Expectations query asset, a DVC ``import-db``
query, Airflow rendered SQL, …). Knowing only which tables such a consumer reads would make
it "possibly affected" by any change to them; its query says exactly what it needs. So the
query is treated as a view the repository does not define:

- parsed once (in the node's ``sql_dialect``, else the check's dialect), then, for base and
  for head, its relations are resolved onto the catalog's names, ``*`` is expanded and every
  reference is bound (sql/lineage.py), as for a view the repository defines;
- it **breaks** at a revision for the reasons a view would (bind.lineage_breaks: a relation
  or column that is gone, a type an operation refuses, a broken view it reads), and when a
  column it declares (the node's ``columns`` in the fragment) no longer comes out of it;
- its output columns are ``<node>#<column>`` nodes with projection edges from what they are
  computed from, so a consumer reading one of them (a Feast feature reading its source
  query's column) breaks when that column no longer comes out (external.py sees the query
  as a relation of both catalogs), and a typed consumer's declaration is compared with the
  output's type (ml.py);
- the table-level ``exposure`` edges a source gave the node (it reads some table) are
  dropped where the query says exactly which columns it reads.

The queries become datasets of *copies* of the two catalogs (``Carried.base``/``.head``):
the diff never sees them, so a consumer's query is never itself a change. A query that
cannot be parsed gives an AN901 finding naming the consumer (and its file and line, when
the source knows them); the consumer then keeps what its source said about it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError

from impact_check.bind import Break, lineage_breaks
from impact_check.graph import REPO_ORIGINS, LineageGraph, add_lineage
from impact_check.model import Catalog, Column, Dataset, Finding, Lineage, Location, column_id
from impact_check.rules import RULES
from impact_check.sql.lineage import Schema, query_lineage, rewrite_tables
from impact_check.sql.names import NameResolver, normalize, table_name
from impact_check.sql.parse import check_dialect, parse_file
from impact_check.sql.tree_digest import tree_digest

if TYPE_CHECKING:
    from impact_check.impact import Bindings

SQL_ATTR = "sql"  # graph node attributes set by graph.merge_fragment from FragmentNode
DIALECT_ATTR = "sql_dialect"
DECLARED_ATTR = "declared_columns"
ORIGIN = "carried"  # Dataset.origin of a consumer's query in the catalog copies


@dataclass(frozen=True)
class QuerySettings:
    """How consumers' queries are read: the check's dialect (a node may name its own), the
    schema and database unqualified names default to, and the parser's nesting limit (the
    configuration's ``dialect``, ``default_schema``, ``default_database`` and
    ``limits.max_nesting_depth``)."""

    dialect: str
    default_schema: str | None
    default_database: str | None
    max_depth: int


@dataclass
class CarriedQuery:
    """One consumer's query, parsed once: the query-bearing statements and INSERT targets."""

    node: str
    kind: str
    dialect: str
    queries: list[exp.Expr]
    targets: list[tuple[str, list[str]]]  # INSERT INTO target (columns): written names
    declared: list[str]
    location: Location | None


@dataclass
class Carried:
    """Catalog copies that also hold the consumers' queries, and their break reasons."""

    base: Catalog
    head: Catalog
    base_breaks: dict[str, list[Break]] = field(default_factory=dict)
    head_breaks: dict[str, list[Break]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    bound: list[str] = field(default_factory=list)  # node ids whose query was bound


def bind_carried(
    graph: LineageGraph,
    base: Catalog,
    head: Catalog,
    settings: QuerySettings,
    bindings: Bindings,
    relevant: set[str] | None = None,
) -> Carried:
    """Bind every consumer query in ``graph`` at base and head (see the module docstring).

    ``bindings`` holds the repository's own break reasons (a query reading a view that no
    longer builds breaks too). Adds the queries' lineage to ``graph``. With ``relevant``
    (the relations the diff changes and everything downstream of them), a query reading
    none of them is not bound: it binds at head as it did at base, so nothing about it
    changes (binding costs about 10 ms a query and revision).
    """
    out = Carried(base, head)
    parsed = [q for q in (_parse(node, graph, settings, out) for node in _carriers(graph)) if q]
    known = set(base.datasets) | set(head.datasets)
    resolver = NameResolver(known, settings.default_schema, settings.default_database)
    if relevant is not None:
        parsed = [q for q in parsed if _reads(q, resolver) & relevant]
    if not parsed:
        return out
    extra_base: dict[str, Dataset] = {}
    extra_head: dict[str, Dataset] = {}
    revisions = (
        (base, _schema(base), set[str](), extra_base, out.base_breaks, bindings.base),
        (head, _schema(head), set(base.datasets), extra_head, out.head_breaks, bindings.head),
    )
    for query in parsed:
        for catalog, schema, elsewhere, extra, breaks, own in revisions:
            dataset = _bound(query, catalog, schema, resolver)
            extra[query.node] = dataset
            assert dataset.lineage is not None
            dropped = (elsewhere | set(catalog.dropped)) - set(catalog.datasets)
            reasons = lineage_breaks(
                dataset.lineage, catalog, dropped, query.dialect, query.node, own
            )
            reasons += _declared_breaks(query, dataset, extra_base.get(query.node))
            if reasons:
                breaks[query.node] = reasons
            add_lineage(graph, query.node, dataset.lineage)
            for name, col in dataset.columns.items():
                node = column_id(query.node, name)
                graph.add_node(node, kind="column", dataset=query.node, type=col.type)
                graph.add_edge(query.node, node, "has")
        _drop_exposures(graph, query.node, extra_base[query.node], extra_head[query.node], head)
        out.bound.append(query.node)
    out.base = dataclasses.replace(base, datasets={**base.datasets, **extra_base})
    out.head = dataclasses.replace(head, datasets={**head.datasets, **extra_head})
    return out


def _reads(query: CarriedQuery, resolver: NameResolver) -> set[str]:
    """The relations a query names (CTE names aside), resolved like the binding does."""
    out = set()
    for tree in query.queries:
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier):
                written = table_name(table)
                if "." in written or written not in ctes:
                    out.add(resolver.resolve(written))
    for written, _columns in query.targets:
        out.add(resolver.resolve(written))
    return out


def _carriers(graph: LineageGraph) -> Iterable[str]:
    for node, attrs in list(graph.g.nodes.items()):
        if "#" not in node and attrs.get(SQL_ATTR) and attrs.get("origin") not in REPO_ORIGINS:
            yield node


def _parse(
    node: str, graph: LineageGraph, settings: QuerySettings, out: Carried
) -> CarriedQuery | None:
    attrs = graph.attrs(node)
    text = str(attrs[SQL_ATTR])
    dialect = _dialect(attrs.get(DIALECT_ATTR), settings.dialect)
    file, line = attrs.get("file"), attrs.get("line")
    location = Location(str(file), int(line) if isinstance(line, int) else None) if file else None
    name = attrs.get("name") or node
    statements = parse_file(text, dialect, settings.max_depth, 100)
    errors = [s for s in statements if s.error or s.expression is None]
    commands = [s for s in statements if isinstance(s.expression, exp.Command)]
    if errors or commands or not statements:
        why = errors[0].error if errors else "not a statement sqlglot models"
        message = (
            f"the SQL of {name} ({node}) could not be parsed ({dialect}): {why}; "
            "it is checked by the tables its source says it reads"
        )
        out.findings.append(RULES["AN901"].finding(message, location))
        return None
    queries: list[exp.Expr] = []
    targets: list[tuple[str, list[str]]] = []
    for statement in statements:
        tree = normalize(statement.expression, dialect)  # type: ignore[arg-type]
        query = _query_of(tree)
        if query is None:
            continue
        queries.append(query)
        if isinstance(tree, exp.Insert):
            targets.append(_insert_target(tree))
    if not queries:
        return None  # DDL or commands only: nothing reads a relation
    declared = [str(c) for c in attrs.get(DECLARED_ATTR) or []]
    kind = str(attrs.get("kind") or "query")
    return CarriedQuery(node, kind, dialect, queries, targets, declared, location)


def _dialect(written: object, default: str) -> str:
    if isinstance(written, str) and written:
        try:
            return check_dialect(written.lower())
        except ValueError:
            return default  # a dialect sqlglot does not know: the check's own
    return default


def _query_of(tree: exp.Expr) -> exp.Expr | None:
    """The query a statement runs: itself, or the SELECT of a CREATE … AS / INSERT."""
    if isinstance(tree, exp.Query):
        return tree
    if isinstance(tree, (exp.Create, exp.Insert)) and isinstance(tree.expression, exp.Query):
        return tree.expression
    return None


def _insert_target(tree: exp.Insert) -> tuple[str, list[str]]:
    target = tree.this
    columns: list[str] = []
    if isinstance(target, exp.Schema):
        columns = [c.name for c in target.expressions if isinstance(c, exp.Identifier)]
        target = target.this
    name = table_name(target) if isinstance(target, exp.Table) else ""
    return name, columns


def _schema(catalog: Catalog) -> Schema:
    """Relation -> column -> type; relations whose columns are not all known bind loosely."""
    return {
        name: {c.name: c.type for c in ds.columns.values()} if ds.columns_known else {}
        for name, ds in catalog.datasets.items()
    }


def _bound(
    query: CarriedQuery, catalog: Catalog, schema: Schema, resolver: NameResolver
) -> Dataset:
    """The consumer's query as a dataset of ``catalog``: lineage, output columns, types."""
    merged = Lineage()
    last = Lineage()
    for i, tree in enumerate(query.queries):

        def fresh(tree: exp.Expr = tree) -> exp.Expr:
            copy = tree.copy()
            rewrite_tables(copy, resolver.resolve)
            return copy

        try:  # qualified in place: a second copy only if sqlglot needs a second attempt
            last = query_lineage(fresh(), schema, query.dialect, again=fresh)
        except (SqlglotError, RecursionError) as err:
            last = Lineage(errors=[f"cannot bind the query: {str(err).splitlines()[0]}"])
        _merge(merged, last, outputs_read=i < len(query.queries) - 1)
    for written, listed in query.targets:
        target = resolver.resolve(written)
        known = catalog.datasets.get(target)
        if known is not None and known.columns_known:
            merged.missing |= {(target, c) for c in listed if c not in known.columns}
    merged.columns, merged.pure, merged.output_types = last.columns, last.pure, last.output_types
    outputs = [n for n in merged.columns if n != "*"]
    columns = {name: Column(name=name, type=_output_type(name, last, schema)) for name in outputs}
    return Dataset(
        name=query.node,
        kind=query.kind,
        columns=columns,
        location=query.location,
        definition=tree_digest(query.queries[-1]),
        lineage=merged,
        columns_known="*" not in merged.columns,
        dialect=query.dialect,
        origin=ORIGIN,
    )


def _merge(into: Lineage, other: Lineage, outputs_read: bool) -> None:
    """Add what ``other`` reads and needs to ``into`` (the statements of one consumer; the
    outputs of all but the last are written elsewhere: they count as read)."""
    for clause, sources in other.clauses.items():
        into.clauses.setdefault(clause, set()).update(sources)
    if outputs_read:
        for sources in other.columns.values():
            into.clauses.setdefault("statements", set()).update(
                src for src in sources if src[1] != "*"
            )
    into.referenced |= other.referenced
    into.tables |= other.tables
    into.star_tables |= other.star_tables
    into.unresolved |= other.unresolved
    into.missing |= other.missing
    into.type_uses += other.type_uses
    into.star_unknown |= other.star_unknown
    into.errors += other.errors
    into.comparisons += other.comparisons


def _output_type(name: str, lineage: Lineage, schema: Schema) -> str | None:
    if lineage.output_types.get(name):
        return lineage.output_types[name]
    source = lineage.pure.get(name)
    return schema.get(source[0], {}).get(source[1]) if source else None


def _declared_breaks(query: CarriedQuery, dataset: Dataset, at_base: Dataset | None) -> list[Break]:
    """A declared column that does not come out of the query (when its outputs are known)."""
    if not dataset.columns_known:
        return []
    out = []
    for name in query.declared:
        if name in dataset.columns:
            continue
        causes = {column_id(query.node, name)}
        if at_base is not None and at_base.lineage is not None:  # what used to feed it
            causes |= {column_id(*src) for src in at_base.lineage.columns.get(name, set())}
        out.append(Break(f"declares {name}, which its query no longer returns", causes))
    return out


def _drop_exposures(
    graph: LineageGraph, node: str, base: Dataset, head: Dataset, catalog: Catalog
) -> None:
    """A query says which columns it reads: the possible uses a table-level read implied
    (graph.merge_fragment turns a ``reads`` into ``exposure`` edges) go, for relations whose
    columns the catalog knows."""
    read = set()
    for dataset in (base, head):
        if dataset.lineage is not None:
            read |= dataset.lineage.tables - dataset.lineage.star_unknown
    for src, kind in list(graph.predecessors(node)):
        relation = src.split("#", 1)[0]
        known = catalog.datasets.get(relation)
        if kind == "exposure" and relation in read and known is not None and known.columns_known:
            graph.g.remove_edge(src, node)


__all__ = ["Carried", "CarriedQuery", "QuerySettings", "bind_carried"]
