"""AN: limits of the analysis. Never a silent pass."""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

RULES = [
    Rule(
        "AN901",
        "sql-unparseable",
        S.WARNING,
        "A file or statement could not be analysed.",
        "Fix the SQL, set the right `dialect` (or `dialects` per path) in .impact-check.yml, "
        "or exclude the file. Error under --strict.",
    ),
    Rule(
        "AN902",
        "select-star-unresolved",
        S.WARNING,
        "`*` over a relation whose columns are unknown.",
        "Declare the relation's columns (DDL in the repository) or list the columns.",
    ),
    Rule(
        "AN903",
        "lineage-unresolved",
        S.WARNING,
        "Lineage could not be traced.",
        "Column references could not be attributed (unknown relation, ambiguous names) or "
        "a statement is not modelled.",
    ),
    Rule(
        "AN904",
        "non-sql-model-changed",
        S.WARNING,
        "A file the checker cannot analyse yet changed (dbt project, Jinja, Python).",
        "This file is listed under `unanalyzed`; review its consumers by hand.",
    ),
    Rule(
        "AN905",
        "lineage-source-failed",
        S.WARNING,
        "A lineage source could not be read (fully): the check is partial.",
        "The report's `sources` entry says why. Consumers only that source knows may be "
        "missing. `on_source_error: fail` makes this an error.",
    ),
    Rule(
        "AN906",
        "suppression-unused",
        S.WARNING,
        "An ignore entry is expired or matches nothing.",
        "Remove the entry or renew its expiry date.",
    ),
    Rule(
        "AN907",
        "suppression-invalid",
        S.WARNING,
        "A suppression comment is malformed, names an unknown rule or gives no reason.",
        "Write `-- impact-check: ignore[RULE] reason: why` on or just above the statement.",
    ),
    Rule(
        "AN908",
        "macro-not-rendered",
        S.WARNING,
        "A dbt model calls a macro (or var, env_var) the checker cannot expand.",
        "Its lineage may be incomplete. Give the checker a manifest with compiled code, or "
        "set the var in dbt_project.yml / --vars.",
    ),
    Rule(
        "AN909",
        "check-budget-exceeded",
        S.WARNING,
        "The check ran out of its time budget (--timeout): the report is partial.",
        "The files not analysed are listed under `unanalyzed`. Raise `timeout` in "
        ".impact-check.yml or --timeout; error under --strict.",
    ),
    Rule(
        "AN910",
        "feast-definition-unresolved",
        S.WARNING,
        "A Feast definition could not be read statically (syntax error, computed name, loop).",
        "The checker never imports feature repositories. Bind Feast objects to module-level "
        "names with literal names and sources, or point the `feast` source at a registry "
        "dump (`feast registry-dump`) or the registry server. Error under --strict.",
    ),
    Rule(
        "AN915",
        "git-object-missing",
        S.WARNING,
        "The clone lacks a file's content (a partial clone whose remote cannot be reached, "
        "an incomplete copy): the file is not analysed.",
        "A file missing at head keeps its base definition (it never reads as deleted); one "
        "missing at base reads as unchanged. Check out the repository in full "
        "(actions/checkout without `filter`, or a reachable remote for a partial clone). "
        "Error under --strict.",
    ),
]
