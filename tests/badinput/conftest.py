"""The bad-input corpus: each handled case is recorded; tests/conftest.py prints the counts
per input kind in the test summary (the controller of an xdist run never loads this file)."""

from __future__ import annotations

import json
import sys
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
