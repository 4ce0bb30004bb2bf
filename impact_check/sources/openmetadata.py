"""OpenMetadata's lineage API: tables, dashboards, data models, ML models and pipelines
downstream of the tables the diff touches, with column lineage.

For each touched table: ``GET /api/v1/lineage/table/name/{fqn}?upstreamDepth=0&
downstreamDepth=N`` (OpenMetadata allows at most 3; ``depth`` beyond is capped and counted)
-> ``EntityLineage {entity, nodes[EntityReference], downstreamEdges[{fromEntity, toEntity,
lineageDetails {sqlQuery, columnsLineage[{fromColumns[], toColumn}], pipeline}}]}``.

- A table's fully qualified name is ``service.database.schema.table``; a touched
  ``schema.table`` gets the leading parts from ``namespace`` (``pg_prod.shop``). Back to
  canonical names the service is dropped and ``aliases`` keyed by the service apply to the
  database (``{pg_prod: ""}`` drops it too); FQN parts holding dots are quoted and kept.
- Column FQNs are the entity's FQN plus the column: ``columnsLineage`` between tables are
  ``projection`` edges, into a dashboard data model, chart or ML model ``column`` edges.
- Other entities are consumers ``openmetadata:<type>/<fqn>`` reading what their edge comes
  from; the ``pipeline`` of an edge reads its source and writes its target.
- An edge's ``sqlQuery`` is the SQL that builds the target table: its ``sql``, bound at
  head (dialect ``options.dialect``).

Auth: ``token_env`` (a bot's JWT, ``Authorization: Bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from impact_check.identity import canonical, name_parts
from impact_check.model import column_id
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped, with_prefix
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, HttpStatusError, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "openmetadata"
MAX_DEPTH = 3  # OpenMetadata's limit on upstreamDepth/downstreamDepth
DEPTH_CAPPED = "depth capped at OpenMetadata's maximum of 3"
NO_PREFIX = "touched datasets without service/database (set namespace)"
UNKNOWN = "touched tables OpenMetadata does not know"
UNMATCHED_COLUMNS = "column FQNs naming no entity of the answer"

KINDS = {
    "table": "table",
    "dashboard": "dashboard",
    "dashboarddatamodel": "dashboard",
    "chart": "chart",
    "mlmodel": "ml_model",
    "pipeline": "job",
    "storedprocedure": "job",
    "topic": "stream",
    "container": "table",
    "searchindex": "application",
    "apiendpoint": "application",
    "metric": "application",
}
DATASETS = {"table"}
WRITERS = {"pipeline", "storedprocedure"}


@dataclass
class Entity:
    """An EntityReference: id, type (lower-cased), fully qualified name, display name."""

    id: str
    type: str
    fqn: str
    name: str | None = None


@dataclass
class Answer:
    """The entities and downstream edges of one or more lineage answers, by entity id."""

    entities: dict[str, Entity] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)

    def add(self, payload: Any) -> None:
        data = as_object(payload)
        for ref in [data.get("entity"), *(data.get("nodes") or [])]:
            entity = _entity(ref)
            if entity is not None:
                self.entities.setdefault(entity.id, entity)
        for edge in data.get("downstreamEdges") or []:
            edge = as_object(edge)
            pipeline = _entity(as_object(edge.get("lineageDetails")).get("pipeline"))
            if pipeline is not None:
                self.entities.setdefault(pipeline.id, pipeline)
            self.edges.append(edge)


def _entity(ref: Any) -> Entity | None:
    ref = as_object(ref)
    ident, kind, fqn = (as_text(ref.get(k)) for k in ("id", "type", "fullyQualifiedName"))
    if not (ident and kind and fqn):
        return None
    name = as_text(ref.get("displayName")) or as_text(ref.get("name"))
    return Entity(ident, kind.lower(), fqn, name)


def relation(fqn: str, aliases: dict[str, str]) -> str:
    """The canonical relation of a table FQN (``service.database.schema.table``)."""
    parts = name_parts(fqn)
    service, rest = (parts[0], parts[1:]) if len(parts) >= 4 else ("", parts)
    return canonical(".".join(rest), service or None, aliases)


def build(
    answer: Answer, aliases: dict[str, str], ui: str, dialect: str | None, fragment: GraphFragment
) -> GraphFragment:
    """The fragment of the answers (pure)."""
    out = Collector(fragment, ORIGIN)
    ids: dict[str, str] = {}
    for entity in answer.entities.values():
        if entity.type in DATASETS:
            ids[entity.id] = relation(entity.fqn, aliases)
        else:
            ids[entity.id] = f"{ORIGIN}:{entity.type}/{entity.fqn}"
        out.node(
            ids[entity.id],
            KINDS.get(entity.type, "application"),
            name=entity.name or entity.fqn,
            url=f"{ui}/{entity.type}/{quote(entity.fqn, safe='')}",
            attrs={"fqn": entity.fqn, "openmetadata_id": entity.id},
        )
    by_fqn = sorted(answer.entities.values(), key=lambda e: -len(e.fqn))

    def column(fqn: str) -> str | None:
        for entity in by_fqn:  # the longest entity FQN the column FQN extends
            if fqn.startswith(entity.fqn + ".") and entity.id in ids:
                return column_id(ids[entity.id], fqn[len(entity.fqn) + 1 :])
        fragment.count(UNMATCHED_COLUMNS)
        return None

    for edge in answer.edges:
        src, dst = ids.get(str(edge.get("fromEntity"))), ids.get(str(edge.get("toEntity")))
        if src is None or dst is None:
            continue
        details = as_object(edge.get("lineageDetails"))
        pipeline = _entity(details.get("pipeline"))
        target = answer.entities[str(edge["toEntity"])]
        if target.type in DATASETS and as_text(details.get("sqlQuery")):
            out.node(dst, "table", sql=details["sqlQuery"], dialect=dialect)
        source_kind = answer.entities[str(edge["fromEntity"])].type
        out.edge(src, dst, "writes" if source_kind in WRITERS else "reads")
        if pipeline is not None:
            out.edge(src, ids[pipeline.id], "reads")
            out.edge(ids[pipeline.id], dst, "writes")
        for item in details.get("columnsLineage") or []:
            item = as_object(item)
            to = column(str(item.get("toColumn"))) if item.get("toColumn") else None
            for from_fqn in item.get("fromColumns") or []:
                frm = column(str(from_fqn))
                if frm is None:
                    continue
                if to is not None and target.type in DATASETS:
                    out.edge(frm, to, "projection")
                else:
                    out.edge(frm, dst, "column")
                if pipeline is not None:
                    out.edge(frm, ids[pipeline.id], "column")
    return out.finish()


# ---------------------------------------------------------------------------- fetching


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Downstream lineage of ``ctx.touched`` from the OpenMetadata at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"openmetadata:{spec.location}", "openmetadata")
    if not ctx.touched:
        return skipped(fragment)
    aliases = {**ctx.aliases, **spec.aliases}
    depth = min(spec.depth, MAX_DEPTH)
    if spec.depth > MAX_DEPTH:
        fragment.count(DEPTH_CAPPED)
    fqns = []
    for touched in sorted(ctx.touched):
        fqn = with_prefix(touched, spec.namespace, 4)
        if fqn is None:
            fragment.count(NO_PREFIX)
        else:
            fqns.append(fqn)
    base = spec.location.rstrip("/")
    base = base[: -len("/api")] if base.endswith("/api") else base
    faults = Faults()
    answer = Answer()
    with client_for(spec, ctx, base_url=base) as client:
        found = client.map(lambda f: faults.attempt(lambda: _lineage(client, f, depth)), fqns)
    for payload in found:
        if payload is None:
            continue
        if payload == {}:
            fragment.count(UNKNOWN)
        answer.add(payload)
    ui = str(spec.options.get("ui_url") or base).rstrip("/")
    dialect = spec.options.get("dialect")
    build(answer, aliases, ui, str(dialect) if dialect else None, fragment)
    return faults.finish(fragment, client)


def _lineage(client: HttpClient, fqn: str, depth: int) -> Any:
    path = f"api/v1/lineage/table/name/{quote(fqn, safe='')}"
    try:
        return client.get_json(path, {"upstreamDepth": 0, "downstreamDepth": depth})
    except HttpStatusError as err:
        if err.status == 404:  # "table instance for <fqn> not found": not an outage
            return {}
        raise
