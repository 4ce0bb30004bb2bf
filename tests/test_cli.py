"""The command line in-process: exit codes, JSON contract, bad input, trace commands."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gitrepo import GitRepo, finding

SCHEMA = json.loads((Path(__file__).parent / "data" / "report.schema.json").read_text())

BASE = {
    "migrations/V1__init.sql": """-- raw layer
CREATE SCHEMA raw;
CREATE TABLE raw.orders (
  id INT PRIMARY KEY,
  customer_id INT NOT NULL,
  amount DECIMAL(10, 2),
  status VARCHAR
);
""",
    "views/revenue.sql": """CREATE VIEW analytics.revenue AS
SELECT customer_id, SUM(amount) AS total FROM raw.orders GROUP BY customer_id;
""",
    "views/paid.sql": """CREATE VIEW analytics.paid AS
SELECT id, customer_id FROM raw.orders WHERE status = 'paid';
""",
    "views/top.sql": """CREATE VIEW analytics.top AS
SELECT customer_id, total FROM analytics.revenue WHERE total > 100;
""",
}


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit(BASE, "base")
    r.git("checkout", "-q", "-b", "feature")
    return r


def validate(report: dict[str, Any]) -> None:
    jsonschema.validate(report, SCHEMA)


def test_dropped_column_fails_with_paths_and_valid_json(repo: GitRepo) -> None:
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    validate(report)
    assert code == 1 and report["summary"]["failed"]
    drop = finding(report, "CO201")
    assert drop["severity"] == "error"
    assert drop["location"] == {"file": "migrations/V2__drop.sql", "line": 1}
    impacted = {i["node"]["id"]: i for i in drop["impacted"]}
    assert set(impacted) == {"analytics.revenue", "analytics.top"}  # not analytics.paid
    assert impacted["analytics.revenue"]["breaks"]
    assert impacted["analytics.revenue"]["path"] == ["raw.orders#amount", "analytics.revenue#total"]
    assert impacted["analytics.top"]["breaks"]  # reads a view that no longer builds
    assert impacted["analytics.top"]["path"][0] == "raw.orders#amount"


def test_text_output_groups_by_change_and_has_a_verdict(repo: GitRepo) -> None:
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, out, _ = repo.run("check", "--base", "main", "--head", "feature")
    assert code == 1
    assert "migrations/V2__drop.sql:1: error CO201 column-dropped" in out
    assert "raw.orders#amount -> analytics.revenue#total" in out
    assert out.rstrip().splitlines()[-1].startswith("FAILED: 1 error")
    assert "\x1b[" not in out  # no colour when not a TTY


def test_exit_zero_and_fail_on_never_keep_the_verdict(repo: GitRepo) -> None:
    repo.commit({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, out, _ = repo.run("check", "--base", "main", "--format", "json", "--exit-zero")
    assert code == 0 and json.loads(out)["summary"]["failed"] is True
    code, out, _ = repo.run("check", "--base", "main", "--format", "json", "--fail-on", "never")
    assert code == 0 and json.loads(out)["summary"]["failed"] is False


def test_harmless_change_passes(repo: GitRepo) -> None:
    repo.commit({"migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN note TEXT;\n"})
    code, report = repo.report("--base", "main")
    validate(report)
    assert code == 0
    assert [f["rule"] for f in report["findings"]] == ["CO203"]
    assert report["changes"][0]["kind"] == "column_added"


def test_drop_nobody_reads_is_a_warning(repo: GitRepo) -> None:
    repo.commit({"migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN note TEXT;\n"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "feature")
    repo.git("checkout", "-q", "feature")
    repo.commit({"migrations/V3__drop.sql": "ALTER TABLE raw.orders DROP COLUMN note;\n"})
    code, report = repo.report("--base", "main")
    assert code == 0
    drop = finding(report, "CO201")
    assert drop["severity"] == "warning" and drop["impacted"] == []


def test_incompatible_type_change_breaks_arithmetic_consumers_only(repo: GitRepo) -> None:
    repo.commit(
        {"migrations/V2__retype.sql": "ALTER TABLE raw.orders ALTER COLUMN amount TYPE VARCHAR;\n"}
    )
    code, report = repo.report("--base", "main", "--dialect", "postgres")
    retype = finding(report, "TY301")
    assert code == 1 and retype["severity"] == "error"
    breaks = {i["node"]["id"]: i["certainty"] for i in retype["impacted"] if i["breaks"]}
    assert breaks == {"analytics.revenue": "likely", "analytics.top": "likely"}


def test_widening_is_info_and_passes(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V2__widen.sql": (
                "ALTER TABLE raw.orders ALTER COLUMN amount TYPE DECIMAL(18, 2);\n"
            )
        }
    )
    code, report = repo.report("--base", "main")
    assert code == 0
    widen = finding(report, "TY303")
    assert widen["severity"] == "info"
    assert all(not i["breaks"] for i in widen["impacted"])


def test_unparseable_file_is_an901_and_others_still_analysed(repo: GitRepo) -> None:
    repo.commit(
        {
            "views/bad.sql": "-- oops\nCREATE VIEW analytics.bad AS SELECT FROM WHERE (;\n",
            "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n",
        }
    )
    code, report = repo.report("--base", "main")
    validate(report)
    bad = finding(report, "AN901")
    assert bad["location"] == {"file": "views/bad.sql", "line": 2}
    assert bad["change"] is None
    assert report["unanalyzed"][0]["file"] == "views/bad.sql"
    assert finding(report, "CO201")["severity"] == "error"
    assert code == 1


def test_strict_makes_analysis_limits_errors(repo: GitRepo) -> None:
    repo.commit({"views/bad.sql": "CREATE VIEW analytics.bad AS SELECT FROM WHERE (;\n"})
    assert repo.report("--base", "main")[0] == 0
    code, report = repo.report("--base", "main", "--strict")
    assert code == 1 and finding(report, "AN901")["severity"] == "error"


def test_binary_and_non_utf8_files_are_unanalyzed(repo: GitRepo) -> None:
    repo.commit(
        {
            "views/bin.sql": b"\x00\x01binary",
            "views/latin.sql": "select 'caf\xe9'".encode("latin-1"),
        }
    )
    code, report = repo.report("--base", "main")
    reasons = {u["file"]: u["reason"] for u in report["unanalyzed"]}
    assert "NUL" in reasons["views/bin.sql"] and "UTF-8" in reasons["views/latin.sql"]
    assert code == 0


def test_file_over_size_limit_is_unanalyzed(repo: GitRepo) -> None:
    repo.commit(
        {
            ".impact-check.yml": "limits:\n  max_file_bytes: 100\n",
            "views/big.sql": "-- " + "x" * 200 + "\nselect 1;\n",
        }
    )
    _code, report = repo.report("--base", "main")
    assert "max_file_bytes" in report["unanalyzed"][0]["reason"]


def test_deleted_view_file_is_a_table_drop(repo: GitRepo) -> None:
    repo.commit({"views/revenue.sql": None})
    code, report = repo.report("--base", "main")
    drop = finding(report, "TB101")
    assert {i["node"]["id"] for i in drop["impacted"] if i["breaks"]} == {"analytics.top"}
    assert code == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--base", "nope"], "unknown revision: nope"),
        (["check", "--base", "main", "--dialect", "klingon"], "unknown SQL dialect 'klingon'"),
        (["check", "--format", "yaml"], "invalid choice"),
        (["downstream", "no.such"], "unknown node 'no.such'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(repo: GitRepo, argv: list[str], message: str) -> None:
    code, _out, err = repo.run(*argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("dialect: duckdb\nfail_onn: error\n", "unknown key 'fail_onn'"),
        ("ignores:\n  - rule: CO201\n    object: x\n", "invalid value for 'ignores.0.reason'"),
        ("fail_on: sometimes\n", "invalid value for 'fail_on'"),
        ("dialect: [unclosed\n", "invalid YAML"),
        ("limits:\n  max_file_byte: 3\n", "unknown key 'limits.max_file_byte'"),
    ],
)
def test_bad_config_names_the_key(repo: GitRepo, config: str, message: str) -> None:
    repo.write({".impact-check.yml": config})
    code, _out, err = repo.run("check", "--base", "main")
    assert code == 2
    assert message in err and ".impact-check.yml" in err
    assert len(err.strip().splitlines()) == 1


def test_not_a_git_repository(tmp_path: Path) -> None:
    not_repo = GitRepo.__new__(GitRepo)
    not_repo.root = tmp_path
    code, _out, err = not_repo.run("check")
    assert code == 2 and "not a git repository" in err


def test_ignore_with_reason_suppresses_and_passes(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n",
            ".impact-check.yml": "ignores:\n  - rule: CO201\n    object: raw.orders*\n"
            "    reason: revenue views are rebuilt in this release\n",
        }
    )
    code, report = repo.report("--base", "main")
    drop = finding(report, "CO201")
    assert drop["suppressed"] and "rebuilt" in drop["suppressed"]
    assert code == 0 and report["summary"]["suppressed"] == 1


def test_expired_ignore_does_not_apply(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n",
            ".impact-check.yml": "ignores:\n  - rule: CO201\n    reason: later\n"
            "    expires: 2020-01-01\n",
        }
    )
    code, report = repo.report("--base", "main")
    assert code == 1
    assert finding(report, "AN906")["severity"] == "warning"


def test_pyproject_config_section(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n",
            "pyproject.toml": '[tool.impact-check]\nfail_on = "never"\n',
        }
    )
    assert repo.report("--base", "main")[0] == 0


def test_staged_mode(repo: GitRepo) -> None:
    repo.write({"migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, report = repo.report("--staged")
    assert code == 0 and report["changes"] == []  # nothing staged yet
    repo.git("add", "-A")
    code, report = repo.report("--staged")
    assert code == 1 and report["head"] == "INDEX"


def test_paths_restrict_the_analysed_files(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n",
            "other/V1__x.sql": "CREATE TABLE other.x (a INT);\n",
        }
    )
    code, report = repo.report("--base", "main", "other/")
    assert code == 0
    assert [c["kind"] for c in report["changes"]] == ["table_added"]


def test_downstream_and_upstream_trace(repo: GitRepo) -> None:
    code, out, _ = repo.run("downstream", "raw.orders.amount")
    assert code == 0
    assert "analytics.revenue#total" in out and "analytics.top#total" in out
    assert "analytics.paid" not in out
    code, out, _ = repo.run("upstream", "analytics.top.total", "--format", "json")
    data = json.loads(out)
    assert {n["id"] for n in data["nodes"]} >= {"analytics.revenue#total", "raw.orders#amount"}
    assert "raw.orders#status" not in {n["id"] for n in data["nodes"]}
    code, out, _ = repo.run("downstream", "raw.orders", "--depth", "1", "--format", "mermaid")
    assert out.startswith("graph LR") and "analytics.top" not in out


def test_graph_exports_node_link_json_and_graphml(repo: GitRepo) -> None:
    import networkx as nx

    code, out, _ = repo.run("graph", "--format", "json")
    assert code == 0
    data = json.loads(out)
    # the shape from before networkx (nodes with id and attributes; edges from/to/kind)…
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(ids) and "analytics.revenue#total" in ids
    edge = {"from": "raw.orders#amount", "to": "analytics.revenue#total", "kind": "projection"}
    assert edge in data["edges"]
    assert all(set(e) == {"from", "to", "kind"} for e in data["edges"])
    # …which networkx reads back as node-link data
    graph = nx.node_link_graph(data, source="from", target="to", edges="edges")
    assert graph.is_directed() and graph.has_edge("raw.orders#amount", "analytics.revenue#total")
    assert graph.nodes["analytics.revenue"]["file"] == "views/revenue.sql"
    code, out, _ = repo.run("graph", "--format", "graphml")
    assert code == 0 and out.startswith("<graphml")
    read = nx.read_graphml(io.StringIO(out))
    assert set(read.nodes) == set(ids)
    assert len(read.edges) == len(data["edges"])
    assert read.edges["raw.orders#amount", "analytics.revenue#total"]["kind"] == "projection"


def test_trace_depth_counts_dataset_hops(repo: GitRepo) -> None:
    code, out, _ = repo.run("downstream", "raw.orders.amount", "--depth", "1", "--format", "json")
    reached = {n["id"] for n in json.loads(out)["nodes"]}
    assert "analytics.revenue#total" in reached  # one dataset hop
    assert "analytics.top#total" not in reached  # two
    code, out, _ = repo.run("upstream", "analytics.top", "--depth", "2", "--format", "json")
    reached = {n["id"] for n in json.loads(out)["nodes"]}
    assert code == 0 and {"analytics.revenue", "raw.orders#amount"} <= reached


def test_rules_lists_the_catalogue(repo: GitRepo) -> None:
    code, out, _ = repo.run("rules")
    assert code == 0
    for code_ in (
        "TB101",
        "TB102",
        "CO201",
        "CO202",
        "CO203",
        "TY301",
        "TY302",
        "TY303",
        "TY304",
        "CN401",
        "AN901",
        "AN902",
        "AN903",
    ):
        assert code_ in out


def test_declared_rename_trailer(repo: GitRepo) -> None:
    view = (
        "CREATE VIEW analytics.paid_orders AS\n"
        "SELECT id, customer_id FROM raw.orders WHERE status IN ('paid', 'settled');\n"
    )
    message = "Rename the paid view\n\nimpact-check: rename analytics.paid analytics.paid_orders\n"
    repo.commit({"views/paid.sql": view}, message)
    _code, report = repo.report("--base", "main")
    kinds = [c["kind"] for c in report["changes"]]
    assert "table_renamed" in kinds and "table_dropped" not in kinds
    rename = finding(report, "TB102")
    assert "analytics.paid_orders" in rename["message"]


def test_declared_column_rename_trailer(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/V1__init.sql": BASE["migrations/V1__init.sql"].replace(
                "status VARCHAR", "state VARCHAR"
            )
        },
        "Rename status\n\nimpact-check: rename raw.orders.status state\n",
    )
    _code, report = repo.report("--base", "main")
    assert finding(report, "CO202")["impacted"][0]["node"]["id"] == "analytics.paid"
