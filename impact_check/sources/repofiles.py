"""Definition files committed in the repository (GX suites, DVC files, TFX schemas), read the
same way from a folder on disk (a configured lineage source) and from a git revision's
snapshot (discover.py): bounded (limits.max_file_bytes, nesting depth, YAML size), never
executed, and every file that cannot be read is a DQ819 finding naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from impact_check.errors import SourceError
from impact_check.model import FileContent
from impact_check.safeload import LimitExceeded, load_json, load_yaml, yaml_error_line

if TYPE_CHECKING:
    from impact_check.config import Config
    from impact_check.sources.base import GraphFragment

UNREADABLE = "DQ819"  # consumer-definition-unreadable


@dataclass
class Texts:
    """Files as text (path -> text), relative to the repository root."""

    files: dict[str, str]

    def under(self, folder: str, keep: Callable[[str], bool] = lambda _p: True) -> list[str]:
        return sorted(
            p for p in self.files if (folder == "" or p.startswith(folder + "/")) and keep(p)
        )


def texts(
    files: Mapping[str, FileContent],
    fragment: GraphFragment,
    config: Config | None = None,
) -> Texts:
    """The readable files of ``files`` as text; the others are DQ819 issues on ``fragment``."""
    from impact_check.config import Config
    from impact_check.project.files import decode_file

    out: dict[str, str] = {}
    for path, content in sorted(files.items()):
        text, reason, line = decode_file(content, (config or Config()).limits.max_file_bytes)
        if text is None:
            fragment.issue(UNREADABLE, f"{path}: {reason}; not read", path, line)
        else:
            out[path] = text
    return Texts(out)


def disk_files(
    root: Path, location: str, wanted: Callable[[str], bool], max_bytes: int = 2_000_000
) -> dict[str, FileContent]:
    """The files under ``root/location`` that ``wanted`` keeps (by repository path), as
    FileContent; a symbolic link is not followed, a file over ``max_bytes`` not read."""
    target = (root / location).resolve() if not Path(location).is_absolute() else Path(location)
    base = root.resolve()
    if not target.exists():
        raise SourceError(f"{location}: no such file or directory")
    top = base if target.is_relative_to(base) else (target if target.is_dir() else target.parent)
    paths = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    out: dict[str, FileContent] = {}
    for path in paths:
        rel = path.relative_to(top).as_posix()
        hidden = [p for p in Path(rel).parts[:-1] if p.startswith(".") and p != ".dvc"]
        if not wanted(rel) or hidden:  # hidden folders, but DVC's own config folder
            continue
        if path.is_symlink():
            out[rel] = FileContent(rel, None, "symbolic link: not followed")
            continue
        try:
            size = path.stat().st_size
            data = path.read_bytes() if size <= max_bytes else b"x" * (max_bytes + 1)
        except OSError as err:
            out[rel] = FileContent(rel, None, f"cannot read: {err.strerror}")
            continue
        out[rel] = FileContent(rel, data)
    return out


def read_json(text: str, path: str, fragment: GraphFragment) -> Any:
    """A JSON document (bounded depth); None and a DQ819 issue with the line when invalid."""
    try:
        return load_json(text)
    except LimitExceeded as err:
        fragment.issue(UNREADABLE, f"{path}: {err}; not read", path, err.line)
    except json.JSONDecodeError as err:
        fragment.issue(UNREADABLE, f"{path}: invalid JSON ({err.msg}); not read", path, err.lineno)
    except ValueError as err:
        fragment.issue(UNREADABLE, f"{path}: invalid JSON ({err}); not read", path)
    return None


def read_yaml(text: str, path: str, fragment: GraphFragment) -> Any:
    """A YAML document (safe constructors, bounded); None and a DQ819 issue when invalid."""
    try:
        loaded = load_yaml(text)
    except LimitExceeded as err:
        fragment.issue(UNREADABLE, f"{path}: {err}; not read", path, err.line)
        return None
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or "cannot be parsed"
        fragment.issue(
            UNREADABLE, f"{path}: invalid YAML ({problem}); not read", path, yaml_error_line(err)
        )
        return None
    for key, line in loaded.duplicates:
        fragment.issue(
            UNREADABLE, f"{path}: duplicate key '{key}' (the later value is used)", path, line
        )
    return loaded.data


def line_of(text: str, needle: str, default: int = 1) -> int:
    """The 1-based line where ``needle`` first occurs in ``text``."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else default


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def owners_of(meta: Any) -> list[str]:
    """Owners a definition's metadata names (``owner``/``owners``, a string or a list)."""
    meta = as_dict(meta)
    out: list[str] = []
    for key in ("owner", "owners"):
        value = meta.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item and item not in out:
                out.append(item)
    return out
