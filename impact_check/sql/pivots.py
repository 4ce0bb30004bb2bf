"""PIVOT and UNPIVOT statements rewritten into the one form lineage reads.

DuckDB writes ``PIVOT t ON q IN ('a', 'b') USING sum(x) GROUP BY g`` and
``UNPIVOT t ON a, b INTO NAME k VALUE v``; every engine (DuckDB too) also has the
SQL-standard clause ``FROM t PIVOT (sum(x) FOR q IN ('a', 'b'))``. sqlglot qualifies and
expands ``*`` only for the clause, so the statements become
``SELECT * FROM t PIVOT (…)``. A GROUP BY inside a pivot keeps only the grouped columns
(the others are not grouped on); a derived table selecting just those columns says the
same in the form sqlglot expands. A statement whose columns come from the data (``ON q``
without ``IN``) or from ``COLUMNS(*)`` is left as it is: not analysed, and said so.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope

_CREATE_AS_PIVOT = re.compile(r"(?is)^(\s*CREATE\s.*?\sAS)\s+((?:UN)?PIVOT\s.*)$")


def standard_pivots(expression: exp.Expr, sql: str, dialect: str) -> exp.Expr:
    """``expression`` (parsed from ``sql``) with statement-form pivots rewritten; the
    caller checks that the text mentions PIVOT at all, so this costs nothing elsewhere."""
    if isinstance(expression, exp.Command):
        match = _CREATE_AS_PIVOT.match(sql)
        if match is None:
            return expression
        try:
            create = sqlglot.parse_one(f"{match.group(1)} SELECT 1", read=dialect)
            body = sqlglot.parse_one(match.group(2), read=dialect)
        except SqlglotError:
            return expression
        if not isinstance(create, exp.Create) or not isinstance(body, exp.Pivot):
            return expression
        query = _as_select(body, dialect)
        if query is None:
            return expression
        create.set("expression", query)
        return create
    for pivot in list(expression.find_all(exp.Pivot)):
        replacement = None
        if pivot.args.get("this") is not None:  # the statement form
            replacement = _as_select(pivot, dialect)
            if replacement is not None:
                if pivot is expression:
                    return replacement
                pivot.replace(replacement)
        elif pivot.args.get("group") is not None:
            _group_as_derived(pivot, dialect)
    return expression


def _as_select(pivot: exp.Pivot, dialect: str) -> exp.Query | None:
    source = pivot.this
    if not isinstance(source, (exp.Table, exp.Subquery)):
        return None
    prefix = ""
    with_ = pivot.args.get("with_")
    if isinstance(with_, exp.With):
        prefix = with_.sql(dialect=dialect) + " "
    if pivot.args.get("unpivot"):
        clause = _unpivot_clause(pivot, dialect)
    else:
        clause = _pivot_clause(pivot, dialect)
    if clause is None:
        return None
    try:
        query = sqlglot.parse_one(
            f"{prefix}SELECT * FROM {source.sql(dialect=dialect)} {clause}", read=dialect
        )
    except SqlglotError:
        return None
    if not isinstance(query, exp.Query):
        return None
    for inner in query.find_all(exp.Pivot):
        if inner.args.get("group") is not None:
            _group_as_derived(inner, dialect)
    return query


def _pivot_clause(pivot: exp.Pivot, dialect: str) -> str | None:
    fields = pivot.expressions
    if not fields or not all(isinstance(f, exp.In) and f.expressions for f in fields):
        return None  # `ON q` without IN: the output columns come from the data
    using = pivot.args.get("using") or []
    if not using:
        return None
    aggregates = ", ".join(u.sql(dialect=dialect) for u in using)
    ons = " ".join(f.sql(dialect=dialect) for f in fields)
    group = pivot.args.get("group")
    grouped = f" {group.sql(dialect=dialect)}" if isinstance(group, exp.Group) else ""
    return f"PIVOT ({aggregates} FOR {ons}{grouped})"


def _unpivot_clause(pivot: exp.Pivot, dialect: str) -> str | None:
    columns = pivot.expressions
    if not columns or not all(isinstance(c, exp.Column) for c in columns):
        return None  # COLUMNS(*), grouped value columns: not modelled
    into = pivot.args.get("into")
    name, value = "name", "value"
    if isinstance(into, exp.UnpivotColumns):
        values = into.expressions
        if len(values) != 1:
            return None
        name, value = into.this.sql(dialect=dialect), values[0].sql(dialect=dialect)
    listed = ", ".join(c.sql(dialect=dialect) for c in columns)
    return f"UNPIVOT ({value} FOR {name} IN ({listed}))"


def _group_as_derived(pivot: exp.Pivot, dialect: str) -> None:
    """``t PIVOT (… GROUP BY g)`` as ``(SELECT g, <columns the pivot reads> FROM t) PIVOT
    (…)``: the same output, in the form whose ``*`` sqlglot expands."""
    group = pivot.args.get("group")
    holder = pivot.parent
    if not isinstance(group, exp.Group) or not isinstance(holder, (exp.Table, exp.Subquery)):
        return
    if not all(isinstance(e, exp.Column) for e in group.expressions):
        return  # a grouping expression, not a column: left to the analysis limits
    names = list(dict.fromkeys(col.name for col in pivot.find_all(exp.Column)))
    grouped = [e.name for e in group.expressions]
    names = grouped + [n for n in names if n not in grouped]
    pivot.set("group", None)
    inner = holder.copy()
    inner.set("pivots", None)
    alias = inner.args.get("alias")
    inner.set("alias", None)
    select = exp.select(*[exp.column(n) for n in names]).from_(inner)
    derived = exp.Subquery(this=select, alias=alias or exp.TableAlias(this="_pivot_input"))
    derived.set("pivots", [pivot])
    holder.replace(derived)


class PivotSource:
    """A pivoted source as the query after it sees it: the columns PIVOT/UNPIVOT makes
    (``generated``, each reading every column the operator reads) and the ones it keeps
    (``kept``: output name -> the source's column; None when the source's columns are
    unknown)."""

    __slots__ = ("columns", "generated", "kept", "node", "reads", "source")

    def __init__(
        self, node: exp.Pivot, source: exp.Table | Scope | PivotSource, columns: list[str] | None
    ) -> None:
        self.node = node
        self.source = source  # what it pivots: a relation, a CTE/subquery, an earlier pivot
        self.reads = list(dict.fromkeys(c.name for c in read_columns(node)))
        produced = _produced(node)
        mapping = node.output_columns(columns or [])
        self.generated = [n for n, pre in mapping.items() if pre in produced] or produced
        self.kept: dict[str, str] | None = None
        self.columns: list[str] | None = None  # the output columns in order, when known
        if columns is not None:
            self.kept = {n: pre for n, pre in mapping.items() if pre not in produced}
            self.columns = list(mapping)

    def has(self, name: str) -> bool | None:
        if name in self.generated:
            return True
        return None if self.kept is None else name in self.kept

    def kept_name(self, name: str) -> str | None:
        """The source's column an output passes on unchanged (None: generated)."""
        if name in self.generated:
            return None
        return name if self.kept is None else self.kept.get(name)


def read_columns(node: exp.Pivot) -> list[exp.Column]:
    """The source columns a PIVOT/UNPIVOT clause reads: a PIVOT its aggregates' inputs and
    FOR columns (its IN list holds values, bracketed names in T-SQL), an UNPIVOT its IN
    list."""
    if node.args.get("unpivot"):
        parts: list[exp.Expr] = [
            e for f in node.args.get("fields") or [] if isinstance(f, exp.In) for e in f.expressions
        ]
    else:
        parts = [*node.expressions]
        parts += [f.this for f in node.args.get("fields") or [] if isinstance(f, exp.In)]
        group = node.args.get("group")
        if isinstance(group, exp.Group):
            parts.append(group)
    return [col for part in parts for col in part.find_all(exp.Column)]


def _produced(node: exp.Pivot) -> list[str]:
    """The names of the columns the operator makes (before any column-list rename)."""
    if node.args.get("unpivot"):
        names = [f.this.name for f in node.args.get("fields") or [] if isinstance(f, exp.In)]
        for value in node.expressions:
            names += [
                i.name for i in (value.expressions if isinstance(value, exp.Tuple) else [value])
            ]
        return names
    columns = node.args.get("columns") or []
    return [c.output_name for c in columns] or [e.alias_or_name for e in node.expressions]
