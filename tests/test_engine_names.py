"""Engine-given names of unaliased expressions, checked against the engines themselves.

Each expression is selected without an alias in DuckDB and in PostgreSQL; the name the
engine reports must be the checker's whenever the checker calls its name exact, and the
expressions it cannot reproduce are the few counted here (so the list cannot quietly grow).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlglot
from sqlglot import exp

from impact_check.sql.engine_names import name_outputs
from impact_check.sql.names import normalize

DUCKDB_EXPRESSIONS = [
    "count(*)", "COUNT(*)", "max(a)", "Max(A)", "min(a)", "sum(a)", "avg(a)", "count(a)",
    "count(DISTINCT a)", "sum(DISTINCT a)", "sum(a) FILTER (WHERE a > 1)", "median(a)",
    "mode(a)", "first(a)", "stddev(a)", "approx_count_distinct(a)", "bool_or(a > 1)",
    "a + 1", "t.a + 1", "a * 2 + 1", "a / 2", "a % 2", "a // 2", "-a", "-1", "(a)",
    "((a + 1))", "a = 1", "a <> 1", "a <= 1", "a IS NULL", "a IS NOT NULL", "NOT (a > 1)",
    "a IN (1, 2)", "a NOT IN (1, 2)", "a BETWEEN 1 AND 2", "a NOT BETWEEN 1 AND 2",
    "a AND TRUE", "b LIKE 'q%'", "b ILIKE 'q'", "b NOT LIKE 'x'", "b || 'x'",
    "lower(b) || 'x'", "upper(b)", "UPPER(B)", "length(b)", "concat(b, b)", "reverse(b)",
    "substring(b, 1, 2)", "trim(b)", "nullif(a, 1)", "coalesce(a, 1)", "ifnull(a, 1)",
    "greatest(a, 2)", "least(a, 2)", "abs(a)", "round(a, 2)", "floor(a)", "sqrt(a)",
    "year(d)", "month(d)", "extract(year FROM d)", "date_part('year', d)",
    "CAST(a AS INT)", "a::INTEGER", "a::BIGINT", "a::DOUBLE", "a::DECIMAL(10, 2)",
    "a::REAL", "d::TIMESTAMP", "a::BOOLEAN", "a::text", "a::VARCHAR",
    "CASE WHEN a > 1 THEN 1 END", "CASE WHEN a > 1 THEN 1 WHEN a > 2 THEN 2 ELSE 3 END",
    "CASE a WHEN 1 THEN 2 END", "avg(a) OVER ()", "count(*) OVER ()",
    "count(*) OVER (PARTITION BY b)", "sum(a) OVER (PARTITION BY b ORDER BY a DESC)",
    "row_number() OVER (ORDER BY a)", "lag(a) OVER (ORDER BY a)", "[1, 2]", "1", "1.5",
    "0.10", "'x'", "'it''s'", "TRUE", "NULL", "arr[1]", "info['col_a']",
    "struct_extract(info, 'col_a')", "(info).col_a", "arr[1].x", "unnest(arr2)",
    "list_sum(arr2)", "string_agg(b, ',')", "any_value(a)",
]  # fmt: skip
# Expressions whose DuckDB name the checker only approximates (readers of other names are
# then not called broken): sqlglot keeps one class for several DuckDB spellings.
DUCKDB_APPROXIMATED = {"a::VARCHAR", "string_agg(b, ',')", "any_value(a)"}

POSTGRES_EXPRESSIONS = [
    "count(*)", "max(a)", "count(DISTINCT a)", "sum(a) FILTER (WHERE a > 1)",
    "avg(a) OVER ()", "row_number() OVER ()", "lag(a) OVER (ORDER BY a)", "array_agg(a)",
    "a + 1", "-a", "a IS NULL", "a IN (1, 2)", "a BETWEEN 1 AND 2", "b LIKE 'x'",
    "b || 'x'", "NOT TRUE", "a = 1", "1", "'x'", "TRUE", "t.a", "(a)", "arr[1]",
    "upper(b)", "lower(b)", "length(b)", "concat(b, 'x')", "abs(a)",
    "round(a::numeric, 2)", "coalesce(a, 1)", "greatest(a, 1)", "nullif(a, 1)",
    "trim(b)", "ltrim(b)", "substring(b, 1, 2)", "extract(year FROM d)",
    "date_trunc('month', d)", "current_date", "current_user", "CAST(a AS INT)",
    "a::text", "a::varchar(10)", "(a + 1)::int", "1::int", "'x'::text",
    "(a + 1)::bigint", "(a + 1)::numeric(10, 2)", "(a + 1)::double precision",
    "(a + 1)::real", "(a + 1)::smallint", "(a + 1)::boolean", "(a + 1)::varchar",
    "(a + 1)::char(2)", "(1 + 1)::text::int", "CAST(NULL AS int)", "coalesce(a, 1)::text",
    "CASE WHEN a > 1 THEN 1 END", "ARRAY[1, 2]", "ROW(1, 2)", "EXISTS (SELECT 1)",
    "(SELECT max(a) FROM t)", "(SELECT max(a) AS m FROM t)", "now()", "string_agg(b, ',')",
]  # fmt: skip
POSTGRES_APPROXIMATED = {"now()", "string_agg(b, ',')"}


def checker_name(expression: str, dialect: str) -> tuple[str, bool]:
    """The name the checker gives ``SELECT <expression> FROM t`` and whether it is exact."""
    tree = normalize(sqlglot.parse_one(f"SELECT {expression} FROM t", read=dialect), dialect)
    guessed = name_outputs(list(tree.find_all(exp.Select)), dialect, tree)
    assert isinstance(tree, exp.Select)
    projection = tree.selects[0]
    name = projection.alias if isinstance(projection, exp.Alias) else projection.alias_or_name
    return name, name not in guessed


def compare(
    expressions: list[str], dialect: str, engine_name: Callable[[str], str], fold: bool
) -> tuple[list[tuple[str, str, str]], set[str]]:
    """(names the checker calls exact that are wrong, expressions it approximates)."""
    wrong, approximated = [], set()
    for expression in expressions:
        engine = engine_name(f"SELECT {expression} FROM t")
        ours, exact = checker_name(expression, dialect)
        if ours == (engine.lower() if fold else engine):
            continue
        if exact:
            wrong.append((expression, ours, engine))
        else:
            approximated.add(expression)
    return wrong, approximated


def test_duckdb_names_match_the_engine() -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (a INTEGER, b VARCHAR, d DATE, info STRUCT(col_a INTEGER), "
        "arr STRUCT(x INTEGER)[], arr2 INTEGER[])"
    )

    def engine_name(sql: str) -> str:
        return str(con.execute(sql).description[0][0])

    # DuckDB matches names case-insensitively
    wrong, approximated = compare(DUCKDB_EXPRESSIONS, "duckdb", engine_name, fold=True)
    assert not wrong, wrong
    assert approximated == DUCKDB_APPROXIMATED


@pytest.mark.postgres
def test_postgres_names_match_the_engine(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS t")
        con.execute("CREATE TABLE t (a INTEGER, b TEXT, d DATE, arr INTEGER[])")

        def engine_name(sql: str) -> str:
            cursor = con.execute(sql)
            assert cursor.description is not None
            return cursor.description[0].name

        wrong, approximated = compare(POSTGRES_EXPRESSIONS, "postgres", engine_name, fold=False)
    assert not wrong, wrong
    assert approximated == POSTGRES_APPROXIMATED


@pytest.mark.parametrize(
    ("expressions", "names"),
    [
        ("COUNT(*), MAX(a), a", ["f0_", "f1_", "a"]),
        ("a, COUNT(*) AS n, MAX(a), MIN(a)", ["a", "n", "f0_", "f1_"]),
    ],
)
def test_bigquery_numbers_unnamed_columns(expressions: str, names: list[str]) -> None:
    tree = sqlglot.parse_one(f"SELECT {expressions} FROM t", read="bigquery")
    assert not name_outputs(list(tree.find_all(exp.Select)), "bigquery", tree)
    assert isinstance(tree, exp.Select)
    assert [p.alias_or_name for p in tree.selects] == names


def test_duckdb_numbers_repeated_output_names() -> None:
    """A DuckDB view names repeated outputs a, a_1, a_2…"""
    import duckdb

    query = "SELECT a, a, t.a, count(*), count(*) FROM t GROUP BY a"
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute(f"CREATE VIEW v AS {query}")
    engine = [d[0] for d in con.execute("SELECT * FROM v").description]
    tree = sqlglot.parse_one(query, read="duckdb")
    name_outputs(list(tree.find_all(exp.Select)), "duckdb", tree)
    assert isinstance(tree, exp.Select)
    assert [p.alias_or_name for p in tree.selects] == engine
