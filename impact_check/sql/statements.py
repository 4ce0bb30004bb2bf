"""Statements that are not table schema: recognised, and said nothing about when they
cannot affect consumers.

Indexes, extensions, comments, grants, policies, row-level security, owners, sequences,
types, settings, triggers and the other objects below change no table's columns and no
view's result: they are read silently. A few forms do matter and are applied here:
``ALTER TABLE … RENAME CONSTRAINT``, ``ALTER TABLE|VIEW … SET SCHEMA`` and
``ALTER MATERIALIZED VIEW … RENAME TO``. Function and procedure bodies are consumers when
they can be read (sql/routines.py). What cannot be analysed (``DO`` blocks, ``CALL``,
bodies in other languages or with dynamic SQL) becomes an AN911 issue, summarised once per
report by :func:`summary`.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlglot import exp

from impact_check.model import Issue, Location
from impact_check.sql.migration_point import COMMAND_TARGET

if TYPE_CHECKING:
    from impact_check.sql.ddl import DdlState, Operation

_WS = re.compile(r"\s+")
_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*\n?|/\*.*?\*/))*\s*", re.S)
_REL = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))*'


def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


_ALTER_REL = (
    f"ALTER {_any('TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE')} "
    f"(?:IF EXISTS )?(?:ONLY )?({_REL})"
)
_CREATE_ALTER_DROP = "(?:CREATE|ALTER|DROP)"
_TABLE_OPTIONS = _any(
    "REPLICA IDENTITY", r"SET \(", r"RESET \(", "SET WITH", "SET WITHOUT", "CLUSTER ON",
    "SET LOGGED", "SET UNLOGGED", "SET TABLESPACE", "SET ACCESS METHOD", "ATTACH PARTITION",
    "DETACH PARTITION", "INHERIT", "NO INHERIT", "OF ", "NOT OF",
    # Snowflake and MySQL table options
    "COMMENT ?=", "SET COMMENT", "UNSET COMMENT", "CLUSTER BY", "DROP CLUSTERING KEY",
    "SET DATA_RETENTION", "SET CHANGE_TRACKING", "SET TAG", "UNSET TAG", "ENGINE ?=",
    "AUTO_INCREMENT ?=", "CONVERT TO CHARACTER SET", "(?:DEFAULT )?CHARSET ?=",
    "(?:DEFAULT )?CHARACTER SET",
    # ClickHouse
    "(?:ADD|DROP|MATERIALIZE|CLEAR) (?:PROJECTION|INDEX)", "MODIFY (?:TTL|SETTING|COMMENT)",
)  # fmt: skip
_OTHER_OBJECTS = _any(
    "STATISTICS", "COLLATION", "OPERATOR", "AGGREGATE", "CAST", "(?:OR REPLACE )?RULE",
    "SERVER", "FOREIGN DATA WRAPPER", "USER MAPPING", "CONVERSION", "TEXT SEARCH",
    "(?:OR REPLACE )?(?:TRUSTED )?(?:PROCEDURAL )?LANGUAGE", "TABLESPACE", "DATABASE",
    "ACCESS METHOD", "TRANSFORM", "EVENT TRIGGER", "LARGE OBJECT",
)  # fmt: skip

# (kind, pattern on the normalised statement: upper case, single spaces, no leading comment),
# compiled by _kinds()
_KIND_PATTERNS: list[tuple[str, str]] = [
    ("routine", r"^CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE)\b"),
    ("drop routine", r"^DROP (?:FUNCTION|PROCEDURE|ROUTINE)\b"),
    ("DO block", r"^DO\b"),
    ("CALL", r"^CALL\b"),
    ("rename constraint", rf"^{_ALTER_REL} RENAME CONSTRAINT "),
    ("set schema", rf"^{_ALTER_REL} SET SCHEMA "),
    ("rename relation", r"^ALTER (?:MATERIALIZED VIEW|FOREIGN TABLE) .*\bRENAME TO "),
    (
        "index",
        r"^(?:CREATE (?:UNIQUE |FULLTEXT |SPATIAL )?INDEX|DROP INDEX|ALTER INDEX|REINDEX)\b",
    ),
    ("extension", rf"^{_CREATE_ALTER_DROP} EXTENSION\b"),
    ("comment", r"^COMMENT ON\b"),
    ("grant", r"^(?:GRANT|REVOKE)\b|^ALTER DEFAULT PRIVILEGES\b"),
    ("policy", rf"^{_CREATE_ALTER_DROP} POLICY\b"),
    (
        "trigger",
        r"^(?:CREATE (?:OR REPLACE )?(?:CONSTRAINT )?|ALTER |DROP )(?:EVENT )?TRIGGER\b",
    ),
    ("sequence", rf"^{_CREATE_ALTER_DROP} (?:TEMP |TEMPORARY |UNLOGGED )?SEQUENCE\b"),
    ("sequence", r"^SELECT (?:PG_CATALOG\.)?(?:SETVAL|NEXTVAL)\("),
    ("type", rf"^{_CREATE_ALTER_DROP} (?:TYPE|DOMAIN)\b"),
    ("role", rf"^{_CREATE_ALTER_DROP} (?:ROLE|USER|GROUP)\b|^(?:REASSIGN|DROP) OWNED\b"),
    ("owner", r"^ALTER \w+(?: \w+)? .* OWNER TO\b"),
    ("setting", r"^(?:SET|RESET|SHOW)\b|^SELECT (?:PG_CATALOG\.)?SET_CONFIG\("),
    (
        "transaction",
        r"^(?:BEGIN|COMMIT|ROLLBACK|END|ABORT|START TRANSACTION|SAVEPOINT|RELEASE)\b",
    ),
    ("maintenance", r"^(?:ANALY[SZ]E|VACUUM|CLUSTER|CHECKPOINT|DISCARD|LOAD)\b"),
    ("maintenance", r"^REFRESH MATERIALIZED VIEW\b|^LOCK\b|^(?:NOTIFY|LISTEN|UNLISTEN)\b"),
    (
        "security",
        rf"^{_ALTER_REL} (?:ENABLE|DISABLE|FORCE|NO FORCE) "
        r"(?:ROW LEVEL SECURITY|TRIGGER|RULE|REPLICA|ALWAYS)\b",
    ),
    ("constraint", rf"^{_ALTER_REL} (?:VALIDATE|ALTER) CONSTRAINT\b"),
    # a CHECK whose expression the parser cannot read constrains rows, not columns
    ("constraint", rf"^{_ALTER_REL} ADD CHECK\b"),
    (
        "constraint",
        rf"^{_ALTER_REL} ADD (?:CONSTRAINT \S+ )?(?:UNIQUE|PRIMARY KEY) USING INDEX\b",
    ),
    ("table option", rf"^{_ALTER_REL} {_TABLE_OPTIONS}"),
    (
        "table option",
        rf"^{_ALTER_REL} ALTER (?:COLUMN )?\S+ SET (?:STATISTICS|STORAGE|COMPRESSION|\()",
    ),
    ("schema", rf"^{_CREATE_ALTER_DROP} SCHEMA\b"),
    ("data", r"^(?:TRUNCATE|COPY)\b"),
    # a migration's scratch table: gone when its session ends
    ("data", r"^CREATE (?:GLOBAL |LOCAL )?TEMP(?:ORARY)? TABLE\b"),
    ("publication", rf"^{_CREATE_ALTER_DROP} (?:PUBLICATION|SUBSCRIPTION)\b"),
    ("other object", rf"^{_CREATE_ALTER_DROP} {_OTHER_OBJECTS}\b"),
    (
        "other object",
        r"^ALTER (?:FUNCTION|PROCEDURE|ROUTINE|SYSTEM)\b|^SECURITY LABEL\b"
        r"|^IMPORT FOREIGN SCHEMA\b",
    ),
    (  # Snowflake's scheduling, loading and account objects
        "other object",
        r"^(?:CREATE (?:OR REPLACE )?|ALTER |DROP )(?:TASK|STREAM|PIPE|STAGE|FILE FORMAT"
        r"|WAREHOUSE|RESOURCE MONITOR|(?:\w+ )?INTEGRATION|SECRET|NETWORK POLICY|TAG"
        r"|MASKING POLICY|ROW ACCESS POLICY|ALERT)\b|^EXECUTE (?:TASK|ALERT)\b",
    ),
]
# Kinds that cannot change a table's columns or a view's result: nothing to say.
SILENT = {
    "index", "extension", "comment", "grant", "policy", "trigger", "sequence", "type", "role",
    "owner", "setting", "transaction", "maintenance", "security", "constraint", "table option",
    "schema", "data", "publication", "other object",
}  # fmt: skip
# Kinds whose effect on consumers cannot be read: counted in the AN911 summary.
SKIPPED = {"DO block", "CALL"}


def normalised(sql: str) -> str:
    """The statement's first 400 characters: no leading comment, upper case, single spaces."""
    return _WS.sub(" ", _COMMENTS.sub("", sql[:600], count=1)).upper()[:400]


@functools.cache
def _kinds() -> list[tuple[str, re.Pattern[str]]]:
    """_KIND_PATTERNS compiled, on first use: compiling them costs a few milliseconds, and a
    warm run whose changed files are cached or plain SELECT models never classifies one."""
    return [(kind, re.compile(pattern)) for kind, pattern in _KIND_PATTERNS]


def kind_of(sql: str) -> str | None:
    """What a statement is, when it is not table schema (None: a statement to apply)."""
    text = normalised(sql)
    for kind, pattern in _kinds():
        if pattern.match(text):
            return kind
    return None


def skipped_issue(kind: str, detail: str, location: Location, target: str | None = None) -> Issue:
    """An AN911 issue: a statement whose effect on consumers is not analysed."""
    return Issue("AN911", f"{kind}: {detail}", location, target=target, unanalyzed=False)


def summary(issues: Iterable[Issue], first: int = 3) -> tuple[str, Location] | None:
    """One message for every AN911 issue of a report: counts by kind, the first places."""
    issues = sorted(issues, key=lambda i: (i.location.file, i.location.line or 0))
    if not issues:
        return None
    counts = Counter(i.message.split(":", 1)[0] for i in issues)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    places = [f"{i.location.file}:{i.location.line}" for i in issues[:first]]
    more = f" (+{len(issues) - first} more)" if len(issues) > first else ""
    total = len(issues)
    message = (
        f"{total} statement{'s' if total != 1 else ''} not analysed ({kinds}): they may read "
        f"tables, and what they read is not checked; first at {', '.join(places)}{more}"
    )
    return message, issues[0].location


# -- applying them --------------------------------------------------------------------------

# Patterns as text, compiled (and cached) by ``re`` when a statement first needs them: like
# _kinds(), a warm run seldom does, and compiling them all at import costs milliseconds.
_DROP_ROUTINE = (
    r"(?is)^\s*DROP\s+(?:FUNCTION|PROCEDURE|ROUTINE)\s+(?:IF\s+EXISTS\s+)?(.*?)\s*"
    r"(?:CASCADE|RESTRICT)?\s*;?\s*$"
)
_RENAME_CONSTRAINT = (
    rf"(?is)^\s*ALTER\s+\w+(?:\s+\w+)?\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_REL})\s+"
    rf"RENAME\s+CONSTRAINT\s+({_REL})\s+TO\s+({_REL})"
)
_SET_SCHEMA = (
    rf"(?is)^\s*ALTER\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|FOREIGN\s+TABLE)\s+(?:IF\s+EXISTS\s+)?"
    rf"(?:ONLY\s+)?({_REL})\s+(?:SET\s+SCHEMA|RENAME\s+TO)\s+({_REL})"
)
_SCHEMA_WORDS = r"(?i)\b(?:ALTER|CREATE|DROP|RENAME)\b"
_INSTEAD_TRIGGER = (
    rf"(?is)\bINSTEAD\s+OF\s+(?:(?:UPDATE|DELETE)\s+OR\s+)*INSERT\b.*?\bON\s+({_REL})"
)
_INSTEAD_RULE = (
    rf"(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?RULE\s+\S+\s+AS\s+ON\s+INSERT\s+TO\s+({_REL})"
    r"\s.*?\bDO\s+INSTEAD\b"
)
_ALTER_ACTIONS = (
    rf"(?is)^\s*(ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_REL})\s+(.*?)\s*;?\s*$"
)
_DO_BODY = r"(?s)\$(\w*)\$(.*)\$\1\$"
_DO_LANGUAGE = r"(?i)\bLANGUAGE\s+'?(\w+)'?"


def apply_other(state: DdlState, sql: str, location: Location) -> bool:
    """Apply a statement that is not table schema; False when it is one (or unknown)."""
    kind = kind_of(sql)
    if kind is None:
        return False
    if kind == "routine":
        _routine(state, sql, location)
    elif kind == "drop routine":
        _drop_routine(state, sql)
    elif kind == "DO block":
        _do_block(state, sql, location)
    elif kind == "CALL":
        state.mark_uncertain(None)  # a procedure may change any table
        state.catalog.issues.append(skipped_issue("CALL", sql.strip()[:60], location))
    elif kind in ("trigger", "other object") and (target := _instead_of_insert(sql)):
        # PostgreSQL accepts INSERT into a view with an INSTEAD OF trigger or DO INSTEAD rule
        state.insertable.add(_name(state, target))
    elif kind == "rename constraint":
        _rename_constraint(state, sql)
    elif kind in ("set schema", "rename relation"):
        _move_relation(state, sql, location)
    return True


# kinds apply_other does something for (the others it only recognises)
_APPLIED = ("routine", "drop routine", "DO block", "CALL", "rename constraint", "set schema")


def inert(sql: str) -> bool:
    """Whether apply_other recognises ``sql`` and applying it changes nothing (an index, a
    grant, a comment…): a replay of its file may skip it."""
    kind = kind_of(sql)
    if kind is None or kind in _APPLIED or kind == "rename relation":
        return False
    return not (kind in ("trigger", "other object") and _instead_of_insert(sql))


def _instead_of_insert(sql: str) -> str | None:
    match = re.search(_INSTEAD_TRIGGER, sql[:2000]) or re.match(_INSTEAD_RULE, sql[:2000])
    return match.group(1) if match else None


def _name(state: DdlState, written: str) -> str:
    from impact_check.sql.names import normalize

    table = normalize(exp.to_table(written.replace('"', "")), state.dialect)
    assert isinstance(table, exp.Table)
    return state.resolver.qualify(".".join(p.name for p in table.parts))


def _routine(state: DdlState, sql: str, location: Location) -> None:
    from impact_check.sql.ddl import Definition
    from impact_check.sql.names import normalize
    from impact_check.sql.routines import body_query, read_routine

    routine = read_routine(sql, state.dialect)
    if routine is None:
        state.catalog.issues.append(skipped_issue("routine", "header not read", location))
        return
    name = _name(state, routine.name) + "()"
    query, failed = body_query(routine, state.dialect)
    state.definitions.pop(name, None)
    state.stored.discard(name)
    if query is not None and query.find(exp.Table) is not None:
        tree = normalize(query, state.dialect)
        state.definitions[name] = Definition(name, routine.kind, tree, location, [], state.dialect)
        if routine.atomic:
            state.stored.add(name)
    why = routine.skipped or (f"{failed} body statement(s) not parsed" if failed else None)
    if why:
        kind = f"{routine.language} {routine.kind} body"
        state.catalog.issues.append(skipped_issue(kind, f"{name}: {why}", location, name))


def _drop_routine(state: DdlState, sql: str) -> None:
    from impact_check.sql.routines import split_top

    match = re.match(_DROP_ROUTINE, sql)
    if match is None:
        return
    for item in split_top(match.group(1)):
        state.definitions.pop(_name(state, item.split("(", 1)[0].strip()) + "()", None)


def _do_block(state: DdlState, sql: str, location: Location) -> None:
    """A DO block: its DDL is applied (the usual guarded `IF NOT EXISTS … ALTER TABLE`),
    its data statements run once; dynamic SQL is not read."""
    from impact_check.sql.routines import Routine, read_plpgsql, with_values

    body = re.search(_DO_BODY, sql)
    language = re.search(_DO_LANGUAGE, sql)
    if body is None or (language is not None and language.group(1).lower() != "plpgsql"):
        state.mark_uncertain(None)
        state.catalog.issues.append(skipped_issue("DO block", "body not read", location))
        return
    routine = Routine("do", "DO", "plpgsql")
    read_plpgsql(body.group(2), routine)
    for statement in routine.ddl:
        apply_embedded(state, statement, location)
    if state.in_migration:
        for statement in routine.statements:
            apply_embedded(state, with_values(statement, routine, state.dialect), location)
    if routine.skipped:
        for text in routine.dynamic or [""]:  # "": a statement not read, of any kind
            if text and not re.search(_SCHEMA_WORDS, text):
                continue  # dynamic SQL that changes no table (grants, policies, …)
            target = COMMAND_TARGET.search(text)
            state.mark_uncertain(target.group(1).strip('"`[]').lower() if target else None)
        state.catalog.issues.append(skipped_issue("DO block", routine.skipped, location))


def apply_embedded(
    state: DdlState, sql: str, location: Location, operations: list[Operation] | None = None
) -> bool:
    """Apply one statement read out of a larger one (a PL/pgSQL block, a multi-action
    ALTER); False when it does not parse (its table is then uncertain). With
    ``operations``, what applying it again needs is appended (ddl.Operation)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    from impact_check.sql.ddl import INERT
    from impact_check.sql.names import normalize

    done: Operation = None
    try:
        if apply_other(state, sql, location):
            done = INERT if inert(sql) else None
            return True
        try:
            expression = sqlglot.parse_one(sql, read=state.dialect)
        except (SqlglotError, RecursionError):
            state.unreadable(sql)
            return False
        if expression is None:
            done = INERT
        else:
            done = state.apply(normalize(expression, state.dialect), location)
        return True
    finally:
        if operations is not None:
            operations.append(done)


def apply_actions(
    state: DdlState, sql: str, location: Location, operations: list[Operation] | None = None
) -> bool:
    """A multi-action ``ALTER TABLE`` sqlglot reads only as an opaque command (``DROP
    CONSTRAINT a, ADD CONSTRAINT a FOREIGN KEY …``, an action it does not know next to
    ones it does): each action applied on its own. False when ``sql`` is not one."""
    match = re.match(_ALTER_ACTIONS, sql)
    if match is None:
        return False
    from impact_check.sql.routines import split_top

    actions = split_top(match.group(2))
    if len(actions) < 2:
        return False
    for action in actions:
        part = f"{match.group(1)} {action}"
        if not apply_embedded(state, part, location, operations):
            why = f"cannot parse one action of an ALTER TABLE: {part.strip()[:80]!r}"
            state.catalog.issues.append(Issue("AN901", why, location))
    return True


def _rename_constraint(state: DdlState, sql: str) -> None:
    match = re.match(_RENAME_CONSTRAINT, sql)
    if match is None:
        return
    state.resolver.known = set(state.catalog.datasets)
    dataset = state.catalog.datasets.get(state.resolver.resolve(_name(state, match.group(1))))
    old, new = (m.strip('"').lower() for m in match.group(2, 3))
    if dataset is not None and old in dataset.constraints:
        dataset.constraints[new] = dataset.constraints.pop(old)


def _move_relation(state: DdlState, sql: str, location: Location) -> None:
    """``SET SCHEMA s`` and ``ALTER MATERIALIZED VIEW … RENAME TO``: a table rename."""
    match = re.match(_SET_SCHEMA, sql)
    if match is None:
        return
    old = _name(state, match.group(1))
    state.resolver.known = set(state.catalog.datasets) | set(state.definitions)
    old = state.resolver.resolve(old)
    target = match.group(2).replace('"', "")
    if re.search(r"(?i)\bSET\s+SCHEMA\b", sql):
        target = f"{target}.{old.rsplit('.', 1)[-1]}"
    state.rename_relation(old, exp.to_table(target.lower()), location)


__all__ = [
    "SILENT",
    "SKIPPED",
    "apply_actions",
    "apply_embedded",
    "apply_other",
    "inert",
    "kind_of",
    "normalised",
    "skipped_issue",
    "summary",
]
