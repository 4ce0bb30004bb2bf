"""Which schema language a message schema file is written in, and its parsed form.

A file is a message schema by its name: ``*.avsc`` (Avro), ``*.proto`` (Protobuf),
``*.schema.json`` (JSON Schema).
"""

from __future__ import annotations

from typing import Any


def schema_format(path: str) -> str | None:
    """``avro``, ``protobuf`` or ``json`` for a message schema file's path, else None."""
    if path.endswith(".avsc"):
        return "avro"
    if path.endswith(".proto"):
        return "protobuf"
    if path.endswith(".schema.json"):
        return "json"
    return None


def is_schema(path: str | None) -> bool:
    """Whether ``path`` names a message schema file."""
    return path is not None and schema_format(path) is not None


def parse_schema(fmt: str, text: str, max_depth: int = 100) -> Any:
    """The parsed schema (AvroType, ProtoFile or JsonSchemaDoc); SchemaReadError if bad."""
    if fmt == "avro":
        from impact_check.messages.avro import parse_avro

        return parse_avro(text, max_depth)
    if fmt == "protobuf":
        from impact_check.messages.proto_parse import parse_proto

        return parse_proto(text, max_depth)
    from impact_check.messages.json_schema import parse_json_schema

    return parse_json_schema(text, max_depth)
