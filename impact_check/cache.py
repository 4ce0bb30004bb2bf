"""The on-disk analysis cache: ``.impact-check/cache/analysis/`` under the repository root.

Content-addressed: an entry's key hashes everything its value depends on (the file's git
blob SHA, the rendering context, the upstream schemas it was qualified against, the sqlglot
version, the dialect and ALGORITHM_VERSION), so an entry is never stale, only unused.

Layout, chosen so a warm run opens a handful of files rather than one per model, and
parses only the entries it uses (a 5,000-model pack is about 40 MB of JSON):

- ``pack.json``: a ``FORMAT`` line, then one ``key<TAB>value-as-JSON`` line per entry,
  rewritten (atomically) when journals pile up;
- ``journal-*.json``: the entries one run added, same layout, written once under a unique
  name.

Safe to delete at any time. Safe under concurrent runs: every file is written to a temporary
file and moved into place with ``os.replace``; a compaction deletes only the journals it
read. The directory lives inside the repository under check, so its content is untrusted
input: anything that does not decode as the expected plain JSON shape is ignored (and
rebuilt), never executed; the codecs in ``project/codec.py`` validate every entry.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

# Bump when anything the loader derives changes shape or meaning: old entries become unused.
# 17: the engine a file's name or its directory names, statements that are not table
# schema (Snowflake objects, table options, ADD CHECK, temp tables);
# 16: the per-revision index (project/revision_index.py, index);
# 15: ALTER and DROP operations among a DDL file's effects (cold); 13, 14: date parts,
# UNNEST, per-warehouse dbt variants, schema dumps beside migrations (main);
# 12: pop/fizz migrations apply one engine's variant (freshfix);
# 11: DO-block variables, test-folder histories, one engine, INSERT arity (replay2);
# 10: dbt refs follow in-file config() and snapshots, warehouse-introspecting models are
# read as compiled, numbered migration folders; 9: per-file DDL statement effects;
# 8: struct field paths and pivots in lineage; 7: migration units and routines
ALGORITHM_VERSION = "17"
FORMAT = f"impact-check-cache/{ALGORITHM_VERSION}/lines"
_COMPACT_AFTER = 8  # journals
_MAX_UNUSED = 20_000  # entries kept from earlier runs (other branches) beyond this run's
LAZY_SUFFIX = "/lineage"


def cache_dir(root: Path) -> Path:
    """The cache directory of the repository at ``root`` (shared with lineage sources)."""
    return root / ".impact-check" / "cache"


def blob_sha(data: bytes) -> str:
    """The git blob SHA-1 of ``data`` (what ``git ls-files -s`` shows), for any revision."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def digest(*parts: object) -> str:
    """A stable key over plain values (str, int, bool, None, lists, dicts with str keys)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def sqlglot_version() -> str:
    """The sqlglot version (part of every key: its ASTs change between releases)."""
    # The version the running sqlglot states (its callers have imported it already): the
    # same string as its distribution's metadata, without importlib.metadata's search of
    # sys.path for the distribution (3-7 ms of every warm run).
    import sqlglot

    stated = getattr(sqlglot, "__version__", None)
    if isinstance(stated, str) and stated:
        return stated
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sqlglot")
    except PackageNotFoundError:  # pragma: no cover - a vendored copy
        return "unknown"


_ENTRY = re.compile(r"^([^\t\n]*)\t(.*)$", re.MULTILINE)  # key<TAB>value, one a line


class _Section:
    """The entries of one file family (``{prefix}pack.json`` + ``{prefix}journal-*.json``),
    read from disk the first time one of them is asked for."""

    def __init__(self, directory: Path | None, prefix: str) -> None:
        self.directory = directory
        self.prefix = prefix
        self.entries: dict[str, str] = {}  # key -> JSON text, parsed when asked for
        self.new: dict[str, str] = {}
        self.used: set[str] = set()
        self.journals: list[Path] = []
        self.loaded = False

    def text(self, key: str) -> str | None:
        if not self.loaded:
            self._load()
        found = self.new.get(key)
        return found if found is not None else self.entries.get(key)

    def forget(self, key: str) -> None:
        self.entries.pop(key, None)
        self.new.pop(key, None)
        self.used.discard(key)

    def _load(self) -> None:
        self.loaded = True
        if self.directory is None or not self.directory.is_dir():
            return
        self._read_into(self.directory / f"{self.prefix}pack.json")
        for journal in sorted(self.directory.glob(f"{self.prefix}journal-*.json")):
            if self._read_into(journal):
                self.journals.append(journal)

    def _read_into(self, path: Path) -> bool:
        try:
            text = path.read_bytes().decode("utf-8", "surrogatepass")
        except (OSError, UnicodeDecodeError):
            return False
        header, _, body = text.partition("\n")
        if header != FORMAT:
            return False
        # lines split on "\n" only (JSON may hold U+2028 unescaped), in one regex pass: a
        # loop over the lines cost twice as much, and a warm run reads every journal
        self.entries.update(_ENTRY.findall(body))
        return True

    def save(self) -> None:
        assert self.directory is not None
        if not self.new:
            return
        # unread, count the journals without reading them: only a compaction needs them all
        pattern = f"{self.prefix}journal-*.json"
        journals = len(self.journals if self.loaded else list(self.directory.glob(pattern)))
        if journals + 1 < _COMPACT_AFTER:
            _write_atomic(self.directory, f"{self.prefix}journal-", self.new)
            return
        if not self.loaded:
            self._load()
        keep = {k: self.entries[k] for k in self.used if k in self.entries}
        for key, value in self.entries.items():
            if len(keep) >= len(self.used) + _MAX_UNUSED:
                break
            keep.setdefault(key, value)
        keep.update(self.new)
        _write_atomic(self.directory, f"{self.prefix}pack-", keep, f"{self.prefix}pack.json")
        for journal in self.journals:  # only the ones folded in; others' stay
            with contextlib.suppress(OSError):
                journal.unlink()


class AnalysisCache:
    """Entries by key, read when first needed, new entries written once at the end (``save``).

    Keys ending in ``LAZY_SUFFIX`` (lineage, four fifths of the bytes) live in files of
    their own, read only by a run that asks for one of them: a warm check needs the lineage
    of a handful of datasets, or none.

    A disabled cache (``--no-cache``, ``cache: false``) still memoises within the run, so
    base and head share the work on the files they have in common, but reads and writes
    nothing on disk.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / "analysis" if directory is not None else None
        self._main = _Section(self.directory, "")
        self._lazy = _Section(self.directory, "lineage-")
        # values decoded this run, by key, for callers that can share them (base and head
        # hold the same dataset for most keys); dropped with the entry when it is rejected
        self.decoded: dict[object, Any] = {}
        self.rejected = 0  # entries present but not valid (corrupt, other version)

    def _section(self, key: str) -> _Section:
        return self._lazy if key.endswith(LAZY_SUFFIX) else self._main

    def get(self, key: str) -> Any:
        """The raw (unvalidated) value stored under ``key``, or None (also when its text
        does not parse: a damaged entry is rebuilt like a missing one)."""
        section = self._section(key)
        text = section.text(key)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            self.reject(key)
            return None
        if value is not None:
            section.used.add(key)
        return value

    def reject(self, key: str) -> None:
        """An entry failed validation: forget it so the fresh value replaces it."""
        self.rejected += 1
        self.decoded.pop(key, None)
        self._section(key).forget(key)

    def put(self, key: str, value: Any) -> None:
        """Store a freshly computed value (plain JSON types only). Kept as JSON text: a
        cold build holds thousands of entries, and text is several times smaller."""
        section = self._section(key)
        section.new[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        section.used.add(key)

    def new_values(self) -> dict[str, Any]:
        """This run's new entries, parsed (for tests and diagnostics)."""
        new = {**self._main.new, **self._lazy.new}
        return {key: json.loads(text) for key, text in new.items()}

    def save(self) -> None:
        """Write this run's new entries; compact into the pack when journals pile up.

        A failure to write (read-only checkout, full disk) costs only speed next time.
        """
        if self.directory is None or not (self._main.new or self._lazy.new):
            return
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            _ignore_in_git(self.directory.parent.parent)
            for section in (self._main, self._lazy):
                section.save()


def _write_atomic(
    directory: Path, prefix: str, entries: dict[str, str], final: str | None = None
) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{prefix}", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as handle:
            handle.write(FORMAT + "\n")
            handle.writelines(f"{key}\t{text}\n" for key, text in entries.items())
        target = directory / (final or Path(tmp).stem.lstrip(".") + ".json")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _ignore_in_git(directory: Path) -> None:
    """``.impact-check/`` ignores itself, so the cache never shows up in ``git status``."""
    marker = directory / ".gitignore"
    if not marker.exists():
        marker.write_text("# written by impact-check: cache, safe to delete\n*\n")
