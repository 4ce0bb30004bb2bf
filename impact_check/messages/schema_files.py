"""Message schema files of a revision: which files they are, their format, their subject's
compatibility mode, and their parsed form (no I/O: the texts come from a Snapshot).

A file is a message schema by its name: ``*.avsc`` (Avro), ``*.proto`` (Protobuf),
``*.schema.json`` (JSON Schema). Its mode comes from, first to last: the ``topics:`` entry
naming it (``compatibility``), ``message_schemas.subjects`` for its subject, the first
``message_schemas.files`` glob it matches, the registry state file (its subject's
``compatibility``, then the file's global one), ``message_schemas.compatibility``.

The registry state file is the schema-registry-gitops format (``compatibility:`` and
``subjects: [{name, file, compatibility}]``, files relative to the state file).
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from impact_check.messages.model import DEFAULT_MODE, MODES, SchemaReadError
from impact_check.safeload import LimitExceeded, load_yaml

if TYPE_CHECKING:
    from impact_check.config import Config

SUFFIXES = (".avsc", ".proto", ".schema.json")


def schema_format(path: str) -> str | None:
    """``avro``, ``protobuf`` or ``json`` for a message schema file's path, else None."""
    if path.endswith(".avsc"):
        return "avro"
    if path.endswith(".proto"):
        return "protobuf"
    if path.endswith(".schema.json"):
        return "json"
    return None


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


@dataclass
class Subject:
    """Who a schema file is registered as, and under which mode (and why that mode)."""

    name: str
    mode: str
    because: str
    topic: str | None = None  # the topics: entry naming the file


@dataclass
class Registry:
    """The committed registry state file: subject per file, modes, problems reading it."""

    modes: dict[str, str] = field(default_factory=dict)  # subject -> mode
    subjects: dict[str, str] = field(default_factory=dict)  # schema path -> subject
    default: str | None = None
    problem: tuple[str, int | None] | None = None  # (message, line)


def read_registry(text: str | None, path: str | None) -> Registry:
    """Parse the registry state file; a problem is kept (and reported), never raised."""
    registry = Registry()
    if text is None or path is None:
        return registry
    try:
        data = load_yaml(text).data
    except (yaml.YAMLError, LimitExceeded) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(err, "line", None)
        registry.problem = (f"cannot be read: {getattr(err, 'problem', None) or err}", line)
        return registry
    if not isinstance(data, dict):
        registry.problem = ("must be a mapping with 'compatibility' and 'subjects'", 1)
        return registry
    if data.get("compatibility") in MODES:
        registry.default = str(data["compatibility"])
    folder = posixpath.dirname(path)
    for entry in data.get("subjects") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            registry.problem = ("a subject entry without a name", None)
            continue
        name = entry["name"]
        if entry.get("compatibility") in MODES:
            registry.modes[name] = str(entry["compatibility"])
        elif entry.get("compatibility") is not None:
            registry.problem = (
                f"subject {name}: unknown compatibility {entry['compatibility']!r}",
                None,
            )
        if isinstance(entry.get("file"), str):
            registry.subjects[posixpath.normpath(posixpath.join(folder, entry["file"]))] = name
    return registry


def subject_of(path: str, config: Config, registry: Registry) -> Subject:
    """The subject and compatibility mode of the schema file at ``path``."""
    settings = config.message_schemas
    topic = next((t for t, link in config.topics.items() if link.schema_file == path), None)
    link = config.topics[topic] if topic is not None else None
    name = (
        (link.subject or f"{topic}-value")
        if link is not None
        else registry.subjects.get(path, path)
    )
    if link is not None and link.compatibility:
        return Subject(name, link.compatibility, f"topics.{topic}.compatibility", topic)
    if name in settings.subjects:
        return Subject(name, settings.subjects[name], f"message_schemas.subjects.{name}", topic)
    for glob, mode in settings.files.items():
        if fnmatch.fnmatchcase(path, glob):
            return Subject(name, mode, f"message_schemas.files[{glob}]", topic)
    if name in registry.modes:
        return Subject(name, registry.modes[name], f"{settings.registry_file} ({name})", topic)
    if registry.default:
        return Subject(name, registry.default, f"{settings.registry_file}", topic)
    mode = settings.compatibility or DEFAULT_MODE
    return Subject(name, mode, "message_schemas.compatibility (default BACKWARD)", topic)


__all__ = ["SUFFIXES", "SchemaReadError", "Subject", "parse_schema", "read_registry",
           "schema_format", "subject_of"]  # fmt: skip
