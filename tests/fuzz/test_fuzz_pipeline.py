"""Property-based tests of the SQL -> lineage -> diff pipeline, on SQL generated from a
small grammar of the supported constructs (CTEs, subqueries, joins, UNION ALL, CASE,
COALESCE, aggregates with GROUP BY, window functions, WHERE/HAVING):

- the checker never raises, whatever the query;
- a change that only reformats the query never fails the check;
- dropping a column the query references always gives a breaking CO201.

CI runs IMPACT_CHECK_FUZZ_EXAMPLES (default 50) examples per property; a long run:
``IMPACT_CHECK_FUZZ_EXAMPLES=2000 python -m pytest tests/fuzz -q -p no:xdist``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact_check.analysis import ChangedFile
from impact_check.config import Config
from impact_check.model import FileContent, Snapshot
from impact_check.pipeline import analyze

EXAMPLES = int(os.environ.get("IMPACT_CHECK_FUZZ_EXAMPLES", "50"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
INTS = ["c0", "c1", "c2"]
TEXTS = ["c3", "c4", "c5"]
DDL = (
    "CREATE TABLE raw.t (id INT, c0 INT, c1 INT, c2 INT, c3 VARCHAR, c4 VARCHAR, c5 VARCHAR);\n"
    "CREATE TABLE raw.u (id INT, w INT, label VARCHAR);\n"
)
COUNTS: dict[str, int] = {}


@dataclass
class Query:
    sql: str
    refs: set[str] = field(default_factory=set)  # raw.t columns the query reads


@st.composite
def int_expr(draw: st.DrawFn, alias: str, refs: set[str], depth: int = 0) -> str:
    col = draw(st.sampled_from(INTS))
    refs.add(col)
    options = ["col", "arith", "case", "coalesce"] if depth < 2 else ["col"]
    kind = draw(st.sampled_from(options))
    if kind == "col":
        return f"{alias}.{col}"
    if kind == "arith":
        other = draw(int_expr(alias, refs, depth + 1))
        op = draw(st.sampled_from(["+", "-", "*"]))
        return f"({alias}.{col} {op} {other})"
    if kind == "case":
        then = draw(int_expr(alias, refs, depth + 1))
        return f"CASE WHEN {alias}.{col} > {draw(st.integers(0, 9))} THEN {then} ELSE 0 END"
    return f"COALESCE({alias}.{col}, {draw(st.integers(0, 9))})"


@st.composite
def text_expr(draw: st.DrawFn, alias: str, refs: set[str]) -> str:
    col = draw(st.sampled_from(TEXTS))
    refs.add(col)
    kind = draw(st.sampled_from(["col", "upper", "concat"]))
    if kind == "col":
        return f"{alias}.{col}"
    if kind == "upper":
        return f"UPPER({alias}.{col})"
    return f"{alias}.{col} || '-'"


@st.composite
def queries(draw: st.DrawFn) -> Query:
    refs: set[str] = set()  # the select list's columns
    where_refs: set[str] = set()
    shape = draw(st.sampled_from(["plain", "cte", "subquery", "join", "union", "group", "window"]))
    n = draw(st.integers(1, 3))
    outs = []
    for i in range(n):
        expr = draw(int_expr("t", refs) if draw(st.booleans()) else text_expr("t", refs))
        outs.append(f"{expr} AS o{i}")
    select = ", ".join(outs)
    where = ""
    if draw(st.booleans()):
        col = draw(st.sampled_from(INTS))
        where_refs.add(col)
        where = f" WHERE t.{col} >= {draw(st.integers(0, 5))}"
    if shape == "plain":
        sql = f"SELECT {select} FROM raw.t AS t{where}"
    elif shape == "cte":
        sql = f"WITH t AS (SELECT * FROM raw.t) SELECT {select} FROM t{where}"
    elif shape == "subquery":
        sql = f"SELECT {select} FROM (SELECT * FROM raw.t) AS t{where}"
    elif shape == "join":
        sql = (
            f"SELECT {select}, u.label AS lbl FROM raw.t AS t JOIN raw.u AS u ON u.id = t.id{where}"
        )
    elif shape == "union":
        sql = f"SELECT {select} FROM raw.t AS t{where} UNION ALL SELECT {select} FROM raw.t AS t"
    elif shape == "group":
        key = draw(st.sampled_from(TEXTS))
        agg = draw(st.sampled_from(INTS))
        refs = {key, agg}  # the select list above is not used by this shape
        fn = draw(st.sampled_from(["SUM", "MAX", "COUNT"]))
        having = f" HAVING {fn}(t.{agg}) > 1" if draw(st.booleans()) else ""
        sql = (
            f"SELECT t.{key} AS k, {fn}(t.{agg}) AS a FROM raw.t AS t{where} "
            f"GROUP BY t.{key}{having}"
        )
    else:
        part = draw(st.sampled_from(TEXTS))
        order = draw(st.sampled_from(INTS))
        refs.update({part, order})
        sql = (
            f"SELECT {select}, ROW_NUMBER() OVER (PARTITION BY t.{part} ORDER BY t.{order}) AS rn "
            f"FROM raw.t AS t{where}"
        )
    return Query(sql, refs | where_refs)


def _snapshot(files: dict[str, str]) -> Snapshot:
    return Snapshot({p: FileContent(p, text.encode()) for p, text in files.items()})


def _check(base: dict[str, str], head: dict[str, str]) -> object:
    changed = [ChangedFile(p, "modified") for p in head if base.get(p) != head.get(p)]
    report, _graph = analyze(_snapshot(base), _snapshot(head), changed, Config())
    return report


def _view(sql: str) -> str:
    return f"CREATE VIEW mart.v AS\n{sql};\n"


def _reformat(sql: str, seed: int) -> str:
    """The same query, written differently: pretty-printed, keywords re-cased, comments."""
    pretty = sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0]
    rng = random.Random(seed)
    words = []
    for word in pretty.split(" "):
        if word.isalpha() and word.isupper() and rng.random() < 0.5:
            word = word.lower()  # keywords only: identifiers here are lower case already
        words.append(word)
    return "-- reformatted\n" + " ".join(words).replace("\n", "\n  ") + "\n/* end */"


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


@SETTINGS
@given(queries(), st.text(max_size=200))
def _never_raises(query: Query, noise: str) -> None:
    _count("never raises")
    base = {"db/V1.sql": DDL, "views/v.sql": _view(query.sql)}
    _check(base, {**base, "views/v.sql": _view(query.sql) + noise})  # noise: any text at all
    _check(base, {**base, "views/v.sql": noise})


@SETTINGS
@given(queries(), st.integers(0, 10_000))
def _reformat_never_fails(query: Query, seed: int) -> None:
    _count("reformat passes")
    base = {"db/V1.sql": DDL, "views/v.sql": _view(query.sql)}
    report = _check(base, {**base, "views/v.sql": _view(_reformat(query.sql, seed))})
    assert not report.failed, [f.message for f in report.findings]  # type: ignore[attr-defined]


@SETTINGS
@given(queries(), st.data())
def _drop_referenced_breaks(query: Query, data: st.DataObject) -> None:
    _count("drop breaks")
    column = data.draw(st.sampled_from(sorted(query.refs)))
    base = {"db/V1.sql": DDL, "views/v.sql": _view(query.sql)}
    head = {**base, "db/V2.sql": f"ALTER TABLE raw.t DROP COLUMN {column};\n"}
    report = _check(base, head)
    drops = [f for f in report.findings if f.rule == "CO201"]  # type: ignore[attr-defined]
    assert drops and drops[0].breaking, (query.sql, column, [f.message for f in drops])
    assert report.failed  # type: ignore[attr-defined]


def _run(name: str, prop: Callable[[], None], record_figure: Callable[[str, str], None]) -> None:
    before = COUNTS.get(name, 0)
    prop()
    ran = COUNTS.get(name, 0) - before
    record_figure(f"fuzz-{name.replace(' ', '-')}", f"fuzz {name}: {ran} examples, 0 failures")


def test_pipeline_never_raises(record_figure: Callable[[str, str], None]) -> None:
    _run("never raises", _never_raises, record_figure)


def test_reformatting_never_fails_the_check(record_figure: Callable[[str, str], None]) -> None:
    _run("reformat passes", _reformat_never_fails, record_figure)


def test_dropping_a_referenced_column_always_breaks(
    record_figure: Callable[[str, str], None],
) -> None:
    _run("drop breaks", _drop_referenced_breaks, record_figure)
