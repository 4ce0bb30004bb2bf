"""Derived datasets: every definition's lineage, in dependency order, against one growing
schema (so ``SELECT *`` chains carry columns downstream), then INSERT … SELECT loads.

Pure: what a cache may reuse comes in through a :class:`DerivedStore` (the cache layer's
project/incremental.py implements it); without one, every dataset is derived.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from sqlglot import exp

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.model import Catalog, Column, Dataset, Issue, Lineage, Load
from impact_check.project import parallel
from impact_check.project.codec import decode_dataset, encode_dataset
from impact_check.project.definitions import fresh_query, written_names
from impact_check.sql.ddl import DdlState, Definition, InsertSelect
from impact_check.sql.lineage import GUESSED_NAMES, query_lineage, rewrite_tables
from impact_check.sql.names import NameResolver
from impact_check.sql.placeholders import described, is_placeholder_name
from impact_check.sql.tree_digest import tree_digest

# Kinds of definitions that are routines (functions, procedures): their unbound names may
# be variables (diff.ROUTINES; the analysis layer is not imported from here).
ROUTINES = ("function", "procedure")

Schema = dict[str, dict[str, "str | None"]]


class DerivedStore(Protocol):
    """Derived datasets kept from earlier runs (the cache layer implements it)."""

    def key(
        self,
        definition: Definition,
        schema: Schema,
        catalog: Catalog,
        resolve: Callable[[str], str],
        states: dict[str, str],
    ) -> str:
        """Everything a derived dataset depends on: its definition and upstream state."""
        ...

    def get(self, key: str, shared: bool) -> tuple[Dataset, list[str]] | None:
        """The dataset stored under ``key`` (lineage left pending) and the relations its
        `*` could not expand; None when absent or invalid."""
        ...

    def put(self, key: str, encoded: dict[str, Any], shared: bool) -> tuple[Dataset, list[str]]:
        """Store a freshly derived dataset; it back without its lineage (left pending)."""
        ...


def derive(
    state: DdlState,
    catalog: Catalog,
    resolver: NameResolver,
    store: DerivedStore | None,
    deadline: Deadline,
) -> None:
    """Lineage for every derived dataset, in dependency order, then for INSERT … SELECT."""
    schema = derive_definitions(state.definitions, catalog, resolver, store, deadline)
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
    store: DerivedStore | None = None,
    deadline: Deadline | None = None,
) -> dict[str, dict[str, str | None]]:
    """Add every definition's dataset to the catalog, in dependency order; the final schema.

    With ``store``, a dataset whose definition and upstream schemas are unchanged is
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
            store.key(d, schema, catalog, resolver.resolve, states) if store else "" for d in wave
        ]
        found: list[Dataset | None] = []
        shareable = [d.name not in catalog.model_meta for d in wave]  # _apply_meta changes it
        for definition, key, shared in zip(wave, keys, shareable):
            hit = store.get(key, shared) if store else None
            if hit is not None:  # lineage decoded later, and only if the check needs it
                catalog.pending[definition.name], star_unknown[definition.name] = key, hit[1]
            found.append(hit[0] if hit else None)
        if store is not None:
            catalog.keys.update((d.name, k) for d, k in zip(wave, keys))
        pending = [i for i, ds in enumerate(found) if ds is None]
        task = functools.partial(_derive_one, [wave[i] for i in pending], schema, resolver, catalog)
        for i, (status, value) in zip(pending, parallel.run(len(pending), task)):
            definition = wave[i]
            if status == "ok":
                if store is None:
                    found[i] = decode_dataset(value)
                    continue
                # like a hit: the lineage stays in the cache (as text) until needed
                found[i], star_unknown[definition.name] = store.put(keys[i], value, shareable[i])
                catalog.pending[definition.name] = keys[i]
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
            written = written_names(definition.query)[0]
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
        query = fresh_query(definition)
        rewrite_tables(query, resolver.resolve)
        return query

    first = fresh_query(definition)
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
