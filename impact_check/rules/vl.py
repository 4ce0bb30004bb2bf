"""VL: values and expressions."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "VL601",
        "expression-changed",
        S.INFO,
        "A derived dataset's definition changed.",
        "The values or rows of its consumers may change; review the consumers listed.",
    ),
]
