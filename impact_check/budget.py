"""The wall-clock budget of one check (``--timeout`` / config ``timeout``).

The analysis asks the deadline between units of work (a file, a definition, a change, a
lineage source); once it has passed, the work still to do is skipped and the report says
it is partial instead of the check running on past the CI job's patience.
"""

from __future__ import annotations

import time


class BudgetExceeded(Exception):
    """Raised where skipping the rest is the only honest option (while reading a revision)."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


class Deadline:
    """A point in monotonic time, or none (no budget)."""

    def __init__(self, seconds: float | None, start: float | None = None) -> None:
        self.seconds = seconds
        begin = time.monotonic() if start is None else start
        self.at = None if seconds is None else begin + seconds
        self.hit: str | None = None  # the stage where the budget ran out

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def check(self, stage: str) -> None:
        """Raise BudgetExceeded when the budget is spent; remembers the first stage hit."""
        if self.expired():
            self.hit = self.hit or stage
            raise BudgetExceeded(stage)

    def note(self, stage: str) -> bool:
        """Whether the budget is spent (remembering the stage), without raising."""
        if self.expired():
            self.hit = self.hit or stage
            return True
        return False


NO_DEADLINE = Deadline(None)
