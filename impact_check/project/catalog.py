"""What a repository defines at one revision: files in, Catalog out.

Pure: plain SQL files (project/sql_files.py), dbt projects (project/dbt.py), then the
lineage of every derived dataset (project/derive.py) and the contracts
(project/contracts.py). The cache layer (project/incremental.py) wraps two steps by
handing in ``apply_units`` (the SQL files, from cached effects) and ``store`` (derived
datasets kept from earlier runs); without them everything is read and derived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.model import Catalog, Column, Dataset, Defined, Issue, Snapshot
from impact_check.project.definitions import StatementDefinition
from impact_check.project.derive import DerivedStore, derive
from impact_check.project.migrations import Unit
from impact_check.project.parallel import paused_gc
from impact_check.project.settings import ReadSettings
from impact_check.project.sql_files import load_unit, read_text, sql_plan
from impact_check.sql.ddl import DdlState
from impact_check.sql.names import NameResolver

# Where `dbt deps` installs packages: their projects are a project's packages, not projects.
_PACKAGE_FOLDERS = {"dbt_packages", "dbt_modules"}

# The SQL units of a revision applied to its DDL state (the cache layer's version reads
# unchanged files from cached effects)
ApplyUnits = Callable[[list[Unit], Snapshot, DdlState], None]


def dbt_roots(paths: Iterable[str]) -> list[str]:
    """Directories holding a dbt_project.yml (``""`` for the repository root), installed
    packages left out."""
    roots = []
    for path in paths:
        if "dbt_project.yml" not in path:  # most files: no PurePosixPath (warm runs ask thrice)
            continue
        p = PurePosixPath(path)
        if p.name == "dbt_project.yml" and not _PACKAGE_FOLDERS & set(p.parts[:-1]):
            roots.append("" if str(p.parent) == "." else str(p.parent) + "/")
    return roots


def in_dbt_project(path: str, roots: list[str]) -> bool:
    """Whether ``path`` lies inside one of the dbt project directories."""
    return any(path.startswith(root) for root in roots)


def build_catalog(
    snapshot: Snapshot,
    settings: ReadSettings,
    manifest: dict[str, Any] | None = None,
    external: Mapping[str, Mapping[str, str | None]] | None = None,
    apply_units: ApplyUnits | None = None,
    store: DerivedStore | None = None,
    deadline: Deadline = NO_DEADLINE,
) -> Catalog:
    """Build the catalog of one revision (BudgetExceeded when the deadline passes).

    ``external`` describes relations the repository does not define (read from a warehouse,
    see :func:`usable_external`): they bind like tables, with the columns given.
    """
    catalog = Catalog()
    resolver = NameResolver(set(), settings.default_schema, settings.default_database)
    state = DdlState(catalog, resolver, settings.dialect)
    dialect = settings.dialect
    if external:  # a migration may alter a table only the warehouse (or a Delta log) has
        state.outside = lambda name: (
            _external_dataset(name, external[name], dialect) if name in external else None
        )
    roots = dbt_roots(snapshot.files)
    plan = sql_plan(snapshot, lambda path: in_dbt_project(path, roots), settings)
    with paused_gc():
        if apply_units is not None and not external:  # cached effects know nothing of outside
            deadline.check("reading SQL files")
            apply_units(plan.units, snapshot, state)
        else:
            for unit in plan.units:
                deadline.check("reading SQL files")
                text = read_text(snapshot.files[unit.path], catalog, settings)
                load_unit(unit, text, state, settings)
        # added once the schema is read: what the sequences say of their own files names no
        # model or view of this schema (coverage)
        checked = [
            issue
            for sequence in plan.checked
            for issue in _check_sequence(sequence, snapshot, settings, apply_units, deadline)
        ]
        if roots:
            from impact_check.project.dbt import load_projects

            load_projects(
                snapshot,
                roots,
                state,
                catalog,
                dialect,
                settings.limits,
                manifest,
                settings.dbt_vars,
                deadline,
                settings.configured_dialect,
            )
        if external:
            _add_external(catalog, external, dialect)
        _settle(state)
        catalog.derived_issues_at = len(catalog.issues)
        derive(state, catalog, resolver, store, deadline)
    named = {entry.name for entry in catalog.defined.values()}  # dbt models: keyed by file
    for name, definition in state.definitions.items():
        if name not in named:
            catalog.defined.setdefault(name, Defined(name, definition.location))
    for issue in catalog.issues:  # views and model files that did not parse
        target = issue.target
        if issue.rule == "AN901" and target and target not in named:
            catalog.defined.setdefault(target, Defined(target, issue.location, issue.message))
    catalog.issues.extend(checked)
    from impact_check.project.contracts import load_contracts

    catalog.contracts = load_contracts(snapshot, catalog, dialect)
    return catalog


def _check_sequence(
    units: list[Unit],
    snapshot: Snapshot,
    settings: ReadSettings,
    apply_units: ApplyUnits | None,
    deadline: Deadline,
) -> list[Issue]:
    """A migration sequence a schema dump stands for (project/dumps.py), applied on an empty
    state of its own: what it says of its own files (TB109/TB110: a migration that fails on
    deploy; what does not parse). Its tables and views are not the schema: the dump's are."""
    catalog = Catalog()
    resolver = NameResolver(set(), settings.default_schema, settings.default_database)
    state = DdlState(catalog, resolver, settings.dialect)
    deadline.check("checking a migration sequence")
    if apply_units is not None:
        apply_units(units, snapshot, state)
    else:
        for unit in units:
            text = read_text(snapshot.files[unit.path], catalog, settings)
            load_unit(unit, text, state, settings)
    return catalog.issues


def _settle(state: DdlState) -> None:
    """A view replayed from its file's effects whose tree later statements asked for (a
    rename rewriting stored definitions, a migration binding against it) is derived from
    its tree as it now is, like a view whose file was parsed."""
    for name, definition in list(state.definitions.items()):
        if isinstance(definition, StatementDefinition) and definition.disturbed:
            state.definitions[name] = definition.plain()


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
