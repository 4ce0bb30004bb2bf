#!/usr/bin/env python3
"""Load the public dbt manifests in shared/corpora and measure lineage coverage.

For each manifest: build the catalog (one parse + qualify + walk per model, in dependency
order, sources typed from catalog.json when there is one) and print the number of models,
how many have column lineage with every reference resolved, how many are broken at base
(they do not bind against the manifest's own schema), and the wall time.

Usage: python benchmarks/corpora_coverage.py [CORPORA_DIR]   (default ../shared/corpora)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from impact_check.bind import broken_datasets
from impact_check.config import Config
from impact_check.project.manifest import catalog_from_manifest, lineage_coverage, read_json

DIALECTS = {
    "jaffle-shop-expand": "duckdb",
    "mitodl-ol_dbt": "trino",
    "mattermost-analytics": "snowflake",
}


def main(argv: list[str]) -> int:
    root = (
        Path(argv[1])
        if len(argv) > 1
        else Path(__file__).parent.parent.parent / "shared" / "corpora"
    )
    for path in sorted(root.glob("*.manifest.json.gz")):
        project = path.name.split(".manifest")[0]
        catalog_path = path.with_name(f"{project}.catalog.json.gz")
        started = time.perf_counter()
        manifest = read_json(path)
        catalog_json = read_json(catalog_path) if catalog_path.exists() else None
        config = Config(dialect=DIALECTS.get(project, "duckdb"))
        catalog = catalog_from_manifest(manifest, config, catalog_json, path.name)
        elapsed = time.perf_counter() - started
        models, resolved = lineage_coverage(catalog)
        broken = broken_datasets(catalog, set())
        unparsed = sum(1 for i in catalog.issues if i.rule == "AN901")
        share = resolved / max(1, models)
        print(
            f"{project}: {models} models analysed ({unparsed} not parsed), column "
            f"lineage fully resolved for {resolved} ({share:.1%}), "
            f"{len(broken)} not binding at base, {elapsed:.1f} s ({config.dialect})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
