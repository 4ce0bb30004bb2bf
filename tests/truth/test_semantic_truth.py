"""Row and value changes checked by execution: whose query results really change?

A view ``mart.v`` over orders and customers is edited (filter, grain, join, expression,
limit); consumers read it in different ways. Base and head are built in DuckDB on the same
generated data (chosen so that each kind of change shows: cancelled and refunded orders,
orders of unknown customers, several orders per customer). A consumer whose result differs
between base and head must be reported as affected (recall 1.0, asserted); consumers
reported whose result did not differ on this data lower the precision, which is printed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from gitrepo import GitRepo

from tests.truth.build import natural_key, statements

TABLES = """CREATE SCHEMA raw;
CREATE SCHEMA mart;
CREATE TABLE raw.customers (id INTEGER, region VARCHAR);
CREATE TABLE raw.orders (id INTEGER, customer_id INTEGER, amount INTEGER, status VARCHAR);
"""
ROW_VIEW = """CREATE VIEW mart.v AS
SELECT o.id, o.customer_id, o.amount, o.status, c.region
FROM raw.orders AS o
JOIN raw.customers AS c ON c.id = o.customer_id
WHERE o.status <> 'cancelled';
"""
AGG_VIEW = """CREATE VIEW mart.v AS
SELECT o.customer_id, c.region, SUM(o.amount) AS amount, COUNT(*) AS n
FROM raw.orders AS o
JOIN raw.customers AS c ON c.id = o.customer_id
GROUP BY o.customer_id, c.region;
"""
EDITS: dict[str, list[tuple[str, str, str]]] = {
    "row": [
        ("filter", "WHERE o.status <> 'cancelled'", "WHERE o.status = 'paid'"),
        ("filter", "WHERE o.status <> 'cancelled'", "WHERE o.amount > 20"),
        ("join", "JOIN raw.customers", "LEFT JOIN raw.customers"),
        ("expression", "o.amount,", "o.amount * 2 AS amount,"),
        ("expression", "c.region", "UPPER(c.region) AS region"),
        ("limit", "'cancelled';", "'cancelled'\nLIMIT 3;"),
    ],
    "agg": [
        ("grain", "GROUP BY o.customer_id, c.region", "GROUP BY o.customer_id, c.region, o.status"),
        ("expression", "SUM(o.amount) AS amount", "MAX(o.amount) AS amount"),
        (
            "filter",
            "GROUP BY o.customer_id, c.region;",
            "GROUP BY o.customer_id, c.region\nHAVING COUNT(*) > 1;",
        ),
        ("join", "JOIN raw.customers", "LEFT JOIN raw.customers"),
    ],
}
CONSUMERS = {
    "row": {
        "c_all": "SELECT * FROM mart.v",
        "c_ids": "SELECT id FROM mart.v",
        "c_amount": "SELECT id, amount FROM mart.v",
        "c_region": "SELECT id, region FROM mart.v",
        "c_sum": "SELECT customer_id, SUM(amount) AS total FROM mart.v GROUP BY customer_id",
        "c_big": "SELECT id FROM mart.v WHERE amount > 30",
        "c_next": "SELECT total FROM mart.c_sum",
    },
    "agg": {
        "c_all": "SELECT * FROM mart.v",
        "c_customers": "SELECT customer_id FROM mart.v",
        "c_amount": "SELECT customer_id, amount FROM mart.v",
        "c_regions": "SELECT DISTINCT region FROM mart.v",
        "c_next": "SELECT amount FROM mart.c_amount",
    },
}
SCENARIOS = [(shape, i) for shape in EDITS for i in range(len(EDITS[shape]))]


def data(seed: int) -> str:
    """Rows where every edit shows: several orders per customer, cancelled, unknown customer."""
    rng = random.Random(seed)
    rows = [f"({i}, '{rng.choice(['eu', 'us', 'apac'])}')" for i in range(1, 6)]
    orders = []
    for i in range(1, 25):
        customer = rng.randint(1, 7)  # 6 and 7 have no customer row: a LEFT JOIN shows
        status = rng.choice(["paid", "paid", "refunded", "cancelled"])
        orders.append(f"({i}, {customer}, {rng.randint(1, 60)}, '{status}')")
    return (
        f"INSERT INTO raw.customers VALUES {', '.join(rows)};\n"
        f"INSERT INTO raw.orders VALUES {', '.join(orders)};\n"
    )


def results(
    files: dict[str, str], seed: int, names: list[str]
) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect()
    for path in sorted(files, key=natural_key):
        for statement in statements(files[path]):
            con.execute(statement)
    for statement in statements(data(seed)):
        con.execute(statement)
    return {
        name: sorted(con.execute(f"SELECT * FROM mart.{name}").fetchall(), key=repr)
        for name in names
    }


@pytest.mark.truth
def test_changed_results_are_reported_as_affected(
    tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    reported_total = correct = 0
    misses = []
    for shape, index in SCENARIOS:
        kind, old, new = EDITS[shape][index]
        view = ROW_VIEW if shape == "row" else AGG_VIEW
        assert old in view
        consumers = CONSUMERS[shape]
        base = {"db/V1__init.sql": TABLES, "views/00_v.sql": view}
        for i, (name, sql) in enumerate(consumers.items(), 1):
            base[f"views/{i:02d}_{name}.sql"] = f"CREATE VIEW mart.{name} AS {sql};\n"
        head = {**base, "views/00_v.sql": view.replace(old, new)}
        names = list(consumers)
        seed = index + (0 if shape == "row" else 100)
        before, after = results(base, seed, names), results(head, seed, names)
        differ = {f"mart.{n}" for n in names if before[n] != after[n]}
        repo = GitRepo(tmp_path / f"{shape}{index}")
        repo.commit(base, "base")
        repo.git("checkout", "-q", "-b", "feature")
        repo.commit(head, "head")
        _code, report = repo.report("--base", "main", "--head", "feature")
        assert not report["summary"]["failed"], f"{kind} edit must not fail the build"
        reported = {
            i["node"]["id"]
            for f in report["findings"]
            for i in f["impacted"]
            if f["rule"][:2] in ("RS", "VL") and not i["breaks"]
        }
        if not differ <= reported:
            misses.append(f"{shape}/{kind} {new!r}: missed {sorted(differ - reported)}")
        reported_total += len(reported)
        correct += len(reported & differ)
    precision = correct / reported_total if reported_total else 1.0
    record_figure(
        "semantic-duckdb",
        f"semantic changes: {len(SCENARIOS)} edits, every changed consumer reported "
        f"({'yes' if not misses else 'NO'}), precision {precision:.3f} "
        f"({correct} of {reported_total} reported consumers changed on the data)",
    )
    assert not misses, misses
