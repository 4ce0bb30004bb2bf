#!/usr/bin/env python3
"""Coverage of dbt projects as the checker reads them: models defined, analysed, and every
model left out with its reason (the figures in docs/dbt.md).

Reads a checkout on disk (its files as they are, installed packages under
``dbt_packages/`` included, as CI has them after ``dbt deps``), builds the catalog the way
``impact-check check`` builds the head revision, and prints per dbt project: models defined,
analysed, the dialect and where it came from, then the reasons for the rest, grouped, and
(with ``--list``) each model left out.

Usage: python benchmarks/dbt_coverage.py CHECKOUT [CHECKOUT ...] [--dialect D] [--list]
                                          [--vars '{claims_enabled: true}']
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from impact_check import git
from impact_check.config import Config
from impact_check.coverage import coverage_of
from impact_check.model import FileContent, Snapshot
from impact_check.project.loader import load_catalog
from impact_check.report.coverage import reason_kind


def snapshot_of(root: Path) -> Snapshot:
    """The files the loaders read, from a directory (not from git: packages are ignored)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if ".git/" in relative + "/" or path.is_symlink() or not path.is_file():
            continue
        if git.wanted(relative):
            files[relative] = FileContent(relative, path.read_bytes())
    return Snapshot(files)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--dialect", help="as the configuration would set it (default: profile)")
    parser.add_argument("--list", action="store_true", help="name every model left out")
    parser.add_argument("--vars", default="{}", help="dbt vars as YAML, like --vars of check")
    args = parser.parse_args(argv)
    for root in args.checkouts:
        settings: dict[str, object] = {"cache": False, "dbt": {"vars": yaml.safe_load(args.vars)}}
        if args.dialect:
            settings["dialect"] = args.dialect
        config = Config.model_validate(settings)
        started = time.perf_counter()
        coverage = coverage_of(load_catalog(snapshot_of(root), config))
        seconds = time.perf_counter() - started
        print(f"{root.name}: {coverage.analysed} of {coverage.defined} analysed, {seconds:.0f} s")
        for project in coverage.projects:
            if not project.defined:
                continue
            share = project.analysed / project.defined
            origin = f" from {project.dialect_origin}" if project.dialect_origin else ""
            print(
                f"  {project.name or '(SQL files)'} ({project.root or './'}): "
                f"{project.analysed} of {project.defined} ({share:.1%}), "
                f"{project.dialect}{origin}"
            )
            root = project.root if project.name else None
            left = [e for e in coverage.not_analysed if e.project == root]
            for kind, count in Counter(reason_kind(e.reason or "") for e in left).most_common():
                print(f"    {count:4d}  {kind}")
            if args.list:
                for entry in left:
                    print(f"          {entry.location.file}: {entry.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
