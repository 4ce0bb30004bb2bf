"""CO: column presence and naming."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "CO201",
        "column-dropped",
        S.WARNING,
        "A column disappeared.",
        "Consumers that read the column no longer build. Deprecate first: keep the column "
        "until the consumers listed have moved.",
        breaking=True,
    ),
    Rule(
        "CO202",
        "column-renamed",
        S.WARNING,
        "A column was renamed.",
        "Consumers still read the old name. Add the new column beside the old one, or expose "
        "the old name as an alias, until every consumer has moved.",
        breaking=True,
    ),
    Rule(
        "CO203",
        "column-added",
        S.INFO,
        "A column was added.",
        "Adding a column is compatible for consumers that name their columns.",
    ),
    Rule(
        "CO204",
        "column-order-changed",
        S.INFO,
        "The order of the columns changed.",
        "Harmless for consumers that name columns; a warning when a consumer reads the "
        "relation with `*` or by position (INSERT without a column list, UNION).",
    ),
    Rule(
        "CO206",
        "required-column-added",
        S.WARNING,
        "A NOT NULL column without a default was added.",
        "Writers that do not set the new column will fail. Give it a DEFAULT or make it "
        "nullable first.",
    ),
    Rule(
        "CO207",
        "contract-unmet",
        S.ERROR,
        "A data contract declares a field its dataset no longer provides as promised.",
        "The SQL producing the dataset dropped, renamed or retyped a field the contract "
        "promises to its consumers. Restore the field, or version the contract.",
    ),
]
