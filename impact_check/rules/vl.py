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
    Rule(
        "VL603",
        "accepted-values-removed",
        S.WARNING,
        "A column's accepted values (dbt accepted_values, a contract's enum) lost values.",
        "Consumers that filter or branch on a removed value silently get fewer rows; "
        "categorical features meet an unseen vocabulary. Check each consumer listed.",
    ),
    Rule(
        "VL604",
        "accepted-values-added",
        S.INFO,
        "A column's accepted values gained values (or lost their restriction).",
        "Consumers with a fixed vocabulary (CASE branches, one-hot ML features) meet values "
        "they do not handle; others are unaffected.",
    ),
]
