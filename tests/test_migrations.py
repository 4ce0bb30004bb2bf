"""Migration layouts: which files build the schema, in which order (project/migrations.py),
and what the loader makes of one-time statements and statements that are not table schema."""

from __future__ import annotations

import pytest

from impact_check.config import Config
from impact_check.model import Catalog, FileContent, Snapshot
from impact_check.project.loader import load_catalog
from impact_check.project.migrations import forward_text, plan
from impact_check.sql.parse import split_statements


def order(paths: list[str], texts: dict[str, str] | None = None) -> list[str]:
    return [u.path for u in plan(paths, texts or {}).units]


def test_plain_folders_keep_natural_path_order() -> None:
    paths = ["sql/b10.sql", "sql/b2.sql", "views/a.sql", "ddl/x.sql"]
    assert order(paths) == ["ddl/x.sql", "sql/b2.sql", "sql/b10.sql", "views/a.sql"]
    assert all(u.framework is None and not u.one_time for u in plan(paths, {}).units)


def test_flyway_orders_by_version_then_repeatables_by_description() -> None:
    paths = [
        "db/migration/V10__c.sql",
        "db/migration/V1_1__b.sql",
        "db/migration/V1__a.sql",
        "db/migration/V10.1__d.sql",
        "db/migration/R__views.sql",
        "db/migration/R__all_functions.sql",
        "db/migration/U10__c.sql",
        "db/migration/afterMigrate.sql",
        "db/migration/B1__old.sql",
    ]
    got = plan(paths, {})
    assert [u.path.split("/")[-1] for u in got.units] == [
        "V1__a.sql",
        "V1_1__b.sql",
        "V10__c.sql",
        "V10.1__d.sql",
        "R__all_functions.sql",
        "R__views.sql",
    ]
    assert got.units[-1].role == "repeatable"
    assert set(got.excluded) == {
        "db/migration/U10__c.sql",
        "db/migration/afterMigrate.sql",
        "db/migration/B1__old.sql",
    }


def test_flyway_baseline_applies_when_no_older_versioned_migration_exists() -> None:
    paths = ["db/B5__baseline.sql", "db/V6__next.sql"]
    assert order(paths) == ["db/B5__baseline.sql", "db/V6__next.sql"]


def test_diesel_compares_versions_without_dashes_and_skips_down() -> None:
    paths = [
        "migrations/2020-02-01-000000_late/up.sql",
        "migrations/2020-02-01-000000_late/down.sql",
        "migrations/20200110000000_early/up.sql",
        "migrations/20200110000000_early/down.sql",
        "migrations/00000000000000_diesel_initial_setup/up.sql",
        "migrations/fix_data.sql",
    ]
    got = plan(paths, {})
    assert [u.path for u in got.units] == [
        "migrations/00000000000000_diesel_initial_setup/up.sql",
        "migrations/20200110000000_early/up.sql",
        "migrations/2020-02-01-000000_late/up.sql",
        "migrations/fix_data.sql",
    ]
    assert got.units[-1].role == "script" and got.units[-1].one_time
    assert got.excluded["migrations/2020-02-01-000000_late/down.sql"] == "Diesel down migration"


def test_golang_migrate_orders_numerically() -> None:
    paths = ["m/10_c.up.sql", "m/10_c.down.sql", "m/2_b.up.sql", "m/1_a.up.sql"]
    assert order(paths) == ["m/1_a.up.sql", "m/2_b.up.sql", "m/10_c.up.sql"]


POP = [
    "m/20200101000000_init.cockroach.up.sql",
    "m/20200101000000_init.postgres.up.sql",
    "m/20200101000000_init.mysql.up.sql",
    "m/20200101000000_init.sqlite3.up.sql",
    "m/20200101000000_init.postgres.down.sql",
    "m/20200102000000_hydra.mysql.up.sql",
    "m/20200103000000_all.up.sql",
]


def test_pop_dialect_variants_apply_one_engine_postgres_by_default() -> None:
    got = plan(POP, {})
    assert [u.path for u in got.units] == [
        "m/20200101000000_init.postgres.up.sql",
        "m/20200103000000_all.up.sql",  # no dialect suffix: every engine
    ]
    assert got.excluded["m/20200101000000_init.cockroach.up.sql"] == (
        "pop variant for cockroach, another engine"
    )
    assert got.excluded["m/20200102000000_hydra.mysql.up.sql"] == (
        "pop variant for mysql, another engine"
    )
    assert "down" in got.excluded["m/20200101000000_init.postgres.down.sql"]


@pytest.mark.parametrize(
    ("dialect", "engine"),
    [("mysql", "mysql"), ("sqlite", "sqlite3"), ("duckdb", "postgres"), (None, "postgres")],
)
def test_pop_variants_follow_the_configured_dialect(dialect: str | None, engine: str) -> None:
    units = [u.path for u in plan(POP, {}, dialect).units]
    assert units[0] == f"m/20200101000000_init.{engine}.up.sql"
    assert ("m/20200102000000_hydra.mysql.up.sql" in units) == (engine == "mysql")


def test_pop_variants_without_postgres_take_the_first_engine_in_a_fixed_order() -> None:
    paths = ["m/1_a.sqlite3.up.sql", "m/1_a.mysql.up.sql", "m/1_a.cockroach.up.sql"]
    assert order(paths) == ["m/1_a.cockroach.up.sql"]


def test_pop_variants_build_the_schema_once() -> None:
    rename = "ALTER TABLE t RENAME COLUMN a TO b;"
    catalog = build(
        {
            "m/1_init.up.sql": "CREATE TABLE t (a INT);",
            "m/2_r.cockroach.up.sql": rename,
            "m/2_r.postgres.up.sql": rename,
        }
    )
    assert list(catalog.datasets["t"].columns) == ["b"] and not catalog.issues


def test_numbered_files_in_a_migrations_folder_are_a_sequence() -> None:
    paths = ["db/ch/migrations/10_c.sql", "db/ch/migrations/2_b.sql", "db/ch/schema.sql"]
    paths += ["db/ch/migrations/01_a.sql", "db/ch/migrations/notes.sql", "sql/01_x.sql"]
    units = plan(paths, {}).units
    assert [u.path for u in units if u.role == "versioned"] == [
        "db/ch/migrations/01_a.sql",
        "db/ch/migrations/2_b.sql",
        "db/ch/migrations/10_c.sql",
    ]
    assert {u.path: u.one_time for u in units}["db/ch/migrations/notes.sql"]
    assert not {u.path: u.one_time for u in units}["sql/01_x.sql"]  # not a migrations folder
    catalog = build(
        {
            "db/migrations/01_a.sql": "CREATE TABLE old (id INT, k TEXT);",
            "db/migrations/02_b.sql": "CREATE TABLE new (id INT, key TEXT);\n"
            "INSERT INTO new SELECT id, k FROM old;\nDROP TABLE old;",
        }
    )
    assert catalog.loads == [] and not catalog.issues  # the copy ran once, not a consumer


def test_dbmate_applies_the_up_section_only() -> None:
    text = "-- comment\n-- migrate:up\nCREATE TABLE t (a INT);\n-- migrate:down\nDROP TABLE t;\n"
    dump = "CREATE TABLE t (a INT);\n-- Dbmate schema migrations\n"
    got = plan(
        ["db/migrations/2_b.sql", "db/schema.sql"],
        {"db/migrations/2_b.sql": text, "db/schema.sql": dump},
    )
    (unit,) = got.units
    assert unit.framework == "dbmate" and unit.lines == ((3, 3),)
    assert forward_text(text, unit.lines).split("\n") == [
        "",
        "",
        "CREATE TABLE t (a INT);",
        "",
        "",
        "",
    ]
    assert "db/schema.sql" in got.excluded


def test_sqitch_follows_the_plan_and_resolves_reworked_changes() -> None:
    plan_text = (
        "%syntax-version=1.0.0\n%project=p\n\n"
        "schema 2020-01-01T00:00:00Z A <a@b> # first\n"
        "fn 2020-01-01T00:00:00Z A <a@b>\n"
        "@v1 2020-01-02T00:00:00Z A <a@b> # tag\n"
        "@v1.1 2020-01-02T00:00:00Z A <a@b> # a second tag, no script for it\n"
        "add_col [schema] 2020-01-03T00:00:00Z A <a@b>\n"
        "fn [fn@v1] 2020-01-04T00:00:00Z A <a@b> # reworked\n"
    )
    paths = [
        "db/sqitch.plan",
        "db/deploy/add_col.sql",
        "db/deploy/fn.sql",
        "db/deploy/fn@v1.sql",
        "db/deploy/schema.sql",
        "db/deploy/orphan.sql",
        "db/revert/schema.sql",
        "db/verify/schema.sql",
    ]
    got = plan(paths, {"db/sqitch.plan": plan_text})
    assert [u.path for u in got.units] == [
        "db/deploy/schema.sql",
        "db/deploy/fn@v1.sql",
        "db/deploy/add_col.sql",
        "db/deploy/fn.sql",
    ]
    assert set(got.excluded) == {
        "db/deploy/orphan.sql",
        "db/revert/schema.sql",
        "db/verify/schema.sql",
    }


def test_prisma_atlas_supabase_and_liquibase() -> None:
    assert order(["p/migrations/2_b/migration.sql", "p/migrations/1_a/migration.sql"]) == [
        "p/migrations/1_a/migration.sql",
        "p/migrations/2_b/migration.sql",
    ]
    atlas = {"m/atlas.sum": "h1:x\n2_b.sql h1:y\n1_a.sql h1:z\n"}
    assert order(["m/atlas.sum", "m/1_a.sql", "m/2_b.sql", "m/3_new.sql"], atlas) == [
        "m/2_b.sql",  # atlas.sum's order
        "m/1_a.sql",
        "m/3_new.sql",  # not hashed yet: after the listed ones
    ]
    got = plan(
        [
            "supabase/migrations/2_b.sql",
            "supabase/migrations/1_a.sql",
            "supabase/migrations/notes.sql",
            "supabase/seed.sql",
        ],
        {},
    )
    assert [(u.path, u.role) for u in got.units] == [
        ("supabase/migrations/1_a.sql", "versioned"),
        ("supabase/migrations/2_b.sql", "versioned"),
        ("supabase/seed.sql", "script"),
    ]
    assert "supabase/migrations/notes.sql" in got.excluded
    texts = {"c/b.sql": "--liquibase formatted sql\n", "c/a.sql": "  -- Liquibase Formatted SQL\n"}
    assert [(u.path, u.framework) for u in plan(["c/b.sql", "c/a.sql"], texts).units] == [
        ("c/a.sql", "liquibase"),
        ("c/b.sql", "liquibase"),
    ]


def test_a_sequence_takes_the_place_of_its_first_file() -> None:
    paths = ["a.sql", "db/V2__b.sql", "db/V1__a.sql", "views/v.sql", "db/R__x.sql"]
    assert order(paths) == ["a.sql", "db/V1__a.sql", "db/V2__b.sql", "db/R__x.sql", "views/v.sql"]


def test_rails_structure_dump() -> None:
    (unit,) = plan(["db/structure.sql"], {}).units
    assert (unit.framework, unit.role) == ("rails", "dump")


# -- the loader ------------------------------------------------------------------------------


def build(files: dict[str, str], dialect: str = "postgres") -> Catalog:
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    return load_catalog(snap, Config(dialect=dialect))


def test_down_migrations_never_build_the_schema() -> None:
    catalog = build(
        {
            "migrations/2020-01-01-000000_t/up.sql": "CREATE TABLE t (a INT);",
            "migrations/2020-01-01-000000_t/down.sql": "DROP TABLE t;",
        }
    )
    assert "t" in catalog.datasets and not catalog.dropped


def test_one_time_data_is_not_a_consumer_and_ctas_is_a_table() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE old (id INT, note TEXT);",
            "db/V2__b.sql": "CREATE TABLE copy AS SELECT id, note FROM old;\n"
            "CREATE TABLE t (id INT);\nINSERT INTO t (id) SELECT id FROM old;\n"
            "UPDATE t SET id = id + 1;\nDROP TABLE old;",
        }
    )
    assert catalog.loads == [] and not catalog.issues
    copy = catalog.datasets["copy"]
    assert not copy.derived and list(copy.columns) == ["id", "note"]
    assert copy.columns["id"].type == "INT"


def test_insert_select_outside_migrations_stays_a_recurring_consumer() -> None:
    catalog = build(
        {
            "ddl/tables.sql": "CREATE TABLE a (id INT);\nCREATE TABLE b (id INT);",
            "jobs/load.sql": "INSERT INTO b (id) SELECT id FROM a;",
        }
    )
    assert [load.target for load in catalog.loads] == ["b"]


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("INSERT INTO t (id) SELECT gone FROM t;", "TB109"),
        ("UPDATE t SET id = 1 WHERE gone = 2;", "TB109"),
        ("DELETE FROM dropped;", "TB109"),
        ("SELECT count(*) FROM dropped;", "TB109"),
        ("CREATE TABLE c AS SELECT gone FROM t;", "TB109"),
        ("ALTER TABLE t RENAME COLUMN gone TO back;", "TB110"),
        ("ALTER TABLE dropped ADD COLUMN x INT;", "TB110"),
        ("DROP TABLE dropped;", "TB110"),
    ],
)
def test_reading_what_an_earlier_migration_removed(statement: str, rule: str) -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE t (id INT, gone INT);\nCREATE TABLE dropped (x INT);",
            "db/V2__b.sql": "ALTER TABLE t DROP COLUMN gone;\nDROP TABLE dropped;",
            "db/V3__c.sql": statement,
        }
    )
    issues = [(i.rule, i.location.file) for i in catalog.issues]
    assert issues == [(rule, "db/V3__c.sql")], catalog.issues
    assert "db/V2__b.sql:" in catalog.issues[0].message


def test_an_unread_statement_makes_its_table_uncertain() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE t (id INT);\n"
            "ALTER TABLE t SPLIT PARTITION p INTO (PARTITION q);",
            "db/V2__b.sql": "UPDATE t SET x = 1;",
        }
    )
    assert [i.rule for i in catalog.issues] == ["AN901"]  # and no TB109 on `x`


def test_guarded_ddl_in_a_do_block_is_applied() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE t (id INT);\n"
            "DO $$ BEGIN\n  IF NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
            "    WHERE table_name = 't' AND column_name = 'x') THEN\n"
            "    ALTER TABLE t ADD COLUMN x INT;\n  END IF;\nEND $$;",
            "db/V2__b.sql": "UPDATE t SET x = 1;",
        }
    )
    assert "x" in catalog.datasets["t"].columns and catalog.issues == []


def test_statements_that_are_not_table_schema_say_nothing() -> None:
    catalog = build(
        {
            "schema.sql": "CREATE TABLE t (id INT);\n"
            "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;\n"
            "CREATE INDEX CONCURRENTLY t_id ON t USING gin (id);\n"
            "COMMENT ON COLUMN t.id IS 'id';\nGRANT SELECT ON t TO r;\nREVOKE ALL ON t FROM r;\n"
            "CREATE POLICY p ON t USING (id > 0);\nALTER TABLE t ENABLE ROW LEVEL SECURITY;\n"
            "ALTER TABLE ONLY t REPLICA IDENTITY FULL;\nALTER TABLE t OWNER TO app;\n"
            "CREATE TRIGGER tr AFTER UPDATE OF id ON t FOR EACH ROW EXECUTE FUNCTION f();\n"
            "ALTER PUBLICATION supabase_realtime ADD TABLE t;\nSET search_path = public;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n"
            "CREATE TYPE mood AS ENUM ('a');\nALTER TYPE mood ADD VALUE 'b';\n"
            "CREATE DOMAIN pos AS INT CHECK (VALUE > 0);\nCREATE SEQUENCE s;\n"
            "ALTER SEQUENCE s OWNED BY t.id;\n"
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r;\n"
            "REFRESH MATERIALIZED VIEW mv;\nALTER INDEX t_id RENAME TO t_id2;\n",
        }
    )
    assert catalog.issues == []


def test_set_schema_moves_the_table() -> None:
    catalog = build({"a.sql": "CREATE TABLE t (id INT);\nALTER TABLE t SET SCHEMA archive;"})
    assert "archive.t" in catalog.datasets and catalog.renamed_tables == {"t": "archive.t"}


def test_routines_with_readable_bodies_are_consumers_bound_at_head() -> None:
    catalog = build(
        {
            "a.sql": "CREATE TABLE t (id INT, amount INT);\n"
            "CREATE FUNCTION total(p INT) RETURNS BIGINT LANGUAGE sql AS $$\n"
            "  SELECT sum(amount) FROM t WHERE id = p\n$$;\n"
            "CREATE FUNCTION n() RETURNS BIGINT LANGUAGE sql BEGIN ATOMIC\n"
            "  SELECT count(*) FROM t WHERE amount > 0;\nEND;\n"
            "CREATE FUNCTION c() RETURNS INT AS 'lib', 'c' LANGUAGE c;\n"
            "CREATE FUNCTION gone() RETURNS INT LANGUAGE sql AS 'SELECT 1';\n"
            "DROP FUNCTION IF EXISTS gone(), nothing(INT);\n",
        }
    )
    routines = {n: d for n, d in catalog.datasets.items() if d.kind == "function"}
    assert set(routines) == {"total()", "n()"}
    assert catalog.reads["total()"] == {"t"}
    lineage = routines["total()"].lineage
    assert lineage is not None and ("t", "amount") in lineage.referenced
    assert [(i.rule, i.message.split(":")[0]) for i in catalog.issues] == [
        ("AN911", "c function body")
    ]


def test_plpgsql_variables_are_not_columns() -> None:
    catalog = build(
        {
            "a.sql": "CREATE TABLE t (id INT, amount INT);\n"
            "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "DECLARE v_total INT;\nBEGIN\n"
            "  SELECT sum(amount) INTO v_total FROM t WHERE id = NEW.id;\n"
            "  IF v_total > 10 THEN\n    UPDATE t SET amount = v_total WHERE id = OLD.id;\n"
            "  END IF;\n  RETURN NEW;\nEND;\n$$;\n",
        }
    )
    lineage = catalog.datasets["f()"].lineage
    assert lineage is not None and not lineage.missing and not lineage.errors
    assert ("t", "amount") in lineage.referenced and ("t", "v_total") not in lineage.referenced


def test_parallel_directories_never_blame_each_other() -> None:
    """The same schema kept for two databases: one directory's drop is not the other's."""
    catalog = build(
        {
            "pg/V1__a.sql": "CREATE TABLE t (id INT, c INT);",
            "pg/V2__b.sql": "ALTER TABLE t DROP COLUMN c;",
            "mysql/V1__a.sql": "CREATE TABLE IF NOT EXISTS t (id INT, c INT);",
            "mysql/V2__b.sql": "UPDATE t SET c = 1;\nALTER TABLE t DROP COLUMN c;",
        }
    )
    assert catalog.issues == []


def test_dynamic_sql_makes_uncertain_only_what_it_may_change() -> None:
    files = {
        "db/V1__a.sql": "CREATE TABLE t (id INT);\nCREATE TABLE u (id INT);\n"
        "DO $$ BEGIN EXECUTE format('GRANT SELECT ON %I TO app', 't'); END $$;\n"
        "DO $$ BEGIN EXECUTE 'ALTER TABLE u ADD COLUMN x INT'; END $$;",
        "db/V2__b.sql": "UPDATE t SET gone = 1;\nUPDATE u SET x = 1;",
    }
    catalog = build(files)
    assert [(i.rule, i.target) for i in catalog.issues if i.rule != "AN911"] == [
        ("TB109", "t.gone")
    ]
    files["db/V1__a.sql"] += (
        "\nDO $$ BEGIN EXECUTE format('ALTER TABLE %I ADD y INT', 't'); END $$;"
    )
    assert [i.rule for i in build(files).issues if i.rule != "AN911"] == []


def test_the_engine_a_framework_names_sets_the_dialect_unless_configured() -> None:
    texts = {
        "p/migrations/migration_lock.toml": 'provider = "mysql"\n',
        "s/sqitch.conf": "[core]\n\tengine = pg\n",
        "s/sqitch.plan": "a 2020-01-01T00:00:00Z A <a@b>\n",
        "db/structure.sql": "SET statement_timeout = 0;\n",
    }
    paths = [
        *texts,
        "p/migrations/1_a/migration.sql",
        "s/deploy/a.sql",
        "supabase/migrations/1_a.sql",
        "db/V1__a.sql",
    ]
    dialects = {u.path: u.dialect for u in plan(paths, texts).units}
    assert dialects == {
        "db/V1__a.sql": None,  # Flyway names no engine
        "db/structure.sql": "postgres",
        "p/migrations/1_a/migration.sql": "mysql",
        "s/deploy/a.sql": "postgres",
        "supabase/migrations/1_a.sql": "postgres",
    }
    files = {"supabase/migrations/1_a.sql": "CREATE TABLE u (id INT);"}
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    assert load_catalog(snap, Config()).datasets["u"].dialect == "postgres"
    assert load_catalog(snap, Config(dialect="duckdb")).datasets["u"].dialect == "duckdb"


@pytest.mark.parametrize(
    "takes_inserts",
    [
        "CREATE TRIGGER ins INSTEAD OF INSERT ON v FOR EACH ROW EXECUTE FUNCTION f();",
        "CREATE OR REPLACE RULE ins AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (NEW.a);",
    ],
)
def test_a_view_with_an_instead_of_insert_trigger_or_rule_takes_inserts(
    takes_inserts: str,
) -> None:
    from impact_check.bind import broken_datasets

    files = {
        "db/V1__a.sql": "CREATE TABLE t (a INT);\nCREATE TABLE u (a INT);\n"
        "CREATE VIEW v AS SELECT a FROM t UNION ALL SELECT a FROM u;",
        "jobs/load.sql": "INSERT INTO v (a) SELECT a FROM u;",
    }
    assert set(broken_datasets(build(files), set())) == {"sql:insert/jobs/load.sql:1"}
    files["db/V1__a.sql"] += "\n" + takes_inserts
    assert broken_datasets(build(files), set()) == {}


def test_insert_values_into_a_dropped_table_fails_on_deploy() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE t (id INT);",
            "db/V2__b.sql": "DROP TABLE t;",
            "db/V3__c.sql": "INSERT INTO t VALUES (1);",
        }
    )
    assert [(i.rule, i.target) for i in catalog.issues] == [("TB109", "t")]


def test_each_action_of_an_alter_sqlglot_reads_as_a_command_is_applied() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE p (id INT PRIMARY KEY);\n"
            "CREATE TABLE t (id INT, p_id INT,\n"
            "  CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id));",
            "db/V2__b.sql": "ALTER TABLE t DROP CONSTRAINT t_p,\n"
            "  ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE,\n"
            "  ADD COLUMN note TEXT DEFAULT 'a,b';\n"
            "ALTER TABLE t ADD COLUMN x INT, ALTER COLUMN id SET STATISTICS 5;",
        }
    )
    assert catalog.issues == []
    table = catalog.datasets["t"]
    assert list(table.columns) == ["id", "p_id", "note", "x"]
    assert "ON DELETE CASCADE" in table.constraints["t_p"]


def test_quoted_mixed_case_names_keep_their_case_in_data_migrations() -> None:
    """Prisma writes "Organisation"."portalId": an UPDATE of it reads that very column."""
    catalog = build(
        {
            "prisma/migrations/1_a/migration.sql": 'CREATE TABLE "Org" ("id" TEXT, '
            '"portalId" TEXT);\nCREATE TABLE "Portal" ("id" TEXT, "orgId" TEXT);',
            "prisma/migrations/2_b/migration.sql": 'UPDATE "Org" o SET "portalId" = p."id"\n'
            'FROM "Portal" p WHERE p."orgId" = o."id" AND o."portalId" IS NULL;\n'
            'INSERT INTO "Portal" ("id", "orgId") SELECT "id", "id" FROM "Org";\n'
            'ALTER TABLE "Org" RENAME "portalId" TO "portal";\n'
            'ALTER TABLE "Portal" RENAME COLUMN "orgId" TO "ownerId";',
        }
    )
    assert catalog.issues == []
    assert "portal" in catalog.datasets["Org"].columns
    assert list(catalog.datasets["Portal"].columns) == ["id", "ownerId"]


def test_migrations_kept_for_tests_are_not_the_schema_when_another_history_exists() -> None:
    files = [
        "tools/migrate/migrations/1_a.up.sql",
        "tools/migrate/testdata/old/1_a.up.sql",
        "src/test/resources/db/V1__a.sql",
    ]
    built = plan(files, {})
    assert [u.path for u in built.units] == ["tools/migrate/migrations/1_a.up.sql"]
    assert "kept for tests" in built.excluded["tools/migrate/testdata/old/1_a.up.sql"]
    assert "kept for tests" in built.excluded["src/test/resources/db/V1__a.sql"]
    # alone, a test directory's migrations are the only schema there is
    alone = plan(["test/db/V1__a.sql"], {})
    assert [u.path for u in alone.units] == ["test/db/V1__a.sql"]


PGTAP = """SET client_min_messages TO warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
RESET client_min_messages;
\\set query `cat queries/insert.sql`
BEGIN;
SELECT plan(2);
SELECT has_table('sessions');
SELECT has_column('sessions', 'id');
SELECT * FROM finish();
ROLLBACK;
"""


def test_pgtap_tests_build_no_schema_and_say_nothing() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE sessions (id INT);",
            "test/t1001-sessions.sql": PGTAP,
            "pgsql/test/t1002-sessions.sql": PGTAP.replace("plan(2)", "no_plan()"),
            # a test folder's SQL that is no pgTAP test is read as before
            "test/setup.sql": "CREATE TABLE fixtures (id INT);",
        }
    )
    assert catalog.issues == [] and set(catalog.datasets) == {"sessions", "fixtures"}
    assert "pgTAP" in plan(["test/t1.sql"], {"test/t1.sql": PGTAP}).excluded["test/t1.sql"]


def test_the_one_engine_the_migrations_name_is_the_dialect_of_the_other_sql() -> None:
    texts = {"s/sqitch.conf": "[core]\n\tengine = pg\n", "s/sqitch.plan": "a 2020-01-01 A\n"}
    paths = [*texts, "s/deploy/a.sql", "queries/q.sql", "db/V1__a.sql"]
    dialects = {u.path: u.dialect for u in plan(paths, texts).units}
    assert dialects == {
        "s/deploy/a.sql": "postgres",
        "queries/q.sql": "postgres",
        "db/V1__a.sql": "postgres",
    }
    files = {
        "supabase/migrations/1_a.sql": "CREATE TABLE u (id INT, note TEXT);",
        # PostgreSQL full-text search: read as DuckDB, an opaque command (no view)
        "views/search.sql": "CREATE VIEW search AS SELECT id, "
        "to_tsvector(note) @@ to_tsquery('a') AS hit FROM u;",
    }
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    catalog = load_catalog(snap, Config())
    assert catalog.datasets["search"].dialect == "postgres" and not catalog.issues


def test_insert_select_counts_values_not_names() -> None:
    """PostgreSQL names `SELECT 1, 2, now()` "?column?", "?column?", "now": three values
    for three columns, not two (the sqitch reproduction failed once queries were read as
    PostgreSQL)."""
    catalog = build(
        {
            "ddl/t.sql": "CREATE TABLE s (id BIGINT, user_id BIGINT, started_at TIMESTAMPTZ);",
            "queries/insert.sql": "INSERT INTO s (id, user_id, started_at) SELECT 1, 2, now();",
            "queries/short.sql": "INSERT INTO s (id, user_id, started_at) SELECT 1, 2;",
        }
    )
    [ok, short] = sorted(catalog.loads, key=lambda load: load.location.file)
    assert not ok.lineage.errors, ok.lineage.errors
    assert short.lineage.errors == ["INSERT into s lists 3 columns but the query returns 2"]


def test_the_engine_a_migration_directory_path_names_is_its_dialect() -> None:
    """conductor: `mysql-persistence/…/db/migration/V2__….sql` holds MySQL's `ALTER TABLE
    t CHANGE c c TIMESTAMP`, which other dialects read as an opaque command (the table left
    uncertain, the file not analysed). A path naming one engine gives its dialect, unless
    the configuration or the framework names one; a path naming two gives none."""
    texts = {"s/mysql/sqitch.conf": "[core]\n\tengine = pg\n", "s/mysql/sqitch.plan": "a\n"}
    paths = [
        *texts,
        "mysql-persistence/db/migration/V1__a.sql",
        "postgres-persistence/db/migration/V1__a.sql",
        "make/migrations/postgresql/0001_a.up.sql",
        "mysql/to/postgres/migrations/V1__a.sql",
        "s/mysql/deploy/a.sql",
    ]
    dialects = {u.path: u.dialect for u in plan(paths, texts).units}
    assert dialects == {
        "mysql-persistence/db/migration/V1__a.sql": "mysql",
        "postgres-persistence/db/migration/V1__a.sql": "postgres",
        "make/migrations/postgresql/0001_a.up.sql": "postgres",
        "mysql/to/postgres/migrations/V1__a.sql": None,
        "s/mysql/deploy/a.sql": "postgres",  # sqitch.conf names the engine
    }
    configured = {u.path: u.dialect for u in plan(paths, texts, "duckdb").units}
    assert configured["mysql-persistence/db/migration/V1__a.sql"] != "mysql"
    files = {
        "mysql-persistence/db/migration/V1__a.sql": "CREATE TABLE q (id INT, created_on DATETIME);",
        "mysql-persistence/db/migration/V2__b.sql": "ALTER TABLE `q` CHANGE `created_on` "
        "`created_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP;",
    }
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    catalog = load_catalog(snap, Config())
    assert not catalog.issues, catalog.issues
    assert str(catalog.datasets["q"].columns["created_on"].type).upper().startswith("TIMESTAMP")


MYSQL_PROCEDURE = """DELIMITER $$
DROP PROCEDURE IF EXISTS `FixPk`$$
CREATE PROCEDURE `FixPk`(IN tableName VARCHAR(128))
BEGIN
    DECLARE col_exists INT DEFAULT 0;
    IF col_exists > 0 THEN
        SET @stmt = CONCAT('ALTER TABLE ', tableName, ' DROP COLUMN id');
        PREPARE st FROM @stmt;
        EXECUTE st;
    END IF;
END$$
DELIMITER ;
CALL FixPk('q');
ALTER TABLE q ADD COLUMN note TEXT;
"""


def test_mysql_delimiter_blocks_are_statements() -> None:
    """conductor V8__update_pk.sql: procedures written between `DELIMITER $$` lines, as the
    MySQL client reads them, were split at every `;` of their bodies (statements "not
    understood", the file not analysed). Each block is one statement: the procedure a
    routine, `CALL` counted as not analysed (AN911), the rest of the file applied."""
    statements = [sql.split("\n")[0] for _line, sql in split_statements(MYSQL_PROCEDURE, "mysql")]
    assert statements == [
        "DROP PROCEDURE IF EXISTS `FixPk`",
        "CREATE PROCEDURE `FixPk`(IN tableName VARCHAR(128))",
        "CALL FixPk('q')",
        "ALTER TABLE q ADD COLUMN note TEXT",
    ]
    assert [line for line, _sql in split_statements(MYSQL_PROCEDURE, "mysql")] == [2, 3, 13, 14]
    catalog = build(
        {
            "db/migration/V1__a.sql": "CREATE TABLE q (id INT, name VARCHAR(10));",
            "db/migration/V2__b.sql": MYSQL_PROCEDURE,
        },
        "mysql",
    )
    assert sorted(i.rule for i in catalog.issues) == ["AN911", "AN911"], catalog.issues
    assert list(catalog.datasets["q"].columns) == ["id", "name", "note"]
