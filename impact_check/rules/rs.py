"""RS: row-set semantics. The query still runs; every consumer gets other rows."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "RS501",
        "filter-changed",
        S.WARNING,
        "A WHERE, HAVING or QUALIFY clause changed.",
        "Every consumer sees other rows. Check counts and totals downstream.",
    ),
    Rule(
        "RS502",
        "grain-changed",
        S.WARNING,
        "GROUP BY keys or DISTINCT changed.",
        "One row now stands for something else: joins on the old key may fan out and "
        "sums may double count.",
    ),
    Rule(
        "RS503",
        "join-changed",
        S.WARNING,
        "A join was added or removed, or its type or condition changed.",
        "Rows may be duplicated (fan-out) or dropped (inner join) for every consumer.",
    ),
    Rule(
        "RS504",
        "cardinality-changing-projection",
        S.WARNING,
        "An UNNEST/EXPLODE projection, or the projection under DISTINCT, changed.",
        "The number of rows per input row changed for every consumer.",
    ),
    Rule(
        "RS505",
        "source-relation-changed",
        S.WARNING,
        "The query reads a different relation.",
        "Swapping a source changes every row; make sure the new one has the same grain.",
    ),
    Rule(
        "RS506",
        "limit-or-sample-added",
        S.WARNING,
        "LIMIT, OFFSET or TABLESAMPLE changed.",
        "Consumers now see a subset of the rows.",
    ),
]
