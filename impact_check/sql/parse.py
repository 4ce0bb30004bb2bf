"""Split a SQL file into statements and parse each one on its own.

A bad statement costs only itself: the others in the file are still parsed. Each parsed
statement keeps the 1-based line where it starts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]

# sqlglot logs fallbacks to Command as warnings; they become AN findings instead.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEFAULT_DIALECT = "duckdb"  # permissive: reads most Postgres/ANSI DDL and view SQL


@dataclass
class Statement:
    """One statement of a file: its parsed tree (None on error) and where it starts."""

    line: int
    sql: str
    expression: exp.Expr | None = None
    error: str | None = None
    error_line: int | None = None


def check_dialect(dialect: str) -> str:
    """Return ``dialect`` if sqlglot knows it, else raise ValueError naming the known ones."""
    try:
        Dialect.get_or_raise(dialect)
    except ValueError as err:
        raise ValueError(f"unknown SQL dialect {dialect!r}") from err
    return dialect


def split_statements(text: str, dialect: str) -> list[tuple[int, str]]:
    """Split on top-level semicolons found by sqlglot's tokenizer: (start line, text) pairs.

    A statement starts at its first token, so leading comments do not shift its line.
    """
    return [(line, sql) for line, sql, _depth in _chunks(text, dialect)]


# the MySQL client's `DELIMITER $$` line: statements end at `$$` until the next one (how
# MySQL migrations write procedures, whose bodies hold `;`)
_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*\r?$", re.I | re.M)


def _chunks(text: str, dialect: str) -> list[tuple[int, str, int]]:
    """(start line, text, deepest parenthesis nesting) of every statement."""
    directives = list(_DELIMITER.finditer(text))
    if not directives:
        return _tokenized_chunks(text, dialect)
    out: list[tuple[int, str, int]] = []
    delimiter, position = ";", 0
    for directive in [*directives, None]:
        end = directive.start() if directive else len(text)
        region, before = text[position:end], text.count("\n", 0, position)
        if delimiter == ";":
            out.extend(
                (line + before, sql, d) for line, sql, d in _tokenized_chunks(region, dialect)
            )
        else:
            out.extend(_delimited_chunks(region, delimiter, before))
        if directive is not None:
            delimiter, position = directive.group(1), directive.end()
    return out


def _delimited_chunks(region: str, delimiter: str, before: int) -> list[tuple[int, str, int]]:
    """The statements of a region that ends them with a custom delimiter."""
    out, offset = [], 0
    for piece in region.split(delimiter):
        sql = piece.strip()
        if sql:
            start = offset + len(piece) - len(piece.lstrip())
            depth = deepest = 0
            for char in sql:
                depth += (char in "([{") - (char in ")]}")
                deepest = max(deepest, depth)
            out.append(
                (before + region.count("\n", 0, start) + 1, sql.rstrip(";").strip(), deepest)
            )
        offset += len(piece) + len(delimiter)
    return out


def _tokenized_chunks(text: str, dialect: str) -> list[tuple[int, str, int]]:
    """(start line, text, deepest parenthesis nesting) of every ``;``-ended statement."""
    tokens = Dialect.get_or_raise(dialect).tokenize(text)
    out: list[tuple[int, str, int]] = []
    first = None
    depth = deepest = 0
    atomic = -1  # inside a BEGIN ATOMIC … END body: CASE … END pairs open, or -1
    previous = None
    for token in tokens:
        kind = token.token_type
        if atomic >= 0:  # a SQL-standard function body: its `;` do not end the statement
            if kind == TokenType.CASE:
                atomic += 1
            elif kind == TokenType.END:
                atomic -= 1
        elif kind == TokenType.VAR and token.text.upper() == "ATOMIC" and previous == "BEGIN":
            atomic = 0
        previous = kind.name
        if kind == TokenType.SEMICOLON and atomic < 0:
            if first is not None:
                out.append((first.line, text[first.start : token.start].strip(), deepest))
            first, depth, deepest = None, 0, 0
            continue
        if first is None:
            first = token
        if token.token_type in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in _CLOSING:
            depth -= 1
    if first is not None:
        out.append((first.line, text[first.start :].strip(), deepest))
    return out


_OPENING = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSING = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}


def parse_file(
    text: str,
    dialect: str,
    max_depth: int = 100,
    max_statements: int | None = None,
) -> list[Statement]:
    """Parse every statement of ``text``; errors are kept per statement, never raised.

    A statement nested deeper than ``max_depth`` is not parsed (the parser recurses once per
    level); statements past ``max_statements`` are reported as one error.
    """
    try:
        chunks = _file_chunks(text, dialect)
    except TokenError as err:
        return [Statement(line=1, sql=text, error=clean_message(str(err)), error_line=1)]
    except RecursionError:
        return [Statement(line=1, sql="", error="nested too deeply to tokenize", error_line=1)]
    cut = None
    if max_statements is not None and len(chunks) > max_statements:
        cut = chunks[max_statements]
        chunks = chunks[:max_statements]
    statements = []
    for line, sql, depth in chunks:
        if depth > max_depth:
            error = f"nested {depth} levels deep, over limits.max_nesting_depth ({max_depth})"
            statements.append(Statement(line, sql, error=error, error_line=line))
        else:
            statements.append(_parse_statement(line, sql, dialect))
    if cut is not None:
        error = (
            f"more than limits.max_statements_per_file ({max_statements}) statements: "
            "the rest of the file is not analysed"
        )
        statements.append(Statement(cut[0], "", error=error, error_line=cut[0]))
    return statements


def parse_statement_at(text: str, index: int, dialect: str) -> Statement:
    """The ``index``-th statement of ``text`` alone, as :func:`parse_file` parses it (each
    statement is parsed on its own, so the tree is the same): a view of a many-statement
    file costs one statement's parse, not the file's. The caller knows the statement parsed
    within the limits (IndexError when ``text`` has fewer statements)."""
    line, sql, _depth = _file_chunks(text, dialect)[index]
    return _parse_statement(line, sql, dialect)


def _file_chunks(text: str, dialect: str) -> list[tuple[int, str, int]]:
    """``_chunks``, remembered for the files read last (up to ``_REMEMBERED_CHARS`` of
    text): the views of a migration are parsed again one by one, each by its index, after
    the file was applied (tokenizing the file again for each cost a fourth of a cold check
    of 2,000 views in 250 migrations); filled before the derivation forks its workers, so
    they inherit it."""
    key = (text, dialect)
    found = _REMEMBERED.get(key)
    if found is None:
        found = _REMEMBERED[key] = _chunks(text, dialect)
        global _remembered_chars
        _remembered_chars += len(text)
        while _remembered_chars > _REMEMBERED_CHARS and len(_REMEMBERED) > 1:
            oldest = next(iter(_REMEMBERED))
            del _REMEMBERED[oldest]
            _remembered_chars -= len(oldest[0])
    return found


# the text is held twice (the key, the statements): 2 × 32 MB at most
_REMEMBERED_CHARS = 32_000_000
_REMEMBERED: dict[tuple[str, str], list[tuple[int, str, int]]] = {}
_remembered_chars = 0


def _parse_statement(line: int, sql: str, dialect: str) -> Statement:
    try:
        expression = sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError) as err:
        return Statement(line, sql, error=_describe(err), error_line=line + _error_line(err) - 1)
    except RecursionError:
        return Statement(line, sql, error="nested too deeply to parse", error_line=line)
    if "pivot" in sql.lower():
        from impact_check.sql.pivots import standard_pivots

        expression = standard_pivots(expression, sql, dialect)
    return Statement(line, sql, expression=expression)


def _error_line(err: Exception) -> int:
    errors = getattr(err, "errors", None)
    if errors and isinstance(errors[0], dict) and errors[0].get("line"):
        return int(errors[0]["line"])
    return 1


def _describe(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if errors and isinstance(errors[0], dict) and errors[0].get("description"):
        first = errors[0]
        where = f" near {first['highlight']!r}" if first.get("highlight") else ""
        return clean_message(str(first["description"])).split(". Line")[0] + where
    return clean_message(str(err))


def clean_message(message: str) -> str:
    """Drop terminal escapes and keep the first line of a sqlglot message."""
    return _ANSI.sub("", message).strip().splitlines()[0] if message.strip() else message
