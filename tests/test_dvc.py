"""DVC imports and stages as consumers: the `.dvc` files `dvc import-db` wrote and the
`dvc.yaml` of tests/data/dvc (dvc 3.67.1, with `dvc dag --md` recorded in dag.md) need no
configuration; a query import breaks when SQLite no longer runs its query, and lists the
stages after it, which are the stages DVC itself puts downstream."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from gitrepo import GitRepo

DATA = Path(__file__).parent / "data" / "dvc"
CUSTOMERS = "CREATE TABLE customers (id INTEGER, name TEXT, ltv REAL);\n"
DVC_CONFIG = "[core]\n    remote = storage\n['db \"wh\"']\n    url = sqlite:///wh.db\n"


def _repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "db/V1__customers.sql": CUSTOMERS,
            "data/customers.csv.dvc": (DATA / "customers.csv.dvc").read_text(),
            "data/ltv.csv.dvc": (DATA / "ltv.csv.dvc").read_text(),
            "dvc.yaml": (DATA / "dvc.yaml").read_text(),
            "params.yaml": (DATA / "params.yaml").read_text(),
            ".dvc/config": DVC_CONFIG,
            ".impact-check.yml": "dialect: sqlite\n",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def _verdicts(report: dict[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for finding in report["findings"]:  # type: ignore[attr-defined]
        for i in finding["impacted"]:
            if i["node"]["id"].startswith("dvc:"):
                verdict = "breaks" if i["breaks"] else f"affected ({i['certainty']})"
                out.setdefault(i["node"]["id"], verdict)
    return out


def _dag_edges() -> set[tuple[str, str]]:
    """The edges `dvc dag --md` drew (real DVC), as node labels."""
    text = (DATA / "dag.md").read_text()
    labels = dict(re.findall(r'(node\d+)\["([^"]+)"\]', text))
    return {(labels[a], labels[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", text)}


def _query_runs(*migrations: str) -> bool:
    query = "select id, ltv from customers where ltv > 1"
    assert query in (DATA / "ltv.csv.dvc").read_text()
    con = sqlite3.connect(":memory:")
    for sql in migrations:
        con.executescript(sql)
    try:
        con.execute(query).fetchall()
    except sqlite3.OperationalError:
        return False
    return True


@pytest.mark.truth
def test_dropping_a_column_a_query_import_reads_breaks_it_and_lists_the_stages_after_it(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    drop = "ALTER TABLE customers DROP COLUMN ltv;\n"
    repo.commit({"db/V2__drop.sql": drop})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    verdicts = _verdicts(report)
    assert verdicts["dvc:import/data/ltv.csv"] == "breaks"
    stages = {n for n in verdicts if n.startswith("dvc:stage/")}
    assert stages == {"dvc:stage/featurize", "dvc:stage/train@churn", "dvc:stage/train@ltv"}
    assert all(verdicts[s].startswith("affected") for s in stages)
    # the table import copies every column: the drop changes what it writes
    assert verdicts["dvc:import/data/customers.csv"] == "affected (possible)"
    assert _query_runs(CUSTOMERS) and not _query_runs(CUSTOMERS, drop)
    source = next(s for s in report["sources"] if s["kind"] == "dvc")
    assert source["name"] == "dvc:. (discovered)" and source["status"] == "ok"
    assert source["counts"]["imports"] == 2 and source["counts"]["stages"] == 3


def test_the_stage_graph_is_the_one_dvc_draws(tmp_path: Path) -> None:
    from impact_check.config import LineageSource
    from impact_check.sources import fetch_one
    from impact_check.sources.base import SourceContext

    repo = _repo(tmp_path)
    fragment = fetch_one(
        LineageSource(kind="dvc", location="."), SourceContext(root=repo.root, use_cache=False)
    )
    assert fragment.status == "ok", fragment.detail
    label = {"dvc:import/data/ltv.csv": "data/ltv.csv.dvc"}
    edges = {
        (label.get(e.src, e.src.removeprefix("dvc:stage/")), e.dst.removeprefix("dvc:stage/"))
        for e in fragment.edges
        if e.kind == "feeds"
    }
    assert edges == _dag_edges()
    ltv = next(n for n in fragment.nodes if n.id == "dvc:import/data/ltv.csv")
    assert ltv.sql == "select id, ltv from customers where ltv > 1"
    assert ltv.dialect == "sqlite"  # from .dvc/config's [db "wh"] url


@pytest.mark.truth
def test_a_column_the_query_does_not_read_leaves_the_query_import_alone(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    drop = "ALTER TABLE customers DROP COLUMN name;\n"
    repo.commit({"db/V2__drop.sql": drop})
    code, report = repo.report("--base", "main", "--head", "feature")
    verdicts = _verdicts(report)
    assert "dvc:import/data/ltv.csv" not in verdicts
    assert not [n for n in verdicts if n.startswith("dvc:stage/")]
    assert verdicts["dvc:import/data/customers.csv"] == "affected (possible)"
    assert code == 0 and _query_runs(CUSTOMERS, drop)


def test_dropping_the_table_breaks_both_imports(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit({"db/V2__drop.sql": "DROP TABLE customers;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    verdicts = _verdicts(report)
    assert verdicts["dvc:import/data/ltv.csv"] == "breaks"
    assert verdicts["dvc:import/data/customers.csv"] == "breaks"
    assert code == 1


def test_unreadable_dvc_files_are_dq819_with_file_and_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit(
        {
            "db/V2__drop.sql": "ALTER TABLE customers DROP COLUMN ltv;\n",
            "data/broken.csv.dvc": "deps:\n- db: {connection: wh, query: [\n",
            "more/dvc.yaml": "stages:\n  fit:\n    foreach: ${nowhere}\n    do: {cmd: x}\n",
        }
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    issues = {
        (f["location"]["file"], f["location"]["line"])
        for f in report["findings"]
        if f["rule"] == "DQ819"
    }
    assert ("more/dvc.yaml", 2) in issues
    assert any(file == "data/broken.csv.dvc" for file, _line in issues)
    assert code == 1 and _verdicts(report)["dvc:import/data/ltv.csv"] == "breaks"
