"""The ``buf breaking`` category a repository sets for its .proto files in ``buf.yaml``
(no I/O: the files come from a Snapshot).

- v1 (``version: v1``, ``v1beta1`` or none): the top-level ``breaking: {use: [...]}`` applies
  to the .proto files of the buf.yaml's folder and below;
- v2: each ``modules: [{path, breaking}]`` entry applies to the files under
  ``<folder>/<path>``, the top-level ``breaking:`` to the modules without their own (and to
  the folder when there are no modules).

A .proto file takes the category of the nearest buf.yaml (the deepest folder or module
containing it). buf's categories nest (``FILE`` ⊃ ``PACKAGE`` ⊃ ``WIRE_JSON`` ⊃ ``WIRE``);
the checker implements ``WIRE_JSON`` and ``WIRE``, so ``FILE`` and ``PACKAGE`` are checked as
``WIRE_JSON``, the strictest it has, and so is a ``use`` list of single rule ids or none at
all (buf's default is ``FILE``). ``except``/``ignore`` lists are not read.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from impact_check.model import Snapshot
from impact_check.safeload import LimitExceeded, load_yaml

BUF_FILE = "buf.yaml"
_STRICT = {"FILE", "PACKAGE", "WIRE_JSON"}


@dataclass
class BufCategories:
    """The category of each folder a buf.yaml (or one of its v2 modules) covers, and the
    buf.yaml files that cannot be read: (path, message, line)."""

    by_folder: dict[str, str] = field(default_factory=dict)  # "" is the repository root
    problems: list[tuple[str, str, int | None]] = field(default_factory=list)

    def category_of(self, path: str) -> str | None:
        """The category of the nearest buf.yaml above the .proto file ``path``, if any."""
        folder = posixpath.dirname(path)
        while True:
            if folder in self.by_folder:
                return self.by_folder[folder]
            if not folder:
                return None
            folder = posixpath.dirname(folder)


def buf_categories(snapshot: Snapshot) -> BufCategories:
    """The breaking categories set by the buf.yaml files of a revision."""
    out = BufCategories()
    for path in sorted(snapshot.files):
        if posixpath.basename(path) != BUF_FILE:
            continue
        content = snapshot.files[path]
        if content.data is None:
            continue
        try:
            data = load_yaml(content.data.decode("utf-8", "replace")).data
        except (yaml.YAMLError, LimitExceeded) as err:
            mark = getattr(err, "problem_mark", None)
            line = mark.line + 1 if mark is not None else getattr(err, "line", None)
            out.problems.append((path, f"cannot be read: {getattr(err, 'problem', None) or err}",
                                 line))  # fmt: skip
            continue
        if not isinstance(data, dict):
            out.problems.append((path, "must be a mapping", 1))
            continue
        folder = posixpath.dirname(path)
        default = _category(data.get("breaking"))
        out.by_folder[folder] = default
        modules = data.get("modules") if str(data.get("version", "")) == "v2" else None
        for module in modules if isinstance(modules, list) else []:
            if not isinstance(module, dict) or not isinstance(module.get("path"), str):
                continue
            where = posixpath.normpath(posixpath.join(folder, module["path"]))
            own = module.get("breaking")
            out.by_folder["" if where == "." else where] = (
                _category(own) if isinstance(own, dict) else default
            )
    return out


def _category(breaking: Any) -> str:
    """WIRE when every category ``use`` lists is WIRE, else WIRE_JSON (the strictest the
    checker implements: FILE, PACKAGE, single rule ids and buf's default FILE)."""
    use = breaking.get("use") if isinstance(breaking, dict) else None
    names = {str(u) for u in use} if isinstance(use, list) else set()
    return "WIRE" if names and not names & _STRICT and names <= {"WIRE"} else "WIRE_JSON"


def protobuf_rules_of(
    snapshot: Snapshot, configured: str, explicit: bool
) -> tuple[Callable[[str], str], list[tuple[str, str, int | None]]]:
    """The category of each .proto path: ``configured`` when set explicitly in
    .impact-check.yml (``explicit``), else the nearest buf.yaml's, else ``configured``
    (its default); and the buf.yaml files that cannot be read."""
    if explicit:
        return (lambda _path: configured), []
    categories = buf_categories(snapshot)
    return (lambda path: categories.category_of(path) or configured), categories.problems


__all__ = ["BufCategories", "buf_categories", "protobuf_rules_of"]
