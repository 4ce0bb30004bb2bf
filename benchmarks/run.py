#!/usr/bin/env python3
"""The performance benchmark of issues 8 and 16: one command, a table per repository layout.

    python benchmarks/run.py                        # 3 layouts x 500, 2,000, 5,000 models
    python benchmarks/run.py --sizes 500 --runs 1   # a quick look
    python benchmarks/run.py --python OTHER/bin/python  # another install (the "before")

The models of ``gen_corpus.py`` (copied from shared/bench) are written in three layouts:
model folders (bare SELECT files), DDL files (``CREATE VIEW`` a file, the sources as
``CREATE TABLE``s in one file) and a Flyway migration sequence with ALTERs. For each layout
and size, everything is measured in this one run on this machine, so the ratios compare
like with like (wall-clock figures move with the load of the machine; the ratios much less):

- cold check (empty cache) vs the reference single-pass loop (benchmarks/reference, copied
  from shared/bench: one parse + qualify + all-columns walk per model), and its peak memory;
- the same diff again, warm, vs ``python -c "import sqlglot"``;
- ``check --staged`` after 5 views/models were edited (pre-commit), warm, vs the import;
- a diff without SQL vs the import.

``--extras`` adds the figures of issue 8 (models layout): one process, ``--no-cache``, a
venv without the compiled sqlglot (made here), per-column ``sqlglot.lineage.lineage()``,
a project made from the real jaffle-shop-expand manifest, fetched graphs of 10k/100k/1M
column edges, and SQLMesh side by side (benchmarks/sqlmesh_compare.py, its own venv).

Work files go to ``--work`` (default: a temporary directory); projects, corpora and venvs are
kept there between runs. Not part of the test suite.
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


# What "seconds" means: wall-clock (what a user waits) or CPU time of the command and its
# workers (user + system: steadier on a machine other jobs share). --clock sets it.
CLOCK = "wall"


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(seconds by CLOCK, peak RSS in MB of the command or its largest worker), via a
    wrapper process so RUSAGE_CHILDREN holds only this command."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "if p.returncode not in (0, 1):\n"
        "    sys.stderr.write(p.stderr.decode()); sys.exit(3)\n"
        "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(w, r.ru_utime + r.ru_stime, r.ru_maxrss)\n"
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
    wall, cpu, rss_kb = proc.stdout.split()
    return float(cpu if CLOCK == "cpu" else wall), int(rss_kb) // 1024


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
        if not fast:  # a default dependency where wheels exist: take it out again
            subprocess.run(
                [str(python), "-m", "pip", "uninstall", "-q", "-y", "sqlglotc"], check=True
            )
        (path / ".bench-ready").write_text("ok\n")
    return python


# -- projects ---------------------------------------------------------------------------

# The repository layouts a project of generated models is written in (issue 16):
# - models: bare SELECT files in a models folder, the sources as DDL in db/V1__sources.sql;
# - ddl: each model as ``CREATE VIEW analytics.<layer>.<name> AS …`` in its own file, the
#   sources as CREATE TABLEs in one file (plain SQL, no configuration);
# - migrations: a Flyway ``V<n>__`` sequence: the sources, then the views ten a file, with
#   ALTERs adding source columns and views created again (CREATE OR REPLACE) on the way.
LAYOUTS = ("models", "ddl", "migrations")
BRANCHES = ("drop_column", "five_models", "filter", "migration")
MIGRATIONS = "db/migration"
# gen_corpus.py's seed: 7 is the corpus the checker was tuned on; another (``--seed``) is a
# held-back corpus of the same shape, to see the figures agree on models never looked at.
SEED = 7


def corpus_dir(work: Path, models: int) -> Path:
    """gen_corpus.py's output for ``models`` models (seed ``SEED``), made once."""
    corpus = work / (f"corpus{models}" if SEED == 7 else f"corpus{models}-seed{SEED}")
    if not (corpus / "models.json").is_file():
        subprocess.run(
            [sys.executable, str(HERE / "gen_corpus.py"), str(corpus), str(models), str(SEED)],
            check=True,
            capture_output=True,
        )
    return corpus


def generated_project(work: Path, models: int, layout: str = "models") -> Path:
    """A git repository of gen_corpus models in ``layout``, with the fixed set of changes
    on branches: drop_column, five_models, filter, migration."""
    root = work / (f"gen{models}" if layout == "models" else f"gen{models}-{layout}")
    if SEED != 7:
        root = root.with_name(f"{root.name}-seed{SEED}")
    if (root / ".git").is_dir():
        return root
    corpus = corpus_dir(work, models)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    project = Corpus(corpus)
    if layout == "models":
        shutil.copytree(corpus / "models", root / "models")
        (root / "db").mkdir()
        (root / "db" / "V1__sources.sql").write_text(source_ddl(project.sources))
        (root / ".impact-check.yml").write_text(CONFIG)
    elif layout == "ddl":
        (root / "sql").mkdir()
        (root / "sql" / "00_sources.sql").write_text(source_ddl(project.sources))
        for name in project.order:
            path = root / ddl_path(project, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(view_ddl(project, name, project.text(name)))
        (root / ".impact-check.yml").write_text("dialect: duckdb\n")
    elif layout == "migrations":
        for path, text in migration_files(project).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        (root / ".impact-check.yml").write_text("dialect: duckdb\n")
    else:
        raise ValueError(f"unknown layout {layout}")
    (root / "README.md").write_text("benchmark project\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    for branch, files in branch_changes(root, project, layout).items():
        git(root, "checkout", "-q", "-b", branch, "main")
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-qm", branch)
    git(root, "checkout", "-q", "main")
    return root


class Corpus:
    """What gen_corpus.py wrote: model texts, their layers and order, the source tables."""

    def __init__(self, corpus: Path) -> None:
        self.dir = corpus
        self.meta: dict[str, dict] = json.loads((corpus / "models.json").read_text())
        schema = json.loads((corpus / "schema.json").read_text())
        self.sources: dict[str, dict[str, str]] = schema["analytics"]["raw"]
        self.order = list(self.meta)  # generation order: each model after what it reads
        readers: dict[str, int] = {}
        for info in self.meta.values():
            for dep in info["deps"]:
                readers[dep.split(".")[-1]] = readers.get(dep.split(".")[-1], 0) + 1
        staging = sorted(
            (n for n in self.meta if n.startswith("stg_")), key=lambda n: (-readers.get(n, 0), n)
        )
        self.widely_used = staging[0]
        self.spread = sorted(self.meta)[:: max(1, len(self.meta) // 5)][:5]
        first_source = next(iter(self.sources.items()))
        self.dropped_source = first_source[0]
        self.dropped_column = next(
            c for c in first_source[1] if c not in ("id", "updated_at", "_deleted")
        )

    def text(self, name: str) -> str:
        return (self.dir / self.meta[name]["path"]).read_text()

    def layer(self, name: str) -> str:
        return str(self.meta[name]["layer"])

    def model_path(self, name: str) -> str:
        return str(self.meta[name]["path"])


def ddl_path(project: Corpus, name: str) -> str:
    return f"sql/{project.layer(name)}/{name}.sql"


def view_ddl(project: Corpus, name: str, body: str, replace: bool = False) -> str:
    create = "create or replace view" if replace else "create view"
    return f"{create} analytics.{project.layer(name)}.{name} as\n{body.rstrip().rstrip(';')};\n"


def migration_files(project: Corpus) -> dict[str, str]:
    """The Flyway sequence: V1 the sources, then views ten a file in generation order; after
    every fifth view file a migration adding a column to a source, after every twelfth one
    a migration creating an earlier view again (CREATE OR REPLACE, same query)."""
    files = {f"{MIGRATIONS}/V1__create_sources.sql": source_ddl(project.sources)}
    version = 2
    sources = list(project.sources)
    for batch, start in enumerate(range(0, len(project.order), 10), 1):
        names = project.order[start : start + 10]
        body = "\n".join(view_ddl(project, n, project.text(n)) for n in names)
        files[f"{MIGRATIONS}/V{version}__create_views_{batch}.sql"] = body
        version += 1
        if batch % 5 == 0:
            table = sources[batch % len(sources)]
            files[f"{MIGRATIONS}/V{version}__add_column_{batch}.sql"] = (
                f"alter table analytics.raw.{table} add column added_{batch} varchar;\n"
            )
            version += 1
        if batch % 12 == 0:
            again = project.order[start - 5]
            files[f"{MIGRATIONS}/V{version}__recreate_{again}.sql"] = view_ddl(
                project, again, project.text(again), replace=True
            )
            version += 1
    return files


def next_migration(root: Path) -> int:
    """The version after the last ``V<n>__`` file of the Flyway directory."""
    versions = [int(p.name[1:].split("__", 1)[0]) for p in (root / MIGRATIONS).glob("V*__*.sql")]
    return max(versions, default=0) + 1


def branch_changes(root: Path, project: Corpus, layout: str) -> dict[str, dict[str, str]]:
    """path -> new text, per change branch, as the layout writes such a change."""
    filtered = project.text(project.widely_used).replace(
        "where not _deleted", "where not _deleted and id > 0"
    )
    alter = (
        f"alter table analytics.raw.{project.dropped_source} "
        f"drop column {project.dropped_column};\n"
    )
    dropped = {n: drop_column_line(project.text(n)) for n in project.spread}
    widely = project.widely_used
    if layout == "models":
        return {
            "drop_column": {project.model_path(widely): drop_column_line(project.text(widely))},
            "five_models": {project.model_path(n): t for n, t in dropped.items()},
            "filter": {project.model_path(widely): filtered},
            "migration": {"db/V2__drop_column.sql": alter},
        }
    if layout == "ddl":
        return {
            "drop_column": {
                ddl_path(project, widely): view_ddl(
                    project, widely, drop_column_line(project.text(widely))
                )
            },
            "five_models": {
                ddl_path(project, n): view_ddl(project, n, t) for n, t in dropped.items()
            },
            "filter": {ddl_path(project, widely): view_ddl(project, widely, filtered)},
            "migration": {"sql/01_drop_column.sql": alter},
        }
    # migrations are forward-only: every change is a new migration at the end
    version = next_migration(root)

    def new(name: str, text: str) -> dict[str, str]:
        return {f"{MIGRATIONS}/V{version}__{name}.sql": text}

    replaced = {n: view_ddl(project, n, t, replace=True) for n, t in dropped.items()}
    return {
        "drop_column": new(
            "drop_column",
            view_ddl(project, widely, drop_column_line(project.text(widely)), replace=True),
        ),
        "five_models": new("five_views", "\n".join(replaced.values())),
        "filter": new("filter", view_ddl(project, widely, filtered, replace=True)),
        "migration": new("drop_source_column", alter),
    }


def precommit_edits(root: Path, layout: str, run: int) -> dict[Path, str]:
    """The files a pre-commit run writes: 5 spread views/models edited (a column dropped and
    a comment naming the run, so the edited files are never in the cache)."""
    project = Corpus(corpus_of(root))
    marker = f"-- edit {run}\n"
    edited = {n: drop_column_line(project.text(n)).rstrip("\n") + "\n" for n in project.spread}
    if layout == "models":
        return {root / project.model_path(n): t + marker for n, t in edited.items()}
    if layout == "ddl":
        return {
            root / ddl_path(project, n): view_ddl(project, n, t) + marker for n, t in edited.items()
        }
    body = "\n".join(view_ddl(project, n, t, replace=True) for n, t in edited.items())
    return {root / MIGRATIONS / f"V{next_migration(root)}__edit.sql": body + marker}


def corpus_of(root: Path) -> Path:
    size = root.name.removeprefix("gen").split("-", 1)[0]
    return corpus_dir(root.parent, int(size))


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


def precommit(python: Path, root: Path, layout: str, runs: int) -> float:
    """``check --staged`` with 5 freshly edited views/models staged (a new edit each run:
    the edited files are never in the cache, the rest of the project is)."""
    walls = []
    try:
        for run in range(runs + 1):  # the first run fills the cache with the base: not timed
            reset(root)
            for path, text in precommit_edits(root, layout, run).items():
                path.write_text(text)
            git(root, "add", "-A")
            wall = timed(check_cmd(python, "--staged"), root)[0]
            if run:
                walls.append(wall)
    finally:
        reset(root)
    return median(walls)


def reset(root: Path) -> None:
    """Back to main, nothing staged or edited (the cache, ignored by git, stays)."""
    git(root, "checkout", "-q", "main")
    git(root, "reset", "-q", "--hard", "main")
    git(root, "clean", "-fdq")


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


def import_time(python: Path, module: str, runs: int) -> float:
    """``python -c "import MODULE"``, wall seconds (median)."""
    return median(
        [timed([str(python), "-c", f"import {module}"], REPO)[0] for _ in range(max(5, runs))]
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
        walls.append(float(out[out.index("cpu_s" if CLOCK == "cpu" else "wall_s") + 1]))
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

# The goals of issue 16, as (row, limit): every ratio measured in the same run.
GOALS = {
    "cold / reference": 1.3,
    "warm same diff / import": 3.0,
    "pre-commit, 5 edits / import": 3.0,
    "diff without SQL / import": 2.0,
}


def measure_layout(
    python: Path,
    work: Path,
    layout: str,
    size: int,
    runs: int,
    branches: list[str],
) -> dict[str, float]:
    """Every figure of one layout at one size (seconds, MB and the ratios). Each ratio's
    two sides are measured next to each other (the reference just before the cold check,
    the import just before the warm checks): the load of a shared machine drifts."""
    root = generated_project(work, size, layout)
    corpus = corpus_dir(work, size)
    reset(root)
    ref = reference(python, corpus, runs)
    figures: dict[str, float] = {"reference s": ref}
    cold_wall, peak = cold(python, root, "drop_column", runs)
    figures["cold s"] = cold_wall
    figures["cold / reference"] = cold_wall / ref
    figures["cold peak MB"] = peak
    before = import_time(python, "sqlglot", runs)
    for branch in branches:
        figures[f"warm {branch} s"] = warm_branch(python, root, branch, runs)
    pre = precommit(python, root, layout, runs)
    figures["pre-commit s"] = pre
    quiet = no_sql(python, root, runs)
    figures["diff without SQL s"] = quiet
    # the import, timed before and after the warm checks (the load drifts meanwhile)
    imports = figures["import sqlglot s"] = (before + import_time(python, "sqlglot", runs)) / 2
    if "warm drop_column s" in figures:
        figures["warm same diff / import"] = figures["warm drop_column s"] / imports
    figures["pre-commit, 5 edits / import"] = pre / imports
    figures["diff without SQL / import"] = quiet / imports
    return figures


def layout_table(layout: str, results: dict[int, dict[str, float]]) -> str:
    """One layout's figures as a markdown table, a column per size."""
    sizes = sorted(results)
    names = list(dict.fromkeys(k for figures in results.values() for k in figures))
    lines = [
        f"| {layout} | " + " | ".join(f"{s:,}" for s in sizes) + " | goal |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    for name in names:
        cells = []
        for size in sizes:
            value = results[size].get(name)
            if value is None:
                cells.append("")
            elif name.endswith(" MB"):
                cells.append(f"{value:.0f}")
            elif "/" in name:
                cells.append(f"{value:.2f}x")
            else:
                cells.append(f"{value:.2f}")
        goal = f"<= {GOALS[name]}x" if name in GOALS else ""
        if name == "cold peak MB" and layout == "ddl":
            goal = "<= 400 at 5,000"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {goal} |")
    pre = [results[s]["pre-commit s"] for s in sizes if "pre-commit s" in results[s]]
    if len(pre) > 1:
        lines.append(f"| pre-commit, largest / smallest | {pre[-1] / pre[0]:.2f}x | <= 1.5x |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="500,2000,5000")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument(
        "--branches",
        default="drop_column,migration",
        help=f"changes timed warm (of {', '.join(BRANCHES)})",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="seconds as wall-clock, or as CPU time of the command and its workers",
    )
    parser.add_argument("--work", default=None, help="work directory (kept: venvs, corpora)")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter whose impact-check is measured (e.g. a venv of another revision)",
    )
    parser.add_argument("--json", default=None, help="also write every figure to this file")
    parser.add_argument(
        "--extras",
        action="store_true",
        help="also: one process, --no-cache, without the compiled sqlglot, per-column "
        "lineage(), jaffle-shop-expand, fetched graphs, SQLMesh",
    )
    parser.add_argument("--no-pure", action="store_true", help="with --extras: no pure venv")
    parser.add_argument(
        "--pure-sizes", default="500,2000", help="sizes also run without the compiled sqlglot"
    )
    parser.add_argument("--no-sqlmesh", action="store_true", help="skip the SQLMesh comparison")
    parser.add_argument("--no-manifest", action="store_true")
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="gen_corpus seed (7: the tuned corpus; another: a held-back corpus)",
    )
    args = parser.parse_args()
    global SEED
    SEED = args.seed
    # start-up is part of what is measured: let Python keep its bytecode like it does for
    # users (some CI images set this, recompiling every module on every start)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    work = Path(args.work or tempfile.mkdtemp(prefix="impact-check-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    python = Path(args.python)
    sizes = [int(s) for s in args.sizes.split(",")]
    layouts = [name for name in args.layouts.split(",") if name]
    branches = [b for b in args.branches.split(",") if b]
    global CLOCK
    CLOCK = args.clock
    imports = import_time(python, "sqlglot", args.runs)
    networkx = import_time(python, "networkx", args.runs)
    tool = subprocess.run(
        [
            str(python),
            "-c",
            "import impact_check, sqlglot.tokens as t; "
            "print(impact_check.__file__, t.SQLGLOTC_INSTALLED)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=work,
    ).stdout.strip()
    print(
        f"measuring {tool} ({CLOCK} clock); "
        f"import sqlglot {imports:.3f} s, import networkx {networkx:.3f} s"
    )
    results: dict[str, dict[int, dict[str, float]]] = {}
    refs: dict[int, float] = {}
    for layout in layouts:
        for size in sizes:
            figures = measure_layout(python, work, layout, size, args.runs, branches)
            refs[size] = figures["reference s"]
            results.setdefault(layout, {})[size] = figures
            print(
                f"\n{layout} at {size}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items()),
                flush=True,
            )
            if args.json:
                save_json(Path(args.json), python, imports, networkx, results)
    print(f'\n`python -c "import sqlglot"`: {imports:.3f} s; `import networkx`: {networkx:.3f} s')
    for layout in layouts:
        print(f"\n{layout_table(layout, results[layout])}")
    if args.extras:
        extras(args, work, python, sizes, refs, imports)
    return 0


def save_json(
    path: Path,
    python: Path,
    imports: float,
    networkx: float,
    results: dict[str, dict[int, dict[str, float]]],
) -> None:
    path.write_text(
        json.dumps(
            {
                "python": str(python),
                "import sqlglot s": imports,
                "import networkx s": networkx,
                "layouts": results,
            },
            indent=2,
        )
        + "\n"
    )


def extras(
    args: argparse.Namespace,
    work: Path,
    python: Path,
    sizes: list[int],
    refs: dict[int, float],
    imports: float,
) -> None:
    """The figures of issue 8 beyond the layouts (models layout only)."""
    rows: list[tuple[str, str, str]] = []
    pure = None if args.no_pure else venv_python(work / "venv-pure", fast=False)
    for size in sizes:
        root = generated_project(work, size)
        corpus = corpus_dir(work, size)
        ref = refs.get(size) or reference(python, corpus, args.runs)
        nocache = median(
            [
                timed(
                    check_cmd(python, "--base", "main", "--head", "drop_column", "--no-cache"),
                    root,
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
            single, _ = cold(python, root, "drop_column", args.runs, {"IMPACT_CHECK_WORKERS": "1"})
            rows.append(
                (f"{size}: cold check, one process", f"{single:.2f} s", f"{single / ref:.2f}x ref")
            )
        if pure is not None and str(size) in args.pure_sizes.split(","):
            cold_wall, _ = cold(python, root, "drop_column", args.runs)
            pure_wall, _ = cold(pure, root, "drop_column", args.runs)
            pure_ref = reference(pure, corpus, args.runs)
            rows.append(
                (
                    f"{size}: cold without the compiled sqlglot",
                    f"{pure_wall:.2f} s",
                    f"compiled is {pure_wall / cold_wall:.2f}x faster "
                    f"(reference {pure_ref / ref:.2f}x)",
                )
            )
        if size == 500 and not args.no_sqlmesh:
            rows.extend(sqlmesh(work, root, python))
        if size == sizes[0]:
            naive, ours = per_column_lineage(python, corpus)
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
            cold_wall, peak = cold(python, root, "five_models", args.runs)
            warm = warm_branch(python, root, "five_models", args.runs)
            rows.append(("jaffle-shop-expand: cold check", f"{cold_wall:.2f} s", f"{peak} MB"))
            rows.append(
                (
                    "jaffle-shop-expand: warm, 5 models",
                    f"{warm:.3f} s",
                    f"{warm / imports:.1f}x import",
                )
            )
    for edges, load, walk in graph_scale(python):
        rows.append(
            (
                f"fetched graph {edges:,} column edges",
                f"impact {walk * 1000:.2f} ms",
                f"merge {load:.2f} s",
            )
        )
    print_rows(rows, "final")


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
