"""The public dbt manifests in shared/corpora load, and their lineage resolves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from impact_check.bind import broken_datasets
from impact_check.config import Config
from impact_check.errors import SourceError
from impact_check.project.manifest import catalog_from_manifest, lineage_coverage
from impact_check.sources.artifacts import read_json

CORPORA = Path(__file__).parent.parent.parent.parent / "shared" / "corpora"


@pytest.mark.skipif(not CORPORA.is_dir(), reason="shared/corpora is not beside the checkout")
def test_jaffle_shop_expand_loads_and_builds_green(
    record_figure: Callable[[str, str], None],
) -> None:
    manifest = read_json(CORPORA / "jaffle-shop-expand.manifest.json.gz")
    catalog_json = read_json(CORPORA / "jaffle-shop-expand.catalog.json.gz")
    catalog = catalog_from_manifest(manifest, Config(dialect="duckdb"), catalog_json)
    models, resolved = lineage_coverage(catalog)
    record_figure(
        "corpora-jaffle-expand",
        f"jaffle-shop-expand: {models} models, column lineage fully resolved for "
        f"{resolved / models:.1%}",
    )
    assert models == 1058
    assert resolved / models > 0.95
    assert broken_datasets(catalog, set()) == {}  # the project builds green on DuckDB
    assert any(
        c.kind == "dashboard" or c.kind == "ml_model" or c.kind == "exposure"
        for c in catalog.consumers
    )


def test_unknown_manifest_version_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="unsupported manifest schema"):
        catalog_from_manifest({"metadata": {"dbt_schema_version": "v99"}}, Config())


def test_truncated_manifest_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.json"
    broken.write_text('{"metadata": {"dbt_sch')
    with pytest.raises(SourceError, match=r"manifest\.json"):
        read_json(broken)
