"""Topics linked to tables (``topics:`` in the configuration): the topic as a consumer of the
table's columns (CDC, ``direction: cdc``), and the table as written from the topic (a sink
connector, ``direction: sink``). No I/O: the edge reads the topics' head schemas
(pipeline.topics_at).

CDC: the topic ``kafka:<topic>`` reads ``table#column`` (a ``field`` edge) for every
top-level field of its value schema (field names map to columns by ``fields:``, else by
name). At head the topic breaks when a column whose field it requires (Avro: no default
and not nullable; Protobuf: proto2 ``required``; JSON Schema: in ``required``) is gone,
or when the column's new type no longer fits the field's type family: the connector cannot
produce records its subject accepts.
A column behind an optional field only affects it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.bind import Break
from impact_check.model import Catalog, column_id

if TYPE_CHECKING:
    from impact_check.graph import LineageGraph

# message field types spelled as sql/ml_types.py reads them (MLflow's vocabulary)
_TYPE_WORDS = {
    "int": "integer", "long": "long", "float": "float", "double": "double",
    "boolean": "boolean", "string": "string", "bytes": "binary",
    "int32": "integer", "uint32": "integer", "sint32": "integer", "fixed32": "integer",
    "sfixed32": "integer", "int64": "long", "uint64": "long", "sint64": "long",
    "fixed64": "long", "sfixed64": "long", "bool": "boolean",
    "integer": "long", "number": "double",
}  # fmt: skip


@dataclass
class TopicField:
    """A top-level field of a topic's value schema."""

    name: str
    column: str
    required: bool
    type: str | None  # in MLflow's type words, None when it has no SQL meaning


@dataclass
class Topic:
    """A configured topic and what its schema at head says about its fields."""

    name: str
    table: str
    schema: str
    direction: str
    owners: list[str]
    fields: list[TopicField] = field(default_factory=list)
    problem: str | None = None
    field_columns: dict[str, str] = field(default_factory=dict)  # where the names differ

    @property
    def node_id(self) -> str:
        return f"kafka:{self.name}"


def top_fields(fmt: str, parsed: Any) -> list[tuple[str, bool, str | None]]:
    """(field name, required, type word) of the top-level record or message."""
    if fmt == "avro":
        if parsed.type != "record":
            return []
        out = []
        for f in parsed.fields:
            kind = f.type
            nullable = kind.type == "union" and any(b.type == "null" for b in kind.branches)
            if kind.type == "union":
                rest = [b for b in kind.branches if b.type != "null"]
                kind = rest[0] if len(rest) == 1 else kind
            out.append((f.name, not f.has_default and not nullable, _TYPE_WORDS.get(kind.type)))
        return out
    if fmt == "protobuf":
        roots = [m for m in parsed.messages.values() if "." not in m.full_name.removeprefix(
            parsed.package + "." if parsed.package else "")]  # fmt: skip
        if not roots:
            return []
        return [
            (
                f.name,
                f.label == "required",
                _TYPE_WORDS.get(f.kind) if f.label != "repeated" else None,
            )
            for f in roots[0].fields.values()
        ]
    root = parsed.root if isinstance(parsed.root, dict) else {}
    props = root.get("properties")
    props = props if isinstance(props, dict) else {}
    required = set(root.get("required") or [])
    out = []
    for name, spec in props.items():
        kinds = spec.get("type") if isinstance(spec, dict) else None
        kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds or [] if k != "null"]
        out.append((name, name in required, _TYPE_WORDS.get(kinds[0]) if len(kinds) == 1 else None))
    return out


def add_topics(graph: LineageGraph, topics: list[Topic], base: Catalog, head: Catalog) -> None:
    """CDC topics as consumers of their table's columns (``column`` edges)."""
    for topic in topics:
        if topic.direction != "cdc" or topic.problem:
            continue
        graph.add_node(
            topic.node_id,
            kind="topic",
            origin="kafka",
            file=topic.schema,
            owners=topic.owners,
            name=topic.name,
        )
        known = {
            c for catalog in (base, head) if topic.table in catalog.datasets
            for c in catalog.datasets[topic.table].columns
        }  # fmt: skip
        for f in topic.fields:
            if f.column in known:
                # a kind of its own: fetched-lineage rules (external.py) must not read it as a
                # plain column read, only a required field breaks the topic (topic_breaks)
                graph.add_edge(column_id(topic.table, f.column), topic.node_id, "field")


def topic_breaks(topics: list[Topic], base: Catalog, head: Catalog) -> dict[str, list[Break]]:
    """Why each CDC topic breaks at head (node id -> reasons), from its required fields."""
    from impact_check.sql.ml_types import declared_sql
    from impact_check.sql.types import compare

    out: dict[str, list[Break]] = {}
    for topic in topics:
        before, after = base.datasets.get(topic.table), head.datasets.get(topic.table)
        if topic.direction != "cdc" or topic.problem or before is None:
            continue
        for f in topic.fields:
            cause = column_id(topic.table, f.column)
            if f.column not in before.columns:
                continue
            if after is None or f.column not in after.columns:
                if f.required:
                    message = (
                        f"its schema {topic.schema} requires field {f.name} (no default), "
                        f"which {topic.table}.{f.column} no longer feeds"
                    )
                    out.setdefault(topic.node_id, []).append(Break(message, {cause, topic.table}))
                continue
            declared = declared_sql(f.type)
            was, now = before.columns[f.column].type, after.columns[f.column].type
            # only a column change breaks the topic here; a schema change is the MS rules'
            if declared and now and was != now and compare(declared, now) == "incompatible":
                message = (
                    f"its schema {topic.schema} declares field {f.name} as {f.type}, and "
                    f"{topic.table}.{f.column} is now {now}"
                )
                out.setdefault(topic.node_id, []).append(Break(message, {cause}))
    return out
