"""Column lineage on tricky SQL: one parse + qualify + walk per statement."""

from __future__ import annotations

import pytest

from impact_check.config import Config
from impact_check.model import Dataset, FileContent, Snapshot
from impact_check.project.loader import load_catalog

TABLES = """
create table raw.orders (id int, customer_id int, amount numeric(10,2), status varchar,
                         ordered_at timestamp);
create table raw.customers (id int, name text, "Region" text, segment text);
"""


def lineage(view_sql: str, dialect: str = "postgres") -> dict[str, object]:
    config = Config(dialect=dialect)
    files = {"a.sql": TABLES, "v.sql": view_sql}
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    catalog = load_catalog(snap, config)
    dataset = catalog.datasets["analytics.v"]
    assert dataset.lineage is not None
    return {
        "columns": {k: sorted(v) for k, v in dataset.lineage.columns.items()},
        "clauses": {k: sorted(v) for k, v in dataset.lineage.clauses.items()},
        "missing": sorted(dataset.lineage.missing),
        "errors": dataset.lineage.errors,
        "order": list(dataset.columns),
    }


ORD, C = "raw.orders", "raw.customers"


def test_cte_chain_with_star_through_ctes() -> None:
    got = lineage("""create view analytics.v as
        with a as (select * from raw.orders), b as (select id, amount * 2 as dbl from a)
        select b.* from b""")
    assert got["columns"] == {"id": [(ORD, "id")], "dbl": [(ORD, "amount")]}


def test_union_merges_sources_by_position() -> None:
    got = lineage("""create view analytics.v as
        select id, status as label from raw.orders union all select id, name from raw.customers""")
    assert got["columns"] == {
        "id": [(C, "id"), (ORD, "id")],
        "label": [(C, "name"), (ORD, "status")],
    }


def test_correlated_subquery_reads_outer_and_inner() -> None:
    got = lineage("""create view analytics.v as
        select o.id, (select max(c.name) from raw.customers c where c.id = o.customer_id) as nm
        from raw.orders o
        where exists (select 1 from raw.customers c2 where c2.id = o.customer_id)""")
    assert got["columns"]["nm"] == [(C, "name")]
    assert (ORD, "customer_id") in got["clauses"]["where"]
    assert (C, "id") in got["clauses"]["where"]


def test_window_partition_and_order_are_lineage_of_the_output() -> None:
    got = lineage("""create view analytics.v as
        select id, row_number() over (partition by customer_id order by ordered_at) as rn
        from raw.orders""")
    assert got["columns"]["rn"] == [(ORD, "customer_id"), (ORD, "ordered_at")]


def test_join_using_and_clause_columns() -> None:
    got = lineage("""create view analytics.v as
        select o.id, c.name from raw.orders o join raw.customers c using (id)
        where o.status = 'paid' group by o.id, c.name having count(*) > 1 order by c.name""")
    assert got["clauses"]["joins"] == [(C, "id"), (ORD, "id")]
    assert got["clauses"]["where"] == [(ORD, "status")]
    assert (C, "name") in got["clauses"]["group"]


def test_quoted_case_sensitive_identifier_postgres() -> None:
    got = lineage('create view analytics.v as select "Region" as r, segment from raw.customers')
    assert got["columns"]["r"] == [(C, "Region")]
    missing = lineage("create view analytics.v as select region from raw.customers")
    assert missing["missing"] == [(C, "region")]  # unquoted folds to lower case: no such column


def test_quoted_identifier_is_case_insensitive_in_duckdb() -> None:
    got = lineage("create view analytics.v as select region from raw.customers", "duckdb")
    assert got["columns"]["region"] == [(C, "region")]
    assert got["missing"] == []


def test_star_expands_in_column_order() -> None:
    got = lineage("create view analytics.v as select * from raw.orders")
    assert got["order"] == ["id", "customer_id", "amount", "status", "ordered_at"]


def test_missing_and_ambiguous_references_are_binding_errors() -> None:
    got = lineage("create view analytics.v as select o.nope from raw.orders o")
    assert got["missing"] == [(ORD, "nope")]
    amb = lineage("""create view analytics.v as
        select id from raw.orders o join raw.customers c on o.customer_id = c.id""")
    assert any("ambiguous" in e for e in amb["errors"])


def test_unqualified_name_resolves_when_unambiguous() -> None:
    got = lineage("create view analytics.v as select amount from orders")
    assert got["columns"]["amount"] == [(ORD, "amount")]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select sum(amount) as s from raw.orders", ("sum", "numeric")),
        ("select amount + 1 as s from raw.orders", ("arithmetic", "numeric_or_date")),
        ("select id from raw.orders where amount > 10", ("comparison", "numeric")),
        ("select upper(status) as s from raw.orders", ("upper", "text")),
        (
            "select date_trunc('month', ordered_at) as m from raw.orders",
            ("timestamptrunc", "temporal"),
        ),
    ],
)
def test_type_uses_are_recorded(sql: str, expected: tuple[str, str]) -> None:
    config = Config(dialect="postgres")
    files = {"a.sql": TABLES, "v.sql": f"create view analytics.v as {sql}"}
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    dataset = load_catalog(snap, config).datasets["analytics.v"]
    assert dataset.lineage is not None
    uses = [(u.operation, u.needs) for u in dataset.lineage.type_uses]
    assert expected in uses


def test_unused_cte_binds_only_where_the_engine_binds_it() -> None:
    sql = """create view analytics.v as
        with unused as (select gone from raw.orders), used as (select id from raw.orders)
        select id from used"""
    assert lineage(sql, "duckdb")["missing"] == []  # DuckDB never binds an unused CTE
    assert lineage(sql, "postgres")["missing"] == [(ORD, "gone")]  # PostgreSQL does


def test_relations_read_are_tables_not_the_ctes_or_subqueries_over_them() -> None:
    files = {
        "a.sql": TABLES,
        "v.sql": """create view analytics.v as
            with orders as (select * from raw.orders), big as (select * from orders o)
            select b.id from big b join (select id from raw.customers) c on b.id = c.id""",
    }
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    dataset = load_catalog(snap, Config(dialect="postgres")).datasets["analytics.v"]
    assert dataset.lineage is not None and dataset.lineage.tables == {ORD, C}


def _dataset(view_sql: str, tables: str, dialect: str = "duckdb") -> Dataset:
    files = {"a.sql": tables, "v.sql": view_sql}
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    return load_catalog(snap, Config(dialect=dialect)).datasets["analytics.v"]


NESTED = "create table raw.ev (id int, info struct(a int, n struct(b int)), items struct(x int)[]);"


def test_field_reads_are_bound_by_path_and_narrow_the_column() -> None:
    dataset = _dataset(
        """create view analytics.v as
        select info.n.b as b, struct_extract(info, 'a') as a, u.x, items[1].x as first_x
        from raw.ev, unnest(ev.items) as u""",
        NESTED,
    )
    assert dataset.lineage is not None
    paths = sorted((u.source[1], u.path) for u in dataset.lineage.field_uses)
    assert paths == [
        ("info", ("a",)),
        ("info", ("n", "b")),
        ("items", ("[]", "x")),
        ("items", ("[]", "x")),
    ]
    assert dataset.lineage.field_reads == {
        ("raw.ev", "info"): {"a", "n.b"},
        ("raw.ev", "items"): {"x"},
    }
    assert dataset.columns["b"].type == "INT"  # a field's type, for its readers' type checks


def test_a_whole_read_struct_is_not_narrowed() -> None:
    dataset = _dataset("create view analytics.v as select info, info.a from raw.ev", NESTED)
    assert dataset.lineage is not None and dataset.lineage.field_reads == {}


def test_pivot_and_unpivot_lineage() -> None:
    tables = "create table raw.s (region varchar, quarter varchar, amount int, note varchar);"
    pivot = _dataset(
        "create view analytics.v as pivot raw.s on quarter in ('q1', 'q2') using sum(amount) "
        "group by region",
        tables,
    )
    assert pivot.lineage is not None
    assert {k: sorted(v) for k, v in pivot.lineage.columns.items()} == {
        "region": [("raw.s", "region")],
        "q1": [("raw.s", "amount"), ("raw.s", "quarter")],
        "q2": [("raw.s", "amount"), ("raw.s", "quarter")],
    }
    unpivot = _dataset(
        "create view analytics.v as select * from raw.s unpivot (v for k in (region, note))",
        tables,
    )
    assert list(unpivot.columns) == ["quarter", "amount", "k", "v"]
    assert unpivot.lineage is not None
    assert unpivot.lineage.columns["v"] == {("raw.s", "region"), ("raw.s", "note")}


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("select x.id from raw.orders", "no relation x is in scope"),
        ("select id", "no FROM clause"),
        ("select o.id from raw.orders o where exists (select 1 from raw.customers c "
         "where c.id = zz.customer_id)", "no relation zz is in scope"),
    ],
)  # fmt: skip
def test_references_to_nothing_are_binding_errors(sql: str, error: str) -> None:
    got = lineage(f"create view analytics.v as {sql}")
    assert any(error in e for e in got["errors"]), got["errors"]  # type: ignore[union-attr]


def test_a_struct_access_on_unknown_columns_is_only_unresolved() -> None:
    dataset = _dataset("create view analytics.v as select e.payload.kind from raw.ext e", TABLES)
    assert dataset.lineage is not None and not dataset.lineage.errors
