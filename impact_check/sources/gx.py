"""Great Expectations projects as consumers of the columns their expectations check.

Read statically (JSON and YAML, bounded; no plugin or custom expectation is imported):

- GX 1.x (``gx/``): ``great_expectations.yml`` (``fluent_datasources.<ds>.assets.<asset>``:
  ``type: table`` with ``table_name``/``schema_name``, or ``type: query`` with ``query``),
  ``expectations/*.json`` (suites: ``name``, ``expectations[{type, kwargs, id, meta}]``),
  ``validation_definitions/*.json`` (suite <-> datasource + asset), ``checkpoints/*.json``;
- GX 0.x (``great_expectations/``): suites with ``expectation_suite_name`` and
  ``expectations[{expectation_type, kwargs, meta}]``, linked to an asset by the checkpoints'
  ``validations[].batch_request`` (``data_asset_name``, or ``runtime_parameters.query``) or
  by the suite's ``meta.citations[].batch_request``.

Nodes: ``gx:suite/<suite>`` (kind expectation_suite) and ``gx:expectation/<suite>/<id>``
(kind expectation, named ``expect_column_values_to_be_between(amount)``; attrs ``dq``: what
it needs of its columns, see impact_check/dq.py). A table asset is the relation
``schema_name.table_name``; a query asset is a ``gx:asset/<ds>/<asset>`` node carrying its
SQL (bound like a view by the analysis, carried.py), and an ``UnexpectedRowsExpectation``
carries its ``unexpected_rows_query`` with ``{batch}`` replaced by the asset. An expectation
reads the columns in its kwargs (``column``, ``column_A``/``column_B``, ``column_list``,
columns compared in ``row_condition``): ``column`` edges; table-level ones read the relation
(``star``: only a table change reaches them); schema-pinned ones (``…_columns_to_match_set``,
``…_to_match_ordered_list``, column counts) read every column (``reads``). A suite no
validation definition or checkpoint links to a table is counted, not linked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.identity import canonical
from impact_check.model import FileContent, column_id
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.repofiles import (
    Texts,
    as_dict,
    as_list,
    disk_files,
    line_of,
    owners_of,
    read_json,
    read_yaml,
    texts,
)

if TYPE_CHECKING:
    from impact_check.config import Config, LineageSource

ORIGIN = "great_expectations"
MARKER = "great_expectations.yml"
NOT_LINKED = "suites linked to no table (no validation definition or checkpoint)"
NOT_SQL = "assets that are not tables or queries (files, dataframes): not linked"
# datasource type (1.x) or URL scheme (0.x) -> sqlglot dialect
_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "databricks_sql": "databricks",
    "databricks": "databricks",
    "redshift": "redshift",
    "bigquery": "bigquery",
    "mysql": "mysql",
    "mssql": "tsql",
    "trino": "trino",
    "spark": "spark",
}
SCHEMA_PINNED = {
    "expect_table_columns_to_match_set": "set",
    "expect_table_columns_to_match_ordered_list": "ordered",
    "expect_table_column_count_to_equal": "count",
    "expect_table_column_count_to_be_between": "count_between",
}
_NUMERIC = {
    "expect_column_values_to_be_between",
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_column_quantile_values_to_be_between",
}
_TEXT = {
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_be_json_parseable",
}
_VALUE_SETS = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
    "expect_column_most_common_value_to_be_in_set",
}
_PAIRS = {
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
}
_CONDITION = re.compile(
    r"""(?:col\(\s*["'](?P<quoted>[\w.]+)["']\s*\)|(?P<bare>\b[A-Za-z_]\w*\b))\s*"""
    r"""(?:==|!=|>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?\b|["'][^"']*["'])"""
)


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """A GX project folder given as a lineage source (``kind: great_expectations``)."""
    files = disk_files(ctx.root, spec.location, _wanted)
    root = min(
        (p.rsplit("/", 1)[0] if "/" in p else "" for p in files if p.endswith(MARKER)),
        default=spec.location.strip("/").removeprefix("./"),
    )
    return read_project(files, root, spec, ctx)


def _wanted(path: str) -> bool:
    return path.endswith((".json", ".yml", ".yaml")) and "/uncommitted/" not in f"/{path}"


def project_files(paths: list[str], root: str) -> list[str]:
    """The files of the GX project at ``root`` that the reader needs (not ``uncommitted/``)."""
    prefix = root + "/" if root else ""
    return [p for p in paths if p.startswith(prefix) and _wanted(p[len(prefix) :])]


@dataclass
class _Asset:
    node: str  # a relation, or a gx:asset/... node carrying the query
    relation: str | None  # the relation a table asset names
    query: str | None = None
    dialect: str | None = None


@dataclass
class _Project:
    root: str
    assets: dict[tuple[str, str], _Asset] = field(default_factory=dict)
    dialects: dict[str, str | None] = field(default_factory=dict)  # datasource -> dialect
    links: dict[str, list[tuple[_Asset, list[str]]]] = field(default_factory=dict)  # suite ->


def read_project(
    files: Mapping[str, FileContent],
    root: str,
    spec: LineageSource,
    ctx: SourceContext,
    config: Config | None = None,
) -> GraphFragment:
    """The expectations of the GX project at ``root`` (a repository folder) as consumers."""
    fragment = GraphFragment(spec.name or f"great_expectations:{root or '.'}", ORIGIN)
    read = texts({p: files[p] for p in project_files(sorted(files), root)}, fragment, config)
    aliases = {**ctx.aliases, **spec.aliases}
    overrides = {str(k): str(v) for k, v in as_dict(spec.options.get("assets")).items()}
    project = _Project(root)
    _datasources(read, project, fragment, aliases, overrides)
    _links(read, project, fragment, aliases)
    suites = 0
    for path in read.under(_sub(root, "expectations"), lambda p: p.endswith(".json")):
        suites += _suite(read.files[path], path, project, fragment)
    fragment.count("suites", suites)
    if fragment.issues:
        fragment.status = "partial"
        first = fragment.issues[0]
        fragment.detail = first.message + (
            f" (and {len(fragment.issues) - 1} more)" if len(fragment.issues) > 1 else ""
        )
    return fragment


def _sub(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _datasources(
    read: Texts,
    project: _Project,
    fragment: GraphFragment,
    aliases: dict[str, str],
    overrides: dict[str, str],
) -> None:
    path = _sub(project.root, MARKER)
    if path not in read.files:
        return
    config = as_dict(read_yaml(read.files[path], path, fragment))
    for name, source in as_dict(config.get("fluent_datasources")).items():
        source = as_dict(source)
        dialect = _dialect(source.get("type"), source.get("connection_string"))
        project.dialects[str(name)] = dialect
        for asset_name, asset in as_dict(source.get("assets")).items():
            project.assets[(str(name), str(asset_name))] = _asset(
                str(name), str(asset_name), as_dict(asset), dialect, aliases, overrides
            )
    for name, source in as_dict(config.get("datasources")).items():  # 0.x block config
        engine = as_dict(as_dict(source).get("execution_engine"))
        project.dialects[str(name)] = _dialect(None, engine.get("connection_string"))


def _dialect(kind: Any, url: Any) -> str | None:
    if isinstance(kind, str) and kind in _DIALECTS:
        return _DIALECTS[kind]
    if isinstance(url, str) and "://" in url:
        scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
        return _DIALECTS.get(scheme)
    return None


def _asset(
    source: str,
    name: str,
    asset: dict[str, Any],
    dialect: str | None,
    aliases: dict[str, str],
    overrides: dict[str, str],
) -> _Asset:
    if name in overrides:
        relation = canonical(overrides[name], None, aliases)
        return _Asset(relation, relation)
    table = asset.get("table_name")
    if asset.get("type") == "table" or isinstance(table, str):
        schema = asset.get("schema_name")
        written = f"{schema}.{table}" if isinstance(schema, str) and schema else str(table)
        relation = canonical(written, None, aliases)
        return _Asset(relation, relation, dialect=dialect)
    query = asset.get("query")
    if isinstance(query, str) and query.strip():
        return _Asset(f"gx:asset/{source}/{name}", None, query, dialect)
    return _Asset(f"gx:asset/{source}/{name}", None)  # a file or dataframe asset


def _links(
    read: Texts, project: _Project, fragment: GraphFragment, aliases: dict[str, str]
) -> None:
    """Suite -> (asset, checkpoints) from validation definitions (1.x) and checkpoints."""
    definitions: dict[str, tuple[str, _Asset]] = {}
    folder = _sub(project.root, "validation_definitions")
    for path in read.under(folder, lambda p: p.endswith(".json")):
        doc = as_dict(read_json(read.files[path], path, fragment))
        suite = as_dict(doc.get("suite")).get("name")
        data = as_dict(doc.get("data"))
        source = as_dict(data.get("datasource")).get("name")
        asset_name = as_dict(data.get("asset")).get("name")
        asset = project.assets.get((str(source), str(asset_name)))
        if not isinstance(suite, str):
            continue
        if asset is None:
            line = line_of(read.files[path], f'"{asset_name}"')
            fragment.issue(
                "DQ819",
                f"{path}: validation definition {doc.get('name')} names asset "
                f"{source}/{asset_name}, which great_expectations.yml does not define",
                path,
                line,
            )
            continue
        definitions[str(doc.get("name"))] = (suite, asset)
        project.links.setdefault(suite, []).append((asset, []))
    folder = _sub(project.root, "checkpoints")
    for path in read.under(folder):
        text = read.files[path]
        doc = as_dict(
            read_json(text, path, fragment)
            if path.endswith(".json")
            else read_yaml(text, path, fragment)
        )
        name = str(doc.get("name") or path.rsplit("/", 1)[-1].split(".")[0])
        for item in as_list(doc.get("validation_definitions")):
            known = definitions.get(str(as_dict(item).get("name")))
            if known is not None:
                for asset, checkpoints in project.links.get(known[0], []):
                    if asset is known[1] and name not in checkpoints:
                        checkpoints.append(name)
        for index, item in enumerate(as_list(doc.get("validations")) or [{}]):  # 0.x
            item = as_dict(item)
            suite = item.get("expectation_suite_name") or doc.get("expectation_suite_name")
            request = as_dict(item.get("batch_request") or doc.get("batch_request"))
            asset = _requested(request, project, aliases, f"{name}:{index}")
            if isinstance(suite, str) and asset is not None:
                project.links.setdefault(suite, []).append((asset, [name]))


def _requested(
    request: dict[str, Any], project: _Project, aliases: dict[str, str], label: str
) -> _Asset | None:
    """The asset a 0.x batch request names (a table by name, or a runtime query)."""
    source = str(request.get("datasource_name") or "")
    query = as_dict(request.get("runtime_parameters")).get("query")
    if isinstance(query, str) and query.strip():
        return _Asset(f"gx:asset/{source}/{label}", None, query, project.dialects.get(source))
    name = request.get("data_asset_name")
    if not isinstance(name, str) or not name:
        return None
    known = project.assets.get((source, name))
    if known is not None:
        return known
    relation = canonical(name, None, aliases)
    return _Asset(relation, relation, dialect=project.dialects.get(source))


def _suite(text: str, path: str, project: _Project, fragment: GraphFragment) -> int:
    doc = read_json(text, path, fragment)
    if not isinstance(doc, dict):
        if doc is not None:
            fragment.issue("DQ819", f"{path}: not an expectation suite (a JSON object)", path, 1)
        return 0
    name = doc.get("name") or doc.get("expectation_suite_name")
    if not isinstance(name, str) or not name:
        fragment.issue("DQ819", f"{path}: an expectation suite without a name; not read", path, 1)
        return 0
    links = list(project.links.get(name, []))
    meta = as_dict(doc.get("meta"))
    for citation in as_list(meta.get("citations")):  # 0.x: the batch a profiler ran on
        request = as_dict(as_dict(citation).get("batch_request"))
        asset = _requested(request, project, {}, "citation")
        if asset is not None and all(asset.node != a.node for a, _c in links):
            links.append((asset, []))
    if not links:
        fragment.count(NOT_LINKED)
        return 1
    suite_id = f"gx:suite/{name}"
    owners = owners_of(meta)
    checkpoints = sorted({c for _a, cps in links for c in cps})
    fragment.node(
        FragmentNode(
            suite_id,
            "expectation_suite",
            ORIGIN,
            name=name,
            owners=owners,
            attrs={"file": path, "line": 1, "checkpoints": checkpoints or None},
        )
    )
    for index, item in enumerate(as_list(doc.get("expectations"))):
        item = as_dict(item)
        kind = item.get("type") or item.get("expectation_type")
        if not isinstance(kind, str):
            line = line_of(text, '"expectations"')
            fragment.issue("DQ819", f"{path}: expectation {index + 1} has no type", path, line)
            continue
        ident = str(item.get("id") or index)
        line = line_of(text, f'"{item["id"]}"') if item.get("id") else line_of(text, f'"{kind}"')
        for asset, _checkpoints in links:
            _expectation(
                fragment, project, asset, suite_id, name, ident, kind, item, path, line, owners
            )
            fragment.count("expectations")
    return 1


def _expectation(
    fragment: GraphFragment,
    project: _Project,
    asset: _Asset,
    suite_id: str,
    suite: str,
    ident: str,
    kind: str,
    item: dict[str, Any],
    path: str,
    line: int,
    owners: list[str],
) -> None:
    if asset.relation is None and asset.query is None:
        fragment.count(NOT_SQL)
        return
    if asset.query is not None and not any(n.id == asset.node for n in fragment.nodes):
        node = FragmentNode(asset.node, "data_source", ORIGIN, name=asset.node.split("/", 1)[1])
        node.sql, node.dialect = asset.query, asset.dialect
        node.attrs.update({"file": _sub(project.root, MARKER), "line": None})
        fragment.node(node)
    kwargs = as_dict(item.get("kwargs"))
    node_id = f"gx:expectation/{suite}/{ident}"
    if any(n.id == node_id for n in fragment.nodes):
        node_id = f"{node_id}@{asset.node}"  # one suite validated on several assets
    columns = _columns(kind, kwargs)
    label = f"{kind}({', '.join(columns)})" if columns else kind
    dq: dict[str, Any] = {"type": kind, "relation": asset.node}
    node = FragmentNode(
        node_id,
        "expectation",
        ORIGIN,
        name=f"{suite}: {label}",
        owners=owners_of(item.get("meta")) or list(owners),
        attrs={
            "suite": suite,
            "expectation_type": kind,
            "severity": item.get("severity"),
            "file": path,
            "line": line,
            "dq": dq,
        },
    )
    col = {name: column_id(asset.node, name) for name in columns}
    if kind in SCHEMA_PINNED:
        dq["pin"] = _pin(SCHEMA_PINNED[kind], kwargs)
        fragment.edge(asset.node, node_id, "reads")
    elif kind == "unexpected_rows_expectation" or "unexpected_rows_query" in kwargs:
        node.sql = _batch_sql(str(kwargs.get("unexpected_rows_query") or ""), asset)
        node.dialect = asset.dialect
        fragment.edge(asset.node, node_id, "star")
    elif not columns:
        fragment.edge(asset.node, node_id, "star")  # row counts: only a table change matters
    for cid in col.values():
        fragment.edge(cid, node_id, "column")
    dq["needs"] = _needs(kind, kwargs, col)
    types = _types(kind, kwargs)
    if types and "column" in kwargs:
        dq["types"] = {col[str(kwargs["column"])]: types}
    pair = [col.get(str(kwargs.get(k))) for k in ("column_A", "column_B")]
    if kind in _PAIRS and all(pair):
        dq["compares"] = [pair]
    fragment.node(node)
    fragment.edge(node_id, suite_id, "reads")


def _columns(kind: str, kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation reads (pins are not reads: they are its schema check)."""
    out: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            out.append(kwargs[key])
    if kind not in SCHEMA_PINNED:
        out += [c for c in as_list(kwargs.get("column_list")) if isinstance(c, str)]
    out += [name for name, _value in _conditions(kwargs.get("row_condition"))]
    return list(dict.fromkeys(out))


def _conditions(condition: Any) -> list[tuple[str, Any]]:
    """(column, compared value) of a ``row_condition``: GX 1.x's structured form
    (``{column: {name}, operator, parameter}``, nested in and/or lists) or a condition string
    (``col("qty") > 0`` for the great_expectations parser, ``qty > 0`` for pandas)."""
    out: list[tuple[str, Any]] = []
    if isinstance(condition, str):
        for match in _CONDITION.finditer(condition):
            name = match.group("quoted") or match.group("bare")
            if name and name.lower() not in ("and", "or", "not", "col"):
                value = match.group("value")
                out.append((name, value if value[0] in "'\"" else float(value)))
    elif isinstance(condition, dict):
        column = as_dict(condition.get("column")).get("name")
        if isinstance(column, str):
            out.append((column, condition.get("parameter")))
        for value in condition.values():
            if isinstance(value, (list, dict)) and value is not condition.get("column"):
                out += _conditions(value)
    elif isinstance(condition, list):
        for item in condition:
            out += _conditions(item)
    return out


def _needs(kind: str, kwargs: dict[str, Any], col: dict[str, str]) -> dict[str, str]:
    """Column node id -> the type family the expectation's check needs (dq.py)."""
    needs: dict[str, str] = {}
    column = col.get(str(kwargs.get("column")))
    bounds = [kwargs.get(k) for k in ("min_value", "max_value", "value")]
    numeric_bounds = any(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if (
        column
        and kind in _NUMERIC
        and (numeric_bounds or kind != "expect_column_values_to_be_between")
    ):
        needs[column] = "numeric"
    if column and kind in _TEXT:
        needs[column] = "text"
    values = [v for v in as_list(kwargs.get("value_set")) if v is not None]
    if column and kind in _VALUE_SETS and values:
        if all(isinstance(v, str) and not _number(v) for v in values):
            needs[column] = "text_values"
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            needs[column] = "number_values"
    for name, value in _conditions(kwargs.get("row_condition")):
        if name in col and isinstance(value, (int, float)) and not isinstance(value, bool):
            needs.setdefault(col[name], "number_values")
    return needs


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _types(kind: str, kwargs: dict[str, Any]) -> list[str]:
    if kind == "expect_column_values_to_be_of_type" and isinstance(kwargs.get("type_"), str):
        return [kwargs["type_"]]
    if kind == "expect_column_values_to_be_in_type_list":
        return [t for t in as_list(kwargs.get("type_list")) if isinstance(t, str)]
    return []


def _pin(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    pin: dict[str, Any] = {"kind": kind}
    if kind == "set":
        pin["columns"] = [str(c) for c in as_list(kwargs.get("column_set"))]
        pin["exact"] = kwargs.get("exact_match", True) is not False  # GX 1.x default: True
    elif kind == "ordered":
        pin["columns"] = [str(c) for c in as_list(kwargs.get("column_list"))]
    elif kind == "count":
        pin["value"] = kwargs.get("value")
    else:
        pin["min"], pin["max"] = kwargs.get("min_value"), kwargs.get("max_value")
    return pin


def _batch_sql(query: str, asset: _Asset) -> str:
    source = f"({asset.query}) AS batch" if asset.query else str(asset.relation)
    return query.replace("{batch}", source).replace("{active_batch}", source)


__all__ = ["MARKER", "fetch", "project_files", "read_project"]
