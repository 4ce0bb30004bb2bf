"""Execution truth on a generated dbt project of 227 models (tests/dbt/dbt_gen.py).

Base: real ``dbt seed && dbt run`` on DuckDB (all models build). Each batch applies one
mutation per domain (domains share nothing but the union models), then runs what a
production deploy would run next on the base warehouse: ``dbt seed --full-refresh`` of
changed seeds and ``dbt run -s state:modified+ --state <base>``. Models that error or that
dbt skips because of them are the truth for "breaks" (tests are not run: a test failure is
not a break). A mutation that makes dbt refuse the whole project (a ref to a deleted or
disabled model) is run in its own batch: each model dbt names as unresolvable is broken,
is removed and dbt is run again, until it runs.

The checker runs on the git diff of a real repository twice: with the base run's
``manifest.json`` configured as ``dbt: {manifest: ...}`` and without one (Jinja rendering).
CI runs every mutation kind once (two batches); the full loop is::

    IMPACT_CHECK_DBT_GEN_MUTATIONS=64 \\
        python -m pytest tests/dbt/test_generated_truth.py -q -p no:xdist
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dbt_gen import MUTATIONS, REFUSING, Files, domain, generate, model_count
from gitrepo import GitRepo, broken_nodes
from test_dbt_truth import dbt_bin

DOMAINS = 14
COUNT = int(os.environ.get("IMPACT_CHECK_DBT_GEN_MUTATIONS", str(len(MUTATIONS))))
# dbt names one unresolvable model per attempt, in one of these two forms.
UNRESOLVED = re.compile(
    r"'model\.gen\.(\w+)'(?: \([^)]+\))? depends on (?:a node named|'model\.gen\.\w+' which is not)"
)


def _write(root: Path, files: Files) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _dbt(workdir: Path, *args: str) -> str:
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(workdir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [dbt_bin(), *args, "--quiet"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.stdout + proc.stderr


def _failed(workdir: Path) -> set[str]:
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].split(".")[-1]
        for r in results
        if r["unique_id"].startswith("model.") and r["status"] in ("error", "skipped")
    }


def build_base(files: Files, workdir: Path) -> Path:
    """Seed and run the base project; its target/ is kept as the state of the next run."""
    _write(workdir, files)
    _dbt(workdir, "seed")
    _dbt(workdir, "run")
    assert _failed(workdir) == set(), "the generated project must build at base"
    state = workdir.parent / "base-state"
    shutil.copytree(workdir / "target", state)
    return state


def dbt_truth(base: Files, head: Files, base_dir: Path, state: Path, workdir: Path) -> set[str]:
    """The models that fail (or are skipped) in the next production run of ``head``."""
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(base_dir, workdir)
    for gone in set(base) - set(head):
        (workdir / gone).unlink()
    _write(workdir, {p: t for p, t in head.items() if base.get(p) != t})
    seeds = [Path(p).stem for p in head if p.startswith("seeds/") and base.get(p) != head[p]]
    if seeds:
        _dbt(workdir, "seed", "--full-refresh", "-s", *seeds)
    refused: set[str] = set()
    while True:
        output = _dbt(workdir, "run", "-s", "state:modified+", "--state", str(state))
        hit = UNRESOLVED.search(output)
        if hit is None:
            assert "Encountered an error" not in output, output
            return refused | (_failed(workdir) if (workdir / "target").exists() else set())
        refused.add(hit.group(1))
        (path,) = [p for p in head if p.endswith(f"/{hit.group(1)}.sql")]
        (workdir / path).unlink()  # dbt cannot build it: find who else it refuses


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, label: str, claimed: set[str], truth: set[str]) -> None:
        self.tp += len(claimed & truth)
        self.fp += len(claimed - truth)
        self.fn += len(truth - claimed)
        if claimed != truth:
            self.misses.append(
                f"{label}: extra {sorted(claimed - truth)}, missed {sorted(truth - claimed)}"
            )

    def figures(self) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return f"precision {precision:.3f}, recall {recall:.3f} ({self.tp} broken models found)"


def batches(count: int) -> list[list[tuple[str, str]]]:
    """Lists of (mutation kind, domain): every kind once first, then random ones."""
    rng = random.Random(20261202)
    kinds = list(MUTATIONS)
    chosen = (kinds * (count // len(kinds) + 1))[:count]
    if count > len(kinds):
        chosen = kinds + [rng.choice(kinds) for _ in range(count - len(kinds))]
    out: list[list[tuple[str, str]]] = []
    for refusing in (False, True):
        group = [k for k in chosen if (k in REFUSING) == refusing]
        for start in range(0, len(group), DOMAINS):
            order = rng.sample(range(DOMAINS), DOMAINS)
            part = group[start : start + DOMAINS]
            out.append([(kind, domain(order[i])) for i, kind in enumerate(part)])
    return out


def checker_claims(repo: GitRepo, *config: str) -> set[str]:
    _code, report = repo.report("--base", "main", "--head", "feature", *config)
    return {n.rsplit(".", 1)[-1] for n in broken_nodes(report) if not n.startswith("dbt:")}


def _by_domain(names: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name in names:
        found = re.search(r"_(d\d\d)_|^(xgrp_\d+)", name)
        key = (found.group(1) or found.group(2)) if found else name
        out.setdefault(key, set()).add(name)
    return out


@pytest.mark.dbt
@pytest.mark.slow
def test_generated_project_matches_dbt_run(
    tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    base = generate(DOMAINS)
    assert model_count(base) >= 200
    base_dir = tmp_path / "base"
    state = build_base(base, base_dir)
    manifest_config = tmp_path / "with-manifest.yml"
    manifest_config.write_text(f"dbt:\n  manifest: {state / 'manifest.json'}\n")
    rendered, manifest = Tally(), Tally()
    plan = batches(COUNT)
    for index, batch in enumerate(plan):
        head = dict(base)
        for kind, d in batch:
            MUTATIONS[kind](head, d)
        truth = dbt_truth(base, head, base_dir, state, tmp_path / "head")
        repo = GitRepo(tmp_path / f"repo{index}")
        repo.commit(dict(base), "base")
        repo.git("checkout", "-q", "-b", "feature")
        repo.commit({p: head.get(p) for p in set(base) | set(head)}, "mutations")
        labels = {d: kind for kind, d in batch}
        for tally, args in ((rendered, ()), (manifest, ("--config", str(manifest_config)))):
            claimed = _by_domain(checker_claims(repo, *args))
            expected = _by_domain(truth)
            for key in sorted(set(claimed) | set(expected)):
                label = f"{'manifest' if args else 'rendered'} {key} ({labels.get(key, '-')})"
                tally.add(label, claimed.get(key, set()), expected.get(key, set()))
    summary = (
        f"dbt generated project ({model_count(base)} models): {COUNT} mutations in "
        f"{len(plan)} dbt runs; without manifest {rendered.figures()}; "
        f"with manifest {manifest.figures()}"
    )
    record_figure("dbt-generated", summary)
    misses = rendered.misses + manifest.misses
    print(summary, *misses, sep="\n")
    assert not misses, "\n".join(misses)
