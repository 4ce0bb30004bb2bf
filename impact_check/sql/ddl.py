"""Apply DDL statements, in file order, to the tables of a catalog.

Derived datasets (views, CTAS, INSERT … SELECT, bare-SELECT models) are only collected here;
their columns come from lineage once all tables are known (project/loader.py).
Statements that sqlglot gives back as an opaque ``Command`` become AN901 issues naming the
relation they touch, so nothing passes silently (statements that are not table schema are
recognised before, by sql/statements.py).

Inside a migration sequence (``in_migration``, project/migrations.py) data statements run
once: they are bound at their point of the sequence (sql/onetime.py), a ``CREATE TABLE …
AS SELECT`` creates a plain table, and reading or altering what an earlier migration dropped
or renamed is recorded as a TB109/TB110 issue (the migration would fail on deploy).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from sqlglot import exp

from impact_check.model import Catalog, Column, Dataset, Issue, Location, column_id
from impact_check.sql.migration_point import COMMAND_TARGET, MigrationPoint
from impact_check.sql.names import NameResolver, identifier_name, table_name
from impact_check.sql.operations import (
    AlterAction,
    AlterTable,
    DropRelations,
    alter_action,
    alter_table,
    column_of,
    drop_relations,
    named_constraints,
)
from impact_check.sql.renames import FOLLOWS_RENAMES, rename_column_refs, rename_table_refs

# CREATE statements of objects that are no relation: applying them changes nothing
_NOT_RELATIONS = ("SCHEMA", "DATABASE", "INDEX", "FUNCTION", "PROCEDURE", "SEQUENCE", "TYPE")

_MYSQL_RENAME = re.compile(r"^\s*RENAME\s+TABLE\s+(.+)$", re.IGNORECASE | re.DOTALL)


class Inert:
    """A statement that changes nothing in the DDL state (an index, a schema, a DROP of
    another kind of object, a data statement outside a migration)."""


INERT = Inert()

# What applying a statement again needs without its text: an ALTER or DROP operation
# (applied to the state it then meets), INERT, or None when the statement's effect
# depends on the state in a way only its tree says (CREATE … AS is recorded by the
# caller; INSERT, one-time migration DML and commands are not recorded).
Operation = AlterTable | DropRelations | Inert | None


@dataclass
class Definition:
    """A derived dataset's defining query, waiting for lineage."""

    name: str
    kind: str  # view, materialized_view, table (CTAS)
    query: exp.Expr
    location: Location
    declared_columns: list[str] = field(default_factory=list)  # CREATE VIEW v (a, b) AS …
    dialect: str = "duckdb"


@dataclass
class InsertSelect:
    """``INSERT INTO target [(cols)] SELECT …``."""

    target: str
    columns: list[str]
    query: exp.Expr
    location: Location
    dialect: str = "duckdb"


class DdlState(MigrationPoint):
    """The tables of one revision as DDL statements build them up."""

    def __init__(self, catalog: Catalog, resolver: NameResolver, dialect: str) -> None:
        self.catalog = catalog
        self.resolver = resolver
        self.dialect = dialect
        self.definitions: dict[str, Definition] = {}
        self.inserts: list[InsertSelect] = []
        self.in_migration = False  # the statements run once, at this point of a sequence
        self.sequence: str | None = None  # the migration directory being applied
        self.sequence_of: dict[str, str | None] = {}  # file -> its migration directory
        self.stored: set[str] = set()  # definitions the engine keeps parsed (sql/renames.py)
        self.insertable: set[str] = set()  # views with an INSTEAD OF INSERT trigger or rule
        # relations whose columns a statement not read may have changed (None: any relation)
        self.uncertain: set[str] | None = set()
        # a table the repository alters but never creates, described from outside (a
        # warehouse, a Delta log): None when it is not known there either
        self.outside: Callable[[str], Dataset | None] = lambda name: None

    # -- names ------------------------------------------------------------------------

    def name_of(self, table: exp.Table) -> str:
        """The canonical name of a written relation, resolved against what exists so far."""
        self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
        return self.resolver.resolve(table_name(table))

    def _new_name(self, table: exp.Table) -> str:
        return self.resolver.qualify(table_name(table))

    # -- dispatch ---------------------------------------------------------------------

    def apply(self, statement: exp.Expr, location: Location) -> Operation:
        """Apply one normalised statement; what applying it again needs without its text
        (see ``Operation``)."""
        if isinstance(statement, exp.Create):
            self._create(statement, location)
            return INERT if (statement.kind or "").upper() in _NOT_RELATIONS else None
        if isinstance(statement, exp.Alter):
            return self._alter(statement, location) or INERT
        if isinstance(statement, exp.Drop):
            return self._drop(statement, location) or INERT
        if isinstance(statement, exp.Insert) and not self.in_migration:
            self._insert(statement, location)
        elif isinstance(statement, (exp.Insert, exp.Update, exp.Delete, exp.Query)):
            if self.in_migration:
                self._once(statement, location)
            else:
                return INERT  # outside a migration, data statements change no schema
        elif isinstance(statement, exp.Command):
            self._command(statement, location)
        return None

    def rename_relation(self, old: str, new_table: exp.Table, location: Location) -> None:
        """Rename a relation (``SET SCHEMA``, ``ALTER MATERIALIZED VIEW … RENAME``)."""
        if not self._gone_target(old, location, "ALTER … RENAME"):
            self._rename_table(old, table_name(new_table), location)

    def _create(self, create: exp.Create, location: Location) -> None:
        kind = (create.kind or "").upper()
        target = create.this
        if kind in _NOT_RELATIONS:
            return
        schema = target if isinstance(target, exp.Schema) else None
        table = schema.this if schema is not None else target
        if not isinstance(table, exp.Table):
            return
        name = self._new_name(table)
        query = create.expression
        if isinstance(query, (exp.Query, exp.Subquery)) and kind == "TABLE" and self.in_migration:
            self._table_once(
                name,
                query.unnest() if isinstance(query, exp.Subquery) else query,
                _declared_names(schema),
                location,
            )
            return
        if isinstance(query, (exp.Query, exp.Subquery)) and kind in ("VIEW", "TABLE"):
            self.catalog.datasets.pop(name, None)
            if kind == "VIEW":
                self.stored.add(name)
            else:
                self.stored.discard(name)
            self.definitions[name] = Definition(
                name=name,
                kind=_derived_kind(create),
                query=query.unnest() if isinstance(query, exp.Subquery) else query,
                location=location,
                declared_columns=_declared_names(schema),
                dialect=self.dialect,
            )
            return
        if kind == "TABLE" and schema is not None:
            if create.args.get("exists") and name in self.catalog.datasets:
                return  # CREATE TABLE IF NOT EXISTS over an existing table does nothing
            self.definitions.pop(name, None)
            columns = _columns(schema, self.dialect)
            if self._inherits(schema, create, columns) and self.uncertain is not None:
                self.uncertain.add(name)
            self.catalog.datasets[name] = Dataset(
                name=name,
                kind="table",
                columns=columns,
                location=location,
                dialect=self.dialect,
                constraints=_checks_and_keys(schema, self.dialect),
            )
            self._touch(name, location, columns)
        elif kind == "TABLE":
            self.catalog.issues.append(
                Issue(
                    "AN903",
                    f"CREATE TABLE {name} has no column list the checker can read",
                    location,
                    target=name,
                )
            )

    def _inherits(self, schema: exp.Schema, create: exp.Create, columns: dict[str, Column]) -> bool:
        """Copy ``(LIKE other)`` columns; True when other columns may come from elsewhere
        (INHERITS, PARTITION OF, a LIKE of an unknown table)."""
        partial = False
        for item in schema.expressions:
            if isinstance(item, exp.LikeProperty) and isinstance(item.this, exp.Table):
                source = self.catalog.datasets.get(self.name_of(item.this))
                if source is None or not source.columns_known:
                    partial = True
                    continue
                for column in source.columns.values():
                    columns.setdefault(column.name, replace(column))
        props = create.args.get("properties")
        if props is not None and any(
            isinstance(p, (exp.InheritsProperty, exp.PartitionedOfProperty))
            for p in props.expressions
        ):
            partial = True
        return partial

    def _alter(self, alter: exp.Alter, location: Location) -> AlterTable | None:
        """Apply an ALTER read into an operation (sql/operations.py); the operation, for a
        replay, or None when the ALTER changes no relation's columns."""
        target = alter_table(alter)
        if target is None:
            return None
        operation = AlterTable(table_name(target[0]), target[1], [])
        try:
            for action in alter.args.get("actions") or []:
                operation.actions.append(alter_action(alter, action, self.dialect))
        except Exception:
            self.apply_operation(operation, location)  # the actions before, as they applied
            raise
        self.apply_operation(operation, location)
        return operation

    def apply_operation(self, operation: AlterTable | DropRelations, location: Location) -> None:
        """Apply an ALTER or DROP operation to the relations as they stand now."""
        if isinstance(operation, DropRelations):
            self._drop_relations(operation, location)
            return
        self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
        name = self.resolver.resolve(operation.table)
        missing = name not in self.catalog.datasets and (
            name in self.catalog.dropped or self.outside(name) is None
        )
        if operation.exists and missing:
            return  # ALTER TABLE IF EXISTS on a table that is not there does nothing
        for action in operation.actions:
            if action.verb == "rename_table":
                if self._gone_target(name, location, "ALTER TABLE … RENAME"):
                    return
                self._rename_table(name, action.names[0], location)
                name = self._renamed_name(name, action.names[0])
                continue
            dataset = self.catalog.datasets.get(name)
            if dataset is None and name not in self.catalog.dropped:
                dataset = self.outside(name)
                if dataset is not None:
                    self.catalog.datasets[name] = dataset
            if dataset is None:
                if not self._gone_target(name, location, "ALTER TABLE"):
                    self._alter_unknown(name, action.key, location)
                continue
            self._check_column_target(dataset, action, location)
            before = dict(dataset.columns)
            self._alter_action(dataset, action)
            self._touch_changed(name, before, dataset.columns, action, location)

    def _touch(self, name: str, location: Location, columns: Mapping[str, Column]) -> None:
        self.catalog.events[name] = location
        for col in columns:
            self.catalog.events[column_id(name, col)] = location

    def _touch_changed(
        self,
        name: str,
        before: Mapping[str, Column],
        after: Mapping[str, Column],
        action: AlterAction,
        location: Location,
    ) -> None:
        """Remember which statement last touched each column (for change locations)."""
        touched = set(before) ^ set(after)
        if action.verb == "alter_column":
            touched.add(action.names[0])
        elif action.verb == "add_column":
            touched.add(action.columns[0].name)
        for col in touched:
            self.catalog.events[column_id(name, col)] = location

    def _check_column_target(
        self, dataset: Dataset, action: AlterAction, location: Location
    ) -> None:
        if action.verb == "drop_column":
            for column in action.names:
                self._gone_column(dataset, column, location, "DROP COLUMN", action.exists)
        elif action.verb == "rename_column":
            self._gone_column(dataset, action.names[0], location, "RENAME COLUMN", action.exists)
        elif action.verb == "alter_column":
            self._gone_column(dataset, action.names[0], location, "ALTER COLUMN", False)
        elif action.verb == "add_column" and not action.exists:
            self._existing_column(dataset, action.columns[0].name, location)

    def _alter_unknown(self, name: str, key: str, location: Location) -> None:
        if name in self.definitions:
            message = f"ALTER on derived dataset {name} is not modelled ({key})"
        else:
            message = f"ALTER TABLE {name}: the table is not created by any analysed file"
        self.catalog.issues.append(Issue("AN903", message, location, target=name, unanalyzed=False))

    def _alter_action(self, dataset: Dataset, action: AlterAction) -> None:
        cols = dataset.columns
        verb = action.verb
        if verb in ("add_column", "add_columns"):
            for column in action.columns:  # a copy: an operation may be applied again
                cols[column.name] = replace(column)
        elif verb in ("drop_column", "drop_columns"):
            for dropped in action.names:
                cols.pop(dropped, None)
        elif verb == "drop_constraint":
            for constraint in action.names:
                dataset.constraints.pop(constraint, None)
        elif verb == "rename_column":
            self._rename_column(dataset, action.names[0], action.names[1])
        elif verb == "alter_column":
            self._alter_column(dataset, action)
        elif verb == "add_constraint":
            dataset.constraints.update(action.constraints)
            for key in action.names:
                if key in cols:
                    cols[key].primary_key = True
        elif verb == "modify_column":
            self._modify_column(dataset, action.names[0], replace(action.columns[0]))

    def _rename_column(self, dataset: Dataset, old: str, new: str) -> None:
        if old not in dataset.columns:
            return
        renamed = {}
        for key, col in dataset.columns.items():
            if key == old:
                col.name = new
                renamed[new] = col
            else:
                renamed[key] = col
        dataset.columns = renamed
        self.catalog.renamed_columns[(dataset.name, old)] = new
        if self.dialect in FOLLOWS_RENAMES:
            known = {n: d for n, d in self.catalog.datasets.items() if d.columns_known}
            for name in self.stored & set(self.definitions):
                rename_column_refs(
                    self.definitions[name].query,
                    dataset.name,
                    old,
                    new,
                    self._resolve_now,
                    lambda relation: set(known[relation].columns) if relation in known else None,
                )

    def _resolve_now(self, written: str) -> str:
        self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
        return self.resolver.resolve(written)

    def _alter_column(self, dataset: Dataset, action: AlterAction) -> None:
        col = dataset.columns.get(action.names[0])
        if col is None:
            return
        if action.type is not None or action.written_type is not None:
            col.type, col.written_type = action.type, action.written_type
        if action.allow_null is False:
            col.not_null = True
        elif action.allow_null is True:
            col.not_null = False
        elif action.default is not None:
            col.default = action.default
        elif action.drop_default:
            col.default = None
        if action.rename_to is not None:
            self._rename_column(dataset, col.name, action.rename_to)

    def _modify_column(self, dataset: Dataset, old_name: str, new: Column) -> None:
        if old_name != new.name:
            self._rename_column(dataset, old_name, new.name)
        dataset.columns[new.name] = new

    def _renamed_name(self, old: str, new: str) -> str:
        if "." not in new and "." in old:  # ALTER TABLE s.a RENAME TO b keeps schema s
            new = old.rsplit(".", 1)[0] + "." + new
        return new

    def _rename_table(self, old: str, written: str, location: Location) -> None:
        new = self._renamed_name(old, written)
        if old in self.catalog.datasets:
            dataset = self.catalog.datasets.pop(old)
            dataset.name = new
            self.catalog.datasets[new] = dataset
        elif old in self.definitions:
            definition = self.definitions.pop(old)
            definition.name = new
            self.definitions[new] = definition
        else:
            self._alter_unknown(old, "table", location)
            return
        self.catalog.renamed_tables[old] = new
        self.catalog.events[old] = location
        self.catalog.events[new] = location
        if old in self.stored:
            self.stored.add(new)
        if self.dialect in FOLLOWS_RENAMES:
            for name in self.stored & set(self.definitions):
                self.resolver.known = set(self.catalog.datasets) | set(self.definitions) | {old}
                rename_table_refs(self.definitions[name].query, old, new, self.resolver.resolve)

    def _drop(self, drop: exp.Drop, location: Location) -> DropRelations | None:
        operation = drop_relations(drop)
        if operation is not None:
            self._drop_relations(operation, location)
        return operation

    def _drop_relations(self, operation: DropRelations, location: Location) -> None:
        if operation.kind == "SCHEMA":
            for written in operation.names:
                prefix = written + "."
                for name in [*self.catalog.datasets, *self.definitions]:
                    if name.startswith(prefix):
                        self._drop_relation(name, location)
            return
        for written in operation.names:
            self.resolver.known = set(self.catalog.datasets) | set(self.definitions)
            name = self.resolver.resolve(written)
            if not operation.exists and self._gone_target(name, location, "DROP"):
                continue
            self._drop_relation(name, location)

    def _drop_relation(self, name: str, location: Location) -> None:
        self.catalog.datasets.pop(name, None)
        self.definitions.pop(name, None)
        self.catalog.dropped[name] = location
        self.catalog.events[name] = location

    def _insert(self, insert: exp.Insert, location: Location) -> None:
        query = insert.expression
        target = insert.this
        columns: list[str] = []
        if isinstance(target, exp.Schema):
            columns = [identifier_name(c) for c in target.expressions]
            target = target.this
        while isinstance(query, exp.Subquery):  # INSERT INTO t (a, b) (SELECT …)
            query = query.this
        if not isinstance(target, exp.Table) or not isinstance(query, exp.Query):
            return
        self.inserts.append(
            InsertSelect(self.name_of(target), columns, query, location, self.dialect)
        )

    def _command(self, command: exp.Command, location: Location) -> None:
        text = command.sql()
        rename = _MYSQL_RENAME.match(text)
        if rename:
            for pair in rename.group(1).split(","):
                old, _, new = pair.partition(" TO ") if " TO " in pair else pair.partition(" to ")
                old_table, new_table = exp.to_table(old.strip()), exp.to_table(new.strip())
                self._rename_table(self.name_of(old_table), table_name(new_table), location)
            return
        match = COMMAND_TARGET.search(text)
        target = match.group(1).strip('"`[]').lower() if match else None
        self.unreadable(text)
        what = f" touching {target}" if target else ""
        self.catalog.issues.append(
            Issue(
                "AN901",
                f"statement not understood by the SQL parser{what}: {text.strip()[:80]!r}",
                location,
                target=target,
            )
        )


def _derived_kind(create: exp.Create) -> str:
    kind = (create.kind or "").upper()
    if kind == "VIEW":
        props = create.args.get("properties")
        materialized = props is not None and any(
            isinstance(p, exp.MaterializedProperty) for p in props.expressions
        )
        return "materialized_view" if materialized else "view"
    return "table"


def _declared_names(schema: exp.Schema | None) -> list[str]:
    if schema is None:
        return []
    return [
        identifier_name(e.this if isinstance(e, exp.ColumnDef) else e) for e in schema.expressions
    ]


def _checks_and_keys(schema: exp.Schema, dialect: str) -> dict[str, str]:
    """Table-level and column-level FOREIGN KEY / REFERENCES / CHECK constraints."""
    found = named_constraints(list(schema.expressions), dialect)
    for coldef in schema.expressions:
        if not isinstance(coldef, exp.ColumnDef):
            continue
        for constraint in coldef.args.get("constraints") or []:
            kind = constraint.args.get("kind")
            if isinstance(kind, (exp.CheckColumnConstraint, exp.Reference)):
                sql = f"{identifier_name(coldef.this)} {kind.sql(dialect)}"
                found[sql] = sql
    return found


def _columns(schema: exp.Schema, dialect: str) -> dict[str, Column]:
    cols: dict[str, Column] = {}
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            col = column_of(item, dialect)
            cols[col.name] = col
    for item in schema.expressions:
        if isinstance(item, exp.PrimaryKey):
            for ident in item.expressions:
                key = identifier_name(ident.this if isinstance(ident, exp.Ordered) else ident)
                if key in cols:
                    cols[key].primary_key = True
                    cols[key].not_null = True
    return cols
