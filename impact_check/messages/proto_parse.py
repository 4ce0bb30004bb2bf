"""Protobuf schema files (``.proto``, proto2 and proto3): a small parser into descriptors.

It reads what the breaking-change rules compare (messages.proto_compat): the package,
messages (nested too) with their fields (label, type, number, oneof, ``json_name``,
``default``), ``map<K, V>`` fields (as protoc does: a repeated ``XEntry`` message),
``reserved`` numbers and names, and enums with their values and reservations. Options other
than ``json_name``/``default``, services, extensions and imports are read past, not
compared; a type from an imported file is assumed to be a message (its file is not read).
Editions files (``edition = "2023"``) are refused with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from impact_check.messages.model import SchemaReadError

SCALARS = frozenset(
    {
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
        "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    }
)  # fmt: skip
MAX_NUMBER = 536_870_911  # 2^29 - 1: the largest field number
MAX_ENUM = 2_147_483_647

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?
                     |\.\d+(?:[eE][-+]?\d+)?|inf|nan)\b)
  | (?P<ident>\.?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)
  | (?P<punct>[{}\[\]()<>;,=:/.-])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class ProtoField:
    """A field of a message, as ``buf breaking`` compares it."""

    name: str
    number: int
    type: str  # a scalar name, or the resolved full name of a message or enum
    kind: str  # a scalar name, "message", "enum" or "group"
    label: str | None  # optional | required | repeated | None (proto3 singular)
    line: int
    explicit_optional: bool = False  # proto3 ``optional``: a synthetic oneof
    oneof: str | None = None
    json_name: str = ""
    default: str | None = None
    is_map: bool = False


@dataclass
class ProtoMessage:
    """A message type (``full_name`` without a leading dot)."""

    full_name: str
    name: str
    line: int
    fields: dict[int, ProtoField] = field(default_factory=dict)
    reserved: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: set[str] = field(default_factory=set)
    oneofs: list[str] = field(default_factory=list)
    map_entry: bool = False


@dataclass
class ProtoEnum:
    """An enum type: values as (name, number, line), reservations."""

    full_name: str
    name: str
    line: int
    values: list[tuple[str, int, int]] = field(default_factory=list)
    reserved: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: set[str] = field(default_factory=set)


@dataclass
class ProtoFile:
    """What one ``.proto`` file declares."""

    syntax: str = "proto2"
    package: str = ""
    package_line: int = 1
    messages: dict[str, ProtoMessage] = field(default_factory=dict)
    enums: dict[str, ProtoEnum] = field(default_factory=dict)


def json_name(name: str) -> str:
    """protoc's default JSON name: underscores dropped, the next letter upper-cased."""
    out, upper = [], False
    for char in name:
        if char == "_":
            upper = True
        elif upper:
            out.append(char.upper())
            upper = False
        else:
            out.append(char)
    return "".join(out)


def parse_proto(text: str, max_depth: int = 100) -> ProtoFile:
    """Parse a ``.proto`` file; SchemaReadError naming the line when it cannot."""
    parser = _Parser(_tokens(text), max_depth)
    parser.file()
    parser.resolve()
    return parser.out


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos, line = 0, 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SchemaReadError(f"unexpected character {text[pos]!r}", line)
        kind = match.lastgroup or ""
        value = match.group()
        if kind not in ("ws", "comment"):
            out.append((kind, value, line))
        line += value.count("\n")
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], max_depth: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.out = ProtoFile()
        self.max_depth = max_depth
        self.pending: list[tuple[ProtoField, str]] = []  # field, scope to resolve its type in

    # --- tokens ---
    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.tokens[index][1] if index < len(self.tokens) else ""

    @property
    def line(self) -> int:
        if self.pos < len(self.tokens):
            return self.tokens[self.pos][2]
        return self.tokens[-1][2] if self.tokens else 1

    def take(self, expected: str | None = None) -> str:
        if self.pos >= len(self.tokens):
            raise SchemaReadError("unexpected end of file", self.line)
        value = self.tokens[self.pos][1]
        if expected is not None and value != expected:
            raise SchemaReadError(f"expected '{expected}', found '{value}'", self.line)
        self.pos += 1
        return value

    def ident(self) -> str:
        kind = self.tokens[self.pos][0] if self.pos < len(self.tokens) else ""
        if kind != "ident":
            raise SchemaReadError(f"expected a name, found '{self.peek()}'", self.line)
        return self.take()

    def number(self) -> int:
        value = self.take()
        try:
            return int(value, 0)
        except ValueError:
            raise SchemaReadError(f"expected a number, found '{value}'", self.line) from None

    def skip_statement(self) -> None:
        """Read past a statement or block (options, services, extensions, imports)."""
        depth = 0
        while self.pos < len(self.tokens):
            value = self.take()
            if value in ("{", "[", "("):
                depth += 1
                if depth > self.max_depth:
                    raise SchemaReadError("nested too deeply", self.line)
            elif value in ("}", "]", ")"):
                depth -= 1
                if depth == 0 and value == "}":
                    return
            elif value == ";" and depth == 0:
                return
        raise SchemaReadError("unexpected end of file", self.line)

    # --- file ---
    def file(self) -> None:
        while self.pos < len(self.tokens):
            word = self.peek()
            if word == "syntax":
                self.take()
                self.take("=")
                self.out.syntax = self.take().strip("\"'")
                self.take(";")
            elif word == "edition":
                raise SchemaReadError(
                    "protobuf editions files are not supported (proto2 and proto3 are)", self.line
                )
            elif word == "package":
                self.out.package_line = self.line
                self.take()
                self.out.package = self.ident().lstrip(".")
                self.take(";")
            elif word == "message":
                self.message(self.out.package, 1)
            elif word == "enum":
                self.enum(self.out.package)
            elif word in ("import", "option", "service", "extend"):
                self.skip_statement()
            elif word == ";":
                self.take()
            else:
                raise SchemaReadError(f"unexpected '{word}'", self.line)

    def _scoped(self, scope: str, name: str) -> str:
        return f"{scope}.{name}" if scope else name

    def message(self, scope: str, depth: int, name: str | None = None) -> ProtoMessage:
        if depth > self.max_depth:
            raise SchemaReadError("messages nested too deeply", self.line)
        line = self.line
        if name is None:
            self.take("message")
            name = self.ident()
        full = self._scoped(scope, name)
        if full in self.out.messages or full in self.out.enums:
            raise SchemaReadError(f"{full} is defined twice", line)
        message = ProtoMessage(full, name, line)
        self.out.messages[full] = message
        self.take("{")
        while self.peek() != "}":
            self.member(message, depth, None)
        self.take("}")
        return message

    def member(self, message: ProtoMessage, depth: int, oneof: str | None) -> None:
        word = self.peek()
        if word == "message" and oneof is None:
            self.message(message.full_name, depth + 1)
        elif word == "enum" and oneof is None:
            self.enum(message.full_name)
        elif word == "oneof" and oneof is None:
            self.take()
            name = self.ident()
            message.oneofs.append(name)
            self.take("{")
            while self.peek() != "}":
                self.member(message, depth, name)
            self.take("}")
        elif word == "reserved":
            self.take()
            self.reserved(message.reserved, message.reserved_names, MAX_NUMBER)
        elif word in ("option", "extensions", "extend"):
            self.skip_statement()
        elif word == ";":
            self.take()
        elif word == "":
            raise SchemaReadError(f"message {message.name} is not closed", self.line)
        else:
            self.field(message, depth, oneof)

    def field(self, message: ProtoMessage, depth: int, oneof: str | None) -> None:
        line = self.line
        label: str | None = None
        if self.peek() in ("optional", "required", "repeated"):
            label = self.take()
        if self.peek() == "map" and self.peek(1) == "<":
            self.map_field(message, line)
            return
        type_name = self.ident()
        if type_name == "group":
            self.group(message, depth, label, line, oneof)
            return
        name = self.ident()
        self.take("=")
        number = self.number()
        field_ = ProtoField(name, number, type_name, type_name, label, line, oneof=oneof)
        if self.out.syntax == "proto3" and label == "optional":
            field_.explicit_optional = True
            field_.label = None
        self.options(field_)
        self.take(";")
        self.add_field(message, field_)

    def add_field(self, message: ProtoMessage, field_: ProtoField) -> None:
        if field_.number in message.fields:
            raise SchemaReadError(
                f"field number {field_.number} used twice in {message.name}", field_.line
            )
        if not 1 <= field_.number <= MAX_NUMBER:
            raise SchemaReadError(f"field number {field_.number} out of range", field_.line)
        field_.json_name = field_.json_name or json_name(field_.name)
        if field_.type in SCALARS:
            field_.kind = field_.type
        else:
            self.pending.append((field_, message.full_name))
        message.fields[field_.number] = field_

    def map_field(self, message: ProtoMessage, line: int) -> None:
        self.take("map")
        self.take("<")
        key = self.ident()
        self.take(",")
        value = self.ident()
        self.take(">")
        name = self.ident()
        self.take("=")
        number = self.number()
        entry_name = "".join(p[:1].upper() + p[1:] for p in name.split("_")) + "Entry"
        entry = ProtoMessage(self._scoped(message.full_name, entry_name), entry_name, line)
        entry.map_entry = True
        self.out.messages[entry.full_name] = entry
        self.add_field(entry, ProtoField("key", 1, key, key, "optional", line))
        self.add_field(entry, ProtoField("value", 2, value, value, "optional", line))
        field_ = ProtoField(name, number, entry.full_name, "message", "repeated", line)
        field_.is_map = True
        self.options(field_)
        self.take(";")
        self.add_field(message, field_)

    def group(
        self, message: ProtoMessage, depth: int, label: str | None, line: int, oneof: str | None
    ) -> None:
        name = self.ident()
        self.take("=")
        number = self.number()
        field_ = ProtoField(name.lower(), number, name, "group", label, line, oneof=oneof)
        if self.peek() == "[":
            self.options(field_)
        nested = self.message(message.full_name, depth + 1, name)
        field_.type = nested.full_name
        self.add_field(message, field_)
        self.pending = [(f, s) for f, s in self.pending if f is not field_]

    def options(self, field_: ProtoField) -> None:
        if self.peek() != "[":
            return
        self.take("[")
        while True:
            name = self.take()
            if name == "(":  # a custom option: (name).path = value
                while self.take() != ")":
                    pass
                while self.peek() not in ("=", ""):
                    self.take()
            self.take("=")
            value = self.option_value()
            if name == "json_name":
                field_.json_name = value.strip("\"'")
            elif name == "default":
                field_.default = value
            if self.peek() == ",":
                self.take()
                continue
            self.take("]")
            return

    def option_value(self) -> str:
        if self.peek() == "{":
            start = self.pos
            depth = 0
            while True:
                value = self.take()
                depth += value == "{"
                depth -= value == "}"
                if depth == 0:
                    return " ".join(t[1] for t in self.tokens[start : self.pos])
        value = self.take()
        if value == "-":
            value += self.take()
        while self.peek() and self.tokens[self.pos][0] == "string" and value[:1] in "\"'":
            value = value[:-1] + self.take()[1:]  # adjacent string literals concatenate
        return value

    def enum(self, scope: str) -> None:
        line = self.line
        self.take("enum")
        name = self.ident()
        full = self._scoped(scope, name)
        if full in self.out.messages or full in self.out.enums:
            raise SchemaReadError(f"{full} is defined twice", line)
        enum = ProtoEnum(full, name, line)
        self.out.enums[full] = enum
        self.take("{")
        while self.peek() != "}":
            word = self.peek()
            if word == "option":
                self.skip_statement()
            elif word == "reserved":
                self.take()
                self.reserved(enum.reserved, enum.reserved_names, MAX_ENUM)
            elif word == ";":
                self.take()
            elif word == "":
                raise SchemaReadError(f"enum {name} is not closed", self.line)
            else:
                value_line = self.line
                value_name = self.ident()
                self.take("=")
                number = self.number()
                if self.peek() == "[":
                    self.skip_brackets()
                self.take(";")
                enum.values.append((value_name, number, value_line))
        self.take("}")

    def skip_brackets(self) -> None:
        depth = 0
        while True:
            value = self.take()
            depth += value == "["
            depth -= value == "]"
            if depth == 0:
                return

    def reserved(self, ranges: list[tuple[int, int]], names: set[str], top: int) -> None:
        while True:
            kind = self.tokens[self.pos][0] if self.pos < len(self.tokens) else ""
            if kind == "string":
                names.add(self.take().strip("\"'"))
            elif kind == "ident" and self.peek() != "max":
                names.add(self.take())  # editions-style reserved names
            else:
                low = self.number()
                high = low
                if self.peek() == "to":
                    self.take()
                    if self.peek() == "max":
                        self.take()
                        high = top
                    else:
                        high = self.number()
                ranges.append((low, high))
            if self.peek() == ",":
                self.take()
                continue
            self.take(";")
            return

    # --- names ---
    def resolve(self) -> None:
        """Resolve field type names by protobuf's scoping rules (innermost scope first)."""
        for field_, scope in self.pending:
            written = field_.type
            found = self._lookup(written, scope)
            if found is None:  # imported: assume a message (its file is not read)
                field_.type = written.lstrip(".")
                field_.kind = "message"
            else:
                field_.type = found
                field_.kind = "enum" if found in self.out.enums else "message"

    def _lookup(self, written: str, scope: str) -> str | None:
        known = self.out.messages.keys() | self.out.enums.keys()
        if written.startswith("."):
            name = written[1:]
            return name if name in known else None
        first, _, rest = written.partition(".")
        parts = scope.split(".") if scope else []
        for depth in range(len(parts), -1, -1):
            prefix = ".".join(parts[:depth])
            candidate = self._scoped(prefix, first)
            if candidate in known or any(k.startswith(candidate + ".") for k in known):
                full = f"{candidate}.{rest}" if rest else candidate
                return full if full in known else None
        return None
