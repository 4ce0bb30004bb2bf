"""Delta Lake tables the repository reads but does not define, read from their ``_delta_log``.

    lineage:
      - kind: delta
        location: lake/                 # a table root, or a folder searched for tables
        options:
          tables: {orders: raw.orders}  # table folder (relative to location) -> relation

A table's schema is the latest ``metaData`` action's ``schemaString`` (Spark's StructType
JSON): the newest commit file (``_delta_log/<20-digit version>.json``) that has one wins.
Only JSON is read: a JSON (v2) checkpoint counts as a commit, but a parquet checkpoint is
not read (no parquet reader is a dependency): when the newest ``metaData`` lies only in a
parquet checkpoint the table is reported as partial, naming the checkpoint.

What the fragment holds (a catalog kind, like ``warehouse``: the table's columns feed the
catalogs, so ``SELECT *`` over it expands, its columns are checked, and a repository
migration that alters it is applied to these columns):

- the table, its columns and Delta types (as SQL types), column mapping mode and each
  column's physical name (``delta.columnMapping.physicalName``) as node attributes: the
  columns are the logical names that SQL reads, whatever files store;
- each CHECK constraint (``delta.constraints.<name>`` in the table configuration) as
  ``delta:constraint/<table>/<name>`` and each generated column
  (``delta.generationExpression``) as ``delta:generated/<table>/<column>``, consumers inside
  the table with a ``column`` edge from every column their expression reads (sqlglot, Spark
  dialect): dropping or renaming such a column breaks them (Delta refuses the change:
  DELTA_CONSTRAINT_DEPENDENT_COLUMN_CHANGE, DELTA_GENERATED_COLUMNS_DEPENDENT_COLUMN_CHANGE).

Without ``tables`` a folder's relation name is its path below ``location`` with ``/`` read
as ``.`` (``lake/raw/orders`` -> ``raw.orders``), or the ``metaData.name`` when set. Files are
read with the project's bounded JSON reader; a line that cannot be read is reported by
``file:line`` and the rest of the log is still used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impact_check.errors import SourceError
from impact_check.model import column_id
from impact_check.safeload import LimitExceeded, load_json
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext, as_object
from impact_check.sources.jsonfiles import resolve

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "delta"
MAX_TABLES = 500
MAX_SEARCH_DEPTH = 4
MAX_LOG_FILES = 10_000
MAX_LOG_BYTES = 50_000_000  # one commit file
_COMMIT = re.compile(r"^(\d{20})\.json$")
_JSON_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.[^.]+\.json$")
_PARQUET_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.\d+\.\d+|\.[^.]+)?\.parquet$")
_SCALARS = {
    "byte": "TINYINT", "short": "SMALLINT", "integer": "INT", "long": "BIGINT",
    "float": "FLOAT", "double": "DOUBLE", "boolean": "BOOLEAN", "string": "VARCHAR",
    "binary": "BLOB", "date": "DATE", "timestamp": "TIMESTAMPTZ", "timestamp_ntz": "TIMESTAMP",
}  # fmt: skip
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


@dataclass
class DeltaTable:
    """What the log says about one table."""

    root: Path
    relation: str
    version: int | None = None  # version of the commit holding the metaData read
    columns: list[tuple[str, str | None]] = field(default_factory=list)
    physical: dict[str, str] = field(default_factory=dict)  # logical -> physical name
    mapping_mode: str = "none"
    constraints: dict[str, str] = field(default_factory=dict)  # name -> SQL expression
    generated: dict[str, str] = field(default_factory=dict)  # column -> SQL expression
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)  # file, line, why
    partial: str | None = None


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Every table under the location, as dataset nodes with columns and consumer nodes."""
    root = resolve(spec.location, ctx.root)
    if not root.exists():
        raise SourceError(f"delta {spec.location}: {root}: no such directory")
    mapping = {
        str(k).strip("/"): str(v).lower() for k, v in as_object(spec.options.get("tables")).items()
    }
    fragment = GraphFragment(f"{spec.kind}:{spec.location}", spec.kind)
    folders = _table_folders(root, mapping)
    if not folders:
        raise SourceError(f"delta {spec.location}: no _delta_log folder under {root}")
    partial = []
    for folder in folders:
        relative = folder.relative_to(root).as_posix() if folder != root else ""
        relation = mapping.get(relative) or mapping.get(relative or ".")
        default = relative.replace("/", ".") if relative else folder.name
        table = read_table(folder, relation, default.lower(), ctx.root)
        _fill(fragment, table)
        for file, line, why in table.problems:
            fragment.issue("AN905", f"{file}{f':{line}' if line else ''}: {why}", file, line)
        if table.partial:
            partial.append(f"{table.relation}: {table.partial}")
    fragment.count("delta tables", len(folders))
    if partial or fragment.issues:
        fragment.status = "partial"
        fragment.detail = "; ".join(partial)
    return fragment


def _table_folders(root: Path, mapping: dict[str, str]) -> list[Path]:
    """Table roots: the mapped ones, else every folder holding a ``_delta_log`` (bounded)."""
    if mapping:
        return [root / p if p not in ("", ".") else root for p in sorted(mapping)]
    found: list[Path] = []
    frontier = [root]
    for _ in range(MAX_SEARCH_DEPTH + 1):
        nxt = []
        for folder in frontier:
            if (folder / "_delta_log").is_dir():
                found.append(folder)
                continue
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            nxt += [c for c in children if not c.name.startswith((".", "_"))]
        frontier = nxt
        if len(found) >= MAX_TABLES:
            break
    return found[:MAX_TABLES]


def read_table(folder: Path, relation: str | None, default: str, repo_root: Path) -> DeltaTable:
    """The latest schema, constraints and generated columns of the table at ``folder``
    (named ``relation``, else its ``metaData.name``, else ``default``)."""
    log = folder / "_delta_log"
    table = DeltaTable(folder, relation or "")
    shown = _shown(log, repo_root)
    try:
        names = sorted(p.name for p in log.iterdir() if p.is_file())
    except OSError as err:
        raise SourceError(f"delta {shown}: cannot list ({err.strerror})") from err
    commits = sorted(
        [
            (int(m.group(1)), n)
            for n in names
            if (m := _COMMIT.match(n) or _JSON_CHECKPOINT.match(n))
        ],
        reverse=True,
    )
    parquet = sorted(
        [(int(m.group(1)), n) for n in names if (m := _PARQUET_CHECKPOINT.match(n))], reverse=True
    )
    if len(commits) > MAX_LOG_FILES:
        table.partial = f"{len(commits):,} commit files, only the newest {MAX_LOG_FILES:,} read"
        commits = commits[:MAX_LOG_FILES]
    for version, name in commits:
        meta = _metadata(log / name, f"{shown}/{name}", table)
        if meta is not None:
            table.version = version
            _schema(meta, table, f"{shown}/{name}")
            break
    table.partial = _gap(commits, parquet, table.version, shown)
    table.relation = table.relation or default
    return table


def _gap(
    commits: list[tuple[int, str]], parquet: list[tuple[int, str]], found: int | None, shown: str
) -> str | None:
    """Why the schema read may not be the latest: commit files missing above the one read
    (log cleanup keeps only a parquet checkpoint of them), or no metaData at all."""
    newest = max([v for v, _ in commits] + [v for v, _ in parquet], default=None)
    if newest is None:
        return "no commit file"
    have = {v for v, _ in commits}
    low = found if found is not None else 0
    missing = [v for v in range(low, newest + 1) if v not in have]
    if found is not None and not missing:
        return None
    checkpoint = next((n for v, n in parquet if found is None or v > found), None)
    where = (
        f"{shown}/{checkpoint}: a parquet checkpoint is not read"
        if checkpoint
        else (
            f"commits {missing[0]}..{missing[-1]} are missing" if missing else "no metaData found"
        )
    )
    schema = f"the schema is that of version {found}" if found is not None else "no schema"
    return f"{where}; {schema}"


def _shown(log: Path, repo_root: Path) -> str:
    try:
        return log.relative_to(repo_root).as_posix()
    except ValueError:
        return str(log)


def _metadata(path: Path, shown: str, table: DeltaTable) -> dict[str, Any] | None:
    """The last ``metaData`` action of one commit file, or None."""
    try:
        size = path.stat().st_size
        if size > MAX_LOG_BYTES:
            table.problems.append((shown, None, f"{size:,} bytes, over the {MAX_LOG_BYTES:,} read"))
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        table.problems.append((shown, None, f"cannot be read ({err})"))
        return None
    found = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or '"metaData"' not in line:
            continue
        try:
            action = load_json(line)
        except LimitExceeded as err:
            table.problems.append((shown, number, str(err)))
            continue
        except json.JSONDecodeError as err:
            table.problems.append((shown, number, f"invalid JSON ({err.msg})"))
            continue
        meta = as_object(action).get("metaData") if isinstance(action, dict) else None
        if isinstance(meta, dict):
            found = meta
    return found


def _schema(meta: dict[str, Any], table: DeltaTable, shown: str) -> None:
    configuration = as_object(meta.get("configuration"))
    table.mapping_mode = str(configuration.get("delta.columnMapping.mode") or "none")
    for key, value in configuration.items():
        if key.startswith("delta.constraints.") and isinstance(value, str):
            table.constraints[key.removeprefix("delta.constraints.").lower()] = value
    if not table.relation and isinstance(meta.get("name"), str) and meta["name"]:
        table.relation = meta["name"].lower()
    try:
        schema = load_json(meta.get("schemaString") or "")
    except (ValueError, LimitExceeded) as err:
        table.problems.append((shown, None, f"metaData.schemaString is not JSON ({err})"))
        return
    for spec in as_object(schema).get("fields") or []:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            table.problems.append((shown, None, "metaData.schemaString: a field without a name"))
            continue
        name = spec["name"]
        table.columns.append((name, sql_type(spec.get("type"))))
        metadata = as_object(spec.get("metadata"))
        physical = metadata.get("delta.columnMapping.physicalName")
        if isinstance(physical, str):
            table.physical[name] = physical
        expression = metadata.get("delta.generationExpression")
        if isinstance(expression, str):
            table.generated[name] = expression


def sql_type(spark: Any, depth: int = 0) -> str | None:
    """A Delta (Spark) type as a SQL type; None when it has no SQL spelling here."""
    if depth > 32:
        return None
    if isinstance(spark, str):
        decimal = _DECIMAL.match(spark)
        if decimal:
            return f"DECIMAL({decimal.group(1)}, {decimal.group(2)})"
        return _SCALARS.get(spark)
    if not isinstance(spark, dict):
        return None
    kind = spark.get("type")
    if kind == "array":
        inner = sql_type(spark.get("elementType"), depth + 1)
        return f"{inner}[]" if inner else None
    if kind == "map":
        key, value = (
            sql_type(spark.get("keyType"), depth + 1),
            sql_type(spark.get("valueType"), depth + 1),
        )
        return f"MAP({key}, {value})" if key and value else None
    if kind == "struct":
        parts = []
        for sub in spark.get("fields") or []:
            inner = sql_type(as_object(sub).get("type"), depth + 1)
            if not inner or not isinstance(as_object(sub).get("name"), str):
                return None
            parts.append(f'"{sub["name"]}" {inner}')
        return f"STRUCT({', '.join(parts)})"
    return None


def _fill(fragment: GraphFragment, table: DeltaTable) -> None:
    node = FragmentNode(table.relation, "table", ORIGIN, name=table.relation)
    node.columns = dict(table.columns)
    node.attrs.update(
        delta_log=str(table.root / "_delta_log"),
        delta_version=table.version,
        column_mapping=table.mapping_mode,
    )
    if table.physical and table.mapping_mode != "none":
        node.attrs["physical_names"] = dict(table.physical)
    fragment.node(node)
    names = {c for c, _ in table.columns}
    for name, expression in sorted(table.constraints.items()):
        _consumer(fragment, table, f"delta:constraint/{table.relation}/{name}", "check_constraint",
                  f"CHECK {name}: {expression}", expression, names)  # fmt: skip
    for column, expression in sorted(table.generated.items()):
        _consumer(fragment, table, f"delta:generated/{table.relation}/{column}", "generated_column",
                  f"{column} GENERATED ALWAYS AS ({expression})", expression, names)  # fmt: skip


def _consumer(
    fragment: GraphFragment,
    table: DeltaTable,
    node_id: str,
    kind: str,
    label: str,
    expression: str,
    columns: set[str],
) -> None:
    node = FragmentNode(node_id, kind, ORIGIN, name=label)
    node.attrs["table"] = table.relation
    fragment.node(node)
    for column in sorted(referenced_columns(expression) & {c.lower() for c in columns}):
        written = next(c for c in columns if c.lower() == column)
        fragment.edge(column_id(table.relation, written), node_id, "column")


def referenced_columns(expression: str) -> set[str]:
    """Column names an expression reads (lower-cased), by sqlglot in the Spark dialect."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(expression, read="spark")
    except SqlglotError:
        return {w.lower() for w in re.findall(r"[A-Za-z_]\w*", expression)}
    return {c.name.lower() for c in tree.find_all(exp.Column)}
