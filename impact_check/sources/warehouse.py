"""Tables the repository does not define, read from the warehouse's ``information_schema``.

Sources loaded by other tools (Fivetran, Airbyte, a Spark job) exist only in the warehouse.
Their columns and types let ``SELECT *`` over them expand and their column references be
checked: the fragment's dataset nodes feed the catalog (check.py passes them to the loader
for relations neither revision defines) as well as the graph.

Locations: ``postgres`` (the libpq connection string comes from the environment variable
named by ``options.dsn_env`` or ``token_env``) and ``duckdb:path/to.db`` (opened read-only).
Other engines plug in through ``ENGINES``. Options: ``schemas`` (only these),
``exclude_schemas``, ``include_catalog`` (keep the database name in relation names).
Reads run in a read-only session. The last good answer is kept in the sources' shared cache
(sources/http.ResponseCache, keyed by location and options); ``--offline`` uses only the
cache, and a failed read falls back to it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.errors import SourceError
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.http import ResponseCache
from impact_check.sources.jsonfiles import resolve

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "warehouse"
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")


@dataclass
class Relation:
    """A table or view as the warehouse lists it."""

    catalog: str
    schema: str
    name: str
    kind: str  # table | view
    columns: list[tuple[str, str | None]] = field(default_factory=list)


Reader = Callable[["LineageSource", SourceContext], list[Relation]]


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """The warehouse's relations as dataset nodes with columns (from the cache if need be)."""
    engine = spec.location.split(":", 1)[0].lower()
    reader = ENGINES.get(engine)
    if reader is None:
        known = ", ".join(sorted(ENGINES))
        raise SourceError(f"warehouse {spec.location!r}: unknown engine {engine!r} ({known})")
    fragment = GraphFragment(f"{spec.kind}:{spec.location}", spec.kind)
    cache = ResponseCache(ctx.cache_dir) if ctx.cache_dir is not None and ctx.use_cache else None
    key = cache.key("information_schema", spec.location, spec.options, None) if cache else ""
    if ctx.offline:
        cached = _from_cache(cache, key)
        if cached is None:
            raise SourceError(f"warehouse {spec.location}: offline and no cached answer")
        relations, fetched_at = cached
        fragment.status, fragment.detail = "cached", f"offline: cached {fetched_at}"
    else:
        try:
            relations = reader(spec, ctx)
        except SourceError as err:
            cached = _from_cache(cache, key)
            if cached is None:
                raise
            relations, fetched_at = cached
            fragment.status, fragment.detail = "cached", f"{err}; using the answer of {fetched_at}"
        else:
            if cache is not None:
                cache.put(key, spec.location, _payload(relations))
    _fill(fragment, relations, spec, ctx)
    return fragment


def _fill(
    fragment: GraphFragment, relations: list[Relation], spec: LineageSource, ctx: SourceContext
) -> None:
    aliases = {**ctx.aliases, **spec.aliases}
    keep_catalog = bool(spec.options.get("include_catalog"))
    for rel in relations:
        parts = [rel.schema, rel.name]
        if spec.location in aliases:
            parts = [aliases[spec.location], *parts] if aliases[spec.location] else parts
        elif keep_catalog:
            parts = [rel.catalog, *parts]
        node = FragmentNode(".".join(parts), rel.kind, ORIGIN, name=rel.name)
        node.columns = dict(rel.columns)
        node.attrs["warehouse"] = spec.location
        fragment.node(node)
    fragment.count("warehouse relations", len(relations))


def external_relations(fragments: list[GraphFragment]) -> dict[str, dict[str, str | None]]:
    """Relation -> columns and types, from the dataset nodes of catalog-feeding fragments."""
    out: dict[str, dict[str, str | None]] = {}
    for fragment in fragments:
        if fragment.status in ("failed", "skipped"):
            continue
        for node in fragment.nodes:
            if node.columns and "#" not in node.id and node.id not in out:
                out[node.id] = dict(node.columns)
    return out


def _schema_filter(spec: LineageSource) -> tuple[list[str], list[str]]:
    include = [str(s) for s in spec.options.get("schemas") or []]
    exclude = [str(s) for s in spec.options.get("exclude_schemas") or []]
    return include, [*_SYSTEM_SCHEMAS, *exclude]


def _timeout(spec: LineageSource, ctx: SourceContext) -> float:
    return spec.timeout or ctx.timeout


# --- PostgreSQL -----------------------------------------------------------------------

_PG_QUERY = """
SELECT c.table_catalog, c.table_schema, c.table_name, t.table_type, c.column_name,
       c.data_type, c.udt_name, c.character_maximum_length, c.numeric_precision,
       c.numeric_scale
FROM information_schema.columns c
JOIN information_schema.tables t
  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema
 AND t.table_name = c.table_name
WHERE c.table_schema <> ALL(%(exclude)s) AND c.table_schema NOT LIKE 'pg\\_%%'
  AND (cardinality(%(include)s::text[]) = 0 OR c.table_schema = ANY(%(include)s))
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""


def _postgres(spec: LineageSource, ctx: SourceContext) -> list[Relation]:
    env = spec.options.get("dsn_env") or spec.token_env
    if not env:
        raise SourceError(
            f"warehouse {spec.location}: name the environment variable holding the "
            "connection string in options.dsn_env"
        )
    dsn = os.environ.get(str(env))
    if not dsn:
        raise SourceError(f"warehouse {spec.location}: environment variable {env} is not set")
    try:
        import psycopg
    except ImportError as err:
        raise SourceError(
            "warehouse postgres needs psycopg: pip install 'impact-check[postgres]'"
        ) from err
    include, exclude = _schema_filter(spec)
    timeout = _timeout(spec, ctx)
    options = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
    try:
        with psycopg.connect(
            dsn, connect_timeout=max(1, int(timeout)), options=options, autocommit=True
        ) as conn:
            rows = conn.execute(_PG_QUERY, {"include": include, "exclude": exclude}).fetchall()
    except psycopg.Error as err:  # the message names host/db, never the password
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(f"warehouse {spec.location} (${env}): {first}") from err
    return _relations((r[0], r[1], r[2], r[3], r[4], _pg_type(*r[5:])) for r in rows)


def _pg_type(
    data_type: str, udt: str, length: int | None, precision: int | None, scale: int | None
) -> str:
    if data_type == "ARRAY":
        return f"{udt.lstrip('_')}[]"
    if data_type == "USER-DEFINED":
        return udt
    if length and data_type in ("character varying", "character"):
        return f"{data_type}({length})"
    if precision is not None and data_type == "numeric":
        return f"numeric({precision},{scale or 0})"
    return data_type


# --- DuckDB ---------------------------------------------------------------------------

_DUCKDB_QUERY = """
SELECT c.table_catalog, c.table_schema, c.table_name, t.table_type, c.column_name, c.data_type
FROM information_schema.columns c
JOIN information_schema.tables t
  ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema
 AND t.table_name = c.table_name
WHERE c.table_catalog = current_database() AND c.table_schema NOT IN ({exclude})
  {include}
ORDER BY c.table_schema, c.table_name, c.ordinal_position
"""


def _duckdb(spec: LineageSource, ctx: SourceContext) -> list[Relation]:
    _, _, location = spec.location.partition(":")
    if not location:
        raise SourceError(f"warehouse {spec.location!r}: expected duckdb:PATH")
    path = resolve(location, ctx.root)
    if not path.is_file():
        raise SourceError(f"warehouse {spec.location}: {path}: no such file")
    try:
        import duckdb
    except ImportError as err:
        raise SourceError(
            "warehouse duckdb needs duckdb: pip install 'impact-check[duckdb]'"
        ) from err
    include, exclude = _schema_filter(spec)
    query = _DUCKDB_QUERY.format(
        exclude=", ".join("?" for _ in exclude),
        include=f"AND c.table_schema IN ({', '.join('?' for _ in include)})" if include else "",
    )
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            rows = conn.execute(query, [*exclude, *include]).fetchall()
    except duckdb.Error as err:
        raise SourceError(f"warehouse {spec.location}: {err}") from err
    # DuckDB matches identifiers case-insensitively, quoted or not: fold like the loader
    return _relations(
        (r[0].lower(), r[1].lower(), r[2].lower(), r[3], r[4].lower(), r[5]) for r in rows
    )


def _relations(rows: Any) -> list[Relation]:
    by_name: dict[tuple[str, str, str], Relation] = {}
    for catalog, schema, table, table_type, column, column_type in rows:
        key = (catalog, schema, table)
        rel = by_name.get(key)
        if rel is None:
            kind = "view" if "VIEW" in str(table_type).upper() else "table"
            rel = by_name[key] = Relation(catalog, schema, table, kind)
        rel.columns.append((column, column_type))
    return list(by_name.values())


ENGINES: dict[str, Reader] = {"postgres": _postgres, "postgresql": _postgres, "duckdb": _duckdb}


# --- cache (the lineage sources' shared last-good-answer cache) ----------------------


def _payload(relations: list[Relation]) -> dict[str, Any]:
    return {
        "fetched_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "relations": [
            [r.catalog, r.schema, r.name, r.kind, [list(c) for c in r.columns]] for r in relations
        ],
    }


def _from_cache(cache: ResponseCache | None, key: str) -> tuple[list[Relation], str] | None:
    """The cached relations, or None (the cache lives in the checked tree: untrusted)."""
    body = cache.get(key) if cache is not None else None
    if not isinstance(body, dict):
        return None
    try:
        relations = [
            Relation(str(c), str(s), str(n), str(k), [(str(col), typ) for col, typ in cols])
            for c, s, n, k, cols in body["relations"]
        ]
    except (KeyError, TypeError, ValueError):
        return None
    return relations, str(body.get("fetched_at", "at an unknown time"))
