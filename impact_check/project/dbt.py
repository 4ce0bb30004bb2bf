"""dbt projects read from the repository, without running dbt: dbt_project.yml, sources,
seeds, models rendered with stubbed Jinja (sql/jinja.py), schema.yml (declared columns,
contracts, access, owners) and exposures as downstream consumers.

Relation names follow dbt's defaults: ``<target schema>[_<custom schema>].<alias>``, the
target schema taken from a ``profiles.yml`` in the project directory when there is one
(else ``main``, DuckDB's default). Sources are ``<schema or source name>.<identifier>``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml
from sqlglot import exp

from impact_check.model import Catalog, Column, Consumer, Dataset, Issue, Location, Snapshot
from impact_check.project.macros import Macro, parse_macros, prelude
from impact_check.project.schema_yml import (
    ModelInfo,
    declared_columns,
    model_info,
    owners,
    versions,
)
from impact_check.sql.ddl import DdlState, Definition
from impact_check.sql.jinja import Target, render_model
from impact_check.sql.names import normalize
from impact_check.sql.parse import parse_file

EXPOSURE_KINDS = {
    "ml": "ml_model",
    "dashboard": "dashboard",
    "application": "application",
    "notebook": "notebook",
    "analysis": "analysis",
}


@dataclass
class Project:
    root: str  # "" or "path/to/project/"
    name: str
    model_paths: list[str]
    seed_paths: list[str]
    macro_paths: list[str]
    variables: dict[str, Any]
    models_config: dict[str, Any]
    target: Target
    models: dict[str, str] = field(default_factory=dict)  # model name -> file path
    infos: dict[str, ModelInfo] = field(default_factory=dict)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)
    exposures: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # model -> relation (from a manifest)
    compiled: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> raw, compiled
    macros: dict[str, Macro] = field(default_factory=dict)
    versions: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # name ->
    # (latest version, version -> the model name of its file)
    # path -> the project macros its manifest compiled_code expanded, name -> macro_sql
    compiled_macros: dict[str, dict[str, str]] = field(default_factory=dict)


def _yaml(snapshot: Snapshot, path: str, catalog: Catalog) -> Any:
    content = snapshot.files.get(path)
    if content is None or content.data is None:
        return None
    try:
        return yaml.safe_load(content.data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        catalog.issues.append(
            Issue("AN901", f"invalid YAML: {str(err).splitlines()[0]}", Location(path, line))
        )
        return None


def load_projects(
    snapshot: Snapshot,
    roots: list[str],
    state: DdlState,
    catalog: Catalog,
    dialect: str,
    manifest: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
) -> None:
    """Add every dbt project's sources, seeds, models and exposures to the catalog.

    With a manifest, relation names come from it, and a model whose file still equals the
    manifest's ``raw_code`` uses its ``compiled_code`` (slim CI); other models are rendered.
    """
    for root in roots:
        project = _project(snapshot, root, catalog)
        if project is not None:
            project.variables.update(variables or {})
            if manifest is not None:
                _use_manifest(project, manifest)
            _load(snapshot, project, state, catalog, dialect)


def _use_manifest(project: Project, manifest: dict[str, Any]) -> None:
    from impact_check.project.manifest import relation

    for node in manifest.get("nodes", {}).values():
        if node.get("package_name") != project.name:
            continue
        if node.get("resource_type") == "seed" and node.get("relation_name"):
            project.names[f"seed:{str(node.get('name')).lower()}"] = relation(node["relation_name"])
        if node.get("resource_type") != "model":
            continue
        name = str(node.get("name"))
        if node.get("relation_name"):
            project.names[name] = relation(node["relation_name"])
        path = project.root + str(node.get("original_file_path", ""))
        if node.get("compiled_code") and node.get("raw_code") is not None:
            project.compiled[path] = (str(node["raw_code"]), str(node["compiled_code"]))
            project.compiled_macros[path] = _macro_sources(node, manifest, project.name)
    for node in manifest.get("sources", {}).values():
        if node.get("relation_name"):
            key = (str(node.get("source_name")), str(node.get("name")))
            project.sources[key] = relation(node["relation_name"])


def _project(snapshot: Snapshot, root: str, catalog: Catalog) -> Project | None:
    data = _yaml(snapshot, root + "dbt_project.yml", catalog)
    if not isinstance(data, dict):
        return None
    target = Target(schema=_target_schema(snapshot, root, data, catalog))
    return Project(
        root=root,
        name=str(data.get("name", "project")),
        model_paths=[str(p) for p in data.get("model-paths") or ["models"]],
        seed_paths=[str(p) for p in data.get("seed-paths") or ["seeds"]],
        macro_paths=[str(p) for p in data.get("macro-paths") or ["macros"]],
        variables=dict(data.get("vars") or {}),
        models_config=dict((data.get("models") or {}).get(data.get("name"), {}) or {}),
        target=target,
    )


def _target_schema(snapshot: Snapshot, root: str, data: dict[str, Any], catalog: Catalog) -> str:
    profiles = _yaml(snapshot, root + "profiles.yml", catalog)
    profile = profiles.get(data.get("profile")) if isinstance(profiles, dict) else None
    if isinstance(profile, dict):
        output = (profile.get("outputs") or {}).get(profile.get("target"))
        if isinstance(output, dict):
            default = "main" if output.get("type") == "duckdb" else "public"
            return str(output.get("schema") or default).lower()
    return "main"


def _under(path: str, project: Project, folders: list[str]) -> str | None:
    for folder in folders:
        prefix = project.root + folder.rstrip("/") + "/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def _load(
    snapshot: Snapshot, project: Project, state: DdlState, catalog: Catalog, dialect: str
) -> None:
    for path in sorted(snapshot.files):
        relative = _under(path, project, project.model_paths)
        if relative is not None and path.endswith((".yml", ".yaml")):
            _schema_file(snapshot, path, project, catalog, dialect)
        elif relative is not None and path.endswith(".sql"):
            project.models[PurePosixPath(path).stem] = path
        elif _under(path, project, project.seed_paths) is not None and path.endswith(".csv"):
            _seed(snapshot, path, project, catalog)
        elif _under(path, project, project.macro_paths) is not None and path.endswith(".sql"):
            data = snapshot.files[path].data
            project.macros.update(parse_macros(path, (data or b"").decode("utf-8", "replace")))
    for name, path in project.models.items():
        _model(snapshot, name, path, project, state, catalog, dialect)
    catalog.consumers += [_exposure(entry, path, project) for entry, path in project.exposures]


def relation_of(project: Project, model: str, config: dict[str, Any]) -> str:
    if model in project.names:
        return project.names[model]
    schema = project.target.schema
    custom = config.get("schema")
    if custom:
        schema = f"{schema}_{str(custom).lower()}"
    alias = str(config.get("alias") or model).lower()
    database = config.get("database")
    return f"{str(database).lower()}.{schema}.{alias}" if database else f"{schema}.{alias}"


def _folder_config(project: Project, path: str) -> dict[str, Any]:
    """``+key`` settings of dbt_project.yml down the model's folders (deepest wins)."""
    relative = _under(path, project, project.model_paths) or ""
    config: dict[str, Any] = {}
    node: Any = project.models_config
    for part in ["", *PurePosixPath(relative).parts[:-1]]:
        if part:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            break
        config.update({k.lstrip("+"): v for k, v in node.items() if not isinstance(v, dict)})
    return config


def _model(
    snapshot: Snapshot,
    name: str,
    path: str,
    project: Project,
    state: DdlState,
    catalog: Catalog,
    dialect: str,
) -> None:
    content = snapshot.files[path]
    if content.data is None:
        return
    info = project.infos.get(name, ModelInfo())
    config = {**_folder_config(project, path), **info.config}
    this = relation_of(project, name, config)
    text = content.data.decode("utf-8", "replace")
    raw, compiled = project.compiled.get(path, (None, None))
    rendered = render_model(
        text,
        ref=lambda *args, **kwargs: _ref(project, args, kwargs),
        source=lambda src, table: project.sources.get((src, table), f"{src}.{table}".lower()),
        this=this,
        variables=project.variables,
        target=project.target,
        prelude=prelude(text, project.macros),
    )
    config.update(rendered.config)
    if str(config.get("enabled", True)).lower() == "false":
        return
    relation = relation_of(project, name, config)
    location = Location(path, 1)
    if rendered.error:
        catalog.issues.append(
            Issue(
                "AN901",
                f"cannot render the model's Jinja: {rendered.error}",
                location,
                target=relation,
            )
        )
        return
    if compiled is not None and raw is not None and _same_code(project, path, raw, text):
        rendered.sql, rendered.unknown = compiled, []  # the manifest compiled this very code
    if rendered.unknown:
        catalog.issues.append(
            Issue(
                "AN908",
                f"{relation} uses {', '.join(rendered.unknown)}, which the checker "
                "cannot expand: its lineage may be incomplete",
                location,
                target=relation,
                unanalyzed=False,
            )
        )
    statements = parse_file(rendered.sql, dialect)
    query = statements[0].expression if len(statements) == 1 else None
    if not isinstance(query, exp.Query):
        error = statements[0].error if statements else "empty model"
        catalog.issues.append(
            Issue(
                "AN901",
                f"cannot parse the rendered model ({dialect}): {error}",
                location,
                target=relation,
            )
        )
        return
    materialized = str(config.get("materialized", "view"))
    kind = "view" if materialized in ("view", "ephemeral") else "table"
    state.definitions[relation] = Definition(
        relation, kind, normalize(query, dialect), location, dialect=dialect
    )
    contract = config.get("contract") or {}
    catalog.model_meta[relation] = {
        "declared": info.columns,
        "contract": bool(isinstance(contract, dict) and contract.get("enforced")),
        "access": info.access or config.get("access"),
        "owners": info.owners,
        "materialized": materialized,
        "on_schema_change": config.get("on_schema_change"),
        "version": info.version,
    }


def _macro_sources(node: dict[str, Any], manifest: dict[str, Any], package: str) -> dict[str, str]:
    macros = manifest.get("macros") or {}
    out = {}
    for uid in (node.get("depends_on") or {}).get("macros") or []:
        macro = macros.get(uid) or {}
        if macro.get("package_name") == package and macro.get("name"):
            out[str(macro["name"])] = str(macro.get("macro_sql", ""))
    return out


def _same_code(project: Project, path: str, raw: str, text: str) -> bool:
    """The model and the project macros it expands are what the manifest compiled."""
    if raw.strip() != text.strip():
        return False
    for name, source in project.compiled_macros.get(path, {}).items():
        macro = project.macros.get(name)
        if macro is None or macro.source.strip() != source.strip():
            return False  # a changed macro: render the model again with the new macro
    return True


def _ref(project: Project, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    name = str(args[-1]) if args else str(kwargs.get("name", ""))
    if name in project.versions:  # ref('m', v=1) pins a version; ref('m') is the latest
        latest, files = project.versions[name]
        wanted = kwargs.get("v", kwargs.get("version"))
        version = str(wanted) if wanted is not None else latest
        name = files.get(version, f"{name}_v{version}")
    info = project.infos.get(name, ModelInfo())
    path = project.models.get(name, "")
    config = {**_folder_config(project, path), **info.config} if path else info.config
    return relation_of(project, name, config)


def _schema_file(
    snapshot: Snapshot, path: str, project: Project, catalog: Catalog, dialect: str
) -> None:
    data = _yaml(snapshot, path, catalog)
    if not isinstance(data, dict):
        return
    for source in data.get("sources") or []:
        _source(source, path, project, catalog, dialect)
    for model in data.get("models") or []:
        if isinstance(model, dict) and model.get("name"):
            info = model_info(model, path, dialect)
            if isinstance(model.get("versions"), list) and model["versions"]:
                latest, files, infos = versions(model, info, dialect)
                project.infos.update(infos)
                if files:
                    project.versions[str(model["name"])] = (latest, files)
            else:
                project.infos[str(model["name"])] = info
    for exposure in data.get("exposures") or []:
        if isinstance(exposure, dict) and exposure.get("name"):
            project.exposures.append((exposure, path))  # resolved once every model is known


def _source(source: Any, path: str, project: Project, catalog: Catalog, dialect: str) -> None:
    if not isinstance(source, dict) or not source.get("name"):
        return
    schema = str(source.get("schema") or source["name"]).lower()
    for table in source.get("tables") or []:
        if not isinstance(table, dict) or not table.get("name"):
            continue
        identifier = str(table.get("identifier") or table["name"]).lower()
        key = (str(source["name"]), str(table["name"]))
        relation = project.sources.get(key) or f"{schema}.{identifier}"  # manifest names win
        project.sources[key] = relation
        columns = declared_columns(table.get("columns"), dialect)
        existing = catalog.datasets.get(relation)
        if existing is not None and existing.columns_known:
            for name, column in columns.items():  # a seed or DDL knows the columns: add types
                if name in existing.columns and column.type:
                    existing.columns[name].type = column.type
            continue
        # Declared source columns are documentation, rarely complete: they type columns but
        # do not prove that an undeclared column is missing.
        catalog.datasets[relation] = Dataset(
            relation,
            "source",
            columns=columns,
            location=Location(path),
            dialect=dialect,
            columns_known=False,
        )


def _seed(snapshot: Snapshot, path: str, project: Project, catalog: Catalog) -> None:
    content = snapshot.files[path]
    if content.data is None:
        return
    try:
        header = next(csv.reader(io.StringIO(content.data.decode("utf-8-sig"))), [])
    except (UnicodeDecodeError, csv.Error) as err:
        catalog.issues.append(Issue("AN901", f"cannot read the seed: {err}", Location(path)))
        return
    stem = PurePosixPath(path).stem.lower()
    relation = project.names.get(f"seed:{stem}") or f"{project.target.schema}.{stem}"
    catalog.datasets[relation] = Dataset(
        relation,
        "seed",
        columns={h.strip().lower(): Column(h.strip().lower()) for h in header if h.strip()},
        location=Location(path, 1),
    )


def _exposure(exposure: dict[str, Any], path: str, project: Project) -> Consumer:
    depends = []
    for item in exposure.get("depends_on") or []:
        text = str(item)
        if text.startswith("ref("):
            names = re.findall(r"['\"]([^'\"]+)['\"]", text)
            version = re.search(r"\bv(?:ersion)?\s*=\s*['\"]?(\w+)", text)
            kwargs = {"v": version.group(1)} if version else {}
            depends.append(_ref(project, (names[-1] if names else "",), kwargs))
        elif text.startswith("source("):
            parts = [p.strip().strip("'\"") for p in text[7:].rstrip(")").split(",")]
            if len(parts) == 2:
                depends.append(project.sources.get((parts[0], parts[1]), ".".join(parts).lower()))
    kind = EXPOSURE_KINDS.get(str(exposure.get("type", "")), "exposure")
    return Consumer(
        node_id=f"dbt:exposure.{project.name}.{exposure['name']}",
        name=str(exposure.get("label") or exposure["name"]),
        kind=kind,
        owners=owners(exposure),
        reads=depends,
        location=Location(path),
    )
