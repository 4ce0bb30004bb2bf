"""DataHub metadata files as an offline lineage source (``datahub-file``).

What ``datahub ingest`` writes with a ``file`` sink: a JSON array (or JSON lines) of
MetadataChangeProposals (``entityUrn``, ``aspectName``, ``aspect.json``; UPSERT or JSON
PATCH) and MetadataChangeEvents (``proposedSnapshot`` with a list of aspects). Read:
``upstreamLineage`` (upstreams and fineGrainedLineages, also as PATCH operations),
``schemaMetadata`` (columns), ``ownership``, ``dashboardInfo``/``chartInfo`` inputs,
``inputFields``, ``mlModelProperties`` (features, training jobs), ``mlFeatureProperties`` and
``mlPrimaryKeyProperties`` sources, ``mlFeatureTableProperties``, ``dataProcessInstance``
inputs/outputs, ``dataJobInputOutput`` and ``status`` (removed entities are skipped).

The whole file is read (it has no server to walk); node ids and edges are those of the
GraphQL source (datahub.Builder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.safeload import load_json
from impact_check.sources.base import GraphFragment, SourceContext, as_object
from impact_check.sources.datahub import Builder, Names, owner_name, schema_columns
from impact_check.sources.jsonfiles import read_records, resolve

if TYPE_CHECKING:
    from impact_check.config import LineageSource

BAD_RECORDS = "unreadable records skipped"
REMOVED = "removed entities skipped"


@dataclass
class Aspect:
    urn: str
    name: str
    value: Any
    patch: bool = False


@dataclass
class _Entity:
    aspects: dict[str, list[Aspect]] = field(default_factory=dict)


def aspects_of(record: Any) -> list[Aspect] | None:
    """The aspects one MCP or MCE carries; None when the record is neither."""
    if not isinstance(record, dict):
        return None
    if "proposedSnapshot" in record:
        snapshot = record["proposedSnapshot"]
        if not isinstance(snapshot, dict) or len(snapshot) != 1:
            return None
        body = next(iter(snapshot.values()))
        if not isinstance(body, dict) or not isinstance(body.get("urn"), str):
            return None
        out = []
        for item in body.get("aspects") or []:
            if isinstance(item, dict) and len(item) == 1:
                class_name, value = next(iter(item.items()))
                out.append(Aspect(body["urn"], aspect_name(class_name), value))
        return out
    urn, name = record.get("entityUrn"), record.get("aspectName")
    if not isinstance(urn, str) or not isinstance(name, str):
        return None
    aspect = record.get("aspect")
    value = aspect.get("json") if isinstance(aspect, dict) and "json" in aspect else aspect
    if isinstance(aspect, dict) and aspect.get("contentType") == "application/json":
        try:
            value = load_json(aspect.get("value") or "null")
        except (ValueError, TypeError):  # not JSON, too deep (LimitExceeded), not a string
            return None
    return [Aspect(urn, name, value, patch=record.get("changeType") == "PATCH")]


def aspect_name(class_name: str) -> str:
    """``com.linkedin.pegasus2avro.ml.metadata.MLFeatureProperties`` -> ``mlFeatureProperties``."""
    short = class_name.rsplit(".", 1)[-1]
    if short.startswith("ML"):
        return "ml" + short[2:]
    return short[:1].lower() + short[1:]


def unpatch(name: str, operations: Any) -> dict[str, Any]:
    """An aspect value from JSON PATCH ``add`` operations (what DataHub's patch builders
    emit for upstreamLineage: ``/upstreams/<urn>``, ``/fineGrainedLineages/<op>/<downstream
    field>/<query>/<upstream field>``); other aspects' patches keep only list additions."""
    value: dict[str, Any] = {}
    for op in operations if isinstance(operations, list) else []:
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace"):
            continue
        parts = [
            p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")
        ]
        parts = [p for p in parts if p != ""]
        if not parts:
            continue
        if name == "upstreamLineage" and parts[0] == "upstreams" and len(parts) >= 2:
            entry = as_object(op.get("value"))
            value.setdefault("upstreams", []).append({"dataset": parts[1], **entry})
        elif name == "upstreamLineage" and parts[0] == "fineGrainedLineages" and len(parts) >= 5:
            value.setdefault("fineGrainedLineages", []).append(
                {"downstreams": [parts[2]], "upstreams": [parts[4]]}
            )
        elif len(parts) == 2:
            value.setdefault(parts[0], []).append(parts[1])
    return value


def build(records: list[Any], names: Names, fragment: GraphFragment) -> GraphFragment:
    """The lineage of DataHub MCP/MCE records (pure)."""
    entities: dict[str, _Entity] = {}
    for record in records:
        aspects = aspects_of(record)
        if aspects is None:
            fragment.count(BAD_RECORDS)
            continue
        for aspect in aspects:
            entity = entities.setdefault(aspect.urn, _Entity())
            entity.aspects.setdefault(aspect.name, []).append(aspect)
    removed = {
        urn
        for urn, e in entities.items()
        if any(
            isinstance(a.value, dict) and a.value.get("removed")
            for a in e.aspects.get("status", [])
        )
    }
    if removed:
        fragment.count(REMOVED, len(removed))
    builder = Builder(names, fragment)
    for urn, entity in sorted(entities.items()):
        if urn in removed:
            continue
        _entity(builder, urn, entity, removed)
    return builder.finish()


def _values(entity: _Entity, name: str) -> list[dict[str, Any]]:
    out = []
    for aspect in entity.aspects.get(name, []):
        value = unpatch(name, aspect.value) if aspect.patch else aspect.value
        if isinstance(value, dict):
            out.append(value)
    return out


def _urns(value: dict[str, Any], *keys: str) -> list[str]:
    """URN lists under ``keys``: plain strings or edge objects (``destinationUrn``)."""
    out = []
    for key in keys:
        for item in value.get(key) or []:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict):
                urn = item.get("destinationUrn") or item.get("dataset") or item.get("urn")
                if isinstance(urn, str):
                    out.append(urn)
    return out


def _entity(builder: Builder, urn: str, entity: _Entity, removed: set[str]) -> None:
    owners = [
        o
        for v in _values(entity, "ownership")
        for o in (owner_name(x.get("owner")) for x in v.get("owners") or [] if isinstance(x, dict))
        if o
    ]
    name = url = None
    for key in (
        "datasetProperties",
        "dashboardInfo",
        "chartInfo",
        "mlModelProperties",
        "dataJobInfo",
    ):
        for value in _values(entity, key):
            name = name or value.get("name") or value.get("title")
            url = url or value.get("externalUrl")
    columns: dict[str, str | None] = {}
    for value in _values(entity, "schemaMetadata"):
        columns.update(schema_columns(value))
    if builder.asset(urn, name=name, url=url, owners=owners, columns=columns) is None:
        return

    def link_in(sources: list[str]) -> None:
        for source in sources:
            if source not in removed:
                builder.link(source, urn)

    def link_out(targets: list[str]) -> None:
        for target in targets:
            if target not in removed:
                builder.link(urn, target)

    for value in _values(entity, "upstreamLineage"):
        link_in(_urns(value, "upstreams"))
        for fgl in value.get("fineGrainedLineages") or []:
            if isinstance(fgl, dict):
                builder.fine_grained(_urns(fgl, "upstreams"), _urns(fgl, "downstreams"))
    for key in ("dashboardInfo", "chartInfo"):
        for value in _values(entity, key):
            link_in(_urns(value, "datasets", "datasetEdges", "inputs", "inputEdges"))
            link_in(_urns(value, "charts", "chartEdges", "dashboards"))
    for value in _values(entity, "inputFields"):
        link_in(
            _urns(
                {
                    "f": [
                        f.get("schemaFieldUrn")
                        for f in value.get("fields") or []
                        if isinstance(f, dict)
                    ]
                },
                "f",
            )
        )
    for value in _values(entity, "mlModelProperties"):
        link_in(_urns(value, "mlFeatures", "trainingJobs"))
    for key in ("mlFeatureProperties", "mlPrimaryKeyProperties"):
        for value in _values(entity, key):
            link_in(_urns(value, "sources"))
    for value in _values(entity, "mlFeatureTableProperties"):
        link_in(_urns(value, "mlFeatures", "mlPrimaryKeys"))
    for value in _values(entity, "dataProcessInstanceInput"):
        link_in(_urns(value, "inputs", "inputEdges"))
    for value in _values(entity, "dataProcessInstanceOutput"):
        link_out(_urns(value, "outputs", "outputEdges"))
    for value in _values(entity, "dataJobInputOutput"):
        link_in(_urns(value, "inputDatasets", "inputDatasetEdges", "inputDatajobs"))
        link_out(_urns(value, "outputDatasets", "outputDatasetEdges"))
        for fgl in value.get("fineGrainedLineages") or []:
            if isinstance(fgl, dict):
                ups, downs = _urns(fgl, "upstreams"), _urns(fgl, "downstreams")
                builder.fine_grained(ups, downs)
                for up in ups:
                    builder.link(up, urn)


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Every MCP/MCE under ``spec.location`` (SourceError when the path is missing)."""
    path = resolve(spec.location, ctx.root)
    read = read_records(path)
    fragment = GraphFragment(spec.name or f"datahub-file:{spec.location}", "datahub-file")
    names = Names({**ctx.aliases, **spec.aliases})
    build([r.value for r in read.records], names, fragment)
    errors = read.errors + [
        f"{r.file}:{r.line}: not a MetadataChangeProposal or MetadataChangeEvent; skipped"
        for r in read.records
        if aspects_of(r.value) is None
    ]
    if errors:
        fragment.status = "partial"
        fragment.detail = "; ".join(errors[:3]) + (
            f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
        )
    return fragment
