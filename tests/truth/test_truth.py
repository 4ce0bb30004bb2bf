"""Execution truth: the checker's "breaks" verdicts against real DuckDB and PostgreSQL builds.

For each generated scenario, base and head are built from scratch on empty databases; the
derived datasets that fail at head but not at base are the truth. The checker runs on a real
git repository holding the same files. Precision and recall must both be 1.0.

CI runs a sample; the full runs are::

    IMPACT_CHECK_TRUTH_SCENARIOS=2000 IMPACT_CHECK_TRUTH_PG_SCENARIOS=500 \
        python -m pytest tests/truth -q -s
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gitrepo import GitRepo, broken_nodes

from tests.truth.build import DuckDBBackend, PostgresBackend, truth
from tests.truth.warehouse_gen import Scenario, generate

DUCKDB_SCENARIOS = int(os.environ.get("IMPACT_CHECK_TRUTH_SCENARIOS", "300"))
PG_SCENARIOS = int(os.environ.get("IMPACT_CHECK_TRUTH_PG_SCENARIOS", "150"))


@dataclass
class Tally:
    """Confusion counts over scenarios, per change kind too."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    scenarios: int = 0
    with_breaks: int = 0
    base_broken: int = 0
    false_failures: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        scenario: Scenario,
        seed: int,
        claimed: set[str],
        actual: set[str],
        base_broken: set[str],
    ) -> None:
        self.scenarios += 1
        self.base_broken += bool(base_broken)
        self.with_breaks += bool(actual)
        self.kinds.update(scenario.kinds)
        self.tp += len(claimed & actual)
        self.fp += len(claimed - actual)
        self.fn += len(actual - claimed)
        if claimed != actual:
            self.misses.append(
                f"seed {seed} ({scenario.description}): claimed {sorted(claimed)}, "
                f"truth {sorted(actual)}"
            )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def summary(self, engine: str) -> str:
        return (
            f"{engine}: {self.scenarios} scenarios ({self.with_breaks} with breaks, "
            f"{len(self.false_failures)} failed without a break), {self.tp} broken consumers "
            f"found, precision {self.precision:.3f}, recall {self.recall:.3f}; "
            f"kinds {dict(sorted(self.kinds.items()))}"
        )


def checker_verdict(root: Path, scenario: Scenario, dialect: str) -> tuple[set[str], bool]:
    """Commit base on main and head on a branch; return what the checker says breaks."""
    repo = GitRepo(root)
    repo.commit(dict(scenario.base), "base")
    repo.git("checkout", "-q", "-b", "feature")
    paths = set(scenario.base) | set(scenario.head)
    repo.commit({p: scenario.head.get(p) for p in paths}, "head")
    _code, report = repo.report("--base", "main", "--head", "feature", "--dialect", dialect)
    return broken_nodes(report), bool(report["summary"]["failed"])


def _run(tmp_path: Path, backend: object, dialect: str, count: int, seed0: int) -> Tally:
    tally = Tally()
    for seed in range(seed0, seed0 + count):
        scenario = generate(seed, dialect)
        base_broken, head_broken = truth(scenario, backend)
        actual = head_broken - base_broken
        claimed, failed = checker_verdict(tmp_path / f"s{seed}", scenario, dialect)
        tally.add(scenario, seed, claimed, actual, base_broken)
        if failed and not actual:  # a red build must always be worth reading
            tally.false_failures.append(f"seed {seed} ({scenario.description})")
    return tally


@pytest.mark.truth
def test_duckdb_truth(tmp_path: Path, record_figure: Callable[[str, str], None]) -> None:
    tally = _run(tmp_path, DuckDBBackend(), "duckdb", DUCKDB_SCENARIOS, 0)
    record_figure("truth-duckdb", tally.summary("truth duckdb"))
    assert not tally.misses, "\n".join(tally.misses[:20])
    assert tally.precision == 1.0 and tally.recall == 1.0
    assert tally.base_broken == 0  # every generated base builds: the truth is meaningful
    assert not tally.false_failures, tally.false_failures[:20]
    assert tally.with_breaks >= tally.scenarios // 4  # the generator really breaks things


@pytest.mark.truth
@pytest.mark.postgres
def test_postgres_truth(
    tmp_path: Path, postgres_dsn: str, record_figure: Callable[[str, str], None]
) -> None:
    tally = _run(tmp_path, PostgresBackend(postgres_dsn), "postgres", PG_SCENARIOS, 100_000)
    record_figure("truth-postgres", tally.summary("truth postgres"))
    assert not tally.misses, "\n".join(tally.misses[:20])
    assert tally.precision == 1.0 and tally.recall == 1.0
    assert tally.base_broken == 0
    assert not tally.false_failures, tally.false_failures[:20]
