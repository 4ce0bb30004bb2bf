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
from impact_check.sql.renames import FOLLOWS_RENAMES, rename_column_refs, rename_table_refs
from impact_check.sql.types import canonical

_MYSQL_RENAME = re.compile(r"^\s*RENAME\s+TABLE\s+(.+)$", re.IGNORECASE | re.DOTALL)


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

    def apply(self, statement: exp.Expr, location: Location) -> None:
        """Apply one normalised statement."""
        if isinstance(statement, exp.Create):
            self._create(statement, location)
        elif isinstance(statement, exp.Alter):
            self._alter(statement, location)
        elif isinstance(statement, exp.Drop):
            self._drop(statement, location)
        elif isinstance(statement, exp.Insert) and not self.in_migration:
            self._insert(statement, location)
        elif isinstance(statement, (exp.Insert, exp.Update, exp.Delete, exp.Query)):
            if self.in_migration:
                self._once(statement, location)
        elif isinstance(statement, exp.Command):
            self._command(statement, location)

    def rename_relation(self, old: str, new_table: exp.Table, location: Location) -> None:
        """Rename a relation (``SET SCHEMA``, ``ALTER MATERIALIZED VIEW … RENAME``)."""
        if not self._gone_target(old, location, "ALTER … RENAME"):
            self._rename_table(old, new_table, location)

    def _create(self, create: exp.Create, location: Location) -> None:
        kind = (create.kind or "").upper()
        target = create.this
        if kind in ("SCHEMA", "DATABASE", "INDEX", "FUNCTION", "PROCEDURE", "SEQUENCE", "TYPE"):
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

    def _alter(self, alter: exp.Alter, location: Location) -> None:
        if not isinstance(alter.this, exp.Table):
            return
        if (alter.args.get("kind") or "TABLE").upper() not in ("TABLE", "VIEW"):
            return  # ALTER INDEX … RENAME and the like: no relation's columns
        name = self.name_of(alter.this)
        missing = name not in self.catalog.datasets and (
            name in self.catalog.dropped or self.outside(name) is None
        )
        if alter.args.get("exists") and missing:
            return  # ALTER TABLE IF EXISTS on a table that is not there does nothing
        for action in alter.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                column_rename = _column_rename(alter, action)
                if column_rename is not None:  # PostgreSQL: RENAME [COLUMN] a TO b
                    action = column_rename
                else:
                    if self._gone_target(name, location, "ALTER TABLE … RENAME"):
                        return
                    self._rename_table(name, action.this, location)
                    name = self._renamed_name(name, action.this)
                    continue
            dataset = self.catalog.datasets.get(name)
            if dataset is None and name not in self.catalog.dropped:
                dataset = self.outside(name)
                if dataset is not None:
                    self.catalog.datasets[name] = dataset
            if dataset is None:
                if not self._gone_target(name, location, "ALTER TABLE"):
                    self._alter_unknown(name, action, location)
                continue
            self._check_column_target(dataset, action, location)
            before = dict(dataset.columns)
            self._alter_action(dataset, action, location)
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
        action: exp.Expr,
        location: Location,
    ) -> None:
        """Remember which statement last touched each column (for change locations)."""
        touched = set(before) ^ set(after)
        if isinstance(action, (exp.AlterColumn, exp.ColumnDef)):
            touched.add(identifier_name(action.this))
        for col in touched:
            self.catalog.events[column_id(name, col)] = location

    def _check_column_target(self, dataset: Dataset, action: exp.Expr, location: Location) -> None:
        if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for column in _drop_column_names(action):
                self._gone_column(
                    dataset, column, location, "DROP COLUMN", bool(action.args.get("exists"))
                )
        elif isinstance(action, exp.RenameColumn):
            self._gone_column(
                dataset,
                identifier_name(action.this),
                location,
                "RENAME COLUMN",
                bool(action.args.get("exists")),
            )
        elif isinstance(action, exp.AlterColumn):
            column = identifier_name(action.this)
            self._gone_column(dataset, column, location, "ALTER COLUMN", False)
        elif isinstance(action, exp.ColumnDef) and not action.args.get("exists"):
            self._existing_column(dataset, identifier_name(action.this), location)

    def _alter_unknown(self, name: str, action: exp.Expr, location: Location) -> None:
        if name in self.definitions:
            message = f"ALTER on derived dataset {name} is not modelled ({action.key})"
        else:
            message = f"ALTER TABLE {name}: the table is not created by any analysed file"
        self.catalog.issues.append(Issue("AN903", message, location, target=name, unanalyzed=False))

    def _alter_action(self, dataset: Dataset, action: exp.Expr, location: Location) -> None:
        cols = dataset.columns
        if isinstance(action, exp.ColumnDef):
            col = _column(action, self.dialect)
            cols[col.name] = col
        elif isinstance(action, exp.Schema):  # Spark: ADD COLUMNS (a INT, …)
            for coldef in action.expressions:
                if isinstance(coldef, exp.ColumnDef):
                    col = _column(coldef, self.dialect)
                    cols[col.name] = col
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() in (
            "COLUMN",
            "COLUMNS",
        ):
            for dropped in _drop_column_names(action):
                cols.pop(dropped, None)
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == (
            "CONSTRAINT"
        ):
            self._drop_constraint(dataset, action)
        elif isinstance(action, exp.RenameColumn):
            self._rename_column(
                dataset, identifier_name(action.this), identifier_name(action.args.get("to"))
            )
        elif isinstance(action, exp.AlterColumn):
            self._alter_column(dataset, action)
        elif isinstance(action, exp.AddConstraint):
            dataset.constraints.update(_named_constraints(action.expressions, self.dialect))
            for constraint in action.expressions:
                if isinstance(constraint, exp.PrimaryKey):
                    for ident in constraint.expressions:
                        key = identifier_name(
                            ident.this if isinstance(ident, exp.Ordered) else ident
                        )
                        if key in cols:
                            cols[key].primary_key = True
        elif isinstance(action, exp.ModifyColumn) if hasattr(exp, "ModifyColumn") else False:
            self._modify_column(dataset, action)

    def _drop_constraint(self, dataset: Dataset, action: exp.Drop) -> None:
        for item in action.args.get("tables") or []:
            dataset.constraints.pop(
                identifier_name(item.this if isinstance(item, exp.Table) else item), None
            )

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

    def _alter_column(self, dataset: Dataset, action: exp.AlterColumn) -> None:
        col = dataset.columns.get(identifier_name(action.this))
        if col is None:
            return
        dtype = action.args.get("dtype")
        if isinstance(dtype, exp.DataType):
            col.type = canonical(dtype)
            col.written_type = dtype.sql(self.dialect)
        if action.args.get("allow_null") is False:
            col.not_null = True
        elif action.args.get("allow_null") is True:
            col.not_null = False
        elif action.args.get("default") is not None:
            col.default = action.args["default"].sql(self.dialect)
        elif action.args.get("drop"):
            col.default = None
        rename_to = action.args.get("rename_to")
        if rename_to is not None:
            self._rename_column(dataset, col.name, identifier_name(rename_to))

    def _modify_column(self, dataset: Dataset, action: exp.Expr) -> None:
        coldef = action.this
        if not isinstance(coldef, exp.ColumnDef):
            return
        new = _column(coldef, self.dialect)
        old_name = identifier_name(action.args.get("rename_from")) or new.name
        if old_name != new.name:
            self._rename_column(dataset, old_name, new.name)
        dataset.columns[new.name] = new

    def _renamed_name(self, old: str, new_table: exp.Table) -> str:
        new = table_name(new_table)
        if "." not in new and "." in old:  # ALTER TABLE s.a RENAME TO b keeps schema s
            new = old.rsplit(".", 1)[0] + "." + new
        return new

    def _rename_table(self, old: str, new_table: exp.Table, location: Location) -> None:
        new = self._renamed_name(old, new_table)
        if old in self.catalog.datasets:
            dataset = self.catalog.datasets.pop(old)
            dataset.name = new
            self.catalog.datasets[new] = dataset
        elif old in self.definitions:
            definition = self.definitions.pop(old)
            definition.name = new
            self.definitions[new] = definition
        else:
            self._alter_unknown(old, new_table, location)
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

    def _drop(self, drop: exp.Drop, location: Location) -> None:
        kind = (drop.args.get("kind") or "").upper()
        tables = drop.args.get("tables") or ([drop.this] if drop.this is not None else [])
        if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
            for table in tables:
                if isinstance(table, exp.Table):
                    name = self.name_of(table)
                    if not drop.args.get("exists") and self._gone_target(name, location, "DROP"):
                        continue
                    self._drop_relation(name, location)
        elif kind == "SCHEMA":
            for table in tables:
                prefix = table_name(table) + "."
                for name in [*self.catalog.datasets, *self.definitions]:
                    if name.startswith(prefix):
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
                self._rename_table(self.name_of(old_table), new_table, location)
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


def _column_rename(alter: exp.Alter, action: exp.AlterRename) -> exp.RenameColumn | None:
    """sqlglot reads PostgreSQL's ``ALTER TABLE t RENAME a TO b`` (COLUMN left out) as a
    table rename to ``a`` with a ``TO b`` option: it renames column ``a``."""
    target = next(
        (o.this for o in alter.args.get("options") or [] if isinstance(o, exp.ToTableProperty)),
        None,
    )
    if target is None or not isinstance(action.this, exp.Table):
        return None
    return exp.RenameColumn(
        this=exp.Column(this=action.this.this.copy()), to=exp.Column(this=target.this.copy())
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


def _named_constraints(items: list[exp.Expr], dialect: str) -> dict[str, str]:
    """FOREIGN KEY and CHECK constraints, keyed by name (or by their SQL when unnamed)."""
    out = {}
    for item in items:
        inner = (
            item.expressions[0] if isinstance(item, exp.Constraint) and item.expressions else item
        )
        if not isinstance(inner, (exp.ForeignKey, exp.CheckColumnConstraint)):
            continue
        sql = inner.sql(dialect)
        out[identifier_name(item.this) if isinstance(item, exp.Constraint) else sql] = sql
    return out


def _checks_and_keys(schema: exp.Schema, dialect: str) -> dict[str, str]:
    """Table-level and column-level FOREIGN KEY / REFERENCES / CHECK constraints."""
    found = _named_constraints(list(schema.expressions), dialect)
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
            col = _column(item, dialect)
            cols[col.name] = col
    for item in schema.expressions:
        if isinstance(item, exp.PrimaryKey):
            for ident in item.expressions:
                key = identifier_name(ident.this if isinstance(ident, exp.Ordered) else ident)
                if key in cols:
                    cols[key].primary_key = True
                    cols[key].not_null = True
    return cols


def _column(coldef: exp.ColumnDef, dialect: str) -> Column:
    dtype = coldef.args.get("kind")
    col = Column(name=identifier_name(coldef.this))
    if isinstance(dtype, exp.DataType):
        col.type = canonical(dtype)
        col.written_type = dtype.sql(dialect)
    for constraint in coldef.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.NotNullColumnConstraint):
            col.not_null = not kind.args.get("allow_null")
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            col.primary_key = True
            col.not_null = True
        elif isinstance(kind, exp.UniqueColumnConstraint):
            col.unique = True
        elif isinstance(kind, exp.DefaultColumnConstraint):
            col.default = kind.this.sql(dialect)
    return col


def _drop_column_names(action: exp.Drop) -> list[str]:
    names: list[str] = []
    for item in action.args.get("tables") or ([action.this] if action.this else []):
        if isinstance(item, exp.Schema):
            names.extend(identifier_name(i) for i in item.expressions)
        elif isinstance(item, (exp.Column, exp.Identifier)):
            names.append(identifier_name(item.this if isinstance(item, exp.Column) else item))
        elif isinstance(item, exp.Table):
            names.append(identifier_name(item.this))
    return names
