"""Which derived datasets no longer bind at a revision, and why.

This is the static counterpart of building the warehouse from scratch on empty tables:
a view breaks when it reads a relation or column that does not exist, uses a column in an
operation its type does not support, has an ambiguous reference or unequal set-operation
sides, or reads a view that breaks. Each reason names the node that causes it, so impact
analysis can tell which change is to blame.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace

from impact_check.model import (
    Catalog,
    Comparison,
    Dataset,
    FieldUse,
    Lineage,
    Load,
    Src,
    TypeUse,
    column_id,
)
from impact_check.sql.names import case_insensitive
from impact_check.sql.placeholders import PLACEHOLDER_PREFIX
from impact_check.sql.types import ELEMENT, family, field_type

# Families that fail each need, checked by execution in DuckDB and PostgreSQL.
_FAILS = {
    "numeric": {"text", "date", "timestamp", "time", "json", "array", "struct", "map", "binary"},
    "numeric_or_date": {
        "text",
        "timestamp",
        "time",
        "boolean",
        "json",
        "array",
        "struct",
        "map",
        "binary",
    },
    "text": {"numeric", "date", "timestamp", "time", "boolean", "array", "struct", "map"},
    "temporal": {"numeric", "text", "boolean", "array", "struct", "map"},
    "number_equality": {"date", "timestamp", "time", "array", "struct", "map"},
    "orderable": set(),  # DuckDB orders lists, structs, maps and JSON too
}
# Engines that also refuse `text_column = 5` (DuckDB casts the literal instead).
_STRICT_EQUALITY = {"postgres", "redshift", "materialize", "risingwave"}
# engines that cast a number, date, time or boolean to text where text is needed (`LIKE`,
# string functions): Snowflake, MySQL, SQLite, SQL Server
_CASTS_SCALARS_TO_TEXT = {"snowflake", "mysql", "sqlite", "tsql"}
_SCALARS = {"numeric", "date", "timestamp", "time", "boolean"}


@dataclass
class Break:
    """Why a dataset does not bind: a message and the nodes that cause it."""

    message: str
    causes: set[str] = field(default_factory=set)
    certainty: str = "certain"
    upstream: str | None = None  # "reads X, which does not build": the X


def broken_datasets(
    catalog: Catalog,
    known_elsewhere: set[str],
    previous: Catalog | None = None,
    unknown: set[str] | None = None,
    limited: dict[str, list[Break]] | None = None,
    stood_in: AbstractSet[str] = frozenset(),
) -> dict[str, list[Break]]:
    """Derived datasets and INSERT statements that do not bind, with their reasons.

    ``known_elsewhere`` holds relations defined at the other revision: a relation read here
    but defined only there was dropped or renamed, so reading it breaks. A relation defined
    nowhere is external (created outside the repository) and is trusted. ``previous`` is
    the base catalog when ``catalog`` is the head: an incremental model with
    ``on_schema_change: fail`` whose columns changed since then fails its next run.

    ``unknown`` holds nodes the checker could not bind at the other revision either: a
    break that only rests on reading one of them is not proven (it is an analysis limit)
    and goes to ``limited`` instead, and so do the breaks resting on those, transitively.
    ``stood_in`` holds relations whose definition could not be read here (their base
    version, or nothing, stands in): what a dataset reading one misses may be what the
    unread definition adds, so its own reasons rest on it too.
    """
    broken: dict[str, list[Break]] = {}
    unknown = set(unknown or ()) | set(stood_in)
    limited = limited if limited is not None else {}
    schema = {name: ds for name, ds in catalog.datasets.items()}
    dropped = (known_elsewhere | set(catalog.dropped)) - set(catalog.datasets)
    for name, dataset in catalog.datasets.items():  # already in dependency order
        if dataset.lineage is None:
            continue
        reasons = _reasons(dataset.lineage, catalog, dropped, dataset.dialect, name)
        resting = sorted(dataset.lineage.tables & stood_in)
        if resting:
            reasons = [r if r.upstream else replace(r, upstream=resting[0]) for r in reasons]
        reasons += _upstream_breaks(dataset.lineage, broken)
        reasons += _contract_breaks(name, dataset)
        if previous is not None:
            reasons += _schema_change_breaks(name, dataset, catalog, previous)
        reasons += _upstream_breaks(dataset.lineage, limited)
        reasons = _set_aside(name, reasons, unknown, limited)
        if reasons:
            broken[name] = reasons
    for load in catalog.loads:
        if load.lineage is None:
            continue
        reasons = _reasons(load.lineage, catalog, dropped, load.dialect, load.node_id)
        reasons += _upstream_breaks(load.lineage, broken)
        reasons += _upstream_breaks(load.lineage, limited)
        reasons += _assignment_breaks(load, catalog)
        target = catalog.datasets.get(load.target)
        # the engine where the view lives takes the INSERT (PostgreSQL: updatable views)
        insertable = (
            target is not None
            and target.updatable
            and (load.dialect in _STRICT_EQUALITY or target.dialect in _STRICT_EQUALITY)
        )
        if target is not None and target.kind in ("view", "materialized_view") and not insertable:
            reasons.append(
                Break(f"inserts into {load.target}, which is a {target.kind}", {load.target})
            )
        if load.target not in schema and load.target in dropped:
            reasons.append(
                Break(f"inserts into {load.target}, which does not exist", {load.target})
            )
        reasons = _set_aside(load.node_id, reasons, unknown, limited)
        if reasons:
            broken[load.node_id] = reasons
    for consumer in catalog.consumers:
        reasons = [
            Break(f"depends on {name}, which does not exist", {name})
            for name in consumer.reads
            if name in dropped
        ]
        reasons += _upstream_breaks(Lineage(tables=set(consumer.reads)), broken)
        reasons += _upstream_breaks(Lineage(tables=set(consumer.reads)), limited)
        reasons = _set_aside(consumer.node_id, reasons, unknown, limited)
        if reasons:
            broken[consumer.node_id] = reasons
    return broken


def _set_aside(
    name: str, reasons: list[Break], unknown: set[str], limited: dict[str, list[Break]]
) -> list[Break]:
    """The reasons proven from what is known; those resting on an upstream in ``unknown``
    (or itself set aside) go to ``limited``."""
    kept: list[Break] = []
    aside: list[Break] = []
    for reason in reasons:
        resting = reason.upstream is not None and (
            reason.upstream in unknown or reason.upstream in limited
        )
        (aside if resting else kept).append(reason)
    if aside and not kept:
        limited[name] = aside
    return kept


def lineage_breaks(
    lineage: Lineage,
    catalog: Catalog,
    dropped: set[str],
    dialect: str,
    own: str,
    broken: dict[str, list[Break]],
) -> list[Break]:
    """Why a query with this lineage does not bind in ``catalog``, as a view's would not:
    relations in ``dropped`` or columns a relation lacks, refused types, binding errors, and
    relations it reads that are ``broken`` (carried.py binds consumers' queries with it)."""
    return _reasons(lineage, catalog, dropped, dialect, own) + _upstream_breaks(lineage, broken)


def _base_type(type_sql: str | None) -> str | None:
    return type_sql.split("(", 1)[0] if type_sql else None


def _contract_breaks(name: str, dataset: Dataset) -> list[Break]:
    """dbt refuses to build a model whose columns differ from its enforced contract (names,
    and types where both are known, compared without size or precision)."""
    if not dataset.contract or not dataset.declared or not dataset.columns_known:
        return []
    out = []
    for column in sorted(set(dataset.declared) & set(dataset.columns)):
        declared = _base_type(dataset.declared[column].type)
        actual = _base_type(dataset.columns[column].type)
        if declared and actual and declared != actual:
            out.append(
                Break(
                    f"returns {column} as {actual}, the enforced contract declares {declared}",
                    {name, column_id(name, column)},
                )
            )
    for column in sorted(set(dataset.declared) - set(dataset.columns)):
        out.append(
            Break(
                f"contract declares {column}, which the model no longer returns",
                {name, column_id(name, column)},
            )
        )
    for column in sorted(set(dataset.columns) - set(dataset.declared)):
        out.append(Break(f"returns {column}, which the enforced contract does not declare", {name}))
    return out


def _schema_change_breaks(
    name: str, dataset: Dataset, catalog: Catalog, previous: Catalog
) -> list[Break]:
    """dbt's ``on_schema_change: fail``: the next incremental run refuses any column added,
    removed or retyped against the table the previous run built."""
    meta = catalog.model_meta.get(name) or {}
    if meta.get("materialized") != "incremental" or meta.get("on_schema_change") != "fail":
        return []
    old = previous.datasets.get(name)
    if old is None or not (old.columns_known and dataset.columns_known):
        return []
    changed = set(old.columns) ^ set(dataset.columns)
    for column in set(old.columns) & set(dataset.columns):
        before, after = old.columns[column].type, dataset.columns[column].type
        if before and after and before != after:
            changed.add(column)
    if not changed:
        return []
    listed = ", ".join(sorted(changed))
    return [
        Break(
            f"incremental with on_schema_change: fail, and its columns changed ({listed})",
            {column_id(name, c) for c in changed},
        )
    ]


def _reasons(
    lineage: Lineage, catalog: Catalog, dropped: set[str], dialect: str, own: str
) -> list[Break]:
    reasons = [
        Break(f"reads {table}, which does not exist", {table})
        for table in sorted(lineage.tables)
        if table in dropped
    ]
    for relation, column in sorted(lineage.missing):
        if PLACEHOLDER_PREFIX in column:
            continue  # a name a macro the checker could not expand writes: unknown, not missing
        if relation:
            reasons.append(
                Break(
                    f"reads {relation}.{column}, which does not exist",
                    {column_id(relation, column)},
                )
            )
        else:
            reasons.append(Break(f"reads {column}, which no source provides", {own}))
    reasons += [Break(message, {own}) for message in dict.fromkeys(lineage.errors)]
    for use in lineage.type_uses:
        problem = _type_problem(use, catalog, dialect)
        if problem:
            reasons.append(Break(problem, {column_id(*use.source)}, "likely"))
    for field_use in lineage.field_uses:
        found = _field_problem(field_use, catalog, dialect)
        if found:
            reasons.append(Break(found[0], {column_id(*field_use.source)}, found[1]))
    for comparison in lineage.comparisons:
        problem = _comparison_problem(comparison, catalog, dialect)
        if problem:
            causes = {column_id(*comparison.left), column_id(*comparison.right)}
            reasons.append(Break(problem, causes, "likely"))
    return reasons


def _column_type(catalog: Catalog, src: Src) -> str | None:
    dataset = catalog.datasets.get(src[0])
    column = dataset.columns.get(src[1]) if dataset else None
    return column.type if column is not None else None


_COMPARABLE = [{"numeric"}, {"text"}, {"date", "timestamp"}, {"time"}, {"boolean"}]


def _undecided(left: str, right: str) -> bool:
    """Whether two type families prove nothing wrong: the same family, or a type the
    checker does not classify (uuid, an engine's own) on either side."""
    return left == right or bool({"unknown", "other"} & {left, right})


def _comparison_problem(comparison: Comparison, catalog: Catalog, dialect: str) -> str | None:
    """Columns of different families compared: DuckDB refuses ordering, PostgreSQL both."""
    left = family(_column_type(catalog, comparison.left))
    right = family(_column_type(catalog, comparison.right))
    if _undecided(left, right):
        return None
    if any({left, right} <= group for group in _COMPARABLE):
        return None
    if not comparison.ordered and dialect not in _STRICT_EQUALITY:
        return None
    return (
        f"compares {_name(comparison.left)} ({left}) with {_name(comparison.right)} "
        f"({right}) in {comparison.sql!r}"
    )


def _upstream_breaks(lineage: Lineage, broken: dict[str, list[Break]]) -> list[Break]:
    out = []
    for table in sorted(lineage.tables):
        if table in broken:
            upstream = broken[table]
            causes = set().union(*(b.causes for b in upstream)) | {table}
            certain = any(b.certainty == "certain" for b in upstream)
            out.append(
                Break(
                    f"reads {table}, which does not build",
                    causes,
                    "certain" if certain else "likely",
                    upstream=table,
                )
            )
    return out


def _type_problem(use: TypeUse, catalog: Catalog, dialect: str) -> str | None:
    dataset = catalog.datasets.get(use.source[0])
    column = dataset.columns.get(use.source[1]) if dataset else None
    if column is None or not column.type:
        return None
    fam = family(column.type)
    failing = _FAILS.get(use.needs, set())
    if use.needs == "number_equality" and dialect in _STRICT_EQUALITY:
        failing = failing | {"text", "boolean"}
    if use.needs == "orderable" and dialect in _STRICT_EQUALITY:
        failing = failing | {"boolean", "json"}  # PostgreSQL has no MIN/MAX(boolean/json)
    if use.needs == "text" and dialect in _CASTS_SCALARS_TO_TEXT:
        failing = failing - _SCALARS
    if fam not in failing:
        return None
    return (
        f"uses {_name(use.source)} ({column.type}) in {use.sql!r}, "
        f"which needs a {use.needs.replace('_', ' ')} value"
    )


def _field_problem(use: FieldUse, catalog: Catalog, dialect: str) -> tuple[str, str] | None:
    """A field read the column's type at this revision no longer has: (why, certainty)."""
    if use.loose:
        return None  # a path into semi-structured data yields NULL, never an error
    column_type = _column_type(catalog, use.source)
    verdict, detail = field_type(column_type, use.path, case_insensitive(dialect))
    path = "".join("[]" if step == ELEMENT else f".{step}" for step in use.path)
    where = f"{_name(use.source)}{path} in {use.sql!r}"
    if verdict == "missing":
        return f"reads {where}, but {_name(use.source)} ({column_type}) has no field {detail}", (
            "certain"
        )
    if verdict == "scalar":
        return f"reads {where}, but {_name(use.source)} is {column_type}", "certain"
    if verdict == "ok" and use.needs and family(detail) in _FAILS.get(use.needs, set()):
        needs = use.needs.replace("_", " ")
        return f"uses {where} ({detail}), which needs a {needs} value", "likely"
    return None


def _name(src: Src) -> str:
    return f"{src[0]}.{src[1]}"


# PostgreSQL assigns any type to text, numbers to numbers, dates to timestamps; nothing else
# without an explicit cast. DuckDB casts implicitly on INSERT.
_ASSIGNABLE = [{"numeric"}, {"date", "timestamp"}, {"time"}, {"boolean"}, {"text"}]


def _assignment_breaks(load: Load, catalog: Catalog) -> list[Break]:
    if load.dialect not in _STRICT_EQUALITY:
        return []
    out = []
    for target_col, src in load.assignments:
        source = family(_column_type(catalog, src))
        target = family(_column_type(catalog, (load.target, target_col)))
        if _undecided(source, target) or target == "text":
            continue
        if any({source, target} <= group for group in _ASSIGNABLE):
            continue
        out.append(
            Break(
                f"inserts {_name(src)} ({source}) into {load.target}.{target_col} ({target})",
                {column_id(*src), column_id(load.target, target_col)},
                "likely",
            )
        )
    return out
