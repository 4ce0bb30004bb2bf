"""Data contract files (datacontract.com specification and ODCS v3) in a real git repo:
their changes are schema changes of a promised dataset (errors even without a known
consumer), and bad contract YAML is reported by file and line without stopping the check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitrepo import GitRepo, finding

DCS = """dataContractSpecification: 1.1.0
id: orders
info:
  title: Orders
  version: 1.0.0
servers:
  production:
    type: duckdb
    schema: mart
models:
  orders:
    type: table
    fields:
      id:
        type: integer
        required: true
        unique: true
      amount:
        type: decimal
      status:
        type: string
        enum: [placed, shipped, returned]
"""

ODCS = """apiVersion: v3.0.2
kind: DataContract
id: customers
version: 1.0.0
status: active
schema:
  - name: customers
    logicalType: object
    properties:
      - name: customer_id
        logicalType: integer
        required: false
      - name: email
        logicalType: string
"""

SQL = {
    "db/V1__init.sql": "CREATE TABLE raw.orders (id INT, amount DECIMAL(10, 2), status TEXT);\n"
    "CREATE TABLE raw.customers (customer_id INT, email TEXT);\n",
    "views/orders.sql": "CREATE VIEW mart.orders AS SELECT id, amount, status FROM raw.orders;\n",
}


def check(tmp_path: Path, base: dict[str, str], head: dict[str, str | None]) -> dict[str, Any]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**SQL, **base}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict(head), "head")
    _code, report = repo.report("--base", "main", "--head", "feature")
    return report


def test_field_removed_from_a_contract_is_an_error_without_consumers(tmp_path: Path) -> None:
    head = DCS.replace("      amount:\n        type: decimal\n", "")
    report = check(tmp_path, {"contracts/orders.yaml": DCS}, {"contracts/orders.yaml": head})
    hit = finding(report, "CO201")
    assert hit["severity"] == "error" and hit["impacted"] == []
    assert "contract:orders.orders" in hit["message"] and "data contract" in hit["message"]
    assert hit["location"]["file"] == "contracts/orders.yaml"


def test_enum_narrowed_and_type_changed(tmp_path: Path) -> None:
    head = DCS.replace("enum: [placed, shipped, returned]", "enum: [placed, shipped]")
    head = head.replace("      id:\n        type: integer", "      id:\n        type: string")
    report = check(tmp_path, {"contracts/orders.yaml": DCS}, {"contracts/orders.yaml": head})
    assert finding(report, "VL603")["severity"] == "warning"
    assert finding(report, "TY301")["severity"] == "error"
    # and the SQL no longer matches the promised type: a finding on the contract file
    unmet = finding(report, "CO207")
    assert unmet["location"]["file"] == "contracts/orders.yaml"
    assert unmet["location"]["line"] == DCS.splitlines().index("      id:") + 1


def test_odcs_required_tightened_and_field_removed(tmp_path: Path) -> None:
    head = ODCS.replace("required: false", "required: true")
    head = head.replace("      - name: email\n        logicalType: string\n", "")
    report = check(
        tmp_path, {"contracts/customers.odcs.yaml": ODCS}, {"contracts/customers.odcs.yaml": head}
    )
    assert finding(report, "CN402")
    assert finding(report, "CO201")["severity"] == "error"


def test_sql_change_against_an_unchanged_contract(tmp_path: Path) -> None:
    view = "CREATE VIEW mart.orders AS SELECT id, status FROM raw.orders;\n"
    report = check(tmp_path, {"contracts/orders.yaml": DCS}, {"views/orders.sql": view})
    unmet = finding(report, "CO207")
    assert unmet["severity"] == "error" and "amount" in unmet["message"]
    assert report["summary"]["failed"] is True


def test_moving_a_contract_file_is_no_change(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        {"contracts/orders.yaml": DCS},
        {"contracts/orders.yaml": None, "contracts/sales/orders.yaml": DCS},
    )
    assert report["changes"] == [] and report["findings"] == []


def test_invalid_contract_yaml_is_named_and_the_rest_analysed(tmp_path: Path) -> None:
    broken = DCS.replace("    type: table\n", "    type: [table\n")
    view = "CREATE VIEW mart.orders AS SELECT id, status FROM raw.orders;\n"
    report = check(
        tmp_path,
        {"contracts/orders.yaml": DCS},
        {"contracts/orders.yaml": broken, "views/orders.sql": view},
    )
    bad = finding(report, "AN901")
    assert bad["location"]["file"] == "contracts/orders.yaml" and bad["location"]["line"]
    assert "data contract" in bad["message"]
    assert finding(report, "CO201")  # the SQL change is still analysed
    assert any(u["file"] == "contracts/orders.yaml" for u in report["unanalyzed"])


def test_yaml_that_only_mentions_contracts_is_not_one(tmp_path: Path) -> None:
    other = "# see the DataContract docs\nkind: Deployment\nschema: []\n"
    report = check(tmp_path, {"deploy.yaml": other}, {"deploy.yaml": other + "replicas: 2\n"})
    assert report["findings"] == []
