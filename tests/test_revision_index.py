"""The per-revision index (issue 16): a warm run touches the changed files, what reads them
and what they read, and gives the same catalog and report as a full build.

- the head made from the base's index equals the head built in full (same datasets, keys,
  issues, order) over a generated corpus and hand-made edits; the changes it does not
  handle (a DDL file, a new model, different reads) build the head in full;
- a warm run with the index builds neither revision: no file of the unchanged models is read;
- the report is the same with the index present, corrupt, from a foreign line, or naming
  entries that are gone (then ignored and rebuilt), and without the cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check.cache import AnalysisCache, cache_dir
from impact_check.config import Config, parse_config
from impact_check.model import FileContent, Snapshot
from impact_check.project import incremental, revision_index
from impact_check.project.incremental import read_settings

ROOT = Path(__file__).parent.parent
CONFIG = parse_config({"models": ["models"]}, "test")
TABLES = (
    "create table raw.t1 (id int not null, amount int, note text, at date);\n"
    "create table raw.t2 (id int, label text);\n"
)
MODELS = {
    "models/staging/v1.sql": "select * from raw.t1",
    "models/staging/v2.sql": "select id, label from raw.t2",
    "models/marts/v3.sql": "select id, amount from staging.v1",
    "models/marts/v4.sql": "select * from staging.v2",
    "models/marts/v5.sql": "select v4.id, v4.label, v3.amount from marts.v4 join marts.v3 "
    "on v3.id = v4.id",
}
EDITS = {
    "a column dropped under a select *": {"models/staging/v1.sql": "select id, amount from raw.t1"},
    "a filter": {"models/staging/v2.sql": "select id, label from raw.t2 where id > 3"},
    "a type": {"models/staging/v2.sql": "select cast(id as text) as id, label from raw.t2"},
    "a column that is not there": {"models/marts/v3.sql": "select id, amount2 from staging.v1"},
    "two models, one reading the other": {
        "models/staging/v1.sql": "select id, note from raw.t1",
        "models/marts/v3.sql": "select id, note as amount from staging.v1",
    },
}


def _snapshot(files: dict[str, str]) -> Snapshot:
    return Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})


def _patched_and_built(
    base: dict[str, str], head: dict[str, str], config: Config = CONFIG
) -> tuple[Any, Any]:
    """(the head made from the base's index, or None; the head built in full), encoded."""
    settings = read_settings(config)
    cache = AnalysisCache(None)  # memoises in the run, as a disk cache would across runs
    base_snapshot, head_snapshot = _snapshot(base), _snapshot(head)
    incremental._indexed_catalog(base_snapshot, config, None, cache, None)  # stores the index
    indexed = incremental._indexed_catalog(base_snapshot, config, None, cache, None)
    assert indexed.key is not None and indexed.deferred, "the base must come from its index"
    patched = incremental._patched(indexed, base_snapshot, head_snapshot, settings, cache)
    fresh = AnalysisCache(None)
    built = incremental._indexed_catalog(head_snapshot, config, None, fresh, None)
    encoded = None if patched is None else revision_index.encode_index(patched)
    return encoded, revision_index.encode_index(built)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_head_from_the_base_index_equals_a_full_build(edit: str) -> None:
    base = {"ddl/tables.sql": TABLES, **MODELS}
    patched, built = _patched_and_built(base, {**base, **EDITS[edit]})
    assert patched is not None, "a model edit must be patched, not built"
    assert patched == built


def test_head_from_the_base_index_equals_a_full_build_on_a_generated_corpus(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gen_corpus.py"), str(corpus), "50", "5"],
        check=True,
        capture_output=True,
    )
    base = {
        str(p.relative_to(corpus)): p.read_text() for p in sorted(corpus.rglob("models/*/*.sql"))
    }
    schema = json.loads((corpus / "schema.json").read_text())
    base["ddl/raw.sql"] = "".join(
        f"create table analytics.raw.{table} ({', '.join(f'{c} {t}' for c, t in cols.items())});\n"
        for table, cols in schema["analytics"]["raw"].items()
    )
    config = parse_config({"models": ["models"], "default_database": "analytics"}, "test")
    models = sorted(p for p in base if p.startswith("models/"))
    compared = 0
    for step, path in enumerate(models[:: max(len(models) // 8, 1)]):
        text = base[path]
        lines = text.splitlines()
        # drop one select-list line (a column gone), or add a filter-like comment change
        cut = next((i for i, line in enumerate(lines) if line.strip().endswith(",")), None)
        edited = "\n".join(lines[:cut] + lines[cut + 1 :]) if cut and step % 2 else text + "\n"
        patched, built = _patched_and_built(base, {**base, path: edited}, config)
        if patched is None:
            continue  # e.g. the edit changed what the model reads: built in full
        assert patched == built, path
        compared += 1
    assert compared >= 4


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
VIEW_TABLES = (
    "create table raw.orders (id int not null, customer_id int, amount int, note text);\n"
    "create table raw.customers (id int, name text);\n"
)
VIEW_EDITS = {
    "a column dropped": {
        "views/stg_orders.sql": "create view stg.orders as select id, customer_id, amount "
        "from raw.orders;\n"
    },
    "one statement of three": {
        "views/marts.sql": VIEWS["views/marts.sql"].replace("amount > 100", "amount > 5")
    },
    "a type, read downstream": {
        "views/stg_customers.sql": "create view stg.customers as select cast(id as text) as id,"
        " name from raw.customers;\n"
    },
}


@pytest.mark.parametrize("edit", sorted(VIEW_EDITS))
def test_head_from_the_base_index_equals_a_full_build_with_ddl_files(edit: str) -> None:
    base = {"sql/00_tables.sql": VIEW_TABLES, **VIEWS}
    config = parse_config({"dialect": "duckdb"}, "test")
    patched, built = _patched_and_built(base, {**base, **VIEW_EDITS[edit]}, config)
    assert patched is not None, "a view file edit must be patched, not built"
    assert patched == built


@pytest.mark.parametrize(
    "head",
    [
        {"ddl/tables.sql": TABLES.replace(", note text", "")},  # not a model file
        {"models/marts/v6.sql": "select id from marts.v3"},  # a new model
        {"ddl/views.sql": "create view marts.v7 as select id from marts.v3;"},  # a new file
        {"models/marts/v3.sql": "select id, label as amount from staging.v2"},  # new reads
        {"models/marts/v3.sql": "create view marts.v3 as select id from staging.v1"},  # DDL
    ],
)
def test_changes_the_patch_does_not_handle_build_the_head(head: dict[str, str]) -> None:
    base = {"ddl/tables.sql": TABLES, **MODELS}
    patched, _built = _patched_and_built(base, {**base, **head})
    assert patched is None


def _repo(root: Path, head: dict[str, str]) -> GitRepo:
    repo = GitRepo(root)
    repo.commit({"ddl/tables.sql": TABLES, **MODELS, ".impact-check.yml": "models: [models]\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict(head), "head")
    return repo


def _check(repo: GitRepo, *extra: str) -> dict[str, Any]:
    report = repo.report("--base", "main", "--head", "feature", *extra)[1]
    report["summary"].pop("elapsed_ms", None)
    return report


def _index_lines(store: Path) -> list[tuple[Path, int]]:
    """(file, line number) of every index entry in the cache's packs and journals."""
    found = []
    for path in sorted(store.glob("*.json")):
        for number, line in enumerate(path.read_text().split("\n")):
            if '"derived_issues_at"' in line:
                found.append((path, number))
    return found


def _rewrite(store: Path, change: Any) -> int:
    """Apply ``change(key, value) -> line`` to every index entry; how many there were."""
    lines = _index_lines(store)
    for path, number in lines:
        rows = path.read_text().split("\n")
        key, _, value = rows[number].partition("\t")
        rows[number] = change(key, value)
        path.write_text("\n".join(rows))
    return len(lines)


def test_warm_run_builds_no_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Base and head from their index: nothing built. A new edit: only it is read."""
    repo = _repo(tmp_path / "r", EDITS["a column dropped under a select *"])
    code, truth = repo.report("--base", "main", "--head", "feature", "--no-cache")
    assert truth["findings"], "the change must have a finding for the comparison to mean much"
    assert repo.report("--base", "main", "--head", "feature")[0] == code  # cold: indexed
    built: list[int] = []
    read: list[str] = []
    build_catalog, model_file = incremental.build_catalog, incremental.model_file

    def count_builds(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        return build_catalog(*args, **kwargs)

    def count_reads(path: str, *args: Any, **kwargs: Any) -> Any:
        read.append(path)
        return model_file(path, *args, **kwargs)

    monkeypatch.setattr(incremental, "build_catalog", count_builds)
    monkeypatch.setattr(incremental, "model_file", count_reads)
    monkeypatch.chdir(repo.root)
    from impact_check.cli import main

    assert main(["check", "--base", "main", "--head", "feature", "--format", "json"]) == code
    assert built == [] and read == []
    # a fresh edit of v2 (the head not indexed): made from the base's index
    repo.commit({"models/staging/v2.sql": "select id, label from raw.t2 where id > 1"}, "again")
    main(["check", "--base", "main", "--head", "feature", "--format", "json"])
    assert built == []
    # the two edited files, and v3, v4, v5 re-derived (v1's and v2's shape changed)
    assert set(read) <= {f"models/{p}.sql" for p in ("staging/v1", "staging/v2", "marts/v3")} | {
        "models/marts/v4.sql",
        "models/marts/v5.sql",
    }
    assert "models/staging/v1.sql" in read and "models/staging/v2.sql" in read


def test_index_present_corrupt_foreign_or_dangling_gives_the_same_report(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "r", EDITS["two models, one reading the other"])
    truth = _check(repo, "--no-cache")
    assert truth["findings"]
    assert _check(repo) == truth  # cold: index stored
    assert _check(repo) == truth  # warm: from the index
    store = cache_dir(repo.root) / "analysis"
    assert _index_lines(store), "the warm run must have stored an index"
    # a wrong shape (valid JSON), then cut short
    assert _rewrite(store, lambda key, value: key + '\t{"datasets": 5, "derived_issues_at": 1}')
    assert _check(repo) == truth
    assert _rewrite(store, lambda key, value: key + "\t" + value[:-7])
    assert _check(repo) == truth
    # a table stored inline, malformed: decoded (and the index rejected) only when kept
    assert _check(repo) == truth  # the index stored again

    broken: list[str] = []

    def break_tables(key: str, value: str) -> str:
        try:
            data = json.loads(value)
        except ValueError:  # the entry cut short above: left as it is
            return key + "\t" + value
        for row in data["datasets"]:
            if row[0] == "inline":
                row[2] = {**row[2], "columns": 5}
                broken.append(row[1])
        return key + "\t" + json.dumps(data)

    assert _rewrite(store, break_tables)
    assert "raw.t1" in broken, "the DDL's tables are stored inline"
    assert _check(repo) == truth
    assert _check(repo) == truth
    # an index naming derived entries that are gone: rejected, both revisions built again
    for path in sorted(store.glob("*.json")):
        rows = path.read_text().split("\n")
        kept = [r for r in rows[1:] if '"derived_issues_at"' in r or '"columns"' not in r]
        path.write_text("\n".join([rows[0], *kept]))
    assert _check(repo) == truth
    assert _check(repo) == truth
    # another line's cache (another format): ignored as a whole
    for path in sorted(store.glob("*.json")):
        rows = path.read_text().split("\n")
        path.write_text("\n".join(["impact-check-cache/0/lines", *rows[1:]]))
    assert _check(repo) == truth
    assert _check(repo) == truth
