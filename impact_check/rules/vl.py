"""VL: values and expressions. Consumers are affected (values change), never broken."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "VL601",
        "expression-changed",
        S.WARNING,
        "An output column computes something else.",
        "Only the consumers of that column are affected; check that they expect the new "
        "values (formatting-only edits never trigger this rule).",
    ),
    Rule(
        "VL602",
        "aggregation-changed",
        S.WARNING,
        "An output column moved between aggregate and row-level.",
        "The column's meaning changed: per-group values became per-row values or the "
        "reverse. Review every consumer listed.",
    ),
]
