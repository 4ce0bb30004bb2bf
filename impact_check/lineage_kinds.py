"""The lineage kinds the checker reads, and the module of ``sources/`` that reads each.

Named here, below both the configuration (which refuses a kind it does not know) and
``sources/`` (which imports the module of a kind when a source of it is read), so that
neither imports the other. Adding a source is one module in ``sources/`` and one line here.
"""

from __future__ import annotations

# kind -> module whose ``fetch(spec, ctx)`` reads it (imported only when used)
FETCHERS: dict[str, str] = {
    "airflow": "impact_check.sources.airflow",
    "atlas": "impact_check.sources.atlas",
    "datahub": "impact_check.sources.datahub",
    "dbt_cloud": "impact_check.sources.dbt_cloud",
    "datahub-file": "impact_check.sources.datahub_file",
    "dvc": "impact_check.sources.dvc",
    "delta": "impact_check.sources.delta",
    "feast": "impact_check.sources.feast",
    "great_expectations": "impact_check.sources.gx",
    "marquez": "impact_check.sources.marquez",
    "mlflow": "impact_check.sources.mlflow",
    "mlmodel": "impact_check.sources.mlmodel",
    "openlineage": "impact_check.sources.openlineage",
    "openmetadata": "impact_check.sources.openmetadata",
    "snowflake": "impact_check.sources.snowflake",
    "static": "impact_check.sources.static",
    "tfx": "impact_check.sources.tfx",
    "unity_catalog": "impact_check.sources.unity_catalog",
    "warehouse": "impact_check.sources.warehouse",
}


def known_kinds() -> list[str]:
    """The lineage kinds, sorted."""
    return sorted(FETCHERS)


def unknown_kind_message(kind: str) -> str | None:
    """Why ``kind`` cannot be read (it names no source), or None when it is known."""
    if kind in FETCHERS:
        return None
    return f"unknown lineage kind {kind!r} (known: {', '.join(known_kinds())})"
