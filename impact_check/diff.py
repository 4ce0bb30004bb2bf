"""Catalog at base x catalog at head -> the list of changes.

Tables from DDL are compared column by column. Derived datasets are compared only where
their own definition changed (or they appeared, disappeared or were renamed): a view whose
columns moved only because something upstream changed is impact, not a change.
"""

from __future__ import annotations

from collections.abc import Iterator

from impact_check.model import Catalog, Change, Column, Dataset, Location, column_id

# Functions and procedures are consumers (sql/routines.py), never changes of their own:
# callers of a routine are not modelled.
ROUTINES = ("function", "procedure")


# Relations the checker stands in for without a definition: what a ref() names when no
# analysed file defines it (a package's model, a snapshot the project's manifest later
# places elsewhere). They are not the repository's, so their disappearing drops nothing.
STAND_IN_ORIGINS = frozenset({"package", "package-not-installed"})


def diff_catalogs(
    base: Catalog, head: Catalog, declared: dict[str, str] | None = None
) -> list[Change]:
    """Every change between two revisions, in a stable order, with ids ``C1``, ``C2``…

    ``declared`` holds renames the author declared (``impact-check: rename OLD NEW``).
    """
    _declare(base, head, declared or {})
    changes = [c for c in _relation_changes(base, head) if c.dataset_kind not in ROUTINES]
    for index, change in enumerate(changes, 1):
        change.id = f"C{index}"
    return changes


def _relation_changes(base: Catalog, head: Catalog) -> Iterator[Change]:
    renamed = _renamed_tables(base, head)
    for old, new in sorted(renamed.items()):
        yield _change(
            "table_renamed", base.datasets[old], None, old, new, _where(head, old, new, base)
        )
    for name in sorted(set(base.datasets) - set(head.datasets) - set(renamed)):
        if base.datasets[name].origin in STAND_IN_ORIGINS:
            continue  # never defined by the repository: its going is no drop
        version = base.model_meta.get(name, {}).get("version")
        kind = "version_removed" if version else "table_dropped"
        yield _change(
            kind, base.datasets[name], None, name, version, _where(head, name, name, base)
        )
    for name in sorted(set(head.datasets) - set(base.datasets) - set(renamed.values())):
        dataset = head.datasets[name]
        yield _change("table_added", dataset, None, None, name, dataset.location)
    for name in sorted(set(base.datasets) & set(head.datasets)):
        yield from _dataset_changes(base.datasets[name], head.datasets[name], base, head)
    for old, new in sorted(renamed.items()):
        yield from _dataset_changes(base.datasets[old], head.datasets[new], base, head, rename=True)


def _declare(base: Catalog, head: Catalog, declared: dict[str, str]) -> None:
    """Record declared renames (``impact-check: rename OLD NEW``) as if head had run them."""
    for old, new in declared.items():
        old, new = old.replace("#", "."), new.replace("#", ".")
        if old in base.datasets:
            if "." not in new and "." in old:
                new = old.rsplit(".", 1)[0] + "." + new
            head.renamed_tables.setdefault(old, new)
            continue
        relation, _, column = old.rpartition(".")
        if relation in base.datasets and column in base.datasets[relation].columns:
            head.renamed_columns.setdefault((relation, column), new.rpartition(".")[2])


def _renamed_tables(base: Catalog, head: Catalog) -> dict[str, str]:
    """Renames: ALTER … RENAME new at head, or a drop + add with the same definition."""
    renamed: dict[str, str] = {}
    for old, new in head.renamed_tables.items():
        final = _follow(head.renamed_tables, old)
        if base.renamed_tables.get(old) == new or old not in base.datasets:
            continue
        if old in head.datasets:
            continue  # a compatibility view keeps the old name alive: not a breaking rename
        if final in head.datasets and final not in base.datasets:
            renamed[old] = final
    gone = set(base.datasets) - set(head.datasets) - set(renamed)
    added = set(head.datasets) - set(base.datasets) - set(renamed.values())
    for old in sorted(gone):
        twins = [
            new for new in sorted(added) if _same_shape(base.datasets[old], head.datasets[new])
        ]
        if len(twins) == 1:
            renamed[old] = twins[0]
            added.discard(twins[0])
    return renamed


def _follow(renames: dict[str, str], name: str) -> str:
    seen = {name}
    while name in renames and renames[name] not in seen:
        name = renames[name]
        seen.add(name)
    return name


def _same_shape(a: Dataset, b: Dataset) -> bool:
    if a.derived or b.derived:
        return a.definition is not None and a.definition == b.definition
    return bool(a.columns) and [(c.name, c.type) for c in a.columns.values()] == [
        (c.name, c.type) for c in b.columns.values()
    ]


def _dataset_changes(
    old: Dataset, new: Dataset, base: Catalog, head: Catalog, rename: bool = False
) -> Iterator[Change]:
    if old.kind != new.kind:
        yield _change("materialization_changed", new, None, old.kind, new.kind, new.location)
    yield from _declared_changes(old, new)
    if old.derived and new.derived and old.definition == new.definition and not rename:
        return
    semantic = (old.derived or new.derived) and old.definition != new.definition
    if semantic:
        yield from _row_changes(old, new)
    if not (old.columns_known and new.columns_known):
        return  # `*` over an unknown relation: column changes cannot be listed (AN902)
    renames = _column_renames(old, new, head)
    if semantic:
        yield from _value_changes(old, new, renames)
    for col, to in renames.items():
        yield _change("column_renamed", new, col, col, to, _where(head, *_ids(new, col, to), base))
    for col in old.columns:
        if col not in new.columns and col not in renames:
            yield _change(
                "column_dropped",
                new,
                col,
                old.columns[col].type,
                None,
                _where(head, column_id(new.name, col), column_id(old.name, col), base),
            )
    for col in new.columns:
        if col not in old.columns and col not in renames.values():
            yield _change(
                "column_added",
                new,
                col,
                None,
                _describe(new.columns[col]),
                _where(head, column_id(new.name, col), column_id(new.name, col), base),
            )
    for col in old.columns:
        target = renames.get(col, col)
        if target in new.columns:
            tests_only = new.derived and _nullability_from_tests(old, new, col)
            yield from _column_changes(
                new, old.columns[col], new.columns[target], base, head, tests_only
            )
    for key, sql in old.constraints.items():
        if key not in new.constraints and sql not in new.constraints.values():
            yield _change(
                "constraint_changed", new, None, sql, None, _where(head, new.name, old.name, base)
            )
    kept = [renames.get(c, c) for c in old.columns if renames.get(c, c) in new.columns]
    now = [c for c in new.columns if c in kept]
    if kept != now:
        yield _change("column_reordered", new, None, kept, now, new.location)


def _declared(dataset: Dataset) -> dict[str, Column]:
    """What a schema file promises about a dataset's columns (dbt schema.yml, contracts)."""
    return dataset.declared or ({} if dataset.derived else dataset.columns)


def _declared_changes(old: Dataset, new: Dataset) -> Iterator[Change]:
    """schema.yml / contract promises that changed: enforcement, accepted values, references.

    Declared columns that disappear are not changes by themselves (documentation); under an
    enforced contract they make the model fail to build, which bind.py reports.
    """
    if old.contract and not new.contract:
        yield _change("contract_changed", new, None, "enforced", "not enforced", new.location)
    before, after = _declared(old), _declared(new)
    for name in sorted(set(before) & set(after)):
        was, now = before[name].accepted_values, after[name].accepted_values
        if was is not None and was != now:
            yield _change(
                "accepted_values_changed", new, name, list(was), now and list(now), new.location
            )
        if before[name].references and not after[name].references:
            yield _change(
                "constraint_changed",
                new,
                None,
                f"relationships test {name} -> {before[name].references}",
                None,
                new.location,
            )
        tested = False
        for test in ("not_null", "unique"):
            had, has = _test(before[name], test), _test(after[name], test)
            if had and not has:
                yield _change("test_removed", new, name, f"{test} test", None, new.location)
            elif had == "strict" and has == "relaxed":
                what = f"{test} test relaxed"
                yield _change("test_relaxed", new, name, f"{test} test", what, new.location)
            tested = tested or (test == "unique" and had is not None)
        if new.derived and before[name].unique and not after[name].unique and not tested:
            yield _change("constraint_changed", new, name, "UNIQUE", None, new.location)


def _test(column: Column, test: str) -> str | None:
    """ "strict", "relaxed" or None: whether a dbt test of this name checks the column."""
    if test in column.tests:
        return "strict"
    return "relaxed" if f"{test}:relaxed" in column.tests else None


def _nullability_from_tests(old: Dataset, new: Dataset, column: str) -> bool:
    """A derived column's NOT NULL lost because a dbt not_null test went (CN407/CN409
    report that; it is no constraint)."""
    before, after = old.declared.get(column), new.declared.get(column)
    return (
        before is not None
        and _test(before, "not_null") == "strict"
        and (after is None or _test(after, "not_null") != "strict")
    )


_ROW_CHANGES = {
    "filter": "filter_changed",
    "grain": "grain_changed",
    "join": "join_changed",
    "source": "source_changed",
    "limit": "limit_changed",
    "cardinality": "cardinality_changed",
}


def _row_changes(old: Dataset, new: Dataset) -> Iterator[Change]:
    """Row-level changes of a derived definition (every consumer is affected)."""
    before = old.lineage.fingerprints if old.lineage else None
    after = new.lineage.fingerprints if new.lineage else None
    if before is None or after is None:
        if old.derived and new.derived:  # lineage failed on one side: say what we know
            yield _change("expression_changed", new, None, None, None, new.location)
        return
    for aspect, kind in _ROW_CHANGES.items():
        if before.rows.get(aspect) != after.rows.get(aspect):
            yield _change(kind, new, None, None, None, new.location)


def _value_changes(old: Dataset, new: Dataset, renames: dict[str, str]) -> Iterator[Change]:
    """Columns whose expression changed (only their consumers are affected)."""
    before = old.lineage.fingerprints if old.lineage else None
    after = new.lineage.fingerprints if new.lineage else None
    if before is None or after is None:
        return
    for col in old.columns:
        target = renames.get(col, col)
        if target not in new.columns:
            continue
        if before.columns.get(col) == after.columns.get(target):
            continue
        aggregated = before.aggregated.get(col) != after.aggregated.get(target)
        kind = "aggregation_changed" if aggregated else "expression_changed"
        yield _change(kind, new, target, None, None, new.location)


def _ids(dataset: Dataset, old: str, new: str) -> tuple[str, str]:
    return column_id(dataset.name, old), column_id(dataset.name, new)


def _column_renames(old: Dataset, new: Dataset, head: Catalog) -> dict[str, str]:
    """Old column -> new name: RENAME COLUMN at head, or a derived output whose lineage stayed."""
    renames: dict[str, str] = {}
    for (table, col), to in head.renamed_columns.items():
        if table in (old.name, new.name) and col in old.columns and col not in new.columns:
            final = to
            while (table, final) in head.renamed_columns and final not in new.columns:
                final = head.renamed_columns[(table, final)]
            if final in new.columns and final not in old.columns:
                renames[col] = final
    if old.lineage is not None and new.lineage is not None:
        gone = [c for c in old.columns if c not in new.columns and c not in renames]
        added = [c for c in new.columns if c not in old.columns]
        for col in gone:
            twin = _same_fingerprint(old, new, col, added, renames)
            if twin is not None:
                renames[col] = twin
                continue
            sources = old.lineage.columns.get(col)
            twins = [
                a
                for a in added
                if sources and new.lineage.columns.get(a) == sources and a not in renames.values()
            ]
            if len(twins) == 1:
                renames[col] = twins[0]
    return renames


def _same_fingerprint(
    old: Dataset, new: Dataset, col: str, added: list[str], renames: dict[str, str]
) -> str | None:
    """The one added column computing exactly what ``col`` computed, if any."""
    before = old.lineage.fingerprints if old.lineage else None
    after = new.lineage.fingerprints if new.lineage else None
    if before is None or after is None or col not in before.columns:
        return None
    twins = [
        a
        for a in added
        if after.columns.get(a) == before.columns[col] and a not in renames.values()
    ]
    return twins[0] if len(twins) == 1 else None


def _column_changes(
    dataset: Dataset,
    old: Column,
    new: Column,
    base: Catalog,
    head: Catalog,
    tests_only: bool = False,
) -> Iterator[Change]:
    where = _where(head, column_id(dataset.name, new.name), column_id(dataset.name, old.name), base)
    if old.type and new.type and (old.type != new.type or _respelled(old, new)):
        before = old.written_type or old.type
        after = new.written_type or new.type
        yield _change(
            "type_changed", dataset, new.name, before, after, where, types=(old.type, new.type)
        )
    relaxed_view = dataset.derived and old.not_null and not new.not_null and not tests_only
    if old.not_null != new.not_null and (not dataset.derived or relaxed_view):
        yield _change(
            "nullability_changed",
            dataset,
            new.name,
            "NOT NULL" if old.not_null else "NULL",
            "NOT NULL" if new.not_null else "NULL",
            where,
        )
    if old.default != new.default and not dataset.derived:
        yield _change("default_changed", dataset, new.name, old.default, new.default, where)
    for key in ("primary_key", "unique"):
        if getattr(old, key) != getattr(new, key) and not dataset.derived:
            label = key.replace("_", " ").upper()
            yield _change(
                "constraint_changed",
                dataset,
                new.name,
                label if getattr(old, key) else None,
                label if getattr(new, key) else None,
                where,
            )


def _respelled(old: Column, new: Column) -> bool:
    return bool(
        old.written_type
        and new.written_type
        and old.written_type.lower() != new.written_type.lower()
    )


def _describe(col: Column) -> str:
    parts = [col.written_type or col.type or "type unknown"]
    if col.not_null:
        parts.append("NOT NULL")
    if col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    return " ".join(parts)


def _where(head: Catalog, node: str, fallback: str, base: Catalog) -> Location | None:
    """Where a change happened: the head statement that last touched the node."""
    dataset = node.split("#", 1)[0]
    for catalog, key in ((head, node), (head, fallback), (head, dataset), (base, fallback)):
        if key in catalog.events:
            return catalog.events[key]
    found = head.datasets.get(dataset) or base.datasets.get(fallback.split("#", 1)[0])
    return found.location if found else None


def _change(
    kind: str,
    dataset: Dataset,
    column: str | None,
    before: object,
    after: object,
    location: Location | None,
    types: tuple[str, str] | None = None,
) -> Change:
    change = Change(
        id="",
        kind=kind,
        dataset=dataset.name,
        column=column,
        before=before,
        after=after,
        location=location,
        dataset_kind=dataset.kind,
    )
    if types is not None:
        change.types = types
    return change
