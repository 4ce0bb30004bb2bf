"""impact-check: stop schema changes from silently breaking data and ML pipelines.

Public API (imported lazily, so ``impact-check --help`` stays fast)::

    from impact_check import check, resolve_revisions, load_config
    report, graph = check(root, resolve_revisions(root, base="main"), load_config(root))
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "check": "impact_check.check",
    "resolve_revisions": "impact_check.check",
    "Config": "impact_check.config",
    "load_config": "impact_check.config",
    "ImpactCheckError": "impact_check.errors",
    "Change": "impact_check.model",
    "Finding": "impact_check.model",
    "Impact": "impact_check.model",
    "Report": "impact_check.model",
    "LineageGraph": "impact_check.graph",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'impact_check' has no attribute {name!r}")


__all__ = ["__version__", *sorted(_EXPORTS)]
