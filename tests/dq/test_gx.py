"""Great Expectations suites read statically and found without configuration: the recorded
checkpoint results of a real GX 1.24 project (tests/data/gx1, SQLite) agree with the checker,
suites are read at head, GX 0.x suites are linked through their checkpoints, bad files are
named by file and line, and the checks appear with their owners in every report format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import GitRepo

DATA = Path(__file__).parent.parent / "data"
GX1 = DATA / "gx1"
GX_PG = DATA / "gx_pg" / "gx"
ORDERS = (
    "CREATE TABLE orders (id INTEGER, customer_id INTEGER, amount DOUBLE PRECISION, "
    "status VARCHAR);\n"
)


def _gx1_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    for name in ("great_expectations.yml", "expectations", "validation_definitions", "checkpoints"):
        source = GX1 / name
        target = repo.root / "gx" / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    repo.commit({"db/V1__orders.sql": ORDERS, ".impact-check.yml": "dialect: sqlite\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def _broken_expectations(report: dict[str, Any]) -> set[str]:
    return {
        i["node"]["id"].rsplit("/", 1)[1]
        for f in report["findings"]
        for i in f["impacted"]
        if i["node"]["kind"] == "expectation" and i["breaks"] and not i.get("preexisting")
    }


def _recorded_failures(name: str) -> set[str]:
    result = json.loads((GX1 / f"validation_result_{name}.json").read_text())
    return {r["expectation_config"]["id"] for r in result["results"] if not r["success"]}


@pytest.mark.truth
@pytest.mark.parametrize(
    ("change", "recorded", "rules"),
    [
        ("ALTER TABLE orders DROP COLUMN amount;", "after_drop_amount", {"DQ801", "DQ803"}),
        ("ALTER TABLE orders ADD COLUMN note TEXT;", "after_add_note", {"DQ803"}),
    ],
)
def test_recorded_checkpoint_results_agree(
    tmp_path: Path, change: str, recorded: str, rules: set[str]
) -> None:
    assert not _recorded_failures("base")
    repo = _gx1_repo(tmp_path)
    repo.commit({"db/V2__change.sql": change + "\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    assert _broken_expectations(report) == _recorded_failures(recorded)
    assert {f["rule"] for f in report["findings"] if f["rule"].startswith("DQ")} == rules
    (dq,) = [f for f in report["findings"] if f["rule"] == "DQ803"]
    assert "suite orders_suite (checkpoint orders_cp)" in dq["message"]
    assert dq["location"]["file"] == "db/V2__change.sql"
    source = next(s for s in report["sources"] if s["kind"] == "great_expectations")
    assert source["name"] == "great_expectations:gx (discovered)" and source["status"] == "ok"


def test_suites_are_read_at_head_so_dropping_a_column_with_its_expectations_is_clean(
    tmp_path: Path,
) -> None:
    repo = _gx1_repo(tmp_path)
    suite_path = repo.root / "gx" / "expectations" / "orders_suite.json"
    suite = json.loads(suite_path.read_text())
    suite["expectations"] = [
        e
        for e in suite["expectations"]
        if "amount" not in (e["kwargs"].get("column"), e["kwargs"].get("column_A"))
    ]
    for expectation in suite["expectations"]:
        if "column_set" in expectation["kwargs"]:
            expectation["kwargs"]["column_set"].remove("amount")
    repo.commit(
        {
            "db/V2__drop.sql": "ALTER TABLE orders DROP COLUMN amount;\n",
            "gx/expectations/orders_suite.json": json.dumps(suite, indent=2),
        }
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0, [f["message"] for f in report["findings"]]
    assert not _broken_expectations(report)


def test_a_value_change_on_a_checked_column_marks_the_expectation_affected(
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    view = "CREATE VIEW shop.paid AS SELECT id, amount FROM shop.orders WHERE status = 'paid';\n"
    suite = {
        "name": "paid_suite",
        "meta": {"owners": ["finance@example.com"]},
        "expectations": [
            {
                "id": "e1",
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount", "min_value": 0, "max_value": 100},
            }
        ],
    }
    gx_config = {
        "fluent_datasources": {
            "wh": {
                "type": "postgres",
                "assets": {"paid": {"type": "table", "table_name": "paid", "schema_name": "shop"}},
            }
        }
    }
    vd = {
        "name": "paid_vd",
        "suite": {"name": "paid_suite"},
        "data": {"datasource": {"name": "wh"}, "asset": {"name": "paid"}},
    }
    repo.commit(
        {
            "db/V1.sql": "CREATE SCHEMA shop;\nCREATE TABLE shop.orders (id INT, amount INT, "
            "status TEXT);\n" + view,
            "gx/great_expectations.yml": yaml.safe_dump(gx_config),
            "gx/expectations/paid_suite.json": json.dumps(suite),
            "gx/validation_definitions/paid_vd.json": json.dumps(vd),
        }
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V1.sql": (repo.root / "db/V1.sql").read_text().replace("'paid'", "'open'")})
    code, report = repo.report("--base", "main", "--head", "feature")
    (filter_finding,) = [f for f in report["findings"] if f["rule"] == "RS501"]
    (check,) = [i for i in filter_finding["impacted"] if i["node"]["kind"] == "expectation"]
    assert not check["breaks"] and check["reason"].startswith("the values it checks change")
    assert check["node"]["owners"] == ["finance@example.com"]
    assert not [f for f in report["findings"] if f["rule"].startswith("DQ")]
    assert code == 0


GX0 = {
    "great_expectations/great_expectations.yml": """\
config_version: 3.0
datasources:
  warehouse:
    class_name: Datasource
    execution_engine:
      class_name: SqlAlchemyExecutionEngine
      connection_string: postgresql+psycopg2://etl@db:5432/shop
    data_connectors:
      default_runtime_data_connector_name:
        class_name: RuntimeDataConnector
        batch_identifiers: [default_identifier_name]
""",
    "great_expectations/expectations/orders/warning.json": json.dumps(
        {
            "expectation_suite_name": "orders.warning",
            "expectations": [
                {
                    "expectation_type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": "customer_id"},
                    "meta": {},
                },
                {
                    "expectation_type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": "status", "value_set": ["paid", "open"]},
                    "meta": {},
                },
            ],
            "meta": {"great_expectations_version": "0.18.12"},
        },
        indent=2,
    ),
    "great_expectations/checkpoints/orders.yml": """\
name: orders
config_version: 1.0
class_name: Checkpoint
validations:
  - batch_request:
      datasource_name: warehouse
      data_connector_name: default_runtime_data_connector_name
      data_asset_name: shop.orders
    expectation_suite_name: orders.warning
""",
}


def test_gx_0x_suites_are_linked_through_their_checkpoints(tmp_path: Path) -> None:
    """SYNTHETIC 0.x project in the documented shape (GX 0.x does not install next to 1.x)."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "db/V1.sql": "CREATE SCHEMA shop;\nCREATE TABLE shop.orders (id INT, "
            "customer_id INT, status TEXT);\n",
            **GX0,
        }
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V2.sql": "ALTER TABLE shop.orders DROP COLUMN status;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    (dq801,) = [f for f in report["findings"] if f["rule"] == "DQ801"]
    broken = {i["node"]["id"] for i in dq801["impacted"] if i["breaks"]}
    assert broken == {"gx:expectation/orders.warning/1", "gx:suite/orders.warning"}
    assert "checkpoint orders" in dq801["message"] and code == 1


def test_unreadable_files_are_dq819_with_file_and_line_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    repo = _gx1_repo(tmp_path)
    repo.commit(
        {
            "db/V2__drop.sql": "ALTER TABLE orders DROP COLUMN amount;\n",
            "gx/expectations/broken.json": '{\n  "name": "broken",\n  "expectations": [\n',
            "gx/validation_definitions/stray.json": json.dumps(
                {
                    "name": "stray",
                    "suite": {"name": "orders_suite"},
                    "data": {"datasource": {"name": "wh"}, "asset": {"name": "nope"}},
                },
                indent=2,
            ),
        }
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    issues = {
        (f["location"]["file"], f["location"]["line"]): f["message"]
        for f in report["findings"]
        if f["rule"] == "DQ819"
    }
    assert ("gx/expectations/broken.json", 4) in issues
    assert "invalid JSON" in issues[("gx/expectations/broken.json", 4)]
    stray = issues[("gx/validation_definitions/stray.json", 11)]  # the line naming "nope"
    assert "names asset wh/nope" in stray
    assert code == 1 and _broken_expectations(report) == _recorded_failures("after_drop_amount")
    source = next(s for s in report["sources"] if s["kind"] == "great_expectations")
    assert source["status"] == "partial"


@pytest.mark.parametrize(
    "fmt", ["text", "json", "markdown", "html", "github", "sarif", "junit", "gitlab"]
)
def test_checks_and_their_owners_appear_in_every_report_format(tmp_path: Path, fmt: str) -> None:
    repo = GitRepo(tmp_path / "repo")
    shutil.copytree(GX_PG, repo.root / "gx")
    base = (
        "CREATE SCHEMA shop;\nCREATE TABLE shop.orders (id INT, customer_id INT, "
        "amount NUMERIC(10,2), status TEXT, qty INT);\n"
    )
    repo.commit({"migrations/V1.sql": base, ".impact-check.yml": "dialect: postgres\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"migrations/V2.sql": "ALTER TABLE shop.orders DROP COLUMN status;\n"})
    code, output, _err = repo.run("check", "--base", "main", "--head", "feature", "--format", fmt)
    assert code == 1
    assert "expect_column_values_to_be_in_set(status)" in output
    assert (
        "data-quality@example.com" in output
        or "data-quality@example.com".replace("@", "@\u200b") in output
    )
