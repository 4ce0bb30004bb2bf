"""The configuration of message schemas and topics (``message_schemas:`` and ``topics:`` in
.impact-check.yml), validated like the rest of the configuration (unknown keys are errors).

    message_schemas:
      compatibility: BACKWARD          # the default mode of every schema file
      files: {"schemas/legacy/*.avsc": NONE}
      subjects: {orders-cdc-value: FULL_TRANSITIVE}
      registry_file: schema-registry.yml   # a committed registry state file, optional
    topics:
      orders-cdc:
        table: raw.orders               # the table the topic carries (CDC) or fills (sink)
        schema: schemas/orders.avsc     # the topic's value schema in the repository
        direction: cdc                  # cdc: table -> topic (default); sink: topic -> table
        fields: {total: amount}         # schema field -> column, where the names differ
        owners: [team-payments]
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from impact_check.messages.model import DEFAULT_MODE, Mode, Registry, Subject


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class MessageSchemaSettings(_Strict):
    """Compatibility modes of the schema files, and how many earlier versions to read."""

    compatibility: Mode = "BACKWARD"
    files: dict[str, Mode] = Field(default_factory=dict)  # path glob -> mode
    subjects: dict[str, Mode] = Field(default_factory=dict)  # registry subject -> mode
    registry_file: str | None = None  # schema-registry-gitops state file in the repository
    protobuf_rules: Literal["WIRE_JSON", "WIRE"] = "WIRE_JSON"  # buf breaking category
    max_versions: int = Field(default=50, gt=0)  # earlier versions read for _TRANSITIVE


class TopicLink(_Strict):
    """A topic whose value schema is a file of the repository, linked to a table."""

    table: str
    schema_file: str = Field(alias="schema")
    subject: str | None = None  # default: <topic>-value
    compatibility: Mode | None = None
    direction: Literal["cdc", "sink"] = "cdc"
    fields: dict[str, str] = Field(default_factory=dict)  # schema field -> column
    owners: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


def subject_of(
    path: str, settings: MessageSchemaSettings, topics: Mapping[str, TopicLink], registry: Registry
) -> Subject:
    """The subject and compatibility mode of the schema file at ``path``.

    The mode comes from, first to last: the ``topics:`` entry naming the file
    (``compatibility``), ``message_schemas.subjects`` for its subject, the first
    ``message_schemas.files`` glob it matches, the registry state file (its subject's
    ``compatibility``, then the file's global one), ``message_schemas.compatibility``.
    The subject is ``named`` unless only one of the last two defaults applies to it (no
    topic, subject, files glob or registry entry names the file: it was only found).
    """
    topic = next((t for t, link in topics.items() if link.schema_file == path), None)
    link = topics[topic] if topic is not None else None
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
    registered = path in registry.subjects or topic is not None
    if registry.default:
        return Subject(name, registry.default, f"{settings.registry_file}", topic, registered)
    mode = settings.compatibility or DEFAULT_MODE
    because = "message_schemas.compatibility (default BACKWARD)"
    return Subject(name, mode, because, topic, registered)
