#!/usr/bin/env python3
"""The performance benchmark of issue 8: one command, a table of medians and ratios.

    python benchmarks/run.py                     # 500, 2,000 and 5,000 models, 3 runs each
    python benchmarks/run.py --sizes 500 --runs 1   # a quick look

Everything is measured in this one run on this machine, so the ratios compare like with
like (wall-clock figures move with the load of the machine; the ratios much less):

- cold full check (empty cache) vs the reference single-pass loop (benchmarks/reference,
  copied from shared/bench: one parse + qualify + all-columns walk per model);
- cold with vs without the ``fast`` extra (a second venv without sqlglot[c], made here);
- warm pre-commit check (``--staged``, 5 changed models) and a diff without SQL, against
  ``python -c "import sqlglot"``;
- per-column ``sqlglot.lineage.lineage()`` on a 50-model sample vs the checker's lineage;
- peak memory of the largest cold run;
- impact on merged fetched graphs of 10k/100k/1M column edges (same impacted subgraph);
- the same cold/warm checks on a project made from a real public manifest
  (shared/corpora/jaffle-shop-expand: compiled SQL as model files, sources as DDL).

Work files go to ``--work`` (default: a temporary directory); the pure-Python venv is kept
there between runs. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = next(
    (p for p in (REPO.parent / "shared", Path("/work/shared")) if (p / "corpora").is_dir()),
    REPO.parent / "shared",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
CONFIG = "default_database: analytics\nmodels: [models]\n"


# -- helpers ----------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the command and its workers), via a wrapper process
    so RUSAGE_CHILDREN holds only this command."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "if p.returncode not in (0, 1):\n"
        "    sys.stderr.write(p.stderr.decode()); sys.exit(3)\n"
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, *cmd],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd}: {proc.stderr[-2000:]}")
    wall, rss_kb = proc.stdout.split()
    return float(wall), int(rss_kb) // 1024


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def venv_python(path: Path, fast: bool) -> Path:
    """A venv with this checkout installed, with or without the fast extra (made once)."""
    python = path / "bin" / "python"
    if not (path / ".bench-ready").exists():
        print(f"creating {path} ({'with' if fast else 'without'} sqlglot[c]) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        spec = f"{REPO}[fast]" if fast else str(REPO)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", spec], check=True)
        (path / ".bench-ready").write_text("ok\n")
    return python


# -- projects ---------------------------------------------------------------------------


def generated_project(work: Path, models: int) -> Path:
    """A git repository of gen_corpus models + source DDL, with the fixed set of changes on
    branches: drop_column, five_models, filter, migration."""
    root = work / f"gen{models}"
    if (root / ".git").is_dir():
        return root
    corpus = work / f"corpus{models}"
    if not corpus.is_dir():
        subprocess.run(
            [sys.executable, str(HERE / "gen_corpus.py"), str(corpus), str(models), "7"],
            check=True,
            capture_output=True,
        )
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(corpus / "models", root / "models")
    schema = json.loads((corpus / "schema.json").read_text())
    (root / "db").mkdir()
    (root / "db" / "V1__sources.sql").write_text(source_ddl(schema["analytics"]["raw"]))
    (root / ".impact-check.yml").write_text(CONFIG)
    (root / "README.md").write_text("benchmark project\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    meta = json.loads((corpus / "models.json").read_text())
    readers: dict[str, int] = {}
    for info in meta.values():
        for dep in info["deps"]:
            readers[dep.split(".")[-1]] = readers.get(dep.split(".")[-1], 0) + 1
    staging = sorted(
        (n for n in meta if n.startswith("stg_")), key=lambda n: (-readers.get(n, 0), n)
    )
    widely_used = root / meta[staging[0]]["path"]
    spread = [root / meta[n]["path"] for n in sorted(meta)[:: max(1, len(meta) // 5)][:5]]
    first_source = next(iter(schema["analytics"]["raw"].items()))
    dropped = next(c for c in first_source[1] if c not in ("id", "updated_at", "_deleted"))
    branches = {
        "drop_column": {widely_used: drop_column_line(widely_used.read_text())},
        "five_models": {p: drop_column_line(p.read_text()) for p in spread},
        "filter": {
            widely_used: widely_used.read_text().replace(
                "where not _deleted", "where not _deleted and id > 0"
            )
        },
        "migration": {
            root / "db" / "V2__drop_column.sql": (
                f"alter table analytics.raw.{first_source[0]} drop column {dropped};\n"
            )
        },
    }
    for branch, files in branches.items():
        git(root, "checkout", "-q", "-b", branch, "main")
        for path, text in files.items():
            path.write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-qm", branch)
    git(root, "checkout", "-q", "main")
    return root


def source_ddl(tables: dict[str, dict[str, str]], schema: str = "analytics.raw") -> str:
    return "".join(
        f"create table {schema}.{name} (\n    "
        + ",\n    ".join(f"{col} {typ}" for col, typ in cols.items())
        + "\n);\n"
        for name, cols in tables.items()
    )


def drop_column_line(text: str) -> str:
    """Drop the first bare pass-through column of the first select list (a real drop)."""
    lines = text.splitlines()
    for wanted in (str.isidentifier, lambda bare: " as " in bare):
        for i, line in enumerate(lines):
            bare = line.strip().rstrip(",")
            if i > 0 and line.strip().endswith(",") and wanted(bare):
                return "\n".join(lines[:i] + lines[i + 1 :]) + "\n"
    raise ValueError("no column to drop")


def manifest_project(work: Path) -> Path | None:
    """jaffle-shop-expand's compiled models as model files and its sources/seeds as DDL."""
    manifest_path = SHARED / "corpora" / "jaffle-shop-expand.manifest.json.gz"
    catalog_path = SHARED / "corpora" / "jaffle-shop-expand.catalog.json.gz"
    if not manifest_path.exists() or not catalog_path.exists():
        return None
    root = work / "jaffle-shop-expand"
    if (root / ".git").is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    manifest = json.loads(gzip.decompress(manifest_path.read_bytes()))
    catalog = json.loads(gzip.decompress(catalog_path.read_bytes()))
    database = None
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model" or not node.get("compiled_code"):
            continue
        database = node["database"].lower()
        path = root / "models" / node["schema"].lower() / f"{node['alias'].lower()}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(node["compiled_code"])
    ddl = []
    for entry in [*catalog["sources"].values(), *catalog["nodes"].values()]:
        meta = entry["metadata"]
        if entry["unique_id"].startswith("model."):
            continue
        cols = sorted(entry["columns"].values(), key=lambda c: c["index"])
        body = ",\n    ".join(f'"{c["name"].lower()}" {c["type"]}' for c in cols)
        name = f"{meta['database']}.{meta['schema']}.{meta['name']}".lower()
        ddl.append(f"create table {name} (\n    {body}\n);\n")
    (root / "db").mkdir(parents=True)
    (root / "db" / "V1__sources.sql").write_text("".join(ddl))
    (root / ".impact-check.yml").write_text(
        f"default_database: {database}\nmodels: [models]\ndialect: duckdb\n"
    )
    (root / "README.md").write_text("benchmark project\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    models = sorted((root / "models").rglob("*.sql"))
    git(root, "checkout", "-q", "-b", "five_models")
    for path in models[:: max(1, len(models) // 5)][:5]:
        path.write_text("-- edited\n" + path.read_text())
    git(root, "commit", "-qam", "five models")
    git(root, "checkout", "-q", "main")
    return root


# -- measurements -----------------------------------------------------------------------


def check_cmd(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "impact_check", "check", "--format", "json", *args]


def cold(
    python: Path, root: Path, branch: str, runs: int, env: dict[str, str] | None = None
) -> tuple[float, int]:
    walls, peak = [], 0
    for _ in range(runs):
        shutil.rmtree(root / ".impact-check", ignore_errors=True)
        wall, rss = timed(check_cmd(python, "--base", "main", "--head", branch), root, env)
        walls.append(wall)
        peak = max(peak, rss)
    return median(walls), peak


def warm_branch(python: Path, root: Path, branch: str, runs: int) -> float:
    timed(check_cmd(python, "--base", "main", "--head", "main"), root)  # base in the cache
    timed(check_cmd(python, "--base", "main", "--head", branch), root)
    return median(
        [timed(check_cmd(python, "--base", "main", "--head", branch), root)[0] for _ in range(runs)]
    )


def precommit(python: Path, root: Path, runs: int) -> float:
    """``check --staged`` with 5 freshly edited models staged (a new edit each run: the
    edited files are never in the cache, the other models are)."""
    git(root, "checkout", "-q", "main")
    models = sorted((root / "models").rglob("*.sql"))
    chosen = models[:: max(1, len(models) // 5)][:5]
    original = {p: p.read_text() for p in chosen}
    walls = []
    try:
        for run in range(runs + 1):  # the first run fills the cache with the base: not timed
            for path, text in original.items():
                path.write_text(drop_column_line(text).rstrip("\n") + f"\n-- edit {run}\n")
            git(root, "add", "-A")
            wall = timed(check_cmd(python, "--staged"), root)[0]
            if run:
                walls.append(wall)
    finally:
        for path, text in original.items():
            path.write_text(text)
        git(root, "add", "-A")
    return median(walls)


def no_sql(python: Path, root: Path, runs: int) -> float:
    git(root, "checkout", "-q", "main")
    readme = root / "README.md"
    original = readme.read_text()
    walls = []
    try:
        for run in range(runs):
            readme.write_text(original + f"edit {run}\n")
            walls.append(timed(check_cmd(python, "--base", "HEAD"), root)[0])
    finally:
        readme.write_text(original)
    return median(walls)


def import_sqlglot(python: Path, runs: int) -> float:
    return median(
        [timed([str(python), "-c", "import sqlglot"], REPO)[0] for _ in range(max(5, runs))]
    )


def reference(python: Path, corpus: Path, runs: int) -> float:
    walls = []
    for _ in range(runs):
        out = subprocess.run(
            [str(python), str(HERE / "reference" / "reference_lineage.py"), str(corpus)],
            cwd=HERE / "reference",
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        walls.append(float(out[out.index("wall_s") + 1]))
    return median(walls)


def per_column_lineage(python: Path, corpus: Path) -> tuple[float, float]:
    """(naive per-column lineage() seconds, the checker's lineage seconds) on 50 models."""
    script = r"""
import json, sys, time
from pathlib import Path
import sqlglot
from sqlglot.lineage import lineage
from sqlglot.schema import MappingSchema
from impact_check.sql.lineage import query_lineage, rewrite_tables
from impact_check.sql.names import normalize
root = Path(sys.argv[1])
meta = json.loads((root / "models.json").read_text())
raw = json.loads((root / "schema.json").read_text())
names = sorted(meta)[:: max(1, len(meta) // 50)][:50]
schema = MappingSchema(raw, dialect="duckdb")
flat = {
    f"{d}.{s}.{t}": cols
    for d, ss in raw.items() for s, ts in ss.items() for t, cols in ts.items()
}
sqls = [(root / meta[n]["path"]).read_text() for n in names]
t = time.perf_counter()
for n, sql in zip(names, sqls):
    for col in meta[n]["columns"]:
        lineage(col, sql, schema=schema, dialect="duckdb")
naive = time.perf_counter() - t
t = time.perf_counter()
for sql in sqls:
    query = normalize(sqlglot.parse_one(sql, read="duckdb"), "duckdb")
    rewrite_tables(query, lambda name: name)
    query_lineage(query, flat, "duckdb")
ours = time.perf_counter() - t
print(naive, ours)
"""
    out = subprocess.run(
        [str(python), "-c", script, str(corpus)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def graph_scale(python: Path) -> list[tuple[int, float, float]]:
    """(column edges, merge seconds, impact seconds) for merged fetched graphs."""
    script = r"""
import sys, time
from impact_check.graph import LineageGraph, merge_fragment
from impact_check.impact import Bindings, impacts_of
from impact_check.model import Change
from impact_check.sources.base import FragmentEdge, FragmentNode, GraphFragment
for total in (10_000, 100_000, 1_000_000):
    graph = LineageGraph()
    graph.add_node("raw.orders", kind="table", origin="sql")
    for c in range(10):
        graph.add_node(f"raw.orders#c{c}", kind="column", dataset="raw.orders", origin="sql")
        graph.add_edge("raw.orders", f"raw.orders#c{c}", "has")
    nodes, edges = [], []
    for j in range(50):  # the impacted subgraph: 50 jobs reading raw.orders#c0 -> 50 tables
        nodes.append(FragmentNode(f"ext.t{j}", "table", "openlineage", columns={"x": "int"}))
        edges.append(FragmentEdge("raw.orders#c0", f"ext.t{j}#x", "projection"))
    filler = total - len(edges)
    width = 20
    for i in range(filler // width):  # unrelated tables, 20 column edges each
        nodes.append(FragmentNode(f"ext.f{i}", "table", "openlineage"))
        for k in range(width):
            edges.append(FragmentEdge(f"ext.s{i}#a{k}", f"ext.f{i}#b{k}", "projection"))
    fragment = GraphFragment("bench", "openlineage", nodes, edges)
    t = time.perf_counter()
    merge_fragment(graph, fragment, set())
    load = time.perf_counter() - t
    change = Change("c1", "column_dropped", "raw.orders", "c0")
    t = time.perf_counter()
    for _ in range(20):
        impacted = impacts_of(change, graph, Bindings({}, {}))
    walk = (time.perf_counter() - t) / 20
    assert len(impacted) == 50, len(impacted)
    print(total, load, walk)
"""
    out = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return [(int(a), float(b), float(c)) for a, b, c in (line.split() for line in out.splitlines())]


def sqlmesh(work: Path, root: Path, python: Path) -> list[tuple[str, str, str]]:
    """SQLMesh categorising the same changes (benchmarks/sqlmesh_compare.py, own venv)."""
    sys.path.insert(0, str(HERE))
    try:
        from sqlmesh_compare import sqlmesh_rows
    except ImportError as err:
        return [("SQLMesh comparison", "not run", f"({err})")]
    try:
        return sqlmesh_rows(work, root, python)
    except Exception as err:  # a peer's failure must not lose the rest of the table
        return [("SQLMesh comparison", "failed", f"{type(err).__name__}: {err}"[:200])]


# -- main -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="500,2000,5000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=None, help="work directory (kept: venvs, corpora)")
    parser.add_argument("--no-pure", action="store_true", help="skip the venv without sqlglot[c]")
    parser.add_argument(
        "--pure-sizes", default="500,2000", help="sizes also run without the fast extra"
    )
    parser.add_argument("--no-sqlmesh", action="store_true", help="skip the SQLMesh comparison")
    parser.add_argument("--no-manifest", action="store_true")
    args = parser.parse_args()
    # start-up is part of what is measured: let Python keep its bytecode like it does for
    # users (some CI images set this, recompiling every module on every start)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    work = Path(args.work or tempfile.mkdtemp(prefix="impact-check-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    fast = Path(sys.executable)
    pure = None if args.no_pure else venv_python(work / "venv-pure", fast=False)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[str, str, str]] = []
    base_import = import_sqlglot(fast, args.runs)
    rows.append(("python -c 'import sqlglot'", f"{base_import:.3f} s", "baseline"))
    for size in sizes:
        root = generated_project(work, size)
        corpus = work / f"corpus{size}"
        ref = reference(fast, corpus, args.runs)
        cold_wall, peak = cold(fast, root, "drop_column", args.runs)
        rows.append((f"{size}: reference single pass", f"{ref:.2f} s", ""))
        rows.append(
            (
                f"{size}: cold check (drop_column)",
                f"{cold_wall:.2f} s",
                f"{cold_wall / ref:.2f}x ref",
            )
        )
        rows.append((f"{size}: cold peak memory", f"{peak} MB", "target <= 400 MB"))
        nocache = median(
            [
                timed(
                    check_cmd(fast, "--base", "main", "--head", "drop_column", "--no-cache"), root
                )[0]
                for _ in range(max(1, args.runs // 2))
            ]
        )
        rows.append(
            (
                f"{size}: --no-cache (both sides parsed)",
                f"{nocache:.2f} s",
                f"{nocache / ref:.2f}x ref",
            )
        )
        if size == sizes[0]:
            single, _ = cold(fast, root, "drop_column", args.runs, {"IMPACT_CHECK_WORKERS": "1"})
            rows.append(
                (
                    f"{size}: cold check, one process",
                    f"{single:.2f} s",
                    f"{single / ref:.2f}x ref",
                )
            )
        if pure is not None and str(size) in args.pure_sizes.split(","):
            pure_wall, _ = cold(pure, root, "drop_column", args.runs)
            pure_ref = reference(pure, corpus, args.runs)
            rows.append(
                (
                    f"{size}: cold without fast extra",
                    f"{pure_wall:.2f} s",
                    f"fast is {pure_wall / cold_wall:.2f}x faster "
                    f"(reference {pure_ref / ref:.2f}x)",
                )
            )
        for branch in ("drop_column", "five_models", "filter", "migration"):
            wall = warm_branch(fast, root, branch, args.runs)
            rows.append(
                (
                    f"{size}: warm CI check {branch}",
                    f"{wall:.3f} s",
                    f"{wall / base_import:.1f}x import",
                )
            )
        pre = precommit(fast, root, args.runs)
        rows.append(
            (
                f"{size}: warm pre-commit, 5 models",
                f"{pre:.3f} s",
                f"{pre / base_import:.1f}x import (target <= 4x)",
            )
        )
        quiet = no_sql(fast, root, args.runs)
        rows.append(
            (
                f"{size}: diff without SQL",
                f"{quiet:.3f} s",
                f"{quiet / base_import:.1f}x import (target <= 2x)",
            )
        )
        if size == 500 and not args.no_sqlmesh:
            rows.extend(sqlmesh(work, root, fast))
        if size == sizes[0]:
            naive, ours = per_column_lineage(fast, corpus)
            rows.append(
                (
                    "50 models: per-column lineage()",
                    f"{naive:.2f} s",
                    f"{naive / ours:.1f}x the checker ({ours:.2f} s)",
                )
            )
        print_rows(rows, "so far")
    if not args.no_manifest:
        root = manifest_project(work)
        if root is not None:
            cold_wall, peak = cold(fast, root, "five_models", args.runs)
            warm = warm_branch(fast, root, "five_models", args.runs)
            rows.append(("jaffle-shop-expand: cold check", f"{cold_wall:.2f} s", f"{peak} MB"))
            rows.append(
                (
                    "jaffle-shop-expand: warm, 5 models",
                    f"{warm:.3f} s",
                    f"{warm / base_import:.1f}x import",
                )
            )
    for edges, load, walk in graph_scale(fast):
        rows.append(
            (
                f"fetched graph {edges:,} column edges",
                f"impact {walk * 1000:.2f} ms",
                f"merge {load:.2f} s",
            )
        )
    print_rows(rows, "final")
    return 0


def print_rows(
    rows: list[tuple[str, str, str]], heading: str | None = None, value: str = "median"
) -> None:
    """The rows as a markdown table, under ``heading:`` when given."""
    width = max(len(r[0]) for r in rows)
    if heading:
        print(f"\n{heading}:")
    print(f"| {'measurement'.ljust(width)} | {value} | ratio |")
    print(f"|{'-' * (width + 2)}|---|---|")
    for name, value, ratio in rows:
        print(f"| {name.ljust(width)} | {value} | {ratio} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
