"""The per-file cache of DDL files (issue 16): each statement's effect, replayed in order.

A warm run applies the cached effects of an unchanged file without parsing it; reports are
the same with and without the cache (views in files of their own, many statements in one
file, a migration sequence, a rename that rewrites stored views, corrupt entries).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check.cache import AnalysisCache, cache_dir
from impact_check.config import parse_config
from impact_check.model import FileContent, Snapshot
from impact_check.project import sql_files
from impact_check.project.loader import load_catalog

TABLES = (
    "create table raw.orders (id int not null, customer_id int, amount int, note text);\n"
    "create table raw.customers (id int, name text);\n"
)
VIEWS = {
    "views/stg_orders.sql": "create view stg.orders as select id, customer_id, amount, note "
    "from raw.orders;\n",
    "views/stg_customers.sql": "create view stg.customers as select * from raw.customers;\n",
    "views/marts.sql": (
        "create view marts.revenue as select c.name, sum(o.amount) as total\n"
        "from stg.orders o join stg.customers c on o.customer_id = c.id group by c.name;\n"
        "create or replace view marts.notes as select id, note from stg.orders;\n"
        "create view marts.big as select id from stg.orders where amount > 100;\n"
    ),
}


def _repo(root: Path, base: dict[str, str], head: dict[str, str | None], config: str) -> GitRepo:
    repo = GitRepo(root)
    repo.commit({**base, ".impact-check.yml": config}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict(head), "head")
    return repo


def _check(repo: GitRepo, *extra: str) -> dict[str, Any]:
    report = repo.report("--base", "main", "--head", "feature", *extra)[1]
    report["summary"].pop("elapsed_ms", None)
    return report


def _same_with_and_without_cache(repo: GitRepo) -> dict[str, Any]:
    truth = _check(repo, "--no-cache")
    assert _check(repo) == truth  # cold cache
    assert _check(repo) == truth  # warm: effects replayed
    return truth


def _parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the DDL files applied statement by statement (the real function runs)."""
    seen: list[str] = []
    load_file = sql_files.load_file

    def spy(path: str, *args: Any, **kwargs: Any) -> None:
        seen.append(path)
        load_file(path, *args, **kwargs)

    monkeypatch.setattr(sql_files, "load_file", spy)
    return seen


def test_warm_load_replays_unchanged_ddl_files_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parse_config({}, "test")
    files = {"ddl/tables.sql": TABLES, **VIEWS}

    def load(texts: dict[str, str]) -> tuple[dict[str, Any], set[str]]:
        cache = AnalysisCache(tmp_path / "cache")
        catalog = load_catalog(
            Snapshot({p: FileContent(p, t.encode()) for p, t in texts.items()}), config, cache=cache
        )
        cache.save()
        datasets = {n: (ds.columns.keys(), ds.kind) for n, ds in catalog.datasets.items()}
        values = cache.new_values().values()
        derived = {
            v["name"] for v in values if isinstance(v, dict) and {"name", "columns"} <= v.keys()
        }
        return datasets, derived

    parsed = _parsed_files(monkeypatch)
    cold, derived = load(files)
    assert sorted(parsed) == sorted(files) and len(derived) == 5
    parsed.clear()
    warm, derived = load(files)
    assert warm == cold and parsed == [] and derived == set()
    # one statement of the multi-statement file edited: that file alone is read again, and
    # only the edited view is derived again
    edited = {**files, "views/marts.sql": VIEWS["views/marts.sql"].replace("> 100", "> 200")}
    parsed.clear()
    _, derived = load(edited)
    assert parsed == ["views/marts.sql"] and derived == {"marts.big"}


def test_ddl_layout_reports_match_without_cache(tmp_path: Path) -> None:
    base = {"ddl/tables.sql": TABLES, **VIEWS}
    head: dict[str, str | None] = {
        "ddl/tables.sql": TABLES.replace(", note text", ""),
        "views/stg_customers.sql": None,
    }
    truth = _same_with_and_without_cache(_repo(tmp_path / "r", base, head, "dialect: duckdb\n"))
    assert truth["findings"]


def test_edited_statement_in_a_multi_statement_file(tmp_path: Path) -> None:
    base = {"ddl/tables.sql": TABLES, **VIEWS}
    marts = VIEWS["views/marts.sql"].replace("select id, note from", "select id from")
    repo = _repo(tmp_path / "r", base, {"views/marts.sql": marts}, "dialect: duckdb\n")
    truth = _same_with_and_without_cache(repo)
    assert any("marts.notes" in json.dumps(f) for f in truth["findings"])


def test_migration_sequence_with_alters_and_replaced_views(tmp_path: Path) -> None:
    base = {
        "db/migration/V1__tables.sql": TABLES,
        "db/migration/V2__views.sql": VIEWS["views/stg_orders.sql"] + VIEWS["views/marts.sql"],
        "db/migration/V3__customers.sql": VIEWS["views/stg_customers.sql"],
        "db/migration/V4__wider.sql": "alter table raw.orders add column region text;\n",
        "db/migration/V5__replace.sql": "create or replace view stg.orders as "
        "select id, customer_id, amount, note, region from raw.orders;\n",
    }
    head: dict[str, str | None] = {
        "db/migration/V6__narrow.sql": "alter table raw.orders drop column note;\n"
        "create or replace view stg.orders as select id, customer_id, amount, region "
        "from raw.orders;\n",
    }
    truth = _same_with_and_without_cache(_repo(tmp_path / "r", base, head, "dialect: postgres\n"))
    assert truth["findings"]


def test_rename_rewrites_a_replayed_view(tmp_path: Path) -> None:
    """PostgreSQL rewrites stored views on a rename: a view replayed from an earlier file's
    effects is then derived from its rewritten tree, as without the cache."""
    base = {
        "sql/1_tables.sql": TABLES,
        "sql/2_views.sql": VIEWS["views/stg_orders.sql"],
        "sql/3_rename.sql": "alter table raw.orders rename to orders_v2;\n",
    }
    head: dict[str, str | None] = {
        "sql/4_drop.sql": "alter table raw.orders_v2 drop column amount;\n",
    }
    truth = _same_with_and_without_cache(_repo(tmp_path / "r", base, head, "dialect: postgres\n"))
    assert truth["findings"]


def test_corrupt_ddl_file_entries_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    base = {"ddl/tables.sql": TABLES, **VIEWS}
    head: dict[str, str | None] = {"ddl/tables.sql": TABLES.replace(", note text", "")}
    repo = _repo(tmp_path / "r", base, head, "dialect: duckdb\n")
    truth = _same_with_and_without_cache(repo)
    store = cache_dir(repo.root) / "analysis"
    poisons = [
        ["view", 0, "stg.orders", "view", "x", [], [], [], "d"],  # a line that is not a number
        ["table", 0, "raw.orders", False, {"columns": 3}],  # a dataset of the wrong shape
        ["drop", 0],  # an effect of no known kind
        {"not": "a list"},
    ]
    for journal in store.glob("journal-*.json"):
        header, *lines = journal.read_text().splitlines()
        poisoned = [
            line.split("\t")[0] + "\t" + json.dumps([poisons[i % len(poisons)]])
            for i, line in enumerate(lines)
        ]
        journal.write_text("\n".join([header, *poisoned]) + "\n")
    assert _check(repo) == truth
    assert _check(repo) == truth
