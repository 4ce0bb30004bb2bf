"""MS: message schemas (Avro, Protobuf, JSON Schema) against their subject's compatibility mode.

A changed schema file is compared with its previous version (every earlier version under a
``_TRANSITIVE`` mode) as the reference checkers do (impact_check/messages). An incompatible
change is an error: the registry refuses the new version, or the topic's readers fail on
what its writers now send, whoever they are. Which change triggers which rule, and how each
checker names it: docs/message-schemas.md.
"""

from __future__ import annotations

from impact_check.model import Severity as S
from impact_check.rules.base import Rule

_HELP_DEPRECATE = (
    "Readers of the topic that the repository cannot see rely on the subject's compatibility mode. "
)

RULES = [
    Rule(
        "MS101",
        "message-field-missing-default",
        S.ERROR,
        "A field readers need is not written by every version and has no default.",
        _HELP_DEPRECATE + "Give the field a default (Avro), keep it optional (JSON Schema, "
        "proto2), or add it in two steps: first with a default, then make writers send it.",
    ),
    Rule(
        "MS102",
        "message-field-deleted",
        S.ERROR,
        "A field was deleted in a way the subject's mode does not allow.",
        _HELP_DEPRECATE + "Protobuf: reserve the deleted field's number and name "
        '(`reserved 2; reserved "amount";`); a changed field number is a delete plus an add. '
        "JSON Schema: keep the property while the content model is closed.",
    ),
    Rule(
        "MS103",
        "message-field-type-changed",
        S.ERROR,
        "A field's type changed to one old data or old readers cannot convert.",
        _HELP_DEPRECATE + "Only promote (Avro int -> long -> float -> double, string <-> "
        "bytes; Protobuf within a wire-compatible group); otherwise add a new field.",
    ),
    Rule(
        "MS104",
        "message-field-renamed",
        S.ERROR,
        "A Protobuf field kept its number but changed its name or JSON name.",
        _HELP_DEPRECATE + "JSON-encoded readers look fields up by name: keep the name, or "
        "add the new field beside the old one.",
    ),
    Rule(
        "MS105",
        "message-type-renamed",
        S.ERROR,
        "A named type (Avro record, enum, fixed) or the Protobuf package was renamed.",
        _HELP_DEPRECATE + "Keep the name, or list the old full name in the type's `aliases`.",
    ),
    Rule(
        "MS106",
        "message-enum-values-removed",
        S.ERROR,
        "An enum lost symbols or values that writers may still send.",
        _HELP_DEPRECATE + "Keep the symbol, give the Avro enum a `default`, or reserve the "
        "Protobuf value's number and name.",
    ),
    Rule(
        "MS107",
        "message-union-branch-missing",
        S.ERROR,
        "A union (Avro) or anyOf/oneOf (JSON Schema) lost a branch writers may still use.",
        _HELP_DEPRECATE + "Keep the branch until no writer sends it (a transitive mode says when).",
    ),
    Rule(
        "MS108",
        "message-fixed-size-changed",
        S.ERROR,
        "An Avro fixed type changed its size.",
        _HELP_DEPRECATE + "Add a new fixed type and field instead.",
    ),
    Rule(
        "MS109",
        "message-cardinality-changed",
        S.ERROR,
        "A Protobuf field moved between singular, repeated, map and required.",
        _HELP_DEPRECATE + "Add a new field with the new cardinality and deprecate the old one.",
    ),
    Rule(
        "MS110",
        "message-oneof-changed",
        S.ERROR,
        "A Protobuf field moved into, out of or between oneofs.",
        _HELP_DEPRECATE + "Add a new field inside the oneof and deprecate the old one.",
    ),
    Rule(
        "MS111",
        "message-reserved-removed",
        S.ERROR,
        "A Protobuf reserved number range or name was removed.",
        _HELP_DEPRECATE + "Reservations keep old numbers and names from being reused with a "
        "different meaning: never remove them.",
    ),
    Rule(
        "MS112",
        "message-default-changed",
        S.ERROR,
        "A proto2 field's default value changed.",
        _HELP_DEPRECATE + "Readers of unset fields see different values: keep the default.",
    ),
    Rule(
        "MS113",
        "message-content-model-narrowed",
        S.ERROR,
        "A JSON Schema accepts less than writers may send: additional properties closed, a "
        "constraint tightened, or a new property constrains what was free. A JSON Schema "
        "no topic, message_schemas subject or files glob, or registry state file names as a "
        "message schema (a configuration file's schema) gets this and every MS finding as a "
        "warning.",
        _HELP_DEPRECATE + "Tighten in two steps: make writers comply first, then narrow the "
        "schema under a mode that checks it (FORWARD or FULL).",
    ),
    Rule(
        "MS114",
        "message-schema-deleted",
        S.WARNING,
        "A message schema file under a compatibility mode was deleted.",
        "The subject keeps its versions in the registry; readers of a topic still carrying "
        "it lose their schema in the repository. An error when a configured topic uses it.",
    ),
    Rule(
        "MS118",
        "message-schema-not-compared",
        S.WARNING,
        "A JSON Schema keyword that is not compared (allOf, not, if/then/else, …) changed.",
        "Review the change by hand; docs/message-schemas.md lists what is compared.",
    ),
    Rule(
        "MS119",
        "message-schema-unreadable",
        S.WARNING,
        "A message schema file (or the registry state file) could not be read.",
        "Fix the file at the line named; its compatibility was not checked.",
    ),
]
