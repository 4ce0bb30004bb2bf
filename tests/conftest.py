"""Shared pytest set-up: markers and the throwaway PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "truth: execution-truth scenarios (DuckDB/PostgreSQL)")
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (started by a fixture)")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A running throwaway PostgreSQL server (skipped only outside CI when not installed)."""
    import os

    from tests.truth.postgres import bin_dir, postgres_server

    bindir = bin_dir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it from Debian")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with postgres_server(bindir) as dsn:
        yield dsn
