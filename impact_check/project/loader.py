"""Loading a revision's catalog, for callers that hold the configuration: a facade.

The work is done below it, in one direction: reading files is pure (project/catalog.py,
sql_files.py, dbt.py, derive.py: they know nothing of caching); the cache layer
(project/incremental.py) wraps those steps. This module keeps the entry points the
analysis and the command line call, taking ``Config`` and handing each step the values it
uses (project/settings.py).
"""

from __future__ import annotations

from impact_check.config import Config
from impact_check.model import FileContent
from impact_check.project import files
from impact_check.project.catalog import dbt_roots, in_dbt_project, usable_external
from impact_check.project.incremental import load_catalog, read_settings

__all__ = [
    "dbt_roots",
    "decode_file",
    "dialect_for",
    "in_dbt_project",
    "load_catalog",
    "usable_external",
]


def dialect_for(path: str, config: Config) -> str:
    """The dialect of a file: the first matching glob in ``dialects``, else ``dialect``."""
    return read_settings(config).dialect_for(path)


def decode_file(content: FileContent, config: Config) -> tuple[str | None, str, int | None]:
    """A repository file as text, or (None, why not, line) (project/files.py)."""
    return files.decode_file(content, config.limits.max_file_bytes)
