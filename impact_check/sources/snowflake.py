"""Snowflake: views outside the repository that depend on the touched tables (with their
DDL), and who really read a touched column in the last days.

Through the Snowflake SQL API (``POST /api/v2/statements``: asynchronous answers polled,
result partitions followed; names and numbers are bind variables, never spliced), as a
role that can read the ``SNOWFLAKE.ACCOUNT_USAGE`` views:

- ``OBJECT_DEPENDENCIES``: objects referencing a touched table (one hop per statement, up to
  ``depth``). A referencing view is a ``view`` node reading the table; its DDL from
  ``GET_DDL('VIEW', …)`` is its ``sql`` (dialect snowflake), bound at head.
- ``ACCESS_HISTORY`` joined to ``QUERY_HISTORY`` (``options.days``, default 30): each
  (user, role, query tag) that read a touched table is a consumer
  ``snowflake:reader/<user>/<role>/<query tag>`` with a ``column`` edge from every column
  it read (``base_objects_accessed``, so reads through views count), the number of
  queries and the last read. ACCESS_HISTORY needs Enterprise edition; it lags up to 3 hours.

Names: Snowflake stores unquoted identifiers upper-cased: ``SHOP.ANALYTICS.ORDERS`` is
``shop.analytics.orders`` (a part with lower-case letters was quoted and stays as written).
A touched ``schema.table`` gets the database ``options.database`` (or ``namespace``);
``aliases`` keyed by the database (lower-cased) or ``snowflake`` map it back.

Auth: ``token_env`` (OAuth, key-pair JWT or programmatic access token; its kind in
``options.token_type``, sent as ``X-Snowflake-Authorization-Token-Type``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.errors import SourceError
from impact_check.identity import canonical_in, name_parts, upper_case_folded
from impact_check.model import column_id
from impact_check.sources.base import GraphFragment, SourceContext, as_object, as_text
from impact_check.sources.collect import Collector, skipped, walk_hops, with_prefix
from impact_check.sources.faults import Faults
from impact_check.sources.http import HttpClient, client_for

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "snowflake"
NO_DATABASE = "touched datasets without a database (set options.database)"
BEYOND_DEPTH = "downstream hops beyond depth not followed"
VIEW_DOMAINS = {"VIEW", "MATERIALIZED VIEW", "SECURE VIEW"}

DEPENDENCIES_SQL = (
    "SELECT referencing_database, referencing_schema, referencing_object_name, "
    "referencing_object_domain, referenced_database, referenced_schema, "
    "referenced_object_name FROM snowflake.account_usage.object_dependencies "
    "WHERE referenced_database || '.' || referenced_schema || '.' || "
    "referenced_object_name IN ({marks})"
)
READERS_SQL = (
    "SELECT ah.user_name, qh.role_name, qh.query_tag, "
    'obj.value:"objectName"::string AS object_name, '
    'col.value:"columnName"::string AS column_name, '
    "COUNT(DISTINCT ah.query_id) AS queries, MAX(ah.query_start_time) AS last_read "
    "FROM snowflake.account_usage.access_history ah "
    "JOIN snowflake.account_usage.query_history qh ON qh.query_id = ah.query_id, "
    "LATERAL FLATTEN(input => ah.base_objects_accessed) obj, "
    'LATERAL FLATTEN(input => obj.value:"columns", outer => TRUE) col '
    "WHERE ah.query_start_time >= DATEADD(day, -?, CURRENT_TIMESTAMP()) "
    'AND obj.value:"objectName"::string IN ({marks}) '
    "GROUP BY 1, 2, 3, 4, 5"
)
DDL_SQL = "SELECT GET_DDL('VIEW', ?)"


def snowflake_name(name: str) -> str:
    """A canonical name as Snowflake spells it: lower-case parts (unquoted identifiers)
    upper-cased; a part with capitals was quoted, and is kept, quoted."""
    out = []
    for part in name_parts(name):
        bare = part.strip('"')
        out.append(bare.upper() if bare == bare.lower() else f'"{bare}"')
    return ".".join(out)


def _quoted(name: str) -> str:
    """``"DB"."SCHEMA"."VIEW"`` for GET_DDL (exact, whatever the case)."""
    return ".".join(p if p.startswith('"') else f'"{p}"' for p in name_parts(name))


@dataclass
class Names:
    aliases: dict[str, str]

    def relation(self, database: str, schema: str, name: str) -> str:
        parts = [upper_case_folded(p) for p in (database, schema, name)]
        return canonical_in(".".join(parts), (parts[0].strip('"'), ORIGIN), self.aliases)

    def dotted(self, full: str) -> str:
        parts = name_parts(full)
        if len(parts) != 3:
            return canonical_in(
                ".".join(upper_case_folded(p) for p in parts), (ORIGIN,), self.aliases
            )
        return self.relation(*parts)


def column_name(value: str) -> str:
    return upper_case_folded(value).strip('"')


@dataclass
class Found:
    """Rows read so far: dependent objects, their DDL, readers."""

    dependents: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (domain, ref)
    edges: set[tuple[str, str]] = field(default_factory=set)  # (referenced, referencing)
    ddl: dict[str, str] = field(default_factory=dict)
    readers: list[dict[str, Any]] = field(default_factory=list)


def add_dependencies(found: Found, rows: list[dict[str, Any]]) -> list[str]:
    """OBJECT_DEPENDENCIES rows; returns the referencing objects (Snowflake names)."""
    out = []
    for row in rows:
        ref = [as_text(row.get(f"REFERENCED_{k}")) for k in ("DATABASE", "SCHEMA", "OBJECT_NAME")]
        by = [as_text(row.get(f"REFERENCING_{k}")) for k in ("DATABASE", "SCHEMA", "OBJECT_NAME")]
        if not all(ref) or not all(by):
            continue
        referenced, referencing = ".".join(map(str, ref)), ".".join(map(str, by))
        domain = (as_text(row.get("REFERENCING_OBJECT_DOMAIN")) or "").upper()
        found.dependents.setdefault(referencing, (domain, referenced))
        found.edges.add((referenced, referencing))
        out.append(referencing)
    return out


def build(found: Found, names: Names, fragment: GraphFragment) -> GraphFragment:
    """The fragment of what was read (pure)."""
    out = Collector(fragment, ORIGIN)
    for name, (domain, _ref) in sorted(found.dependents.items()):
        sql = found.ddl.get(name)
        out.node(
            names.dotted(name),
            "view" if domain in VIEW_DOMAINS else "table",
            name=name,
            attrs={"snowflake_name": name, "domain": domain},
            sql=sql,
            dialect="snowflake" if sql else None,
        )
    for referenced, referencing in sorted(found.edges):
        out.edge(names.dotted(referenced), names.dotted(referencing), "reads")
    for row in found.readers:
        user = as_text(row.get("USER_NAME"))
        table = as_text(row.get("OBJECT_NAME"))
        if not user or not table:
            continue
        role, tag = as_text(row.get("ROLE_NAME")), as_text(row.get("QUERY_TAG"))
        node_id = f"{ORIGIN}:reader/{user}/{role or '-'}/{tag or '-'}"
        node = out.node(
            node_id,
            "application",
            name=f"{user} (role {role or '?'}{f', query tag {tag}' if tag else ''})",
            attrs={"user": user, "role": role, "query_tag": tag, "queries": 0},
        )
        node.attrs["queries"] += _int(row.get("QUERIES"))
        last = as_text(row.get("LAST_READ"))
        if last and last > str(node.attrs.get("last_read") or ""):
            node.attrs["last_read"] = last
        relation = names.dotted(table)
        column = as_text(row.get("COLUMN_NAME"))
        if column:
            out.edge(column_id(relation, column_name(column)), node_id, "column")
        else:
            out.edge(relation, node_id, "reads")
    return out.finish()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------- fetching


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Dependent views and recent readers of ``ctx.touched`` in the Snowflake account at
    ``spec.location`` (``https://<account>.snowflakecomputing.com``)."""
    fragment = GraphFragment(spec.name or f"snowflake:{spec.location}", "snowflake")
    if not ctx.touched:
        return skipped(fragment)
    options = spec.options
    database = str(options.get("database") or spec.namespace or "") or None
    starts = []
    for touched in sorted(ctx.touched):
        full = with_prefix(touched, database, 3)
        if full is None:
            fragment.count(NO_DATABASE)
        else:
            starts.append(snowflake_name(full))
    names = Names({**ctx.aliases, **spec.aliases})
    faults = Faults()
    found = Found()
    with client_for(spec, ctx, base_url=spec.location.rstrip("/")) as client:
        if options.get("token_type"):
            client.headers["X-Snowflake-Authorization-Token-Type"] = str(options["token_type"])
        run = _Statements(client, spec, float(spec.timeout or ctx.timeout))
        if starts and options.get("object_dependencies", True):
            _dependencies(run, starts, spec.depth, found, faults, fragment)
        if starts and options.get("access_history", True):
            days = int(options.get("days", 30))
            marks = ", ".join("?" for _ in starts)
            rows = faults.attempt(
                lambda: run.rows(READERS_SQL.format(marks=marks), [days, *starts])
            )
            found.readers = rows or []
    build(found, names, fragment)
    return faults.finish(fragment, client)


def _dependencies(
    run: _Statements,
    starts: list[str],
    depth: int,
    found: Found,
    faults: Faults,
    fragment: GraphFragment,
) -> None:
    def hop(frontier: list[str]) -> list[str]:
        sql = DEPENDENCIES_SQL.format(marks=", ".join("?" for _ in frontier))
        rows = faults.attempt(lambda: run.rows(sql, frontier))
        return add_dependencies(found, rows or [])

    # OBJECT_DEPENDENCIES stores names as created, without quotes
    raw = [".".join(p.strip('"') for p in name_parts(s)) for s in starts]
    walk_hops(raw, depth, hop, fragment, BEYOND_DEPTH)
    views = sorted(n for n, (domain, _r) in found.dependents.items() if domain in VIEW_DOMAINS)
    answers = run.client.map(
        lambda v: faults.attempt(lambda: run.rows(DDL_SQL, [_quoted(v)])), views
    )
    for view, rows in zip(views, answers):
        if rows:
            ddl = next((as_text(v) for v in rows[0].values()), None)
            if ddl:
                found.ddl[view] = ddl


@dataclass
class _Statements:
    """Runs statements through the SQL API and returns their rows as dicts (upper-case
    column names, as Snowflake reports them)."""

    client: HttpClient
    spec: LineageSource
    timeout: float

    def rows(self, sql: str, binds: list[Any]) -> list[dict[str, Any]]:
        key = [sql, binds, self.spec.options.get("warehouse"), self.spec.options.get("role")]
        return self.client.remembered("api/v2/statements", key, lambda: self._run(sql, binds))

    def _run(self, sql: str, binds: list[Any]) -> list[dict[str, Any]]:
        options = self.spec.options
        body: dict[str, Any] = {
            "statement": sql,
            "timeout": int(self.timeout),
            "bindings": {
                str(i + 1): {"type": "FIXED" if isinstance(v, int) else "TEXT", "value": str(v)}
                for i, v in enumerate(binds)
            },
        }
        for key in ("warehouse", "role"):
            if options.get(key):
                body[key] = str(options[key])
        path = "api/v2/statements"
        answer = as_object(self.client.post_json(path, body, cache=False))
        handle = as_text(answer.get("statementHandle")) or ""
        deadline = time.monotonic() + self.timeout
        while "resultSetMetaData" not in answer:
            if answer.get("code") not in ("333333", "333334") or not handle:
                raise SourceError(
                    f"{self.client.url(path)}: statement failed: "
                    f"{as_text(answer.get('message')) or 'no result'}"
                )
            if time.monotonic() > deadline:
                raise SourceError(f"{self.client.url(path)}: statement still running")
            time.sleep(0.2)
            answer = as_object(self.client.get_json(f"{path}/{handle}"))
        meta = as_object(answer.get("resultSetMetaData"))
        names = [str(as_object(c).get("name", "")).upper() for c in meta.get("rowType") or []]
        data = list(answer.get("data") or [])
        for partition in range(1, len(meta.get("partitionInfo") or [])):
            more = as_object(self.client.get_json(f"{path}/{handle}", {"partition": partition}))
            data += more.get("data") or []
        return [dict(zip(names, row)) for row in data if isinstance(row, list)]
