#!/usr/bin/env python3
"""Coverage of real repositories as a CI job sees it: one ``impact-check check --base
HEAD~1 --head HEAD --format json`` per repository, then the report's coverage section —
models and views analysed of those defined, per project, and the reasons for the rest,
grouped (the before → after figures in docs/reliability.md).

Each REPO (a work tree or a bare git directory, never modified) is cloned privately, its
missing blobs stood in for as ``benchmarks/replay.py`` does, and checked out at its newest
commit. ``--dbt-packages DIR…`` copies the given package folders into every dbt project's
``dbt_packages/`` of the clone before the check, as ``dbt deps`` would in CI (a DIR may be
a git directory, checked out at ``DIR@REV`` or its newest commit; ``NAME=DIR`` names
the folder, else the package's project name does).

Usage: python benchmarks/coverage.py [NAME=]REPO [...] [--dbt-packages [NAME=]DIR ...]
                                     [--list] [--top N] [--checker CMD] [--json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import replay  # a sibling script, not a package

TOP_REASONS = 8


def reason_kind(reason: str) -> str:
    """A reason without its specifics (the report's own grouping, when installed)."""
    try:
        from impact_check.report.coverage import reason_kind as kind
    except ImportError:  # measuring another build: group by the text before the colon
        return reason.partition(": ")[0]
    return kind(reason)


def measure(
    name: str,
    source: Path,
    checker: list[str],
    packages: list[str],
    timeout: float,
    scratch: Path,
) -> dict[str, Any]:
    """The check of HEAD~1..HEAD in a private clone: exit code, seconds, coverage."""
    work = replay.clone(source, scratch / name)
    replay.replace_missing_blobs(work, "HEAD")
    replay.checkout(work, "HEAD", set())
    installed = [replay.package_tree(spec, scratch) for spec in packages]
    replay.install_packages(work, installed)
    commit = replay.git(work, "rev-parse", "HEAD").strip()
    code, seconds, stdout, stderr = replay.run_check(
        work, checker, f"{commit}~1", commit, timeout, no_cache=True
    )
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        report = {}
    return {
        "name": name,
        "commit": commit[:10],
        "exit": code,
        "seconds": round(seconds, 1),
        "packages": [n for n, _ in installed],
        "coverage": report.get("coverage"),
        "rules": dict(Counter(f.get("rule", "") for f in report.get("findings", []))),
        "stderr": stderr.strip()[-replay.STDERR_KEPT :] if not report else "",
    }


def print_result(result: dict[str, Any], top: int, listing: bool) -> None:
    """Per repository and project: analysed of defined, then the commonest reasons."""
    coverage = result["coverage"]
    packages = f", packages: {' '.join(result['packages'])}" if result["packages"] else ""
    head = (
        f"{result['name']} @ {result['commit']} "
        f"(exit {result['exit']}, {result['seconds']} s{packages})"
    )
    if not coverage:
        print(f"{head}: no coverage in the report\n  {result['stderr']}")
        return
    share = coverage["analysed"] / coverage["defined"] if coverage["defined"] else 1.0
    print(f"{head}: {coverage['analysed']} of {coverage['defined']} analysed ({share:.1%})")
    left = coverage.get("not_analysed", [])
    names = {p["root"]: p["name"] for p in coverage["projects"] if p["name"]}
    for project in coverage["projects"]:
        if not project["defined"]:
            continue
        share = project["analysed"] / project["defined"]
        dialect = f", {project['dialect']}" if project.get("dialect") else ""
        print(
            f"  {project['name'] or '(SQL files)'} ({project['root'] or './'}): "
            f"{project['analysed']} of {project['defined']} ({share:.1%}){dialect}"
        )
        mine = [e for e in left if e.get("project", "") == names.get(project["root"], "")]
        for kind, count in Counter(reason_kind(e["reason"] or "") for e in mine).most_common(top):
            print(f"    {count:5d}  {kind[:160]}")
        if listing:
            for entry in mine:
                print(f"           {entry['file']}: {entry['reason']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("repos", nargs="+", metavar="[NAME=]REPO")
    parser.add_argument(
        "--dbt-packages",
        nargs="*",
        default=[],
        metavar="[NAME=]DIR[@REV]",
        help="installed as dbt deps",
    )
    parser.add_argument("--checker", help="command to run (default: the installed impact-check)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per check")
    parser.add_argument("--top", type=int, default=TOP_REASONS, help="reasons shown per project")
    parser.add_argument("--list", action="store_true", help="name every model left out")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    checker = shlex.split(args.checker) if args.checker else replay.default_checker()
    results = []
    with tempfile.TemporaryDirectory(prefix="impact-check-coverage-") as scratch:
        for spec in args.repos:
            name, source = replay.repo_name(spec)
            result = measure(name, source, checker, args.dbt_packages, args.timeout, Path(scratch))
            print_result(result, args.top, args.list)
            sys.stdout.flush()
            results.append(result)
            shutil.rmtree(Path(scratch) / name, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
