"""The architecture's one-way layers (docs/architecture.md), checked on the import graph.

Every module of ``impact_check`` belongs to one layer; a module may import only modules of
its own layer or of the layers its layer may use; no modules import each other in a circle
(imports inside functions count: they are dependencies too, only later). A new module must
be placed in a layer here; an exception that no longer occurs must be removed.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "impact_check"

# layer -> module patterns (dotted, relative to impact_check; "" is the package itself)
LAYERS: dict[str, tuple[str, ...]] = {
    # core types and helpers every layer may use
    "base": ("model", "errors", "budget", "safeload", "atomic", "identity", "digraph", "startup"),
    # the configuration model: read by the edge, which passes each step what it needs
    "config": ("config", "messages.settings", "lineage_kinds"),
    # reading a revision: git -> files
    "revision": ("git",),
    # understanding files, pure: SQL, then what a repository's files define
    "sql": ("sql", "sql.*"),
    # understanding message schema languages (Avro, Protobuf, JSON Schema), pure
    "schemas": (
        "messages",
        "messages.model",
        "messages.formats",
        "messages.avro",
        "messages.json_schema",
        "messages.proto_parse",
        "messages.proto_compat",
    ),
    "project": ("project", "project.*", "messages.schema_files", "messages.buf_config"),
    # lineage fetched from outside the repository (servers, files) -> fragments
    "sources": ("sources", "sources.*", "discover"),
    # the cache, a wrapper around the pure steps of reading files; project/loader.py is the
    # facade that loads a revision through it (exact names win over project.*)
    "cache": (
        "cache",
        "cache.*",
        "project.incremental",
        "project.loader",
        "project.revision_index",
    ),
    # analysis on loaded catalogs and fetched fragments, and the rule catalogue
    "analysis": (
        "analysis",
        "analysis.*",
        "diff",
        "graph",
        "impact",
        "bind",
        "carried",
        "external",
        "ml",
        "dq",
        "coverage",
        "contract_check",
        "messages.analysis",
        "messages.topics",
        "rules",
        "rules.*",
    ),
    # policy (severities, ignores, suppressions, fail-on) and the report formats
    "policy": ("policy", "suppressions", "report", "report.*"),
    # command line, CI, the check as a function, the demo
    "edge": (
        "",
        "__main__",
        "cli",
        "check",
        "pipeline",
        "trace",
        "demo",
        "github",
        "github.*",
        "config_reference",
    ),
}

# layer -> the layers it may import (besides itself)
MAY_USE: dict[str, set[str]] = {
    "base": set(),
    "config": {"base", "schemas"},
    "revision": {"base"},
    "sql": {"base"},
    "schemas": {"base"},
    "project": {"base", "sql", "schemas"},
    "sources": {"base", "config", "sql", "schemas", "project"},
    # the facade (project/loader.py, project/incremental.py) is where the configuration
    # becomes the ReadSettings the pure steps below take: it alone reads Config
    "cache": {"base", "config", "sql", "schemas", "project"},
    "analysis": {"base", "sql", "schemas"},
    "policy": {"base", "config", "analysis"},
    "edge": set(LAYERS),
}

# (importer, imported) edges that break the rules today, removed as the layers are cleaned
# up; each must still occur (a stale entry fails the test).
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

# import circles that exist today, by their modules (sorted); same rule as above
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(modules: dict[str, Path]) -> nx.DiGraph[str]:
    """importer -> imported, over impact_check's modules (any import, anywhere in a file)."""

    def resolve(name: str) -> str | None:
        name = name.removeprefix("impact_check").removeprefix(".")
        while name not in modules:
            if not name:
                return None
            name = name.rpartition(".")[0]
        return name

    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(modules)
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("impact_check")]
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("impact_check")
            ):
                targets = [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                found = resolve(target)
                if found is not None and found not in (module, ""):
                    graph.add_edge(module, found)
    return graph


def layer_of(module: str) -> str | None:
    for layer, patterns in LAYERS.items():
        if module in patterns:
            return layer
    for layer, patterns in LAYERS.items():
        if any(module == p or fnmatch(module, p) for p in patterns):
            return layer
    return None


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in _modules() if layer_of(m) is None)
    assert unplaced == [], f"place these modules in a layer (tests/test_layers.py): {unplaced}"


def test_layers_import_only_downwards() -> None:
    graph = _imports(_modules())
    found = set()
    for importer, imported in graph.edges:
        mine, theirs = layer_of(importer), layer_of(imported)
        assert mine is not None and theirs is not None
        if theirs != mine and theirs not in MAY_USE[mine]:
            found.add((importer, imported))
    new = sorted(found - KNOWN_EXCEPTIONS)
    assert new == [], "imports against the layers (docs/architecture.md): " + ", ".join(
        f"{a} ({layer_of(a)}) -> {b} ({layer_of(b)})" for a, b in new
    )
    stale = sorted(KNOWN_EXCEPTIONS - found)
    assert stale == [], f"no longer occur, remove from KNOWN_EXCEPTIONS: {stale}"


def test_no_import_circles() -> None:
    graph = _imports(_modules())
    cycles = {
        tuple(sorted(component))
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
    }
    new = sorted(cycles - KNOWN_CYCLES)
    assert new == [], f"modules importing each other in a circle: {new}"
    stale = sorted(KNOWN_CYCLES - cycles)
    assert stale == [], f"no longer occur, remove from KNOWN_CYCLES: {stale}"


def test_the_check_above_detects_a_circle_and_an_upward_import() -> None:
    """The checks can fail: a made-up import graph with both faults."""
    graph: nx.DiGraph[str] = nx.DiGraph([("model", "graph"), ("graph", "model")])
    assert [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert layer_of("graph") not in MAY_USE[str(layer_of("model"))]
