"""Data statements that run once: bound against the schema as it stands at their point.

Inside a migration sequence, ``INSERT … SELECT``, ``UPDATE``, ``DELETE`` and ``SELECT`` run
once, when the migration is deployed. They are not consumers at head (a migration that copies
rows out of a table and later drops it is fine); they fail on deploy when they read what an
earlier migration already dropped or renamed. :func:`reading_query` turns a data statement
into one SELECT reading the same relations and columns (target columns included), so the
ordinary lineage pass binds it; :func:`problems` says what it reads that is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from impact_check.model import Catalog, Location, column_id
from impact_check.sql.lineage import query_lineage, rewrite_tables

Schema = dict[str, dict[str, "str | None"]]


@dataclass(frozen=True)
class Gone:
    """A relation or column a one-time statement reads that does not exist at its point:
    ``how`` it went (``dropped``, ``renamed to x``, ``never created``) and ``where``: the
    statement that removed it, or for a column never created, the CREATE of its relation."""

    what: str  # relation or relation.column
    how: str
    where: Location | None


def reading_query(statement: exp.Expr) -> exp.Select | exp.Query | None:
    """One query reading what ``statement`` reads (None: nothing to bind, or MERGE)."""
    if isinstance(statement, exp.Query):
        return statement
    parts: list[exp.Expr] = []
    if isinstance(statement, exp.Insert):
        target, columns = statement.this, []
        if isinstance(target, exp.Schema):
            columns = [c.copy() for c in target.expressions if isinstance(c, exp.Identifier)]
            target = target.this
        if isinstance(target, exp.Table):  # the target and its listed columns must exist
            # the identifiers themselves: their quoting (case) is the statement's
            listed: list[exp.Expr] = [exp.Column(this=c) for c in columns]
            parts.append(exp.select(*(listed or [exp.Literal.number(1)])).from_(target.copy()))
        if isinstance(statement.expression, exp.Query):
            parts.append(statement.expression.copy())
    elif isinstance(statement, exp.Update) and isinstance(statement.this, exp.Table):
        parts.append(_update_query(statement))
    elif isinstance(statement, exp.Delete) and isinstance(statement.this, exp.Table):
        query = exp.select(exp.Literal.number(1)).from_(statement.this.copy())
        for table in statement.args.get("using") or []:
            query = query.join(table.copy(), join_type="cross")
        parts.append(_filtered(query, statement))
    combined = combine(parts)
    if combined is not None and statement.args.get("with_") is not None:
        combined.set("with_", statement.args["with_"].copy())
    return combined


def _update_query(update: exp.Update) -> exp.Select:
    target = update.this
    alias = target.args.get("alias")
    qualifier = (alias.this if isinstance(alias, exp.TableAlias) else target.this).copy()
    selected: list[exp.Expr] = []
    for assignment in update.expressions:
        if not isinstance(assignment, exp.EQ):
            continue
        left = assignment.this
        if isinstance(left, exp.Column):  # the assigned column must exist in the target
            selected.append(exp.Column(this=left.this.copy(), table=qualifier.copy()))
        selected.append(assignment.expression.copy())
    query = exp.select(*(selected or [exp.Literal.number(1)])).from_(target.copy())
    source = update.args.get("from_")
    if isinstance(source, exp.From):
        query = query.join(source.this.copy(), join_type="cross")
        for join in source.args.get("joins") or []:
            query = query.join(join.copy())
    return _filtered(query, update)


def _filtered(query: exp.Select, statement: exp.Expr) -> exp.Select:
    where = statement.args.get("where")
    return query.where(where.this.copy()) if isinstance(where, exp.Where) else query


def combine(parts: Sequence[exp.Expr]) -> exp.Select | exp.Query | None:
    """One query binding every part: the part itself, or a cross join of them as
    subqueries (each part is bound in full; none of their columns is an output)."""
    if not parts:
        return None
    if len(parts) == 1 and isinstance(parts[0], exp.Query):
        return parts[0]
    query = exp.select(exp.Literal.number(1).as_("_"))
    for index, part in enumerate(parts, 1):
        sub = exp.Subquery(this=part, alias=exp.TableAlias(this=exp.to_identifier(f"_{index}")))
        query = query.from_(sub) if index == 1 else query.join(sub, join_type="cross")
    return query


def problems(
    query: exp.Expr,
    catalog: Catalog,
    defined: Mapping[str, object],
    uncertain: set[str] | None,
    resolve: Callable[[str], str],
    dialect: str,
) -> list[Gone]:
    """What ``query`` reads that does not exist now, in the state ``catalog`` holds.

    Only what an earlier statement dropped or renamed counts for relations (a relation
    defined nowhere is external); for columns, only relations whose columns are all known
    (``uncertain`` lists those an unread statement may have changed; None: any).
    """
    query = query.copy()
    names = rewrite_tables(query, resolve)
    schema: Schema = {}
    for name in names:
        dataset = catalog.datasets.get(name)
        certain = uncertain is not None and name not in uncertain
        if dataset is not None:
            known = dataset.columns_known and certain
            schema[name] = {c.name: c.type for c in dataset.columns.values()} if known else {}
        elif name in defined:
            schema[name] = {}  # a view: its columns are derived later, from head
    out = [relation_gone(name, catalog) for name in sorted(names) if name not in schema]
    lineage = query_lineage(query, schema, dialect)
    for relation, column in sorted(lineage.missing):
        if relation and schema.get(relation):
            out.append(column_gone(relation, column, catalog))
    return [g for g in out if g is not None]


def relation_gone(name: str, catalog: Catalog) -> Gone | None:
    """How relation ``name`` went, when an earlier statement dropped or renamed it."""
    renamed = catalog.renamed_tables.get(name)
    if renamed is not None and renamed in catalog.datasets:
        return Gone(name, f"renamed to {renamed}", catalog.events.get(name))
    if name in catalog.dropped:
        return Gone(name, "dropped", catalog.dropped[name])
    return None


def column_gone(relation: str, column: str, catalog: Catalog) -> Gone:
    """How ``relation.column`` went (the relation exists now, the column does not)."""
    renamed = catalog.renamed_columns.get((relation, column))
    where = catalog.events.get(column_id(relation, column))
    if renamed is not None:
        return Gone(f"{relation}.{column}", f"renamed to {renamed}", where)
    if where is not None:
        return Gone(f"{relation}.{column}", "dropped", where)
    return Gone(f"{relation}.{column}", "never created", catalog.datasets[relation].location)


def describe(gone: Gone) -> str:
    """``dropped by V3__x.sql:2``, ``renamed to b by …``, ``never created``."""
    if gone.how == "never created" or gone.where is None:
        return gone.how
    line = f":{gone.where.line}" if gone.where.line else ""
    return f"{gone.how} by {gone.where.file}{line}"


__all__ = [
    "Gone",
    "column_gone",
    "combine",
    "describe",
    "problems",
    "reading_query",
    "relation_gone",
]
