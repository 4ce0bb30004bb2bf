"""Shared pytest set-up: markers and the throwaway PostgreSQL server."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "truth: execution-truth scenarios (DuckDB/PostgreSQL)")
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by a fixture)")
