"""Delta Lake tables as a source: logs written by the real ``deltalake`` package are read
back and compared with what deltalake itself says (schema, column mapping, constraints,
generated columns), then used by the check (a catalog kind, like ``warehouse``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from impact_check.sources.delta import read_table, sql_type
from tests.gitrepo import GitRepo, broken_nodes

deltalake = pytest.importorskip("deltalake")
arro3 = pytest.importorskip("arro3.core")


def _orders(**columns: Any) -> Any:
    from arro3.core import Array, DataType, Table

    data = {
        "id": Array([1, 2], DataType.int64()),
        "amount": Array([1.5, 2.0], DataType.float64()),
        "status": Array(["new", "paid"], DataType.string()),
    }
    data.update(columns)
    return Table.from_pydict(data)


def _mapped_with_constraint(path: Path) -> None:
    deltalake.write_deltalake(
        str(path),
        _orders(),
        configuration={
            "delta.columnMapping.mode": "name",
            "delta.minReaderVersion": "2",
            "delta.minWriterVersion": "5",
        },
    )
    deltalake.DeltaTable(str(path)).alter.add_constraint({"amount_pos": "amount > 0"})


def _generated(path: Path) -> None:
    from deltalake import Field, Schema
    from deltalake.schema import ArrayType, MapType, PrimitiveType, StructType

    schema = Schema(
        [
            Field("id", "long"),
            Field("amount", "double"),
            Field("amount_x2", "double", metadata={"delta.generationExpression": "amount * 2"}),
            Field("price", PrimitiveType("decimal(10,2)")),
            Field("ts", "timestamp"),
            Field("ts_local", "timestamp_ntz"),
            Field("day", "date"),
            Field("tags", ArrayType("string")),
            Field("attrs", MapType("string", "integer")),
            Field("customer", StructType([Field("cid", "long"), Field("email", "string")])),
            Field("raw", "binary"),
            Field("small", "short"),
            Field("tiny", "byte"),
            Field("ratio", "float"),
            Field("flag", "boolean"),
        ]
    )
    deltalake.DeltaTable.create(str(path), schema=schema, name="Orders_Gen")


def _evolved(path: Path) -> None:
    from arro3.core import Array, DataType

    deltalake.write_deltalake(str(path), _orders())
    deltalake.DeltaTable(str(path)).alter.add_columns([deltalake.Field("note", "string")])
    deltalake.write_deltalake(
        str(path),
        _orders(note=Array(["x", "y"], DataType.string()), extra=Array([1, 2], DataType.int32())),
        mode="append",
        schema_mode="merge",
    )
    deltalake.write_deltalake(
        str(path),
        _orders(status=Array([1, 2], DataType.int64())),
        mode="overwrite",
        schema_mode="overwrite",
    )


TABLES = {"mapped": _mapped_with_constraint, "generated": _generated, "evolved": _evolved}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_log_reads_as_deltalake_says(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    TABLES[name](path)
    truth = deltalake.DeltaTable(str(path))
    fields = json.loads(truth.schema().to_json())["fields"]
    table = read_table(path, None, name, tmp_path)
    assert table.version is not None and table.version <= truth.version()
    assert [c for c, _ in table.columns] == [f["name"] for f in fields]
    assert [t for _, t in table.columns] == [sql_type(f["type"]) for f in fields]
    assert all(t is not None for _, t in table.columns), table.columns
    config = truth.metadata().configuration
    constraints = {k.removeprefix("delta.constraints."): v for k, v in config.items()
                   if k.startswith("delta.constraints.")}  # fmt: skip
    assert table.constraints == constraints
    assert table.mapping_mode == config.get("delta.columnMapping.mode", "none")
    physical = {
        f["name"]: f["metadata"]["delta.columnMapping.physicalName"]
        for f in fields
        if "delta.columnMapping.physicalName" in f["metadata"]
    }
    assert table.physical == physical
    generated = {
        f["name"]: f["metadata"]["delta.generationExpression"]
        for f in fields
        if "delta.generationExpression" in f["metadata"]
    }
    assert table.generated == generated
    assert table.partial is None and not table.problems
    if name == "generated":  # metaData.name names the table when no mapping does
        assert read_table(path, None, "fallback", tmp_path).relation == "orders_gen"
        assert dict(table.columns)["price"] == "DECIMAL(10, 2)"
        assert dict(table.columns)["customer"] == 'STRUCT("cid" BIGINT, "email" VARCHAR)'
    if name == "evolved":  # the overwrite replaced the schema: the latest metaData wins
        assert dict(table.columns)["status"] == "BIGINT" and "note" not in dict(table.columns)


def test_a_log_cleaned_down_to_a_parquet_checkpoint_is_partial(tmp_path: Path) -> None:
    path = tmp_path / "orders"
    _mapped_with_constraint(path)
    truth = deltalake.DeltaTable(str(path))
    truth.create_checkpoint()
    log = path / "_delta_log"
    for commit in sorted(log.glob("0*.json")):
        commit.unlink()  # what log cleanup does once a checkpoint covers the commits
    assert deltalake.DeltaTable(str(path)).schema() is not None  # deltalake still reads it
    table = read_table(path, "raw.orders", "orders", tmp_path)
    assert table.columns == []
    assert table.partial is not None and "checkpoint.parquet" in table.partial
    fragment = _fetch(tmp_path, "orders")
    assert fragment.status == "partial" and "parquet checkpoint is not read" in fragment.detail


def test_json_commits_after_a_checkpoint_are_complete(tmp_path: Path) -> None:
    path = tmp_path / "orders"
    _evolved(path)
    deltalake.DeltaTable(str(path)).create_checkpoint()
    table = read_table(path, None, "orders", tmp_path)
    assert table.partial is None and dict(table.columns)["status"] == "BIGINT"


def _fetch(root: Path, location: str, **options: Any) -> Any:
    spec = LineageSource(kind="delta", location=location, options=options)
    return fetch_one(spec, SourceContext(root=root))


def test_fragment_tables_and_consumers_inside_them(tmp_path: Path) -> None:
    _mapped_with_constraint(tmp_path / "lake" / "raw" / "orders")
    _generated(tmp_path / "lake" / "raw" / "gen")
    fragment = _fetch(tmp_path, "lake")
    assert fragment.status == "ok", fragment.detail
    ids = {n.id: n for n in fragment.nodes}
    assert {"raw.orders", "orders_gen"} <= set(ids)  # path below location, or metaData.name
    assert ids["raw.orders"].attrs["column_mapping"] == "name"
    assert set(ids["raw.orders"].attrs["physical_names"]) == {"id", "amount", "status"}
    edges = {(e.src, e.dst) for e in fragment.edges}
    assert ("raw.orders#amount", "delta:constraint/raw.orders/amount_pos") in edges
    assert ("orders_gen#amount", "delta:generated/orders_gen/amount_x2") in edges
    assert ids["delta:constraint/raw.orders/amount_pos"].kind == "check_constraint"
    mapped = _fetch(tmp_path, "lake", tables={"raw/orders": "shop.orders"})
    assert [n.id for n in mapped.nodes if n.kind == "table"] == ["shop.orders"]


def test_bad_lines_are_named_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "orders"
    _mapped_with_constraint(path)
    newest = sorted((path / "_delta_log").glob("0*.json"))[-1]
    newest.write_text('{"metaData": {"schemaString": \n' + newest.read_text())
    fragment = _fetch(tmp_path, ".", tables={"orders": "raw.orders"})
    assert fragment.status == "partial"
    (issue,) = fragment.issues
    assert issue.line == 1 and "invalid JSON" in issue.message and issue.file
    (table,) = [n for n in fragment.nodes if n.id == "raw.orders"]
    assert list(table.columns) == ["id", "amount", "status"]  # from the same commit's metaData


def test_missing_location_and_empty_folder_fail_clearly(tmp_path: Path) -> None:
    assert "no such directory" in _fetch(tmp_path, "nowhere").detail
    (tmp_path / "empty").mkdir()
    assert "no _delta_log" in _fetch(tmp_path, "empty").detail


def _repo(tmp_path: Path) -> GitRepo:
    _mapped_with_constraint(tmp_path / "lake" / "orders")
    _generated(tmp_path / "lake" / "gen")
    repo = GitRepo(tmp_path / "repo")
    config = (
        "lineage:\n  - kind: delta\n"
        f"    location: {tmp_path / 'lake'}\n"
        "    options: {tables: {orders: raw.orders, gen: raw.gen}}\n"
    )
    repo.commit(
        {
            ".impact-check.yml": config,
            ".gitignore": ".impact-check/\n",
            "views/V1__mart.sql": "CREATE SCHEMA mart;\n"
            "CREATE VIEW mart.all_orders AS SELECT * FROM raw.orders;\n"
            "CREATE VIEW mart.statuses AS SELECT id, status FROM raw.gen;\n",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def test_dropping_a_column_a_check_constraint_reads_breaks_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    assert "delta:constraint/raw.orders/amount_pos" in broken_nodes(report)
    (co201,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    assert co201["location"] == {"file": "migrations/V2__drop.sql", "line": 1}
    impacted = {i["node"]["id"]: i for i in co201["impacted"]}
    assert not impacted["mart.all_orders"]["breaks"]  # `*` expands to the Delta columns
    source = next(s for s in report["sources"] if s["kind"] == "delta")
    assert source["status"] == "ok" and "2 delta tables" in source["detail"]


def test_dropping_a_column_a_generated_column_reads_breaks_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.gen DROP COLUMN amount;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1 and "delta:generated/raw.gen/amount_x2" in broken_nodes(report)


def test_a_column_nothing_inside_the_table_reads_is_only_a_warning(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN status;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0
    (co201,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    assert co201["severity"] == "warning"
    assert not [f for f in report["findings"] if f["rule"] == "AN903"]  # the ALTER is modelled
