"""Feast features as typed consumers of warehouse columns.

Three ways to read a feature store, chosen by the ``location``:

- a directory (relative to the repository root): the feature repository's Python files,
  read statically (sources/feast_static.py; nothing is imported or run);
- a ``.json`` file: the output of ``feast registry-dump``;
- an ``http(s)://`` URL: the Feast registry REST server (``feast serve_registry --rest-api``;
  give the URL up to the API root, e.g. ``http://registry:6572/api/v1``); ``options.project``
  picks the project when the server has several.

Nodes (the conventions impact_check/ml.py relies on): ``feast:feature_view/<view>`` (kind
feature_view; attrs ``entity_keys`` and ``timestamp_field`` as column node ids; ``expects``
{source column: Feast dtype}), ``feast:feature/<view>.<feature>`` (kind feature; a ``column``
edge from the source column it reads: the same name unless ``field_mapping`` maps one onto
it), ``feast:feature_service/<name>`` (kind feature_service, ``reads`` each feature it
serves). A source table is named canonically (identity.canonical with the namespace and
aliases); a source query is a ``feast:query/<source>`` node (kind data_source) carrying its
SQL, which the analysis binds at head like a view (carried.py): the features read its output
columns, so a feature whose field no longer comes out of the query breaks; a file source
maps to a relation through ``options.files`` ({path: relation}), else it stays
a ``feast:file/<path>`` asset.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from impact_check.errors import SourceError
from impact_check.identity import canonical
from impact_check.model import column_id
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.feast_static import (
    FeastRepo,
    Problem,
    ServiceDef,
    SourceDef,
    ViewDef,
    read_repo,
)
from impact_check.sources.http import client_for

ORIGIN = "feast"
RULE = "AN910"  # feast-definition-unresolved
_DIALECTS = {
    "PostgreSQLSource": "postgres",
    "BigQuerySource": "bigquery",
    "SnowflakeSource": "snowflake",
    "RedshiftSource": "redshift",
    "SparkSource": "spark",
    "TrinoSource": "trino",
    "AthenaSource": "athena",
}
# registry batchSource.type -> the Feast class (PostgreSQLSource is a CUSTOM_SOURCE)
_REGISTRY_TYPES = {
    "BATCH_FILE": ("FileSource", "fileOptions"),
    "BATCH_BIGQUERY": ("BigQuerySource", "bigqueryOptions"),
    "BATCH_SNOWFLAKE": ("SnowflakeSource", "snowflakeOptions"),
    "BATCH_REDSHIFT": ("RedshiftSource", "redshiftOptions"),
    "BATCH_SPARK": ("SparkSource", "sparkOptions"),
    "BATCH_TRINO": ("TrinoSource", "trinoOptions"),
    "BATCH_ATHENA": ("AthenaSource", "athenaOptions"),
}


def fetch(spec: Any, ctx: SourceContext) -> GraphFragment:
    """Read the feature store ``spec.location`` names (see the module docstring)."""
    location = str(spec.location)
    if location.startswith(("http://", "https://")):
        return build_fragment(_from_rest(spec, ctx), spec, ctx)
    path = Path(location)
    if not path.is_absolute():
        path = ctx.root / path
    if path.suffix == ".json":
        repo = from_registry(_load_json(path), str(path))
    elif path.is_dir() or path.suffix == ".py":
        repo = read_repo(path, ctx.root)
        if not repo.files:
            raise SourceError(f"{location}: no Python files (expected a Feast feature repository)")
    else:
        raise SourceError(f"{location}: not found (a feature repository folder or a .json dump)")
    return build_fragment(repo, spec, ctx)


# --- registry JSON (registry-dump, REST) -----------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"{path}: cannot read the registry dump ({err})") from None
    try:
        return json.loads(text)
    except ValueError as err:
        raise SourceError(
            f"{path}: not a JSON registry dump (line {err.lineno}: {err.msg}); "  # type: ignore[attr-defined]
            "write it with `feast registry-dump > registry.json`"
        ) from None


def from_registry(document: Any, where: str) -> FeastRepo:
    """A ``feast registry-dump`` document (or the REST objects in that shape) as a FeastRepo."""
    if not isinstance(document, dict) or not any(
        k in document for k in ("featureViews", "featureServices", "entities")
    ):
        raise SourceError(f"{where}: not a Feast registry (no featureViews/entities keys)")
    repo = FeastRepo(project=_str(document.get("project")))
    for item in _list(document.get("entities")):
        spec = _spec(item)
        name = _str(spec.get("name"))
        if name:
            repo.entities[name] = [k for k in [_str(spec.get("joinKey"))] if k]
    for item in _list(document.get("featureViews")):
        view = _registry_view(_spec(item), repo, where)
        if view is not None:
            repo.views.append(view)
    for item in _list(document.get("onDemandFeatureViews")):
        key = "on-demand feature views (Python functions, no column lineage)"
        repo.skipped[key] = repo.skipped.get(key, 0) + 1
        name = _str(_spec(item).get("name"))
        if name:
            repo.opaque_views.add(name)
    for item in _list(document.get("featureServices")):
        spec = _spec(item)
        name = _str(spec.get("name"))
        if not name:
            continue
        features: list[tuple[str, list[str] | None]] = []
        for entry in _list(spec.get("features")):
            view_name = _str(entry.get("featureViewName")) if isinstance(entry, dict) else None
            if view_name:
                columns = [_str(c.get("name")) for c in _list(entry.get("featureColumns"))]
                features.append((view_name, [c for c in columns if c]))
        tags = _str_dict(spec.get("tags"))
        owners = [o for o in [_str(spec.get("owner")), tags.get("owner")] if o]
        repo.services.append(ServiceDef(name, features, owners, tags))
    return repo


def _registry_view(spec: dict[str, Any], repo: FeastRepo, where: str) -> ViewDef | None:
    name = _str(spec.get("name"))
    if not name:
        return None
    features = {
        str(f["name"]): _str(f.get("valueType"))
        for f in _list(spec.get("features"))
        if isinstance(f, dict) and f.get("name")
    }
    entity_columns = {
        str(f["name"]): _str(f.get("valueType"))
        for f in _list(spec.get("entityColumns"))
        if isinstance(f, dict) and f.get("name")
    }
    entities = [str(e) for e in _list(spec.get("entities")) if isinstance(e, str)]
    for entity in entities:
        for key in repo.entities.get(entity, []):
            entity_columns.setdefault(key, None)
    entity_columns.pop("__dummy_id", None)  # Feast's placeholder for entity-less views
    raw = spec.get("batchSource")
    if not isinstance(raw, dict):
        stream = spec.get("streamSource")
        raw = stream.get("batchSource") if isinstance(stream, dict) else None
    source = _registry_source(raw, where, name, repo) if isinstance(raw, dict) else None
    tags = _str_dict(spec.get("tags"))
    owners = [o for o in [_str(spec.get("owner")), tags.get("owner")] if o]
    return ViewDef(name, features, entity_columns, source, entities, owners, tags)


def _registry_source(raw: dict[str, Any], where: str, view: str, repo: FeastRepo) -> SourceDef:
    kind_name = str(raw.get("type") or "")
    kind, options_key = _REGISTRY_TYPES.get(kind_name, (kind_name or "unknown", ""))
    options = raw.get(options_key) if options_key else None
    options = options if isinstance(options, dict) else {}
    if kind_name == "CUSTOM_SOURCE":
        kind = str(raw.get("dataSourceClassType") or "CustomSource").rsplit(".", 1)[-1]
        options = _custom_options(raw, where, view, repo)
    return SourceDef(
        name=_str(raw.get("name")),
        kind=kind,
        table=_str(options.get("table")),
        query=_str(options.get("query")),
        path=_str(options.get("uri") or options.get("path")),
        database=_str(options.get("database")),
        schema=_str(options.get("schema")),
        field_mapping=_str_dict(raw.get("fieldMapping")),
        timestamp_field=_str(raw.get("timestampField")),
        created_timestamp_column=_str(raw.get("createdTimestampColumn")),
    )


def _custom_options(raw: dict[str, Any], where: str, view: str, repo: FeastRepo) -> dict[str, Any]:
    """A custom source's settings: base64 JSON in customOptions.configuration."""
    config = (raw.get("customOptions") or {}).get("configuration")
    if not isinstance(config, str):
        return {}
    try:
        decoded = json.loads(base64.b64decode(config, validate=True))
    except (binascii.Error, ValueError):
        repo.problems.append(
            Problem(where, None, f"feature view {view}: custom source configuration unreadable")
        )
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _from_rest(spec: Any, ctx: SourceContext) -> FeastRepo:
    """The registry server's objects (one request for the whole project: /lineage/complete)."""
    with client_for(spec, ctx) as client:
        project = _str((spec.options or {}).get("project"))
        if project is None:
            answer = client.get_json("projects")
            found = [_str(_spec(p).get("name")) for p in _list((answer or {}).get("projects"))]
            names = [n for n in found if n]
            if len(names) != 1:
                raise SourceError(
                    f"{client.url('projects')}: {len(names)} projects ({', '.join(names)}); "
                    "set options.project"
                )
            project = names[0]
        url = client.url("lineage/complete")
        answer = client.get_json("lineage/complete", {"project": project})
        objects = answer.get("objects") if isinstance(answer, dict) else None
        if not isinstance(objects, dict):
            raise SourceError(f"{url}: no `objects` in the answer (not a Feast registry server)")
        views, on_demand = _split_views(_list(objects.get("featureViews")))
        document = {
            "project": project,
            "entities": objects.get("entities"),
            "featureViews": views,
            "onDemandFeatureViews": on_demand,
            "featureServices": objects.get("featureServices"),
        }
        repo = from_registry(document, url)
        pages = answer.get("pagination") or {}
        truncated = sorted(
            k for k, v in pages.items() if isinstance(v, dict) and (v.get("totalPages") or 1) > 1
        )
        if truncated:
            repo.problems.append(
                Problem(url, None, f"paginated answer, only page 1 read for {', '.join(truncated)}")
            )
        if client.served_from_cache:
            repo.skipped["served from cache"] = 1
        return repo


def _split_views(items: list[Any]) -> tuple[list[Any], list[Any]]:
    """REST featureViews come wrapped by type ({"featureView": {...}}, {"onDemandFeatureView":
    ...}), with a pagination entry among them: (declarative views, on-demand views)."""
    views, on_demand = [], []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key == "onDemandFeatureView":
                on_demand.append(value)
            elif key.endswith("eatureView") and isinstance(value, dict):
                views.append(value)
        if "spec" in item:
            views.append(item)
    return views, on_demand


# --- the fragment ------------------------------------------------------------------------


def build_fragment(repo: FeastRepo, spec: Any, ctx: SourceContext) -> GraphFragment:
    """Feature views, features and services as nodes reading canonical warehouse columns."""
    fragment = GraphFragment(spec.name or f"feast:{spec.location}", "feast")
    builder = _Builder(fragment, spec, ctx)
    builder.opaque = set(repo.opaque_views)
    views = {view.name: view for view in repo.views}
    for view in repo.views:
        builder.view(view)
    for service in repo.services:
        builder.service(service, views)
    problems = [*repo.problems, *builder.problems]
    for problem in problems:
        fragment.issue(RULE, problem.message, problem.file, problem.line)
    fragment.counts.update({k: v for k, v in repo.skipped.items() if k != "served from cache"})
    fragment.count("feature views", len(repo.views))
    fragment.count("feature services", len(repo.services))
    if problems:
        fragment.status = "partial"
        first = problems[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        fragment.detail = f"{where}: {first.message}{more}"
    elif "served from cache" in repo.skipped:
        fragment.status = "cached"
    return fragment


class _Builder:
    def __init__(self, fragment: GraphFragment, spec: Any, ctx: SourceContext) -> None:
        self.fragment = fragment
        self.namespace = spec.namespace
        self.aliases = {**ctx.aliases, **(spec.aliases or {})}
        options = spec.options or {}
        self.files = {str(k): str(v) for k, v in (options.get("files") or {}).items()}
        self.dialect = _str(options.get("dialect"))
        self.features_of: dict[str, dict[str, str]] = {}  # view -> feature -> node id
        self.services_of: dict[str, list[str]] = {}  # feature node -> services
        self.problems: list[Problem] = []
        self.relations: dict[str, dict[str, str | None]] = {}
        self.queries: set[str] = set()
        self.opaque: set[str] = set()

    def view(self, view: ViewDef) -> None:
        view_id = f"feast:feature_view/{view.name}"
        columns = self._columns(view)  # Feast column name -> column node ids it reads
        reverse = {v: k for k, v in (view.source.field_mapping if view.source else {}).items()}

        def read(name: str) -> list[str]:
            return columns(reverse.get(name, name)) if view.source else []

        keys = [c for key in view.entity_columns for c in read(key)]
        timestamp = (
            read(view.source.timestamp_field) if view.source and view.source.timestamp_field else []
        )
        created = (
            read(view.source.created_timestamp_column)
            if view.source and view.source.created_timestamp_column
            else []
        )
        expects: dict[str, str | None] = {}
        for name, dtype in [*view.entity_columns.items(), *view.features.items()]:
            for col in read(name):
                expects[col] = dtype
        source = view.source
        self.fragment.node(
            FragmentNode(
                view_id,
                "feature_view",
                ORIGIN,
                name=view.name,
                owners=list(view.owners),
                expects=expects,
                attrs={
                    "entity_keys": keys,
                    "timestamp_field": timestamp[0] if timestamp else None,
                    "created_timestamp_column": created[0] if created else None,
                    "entities": list(view.entities),
                    "features": sorted(view.features),
                    "source": source.name if source else None,
                    "source_kind": source.kind if source else None,
                    "file": view.file,
                    "line": view.line,
                },
            )
        )
        shared = [*keys, *timestamp, *created]  # every feature is joined and filtered on these
        for col in dict.fromkeys([*expects, *shared]):
            self.fragment.edge(col, view_id, "column")
        members: dict[str, str] = {}
        for name, dtype in view.features.items():
            feature_id = f"feast:feature/{view.name}.{name}"
            members[name] = feature_id
            own = read(name)
            self.fragment.node(
                FragmentNode(
                    feature_id,
                    "feature",
                    ORIGIN,
                    name=f"{view.name}:{name}",
                    owners=list(view.owners),
                    expects={col: dtype for col in own},
                    attrs={
                        "feature_view": view_id,
                        "dtype": dtype,
                        "source_columns": own,
                        "file": view.file,
                        "line": view.line,
                    },
                )
            )
            for col in dict.fromkeys([*own, *shared]):
                self.fragment.edge(col, feature_id, "column")
            self.fragment.edge(view_id, feature_id, "feature")
        self.features_of[view.name] = members

    def service(self, service: ServiceDef, views: dict[str, ViewDef]) -> None:
        service_id = f"feast:feature_service/{service.name}"
        served = []
        for view_name, names in service.features:
            members = self.features_of.get(view_name)
            if members is None and view_name in self.opaque:
                self.fragment.count("features of on-demand views served (not traced)")
                continue
            if members is None:
                self.problems.append(
                    Problem(
                        service.file or "registry",
                        service.line,
                        f"feature service {service.name}: feature view {view_name} not found",
                    )
                )
                continue
            for name in names if names is not None else list(members):
                if name not in members:
                    self.problems.append(
                        Problem(
                            service.file or "registry",
                            service.line,
                            f"feature service {service.name}: {view_name} has no feature {name}",
                        )
                    )
                    continue
                served.append(members[name])
        self.fragment.node(
            FragmentNode(
                service_id,
                "feature_service",
                ORIGIN,
                name=service.name,
                owners=list(service.owners),
                attrs={
                    "features": [f.split("/", 1)[1] for f in served],
                    "tags": dict(service.tags) or None,
                    "file": service.file,
                    "line": service.line,
                },
            )
        )
        for feature_id in served:
            self.fragment.edge(feature_id, service_id, "reads")
            self.services_of.setdefault(feature_id, []).append(service.name)
        del views
        for node in self.fragment.nodes:
            if node.id in self.services_of:
                node.attrs["feature_services"] = sorted(self.services_of[node.id])

    # --- where a view's columns come from ------------------------------------------------

    def _columns(self, view: ViewDef) -> Any:
        """A function: Feast column name -> the warehouse column node ids it reads."""
        source = view.source
        if source is None:
            return lambda name: []
        if source.query:
            query = self._query(source, view)
            text = source.query
            # an unquoted output name comes out of the SQL folded to lower case
            return lambda name: [column_id(query, name if f'"{name}"' in text else name.lower())]
        relation = self._relation(source)
        if relation is None:
            self.problems.append(
                Problem(
                    view.file or "registry",
                    view.line,
                    f"feature view {view.name}: source {source.name or source.kind} names no "
                    "table, query or path",
                )
            )
            return lambda name: []
        self._table_node(relation, source)
        return lambda name: [column_id(relation, name)]

    def _relation(self, source: SourceDef) -> str | None:
        if source.table:
            parts = [p for p in (source.database, source.schema) if p]
            name = source.table if "." in source.table else ".".join([*parts, source.table])
            return canonical(name, self.namespace, self.aliases)
        if source.path:
            mapped = self.files.get(source.path)
            return (
                canonical(mapped, self.namespace, self.aliases)
                if mapped
                else f"feast:file/{source.path}"
            )
        return None

    def _table_node(self, relation: str, source: SourceDef) -> None:
        if relation not in self.relations:
            self.relations[relation] = {}
            kind = "file" if relation.startswith("feast:file/") else "table"
            self.fragment.node(FragmentNode(relation, kind, ORIGIN, name=source.path or relation))

    def _query(self, source: SourceDef, view: ViewDef) -> str:
        """The node of a source query: the analysis binds its SQL at head like a view
        (carried.py), so its columns are the query's output columns."""
        query_id = f"feast:query/{source.name or view.name}"
        if query_id not in self.queries:
            self.queries.add(query_id)
            node = FragmentNode(
                query_id,
                "data_source",
                ORIGIN,
                name=f"{source.name or view.name} ({source.kind} query)",
                owners=list(view.owners),
                attrs={"source_kind": source.kind, "file": view.file, "line": view.line},
            )
            node.sql = source.query
            node.dialect = self.dialect or _DIALECTS.get(source.kind, "postgres")
            self.fragment.node(node)
        return query_id


# --- small JSON helpers -------------------------------------------------------------------


def _spec(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        spec = item.get("spec", item)
        return spec if isinstance(spec, dict) else {}
    return {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
