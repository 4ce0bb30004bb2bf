"""Plain SQL files: each file's statements applied, in order, to the DDL state of a revision.

SQL files apply in the order project/migrations.py gives: each recognised migration framework
in its own order (forward migrations only), every other file in natural path order
(``V2__`` before ``V10__``).

Applying a file can also record each statement's *effect*, read from its own text alone:
a ``CREATE VIEW`` (or ``CREATE TABLE … AS``) defines a view, a ``CREATE TABLE`` with a
column list creates that table (unless ``IF NOT EXISTS`` finds one), an ``ALTER TABLE`` or
a ``DROP`` is an operation (sql/operations.py) applied to whatever state a replay meets,
by the same code that applies the statement, and an index, a grant or a comment changes
nothing. A file whose every statement has such an effect can be replayed from the effects
without being parsed (:func:`replay`); the cache layer keeps them per file. Not recorded
(the file is parsed again): INSERT, a migration's one-time DML and ``CREATE TABLE … AS``,
routines, DO blocks, ``SET SCHEMA``, ``RENAME CONSTRAINT``, statements that do not parse.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlglot import exp

from impact_check.model import Catalog, FileContent, Issue, Location, Snapshot, column_id
from impact_check.project import migrations
from impact_check.project.codec import (
    CodecError,
    decode_column,
    decode_dataset,
    encode_column,
    encode_dataset,
    expect_list,
    expect_opt_str,
    expect_str,
    expect_strs,
)
from impact_check.project.definitions import ViewStatement, written_names
from impact_check.project.files import decode_file, unreadable_rule
from impact_check.project.migrations import Unit
from impact_check.project.parallel import tick
from impact_check.project.settings import ReadSettings
from impact_check.sql.ddl import DdlState, Definition, Inert, Operation
from impact_check.sql.names import normalize, table_name
from impact_check.sql.operations import AlterAction, AlterTable, DropRelations
from impact_check.sql.parse import parse_file
from impact_check.sql.statements import apply_actions, apply_other, inert

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_PLAN_FILES = ("sqitch.plan", "sqitch.conf", "atlas.sum", "migration_lock.toml")


@dataclass
class CreateTable:
    """The effect of a ``CREATE TABLE`` with a column list: the table as it creates it."""

    index: int
    name: str
    if_not_exists: bool
    dataset: dict[str, Any]  # codec.encode_dataset of the table right after the statement


@dataclass
class Applied:
    """The effect of an ALTER, a DROP or a statement that changes nothing: its operations
    (sql/operations.py; several for a multi-action ALTER read action by action), applied
    again to the state a replay meets."""

    index: int
    line: int | None
    operations: list[AlterTable | DropRelations | Inert]


# one per statement, in order; None: the effect depends on the state, replay must parse
Effect = ViewStatement | CreateTable | Applied | None


def encode_applied(effect: Applied) -> list[Any]:
    """An ``Applied`` effect as plain JSON (``decode_applied`` reads it back)."""
    return ["op", effect.index, effect.line, [_encode_operation(o) for o in effect.operations]]


def _encode_operation(operation: AlterTable | DropRelations | Inert) -> list[Any]:
    if isinstance(operation, AlterTable):
        actions = [
            [
                a.verb,
                a.key,
                a.names,
                [encode_column(c) for c in a.columns],
                a.exists,
                a.type,
                a.written_type,
                a.allow_null,
                a.default,
                a.drop_default,
                a.rename_to,
                [[k, v] for k, v in a.constraints.items()],
            ]
            for a in operation.actions
        ]
        body: list[Any] = ["alter", operation.table, operation.exists, actions]
    elif isinstance(operation, DropRelations):
        body = ["drop", operation.kind, operation.names, operation.exists]
    else:
        body = ["inert"]
    return body


def decode_applied(row: list[Any]) -> Applied:
    """An ``encode_applied`` value back, validated field by field (CodecError otherwise)."""
    if len(row) != 4 or row[0] != "op" or type(row[1]) is not int:
        raise CodecError("bad operation effect")
    line = row[2]
    if line is not None and type(line) is not int:
        raise CodecError("bad line")
    return Applied(row[1], line, [_decode_operation(o) for o in expect_list(row[3])])


def _decode_operation(body: Any) -> AlterTable | DropRelations | Inert:
    if not isinstance(body, list) or not body:
        raise CodecError("bad operation")
    operation: AlterTable | DropRelations | Inert
    if body == ["inert"]:
        operation = Inert()
    elif body[0] == "drop" and len(body) == 4 and isinstance(body[3], bool):
        operation = DropRelations(expect_str(body[1]), expect_strs(body[2]), body[3])
    elif body[0] == "alter" and len(body) == 4 and isinstance(body[2], bool):
        operation = AlterTable(
            expect_str(body[1]), body[2], [_action(a) for a in expect_list(body[3])]
        )
    else:
        raise CodecError("unknown operation")
    return operation


def _action(value: Any) -> AlterAction:
    row = expect_list(value)
    if len(row) != 12:
        raise CodecError("bad ALTER action")
    verb, key, names, columns, exists, type_, written, allow_null, default = row[:9]
    drop_default, rename_to, constraints = row[9:]
    if verb not in _VERBS or not isinstance(exists, bool) or not isinstance(drop_default, bool):
        raise CodecError("bad ALTER action")
    if allow_null is not None and not isinstance(allow_null, bool):
        raise CodecError("bad ALTER action")
    pairs = {}
    for pair in expect_list(constraints):
        if not isinstance(pair, list) or len(pair) != 2:
            raise CodecError("bad constraint")
        pairs[expect_str(pair[0])] = expect_str(pair[1])
    action = AlterAction(
        verb,
        expect_str(key),
        expect_strs(names),
        [decode_column(c) for c in expect_list(columns)],
        exists,
        expect_opt_str(type_),
        expect_opt_str(written),
        allow_null,
        expect_opt_str(default),
        drop_default,
        expect_opt_str(rename_to),
        pairs,
    )
    needs = _NEEDS.get(verb, (0, 0))
    if len(action.names) < needs[0] or len(action.columns) < needs[1]:
        raise CodecError("bad ALTER action")  # a replay never stops half-way
    return action


# names and columns each verb reads (operations.AlterAction)
_NEEDS = {
    "add_column": (0, 1),
    "rename_column": (2, 0),
    "rename_table": (1, 0),
    "alter_column": (1, 0),
    "modify_column": (1, 1),
}
_VERBS = {
    *_NEEDS,
    "add_columns",
    "drop_column",
    "drop_columns",
    "drop_constraint",
    "add_constraint",
    "other",
}


def sql_plan(
    snapshot: Snapshot, in_dbt: Callable[[str], bool], settings: ReadSettings
) -> migrations.Plan:
    """The SQL files outside dbt projects, as the units to apply in order
    (project/migrations.py: migration frameworks' forward sequences, else path order), and
    the sequences checked on their own (those a schema dump of the same database stands
    for, project/dumps.py)."""
    candidates = [
        p
        for p in snapshot.files
        if (p.endswith(".sql") or PurePosixPath(p).name in _PLAN_FILES) and not in_dbt(p)
    ]
    texts = _Texts(snapshot, settings.limits.max_file_bytes)
    configured = settings.dialect if settings.dialect_set else None
    return migrations.plan(candidates, texts, configured)


class _Texts(Mapping[str, "str | None"]):
    """File texts on request (migrations.plan reads only the few whose content decides)."""

    def __init__(self, snapshot: Snapshot, max_file_bytes: int) -> None:
        self.snapshot, self.max_file_bytes = snapshot, max_file_bytes
        self.seen: dict[str, str | None] = {}

    def __getitem__(self, path: str) -> str | None:
        if path not in self.seen:
            content = self.snapshot.files.get(path)
            self.seen[path] = decode_file(content, self.max_file_bytes)[0] if content else None
        return self.seen[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot.files)

    def __len__(self) -> int:
        return len(self.snapshot.files)


def read_text(content: FileContent, catalog: Catalog, settings: ReadSettings) -> str | None:
    """A file's text with ``${placeholders}`` filled in; None (and an issue) if unreadable."""
    text, reason, line = decode_file(content, settings.limits.max_file_bytes)
    if text is None:
        issue = Issue(
            unreadable_rule(content), reason, Location(content.path, line), whole_file=True
        )
        catalog.issues.append(issue)
        return None
    return _PLACEHOLDER.sub(lambda m: settings.placeholders.get(m.group(1), m.group(0)), text)


def load_unit(
    unit: Unit,
    text: str | None,
    state: DdlState,
    settings: ReadSettings,
    effects: list[Effect] | None = None,
) -> str | None:
    """Apply one unit's file (its forward part) to ``state``; the text applied.

    With ``effects``, each statement's effect is appended to it (see the module)."""
    if text is None:
        return None
    with at_unit(unit, state):
        text = migrations.forward_text(text, unit.lines)
        load_file(unit.path, text, state, settings, unit_dialect(unit, settings), effects)
    return text


@contextlib.contextmanager
def at_unit(unit: Unit, state: DdlState) -> Iterator[None]:
    """The migration point of a unit while its statements apply."""
    state.in_migration, state.sequence = unit.one_time, unit.sequence
    state.sequence_of[unit.path] = unit.sequence
    try:
        yield
    finally:
        state.in_migration, state.sequence = False, None


def unit_dialect(unit: Unit, settings: ReadSettings) -> str | None:
    """The engine a framework's own files name (Supabase, a Prisma lock, sqitch.conf, a
    pg_dump), unless the configuration sets the dialect (None: the configured one)."""
    if unit.dialect is None or settings.dialect_set:
        return None
    if any(fnmatch.fnmatch(unit.path, glob) for glob in settings.dialects):
        return None
    return unit.dialect


def load_file(
    path: str,
    text: str,
    state: DdlState,
    settings: ReadSettings,
    dialect: str | None = None,
    effects: list[Effect] | None = None,
) -> None:
    """Apply every statement of one SQL file to ``state``."""
    dialect = dialect or settings.dialect_for(path)
    state.dialect = dialect
    schema = settings.model_schema(path)
    limits = settings.limits
    for stmt in parse_file(text, dialect, limits.max_nesting_depth, limits.max_statements_per_file):
        location = Location(path, stmt.line)
        index = len(effects) if effects is not None else 0
        effect: Effect = None
        try:
            if apply_other(state, stmt.sql, location):  # not table schema (sql/statements.py)
                if effects is not None and inert(stmt.sql):
                    effect = Applied(index, stmt.line, [Inert()])
                continue
            opaque = stmt.expression is None or isinstance(stmt.expression, exp.Command)
            operations: list[Operation] = []
            if opaque and apply_actions(state, stmt.sql, location, operations):
                if all(operation is not None for operation in operations):
                    effect = Applied(index, stmt.line, [o for o in operations if o is not None])
                continue
            if stmt.expression is None:
                state.unreadable(stmt.sql)
                message = f"cannot parse SQL ({dialect}): {stmt.error}"
                where = Location(path, stmt.error_line or stmt.line)
                # a view or model file that does not parse still counts as defined (coverage)
                target = _unparsed_name(path, stmt.sql, schema)
                # a model file that does not parse is not gone: at head its base version
                # stands in
                whole = schema is not None
                state.catalog.issues.append(
                    Issue("AN901", message, where, target, whole_file=whole)
                )
                continue
            effect = _apply_statement(path, stmt.expression, location, schema, state, settings)
            if effect is not None:
                effect.index = index
            if isinstance(effect, ViewStatement):
                effect.text_digest = hashlib.sha256(stmt.sql.encode("utf-8", "replace")).hexdigest()
        except Exception as err:  # a sqlglot tree shape we do not know: lose only this one
            effect = None
            state.catalog.issues.append(
                Issue(
                    "AN901",
                    f"statement could not be applied ({type(err).__name__}: {err})",
                    location,
                )
            )
        finally:
            if effects is not None:
                effects.append(effect)
            # the cyclic GC is paused while files are read: free the dead trees of earlier
            # statements now and then (a 2,000-view DDL layout held 240 MB of them)
            tick()


_VIEW = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\w*\s+)?(?:materialized\s+)?view\s+"
    r"(?:if\s+not\s+exists\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)


def _unparsed_name(path: str, sql: str, schema: str | None) -> str | None:
    """The view (or model file) a statement that does not parse would define, if any."""
    match = _VIEW.match(sql)
    if match is not None:
        return match.group(1).replace('"', "").replace("`", "").strip("[]").lower()
    if schema is not None:
        return f"{schema}.{PurePosixPath(path).stem}".lower()
    return None


def _apply_statement(
    path: str,
    expression: exp.Expr,
    location: Location,
    schema: str | None,
    state: DdlState,
    settings: ReadSettings,
) -> Effect:
    dialect = state.dialect
    expression = normalize(expression, dialect)
    if schema is not None and isinstance(expression, exp.Query):
        name = settings.model_name(schema, PurePosixPath(path).stem)
        state.definitions[name] = Definition(name, "view", expression, location, dialect=dialect)
        return None
    replayable = _replayable(expression, state)
    before = state.catalog.datasets.get(replayable) if replayable else None
    operation = state.apply(expression, location)
    if replayable is None:
        return None if operation is None else Applied(-1, location.line, [operation])
    definition = state.definitions.get(replayable)
    if definition is not None:
        reads, tables = written_names(definition.query)
        return ViewStatement(
            -1,
            replayable,
            definition.kind,
            location.line or 0,
            list(definition.declared_columns),
            reads,
            tables,
        )
    dataset = state.catalog.datasets.get(replayable)
    if dataset is None or dataset is before:  # IF NOT EXISTS found one: depends on the state
        return None
    assert isinstance(expression, exp.Create)
    return CreateTable(-1, replayable, bool(expression.args.get("exists")), encode_dataset(dataset))


def _replayable(expression: exp.Expr, state: DdlState) -> str | None:
    """The relation a CREATE statement makes from its own text alone (see the module)."""
    if not isinstance(expression, exp.Create):
        return None
    kind = (expression.kind or "").upper()
    target = expression.this
    schema = target if isinstance(target, exp.Schema) else None
    table = schema.this if schema is not None else target
    if not isinstance(table, exp.Table):
        return None
    query = expression.expression
    if isinstance(query, (exp.Query, exp.Subquery)):
        if kind == "VIEW" or (kind == "TABLE" and not state.in_migration):
            return state.resolver.qualify(table_name(table))
        return None
    if kind != "TABLE" or schema is None or query is not None:
        return None
    if any(isinstance(item, exp.LikeProperty) for item in schema.expressions):
        return None
    props = expression.args.get("properties")
    if props is not None and any(
        isinstance(p, (exp.InheritsProperty, exp.PartitionedOfProperty)) for p in props.expressions
    ):
        return None
    return state.resolver.qualify(table_name(table))


def replayable(effects: list[Effect]) -> bool:
    """Whether a file's effects say everything it does (none depends on the state)."""
    return all(effect is not None for effect in effects)


def replay(
    effects: list[Effect],
    path: str,
    state: DdlState,
    dialect: str,
    define: Callable[[ViewStatement], Definition],
) -> None:
    """Apply a file's recorded effects to ``state`` in order, as applying its statements
    does (``define`` makes each view's definition, its tree parsed only on request)."""
    state.dialect = dialect
    catalog = state.catalog
    for effect in effects:
        if isinstance(effect, ViewStatement):
            catalog.datasets.pop(effect.name, None)
            if effect.kind == "table":
                state.stored.discard(effect.name)
            else:
                state.stored.add(effect.name)
            state.definitions[effect.name] = define(effect)
        elif isinstance(effect, CreateTable):
            if effect.if_not_exists and effect.name in catalog.datasets:
                continue
            state.definitions.pop(effect.name, None)
            dataset = decode_dataset(effect.dataset)
            catalog.datasets[effect.name] = dataset
            location = dataset.location or Location(path, None)
            catalog.events[effect.name] = location
            for column in dataset.columns:
                catalog.events[column_id(effect.name, column)] = location
        elif isinstance(effect, Applied):
            for operation in effect.operations:
                if not isinstance(operation, Inert):
                    state.apply_operation(operation, Location(path, effect.line))
        else:
            raise ValueError("a file with a statement of unknown effect cannot be replayed")
