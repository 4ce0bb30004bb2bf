"""PostgreSQL stores views (and ``BEGIN ATOMIC`` bodies) parsed: later renames follow them.

After ``ALTER TABLE t RENAME COLUMN a TO b``, PostgreSQL's ``CREATE VIEW v AS SELECT a FROM
t`` still works: the stored view reads ``SELECT t.b AS a FROM t`` (the output keeps its
name); a renamed table is followed the same way. DuckDB, MySQL, Snowflake and BigQuery keep
a view's text, which then no longer binds. So, in the dialects listed in
``FOLLOWS_RENAMES``, the stored definitions that exist when a rename runs are rewritten as
the engine rewrites them; everything else (dbt models, model files, views created after the
rename) is bound by its text, as written.

A column reference is rewritten only when it certainly reads the renamed column: qualified
by the table (or its alias), or unqualified in a scope whose other sources are known not to
have a column of that name. ``SELECT *`` is left alone (PostgreSQL expanded it when the view
was created; the view keeps the old column name, which this model does not see).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from impact_check.sql.names import table_name

FOLLOWS_RENAMES = {"postgres"}
Resolve = Callable[[str], str]


def rename_table_refs(query: exp.Expr, old: str, new: str, resolve: Resolve) -> bool:
    """Point every reference to relation ``old`` at ``new`` (the alias keeps the old name,
    so qualified columns still resolve); whether anything changed."""
    changed = False
    for table in list(query.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or resolve(table_name(table)) != old:
            continue
        if not table.alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name, quoted=True)))
        parts = [exp.to_identifier(p, quoted=True) for p in new.split(".")]
        table.set("this", parts[-1])
        table.set("db", parts[-2] if len(parts) > 1 else None)
        table.set("catalog", parts[-3] if len(parts) > 2 else None)
        changed = True
    return changed


def rename_column_refs(
    query: exp.Expr,
    relation: str,
    old: str,
    new: str,
    resolve: Resolve,
    columns_of: Callable[[str], set[str] | None],
) -> bool:
    """Rewrite the references to ``relation.old`` as ``relation.new``; whether any was.

    ``columns_of`` gives a relation's columns (None: unknown), to tell whether an unqualified
    ``old`` can only be the renamed column.
    """
    try:
        scopes = traverse_scope(query)
    except (SqlglotError, RecursionError):
        return False
    changed = False
    for scope in scopes:
        mine = {
            alias
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table) and resolve(table_name(source)) == relation
        }
        if not mine:
            continue
        unqualified_ours = len(mine) == 1 and all(
            _lacks(source, old, resolve, columns_of)
            for alias, source in scope.sources.items()
            if alias not in mine
        )
        for column in scope.columns:
            if column.name != old:
                continue
            if column.table in mine or (not column.table and unqualified_ours):
                _rename(column, scope, old, new)
                changed = True
    return changed


def _lacks(
    source: object, name: str, resolve: Resolve, columns_of: Callable[[str], set[str] | None]
) -> bool:
    """Whether a scope source certainly has no column ``name``."""
    if isinstance(source, exp.Table):
        columns = columns_of(resolve(table_name(source)))
        return columns is not None and name not in columns
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
        if any(s.is_star for s in source.expression.expressions):
            return False
        return name not in source.expression.named_selects
    return False


def _rename(column: exp.Column, scope: Scope, old: str, new: str) -> None:
    projected = column.parent is scope.expression and column.arg_key == "expressions"
    renamed = column.copy()
    renamed.set("this", exp.to_identifier(new, quoted=True))
    column.replace(
        exp.alias_(renamed, exp.to_identifier(old, quoted=True)) if projected else renamed
    )


__all__ = ["FOLLOWS_RENAMES", "rename_column_refs", "rename_table_refs"]
