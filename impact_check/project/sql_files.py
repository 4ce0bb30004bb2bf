"""Plain SQL files: each file's statements applied, in order, to the DDL state of a revision.

SQL files apply in the order project/migrations.py gives: each recognised migration framework
in its own order (forward migrations only), every other file in natural path order
(``V2__`` before ``V10__``).

Applying a file can also record each statement's *effect* where it does not depend on the
state it meets: a ``CREATE VIEW`` (or ``CREATE TABLE … AS``) defines a view from its own
text, a ``CREATE TABLE`` with a column list creates that table (unless ``IF NOT EXISTS``
finds one). A file whose every statement has such an effect can be replayed from the
effects without being parsed (:func:`replay`); the cache layer keeps them per file.
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
from impact_check.project.codec import decode_dataset, encode_dataset
from impact_check.project.definitions import ViewStatement, written_names
from impact_check.project.files import decode_file, unreadable_rule
from impact_check.project.migrations import Unit
from impact_check.project.settings import ReadSettings
from impact_check.sql.ddl import DdlState, Definition
from impact_check.sql.names import normalize, table_name
from impact_check.sql.parse import parse_file
from impact_check.sql.statements import apply_actions, apply_other

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_PLAN_FILES = ("sqitch.plan", "sqitch.conf", "atlas.sum", "migration_lock.toml")


@dataclass
class CreateTable:
    """The effect of a ``CREATE TABLE`` with a column list: the table as it creates it."""

    index: int
    name: str
    if_not_exists: bool
    dataset: dict[str, Any]  # codec.encode_dataset of the table right after the statement


# one per statement, in order; None: the effect depends on the state, replay must parse
Effect = ViewStatement | CreateTable | None


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
                continue
            opaque = stmt.expression is None or isinstance(stmt.expression, exp.Command)
            if opaque and apply_actions(state, stmt.sql, location):
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
    state.apply(expression, location)
    if replayable is None:
        return None
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
        else:
            raise ValueError("a file with a statement of unknown effect cannot be replayed")
