"""Cold builds on several processes: forked workers, chunked, results as plain values.

Workers are forked (they inherit the parsed trees and the schema so far, nothing is sent
but an index); where ``fork`` is not available the build stays in one process. Below
``MIN_PARALLEL`` tasks the pool's start-up costs more than it saves.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

MIN_PARALLEL = 120  # tasks in one dependency wave
CHUNK = 25
_TASK: Callable[[int], Any] | None = None


def workers() -> int:
    """How many processes a cold build may use (``IMPACT_CHECK_WORKERS`` overrides)."""
    import multiprocessing  # imported here: only a batch big enough to fork asks (run)

    configured = os.environ.get("IMPACT_CHECK_WORKERS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:  # pragma: no cover - macOS
        return max(1, min(os.cpu_count() or 1, 8))


def _call(index: int) -> Any:
    assert _TASK is not None
    return _TASK(index)


def run(count: int, task: Callable[[int], Any]) -> list[Any]:
    """``[task(0), …, task(count - 1)]``, on forked workers when it pays."""
    global _TASK
    if count < MIN_PARALLEL or (processes := workers()) < 2:
        return [task(i) for i in range(count)]
    import multiprocessing  # imported here: a warm run's few tasks never fork

    _TASK = task
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(processes, max(2, count // CHUNK))) as pool:
            return list(pool.imap(_call, range(count), chunksize=CHUNK))
    finally:
        _TASK = None


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic GC during a batch: sqlglot trees are cyclic and the collector would walk
    them over and over (13–24% of the CPU time). Garbage is collected by ``collect_young``
    along the way. At the end the survivors (the catalog) are frozen: re-enabled with that
    backlog, the collector's next full pass would walk them all once more (about a second
    at 500 models) to find nothing. A long-lived caller may ``gc.unfreeze()`` later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        collect_young()
        gc.freeze()
        if enabled:
            gc.enable()


def collect_young() -> None:
    """Free the cyclic garbage of the last models without walking older objects twice."""
    global _SINCE_COLLECT
    _SINCE_COLLECT = 0
    if not gc.isenabled():
        gc.collect(0)


COLLECT_EVERY = 50  # models of work between collections while the GC is paused
_SINCE_COLLECT = 0


def tick() -> None:
    """Count one model's work (parsed or traced); every ``COLLECT_EVERY`` free the cyclic
    garbage made since (a parse or qualify leaves about 100 KB of it per model: without
    this a 5,000-model build would hold gigabytes of dead trees until the end)."""
    global _SINCE_COLLECT
    _SINCE_COLLECT += 1
    if _SINCE_COLLECT >= COLLECT_EVERY:
        collect_young()
