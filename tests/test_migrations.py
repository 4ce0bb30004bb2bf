"""Migration layouts: which files build the schema, in which order (project/migrations.py),
and what the loader makes of one-time statements and statements that are not table schema."""

from __future__ import annotations

from pathlib import Path

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


def test_snowflake_tasks_streams_and_stages_say_nothing() -> None:
    """A Snowflake ingestion script's tasks (whose COPY INTO names a table) made the table
    "not analysed" (held-back replay): they build no table and change no column."""
    catalog = build(
        {
            "sql/load.sql": "CREATE TABLE raw.rents (id INT, rent INT);\n"
            "CREATE OR REPLACE STAGE raw.s3 URL = 's3://bucket/';\n"
            "CREATE OR REPLACE FILE FORMAT raw.csv TYPE = CSV;\n"
            "CREATE OR REPLACE TASK raw.load_rents WAREHOUSE = wh SCHEDULE = '60 MINUTE'\n"
            "  AS COPY INTO raw.rents FROM @raw.s3 FILE_FORMAT = raw.csv;\n"
            "ALTER TASK raw.load_rents RESUME;\nEXECUTE TASK raw.load_rents;\n"
            "CREATE OR REPLACE STREAM raw.rents_stream ON TABLE raw.rents;\n"
            "ALTER TABLE raw.rents COMMENT = 'Rent facts. Grain: one row per month';\n"
            "ALTER TABLE raw.rents CLUSTER BY (id);\n",
        },
        dialect="snowflake",
    )
    assert catalog.issues == [] and list(catalog.datasets["raw.rents"].columns) == ["id", "rent"]


def test_plain_sql_in_a_directory_naming_an_engine_is_read_in_it() -> None:
    """temporal: `schema/mysql/v8/…/versioned/v1.2/blob_size.sql` (no framework) holds
    MySQL's `ALTER TABLE t MODIFY COLUMN data MEDIUMBLOB`, an opaque command elsewhere."""
    files = {
        "schema/mysql/v8/versioned/v1.0/schema.sql": "CREATE TABLE m (id INT, data BLOB);",
        "schema/mysql/v8/versioned/v1.2/blob_size.sql": "ALTER TABLE m MODIFY COLUMN data "
        "MEDIUMBLOB;",
        "schema/postgresql/v12/versioned/v1.0/schema.sql": "CREATE TABLE p (id INT);",
    }
    paths = list(files)
    dialects = {u.path: u.dialect for u in plan(paths, files).units}
    assert set(dialects.values()) == {"mysql", "postgres"}
    assert {u.dialect for u in plan(paths, files, "duckdb").units} == {None}
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    catalog = load_catalog(snap, Config())
    assert not catalog.issues, catalog.issues


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


# -- a schema dump beside the migrations of the same database (project/dumps.py) ------------

CH_INIT = (
    "CREATE TABLE umami.website_event (event_id UUID, subdivision1 String)\n"
    "ENGINE = MergeTree ORDER BY event_id;\n"
)
CH_DUMP = (
    "CREATE TABLE IF NOT EXISTS umami.website_event (event_id UUID, region String)\n"
    "ENGINE = MergeTree ORDER BY event_id;\n"
)


def test_a_dump_beside_migrations_is_the_schema_and_the_migrations_a_sequence_of_their_own() -> (
    None
):
    texts = {
        "db/clickhouse/schema.sql": CH_DUMP,
        "db/clickhouse/migrations/01_init.sql": CH_INIT,
        "db/clickhouse/migrations/02_region.sql": "ALTER TABLE umami.website_event "
        "RENAME COLUMN subdivision1 TO region;",
        "db/postgresql/migrations/01_init/migration.sql": 'CREATE TABLE "website_event" (x INT);',
        "db/postgresql/migrations/migration_lock.toml": 'provider = "postgresql"',
    }
    got = plan(texts, texts)
    # the ClickHouse dump builds the schema (in the engine its table engines name); the
    # PostgreSQL history of the same application stays a history (no dump of its own)
    assert [(u.path, u.role, u.dialect) for u in got.units] == [
        ("db/clickhouse/schema.sql", "dump", "clickhouse"),
        ("db/postgresql/migrations/01_init/migration.sql", "versioned", "postgres"),
    ]
    ((first, second),) = got.checked
    assert (first.path, second.path) == (
        "db/clickhouse/migrations/01_init.sql",
        "db/clickhouse/migrations/02_region.sql",
    )
    assert first.one_time and first.sequence == "db/clickhouse/migrations"
    assert got.paired == {"db/clickhouse/migrations": "db/clickhouse/schema.sql"}


def test_a_base_schema_the_migrations_only_alter_is_their_first_step() -> None:
    texts = {
        "db/schema.sql": "CREATE TABLE t (a INT);",
        "db/migrations/01_b.sql": "ALTER TABLE t ADD COLUMN b INT;",
        "db/migrations/02_c.sql": "ALTER TABLE t ADD COLUMN c INT;",
    }
    got = plan(texts, texts)
    assert [u.path for u in got.units] == [
        "db/migrations/01_b.sql",
        "db/migrations/02_c.sql",
        "db/schema.sql",
    ]
    assert not got.checked and not got.paired


@pytest.mark.parametrize(
    "dump",
    [
        "migrations/schema.sql",  # in the directory (not a one-time script after it)
        "structure.sql",  # beside it
        "db/init.sql",  # one level above its parent, the only history there
    ],
)
def test_where_a_dump_pairs(dump: str) -> None:
    root = "migrations" if "/" not in dump or dump.startswith("migrations/") else "db/pg/migs"
    texts = {
        f"{root}/20200101000000_a/up.sql": "CREATE TABLE t (a INT);",
        f"{root}/20200101000000_a/down.sql": "DROP TABLE t;",
        dump: "CREATE TABLE public.t (a INT, b INT);",
    }
    got = plan(texts, texts)
    assert [u.path for u in got.units] == [dump]
    assert [[u.path for u in seq] for seq in got.checked] == [[f"{root}/20200101000000_a/up.sql"]]


def test_a_dump_above_two_migration_directories_pairs_with_neither() -> None:
    texts = {
        "db/schema.sql": "CREATE TABLE t (a INT);",
        "db/pg/migrations/01_a.sql": "CREATE TABLE t (a INT);",
        "db/pg/migrations/02_b.sql": "ALTER TABLE t ADD COLUMN b INT;",
        "db/ch/migrations/01_a.sql": "CREATE TABLE t (a INT);",
        "db/ch/migrations/02_b.sql": "ALTER TABLE t ADD COLUMN b INT;",
    }
    assert not plan(texts, texts).checked


def test_a_dump_dbmate_writes_from_its_migrations_stays_excluded() -> None:
    texts = {
        "db/migrations/1_a.sql": "-- migrate:up\nCREATE TABLE t (a INT);\n-- migrate:down\n",
        "db/schema.sql": "-- Dbmate schema migrations\nCREATE TABLE t (a INT);",
    }
    got = plan(texts, texts)
    assert [u.path for u in got.units] == ["db/migrations/1_a.sql"] and not got.checked
    assert "db/schema.sql" in got.excluded


def test_the_sequence_a_dump_stands_for_is_checked_on_its_own() -> None:
    """The migrations' rename never runs on the dump's already-renamed table; a migration
    reading what an earlier one renamed is still TB109, named in its own file."""
    files = {
        "db/schema.sql": "CREATE TABLE ev (id INT, region TEXT, host TEXT);\n"
        "CREATE VIEW hits AS SELECT region, host FROM ev;",
        "db/migrations/01_init.sql": "CREATE TABLE ev (id INT, subdivision TEXT);",
        "db/migrations/02_region.sql": "ALTER TABLE ev RENAME COLUMN subdivision TO region;",
        "db/migrations/03_fill.sql": "UPDATE ev SET subdivision = 'x';",
    }
    catalog = build(files)
    assert list(catalog.datasets["ev"].columns) == ["id", "region", "host"]
    assert not catalog.renamed_columns
    assert [(i.rule, i.location.file) for i in catalog.issues] == [
        ("TB109", "db/migrations/03_fill.sql")
    ]


CH_TABLES = """CREATE TABLE{ine} umami.website_event
(
    event_id UUID,
    visit_id UUID,
    url_path String,
    subdivision1 LowCardinality(Nullable(String)),
    hostname LowCardinality(Nullable(String)),
    created_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (event_id, created_at);

CREATE TABLE{ine} umami.website_event_stats_hourly
(
    subdivision1 LowCardinality(Nullable(String)),
    hostname LowCardinality(Nullable(String)),
    views SimpleAggregateFunction(sum, UInt64),
    created_at DateTime('UTC')
)
ENGINE = AggregatingMergeTree
ORDER BY (subdivision1, created_at);
"""
CH_MV = """
CREATE MATERIALIZED VIEW umami.website_event_stats_hourly_mv
TO umami.website_event_stats_hourly
AS
SELECT {columns}, count(*) AS views, toStartOfHour(created_at) AS created_at
FROM umami.website_event
GROUP BY {columns}, created_at;
"""


def test_clickhouse_dump_beside_its_migrations(tmp_path: Path) -> None:
    """ClickHouse syntax (table engines, ``MATERIALIZED VIEW … TO``): the commit that
    renames a column in a migration and regenerates the dump is green (the dump's view reads
    ``hostname``, which only the dump has); a later migration reading the old name is red."""
    from gitrepo import GitRepo

    init = CH_TABLES.format(ine="").replace("    visit_id UUID,\n", "")
    init = init.replace("    hostname LowCardinality(Nullable(String)),\n", "")
    base = {
        "db/clickhouse/migrations/01_init.sql": init + CH_MV.format(columns="subdivision1"),
        "db/clickhouse/migrations/02_add_visit_id.sql": "ALTER TABLE umami.website_event "
        "ADD COLUMN visit_id UUID AFTER event_id;\n",
        "db/clickhouse/schema.sql": CH_TABLES.format(ine=" IF NOT EXISTS")
        + CH_MV.format(columns="subdivision1"),
        "db/postgresql/migrations/01_init/migration.sql": 'CREATE TABLE "website_event" '
        '("event_id" UUID NOT NULL, "subdivision1" VARCHAR(20));\n',
        "db/postgresql/migrations/migration_lock.toml": 'provider = "postgresql"\n',
    }
    rename = (
        "DROP TABLE umami.website_event_stats_hourly_mv;\n"
        "ALTER TABLE umami.website_event RENAME COLUMN subdivision1 TO region;\n"
        "ALTER TABLE umami.website_event_stats_hourly RENAME COLUMN subdivision1 TO region;\n"
    ) + CH_MV.format(columns="region")
    dump = CH_TABLES.format(ine=" IF NOT EXISTS") + CH_MV.format(columns="region, hostname")
    head = {
        "db/clickhouse/migrations/06_update_subdivision.sql": rename,
        "db/clickhouse/schema.sql": dump.replace("subdivision1", "region"),
    }
    fill = (
        "INSERT INTO umami.website_event_stats_hourly (region, views, created_at)\n"
        "SELECT subdivision1, 1, created_at FROM umami.website_event;\n"
    )
    repo = GitRepo(tmp_path / "repo")
    repo.commit(base, "base")
    repo.commit(head, "rename, dump regenerated")
    repo.commit({"db/clickhouse/migrations/07_fill.sql": fill}, "reads the old name")
    code, report = repo.report("--base", "HEAD~2", "--head", "HEAD~1")
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert (code, errors) == (0, []), errors
    unparsed = [f for f in report["findings"] if f["rule"] == "AN901"]
    assert not unparsed, unparsed  # read in ClickHouse, the engine the dump names
    code, report = repo.report("--base", "HEAD~1", "--head", "HEAD")
    errors = [
        (f["rule"], f["location"]["file"]) for f in report["findings"] if f["severity"] == "error"
    ]
    assert (code, errors) == (1, [("TB109", "db/clickhouse/migrations/07_fill.sql")])


@pytest.mark.parametrize(
    ("dialect", "kept"),
    [(None, "postgres_dump.sql"), ("postgres", "postgres_dump.sql"), ("mysql", "mysql_dump.sql")],
)
def test_one_schema_dumped_for_several_engines_applies_once(dialect: str | None, kept: str) -> None:
    """ory/hydra keeps ``cockroach_dump.sql``, ``mysql_dump.sql``, ``postgres_dump.sql`` and
    ``sqlite3_dump.sql`` side by side: applied into one state, a change to all four made the
    ALTERs of one dump fail against another's tables (a false TB110)."""
    folder = "internal/testhelpers/sql_schemas"
    names = ["cockroach_dump.sql", "mysql_dump.sql", "postgres_dump.sql", "sqlite3_dump.sql"]
    got = plan([f"{folder}/{n}" for n in names], {}, dialect)
    assert [u.path for u in got.units] == [f"{folder}/{kept}"]
    assert got.units[0].dialect == (dialect or "postgres")
    assert sorted(got.excluded) == sorted(f"{folder}/{n}" for n in names if n != kept)
    assert "another engine" in got.excluded[f"{folder}/sqlite3_dump.sql"]


def test_a_single_engine_dump_is_a_plain_file() -> None:
    (unit,) = plan(["db/postgres_schema.sql"], {}).units
    assert (unit.path, unit.dialect, unit.framework) == ("db/postgres_schema.sql", None, None)


def test_engine_dumps_changed_together_are_one_schema_change(tmp_path: Path) -> None:
    """The hydra commit that adds a column to each engine's dump: one column added, read in
    the dump's own engine (CockroachDB's dump read as DuckDB gave 85 parse warnings)."""
    from gitrepo import GitRepo

    folder = "internal/testhelpers/sql_schemas"
    pg = "CREATE TABLE public.client (id VARCHAR(255) NOT NULL, name TEXT{extra});\n"
    pg += "ALTER TABLE ONLY public.client ADD CONSTRAINT client_pkey PRIMARY KEY (id);\n"
    crdb = "CREATE TABLE public.client (\n  id VARCHAR(255) NOT NULL,\n  name STRING{extra},\n"
    crdb += "  CONSTRAINT client_pkey PRIMARY KEY (id ASC)\n);\n"
    crdb += "ALTER TABLE public.client ADD CONSTRAINT client_fk FOREIGN KEY (id) "
    crdb += "REFERENCES public.other(id);\n"
    mysql = "CREATE TABLE `client` (`id` varchar(255) NOT NULL, `name` text{extra},"
    mysql += " PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"

    def files(extra: str) -> dict[str, str | bytes | None]:
        return {
            f"{folder}/postgres_dump.sql": pg.format(extra=extra.replace("X", "JSONB")),
            f"{folder}/cockroach_dump.sql": crdb.format(extra=extra.replace("X", "JSONB")),
            f"{folder}/mysql_dump.sql": mysql.format(extra=extra.replace("X", "json")),
        }

    repo = GitRepo(tmp_path / "repo")
    repo.commit(files(""), "base")
    repo.commit(files(", rotated X"), "head")
    code, report = repo.report("--base", "HEAD~1", "--head", "HEAD")
    got = [(f["rule"], f["location"]["file"].rsplit("/", 1)[1]) for f in report["findings"]]
    assert (code, got) == (0, [("CO203", "postgres_dump.sql")]), report["findings"]


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


def test_a_file_named_for_one_engine_is_read_in_it() -> None:
    """ory: `…_identities.mysql.up.sql` beside its PostgreSQL sibling holds MySQL's
    `ALTER TABLE t MODIFY COLUMN c VARCHAR(255) BINARY` (not analysed under PostgreSQL)."""
    files = {
        "m/20191100000001_identities.postgres.up.sql": "CREATE TABLE i (id INT, c TEXT);",
        "m/20191100000001_identities.mysql.up.sql": "CREATE TABLE i (id INT, c TEXT);",
        "m/20191100000005_identities.mysql.up.sql": "ALTER TABLE i MODIFY COLUMN c "
        "VARCHAR(255) BINARY;",
    }
    from impact_check.project.layouts import file_engine

    assert [file_engine(p) for p in files] == ["postgres", "mysql", "mysql"]
    assert file_engine("db/V1__a.sql") is None
    for unit in plan(list(files), files).units:
        assert unit.dialect == file_engine(unit.path)


def test_checks_temp_tables_fulltext_indexes_and_projections_say_nothing() -> None:
    catalog = build(
        {
            "db/V1__a.sql": "CREATE TABLE t (id INT, kind TEXT, body TEXT);\n"
            "ALTER TABLE t ADD CHECK (num_nonnulls (id, kind) = 1);\n"
            "CREATE TEMPORARY TABLE scratch AS SELECT id FROM t;\n"
            "DROP TABLE scratch;\n",
        }
    )
    assert catalog.issues == [] and list(catalog.datasets) == ["t"]
    mysql = build(
        {"db/V1__a.sql": "CREATE TABLE c (t TEXT);\nCREATE FULLTEXT INDEX f ON c (t);"}, "mysql"
    )
    assert mysql.issues == []
    clickhouse = build(
        {
            "db/schema.sql": "CREATE TABLE e (u String, p String) ENGINE = MergeTree ORDER BY u;\n"
            "ALTER TABLE e ADD PROJECTION by_p (SELECT * ORDER BY p);\n"
        },
        "clickhouse",
    )
    assert clickhouse.issues == []
