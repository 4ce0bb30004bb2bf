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

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.config import Config, Limits
from impact_check.identity import exposure_model
from impact_check.model import Catalog, Column, Consumer, Dataset, Issue, Location, Snapshot
from impact_check.project.loader import decode_file, unreadable_rule
from impact_check.project.macros import Macro, parse_macros, prelude
from impact_check.project.schema_yml import (
    ModelInfo,
    declared_columns,
    model_info,
    owners,
    versions,
)
from impact_check.safeload import LimitExceeded, load_yaml, yaml_error_line, yaml_error_text
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
    limits: Limits = field(default_factory=Limits)
    compiled: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> raw, compiled
    macros: dict[str, Macro] = field(default_factory=dict)
    versions: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # name ->
    # (latest version, version -> the model name of its file)
    # path -> the project macros its manifest compiled_code expanded, name -> macro_sql
    compiled_macros: dict[str, dict[str, str]] = field(default_factory=dict)


def _yaml(snapshot: Snapshot, path: str, catalog: Catalog, limits: Limits) -> Any:
    content = snapshot.files.get(path)
    if content is None:
        return None
    config = Config(limits=limits)
    text, reason, line = decode_file(content, config)
    if text is None:
        rule = unreadable_rule(content)
        catalog.issues.append(Issue(rule, reason, Location(path, line), whole_file=True))
        return None
    try:
        loaded = load_yaml(text, limits.max_nesting_depth, limits.max_yaml_nodes)
    except (yaml.YAMLError, LimitExceeded) as err:
        catalog.issues.append(
            Issue(
                "AN901",
                yaml_error_text(err),
                Location(path, yaml_error_line(err)),
                whole_file=True,
            )
        )
        return None
    for key, key_line in loaded.duplicates:
        catalog.issues.append(
            Issue(
                "AN901",
                f"duplicate key '{key}': dbt keeps only the last one",
                Location(path, key_line),
                unanalyzed=False,
            )
        )
    return loaded.data


def _guarded(catalog: Catalog, path: str, what: str, fn: Any, *args: Any) -> Any:
    """Run one file's reader; an unexpected shape (a list where a mapping belongs, …) costs
    only that file, reported with the file named."""
    try:
        return fn(*args)
    except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError) as err:
        catalog.issues.append(
            Issue(
                "AN901",
                f"unexpected structure in {what} ({type(err).__name__}: {err})",
                Location(path),
                whole_file=True,
            )
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
    limits: Limits | None = None,
    deadline: Deadline | None = None,
) -> None:
    """Add every dbt project's sources, seeds, models and exposures to the catalog.

    With a manifest, relation names come from it, and a model whose file still equals the
    manifest's ``raw_code`` uses its ``compiled_code`` (slim CI); other models are rendered.
    """
    limits = limits or Limits()
    for root in roots:
        path = root + "dbt_project.yml"
        project = _guarded(
            catalog, path, "dbt_project.yml", _project, snapshot, root, catalog, limits
        )
        if project is not None:
            project.variables.update(variables or {})
            if manifest is not None:
                _guarded(catalog, path, "the manifest", _use_manifest, project, manifest)
            _load(snapshot, project, state, catalog, dialect, deadline or NO_DEADLINE)


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


def _project(snapshot: Snapshot, root: str, catalog: Catalog, limits: Limits) -> Project | None:
    path = root + "dbt_project.yml"
    data = _yaml(snapshot, path, catalog, limits)
    if not isinstance(data, dict):
        content = snapshot.files.get(path)
        readable = content is not None and content.data is not None
        if readable and not any(i.location.file == path for i in catalog.issues):
            what = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
            catalog.issues.append(
                Issue("AN901", f"dbt_project.yml is {what}", Location(path), whole_file=True)
            )
        return None
    target = Target(schema=_target_schema(snapshot, root, data, catalog, limits))
    return Project(
        root=root,
        name=str(data.get("name", "project")),
        model_paths=[str(p) for p in data.get("model-paths") or ["models"]],
        seed_paths=[str(p) for p in data.get("seed-paths") or ["seeds"]],
        macro_paths=[str(p) for p in data.get("macro-paths") or ["macros"]],
        variables=dict(data.get("vars") or {}),
        models_config=dict((data.get("models") or {}).get(data.get("name"), {}) or {}),
        target=target,
        limits=limits,
    )


def _target_schema(
    snapshot: Snapshot, root: str, data: dict[str, Any], catalog: Catalog, limits: Limits
) -> str:
    profiles = _yaml(snapshot, root + "profiles.yml", catalog, limits)
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
    snapshot: Snapshot,
    project: Project,
    state: DdlState,
    catalog: Catalog,
    dialect: str,
    deadline: Deadline,
) -> None:
    for path in sorted(snapshot.files):
        relative = _under(path, project, project.model_paths)
        if relative is not None and path.endswith((".yml", ".yaml")):
            _guarded(
                catalog,
                path,
                "the YAML file",
                _schema_file,
                snapshot,
                path,
                project,
                catalog,
                dialect,
            )
        elif relative is not None and path.endswith(".sql"):
            project.models[PurePosixPath(path).stem] = path
        elif _under(path, project, project.seed_paths) is not None and path.endswith(".csv"):
            _guarded(catalog, path, "the seed", _seed, snapshot, path, project, catalog)
        elif _under(path, project, project.macro_paths) is not None and path.endswith(".sql"):
            data = snapshot.files[path].data
            project.macros.update(parse_macros(path, (data or b"").decode("utf-8", "replace")))
    for name, path in project.models.items():
        deadline.check("rendering dbt models")
        _guarded(
            catalog,
            path,
            "the model",
            _model,
            snapshot,
            name,
            path,
            project,
            state,
            catalog,
            dialect,
        )
    for entry, path in project.exposures:
        consumer = _guarded(catalog, path, "an exposure", _exposure, entry, path, project)
        if consumer is not None:
            catalog.consumers.append(consumer)


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
    text, reason, line = decode_file(content, Config(limits=project.limits))
    if text is None:
        rule = unreadable_rule(content)
        catalog.issues.append(Issue(rule, reason, Location(path, line), whole_file=True))
        return
    info = project.infos.get(name, ModelInfo())
    config = {**_folder_config(project, path), **info.config}
    this = relation_of(project, name, config)
    raw, compiled = project.compiled.get(path, (None, None))
    rendered = render_model(
        text,
        ref=lambda *args, **kwargs: _ref(project, args, kwargs),
        source=lambda src, table: project.sources.get((src, table), f"{src}.{table}".lower()),
        this=this,
        variables=project.variables,
        target=project.target,
        max_steps=project.limits.max_render_steps,
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
    limits = project.limits
    statements = parse_file(
        rendered.sql, dialect, limits.max_nesting_depth, limits.max_statements_per_file
    )
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
    data = _yaml(snapshot, path, catalog, project.limits)
    if data is None:
        return
    if not isinstance(data, dict):
        raise TypeError(f"the top level is a {type(data).__name__}, not a mapping")
    for key in ("sources", "models", "exposures"):
        entries = data.get(key) or []
        if not isinstance(entries, list):
            raise TypeError(f"'{key}' is a {type(entries).__name__}, not a list")
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("name"):
                catalog.issues.append(
                    Issue(
                        "AN901",
                        f"{key}[{index}] is not a mapping with a name: ignored",
                        Location(path),
                        unanalyzed=False,
                    )
                )
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
    text, reason, line = decode_file(content, Config(limits=project.limits))
    if text is None:
        rule = unreadable_rule(content)
        catalog.issues.append(Issue(rule, reason, Location(path, line), whole_file=True))
        return
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as err:
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
        model=exposure_model(exposure) if kind == "ml_model" else None,
    )
