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
    Rule(
        "CN407",
        "dbt-not-null-test-removed",
        S.WARNING,
        "A dbt not_null test was removed from a model's column.",
        "Consumers may now see NULLs. A dbt test checks data, it is not a schema: this is "
        "never an error by itself (at most a warning; `rules: {CN407: info}` lowers it).",
    ),
    Rule(
        "CN408",
        "dbt-unique-test-removed",
        S.WARNING,
        "A dbt unique test was removed from a model's column.",
        "Consumers joining or grouping on the column may fan out when duplicates appear. A "
        "dbt test checks data, it is not a schema: never an error by itself, even when "
        "consumers join on the column (unlike a removed UNIQUE constraint, CN403).",
    ),
    Rule(
        "CN409",
        "dbt-test-relaxed",
        S.INFO,
        "A dbt not_null or unique test was relaxed (severity: warn, a where filter, "
        "error_if/warn_if thresholds).",
        "Failures of the test no longer stop the build; consumers may see NULLs or "
        "duplicates it used to stop. Never an error by itself.",
    ),
]
