"""What reading a revision's files depends on: the few configuration values, not ``Config``.

The loader facade (project/loader.py) builds :class:`ReadSettings` from the configuration;
everything below it sees only these values, so a step's inputs (and its cache key) are
visible here.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Protocol


class FileLimits(Protocol):
    """The size limits reading files obeys (``limits:`` of the configuration)."""

    @property
    def max_file_bytes(self) -> int: ...

    @property
    def max_statements_per_file(self) -> int: ...

    @property
    def max_nesting_depth(self) -> int: ...

    @property
    def max_yaml_nodes(self) -> int: ...

    @property
    def max_render_steps(self) -> int: ...


class NamingSettings(Protocol):
    """How written names resolve and which dialect reads them (the configuration, or
    :class:`ReadSettings`)."""

    @property
    def dialect(self) -> str: ...

    @property
    def default_schema(self) -> str | None: ...

    @property
    def default_database(self) -> str | None: ...


@dataclass(frozen=True, eq=False)
class ReadSettings:
    """The configuration values reading a revision's files uses."""

    dialect: str
    dialect_set: bool  # the configuration names ``dialect`` (else frameworks' files decide)
    limits: FileLimits
    dialects: dict[str, str] = field(default_factory=dict)  # glob -> dialect, first wins
    default_schema: str | None = None
    default_database: str | None = None
    models: dict[str, str | None] = field(default_factory=dict)  # folder -> schema (or None)
    placeholders: dict[str, str] = field(default_factory=dict)
    dbt_vars: dict[str, Any] = field(default_factory=dict)

    def dialect_for(self, path: str) -> str:
        """The dialect of a file: the first matching glob in ``dialects``, else ``dialect``."""
        for pattern, dialect in self.dialects.items():
            if fnmatch.fnmatch(path, pattern):
                return dialect
        return self.dialect

    def configured_dialect(self, root: str) -> str | None:
        """The dialect set for files under ``root`` (None: the configuration sets none)."""
        for pattern, dialect in self.dialects.items():
            if fnmatch.fnmatch(root + "models/x.sql", pattern) or fnmatch.fnmatch(root, pattern):
                return dialect
        return self.dialect if self.dialect_set else None

    def model_schema(self, path: str) -> str | None:
        """The schema of a bare-SELECT model file, or None when it is not in a models folder."""
        for folder, schema in self.models.items():
            prefix = folder.rstrip("/") + "/"
            if path.startswith(prefix):
                parent = PurePosixPath(path).parent
                return schema or (parent.name if str(parent) != "." else None) or "main"
        return None

    def model_name(self, schema: str, stem: str) -> str:
        """The dataset name of a model file: ``[database.]schema.stem``, folded."""
        parts = [schema.lower(), stem.lower()]
        if self.default_database:
            parts.insert(0, self.default_database.lower())
        return ".".join(parts)

    def key(self) -> list[Any]:
        """The values as plain data, for cache keys."""
        return [
            self.dialect,
            self.dialect_set,
            self.dialects,
            self.default_schema,
            self.default_database,
            self.models,
            self.placeholders,
            self.limits.max_file_bytes,
            self.limits.max_statements_per_file,
            self.limits.max_nesting_depth,
        ]
