"""JSON records from a file or a directory: JSON lines, JSON arrays or one object per file.

What lineage producers write to disk (OpenLineage's file transport, ``dbt-ol``, a DataHub
file sink) comes in all three shapes. A bad line is skipped and reported by ``file:line``;
everything else in the file is still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact_check.errors import SourceError
from impact_check.safeload import LimitExceeded, load_json

SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass
class Record:
    """One JSON value and where it came from (1-based line of its first character)."""

    value: Any
    file: str
    line: int


@dataclass
class Records:
    """Everything read, and every place that could not be read (``file:line: why``)."""

    records: list[Record] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0


def resolve(location: str, root: Path) -> Path:
    """``location`` relative to the repository root (absolute paths are kept)."""
    path = Path(location).expanduser()
    return path if path.is_absolute() else root / path


def read_records(path: Path, max_bytes: int = 200_000_000) -> Records:
    """Every JSON record under ``path`` (a file, or a directory read recursively).

    Raises SourceError naming the path when it does not exist or holds no JSON files.
    """
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise SourceError(f"{path}: no {', '.join('*' + s for s in SUFFIXES)} files")
    else:
        files = [path]
    out = Records(files=len(files))
    for file in files:
        _read_file(file, out, max_bytes)
    return out


def _read_file(file: Path, out: Records, max_bytes: int) -> None:
    try:
        size = file.stat().st_size
        if size > max_bytes:
            out.errors.append(f"{file}: {size:,} bytes, over the {max_bytes:,}-byte limit")
            return
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        out.errors.append(f"{file}: cannot read ({err})")
        return
    if not text.strip():
        # An events file that a job truncated to nothing is worth saying: it is not "no lineage".
        out.errors.append(f"{file}: empty (no JSON records)")
        return
    try:
        value = load_json(text)
    except LimitExceeded as err:
        out.errors.append(f"{file}: {err}")
        return
    except json.JSONDecodeError as err:
        if _looks_like_lines(text):
            _read_lines(file, text, out)
        else:
            out.errors.append(f"{file}:{err.lineno}: invalid JSON ({err.msg})")
        return
    if isinstance(value, list):
        out.records += [Record(item, str(file), 1) for item in value]
    else:
        out.records.append(Record(value, str(file), 1))


def _looks_like_lines(text: str) -> bool:
    """JSON lines: the first non-blank line is a whole value by itself (a pretty-printed
    document's first line is not), and there is more than one line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        load_json(lines[0])
    except ValueError:
        return False
    return True


def _read_lines(file: Path, text: str, out: Records) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.records.append(Record(load_json(line), str(file), number))
        except LimitExceeded as err:
            out.errors.append(f"{file}:{number}: {err}")
        except json.JSONDecodeError as err:
            out.errors.append(f"{file}:{number}: invalid JSON ({err.msg})")
