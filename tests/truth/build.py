"""Build a scenario's files from scratch in a real engine and list what fails.

Files run in natural path order (V2 before V10), one statement at a time. A derived dataset
is broken when its defining statement fails, or when it exists but ``SELECT * … LIMIT 0``
fails at the end. A failing INSERT … SELECT is named like the checker names it:
``sql:insert/<file>:<line>`` (every generated load file holds one statement at line 1).
Any other failing statement of a migration is a failed deploy: ``deploy:<file>``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Protocol

from tests.truth.warehouse_gen import Scenario

_DEFINES = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?(?:TABLE|VIEW)\s+([\w.]+)\s*"
    r"(?:AS\b|\n\s*AS\b)",
    re.IGNORECASE,
)


def natural_key(path: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


def statements(text: str) -> Iterator[str]:
    """Generated files put each statement's terminating ``;`` at the end of a line."""
    for chunk in re.split(r";\s*\n", text):
        if chunk.strip():
            yield chunk.strip().rstrip(";")


class Backend(Protocol):
    dialect: str

    def broken(self, files: dict[str, str]) -> set[str]: ...


def _derived_name(statement: str, path: str) -> str | None:
    match = _DEFINES.match(statement)
    if match:
        return match.group(1).lower()
    if statement.upper().startswith("INSERT"):
        return f"sql:insert/{path}:1"
    return None


class DuckDBBackend:
    """A fresh in-memory DuckDB per build."""

    dialect = "duckdb"

    def broken(self, files: dict[str, str]) -> set[str]:
        import duckdb

        con = duckdb.connect()
        try:
            return _build(files, con.execute, duckdb.Error)
        finally:
            con.close()


class PostgresBackend:
    """A fresh database per build on a running server (autocommit: one failure per statement)."""

    dialect = "postgres"
    _counter = itertools.count()

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def broken(self, files: dict[str, str]) -> set[str]:
        import psycopg

        name = f"truth_{next(self._counter)}"
        with psycopg.connect(self.dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        try:
            with psycopg.connect(self.dsn, dbname=name, autocommit=True) as con:
                return _build(files, con.execute, psycopg.Error)
        finally:
            with psycopg.connect(self.dsn, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name}")


def _build(files: dict[str, str], execute: object, error: type[Exception]) -> set[str]:
    run = execute  # a callable(sql)
    broken: set[str] = set()
    created: list[str] = []
    for path in sorted(files, key=natural_key):
        for statement in statements(files[path]):
            derived = _derived_name(statement, path)
            try:
                run(statement)  # type: ignore[operator]
            except error:
                if derived is not None:
                    broken.add(derived)
                elif path.startswith("migrations/"):  # the migration fails on deploy
                    broken.add(f"deploy:{path}")
                continue
            if derived is not None and not derived.startswith("sql:"):
                created.append(derived)
    for name in created:
        try:
            run(f"SELECT * FROM {name} LIMIT 0")  # type: ignore[operator]
        except error:
            broken.add(name)
    return broken


def truth(scenario: Scenario, backend: Backend) -> tuple[set[str], set[str]]:
    """(broken at base, broken at head), each built from scratch."""
    return backend.broken(scenario.base), backend.broken(scenario.head)
