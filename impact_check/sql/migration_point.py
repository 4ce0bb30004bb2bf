"""The schema at one point of a migration sequence: what DdlState adds for migrations.

Inside a migration sequence (project/migrations.py) data statements run once, when the
migration is deployed. They are bound against the tables as they stand at that point
(sql/onetime.py), never against head; ``CREATE TABLE … AS SELECT`` creates a plain table
whose columns are those the query returns then. Reading, altering or dropping what an
earlier migration dropped or renamed is recorded as a TB109/TB110 issue: the migration would
fail on deploy (analysis.py reports it when the diff adds or edits that migration).

Relations an unread statement may have changed (an unknown command, a DO block with dynamic
SQL, a CALL) are ``uncertain``: their columns are not held against later statements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from impact_check.model import Catalog, Column, Dataset, Issue, Location, column_id
from impact_check.sql.names import NameResolver
from impact_check.sql.onetime import problems, reading_query

# the relation an opaque statement names (``ALTER TABLE x …``, ``CREATE TRIGGER … ON x``)
COMMAND_TARGET = re.compile(
    r"\b(?:TABLE|VIEW|INTO|ON)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([\w.\"`\[\]]+)", re.IGNORECASE
)


class MigrationPoint:
    """Mixin of DdlState: the checks of statements that run once, at their point."""

    catalog: Catalog
    resolver: NameResolver
    definitions: dict[str, Any]
    dialect: str
    in_migration: bool
    uncertain: set[str] | None

    def _touch(self, name: str, location: Location, columns: Mapping[str, Column]) -> None:
        raise NotImplementedError

    def _once(self, statement: exp.Expr, location: Location, verb: str | None = None) -> None:
        """Bind a data statement against the schema as it stands now (not at head)."""
        query = reading_query(statement)
        if query is not None:
            self._record_gone(query, location, verb or statement.key.upper())

    def _record_gone(self, query: exp.Expr, location: Location, verb: str) -> None:
        catalog = self.catalog
        self.resolver.known = (
            set(catalog.datasets) | set(self.definitions) | set(catalog.dropped)
        ) | set(catalog.renamed_tables)
        for gone in problems(
            query, catalog, self.definitions, self.uncertain, self.resolver.resolve, self.dialect
        ):
            message = f"{verb} reads {gone.what}, {gone.why}: the migration fails on deploy"
            catalog.issues.append(
                Issue("TB109", message, location, target=gone.what, unanalyzed=False)
            )

    def _gone_target(self, name: str, location: Location, what: str) -> bool:
        """TB110 when a migration alters or drops a relation an earlier one removed."""
        if not self.in_migration or name in self.catalog.datasets or name in self.definitions:
            return False
        renamed = self.catalog.renamed_tables.get(name)
        if renamed is None and name not in self.catalog.dropped:
            return False
        why = f"renamed to {renamed}" if renamed else "dropped"
        where = self.catalog.events.get(name) or self.catalog.dropped.get(name)
        by = f" by {where.file}:{where.line}" if where is not None else ""
        message = f"{what} {name}: {name} was {why}{by}; the migration fails on deploy"
        self.catalog.issues.append(Issue("TB110", message, location, target=name, unanalyzed=False))
        return True

    def _gone_column(
        self, dataset: Dataset, column: str, location: Location, what: str, exists: bool
    ) -> None:
        """TB110 when a migration alters a column that no longer exists at its point."""
        uncertain = self.uncertain is None or dataset.name in self.uncertain
        if not self.in_migration or exists or uncertain or not dataset.columns_known:
            return
        if column in dataset.columns:
            return
        node = column_id(dataset.name, column)
        renamed = self.catalog.renamed_columns.get((dataset.name, column))
        where = self.catalog.events.get(node)
        why = f"renamed to {renamed}" if renamed else ("dropped" if where else "never created")
        by = f" by {where.file}:{where.line}" if where is not None else ""
        message = (
            f"{what} {dataset.name}.{column}: the column was {why}{by}; "
            "the migration fails on deploy"
        )
        self.catalog.issues.append(Issue("TB110", message, location, target=node, unanalyzed=False))

    def _existing_column(self, dataset: Dataset, column: str, location: Location) -> None:
        """TB110 when a migration adds a column that already exists at its point."""
        uncertain = self.uncertain is None or dataset.name in self.uncertain
        if not self.in_migration or uncertain or column not in dataset.columns:
            return
        where = self.catalog.events.get(column_id(dataset.name, column))
        by = f" (added by {where.file}:{where.line})" if where is not None else ""
        message = (
            f"ADD COLUMN {dataset.name}.{column}: the column already exists{by}; "
            "the migration fails on deploy"
        )
        self.catalog.issues.append(
            Issue(
                "TB110", message, location, target=column_id(dataset.name, column), unanalyzed=False
            )
        )

    def unreadable(self, sql: str) -> None:
        """A statement that could not be read: the relation it names may have changed
        (any relation, for schema statements that name none the checker can find)."""
        match = COMMAND_TARGET.search(sql[:400])
        if match is not None:
            self.mark_uncertain(match.group(1).strip('"`[]').lower())
        elif re.match(r"(?is)^\s*(?:ALTER|CREATE|RENAME)\b", sql):
            self.mark_uncertain(None)

    def mark_uncertain(self, relation: str | None) -> None:
        """A statement not read may have changed ``relation``'s columns (None: any)."""
        if relation is None:
            self.uncertain = None
        elif self.uncertain is not None:
            self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
            self.uncertain.add(self.resolver.resolve(relation))

    def _table_once(
        self, name: str, query: exp.Expr, declared: list[str], location: Location
    ) -> None:
        """``CREATE TABLE … AS SELECT`` in a migration: a table, its columns those the query
        returns now (later changes upstream do not reach it)."""
        from impact_check.sql.lineage import query_lineage, rewrite_tables

        self._record_gone(query, location, "CREATE TABLE … AS")
        copy = query.copy()
        self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
        read = rewrite_tables(copy, self.resolver.resolve)
        schema = {
            n: {c.name: c.type for c in ds.columns.values()} if ds.columns_known else {}
            for n, ds in self.catalog.datasets.items()
            if n in read
        }
        lineage = query_lineage(copy, schema, self.dialect)
        names = [n for n in lineage.columns if n != "*"]
        if declared:
            names = [declared[i] if i < len(declared) else n for i, n in enumerate(names)]
        columns = {}
        for written, produced in zip(names, [n for n in lineage.columns if n != "*"]):
            source = lineage.pure.get(produced)
            dtype = lineage.output_types.get(produced) or (
                schema.get(source[0], {}).get(source[1]) if source else None
            )
            columns[written] = Column(written, dtype)
        self.definitions.pop(name, None)
        self.catalog.datasets[name] = Dataset(
            name,
            "table",
            columns,
            location,
            columns_known="*" not in lineage.columns,
            dialect=self.dialect,
        )
        self._touch(name, location, columns)
