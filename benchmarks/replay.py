#!/usr/bin/env python3
"""Replay a repository's history through the checker, one commit at a time (issue 14).

For each repository given, the last N first-parent commits that touch SQL, YAML or schema
files are checked the way a CI job on that commit would check them:
``impact-check check --base C~1 --head C --format json`` in a clone whose work tree is at C.
Every JSON report is saved under ``--out`` so a verdict can be read again, and a summary is
printed per repository: commits, exit codes, the failing commits with their error findings,
analysis-limit (AN9xx) findings per commit, seconds per commit, and coverage when the report
carries it.

    python benchmarks/replay.py REPO [REPO ...] -n 40 --out runs/   # replay, then summarise
    python benchmarks/replay.py --summary runs/                     # summarise saved runs
    python benchmarks/replay.py --summary runs/ --markdown          # the table for the docs

``--graph`` also saves the lineage graph at the newest replayed commit and prints how many of
each dbt project's model files it holds (coverage when reports carry none). Snapshots of
public repositories may lack their largest files: an empty blob stands in for each missing
one (``git replace``, the same at base and head) unless ``--keep-missing`` is given.
``--dbt-packages DIR[@REV] …`` copies packages into every dbt project's ``dbt_packages/``
before each check, as the ``dbt deps`` step of a CI job would (a git directory is checked
out at REV, a release tag, else at its newest commit).

A REPO is a directory with a work tree or a bare git directory; it is never modified: it is
cloned (``git clone --no-hardlinks``) into a temporary directory first. ``NAME=PATH`` names
the repository in the output (default: derived from the path). The checker runs as a
subprocess (``--checker``, default the installed ``impact-check``), so any build can be
measured. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

# What "touches SQL/YAML/schema files" means by default (fnmatch on the path; ``*`` also
# matches ``/``): the files the checker reads.
DEFAULT_PATHS = (
    "*.sql",
    "*.yml",
    "*.yaml",
    "*sqitch.plan",
    "*atlas.sum",
    "*.prisma",
    "*.avsc",
    "*.proto",
)
# Files that match the patterns above but carry no schema: lockfiles, CI and tool config.
# A commit touching only these is not selected (``--exclude`` replaces this list).
DEFAULT_EXCLUDES = (
    "*lock.yaml",
    "*lock.yml",
    "*.lock",
    ".github/*",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "*docker-compose*.yml",
    "*docker-compose*.yaml",
    ".circleci/*",
    "*.sqlfluff",
    ".yamllint*",
    "*dependabot.yml",
    "*renovate.json",
)
RUNS_FILE = "runs.jsonl"
META_FILE = "meta.json"
GRAPH_FILE = "graph-head.json"
TIMEOUT_EXIT = -1
STDERR_KEPT = 4000
FIRST_CONSUMERS = 3
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
# The relation kinds that count as "a model or view the repository defines" in the graph.
RELATION_KINDS = frozenset(
    {"table", "view", "materialized_view", "model", "seed", "snapshot", "source"}
)


@dataclass
class CommitRun:
    """One check of one commit: what ran, how it ended, where its report is."""

    commit: str
    parent: str
    subject: str
    date: str
    files: int
    exit: int
    seconds: float
    report: str | None
    stderr: str = ""


@dataclass
class RepoSummary:
    """The figures printed for one repository."""

    name: str
    commits: int
    exits: dict[str, int]
    failing: list[dict[str, Any]] = field(default_factory=list)
    crashes: list[dict[str, Any]] = field(default_factory=list)
    an_median: float = 0.0
    an_max: int = 0
    findings_median: float = 0.0
    findings_max: int = 0
    report_bytes_max: int = 0
    seconds_median: float = 0.0
    seconds_max: float = 0.0
    coverage: list[dict[str, Any]] = field(default_factory=list)
    head_graph: dict[str, Any] | None = None
    checker: str = ""


# -- git --------------------------------------------------------------------------------


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git in ``root`` and return its stdout."""
    proc = subprocess.run(
        ["git", *args],
        cwd=root,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} in {root}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def clone(source: Path, dest: Path) -> Path:
    """A private clone of ``source`` (a work tree or a bare git dir) with a work tree."""
    subprocess.run(
        ["git", "clone", "--no-hardlinks", "--no-checkout", "-q", str(source), str(dest)],
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
    )
    # The checker's cache lives in the work tree; keep it out of `git status`.
    exclude = dest / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a") as handle:
        handle.write("\n.impact-check/\n")
    return dest


def replace_missing_blobs(work: Path, rev: str) -> list[str]:
    """Stand an empty blob in for every blob ``rev``'s history lacks (``git replace``).

    Snapshots of public repositories can lack their largest files or their Git LFS
    content; a CI clone has them. Replacing each missing blob by an empty one lets the
    checkout and the checker read every commit, the same empty text at base and at head
    (so a large file never shows as changed). Returns the missing blob ids."""
    listing = git(work, "rev-list", "--objects", "--missing=print", rev)
    missing = [line[1:].split()[0] for line in listing.splitlines() if line.startswith("?")]
    if not missing:
        return []
    empty = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=work,
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    updates = "".join(f"update refs/replace/{sha} {empty}\n" for sha in missing)
    subprocess.run(
        ["git", "update-ref", "--stdin"],
        cwd=work,
        input=updates,
        capture_output=True,
        text=True,
        check=True,
    )
    return missing


MISSING_BLOB = re.compile(r"unable to read sha1 file of (.+) \([0-9a-f]+\)")


def checkout(work: Path, rev: str, excluded: set[str]) -> None:
    """Put the work tree at ``rev``. A snapshot can lack some blobs (large files, LFS):
    those paths are left out of the work tree (sparse checkout) instead of failing, and
    stay excluded for later commits (``excluded`` collects them)."""
    for _ in range(20):
        proc = subprocess.run(
            ["git", "checkout", "-q", "--force", "--detach", rev],
            cwd=work,
            env={**os.environ, **GIT_ENV},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return
        missing = set(MISSING_BLOB.findall(proc.stderr)) - excluded
        if not missing:
            raise RuntimeError(f"git checkout {rev} in {work}: {proc.stderr.strip()[-500:]}")
        excluded |= missing
        patterns = ["/*", *(f"!/{glob_escape(p)}" for p in sorted(excluded))]
        git(work, "sparse-checkout", "set", "--no-cone", *patterns)
    raise RuntimeError(f"git checkout {rev} in {work}: too many missing blobs")


def glob_escape(path: str) -> str:
    """A path as a literal gitignore-style pattern."""
    return re.sub(r"([*?\[\]!#\\])", r"\\\1", path)


def matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` matches a pattern (a pattern without ``/`` also matches the
    basename; ``*`` matches across ``/``)."""
    base = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(base, p) for p in patterns)


def touches(
    paths: Sequence[str], patterns: Sequence[str], excludes: Sequence[str] = ()
) -> list[str]:
    """The paths matching a pattern and no exclude."""
    return [p for p in paths if matches(p, patterns) and not matches(p, excludes)]


def select_commits(
    root: Path,
    count: int,
    since: str | None,
    patterns: Sequence[str],
    excludes: Sequence[str] = (),
    rev: str = "HEAD",
) -> list[tuple[str, str, str, str, int]]:
    """The newest ``count`` first-parent commits of ``rev`` whose diff against their first
    parent touches ``patterns``: (sha, parent, date, subject, files touched), oldest first.

    Merge commits are diffed against their first parent (what ``--base C~1`` compares);
    root commits have no parent and are skipped."""
    cmd = [
        "git",
        "log",
        "--first-parent",
        "--diff-merges=first-parent",
        "--name-only",
        # rename detection reads blobs; a snapshot can lack some, and names need only trees
        "--no-renames",
        "--format=%x00%H %P%x01%cI%x01%s",
        rev,
    ]
    if since:
        cmd.insert(2, f"--since={since}")
    proc = subprocess.Popen(
        cmd, cwd=root, env={**os.environ, **GIT_ENV}, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    chosen: list[tuple[str, str, str, str, int]] = []
    try:
        for header, names in _log_entries(proc.stdout):
            head, date, subject = header.split("\x01", 2)
            sha, *parents = head.split()
            if not parents:
                continue
            hit = touches(names, patterns, excludes)
            if hit:
                chosen.append((sha, parents[0], date, subject, len(hit)))
                if len(chosen) >= count:
                    break
    finally:
        proc.kill()
        proc.wait()
    return list(reversed(chosen))


def _log_entries(stream: Any) -> Iterator[tuple[str, list[str]]]:
    header: str | None = None
    names: list[str] = []
    for raw in stream:
        line = raw.rstrip("\n")
        if line.startswith("\x00"):
            if header is not None:
                yield header, names
            header, names = line[1:], []
        elif line and header is not None:
            names.append(line)
    if header is not None:
        yield header, names


# -- running ----------------------------------------------------------------------------


def default_checker() -> list[str]:
    """The installed ``impact-check`` (next to this interpreter first, then on PATH)."""
    beside = Path(sys.executable).with_name("impact-check")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("impact-check")
    return [found] if found else [sys.executable, "-m", "impact_check"]


def checker_version(checker: Sequence[str]) -> str:
    """What ``checker --version`` prints (or why it printed nothing)."""
    try:
        proc = subprocess.run([*checker, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return (proc.stdout or proc.stderr).strip()


def run_check(
    work: Path,
    checker: Sequence[str],
    parent: str,
    commit: str,
    timeout: float,
    no_cache: bool,
) -> tuple[int, float, str, str]:
    """(exit code or TIMEOUT_EXIT, seconds, stdout, stderr) of one check of ``commit``."""
    cmd = [*checker, "check", "--base", parent, "--head", commit, "--format", "json"]
    if no_cache:
        cmd.append("--no-cache")
    start = time.perf_counter()
    # its own process group, so a timeout also ends whatever the checker started
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, _ = proc.communicate()
        return TIMEOUT_EXIT, time.perf_counter() - start, stdout, f"timed out after {timeout:g} s"
    return proc.returncode, time.perf_counter() - start, stdout, stderr


# -- installed dbt packages ---------------------------------------------------------------


def package_tree(spec: str, scratch: Path) -> tuple[str, Path]:
    """(folder name, directory holding the package's files) for ``[NAME=]DIR[@REV]``; a
    git directory is checked out at REV (a release tag, as ``dbt deps`` picks), else at its
    newest commit."""
    name, _, path = spec.rpartition("=")
    path, _, rev = path.partition("@")
    source = Path(path).resolve()
    tree = source
    if not (source / "dbt_project.yml").exists():
        (scratch / "packages").mkdir(exist_ok=True)
        tree = scratch / "packages" / str(len(list((scratch / "packages").iterdir())))
        clone(source, tree)
        replace_missing_blobs(tree, rev or "HEAD")
        checkout(tree, rev or "HEAD", set())
    if not name:  # dbt deps names the folder after the package's project name
        project = yaml.safe_load((tree / "dbt_project.yml").read_text()) or {}
        name = str(project.get("name") or source.name)
    return name, tree


def dbt_projects(work: Path) -> list[Path]:
    """Folders of the clone holding a ``dbt_project.yml`` (installed packages excluded)."""
    found = []
    for path in sorted(work.rglob("dbt_project.yml")):
        parts = path.relative_to(work).parts
        if any(p in ("dbt_packages", "dbt_modules", ".git") for p in parts):
            continue
        found.append(path.parent)
    return found


def install_packages(work: Path, packages: Sequence[tuple[str, Path]]) -> None:
    """Copy each package into every project's ``dbt_packages/`` (what ``dbt deps`` does)."""
    for project in dbt_projects(work):
        for name, tree in packages:
            dest = project / "dbt_packages" / name
            if dest.exists():
                continue
            shutil.copytree(tree, dest, ignore=shutil.ignore_patterns(".git"))


def replay_repo(
    name: str,
    source: Path,
    out: Path,
    checker: Sequence[str],
    count: int,
    since: str | None,
    patterns: Sequence[str],
    excludes: Sequence[str],
    timeout: float,
    no_cache: bool,
    checkout_each: bool,
    head_graph: bool,
    label: str | None,
    fill_missing: bool = True,
    packages: Sequence[tuple[str, Path]] = (),
) -> Path:
    """Replay one repository into ``out/name``; returns that directory. ``packages``
    (name, files) are copied into every dbt project's ``dbt_packages/`` before each check,
    as a CI job's ``dbt deps`` would."""
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    (target / "reports").mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix=f"replay-{name}-") as tmp:
        work = clone(source, Path(tmp) / "repo")
        excluded: set[str] = set()
        replaced = replace_missing_blobs(work, "HEAD") if fill_missing else []
        commits = select_commits(work, count, since, patterns, excludes)
        meta = {
            "name": name,
            "source": str(source),
            "head": git(work, "rev-parse", "HEAD").strip(),
            "checker": list(checker),
            "checker_version": checker_version(checker),
            "label": label,
            "count": count,
            "since": since,
            "paths": list(patterns),
            "excludes": list(excludes),
            "timeout": timeout,
            "no_cache": no_cache,
            "checkout": checkout_each,
            "missing_blobs_replaced": len(replaced),
            "dbt_packages": [package for package, _ in packages],
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (target / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        print(f"{name}: {len(commits)} commits to replay", file=sys.stderr, flush=True)
        with (target / RUNS_FILE).open("w") as runs:
            for index, (sha, parent, date, subject, files) in enumerate(commits, 1):
                if checkout_each:
                    checkout(work, sha, excluded)
                install_packages(work, packages)
                code, seconds, stdout, stderr = run_check(
                    work, checker, parent, sha, timeout, no_cache
                )
                report_name: str | None = None
                if stdout.strip():
                    report_name = f"reports/{sha[:12]}.json"
                    (target / report_name).write_text(stdout)
                run = CommitRun(
                    commit=sha,
                    parent=parent,
                    subject=subject,
                    date=date,
                    files=files,
                    exit=code,
                    seconds=round(seconds, 3),
                    report=report_name,
                    stderr=stderr[-STDERR_KEPT:],
                )
                runs.write(json.dumps(asdict(run)) + "\n")
                runs.flush()
                print(
                    f"  [{index}/{len(commits)}] {sha[:10]} exit {code} "
                    f"{seconds:.1f}s {subject[:60]}",
                    file=sys.stderr,
                    flush=True,
                )
        if head_graph and commits:
            newest = commits[-1][0]
            checkout(work, newest, excluded)
            proc = subprocess.run(
                [*checker, "graph", "--format", "json", "--rev", newest],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            graph = {
                "commit": newest,
                "exit": proc.returncode,
                "stderr": proc.stderr[-STDERR_KEPT:],
                "sql_files": tracked_sql_files(work, newest),
                "dbt_models": dbt_model_files(work, newest),
            }
            (target / GRAPH_FILE).write_text(json.dumps(graph, indent=2) + "\n")
            if proc.stdout.strip():
                (target / "graph-head.graph.json").write_text(proc.stdout)
        meta["missing_blobs"] = sorted(excluded)
        meta["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (target / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return target


MODEL_PATHS = re.compile(r"^(?:model|source)-paths:\s*\[([^\]]*)\]", re.MULTILINE)


def dbt_model_files(work: Path, rev: str) -> dict[str, list[str]]:
    """The model files of every dbt project at ``rev`` (by project folder): ``.sql`` and
    ``.py`` files under its ``model-paths`` (default ``models``). Installed packages
    (``dbt_packages/``, ``dbt_modules/``) are not the repository's own."""
    names = git(work, "ls-tree", "-r", "--name-only", rev).splitlines()
    projects = sorted(
        n.rsplit("/", 1)[0] if "/" in n else ""
        for n in names
        if n.rsplit("/", 1)[-1] == "dbt_project.yml"
        and "dbt_packages/" not in n
        and "dbt_modules/" not in n
    )
    found: dict[str, list[str]] = {}
    for project in projects:
        prefix = f"{project}/" if project else ""
        text = git(work, "show", f"{rev}:{prefix}dbt_project.yml", check=False)
        match = MODEL_PATHS.search(text)
        folders = (
            [f.strip().strip("'\"") for f in match.group(1).split(",") if f.strip()]
            if match
            else ["models"]
        )
        roots = tuple(f"{prefix}{f.rstrip('/')}/" for f in folders)
        found[project or "."] = [
            n
            for n in names
            if n.startswith(roots)
            and n.endswith((".sql", ".py"))
            and not any(n.startswith(f"{q}/") for q in projects if q != project and q)
        ]
    return found


def tracked_sql_files(work: Path, rev: str) -> dict[str, int]:
    """SQL files at ``rev`` by top-level role: the denominator a reader compares coverage to
    (dbt models under a ``models`` folder, migrations, other)."""
    names = git(work, "ls-tree", "-r", "--name-only", rev).splitlines()
    counts: Counter[str] = Counter()
    for path in names:
        if not path.endswith(".sql"):
            continue
        parts = path.lower().split("/")
        if "models" in parts:
            counts["models"] += 1
        elif any("migration" in p or p in ("deploy", "revert", "verify") for p in parts):
            counts["migrations"] += 1
        elif "macros" in parts:
            counts["macros"] += 1
        elif "tests" in parts or "test" in parts:
            counts["tests"] += 1
        else:
            counts["other"] += 1
    return dict(counts)


# -- reading saved runs -----------------------------------------------------------------


def load_runs(directory: Path) -> list[CommitRun]:
    """The runs saved in one repository's output directory."""
    with (directory / RUNS_FILE).open() as handle:
        return [CommitRun(**json.loads(line)) for line in handle if line.strip()]


def load_report(directory: Path, run: CommitRun) -> dict[str, Any] | None:
    """The JSON report of one run, or None when it printed none (or not JSON)."""
    if run.report is None:
        return None
    try:
        data = json.loads((directory / run.report).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def exit_label(code: int) -> str:
    return "timeout" if code == TIMEOUT_EXIT else str(code)


def location_text(finding: dict[str, Any]) -> str:
    loc = finding.get("location") or {}
    file = loc.get("file") or "?"
    return f"{file}:{loc['line']}" if loc.get("line") else str(file)


def first_consumers(finding: dict[str, Any], limit: int = FIRST_CONSUMERS) -> list[str]:
    """The first consumers a finding says break (else the first impacted at all)."""
    impacted = finding.get("impacted") or []
    broken = [i for i in impacted if i.get("breaks")] or impacted
    names = []
    for item in broken[:limit]:
        node = item.get("node") or {}
        names.append(str(node.get("name") or node.get("id") or "?"))
    if len(broken) > limit:
        names.append(f"… {len(broken) - limit} more")
    return names


def is_analysis_limit(finding: dict[str, Any]) -> bool:
    return str(finding.get("rule", "")).startswith("AN9")


def coverage_of(report: dict[str, Any]) -> Any:
    """The report's coverage field, if this checker version writes one."""
    return report.get("coverage")


def summarise(directory: Path) -> RepoSummary:
    """The summary of one saved repository run."""
    meta = json.loads((directory / META_FILE).read_text())
    runs = load_runs(directory)
    exits = Counter(exit_label(r.exit) for r in runs)
    summary = RepoSummary(
        name=meta["name"],
        commits=len(runs),
        exits=dict(sorted(exits.items())),
        checker=str(meta.get("label") or meta.get("checker_version") or ""),
    )
    an_counts: list[int] = []
    finding_counts: list[int] = []
    sizes: list[int] = []
    for run in runs:
        report = load_report(directory, run)
        if report is None:
            if run.exit != 0:
                summary.crashes.append(
                    {
                        "commit": run.commit,
                        "exit": exit_label(run.exit),
                        "subject": run.subject,
                        "stderr": (run.stderr.strip().splitlines() or ["(no output)"])[-1],
                    }
                )
            continue
        findings = [f for f in report.get("findings", []) if isinstance(f, dict)]
        an_counts.append(sum(1 for f in findings if is_analysis_limit(f)))
        finding_counts.append(len(findings))
        if run.report:
            sizes.append((directory / run.report).stat().st_size)
        cov = coverage_of(report)
        if cov is not None:
            summary.coverage.append({"commit": run.commit, "coverage": cov})
        if run.exit == 1:
            errors = [
                {
                    "rule": f.get("rule"),
                    "location": location_text(f),
                    "message": f.get("message", ""),
                    "consumers": first_consumers(f),
                }
                for f in findings
                if f.get("severity") == "error" and not f.get("suppressed")
            ]
            summary.failing.append({"commit": run.commit, "subject": run.subject, "errors": errors})
        elif run.exit not in (0, 1):
            summary.crashes.append(
                {
                    "commit": run.commit,
                    "exit": exit_label(run.exit),
                    "subject": run.subject,
                    "stderr": (run.stderr.strip().splitlines() or ["(no output)"])[-1],
                }
            )
    seconds = [r.seconds for r in runs]
    if an_counts:
        summary.an_median = statistics.median(an_counts)
        summary.an_max = max(an_counts)
        summary.findings_median = statistics.median(finding_counts)
        summary.findings_max = max(finding_counts)
    if sizes:
        summary.report_bytes_max = max(sizes)
    if seconds:
        summary.seconds_median = round(statistics.median(seconds), 2)
        summary.seconds_max = round(max(seconds), 2)
    graph_file = directory / GRAPH_FILE
    if graph_file.exists():
        summary.head_graph = head_graph_figures(directory)
    return summary


def head_graph_figures(directory: Path) -> dict[str, Any]:
    """Relations and files the checker's graph holds at the newest replayed commit, beside
    the SQL files tracked there (a coverage estimate when reports carry no coverage)."""
    info = json.loads((directory / GRAPH_FILE).read_text())
    figures: dict[str, Any] = {"exit": info.get("exit"), "sql_files": info.get("sql_files")}
    graph_path = directory / "graph-head.graph.json"
    if graph_path.exists():
        try:
            graph = json.loads(graph_path.read_text())
        except json.JSONDecodeError:
            graph = {}
        nodes = graph.get("nodes", []) if isinstance(graph, dict) else []
        relations = [
            n
            for n in nodes
            if isinstance(n, dict) and n.get("kind") in RELATION_KINDS and not n.get("column")
        ]
        figures["relations"] = dict(Counter(str(n.get("kind")) for n in relations))
        files = {str(n.get("file")) for n in relations if n.get("file")}
        figures["relation_files"] = len(files)
        models = info.get("dbt_models") or {}
        if models:
            figures["dbt_models_analysed"] = {
                project: f"{len(files & set(paths))} of {len(paths)}"
                for project, paths in models.items()
            }
    return figures


# -- printing ---------------------------------------------------------------------------


def print_summary(summary: RepoSummary, out: Any = None) -> None:
    """The per-repository report a person reads (on ``out``, default stdout)."""
    out = out if out is not None else sys.stdout
    exits = ", ".join(f"{k}: {v}" for k, v in summary.exits.items())
    print(f"== {summary.name}  ({summary.checker})", file=out)
    print(f"commits {summary.commits}; exit codes {{{exits}}}", file=out)
    print(
        f"AN9xx findings per commit: median {summary.an_median:g}, max {summary.an_max}; "
        f"all findings: median {summary.findings_median:g}, max {summary.findings_max}; "
        f"largest report {summary.report_bytes_max:,} bytes",
        file=out,
    )
    print(
        f"seconds per commit: median {summary.seconds_median:g}, max {summary.seconds_max:g}",
        file=out,
    )
    if summary.coverage:
        newest = summary.coverage[-1]
        print(
            f"coverage (newest, {newest['commit'][:10]}): {json.dumps(newest['coverage'])}",
            file=out,
        )
    if summary.head_graph is not None:
        print(f"graph at newest commit: {json.dumps(summary.head_graph)}", file=out)
    for fail in summary.failing:
        print(f"  FAILED {fail['commit'][:10]} {fail['subject'][:80]}", file=out)
        for err in fail["errors"][:10]:
            consumers = ", ".join(err["consumers"]) or "-"
            message = err["message"].replace("\n", " ")[:200]
            print(f"    {err['rule']} {err['location']}: {message}", file=out)
            print(f"      consumers: {consumers}", file=out)
        if len(fail["errors"]) > 10:
            print(f"    … {len(fail['errors']) - 10} more errors", file=out)
    for crash in summary.crashes:
        print(
            f"  CRASH {crash['commit'][:10]} exit {crash['exit']}: {crash['stderr'][:200]}",
            file=out,
        )
    print(file=out)


MARKDOWN_HEADER = (
    "| repository | commits | exit 0 | exit 1 | exit 2 | timeouts "
    "| AN9xx median / max | seconds median / max |\n"
    "|---|---|---|---|---|---|---|---|"
)


def markdown_row(summary: RepoSummary) -> str:
    """One row of the docs table."""
    e = summary.exits
    return (
        f"| {summary.name} | {summary.commits} | {e.get('0', 0)} | {e.get('1', 0)} "
        f"| {e.get('2', 0)} | {e.get('timeout', 0)} | {summary.an_median:g} / {summary.an_max} "
        f"| {summary.seconds_median:g} / {summary.seconds_max:g} |"
    )


def saved_repos(directory: Path) -> list[Path]:
    """The repository run directories under ``directory`` (or ``directory`` itself)."""
    if (directory / RUNS_FILE).exists():
        return [directory]
    return sorted(p for p in directory.iterdir() if (p / RUNS_FILE).exists())


def print_all(directories: Sequence[Path], markdown: bool, as_json: bool) -> None:
    summaries = [summarise(d) for d in directories]
    if as_json:
        print(json.dumps([asdict(s) for s in summaries], indent=2))
        return
    if markdown:
        print(MARKDOWN_HEADER)
        for summary in summaries:
            print(markdown_row(summary))
        total = RepoSummary(
            name="**all**",
            commits=sum(s.commits for s in summaries),
            exits=dict(sum((Counter(s.exits) for s in summaries), Counter())),
        )
        print(
            f"| {total.name} | {total.commits} | {total.exits.get('0', 0)} "
            f"| {total.exits.get('1', 0)} | {total.exits.get('2', 0)} "
            f"| {total.exits.get('timeout', 0)} | | |"
        )
        return
    for summary in summaries:
        print_summary(summary)
    commits = sum(s.commits for s in summaries)
    exits = sum((Counter(s.exits) for s in summaries), Counter())
    print(f"TOTAL: {len(summaries)} repositories, {commits} commits, exit codes {dict(exits)}")


# -- command line -----------------------------------------------------------------------


def repo_name(spec: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH`` (named after the path: ``owner+name/repo`` -> ``owner+name``)."""
    if "=" in spec and not Path(spec).exists():
        name, _, given = spec.partition("=")
        return name, Path(given)
    path = Path(spec).resolve()
    stem = path.name
    if stem in ("repo", ".git") or stem.endswith(".git"):
        stem = path.parent.name if stem in ("repo", ".git") else stem[: -len(".git")]
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", stem), path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Replay repositories' recent history through impact-check.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("repos", nargs="*", metavar="[NAME=]REPO", help="git repositories")
    parser.add_argument("-n", type=int, default=30, help="commits per repository (default 30)")
    parser.add_argument("--since", help="only commits after this date (git --since)")
    parser.add_argument(
        "--paths",
        nargs="+",
        default=None,
        metavar="GLOB",
        help=f"what a commit must touch (default: {' '.join(DEFAULT_PATHS)})",
    )
    parser.add_argument(
        "--exclude",
        nargs="*",
        default=None,
        metavar="GLOB",
        help="files that do not count as touched (default: lockfiles, CI and tool config)",
    )
    parser.add_argument(
        "--checker",
        default=None,
        help="checker command, shell-quoted (default: the installed impact-check)",
    )
    parser.add_argument("--no-cache", action="store_true", help="pass --no-cache to each check")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per commit (default 600)"
    )
    parser.add_argument("--out", type=Path, help="directory for the reports (one folder per repo)")
    parser.add_argument(
        "--no-checkout",
        action="store_true",
        help="leave the work tree at the clone's HEAD instead of checking out each commit",
    )
    parser.add_argument(
        "--graph",
        action="store_true",
        help="also save `impact-check graph` at the newest replayed commit (coverage estimate)",
    )
    parser.add_argument(
        "--keep-missing",
        action="store_true",
        help="do not stand empty blobs in for blobs the repository lacks (see the docs)",
    )
    parser.add_argument("--label", help="recorded with the run, e.g. the checker's git commit")
    parser.add_argument(
        "--dbt-packages",
        nargs="*",
        default=[],
        metavar="[NAME=]DIR[@REV]",
        help="packages copied into each dbt project's dbt_packages/ before each check, as "
        "`dbt deps` would (a git directory is checked out at REV, else its newest commit)",
    )
    parser.add_argument(
        "--summary",
        type=Path,
        metavar="DIR",
        help="print the summary of saved runs in DIR (no replay)",
    )
    parser.add_argument("--markdown", action="store_true", help="summary as a Markdown table")
    parser.add_argument("--json", action="store_true", help="summary as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.summary is not None:
        directories = saved_repos(args.summary)
        if not directories:
            print(f"no saved runs under {args.summary}", file=sys.stderr)
            return 2
        print_all(directories, args.markdown, args.json)
        return 0
    if not args.repos or args.out is None:
        print("give repositories and --out (or --summary DIR)", file=sys.stderr)
        return 2
    checker = shlex.split(args.checker) if args.checker else default_checker()
    patterns = tuple(args.paths) if args.paths else DEFAULT_PATHS
    excludes = tuple(args.exclude) if args.exclude is not None else DEFAULT_EXCLUDES
    done: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="replay-packages-") as scratch:
        packages = [package_tree(spec, Path(scratch)) for spec in args.dbt_packages]
        for spec in args.repos:
            name, source = repo_name(spec)
            done.append(
                replay_repo(
                    name,
                    source,
                    args.out,
                    checker,
                    args.n,
                    args.since,
                    patterns,
                    excludes,
                    args.timeout,
                    args.no_cache,
                    not args.no_checkout,
                    args.graph,
                    args.label,
                    fill_missing=not args.keep_missing,
                    packages=packages,
                )
            )
    print_all(done, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `--summary DIR | head`: the reader left, nothing to report
        sys.stderr.close()
        sys.exit(0)
