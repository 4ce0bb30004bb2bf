"""Definitions whose tree is parsed only when lineage needs it.

A model file (a bare SELECT in a models folder) and a ``CREATE VIEW`` statement of a DDL
file are known by what ordering and keys need (name, location, the relations they read) so
that an unchanged one is never parsed; its tree is parsed from its text on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from impact_check.model import Location
from impact_check.sql.ddl import Definition

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass
class ModelFile:
    """A model file whose one statement is a SELECT: what ordering and keys need."""

    path: str
    name: str
    key: str
    line: int
    reads: list[str]  # written relation names, CTEs excluded (dependency order)
    tables: list[str]  # written names lineage resolves (derive.rewrite_tables' view)
    text: str
    dialect: str
    query: exp.Expr | None = None  # parsed on a miss; kept when the file was parsed anyway


class LazyDefinition(Definition):
    """A Definition whose tree is parsed from its file only when lineage needs it."""

    def __init__(self, model: ModelFile) -> None:
        self.model = model
        self.name = model.name
        self.kind = "view"
        self.location = Location(model.path, model.line)
        self.declared_columns = []
        self.dialect = model.dialect
        self.cache_key = model.key
        self.written_reads = model.reads
        self.written_tables = model.tables

    @property  # type: ignore[override]
    def query(self) -> exp.Expr:
        if self.model.query is None:
            self.model.query = parse_model(self.model.text, self.model.dialect)
        return self.model.query

    @query.setter
    def query(self, value: exp.Expr) -> None:
        self.model.query = value

    def take_query(self) -> exp.Expr:
        """The tree, handed over to be changed: the next ``query`` parses the file again."""
        query = self.query
        self.model.query = None
        return query


@dataclass
class ViewStatement:
    """A ``CREATE VIEW`` (or ``CREATE TABLE … AS``) statement of a DDL file: what ordering
    and keys need, and where to parse its tree from."""

    index: int  # the statement's position among the file's statements
    name: str
    kind: str
    line: int
    declared_columns: list[str]
    reads: list[str]
    tables: list[str]
    text_digest: str = ""  # of the statement's own text: its identity, whatever the file holds


class StatementDefinition(Definition):
    """A DDL file's view, its tree parsed from the file only when lineage needs it.

    ``disturbed`` says whether anything but lineage asked for the tree or renamed it (a
    rename rewriting stored definitions, a migration binding against it): then the
    statement's recorded reads may no longer describe the tree, and the loader falls back
    to a plain Definition of the tree as it now is.
    """

    def __init__(
        self,
        view: ViewStatement,
        path: str,
        text: str,
        dialect: str,
        key: str,
        max_nesting_depth: int,
        max_statements: int,
        tree: exp.Expr | None = None,
    ) -> None:
        self.view, self.text, self.tree = view, text, tree
        self.limits = (max_nesting_depth, max_statements)
        self.name = view.name
        self.kind = view.kind
        self.location = Location(path, view.line)
        self.declared_columns = list(view.declared_columns)
        self.dialect = dialect
        self.cache_key = key
        self.written_reads = view.reads
        self.written_tables = view.tables
        self.asked = False

    @property  # type: ignore[override]
    def query(self) -> exp.Expr:
        self.asked = True
        if self.tree is None:
            self.tree = parse_view(self.text, self.view.index, self.dialect, *self.limits)
        return self.tree

    @query.setter
    def query(self, value: exp.Expr) -> None:
        self.asked = True
        self.tree = value

    @property
    def disturbed(self) -> bool:
        return self.asked or self.name != self.view.name

    def take_query(self) -> exp.Expr:
        """The tree, handed over to be changed: the next ``query`` parses the file again."""
        query = self.query
        self.tree = None
        return query

    def plain(self) -> Definition:
        """A plain Definition of the tree as it stands (see ``disturbed``)."""
        return Definition(
            self.name, self.kind, self.query, self.location, self.declared_columns, self.dialect
        )


def fresh_query(definition: Definition) -> exp.Expr:
    """A tree of ``definition`` the caller may change in place: a lazy definition's own
    tree (parsed again if anyone asks later), any other definition's copy."""
    if isinstance(definition, (LazyDefinition, StatementDefinition)):
        return definition.take_query()
    return definition.query.copy()


def parse_model(text: str, dialect: str) -> exp.Expr:
    """The normalised tree of a one-SELECT model file (the loader's parse)."""
    from impact_check.sql.names import normalize
    from impact_check.sql.parse import parse_file

    statements = parse_file(text, dialect)
    expression = statements[0].expression
    assert expression is not None  # a ModelFile is only made from a file that parsed
    return normalize(expression, dialect)


def parse_view(
    text: str, index: int, dialect: str, max_nesting_depth: int, max_statements: int
) -> exp.Expr:
    """The query of the ``index``-th statement of a DDL file, a CREATE VIEW or CREATE TABLE
    AS that parsed when it was recorded (the loader's parse and normalisation)."""
    from sqlglot import exp

    from impact_check.sql.names import normalize
    from impact_check.sql.parse import parse_statement_at

    # recorded only for a statement that parsed within the limits: only it is parsed again
    expression = parse_statement_at(text, index, dialect).expression
    assert expression is not None
    create = normalize(expression, dialect)
    query = create.expression
    assert isinstance(query, (exp.Query, exp.Subquery))
    return query.unnest() if isinstance(query, exp.Subquery) else query


def written_names(query: exp.Expr) -> tuple[list[str], list[str]]:
    """(names for dependency order, names rewrite_tables resolves) of a query."""
    from sqlglot import exp

    from impact_check.sql.names import table_name

    ctes = {c.alias_or_name for c in query.find_all(exp.CTE)}
    reads: set[str] = set()
    tables: set[str] = set()
    for table in query.find_all(exp.Table):
        written = ".".join(p.name for p in table.parts)
        if written and written not in ctes:
            reads.add(written)
        if isinstance(table.this, exp.Identifier):
            name = table_name(table)
            if "." in name or name not in ctes:
                tables.add(name)
    return sorted(reads), sorted(tables)
