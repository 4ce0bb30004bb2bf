"""A dbt ``manifest.json`` (schema v12; older versions parse where the keys agree) as a
catalog: models from ``compiled_code`` under their ``relation_name``, sources and seeds with
their declared columns, types from ``catalog.json`` when given, exposures as consumers.

Used for slim-CI production manifests and for the corpora benchmark; without a manifest the
project is rendered with stubbed Jinja (project/dbt.py).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from impact_check.errors import SourceError
from impact_check.identity import exposure_model
from impact_check.model import Catalog, Column, Consumer, Dataset, Issue, Location
from impact_check.project.dbt import EXPOSURE_KINDS, relation
from impact_check.project.derive import derive_definitions
from impact_check.project.settings import NamingSettings
from impact_check.sql.ddl import Definition
from impact_check.sql.names import NameResolver, normalize
from impact_check.sql.parse import parse_file
from impact_check.sql.types import canonical, parse_type

KNOWN_VERSIONS = tuple(f"v{n}" for n in range(7, 13))


def lineage_coverage(catalog: Catalog) -> tuple[int, int]:
    """(models analysed, models whose every column reference resolved)."""
    models = [d for d in catalog.datasets.values() if d.lineage is not None]
    resolved = [
        d
        for d in models
        if d.lineage and not (d.lineage.unresolved or d.lineage.star_unknown or d.lineage.errors)
    ]
    return len(models), len(resolved)


_STRING_FIELDS = (
    "name",
    "resource_type",
    "package_name",
    "relation_name",
    "original_file_path",
    "compiled_code",
    "raw_code",
    "language",
    "unique_id",
    "source_name",
    "label",
    "type",
)
_MAPPING_FIELDS = ("columns", "config", "depends_on", "owner", "meta")


def check_manifest(manifest: dict[str, Any], name: str) -> str:
    """Check the shape of the parts the checker reads; SourceError names the first bad key.

    Returns a problem to report when the manifest reads but is not fully understood (an
    unknown schema version), else ``""``.
    """
    metadata = manifest.get("metadata", {})
    if not isinstance(metadata, dict):
        raise SourceError(f"{name}: metadata is a {type(metadata).__name__}, not an object")
    for section in ("nodes", "sources", "exposures"):
        entries = manifest.get(section, {})
        if not isinstance(entries, dict):
            raise SourceError(f"{name}: {section} is a {type(entries).__name__}, not an object")
        for key, node in entries.items():
            _check_node(node, f"{name}: {section}[{key!r}]")
    for section in ("nodes", "sources"):  # catalog.json has the same two sections
        for key, node in (manifest.get(section) or {}).items():
            columns = node.get("columns") or {}
            for column, spec in columns.items():
                if not isinstance(spec, dict):
                    raise SourceError(
                        f"{name}: {section}[{key!r}].columns[{column!r}] is not an object"
                    )
    version = str(metadata.get("dbt_schema_version", ""))
    if not any(version.endswith(f"/{v}.json") for v in KNOWN_VERSIONS):
        return (
            f"manifest schema {version or '(none)'} is not one this version reads "
            f"({KNOWN_VERSIONS[0]}-{KNOWN_VERSIONS[-1]}): read where the keys agree"
        )
    return ""


def _check_node(node: Any, where: str) -> None:
    if not isinstance(node, dict):
        raise SourceError(f"{where} is a {type(node).__name__}, not an object")
    for key in _STRING_FIELDS:
        if node.get(key) is not None and not isinstance(node[key], str):
            raise SourceError(f"{where}.{key} is a {type(node[key]).__name__}, not a string")
    for key in _MAPPING_FIELDS:
        if node.get(key) is not None and not isinstance(node[key], dict):
            raise SourceError(f"{where}.{key} is a {type(node[key]).__name__}, not an object")
    depends = (node.get("depends_on") or {}).get("nodes")
    if depends is not None and not (
        isinstance(depends, list) and all(isinstance(d, str) for d in depends)
    ):
        raise SourceError(f"{where}.depends_on.nodes is not a list of strings")
    metadata = node.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise SourceError(f"{where}.metadata is not an object")


def catalog_from_manifest(
    manifest: dict[str, Any],
    config: NamingSettings,
    catalog_json: dict[str, Any] | None = None,
    source_name: str = "manifest.json",
) -> Catalog:
    """Build the catalog a manifest describes (lineage for every model).

    SourceError when the manifest's schema version is unknown or a part it reads has the
    wrong shape (naming the key).
    """
    if check_manifest(manifest, source_name):
        version = manifest.get("metadata", {}).get("dbt_schema_version") or "(none)"
        raise SourceError(f"{source_name}: unsupported manifest schema {version}")
    if catalog_json is not None:
        check_manifest({**catalog_json, "metadata": manifest["metadata"]}, "catalog.json")
    catalog = Catalog()
    types = _catalog_types(catalog_json or {})
    for node in manifest.get("sources", {}).values():
        _relation_node(catalog, node, "source", types, config.dialect)
    definitions: dict[str, Definition] = {}
    for node in manifest.get("nodes", {}).values():
        kind = node.get("resource_type")
        if kind in ("seed", "snapshot"):
            _relation_node(catalog, node, kind, types, config.dialect)
        elif kind == "model" and node.get("language", "sql") == "sql":
            definition = _model(catalog, node, config.dialect)
            if definition is not None:
                definitions[definition.name] = definition
    for exposure in manifest.get("exposures", {}).values():
        catalog.consumers.append(_exposure(exposure, manifest))
    resolver = NameResolver(set(), config.default_schema, config.default_database)
    derive_definitions(definitions, catalog, resolver)
    return catalog


def _catalog_types(catalog_json: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for section in ("nodes", "sources"):
        for node in (catalog_json.get(section) or {}).values():
            meta = node.get("metadata", {})
            name = ".".join(str(meta.get(k, "")).lower() for k in ("database", "schema", "name"))
            out[name] = {
                c.lower(): str(v.get("type", "")) for c, v in (node.get("columns") or {}).items()
            }
    return out


def _columns(node: dict[str, Any], types: dict[str, str], dialect: str) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    declared = node.get("columns") or {}
    names = list(types) or [c.lower() for c in declared]
    for name in names:
        spec = declared.get(name) or {}
        written = types.get(name) or spec.get("data_type")
        dtype = parse_type(str(written), dialect) if written else None
        columns[name] = Column(
            name, canonical(dtype) if dtype is not None else None, str(written) if written else None
        )
    return columns


def _relation_node(
    catalog: Catalog,
    node: dict[str, Any],
    kind: str,
    types: dict[str, dict[str, str]],
    dialect: str,
) -> None:
    name = relation(node.get("relation_name"))
    if not name:
        return
    known = types.get(name, {})  # catalog.json lists every column; declared ones may not
    columns = _columns(node, known, dialect)
    catalog.datasets[name] = Dataset(
        name,
        kind,
        columns=columns,
        location=Location(node.get("original_file_path", "")),
        dialect=dialect,
        columns_known=bool(known),
    )


def _model(catalog: Catalog, node: dict[str, Any], dialect: str) -> Definition | None:
    name = relation(node.get("relation_name")) or str(node.get("name", "")).lower()
    location = Location(node.get("original_file_path", ""), 1)
    code = node.get("compiled_code")
    if not code:
        catalog.issues.append(
            Issue(
                "AN903",
                f"{name}: no compiled_code in the manifest",
                location,
                target=name,
                unanalyzed=False,
            )
        )
        return None
    statements = parse_file(code, dialect)
    query = statements[0].expression if len(statements) == 1 else None
    if not isinstance(query, exp.Query):
        error = statements[0].error if statements else "empty"
        catalog.issues.append(
            Issue("AN901", f"{name}: cannot parse compiled_code: {error}", location, target=name)
        )
        return None
    materialized = str((node.get("config") or {}).get("materialized", "view"))
    kind = "view" if materialized in ("view", "ephemeral") else "table"
    return Definition(name, kind, normalize(query, dialect), location, dialect=dialect)


def _exposure(exposure: dict[str, Any], manifest: dict[str, Any]) -> Consumer:
    nodes = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    reads = [
        relation(nodes[d].get("relation_name"))
        for d in (exposure.get("depends_on") or {}).get("nodes") or []
        if d in nodes
    ]
    owner = exposure.get("owner") or {}
    owners = [str(owner.get("name") or owner.get("email"))] if owner else []
    return Consumer(
        node_id=f"dbt:{exposure.get('unique_id', exposure.get('name'))}",
        name=str(exposure.get("label") or exposure.get("name")),
        kind=EXPOSURE_KINDS.get(str(exposure.get("type")), "exposure"),
        owners=[o for o in owners if o and o != "None"],
        reads=[r for r in reads if r],
        location=Location(exposure.get("original_file_path", "")),
        model=exposure_model(exposure) if exposure.get("type") == "ml" else None,
    )
