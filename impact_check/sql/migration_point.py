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
from impact_check.sql.onetime import column_gone, describe, problems, reading_query, relation_gone

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
    sequence: str | None  # the migration directory being applied
    sequence_of: dict[str, str | None]  # file -> its migration directory

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
            if self._ours(gone.where):
                message = f"{verb} reads {gone.what}, {describe(gone)}"
                self._fails("TB109", message, location, gone.what)

    def _fails(self, rule: str, message: str, location: Location, target: str) -> None:
        message += ": this migration fails on deploy"
        self.catalog.issues.append(Issue(rule, message, location, target, unanalyzed=False))

    def _ours(self, where: Location | None) -> bool:
        """Whether ``where`` is a statement of the sequence being applied: a parallel
        directory (the same schema for another database) never blames this one."""
        return (
            where is not None
            and self.sequence is not None
            and self.sequence_of.get(where.file) == self.sequence
        )

    def _gone_target(self, name: str, location: Location, what: str) -> bool:
        """TB110 when a migration alters or drops a relation an earlier one removed."""
        if not self.in_migration or name in self.catalog.datasets or name in self.definitions:
            return False
        gone = relation_gone(name, self.catalog)
        if gone is None or not self._ours(gone.where):
            return False
        self._fails("TB110", f"{what} {name}: it was {describe(gone)}", location, name)
        return True

    def _gone_column(
        self, dataset: Dataset, column: str, location: Location, what: str, exists: bool
    ) -> None:
        """TB110 when a migration alters a column that does not exist at its point."""
        if exists or not self._columns_certain(dataset) or column in dataset.columns:
            return
        gone = column_gone(dataset.name, column, self.catalog)
        if self._ours(gone.where):
            message = f"{what} {gone.what}: the column was {describe(gone)}"
            self._fails("TB110", message, location, column_id(dataset.name, column))

    def _existing_column(self, dataset: Dataset, column: str, location: Location) -> None:
        """TB110 when a migration adds a column that already exists at its point."""
        if not self._columns_certain(dataset) or column not in dataset.columns:
            return
        node = column_id(dataset.name, column)
        where = self.catalog.events.get(node)
        if self._ours(where):
            assert where is not None
            message = f"ADD COLUMN {dataset.name}.{column}: it exists (added by {where.file}"
            message += f":{where.line})" if where.line else ")"
            self._fails("TB110", message, location, node)

    def _columns_certain(self, dataset: Dataset) -> bool:
        uncertain = self.uncertain is None or dataset.name in self.uncertain
        return self.in_migration and dataset.columns_known and not uncertain

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
