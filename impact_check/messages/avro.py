"""Avro schemas (``.avsc``): a bounded parser and the reader/writer compatibility check.

The check follows the reference checker, the ``avro`` package's
``avro.compatibility.ReaderWriterCompatibilityChecker`` (a port of Java's
``SchemaCompatibility``, what Confluent Schema Registry runs for Avro subjects): a reader can
read what a writer wrote when every reader field is written or has a default, types match or
promote (int -> long -> float -> double, string <-> bytes), named types keep their name (or
the reader lists the writer's full name among its aliases), enums keep the writer's symbols
(unless the reader has an enum default), fixed sizes match and a reader union has a branch
for every writer branch. Logical types, ``doc`` and ordering are not compared (the reference
checker ignores them too). The tests run the reference checker on generated schema pairs as
truth (tests/messages/test_avro_truth.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from impact_check.messages.model import (
    Incompatibility,
    SchemaReadError,
    line_of,
    load_schema_json,
)

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_PROMOTIONS = {
    "long": {"int"},
    "float": {"int", "long"},
    "double": {"int", "long", "float"},
    "bytes": {"string"},
    "string": {"bytes"},
}


@dataclass(eq=False)
class AvroField:
    """A record field: its name, type, whether it has a default, its aliases and line."""

    name: str
    type: AvroType
    has_default: bool
    aliases: list[str] = field(default_factory=list)
    line: int | None = None


@dataclass(eq=False)
class AvroType:
    """One Avro type. Named types are shared by every reference to them (recursion)."""

    type: str  # a primitive name, record, enum, fixed, array, map or union
    name: str | None = None  # the simple name of a named type
    fullname: str | None = None
    aliases: list[str] = field(default_factory=list)  # as written (the checker's view)
    fields: list[AvroField] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    enum_default: str | None = None
    size: int | None = None
    items: AvroType | None = None  # array items, map values
    branches: list[AvroType] = field(default_factory=list)
    line: int | None = None

    def describe(self) -> str:
        return self.fullname or self.type


def parse_avro(text: str, max_depth: int = 100) -> AvroType:
    """Parse an ``.avsc`` document; SchemaReadError (with a line when known) when invalid."""
    data = load_schema_json(text, max_depth, "Avro schema")
    return _Parser(text).parse(data, None, 0)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.named: dict[str, AvroType] = {}

    def parse(self, data: object, namespace: str | None, near: int) -> AvroType:
        if isinstance(data, str):
            return self._reference(data, namespace, near)
        if isinstance(data, list):
            branches = [self.parse(item, namespace, near) for item in data]
            if not branches:
                raise SchemaReadError("an empty union", line_of(self.text, near))
            kinds = [b.fullname or b.type for b in branches]
            if any(b.type == "union" for b in branches) or len(set(kinds)) != len(kinds):
                raise SchemaReadError(
                    "a union may not hold two branches of one type, nor a union",
                    line_of(self.text, near),
                )
            return AvroType("union", branches=branches, line=line_of(self.text, near))
        if not isinstance(data, dict):
            raise SchemaReadError(
                f"not an Avro schema: {str(data)[:40]!r}", line_of(self.text, near)
            )
        kind = data.get("type")
        if isinstance(kind, (dict, list)):  # {"type": {...}}: a wrapped schema
            return self.parse(kind, namespace, near)
        if not isinstance(kind, str):
            raise SchemaReadError("a schema object needs a 'type'", line_of(self.text, near))
        if kind in PRIMITIVES:
            return AvroType(kind)  # logical types are not compared (nor by the checker)
        if kind in _NAMED:
            return self._named(data, kind, namespace, near)
        if kind == "array":
            return AvroType("array", items=self._child(data, "items", namespace, near))
        if kind == "map":
            return AvroType("map", items=self._child(data, "values", namespace, near))
        return self._reference(kind, namespace, near)

    def _child(
        self, data: dict[str, object], key: str, namespace: str | None, near: int
    ) -> AvroType:
        if key not in data:
            raise SchemaReadError(f"'{data.get('type')}' needs '{key}'", line_of(self.text, near))
        return self.parse(data[key], namespace, near)

    def _reference(self, name: str, namespace: str | None, near: int) -> AvroType:
        if name in PRIMITIVES:
            return AvroType(name)
        for candidate in (f"{namespace}.{name}" if namespace and "." not in name else None, name):
            if candidate and candidate in self.named:
                return self.named[candidate]
        raise SchemaReadError(f"unknown type {name!r}", line_of(self.text, near))

    def _named(
        self, data: dict[str, object], kind: str, namespace: str | None, near: int
    ) -> AvroType:
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaReadError(f"a {kind} needs a 'name'", line_of(self.text, near))
        at = self._find(name, near)
        written_ns = data.get("namespace")
        if "." in name:
            fullname, namespace = name, name.rsplit(".", 1)[0]
            name = name.rsplit(".", 1)[1]
        else:
            if isinstance(written_ns, str):
                namespace = written_ns or None
            fullname = f"{namespace}.{name}" if namespace else name
        if fullname in self.named:
            raise SchemaReadError(f"{fullname} is defined twice", line_of(self.text, at))
        written = data.get("aliases")
        aliases = [a for a in written if isinstance(a, str)] if isinstance(written, list) else []
        node = AvroType(
            "record" if kind == "error" else kind,
            name=name,
            fullname=fullname,
            aliases=aliases,
            line=line_of(self.text, at),
        )
        self.named[fullname] = node
        if node.type == "record":
            self._fields(node, data.get("fields"), namespace, at)
        elif kind == "enum":
            symbols = data.get("symbols")
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                raise SchemaReadError(f"enum {fullname} needs 'symbols'", node.line)
            node.symbols = list(symbols)
            default = data.get("default")
            node.enum_default = default if isinstance(default, str) else None
        else:
            size = data.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise SchemaReadError(f"fixed {fullname} needs a 'size'", node.line)
            node.size = size
        return node

    def _fields(self, node: AvroType, fields: object, namespace: str | None, at: int) -> None:
        if not isinstance(fields, list):
            raise SchemaReadError(f"record {node.fullname} needs 'fields'", node.line)
        seen: set[str] = set()
        for spec in fields:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise SchemaReadError(f"record {node.fullname}: a field without a name", node.line)
            name = spec["name"]
            where = self._find(name, at)
            if name in seen:
                raise SchemaReadError(
                    f"field {name} twice in {node.fullname}", line_of(self.text, where)
                )
            seen.add(name)
            if "type" not in spec:
                raise SchemaReadError(f"field {name} needs a 'type'", line_of(self.text, where))
            aliases = [a for a in spec.get("aliases") or [] if isinstance(a, str)]
            node.fields.append(
                AvroField(
                    name,
                    self.parse(spec["type"], namespace, where),
                    "default" in spec,
                    aliases,
                    line_of(self.text, where),
                )
            )

    def _find(self, name: str, start: int) -> int:
        """Offset of ``"name": "<name>"`` at or after ``start`` (else anywhere, else start)."""
        pattern = re.compile(r'"name"\s*:\s*"' + re.escape(name) + '"')
        match = pattern.search(self.text, start) or pattern.search(self.text)
        return match.start() if match else start


# --- compatibility -------------------------------------------------------------------


def avro_compatibility(reader: AvroType, writer: AvroType) -> list[Incompatibility]:
    """Why ``reader`` cannot read data written with ``writer`` (empty: it can)."""
    return _Checker().check(reader, writer, [])


class _Checker:
    """The reference algorithm, memoised on (reader, writer) so recursive types end."""

    def __init__(self) -> None:
        self.memo: dict[tuple[int, int], list[Incompatibility] | None] = {}

    def check(self, reader: AvroType, writer: AvroType, at: list[str]) -> list[Incompatibility]:
        key = (id(reader), id(writer))
        if key in self.memo:
            return self.memo[key] or []  # None: in progress (recursion): compatible so far
        self.memo[key] = None
        result = self._compare(reader, writer, at)
        self.memo[key] = result
        return result

    def _compare(self, reader: AvroType, writer: AvroType, at: list[str]) -> list[Incompatibility]:
        if reader.type == writer.type:
            if reader.type in PRIMITIVES:
                return []
            if reader.type in ("array", "map"):
                step = "items" if reader.type == "array" else "values"
                assert reader.items is not None and writer.items is not None
                return self.check(reader.items, writer.items, [*at, step])
            out = []
            if reader.type in ("record", "enum", "fixed") and not _same_name(reader, writer):
                out.append(
                    _hit("name_mismatch", f"expected: {writer.fullname}", [*at, "name"], reader)
                )
            if reader.type == "fixed" and reader.size != writer.size:
                message = f"expected: {writer.size}, found: {reader.size}"
                out.append(_hit("fixed_size_mismatch", message, [*at, "size"], reader))
            if reader.type == "enum":
                missing = set(writer.symbols) - set(reader.symbols)
                if missing and not (reader.enum_default and reader.enum_default in reader.symbols):
                    message = f"reader lacks writer symbols {sorted(missing)}"
                    out.append(_hit("missing_enum_symbols", message, [*at, "symbols"], reader))
            if reader.type == "record":
                out += self._fields(reader, writer, at)
            if reader.type == "union":
                for i, branch in enumerate(writer.branches):
                    if self.check(reader, branch, at):
                        message = f"reader union lacking writer type: {branch.type.upper()}"
                        out.append(_hit("missing_union_branch", message, [*at, str(i)], reader))
            return out
        if writer.type == "union":
            return [hit for branch in writer.branches for hit in self.check(reader, branch, at)]
        if reader.type == "union":
            if any(not self.check(branch, writer, at) for branch in reader.branches):
                return []
            message = f"reader union lacking writer type {writer.type}"
            return [_hit("missing_union_branch", message, at, reader)]
        if writer.type in _PROMOTIONS.get(reader.type, ()):
            return []
        message = f"reader type: {reader.type} not compatible with writer type: {writer.type}"
        return [_hit("type_mismatch", message, at, reader)]

    def _fields(self, reader: AvroType, writer: AvroType, at: list[str]) -> list[Incompatibility]:
        out = []
        by_name = {f.name: f for f in writer.fields}
        for i, field_ in enumerate(reader.fields):
            where = [*at, "fields", str(i)]
            written = by_name.get(field_.name) or next(
                (by_name[a] for a in field_.aliases if a in by_name), None
            )
            if written is not None:
                hits = self.check(field_.type, written.type, [*where, "type"])
            elif field_.has_default:
                hits = []
            elif field_.type.type == "enum" and field_.type.enum_default:
                # the reference checker compares the enum with the writer record here
                hits = self.check(field_.type, writer, [*where, "type"])
            else:
                message = f"reader field {field_.name} has no default and writers do not write it"
                hits = [_hit("reader_field_missing_default_value", message, where, field_.type)]
                hits = [Incompatibility(h.kind, h.message, h.path, field_.line) for h in hits]
            if not at:  # a field of the top-level record: name it (topics map it to a column)
                hits = [
                    Incompatibility(h.kind, h.message, h.path, h.line or field_.line, field_.name)
                    for h in hits
                ]
            out += hits
        return out


def _same_name(reader: AvroType, writer: AvroType) -> bool:
    return reader.name == writer.name or (writer.fullname or "") in reader.aliases


def _hit(kind: str, message: str, at: list[str], near: AvroType) -> Incompatibility:
    return Incompatibility(kind, message, "/" + "/".join(at), near.line)
