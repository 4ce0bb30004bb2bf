"""The catalog built from DDL migrations, in each supported dialect."""

from __future__ import annotations

import pytest

from impact_check.config import Config
from impact_check.model import Catalog, FileContent, Snapshot
from impact_check.project.loader import load_catalog

CREATE = """
CREATE TABLE shop.orders (
  id INT PRIMARY KEY,
  code VARCHAR(20) NOT NULL UNIQUE,
  amount DECIMAL(10, 2) DEFAULT 0,
  note VARCHAR(100),
  legacy INT,
  old_name INT,
  flag INT
);
CREATE TABLE shop.tmp (x INT);
"""

# Per dialect: retype `amount`, drop NOT NULL on `code`, rename a column and a table.
ALTERS = {
    "postgres": [
        "ALTER TABLE shop.orders ALTER COLUMN amount TYPE DECIMAL(12, 2)",
        "ALTER TABLE shop.orders ALTER COLUMN code DROP NOT NULL",
        "ALTER TABLE shop.orders ALTER COLUMN note SET NOT NULL",
    ],
    "snowflake": [
        "ALTER TABLE shop.orders ALTER COLUMN amount SET DATA TYPE DECIMAL(12, 2)",
        "ALTER TABLE shop.orders ALTER COLUMN code DROP NOT NULL",
        "ALTER TABLE shop.orders ALTER COLUMN note SET NOT NULL",
    ],
    "bigquery": [
        "ALTER TABLE shop.orders ALTER COLUMN amount SET DATA TYPE DECIMAL(12, 2)",
        "ALTER TABLE shop.orders ALTER COLUMN code DROP NOT NULL",
    ],
    "duckdb": [
        "ALTER TABLE shop.orders ALTER COLUMN amount TYPE DECIMAL(12, 2)",
        "ALTER TABLE shop.orders ALTER COLUMN code DROP NOT NULL",
        "ALTER TABLE shop.orders ALTER COLUMN note SET NOT NULL",
    ],
    "spark": [
        "ALTER TABLE shop.orders ALTER COLUMN amount TYPE DECIMAL(12, 2)",
        "ALTER TABLE shop.orders ALTER COLUMN code DROP NOT NULL",
        "ALTER TABLE shop.orders ALTER COLUMN note SET NOT NULL",
    ],
    "mysql": [
        "ALTER TABLE shop.orders MODIFY COLUMN amount DECIMAL(12, 2)",
        "ALTER TABLE shop.orders MODIFY COLUMN code VARCHAR(20)",
        "ALTER TABLE shop.orders MODIFY COLUMN note VARCHAR(100) NOT NULL",
    ],
}
COMMON = [
    "ALTER TABLE shop.orders ADD COLUMN added_at DATE",
    "ALTER TABLE shop.orders DROP COLUMN legacy",
    "ALTER TABLE shop.orders RENAME COLUMN old_name TO new_name",
    "ALTER TABLE shop.orders SET_DEFAULT_PLACEHOLDER",
    "DROP TABLE shop.tmp",
]


def build(dialect: str, files: dict[str, str]) -> Catalog:
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    return load_catalog(snap, Config(dialect=dialect))


@pytest.mark.parametrize("dialect", sorted(ALTERS))
def test_migrations_apply_in_natural_order(dialect: str) -> None:
    common = [s for s in COMMON if "PLACEHOLDER" not in s]
    files = {
        "db/V1__create.sql": CREATE,
        # V10 sorts after V2 only in natural order: it renames the table V2 altered.
        "db/V2__alter.sql": ";\n".join(ALTERS[dialect] + common) + ";\n",
        "db/V10__rename.sql": "ALTER TABLE shop.orders RENAME TO orders_v2;\n",
    }
    catalog = build(dialect, files)
    assert "shop.tmp" not in catalog.datasets
    assert "shop.orders" not in catalog.datasets
    table = catalog.datasets["shop.orders_v2"]
    assert list(table.columns) == ["id", "code", "amount", "note", "new_name", "flag", "added_at"]
    cols = table.columns
    assert cols["amount"].type == "DECIMAL(12, 2)"
    assert cols["id"].primary_key and cols["id"].not_null
    assert not cols["code"].not_null
    assert cols["added_at"].type == "DATE"
    if dialect != "bigquery":  # BigQuery has no SET NOT NULL
        assert cols["note"].not_null
    assert [i.rule for i in catalog.issues] == []


def test_defaults_and_unique_are_read() -> None:
    catalog = build("postgres", {"a.sql": CREATE})
    cols = catalog.datasets["shop.orders"].columns
    assert cols["code"].unique and cols["code"].not_null
    assert cols["amount"].default == "0"


def test_mysql_rename_table_command_is_understood() -> None:
    catalog = build("mysql", {"a.sql": CREATE, "b.sql": "RENAME TABLE shop.tmp TO shop.tmp2;"})
    assert "shop.tmp2" in catalog.datasets
    assert catalog.renamed_tables == {"shop.tmp": "shop.tmp2"}


def test_opaque_command_becomes_an_issue_naming_the_table() -> None:
    catalog = build(
        "postgres",
        {
            "a.sql": CREATE,
            "b.sql": "ALTER TABLE shop.orders SPLIT PARTITION p INTO (PARTITION q);",
        },
    )
    assert [(i.rule, i.target) for i in catalog.issues] == [("AN901", "shop.orders")]
    assert catalog.issues[0].location.line == 1


def test_constraint_forms_sqlglot_reads_as_commands_are_understood() -> None:
    catalog = build(
        "postgres",
        {
            "a.sql": "CREATE TABLE shop.t (x INT, CONSTRAINT positive CHECK (x > 0));",
            "b.sql": "ALTER TABLE shop.t VALIDATE CONSTRAINT positive;\n"
            "ALTER TABLE shop.t RENAME CONSTRAINT positive TO x_positive;\n"
            "ALTER TABLE shop.t ALTER CONSTRAINT x_positive DEFERRABLE;\n"
            "ALTER TABLE ONLY shop.t ENABLE ROW LEVEL SECURITY;\n",
        },
    )
    assert catalog.issues == []
    assert list(catalog.datasets["shop.t"].constraints) == ["x_positive"]


def test_postgres_rename_without_column_keyword_renames_the_column() -> None:
    rename = "ALTER TABLE shop.orders RENAME note TO memo;"
    catalog = build("postgres", {"a.sql": CREATE, "b.sql": rename})
    assert "memo" in catalog.datasets["shop.orders"].columns
    assert catalog.renamed_columns == {("shop.orders", "note"): "memo"}


def test_unparseable_statement_costs_only_itself() -> None:
    catalog = build(
        "postgres",
        {
            "a.sql": CREATE + "\nCREATE TABLE broken (;\nCREATE TABLE shop.ok (y INT);\n",
        },
    )
    assert "shop.ok" in catalog.datasets
    issue = catalog.issues[0]
    assert issue.rule == "AN901" and issue.location.line == 13


def test_placeholders_are_substituted() -> None:
    snap = Snapshot({"a.sql": FileContent("a.sql", b"CREATE TABLE ${schema}.t (x INT);")})
    catalog = load_catalog(snap, Config(placeholders={"schema": "prod"}))
    assert "prod.t" in catalog.datasets


def test_per_path_dialects() -> None:
    files = {
        "sf/a.sql": "CREATE TABLE s.t (x NUMBER(38, 0));",
        "pg/b.sql": "CREATE TABLE p.t (y int4);",
    }
    snap = Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})
    catalog = load_catalog(snap, Config(dialects={"sf/*": "snowflake", "pg/*": "postgres"}))
    assert catalog.datasets["s.t"].columns["x"].type == "DECIMAL(38, 0)"
    assert catalog.datasets["p.t"].columns["y"].type == "INT"
