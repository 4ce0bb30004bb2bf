"""schema.yml details without running dbt: relationships tests, versioned refs in models
and exposures, unique tests on models, and a source's accepted values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitrepo import GitRepo, finding

PROJECT = "name: shop\nconfig-version: 2\nprofile: shop\n"
SCHEMA = """version: 2
models:
  - name: orders
    columns:
      - name: id
        tests: [unique]
      - name: customer_id
        data_tests:
          - relationships:
              arguments:
                to: ref('customers')
                field: id
  - name: customers
    latest_version: 2
    versions:
      - v: 1
      - v: 2
exposures:
  - name: crm
    type: application
    owner: {name: CRM team}
    depends_on:
      - ref('customers', v=1)
"""
FILES = {
    "dbt_project.yml": PROJECT,
    "models/schema.yml": SCHEMA,
    "models/orders.sql": "select 1 as id, 2 as customer_id\n",
    "models/customers_v1.sql": "select 2 as id\n",
    "models/customers_v2.sql": "select 2 as id, 'x' as name\n",
    "models/joined.sql": "select o.id from {{ ref('orders') }} o\n"
    "join {{ ref('customers') }} c on o.customer_id = c.id\n",
}


def check(tmp_path: Path, head: dict[str, str | None]) -> dict[str, Any]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(dict(FILES), "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(head, "head")
    _code, report = repo.report("--base", "main", "--head", "feature")
    return report


def test_relationships_test_removed_is_cn406(tmp_path: Path) -> None:
    head = SCHEMA.replace(
        "        data_tests:\n          - relationships:\n              arguments:\n"
        "                to: ref('customers')\n                field: id\n",
        "",
    )
    report = check(tmp_path, {"models/schema.yml": head})
    hit = finding(report, "CN406")
    assert "relationships test customer_id -> ref('customers').id" in hit["message"]


def test_unique_test_removed_from_a_model_is_cn408_never_an_error(tmp_path: Path) -> None:
    """A dbt test is a check of the data, not a schema: its removal is CN408, a warning even
    when consumers join on the column (a removed UNIQUE constraint there is CN403)."""
    report = check(tmp_path, {"models/schema.yml": SCHEMA.replace("tests: [unique]", "tests: []")})
    hit = finding(report, "CN408")
    assert hit["change"] is not None and hit["severity"] == "warning"
    assert not [f for f in report["findings"] if f["rule"] == "CN403"]
    assert not report["summary"]["failed"]


def test_unpinned_ref_follows_latest_version_and_exposure_pins_v1(tmp_path: Path) -> None:
    # v2 drops `id`: the unpinned join breaks; the exposure pinned to v1 is untouched
    report = check(tmp_path, {"models/customers_v2.sql": "select 'x' as name\n"})
    broken = {i["node"]["id"] for f in report["findings"] for i in f["impacted"] if i["breaks"]}
    assert "main.joined" in broken
    assert "dbt:exposure.shop.crm" not in broken


def test_removing_the_version_an_exposure_pins_breaks_it(tmp_path: Path) -> None:
    head = SCHEMA.replace("      - v: 1\n", "")
    report = check(tmp_path, {"models/schema.yml": head, "models/customers_v1.sql": None})
    hit = finding(report, "TB107")
    assert hit["severity"] == "error"
    crm = [i for i in hit["impacted"] if i["node"]["id"] == "dbt:exposure.shop.crm"]
    assert crm and crm[0]["breaks"] and crm[0]["node"]["owners"] == ["CRM team"]
