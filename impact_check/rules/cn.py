"""CN: constraints, nullability, keys, defaults."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "CN401",
        "not-null-relaxed",
        S.WARNING,
        "A NOT NULL constraint was removed.",
        "Consumers may now see NULLs where they assumed none (joins, counts, ML features).",
    ),
    Rule(
        "CN402",
        "not-null-tightened",
        S.INFO,
        "A column became NOT NULL.",
        "Readers are unaffected; writers that insert NULLs will fail.",
    ),
    Rule(
        "CN403",
        "primary-key-or-unique-removed",
        S.WARNING,
        "A primary key or unique constraint was removed.",
        "Consumers that join on the key may fan out when duplicates appear.",
    ),
    Rule(
        "CN404",
        "unique-added",
        S.INFO,
        "A primary key or unique constraint was added.",
        "Existing duplicate rows make the migration fail; writers may be rejected.",
    ),
    Rule(
        "CN405",
        "default-removed-or-changed",
        S.WARNING,
        "A column default changed.",
        "Writers that relied on the default now store another value or fail.",
    ),
    Rule(
        "CN406",
        "foreign-key-or-check-removed",
        S.INFO,
        "A FOREIGN KEY or CHECK constraint was removed.",
        "Consumers may now see orphan rows or values the check used to reject.",
    ),
]
