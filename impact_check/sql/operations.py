"""What an ``ALTER TABLE`` or a ``DROP`` says, read from its statement alone.

sql/ddl.py applies a statement in two steps: the statement is read into an *operation*
here (names as written, columns and types as declared: nothing that depends on the state),
then the operation is applied to the DDL state it meets (names resolved, targets checked,
TB110 and AN903 recorded). The cache layer keeps the operations of an unchanged file and
applies them again without parsing it (project/sql_files.py): one code path, so a replay
does exactly what applying the statement does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from impact_check.model import Column
from impact_check.sql.names import identifier_name, table_name
from impact_check.sql.types import canonical


@dataclass
class AlterAction:
    """One action of an ALTER TABLE. ``verb`` says which; the other fields are its own:

    - ``add_column`` (``columns``: the one added, ``exists``: IF NOT EXISTS),
      ``add_columns`` (Spark ``ADD COLUMNS (…)``: ``columns``);
    - ``drop_column`` / ``drop_columns`` (``names``, ``exists``: IF EXISTS; only the first
      checks that the columns exist), ``drop_constraint`` (``names``);
    - ``rename_column`` (``names``: old and new, ``exists``), ``rename_table`` (``names``:
      the new name as written);
    - ``alter_column`` (``names``: the column; ``type``/``written_type``, ``allow_null``,
      ``default`` or ``drop_default``, ``rename_to``);
    - ``add_constraint`` (``constraints`` by name, ``names``: primary key columns);
    - ``modify_column`` (MySQL; ``columns``: the new definition, ``names``: the old name);
    - ``other``: changes no column (the target is still looked up: AN903 when unknown).
    """

    verb: str
    key: str  # sqlglot's name of the action (messages)
    names: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    exists: bool = False
    type: str | None = None
    written_type: str | None = None
    allow_null: bool | None = None
    default: str | None = None
    drop_default: bool = False
    rename_to: str | None = None
    constraints: dict[str, str] = field(default_factory=dict)


@dataclass
class AlterTable:
    """``ALTER TABLE|VIEW [IF EXISTS] name action, …``."""

    table: str  # as written (resolved against the state when applied)
    exists: bool
    actions: list[AlterAction]


@dataclass
class DropRelations:
    """``DROP TABLE|VIEW|MATERIALIZED VIEW|SCHEMA [IF EXISTS] name, …``."""

    kind: str  # TABLE, VIEW, MATERIALIZED VIEW or SCHEMA
    names: list[str]  # as written
    exists: bool


def alter_table(alter: exp.Alter) -> tuple[exp.Table, bool] | None:
    """The relation an ALTER changes and its IF EXISTS; None when it changes no relation's
    columns (ALTER INDEX … RENAME and the like)."""
    if not isinstance(alter.this, exp.Table):
        return None
    if (alter.args.get("kind") or "TABLE").upper() not in ("TABLE", "VIEW"):
        return None
    return alter.this, bool(alter.args.get("exists"))


def alter_action(alter: exp.Alter, action: exp.Expr, dialect: str) -> AlterAction:
    """One action of ``alter`` as an operation (sqlglot's tree shapes read here only)."""
    if isinstance(action, exp.AlterRename):
        column_rename = _column_rename(alter, action)
        if column_rename is None:
            assert isinstance(action.this, exp.Table), "ALTER … RENAME TO a non-table"
            return AlterAction("rename_table", action.key, [table_name(action.this)])
        action = column_rename
    key = action.key
    if isinstance(action, exp.ColumnDef):
        column = column_of(action, dialect)
        return AlterAction("add_column", key, columns=[column], exists=_flag(action, "exists"))
    if isinstance(action, exp.Schema):  # Spark: ADD COLUMNS (a INT, …)
        defs = [c for c in action.expressions if isinstance(c, exp.ColumnDef)]
        return AlterAction("add_columns", key, columns=[column_of(c, dialect) for c in defs])
    if isinstance(action, exp.Drop):
        kind = (action.args.get("kind") or "").upper()
        if kind in ("COLUMN", "COLUMNS"):
            verb = "drop_column" if kind == "COLUMN" else "drop_columns"
            return AlterAction(verb, key, drop_column_names(action), exists=_flag(action, "exists"))
        if kind == "CONSTRAINT":
            items = action.args.get("tables") or []
            names = [identifier_name(i.this if isinstance(i, exp.Table) else i) for i in items]
            return AlterAction("drop_constraint", key, names)
        return AlterAction("other", key)
    if isinstance(action, exp.RenameColumn):
        names = [identifier_name(action.this), identifier_name(action.args.get("to"))]
        return AlterAction("rename_column", key, names, exists=_flag(action, "exists"))
    if isinstance(action, exp.AlterColumn):
        return _alter_column(action, dialect)
    if isinstance(action, exp.AddConstraint):
        keys = []
        for constraint in action.expressions:
            if isinstance(constraint, exp.PrimaryKey):
                for ident in constraint.expressions:
                    column = ident.this if isinstance(ident, exp.Ordered) else ident
                    keys.append(identifier_name(column))
        constraints = named_constraints(action.expressions, dialect)
        return AlterAction("add_constraint", key, keys, constraints=constraints)
    if hasattr(exp, "ModifyColumn") and isinstance(action, exp.ModifyColumn):
        coldef = action.this
        if not isinstance(coldef, exp.ColumnDef):
            return AlterAction("other", key)
        new = column_of(coldef, dialect)
        old = identifier_name(action.args.get("rename_from")) or new.name
        return AlterAction("modify_column", key, [old], columns=[new])
    return AlterAction("other", key)


def _alter_column(action: exp.AlterColumn, dialect: str) -> AlterAction:
    out = AlterAction("alter_column", action.key, [identifier_name(action.this)])
    dtype = action.args.get("dtype")
    if isinstance(dtype, exp.DataType):
        out.type, out.written_type = canonical(dtype), dtype.sql(dialect)
    allow_null = action.args.get("allow_null")
    if allow_null is False or allow_null is True:
        out.allow_null = allow_null
    elif action.args.get("default") is not None:
        out.default = action.args["default"].sql(dialect)
    elif action.args.get("drop"):
        out.drop_default = True
    rename_to = action.args.get("rename_to")
    if rename_to is not None:
        out.rename_to = identifier_name(rename_to)
    return out


def drop_relations(drop: exp.Drop) -> DropRelations | None:
    """A DROP of relations or of a schema as an operation; None for other objects."""
    kind = (drop.args.get("kind") or "").upper()
    tables = drop.args.get("tables") or ([drop.this] if drop.this is not None else [])
    if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
        names = [table_name(t) for t in tables if isinstance(t, exp.Table)]
    elif kind == "SCHEMA":
        names = [table_name(t) for t in tables]
    else:
        return None
    return DropRelations(kind, names, bool(drop.args.get("exists")))


def _flag(node: exp.Expr, arg: str) -> bool:
    return bool(node.args.get(arg))


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


def named_constraints(items: list[exp.Expr], dialect: str) -> dict[str, str]:
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


def column_of(coldef: exp.ColumnDef, dialect: str) -> Column:
    """A column as its definition declares it."""
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


def drop_column_names(action: exp.Drop) -> list[str]:
    """The columns a ``DROP COLUMN`` action names."""
    names: list[str] = []
    for item in action.args.get("tables") or ([action.this] if action.this else []):
        if isinstance(item, exp.Schema):
            names.extend(identifier_name(i) for i in item.expressions)
        elif isinstance(item, (exp.Column, exp.Identifier)):
            names.append(identifier_name(item.this if isinstance(item, exp.Column) else item))
        elif isinstance(item, exp.Table):
            names.append(identifier_name(item.this))
    return names
