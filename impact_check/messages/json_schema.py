"""JSON Schema files (draft-07 and 2020-12 basics): can a reader schema accept every
document a writer schema accepts?

Compared: ``type`` (``integer`` is a ``number``), ``properties``, ``required``,
``additionalProperties`` (true, false or a schema), ``enum`` and ``const``, ``items`` (and
draft-07 tuple ``items`` / 2020-12 ``prefixItems``), ``anyOf``/``oneOf`` branches, local
``$ref`` (``#/definitions/…``, ``#/$defs/…``), and the bounds ``minimum``, ``maximum``,
``exclusiveMinimum``, ``exclusiveMaximum``, ``minLength``, ``maxLength``, ``minItems``,
``maxItems``, ``pattern`` (compared as text). Everything else (``allOf``, ``not``,
``if``/``then``/``else``, ``patternProperties``, ``dependentRequired``/``dependencies``,
``propertyNames``, ``unevaluatedProperties``, ``contains``, ``multipleOf``, ``format``,
remote ``$ref``, ``$dynamicRef``) is not compared: when such a keyword differs between the
two versions the check says so (``keyword_not_compared``) instead of passing silently.

There is no reference checker for JSON Schema on the registries; the tests take the real
``jsonschema`` validator as truth: documents valid under the writer schema that the reader
rejects (tests/messages/test_json_schema_truth.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from impact_check.messages.model import (
    Incompatibility,
    SchemaReadError,
    line_of,
    load_schema_json,
)

_TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")
NOT_COMPARED = (
    "allOf", "not", "if", "then", "else", "patternProperties", "dependentRequired",
    "dependentSchemas", "dependencies", "propertyNames", "unevaluatedProperties",
    "unevaluatedItems", "contains", "minContains", "maxContains", "multipleOf", "format",
    "$dynamicRef", "minProperties", "maxProperties", "uniqueItems",
)  # fmt: skip
_LOWER = ("minimum", "minLength", "minItems")
_UPPER = ("maximum", "maxLength", "maxItems")


@dataclass
class JsonSchemaDoc:
    """A parsed JSON Schema file: the root, its text (for lines) and its draft."""

    root: Any
    text: str
    draft: str  # "draft-07", "2020-12" or "unknown"


def parse_json_schema(text: str, max_depth: int = 100) -> JsonSchemaDoc:
    """Parse a JSON Schema file; SchemaReadError naming the line when it is not one."""
    root = load_schema_json(text, max_depth, "JSON Schema")
    if not isinstance(root, (dict, bool)):
        raise SchemaReadError("a JSON Schema must be an object or a boolean", 1)
    declared = str(root.get("$schema", "")) if isinstance(root, dict) else ""
    draft = "2020-12" if "2020-12" in declared else "draft-07" if "draft-07" in declared else ""
    return JsonSchemaDoc(root, text, draft or "unknown")


def json_schema_compatibility(
    reader: JsonSchemaDoc, writer: JsonSchemaDoc
) -> list[Incompatibility]:
    """Why documents valid under ``writer`` may fail ``reader`` (empty: none can)."""
    return _Checker(reader, writer).check(reader.root, writer.root, [], 0)


class _Checker:
    def __init__(self, reader: JsonSchemaDoc, writer: JsonSchemaDoc) -> None:
        self.reader, self.writer = reader, writer
        self.seen: set[tuple[int, int]] = set()

    def line(self, path: list[str]) -> int | None:
        """The line of the deepest property name of ``path`` in the reader's text."""
        text, offset = self.reader.text, 0
        for part in path:
            if part.startswith("/"):
                continue
            match = re.compile('"' + re.escape(part) + r'"\s*:').search(text, offset)
            if match is None:
                break
            offset = match.start()
        return line_of(text, offset) if offset else None

    def hit(self, kind: str, message: str, path: list[str]) -> Incompatibility:
        shown = "/" + "/".join(p.strip("/") for p in path)
        top = next((p for p in path if not p.startswith("/")), None)
        return Incompatibility(kind, message, shown, self.line(path), top)

    def resolve(self, schema: Any, doc: JsonSchemaDoc) -> Any:
        for _ in range(32):  # a chain of $refs, bounded
            if not isinstance(schema, dict) or "$ref" not in schema:
                return schema
            ref = str(schema["$ref"])
            if not ref.startswith("#"):
                return {"$ref": ref}  # remote: left as is (not compared)
            target: Any = doc.root
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            if target is None:
                return {"$ref": ref}
            schema = target
        return schema

    def check(self, reader: Any, writer: Any, path: list[str], depth: int) -> list[Incompatibility]:
        reader, writer = self.resolve(reader, self.reader), self.resolve(writer, self.writer)
        key = (id(reader), id(writer))
        if key in self.seen or depth > 64:  # recursive definitions: assume compatible
            return []
        self.seen.add(key)
        if reader is True or reader == {}:
            return []
        if writer is False:
            return []
        if reader is False:
            return [self.hit("schema_closed", "the reader accepts nothing here", path)]
        if writer is True:
            writer = {}
        if not isinstance(reader, dict) or not isinstance(writer, dict):
            return []
        out = self.not_compared(reader, writer, path)
        if "$ref" in reader or "$ref" in writer:
            if reader.get("$ref") != writer.get("$ref"):
                message = f"remote $ref {reader.get('$ref') or writer.get('$ref')} is not compared"
                out.append(self.hit("keyword_not_compared", message, path))
            return out
        branches = [k for k in ("anyOf", "oneOf") if k in reader or k in writer]
        if branches:
            return out + self.branches(reader, writer, path, depth)
        out += self.types(reader, writer, path)
        out += self.enum(reader, writer, path)
        out += self.bounds(reader, writer, path)
        types = _types(reader) & _types(writer)
        if "object" in types:
            out += self.objects(reader, writer, path, depth)
        if "array" in types:
            out += self.arrays(reader, writer, path, depth)
        return out

    def not_compared(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str]
    ) -> list[Incompatibility]:
        out = []
        for keyword in NOT_COMPARED:
            if reader.get(keyword) != writer.get(keyword) and keyword in reader:
                message = f"'{keyword}' differs between the versions and is not compared"
                out.append(self.hit("keyword_not_compared", message, path))
        return out

    def branches(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str], depth: int
    ) -> list[Incompatibility]:
        readers = reader.get("anyOf") or reader.get("oneOf") or [reader]
        writers = writer.get("anyOf") or writer.get("oneOf") or [writer]
        base_r = {k: v for k, v in reader.items() if k not in ("anyOf", "oneOf")}
        base_w = {k: v for k, v in writer.items() if k not in ("anyOf", "oneOf")}
        out = []
        for i, branch in enumerate(writers):
            merged_w = {**base_w, **branch} if isinstance(branch, dict) else branch
            if not any(
                not self.fresh().check(
                    {**base_r, **r} if isinstance(r, dict) else r, merged_w, path, depth + 1
                )
                for r in readers
            ):
                message = f"no reader branch accepts writer branch {i}"
                out.append(self.hit("missing_union_branch", message, [*path, f"/{i}"]))
        return out

    def fresh(self) -> _Checker:
        checker = _Checker(self.reader, self.writer)
        checker.seen = set(self.seen)
        return checker

    def types(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str]
    ) -> list[Incompatibility]:
        allowed, written = _types(reader), _types(writer)
        values = _writable(writer)
        if values is not None:  # an enum or const: only the types of its values are written
            written = {_type_of(v) for v in values}
        missing = {
            t for t in written if not (t in allowed or (t == "integer" and "number" in allowed))
        }
        if not missing:
            return []
        message = f"reader accepts {sorted(allowed)}, writer allows {sorted(missing)} too"
        return [self.hit("type_narrowed", message, path)]

    def enum(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str]
    ) -> list[Incompatibility]:
        allowed = _values(reader)
        if allowed is None:
            return []
        written = _writable(writer)
        if written is None:
            return [self.hit("enum_narrowed", "reader restricts values to an enum or const", path)]
        gone = [v for v in written if v not in allowed]
        if gone:
            return [self.hit("enum_narrowed", f"reader no longer accepts {gone}", path)]
        return []

    def bounds(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str]
    ) -> list[Incompatibility]:
        out = []
        for key in (*_LOWER, "exclusiveMinimum"):
            if _number(reader.get(key)) is not None and (
                _number(writer.get(key)) is None
                or _number(writer.get(key)) < _number(reader.get(key))  # type: ignore[operator]
            ):
                out.append(self.hit("constraint_narrowed", f"'{key}' raised", path))
        for key in (*_UPPER, "exclusiveMaximum"):
            if _number(reader.get(key)) is not None and (
                _number(writer.get(key)) is None
                or _number(writer.get(key)) > _number(reader.get(key))  # type: ignore[operator]
            ):
                out.append(self.hit("constraint_narrowed", f"'{key}' lowered", path))
        if "pattern" in reader and reader.get("pattern") != writer.get("pattern"):
            out.append(self.hit("constraint_narrowed", "'pattern' changed", path))
        return out

    def objects(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str], depth: int
    ) -> list[Incompatibility]:
        out = []
        r_props = reader.get("properties") or {}
        w_props = writer.get("properties") or {}
        r_extra = reader.get("additionalProperties", True)
        w_extra = writer.get("additionalProperties", True)
        guaranteed = set(writer.get("required") or [])
        for name in reader.get("required") or []:
            if name not in guaranteed:
                message = f"reader requires '{name}', which writers may leave out"
                out.append(self.hit("required_added", message, [*path, str(name)]))
        for name, schema in r_props.items():
            if name in w_props:
                out += self.check(schema, w_props[name], [*path, name], depth + 1)
            elif w_extra is not False:  # writers may send it as an additional property
                issues = self.check(schema, w_extra, [*path, name], depth + 1)
                if issues:
                    message = f"property '{name}' constrains what writers may send freely"
                    out.append(self.hit("property_added_to_open_model", message, [*path, name]))
        for name, schema in w_props.items():
            if name in r_props:
                continue
            if r_extra is False:
                message = f"property '{name}' is gone and the reader allows no other property"
                out.append(self.hit("property_removed_from_closed_model", message, [*path, name]))
            elif r_extra is not True:
                out += self.check(r_extra, schema, [*path, name], depth + 1)
        if r_extra is not True and w_extra is not False:
            if r_extra is False:
                message = "reader no longer allows additional properties"
                out.append(self.hit("additional_properties_closed", message, path))
            else:
                out += self.check(r_extra, w_extra if w_extra is not True else {}, path, depth + 1)
        return out

    def arrays(
        self, reader: dict[str, Any], writer: dict[str, Any], path: list[str], depth: int
    ) -> list[Incompatibility]:
        r_prefix, r_items = _array_parts(reader)
        w_prefix, w_items = _array_parts(writer)
        out = []
        for i in range(max(len(r_prefix), len(w_prefix))):
            r = r_prefix[i] if i < len(r_prefix) else r_items
            w = w_prefix[i] if i < len(w_prefix) else w_items
            out += self.check(r, w, [*path, f"/items/{i}"], depth + 1)
        out += self.check(r_items, w_items, [*path, "/items"], depth + 1)
        return out


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        values = _values(schema)
        if values is not None:
            return {_type_of(v) for v in values}
        return set(_TYPES)
    found = {declared} if isinstance(declared, str) else set(declared or [])
    if "number" in found:
        found.add("integer")
    return found


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _writable(schema: dict[str, Any]) -> list[Any] | None:
    """The enum/const values a schema's own ``type`` lets through (None: no enum/const)."""
    values = _values(schema)
    if values is None or "type" not in schema:
        return values
    types = _types(schema)
    return [v for v in values if _type_of(v) in types]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _array_parts(schema: dict[str, Any]) -> tuple[list[Any], Any]:
    """(positional item schemas, schema of the items after them)."""
    items = schema.get("items", True)
    if "prefixItems" in schema:
        return list(schema.get("prefixItems") or []), items
    if isinstance(items, list):  # draft-07 tuple form
        return items, schema.get("additionalItems", True)
    return [], items
