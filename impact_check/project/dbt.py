"""dbt projects read from the repository, without running dbt: dbt_project.yml, sources,
seeds, models rendered with stubbed Jinja (sql/jinja.py), schema.yml (declared columns,
contracts, access, owners) and exposures as downstream consumers.

Relation names follow dbt's defaults: ``<target schema>[_<custom schema>].<alias>``, the
target schema taken from the project's profile (project/profiles.py; else ``main``,
DuckDB's default). Sources are ``<schema or source name>.<identifier>``. Installed packages
(``dbt_packages/``, after ``dbt deps``) give their macros; their models are not loaded.

A model whose Jinja or SQL cannot be read at a revision is "not analysed" (its issue is a
whole-file one: the base version stands in at head), never absent: absent would read as
dropped. Jinja that does not parse is also what dbt rejects, so it is a TB108 issue.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml
from sqlglot import exp

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.identity import exposure_model
from impact_check.model import (
    Catalog,
    Column,
    Consumer,
    Dataset,
    Defined,
    Issue,
    Location,
    ProjectInfo,
    Snapshot,
)
from impact_check.project.files import decode_file, unreadable_rule
from impact_check.project.macros import Macro, parse_macros
from impact_check.project.profiles import Warehouse, adapter_from_tests, find_warehouse
from impact_check.project.schema_yml import (
    ModelInfo,
    declared_columns,
    model_info,
    owners,
    versions,
)
from impact_check.project.settings import FileLimits
from impact_check.safeload import LimitExceeded, load_yaml, yaml_error_line, yaml_error_text
from impact_check.sql.dbt_context import Relation
from impact_check.sql.ddl import DdlState, Definition
from impact_check.sql.jinja import DbtRenderer, Rendered, Target
from impact_check.sql.names import normalize
from impact_check.sql.parse import parse_file
from impact_check.sql.placeholders import PLACEHOLDER_PREFIX, placeholder

EXPOSURE_KINDS = {
    "ml": "ml_model",
    "dashboard": "dashboard",
    "application": "application",
    "notebook": "notebook",
    "analysis": "analysis",
}


def relation(name: str | None) -> str:
    """``"db"."schema"."table"`` -> ``db.schema.table`` (quotes off, unquoted case folded)."""
    if not name:
        return ""
    parts = []
    for part in name.replace("`", '"').split("."):
        parts.append(part[1:-1] if part.startswith('"') and part.endswith('"') else part.lower())
    return ".".join(parts)


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
    limits: FileLimits
    models: dict[str, str] = field(default_factory=dict)  # model name -> file path
    # every model file in order: one name may have a file per warehouse, each enabled
    # for its own adapter (dbt allows it while only one of them is enabled)
    model_files: list[tuple[str, str]] = field(default_factory=list)
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
    dialect: str = "duckdb"
    renderer: DbtRenderer | None = None
    packages: dict[str, dict[str, Macro]] = field(default_factory=dict)  # installed: macros
    dispatch: dict[str, list[str]] = field(default_factory=dict)  # namespace -> search order
    install_path: str = "dbt_packages/"
    source_parts: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # a
    # source's (schema, identifier), for SQL: an identifier may hold dots or spaces
    package_models: dict[str, str] = field(default_factory=dict)  # model name -> package
    packages_missing: bool = False  # packages.yml declares more than dbt_packages/ holds
    package_refs: dict[str, bool] = field(default_factory=dict)  # relation ref() took as
    # a package's model -> whether an installed package is known to define it
    target_guessed: bool = False  # no profile, no CI adapter, no dialect configured
    # models a test of that guessed target disabled: (relation, path)
    target_disabled: list[tuple[str, str]] = field(default_factory=list)
    snapshot_paths: list[str] = field(default_factory=lambda: ["snapshots"])
    snapshots_config: dict[str, Any] = field(default_factory=dict)  # dbt_project `snapshots:`
    snapshots: dict[str, str] = field(default_factory=dict)  # snapshot name -> relation
    file_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> the
    # naming settings its own file's config() sets with constants (read before rendering)
    yaml_entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # schema.yml, for
    # `graph` when a model is rendered as dbt compiles it: "model:<name>", "source:<s>.<t>"


def _yaml(snapshot: Snapshot, path: str, catalog: Catalog, limits: FileLimits) -> Any:
    content = snapshot.files.get(path)
    if content is None:
        return None
    text, reason, line = decode_file(content, limits.max_file_bytes)
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
    limits: FileLimits,
    manifest: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    deadline: Deadline | None = None,
    dialect_for: Any = None,
) -> None:
    """Add every dbt project's sources, seeds, models and exposures to the catalog.

    With a manifest, relation names come from it, and a model whose file still equals the
    manifest's ``raw_code`` uses its ``compiled_code`` (slim CI); other models are rendered.
    ``dialect_for(root)`` is the dialect the configuration sets for a project directory
    (None when it sets none: the project's profile then decides).
    """
    installers = local_installers(snapshot, roots, limits)
    for root in roots:
        path = root + "dbt_project.yml"
        configured = dialect_for(root) if dialect_for is not None else dialect
        # a package of this repository that another of its projects installs (`local:
        # ../`, its integration tests) is built with that project's vars, as dbt builds it
        installer_vars = {}
        for installer in installers.get(root, []):
            installer_vars.update(_installer_vars(snapshot, installer, root, limits))
        project = _guarded(
            catalog,
            path,
            "dbt_project.yml",
            _project,
            snapshot,
            root,
            catalog,
            limits,
            configured,
            dialect,
            {**installer_vars, **(variables or {})},
            installers.get(root, []),
        )
        if project is not None:
            if manifest is not None:
                _guarded(catalog, path, "the manifest", _use_manifest, project, manifest)
            _load(snapshot, project, state, catalog, project.dialect, deadline or NO_DEADLINE)


def local_installers(
    snapshot: Snapshot, roots: list[str], limits: FileLimits
) -> dict[str, list[str]]:
    """Project root -> the roots of the repository's other projects whose packages.yml
    installs it from a local path (``- local: ../``)."""
    found: dict[str, list[str]] = {}
    for root in roots:
        for name in ("packages.yml", "dependencies.yml"):
            if root + name not in snapshot.files:
                continue
            data = _yaml(snapshot, root + name, Catalog(), limits)  # reported by its project
            entries = data.get("packages") if isinstance(data, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                local = entry.get("local") if isinstance(entry, dict) else None
                if not isinstance(local, str):
                    continue
                target = posixpath.normpath(posixpath.join(root or ".", local))
                package = "" if target == "." else target.rstrip("/") + "/"
                if package in roots and package != root:
                    found.setdefault(package, []).append(root)
    return found


def _installer_vars(
    snapshot: Snapshot,
    installer: str,
    package_root: str,
    limits: FileLimits,
) -> dict[str, Any]:
    """The vars a package's models see when ``installer`` (the root project) installs it:
    the root's global vars and those it scopes to the package."""
    quiet = Catalog()  # each file's problems are reported when its own project is loaded
    root_data = _yaml(snapshot, installer + "dbt_project.yml", quiet, limits)
    package_data = _yaml(snapshot, package_root + "dbt_project.yml", quiet, limits)
    if not isinstance(root_data, dict) or not isinstance(package_data, dict):
        return {}
    raw = root_data["vars"] if isinstance(root_data.get("vars"), dict) else {}
    name = str(package_data.get("name", "project"))
    return project_vars(raw, name, {str(root_data.get("name", ""))})


def _installer_warehouse(
    snapshot: Snapshot, installer: str, limits: FileLimits, fallback: Warehouse
) -> Warehouse:
    """The warehouse of the project at ``installer``, when its profile names one."""
    quiet = Catalog()  # each file's problems are reported when its own project is loaded
    data = _yaml(snapshot, installer + "dbt_project.yml", quiet, limits)
    if not isinstance(data, dict) or not data.get("profile"):
        return fallback
    raw_vars = data["vars"] if isinstance(data.get("vars"), dict) else {}
    found = find_warehouse(
        snapshot.files,
        installer,
        str(data["profile"]),
        lambda p: _yaml(snapshot, p, quiet, limits),
        lambda p: _text(snapshot, p),
        "duckdb",
        project_vars(raw_vars, str(data.get("name", "")), set()),
    )
    return found if found.origin else fallback


def _use_manifest(project: Project, manifest: dict[str, Any]) -> None:
    for node in manifest.get("nodes", {}).values():
        if node.get("package_name") != project.name:
            continue
        if node.get("resource_type") == "seed" and node.get("relation_name"):
            project.names[f"seed:{str(node.get('name')).lower()}"] = relation(node["relation_name"])
        if node.get("resource_type") == "snapshot" and node.get("relation_name"):
            project.snapshots[str(node.get("name"))] = relation(node["relation_name"])
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


def _project(
    snapshot: Snapshot,
    root: str,
    catalog: Catalog,
    limits: FileLimits,
    configured: str | None,
    default_dialect: str,
    cli_vars: dict[str, Any],
    installers: list[str] | None = None,
) -> Project | None:
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
    name = str(data.get("name", "project"))
    install = str(data.get("packages-install-path") or "dbt_packages").strip("/") + "/"
    packages = _installed_packages(snapshot, root + install, catalog, limits)
    raw_vars = data["vars"] if isinstance(data.get("vars"), dict) else {}
    variables = {**project_vars(raw_vars, name, set(packages)), **cli_vars}
    warehouse = find_warehouse(
        snapshot.files,
        root,
        str(data["profile"]) if data.get("profile") else None,
        lambda p: _yaml(snapshot, p, catalog, limits),
        lambda p: _text(snapshot, p),
        configured or default_dialect,
        variables,
    )
    for installer in installers or []:
        if warehouse.origin:
            break
        # no profile of its own: a package builds in the warehouse of the project that
        # installs it (its integration tests' profiles.yml)
        warehouse = _installer_warehouse(snapshot, installer, limits, warehouse)
    if not configured and not warehouse.origin:
        read = adapter_from_tests(snapshot.files, root, lambda p: _text(snapshot, p))
        if read is not None:
            read.target.profile_name = warehouse.target.profile_name
            warehouse = read
    dialect = configured or warehouse.dialect or default_dialect
    origin = "configured" if configured else warehouse.origin
    target = warehouse.target
    bare = DbtRenderer(name, target, variables, max_steps=limits.max_render_steps)
    data = {k: (v if k in _LATE_KEYS else render_tree(v, bare)) for k, v in data.items()}
    macros = {name: {}, **packages}
    for file in sorted(snapshot.files):
        folders = [str(p) for p in data.get("macro-paths") or ["macros"]]
        if any(file.startswith(root + f.rstrip("/") + "/") for f in folders) and file.endswith(
            ".sql"
        ):
            text = _text(snapshot, file)
            if text is not None:
                macros[name].update(parse_macros(file, text, name))
    dispatch = _dispatch_config(data.get("dispatch"))
    project = Project(
        root=root,
        name=name,
        model_paths=[str(p) for p in data.get("model-paths") or ["models"]],
        seed_paths=[str(p) for p in data.get("seed-paths") or ["seeds"]],
        snapshot_paths=[str(p) for p in data.get("snapshot-paths") or ["snapshots"]],
        snapshots_config=dict((data.get("snapshots") or {}).get(data.get("name"), {}) or {})
        if isinstance(data.get("snapshots"), dict)
        else {},
        macro_paths=[str(p) for p in data.get("macro-paths") or ["macros"]],
        variables=variables,
        models_config=dict((data.get("models") or {}).get(data.get("name"), {}) or {}),
        target=target,
        limits=limits,
        macros=macros[name],
        dialect=dialect,
        packages=packages,
        dispatch=dispatch,
        install_path=install,
        target_guessed=not origin,
    )
    project.package_models = _package_models(snapshot, root + install)
    declared = _declared_packages(snapshot, root, catalog, limits)
    project.packages_missing = declared > len(packages)
    project.renderer = DbtRenderer(
        name, target, variables, macros, dispatch, limits.max_render_steps
    )
    catalog.projects.append(ProjectInfo(name, root, dialect, origin))
    for macro, message, line in project.renderer.syntax_errors():
        catalog.issues.append(
            Issue(
                "TB108",
                f"macro {macro.name}: its Jinja does not parse ({message}): dbt refuses "
                "to compile the project",
                Location(macro.path, line),
                unanalyzed=False,
            )
        )
    return project


# dbt_project.yml keys dbt renders late (at run time, in the model's context), not on load
_LATE_KEYS = {"vars", "on-run-start", "on-run-end", "query-comment", "dispatch"}
_HOOKS = {"pre-hook", "post-hook", "pre_hook", "post_hook"}


def render_tree(value: Any, renderer: DbtRenderer, depth: int = 0) -> Any:
    """A YAML tree with the Jinja of its strings rendered (hooks left alone, as dbt does)."""
    if depth > 100:
        return value
    if isinstance(value, dict):
        return {
            k: (v if str(k).lstrip("+") in _HOOKS else render_tree(v, renderer, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [render_tree(v, renderer, depth + 1) for v in value]
    return renderer.render_yaml_value(value)


def project_vars(raw: dict[str, Any], project: str, packages: set[str]) -> dict[str, Any]:
    """The vars a root model sees: global ones, then those scoped to the project."""
    out = {
        str(k): v
        for k, v in raw.items()
        if not (isinstance(v, dict) and (k == project or k in packages))
    }
    scoped = raw.get(project)
    if isinstance(scoped, dict):
        out.update({str(k): v for k, v in scoped.items()})
    return out


def _dispatch_config(value: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and entry.get("macro_namespace"):
            order = entry.get("search_order") or []
            out[str(entry["macro_namespace"])] = [str(p) for p in order if p]
    return out


def _text(snapshot: Snapshot, path: str) -> str | None:
    content = snapshot.files.get(path)
    if content is None or content.data is None:
        return None
    return content.data.decode("utf-8", "replace")


def _installed_packages(
    snapshot: Snapshot, folder: str, catalog: Catalog, limits: FileLimits
) -> dict[str, dict[str, Macro]]:
    """Macros of the packages ``dbt deps`` installed under ``folder``, by package name."""
    packages: dict[str, dict[str, Macro]] = {}
    for path in sorted(snapshot.files):
        if not path.startswith(folder) or not path.endswith("/dbt_project.yml"):
            continue
        package_root = path[: -len("dbt_project.yml")]
        if package_root[len(folder) :].count("/") != 1:
            continue  # a package's own integration tests, not the package
        data = _yaml(snapshot, path, catalog, limits)
        if not isinstance(data, dict) or not data.get("name"):
            continue
        name = str(data["name"])
        folders = [
            package_root + str(p).rstrip("/") + "/" for p in data.get("macro-paths") or ["macros"]
        ]
        macros: dict[str, Macro] = {}
        for file in sorted(snapshot.files):
            if file.endswith(".sql") and any(file.startswith(f) for f in folders):
                text = _text(snapshot, file)
                if text is not None:
                    macros.update(parse_macros(file, text, name))
        packages[name] = macros
    return packages


def _package_models(snapshot: Snapshot, folder: str) -> dict[str, str]:
    """Model names the installed packages define (``<folder><package>/models/…/x.sql``)."""
    out: dict[str, str] = {}
    for path in snapshot.files:
        if path.startswith(folder) and path.endswith(".sql"):
            parts = path[len(folder) :].split("/")
            if len(parts) > 2 and parts[1] == "models":
                out.setdefault(PurePosixPath(path).stem, parts[0])
    return out


def _declared_packages(snapshot: Snapshot, root: str, catalog: Catalog, limits: FileLimits) -> int:
    """How many packages packages.yml (or dependencies.yml) asks `dbt deps` for."""
    count = 0
    for name in ("packages.yml", "dependencies.yml"):
        if root + name in snapshot.files:
            data = _yaml(snapshot, root + name, catalog, limits)
            entries = data.get("packages") if isinstance(data, dict) else None
            count += len(entries) if isinstance(entries, list) else 0
    return count


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
            project.model_files.append((PurePosixPath(path).stem, path))
            text = _text(snapshot, path)
            if text is not None and project.renderer is not None:
                found = project.renderer.static_config(text)
                project.file_configs[PurePosixPath(path).stem] = {
                    k: v for k, v in found.items() if k in _NAMING_KEYS
                }
        elif _under(path, project, project.seed_paths) is not None and path.endswith(".csv"):
            _guarded(catalog, path, "the seed", _seed, snapshot, path, project, catalog)
        elif _under(path, project, project.snapshot_paths) is not None and path.endswith(".sql"):
            _snapshot_relations(project, _text(snapshot, path) or "")
    for relation in sorted(set(project.snapshots.values())):
        # a snapshot's body is not analysed: it exists, with columns the checker does not know
        catalog.datasets.setdefault(
            relation,
            Dataset(relation, "table", dialect=dialect, columns_known=False, origin="snapshot"),
        )
    if project.renderer is not None:
        project.renderer.graph = project_graph(project)
    for name, path in project.model_files:
        deadline.check("rendering dbt models")
        try:
            _model(snapshot, name, path, project, state, catalog, dialect)
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError) as err:
            # an unexpected shape costs this model only, and it is not analysed, not gone
            reason = f"unexpected structure in the model ({type(err).__name__}: {err})"
            _not_analysed(catalog, project, name, path, reason, "AN901")
    built = {entry.name for entry in catalog.defined.values()}
    for relation, path in project.target_disabled:
        if relation not in built:  # no other warehouse's variant of it is enabled
            _enabled_on_unknown_target(catalog, project, relation, path)
    for relation, known in sorted(project.package_refs.items()):
        # A model of an installed package (its models are not loaded), or possibly of one
        # packages.yml declares but dbt deps has not installed: it exists, with columns the
        # checker does not know. (A ref no package can answer still reads as missing.)
        if relation not in state.definitions:
            origin = "package" if known else "package-not-installed"
            catalog.datasets.setdefault(
                relation,
                Dataset(relation, "view", dialect=dialect, columns_known=False, origin=origin),
            )
    for entry, path in project.exposures:
        consumer = _guarded(catalog, path, "an exposure", _exposure, entry, path, project)
        if consumer is not None:
            catalog.consumers.append(consumer)


def project_graph(project: Project) -> dict[str, Any]:
    """``graph`` as dbt's context has it once the project is parsed: the models and sources
    with their schema.yml columns and meta (macros reading it build real SQL from it)."""
    nodes: dict[str, Any] = {}
    for name, path in project.models.items():
        entry = project.yaml_entries.get(f"model:{name}", {})
        config = {**_folder_config(project, path), **dict(entry.get("config") or {})}
        relation = relation_of(project, name, config).split(".")
        nodes[f"model.{project.name}.{name}"] = {
            "unique_id": f"model.{project.name}.{name}",
            "name": name,
            "resource_type": "model",
            "package_name": project.name,
            "original_file_path": path[len(project.root) :],
            "path": path[len(project.root) :],
            "alias": relation[-1],
            "schema": relation[-2] if len(relation) > 1 else project.target.schema,
            "database": relation[-3] if len(relation) > 2 else project.target.database,
            "config": config,
            "meta": dict(entry.get("meta") or {}),
            "tags": list(config.get("tags") or []) if isinstance(config.get("tags"), list) else [],
            "description": str(entry.get("description") or ""),
            "columns": _graph_columns(entry.get("columns")),
            "depends_on": {"nodes": [], "macros": []},
            "refs": [],
            "sources": [],
        }
    sources: dict[str, Any] = {}
    for key, entry in project.yaml_entries.items():
        if key.startswith("source:"):
            source_name, table = str(entry.get("source_name")), str(entry.get("name"))
            parts = project.sources.get((source_name, table), f"{source_name}.{table}").split(".")
            sources[f"source.{project.name}.{source_name}.{table}"] = {
                "unique_id": f"source.{project.name}.{source_name}.{table}",
                "name": table,
                "source_name": source_name,
                "resource_type": "source",
                "package_name": project.name,
                "identifier": parts[-1],
                "schema": parts[-2] if len(parts) > 1 else source_name,
                "meta": dict(entry.get("meta") or {}),
                "columns": _graph_columns(entry.get("columns")),
            }
    return {"nodes": nodes, "sources": sources, "macros": {}, "exposures": {}, "metrics": {}}


def _graph_columns(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = {
                "name": str(item["name"]),
                "description": str(item.get("description") or ""),
                "data_type": item.get("data_type"),
                "meta": dict(item.get("meta") or {}) if isinstance(item.get("meta"), dict) else {},
                "tags": list(item.get("tags") or []) if isinstance(item.get("tags"), list) else [],
                "quote": item.get("quote"),
                "constraints": list(item.get("constraints") or [])
                if isinstance(item.get("constraints"), list)
                else [],
            }
    return out


# the config keys that decide a model's relation name
_NAMING_KEYS = frozenset({"schema", "alias", "database"})


_SNAPSHOT_BLOCK = re.compile(r"\{%-?\s*snapshot\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endsnapshot", re.S)


def _snapshot_relations(project: Project, text: str) -> None:
    """The relation each ``{% snapshot %}`` block of a file builds, unless the manifest
    named it: ``target_schema`` as written (dbt's legacy snapshot config), else ``schema``
    the way models take it, else the target's schema; ``alias`` or the snapshot's name."""
    for name, body in _SNAPSHOT_BLOCK.findall(text):
        if name in project.snapshots:
            continue
        found = project.renderer.static_config(body) if project.renderer is not None else {}
        config = {k.lstrip("+"): v for k, v in project.snapshots_config.items()}
        config.update({k: v for k, v in found.items() if v is not None})
        schema = config.get("target_schema")
        if schema:
            database = config.get("target_database")
            table = str(config.get("alias") or name).lower()
            qualified = f"{str(schema).lower()}.{table}"
            project.snapshots[name] = (
                f"{str(database).lower()}.{qualified}" if database else qualified
            )
        else:
            project.snapshots[name] = relation_of(project, name, config)


def relation_of(project: Project, model: str, config: dict[str, Any]) -> str:
    if model in project.names:
        return project.names[model]
    schema = project.target.schema
    custom = config.get("schema")
    if custom:
        schema = f"{schema}_{str(custom).lower()}"
    alias = str(config.get("alias") or model).lower()
    database = config.get("database")
    if database and PLACEHOLDER_PREFIX in str(database):
        database = None  # an env_var without default: the target's database stands in
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
    text, reason, line = decode_file(content, project.limits.max_file_bytes)
    if text is None:
        rule = unreadable_rule(content)
        catalog.issues.append(Issue(rule, reason, Location(path, line), whole_file=True))
        _define(catalog, project, name, path, reason)
        return
    info = project.infos.get(name, ModelInfo())
    config = {**_folder_config(project, path), **info.config, **project.file_configs.get(name, {})}
    this = relation_of(project, name, config)
    raw, compiled = project.compiled.get(path, (None, None))
    renderer = project.renderer or DbtRenderer(project.name, project.target, project.variables)

    def render(execute: bool) -> Rendered:
        return renderer.render(
            text,
            path,
            ref=lambda *args, **kwargs: _ref(project, args, kwargs),
            source=lambda src, table: _source_relation(project, src, table),
            this=this,
            config=config,
            model=_model_node(project, name, path, this, config, text),
            execute=execute,
        )

    rendered = render(False)
    config.update(rendered.config)
    if str(config.get("enabled", True)).lower() == "false":
        if project.target_guessed and _TARGET_READ.search(text):
            project.target_disabled.append((relation_of(project, name, config), path))
        return
    relation = relation_of(project, name, config)
    location = Location(path, 1)
    use_compiled = compiled is not None and raw is not None and _same_code(project, path, raw, text)
    if rendered.syntax_error:
        message = (
            f"{relation} does not compile: {rendered.error}; dbt refuses to compile the "
            "project (the base version of the model stands in for the comparison)"
        )
        catalog.issues.append(
            Issue("TB108", message, Location(path, rendered.line), relation, whole_file=True)
        )
        _define(catalog, project, relation, path, rendered.error)
        return
    if rendered.error and not use_compiled:
        why = f"cannot render the model's Jinja: {rendered.error}"
        _not_analysed(catalog, project, relation, path, why, "AN901")
        return
    if use_compiled:
        rendered.sql, rendered.unknown = str(compiled), []  # the manifest compiled this code
    if rendered.unknown:
        catalog.issues.append(
            Issue(
                "AN908",
                f"{relation} uses {_unknown_text(rendered.unknown, set(project.packages))}, "
                "which the checker cannot expand: what they produce is unknown (columns read "
                "from them are not checked)",
                location,
                target=relation,
                unanalyzed=False,
            )
        )
    query, error, approximated = parse_rendered(rendered, dialect, project.limits)
    # dbt's parse-time SQL need not be SQL (macros wait for `execute`), and columns asked
    # of the warehouse while parsing come back empty (a loop over them adds nothing that
    # dbt's compiled SQL has): render again as dbt compiles it, against an empty warehouse
    # (whose columns read as unknown) and the project's graph
    if (query is None or rendered.introspected) and not use_compiled:
        again = render(True)
        retry = parse_rendered(again, dialect, project.limits)
        if again.error is None and retry[0] is not None:
            query, _error, approximated = retry
            catalog.issues.append(
                Issue(
                    "AN908",
                    f"{relation} builds its SQL from the warehouse (dbt's `execute`): it "
                    "is read as dbt would compile it against an empty warehouse, so "
                    "columns its macros take from query results are not known",
                    location,
                    target=relation,
                    unanalyzed=False,
                )
            )
    if query is None and _built_from_warehouse(rendered, error, text):
        # its macros build all of its SQL from the warehouse's answers (a union over the
        # tables `information_schema` lists): a relation of unknown columns, like what an
        # uninstalled package's macro writes, so its readers are still analysed
        query, _nothing = _one_query(f"select {RUN_TIME_SQL}", dialect, project.limits)
        catalog.issues.append(
            Issue(
                "AN908",
                f"{relation} builds all of its SQL from query results at run time (without "
                "a warehouse its macros write no query): it is read as a relation of "
                "unknown columns",
                location,
                target=relation,
                unanalyzed=False,
            )
        )
    if query is None:
        why = f"cannot parse the rendered model ({dialect}): {error}"
        materialized = str(config.get("materialized", "view"))
        if materialized not in _QUERY_MATERIALIZATIONS:
            why = f"materialized='{materialized}', whose body is not a query the checker reads"
        _not_analysed(catalog, project, relation, path, why, "AN901")
        return
    if approximated and rendered.empty and not rendered.unknown:
        catalog.issues.append(
            Issue(
                "AN908",
                f"{relation} leaves part of its SQL to run time ({', '.join(rendered.empty)} "
                f"render nothing until dbt executes): it is read as reading "
                f"{', '.join(rendered.relations)}, with columns unknown",
                location,
                target=relation,
                unanalyzed=False,
            )
        )
    materialized = str(config.get("materialized", "view"))
    kind = "view" if materialized in ("view", "ephemeral") else "table"
    state.definitions[relation] = Definition(
        relation, kind, normalize(query, dialect), location, dialect=dialect
    )
    _define(catalog, project, relation, path, None)
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


# materializations whose model body is one SELECT (others: a custom one's own language)
_QUERY_MATERIALIZATIONS = {
    "view",
    "table",
    "incremental",
    "ephemeral",
    "materialized_view",
    "dynamic_table",
    "microbatch",
    "seed",
    "snapshot",
}
_PLACEHOLDERS = re.compile(PLACEHOLDER_PREFIX + r"\w*__")
RUN_TIME_SQL = placeholder("sql produced at run time")
_SQL_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
NO_SQL_WITHOUT_WAREHOUSE = (
    "it renders no SQL without a warehouse (its macros build the SQL from queries at run "
    "time; dbt's own parse sees nothing either)"
)
_EXPRESSIONS = re.compile(r"\{\{-?\s*(\w[\w.]*)\s*\(")


def _built_from_warehouse(rendered: Rendered, error: str, text: str) -> bool:
    """Whether the model's SQL is all built from query results, so that a warehouse
    answering nothing leaves no query: it renders nothing though its Jinja calls a macro
    that writes SQL (not only ``config()``: a model of nothing but config has no SQL,
    whatever the warehouse answers), or it ran a query and wrote what is not a query (a
    macro's `return(1)` when no table matched)."""
    if error == NO_SQL_WITHOUT_WAREHOUSE:
        return any(name != "config" for name in _EXPRESSIONS.findall(text))
    return rendered.queried and error.startswith("the rendered text is not a query")


def parse_rendered(
    rendered: Rendered,
    dialect: str,
    limits: FileLimits,
) -> tuple[exp.Query | None, str, bool]:
    """The model's query, or None and why not; and whether it is an approximation.

    Jinja the checker could not expand leaves placeholders; where one stands in a clause (a
    macro writing ``partition by …`` text) the SQL does not parse, so the model is read
    again without them, every select of it then yielding unknown columns besides its own.
    A model whose macros leave their SQL to run time (they render nothing until dbt's
    ``execute``, like ``dbt_utils.union_relations``), or that is entirely what such macros
    write (a package not installed), reads the relations it named, with columns unknown
    (AN908 names the macros).
    """
    text = rendered.sql
    run_time = f"select {RUN_TIME_SQL} from {' cross join '.join(rendered.relations)}"
    if not _SQL_COMMENTS.sub("", text).strip():
        if rendered.relations:
            return (*_one_query(run_time, dialect, limits), True)
        return None, NO_SQL_WITHOUT_WAREHOUSE, False
    query, error, error_line = _parsed_query(text, dialect, limits)
    if query is not None:
        return query, error, False
    if PLACEHOLDER_PREFIX not in text:
        if rendered.empty and rendered.relations:  # a macro left its part to run time
            return (*_one_query(run_time, dialect, limits), True)
        return None, error, False
    without = _PLACEHOLDERS.sub("", text)
    if not _SQL_COMMENTS.sub("", without).strip():
        if not _package_macros_only(rendered.unknown):
            # an undefined name, or a project macro whose Jinja does not parse: not what
            # a package writes, so not a relation of unknown columns
            return None, f"its SQL comes entirely from {_first(rendered.unknown)}", False
        # the whole model is what macros the checker cannot expand write (a package's
        # `union_connections`): a relation of unknown columns, reading what they were given
        return (
            *_one_query(
                run_time if rendered.relations else f"select {RUN_TIME_SQL}", dialect, limits
            ),
            True,
        )
    stripped = _without_misplaced_placeholders(text, error_line, dialect, limits)
    if stripped is None:
        stripped, _ = _one_query(without, dialect, limits)
    if stripped is None:
        return None, error, False
    for select in stripped.find_all(exp.Select):
        select.set("expressions", [*select.expressions, exp.column(RUN_TIME_SQL)])
    return stripped, "", True


def _package_macros_only(names: list[str]) -> bool:
    """Whether every name the render could not expand is a package's macro (``pkg.macro``,
    ``adapter.dispatch('macro', 'pkg')``), not an undefined variable or a broken macro."""
    return bool(names) and all(
        "." in name and "does not parse" not in name and not name.startswith("dbt.")
        for name in names
    )


def _without_misplaced_placeholders(
    text: str, error_line: int | None, dialect: str, limits: FileLimits
) -> exp.Query | None:
    """The query with only the placeholders that break the parse taken out, or None.

    A macro writing clause text (``partition by a {{ pkg.more_partitions() }}``) leaves a
    placeholder where SQL cannot have one; placeholders standing for whole expressions
    (``{{ pkg.string_agg(...) }} as ids``) parse and must stay, or ``as ids`` is left
    without its expression. So the placeholders on the line the parser stopped at (or the
    line before: the error can be on the token after one) are taken out, one line at a
    time, as long as the parse error moves on.
    """
    lines = text.split("\n")
    for _ in range(len(_PLACEHOLDERS.findall(text))):
        at = [n for n in (error_line, (error_line or 0) - 1) if n and 0 < n <= len(lines)]
        hit = next((n for n in at if PLACEHOLDER_PREFIX in lines[n - 1]), None)
        if hit is None:
            return None
        lines[hit - 1] = _PLACEHOLDERS.sub("", lines[hit - 1])
        query, _error, error_line = _parsed_query("\n".join(lines), dialect, limits)
        if query is not None:
            return query
    return None


def _one_query(text: str, dialect: str, limits: FileLimits) -> tuple[exp.Query | None, str]:
    query, error, _line = _parsed_query(text, dialect, limits)
    return query, error


def _parsed_query(
    text: str, dialect: str, limits: FileLimits
) -> tuple[exp.Query | None, str, int | None]:
    """The one query of ``text``, or None, why not and the line the parse stopped at."""
    statements = parse_file(text, dialect, limits.max_nesting_depth, limits.max_statements_per_file)
    query = statements[0].expression if len(statements) == 1 else None
    if isinstance(query, exp.Query):
        return query, "", None
    if len(statements) > 1:
        return None, f"{len(statements)} statements, a model is one query", None
    if not statements:
        return None, "empty model", None
    if statements[0].expression is not None:
        kind = type(statements[0].expression).__name__.lower()
        return None, f"the rendered text is not a query (sqlglot reads a {kind})", None
    return None, str(statements[0].error), statements[0].error_line


def _source_relation(project: Project, source: str, table: str) -> str | Relation:
    """What ``source()`` renders: the source's relation, its parts quoted where needed."""
    parts = project.source_parts.get((source, table))
    if parts is not None and project.sources.get((source, table)) == ".".join(parts):
        return Relation(None, parts[0], parts[1])
    return project.sources.get((source, table), f"{source}.{table}".lower())


def _define(
    catalog: Catalog, project: Project, relation: str, path: str, reason: str | None
) -> None:
    # keyed by file: projects of one repository may define the same relation names
    catalog.defined[path] = Defined(relation, Location(path, 1), reason, project.root)


# `target.type == 'bigquery'`, `target.name in (...)`: what a model reads of the target
_TARGET_READ = re.compile(r"\btarget\s*\.\s*(type|name)\b|\btarget\s*\[")


def _enabled_on_unknown_target(
    catalog: Catalog, project: Project, relation: str, path: str
) -> None:
    """A model disabled by a test of ``target`` when the target is a guess (no
    profiles.yml, no adapter a CI file installs, no dialect configured): whether dbt
    builds it is not known, so it is not analysed rather than dropped (a project that
    moves its models into per-warehouse variants, each enabled for its own adapter,
    would otherwise lose all of them)."""
    why = (
        f"enabled or not depending on the dbt target, which is not known here (the "
        f"checker assumed {project.target.type}; no profiles.yml, no dbt adapter installed "
        "by CI, no `dialect` configured): set `dialect` in the configuration"
    )
    _not_analysed(catalog, project, relation, path, why, "AN908")


def _not_analysed(
    catalog: Catalog, project: Project, relation: str, path: str, why: str, rule: str
) -> None:
    """A model the checker cannot read at this revision: reported and listed as not
    analysed; a whole-file issue, so that at head its base version stands in (absent, it
    would read as dropped and its readers as broken)."""
    catalog.issues.append(Issue(rule, why, Location(path, 1), relation, whole_file=True))
    _define(catalog, project, relation, path, why)


def _unknown_text(names: list[str], installed: AbstractSet[str]) -> str:
    """What rendered as placeholders, for people: macros of packages that are not
    installed (run `dbt deps`), macros an installed package lacks (another version), the
    rest as named."""
    macros = sorted({n for n in names if "." in n and not n.startswith(("adapter.", "dbt."))})
    missing = [n for n in macros if n.split(".", 1)[0] not in installed]
    lacking = [n for n in macros if n.split(".", 1)[0] in installed]
    others = [n for n in names if n not in macros]
    parts = []
    if missing:
        parts.append(
            f"macros of packages not installed ({_first(missing)}; run `dbt deps` before "
            "the check to have them expanded)"
        )
    if lacking:
        parts.append(
            f"macros the installed packages do not have ({_first(lacking)}: the project "
            "needs other versions than those installed)"
        )
    if others:
        parts.append(_first(others))
    return " and ".join(parts)


def _first(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", …" if len(names) > 5 else "")


def _model_node(
    project: Project, name: str, path: str, this: str, config: dict[str, Any], text: str
) -> dict[str, Any]:
    """``model``: the node as dbt's context shows it while parsing."""
    parts = this.split(".")
    return {
        "name": name,
        "alias": parts[-1],
        "schema": parts[-2] if len(parts) > 1 else project.target.schema,
        "database": parts[-3] if len(parts) > 2 else project.target.database,
        "unique_id": f"model.{project.name}.{name}",
        "package_name": project.name,
        "resource_type": "model",
        "original_file_path": path[len(project.root) :],
        "path": path[len(project.root) :],
        "raw_code": text,
        "raw_sql": text,
        "config": config,
        "tags": list(config.get("tags") or []) if isinstance(config.get("tags"), list) else [],
        "fqn": [project.name, *PurePosixPath(path[len(project.root) :]).with_suffix("").parts[1:]],
        "columns": {},
        "refs": [],
        "sources": [],
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
    if not path and name in project.snapshots:
        return project.snapshots[name]
    config = (
        {**_folder_config(project, path), **info.config, **project.file_configs.get(name, {})}
        if path
        else info.config
    )
    relation = relation_of(project, name, config)
    package = str(args[0]) if len(args) > 1 else None
    known = (package is not None and package != project.name) or name in project.package_models
    if not path and (known or project.packages_missing):
        project.package_refs[relation] = known  # a package's model: exists, columns unknown
    return relation


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
        for table in source.get("tables") or [] if isinstance(source, dict) else []:
            if isinstance(table, dict) and table.get("name"):
                entry = {**table, "source_name": source.get("name")}
                project.yaml_entries[f"source:{source.get('name')}.{table['name']}"] = entry
    for model in data.get("models") or []:
        if isinstance(model, dict) and model.get("name"):
            project.yaml_entries[f"model:{model['name']}"] = model
            model = _rendered_config(model, project)
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


def _rendered_config(entry: dict[str, Any], project: Project) -> dict[str, Any]:
    """A schema.yml entry whose config (and versions' configs) have their Jinja rendered."""
    if project.renderer is None:
        return entry
    out = dict(entry)
    for key in ("config", "access", "contract"):
        if key in out:
            out[key] = render_tree(out[key], project.renderer)
    if isinstance(out.get("versions"), list):
        out["versions"] = [
            {**v, "config": render_tree(v.get("config"), project.renderer)}
            if isinstance(v, dict) and v.get("config")
            else v
            for v in out["versions"]
        ]
    return out


def _source(source: Any, path: str, project: Project, catalog: Catalog, dialect: str) -> None:
    if not isinstance(source, dict) or not source.get("name"):
        return
    render = project.renderer.render_yaml_value if project.renderer else (lambda v: v)
    if str(render(source.get("enabled", True))).lower() == "false":
        return
    schema = str(render(source.get("schema")) or source["name"]).lower()
    for table in source.get("tables") or []:
        if not isinstance(table, dict) or not table.get("name"):
            continue
        if str(render(table.get("enabled", True))).lower() == "false":
            continue
        identifier = str(render(table.get("identifier")) or table["name"]).lower()
        key = (str(source["name"]), str(table["name"]))
        relation = project.sources.get(key) or f"{schema}.{identifier}"  # manifest names win
        project.sources[key] = relation
        project.source_parts[key] = (schema, identifier)
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
    text, reason, line = decode_file(content, project.limits.max_file_bytes)
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
