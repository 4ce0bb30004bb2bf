"""TY: type changes, classified by the dialect-aware lattice in sql/types.py."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "TY301",
        "type-incompatible",
        S.WARNING,
        "A column changed to another type family.",
        "Operations that need the old type (arithmetic, sum, comparisons with literals) fail "
        "in consumers. Add a new column with the new type instead.",
        breaking=True,
    ),
    Rule(
        "TY302",
        "type-narrowed",
        S.WARNING,
        "A column's type got smaller (length, precision, range).",
        "Existing values may not fit and typed consumers may truncate. Widen instead, or "
        "migrate consumers first.",
        breaking=True,
    ),
    Rule(
        "TY303",
        "type-widened",
        S.INFO,
        "A column's type got wider.",
        "Compatible for readers; typed consumers (contracts, ML signatures) may need updating.",
    ),
    Rule(
        "TY304",
        "type-alias-only",
        S.INFO,
        "A type is spelled differently but is the same.",
        "Nothing to do: this never fails the check.",
    ),
    Rule(
        "TY305",
        "nested-field-removed",
        S.WARNING,
        "A struct field was removed or renamed.",
        "Consumers reading the field (col.field) fail. Keep the field until they moved.",
        breaking=True,
    ),
]
