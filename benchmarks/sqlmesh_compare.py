#!/usr/bin/env python3
"""SQLMesh beside impact-check on the generated benchmark project (issue 8).

    python benchmarks/sqlmesh_compare.py --work DIR [--size 500] [--checker-python PY]
    python benchmarks/sqlmesh_compare.py --work DIR --recompare   # classes only, no rerun

The generated project (``run.generated_project``) is turned into a SQLMesh project: each
model file becomes a SQL model named like the checker names it (``analytics.<schema>.<name>``
in a DuckDB file whose catalog is ``analytics``, so the query's 3-part references are the
SQLMesh model names as they stand), the source DDL (migrations applied) becomes
``external_models.yaml``. Main is applied to prod once (a real build: empty source tables,
views); then, for each change branch, the head models are written and a dev plan is built,
not applied; each modified snapshot's change category is read and set beside what
impact-check (run cold on the same branch) says of the same model. Both are checked against
DuckDB itself: every model is created as a view over empty source tables at base and at head,
so "does this consumer still build" has a ground truth.

The generated SQL calls text functions on non-text columns and coalesces dates with 0, so
with DuckDB's own typing most of its views do not build at base, and impact-check (which
follows it) calls every broken consumer "already broken at base". The same comparison is
therefore also run on a twin with those two slips repaired (``repair_types``; WORK/typed).

SQLMesh pins its own sqlglot and cannot use compiled sqlglot (its dialect subclasses
sqlglot's classes), so it lives in its own venv (``WORK/venv-sqlmesh``, made once) with
pure-Python sqlglot, and is driven by subprocess: this file runs itself there with
``--driver SPEC``; only that path imports SQLMesh. Results: rows like run.py's, the
disagreements per case, and the whole comparison, raw outputs included, in
``WORK/sqlmesh_compare.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import graphlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from run import generated_project, git, print_rows

HERE = Path(__file__).resolve().parent
SQLMESH_REQUIREMENTS = ("sqlmesh==0.236.4", "duckdb<2")
CATALOG = "analytics"
CASES = ("drop_column", "five_models", "filter", "migration")
BREAKING = {"BREAKING", "INDIRECT_BREAKING"}
# How main is applied to prod so that its snapshots exist in state. Measured once on 500
# models: a real build of the views (93 s) was no slower than empty_backfill with VIEW or
# FULL models (192 s each, a busier machine), and it shows that SQLMesh builds the project.
APPLY_MODE = "build"
HEADER_END = "-- end of the SQLMesh header\n"
REFERENCE = re.compile(rf"\b{CATALOG}\.(\w+)\.(\w+)\b", re.IGNORECASE)
ENV = {
    # SQLMesh's usage analytics would try the network from a benchmark
    "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
}


# -- the SQLMesh venv -------------------------------------------------------------------


def sqlmesh_venv(work: Path) -> Path:
    """WORK/venv-sqlmesh with SQLMesh and DuckDB < 2 (made once, kept); its python."""
    venv = work / "venv-sqlmesh"
    python = venv / "bin" / "python"
    if not (venv / ".bench-ready").exists():
        print(f"creating {venv} ({' '.join(SQLMESH_REQUIREMENTS)}) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *SQLMESH_REQUIREMENTS], check=True
        )
        (venv / ".bench-ready").write_text("ok\n")
    return python


# -- the project as SQLMesh sees it ------------------------------------------------------


def revision_files(root: Path, rev: str) -> dict[str, str]:
    """Every model and DDL file at ``rev``: path -> text (one git process for all)."""
    paths = [
        p
        for p in git(root, "ls-tree", "-r", "--name-only", rev).splitlines()
        if p.endswith(".sql") and p.startswith(("models/", "db/"))
    ]
    out = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=root,
        input="".join(f"{rev}:{p}\n" for p in paths).encode(),
        capture_output=True,
        check=True,
    ).stdout
    files, pos = {}, 0
    for path in paths:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        files[path] = out[header_end + 1 : header_end + 1 + size].decode()
        pos = header_end + 1 + size + 1
    return files


def model_name(path: str) -> str:
    """The checker's name of ``models/<schema>/<name>.sql`` (default_database analytics)."""
    parts = Path(path).with_suffix("").parts
    return f"{CATALOG}.{parts[-2]}.{parts[-1]}".lower()


def sqlmesh_model(path: str, sql: str, kind: str) -> str:
    """A SQLMesh SQL model: the MODEL header, then the query unchanged (its 3-part
    references already are SQLMesh model names: the catalog is the DuckDB file's name)."""
    header = f"MODEL (\n  name {model_name(path)},\n  kind {kind},\n  dialect duckdb\n);\n"
    return header + HEADER_END + sql.rstrip().rstrip(";") + "\n"


def config_yaml() -> str:
    """A local DuckDB gateway, state in the same file. DuckDB may cast to text implicitly:
    the generated SQL calls text functions on non-text columns, and SQLMesh builds it."""
    return (
        "gateways:\n"
        "  local:\n"
        "    connection:\n"
        "      type: duckdb\n"
        f"      database: {CATALOG}.duckdb\n"
        "      connector_config:\n"
        "        old_implicit_casting: true\n"
        "default_gateway: local\n"
        "disable_anonymized_analytics: true\n"
        "model_defaults:\n"
        "  dialect: duckdb\n"
        "  start: '2024-01-01'\n"
    )


def write_project(dest: Path, files: dict[str, str], kind: str) -> int:
    """Lay the SQLMesh project for one revision in ``dest`` (models and DDL replaced, state
    kept); models SQLMesh could not load before (``excluded.json``) stay out. Model count."""
    excluded = set(read_json(dest / "excluded.json", {}))
    for sub in ("models", "ddl"):
        shutil.rmtree(dest / sub, ignore_errors=True)
        (dest / sub).mkdir(parents=True)
    (dest / "config.yaml").write_text(config_yaml())
    count = 0
    for path, text in sorted(files.items()):
        if path.startswith("db/"):
            (dest / "ddl" / Path(path).name).write_text(text)
        elif model_name(path) not in excluded:
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(sqlmesh_model(path, text, kind))
            count += 1
    return count


def read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text()) if path.exists() else default


# -- the driver: runs inside venv-sqlmesh ------------------------------------------------


def driver(spec_path: Path) -> int:
    """Carry out one step (``apply`` / ``categorise`` / ``bind``) and write its JSON."""
    spec = json.loads(spec_path.read_text())
    project = Path(spec["project"])
    step = {"apply": _apply, "categorise": _categorise, "bind": _bind}[spec["action"]]
    result = step(project, spec)
    Path(spec["out"]).write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


def _ddl_statements(project: Path) -> list[str]:
    """The DDL files in migration order (V1 before V2 before V10)."""
    files = sorted(
        (project / "ddl").glob("*.sql"),
        key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)],
    )
    return [s for f in files for s in f.read_text().split(";") if s.strip()]


def _source_columns(project: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Source tables after all migrations: name -> {column: type}, and statements skipped."""
    import sqlglot
    from sqlglot import exp

    tables: dict[str, dict[str, str]] = {}
    skipped: list[str] = []
    for text in _ddl_statements(project):
        statement = sqlglot.parse_one(text, read="duckdb")
        table = statement.find(exp.Table)
        name = ".".join(p.name.lower() for p in table.parts) if table else ""
        if isinstance(statement, exp.Create) and isinstance(statement.this, exp.Schema):
            tables[name] = {
                col.name.lower(): col.args["kind"].sql("duckdb")
                for col in statement.this.expressions
                if isinstance(col, exp.ColumnDef) and col.args.get("kind")
            }
        elif isinstance(statement, exp.Alter) and name in tables:
            for action in statement.args.get("actions") or []:
                if not _alter(tables[name], action):
                    skipped.append(action.sql("duckdb"))
        elif isinstance(statement, exp.Drop) and name in tables:
            del tables[name]
        else:
            skipped.append(text.strip()[:200])
    return tables, skipped


def _alter(columns: dict[str, str], action: Any) -> bool:
    """Apply one ALTER TABLE action to ``columns``; False when it is not understood."""
    from sqlglot import exp

    if isinstance(action, exp.Drop) and action.args.get("kind") == "COLUMN":
        columns.pop(action.this.name.lower(), None)
    elif isinstance(action, exp.ColumnDef) and action.args.get("kind"):
        columns[action.name.lower()] = action.args["kind"].sql("duckdb")
    elif isinstance(action, exp.RenameColumn):
        old, new = action.this.name.lower(), action.args["to"].name.lower()
        columns[new] = columns.pop(old)
    elif isinstance(action, exp.AlterColumn) and action.args.get("dtype"):
        columns[action.name.lower()] = action.args["dtype"].sql("duckdb")
    else:
        return False
    return True


def _write_externals(project: Path) -> list[str]:
    """external_models.yaml from the DDL (JSON is YAML); the DDL statements not applied."""
    tables, skipped = _source_columns(project)
    externals = [{"name": name, "columns": cols} for name, cols in sorted(tables.items())]
    (project / "external_models.yaml").write_text(json.dumps(externals, indent=1) + "\n")
    return skipped


def _load(project: Path, spec: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A loaded Context, timed; a model SQLMesh refuses is moved out, noted and the load
    retried, so one bad model does not end the comparison."""
    from sqlmesh import Context

    notes: dict[str, Any] = {"ddl_not_applied": _write_externals(project), "load_failed": {}}
    if spec.get("cold", True):
        shutil.rmtree(project / ".cache", ignore_errors=True)
    for _ in range(50):
        started = time.perf_counter()
        try:
            context = Context(paths=[str(project)], gateway="local")
        except Exception as error:  # SQLMesh raises several kinds; any of them is noted
            bad = _failing_model(project, str(error))
            if bad is None:
                raise
            notes["load_failed"][model_name(str(bad.relative_to(project)))] = str(error)[:500]
            bad.unlink()
            continue
        notes["load_s"] = time.perf_counter() - started
        return context, notes
    raise RuntimeError(f"too many models SQLMesh cannot load: {sorted(notes['load_failed'])}")


def _failing_model(project: Path, message: str) -> Path | None:
    for match in re.finditer(r"models/\w+/\w+\.sql", message):
        path = project / match.group(0)
        if path.exists():
            return path
    return None


def _apply(project: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Plan and apply prod (base revision) so that its snapshots exist in state."""
    context, notes = _load(project, spec)
    mode = spec["mode"]  # "build" creates the views / empty tables; others skip the data
    started = time.perf_counter()
    for schema in ("raw",):
        context.engine_adapter.execute(f"create schema if not exists {CATALOG}.{schema}")
    for statement in _ddl_statements(project):  # the sources, empty, as the DDL has them
        context.engine_adapter.execute(statement)
    plan = context.plan(
        "prod",
        no_prompts=True,
        auto_apply=True,
        skip_tests=True,
        empty_backfill=mode == "empty_backfill",
        skip_backfill=mode == "skip_backfill",
    )
    notes["apply_s"] = time.perf_counter() - started
    notes["snapshots"] = len(plan.new_snapshots)
    excluded = read_json(project / "excluded.json", {})
    excluded.update(notes["load_failed"])
    (project / "excluded.json").write_text(json.dumps(excluded, indent=1))
    return notes


def _categorise(project: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Build (not apply) a dev plan against prod and read each modified snapshot's category."""
    context, notes = _load(project, spec)
    started = time.perf_counter()
    plan = context.plan_builder("dev", skip_tests=True).build()
    notes["plan_s"] = time.perf_counter() - started
    diff = plan.context_diff
    indirect = {s for children in plan.indirectly_modified.values() for s in children}
    categories = {}
    for s_id in sorted(plan.directly_modified | indirect):
        category = diff.snapshots[s_id].change_category
        categories[_plain(s_id.name)] = {
            "category": category.name if category else "UNCATEGORIZED",
            "direct": s_id in plan.directly_modified,
        }
    notes["categories"] = categories
    notes["added"] = sorted(_plain(s.name) for s in diff.added)
    notes["removed"] = sorted(_plain(s.name) for s in diff.removed_snapshots)
    return notes


def _plain(name: str) -> str:
    return name.replace('"', "").lower()


def _bind(project: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Ground truth: the views DuckDB refuses to create, strict and with lenient casting."""
    return {"strict": _failing_views(project, False), "lenient": _failing_views(project, True)}


def _failing_views(project: Path, lenient: bool) -> dict[str, str]:
    """Create the sources (DDL as written) and every model as a view over them in an
    in-memory DuckDB, in dependency order; the views that fail, with DuckDB's message."""
    import duckdb

    connection = duckdb.connect(config={"old_implicit_casting": lenient})
    connection.execute(f"attach ':memory:' as {CATALOG}")
    connection.execute(f"use {CATALOG}")
    queries = {
        model_name(str(p.relative_to(project))): p.read_text().split(HEADER_END, 1)[1]
        for p in (project / "models").rglob("*.sql")
    }
    for schema in sorted({"raw"} | {name.split(".")[1] for name in queries}):
        connection.execute(f"create schema if not exists {schema}")
    for statement in _ddl_statements(project):
        connection.execute(statement)
    deps = {
        name: {f"{CATALOG}.{s}.{t}".lower() for s, t in REFERENCE.findall(sql)} & set(queries)
        for name, sql in queries.items()
    }
    failed = {}
    for name in graphlib.TopologicalSorter(deps).static_order():
        try:
            connection.execute(f"create view {name} as {queries[name]}")
        except duckdb.Error as error:
            failed[name] = str(error).splitlines()[0][:300]
    return failed


def run_driver(python: Path, project: Path, **spec: Any) -> tuple[float, dict[str, Any]]:
    """One driver step in the SQLMesh venv: (process wall seconds, its JSON)."""
    spec_path = project.parent / f"{project.name}-{spec['action']}.json"
    out_path = spec_path.with_suffix(".out.json")
    spec_path.write_text(json.dumps({**spec, "project": str(project), "out": str(out_path)}))
    out_path.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--driver", str(spec_path)],
        cwd=project,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"SQLMesh {spec['action']} failed: {proc.stderr[-3000:]}")
    return wall, json.loads(out_path.read_text())


# -- impact-check's side -----------------------------------------------------------------


def run_checker(python: Path, root: Path, branch: str) -> tuple[float, dict[str, Any]]:
    """impact-check cold (cache deleted) on main..branch: (wall seconds, JSON report)."""
    shutil.rmtree(root / ".impact-check", ignore_errors=True)
    cmd = [str(python), "-m", "impact_check", "check", "--format", "json"]
    started = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "--base", "main", "--head", branch], cwd=root, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"impact-check failed on {branch}: {proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout)


@dataclass
class CheckerVerdict:
    """What impact-check says of one model: the strongest of its impacted entries."""

    verdict: str = "not impacted"  # breaks | breaks, already at base | affected | changed
    rules: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)


def checker_verdicts(report: dict[str, Any]) -> dict[str, CheckerVerdict]:
    """Per relation: ``breaks`` (an unsuppressed finding names it a consumer that fails at
    head and did not at base), ``breaks, already at base`` (it fails at head but already
    failed at base: impact-check never fails the check on those), ``affected`` (rows or
    values may change) or ``changed`` (the changed object itself)."""
    rank = ["not impacted", "changed", "affected", "breaks, already at base", "breaks"]
    verdicts: dict[str, CheckerVerdict] = {}
    for change in report["changes"]:
        verdict = verdicts.setdefault(change["target"]["name"].lower(), CheckerVerdict())
        verdict.verdict = max(verdict.verdict, "changed", key=rank.index)
    for finding in report["findings"]:
        if finding.get("suppressed"):
            continue
        subject = (finding.get("location") or {}).get("file", "")
        if finding["name"] == "definition-broken" and subject.startswith("models/"):
            # "<model> no longer binds at head": the model itself is the subject, tied to
            # no change (its impacted list is empty), yet it fails the check
            verdict = verdicts.setdefault(model_name(subject), CheckerVerdict())
            verdict.verdict = max(verdict.verdict, "breaks", key=rank.index)
            verdict.rules.add(f"{finding['rule']} {finding['severity']}")
            verdict.reasons.append(finding["message"])
        for impacted in finding["impacted"]:
            if not impacted["breaks"]:
                said = "affected"
            elif impacted.get("preexisting"):
                said = "breaks, already at base"
            else:
                said = "breaks"
            verdict = verdicts.setdefault(impacted["node"]["name"].lower(), CheckerVerdict())
            verdict.verdict = max(verdict.verdict, said, key=rank.index)
            verdict.rules.add(f"{finding['rule']} {finding['severity']}")
            if len(verdict.reasons) < 3 and impacted.get("reason"):
                verdict.reasons.append(impacted["reason"])
    return verdicts


# -- the comparison ----------------------------------------------------------------------


@dataclass
class Row:
    """One model in one case: what each side says and what DuckDB does."""

    model: str
    edited: bool  # its file (or its DDL) is in the diff
    sqlmesh: str  # change category, or "unchanged"
    sqlmesh_direct: bool  # SQLMesh counts it directly modified
    checker: str
    checker_rules: list[str]
    checker_reasons: list[str]
    fails_at_base: bool
    fails_at_head: bool
    head_error: str
    reason_class: str = ""
    duckdb_check: str = ""


def compare_case(raw: dict[str, Any], base_failed: dict[str, str]) -> list[Row]:
    """Rows for every model either side mentions or DuckDB shows newly failing."""
    categories = raw["sqlmesh"]["categories"]
    verdicts = checker_verdicts(raw["report"])
    head_failed = raw["fails_at_head"]["strict"]
    edited = set(raw["edited"])
    newly_failing = set(head_failed) - set(base_failed)
    rows = []
    for name in sorted(set(categories) | set(verdicts) | newly_failing | edited):
        category = categories.get(name, {"category": "unchanged", "direct": False})
        verdict = verdicts.get(name, CheckerVerdict())
        row = Row(
            model=name,
            edited=name in edited,
            sqlmesh=category["category"],
            sqlmesh_direct=category["direct"],
            checker=verdict.verdict,
            checker_rules=sorted(verdict.rules),
            checker_reasons=verdict.reasons,
            fails_at_base=name in base_failed,
            fails_at_head=name in head_failed,
            head_error=head_failed.get(name, ""),
        )
        row.reason_class = reason_class(row)
        row.duckdb_check = duckdb_check(row)
        rows.append(row)
    return rows


def reason_class(row: Row) -> str:
    """Why SQLMesh and impact-check disagree on this consumer (empty when they agree)."""
    if row.edited:
        return ""  # the changed object itself: both see the change; not a consumer verdict
    # a child is "directly modified" when its parent's columns change: its SELECT * is
    # rendered against them, so its rendered query changes even though its file did not
    sqlmesh = row.sqlmesh + (
        " (directly modified: its rendered SELECT * changed)" if row.sqlmesh_direct else ""
    )

    sqlmesh_breaks = row.sqlmesh in BREAKING
    if sqlmesh_breaks and row.checker == "breaks":
        return ""
    if sqlmesh_breaks and row.checker == "breaks, already at base":
        return f"SQLMesh {sqlmesh}; impact-check: fails at head but already failed at base"
    if sqlmesh_breaks and row.checker == "affected":
        rules = ", ".join(row.checker_rules)
        return f"SQLMesh {sqlmesh}; impact-check: affected, still builds ({rules})"
    if sqlmesh_breaks:
        return f"SQLMesh {sqlmesh}; impact-check: not impacted"
    if row.checker.startswith("breaks"):
        return f"impact-check: {row.checker}; SQLMesh {sqlmesh}"
    return ""


def duckdb_check(row: Row) -> str:
    """Where impact-check's claim about this consumer is not what DuckDB does (strict
    typing, empty sources): empty when it matches."""
    if row.edited:
        return ""
    newly = row.fails_at_head and not row.fails_at_base
    if row.checker == "breaks" and not newly:
        where = "also fails at base" if row.fails_at_base else "builds at head"
        return f"impact-check says the change breaks it; DuckDB: {where}"
    if row.checker == "breaks, already at base" and not (row.fails_at_head and row.fails_at_base):
        where = "builds at base" if not row.fails_at_base else "builds at head"
        return f"impact-check says it fails at base and head; DuckDB: {where}"
    if row.checker in ("affected", "not impacted") and newly:
        return f"IMPACT-CHECK MISSES A BREAK ({row.checker}): DuckDB fails at head only"
    return ""


def grouped(rows: list[Row], key: str) -> dict[str, list[str]]:
    """Value of ``key`` (a Row field) -> models, for the rows where it is set."""
    classes: dict[str, list[str]] = {}
    for row in rows:
        if getattr(row, key):
            classes.setdefault(getattr(row, key), []).append(row.model)
    return classes


def edited_relations(root: Path, case: str) -> list[str]:
    """Models whose file the case edits, and source tables named in the DDL it edits."""
    edited = set()
    for path in git(root, "diff", "--name-only", "main", case).splitlines():
        if path.startswith("models/") and path.endswith(".sql"):
            edited.add(model_name(path))
        elif path.startswith("db/"):
            # the file at head, or at base when the case deletes it
            names = git(root, "ls-tree", "--name-only", case, "--", path).strip()
            text = git(root, "show", f"{case if names else 'main'}:{path}")
            edited |= {f"{CATALOG}.{s}.{t}".lower() for s, t in REFERENCE.findall(text)}
    return sorted(edited)


def comparison(raw: dict[str, Any], base: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The comparison of one case from its raw outputs (recomputable: ``--recompare``)."""
    rows = compare_case(raw, base["strict"])
    edited = {r.model for r in rows if r.edited}
    verdicts = {r.model: r.checker for r in rows}
    lenient_new = set(raw["fails_at_head"]["lenient"]) - set(base["lenient"])
    return {
        "rows": [asdict(r) for r in rows],
        "disagreements": grouped(rows, "reason_class"),
        "checker_vs_duckdb": grouped(rows, "duckdb_check"),
        # with lenient casting the generated SQL's type slips do not fail, so what fails
        # at head only is what the change itself breaks: each must be a checker "breaks"
        "newly_failing_lenient": sorted(lenient_new),
        "lenient_missed_by_checker": sorted(
            n for n in lenient_new - edited if not verdicts.get(n, "").startswith("breaks")
        ),
    }


# -- one project -------------------------------------------------------------------------


def compare_project(
    root: Path, checker_python: Path, work: Path, label: str, kind: str = "VIEW"
) -> dict[str, Any]:
    """Apply main in SQLMesh, then categorise every case and compare it with impact-check
    and with DuckDB. ``label`` names the SQLMesh project (WORK/sqlmesh-LABEL)."""
    python = sqlmesh_venv(work)
    project = work / f"sqlmesh-{label}"
    if project.exists():
        shutil.rmtree(project)  # a fresh state: the apply below is what is measured
    project.mkdir(parents=True)
    main_files = revision_files(root, "main")
    models = write_project(project, main_files, kind)
    apply_wall, applied = run_driver(python, project, action="apply", mode=APPLY_MODE)
    _, base = run_driver(python, project, action="bind")
    pure = work / "venv-pure" / "bin" / "python"  # run.py's checker without sqlglot[c]
    result: dict[str, Any] = {
        "label": label,
        "project": str(root),
        "models": models,
        "kind": kind,
        "apply_mode": APPLY_MODE,
        "apply": {**applied, "process_s": apply_wall},
        "fails_at_base": base,
        "cases": {},
    }
    for case in CASES:
        write_project(project, revision_files(root, case), kind)
        process_s, planned = run_driver(python, project, action="categorise")
        _, head = run_driver(python, project, action="bind")
        checker_s, report = run_checker(checker_python, root, case)
        raw = {
            "edited": edited_relations(root, case),
            "sqlmesh": planned,
            "sqlmesh_process_s": process_s,
            "checker_s": checker_s,
            "checker_pure_s": run_checker(pure, root, case)[0] if pure.exists() else None,
            "report": report,
            "fails_at_head": head,
        }
        result["cases"][case] = {"raw": raw, **comparison(raw, base)}
        save_partial(work, result)
    write_project(project, main_files, kind)
    return result


def save_partial(work: Path, result: dict[str, Any]) -> None:
    """What is done so far, so that a long run that stops still leaves its figures."""
    path = work / f"sqlmesh_compare.{result['label']}.partial.json"
    path.write_text(json.dumps(result, indent=1, sort_keys=True))


def typed_project(work: Path, size: int) -> Path:
    """The generated project with its two type slips repaired (``repair_types``), built by
    ``generated_project`` from a patched corpus under WORK/typed: same models, same changes."""
    typed = work / "typed"
    corpus = typed / f"corpus{size}"
    if not corpus.is_dir():
        subprocess.run(
            [sys.executable, str(HERE / "gen_corpus.py"), str(corpus), str(size), "7"],
            check=True,
            capture_output=True,
        )
        repair_types(corpus)
    return generated_project(typed, size)


TEXT_TYPES = {"varchar", "text", "string"}
ZERO = {
    "varchar": "'0'",
    "date": "date '1970-01-01'",
    "timestamp": "timestamp '1970-01-01'",
    "boolean": "false",
}


def repair_types(corpus: Path) -> int:
    """Make the staging models bind in DuckDB as written: gen_corpus applies
    ``lower(trim(c))`` to columns of any type (DuckDB has no trim(BIGINT)) and
    ``coalesce(c, 0)`` to dates, timestamps and text (no common type with an integer).
    Lines changed."""
    schema = json.loads((corpus / "schema.json").read_text())[CATALOG]["raw"]
    changed = 0
    for path in sorted((corpus / "models" / "staging").glob("*.sql")):
        text = path.read_text()
        source = re.search(rf"from {CATALOG}\.raw\.(\w+)", text)
        if source is not None:
            repaired = repaired_staging(text, schema[source.group(1)])
            changed += sum(a != b for a, b in zip(text.splitlines(), repaired.splitlines()))
            path.write_text(repaired)
    return changed


def repaired_staging(text: str, types: dict[str, str]) -> str:
    """Cast to text before trim, coalesce with a zero of the column's own type."""

    def trim(match: re.Match[str]) -> str:
        column = match.group(1)
        if types.get(column, "varchar") in TEXT_TYPES:
            return match.group(0)
        return f"lower(trim(cast({column} as varchar)))"

    def coalesce(match: re.Match[str]) -> str:
        zero = ZERO.get(types.get(match.group(1), "int"))
        return match.group(0) if zero is None else f"coalesce({match.group(1)}, {zero})"

    repaired = re.sub(r"lower\(trim\((\w+)\)\)", trim, text)
    return re.sub(r"coalesce\((\w+), 0\)", coalesce, repaired)


# -- rows and the command ------------------------------------------------------------------


def summary_counts(case: dict[str, Any]) -> dict[str, int]:
    """Consumer counts (edited objects left out) per side, and the disagreements."""
    consumers = [r for r in case["rows"] if not r["edited"]]
    return {
        "sqlmesh_breaking": sum(r["sqlmesh"] in BREAKING for r in consumers),
        "sqlmesh_direct_by_star": sum(r["sqlmesh_direct"] for r in consumers),
        "sqlmesh_non_breaking": sum(
            r["sqlmesh"] not in BREAKING and r["sqlmesh"] != "unchanged" for r in consumers
        ),
        "checker_breaks": sum(r["checker"] == "breaks" for r in consumers),
        "checker_breaks_preexisting": sum(
            r["checker"] == "breaks, already at base" for r in consumers
        ),
        "checker_affected": sum(r["checker"] == "affected" for r in consumers),
        "duckdb_newly_failing": sum(
            r["fails_at_head"] and not r["fails_at_base"] for r in consumers
        ),
        "lenient_newly_failing": len(
            set(case["newly_failing_lenient"]) & {r["model"] for r in consumers}
        ),
        "disagree": sum(bool(r["reason_class"]) for r in consumers),
        "checker_unlike_duckdb": sum(bool(r["duckdb_check"]) for r in consumers),
    }


def rows_of(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Benchmark rows (measurement, value, ratio) for one compared project."""
    prefix = f"{result['label']}: "
    applied = result["apply"]
    base = result["fails_at_base"]
    rows = [
        (
            f"{prefix}SQLMesh apply main to prod ({result['apply_mode']}, {result['kind']})",
            f"{applied['process_s']:.2f} s",
            f"load {applied['load_s']:.2f} s, plan+apply {applied['apply_s']:.2f} s; "
            f"{len(applied['load_failed'])} models not loadable; DuckDB refuses "
            f"{len(base['strict'])}/{result['models']} views at base",
        )
    ]
    for name, case in result["cases"].items():
        raw = case["raw"]
        sm, checker_s, pure_s = raw["sqlmesh"], raw["checker_s"], raw["checker_pure_s"]
        pure = f", {raw['sqlmesh_process_s'] / pure_s:.1f}x without sqlglot[c]" if pure_s else ""
        rows.append(
            (
                f"{prefix}SQLMesh categorise {name}",
                f"{raw['sqlmesh_process_s']:.2f} s",
                f"{raw['sqlmesh_process_s'] / checker_s:.1f}x impact-check cold "
                f"({checker_s:.2f} s{pure}); load {sm['load_s']:.2f} s, "
                f"plan {sm['plan_s']:.2f} s",
            )
        )
        counts = summary_counts(case)
        rows.append(
            (
                f"{prefix}{name}: downstream verdicts",
                f"SQLMesh {counts['sqlmesh_breaking']} breaking "
                f"({counts['sqlmesh_direct_by_star']} direct), "
                f"{counts['sqlmesh_non_breaking']} non-breaking",
                f"impact-check {counts['checker_breaks']} break "
                f"(+{counts['checker_breaks_preexisting']} already at base), "
                f"{counts['checker_affected']} affected; DuckDB "
                f"{counts['duckdb_newly_failing']} newly fail "
                f"({counts['lenient_newly_failing']} lenient); {counts['disagree']} disagree",
            )
        )
    return rows


def sqlmesh_rows(
    work: Path, root: Path, checker_python: Path, typed: bool = True
) -> list[tuple[str, str, str]]:
    """SQLMesh-vs-impact-check rows for run.py's table, on the generated project ``root``
    (and, with ``typed``, on its type-repaired twin); the full comparison goes to
    WORK/sqlmesh_compare.json."""
    size = len(list((root / "models").rglob("*.sql")))
    results = [compare_project(root, checker_python, work, f"gen{size}")]
    if typed:
        twin = typed_project(work, size)
        results.append(compare_project(twin, checker_python, work, f"typed{size}"))
    (work / "sqlmesh_compare.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    return [row for result in results for row in rows_of(result)]


def recompare(work: Path) -> list[dict[str, Any]]:
    """Recompute every comparison from the raw outputs kept in WORK/sqlmesh_compare.json
    (no SQLMesh, no checker run): for changing the classes without a 30-minute rerun."""
    path = work / "sqlmesh_compare.json"
    results: list[dict[str, Any]] = json.loads(path.read_text())
    for result in results:
        for name, case in result["cases"].items():
            result["cases"][name] = {
                "raw": case["raw"],
                **comparison(case["raw"], result["fails_at_base"]),
            }
    path.write_text(json.dumps(results, indent=1, sort_keys=True))
    return results


def print_disagreements(results: list[dict[str, Any]], examples: int = 10) -> None:
    for result in results:
        print(f"\n## {result['label']} ({result['project']})")
        base = result["fails_at_base"]
        print(
            f"DuckDB fails to create {len(base['strict'])} of {result['models']} views at base "
            f"({len(base['lenient'])} with lenient casting)"
        )
        for name, case in result["cases"].items():
            print(f"\n### {name}: {summary_counts(case)}")
            for reason, models in sorted(case["disagreements"].items()):
                shown = ", ".join(models[:examples]) + (" …" if len(models) > examples else "")
                print(f"- {len(models)} × {reason}: {shown}")
            for claim, models in sorted(case["checker_vs_duckdb"].items()):
                shown = ", ".join(models[:examples]) + (" …" if len(models) > examples else "")
                print(f"- DuckDB check: {len(models)} × {claim}: {shown}")
            missed = case["lenient_missed_by_checker"]
            if missed:
                strict = sum(m in base["strict"] for m in missed)
                print(
                    f"- fail with lenient DuckDB casting at head only, not flagged by "
                    f"impact-check ({strict} of {len(missed)} already fail at base with "
                    f"DuckDB's own typing, which impact-check follows): {', '.join(missed)}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", help="work directory (kept: venv, projects)")
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--checker-python", default=sys.executable)
    parser.add_argument("--no-typed", action="store_true", help="skip the type-repaired twin")
    parser.add_argument(
        "--recompare", action="store_true", help="recompute from WORK/sqlmesh_compare.json"
    )
    parser.add_argument("--driver", help=argparse.SUPPRESS)  # inside venv-sqlmesh
    args = parser.parse_args()
    if args.driver:
        return driver(Path(args.driver))
    if not args.work:
        parser.error("--work is required")
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.recompare:
        results = recompare(work)
        print_rows([row for result in results for row in rows_of(result)], value="value")
    else:
        root = generated_project(work, args.size)
        rows = sqlmesh_rows(work, root, Path(args.checker_python), not args.no_typed)
        print_rows(rows, value="value")
        results = json.loads((work / "sqlmesh_compare.json").read_text())
    print_disagreements(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
