"""The analysis cache: exact invalidation, corrupt entries rebuilt, concurrent runs, and the
same report with and without it (execution-truth scenarios and a generated dbt-like corpus).

The sample sizes are small in CI; ``IMPACT_CHECK_CACHE_SCENARIOS=300`` runs more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check.cache import FORMAT, AnalysisCache, cache_dir
from impact_check.config import parse_config
from impact_check.model import FileContent, Snapshot
from impact_check.project.loader import load_catalog
from tests.truth.warehouse_gen import generate

ROOT = Path(__file__).parent.parent
REVS = ("--base", "main", "--head", "feature")
SCENARIOS = int(os.environ.get("IMPACT_CHECK_CACHE_SCENARIOS", "40"))
CONFIG = parse_config({"models": ["models"]}, "test")

T1 = "create table raw.t1 (id int, amount int, note text);\n"
T2 = "create table raw.t2 (id int, label text);\n"
MODELS = {
    "models/staging/v1.sql": "select * from raw.t1",
    "models/staging/v2.sql": "select id, label from raw.t2",
    "models/marts/v3.sql": "select id, amount from staging.v1",
    "models/marts/v4.sql": "select id from staging.v2",
}


def _snapshot(files: dict[str, str]) -> Snapshot:
    return Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})


def _recomputed(files: dict[str, str], directory: Path) -> set[str]:
    """Derived datasets a load had to compute (the others came from the cache on disk)."""
    cache = AnalysisCache(directory)
    load_catalog(_snapshot(files), CONFIG, cache=cache)
    cache.save()
    values = cache.new_values().values()
    return {v["name"] for v in values if isinstance(v, dict) and "name" in v and "columns" in v}


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    report["summary"].pop("elapsed_ms", None)
    return report


def test_upstream_schema_change_invalidates_exactly_its_dependents(tmp_path: Path) -> None:
    files = {"ddl/tables.sql": T1 + T2, **MODELS}
    assert _recomputed(files, tmp_path) == {"staging.v1", "staging.v2", "marts.v3", "marts.v4"}
    assert _recomputed(files, tmp_path) == set()
    # t1 gains a column: v1 (select *) changes shape, so v3 re-binds too; v2, v4 do not
    wider = {**files, "ddl/tables.sql": T1.replace("note text", "note text, extra int") + T2}
    assert _recomputed(wider, tmp_path) == {"staging.v1", "marts.v3"}
    # t2 gains a column v2 does not select: v2 re-binds, its output is unchanged, v4 stays
    t2 = T2.replace("label text", "label text, other int")
    assert _recomputed({**files, "ddl/tables.sql": T1 + t2}, tmp_path) == {"staging.v2"}
    # a model's own text changes: only it, and what reads a column whose shape changed
    edited = {**files, "models/staging/v1.sql": "select id, amount from raw.t1"}
    assert _recomputed(edited, tmp_path) == {"staging.v1", "marts.v3"}


def _check(repo: GitRepo, *extra: str) -> dict[str, Any]:
    return _comparable(repo.report("--base", "main", "--head", "feature", *extra)[1])


def _repo(
    root: Path,
    base: dict[str, str],
    head: dict[str, str | None],
    config: str = "models: [models]\n",
) -> GitRepo:
    repo = GitRepo(root)
    repo.commit({**base, ".impact-check.yml": config}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(dict(head), "head")
    return repo


def test_corrupt_cache_files_are_ignored_and_rebuilt(tmp_path: Path) -> None:
    files = {"ddl/tables.sql": T1 + T2, **MODELS}
    repo = _repo(tmp_path / "r", files, {"ddl/tables.sql": T1.replace(", note text", "") + T2})
    truth = _check(repo, "--no-cache")
    assert truth["findings"], "the change must have a finding for the comparison to mean much"
    assert _check(repo) == truth
    store = cache_dir(repo.root) / "analysis"
    journals = sorted(store.glob("journal-*.json"))
    assert journals
    header, *lines = journals[0].read_text().splitlines()
    # every entry gets a wrong shape (valid JSON, wrong content), then one is cut short
    poison = json.dumps({"columns": "x", "lineage": {"columns": 3}})
    poisoned = [line.split("\t")[0] + "\t" + poison for line in lines]
    poisoned[0] = poisoned[0][:-5]
    journals[0].write_text("\n".join([header, *poisoned]) + "\n")
    (store / "journal-zz-garbage.json").write_bytes(b"\x00{not json")
    assert _check(repo) == truth
    assert _check(repo) == truth  # and once more, from what that run rebuilt


def test_stale_lineage_entry_is_rejected_when_decoded(tmp_path: Path) -> None:
    """An entry whose lineage is corrupt is only decoded when needed: still rebuilt."""
    files = {"ddl/tables.sql": T1 + T2, **MODELS}
    repo = _repo(tmp_path / "r", files, {"models/staging/v1.sql": "select id from raw.t1"})
    truth = _check(repo, "--no-cache")
    assert _check(repo) == truth
    store = cache_dir(repo.root) / "analysis"
    corrupted = 0
    for journal in store.glob("lineage-journal-*.json"):  # lineage has files of its own
        header, *lines = journal.read_text().splitlines()
        for i, line in enumerate(lines):
            key, value = line.split("\t", 1)
            if key.endswith("/lineage"):  # a derived dataset's lineage, stored apart
                entry = json.loads(value)
                entry["columns"] = [["id", "not pairs"]]
                lines[i] = key + "\t" + json.dumps(entry)
                corrupted += 1
        journal.write_text("\n".join([header, *lines]) + "\n")
    assert corrupted, "no lineage entry found to corrupt"
    assert _check(repo) == truth


def test_concurrent_checks_share_one_cache(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gen_corpus.py"), str(corpus), "60", "3"],
        check=True,
        capture_output=True,
    )
    base = {
        str(p.relative_to(corpus)): p.read_text() for p in sorted(corpus.rglob("models/*/*.sql"))
    }
    base["ddl/raw.sql"] = _source_ddl(corpus)
    victim = next(p for p in base if "/staging/" in p)
    head: dict[str, str | None] = {victim: _drop_line(base[victim])}
    repo = _repo(tmp_path / "r", base, head, "models: [models]\ndefault_database: analytics\n")
    truth = _check(repo, "--no-cache")
    for _round in range(3):
        runs = [_spawn(repo.root) for _ in range(3)]
        outputs = [p.communicate()[0] for p in runs]
        assert all(p.returncode in (0, 1) for p in runs), outputs
        for out in outputs:
            assert _comparable(json.loads(out)) == truth
        for path in (cache_dir(repo.root) / "analysis").glob("*.json"):
            _assert_whole(path)  # written atomically
        assert not list((cache_dir(repo.root) / "analysis").glob(".*.tmp"))
    assert _check(repo) == truth


def _assert_whole(path: Path) -> None:
    """The header line, then entries that all parse, and the final newline."""
    text = path.read_text()
    header, *lines = text.split("\n")
    assert header == FORMAT and text.endswith("\n"), path
    for line in lines[:-1]:
        json.loads(line.split("\t", 1)[1])


def _spawn(root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "IMPACT_CHECK_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "impact_check", "check", "--format", "json", *REVS],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _source_ddl(corpus: Path) -> str:
    schema = json.loads((corpus / "schema.json").read_text())
    return "".join(
        f"create table analytics.raw.{table} ({', '.join(f'{c} {t}' for c, t in cols.items())});\n"
        for table, cols in schema["analytics"]["raw"].items()
    )


def _drop_line(text: str) -> str:
    lines = text.splitlines()
    index = next(
        i for i, line in enumerate(lines) if line.strip().endswith(",") and " as " not in line
    )
    return "\n".join(lines[:index] + lines[index + 1 :]) + "\n"


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_same_report_with_and_without_cache_on_truth_scenarios(
    tmp_path: Path, dialect: str
) -> None:
    compared = 0
    for seed in range(SCENARIOS // 2):
        scenario = generate(seed, dialect)
        repo = GitRepo(tmp_path / f"{dialect}{seed}")
        repo.commit(dict(scenario.base), "base")
        repo.git("checkout", "-q", "-b", "feature")
        paths = set(scenario.base) | set(scenario.head)
        repo.commit({p: scenario.head.get(p) for p in paths}, "head")
        args = ("--dialect", dialect)
        truth = _check(repo, "--no-cache", *args)
        assert _check(repo, *args) == truth, f"seed {seed}: cold cache differs"
        assert _check(repo, *args) == truth, f"seed {seed}: warm cache differs"
        compared += bool(truth["findings"])
    assert compared >= SCENARIOS // 8  # the scenarios really have findings to compare


def test_config_cache_false_writes_nothing(tmp_path: Path) -> None:
    files = {"ddl/tables.sql": T1 + T2, **MODELS}
    head: dict[str, str | None] = {"models/staging/v2.sql": "select id from raw.t2"}
    repo = _repo(tmp_path / "r", files, head, "models: [models]\ncache: false\n")
    report = _check(repo)
    assert report["findings"]
    assert not cache_dir(repo.root).exists()


_PROBE = """
import contextlib, io, json, sys
from impact_check.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit_:
        code = exit_.code
heavy = [m for m in ("sqlglot", "networkx", "httpx", "git") if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()}))
"""


def _modules_after(root: Path, *argv: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=root, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_help_rules_and_a_diff_without_sql_never_import_sqlglot(tmp_path: Path) -> None:
    files = {"ddl/tables.sql": T1 + T2, **MODELS}
    repo = _repo(tmp_path / "r", files, {"README.md": "docs only\n"})
    assert _modules_after(repo.root, "--help")["heavy"] == []
    assert _modules_after(repo.root, "rules")["heavy"] == []
    no_sql = _modules_after(repo.root, "check", "--format", "json", *REVS)
    assert no_sql["heavy"] == [] and no_sql["code"] == 0
    report = json.loads(no_sql["out"])
    assert report["changes"] == [] and report["findings"] == []
    assert isinstance(report["tool"]["fast"], bool)
    # the same probe sees sqlglot when the diff has SQL (the probe can fail); the lineage
    # graph is digraph.py's, so networkx is imported only to export a graph
    repo.commit({"models/staging/v2.sql": "select id from raw.t2"}, "sql")
    heavy = _modules_after(repo.root, "check", "--format", "json", *REVS)["heavy"]
    assert "sqlglot" in heavy and "networkx" not in heavy


def test_codec_carries_every_field() -> None:
    """A field added to Dataset, Column or Lineage must be cached too (or this fails)."""
    import dataclasses

    from impact_check.model import Column, Dataset, Lineage
    from impact_check.project.codec import decode_dataset, encode_dataset

    catalog = load_catalog(_snapshot({"ddl/tables.sql": T1 + T2, **MODELS}), CONFIG)
    for dataset in catalog.datasets.values():
        assert decode_dataset(json.loads(json.dumps(encode_dataset(dataset)))) == dataset
    encoded = encode_dataset(catalog.datasets["marts.v3"])
    assert {f.name for f in dataclasses.fields(Dataset)} == set(encoded)
    assert {f.name for f in dataclasses.fields(Lineage)} == set(encoded["lineage"])
    assert len(dataclasses.fields(Column)) == len(encoded["columns"][0])
