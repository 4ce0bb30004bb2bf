"""Breaking changes between two versions of a ``.proto`` file, as ``buf breaking`` finds them.

The rules are those of buf's ``WIRE_JSON`` category (the default here: what a Kafka consumer
decoding binary or JSON-encoded messages relies on) or ``WIRE`` (binary only), reported
under buf's own rule ids. Messages and enums are matched by full name, fields by number.
Protobuf readers skip unknown fields and default missing ones, so these rules have no
reader/writer direction: every mode other than NONE runs the same check (against the
previous version, or every earlier one for the ``_TRANSITIVE`` modes). Not compared:
services and RPCs, extensions, editions features (``ENUM_SAME_JSON_FORMAT``,
``MESSAGE_SAME_JSON_FORMAT``). The tests run ``buf breaking`` on generated pairs as truth
(tests/messages/test_proto_truth.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from impact_check.messages.model import Incompatibility
from impact_check.messages.proto_parse import (
    MAX_ENUM,
    MAX_NUMBER,
    ProtoEnum,
    ProtoField,
    ProtoFile,
    ProtoMessage,
)

CATEGORIES = ("WIRE_JSON", "WIRE")

# buf's compatibility groups (bufbreakingcheck/util.go): kinds in one group may replace
# each other
_WIRE_JSON_GROUPS = {
    "int32": 1, "uint32": 1, "int64": 2, "uint64": 2, "fixed32": 3, "sfixed32": 3,
    "fixed64": 4, "sfixed64": 4, "bool": 5, "sint32": 6, "sint64": 7, "string": 8,
    "bytes": 9, "double": 10, "float": 11, "group": 12, "message": 13, "enum": 14,
}  # fmt: skip
_WIRE_GROUPS = {
    "int32": 1, "int64": 1, "uint32": 1, "uint64": 1, "bool": 1, "sint32": 2, "sint64": 2,
    "string": 3, "bytes": 4, "fixed32": 5, "sfixed32": 5, "fixed64": 6, "sfixed64": 6,
    "double": 7, "float": 8, "group": 9, "message": 10, "enum": 11,
}  # fmt: skip
_CARDINALITY_GROUPS = {
    "WIRE_JSON": {"optional": 1, "required": 2, "repeated": 3, "map": 4},
    "WIRE": {"optional": 1, "required": 2, "repeated": 3, "map": 3},
}


def proto_breaking(
    old: ProtoFile, new: ProtoFile, category: str = "WIRE_JSON"
) -> list[Incompatibility]:
    """What ``buf breaking`` (``category``) reports for ``new`` against ``old``."""
    out: list[Incompatibility] = []
    if old.package != new.package:
        message = f'File package changed from "{old.package}" to "{new.package}".'
        out.append(_hit("FILE_SAME_PACKAGE", message, new.package or "(package)", new.package_line))
    for name, before in old.messages.items():
        after = new.messages.get(name)
        if after is not None:
            out += _message(before, after, old, new, category)
    for name, enum_before in old.enums.items():
        enum_after = new.enums.get(name)
        if enum_after is not None:
            out += _enum(enum_before, enum_after, category)
    return out


def _message(
    before: ProtoMessage, after: ProtoMessage, old: ProtoFile, new: ProtoFile, category: str
) -> list[Incompatibility]:
    out = []
    rules = ["FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"]
    if category == "WIRE_JSON":
        rules.append("FIELD_NO_DELETE_UNLESS_NAME_RESERVED")
    for number, field in before.fields.items():
        if number in after.fields:
            continue
        for rule in rules:
            by_number = rule.endswith("NUMBER_RESERVED")
            if by_number and _covered(number, after.reserved):
                continue
            if not by_number and field.name in after.reserved_names:
                continue
            what = f'number "{number}"' if by_number else f'name "{field.name}"'
            message = (
                f'Previously present field "{number}" with name "{field.name}" on message '
                f'"{before.name}" was deleted without reserving the {what}.'
            )
            out.append(_hit(rule, message, f"{before.full_name}.{field.name}", after.line))
    for number, field in before.fields.items():
        now = after.fields.get(number)
        if now is not None:
            out += _field(field, now, after, old, new, category)
    required_before = {n for n, f in before.fields.items() if f.label == "required"}
    required_after = {n for n, f in after.fields.items() if f.label == "required"}
    for number in sorted(required_before ^ required_after):
        what = "deleted" if number in required_before else "added"
        line = after.fields[number].line if number in after.fields else after.line
        message = f'Message "{after.name}" had required field "{number}" {what}.'
        out.append(_hit("MESSAGE_SAME_REQUIRED_FIELDS", message, after.full_name, line))
    out += _reserved(before.reserved, after.reserved, before.reserved_names, after.reserved_names,
                     "message", after, MAX_NUMBER)  # fmt: skip
    return out


def _field(
    before: ProtoField,
    after: ProtoField,
    message: ProtoMessage,
    old: ProtoFile,
    new: ProtoFile,
    category: str,
) -> list[Incompatibility]:
    out = []
    path = f"{message.full_name}.{after.name}"
    where = f'Field "{after.number}" with name "{after.name}" on message "{message.name}"'
    if category == "WIRE_JSON" and before.name != after.name:
        message_text = (
            f'Field "{after.number}" on message "{message.name}" changed name from '
            f'"{before.name}" to "{after.name}".'
        )
        out.append(_hit("FIELD_SAME_NAME", message_text, path, after.line))
    if category == "WIRE_JSON" and before.json_name != after.json_name:
        message_text = (
            f'{where} changed option "json_name" from "{before.json_name}" to "{after.json_name}".'
        )
        out.append(_hit("FIELD_SAME_JSON_NAME", message_text, path, after.line))
    if (before.oneof is not None or after.oneof is not None) and before.oneof != after.oneof:
        message_text = f"{where} moved between oneofs ({before.oneof} -> {after.oneof})."
        out.append(_hit("FIELD_SAME_ONEOF", message_text, path, after.line))
    explicit = before.default is not None or after.default is not None
    if (
        explicit
        and _can_default(before)
        and _can_default(after)
        and (_default(before, old) != _default(after, new))
    ):
        message_text = f"{where} changed default value from {before.default} to {after.default}."
        out.append(_hit("FIELD_SAME_DEFAULT", message_text, path, after.line))
    if not message.map_entry:
        groups = _CARDINALITY_GROUPS[category]
        was, now = _cardinality(before), _cardinality(after)
        if groups[was] != groups[now]:
            message_text = f'{where} changed cardinality from "{was}" to "{now}".'
            rule = f"FIELD_{category}_COMPATIBLE_CARDINALITY"
            out.append(_hit(rule, message_text, path, after.line))
    out += _type(before, after, where, path, old, new, category)
    return out


def _type(
    before: ProtoField,
    after: ProtoField,
    where: str,
    path: str,
    old: ProtoFile,
    new: ProtoFile,
    category: str,
) -> list[Incompatibility]:
    rule = f"FIELD_{category}_COMPATIBLE_TYPE"
    groups = _WIRE_JSON_GROUPS if category == "WIRE_JSON" else _WIRE_GROUPS
    message = f'{where} changed type from "{before.type}" to "{after.type}".'
    if groups[before.kind] != groups[after.kind]:
        if category == "WIRE" and (before.kind, after.kind) == ("string", "bytes"):
            return []  # buf: string may evolve to bytes on the wire
        return [_hit(rule, message, path, after.line)]
    if before.kind in ("message", "group") and before.type != after.type:
        return [_hit(rule, message, path, after.line)]
    if before.kind == "enum" and before.type != after.type:
        was, now = old.enums.get(before.type), new.enums.get(after.type)
        if was is None or now is None or was.name != now.name or not _enum_subset(was, now):
            return [_hit(rule, message, path, after.line)]
    return []


def _enum_subset(before: ProtoEnum, after: ProtoEnum) -> bool:
    """Whether every value of ``before`` is in ``after`` (same name and number)."""
    now = {(name, number) for name, number, _ in after.values}
    return all((name, number) in now for name, number, _ in before.values)


def _can_default(field: ProtoField) -> bool:
    return field.label != "repeated" and field.kind not in ("message", "group")


def _default(field: ProtoField, file: ProtoFile) -> str:
    """The field's default value, normalised (unset: the type's zero value)."""
    if field.default is None:
        if field.kind == "enum":
            enum = file.enums.get(field.type)
            return enum.values[0][0] if enum and enum.values else ""
        return {"bool": "false", "string": "", "bytes": ""}.get(field.kind, "0")
    value = field.default.strip("\"'")
    try:
        return repr(float(int(value, 0)) if value.lstrip("-+").isalnum() else float(value))
    except ValueError:
        return value


def _cardinality(field: ProtoField) -> str:
    if field.is_map:
        return "map"
    if field.label in ("repeated", "required"):
        return field.label
    return "optional"


def _enum(before: ProtoEnum, after: ProtoEnum, category: str) -> list[Incompatibility]:
    out = []
    names_before: dict[int, set[str]] = {}
    for name, number, _ in before.values:
        names_before.setdefault(number, set()).add(name)
    names_after: dict[int, set[str]] = {}
    lines: dict[int, int] = {}
    for name, number, line in after.values:
        names_after.setdefault(number, set()).add(name)
        lines.setdefault(number, line)
    for number, names in sorted(names_before.items()):
        if number not in names_after:
            if not _covered(number, after.reserved):
                message = (
                    f'Previously present enum value "{number}" on enum "{after.name}" was '
                    f'deleted without reserving the number "{number}".'
                )
                out.append(_hit("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", message,
                                f"{after.full_name}.{min(names)}", after.line))  # fmt: skip
            if category == "WIRE_JSON" and not names <= after.reserved_names:
                message = (
                    f'Previously present enum value "{number}" on enum "{after.name}" was '
                    f"deleted without reserving the name{'s' if len(names) > 1 else ''} "
                    + ", ".join(f'"{n}"' for n in sorted(names))
                    + "."
                )
                out.append(_hit("ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", message,
                                f"{after.full_name}.{min(names)}", after.line))  # fmt: skip
        elif category == "WIRE_JSON" and not names_after[number] <= names:
            message = (
                f'Enum value "{number}" on enum "{after.name}" changed name from '
                f"{sorted(names)} to {sorted(names_after[number])}."
            )
            for _ in names_after[number]:  # buf reports it once per current name
                out.append(_hit("ENUM_VALUE_SAME_NAME", message,
                                f"{after.full_name}.{number}", lines[number]))  # fmt: skip
    out += _reserved(before.reserved, after.reserved, before.reserved_names,
                     after.reserved_names, "enum", after, MAX_ENUM)  # fmt: skip
    return out


def _reserved(
    ranges_before: list[tuple[int, int]],
    ranges_after: list[tuple[int, int]],
    names_before: set[str],
    names_after: set[str],
    what: str,
    element: ProtoMessage | ProtoEnum,
    top: int,
) -> list[Incompatibility]:
    rule = f"RESERVED_{what.upper()}_NO_DELETE"
    out = []
    for low, high in ranges_before:
        if not _range_covered(low, high, ranges_after):
            shown = (
                f"{low} to max" if high == top else f"{low} to {high}" if high != low else str(low)
            )
            message = (
                f'Previously present reserved range "{shown}" on {what} "{element.name}" is '
                "missing values."
            )
            out.append(_hit(rule, message, element.full_name, element.line))
    for name in sorted(names_before - names_after):
        message = (
            f'Previously present reserved name "{name}" on {what} "{element.name}" was deleted.'
        )
        out.append(_hit(rule, message, element.full_name, element.line))
    return out


def _covered(number: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(low <= number <= high for low, high in ranges)


def _range_covered(low: int, high: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether ``ranges`` together cover every number from ``low`` to ``high``."""
    start = low
    for r_low, r_high in sorted(ranges):
        if r_low > start:
            break
        start = max(start, r_high + 1)
        if start > high:
            return True
    return start > high


def _hit(kind: str, message: str, path: str, line: int | None) -> Incompatibility:
    return Incompatibility(kind, message, path, line)
