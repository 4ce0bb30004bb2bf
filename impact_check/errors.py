"""The exception tree. Everything the checker raises on purpose derives from ImpactCheckError.

    ImpactCheckError
    ├── ConfigError       invalid config file or flag value (names the key)
    ├── GitError          not a repository, unknown revision, missing base
    ├── UsageError        bad command-line usage (unknown node, unknown dialect, …)
    └── SourceError       a lineage source could not be read

The CLI turns any of these into exit code 2 and one line on stderr; anything else is a bug
and is reported the same way (a traceback only with --debug).
"""

from __future__ import annotations


class ImpactCheckError(Exception):
    """Base class of every error the checker reports to the user."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(ImpactCheckError):
    """The configuration (file, flag or environment variable) is invalid."""


class GitError(ImpactCheckError):
    """A git operation failed: not a repository, unknown revision, missing history."""


class UsageError(ImpactCheckError):
    """The command line asks for something that does not exist (node, dialect, format)."""


class SourceError(ImpactCheckError):
    """A lineage source could not be read or fetched."""
