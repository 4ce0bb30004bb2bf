"""Airflow 2 and 3 over REST: the DAGs and tasks that consume the tables the diff touches.

Airflow records which tasks read (inlets) and write (outlets) an asset, keyed by its URI.
The source lists the assets (Airflow 3 ``GET /api/v2/assets``, Airflow 2.4–2.10
``GET /api/v1/datasets``; ``limit``/``offset`` pages), maps each URI onto a canonical
relation (``postgres://db:5432/shop/analytics/orders`` -> ``shop.analytics.orders``, with
``aliases`` on ``postgres://db:5432`` or ``postgres``), and walks from the touched tables:
a consuming task (``consuming_tasks``) is ``airflow:<dag>/<task>``, reading the table; a DAG
scheduled on it (``scheduled_dags`` in Airflow 3, ``consuming_dags`` in Airflow 2 and in
Airflow 3's older data model) is ``airflow:<dag>`` unless one of its tasks already reads it;
the assets those consumers produce (``producing_tasks``) are followed up to ``depth`` hops.

With ``options.rendered_sql`` (Airflow 3), the SQL Airflow rendered for each consuming task
in its latest run (``rendered_fields.sql`` of ``GET /api/v2/dags/{dag}/dagRuns/~/
taskInstances?task_id=…``) becomes the consumer's ``sql``, bound at head like a view.

Authentication: ``token_env`` (a bearer token); or ``username_env``/``password_env``:
Airflow 3 exchanges them at ``POST /auth/token`` for a JWT (never cached), Airflow 2 takes
them as basic auth. The API version is found by asking (``options.api_version`` to force).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from impact_check.errors import SourceError
from impact_check.identity import canonical_in, same_relation_suffix, uri_relation
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped
from impact_check.sources.faults import Faults
from impact_check.sources.http import Auth, HttpClient, HttpStatusError, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "airflow"
PAGE_SIZE = 100  # Airflow's default maximum_page_limit
NOT_RELATIONS = "assets whose URI names no table skipped"
UNKNOWN = "touched datasets no Airflow asset names"
BEYOND_DEPTH = "downstream hops beyond depth not followed"
NO_RUN = "consuming tasks without a run (no rendered SQL)"
NO_SQL = "task runs without rendered SQL"

# asset URI scheme -> sqlglot dialect of the SQL a task reading it runs
DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "trino": "trino",
    "databricks": "databricks",
    "mssql": "tsql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
}


@dataclass
class Asset:
    """One asset (dataset) as Airflow answers it, its URI mapped onto a relation."""

    uri: str
    relation: str
    name: str | None = None
    consuming_tasks: list[tuple[str, str]] = field(default_factory=list)
    consuming_dags: list[str] = field(default_factory=list)
    producing_tasks: list[tuple[str, str]] = field(default_factory=list)


def parse_assets(items: list[Any], aliases: dict[str, str], fragment: GraphFragment) -> list[Asset]:
    """Assets of ``/api/v2/assets`` or ``/api/v1/datasets`` answers (both spellings)."""
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
            continue
        uri = item["uri"]
        parsed = uri_relation(uri)
        if parsed is None:
            fragment.count(NOT_RELATIONS)
            continue
        namespace, name = parsed
        scheme = uri.split("://", 1)[0].lower()
        dags = _dag_ids(item.get("scheduled_dags")) + _dag_ids(item.get("consuming_dags"))
        out.append(
            Asset(
                uri=uri,
                relation=canonical_in(name, (namespace, scheme), aliases),
                name=as_text(item.get("name")),
                consuming_tasks=_tasks(item.get("consuming_tasks")),
                consuming_dags=sorted(set(dags)),
                producing_tasks=_tasks(item.get("producing_tasks")),
            )
        )
    return out


def _tasks(value: Any) -> list[tuple[str, str]]:
    pairs = []
    for ref in value or []:
        ref = as_object(ref)
        dag, task = as_text(ref.get("dag_id")), as_text(ref.get("task_id"))
        if dag and task:
            pairs.append((dag, task))
    return sorted(set(pairs))


def _dag_ids(value: Any) -> list[str]:
    return [d for d in (as_text(as_object(r).get("dag_id")) for r in value or []) if d]


def task_id(dag: str, task: str) -> str:
    return f"{ORIGIN}:{dag}/{task}"


def dag_node_id(dag: str) -> str:
    return f"{ORIGIN}:{dag}"


@dataclass
class Reached:
    """What the walk from the touched tables reached: consumer tasks and DAGs, with the
    relations each reads, and the relations they produce."""

    tasks: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    dags: dict[str, set[str]] = field(default_factory=dict)
    relations: set[str] = field(default_factory=set)


def walk(assets: list[Asset], touched: set[str], depth: int, fragment: GraphFragment) -> Reached:
    """Consumers of the touched tables' assets, and of what they produce, within ``depth``."""
    by_relation: dict[str, list[Asset]] = {}
    produced: dict[str, set[str]] = {}  # dag -> relations its tasks produce
    produced_by_task: dict[tuple[str, str], set[str]] = {}
    for asset in assets:
        by_relation.setdefault(asset.relation, []).append(asset)
        for dag, task in asset.producing_tasks:
            produced.setdefault(dag, set()).add(asset.relation)
            produced_by_task.setdefault((dag, task), set()).add(asset.relation)
    reached = Reached()
    frontier = set()
    for name in sorted(touched):
        matches = [r for r in by_relation if r == name] or [
            r for r in by_relation if same_relation_suffix(r, name)
        ]
        if not matches:
            fragment.count(UNKNOWN)
        frontier |= set(matches)
    hops = 0
    while frontier:
        reached.relations |= frontier
        following: set[str] = set()
        for relation in sorted(frontier):
            for asset in by_relation.get(relation, []):
                task_dags = {dag for dag, _task in asset.consuming_tasks}
                readers = [(t, produced_by_task.get(t, set())) for t in asset.consuming_tasks]
                dag_readers = [d for d in asset.consuming_dags if d not in task_dags]
                if (readers or dag_readers) and hops >= depth:
                    fragment.count(BEYOND_DEPTH)
                    continue
                for key, outputs in readers:
                    reached.tasks.setdefault(key, set()).add(relation)
                    following |= outputs
                for dag in dag_readers:
                    reached.dags.setdefault(dag, set()).add(relation)
                    following |= produced.get(dag, set())
        frontier = following - reached.relations
        hops += 1
    return reached


def build(
    assets: list[Asset],
    reached: Reached,
    base_url: str,
    rendered: dict[tuple[str, str], tuple[str, str | None]],
    fragment: GraphFragment,
) -> GraphFragment:
    """The fragment of what ``walk`` reached (``rendered``: task -> (SQL, dialect))."""
    out = Collector(fragment, ORIGIN)
    ui = base_url.rstrip("/")
    for asset in assets:
        if asset.relation in reached.relations:
            out.node(asset.relation, "table", name=asset.name, attrs={"uri": asset.uri})
    for (dag, task), relations in sorted(reached.tasks.items()):
        sql, dialect = rendered.get((dag, task), (None, None))
        node = task_id(dag, task)
        out.node(
            node,
            "job",
            name=f"{dag}.{task}",
            url=f"{ui}/dags/{quote(dag, safe='')}/tasks/{quote(task, safe='')}",
            attrs={"dag_id": dag, "task_id": task},
            sql=sql,
            dialect=dialect,
        )
        for relation in sorted(relations):
            out.edge(relation, node, "reads")
    for dag, relations in sorted(reached.dags.items()):
        node = dag_node_id(dag)
        out.node(
            node, "job", name=dag, url=f"{ui}/dags/{quote(dag, safe='')}", attrs={"dag_id": dag}
        )
        for relation in sorted(relations):
            out.edge(relation, node, "reads")
    consumers = set(reached.tasks) | {(d, "") for d in reached.dags}
    for asset in assets:
        for dag, task in asset.producing_tasks:
            if (dag, task) in consumers:
                out.edge(task_id(dag, task), asset.relation, "writes")
            elif (dag, "") in consumers:
                out.edge(dag_node_id(dag), asset.relation, "writes")
            else:
                continue
            out.node(asset.relation, "table", name=asset.name, attrs={"uri": asset.uri})
    return out.finish()


def rendered_sql(answer: Any, fields: list[str]) -> str | None:
    """The SQL of the latest task instance in a ``taskInstances`` answer, if rendered."""
    instances = as_object(answer).get("task_instances")
    if not isinstance(instances, list) or not instances:
        return None
    rendered = as_object(as_object(instances[0]).get("rendered_fields"))
    for key in fields:
        value = rendered.get(key)
        if isinstance(value, list):
            value = ";\n".join(v for v in value if isinstance(v, str))
        if isinstance(value, str) and value.strip():
            return value
    return None


# ---------------------------------------------------------------------------- fetching


@dataclass
class _Api:
    client: HttpClient
    spec: LineageSource
    version: str  # "v2" (Airflow 3) or "v1" (Airflow 2)

    @property
    def collection(self) -> tuple[str, str]:
        return (
            ("api/v2/assets", "assets") if self.version == "v2" else ("api/v1/datasets", "datasets")
        )

    def list_assets(self, faults: Faults) -> list[Any]:
        path, key = self.collection
        max_pages = int(self.spec.options.get("max_pages", 100))
        items: list[Any] = []
        for page in range(max_pages):
            answer = self.client.get_json(path, {"limit": PAGE_SIZE, "offset": len(items)})
            batch = as_object(answer).get(key)
            if not isinstance(batch, list):
                raise SourceError(f"{self.client.url(path)}: answer has no '{key}' list")
            items += batch
            total = as_object(answer).get("total_entries")
            if not batch or not isinstance(total, int) or len(items) >= total:
                return items
            if page == max_pages - 1:
                faults.add(
                    f"{self.client.url(path)}: more than {max_pages} pages of {PAGE_SIZE} "
                    f"{key} (options.max_pages); the rest was not read"
                )
        return items

    def latest_instance(self, dag: str, task: str) -> Any:
        path = f"api/v2/dags/{quote(dag, safe='')}/dagRuns/~/taskInstances"
        params = {"task_id": task, "order_by": "-run_after", "limit": 1}
        return self.client.get_json(path, params)


def _connect(client: HttpClient, spec: LineageSource, offline: bool) -> _Api:
    """The API version to use, after the token exchange Airflow 3 needs for passwords."""
    forced = spec.options.get("api_version")
    if forced not in (None, "v1", "v2"):
        raise SourceError(f"{spec.location}: options.api_version must be v1 or v2, not {forced!r}")
    password_auth = not spec.token_env and (spec.username_env or spec.password_env)
    if password_auth and forced != "v1" and not offline:
        user, password = Auth(None, spec.username_env, spec.password_env).values(client.url(""))
        try:
            answer = client.post_json(
                "auth/token", {"username": user, "password": password}, cache=False
            )
        except HttpStatusError as err:
            if err.status == 404 and forced is None:  # Airflow 2: no token endpoint
                return _Api(client, spec, "v1")
            raise
        token = as_text(as_object(answer).get("access_token"))
        if token is None:
            raise SourceError(f"{client.url('auth/token')}: answer has no access_token")
        client.use_bearer(token)
        return _Api(client, spec, "v2")
    if forced is not None:
        return _Api(client, spec, str(forced))
    try:  # the listing's first request, so that offline runs find it in the cache
        client.get_json("api/v2/assets", {"limit": PAGE_SIZE, "offset": 0})
    except HttpStatusError as err:
        if err.status == 404:
            return _Api(client, spec, "v1")
        raise
    except SourceError:
        if offline:  # nothing cached for Airflow 3's endpoint: maybe Airflow 2's
            return _Api(client, spec, "v1")
        raise
    return _Api(client, spec, "v2")


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Consumers of ``ctx.touched`` among the assets of the Airflow at ``spec.location``."""
    fragment = GraphFragment(spec.name or f"airflow:{spec.location}", "airflow")
    if not ctx.touched:
        return skipped(fragment)
    aliases = {**ctx.aliases, **spec.aliases}
    faults = Faults()
    base_url = spec.location.rstrip("/")
    rendered: dict[tuple[str, str], tuple[str, str | None]] = {}
    with client_for(spec, ctx, base_url=base_url) as client:
        api = _connect(client, spec, ctx.offline)
        # the asset list is the source: when it cannot be read, the source fails (the
        # SourceError propagates); later failures (rendered SQL) only make it partial
        assets = parse_assets(api.list_assets(faults), aliases, fragment)
        faults.succeeded += 1
        reached = walk(assets, ctx.touched, spec.depth, fragment)
        if spec.options.get("rendered_sql") and api.version == "v2":
            rendered = _rendered(api, assets, reached, faults, fragment)
    build(assets, reached, base_url, rendered, fragment)
    return faults.finish(fragment, client)


def _rendered(
    api: _Api, assets: list[Asset], reached: Reached, faults: Faults, fragment: GraphFragment
) -> dict[tuple[str, str], tuple[str, str | None]]:
    fields = [str(f) for f in api.spec.options.get("sql_fields", ["sql"])]
    forced = api.spec.options.get("dialect")
    schemes = {a.relation: a.uri.split("://", 1)[0].lower() for a in assets}
    tasks = sorted(reached.tasks)
    answers = api.client.map(lambda t: faults.attempt(lambda: api.latest_instance(*t)), tasks)
    out = {}
    for key, answer in zip(tasks, answers):
        if answer is None:
            continue
        if not as_object(answer).get("task_instances"):
            fragment.count(NO_RUN)
            continue
        sql = rendered_sql(answer, fields)
        if sql is None:
            fragment.count(NO_SQL)
            continue
        read = sorted(schemes.get(r, "") for r in reached.tasks[key])
        dialect = (
            str(forced) if forced else next((DIALECTS[s] for s in read if s in DIALECTS), None)
        )
        out[key] = (sql, dialect)
    return out
