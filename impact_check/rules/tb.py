"""TB: table and model level rules."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "TB101",
        "table-dropped",
        S.WARNING,
        "A table or view was dropped.",
        "Readers of a dropped relation fail. Keep a compatibility view with the old name, or "
        "migrate every consumer listed before dropping it.",
        breaking=True,
    ),
    Rule(
        "TB102",
        "table-renamed",
        S.WARNING,
        "A table or view was renamed.",
        "Readers still use the old name. Create a view with the old name "
        "(CREATE VIEW old AS SELECT * FROM new) until every consumer has moved.",
        breaking=True,
    ),
    Rule(
        "TB108",
        "definition-broken",
        S.ERROR,
        "A changed or added definition does not bind at head.",
        "The view or table definition reads something that does not exist at head or "
        "uses a column in an operation its type does not support. Fix the definition.",
    ),
    Rule(
        "TB109",
        "migration-reads-removed",
        S.ERROR,
        "A migration the diff adds or edits reads what an earlier migration dropped or renamed.",
        "Its INSERT, UPDATE, DELETE, SELECT or CREATE TABLE … AS runs once, on deploy, against "
        "the schema the earlier migrations leave: the relation or column is gone by then, so "
        "the deploy fails. Read the new name, or move the data before the earlier drop.",
    ),
    Rule(
        "TB110",
        "migration-alters-removed",
        S.ERROR,
        "A migration the diff adds or edits alters or drops what an earlier one removed.",
        "ALTER, RENAME or DROP (without IF EXISTS) of a relation or column an earlier "
        "migration already dropped or renamed fails on deploy. Use the current name, or IF "
        "EXISTS when the statement must be idempotent.",
    ),
    Rule(
        "TB104",
        "contract-enforcement-removed",
        S.WARNING,
        "A dbt model's enforced contract was switched off.",
        "Consumers lose the build-time guarantee of the model's columns and types. Keep the "
        "contract and publish a new model version for incompatible changes.",
    ),
    Rule(
        "TB107",
        "versioned-model-removed",
        S.WARNING,
        "A dbt model version was removed.",
        "Models that pin it with ref('model', v=N) no longer compile. Keep the version until "
        "its deprecation_date and migrate every pinned consumer first.",
        breaking=True,
    ),
    Rule(
        "TB105",
        "materialization-changed",
        S.INFO,
        "A relation changed between table, view and materialized view.",
        "Readers are unaffected; writers (INSERT) into a view fail, and refresh or storage "
        "costs change.",
    ),
]
