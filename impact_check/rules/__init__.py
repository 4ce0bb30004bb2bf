"""The rule catalogue: stable codes and slugs, one module per family."""

from __future__ import annotations

from impact_check.model import Change
from impact_check.rules import an, cn, co, ml, ms, rs, tb, ty, vl
from impact_check.rules.base import Rule

RULES: dict[str, Rule] = {
    rule.code: rule for module in (tb, co, ty, cn, rs, vl, ml, ms, an) for rule in module.RULES
}

_BY_KIND = {
    "table_dropped": "TB101",
    "version_removed": "TB107",
    "contract_changed": "TB104",
    "table_renamed": "TB102",
    "column_dropped": "CO201",
    "column_renamed": "CO202",
    "column_added": "CO203",
    "default_changed": "CN405",
    "expression_changed": "VL601",
    "column_reordered": "CO204",
    "materialization_changed": "TB105",
    "aggregation_changed": "VL602",
    "filter_changed": "RS501",
    "grain_changed": "RS502",
    "join_changed": "RS503",
    "cardinality_changed": "RS504",
    "source_changed": "RS505",
    "limit_changed": "RS506",
}
_TYPE_RULES = {
    "nested_removed": "TY305",
    "incompatible": "TY301",
    "narrowed": "TY302",
    "widened": "TY303",
    "alias": "TY304",
    "unknown": "TY304",
}


def rule_for(change: Change) -> Rule | None:
    """The rule a change triggers, or None (e.g. a table added)."""
    if change.kind == "type_changed" and change.types is not None:
        from impact_check.sql.types import compare

        return RULES[_TYPE_RULES[compare(*change.types)]]
    if change.kind == "nullability_changed":
        return RULES["CN401" if change.after == "NULL" else "CN402"]
    if change.kind == "constraint_changed" and change.column is None:
        return RULES["CN406"] if change.after is None else None
    if change.kind == "constraint_changed":
        return RULES["CN403" if change.after is None else "CN404"]
    if change.kind == "accepted_values_changed":
        before = change.before if isinstance(change.before, list) else []
        after = change.after if isinstance(change.after, list) else before  # None: any value
        removed = set(before) - set(after)
        return RULES["VL603" if removed else "VL604"]
    if change.kind == "column_added" and _required(change):
        return RULES["CO206"]
    code = _BY_KIND.get(change.kind)
    return RULES[code] if code else None


def _required(change: Change) -> bool:
    described = str(change.after or "")
    return change.dataset_kind == "table" and "NOT NULL" in described and "DEFAULT" not in described


__all__ = ["RULES", "Rule", "rule_for"]
