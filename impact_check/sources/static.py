"""A static lineage file of our own (YAML or JSON) for teams with no lineage store, and for
consumers no system records: datasets with columns, consumers with owners and what they
read, and column edges. The format is the pydantic model below; its JSON Schema is committed
as ``schemas/lineage.schema.json`` (``python -m impact_check.sources.static`` prints it).

References name a relation (``analytics.orders``), a column as ``relation#column``, or as
``relation.column`` when ``relation`` is a dataset the repository or the file declares.
An invalid entry is skipped and named by its key path and line; the rest is still read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from impact_check.errors import SourceError
from impact_check.identity import Matcher, canonical
from impact_check.safeload import LimitExceeded, load_json, load_yaml
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.jsonfiles import resolve

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "static"
UNKNOWN_REFS = "references to undeclared relations"
SKIPPED = "invalid entries skipped"

ConsumerKind = Literal[
    "dashboard",
    "report",
    "ml_model",
    "feature_view",
    "application",
    "notebook",
    "analysis",
    "job",
    "other",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StaticColumn(_Strict):
    """A column: its name and, optionally, its type as the warehouse spells it."""

    name: str = Field(min_length=1)
    type: str | None = None
    description: str | None = None


class StaticDataset(_Strict):
    """A relation (table, view, file, topic) and its columns."""

    name: str = Field(min_length=1, description="[catalog.]schema.table")
    namespace: str | None = Field(
        default=None, description="mapped to a catalog by `aliases` (like OpenLineage's)"
    )
    kind: str = "table"
    columns: list[StaticColumn] = Field(
        default_factory=list,
        description="a list of {name, type} or a mapping column -> type",
    )
    owners: list[str] = Field(default_factory=list)
    url: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if isinstance(value, dict):  # `columns: {id: integer, note: null}`
            return [{"name": str(k), "type": v} for k, v in value.items()]
        return value


class StaticConsumer(_Strict):
    """Something outside the repository that reads datasets (and may write some)."""

    name: str = Field(min_length=1)
    kind: ConsumerKind = "application"
    id: str | None = Field(
        default=None,
        description="node id to use instead of static:<kind>/<name> (to meet another source's)",
    )
    owner: str | None = None
    owners: list[str] = Field(default_factory=list)
    url: str | None = None
    description: str | None = None
    reads: list[str] = Field(
        default_factory=list, description="relations, relation#column or relation.column"
    )
    writes: list[str] = Field(default_factory=list, description="relations it produces")
    expects: dict[str, str] = Field(
        default_factory=dict, description="column reference -> the type it relies on"
    )
    sql: str | None = Field(
        default=None,
        description="its own query: bound at head like a view (it breaks when the query "
        "would fail); the relations it reads need not be listed under reads",
    )
    dialect: str | None = Field(
        default=None, description="the query's SQL dialect (sqlglot's name; default: the check's)"
    )
    columns: list[str] = Field(
        default_factory=list,
        description="output columns of its sql it relies on (a dashboard's fields): one that "
        "no longer comes out of the query breaks it",
    )


class StaticEdge(_Strict):
    """Data flow: a column into a column (projection), or into a consumer that reads it."""

    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)


class StaticLineage(_Strict):
    """The whole file."""

    version: Literal[1] = 1
    namespace: str | None = Field(default=None, description="default namespace of datasets")
    datasets: list[StaticDataset] = Field(default_factory=list)
    consumers: list[StaticConsumer] = Field(default_factory=list)
    edges: list[StaticEdge] = Field(default_factory=list)


SCHEMA_ID = "https://github.com/impact-check/impact-check/schemas/lineage.schema.json"
_LISTS: dict[str, type[BaseModel]] = {
    "datasets": StaticDataset,
    "consumers": StaticConsumer,
    "edges": StaticEdge,
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the file format (committed as schemas/lineage.schema.json)."""
    schema = StaticLineage.model_json_schema(by_alias=True)
    columns = schema["$defs"]["StaticDataset"]["properties"]["columns"]
    mapping = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
    listed = {k: columns.pop(k) for k in ("items", "type")}
    columns["anyOf"] = [listed, mapping]  # the validator accepts `{column: type}` too
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Read the file at ``spec.location``; SourceError when it cannot be read at all."""
    path = resolve(spec.location, ctx.root)
    fragment = GraphFragment(f"{spec.kind}:{spec.location}", spec.kind)
    doc, errors = load(path)
    _Builder(fragment, doc, {**ctx.aliases, **spec.aliases}, ctx.known).build()
    if errors:
        fragment.status = "partial"
        fragment.count(SKIPPED, len(errors))
        more = f"; +{len(errors) - 3} more" if len(errors) > 3 else ""
        fragment.detail = "; ".join(errors[:3]) + more
    return fragment


def load(path: Path) -> tuple[StaticLineage, list[str]]:
    """The validated file and the entries skipped (``file:line: key: why``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise SourceError(f"{path}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"{path}: cannot read ({err})") from err
    if not text.strip():  # an empty file is a mistake, not "no consumers"
        raise SourceError(f"{path}: empty (no datasets, consumers or edges)")
    data, duplicates = _parse(path, text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{path}: the lineage file must be a mapping")
    try:
        return StaticLineage.model_validate(data), duplicates
    except ValidationError as err:
        errors = duplicates + [_where(path, text, e) for e in err.errors()]
    kept: dict[str, Any] = {k: v for k, v in data.items() if k not in _LISTS}
    for key, model in _LISTS.items():
        items = data.get(key)
        if not isinstance(items, list):
            kept[key] = []  # named in ``errors``; the other lists are still read
            continue
        kept[key] = [item for item in items if _valid(model, item)]
    try:
        return StaticLineage.model_validate(kept), errors
    except ValidationError as err:
        raise SourceError(_where(path, text, err.errors()[0])) from err


def _parse(path: Path, text: str) -> tuple[Any, list[str]]:
    """The parsed document and its duplicate YAML keys (the later value stands)."""
    if path.suffix.lower() == ".json":
        try:
            return load_json(text), []
        except LimitExceeded as err:
            raise SourceError(f"{path}: {err}") from err
        except json.JSONDecodeError as err:
            raise SourceError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from err
    try:
        loaded = load_yaml(text)
    except LimitExceeded as err:
        line = f":{err.line}" if err.line else ""
        raise SourceError(f"{path}{line}: {err}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SourceError(f"{path}{line}: invalid YAML ({problem})") from err
    duplicates = [
        f"{path}:{line}: duplicate key '{key}' (the earlier value is ignored)"
        for key, line in loaded.duplicates
    ]
    return loaded.data, duplicates


def _valid(model: type[BaseModel], item: Any) -> bool:
    try:
        model.model_validate(item)
    except ValidationError:
        return False
    return True


def _where(path: Path, text: str, error: Any) -> str:
    """``file:line: key.path: message`` (the line when the YAML/JSON node can be found)."""
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    key = ".".join(str(p) for p in loc) or "(root)"
    line = _line(text, loc)
    return f"{path}{f':{line}' if line else ''}: {key}: {error['msg']}"


def _line(text: str, loc: list[Any]) -> int | None:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes only, nothing constructed
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                break
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


class _Builder:
    """The file's entries as nodes and edges in canonical ids."""

    def __init__(
        self, fragment: GraphFragment, doc: StaticLineage, aliases: dict[str, str], known: set[str]
    ) -> None:
        self.fragment = fragment
        self.doc = doc
        self.aliases = aliases
        self.declared = {
            canonical(ds.name, ds.namespace or doc.namespace, aliases) for ds in doc.datasets
        }
        self.matcher = Matcher(set(known) | self.declared)
        self.consumers: dict[str, str] = {}

    def build(self) -> None:
        for ds in self.doc.datasets:
            name = canonical(ds.name, ds.namespace or self.doc.namespace, self.aliases)
            node = FragmentNode(name, ds.kind, ORIGIN, name=ds.name, owners=list(ds.owners))
            node.url = ds.url
            node.columns = {c.name: c.type for c in ds.columns}
            self.fragment.node(node)
        for consumer in self.doc.consumers:
            self.consumer(consumer)
        for edge in self.doc.edges:
            src = self.ref(edge.source)
            dst = self.consumers.get(edge.target) or self.ref(edge.target)
            kind = "reads" if "#" not in src else "projection" if "#" in dst else "column"
            self.fragment.edge(src, dst, kind, ORIGIN)

    def consumer(self, consumer: StaticConsumer) -> None:
        node_id = consumer.id or f"{ORIGIN}:{consumer.kind}/{consumer.name}"
        self.consumers[consumer.name] = self.consumers[node_id] = node_id
        owners = ([consumer.owner] if consumer.owner else []) + list(consumer.owners)
        node = FragmentNode(node_id, consumer.kind, ORIGIN, name=consumer.name, owners=owners)
        node.url = consumer.url
        node.expects = {self.ref(k): v for k, v in consumer.expects.items()}
        node.sql, node.dialect = consumer.sql, consumer.dialect
        node.columns = dict.fromkeys(consumer.columns)
        if consumer.description:
            node.attrs["description"] = consumer.description
        self.fragment.node(node)
        for ref in consumer.reads:
            src = self.ref(ref)
            self.fragment.edge(src, node_id, "column" if "#" in src else "reads", ORIGIN)
        for ref in consumer.writes:
            self.fragment.edge(node_id, self.ref(ref, column=False), "writes", ORIGIN)

    def ref(self, text: str, column: bool = True) -> str:
        """A reference as a node id: relation, or ``relation#column``."""
        relation, sep, col = text.partition("#")
        if sep:
            return f"{self.relation(relation)}#{col}"
        name = canonical(text, self.doc.namespace, self.aliases)
        if self.matcher.relation(name) in self.matcher.known or not column:
            return self.relation(text)
        head, _, last = text.rpartition(".")
        if head:
            prefix = self.matcher.relation(canonical(head, self.doc.namespace, self.aliases))
            if prefix in self.matcher.known:
                return f"{prefix}#{last}"
        self.fragment.count(UNKNOWN_REFS)
        return name

    def relation(self, text: str) -> str:
        return self.matcher.relation(canonical(text, self.doc.namespace, self.aliases))


if __name__ == "__main__":  # regenerate: python -m impact_check.sources.static > schemas/…
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
