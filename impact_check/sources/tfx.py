"""TFX / TFDV ``schema.pbtxt`` files as typed feature contracts on table columns.

A schema (tensorflow_metadata ``Schema`` in protobuf text format, read by the small reader in
sources/textproto.py: tensorflow-metadata would bring protobuf, absl and 31 MB for one parse)
lists ``feature { name, type: INT | FLOAT | BYTES | STRUCT, presence { min_fraction,
min_count } }``. Each feature is a ``tfx:feature/<schema path>/<name>`` node (kind feature)
reading the column of the same name of the table the examples come from; the schema is a
``tfx:schema/<path>`` node (kind feature_schema) reading its features.

The table: ``options.dataset`` (a relation) or ``options.query`` (SQL, bound like a view by
the analysis) of a configured ``tfx`` source; for a discovered schema, the ``query=`` string
constant of a ``*ExampleGen(...)`` call (``BigQueryExampleGen(query=...)``) in a Python file
of the schema's folder or the folder above, read with ``ast`` (never run). A schema linked to
no table is counted in the source's entry.

What breaks (impact_check/dq.py, rules ML704/ML705): a required feature (``min_fraction`` or
``min_count`` above 0: TFDV reports the column as missing) whose column is dropped or renamed;
a feature whose column's type no longer maps to its declared type (INT: integers and
booleans; FLOAT: floating point and decimals; BYTES: text, binary, dates and times; TFDV
reports an unexpected type). An optional feature's column going is a possible change only.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from impact_check.identity import canonical
from impact_check.model import FileContent, column_id
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.repofiles import disk_files, line_of, texts
from impact_check.sources.textproto import TextFormatError, parse

if TYPE_CHECKING:
    from impact_check.config import Config, LineageSource

ORIGIN = "tfx"
SCHEMA_NAME = "schema.pbtxt"
NOT_LINKED = "schemas linked to no table (set options.dataset or options.query)"
TYPES = ("INT", "FLOAT", "BYTES", "STRUCT")


def is_schema(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == SCHEMA_NAME


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def pipeline_files(paths: list[str]) -> set[str]:
    """The Python files next to a schema (its folder and the one above): where a TFX
    pipeline names the query its examples come from."""
    near = set()
    for schema in (p for p in paths if is_schema(p)):
        folder = _folder(schema)
        near |= {folder, _folder(folder) if folder else ""}
    return {p for p in paths if p.endswith(".py") and _folder(p) in near}


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Schema files under a path given as a lineage source (``kind: tfx``)."""
    files = disk_files(ctx.root, spec.location, lambda p: p.endswith((".pbtxt", ".py")))
    return read_schemas(files, spec, ctx)


def read_schemas(
    files: Mapping[str, FileContent],
    spec: LineageSource,
    ctx: SourceContext,
    config: Config | None = None,
) -> GraphFragment:
    """Every ``*.pbtxt`` schema among ``files`` (discovery passes only ``schema.pbtxt``)."""
    fragment = GraphFragment(spec.name or f"tfx:{spec.location}", ORIGIN)
    read = texts(dict(files), fragment, config)
    aliases = {**ctx.aliases, **spec.aliases}
    dataset, query = spec.options.get("dataset"), spec.options.get("query")
    dialect = spec.options.get("dialect")
    for path in sorted(p for p in read.files if p.endswith(".pbtxt")):
        text = read.files[path]
        try:
            schema = parse(text)
        except TextFormatError as err:
            fragment.issue("DQ819", f"{path}: not a text-format schema ({err})", path, err.line)
            continue
        source: str | None = None
        if isinstance(dataset, str) and dataset:
            source = canonical(dataset, spec.namespace, aliases)
        else:
            found = query if isinstance(query, str) and query else _example_query(read.files, path)
            if found:
                source = f"tfx:query/{path}"
                node = FragmentNode(source, "data_source", ORIGIN, name=f"{path} examples")
                node.sql, node.dialect = found, dialect if isinstance(dialect, str) else None
                node.attrs.update({"file": path, "line": 1})
                fragment.node(node)
        if source is None:
            fragment.count(NOT_LINKED)
            continue
        _schema(fragment, path, text, schema, source)
    if fragment.issues:
        fragment.status = "partial"
        fragment.detail = fragment.issues[0].message
    return fragment


def _schema(
    fragment: GraphFragment, path: str, text: str, schema: dict[str, list[Any]], source: str
) -> None:
    schema_id = f"tfx:schema/{path}"
    fragment.node(
        FragmentNode(
            schema_id, "feature_schema", ORIGIN, name=path, attrs={"file": path, "line": 1}
        )
    )
    fragment.count("schemas")
    for feature in schema.get("feature", []):
        if not isinstance(feature, dict):
            continue
        name = _one(feature, "name")
        if not isinstance(name, str) or not name:
            fragment.issue(
                "DQ819", f"{path}: a feature without a name", path, line_of(text, "feature")
            )
            continue
        kind = _one(feature, "type")
        presence = _one(feature, "presence")
        presence = presence if isinstance(presence, dict) else {}
        min_fraction, min_count = _one(presence, "min_fraction"), _one(presence, "min_count")
        required = (isinstance(min_fraction, (int, float)) and min_fraction > 0) or (
            isinstance(min_count, int) and min_count > 0
        )
        lifecycle = _one(feature, "lifecycle_stage")
        if _one(feature, "deprecated") is True or lifecycle in ("DEPRECATED", "DISABLED"):
            fragment.count("deprecated features skipped")
            continue
        column = column_id(source, name)
        feature_id = f"tfx:feature/{path}/{name}"
        dq: dict[str, Any] = {"relation": source, "type": "tfx_feature"}
        if kind in TYPES:
            dq["needs"] = {column: f"tfx_{kind}"}
        fragment.node(
            FragmentNode(
                feature_id,
                "feature",
                ORIGIN,
                name=f"{name} ({path})",
                attrs={
                    "file": path,
                    "line": line_of(text, f'"{name}"'),
                    "dtype": kind,
                    "required": required,
                    "feature_view": schema_id,
                    "dq": dq,
                },
            )
        )
        fragment.edge(column, feature_id, "column" if required else "exposure")
        fragment.edge(feature_id, schema_id, "reads")
        fragment.count("features")


def _one(message: dict[str, list[Any]], field: str) -> Any:
    values = message.get(field) or []
    return values[-1] if values else None


def _example_query(files: Mapping[str, str], schema: str) -> str | None:
    """The ``query=`` of the one ``*ExampleGen(...)`` call in the Python files next to the
    schema (a string constant, or a module-level name bound to one)."""
    folder = _folder(schema)
    near = {folder, _folder(folder) if folder else ""}
    found: list[str] = []
    for path in sorted(p for p in files if p.endswith(".py") and _folder(p) in near):
        try:
            tree = ast.parse(files[path])
        except (SyntaxError, ValueError):
            continue
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not str(name).endswith("ExampleGen"):
                continue
            for keyword in call.keywords:
                value = keyword.value
                if keyword.arg != "query":
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append(value.value)
                elif isinstance(value, ast.Name) and value.id in constants:
                    found.append(constants[value.id])
    unique = list(dict.fromkeys(found))
    return unique[0] if len(unique) == 1 else None


__all__ = ["fetch", "is_schema", "pipeline_files", "read_schemas"]
