"""Truth on a real 1,058-model project without its files (shared/corpora/jaffle-shop-expand).

Sources and seeds become empty DuckDB tables typed from catalog.json; every model becomes a
view from its manifest ``compiled_code`` in dependency order (all must build). Then one model
at a time is mutated — an output column dropped (``* EXCLUDE``), renamed (``* RENAME``) or
retyped to text (``* REPLACE``), or the model dropped — and its downstream views are queried:
those that fail are the truth. The checker compares the base manifest with a head manifest
holding the mutated compiled code. CI runs a sample; the full loop is::

    IMPACT_CHECK_CORPUS_MUTATIONS=60 python -m pytest tests/dbt/test_corpus_truth.py -q -p no:xdist
"""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from impact_check.analysis import compare_catalogs
from impact_check.config import Config
from impact_check.pipeline import analysis_settings
from impact_check.policy import finish
from impact_check.project.manifest import catalog_from_manifest, relation
from impact_check.sources.artifacts import read_json

CORPORA = Path(__file__).parent.parent.parent.parent / "shared" / "corpora"
COUNT = int(os.environ.get("IMPACT_CHECK_CORPUS_MUTATIONS", "8"))
pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason="shared/corpora is not beside")


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def _order(manifest: dict[str, Any]) -> list[str]:
    nodes = manifest["nodes"]
    done: set[str] = set()
    out: list[str] = []

    def visit(uid: str) -> None:
        if uid in done or uid not in nodes:
            return
        done.add(uid)
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            visit(dep)
        if nodes[uid]["resource_type"] == "model":
            out.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return out


def warehouse(manifest: dict[str, Any], catalog: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    databases = {
        node["metadata"]["database"]
        for section in ("nodes", "sources")
        for node in catalog[section].values()
    }
    for database in sorted(databases):
        con.execute(f"ATTACH ':memory:' AS \"{database}\"")
    for section in ("sources", "nodes"):
        for uid, node in catalog[section].items():
            if section == "nodes" and not uid.startswith("seed."):
                continue
            meta = node["metadata"]
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{meta["database"]}"."{meta["schema"]}"')
            columns = ", ".join(f'"{c}" {v["type"]}' for c, v in node["columns"].items())
            name = f'"{meta["database"]}"."{meta["schema"]}"."{meta["name"]}"'
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
    for uid in _order(manifest):
        node = manifest["nodes"][uid]
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{node["database"]}"."{node["schema"]}"')
        if _self_referencing(node):  # an incremental model reads itself: build it as a table
            columns = ", ".join(
                f'"{c}" {v["type"]}' for c, v in catalog["nodes"][uid]["columns"].items()
            )
            con.execute(f"CREATE TABLE {node['relation_name']} ({columns})")
        else:
            con.execute(f"CREATE VIEW {node['relation_name']} AS {node['compiled_code']}")
    return con


def _self_referencing(node: dict[str, Any]) -> bool:
    return str(node["relation_name"]) in str(node["compiled_code"])


def downstream(manifest: dict[str, Any], uid: str) -> list[str]:
    children, seen, queue = manifest["child_map"], [], [uid]
    while queue:
        for child in children.get(queue.pop(0), []):
            if child.startswith("model.") and child not in seen:
                seen.append(child)
                queue.append(child)
    return seen


def failing(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any], uids: list[str]) -> set[str]:
    out = set()
    for uid in uids:
        try:
            con.execute(f"SELECT * FROM {manifest['nodes'][uid]['relation_name']} LIMIT 0")
        except duckdb.Error:
            out.add(relation(manifest["nodes"][uid]["relation_name"]))
    return out


def mutations(
    manifest: dict[str, Any], catalog: dict[str, Any], count: int
) -> list[tuple[str, str, str]]:
    """(model uid, kind, column) for models that have downstream models."""
    rng = random.Random(20261124)
    candidates = sorted(
        uid
        for uid in _order(manifest)
        if downstream(manifest, uid) and not _self_referencing(manifest["nodes"][uid])
    )
    out = []
    for uid in rng.sample(candidates, min(count, len(candidates))):
        columns = list(catalog["nodes"].get(uid, {}).get("columns", {}))
        kind = rng.choice(["drop", "drop", "rename", "retype", "drop_model"])
        out.append((uid, kind, rng.choice(columns) if columns else ""))
    return out


def mutated_sql(code: str, kind: str, column: str) -> str:
    inner = f"SELECT * FROM ({code}) AS mutated_inner"
    if kind == "drop":
        return inner.replace("SELECT *", f'SELECT * EXCLUDE ("{column}")', 1)
    if kind == "rename":
        return inner.replace("SELECT *", f'SELECT * RENAME ("{column}" AS "{column}_renamed")', 1)
    return inner.replace(
        "SELECT *", f'SELECT * REPLACE (CAST("{column}" AS VARCHAR) AS "{column}")', 1
    )


def checker_broken(
    base: Any, head_manifest: dict[str, Any], catalog_json: dict[str, Any], config: Config
) -> set[str]:
    head = catalog_from_manifest(head_manifest, config, catalog_json)
    report, _graph = compare_catalogs(base, head, analysis_settings(config))
    report = finish(report, config)
    broken = {
        i.node
        for f in report.findings
        for i in f.impacted
        if i.breaks and not i.preexisting and not i.node.startswith("dbt:")
    }
    broken |= {f.message.split(" ", 1)[0] for f in report.findings if f.rule == "TB108"}
    return broken


@pytest.mark.truth
def test_corpus_mutations_match_duckdb(record_figure: Callable[[str, str], None]) -> None:
    manifest = read_json(CORPORA / "jaffle-shop-expand.manifest.json.gz")
    catalog_json = read_json(CORPORA / "jaffle-shop-expand.catalog.json.gz")
    config = Config(dialect="duckdb")
    con = warehouse(manifest, catalog_json)  # every model builds at base, or this raises
    base = catalog_from_manifest(manifest, config, catalog_json)
    tp = fp = fn = with_breaks = 0
    misses = []
    for uid, kind, column in mutations(manifest, catalog_json, COUNT):
        node = manifest["nodes"][uid]
        head_manifest = copy.deepcopy(manifest)
        if kind == "drop_model":
            del head_manifest["nodes"][uid]
            con.execute(f"DROP VIEW {node['relation_name']}")
        else:
            code = mutated_sql(node["compiled_code"], kind, column)
            head_manifest["nodes"][uid]["compiled_code"] = code
            con.execute(f"CREATE OR REPLACE VIEW {node['relation_name']} AS {code}")
        truth = failing(con, manifest, downstream(manifest, uid))
        con.execute(f"CREATE OR REPLACE VIEW {node['relation_name']} AS {node['compiled_code']}")
        claimed = checker_broken(base, head_manifest, catalog_json, config)
        with_breaks += bool(truth)
        tp, fp, fn = tp + len(claimed & truth), fp + len(claimed - truth), fn + len(truth - claimed)
        if claimed != truth:
            misses.append(
                f"{kind} {uid}.{column}: extra {sorted(claimed - truth)[:5]}, "
                f"missed {sorted(truth - claimed)[:5]}"
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    record_figure(
        "corpus-truth",
        f"jaffle-shop-expand mutations: {COUNT} ({with_breaks} with "
        f"breaks), {tp} broken models found, precision {precision:.3f}, "
        f"recall {recall:.3f}",
    )
    assert not misses, misses
