"""dbt Cloud's Discovery API (GraphQL): models of other dbt projects (dbt Mesh) and exposures
downstream of this project's public models, with the SQL dbt compiled for each model.

For each environment of a consuming project (``options.environments``: their ids), the
source pages through ``environment(id).applied.models`` (``first``/``after``,
``pageInfo.hasNextPage``/``endCursor``) with each model's relation, ``compiledCode``,
catalog columns and ``parents``, and through ``environment(id).definition.exposures``.
A model whose parents include an ``ExternalModelNode`` (a public model of another project)
whose relation the diff touches is a consumer; models whose parents are consumers follow,
up to ``depth`` hops; exposures whose parents were reached (or are the touched public
model itself) are consumers ``dbt_cloud:exposure/<unique id>``.

- A consuming model is a ``model`` node named by its relation (``database.schema.alias``,
  ``aliases`` keyed by the database); its ``compiledCode`` is its ``sql`` (dialect
  ``options.dialect``), bound at head like a view.
- ``location``: the Discovery API endpoint (``https://metadata.cloud.getdbt.com/graphql``,
  or your region's); ``token_env``: a service token with metadata access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.errors import SourceError
from impact_check.identity import canonical_in, same_relation_suffix
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped
from impact_check.sources.datahub import graphql_data
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "dbt_cloud"
BEYOND_DEPTH = "downstream hops beyond depth not followed"
UNRESOLVED = "exposure parents not resolved to a model"
PAGE_SIZE = 500

MODELS_QUERY = (
    "query impactCheckModels($environmentId: BigInt!, $first: Int!, $after: String) { "
    "environment(id: $environmentId) { applied { models(first: $first, after: $after) { "
    "pageInfo { hasNextPage endCursor } edges { node { "
    "uniqueId name database schema alias projectId compiledCode "
    "catalog { columns { name type } } "
    "parents { __typename "
    "... on ExternalModelNode { uniqueId name database schema alias projectId } "
    "... on ModelAppliedStateNestedNode { uniqueId name database schema alias } "
    "} } } } } } }"
)
EXPOSURES_QUERY = (
    "query impactCheckExposures($environmentId: BigInt!, $first: Int!, $after: String) { "
    "environment(id: $environmentId) { definition { exposures(first: $first, after: $after) { "
    "pageInfo { hasNextPage endCursor } edges { node { "
    "uniqueId name exposureType maturity ownerName ownerEmail url "
    "parents { uniqueId } } } } } } }"
)
EXPOSURE_KINDS = {
    "dashboard": "dashboard",
    "ml": "ml_model",
    "notebook": "notebook",
    "analysis": "analysis",
    "application": "application",
}


@dataclass
class Model:
    unique_id: str
    relation: str
    env: str
    project: str | None = None
    sql: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)  # unique ids


@dataclass
class Environment:
    """One consuming environment's models, exposures and the external models they name."""

    models: dict[str, Model] = field(default_factory=dict)
    external: dict[str, str] = field(default_factory=dict)  # unique id -> relation
    exposures: list[dict[str, Any]] = field(default_factory=list)


def relation_of(node: dict[str, Any], aliases: dict[str, str]) -> str | None:
    parts = [as_text(node.get(k)) for k in ("database", "schema")]
    alias = as_text(node.get("alias")) or as_text(node.get("name"))
    if not parts[1] or not alias:
        return None
    name = ".".join(p for p in (*parts, alias) if p)
    return canonical_in(
        name, [k for k in (parts[0], parts[0] and parts[0].lower(), ORIGIN) if k], aliases
    )


def add_models(env: Environment, env_id: str, edges: list[Any], aliases: dict[str, str]) -> None:
    """One page of ``applied.models`` edges (pure)."""
    for edge in edges:
        node = as_object(as_object(edge).get("node"))
        unique_id, relation = as_text(node.get("uniqueId")), relation_of(node, aliases)
        if not unique_id or not relation:
            continue
        columns = {
            str(c["name"]): as_text(c.get("type"))
            for c in as_object(node.get("catalog")).get("columns") or []
            if isinstance(c, dict) and as_text(c.get("name"))
        }
        model = Model(
            unique_id,
            relation,
            env_id,
            project=str(node["projectId"]) if node.get("projectId") is not None else None,
            sql=as_text(node.get("compiledCode")),
            columns=columns,
        )
        for parent in node.get("parents") or []:
            parent = as_object(parent)
            parent_id = as_text(parent.get("uniqueId"))
            if not parent_id:
                continue
            model.parents.append(parent_id)
            if parent.get("__typename") == "ExternalModelNode":
                external = relation_of(parent, aliases)
                if external:
                    env.external[parent_id] = external
        env.models[unique_id] = model


def build(
    envs: list[Environment],
    touched: set[str],
    depth: int,
    dialect: str | None,
    fragment: GraphFragment,
) -> GraphFragment:
    """Consumers of the touched public models across the environments (pure)."""
    out = Collector(fragment, ORIGIN)
    for env in envs:
        starts = {
            uid
            for uid, rel in env.external.items()
            if rel in touched or any(same_relation_suffix(rel, t) for t in touched)
        }
        relation = {**env.external, **{u: m.relation for u, m in env.models.items()}}
        children: dict[str, list[Model]] = {}
        for model in env.models.values():
            for parent in model.parents:
                children.setdefault(parent, []).append(model)
        reached = set(starts)
        frontier, hops = sorted(starts), 0
        while frontier:
            following = []
            for uid in frontier:
                for child in children.get(uid, []):
                    if hops >= depth:
                        fragment.count(BEYOND_DEPTH)
                        continue
                    out.edge(relation[uid], child.relation, "reads")
                    if child.unique_id not in reached:
                        reached.add(child.unique_id)
                        following.append(child.unique_id)
            frontier, hops = following, hops + 1
        for uid in sorted(reached):
            found = env.models.get(uid)
            if found is None:  # the touched public model, known here only by reference
                out.node(relation[uid], "model", name=uid, attrs={"unique_id": uid})
                continue
            model = found
            out.node(
                model.relation,
                "model",
                name=uid,
                columns=model.columns,
                attrs={"unique_id": uid, "project_id": model.project, "environment_id": model.env},
                sql=model.sql,
                dialect=dialect,
            )
        for exposure in env.exposures:
            _exposure(out, exposure, reached, relation, fragment)
    return out.finish()


def _exposure(
    out: Collector,
    exposure: dict[str, Any],
    reached: set[str],
    relation: dict[str, str],
    fragment: GraphFragment,
) -> None:
    unique_id = as_text(exposure.get("uniqueId"))
    parents = [as_text(as_object(p).get("uniqueId")) for p in exposure.get("parents") or []]
    hits = [p for p in parents if p in reached]
    if not unique_id or not hits:
        return
    node_id = f"{ORIGIN}:exposure/{unique_id}"
    owners = [
        o for o in (as_text(exposure.get("ownerName")), as_text(exposure.get("ownerEmail"))) if o
    ]
    out.node(
        node_id,
        EXPOSURE_KINDS.get(str(exposure.get("exposureType") or "").lower(), "exposure"),
        name=as_text(exposure.get("name")),
        url=as_text(exposure.get("url")),
        owners=owners[:1],
        attrs={"unique_id": unique_id, "maturity": exposure.get("maturity")},
    )
    for parent in hits:
        if parent in relation:
            out.edge(relation[parent], node_id, "reads")
        else:
            fragment.count(UNRESOLVED)


# ---------------------------------------------------------------------------- fetching


def graphql_url(location: str) -> str:
    base = location.rstrip("/")
    return base if base.endswith("/graphql") else base + "/graphql"


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Consumers of ``ctx.touched`` in the consuming environments ``options.environments``."""
    fragment = GraphFragment(spec.name or f"dbt_cloud:{spec.location}", "dbt_cloud")
    if not ctx.touched:
        return skipped(fragment)
    env_ids = spec.options.get("environments") or []
    if not isinstance(env_ids, list) or not env_ids or not all(str(e).isdigit() for e in env_ids):
        raise SourceError(
            f"{spec.location}: options.environments must list the numeric ids of the "
            "consuming projects' environments"
        )
    aliases = {**ctx.aliases, **spec.aliases}
    faults = Faults()
    url = graphql_url(spec.location)
    max_pages = int(spec.options.get("max_pages", 20))
    envs = []
    with client_for(spec, ctx, base_url=url) as client:
        for env_id in env_ids:
            env = Environment()
            pager = _Pager(client, url, str(env_id), max_pages, faults)
            for page in pager.pages(MODELS_QUERY, ("applied", "models")):
                add_models(env, str(env_id), page, aliases)
            for page in pager.pages(EXPOSURES_QUERY, ("definition", "exposures")):
                env.exposures += [as_object(as_object(e).get("node")) for e in page]
            envs.append(env)
    dialect = spec.options.get("dialect")
    build(envs, ctx.touched, spec.depth, str(dialect) if dialect else None, fragment)
    return faults.finish(fragment, client)


@dataclass
class _Pager:
    client: HttpClient
    url: str
    env_id: str
    max_pages: int
    faults: Faults

    def pages(self, query: str, path: tuple[str, str]) -> list[list[Any]]:
        """Each page's ``edges`` of the connection at ``environment.<path>``."""
        out: list[list[Any]] = []
        after: str | None = None
        for _page in range(self.max_pages):
            variables = {"environmentId": int(self.env_id), "first": PAGE_SIZE, "after": after}
            answer = self.faults.attempt(
                lambda v=variables: self.client.post_json(
                    self.url, {"query": query, "variables": v}
                )  # type: ignore[misc]
            )
            if answer is None:
                return out
            try:
                env, error = graphql_data(answer, self.url, "environment")
            except SourceError as err:
                self.faults.add(f"{err} (environment {self.env_id})")
                return out
            if error:
                self.faults.add(error)
            connection = as_object(as_object(env.get(path[0])).get(path[1]))
            out.append(list(connection.get("edges") or []))
            info = as_object(connection.get("pageInfo"))
            after = as_text(info.get("endCursor"))
            if not info.get("hasNextPage") or not after:
                return out
        self.faults.add(
            f"{self.url}: environment {self.env_id}: more than {self.max_pages} pages of "
            f"{'.'.join(path)} (options.max_pages); the rest was not read"
        )
        return out
