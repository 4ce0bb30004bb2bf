"""DVC: ``dvc import-db`` snapshots of a table or a query, and the pipeline stages after them.

Read statically (YAML, bounded; nothing is run):

- a ``.dvc`` file whose ``deps`` hold ``db: {connection, table | query}`` (written by
  ``dvc import-db --table`` / ``--sql``) is a ``dvc:import/<output path>`` node (kind
  data_import): a table import reads the relation (every column a possible use); a query
  import carries its SQL, which the analysis binds like a view (carried.py), so dropping a
  column the query reads breaks the import (``dvc update`` fails);
- ``dvc.yaml`` stages (``foreach``/``do`` and ``matrix`` expanded as DVC names them:
  ``train@churn``; ``${item}`` and ``vars`` from ``params.yaml`` or inline) are
  ``dvc:stage/<name>`` nodes (kind ml_pipeline); a stage whose ``deps`` name an import's or
  another stage's ``outs`` comes after it (``feeds``), so a change reaching an import lists
  every stage downstream of it, as affected (they run on the data the import last wrote).

The SQL dialect comes from the connection's URL in ``.dvc/config`` (``[db "wh"] url =
postgresql://…``) when the repository has one, else the check's dialect. Owners come from
``meta.owner``/``meta.owners`` of the ``.dvc`` file or the stage.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from impact_check.identity import canonical
from impact_check.model import FileContent
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.repofiles import (
    as_dict,
    as_list,
    disk_files,
    line_of,
    owners_of,
    read_yaml,
    texts,
)

if TYPE_CHECKING:
    from impact_check.config import Config, LineageSource

ORIGIN = "dvc"
CONFIG = ".dvc/config"
_SCHEMES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "mssql": "tsql",
    "duckdb": "duckdb",
}
_VAR = re.compile(r"\$\{\s*([\w.\-]+)\s*\}")


def is_dvc_file(path: str) -> bool:
    """Whether discovery reads ``path`` (a ``.dvc`` file, dvc.yaml, params, the DVC config)."""
    name = path.rsplit("/", 1)[-1]
    return (
        (name.endswith(".dvc") and name != ".dvc")
        or name in ("dvc.yaml", "params.yaml")
        or path == CONFIG
        or path.endswith("/" + CONFIG)
    )


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """DVC files under a folder given as a lineage source (``kind: dvc``)."""
    files = disk_files(ctx.root, spec.location, is_dvc_file)
    return read_dvc(files, spec, ctx)


# (docstrings on both: without one, @dataclass renders the signature as one at import)
@dataclass
class _Stage:
    """One stage of a dvc.yaml: what it reads and writes, who owns it, where it is."""

    node: str
    name: str
    folder: str
    deps: list[str]
    outs: list[str]
    owners: list[str]
    file: str
    line: int
    description: str | None = None


@dataclass
class _Graph:
    """The stages read so far, and which stage produces each output path."""

    producers: dict[str, str] = field(default_factory=dict)  # output path -> node
    stages: list[_Stage] = field(default_factory=list)


def read_dvc(
    files: Mapping[str, FileContent],
    spec: LineageSource,
    ctx: SourceContext,
    config: Config | None = None,
) -> GraphFragment:
    """Imports and stages of the DVC files among ``files`` (repository paths)."""
    fragment = GraphFragment(spec.name or f"dvc:{spec.location}", ORIGIN)
    read = texts({p: c for p, c in files.items() if is_dvc_file(p)}, fragment, config)
    connections = _connections(read.files)
    aliases = {**ctx.aliases, **spec.aliases}
    graph = _Graph()
    for path in sorted(p for p in read.files if p.endswith(".dvc")):
        _import(read.files[path], path, fragment, graph, connections, aliases)
    for path in sorted(p for p in read.files if p.rsplit("/", 1)[-1] == "dvc.yaml"):
        _pipeline(read.files, path, fragment, graph)
    for stage in graph.stages:
        fragment.node(
            FragmentNode(
                stage.node,
                "ml_pipeline",
                ORIGIN,
                name=stage.name,
                owners=stage.owners,
                attrs={"file": stage.file, "line": stage.line, "description": stage.description},
            )
        )
        for dep in stage.deps:
            for producer in _producers(dep, graph.producers):
                if producer != stage.node:
                    fragment.edge(producer, stage.node, "feeds")
    fragment.count("stages", len(graph.stages))
    if fragment.issues:
        fragment.status = "partial"
        first = fragment.issues[0]
        more = f" (and {len(fragment.issues) - 1} more)" if len(fragment.issues) > 1 else ""
        fragment.detail = first.message + more
    return fragment


def _connections(files: Mapping[str, str]) -> dict[str, str | None]:
    """Connection name -> sqlglot dialect, from ``[db "name"] url = scheme://…``."""
    import configparser  # imported here: only a repository with a DVC config needs it

    out: dict[str, str | None] = {}
    for path, text in files.items():
        if not (path == CONFIG or path.endswith("/" + CONFIG)):
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            continue  # the DVC config says nothing we need then: the check's dialect
        for section in parser.sections():
            # DVC writes sections as ['db "wh"']
            match = re.fullmatch(r"""['"]?\s*db\s+"([^"]+)"\s*['"]?""", section.strip())
            url = parser.get(section, "url", fallback="")
            if match and "://" in url:
                scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
                out[match.group(1)] = _SCHEMES.get(scheme)
    return out


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _join(folder: str, path: str) -> str:
    joined = PurePosixPath(folder or ".", path)
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _import(
    text: str,
    path: str,
    fragment: GraphFragment,
    graph: _Graph,
    connections: dict[str, str | None],
    aliases: dict[str, str],
) -> None:
    doc = as_dict(read_yaml(text, path, fragment))
    databases = [as_dict(as_dict(d).get("db")) for d in as_list(doc.get("deps"))]
    databases = [d for d in databases if d]
    if not databases:
        return  # a data file tracked by DVC: no table behind it
    folder = _folder(path)
    outs = [_join(folder, str(as_dict(o).get("path"))) for o in as_list(doc.get("outs"))]
    outs = [o for o in outs if o]
    out = outs[0] if outs else path.removesuffix(".dvc")
    node = FragmentNode(
        f"dvc:import/{out}",
        "data_import",
        ORIGIN,
        name=f"{out} (dvc import-db)",
        owners=owners_of(doc.get("meta")),
        attrs={"file": path, "line": line_of(text, "db:"), "description": doc.get("desc")},
    )
    for db in databases:
        connection = str(db.get("connection") or "")
        query, table = db.get("query"), db.get("table")
        if isinstance(query, str) and query.strip():
            node.sql = query
            node.dialect = connections.get(connection)
        elif isinstance(table, str) and table:
            fragment.edge(canonical(table, None, aliases), node.id, "reads")
        else:
            fragment.issue(
                "DQ819",
                f"{path}: import-db dependency names neither a table nor a query",
                path,
                line_of(text, "db:"),
            )
    if node.sql is not None and len(databases) > 1:
        fragment.count("imports with several db dependencies (the last query is bound)")
    fragment.node(node)
    fragment.count("imports")
    for produced in outs:
        graph.producers[produced] = node.id


def _pipeline(files: Mapping[str, str], path: str, fragment: GraphFragment, graph: _Graph) -> None:
    text = files[path]
    doc = as_dict(read_yaml(text, path, fragment))
    folder = _folder(path)
    variables = _variables(doc.get("vars"), folder, files, fragment, path)
    prefix = f"{folder}:" if folder else ""
    for name, raw in as_dict(doc.get("stages")).items():
        stage = as_dict(raw)
        line = line_of(text, f"{name}:")
        for suffix, scope in _expansions(str(name), stage, variables, fragment, path, line):
            body = as_dict(stage.get("do")) if "do" in stage else stage
            wdir = _join(folder, str(_interpolate(body.get("wdir") or ".", scope)))
            deps = [
                _join(wdir, str(_interpolate(_entry(d), scope))) for d in as_list(body.get("deps"))
            ]
            outs = [
                _join(wdir, str(_interpolate(_entry(o), scope))) for o in as_list(body.get("outs"))
            ]
            label = f"{name}{suffix}"
            node = f"dvc:stage/{prefix}{label}"
            graph.stages.append(
                _Stage(
                    node,
                    label,
                    folder,
                    deps,
                    outs,
                    owners_of(body.get("meta")),
                    path,
                    line,
                    body.get("desc") if isinstance(body.get("desc"), str) else None,
                )
            )
            for out in outs:
                graph.producers[out] = node


def _paths(items: Any, wdir: str, scope: dict[str, Any]) -> list[str]:
    return [_join(wdir, str(_interpolate(_entry(item), scope))) for item in as_list(items)]


def _entry(item: Any) -> str:
    """A deps/outs entry: a path, or ``{path: {cache: false, …}}``."""
    if isinstance(item, dict) and item:
        return str(next(iter(item)))
    return str(item)


def _variables(
    raw: Any, folder: str, files: Mapping[str, str], fragment: GraphFragment, path: str
) -> dict[str, Any]:
    """``vars``: inline mappings and parameter files (``params.yaml`` by default)."""
    out: dict[str, Any] = {}
    sources = as_list(raw)
    default = _join(folder, "params.yaml")
    if default in files and "params.yaml" not in sources:
        sources = ["params.yaml", *sources]
    for item in sources:
        if isinstance(item, dict):
            out.update(item)
        elif isinstance(item, str):
            name = item.split(":", 1)[0]
            target = _join(folder, name)
            if target in files and target.endswith((".yaml", ".yml")):
                out.update(as_dict(read_yaml(files[target], target, fragment)))
            elif target not in files:
                fragment.count("vars files not in the repository (not read)")
    del path
    return out


def _lookup(name: str, scope: dict[str, Any]) -> Any:
    value: Any = scope
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _interpolate(value: Any, scope: dict[str, Any]) -> Any:
    if not isinstance(value, str):
        return value
    whole = _VAR.fullmatch(value.strip())
    if whole:
        found = _lookup(whole.group(1), scope)
        return value if found is None else found
    return _VAR.sub(lambda m: str(_lookup(m.group(1), scope) or m.group(0)), value)


def _expansions(
    name: str,
    stage: dict[str, Any],
    variables: dict[str, Any],
    fragment: GraphFragment,
    path: str,
    line: int,
) -> list[tuple[str, dict[str, Any]]]:
    """(name suffix, interpolation scope) of each stage a definition makes (DVC's names)."""
    if "foreach" in stage:
        items = _interpolate(stage["foreach"], variables)
        if isinstance(items, list):
            return [(f"@{_key(i)}", {**variables, "item": i}) for i in items]
        if isinstance(items, dict):
            return [(f"@{k}", {**variables, "item": v, "key": k}) for k, v in items.items()]
        fragment.issue(
            "DQ819",
            f"{path}: stage {name}: foreach {stage['foreach']!r} is not a list or mapping the "
            "repository defines; its stages are not read",
            path,
            line,
        )
        return []
    if "matrix" in stage:
        axes = {k: _interpolate(v, variables) for k, v in as_dict(stage["matrix"]).items()}
        if not all(isinstance(v, list) for v in axes.values()):
            fragment.issue("DQ819", f"{path}: stage {name}: matrix not read", path, line)
            return []
        out = []
        for combo in itertools.product(*axes.values()):
            item = dict(zip(axes, combo))
            suffix = "@" + "-".join(_key(v) for v in combo)
            out.append((suffix, {**variables, "item": item}))
        return out
    return [("", variables)]


def _key(value: Any) -> str:
    return str(value) if not isinstance(value, (dict, list)) else "-".join(map(str, value))


def _producers(dep: str, producers: dict[str, str]) -> list[str]:
    """What writes ``dep``: the output itself, a folder holding it, or outputs inside it."""
    out = []
    for output, node in producers.items():
        if dep == output or dep.startswith(output + "/") or output.startswith(dep + "/"):
            out.append(node)
    return out


__all__ = ["fetch", "is_dvc_file", "read_dvc"]
