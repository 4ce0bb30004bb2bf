"""Functions and procedures whose bodies read tables: consumers, bound at head like views.

``CREATE FUNCTION … LANGUAGE sql AS $$ … $$`` (or ``BEGIN ATOMIC … END``, or
``RETURN expr``) and PL/pgSQL bodies are read from the statement's text (sqlglot hands most
of them back as an opaque command). A body's SQL statements become one query that reads
what they read (sql/onetime.py ``combine``), with parameters, declared variables and
``NEW``/``OLD`` fields replaced by NULL, so the lineage pass binds it against the head
schema: a function that reads a dropped column is a consumer that breaks.

PostgreSQL validates a SQL-language body when the function is created (unless
``check_function_bodies`` is off) and, for ``BEGIN ATOMIC`` bodies, records dependencies
like a view's; a PL/pgSQL body is only checked when it runs. Either way the function fails
at head when its body reads what is gone. Bodies in other languages, dynamic SQL
(``EXECUTE``) and statements that do not parse are not analysed: they are counted in the
report's AN911 summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError

from impact_check.sql.onetime import combine, reading_query
from impact_check.sql.parse import split_statements

_NAME = r'(?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))*'
_HEADER = re.compile(
    rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\s+({_NAME})\s*\(", re.I | re.S
)
_DOLLAR = re.compile(r"\$(\w*)\$(.*?)\$\1\$", re.S)
_QUOTED = re.compile(r"'((?:[^']|'')*)'", re.S)
_LANGUAGE = re.compile(r"\bLANGUAGE\s+'?(\w+)'?", re.I)
_ATOMIC = re.compile(r"\bBEGIN\s+ATOMIC\b(.*)\bEND\b\s*;?\s*$", re.I | re.S)
_RETURN = re.compile(r"\bRETURN\b(.*)$", re.I | re.S)
_AS = re.compile(r"\bAS\s*$", re.I)
_RETURNS_TABLE = re.compile(r"\bRETURNS\s+TABLE\s*\(", re.I)
_MODES = {"in", "out", "inout", "variadic"}
_PLPGSQL_SPECIAL = {
    "found",
    "sqlstate",
    "sqlerrm",
    "tg_op",
    "tg_name",
    "tg_when",
    "tg_level",
    "tg_table_name",
    "tg_table_schema",
    "tg_relid",
    "tg_nargs",
    "tg_argv",
}
# first words of unnamed parameter types that take more than one word
_TYPE_WORDS = {"double", "character", "char", "bit", "timestamp", "time", "interval", "national"}


@dataclass
class Routine:
    """A function or procedure as written: name, language, variables and body statements."""

    kind: str  # function | procedure
    name: str  # as written (dotted)
    language: str
    variables: set[str] = field(default_factory=set)  # parameters, declared, OUT/TABLE
    statements: list[str] = field(default_factory=list)  # data statements of the body
    ddl: list[str] = field(default_factory=list)  # schema statements of a PL/pgSQL body
    dynamic: list[str] = field(default_factory=list)  # EXECUTE statements (not read)
    skipped: str | None = None  # why (part of) the body is not analysed
    atomic: bool = False  # a BEGIN ATOMIC body: stored parsed, with its dependencies


def read_routine(sql: str, dialect: str) -> Routine | None:
    """The routine a ``CREATE FUNCTION|PROCEDURE`` statement defines (None: not one)."""
    header = _HEADER.match(sql)
    if header is None:
        return None
    close = _closing(sql, header.end() - 1)
    if close is None:
        return None
    kind, name = header.group(1).lower(), re.sub(r"\s+", "", header.group(2))
    parameters = _parameters(sql[header.end() : close])
    rest = sql[close + 1 :]
    body, options, atomic = _body(rest)
    match = _LANGUAGE.search(options)
    language = match.group(1).lower() if match else "sql"
    # a SQL-language body cannot name its OUT parameters; PL/pgSQL's are variables
    variables = {n for n, mode in parameters if language != "sql" or mode != "out"}
    table = _RETURNS_TABLE.search(options)
    if table is not None and language != "sql":
        end = _closing(options, table.end() - 1)
        variables |= {n for n, _ in _parameters(options[table.end() : end or len(options)])}
    if language == "plpgsql":
        variables |= _PLPGSQL_SPECIAL
    routine = Routine(kind, name, language, {v.lower() for v in variables}, atomic=atomic)
    if body is None:
        routine.skipped = "no body the checker can read"
    elif language == "sql":
        routine.statements = _sql_statements(body, dialect)
    elif language == "plpgsql":
        read_plpgsql(body, routine)
    else:
        routine.skipped = f"body in LANGUAGE {language}"
    return routine


def _closing(text: str, start: int) -> int | None:
    """Index of the parenthesis closing the one at ``start`` (quotes respected)."""
    depth = 0
    quote = None
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def split_top(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside parentheses and quotes, each part stripped."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    quote = None
    for char in text:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        else:
            depth += char == "("
            depth -= char == ")"
        if char == sep and depth == 0 and quote is None:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parameters(text: str) -> list[tuple[str, str]]:
    """(name, mode) of the named parameters in a parameter list."""
    out = []
    for param in split_top(text):
        words = re.split(r"\s+", re.split(r"(?i)\s(?:DEFAULT|=)\s", param, maxsplit=1)[0])
        mode = "in"
        if words and words[0].lower() in _MODES:
            mode, words = words[0].lower(), words[1:]
        if len(words) >= 2 and words[0].lower() not in _TYPE_WORDS and "(" not in words[0]:
            out.append((words[0].strip('"'), mode))
    return out


def _body(rest: str) -> tuple[str | None, str, bool]:
    """(body text, the options without it, whether it is a BEGIN ATOMIC body)."""
    dollar = _DOLLAR.search(rest)
    if dollar is not None and _AS.search(rest[: dollar.start()]):
        return dollar.group(2), rest[: dollar.start()] + rest[dollar.end() :], False
    for match in _QUOTED.finditer(rest):
        if _AS.search(rest[: match.start()]):
            body = match.group(1).replace("''", "'")
            return body, rest[: match.start()] + rest[match.end() :], False
    atomic = _ATOMIC.search(rest)
    if atomic is not None:
        return atomic.group(1), rest[: atomic.start()], True
    returned = _RETURN.search(rest)  # a SQL-standard `RETURN expr` body: also stored parsed
    if returned is not None:
        body = f"SELECT {returned.group(1).strip().rstrip(';')}"
        return body, rest[: returned.start()], True
    return None, rest, False


def _sql_statements(body: str, dialect: str) -> list[str]:
    try:
        return [sql for _line, sql in split_statements(body, dialect) if sql]
    except SqlglotError:
        return [body]


# -- PL/pgSQL -----------------------------------------------------------------------------

_LABEL = re.compile(r"^\s*<<\w+>>\s*", re.S)
_BLOCK_WORDS = re.compile(
    r"^\s*(?:DECLARE\b|BEGIN\b|EXCEPTION\b|ELSE\b|LOOP\b|END\s+(?:IF|LOOP|CASE)\b|END\b)", re.I
)
_CONDITION = re.compile(
    r"^\s*(?:ELS(?:E\s*)?IF|IF|WHILE|WHEN|CASE)\b(.*?)\b(?:THEN|LOOP)\b", re.I | re.S
)
_FOR = re.compile(r"^\s*FOR\s+(\w+)(?:\s*,\s*\w+)*\s+IN\s+(.*?)\bLOOP\b", re.I | re.S)
_FOREACH = re.compile(r"^\s*FOREACH\s+(\w+).*?\bLOOP\b", re.I | re.S)
_ASSIGN = re.compile(r"^\s*([\w.\"]+(?:\[[^\]]*\])?)\s*(?::=|=)\s*(.*)$", re.S)
_DATA = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|TABLE)\b", re.I)
_SCHEMA = re.compile(r"^\s*(?:CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE)\b", re.I)
_SILENT_STEP = re.compile(
    r"^\s*(?:RAISE|NULL|GET\s+(?:STACKED\s+)?DIAGNOSTICS|CONTINUE|EXIT|ASSERT|CLOSE|FETCH|"
    r"MOVE|OPEN|COMMIT|ROLLBACK|RETURN\s+(?:NEW|OLD|NULL)?\s*$|RETURN\s*$)",
    re.I | re.S,
)
_SELECT_INTO = re.compile(
    r"\bINTO\s+(?:STRICT\s+)?[\w.\"]+(?:\s*,\s*[\w.\"]+)*\s*(?=\bFROM\b|$)", re.I | re.S
)
_RETURNING = re.compile(r"\bRETURNING\b.*$", re.I | re.S)


def read_plpgsql(body: str, routine: Routine) -> None:
    """Fill ``routine`` from a PL/pgSQL body: variables, data and schema statements."""
    chunks = _plpgsql_chunks(body)
    declaring = False
    for chunk in chunks:
        text = _LABEL.sub("", chunk)
        if re.match(r"^\s*DECLARE\b", text, re.I):
            declaring, text = True, re.sub(r"^\s*DECLARE\b", "", text, flags=re.I)
        if declaring:
            begin = re.search(r"\bBEGIN\b", text, re.I)
            if begin is None:
                _declare(text, routine)
                continue
            _declare(text[: begin.start()], routine)
            declaring, text = False, text[begin.start() :]
        _plpgsql_step(text, routine)


def _declare(text: str, routine: Routine) -> None:
    words = text.split()
    if words:
        routine.variables.add(words[0].strip('"').lower())


def _plpgsql_step(text: str, routine: Routine) -> None:
    """One `;`-terminated piece of a PL/pgSQL body: the SQL it runs, if any."""
    while True:
        text = _LABEL.sub("", text)
        block = _BLOCK_WORDS.match(text)
        if block is not None:
            text = text[block.end() :]
            continue
        loop = _FOR.match(text)
        if loop is not None:
            routine.variables.add(loop.group(1).lower())
            source = loop.group(2).strip()
            if _DATA.match(source):
                routine.statements.append(source)
            text = text[loop.end() :]
            continue
        each = _FOREACH.match(text)
        if each is not None:
            routine.variables.add(each.group(1).lower())
            text = text[each.end() :]
            continue
        condition = _CONDITION.match(text)
        if condition is not None:
            if condition.group(1).strip():
                routine.statements.append(f"SELECT {condition.group(1).strip()}")
            text = text[condition.end() :]
            continue
        break
    text = text.strip()
    if not text or _SILENT_STEP.match(text):
        return
    upper = text.upper()
    if upper.startswith("EXECUTE"):
        routine.skipped = "dynamic SQL (EXECUTE)"
        routine.dynamic.append(text)
    elif upper.startswith("PERFORM"):
        routine.statements.append("SELECT " + text[len("PERFORM") :].strip())
    elif upper.startswith("RETURN QUERY"):
        routine.statements.append(_statement(text[len("RETURN QUERY") :]))
    elif upper.startswith("RETURN"):
        routine.statements.append("SELECT " + text[len("RETURN") :].strip())
    elif _DATA.match(text):
        routine.statements.append(_statement(text))
    elif _SCHEMA.match(text):
        routine.ddl.append(text)
    elif (assign := _ASSIGN.match(text)) is not None:
        routine.statements.append("SELECT " + assign.group(2).strip())
    elif not upper.startswith(("CALL", "RAISE")):
        routine.skipped = f"PL/pgSQL statement not read: {text.split()[0]}"


def _statement(text: str) -> str:
    text = _RETURNING.sub("", text.strip())
    if text.upper().startswith(("SELECT", "WITH")):
        text = _SELECT_INTO.sub("", text, count=1)
    return text


def _plpgsql_chunks(body: str) -> list[str]:
    """The body split at `;` outside parentheses, quotes, dollar quotes and comments."""
    body = re.sub(r"--[^\n]*", "", body)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    chunks, current, depth, index = [], [], 0, 0
    while index < len(body):
        char = body[index]
        if char == "'":
            end = body.find("'", index + 1)
            while end != -1 and body[end + 1 : end + 2] == "'":
                end = body.find("'", end + 2)
            end = len(body) - 1 if end == -1 else end
            current.append(body[index : end + 1])
            index = end + 1
            continue
        if char == "$" and (dollar := _DOLLAR.match(body, index)) is not None:
            current.append(dollar.group(0))
            index = dollar.end()
            continue
        depth += char == "("
        depth -= char == ")"
        if char == ";" and depth == 0:
            chunks.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    chunks.append("".join(current))
    return [c for c in chunks if c.strip()]


# -- the body as one query ----------------------------------------------------------------


def body_query(routine: Routine, dialect: str) -> tuple[exp.Query | None, int]:
    """One query reading what the body reads (variables replaced by NULL), and how many
    body statements could not be parsed."""
    import sqlglot

    parts: list[exp.Expr] = []
    failed = 0
    own = routine.name.split(".")[-1].strip('"').lower()
    for sql in routine.statements:
        try:
            statement = sqlglot.parse_one(sql, read=dialect)
        except (SqlglotError, RecursionError):
            failed += 1
            continue
        query = reading_query(statement) if statement is not None else None
        if query is not None:
            parts.append(_without_variables(query, routine.variables, own))
    return combine(parts), failed


def _without_variables(query: exp.Expr, variables: set[str], own: str) -> exp.Expr:
    """Parameters, variables and NEW/OLD fields are values, not columns: NULL."""

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column) or _assigned(node):
            return node
        qualifier = node.table.lower()
        if qualifier in ("new", "old", own) or (not qualifier and node.name.lower() in variables):
            return exp.Null()
        if qualifier and qualifier in variables and not node.args.get("db"):
            return exp.Null()  # a field of a record variable
        return node

    return query.transform(replace, copy=False)


def _assigned(column: exp.Column) -> bool:
    """The column an UPDATE sets (``SET total = total_count``): a column even when a
    variable has its name."""
    parent = column.parent
    return (
        isinstance(parent, exp.EQ)
        and column.arg_key == "this"
        and isinstance(parent.parent, exp.Update)
        and parent.arg_key == "expressions"
    )


def with_values(sql: str, routine: Routine, dialect: str) -> str:
    """A body statement as it runs: its variables (declared, loop records, parameters)
    are values, NULL here, not columns of the tables it reads. The text as it is when it
    does not parse (applying it reports that)."""
    import sqlglot

    if not routine.variables:
        return sql
    try:
        statement = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, RecursionError):
        return sql
    if statement is None:
        return sql
    own = routine.name.split(".")[-1].strip('"').lower()
    return _without_variables(statement, routine.variables, own).sql(dialect)


__all__ = ["Routine", "body_query", "read_plpgsql", "read_routine", "split_top", "with_values"]
