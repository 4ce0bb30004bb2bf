#!/usr/bin/env python3
"""Cost of binding consumers' own SQL (impact_check/carried.py) in one check.

A catalog of 200 tables and 500 fetched consumers, each joining two random tables, with and
without their SQL; the diff drops a column of one table, or of every table (then every query
is bound, at base and at head). Prints the wall time of compare_catalogs for each.

Usage: python benchmarks/carried_sql.py [N_TABLES=200] [N_CONSUMERS=500]
"""

from __future__ import annotations

import random
import sys
import time

from impact_check.analysis import compare_catalogs
from impact_check.config import Config
from impact_check.model import FileContent, Snapshot
from impact_check.pipeline import analysis_settings
from impact_check.project.loader import load_catalog
from impact_check.sources.base import FragmentNode, GraphFragment


def _snapshot(*texts: str) -> Snapshot:
    files = {f"db/V{i}__m.sql": text for i, text in enumerate(texts, 1)}
    return Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})


def _fragment(tables: int, consumers: int, with_sql: bool) -> GraphFragment:
    rng = random.Random(1)
    fragment = GraphFragment("bench", "static")
    for k in range(consumers):
        i, j = rng.randrange(tables), rng.randrange(tables)
        node = FragmentNode(f"static:job/j{k}", "job", "static")
        if with_sql:
            node.sql = (
                f"SELECT x.id, x.a + y.d AS v, count(*) AS n FROM raw.t{i} x "
                f"JOIN raw.t{j} y ON x.id = y.id WHERE x.c > DATE '2020-01-01' GROUP BY 1, 2"
            )
        fragment.node(node)
        fragment.edge(f"raw.t{i}", node.id, "reads")
        fragment.edge(f"raw.t{j}", node.id, "reads")
    return fragment


def main(argv: list[str]) -> int:
    tables = int(argv[0]) if argv else 200
    consumers = int(argv[1]) if len(argv) > 1 else 500
    ddl = "CREATE SCHEMA raw;\n" + "".join(
        f"CREATE TABLE raw.t{i} (id INT, a INT, b TEXT, c DATE, d DOUBLE);\n" for i in range(tables)
    )
    config = Config()
    base = load_catalog(_snapshot(ddl), config)
    for label, changed in (("one table changed", 1), ("every table changed", tables)):
        drop = "".join(f"ALTER TABLE raw.t{i} DROP COLUMN a;\n" for i in range(changed))
        head = load_catalog(_snapshot(ddl, drop), config)
        for with_sql in (False, True):
            fragment = _fragment(tables, consumers, with_sql)
            started = time.perf_counter()
            fetch = (lambda frag: lambda _t, _k: [frag])(fragment)
            report, _graph = compare_catalogs(base, head, analysis_settings(config), lineage=fetch)
            seconds = time.perf_counter() - started
            broken = sum(1 for f in report.findings for i in f.impacted if i.breaks)
            impacted = sum(len(f.impacted) for f in report.findings)
            kind = "with SQL" if with_sql else "tables only"
            print(f"{label:20} {kind:12} {seconds:6.2f} s  {impacted} impacts, {broken} breaks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
