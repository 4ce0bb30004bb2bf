"""The registry state file of a revision (no I/O: the text comes from a Snapshot).

The registry state file is the schema-registry-gitops format (``compatibility:`` and
``subjects: [{name, file, compatibility}]``, files relative to the state file). Which mode
a schema file is checked under is the configuration's answer, with this file's
(messages/settings.py: subject_of).
"""

from __future__ import annotations

import posixpath

import yaml

from impact_check.messages.model import MODES, Registry
from impact_check.model import Snapshot
from impact_check.safeload import LimitExceeded, load_yaml


def registry_at(snapshot: Snapshot, path: str | None) -> Registry:
    """The registry state file at ``path`` (message_schemas.registry_file) of a revision."""
    content = snapshot.files.get(path) if path else None
    text = content.data.decode("utf-8", "replace") if content and content.data else None
    registry = read_registry(text, path)
    if path and text is None:
        registry.problem = ("not found in the repository", None)
    return registry


def read_registry(text: str | None, path: str | None) -> Registry:
    """Parse the registry state file; a problem is kept (and reported), never raised."""
    registry = Registry()
    if text is None or path is None:
        return registry
    try:
        data = load_yaml(text).data
    except (yaml.YAMLError, LimitExceeded) as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(err, "line", None)
        registry.problem = (f"cannot be read: {getattr(err, 'problem', None) or err}", line)
        return registry
    if not isinstance(data, dict):
        registry.problem = ("must be a mapping with 'compatibility' and 'subjects'", 1)
        return registry
    if data.get("compatibility") in MODES:
        registry.default = str(data["compatibility"])
    folder = posixpath.dirname(path)
    for entry in data.get("subjects") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            registry.problem = ("a subject entry without a name", None)
            continue
        name = entry["name"]
        if entry.get("compatibility") in MODES:
            registry.modes[name] = str(entry["compatibility"])
        elif entry.get("compatibility") is not None:
            registry.problem = (
                f"subject {name}: unknown compatibility {entry['compatibility']!r}",
                None,
            )
        if isinstance(entry.get("file"), str):
            registry.subjects[posixpath.normpath(posixpath.join(folder, entry["file"]))] = name
    return registry


__all__ = ["read_registry", "registry_at"]
