"""Fetched lineage: one module per source kind, each returning a GraphFragment.

``fetch_all`` runs the configured sources; a source that fails gives a ``failed`` fragment
(and, in analysis, an AN905 finding) and never stops the check.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from impact_check.errors import ConfigError, SourceError
from impact_check.lineage_kinds import FETCHERS, known_kinds, unknown_kind_message
from impact_check.sources.base import FragmentEdge, FragmentNode, GraphFragment, SourceContext

if TYPE_CHECKING:
    from impact_check.config import LineageSource

# Kinds read before the catalogs are built: their dataset nodes with columns describe
# relations the repository does not define (sources/warehouse.external_relations).
CATALOG_KINDS = frozenset({"warehouse", "delta"})


def fetch_one(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Read one source; failures become a ``failed`` fragment naming the location. Once the
    check's time budget is spent, sources are ``skipped`` (and reported), not fetched."""
    name = spec.name or f"{spec.kind}:{spec.location}"
    if ctx.deadline is not None and ctx.deadline.note("fetching lineage sources"):
        detail = "not fetched: the check's time budget ran out"
        return GraphFragment(name, spec.kind, status="skipped", detail=detail)
    module = FETCHERS.get(spec.kind)
    if module is None:  # config validation refuses these; a caller building specs by hand
        raise ConfigError(unknown_kind_message(spec.kind) or spec.kind)
    try:
        fetch = importlib.import_module(module).fetch
        fragment: GraphFragment = fetch(spec, ctx)
    except SourceError as err:
        return GraphFragment(name, spec.kind, status="failed", detail=str(err))
    except Exception as err:  # a bug in one source must not cost the others or the check
        detail = f"internal error reading {name}: {type(err).__name__}"
        return GraphFragment(name, spec.kind, status="failed", detail=detail)
    fragment.name = name
    return fragment


def fetch_all(specs: Iterable[LineageSource], ctx: SourceContext) -> list[GraphFragment]:
    """Every configured source, in order."""
    return [fetch_one(spec, ctx) for spec in specs]


__all__ = [
    "CATALOG_KINDS",
    "FETCHERS",
    "FragmentEdge",
    "FragmentNode",
    "GraphFragment",
    "SourceContext",
    "fetch_all",
    "fetch_one",
    "known_kinds",
    "unknown_kind_message",
]
