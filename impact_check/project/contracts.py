"""YAML data contracts as datasets: the datacontract.com specification
(``dataContractSpecification:``, ``models:`` of ``fields:``) and ODCS v3 (``apiVersion: v3…``,
``kind: DataContract``, ``schema:`` objects of ``properties:``).

Each contract model becomes a dataset of kind ``contract`` named ``contract:<id>.<model>``
whose columns are its fields (type, required, unique, enum), so changes to the file are
schema changes compared by diff.py like any other, and a contract promises its schema to
consumers the repository cannot see. The contract is matched by name to the dataset that
produces it (its physical name, an exact canonical name or an unambiguous ``.table``
suffix); :func:`unmet_fields` says where that dataset no longer delivers what is promised.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import yaml

from impact_check.model import (
    Catalog,
    Column,
    ContractModel,
    Dataset,
    Issue,
    Location,
    Snapshot,
)
from impact_check.sql.types import canonical, parse_type

_MARKERS = (b"dataContractSpecification", b"DataContract")
# Logical types of both specifications -> SQL types (ODCS physicalType wins when given).
_LOGICAL = {
    "string": "TEXT",
    "text": "TEXT",
    "varchar": "TEXT",
    "number": "DECIMAL",
    "numeric": "DECIMAL",
    "decimal": "DECIMAL",
    "int": "INT",
    "integer": "INT",
    "long": "BIGINT",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "timestamp_tz": "TIMESTAMPTZ",
    "timestamp_ntz": "TIMESTAMP",
    "date": "DATE",
    "time": "TIME",
    "bytes": "BLOB",
}


def load_contracts(snapshot: Snapshot, catalog: Catalog, dialect: str) -> list[ContractModel]:
    """Every contract model in the snapshot, added to the catalog as a dataset."""
    out: list[ContractModel] = []
    for path in sorted(snapshot.files):
        content = snapshot.files[path]
        data = content.data
        if not path.endswith((".yml", ".yaml")) or data is None:
            continue
        if not any(marker in data for marker in _MARKERS):
            continue
        document = _document(path, data, catalog)
        if document is None:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        for model in _models(path, document, lines, dialect):
            catalog.datasets[model.node] = Dataset(
                model.node,
                "contract",
                columns=model.fields,
                location=Location(path, model.line),
                dialect=dialect,
            )
            out.append(model)
    return out


def _document(path: str, data: bytes, catalog: Catalog) -> dict[str, Any] | None:
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        message = f"invalid data contract YAML: {str(err).splitlines()[0]}"
        catalog.issues.append(Issue("AN901", message, Location(path, line)))
        return None
    if not isinstance(document, dict):
        return None
    if "dataContractSpecification" in document:
        return document
    api = str(document.get("apiVersion", ""))
    return document if document.get("kind") == "DataContract" and api.startswith("v3") else None


def _models(
    path: str, document: dict[str, Any], lines: list[str], dialect: str
) -> list[ContractModel]:
    ident = str(document.get("id") or PurePosixPath(path).stem).lower()
    servers = document.get("servers") or []
    servers = list(servers.values()) if isinstance(servers, dict) else servers
    schemas = sorted(
        {str(s["schema"]).lower() for s in servers if isinstance(s, dict) and s.get("schema")}
    )
    out = []
    if "dataContractSpecification" in document:
        models = document.get("models") or {}
        for name, spec in models.items() if isinstance(models, dict) else []:
            spec = spec if isinstance(spec, dict) else {}
            fields = spec.get("fields") or {}
            items = [
                {"name": key, **(value if isinstance(value, dict) else {})}
                for key, value in (fields.items() if isinstance(fields, dict) else [])
            ]
            out.append(_model(ident, str(name), str(name), path, items, lines, dialect))
            out[-1].schemas = schemas
    else:
        for spec in document.get("schema") or []:
            if not isinstance(spec, dict) or not spec.get("name"):
                continue
            table = str(spec.get("physicalName") or spec["name"])
            items = [p for p in spec.get("properties") or [] if isinstance(p, dict)]
            out.append(_model(ident, str(spec["name"]), table, path, items, lines, dialect))
            out[-1].schemas = schemas
    return out


def _model(
    ident: str,
    name: str,
    table: str,
    path: str,
    items: list[dict[str, Any]],
    lines: list[str],
    dialect: str,
) -> ContractModel:
    fields: dict[str, Column] = {}
    where: dict[str, int] = {}
    start = _line(lines, name)
    for item in items:
        if not item.get("name"):
            continue
        column = _field(item, dialect)
        fields[column.name] = column
        where[column.name] = _line(lines, str(item["name"]), start)
    return ContractModel(
        node=f"contract:{ident}.{name.lower()}",
        table=table.lower(),
        schemas=[],
        path=path,
        line=start or None,
        fields=fields,
        lines=where,
    )


def _field(item: dict[str, Any], dialect: str) -> Column:
    written = item.get("physicalType") or item.get("type") or item.get("logicalType")
    dtype = None
    if written:
        text = str(written)
        dtype = parse_type(_LOGICAL.get(text.lower(), text), dialect)
    return Column(
        name=str(item["name"]).lower(),
        type=canonical(dtype) if dtype is not None else None,
        written_type=str(written) if written else None,
        not_null=bool(item.get("required") or item.get("primaryKey")),
        unique=bool(item.get("unique") or item.get("primaryKey")),
        primary_key=bool(item.get("primaryKey")),
        accepted_values=_enum(item),
    )


def _enum(item: dict[str, Any]) -> tuple[str, ...] | None:
    """DCS ``enum``, or an ODCS quality rule's ``validValues``."""
    values = item.get("enum")
    for rule in item.get("quality") or []:
        if isinstance(rule, dict) and values is None:
            values = rule.get("validValues") or (rule.get("arguments") or {}).get("validValues")
    return tuple(sorted(str(v) for v in values)) if isinstance(values, list) else None


def _line(lines: list[str], name: str, start: int = 0) -> int:
    """The first line from ``start`` that defines ``name`` (a key or a ``name:`` entry)."""
    for number, text in enumerate(lines[start:], start + 1):
        stripped = text.strip().lstrip("- ").strip()
        if stripped.startswith((f"{name}:", f"name: {name}", f'name: "{name}"')):
            return number
    return 0
