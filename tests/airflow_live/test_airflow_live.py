"""The Airflow source against a real Airflow 3 (tests/airflow_live/airflow_server.py): its API
server on 127.0.0.1 with token auth, the DAGs of tests/data/airflow/dags/ registered and one
of them run, so the consumers and the SQL come from Airflow itself, not from a recording.

Costs ~30 s and ~230 MB (one API server process; no scheduler); the set-up times and the
memory are printed in the test summary ("impact-check figures").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import SourceContext
from tests.airflow_live.airflow_server import (
    PASSWORD,
    USER,
    Airflow,
    airflow_bin,
    airflow_server,
    rss_mb,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    if airflow_bin() is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Airflow venv missing: .ci/run installs it (/tmp/impact-check-airflow-venv)"
            )
        pytest.skip("Airflow venv not installed (see .ci/run)")
    with airflow_server(tmp_path_factory.mktemp("airflow"), runs=("train_churn",)) as server:
        yield server


def test_real_airflow_consumers_and_rendered_sql(
    airflow: Airflow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record_figure: Callable[[str, str], None],
) -> None:
    monkeypatch.setenv("AF_USER", USER)
    monkeypatch.setenv("AF_PASSWORD", PASSWORD)
    spec = LineageSource(
        kind="airflow",
        location=airflow.url,
        username_env="AF_USER",
        password_env="AF_PASSWORD",
        aliases={"postgres://db:5432": ""},
        options={"rendered_sql": True},
    )
    fragment = fetch_one(spec, SourceContext(root=tmp_path, touched={"analytics.orders"}))
    assert fragment.status == "ok", fragment.detail
    edges = {(e.src, e.dst, e.kind) for e in fragment.edges}
    assert edges == {
        ("analytics.orders", "airflow:train_churn/featurize", "reads"),
        ("analytics.orders", "airflow:order_counts/count_orders", "reads"),
        ("airflow:train_churn/featurize", "analytics.customer_features", "writes"),
        ("analytics.customer_features", "airflow:score_customers/score", "reads"),
    }
    nodes = {n.id: n for n in fragment.nodes}
    featurize = nodes["airflow:train_churn/featurize"]
    # Airflow rendered the Jinja ({{ ds }}) of the run's logical date
    assert featurize.sql is not None and "WHERE ordered_at >= '2026-02-01'" in featurize.sql
    assert featurize.dialect == "postgres"
    assert nodes["airflow:order_counts/count_orders"].sql is None  # never ran here
    assert fragment.counts["consuming tasks without a run (no rendered SQL)"] == 2
    # no token, no consumer
    monkeypatch.setenv("AF_PASSWORD", "not-the-password")
    refused = fetch_one(spec, SourceContext(root=tmp_path, touched={"analytics.orders"}))
    assert refused.status == "failed" and "unauthorized" in refused.detail
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in airflow.timings.items())
    record_figure(
        "airflow-live",
        f"real Airflow 3 for the airflow source: {timings}; "
        f"API server RSS {rss_mb(_api_pid(airflow)):.0f} MB",
    )


def _api_pid(airflow: Airflow) -> int:
    return int((airflow.home / "api-server.pid").read_text())
