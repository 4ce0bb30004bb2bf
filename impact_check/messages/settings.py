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

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from impact_check.messages.model import Mode


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
