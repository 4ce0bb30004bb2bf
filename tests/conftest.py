"""Shared pytest set-up: markers and the throwaway PostgreSQL server."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "truth: execution-truth scenarios (DuckDB/PostgreSQL)")
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by a fixture)")
    config.addinivalue_line("markers", "dbt: runs real dbt (its own venv, installed by .ci/run)")
    config.addinivalue_line("markers", "slow: runs for more than a few seconds")


@pytest.fixture(autouse=True)
def _thaw_frozen_objects() -> Iterator[None]:
    """A check freezes what it built (project/parallel.py); a test session runs hundreds,
    so let the collector reclaim each one's garbage afterwards."""
    import gc

    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A running throwaway PostgreSQL server (skipped only outside CI when not installed)."""
    import os

    from tests.truth.postgres import bin_dir, postgres_server

    bindir = bin_dir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it from Debian")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with postgres_server(bindir) as dsn:
        yield dsn


def _figures_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".pytest_cache" / "impact-check-figures"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or a plain run)
        shutil.rmtree(_figures_dir(session.config), ignore_errors=True)
        shutil.rmtree(_badinput_dir(session.config), ignore_errors=True)


def _badinput_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".pytest_cache" / "impact-check-badinput"


@pytest.fixture
def record_badinput(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Keep one handled bad-input case (kind, outcome) for the summary (works under xdist)."""

    def record(case: Any, outcome: str) -> None:
        import json

        folder = _badinput_dir(request.config)
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"kind": case.kind, "case": case.name, "outcome": outcome}
        (folder / f"{case.kind}__{case.name}.json").write_text(json.dumps(entry))

    return record


@pytest.fixture
def record_figure(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Keep a measured figure for the end-of-run summary (works under pytest-xdist)."""

    def record(name: str, line: str) -> None:
        folder = _figures_dir(request.config)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.txt").write_text(line + "\n")

    return record


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    _badinput_summary(terminalreporter, config)
    folder = _figures_dir(config)
    if hasattr(config, "workerinput") or not folder.is_dir():
        return
    terminalreporter.section("impact-check figures")
    for path in sorted(folder.glob("*.txt")):
        terminalreporter.write_line(path.read_text().strip())


def _badinput_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Bad-input cases handled per input kind (recorded by ``record_badinput``)."""
    import json
    from collections import Counter

    folder = _badinput_dir(config)
    if hasattr(config, "workerinput") or not folder.is_dir():
        return
    entries = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    failed = [r for r in terminalreporter.stats.get("failed", []) if "badinput" in r.nodeid]
    terminalreporter.section("impact-check bad-input corpus")
    for kind, total in sorted(Counter(e["kind"] for e in entries).items()):
        outcomes = Counter(e["outcome"] for e in entries if e["kind"] == kind)
        detail = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        terminalreporter.write_line(f"bad input {kind}: {total} cases handled ({detail})")
    terminalreporter.write_line(
        f"bad input total: {len(entries)} cases handled as stated; {len(failed)} not "
        "(a crash, hang, silent pass or other outcome fails its test)"
    )
