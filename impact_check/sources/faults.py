"""Bookkeeping for sources that make many requests: which failed, and what that means.

A networked source (Marquez, DataHub) asks one question per touched dataset. One failed
question makes the fragment ``partial`` (the report says which URL failed, AN905); when
every question failed, nothing was read and the source raises SourceError (``failed``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from impact_check.errors import SourceError
from impact_check.sources.base import GraphFragment

T = TypeVar("T")

_SHOWN = 3  # messages quoted in the detail; the rest are counted


@dataclass
class Faults:
    """Failed requests (their one-line messages) and the number that succeeded."""

    messages: list[str] = field(default_factory=list)
    succeeded: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, call: Callable[[], T]) -> T | None:
        """``call()``, or None when it raised SourceError (recorded)."""
        try:
            result = call()
        except SourceError as err:
            self.add(str(err))
            return None
        with self._lock:
            self.succeeded += 1
        return result

    def add(self, message: str) -> None:
        with self._lock:
            if message not in self.messages:
                self.messages.append(message)

    def summary(self) -> str:
        shown = "; ".join(self.messages[:_SHOWN])
        more = len(self.messages) - _SHOWN
        return shown + (f"; and {more} more" if more > 0 else "")

    def finish(self, fragment: GraphFragment, client: Any = None) -> GraphFragment:
        """Set the fragment's status from what happened; raise when nothing was read."""
        if self.messages and not self.succeeded:
            raise SourceError(self.summary())
        if self.messages:
            fragment.status = "partial"
            fragment.detail = "; ".join(p for p in (fragment.detail, self.summary()) if p)
        elif client is not None and getattr(client, "served_from_cache", False):
            fragment.status = "cached"
            fragment.detail = "; ".join(
                p for p in (fragment.detail, "served from the cache of the last good answer") if p
            )
        return fragment
