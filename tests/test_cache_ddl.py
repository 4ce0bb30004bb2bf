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


# -- ALTER and DROP replayed as operations ----------------------------------------------------

FLYWAY = {
    "db/migration/V1__tables.sql": TABLES
    + "create table raw.events (id int, kind text, at timestamp);\n"
    + "create index orders_customer on raw.orders (customer_id);\n",
    "db/migration/V2__views.sql": VIEWS["views/stg_orders.sql"] + VIEWS["views/marts.sql"],
    "db/migration/V4__alters.sql": (
        "alter table raw.orders add column region text not null default 'eu';\n"
        "alter table raw.orders alter column amount type bigint;\n"
        "alter table raw.orders alter column customer_id set not null;\n"
        "alter table raw.orders alter column note drop not null;\n"
        "alter table raw.orders alter column region set default 'us';\n"
        "alter table raw.orders rename column note to remark;\n"
        "alter table raw.customers rename name to full_name;\n"
        "alter table raw.orders add column tax int, drop column region;\n"
        "alter table raw.orders add constraint orders_pk primary key (id);\n"
        "comment on table raw.orders is 'orders';\n"
        "alter table raw.missing add column x int;\n"
        "alter table if exists raw.absent drop column y;\n"
    ),
    "db/migration/V5__drops.sql": (
        "alter table raw.events rename to events_v2;\n"
        "drop view marts.big;\n"
        "drop table if exists raw.never;\n"
        "alter table raw.events_v2 drop column kind;\n"
        "create or replace view marts.events as select id, at from raw.events_v2;\n"
    ),
}

# golang-migrate: <version>_<name>.up.sql applied in version order, .down.sql never
GOLANG = {
    "migrations/1_tables.up.sql": TABLES,
    "migrations/1_tables.down.sql": "drop table raw.orders;\ndrop table raw.customers;\n",
    "migrations/2_views.up.sql": VIEWS["views/stg_orders.sql"] + VIEWS["views/stg_customers.sql"],
    "migrations/2_views.down.sql": "drop view stg.orders;\ndrop view stg.customers;\n",
    "migrations/4_rename.up.sql": (
        "alter table raw.orders rename column amount to total;\n"
        "alter table raw.customers drop column name;\n"
        "drop view stg.customers;\n"
    ),
    "migrations/4_rename.down.sql": "alter table raw.orders rename column total to amount;\n",
}


def _state(catalog: Any) -> dict[str, Any]:
    """Everything a catalog says, as plain values (lineage included)."""
    from impact_check.project.codec import encode_dataset, encode_location

    return {
        "datasets": {n: encode_dataset(d) for n, d in sorted(catalog.datasets.items())},
        "issues": sorted(
            (i.rule, i.message, str(encode_location(i.location)), str(i.target))
            for i in catalog.issues
        ),
        "renamed_tables": dict(catalog.renamed_tables),
        "renamed_columns": sorted(catalog.renamed_columns.items()),
        "dropped": {k: encode_location(v) for k, v in catalog.dropped.items()},
        "events": {k: encode_location(v) for k, v in catalog.events.items()},
    }


@pytest.mark.parametrize(
    ("files", "dialect", "inserted"),
    [
        # an earlier migration added at head changes the state the later ALTERs meet: their
        # operations, recorded at base, must apply to it as a fresh parse does
        (
            FLYWAY,
            "postgres",
            {
                "db/migration/V3__narrow.sql": "alter table raw.orders drop "
                "column note;\nalter table raw.customers rename to clients;\n"
            },
        ),
        (
            FLYWAY,
            "duckdb",
            {"db/migration/V3__narrow.sql": "alter table raw.orders drop column amount;\n"},
        ),
        (
            GOLANG,
            "postgres",
            {
                "migrations/3_more.up.sql": "alter table raw.orders drop column "
                "amount;\nalter table raw.orders add column total int;\n"
            },
        ),
    ],
)
def test_alter_and_drop_replay_equals_a_fresh_parse(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    dialect: str,
    inserted: dict[str, str],
) -> None:
    config = parse_config({"dialect": dialect}, "test")
    cache_root = tmp_path / "cache"

    def load(texts: dict[str, str], cached: bool) -> dict[str, Any]:
        cache = AnalysisCache(cache_root) if cached else None
        snapshot = Snapshot({p: FileContent(p, t.encode()) for p, t in texts.items()})
        catalog = load_catalog(snapshot, config, cache=cache)
        if cache is not None:
            cache.save()
        return _state(catalog)

    parsed = _parsed_files(monkeypatch)
    for texts in (files, {**files, **inserted}):
        truth = load(texts, cached=False)
        assert truth["dropped"] and (truth["renamed_columns"] or truth["issues"])
        assert load(texts, cached=True) == truth  # fresh parse, effects recorded
        parsed.clear()
        assert load(texts, cached=True) == truth  # replayed
        assert parsed == []  # no migration parsed again, ALTERs and DROPs included
    # the inserted migration changes what the later ones do (not a vacuous replay)
    assert load(files, cached=False) != load({**files, **inserted}, cached=False)


def test_alter_and_drop_migrations_report_the_same_with_and_without_cache(
    tmp_path: Path,
) -> None:
    head: dict[str, str | None] = {
        "db/migration/V3__narrow.sql": "alter table raw.orders drop column note;\n",
        "db/migration/V6__more.sql": "alter table raw.orders_x add column y int;\n"
        "drop table raw.customers;\n",
    }
    truth = _same_with_and_without_cache(_repo(tmp_path / "r", FLYWAY, head, "dialect: postgres\n"))
    rules = {f["rule"] for f in truth["findings"]}
    assert "TB110" in rules or "CO201" in rules, rules
    golang_head: dict[str, str | None] = {
        "migrations/5_drop.up.sql": "alter table raw.orders drop column customer_id;\n",
    }
    truth = _same_with_and_without_cache(
        _repo(tmp_path / "g", GOLANG, golang_head, "dialect: postgres\n")
    )
    assert truth["findings"]


def _op(*bodies: Any, line: Any = 1) -> list[Any]:
    return ["op", 0, line, list(bodies)]


def _alter(verb: str, names: list[str]) -> list[Any]:
    action = [verb, "k", names, [], False, None, None, None, None, False, None, []]
    return ["alter", "raw.orders", False, [action]]


def test_corrupt_operation_entries_are_rejected_field_by_field() -> None:
    from impact_check.project.codec import CodecError
    from impact_check.project.incremental import decode_effects

    good = _op(_alter("rename_column", ["a", "b"]), ["inert"], ["drop", "TABLE", ["t"], True])
    assert len(decode_effects([good])) == 1
    bad = [
        _op(_alter("rename_column", ["a"])),  # a rename with one name
        _op(_alter("explode", [])),  # no such verb
        _op(["inert"], line="x"),  # a line that is not a number
        _op(["drop", "TABLE", "raw.orders", False]),  # names not a list
        ["op", 0, 1, ["inert"]],  # operations not a list of operations
    ]
    for row in bad:
        with pytest.raises(CodecError):
            decode_effects([row])
