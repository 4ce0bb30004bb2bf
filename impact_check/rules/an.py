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
        "AN911",
        "statements-not-analysed",
        S.INFO,
        "Statements that may read tables could not be analysed (one summary per report).",
        "DO blocks, CALL, function bodies in languages other than SQL and PL/pgSQL, dynamic "
        "SQL (EXECUTE) and body statements that do not parse: what they read is not checked. "
        "Indexes, grants, comments, policies and other statements that change no table or "
        "view are read silently. Error under --strict.",
    ),
    Rule(
        "AN912",
        "coverage-dropped",
        S.WARNING,
        "The diff leaves models or views the checker can no longer analyse (they were "
        "analysed at base, or are new).",
        "Nothing reading them is checked. The report's coverage lists each with its reason. "
        "`coverage.max_drop` allows a number of models to drop; error under --strict.",
    ),
    Rule(
        "AN913",
        "coverage-below-minimum",
        S.WARNING,
        "Fewer models and views are analysed at head than `coverage.minimum` asks.",
        "The report's coverage lists what was not analysed and why.",
    ),
    Rule(
        "AN914",
        "break-rests-on-unknown",
        S.WARNING,
        "A changed or new model reads something the checker could not analyse at base "
        "either: whether it builds is not judged.",
        "A break must be proven from what is known; give the checker what it lacks for the "
        "upstream (a manifest, installed packages, declared columns). Error under --strict.",
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
