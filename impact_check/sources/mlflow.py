"""MLflow tracking server: registered model versions as consumers of their training tables.

Over the REST API (2.0 routes, MLflow 2 and 3; all through sources/http.py):

- ``registered-models/search`` (paginated): models, their tags (owners), aliases and
  ``latest_versions`` (latest per stage);
- which versions count: by default the serving ones — every aliased version, every version
  in Staging or Production, and the latest version (``options.versions: all`` reads every
  version through ``model-versions/search``; ``latest`` only the latest);
- ``runs/get`` for each version's run: the logged dataset inputs of context ``training``
  (or without a context): the table from the dataset ``source`` (``table_name``,
  ``delta_table_name``, the tables of ``sql``, a ``uri``'s last two path parts, or the
  dataset ``name``), the columns and types from its ``schema``;
- ``/model-versions/get-artifact?path=MLmodel`` for the signature (the server reads the
  artifact wherever it is stored; sources/mlmodel.py parses it).

A version becomes the node ``mlflow:<model>/<version>`` (kind ``ml_model``) when a training
table maps onto a dataset the repository defines; edges and typed expectations come from
sources/mlmodel.py ``link``. What cannot be linked (a run without dataset inputs, an
unreadable run or MLmodel) is listed in the fragment's detail and makes it ``partial``; a
server that cannot be reached or refuses the credentials fails the source (AN905).

Settings: ``location`` is the tracking URL; ``token_env`` (Bearer) or ``username_env`` /
``password_env`` (basic auth, ``mlflow server --app-name basic-auth``); ``options``:
``versions`` (serving | latest | all), ``models`` (names to read; default all),
``max_models`` (default 500), ``owner_tags`` (default ``[owner, team]``), ``dialect`` (for
SQL dataset sources).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from impact_check.errors import SourceError
from impact_check.identity import Matcher, canonical
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.http import HttpClient, client_for
from impact_check.sources.mlmodel import Signature, link, parse_colspec, parse_mlmodel
from impact_check.sql.names import table_name

API = "api/2.0/mlflow"
_SERVING_STAGES = {"staging", "production"}
_PAGE = 100


@dataclass
class Version:
    """One registered model version to read."""

    model: str
    version: str
    run_id: str
    stage: str
    aliases: list[str]
    owners: list[str]
    user: str | None = None


@dataclass
class TrainingSet:
    """A dataset input of a run: the relation(s) it names and its columns."""

    relations: list[str]  # candidate names of the one relation it is, most specific first
    schema: dict[str, str] | None
    name: str
    joined: list[str] = field(default_factory=list)  # a SQL source over several tables


@dataclass
class VersionRead:
    """What reading one version gave: a node with edges, or the reason it is not linked."""

    version: Version
    node: FragmentNode | None = None
    edges: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fetch(spec: Any, ctx: SourceContext) -> GraphFragment:
    """Read the tracking server at ``spec.location`` (see the module docstring)."""
    fragment = GraphFragment(spec.name or f"mlflow:{spec.location}", "mlflow")
    options = dict(spec.options or {})
    with client_for(spec, ctx) as client:
        versions, truncated = _versions(client, options)
        matcher = Matcher(set(ctx.known))
        reads = client.map(lambda v: _read_version(client, v, spec, ctx, matcher), versions)
        cached = client.served_from_cache
    problems = [p for r in reads for p in r.problems]
    if truncated:
        problems.insert(0, truncated)
    for read in reads:
        for note in read.notes:
            fragment.count(note)
        if read.node is None:
            continue
        fragment.node(read.node)
        for src, kind in read.edges:
            fragment.edge(src, read.node.id, kind)
    fragment.count("model versions linked", len(fragment.nodes))
    unlinked = sum(1 for r in reads if r.node is None and not r.problems)
    fragment.count("model versions not trained on a repository dataset", unlinked)
    if problems:
        fragment.status = "partial"
        shown = "; ".join(problems[:5])
        fragment.detail = shown + (f"; +{len(problems) - 5} more" if len(problems) > 5 else "")
    elif cached:
        fragment.status = "cached"
        fragment.detail = "served from the last good answer (server unreachable or offline)"
    return fragment


def _versions(client: HttpClient, options: dict[str, Any]) -> tuple[list[Version], str]:
    """The model versions to read, and a note when ``max_models`` cut the list."""
    wanted = set(options.get("models") or [])
    limit = int(options.get("max_models", 500))
    mode = str(options.get("versions", "serving"))
    if mode not in ("serving", "latest", "all"):
        raise SourceError(f"{client.base_url}: options.versions must be serving, latest or all")
    owner_tags = list(options.get("owner_tags") or ["owner", "team"])
    models, token = [], None
    while True:
        params: dict[str, Any] = {"max_results": _PAGE}
        if token:
            params["page_token"] = token
        page = _mapping(client.get_json(f"{API}/registered-models/search", params), client)
        models += [m for m in page.get("registered_models") or [] if isinstance(m, dict)]
        token = page.get("next_page_token")
        if not token or len(models) >= limit:
            break
    if wanted:
        models = [m for m in models if m.get("name") in wanted]
    truncated = ""
    if len(models) > limit:
        truncated = f"{client.base_url}: more than {limit} registered models; read the first"
        models = models[:limit]
    out: list[Version] = []
    for model in models:
        out += _model_versions(client, model, mode, owner_tags)
    return out, truncated


def _model_versions(
    client: HttpClient, model: dict[str, Any], mode: str, owner_tags: list[str]
) -> list[Version]:
    name = str(model.get("name"))
    aliases: dict[str, list[str]] = {}
    for alias in model.get("aliases") or []:
        if isinstance(alias, dict) and alias.get("alias"):
            aliases.setdefault(str(alias.get("version")), []).append(str(alias["alias"]))
    tags = _tags(model.get("tags"))
    owners = [tags[t] for t in owner_tags if tags.get(t)]
    latest = [v for v in model.get("latest_versions") or [] if isinstance(v, dict)]
    listed = _search_versions(client, name) if mode == "all" else latest
    by_number = {str(v.get("version")): v for v in listed}
    chosen: set[str] = set()
    if latest:
        chosen.add(max((str(v.get("version")) for v in latest), key=_version_key))
    if mode == "all":
        chosen |= set(by_number)
    elif mode == "serving":
        chosen |= {n for n, v in by_number.items() if _stage(v) in _SERVING_STAGES}
        chosen |= set(aliases)
    out = []
    for number in sorted(chosen, key=_version_key):
        entry = by_number.get(number) or _get_version(client, name, number)
        version_tags = _tags(entry.get("tags"))
        out.append(
            Version(
                model=name,
                version=number,
                run_id=str(entry.get("run_id") or ""),
                stage=str(entry.get("current_stage") or "None"),
                aliases=sorted(aliases.get(number, [])),
                owners=[version_tags[t] for t in owner_tags if version_tags.get(t)] or owners,
                user=entry.get("user_id") or None,
            )
        )
    return out


def _search_versions(client: HttpClient, name: str) -> list[dict[str, Any]]:
    quoted = f"name='{name}'" if "'" not in name else f'name="{name}"'
    out, token = [], None
    while True:
        params: dict[str, Any] = {"filter": quoted, "max_results": 1000}
        if token:
            params["page_token"] = token
        page = _mapping(client.get_json(f"{API}/model-versions/search", params), client)
        out += [v for v in page.get("model_versions") or [] if isinstance(v, dict)]
        token = page.get("next_page_token")
        if not token:
            return out


def _get_version(client: HttpClient, name: str, number: str) -> dict[str, Any]:
    page = _mapping(
        client.get_json(f"{API}/model-versions/get", {"name": name, "version": number}), client
    )
    version = page.get("model_version")
    return version if isinstance(version, dict) else {}


def _read_version(
    client: HttpClient, version: Version, spec: Any, ctx: SourceContext, matcher: Matcher
) -> VersionRead:
    """Run, datasets and signature of one version; errors become the read's problems."""
    read = VersionRead(version)
    label = f"{version.model}/{version.version}"
    if not version.run_id:
        read.problems.append(f"{label}: the version names no run (no training data known)")
        return read
    try:
        run = _mapping(client.get_json(f"{API}/runs/get", {"run_id": version.run_id}), client)
        training = _training_sets(run.get("run"), label, spec)
    except SourceError as err:
        read.problems.append(f"{label}: {err}")
        return read
    if not training:
        read.problems.append(
            f"{label}: run {version.run_id} logged no training dataset "
            "(mlflow.log_input): not linked to any table"
        )
        return read
    linked = [(relation, ts) for ts in training for relation in _pick(ts, matcher, ctx)]
    if not linked:
        return read  # trained on tables outside the repository: not a consumer here
    signature = Signature("none")
    try:
        text = client.get_text(
            "model-versions/get-artifact",
            {"path": "MLmodel", "name": version.model, "version": version.version},
        )
        signature = parse_mlmodel(text, f"{label} MLmodel").signature
    except SourceError as err:
        read.problems.append(f"{label}: no signature read ({err}); read at table level")
    run_info = run.get("run", {}).get("info", {}) if isinstance(run.get("run"), dict) else {}
    node = _node(version, signature, client, run_info)
    for relation, ts in linked:
        # the columns of a query over several tables cannot be told apart: table level
        edges = link(relation, ts.schema, signature if not ts.joined else Signature("none"))
        node.expects.update(edges.expects)
        read.edges += edges.edges
        if edges.unmapped:
            node.attrs.setdefault("unmapped_inputs", []).extend(edges.unmapped)
        if ts.schema is None:
            read.notes.append("training datasets without a schema")
    node.attrs["datasets"] = sorted({r for r, _ in linked})
    if signature.kind == "tensor":
        read.notes.append("tensor signatures (read at table level)")
    read.node = node
    return read


def _node(
    version: Version, signature: Signature, client: HttpClient, run_info: dict[str, Any]
) -> FragmentNode:
    label = f"{version.model}/{version.version}"
    suffix = []
    if version.aliases:
        suffix.append(
            f"alias{'es' if len(version.aliases) > 1 else ''} {', '.join(version.aliases)}"
        )
    if version.stage.lower() not in ("none", ""):
        suffix.append(f"stage {version.stage}")
    if signature.kind != "columns":
        suffix.append("unknown schema")
    owners = version.owners or [u for u in (version.user, run_info.get("user_id")) if u][:1]
    model_path = quote(version.model, safe="")
    return FragmentNode(
        f"mlflow:{label}",
        "ml_model",
        "mlflow",
        name=label + (f" ({'; '.join(suffix)})" if suffix else ""),
        owners=[str(o) for o in owners],
        url=client.base_url.rstrip("/") + f"/#/models/{model_path}/versions/{version.version}",
        attrs={
            "model": version.model,
            "version": version.version,
            "aliases": version.aliases,
            "stage": version.stage,
            "run_id": version.run_id,
            "signature": signature.kind,
        },
    )


def _training_sets(run: Any, label: str, spec: Any) -> list[TrainingSet]:
    """The run's dataset inputs used for training (context ``training`` or none given)."""
    if not isinstance(run, dict):
        raise SourceError("runs/get answered without a run")
    inputs = run.get("inputs")
    entries = inputs.get("dataset_inputs") if isinstance(inputs, dict) else None
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), dict):
            continue
        context = _tags(entry.get("tags")).get("mlflow.data.context")
        if context not in (None, "", "training", "train"):
            continue
        dataset = entry["dataset"]
        name = str(dataset.get("name") or "")
        where = f"{label} dataset {name!r}"
        relations, joined = _relations(dataset, where, spec)
        schema = parse_colspec(dataset.get("schema"), where)
        out.append(TrainingSet(relations, schema, name, joined))
    return out


def _relations(dataset: dict[str, Any], where: str, spec: Any) -> tuple[list[str], list[str]]:
    """Candidate names of the dataset's relation (most specific first), and the tables of a
    SQL source that reads several."""
    raw = dataset.get("source")
    try:
        source = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
    except ValueError as err:
        raise SourceError(f"{where}: source is not JSON ({err})") from None
    if not isinstance(source, dict):
        source = {}
    aliases = spec.aliases or None
    found: list[str] = []
    for key in ("table_name", "delta_table_name", "table"):
        if isinstance(source.get(key), str) and source[key]:
            found.append(source[key])
    if isinstance(source.get("sql"), str) and source["sql"]:
        tables = list(dict.fromkeys(_sql_tables(source["sql"], spec.options.get("dialect"))))
        if len(tables) > 1:
            return [], [canonical(t, spec.namespace, aliases) for t in tables]
        found += tables
    uri = source.get("uri") or source.get("path") or source.get("url")
    if isinstance(uri, str) and uri:
        found += _uri_names(uri)
    if dataset.get("name"):
        found.append(str(dataset["name"]))
    return [canonical(n, spec.namespace, aliases) for n in dict.fromkeys(found)], []


def _sql_tables(sql: str, dialect: str | None) -> list[str]:
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return []
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return [table_name(t) for t in tree.find_all(exp.Table) if t.name and table_name(t) not in ctes]


def _uri_names(uri: str) -> list[str]:
    """``file:///warehouse/analytics/orders.parquet`` -> ``analytics.orders``, ``orders``."""
    parsed = urlparse(uri)
    if not parsed.scheme and "/" not in uri:
        return [uri]  # a bare name given as the source (``from_pandas(df, source="a.b")``)
    parts = [p for p in posixpath.normpath(parsed.path or "").split("/") if p and p != "."]
    if not parts:
        return []
    parts[-1] = parts[-1].split(".", 1)[0] or parts[-1]
    names = []
    if len(parts) >= 2:
        names.append(f"{parts[-2]}.{parts[-1]}")
    names.append(parts[-1])
    return names


def _pick(training: TrainingSet, matcher: Matcher, ctx: SourceContext) -> list[str]:
    """The repository datasets a training set is: its first candidate name that matches one,
    or every matching table of a SQL source over several."""
    if training.joined:
        matched = [matcher.relation(t) for t in training.joined]
        return [m for m in matched if m in ctx.known or not ctx.known]
    if not ctx.known:
        return training.relations[:1]
    for name in training.relations:
        match = matcher.relation(name)
        if match in ctx.known:
            return [match]
    return []


def _tags(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out = {}
    for tag in tags or []:
        if isinstance(tag, dict) and "key" in tag:
            out[str(tag["key"])] = str(tag.get("value") or "")
    return out


def _stage(version: dict[str, Any]) -> str:
    return str(version.get("current_stage") or "").lower()


def _version_key(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)


def _mapping(answer: Any, client: HttpClient) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise SourceError(f"{client.base_url}: expected a JSON object from MLflow")
    return answer
