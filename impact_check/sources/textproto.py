"""A small reader of the protobuf text format (``schema.pbtxt``), without protobuf.

Enough of the format for TFX/TFDV schemas: ``field: value`` and ``field { … }`` (or
``field: { … }``, ``< … >``), repeated fields, strings in single or double quotes with C
escapes (adjacent strings concatenate), numbers, enum identifiers, ``[a, b]`` lists and ``#``
comments. Every message is a dict of field -> list of values. Bounded: nesting deeper than
``max_depth`` is refused; an error names the line.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

Message = dict[str, list[Any]]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?(?![\w.]))
  | (?P<ident>[-+]?[A-Za-z_][\w.]*|\[[\w./]+\])
  | (?P<punct>[{}<>:;,\[\]])
    """,
    re.VERBOSE,
)


class TextFormatError(ValueError):
    """The text is not valid text format; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def parse(text: str, max_depth: int = 100) -> Message:
    """The top-level message of ``text``."""
    tokens = list(_tokens(text))
    message, pos = _message(tokens, 0, None, 0, max_depth)
    if pos != len(tokens):
        _kind, value, line = tokens[pos]
        raise TextFormatError(f"unexpected {value!r}", line)
    return message


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TextFormatError(f"unexpected character {text[pos]!r}", line)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "space":
            out.append((kind, value, line))
        line += value.count("\n")
        pos = match.end()
    return out


_CLOSE = {"{": "}", "<": ">"}


def _message(
    tokens: list[tuple[str, str, int]], pos: int, close: str | None, depth: int, max_depth: int
) -> tuple[Message, int]:
    if depth > max_depth:
        line = tokens[pos][2] if pos < len(tokens) else 0
        raise TextFormatError(f"nested deeper than {max_depth} levels", line)
    message: Message = {}
    while pos < len(tokens):
        kind, value, line = tokens[pos]
        if close is not None and value == close:
            return message, pos + 1
        if kind != "ident":
            raise TextFormatError(f"expected a field name, found {value!r}", line)
        name = value
        pos += 1
        colon = pos < len(tokens) and tokens[pos][1] == ":"
        if colon:
            pos += 1
        if pos >= len(tokens):
            raise TextFormatError(f"field {name} has no value", line)
        opener = tokens[pos][1]
        if opener in _CLOSE:
            child, pos = _message(tokens, pos + 1, _CLOSE[opener], depth + 1, max_depth)
            message.setdefault(name, []).append(child)
        elif opener == "[" and colon:
            pos = _list(tokens, pos + 1, message.setdefault(name, []), depth, max_depth)
        elif colon:
            scalar, pos = _scalar(tokens, pos)
            message.setdefault(name, []).append(scalar)
        else:
            raise TextFormatError(f"field {name}: expected ':' or '{{'", line)
        if pos < len(tokens) and tokens[pos][1] in (";", ","):
            pos += 1
    if close is not None:
        raise TextFormatError(f"missing {close!r}", tokens[-1][2] if tokens else 1)
    return message, pos


def _list(
    tokens: list[tuple[str, str, int]], pos: int, into: list[Any], depth: int, max_depth: int
) -> int:
    while pos < len(tokens):
        value = tokens[pos][1]
        if value == "]":
            return pos + 1
        if value == ",":
            pos += 1
            continue
        if value in _CLOSE:
            child, pos = _message(tokens, pos + 1, _CLOSE[value], depth + 1, max_depth)
            into.append(child)
        else:
            scalar, pos = _scalar(tokens, pos)
            into.append(scalar)
    raise TextFormatError("missing ']'", tokens[-1][2] if tokens else 1)


def _scalar(tokens: list[tuple[str, str, int]], pos: int) -> tuple[Any, int]:
    kind, value, line = tokens[pos]
    if kind == "string":
        parts = []
        while pos < len(tokens) and tokens[pos][0] == "string":
            parts.append(_unquote(tokens[pos][1], tokens[pos][2]))
            pos += 1
        return "".join(parts), pos
    if kind == "number":
        text = value.rstrip("fF")
        try:
            number: Any = int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)
        except ValueError as err:
            raise TextFormatError(f"bad number {value!r}", line) from err
        return number, pos + 1
    if kind == "ident":
        return {"true": True, "false": False}.get(value, value), pos + 1
    raise TextFormatError(f"expected a value, found {value!r}", line)


def _unquote(token: str, line: int) -> str:
    try:
        raw = codecs.escape_decode(token[1:-1].encode("utf-8"))[0]
        assert isinstance(raw, bytes)
        return raw.decode("utf-8", "replace")
    except (ValueError, UnicodeDecodeError) as err:
        raise TextFormatError(f"bad string {token[:40]!r}", line) from err
