"""The cyclic garbage collector while the command line starts and exits (cli.main_entry).

Starting a check imports sqlglot, pydantic, PyYAML and the checker, and builds the
configuration's validators: about 60,000 long-lived objects and next to no garbage. With the
collector on, the young collections walk them as they are made and a full collection walks
them all (about 20 ms at start-up), and every later full collection walks them again (a warm
pre-commit check at 2,000 models makes two or three, while it loads the catalogs and drafts
the graph). So the command line pauses the collector until the check's imports are done,
then freezes what they made (``gc.freeze``: later collections skip it) and turns it back on;
at exit it freezes everything, so the interpreter's last collection has nothing to walk.

Only ``cli.main_entry`` pauses: a library caller's collector is never touched.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """No cyclic collection until :func:`resume` (when the collector is on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """After the imports: freeze what start-up made and turn the collector back on. A no-op
    unless :func:`pause` turned it off, so callable from the library's code paths."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def exiting() -> None:
    """Before the process exits: nothing left for the interpreter's final collection to walk
    (a warm check's catalogs and graph: tens of ms). Only the process's entry point calls
    this; whatever was unreachable is freed with the process."""
    gc.freeze()
