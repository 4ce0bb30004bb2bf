"""The bad-input corpus: per-kind counts printed in the test summary (also under xdist)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def _folder(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".pytest_cache" / "impact-check-badinput"


@pytest.fixture
def record_badinput(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Keep one handled case (kind, outcome) for the summary; files survive xdist workers."""

    def record(case: Any, outcome: str) -> None:
        folder = _folder(request.config)
        folder.mkdir(parents=True, exist_ok=True)
        entry = {"kind": case.kind, "case": case.name, "outcome": outcome}
        (folder / f"{case.kind}__{case.name}.json").write_text(json.dumps(entry))

    return record


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        import shutil

        shutil.rmtree(_folder(session.config), ignore_errors=True)


def badinput_summary(config: pytest.Config) -> list[str]:
    """Lines: handled cases per input kind and outcome."""
    folder = _folder(config)
    if not folder.is_dir():
        return []
    entries = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    per_kind = Counter(e["kind"] for e in entries)
    lines = []
    for kind in sorted(per_kind):
        outcomes = Counter(e["outcome"] for e in entries if e["kind"] == kind)
        detail = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
        lines.append(f"bad input {kind}: {per_kind[kind]} cases handled ({detail})")
    lines.append(f"bad input total: {len(entries)} cases handled as stated")
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    lines = badinput_summary(config)
    failed = [r for r in terminalreporter.stats.get("failed", []) if "badinput" in r.nodeid]
    if lines:
        lines[-1] += (
            f"; {len(failed)} not (a crash, hang, silent pass or other outcome fails its test)"
        )
        terminalreporter.section("impact-check bad-input corpus")
        for line in lines:
            terminalreporter.write_line(line)
