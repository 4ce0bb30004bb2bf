"""What a repository defines at one revision: files in, Catalog out.

SQL files apply in the order project/migrations.py gives: each recognised migration framework
in its own order (forward migrations only), every other file in natural path order
(``V2__`` before ``V10__``). Derived datasets get their
columns from one lineage pass each, in dependency order, against one growing schema, so
``SELECT *`` chains carry columns downstream. dbt project directories are left to the dbt
loader (not yet supported: their changed files are reported as not analysed).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from sqlglot import exp

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.cache import AnalysisCache, blob_sha
from impact_check.config import Config
from impact_check.diff import ROUTINES
from impact_check.model import (
    Catalog,
    Column,
    Dataset,
    Defined,
    FileContent,
    Issue,
    Lineage,
    Load,
    Location,
    Snapshot,
)
from impact_check.project import incremental, migrations, parallel
from impact_check.project.codec import CodecError, decode_dataset, encode_dataset
from impact_check.project.migrations import Unit
from impact_check.project.parallel import paused_gc
from impact_check.sql.ddl import DdlState, Definition, InsertSelect
from impact_check.sql.lineage import GUESSED_NAMES, query_lineage, rewrite_tables
from impact_check.sql.names import NameResolver, normalize
from impact_check.sql.parse import parse_file
from impact_check.sql.placeholders import described, is_placeholder_name
from impact_check.sql.statements import apply_actions, apply_other
from impact_check.sql.tree_digest import tree_digest

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_PLAN_FILES = ("sqitch.plan", "sqitch.conf", "atlas.sum", "migration_lock.toml")
# Parsed model trees kept from reading the files to tracing their lineage, in characters of
# SQL (a tree weighs about 65 times its text): about 65 MB. Past it, a model is parsed
# again when its lineage is traced, so a 5,000-model project keeps its memory bounded.
KEPT_TREE_TEXT = 1_000_000


# Where `dbt deps` installs packages: their projects are a project's packages, not projects.
_PACKAGE_FOLDERS = {"dbt_packages", "dbt_modules"}


def dbt_roots(paths: Iterable[str]) -> list[str]:
    """Directories holding a dbt_project.yml (``""`` for the repository root), installed
    packages left out."""
    roots = []
    for path in paths:
        p = PurePosixPath(path)
        if p.name == "dbt_project.yml" and not _PACKAGE_FOLDERS & set(p.parts[:-1]):
            roots.append("" if str(p.parent) == "." else str(p.parent) + "/")
    return roots


def configured_dialect(root: str, config: Config) -> str | None:
    """The dialect the configuration sets for files under ``root`` (None: it sets none)."""
    for pattern, dialect in config.dialects.items():
        if fnmatch.fnmatch(root + "models/x.sql", pattern) or fnmatch.fnmatch(root, pattern):
            return dialect
    return config.dialect if "dialect" in config.model_fields_set else None


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
    cache: AnalysisCache | None = None,
    lazy: bool = False,
    deadline: Deadline | None = None,
) -> Catalog:
    """Build the catalog of one revision (reusing ``cache`` entries when given;
    BudgetExceeded when the deadline passes).

    ``external`` describes relations the repository does not define (read from a warehouse,
    see :func:`usable_external`): they bind like tables, with the columns given.
    ``lazy`` leaves cached lineage undecoded in ``catalog.pending`` (for
    incremental.load_pair, which decodes only what the check needs).
    """
    while True:
        catalog = _load_catalog(
            snapshot, config, manifest, external, cache, deadline or NO_DEADLINE
        )
        if lazy or incremental.decode_pending(catalog, set(catalog.datasets), cache):
            return catalog


def _load_catalog(
    snapshot: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None,
    external: Mapping[str, Mapping[str, str | None]] | None,
    cache: AnalysisCache | None,
    deadline: Deadline,
) -> Catalog:
    catalog = Catalog()
    resolver = NameResolver(set(), config.default_schema, config.default_database)
    state = DdlState(catalog, resolver, config.dialect)
    if external:  # a migration may alter a table only the warehouse (or a Delta log) has
        state.outside = lambda name: (
            _external_dataset(name, external[name], config.dialect) if name in external else None
        )
    roots = dbt_roots(snapshot.files)
    units = sql_units(snapshot, roots, config)
    with paused_gc():
        if cache is not None and not external:  # cached DDL states know nothing of outside
            deadline.check("reading SQL files")
            _load_files_cached(units, snapshot, state, config, cache)
        else:
            for unit in units:
                deadline.check("reading SQL files")
                _load_unit(unit, _read(snapshot.files[unit.path], catalog, config), state, config)
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
                lambda root: configured_dialect(root, config),
            )
        if external:
            _add_external(catalog, external, config.dialect)
        _derive(state, catalog, resolver, cache, deadline)
    named = {entry.name for entry in catalog.defined.values()}  # dbt models: keyed by file
    for name, definition in state.definitions.items():
        if name not in named:
            catalog.defined.setdefault(name, Defined(name, definition.location))
    for issue in catalog.issues:  # views and model files that did not parse
        target = issue.target
        if issue.rule == "AN901" and target and target not in named:
            catalog.defined.setdefault(target, Defined(target, issue.location, issue.message))
    from impact_check.project.contracts import load_contracts

    catalog.contracts = load_contracts(snapshot, catalog, config.dialect)
    return catalog


def sql_units(snapshot: Snapshot, roots: list[str], config: Config) -> list[Unit]:
    """The SQL files outside dbt projects, as the units to apply in order
    (project/migrations.py: migration frameworks' forward sequences, else path order)."""
    candidates = [
        p
        for p in snapshot.files
        if (p.endswith(".sql") or PurePosixPath(p).name in _PLAN_FILES)
        and not in_dbt_project(p, roots)
    ]
    return migrations.plan(candidates, _Texts(snapshot, config)).units


class _Texts(Mapping[str, "str | None"]):
    """File texts on request (migrations.plan reads only the few whose content decides)."""

    def __init__(self, snapshot: Snapshot, config: Config) -> None:
        self.snapshot, self.config, self.seen = snapshot, config, dict[str, "str | None"]()

    def __getitem__(self, path: str) -> str | None:
        if path not in self.seen:
            content = self.snapshot.files.get(path)
            self.seen[path] = decode_file(content, self.config)[0] if content else None
        return self.seen[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot.files)

    def __len__(self) -> int:
        return len(self.snapshot.files)


def _load_unit(unit: Unit, text: str | None, state: DdlState, config: Config) -> None:
    if text is None:
        return
    state.in_migration, state.sequence = unit.one_time, unit.sequence
    state.sequence_of[unit.path] = unit.sequence
    try:
        text = migrations.forward_text(text, unit.lines)
        _load_file(unit.path, text, state, config, _unit_dialect(unit, config))
    finally:
        state.in_migration, state.sequence = False, None


def _unit_dialect(unit: Unit, config: Config) -> str | None:
    """The engine a framework's own files name (Supabase, a Prisma lock, sqitch.conf, a
    pg_dump), unless the configuration sets the dialect."""
    if unit.dialect is None or "dialect" in config.model_fields_set:
        return None
    if any(fnmatch.fnmatch(unit.path, glob) for glob in config.dialects):
        return None
    return unit.dialect


def _load_files_cached(
    units: list[Unit], snapshot: Snapshot, state: DdlState, config: Config, cache: AnalysisCache
) -> None:
    """The loop of load_catalog, with one-SELECT model files and the DDL state from cache."""
    items: list[tuple[Unit, Definition | None]] = []
    sequence: list[tuple[str, ...]] = []
    tree_budget = KEPT_TREE_TEXT
    for unit in units:
        path = unit.path
        content = snapshot.files[path]
        schema = model_schema(path, config)
        model = None
        if schema is not None:
            model = incremental.model_file(
                path,
                content,
                incremental.model_name(path, config, schema),
                config,
                dialect_for(path, config),
                cache,
                lambda c: _read(c, Catalog(), config),
                keep_tree=tree_budget > 0,
            )
        if model is not None:
            if model.query is not None:
                tree_budget -= len(model.text)
            items.append((unit, incremental.LazyDefinition(model)))
            sequence.append(("model", path, model.name))
        else:
            items.append((unit, None))
            data = content.data
            sha = (content.sha or blob_sha(data)) if data is not None else str(content.reason)
            framework = f"{unit.framework}/{unit.role}/{unit.lines}/{unit.dialect}"
            sequence.append(("sql", path, sha, framework))
    key = incremental.ddl_key(sequence, config)
    if _restore_ddl(cache, key, state):
        for _path, definition in items:
            if definition is not None:
                state.definitions[definition.name] = definition
    else:
        models: dict[str, Definition] = {}
        for unit, definition in items:
            if definition is not None:
                state.definitions[definition.name] = models[definition.name] = definition
                continue
            _load_unit(unit, _read(snapshot.files[unit.path], state.catalog, config), state, config)
        if not state.inserts and incremental.untouched(state.definitions, models):
            cache.put(key, incremental.encode_ddl(state.catalog, state.dialect))
    if units:
        state.dialect = dialect_for(units[-1].path, config)


def _restore_ddl(cache: AnalysisCache, key: str, state: DdlState) -> bool:
    stored = cache.get(key)
    if stored is None:
        return False
    restored = Catalog()
    try:
        incremental.decode_ddl(stored, restored)
    except (CodecError, TypeError, ValueError):
        cache.reject(key)
        return False
    catalog = state.catalog
    catalog.datasets, catalog.issues = restored.datasets, restored.issues
    catalog.renamed_tables, catalog.renamed_columns = (
        restored.renamed_tables,
        restored.renamed_columns,
    )
    catalog.dropped, catalog.events = restored.dropped, restored.events
    return True


def _add_external(
    catalog: Catalog, external: Mapping[str, Mapping[str, str | None]], dialect: str
) -> None:
    """Relations this revision does not define (or declares without columns) from outside."""
    for name, columns in external.items():
        existing = catalog.datasets.get(name)
        if name in catalog.dropped or (
            existing is not None and (existing.derived or existing.columns_known)
        ):
            continue
        catalog.datasets[name] = _external_dataset(name, columns, dialect, existing)


def _external_dataset(
    name: str, columns: Mapping[str, str | None], dialect: str, existing: Dataset | None = None
) -> Dataset:
    """A relation described from outside (a warehouse, a Delta log) as a catalog dataset."""
    from impact_check.sql.types import canonical, parse_type

    typed = {}
    for column, written in columns.items():
        dtype = parse_type(written, dialect) if written else None
        typed[column] = Column(column, canonical(dtype) if dtype else None, written)
    return Dataset(
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
        # tables a migration alters without creating them (AN903): described from outside
        read |= {i.target for i in catalog.issues if i.rule == "AN903" and i.target}
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
        issue = Issue(
            unreadable_rule(content), reason, Location(content.path, line), whole_file=True
        )
        catalog.issues.append(issue)
        return None
    return _PLACEHOLDER.sub(lambda m: config.placeholders.get(m.group(1), m.group(0)), text)


def unreadable_rule(content: FileContent) -> str:
    """The rule of a file that cannot be read: AN915 when git named a blob this clone
    lacks, else AN901."""
    return "AN915" if content.missing else "AN901"


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


def _load_file(
    path: str, text: str, state: DdlState, config: Config, dialect: str | None = None
) -> None:
    dialect = dialect or dialect_for(path, config)
    state.dialect = dialect
    schema = model_schema(path, config)
    limits = config.limits
    for stmt in parse_file(text, dialect, limits.max_nesting_depth, limits.max_statements_per_file):
        location = Location(path, stmt.line)
        try:
            if apply_other(state, stmt.sql, location):  # not table schema (sql/statements.py)
                continue
            opaque = stmt.expression is None or isinstance(stmt.expression, exp.Command)
            if opaque and apply_actions(state, stmt.sql, location):
                continue
            if stmt.expression is None:
                state.unreadable(stmt.sql)
                message = f"cannot parse SQL ({dialect}): {stmt.error}"
                where = Location(path, stmt.error_line or stmt.line)
                # a view or model file that does not parse still counts as defined (coverage)
                target = _unparsed_name(path, stmt.sql, schema)
                # a model file that does not parse is not gone: at head its base version
                # stands in
                whole = schema is not None
                state.catalog.issues.append(
                    Issue("AN901", message, where, target, whole_file=whole)
                )
                continue
            _apply_statement(path, stmt.expression, location, schema, state, config)
        except Exception as err:  # a sqlglot tree shape we do not know: lose only this one
            state.catalog.issues.append(
                Issue(
                    "AN901",
                    f"statement could not be applied ({type(err).__name__}: {err})",
                    location,
                )
            )


_VIEW = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\w*\s+)?(?:materialized\s+)?view\s+"
    r"(?:if\s+not\s+exists\s+)?([\w.\"`\[\]]+)",
    re.IGNORECASE,
)


def _unparsed_name(path: str, sql: str, schema: str | None) -> str | None:
    """The view (or model file) a statement that does not parse would define, if any."""
    match = _VIEW.match(sql)
    if match is not None:
        return match.group(1).replace('"', "").replace("`", "").strip("[]").lower()
    if schema is not None:
        return f"{schema}.{PurePosixPath(path).stem}".lower()
    return None


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


def _derive(
    state: DdlState,
    catalog: Catalog,
    resolver: NameResolver,
    cache: AnalysisCache | None,
    deadline: Deadline,
) -> None:
    """Lineage for every derived dataset, in dependency order, then for INSERT … SELECT."""
    schema = derive_definitions(state.definitions, catalog, resolver, cache, deadline)
    for name in state.insertable:  # an INSTEAD OF trigger or rule takes INSERTs
        view = catalog.datasets.get(resolver.resolve(name))
        if view is not None and view.derived:
            catalog.datasets[view.name] = replace(view, updatable=True)  # may be shared
    for insert in state.inserts:
        deadline.check("tracing lineage")
        catalog.loads.append(_load(insert, schema, resolver))


def derive_definitions(
    definitions: Mapping[str, Definition],
    catalog: Catalog,
    resolver: NameResolver,
    cache: AnalysisCache | None = None,
    deadline: Deadline | None = None,
) -> dict[str, dict[str, str | None]]:
    """Add every definition's dataset to the catalog, in dependency order; the final schema.

    With ``cache``, a dataset whose definition and upstream schemas are unchanged is
    decoded instead of derived. Definitions of one dependency wave are independent, so a
    wave of many misses is derived on forked workers (project/parallel.py).
    """
    resolver.known = set(catalog.datasets) | set(definitions)
    schema: dict[str, dict[str, str | None]] = {  # incompletely known relations bind loosely
        name: relation_schema(ds) for name, ds in catalog.datasets.items()
    }
    existing = list(catalog.datasets)
    ordered, waves, reads = _dependency_waves(definitions, resolver)
    issues: dict[str, list[Issue]] = {}
    star_unknown: dict[str, list[str]] = {}
    states: dict[str, str] = {}  # upstream state digests for the keys
    for wave in waves:
        (deadline or NO_DEADLINE).check("tracing lineage")
        keys = [
            incremental.derive_key(d, schema, catalog, resolver.resolve, states) if cache else ""
            for d in wave
        ]
        found: list[Dataset | None] = []
        shareable = [d.name not in catalog.model_meta for d in wave]  # _apply_meta changes it
        for definition, key, shared in zip(wave, keys, shareable):
            hit = incremental.cached_dataset(cache, key, shared) if cache else None
            if hit is not None:  # lineage decoded later, and only if the check needs it
                catalog.pending[definition.name], star_unknown[definition.name] = key, hit[1]
            found.append(hit[0] if hit else None)
        if cache is not None:
            catalog.keys.update((d.name, k) for d, k in zip(wave, keys))
        pending = [i for i, ds in enumerate(found) if ds is None]
        task = functools.partial(_derive_one, [wave[i] for i in pending], schema, resolver, catalog)
        for i, (status, value) in zip(pending, parallel.run(len(pending), task)):
            definition = wave[i]
            if status == "ok":
                if cache is None:
                    found[i] = decode_dataset(value)
                    continue
                # like a hit: the lineage stays in the cache (as text) until needed
                incremental.put_derived(cache, keys[i], value)
                fresh = found[i] = decode_dataset(value, lineage=False)
                stars_of = star_unknown[definition.name] = incremental.star_unknown(value)
                catalog.pending[definition.name] = keys[i]
                if shareable[i]:
                    incremental.share_dataset(cache, keys[i], fresh, stars_of)
                continue
            issues[definition.name] = [
                Issue(
                    "AN903",
                    f"lineage of {definition.name} failed ({value})",
                    definition.location,
                    target=definition.name,
                )
            ]
            found[i] = Dataset(
                definition.name,
                definition.kind,
                location=definition.location,
                definition=tree_digest(definition.query),
                columns_known=False,
                dialect=definition.dialect,
            )
        for definition, dataset in zip(wave, found):
            assert dataset is not None
            stars = star_unknown.pop(definition.name, None)
            if stars is None:
                stars = sorted(dataset.lineage.star_unknown) if dataset.lineage else []
            _add_derived(definition, dataset, stars, schema, catalog, issues)
            states.pop(definition.name, None)
        parallel.collect_young()
    catalog.reads.update(reads)
    _keep_order(catalog, existing, ordered)
    for definition in ordered:
        catalog.issues += issues.get(definition.name, [])
    return schema


def _derive_one(
    definitions: list[Definition],
    schema: dict[str, dict[str, str | None]],
    resolver: NameResolver,
    catalog: Catalog,
    index: int,
) -> tuple[str, Any]:
    """("ok", encoded dataset) or ("error", why): plain values, so a worker can return it."""
    definition = definitions[index]
    try:
        return "ok", encode_dataset(_derived_dataset(definition, schema, resolver, catalog))
    except Exception as err:  # keep the dataset, with unknown columns, and say so
        return "error", f"{type(err).__name__}: {err}"
    finally:
        parallel.tick()


def _add_derived(
    definition: Definition,
    dataset: Dataset,
    star_unknown: list[str],
    schema: dict[str, dict[str, str | None]],
    catalog: Catalog,
    issues: dict[str, list[Issue]],
) -> None:
    schema[definition.name] = relation_schema(dataset)
    for relation in star_unknown:
        what = (
            described(relation)
            if is_placeholder_name(relation)
            else f"`*` over {relation}, whose columns are unknown"
        )
        issues.setdefault(definition.name, []).append(
            Issue(
                "AN902",
                f"{what}: {definition.name}'s columns cannot be listed",
                definition.location,
                target=definition.name,
                unanalyzed=False,
            )
        )
    _apply_meta(dataset, catalog)
    catalog.datasets[definition.name] = dataset


def relation_schema(dataset: Dataset) -> dict[str, str | None]:
    """What readers of a relation bind against: column -> type; empty when its columns are
    unknown; with GUESSED_NAMES when some are engine-given names only approximated."""
    if not dataset.columns_known:
        return {}
    columns = {c.name: c.type for c in dataset.columns.values()}
    if dataset.names_guessed:
        columns[GUESSED_NAMES] = None
    return columns


def _keep_order(catalog: Catalog, existing: list[str], ordered: list[Definition]) -> None:
    """Datasets in the order a one-by-one derivation gives: existing names first, in place."""
    datasets = catalog.datasets
    order = dict.fromkeys(n for n in existing if n in datasets)
    order.update(dict.fromkeys(d.name for d in ordered))
    order.update(dict.fromkeys(datasets))
    catalog.datasets = {n: datasets[n] for n in order}


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


def _dependency_waves(
    definitions: Mapping[str, Definition], resolver: NameResolver
) -> tuple[list[Definition], list[list[Definition]], dict[str, set[str]]]:
    """Definitions in dependency order, and grouped in waves of mutually independent ones
    (each only reads earlier waves). A cycle makes every definition its own wave, so each
    sees exactly what a one-by-one derivation shows it."""
    reads: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}  # relations read, defined here or not
    defined = set(definitions)
    for name, definition in definitions.items():
        written = getattr(definition, "written_reads", None)
        if written is None:
            written = incremental.written_names(definition.query)[0]
        every[name] = {resolver.resolve(w) for w in written}
        reads[name] = (every[name] & defined) - {name}
    ordered = _dependency_order(definitions, reads)
    position = {d.name: i for i, d in enumerate(ordered)}
    level: dict[str, int] = {}
    for definition in ordered:
        deps = reads[definition.name]
        if any(position[d] > position[definition.name] for d in deps):
            return ordered, [[d] for d in ordered], every
        level[definition.name] = 1 + max((level[d] for d in deps), default=-1)
    waves: list[list[Definition]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for definition in ordered:
        waves[level[definition.name]].append(definition)
    return ordered, waves, every


def _dependency_order(
    definitions: Mapping[str, Definition], reads: Mapping[str, set[str]]
) -> list[Definition]:
    """Definitions sorted so each comes after what it reads (path order breaks ties/cycles)."""
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
    updatable = simple_view(definition.query)

    def rewritten() -> exp.Expr:
        query = incremental.fresh_query(definition)
        rewrite_tables(query, resolver.resolve)
        return query

    first = incremental.fresh_query(definition)
    identity = tree_digest(first)
    rewrite_tables(first, resolver.resolve)
    lineage = query_lineage(first, schema, dialect, again=rewritten)
    if definition.kind in ROUTINES:  # what a body reads; its unbound names may be variables
        lineage.errors.clear()
        lineage.missing = {src for src in lineage.missing if src[0]}
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
        definition=identity,
        lineage=lineage,
        columns_known="*" not in lineage.columns,
        dialect=dialect,
    )
    dataset.updatable = updatable
    dataset.names_guessed = bool(lineage.guessed_names) and not definition.declared_columns
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
    target_columns = {
        k: v for k, v in (schema.get(insert.target) or {}).items() if k != GUESSED_NAMES
    }
    wanted = insert.columns or list(target_columns)
    produced = [n for n in lineage.columns if n != "*"]
    # the query's own arity: output names can collide (PostgreSQL names `SELECT 1, 2`
    # both "?column?"), and the rows still have one value per select expression
    selects = query.selects if isinstance(query, exp.Query) else []
    arity = None if not selects or any(e.is_star for e in selects) else len(selects)
    returned = arity if arity is not None else len(produced)
    if target_columns:
        for col in insert.columns:
            if col not in target_columns:
                lineage.missing.add((insert.target, col))
        if "*" not in lineage.columns and wanted and returned != len(wanted):
            lineage.errors.append(
                f"INSERT into {insert.target} lists {len(wanted)} columns "
                f"but the query returns {returned}"
            )
    aligned = arity is None or arity == len(produced)
    assignments = [
        (target, lineage.pure[source])
        for target, source in zip(wanted, produced)
        if source in lineage.pure and aligned
    ]
    if wanted and aligned:
        lineage.columns = {t: lineage.columns[s] for t, s in zip(wanted, produced)}
    elif wanted:  # names collided: which value lands where is not known by name
        sources = set().union(*lineage.columns.values()) if lineage.columns else set()
        lineage.columns = {target: set(sources) for target in wanted}
    load = Load(insert.target, wanted, insert.location, definition_sql, lineage, dialect)
    load.assignments = assignments
    load.positional = not insert.columns
    return load
