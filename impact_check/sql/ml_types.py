"""Declared ML types (Feast dtypes, MLflow signature types) as sqlglot types.

A typed ML consumer declares what it reads in its own vocabulary: a Feast ``Field(dtype=…)``
(``Int64``, ``Float32``, ``String``, ``UnixTimestamp``, ``Array(Int64)``; in a registry dump
``INT64``, ``FLOAT``, ``INT64_LIST``) or an MLflow column signature (``long``, ``integer``,
``double``, ``float``, ``string``, ``boolean``, ``datetime``, ``binary``). Mapped onto
canonical sqlglot types, sql/types.py ``compare()`` then classifies a warehouse column's
type against the declaration on the same lattice as any other type change.

The vocabularies do not clash: ``float`` is 32-bit in MLflow and in a Feast registry,
``double`` is 64-bit in both.
"""

from __future__ import annotations

import re

from impact_check.sql.types import canonical, parse_type

_SCALARS = {
    # MLflow column signature types (mlflow.types.DataType)
    "long": "BIGINT",
    "integer": "INT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "string": "TEXT",
    "boolean": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "binary": "BLOB",
    # Feast dtypes (feast.types) and registry value types (ValueType names)
    "int32": "INT",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "unixtimestamp": "TIMESTAMP",
    "unix_timestamp": "TIMESTAMP",
    "bytes": "BLOB",
    "json": "JSON",
}
_ARRAY = re.compile(r"^(?:array|list)\s*[(<\[]\s*(.+?)\s*[)>\]]$", re.IGNORECASE)


def declared_sql(declared: str | None) -> str | None:
    """The canonical sqlglot type of a declared ML type; None when it has no SQL meaning
    (``tensor``, ``object``, ``any``, an unknown spelling)."""
    if not declared:
        return None
    text = declared.strip()
    match = _ARRAY.match(text)
    if match:
        inner = declared_sql(match.group(1))
        return _canonical(f"ARRAY<{inner}>") if inner else None
    lowered = text.lower()
    if lowered.endswith("_list"):
        inner = declared_sql(lowered[: -len("_list")])
        return _canonical(f"ARRAY<{inner}>") if inner else None
    sql = _SCALARS.get(lowered)
    return _canonical(sql) if sql else None


def _canonical(sql: str) -> str | None:
    dtype = parse_type(sql)
    return canonical(dtype) if dtype is not None else None
