"""The type lattice: how a column's type change affects readers.

Types are compared as sqlglot ``DataType`` trees, so spellings of one type
(``varchar``/``character varying``, ``int4``/``integer``, case, spacing) compare equal.
The verdicts:

- ``alias``: same type, different spelling (TY304, never failing);
- ``widened``: same family, every old value still fits (TY303);
- ``narrowed``: same family, some old values may not fit (TY302);
- ``incompatible``: another family (TY301);
- ``unknown``: a type sqlglot does not model (user-defined, enum, …): compared as text,
  reported at info with a note, never failing;
- ``nested_removed``: a struct field (at any depth, also inside arrays) disappeared or was
  renamed (TY305).
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError

T = exp.DataType.Type

_INT_RANK = {
    T.TINYINT: 1,
    T.UTINYINT: 1,
    T.SMALLINT: 2,
    T.USMALLINT: 2,
    T.SMALLSERIAL: 2,
    T.INT: 3,
    T.UINT: 3,
    T.MEDIUMINT: 3,
    T.UMEDIUMINT: 3,
    T.SERIAL: 3,
    T.BIGINT: 4,
    T.UBIGINT: 4,
    T.BIGSERIAL: 4,
    T.INT128: 5,
    T.UINT128: 5,
    T.INT256: 6,
    T.UINT256: 6,
}
_INT_DIGITS = {1: 3, 2: 5, 3: 10, 4: 19, 5: 39, 6: 77}
_FLOAT_RANK = {T.FLOAT: 1, T.DOUBLE: 2, T.UDOUBLE: 2, T.DECFLOAT: 2}
_DECIMALS = {
    T.DECIMAL,
    T.BIGDECIMAL,
    T.DECIMAL32,
    T.DECIMAL64,
    T.DECIMAL128,
    T.DECIMAL256,
    T.MONEY,
    T.SMALLMONEY,
    T.UDECIMAL,
}
_TEXT = set(exp.DataType.TEXT_TYPES) | {
    T.CHAR,
    T.NCHAR,
    T.VARCHAR,
    T.NVARCHAR,
    T.TEXT,
    T.NAME,
    T.BPCHAR,
    T.TINYTEXT,
    T.MEDIUMTEXT,
    T.LONGTEXT,
}
_UNBOUNDED_TEXT = {T.TEXT, T.LONGTEXT, T.MEDIUMTEXT}
_DATE = {T.DATE, T.DATE32}
_TIMESTAMP = {
    T.DATETIME,
    T.DATETIME64,
    T.TIMESTAMP,
    T.TIMESTAMPTZ,
    T.TIMESTAMPLTZ,
    T.TIMESTAMPNTZ,
    T.TIMESTAMP_S,
    T.TIMESTAMP_MS,
    T.TIMESTAMP_NS,
    T.DATETIME2,
    T.SMALLDATETIME,
}
_TIME = {T.TIME, T.TIMETZ, T.TIME_NS}


def parse_type(text: str, dialect: str | None = None) -> exp.DataType | None:
    """Parse a written type; None when sqlglot cannot read it."""
    try:
        return exp.DataType.build(text, dialect=dialect)
    except (ParseError, ValueError, TypeError):  # TypeError: e.g. DuckDB's `INT[3]`
        return None


def canonical(dtype: exp.DataType) -> str:
    """A dialect-neutral rendering, equal for every spelling of one type."""
    return dtype.sql()


@lru_cache(maxsize=4096)
def family(type_sql: str | None) -> str:
    """The family of a canonical type: numeric, text, date, timestamp, time, boolean, …"""
    if not type_sql:
        return "unknown"
    dtype = parse_type(type_sql)
    if dtype is None:
        return "unknown"
    return _family(dtype)


def _family(dtype: exp.DataType) -> str:
    kind = dtype.this
    if kind in _INT_RANK or kind in _FLOAT_RANK or kind in _DECIMALS:
        return "numeric"
    if kind in _TEXT:
        return "text"
    if kind in _DATE:
        return "date"
    if kind in _TIMESTAMP:
        return "timestamp"
    if kind in _TIME:
        return "time"
    if kind == T.BOOLEAN:
        return "boolean"
    if kind in (T.ARRAY, T.LIST):
        return "array"
    if kind in (T.STRUCT, T.OBJECT):
        return "struct"
    if kind == T.MAP:
        return "map"
    if kind in (T.JSON, T.JSONB, T.VARIANT):
        return "json"
    if kind in (T.BINARY, T.VARBINARY, T.BLOB):
        return "binary"
    return "other"


def compare(before: str, after: str) -> str:
    """Classify a type change between two canonical types (see the module docstring)."""
    if before == after:
        return "alias"
    old, new = parse_type(before), parse_type(after)
    if old is None or new is None:
        return "unknown"
    fam_old, fam_new = _family(old), _family(new)
    if "other" in (fam_old, fam_new):
        return "unknown"  # user-defined or exotic types: compared as text only
    if (fam_old, fam_new) == ("date", "timestamp"):
        return "widened"
    if (fam_old, fam_new) == ("timestamp", "date"):
        return "narrowed"
    if fam_old == fam_new and fam_old in ("struct", "array"):
        return _nested(old, new)
    if fam_old != fam_new or fam_old in ("other", "map"):
        return "incompatible"
    if fam_old == "numeric":
        return _numeric(old, new)
    if fam_old == "text":
        return _text(old, new)
    return "widened" if new.this in (T.TIMESTAMPTZ, T.TIMESTAMP) else "narrowed"


_SEVERITY = ["alias", "unknown", "widened", "narrowed", "nested_removed", "incompatible"]


def _nested(old: exp.DataType, new: exp.DataType) -> str:
    """Structs compare field by field; arrays by element type. The worst verdict wins."""
    if old.this in (T.ARRAY, T.LIST):
        if not old.expressions or not new.expressions:
            return "alias" if old == new else "incompatible"
        verdict = compare(canonical(old.expressions[0]), canonical(new.expressions[0]))
        return verdict if verdict != "alias" else "alias"
    before = _fields(old)
    after = _fields(new)
    if any(name not in after for name in before):
        return "nested_removed"
    verdicts = [compare(canonical(before[n]), canonical(after[n])) for n in before]
    if len(after) > len(before):
        verdicts.append("widened")
    return max(verdicts, key=_SEVERITY.index, default="alias")


def _fields(dtype: exp.DataType) -> dict[str, exp.DataType]:
    out = {}
    for field in dtype.expressions:
        if isinstance(field, exp.ColumnDef) and isinstance(field.args.get("kind"), exp.DataType):
            out[field.name] = field.args["kind"]
    return out


ELEMENT = "[]"  # a field path step into an array's elements


def field_type(type_sql: str | None, path: tuple[str, ...], fold: bool = False) -> tuple[str, str]:
    """Follow a field path through a canonical type.

    Returns ("ok", the field's type), ("missing", the step a struct lacks), ("scalar", the
    step that reads into a type without fields) or ("unknown", "") when a type on the way
    is not modelled (JSON, VARIANT, MAP, user-defined, not known). ``fold`` matches field
    names case-insensitively (DuckDB).
    """
    dtype = parse_type(type_sql) if type_sql else None
    for step in path:
        if dtype is None:
            return "unknown", ""
        kind = _family(dtype)
        if step == ELEMENT:
            if kind != "array":
                return ("unknown", "") if kind in ("json", "other", "map") else ("scalar", step)
            dtype = dtype.expressions[0] if dtype.expressions else None
            continue
        if kind in ("json", "other", "map", "unknown") or (
            kind == "struct" and not dtype.expressions  # OBJECT/STRUCT without a schema
        ):
            return "unknown", ""
        if kind != "struct":
            return "scalar", step
        fields = _fields(dtype)
        found = fields.get(step)
        if found is None and fold:
            found = next((t for n, t in fields.items() if n.lower() == step.lower()), None)
        if found is None:
            return "missing", step
        dtype = found
    return ("ok", canonical(dtype)) if dtype is not None else ("unknown", "")


# Families DuckDB's UNPIVOT stacks into one column without an explicit cast (checked by
# execution: text never mixes with another family; booleans go with numbers).
_STACKABLE = [{"numeric", "boolean"}, {"date", "timestamp"}, {"text"}, {"time"}]


def stackable(types: list[str | None]) -> bool:
    """Whether columns of these types stack into one (DuckDB's UNPIVOT); unknown types
    are assumed to fit."""
    known = {family(t) for t in types} - {"unknown"}
    return not known or any(known <= group for group in _STACKABLE)


def struct_fields(type_sql: str | None) -> dict[str, str] | None:
    """A struct type's fields and their canonical types, in order (None: not a struct)."""
    dtype = parse_type(type_sql) if type_sql else None
    if dtype is None or _family(dtype) != "struct":
        return None
    return {name: canonical(field) for name, field in _fields(dtype).items()}


def struct_type(fields: list[tuple[str, str | None]]) -> str | None:
    """The canonical type of a struct built in SQL (``{'a': x}``, ``STRUCT(x AS a)``) from
    its field names and types (None: unknown)."""
    parts = []
    for name, type_sql in fields:
        quoted = '"' + name.replace('"', '""') + '"'
        parts.append(f"{quoted} {type_sql or 'UNKNOWN'}")
    dtype = parse_type(f"STRUCT<{', '.join(parts)}>")
    return canonical(dtype) if dtype is not None else None


def changed_fields(before: str, after: str) -> set[str] | None:
    """The field paths (``a``, ``pos.lat``) a change between two nested types touches:
    removed, renamed or retyped, looking through arrays and into nested structs; None when
    the types are not both structs of the same array depth (the whole value changed)."""
    return _changed_paths(parse_type(before), parse_type(after))


def _changed_paths(old: exp.DataType | None, new: exp.DataType | None) -> set[str] | None:
    while old is not None and new is not None and old.this in (T.ARRAY, T.LIST):
        if new.this not in (T.ARRAY, T.LIST) or not old.expressions or not new.expressions:
            return None
        old, new = old.expressions[0], new.expressions[0]
    if old is None or new is None or _family(old) != "struct" or _family(new) != "struct":
        return None
    was, now = _fields(old), _fields(new)
    if not was or not now:
        return None
    touched: set[str] = set()
    for name, dtype in was.items():
        if name not in now:
            touched.add(name)
        elif now[name] != dtype:
            inner = _changed_paths(dtype, now[name])
            touched |= {name} if inner is None else {f"{name}.{p}" for p in inner}
    return touched


def paths_meet(read: str, changed: str) -> bool:
    """Whether reading field path ``read`` sees a change at ``changed`` (the same field,
    a field inside it, or the struct holding it)."""
    return read == changed or read.startswith(changed + ".") or changed.startswith(read + ".")


def _params(dtype: exp.DataType) -> list[int]:
    out = []
    for param in dtype.expressions:
        value = param.this if isinstance(param, exp.DataTypeParam) else param
        try:
            out.append(int(value.name if isinstance(value, exp.Expr) else value))
        except (TypeError, ValueError):
            return []
    return out


def _numeric(old: exp.DataType, new: exp.DataType) -> str:
    digits_old, scale_old = _digits(old)
    digits_new, scale_new = _digits(new)
    if new.this in _FLOAT_RANK and old.this not in _FLOAT_RANK:
        return "widened"  # every integer/decimal has a float value (rounding aside)
    if old.this in _FLOAT_RANK and new.this not in _FLOAT_RANK:
        return "narrowed"
    if old.this in _FLOAT_RANK:
        return "widened" if _FLOAT_RANK[new.this] >= _FLOAT_RANK[old.this] else "narrowed"
    fits = digits_new - scale_new >= digits_old - scale_old and scale_new >= scale_old
    return "widened" if fits else "narrowed"


def _digits(dtype: exp.DataType) -> tuple[int, int]:
    """(total digits, scale) of an exact numeric type."""
    if dtype.this in _INT_RANK:
        return _INT_DIGITS[_INT_RANK[dtype.this]], 0
    params = _params(dtype)
    precision = params[0] if params else 38
    scale = params[1] if len(params) > 1 else 0
    return precision, scale


def _text(old: exp.DataType, new: exp.DataType) -> str:
    if not _params(new) and not _params(old):
        return "alias"  # varchar and text without a length are the same type where it matters
    if new.this in _UNBOUNDED_TEXT or not _params(new):
        return "widened"
    if old.this in _UNBOUNDED_TEXT or not _params(old):
        return "narrowed"
    return "widened" if _params(new)[0] >= _params(old)[0] else "narrowed"
