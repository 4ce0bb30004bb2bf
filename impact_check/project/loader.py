"""What a repository defines at one revision: files in, Catalog out.

DDL files apply in natural path order (``V2__`` before ``V10__``). Derived datasets get their
columns from one lineage pass each, in dependency order, against one growing schema, so
``SELECT *`` chains carry columns downstream. dbt project directories are left to the dbt
loader (not yet supported: their changed files are reported as not analysed).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from sqlglot import exp

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.config import Config
from impact_check.model import (
    Catalog,
    Column,
    Dataset,
    FileContent,
    Issue,
    Lineage,
    Load,
    Location,
    Snapshot,
)
from impact_check.sql.ddl import DdlState, Definition, InsertSelect
from impact_check.sql.lineage import query_lineage, rewrite_tables
from impact_check.sql.names import NameResolver, normalize
from impact_check.sql.parse import parse_file

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_NATURAL = re.compile(r"(\d+)")


def natural_key(path: str) -> list[object]:
    """Sort key that orders digit runs numerically: V2__ before V10__."""
    return [int(part) if part.isdigit() else part.lower() for part in _NATURAL.split(path)]


def dbt_roots(paths: Iterable[str]) -> list[str]:
    """Directories holding a dbt_project.yml (``""`` for the repository root)."""
    roots = []
    for path in paths:
        p = PurePosixPath(path)
        if p.name == "dbt_project.yml":
            roots.append("" if str(p.parent) == "." else str(p.parent) + "/")
    return roots


def in_dbt_project(path: str, roots: list[str]) -> bool:
    """Whether ``path`` lies inside one of the dbt project directories."""
    return any(path.startswith(root) for root in roots)


def dialect_for(path: str, config: Config) -> str:
    """The dialect of a file: the first matching glob in ``dialects``, else ``dialect``."""
    for pattern, dialect in config.dialects.items():
        if fnmatch.fnmatch(path, pattern):
            return dialect
    return config.dialect


def model_schema(path: str, config: Config) -> str | None:
    """The schema of a bare-SELECT model file, or None when it is not in a models folder."""
    for folder, schema in config.models.items():
        prefix = folder.rstrip("/") + "/"
        if path.startswith(prefix):
            parent = PurePosixPath(path).parent
            return schema or (parent.name if str(parent) != "." else None) or "main"
    return None


def load_catalog(
    snapshot: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None = None,
    external: Mapping[str, Mapping[str, str | None]] | None = None,
    deadline: Deadline | None = None,
) -> Catalog:
    """Build the catalog of one revision (BudgetExceeded when the deadline passes).

    ``external`` describes relations the repository does not define (read from a warehouse,
    see :func:`usable_external`): they bind like tables, with the columns given.
    """
    deadline = deadline or NO_DEADLINE
    catalog = Catalog()
    resolver = NameResolver(set(), config.default_schema, config.default_database)
    state = DdlState(catalog, resolver, config.dialect)
    roots = dbt_roots(snapshot.files)
    for path in sorted(snapshot.files, key=natural_key):
        if not path.endswith(".sql") or in_dbt_project(path, roots):
            continue
        deadline.check("reading SQL files")
        text = _read(snapshot.files[path], catalog, config)
        if text is not None:
            _load_file(path, text, state, config)
    if roots:
        from impact_check.project.dbt import load_projects

        load_projects(
            snapshot,
            roots,
            state,
            catalog,
            config.dialect,
            manifest,
            config.dbt.vars,
            config.limits,
            deadline,
        )
    if external:
        _add_external(catalog, external, config.dialect)
    _derive(state, catalog, resolver, deadline)
    from impact_check.project.contracts import load_contracts

    catalog.contracts = load_contracts(snapshot, catalog, config.dialect)
    return catalog


def _add_external(
    catalog: Catalog, external: Mapping[str, Mapping[str, str | None]], dialect: str
) -> None:
    """Relations this revision does not define (or declares without columns) from outside."""
    from impact_check.sql.types import canonical, parse_type

    for name, columns in external.items():
        existing = catalog.datasets.get(name)
        if name in catalog.dropped or (
            existing is not None and (existing.derived or existing.columns_known)
        ):
            continue
        typed = {}
        for column, written in columns.items():
            dtype = parse_type(written, dialect) if written else None
            typed[column] = Column(column, canonical(dtype) if dtype else None, written)
        catalog.datasets[name] = Dataset(
            name,
            existing.kind if existing else "table",
            columns=typed,
            location=existing.location if existing else None,
            dialect=dialect,
            origin="sql" if existing else "warehouse",
        )


def usable_external(
    external: Mapping[str, Mapping[str, str | None]], catalogs: Iterable[Catalog]
) -> dict[str, dict[str, str | None]]:
    """The external relations the catalogs read but neither defines, keyed as they read them.

    A relation one revision defines is never filled in from outside at the other (a dropped
    table must stay dropped); dbt sources declared without their columns are filled in.
    """
    from impact_check.identity import Matcher

    catalogs = list(catalogs)
    own: set[str] = set()
    read: set[str] = set()
    for catalog in catalogs:
        own |= set(catalog.dropped)
        for name, dataset in catalog.datasets.items():
            if dataset.derived or dataset.columns_known:
                own.add(name)
            else:
                read.add(name)
            if dataset.lineage is not None:
                read |= dataset.lineage.tables | dataset.lineage.star_unknown
        for load in catalog.loads:
            read |= {load.target} | (load.lineage.tables if load.lineage else set())
        for consumer in catalog.consumers:
            read |= set(consumer.reads)
    matcher = Matcher(set(external))
    out: dict[str, dict[str, str | None]] = {}
    for name in sorted(read - own):
        match = matcher.relation(name)
        if match in external:
            out[name] = dict(external[match])
    return out


def _read(content: FileContent, catalog: Catalog, config: Config) -> str | None:
    text, reason, line = decode_file(content, config)
    if text is None:
        catalog.issues.append(Issue("AN901", reason, Location(content.path, line), whole_file=True))
        return None
    return _PLACEHOLDER.sub(lambda m: config.placeholders.get(m.group(1), m.group(0)), text)


_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_file(content: FileContent, config: Config) -> tuple[str | None, str, int | None]:
    """A repository file as text, or (None, why not, line): symlinks, size, LFS, binary."""
    if content.data is None:
        return None, content.reason or "unreadable", None
    data = content.data
    if len(data) > config.limits.max_file_bytes:
        reason = (
            f"file is {len(data):,} bytes, over limits.max_file_bytes "
            f"({config.limits.max_file_bytes:,})"
        )
        return None, reason, None
    if data.startswith(_LFS_POINTER):
        return None, "git LFS pointer: the content is not in the repository (git lfs pull)", 1
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "", None
        except UnicodeDecodeError:
            return None, "UTF-16 byte-order mark but not UTF-16 text", 1
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, "binary file (NUL bytes)", line
    try:
        return data.decode("utf-8-sig"), "", None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, f"not UTF-8 text (byte 0x{data[err.start]:02x}; re-save as UTF-8)", line


def _load_file(path: str, text: str, state: DdlState, config: Config) -> None:
    dialect = dialect_for(path, config)
    state.dialect = dialect
    schema = model_schema(path, config)
    limits = config.limits
    for stmt in parse_file(text, dialect, limits.max_nesting_depth, limits.max_statements_per_file):
        location = Location(path, stmt.line)
        if stmt.expression is None:
            state.catalog.issues.append(
                Issue(
                    "AN901",
                    f"cannot parse SQL ({dialect}): {stmt.error}",
                    Location(path, stmt.error_line or stmt.line),
                )
            )
            continue
        try:
            _apply_statement(path, stmt.expression, location, schema, state, config)
        except Exception as err:  # a sqlglot tree shape we do not know: lose only this one
            state.catalog.issues.append(
                Issue(
                    "AN901",
                    f"statement could not be applied ({type(err).__name__}: {err})",
                    location,
                )
            )


def _apply_statement(
    path: str,
    expression: exp.Expr,
    location: Location,
    schema: str | None,
    state: DdlState,
    config: Config,
) -> None:
    dialect = state.dialect
    expression = normalize(expression, dialect)
    if schema is not None and isinstance(expression, exp.Query):
        name = resolver_name(schema, PurePosixPath(path).stem, config)
        state.definitions[name] = Definition(name, "view", expression, location, dialect=dialect)
        return
    state.apply(expression, location)


def resolver_name(schema: str, stem: str, config: Config) -> str:
    """The dataset name of a model file: ``[database.]schema.stem``, folded."""
    parts = [schema.lower(), stem.lower()]
    if config.default_database:
        parts.insert(0, config.default_database.lower())
    return ".".join(parts)


def _derive(state: DdlState, catalog: Catalog, resolver: NameResolver, deadline: Deadline) -> None:
    """Lineage for every derived dataset, in dependency order, then for INSERT … SELECT."""
    schema = derive_definitions(state.definitions, catalog, resolver, deadline)
    for insert in state.inserts:
        deadline.check("tracing lineage")
        catalog.loads.append(_load(insert, schema, resolver))


def derive_definitions(
    definitions: Mapping[str, Definition],
    catalog: Catalog,
    resolver: NameResolver,
    deadline: Deadline | None = None,
) -> dict[str, dict[str, str | None]]:
    """Add every definition's dataset to the catalog, in dependency order; the final schema."""
    resolver.known = set(catalog.datasets) | set(definitions)
    schema: dict[str, dict[str, str | None]] = {  # incompletely known relations bind loosely
        name: {c.name: c.type for c in ds.columns.values()} if ds.columns_known else {}
        for name, ds in catalog.datasets.items()
    }
    for definition in _dependency_order(definitions, resolver):
        (deadline or NO_DEADLINE).check("tracing lineage")
        try:
            dataset = _derived_dataset(definition, schema, resolver, catalog)
        except Exception as err:  # keep the dataset, with unknown columns, and say so
            catalog.issues.append(
                Issue(
                    "AN903",
                    f"lineage of {definition.name} failed ({type(err).__name__}: {err})",
                    definition.location,
                    target=definition.name,
                )
            )
            dataset = Dataset(
                definition.name,
                definition.kind,
                location=definition.location,
                definition=definition.query.sql(),
                columns_known=False,
                dialect=definition.dialect,
            )
            schema[definition.name] = {}
        _apply_meta(dataset, catalog)
        catalog.datasets[definition.name] = dataset
    return schema


def _apply_meta(dataset: Dataset, catalog: Catalog) -> None:
    """dbt's declared columns: their types fill in what lineage could not infer."""
    meta = catalog.model_meta.get(dataset.name)
    if not meta:
        return
    declared = meta.get("declared") or {}
    assert isinstance(declared, dict)
    dataset.declared = dict(declared)
    dataset.contract = bool(meta.get("contract"))
    dataset.access = str(meta["access"]) if meta.get("access") else None
    dataset.owners = list(meta.get("owners") or [])  # type: ignore[call-overload]
    for name, column in dataset.columns.items():
        spec = declared.get(name)
        if spec is not None:
            column.type = column.type or spec.type
            column.not_null = column.not_null or spec.not_null
            column.unique = spec.unique


def _dependency_order(
    definitions: Mapping[str, Definition], resolver: NameResolver
) -> list[Definition]:
    """Definitions sorted so each comes after what it reads (path order breaks ties/cycles)."""
    reads: dict[str, set[str]] = {}
    for name, definition in definitions.items():
        ctes = {c.alias_or_name for c in definition.query.find_all(exp.CTE)}
        names = set()
        for table in definition.query.find_all(exp.Table):
            written = ".".join(p.name for p in table.parts)
            if written and written not in ctes:
                names.add(resolver.resolve(written))
        reads[name] = (names & set(definitions)) - {name}
    ordered: list[Definition] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in visiting:
            return
        visiting.add(name)
        for dep in sorted(reads[name]):
            visit(dep)
        visiting.discard(name)
        done.add(name)
        ordered.append(definitions[name])

    for name in definitions:
        visit(name)
    return ordered


def _derived_dataset(
    definition: Definition,
    schema: dict[str, dict[str, str | None]],
    resolver: NameResolver,
    catalog: Catalog,
) -> Dataset:
    dialect = definition.dialect
    query = definition.query.copy()
    definition_sql = query.sql(dialect=dialect)
    rewrite_tables(query, resolver.resolve)
    lineage = query_lineage(query, schema, dialect)
    names = [n for n in lineage.columns if n != "*"]
    if definition.declared_columns:
        mapping = dict(zip(names, definition.declared_columns))
        lineage.columns = {mapping.get(k, k): v for k, v in lineage.columns.items()}
        lineage.pure = {mapping.get(k, k): v for k, v in lineage.pure.items()}
        lineage.output_types = {mapping.get(k, k): v for k, v in lineage.output_types.items()}
        names = [mapping.get(n, n) for n in names]
    columns = {
        name: Column(
            name=name,
            type=_derived_type(name, lineage.output_types, lineage.pure, schema),
            not_null=_derived_not_null(name, lineage, catalog),
        )
        for name in names
    }
    dataset = Dataset(
        name=definition.name,
        kind=definition.kind,
        columns=columns,
        location=definition.location,
        definition=definition_sql,
        lineage=lineage,
        columns_known="*" not in lineage.columns,
        dialect=dialect,
    )
    dataset.updatable = simple_view(definition.query)
    schema[definition.name] = (
        {c.name: c.type for c in columns.values()} if dataset.columns_known else {}
    )
    for relation in sorted(lineage.star_unknown):
        catalog.issues.append(
            Issue(
                "AN902",
                f"`*` over {relation}, whose columns are unknown: {definition.name}'s "
                "columns cannot be listed",
                definition.location,
                target=definition.name,
                unanalyzed=False,
            )
        )
    return dataset


def simple_view(query: exp.Expr) -> bool:
    """One table, no joins, grouping, DISTINCT, LIMIT, CTEs or set operations: what
    PostgreSQL makes automatically updatable (and so a valid INSERT target)."""
    if not isinstance(query, exp.Select) or not isinstance(query.args.get("from_"), exp.From):
        return False
    blockers = ("joins", "group", "having", "distinct", "limit", "offset", "with_", "qualify")
    if any(query.args.get(key) for key in blockers):
        return False
    return isinstance(query.args["from_"].this, exp.Table) and query.find(exp.AggFunc) is None


def _derived_not_null(name: str, lineage: Lineage, catalog: Catalog) -> bool:
    """A pass-through of a NOT NULL column, not from an outer join's NULL-filled side."""
    source = lineage.pure.get(name)
    if source is None or name in lineage.outer_joined:
        return False
    dataset = catalog.datasets.get(source[0])
    column = dataset.columns.get(source[1]) if dataset else None
    return bool(column and column.not_null)


def _derived_type(
    name: str,
    types: Mapping[str, str | None],
    pure: Mapping[str, tuple[str, str]],
    schema: Mapping[str, Mapping[str, str | None]],
) -> str | None:
    if types.get(name):
        return types[name]
    source = pure.get(name)
    if source is not None:
        return schema.get(source[0], {}).get(source[1])
    return None


def _load(
    insert: InsertSelect, schema: dict[str, dict[str, str | None]], resolver: NameResolver
) -> Load:
    dialect = insert.dialect
    query = insert.query.copy()
    definition_sql = query.sql(dialect=dialect)
    rewrite_tables(query, resolver.resolve)
    lineage = query_lineage(query, schema, dialect)
    target_columns = schema.get(insert.target) or {}
    wanted = insert.columns or list(target_columns)
    produced = [n for n in lineage.columns if n != "*"]
    if target_columns:
        for col in insert.columns:
            if col not in target_columns:
                lineage.missing.add((insert.target, col))
        if "*" not in lineage.columns and wanted and len(produced) != len(wanted):
            lineage.errors.append(
                f"INSERT into {insert.target} lists {len(wanted)} columns "
                f"but the query returns {len(produced)}"
            )
    assignments = [
        (target, lineage.pure[source])
        for target, source in zip(wanted, produced)
        if source in lineage.pure
    ]
    lineage.columns = (
        {target: lineage.columns[source] for target, source in zip(wanted, produced)}
        if wanted
        else lineage.columns
    )
    load = Load(insert.target, wanted, insert.location, definition_sql, lineage, dialect)
    load.assignments = assignments
    load.positional = not insert.columns
    return load
