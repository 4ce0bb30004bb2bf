"""The cache layer around the pure steps of reading a revision (project/catalog.py).

Four kinds of entries, each keyed by everything its value depends on (cache.py):

- a model file (a bare SELECT in a models folder), keyed by its git blob SHA and rendering
  context (dialect, placeholders, schema): the relations it reads, so dependency order and
  keys need no parse; the tree is parsed only when its lineage must be recomputed;
- a DDL file (plain SQL, migrations or not), keyed by its blob SHA, its path, the part a
  migration framework applies, and the settings reading it depends on: each statement's
  effect (project/sql_files.py: the view it defines, the table it creates, the ALTER or
  DROP operation it applies). A file whose every statement has one is replayed in the
  sequence's order without being parsed; a file with any other statement (INSERT, a
  migration's one-time DML…) is parsed and applied again;
- the DDL of a revision (tables, renames, drops, events and issues after every non-model
  file applied in order), keyed by those files' blob SHAs and the names (not the contents)
  of the models among them, stored only when the files define no views of their own:
  editing models never re-reads migrations;
- a derived dataset, keyed by its definition and the fingerprint of the upstream schemas it
  was qualified against (columns, types, NOT NULL of every relation it reads, and how each
  written name resolved).

and, over them, the per-revision index (project/revision_index.py): a revision's catalog
with its derived datasets as their keys, so a warm run builds neither revision it has seen,
and makes a head whose only changes are model files from the base's index (``_patched``).

So a change re-analyses its own files, then exactly the consumers whose upstream schema
changed, transitively; everything else decodes from the cache, and only what the
comparison keeps is decoded at all. Results are identical with
and without it (tests/test_cache.py, tests/test_cache_ddl.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from impact_check.budget import NO_DEADLINE
from impact_check.cache import (
    ALGORITHM_VERSION,
    LAZY_SUFFIX,
    AnalysisCache,
    blob_sha,
    digest,
    sqlglot_version,
)
from impact_check.model import Catalog, Dataset, FileContent, Issue, Snapshot
from impact_check.project import migrations, revision_index
from impact_check.project.catalog import build_catalog, dbt_roots
from impact_check.project.codec import (
    CodecError,
    decode_catalog_marks,
    decode_column,
    decode_dataset,
    decode_lineage,
    encode_catalog_marks,
    encode_column,
    encode_dataset,
    expect_list,
    expect_str,
    expect_strs,
)
from impact_check.project.definitions import (
    LazyDefinition,
    ModelFile,
    StatementDefinition,
    ViewStatement,
    written_names,
)
from impact_check.project.revision_index import Indexed
from impact_check.project.settings import ReadSettings
from impact_check.project.sql_files import (
    Applied,
    CreateTable,
    Effect,
    at_unit,
    decode_applied,
    encode_applied,
    load_unit,
    read_text,
    replay,
    replayable,
    sql_plan,
    unit_dialect,
)
from impact_check.sql.ddl import DdlState, Definition, Inert

if TYPE_CHECKING:
    from impact_check.budget import Deadline
    from impact_check.config import Config
    from impact_check.project.migrations import Unit

Schema = dict[str, dict[str, "str | None"]]

# Parsed trees kept from reading the files to tracing their lineage, in characters of SQL
# (a tree weighs about 65 times its text): about 65 MB. Past it, a view is parsed again
# when its lineage is traced, so a 5,000-model project keeps its memory bounded.
KEPT_TREE_TEXT = 1_000_000


def read_settings(config: Config) -> ReadSettings:
    """What reading files uses of the configuration."""
    return ReadSettings(
        dialect=config.dialect,
        dialect_set="dialect" in config.model_fields_set,
        limits=config.limits,
        dialects=dict(config.dialects),
        default_schema=config.default_schema,
        default_database=config.default_database,
        models=dict(config.models),
        placeholders=dict(config.placeholders),
        dbt_vars=dict(config.dbt.vars),
    )


def load_catalog(
    snapshot: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None = None,
    external: Mapping[str, Mapping[str, str | None]] | None = None,
    cache: AnalysisCache | None = None,
    lazy: bool = False,
    deadline: Deadline | None = None,
) -> Catalog:
    """Build the catalog of one revision, reusing ``cache`` entries when given
    (BudgetExceeded when the deadline passes).

    ``lazy`` leaves cached lineage undecoded in ``catalog.pending`` (for load_pair, which
    decodes only what the check needs).
    """
    settings = read_settings(config)
    while True:
        catalog = build_catalog(
            snapshot,
            settings,
            manifest,
            external,
            CachedFiles(cache, settings).apply if cache is not None else None,
            CachedDerivations(cache) if cache is not None else None,
            deadline or NO_DEADLINE,
        )
        if lazy or decode_pending(catalog, set(catalog.datasets), cache):
            return catalog


def load_pair(
    base: Snapshot,
    head: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None,
    cache: AnalysisCache,
    deadline: Deadline | None = None,
) -> tuple[Catalog, Catalog]:
    """Both revisions' catalogs, holding only what the comparison can reach: the datasets
    that differ, everything downstream of them, and everything upstream of those (what
    binding them needs). The datasets left out are equal at both revisions and reach no
    change, so every finding is the same as with the whole catalogs."""
    while True:
        settings = read_settings(config)
        before = _indexed_catalog(base, config, manifest, cache, deadline)
        after = _from_index(head, settings, manifest, cache)
        if after is None and before.key is not None:  # the head from the base's index
            after = _patched(before, base, head, settings, cache)
            if after is not None:
                after.key = revision_index.index_key(head, settings)
                cache.put(after.key, revision_index.encode_index(after))
        if after is None:
            after = _indexed_catalog(head, config, manifest, cache, deadline)
        keep = relevant(before, after)
        first = _decode_deferred(before, keep, cache)
        second = _decode_deferred(after, keep, cache)
        if first is None or second is None:
            continue  # an index named an entry gone or invalid: rejected, built again
        catalogs = [
            revision_index.materialise(before, keep, first),
            revision_index.materialise(after, keep, second),
        ]
        valid = [decode_pending(c, keep, cache) for c in catalogs]
        if all(valid):
            return catalogs[0], catalogs[1]


def _indexed_catalog(
    snapshot: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None,
    cache: AnalysisCache,
    deadline: Deadline | None,
) -> Indexed:
    """A revision's catalog from its index when the cache holds it (derived datasets left
    undecoded), else built (lineage pending) and its index stored."""
    settings = read_settings(config)
    found = _from_index(snapshot, settings, manifest, cache)
    if found is not None:
        return found
    catalog = load_catalog(snapshot, config, manifest, cache=cache, lazy=True, deadline=deadline)
    indexed = revision_index.built(catalog)
    if manifest is None and revision_index.indexable(catalog):
        cache.put(
            revision_index.index_key(snapshot, settings), revision_index.encode_index(indexed)
        )
    return indexed


def _from_index(
    snapshot: Snapshot,
    settings: ReadSettings,
    manifest: dict[str, Any] | None,
    cache: AnalysisCache,
) -> Indexed | None:
    """A revision's catalog from its index, None when absent or invalid (then rejected)."""
    if manifest is not None:  # a dbt manifest handed in: never indexed
        return None
    key = revision_index.index_key(snapshot, settings)
    stored = cache.get(key)
    if stored is None:
        return None
    try:
        indexed = revision_index.decode_index(stored)
    except (CodecError, TypeError, ValueError):
        cache.reject(key)
        return None
    indexed.key = key
    return indexed


def _decode_deferred(
    indexed: Indexed, keep: set[str], cache: AnalysisCache
) -> dict[str, Dataset] | None:
    """The deferred and inline datasets the comparison keeps, decoded (lineage still
    pending); None, the index rejected, when one of them is missing or invalid."""
    out: dict[str, Dataset] = {}
    for name in indexed.inline.keys() & keep:
        try:
            out[name] = indexed.inline_dataset(name)
        except (CodecError, KeyError, TypeError, ValueError):
            if indexed.key is not None:
                cache.reject(indexed.key)
            return None
    for name, (key, updatable) in indexed.deferred.items():
        if name not in keep:
            continue
        hit = cached_dataset(cache, key, shared=True)
        if hit is None:
            if indexed.key is not None:
                cache.reject(indexed.key)
            return None
        # a trigger or rule made it updatable: a copy, the shared one stays as stored
        out[name] = replace(hit[0], updatable=True) if updatable else hit[0]
    return out


# -- the head from the base's index ----------------------------------------------------------

# Past this many changed files a head is built like any revision (the patch re-derives
# each changed model and what reads it one by one).
PATCH_MAX_FILES = 50


def _patched(
    base_index: Indexed,
    base: Snapshot,
    head: Snapshot,
    settings: ReadSettings,
    cache: AnalysisCache,
) -> Indexed | None:
    """The head's Indexed catalog made from the base's: only the changed model files are
    read, and their datasets re-derived, then exactly the readers whose upstream state
    changed, transitively (the same keys, so the same datasets, as a full build); every
    other dataset keeps the base's key and is never decoded.

    None (the head is then built in full) unless every changed file is a model file (a bare
    SELECT in a models folder) at both revisions, defining the same dataset, reading the
    same relations, and every re-derived reader is a model file too.
    """
    catalog = base_index.catalog
    at = catalog.derived_issues_at
    changed = [
        path
        for path in base.files.keys() | head.files.keys()
        if _sha(base.files.get(path)) != _sha(head.files.get(path))
    ]
    if at is None or not changed or len(changed) > PATCH_MAX_FILES:
        return None
    if not revision_index.indexable(catalog):
        return None
    files: dict[str, set[str]] = {}  # what each file defines at base
    for name, defined in catalog.defined.items():
        files.setdefault(defined.location.file, set()).add(name)
    if any(name not in catalog.keys for name in catalog.defined):
        return None  # a definition that did not parse (AN901): read in full
    derived = [n for n in base_index.order if n in catalog.keys]  # dependency order
    position = {n: i for i, n in enumerate(derived)}
    tail = catalog.issues[at:]
    if any(i.target not in position for i in tail):
        return None
    if any(i.location.file in changed for i in catalog.issues[:at]):
        return None
    from impact_check.project.derive import derive_definitions

    names = set(base_index.order)
    resolver = _fixed_resolver(names, settings.default_schema, settings.default_database)
    heads = _HeadFiles(head, settings, cache)
    definitions: dict[str, Definition] = {}
    for path in changed:
        found = heads.definitions(path, files.get(path, set())) if path in base.files else None
        if found is None:
            return None
        for definition in found.values():
            if _reads(definition, resolver) != catalog.reads.get(definition.name):
                return None
        definitions.update(found)
    readers: dict[str, set[str]] = {}
    for name, reads in catalog.reads.items():
        for read in reads:
            readers.setdefault(read, set()).add(name)
    scratch = Catalog()  # only the datasets a derivation reads (the resolver knows all)
    store = CachedDerivations(cache)
    fresh: dict[str, Dataset] = {}
    issues: dict[str, list[Issue]] = {}
    todo = set(definitions)
    while todo:
        name = min(todo, key=position.__getitem__)
        todo.discard(name)
        known = definitions.get(name)
        if known is not None:
            definition = known
        else:  # a reader, unchanged itself: its own file at head
            path = catalog.defined[name].location.file
            found = heads.definitions(path, files.get(path, set()))
            if found is None or name not in found:
                return None
            definition = found[name]
        for read in _reads(definition, resolver):
            if read in names and read != name:
                upstream = fresh.get(read) or _base_dataset(base_index, read, cache)
                if upstream is None:
                    return None
                scratch.datasets[read] = upstream
        start = len(scratch.issues)
        derive_definitions({name: definition}, scratch, resolver, store)
        dataset = scratch.datasets[name]
        fresh[name] = dataset
        issues[name] = scratch.issues[start:]
        before = _base_dataset(base_index, name, cache)
        if before is None:
            return None
        if _state(before) != _state(dataset):  # its readers bind against something new
            todo |= readers.get(name, set()) - fresh.keys()
    return _head_index(base_index, scratch, fresh, issues, definitions, derived)


def _head_index(
    base_index: Indexed,
    scratch: Catalog,
    fresh: dict[str, Dataset],
    issues: dict[str, list[Issue]],
    definitions: Mapping[str, Definition],
    derived: list[str],
) -> Indexed:
    """The base's Indexed catalog with the re-derived datasets, keys and issues in place."""
    base = base_index.catalog
    at = base.derived_issues_at
    assert at is not None
    catalog = Catalog(
        datasets={n: d for n, d in base.datasets.items() if n not in fresh},
        issues=list(base.issues[:at]),
        renamed_tables=base.renamed_tables,
        renamed_columns=base.renamed_columns,
        dropped=base.dropped,
        events=base.events,
        keys={**base.keys, **{n: scratch.keys[n] for n in fresh}},
        reads=base.reads,
        defined=dict(base.defined),
        derived_issues_at=at,
    )
    deferred = {n: v for n, v in base_index.deferred.items() if n not in fresh}
    inline = {n: v for n, v in base_index.inline.items() if n not in fresh}
    by_name: dict[str, list[Issue]] = {}
    for issue in base.issues[at:]:
        by_name.setdefault(str(issue.target), []).append(issue)
    for name in derived:
        catalog.issues += issues[name] if name in fresh else by_name.get(name, [])
    for name, dataset in fresh.items():
        was = base_index.deferred.get(name)
        if was is not None:
            updatable = was[1]
        elif name in base_index.inline:
            updatable = base_index.inline_dataset(name).updatable
        else:
            updatable = base.datasets[name].updatable
        key = scratch.pending.get(name)
        if key is not None:
            deferred[name] = (key, updatable)
        else:  # its derivation failed: no cached entry
            catalog.datasets[name] = replace(dataset, updatable=True) if updatable else dataset
    for name, definition in definitions.items():
        old = catalog.defined[name]
        catalog.defined[name] = replace(old, location=definition.location)
    return Indexed(catalog, list(base_index.order), deferred, inline=inline)


def _sha(content: FileContent | None) -> str | None:
    if content is None:
        return None
    if content.sha is not None and not content.missing:
        return content.sha  # git's blob: its bytes are never read for this
    if content.data is None:
        return f"unreadable:{content.reason}"
    return content.sha or blob_sha(content.data)


class _HeadFiles:
    """The definitions a changed (or re-derived) file gives at head, for ``_patched``."""

    def __init__(self, snapshot: Snapshot, settings: ReadSettings, cache: AnalysisCache) -> None:
        self.snapshot, self.settings, self.cache = snapshot, settings, cache
        self._units: dict[str, list[Unit]] | None = None

    def definitions(self, path: str, names: set[str]) -> dict[str, Definition] | None:
        """The definitions of ``path`` at head when it defines exactly ``names`` (what it
        defined at base) and nothing else: a model file, or a DDL file of views only."""
        content = self.snapshot.files.get(path)
        if content is None or content.data is None or not names:
            return None
        settings = self.settings
        schema = settings.model_schema(path)
        if schema is not None:
            name = settings.model_name(schema, PurePosixPath(path).stem)
            model = model_file(
                path,
                content,
                name,
                settings,
                settings.dialect_for(path),
                self.cache,
                lambda c: read_text(c, Catalog(), settings),
            )
            if model is None or names != {name}:
                return None
            return {name: LazyDefinition(model)}
        return self._views(path, content, names)

    def _views(
        self, path: str, content: FileContent, names: set[str]
    ) -> dict[str, Definition] | None:
        """A DDL file whose every statement defines a view (no table, ALTER, DROP…)."""
        if self._units is None:
            self._units = {}
            roots = dbt_roots(self.snapshot.files)
            if roots:
                return None
            for unit in sql_plan(self.snapshot, lambda p: False, self.settings).units:
                self._units.setdefault(unit.path, []).append(unit)
        units = self._units.get(path, [])
        if len(units) != 1:
            return None
        unit = units[0]
        files = CachedFiles(self.cache, self.settings)
        key = files.file_key(unit, content)
        text = read_text(content, Catalog(), self.settings)
        if text is None:
            return None
        effects = files._effects(key)
        if effects is None:  # not in the cache: parsed into a scratch state, then stored
            scratch = DdlState(Catalog(), _resolver(self.settings), self.settings.dialect)
            effects = []
            applied = load_unit(unit, text, scratch, self.settings, effects)
            if applied is None or not replayable(effects) or scratch.catalog.issues:
                return None
            self.cache.put(key, [encode_effect(effect) for effect in effects])
            self.cache.decoded[key] = effects
        views = [e for e in effects if isinstance(e, ViewStatement)]
        if len(views) != len(effects) or len({v.name for v in views}) != len(views):
            return None
        if {v.name for v in views} != names:
            return None
        dialect = unit_dialect(unit, self.settings) or self.settings.dialect_for(path)
        forward = migrations.forward_text(text, unit.lines)
        return {v.name: files._view(v, path, forward, dialect, key) for v in views}


def _fixed_names() -> type[Any]:
    from impact_check.sql.names import NameResolver

    class FixedNames(NameResolver):
        """A resolver that knows every name of the revision whatever it is told later:
        derive_definitions sets ``known`` to the names of the catalog it is handed, and
        the patch hands it only the datasets a derivation reads."""

        def __init__(self, names: set[str], schema: str | None, database: str | None) -> None:
            self.names = names
            super().__init__(names, schema, database)

        @property  # type: ignore[override]
        def known(self) -> set[str]:
            return self.names

        @known.setter
        def known(self, value: set[str]) -> None:
            pass  # always every name of the revision

    return FixedNames


def _fixed_resolver(names: set[str], schema: str | None, database: str | None) -> Any:
    """A NameResolver knowing exactly ``names`` (see ``_fixed_names``), sqlglot imported
    only when a patch runs."""
    return _fixed_names()(names, schema, database)


def _resolver(settings: ReadSettings) -> Any:
    from impact_check.sql.names import NameResolver

    return NameResolver(set(), settings.default_schema, settings.default_database)


def _reads(definition: Definition, resolver: Any) -> set[str]:
    """The relations a definition reads, resolved (what derive records in ``reads``)."""
    written = getattr(definition, "written_reads", None)
    if written is None:
        written = written_names(definition.query)[0]
    return {resolver.resolve(w) for w in written}


def _base_dataset(indexed: Indexed, name: str, cache: AnalysisCache) -> Dataset | None:
    """A dataset of the base revision, decoded (shared) from its cache entry if deferred."""
    found = indexed.catalog.datasets.get(name)
    if found is not None:
        return found
    if name in indexed.inline:
        try:
            return indexed.inline_dataset(name)
        except (CodecError, KeyError, TypeError, ValueError):
            return None
    if name not in indexed.deferred:
        return None
    key, updatable = indexed.deferred[name]
    hit = cached_dataset(cache, key, shared=True)
    if hit is None:
        return None
    return replace(hit[0], updatable=True) if updatable else hit[0]


def _state(dataset: Dataset) -> tuple[Any, ...]:
    """What readers of a dataset bind against (their keys' upstream state)."""
    from impact_check.project.derive import relation_schema

    not_null = sorted(c.name for c in dataset.columns.values() if c.not_null)
    return tuple(relation_schema(dataset).items()), tuple(not_null)


# -- the SQL files of a revision ------------------------------------------------------------


class CachedFiles:
    """project/catalog.py's ``apply_units``: model files, DDL files and the DDL state of a
    revision from cache where their keys match."""

    def __init__(self, cache: AnalysisCache, settings: ReadSettings) -> None:
        self.cache, self.settings = cache, settings
        self.tree_budget = KEPT_TREE_TEXT

    def apply(self, units: list[Unit], snapshot: Snapshot, state: DdlState) -> None:
        """Apply the units to ``state``, as catalog.build_catalog's loop does."""
        settings, cache = self.settings, self.cache
        items: list[tuple[Unit, Definition | None]] = []
        sequence: list[tuple[str, ...]] = []
        for unit in units:
            path = unit.path
            content = snapshot.files[path]
            schema = settings.model_schema(path)
            model = None
            if schema is not None:
                model = model_file(
                    path,
                    content,
                    settings.model_name(schema, PurePosixPath(path).stem),
                    settings,
                    settings.dialect_for(path),
                    cache,
                    lambda c: read_text(c, Catalog(), settings),
                    keep_tree=self.tree_budget > 0,
                )
            if model is not None:
                if model.query is not None:
                    self.tree_budget -= len(model.text)
                items.append((unit, LazyDefinition(model)))
                sequence.append(("model", path, model.name))
            else:
                items.append((unit, None))
                data = content.data
                sha = (content.sha or blob_sha(data)) if data is not None else str(content.reason)
                framework = f"{unit.framework}/{unit.role}/{unit.lines}/{unit.dialect}"
                sequence.append(("sql", path, sha, framework))
        key = ddl_key(sequence, settings)
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
                self.apply_file(unit, snapshot.files[unit.path], state)
            if not state.inserts and untouched(state.definitions, models):
                cache.put(key, encode_ddl(state.catalog, state.dialect))
        if units:
            state.dialect = settings.dialect_for(units[-1].path)

    def apply_file(self, unit: Unit, content: FileContent, state: DdlState) -> None:
        """One DDL file: replayed from its statements' effects when they are cached and say
        everything it does, else parsed and applied (and its effects stored)."""
        settings, cache = self.settings, self.cache
        text = read_text(content, state.catalog, settings)
        if text is None or content.data is None:
            return
        dialect = unit_dialect(unit, settings) or settings.dialect_for(unit.path)
        key = self.file_key(unit, content)
        effects = self._effects(key)
        if effects is not None:
            forward = migrations.forward_text(text, unit.lines)
            with at_unit(unit, state):
                replay(
                    effects,
                    unit.path,
                    state,
                    dialect,
                    lambda view: self._view(view, unit.path, forward, dialect, key),
                )
            return
        effects = []
        applied = load_unit(unit, text, state, settings, effects)
        if applied is None or not replayable(effects):
            return
        cache.put(key, [encode_effect(effect) for effect in effects])
        cache.decoded[key] = effects
        if any(
            isinstance(e, Applied) and not all(isinstance(o, Inert) for o in e.operations)
            for e in effects
        ):
            return  # an ALTER or DROP may have renamed or rewritten the file's own views
        last = {e.name: e for e in effects if isinstance(e, ViewStatement)}
        for view in last.values():  # the same definitions a replay makes (the same keys)
            definition = state.definitions.get(view.name)
            if type(definition) is Definition and definition.location.line == view.line:
                keep = self.tree_budget > 0
                if keep:
                    self.tree_budget -= len(applied) // max(len(last), 1)
                state.definitions[view.name] = self._view(
                    view, unit.path, applied, dialect, key, definition.query if keep else None
                )

    def file_key(self, unit: Unit, content: FileContent) -> str:
        """Key of a DDL file's effects (it must have data)."""
        settings = self.settings
        assert content.data is not None
        return digest(
            "ddl-file",
            ALGORITHM_VERSION,
            sqlglot_version(),
            content.sha or blob_sha(content.data),
            unit.path,
            unit.lines,
            unit.one_time,
            unit_dialect(unit, settings) or settings.dialect_for(unit.path),
            settings.key(),
        )

    def _effects(self, key: str) -> list[Effect] | None:
        shared = self.cache.decoded.get(key)  # the same file at the other revision
        if isinstance(shared, list):
            return shared
        stored = self.cache.get(key)
        if stored is None:
            return None
        try:
            effects = decode_effects(stored)
        except (CodecError, KeyError, TypeError, ValueError):
            self.cache.reject(key)
            return None
        self.cache.decoded[key] = effects
        return effects

    def _view(
        self,
        view: ViewStatement,
        path: str,
        text: str,
        dialect: str,
        key: str,
        tree: Any = None,
    ) -> StatementDefinition:
        limits = self.settings.limits
        return StatementDefinition(
            view,
            path,
            text,
            dialect,
            # the statement's own text, not the file's: editing one statement of a file
            # leaves the other statements' derived datasets cached
            digest("ddl-statement", view.text_digest, dialect, self.settings.key()),
            limits.max_nesting_depth,
            limits.max_statements_per_file,
            tree,
        )


def encode_effect(effect: Effect) -> list[Any]:
    """A statement's effect as plain JSON (only recorded effects are stored)."""
    if isinstance(effect, ViewStatement):
        return [
            "view",
            effect.index,
            effect.name,
            effect.kind,
            effect.line,
            effect.declared_columns,
            effect.reads,
            effect.tables,
            effect.text_digest,
        ]
    if isinstance(effect, Applied):
        return encode_applied(effect)
    assert isinstance(effect, CreateTable)
    return ["table", effect.index, effect.name, effect.if_not_exists, effect.dataset]


def decode_effects(value: Any) -> list[Effect]:
    """``encode_effect`` values back, validated field by field (CodecError otherwise)."""
    effects: list[Effect] = []
    for row in expect_list(value):
        if not isinstance(row, list) or not row:
            raise CodecError("bad effect")
        if row[0] == "view" and len(row) == 9:
            _, index, name, kind, line, declared, reads, tables, text = row
            if type(index) is not int or type(line) is not int:
                raise CodecError("bad view effect")
            effects.append(
                ViewStatement(
                    index,
                    expect_str(name),
                    expect_str(kind),
                    line,
                    expect_strs(declared),
                    expect_strs(reads),
                    expect_strs(tables),
                    expect_str(text),
                )
            )
        elif row[0] == "table" and len(row) == 5:
            _, index, name, exists, dataset = row
            if type(index) is not int or not isinstance(exists, bool):
                raise CodecError("bad table effect")
            decode_dataset(dataset)  # validated now: a replay never stops half-way
            effects.append(CreateTable(index, expect_str(name), exists, dataset))
        elif row[0] == "op":
            effects.append(decode_applied(row))
        else:
            raise CodecError("unknown effect")
    return effects


def model_file(
    path: str,
    content: FileContent,
    name: str,
    settings: ReadSettings,
    dialect: str,
    cache: AnalysisCache,
    read: Callable[[FileContent], str | None],
    keep_tree: bool = True,
) -> ModelFile | None:
    """The ModelFile of ``path``, or None when it is not one readable SELECT (the loader
    then reads it as it reads any SQL file, with its issues). A tree parsed here is kept
    for the lineage only with ``keep_tree`` (trees weigh about 65 times their text)."""
    if content.data is None:
        return None
    sha = content.sha or blob_sha(content.data)
    seen = ("model-file", path, sha, name, dialect)  # settings are the same all run long
    shared = cache.decoded.get(seen)  # the same file at the other revision
    if isinstance(shared, ModelFile):
        return shared
    key = digest(
        "model-file",
        ALGORITHM_VERSION,
        sqlglot_version(),
        sha,
        dialect,
        name,
        path,
        settings.placeholders,
        settings.limits.max_file_bytes,
    )
    stored = cache.get(key)
    if stored is not None:
        text = read(content)
        model = _decode_model(stored, path, name, key, text, dialect)
        if model is not None:
            cache.decoded[seen] = model
            return model
        cache.reject(key)
    text = read(content)
    if text is None:
        return None
    from sqlglot import exp

    from impact_check.project.parallel import tick
    from impact_check.sql.names import normalize
    from impact_check.sql.parse import parse_file

    tick()
    statements = parse_file(text, dialect)
    if len(statements) != 1 or not isinstance(statements[0].expression, exp.Query):
        return None
    query = normalize(statements[0].expression, dialect)
    reads, tables = written_names(query)
    cache.put(key, {"line": statements[0].line, "reads": reads, "tables": tables})
    kept = query if keep_tree else None
    model = ModelFile(path, name, key, statements[0].line, reads, tables, text, dialect, kept)
    cache.decoded[seen] = model
    return model


def _decode_model(
    stored: Any, path: str, name: str, key: str, text: str | None, dialect: str
) -> ModelFile | None:
    if text is None or not isinstance(stored, dict):
        return None
    line, reads, tables = stored.get("line"), stored.get("reads"), stored.get("tables")
    if type(line) is not int or not isinstance(reads, list) or not isinstance(tables, list):
        return None
    if not all(isinstance(v, str) for v in [*reads, *tables]):
        return None
    return ModelFile(path, name, key, line, list(reads), list(tables), text, dialect)


# -- the DDL of a revision ----------------------------------------------------------------


def ddl_key(sequence: list[tuple[str, ...]], settings: ReadSettings) -> str:
    """Key of the DDL state: the non-model files in order, interleaved with model names."""
    return digest("ddl", ALGORITHM_VERSION, sqlglot_version(), sequence, settings.key())


def _restore_ddl(cache: AnalysisCache, key: str, state: DdlState) -> bool:
    stored = cache.get(key)
    if stored is None:
        return False
    restored = Catalog()
    try:
        decode_ddl(stored, restored)
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


def encode_ddl(catalog: Catalog, dialect: str) -> dict[str, Any]:
    """The catalog after the DDL files (only when no model definition was touched)."""
    return {
        "datasets": [encode_dataset(ds) for ds in catalog.datasets.values()],
        **encode_catalog_marks(catalog),
        "dialect": dialect,
    }


def decode_ddl(value: Any, catalog: Catalog) -> str:
    """Restore ``encode_ddl``'s state into an empty catalog; the final DDL dialect."""
    if not isinstance(value, dict):
        raise CodecError("expected an object")
    try:
        for item in expect_list(value["datasets"]):
            dataset = decode_dataset(item)
            catalog.datasets[dataset.name] = dataset
        decode_catalog_marks(value, catalog)
        return expect_str(value["dialect"])
    except KeyError as err:
        raise CodecError(f"missing field {err}") from err


# -- derived datasets -------------------------------------------------------------------


class CachedDerivations:
    """project/derive.py's DerivedStore over the analysis cache."""

    def __init__(self, cache: AnalysisCache) -> None:
        self.cache = cache

    def key(
        self,
        definition: Definition,
        schema: Schema,
        catalog: Catalog,
        resolve: Callable[[str], str],
        states: dict[str, str],
    ) -> str:
        return derive_key(definition, schema, catalog, resolve, states)

    def get(self, key: str, shared: bool) -> tuple[Dataset, list[str]] | None:
        return cached_dataset(self.cache, key, shared)

    def put(self, key: str, encoded: dict[str, Any], shared: bool) -> tuple[Dataset, list[str]]:
        put_derived(self.cache, key, encoded)
        fresh = decode_dataset(encoded, lineage=False)
        stars = star_unknown(encoded)
        if shared:
            share_dataset(self.cache, key, fresh, stars)
        return fresh, stars


def derive_key(
    definition: Definition,
    schema: Schema,
    catalog: Catalog,
    resolve: Callable[[str], str],
    states: dict[str, str] | None = None,
) -> str:
    """Key of a derived dataset: its definition and the upstream schemas it reads.

    ``states`` memoises the digest of each upstream relation's state (a staging model is
    read by dozens): the caller drops a name from it when that relation changes."""
    identity = getattr(definition, "cache_key", None)
    tables = getattr(definition, "written_tables", None)
    if identity is None or tables is None:
        from impact_check.sql.tree_digest import tree_digest

        identity = tree_digest(definition.query)
        tables = written_names(definition.query)[1]
    memo = states if states is not None else {}
    upstream = []
    for written in tables:
        name = resolve(written)
        state = memo.get(name)
        if state is None:
            state = memo[name] = digest(_relation_state(name, schema, catalog))
        upstream.append([written, name, state])
    return digest(
        "derived",
        ALGORITHM_VERSION,
        sqlglot_version(),
        identity,
        definition.name,
        definition.kind,
        definition.dialect,
        definition.declared_columns,
        str(definition.location.file),
        definition.location.line,
        upstream,
    )


def _relation_state(name: str, schema: Schema, catalog: Catalog) -> list[Any]:
    columns = schema.get(name)
    dataset = catalog.datasets.get(name)
    not_null = sorted(c.name for c in dataset.columns.values() if c.not_null) if dataset else None
    return [None if columns is None else list(columns.items()), not_null]


def cached_dataset(
    cache: AnalysisCache, key: str, shared: bool = False
) -> tuple[Dataset, list[str]] | None:
    """The derived dataset stored under ``key`` (validated, without its lineage: that is
    decoded by ``decode_pending``, and only if the check needs it) and the relations its
    `*` could not expand; None when absent or invalid.

    ``shared``: the caller never changes the dataset, so the object decoded for the other
    revision's catalog may be handed out again (see ``share_dataset``)."""
    if shared and key in cache.decoded:
        found: tuple[Dataset, list[str]] = cache.decoded[key]
        return found
    stored = cache.get(key)
    if stored is None:
        return None
    try:
        dataset = decode_dataset(stored, lineage=False)
        stars = star_unknown(stored)
    except (CodecError, KeyError, TypeError, ValueError):
        cache.reject(key)
        return None
    if shared:
        share_dataset(cache, key, dataset, stars)
    return dataset, stars


def lineage_key(key: str) -> str:
    """Where a derived dataset's lineage is stored: apart from the rest of the entry, which
    every warm run reads for every model, while the lineage (four fifths of the text) is
    parsed only for the datasets the comparison needs."""
    return key + LAZY_SUFFIX


def put_derived(cache: AnalysisCache, key: str, encoded: dict[str, Any]) -> None:
    """Store an ``encode_dataset`` value as its entry (the lineage replaced by a stub
    holding ``star_unknown``) and its lineage entry."""
    lineage = encoded["lineage"]
    stub = None if lineage is None else {"star_unknown": lineage["star_unknown"]}
    cache.put(key, {**encoded, "lineage": stub})
    cache.put(lineage_key(key), lineage)


def share_dataset(cache: AnalysisCache, key: str, dataset: Dataset, stars: list[str]) -> None:
    """Offer a dataset nobody changes to the other revision's catalog (same key: same
    definition, same upstream state, so the same dataset and, once decoded, lineage)."""
    cache.decoded[key] = (dataset, stars)


def star_unknown(stored: Any) -> list[str]:
    """The relations an encoded dataset's `*` could not expand (CodecError if malformed)."""
    raw = stored["lineage"]
    stars = raw["star_unknown"] if isinstance(raw, dict) else None
    if not isinstance(stars, list) or not all(isinstance(s, str) for s in stars):
        raise CodecError("bad lineage")
    return stars


def decode_pending(catalog: Catalog, keep: set[str], cache: AnalysisCache | None) -> bool:
    """Decode the cached lineage of the datasets in ``keep``, drop the other datasets.

    False when an entry turned out invalid: it is rejected, and the caller loads again (the
    entry is then recomputed).
    """
    valid = True
    for name in list(catalog.datasets):
        if name not in keep:
            del catalog.datasets[name]
            continue
        key = catalog.pending.get(name)
        if key is None or catalog.datasets[name].lineage is not None:
            continue  # nothing pending, or shared and decoded for the other catalog
        stored = cache.get(lineage_key(key)) if cache is not None else None
        try:
            catalog.datasets[name].lineage = decode_lineage(stored)
        except (CodecError, KeyError, TypeError, ValueError):
            valid = False
            if cache is not None:
                cache.reject(key)
                cache.reject(lineage_key(key))
    catalog.pending.clear()
    return valid


def relevant(before: Catalog | Indexed, after: Catalog | Indexed) -> set[str]:
    """Names of the datasets a comparison of the two catalogs needs (see load_pair)."""
    revisions = [r if isinstance(r, Indexed) else revision_index.built(r) for r in (before, after)]
    catalogs = [r.catalog for r in revisions]
    if any(c.contracts for c in catalogs):  # matched to datasets by name: keep every one
        return revisions[0].names() | revisions[1].names()
    reads_of: dict[str, set[str]] = {}  # data flow, INSERT … SELECT into a table included
    for catalog in catalogs:
        # a head made from the base's index shares the base's reads: merged once
        shared = catalog is catalogs[1] and catalog.reads is catalogs[0].reads
        for name, reads in {} if shared else catalog.reads.items():
            reads_of.setdefault(name, set()).update(reads)
        for load in catalog.loads:
            reads_of.setdefault(load.target, set()).update(
                load.lineage.tables if load.lineage else ()
            )
    readers: dict[str, set[str]] = {}
    for name, reads in reads_of.items():
        for read in reads:
            readers.setdefault(read, set()).add(name)
    seeds = _closure(_changed(revisions[0], revisions[1]), readers)
    for catalog in catalogs:
        for consumer in catalog.consumers:
            seeds.update(consumer.reads)
        seeds.update(load.target for load in catalog.loads)
    return _closure(seeds, reads_of)


def _closure(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    stack = list(start)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _same_table(first: Indexed, second: Indexed, name: str) -> bool:
    """Whether a dataset without a key (a table of the DDL) is stored the same at both."""
    if name in first.inline and name in second.inline:  # both as stored: no decoding
        return bool(first.inline[name] == second.inline[name])
    try:
        datasets = [
            r.inline_dataset(name) if name in r.inline else r.catalog.datasets[name]
            for r in (first, second)
        ]
    except (CodecError, KeyError, TypeError, ValueError):
        return False  # kept, so decoding it rejects the index (load_pair)
    return encode_dataset(datasets[0]) == encode_dataset(datasets[1])


def _changed(first: Indexed, second: Indexed) -> set[str]:
    """Datasets that differ between the catalogs (content key, dbt metadata, DDL state)."""
    before, after = first.catalog, second.catalog
    changed: set[str] = set()
    names_before, names_after = first.names(), second.names()
    for name in names_before | names_after:
        if name not in names_before or name not in names_after:
            changed.add(name)
            continue
        ka, kb = before.keys.get(name), after.keys.get(name)
        # tables of the DDL have no key: compared as stored
        same = _same_table(first, second, name) if ka is None and kb is None else ka == kb
        if not same or before.model_meta.get(name) != after.model_meta.get(name):
            changed.add(name)
    for old, new in before.renamed_tables.items() ^ after.renamed_tables.items():
        changed.update((old, new))
    for marks in ((before.dropped, after.dropped), (before.events, after.events)):
        for node in marks[0].keys() | marks[1].keys():
            if marks[0].get(node) != marks[1].get(node):
                changed.add(node.split("#", 1)[0])
    for (table, _old), _new in before.renamed_columns.items() ^ after.renamed_columns.items():
        changed.add(table)
    return changed


def untouched(definitions: Mapping[str, Definition], models: Mapping[str, Definition]) -> bool:
    """Whether the DDL left the model definitions alone (none dropped, renamed, replaced)
    and created none of its own: only then is the DDL state independent of model content."""
    return definitions.keys() == models.keys() and all(definitions[n] is models[n] for n in models)


__all__ = [
    "ModelFile",
    "cached_dataset",
    "decode_column",
    "derive_key",
    "encode_column",
    "put_derived",
]
