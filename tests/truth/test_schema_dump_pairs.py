"""A schema dump beside numbered migrations of the same database: two builds, one schema.

The layout of applications that keep ``db/<engine>/schema.sql`` (the whole current schema,
regenerated when migrations are added) next to ``db/<engine>/migrations/NN_name.sql``. Each
commit is deployed on a real PostgreSQL both ways, at base and at head: the dump alone, and
the migrations alone, each followed by the recurring SQL outside them (a report view). A
commit breaks when either build fails at head or a probe that passed at base fails. The
checker, run on a real git repository, must fail exactly the commits that break:

- ``consistent``: a migration renames a column (dropping and recreating the materialized
  view that reads it) and the dump is regenerated; the dump's view also reads a column only
  the dump has. Applied one after the other, the rename met the dump's already-current table
  and the dump's view was called broken (a false red);
- ``consumer``: a migration drops a column the report view reads, the dump drops it too;
- ``deploy``: a new migration fills the column an earlier one renamed (the deploy fails).

ClickHouse cannot run here: its syntax is read in tests/test_migrations.py's layout tests and
in ``test_clickhouse_layout`` below (checker only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from tests.truth.test_migration_frameworks import _deploy

pytestmark = [pytest.mark.postgres, pytest.mark.truth]

INIT = """CREATE TABLE website_event (event_id INT, url TEXT, subdivision1 TEXT);
CREATE MATERIALIZED VIEW region_hits AS
SELECT subdivision1, count(*) AS hits FROM website_event GROUP BY subdivision1;
"""
VISIT = "ALTER TABLE website_event ADD COLUMN visit_id INT;\n"
REGION = """DROP MATERIALIZED VIEW region_hits;
ALTER TABLE website_event RENAME COLUMN subdivision1 TO region;
CREATE MATERIALIZED VIEW region_hits AS
SELECT region, count(*) AS hits FROM website_event GROUP BY region;
"""
DROP_URL = "ALTER TABLE website_event DROP COLUMN url;\n"
FILL = "UPDATE website_event SET subdivision1 = 'unknown' WHERE subdivision1 IS NULL;\n"

DUMP_BASE = """CREATE TABLE IF NOT EXISTS website_event (
  event_id INT, url TEXT, subdivision1 TEXT, visit_id INT, hostname TEXT
);
CREATE MATERIALIZED VIEW region_hits AS
SELECT subdivision1, count(*) AS hits FROM website_event GROUP BY subdivision1;
"""
DUMP_REGION = """CREATE TABLE IF NOT EXISTS website_event (
  event_id INT, url TEXT, region TEXT, visit_id INT, hostname TEXT
);
CREATE MATERIALIZED VIEW region_hits AS
SELECT region, hostname, count(*) AS hits FROM website_event GROUP BY region, hostname;
"""
DUMP_NO_URL = DUMP_REGION.replace("event_id INT, url TEXT,", "event_id INT,")
REPORT = (
    "CREATE VIEW pages AS SELECT url, count(visit_id) AS visits FROM website_event GROUP BY url;\n"
)
PROBES = ["SELECT * FROM pages LIMIT 0", "SELECT * FROM region_hits LIMIT 0"]

BASE = ([INIT, VISIT], DUMP_BASE)
CASES: dict[str, tuple[tuple[list[str], str], bool, set[str]]] = {
    # name: ((migrations, dump) at head, breaks, rules among the error findings)
    "consistent": (([INIT, VISIT, REGION], DUMP_REGION), False, set()),
    "consumer": (([INIT, VISIT, REGION, DROP_URL], DUMP_NO_URL), True, {"CO201"}),
    "deploy": (([INIT, VISIT, REGION, FILL], DUMP_REGION), True, {"TB109"}),
}
NAMES = ["01_init", "02_add_visit_id", "03_update_subdivision", "04_next"]


def _files(state: tuple[list[str], str]) -> dict[str, str]:
    migrations, dump = state
    files = {f"db/pg/migrations/{NAMES[i]}.sql": up for i, up in enumerate(migrations)}
    return {**files, "db/pg/schema.sql": dump, "reports/pages.sql": REPORT}


def _truth(dsn: str, head: tuple[list[str], str]) -> bool:
    """Whether head breaks, built from the dump and from the migrations."""
    for build in (lambda s: [s[1]], lambda s: list(s[0])):
        error, failing_base = _deploy(dsn, [*build(BASE), REPORT], PROBES)
        assert error is None and not failing_base, f"the fixture's base does not deploy: {error}"
        error, failing_head = _deploy(dsn, [*build(head), REPORT], PROBES)
        if error is not None or failing_head - failing_base:
            return True
    return False


def _check(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> tuple[int, Any]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(dict(base), "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({**{p: None for p in base if p not in head}, **head}, "head")
    return repo.report("--base", "main", "--head", "feature", "--dialect", "postgres")


@pytest.mark.parametrize("case", list(CASES))
def test_verdict_matches_postgres(postgres_dsn: str, tmp_path: Path, case: str) -> None:
    head, expected, rules = CASES[case]
    assert _truth(postgres_dsn, head) == expected
    code, report = _check(tmp_path, _files(BASE), _files(head))
    errors = {f["rule"] for f in report["findings"] if f["severity"] == "error"}
    assert (code, errors) == (1 if expected else 0, rules), report["findings"]
