"""What dbt puts in a model's Jinja context besides ref/source/config, as the checker can
give it without a warehouse: adapters and their dialects, dbt's cross-database macros
(``dbt.type_timestamp()``, ``dbt.date_trunc(…)``, …) written per adapter, relations,
``api``, ``exceptions``, ``modules``, ``run_started_at`` and the serialisation helpers.

Nothing here touches a database: ``run_query`` and ``statement`` return nothing, as they do
while dbt parses a project (``execute`` is false), and ``adapter.get_columns_in_relation``
returns no columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

# dbt adapter type -> sqlglot dialect
ADAPTER_DIALECTS = {
    "duckdb": "duckdb",
    "motherduck": "duckdb",
    "postgres": "postgres",
    "alloydb": "postgres",
    "greenplum": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "spark": "spark",
    "glue": "spark",
    "trino": "trino",
    "starburst": "trino",
    "presto": "presto",
    "athena": "athena",
    "clickhouse": "clickhouse",
    "sqlserver": "tsql",
    "synapse": "tsql",
    "fabric": "fabric",
    "oracle": "oracle",
    "mysql": "mysql",
    "mariadb": "mysql",
    "singlestore": "mysql",
    "tidb": "mysql",
    "materialize": "materialize",
    "risingwave": "risingwave",
    "starrocks": "starrocks",
    "doris": "doris",
    "teradata": "teradata",
    "exasol": "exasol",
    "dremio": "dremio",
    "sqlite": "sqlite",
    "hive": "hive",
    "impala": "hive",
}
_DIALECT_ADAPTERS = {"tsql": "sqlserver"}
# adapter -> the adapters whose macros it inherits (adapter.dispatch tries them in order)
_PARENTS = {
    "redshift": ["postgres"],
    "materialize": ["postgres"],
    "risingwave": ["postgres"],
    "alloydb": ["postgres"],
    "greenplum": ["postgres"],
    "databricks": ["spark"],
    "glue": ["spark"],
    "synapse": ["fabric", "sqlserver"],
    "fabric": ["sqlserver"],
    "starburst": ["trino"],
    "motherduck": ["duckdb"],
}


def adapter_for_dialect(dialect: str) -> str:
    """The dbt adapter type a sqlglot dialect stands for (``target.type`` without a profile)."""
    name = dialect.split(",", 1)[0].strip().lower()
    return _DIALECT_ADAPTERS.get(name, name or "duckdb")


def dialect_for_adapter(adapter: str) -> str | None:
    """The sqlglot dialect of a dbt adapter type, None when sqlglot has none."""
    return ADAPTER_DIALECTS.get(adapter.lower())


def dispatch_prefixes(adapter: str) -> list[str]:
    """``adapter.dispatch`` candidates' prefixes: the adapter, its parents, ``default``."""
    return [adapter, *_PARENTS.get(adapter, []), "default"]


# -- relations ----------------------------------------------------------------------------


class Relation(Mapping[str, Any]):
    """What ``ref()``, ``source()``, ``this`` and ``api.Relation.create`` return: renders as
    the checker's canonical name, with dbt's attributes, and is a mapping with dbt's
    ``metadata.type`` (packages check ``obj is mapping and … endswith('Relation')``)."""

    def __init__(
        self, database: str | None, schema: str | None, identifier: str | None, kind: str = ""
    ) -> None:
        self.database = database or None
        self.schema = schema or None
        self.identifier = identifier or None
        self.type = kind or None

    @classmethod
    def parse(cls, name: str) -> Relation:
        """A relation from ``[database.]schema.identifier`` (or a bare name)."""
        parts = str(name).split(".")
        parts = [""] * (3 - len(parts)) + parts if len(parts) < 3 else parts[-3:]
        return cls(parts[0], parts[1], parts[2])

    @property
    def name(self) -> str | None:
        return self.identifier

    @property
    def table(self) -> str | None:
        return self.identifier

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    def include(
        self, database: bool = True, schema: bool = True, identifier: bool = True
    ) -> Relation:
        return Relation(
            self.database if database else None,
            self.schema if schema else None,
            self.identifier if identifier else None,
            self.type or "",
        )

    def quote(self, *args: Any, **kwargs: Any) -> Relation:
        return self

    def incorporate(self, *args: Any, **kwargs: Any) -> Relation:
        path = kwargs.get("path") or {}
        if isinstance(path, Mapping):
            return Relation(
                path.get("database", self.database),
                path.get("schema", self.schema),
                path.get("identifier", self.identifier),
                str(kwargs.get("type") or self.type or ""),
            )
        return self

    def render(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return ".".join(_quoted(p) for p in (self.database, self.schema, self.identifier) if p)

    def __html__(self) -> str:
        return str(self)

    def _fields(self) -> dict[str, Any]:
        return {
            "metadata": {"type": "BaseRelation"},
            "path": {
                "database": self.database,
                "schema": self.schema,
                "identifier": self.identifier,
            },
            "type": self.type,
            "quote_policy": {"database": False, "schema": False, "identifier": False},
            "include_policy": {"database": True, "schema": True, "identifier": True},
        }

    def __getitem__(self, key: str) -> Any:
        return self._fields()[key]

    def __iter__(self) -> Any:
        return iter(self._fields())

    def __len__(self) -> int:
        return len(self._fields())

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _quoted(part: str) -> str:
    """A name part as SQL: quoted when it is no plain identifier (``"spell.episodes"``)."""
    if _PLAIN.fullmatch(part) or part.startswith(('"', "`", "[")) or "__impact" in part:
        return part
    return '"' + part.replace('"', '""') + '"'


class _RelationApi:
    """``api.Relation``."""

    def create(
        self,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        **_: Any,
    ) -> Relation:
        return Relation(database, schema, identifier, type or "")


class ColumnInfo:
    """``api.Column``: a column with a name and a data type (no warehouse behind it)."""

    def __init__(self, column: str = "", dtype: str = "", *_: Any, **__: Any) -> None:
        self.column = self.name = str(column)
        self.dtype = self.data_type = str(dtype)

    @property
    def quoted(self) -> str:
        return f'"{self.name}"'

    def is_string(self) -> bool:
        return self.dtype.lower() in ("text", "varchar", "string", "character varying")

    def is_number(self) -> bool:
        return self.is_numeric() or self.is_integer() or self.is_float()

    def is_numeric(self) -> bool:
        return self.dtype.lower().startswith(("numeric", "decimal", "number"))

    def is_integer(self) -> bool:
        return self.dtype.lower() in ("int", "integer", "bigint", "smallint", "int64")

    def is_float(self) -> bool:
        return self.dtype.lower().startswith(("float", "double", "real"))


class _ColumnApi:
    """``api.Column``: type names as the adapter spells them."""

    def __init__(self, adapter: str) -> None:
        self._adapter = adapter

    def translate_type(self, dtype: str) -> str:
        return type_name(self._adapter, str(dtype))

    def numeric_type(self, dtype: str, precision: Any = None, scale: Any = None) -> str:
        if precision is None or scale is None:
            return str(dtype)
        return f"{dtype}({precision},{scale})"

    def string_type(self, size: int) -> str:
        return f"character varying({size})"

    def create(self, name: str, dtype: str) -> ColumnInfo:
        return ColumnInfo(name, self.translate_type(dtype))

    def __call__(self, *args: Any, **kwargs: Any) -> ColumnInfo:
        return ColumnInfo(*args, **kwargs)


# -- dbt's cross-database macros -------------------------------------------------------------

_TYPES: dict[str, dict[str, str]] = {
    "default": {
        "string": "text",
        "timestamp": "timestamp",
        "float": "float",
        "numeric": "numeric(28,6)",
        "bigint": "bigint",
        "int": "integer",
        "integer": "integer",
        "boolean": "boolean",
    },
    "bigquery": {
        "string": "string",
        "text": "string",
        "float": "float64",
        "numeric": "numeric",
        "bigint": "int64",
        "int": "int64",
        "integer": "int64",
    },
    "snowflake": {"string": "varchar", "timestamp": "timestamp_ntz", "numeric": "number(28,6)"},
    "redshift": {"string": "varchar", "float": "float8"},
    "databricks": {"string": "string", "float": "double", "numeric": "decimal(28,6)"},
    "spark": {"string": "string", "float": "double", "numeric": "decimal(28,6)"},
    "trino": {"string": "varchar", "float": "double", "numeric": "decimal(28,6)"},
    "athena": {"string": "varchar", "float": "double", "numeric": "decimal(28,6)"},
    "sqlserver": {"string": "varchar(8000)", "timestamp": "datetime2", "boolean": "bit"},
    "duckdb": {"string": "varchar"},
    "clickhouse": {"string": "String", "timestamp": "DateTime", "int": "Int32"},
}


def type_name(adapter: str, label: str) -> str:
    """The adapter's spelling of a generic type (``string``, ``timestamp``, …)."""
    key = label.lower()
    for candidate in dispatch_prefixes(adapter):
        spelled = _TYPES.get(candidate, {}).get(key)
        if spelled is not None:
            return spelled
    return label


def _q(text: Any) -> str:
    return str(text).strip().strip("'\"")


class CrossDatabase:
    """dbt's cross-database macros for one adapter, as SQL that adapter accepts.

    They are dbt's own (``dbt.date_trunc``) and also global names (``date_trunc(…)``); a
    project or package that defines ``<adapter>__name`` or ``default__name`` wins through
    ``adapter.dispatch`` before these are tried.
    """

    def __init__(self, adapter: str) -> None:
        self.adapter = adapter
        self.family = next((p for p in dispatch_prefixes(adapter) if p in _FAMILIES), "default")

    def macros(self) -> dict[str, Callable[..., str]]:
        """Macro name -> implementation (``type_string``, ``dateadd``, …)."""
        out: dict[str, Callable[..., str]] = {}
        for label in ("string", "timestamp", "float", "numeric", "bigint", "int", "boolean"):
            out[f"type_{label}"] = self._type(label)
        for name in _MACROS:
            out[name] = getattr(self, name)
        out["except"] = self.except_
        return out

    def _type(self, label: str) -> Callable[..., str]:
        return lambda *_, **__: type_name(self.adapter, label)

    def date_trunc(self, datepart: Any, date: Any) -> str:
        if self.family == "bigquery":
            return f"timestamp_trunc(cast({date} as timestamp), {_q(datepart)})"
        if self.family == "sqlserver":
            return f"datetrunc({_q(datepart)}, {date})"
        return f"date_trunc('{_q(datepart)}', {date})"

    def dateadd(self, datepart: Any, interval: Any, from_date_or_timestamp: Any) -> str:
        part, when = _q(datepart), from_date_or_timestamp
        family = self.family
        if family == "bigquery":
            return f"datetime_add(cast({when} as datetime), interval {interval} {part})"
        if family == "postgres":
            return f"{when} + ((interval '1 {part}') * ({interval}))"
        if family == "duckdb":
            return f"({when} + interval ({interval}) {part})"
        if family in ("trino", "athena"):
            return f"date_add('{part}', {interval}, {when})"
        return f"dateadd({part}, {interval}, {when})"

    def datediff(self, first_date: Any, second_date: Any, datepart: Any) -> str:
        part = _q(datepart)
        family = self.family
        if family == "bigquery":
            return (
                f"datetime_diff(cast({second_date} as datetime), "
                f"cast({first_date} as datetime), {part})"
            )
        if family in ("duckdb", "trino", "athena"):
            first, second = f"cast({first_date} as timestamp)", f"cast({second_date} as timestamp)"
            return f"date_diff('{part}', {first}, {second})"
        if family == "postgres":
            return (
                f"(date_part('{part}', (cast({second_date} as timestamp) - "
                f"cast({first_date} as timestamp))))"
            )
        return f"datediff({part}, {first_date}, {second_date})"

    def last_day(self, date: Any, datepart: Any) -> str:
        start = self.date_trunc(datepart, date)
        return f"cast({self.dateadd('day', '-1', self.dateadd(datepart, '1', start))} as date)"

    def current_timestamp(self, *_: Any) -> str:
        return "current_timestamp()" if self.family == "bigquery" else "current_timestamp"

    current_timestamp_backcompat = current_timestamp
    current_timestamp_in_utc_backcompat = current_timestamp
    snapshot_get_time = current_timestamp

    def concat(self, fields: Any) -> str:
        items = [str(f) for f in _listed(fields)]
        if self.family in ("bigquery", "snowflake", "spark", "sqlserver"):
            return f"concat({', '.join(items)})"
        return " || ".join(items) or "''"

    def hash(self, field: Any) -> str:
        text = f"cast({field} as {type_name(self.adapter, 'string')})"
        if self.family == "bigquery":
            return f"to_hex(md5({text}))"
        return f"md5({text})"

    def cast(self, field: Any, type: Any) -> str:
        return f"cast({field} as {type})"

    def safe_cast(self, field: Any, type: Any) -> str:
        if self.family == "bigquery":
            return f"safe_cast({field} as {type})"
        if self.family in ("snowflake", "duckdb", "trino", "athena", "spark", "sqlserver"):
            return f"try_cast({field} as {type})"
        return f"cast({field} as {type})"

    def split_part(self, string_text: Any, delimiter_text: Any, part_number: Any) -> str:
        if self.family == "bigquery":
            return f"split({string_text}, {delimiter_text})[safe_offset({part_number} - 1)]"
        return f"split_part({string_text}, {delimiter_text}, {part_number})"

    def listagg(
        self,
        measure: Any,
        delimiter_text: Any = "','",
        order_by_clause: Any = None,
        limit_num: Any = None,
    ) -> str:
        order = f" {order_by_clause}" if order_by_clause else ""
        if self.family in ("postgres", "duckdb", "bigquery"):
            return f"string_agg({measure}, {delimiter_text}{order})"
        within = f" within group ({order_by_clause})" if order_by_clause else ""
        return f"listagg({measure}, {delimiter_text}){within}"

    def string_literal(self, value: Any) -> str:
        return "'" + str(value).replace("'", "''") + "'"

    def escape_single_quotes(self, expression: Any) -> str:
        if self.family == "bigquery":
            return str(expression).replace("'", "\\'")
        return str(expression).replace("'", "''")

    def position(self, substring_text: Any, string_text: Any) -> str:
        if self.family == "bigquery":
            return f"strpos({string_text}, {substring_text})"
        return f"position({substring_text} in {string_text})"

    def replace(self, field: Any, old_chars: Any, new_chars: Any) -> str:
        return f"replace({field}, {old_chars}, {new_chars})"

    def right(self, string_text: Any, length_expression: Any) -> str:
        return f"right({string_text}, {length_expression})"

    def length(self, expression: Any) -> str:
        return f"length({expression})"

    def any_value(self, expression: Any) -> str:
        return f"min({expression})" if self.family == "postgres" else f"any_value({expression})"

    def bool_or(self, expression: Any) -> str:
        if self.family == "snowflake":
            return f"boolor_agg({expression})"
        if self.family == "bigquery":
            return f"logical_or({expression})"
        return f"bool_or({expression})"

    def cast_bool_to_text(self, field: Any) -> str:
        return f"cast({field} as {type_name(self.adapter, 'string')})"

    def array_construct(self, inputs: Any = (), data_type: Any = None) -> str:
        items = ", ".join(str(i) for i in _listed(inputs))
        if self.family == "bigquery":
            return f"[{items}]"
        if self.family == "snowflake":
            return f"array_construct({items})"
        return f"array[{items}]"

    def array_append(self, array: Any, new_element: Any) -> str:
        if self.family in ("bigquery", "snowflake"):
            return f"array_concat({array}, [{new_element}])"
        return f"array_append({array}, {new_element})"

    def array_concat(self, array_1: Any, array_2: Any) -> str:
        if self.family in ("postgres", "duckdb"):
            return f"array_cat({array_1}, {array_2})"
        return f"array_concat({array_1}, {array_2})"

    def date(self, year: Any, month: Any, day: Any) -> str:
        return f"cast('{int(year):04d}-{int(month):02d}-{int(day):02d}' as date)"

    def equals(self, expr1: Any, expr2: Any) -> str:
        return f"(({expr1} = {expr2}) or ({expr1} is null and {expr2} is null))"

    def except_(self) -> str:
        return "except distinct" if self.family == "bigquery" else "except"

    def intersect(self) -> str:
        return "intersect distinct" if self.family == "bigquery" else "intersect"

    def date_spine(self, datepart: Any, start_date: Any, end_date: Any) -> str:
        # One output column, date_<datepart>, computed from the start date: what the
        # spine's readers bind to (the rows themselves need the warehouse).
        timestamp = type_name(self.adapter, "timestamp")
        return f"select cast({start_date} as {timestamp}) as date_{_q(datepart)}"

    def generate_series(self, upper_bound: Any) -> str:
        return f"select 1 as generated_number where 1 <= {upper_bound}"


_MACROS = (
    "date_trunc",
    "dateadd",
    "datediff",
    "last_day",
    "current_timestamp",
    "current_timestamp_backcompat",
    "current_timestamp_in_utc_backcompat",
    "snapshot_get_time",
    "concat",
    "hash",
    "cast",
    "safe_cast",
    "split_part",
    "listagg",
    "string_literal",
    "escape_single_quotes",
    "position",
    "replace",
    "right",
    "length",
    "any_value",
    "bool_or",
    "cast_bool_to_text",
    "array_construct",
    "array_append",
    "array_concat",
    "date",
    "equals",
    "intersect",
    "date_spine",
    "generate_series",
)
_FAMILIES = {
    "postgres",
    "duckdb",
    "bigquery",
    "snowflake",
    "redshift",
    "spark",
    "trino",
    "athena",
    "sqlserver",
}


def _listed(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# -- the rest of dbt's context -------------------------------------------------------------


def run_started_at() -> dt.datetime:
    """``run_started_at`` (and ``modules.datetime``'s now): the start of today in UTC, so
    base and head render the same text and cached lineage stays valid for a day."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class _FrozenDatetime(dt.datetime):
    """``modules.datetime.datetime`` whose now() is ``run_started_at``."""

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _FrozenDatetime:  # type: ignore[override]
        start = run_started_at()
        moment = start.astimezone(tz) if tz is not None else start.replace(tzinfo=None)
        return cls(*moment.timetuple()[:6], tzinfo=moment.tzinfo)

    @classmethod
    def utcnow(cls) -> _FrozenDatetime:  # type: ignore[override]
        start = run_started_at()
        return cls(start.year, start.month, start.day)

    @classmethod
    def today(cls) -> _FrozenDatetime:  # type: ignore[override]
        return cls.utcnow()


class _FrozenDate(dt.date):
    """``modules.datetime.date`` whose today() is the day of ``run_started_at``."""

    @classmethod
    def today(cls) -> _FrozenDate:  # type: ignore[override]
        start = run_started_at()
        return cls(start.year, start.month, start.day)


def modules() -> SimpleNamespace:
    """``modules``: datetime (frozen at ``run_started_at``), re, itertools, pytz."""
    datetime_module = SimpleNamespace(
        datetime=_FrozenDatetime,
        date=_FrozenDate,
        time=dt.time,
        timedelta=dt.timedelta,
        timezone=dt.timezone,
        MINYEAR=dt.MINYEAR,
        MAXYEAR=dt.MAXYEAR,
    )
    regex = SimpleNamespace(
        **{
            name: getattr(re, name)
            for name in (
                "compile",
                "search",
                "match",
                "fullmatch",
                "findall",
                "finditer",
                "sub",
                "subn",
                "split",
                "escape",
                "IGNORECASE",
                "I",
                "MULTILINE",
                "M",
                "DOTALL",
                "S",
                "VERBOSE",
                "X",
            )
        }
    )
    tools = SimpleNamespace(
        **{
            name: getattr(itertools, name)
            for name in ("chain", "product", "combinations", "groupby", "islice", "zip_longest")
        }
    )
    return SimpleNamespace(
        datetime=datetime_module, re=regex, itertools=tools, pytz=_pytz(), zoneinfo=_zoneinfo()
    )


def _timezone(name: Any) -> dt.tzinfo:
    """A named time zone (the UTC offset of an unknown name: no error in a template)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def _pytz() -> SimpleNamespace:
    """``modules.pytz``: ``utc`` and ``timezone(name)`` (as zoneinfo zones)."""
    return SimpleNamespace(utc=dt.timezone.utc, UTC=dt.timezone.utc, timezone=_timezone)


def _zoneinfo() -> SimpleNamespace:
    return SimpleNamespace(ZoneInfo=_timezone)


class CompilerError(Exception):
    """``exceptions.raise_compiler_error`` (and friends) called by the project's Jinja."""


class _Exceptions:
    """``exceptions``: the raise_* helpers raise, warn() says nothing."""

    def raise_compiler_error(self, msg: Any = "", node: Any = None) -> None:
        raise CompilerError(f"exceptions.raise_compiler_error: {msg}")

    def raise_not_implemented(self, msg: Any = "") -> None:
        raise CompilerError(f"exceptions.raise_not_implemented: {msg}")

    def raise_database_error(self, msg: Any = "") -> None:
        raise CompilerError(f"exceptions.raise_database_error: {msg}")

    def raise_fail_fast_error(self, msg: Any = "", node: Any = None) -> None:
        raise CompilerError(f"exceptions.raise_fail_fast_error: {msg}")

    def warn(self, msg: Any = "", node: Any = None) -> str:
        return ""

    def warn_snapshot_timestamp_data_types(self, *_: Any, **__: Any) -> str:
        return ""


def _tojson(value: Any, default: Any = None, sort_keys: bool = False) -> str:
    try:
        return json.dumps(value, sort_keys=sort_keys, default=str)
    except (TypeError, ValueError):
        return str(default) if default is not None else ""


def _fromjson(text: Any, default: Any = None) -> Any:
    try:
        return json.loads(str(text))
    except (TypeError, ValueError, RecursionError):
        return default


def _toyaml(value: Any, default: Any = None) -> str:
    import yaml

    try:
        return str(yaml.safe_dump(value, sort_keys=False))
    except yaml.YAMLError:
        return str(default) if default is not None else ""


def _fromyaml(text: Any, default: Any = None) -> Any:
    import yaml

    from impact_check.safeload import LimitExceeded, load_yaml

    try:
        return load_yaml(str(text)).data
    except (yaml.YAMLError, LimitExceeded, RecursionError):
        return default


def _local_md5(text: Any) -> str:
    return hashlib.md5(str(text).encode("utf-8"), usedforsecurity=False).hexdigest()


def _nothing(*_: Any, **__: Any) -> str:
    return ""


def _none(*_: Any, **__: Any) -> None:
    return None


def _empty_list(*_: Any, **__: Any) -> list[Any]:
    return []


def _false(*_: Any, **__: Any) -> bool:
    return False


def _set(value: Iterable[Any] = (), default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def _zip(*args: Any, default: Any = None) -> Any:
    try:
        return list(zip(*args))
    except TypeError:
        return default


def _diff_of_two_dicts(one: Any, two: Any) -> dict[str, Any]:
    if not isinstance(one, Mapping) or not isinstance(two, Mapping):
        return {}
    lowered = {str(k).lower() for k in two}
    return {k: v for k, v in one.items() if str(k).lower() not in lowered}


class EmptyColumn:
    """A column of a query result with no rows."""

    name = ""

    def values(self) -> list[Any]:
        return []

    def values_distinct(self) -> list[Any]:
        return []


class _EmptyColumns(list):  # type: ignore[type-arg]
    """Any column of an empty result: ``table.columns[0].values()`` is ``[]``."""

    def __getitem__(self, key: Any) -> Any:
        return EmptyColumn()


class EmptyTable:
    """What ``run_query`` answers when the checker renders as dbt compiles (``execute``
    true): a result without rows, so macros that read one build their empty form."""

    def __init__(self) -> None:
        self.columns = _EmptyColumns()
        self.rows: list[Any] = []
        self.column_names: list[str] = []

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def print_table(self, *_: Any, **__: Any) -> str:
        return ""


def _empty_table(*_: Any, **__: Any) -> EmptyTable:
    return EmptyTable()


def _empty_result(*_: Any, **__: Any) -> dict[str, Any]:
    return {"data": [], "table": EmptyTable(), "response": None}


def executing_context() -> dict[str, Any]:
    """The names that change when rendering as dbt compiles (``execute`` true)."""
    return {"execute": True, "run_query": _empty_table, "load_result": _empty_result}


def _statement(*_: Any, **kwargs: Any) -> str:
    """``{% call statement(…) %}…{% endcall %}``: nothing runs while parsing."""
    return ""


def quote_character(adapter: str) -> str:
    """The identifier quote of an adapter."""
    family = next((p for p in dispatch_prefixes(adapter) if p in _QUOTES), "default")
    return _QUOTES.get(family, '"')


_QUOTES = {"bigquery": "`", "spark": "`", "mysql": "`", "clickhouse": "`", "default": '"'}


def base_context(adapter: str) -> dict[str, Any]:
    """The names of dbt's context that do not depend on the model or on macros."""
    started = run_started_at()
    return {
        "api": SimpleNamespace(Relation=_RelationApi(), Column=_ColumnApi(adapter)),
        "exceptions": _Exceptions(),
        "modules": modules(),
        "run_started_at": started,
        "invocation_id": "00000000-0000-0000-0000-000000000000",
        "dbt_version": "1.11.0",
        "execute": False,
        "flags": {
            "FULL_REFRESH": False,
            "STORE_FAILURES": False,
            "WHICH": "run",
            "EMPTY": False,
            "STATE_MODIFIED_COMPARE_MORE_UNRENDERED_VALUES": False,
        },
        "graph": {"nodes": {}, "sources": {}, "macros": {}, "exposures": {}, "metrics": {}},
        "selected_resources": [],
        "log": _nothing,
        "print": _nothing,
        "tojson": _tojson,
        "fromjson": _fromjson,
        "toyaml": _toyaml,
        "fromyaml": _fromyaml,
        "local_md5": _local_md5,
        "set": _set,
        "set_strict": _set,
        "try_set": _set,
        "zip": _zip,
        "zip_strict": _zip,
        "try_zip": _zip,
        "diff_of_two_dicts": _diff_of_two_dicts,
        "run_query": _none,
        "statement": _statement,
        "load_result": _none,
        "store_result": _nothing,
        "store_raw_result": _nothing,
        "load_relation": _none,
        "load_cached_relation": _none,
        "doc": _nothing,
        "is_incremental": _false,
        "should_full_refresh": _false,
        "should_store_failures": _false,
        "get_columns_in_query": _empty_list,
    }


__all__ = [
    "ADAPTER_DIALECTS",
    "ColumnInfo",
    "CompilerError",
    "CrossDatabase",
    "Relation",
    "adapter_for_dialect",
    "base_context",
    "dialect_for_adapter",
    "dispatch_prefixes",
    "quote_character",
    "type_name",
]
