"""Message schema findings (MS family) for the changed schema files of a diff; no I/O.

Each changed ``.avsc`` / ``.proto`` / ``.schema.json`` file is checked against its previous
version (its earlier versions, oldest first, under a ``_TRANSITIVE`` mode: the edge reads
them from git) under its subject's mode (messages.settings.subject_of):

- Avro and JSON Schema: BACKWARD checks that the new version reads what the old one wrote,
  FORWARD the reverse, FULL both;
- Protobuf: ``buf breaking`` rules, which have no direction: any mode but NONE checks.

Every incompatibility is one finding (MS101–MS113) at the head file's line, with a change
whose target is the topic's field (``kafka:<topic>#<field>``) or the file's
(``schema:<path>#<field>``). A topic fed into a table by a sink (``direction: sink``) lists
the table and its readers as affected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from impact_check.messages.formats import is_schema, parse_schema, schema_format
from impact_check.messages.model import (
    Incompatibility,
    SchemaReadError,
    Subject,
    directions,
    line_of,
    transitive,
)
from impact_check.model import Change, Finding, Impact, Location, Snapshot, Unanalyzed, column_id
from impact_check.rules import RULES

if TYPE_CHECKING:
    from impact_check.graph import LineageGraph
    from impact_check.impact import Bindings
    from impact_check.messages.topics import Topic

RULE_OF = {
    # avro (the avro package's SchemaIncompatibilityType)
    "reader_field_missing_default_value": "MS101",
    "type_mismatch": "MS103",
    "name_mismatch": "MS105",
    "missing_enum_symbols": "MS106",
    "missing_union_branch": "MS107",
    "fixed_size_mismatch": "MS108",
    # buf breaking rule ids
    "MESSAGE_SAME_REQUIRED_FIELDS": "MS101",
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": "MS102",
    "FIELD_NO_DELETE_UNLESS_NAME_RESERVED": "MS102",
    "FIELD_WIRE_JSON_COMPATIBLE_TYPE": "MS103",
    "FIELD_WIRE_COMPATIBLE_TYPE": "MS103",
    "FIELD_SAME_NAME": "MS104",
    "FIELD_SAME_JSON_NAME": "MS104",
    "FILE_SAME_PACKAGE": "MS105",
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": "MS106",
    "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED": "MS106",
    "ENUM_VALUE_SAME_NAME": "MS106",
    "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY": "MS109",
    "FIELD_WIRE_COMPATIBLE_CARDINALITY": "MS109",
    "FIELD_SAME_ONEOF": "MS110",
    "RESERVED_MESSAGE_NO_DELETE": "MS111",
    "RESERVED_ENUM_NO_DELETE": "MS111",
    "FIELD_SAME_DEFAULT": "MS112",
    # JSON Schema (ours)
    "required_added": "MS101",
    "property_removed_from_closed_model": "MS102",
    "type_narrowed": "MS103",
    "schema_closed": "MS103",
    "enum_narrowed": "MS106",
    "additional_properties_closed": "MS113",
    "property_added_to_open_model": "MS113",
    "constraint_narrowed": "MS113",
    "keyword_not_compared": "MS118",
}


# JSON Schema describes configuration files as often as messages (``config.schema.json``):
# found only by its name, with nothing naming it a message schema, its findings fail nothing
UNNAMED_JSON_SCHEMA = (
    "a warning, not an error: no topic, message_schemas subject or files glob, or registry "
    "state file names this JSON Schema as a message schema (it may describe a configuration "
    "file); name it in message_schemas.files to check it as one"
)


@dataclass
class MessageResults:
    """What the message schema check adds to a report."""

    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unanalyzed: list[Unanalyzed] = field(default_factory=list)


@dataclass(frozen=True)
class SchemaCheck:
    """What the check reads besides the files (the edge takes it from the configuration
    and the registry state file): each schema file's subject and mode, the registry state
    file's path and the problem reading it, and the limits."""

    subject_of: Callable[[str], Subject]
    registry_file: str | None
    registry_problem: tuple[str, int | None] | None  # (message, line)
    max_depth: int  # limits.max_nesting_depth
    max_versions: int  # message_schemas.max_versions
    protobuf_rules_of: Callable[[str], str]  # .proto path -> buf breaking category
    # buf.yaml files that cannot be read: (path, message, line); reported with a .proto change
    buf_problems: tuple[tuple[str, str, int | None], ...] = ()


def message_findings(
    base: Snapshot,
    head: Snapshot,
    changed: Iterable[Any],
    check: SchemaCheck,
    graph: LineageGraph,
    topics: list[Topic] | None = None,
    history: Mapping[str, list[str]] | None = None,
) -> MessageResults:
    """MS findings for the changed message schema files (``changed``: analysis.ChangedFile),
    and MS119 for configured topics whose schema cannot be read."""
    from impact_check.impact import Bindings as Reasons

    bindings = Reasons({}, {})  # sink readers are affected, never broken, by a topic change
    results = MessageResults()
    changed = list(changed)
    changed_paths = {c.path for c in changed}
    for topic in topics or []:
        if topic.problem and topic.schema in changed_paths | {""}:
            continue  # the file's own check reports it
        if topic.problem:
            message = f"topics.{topic.name}: schema {topic.schema}: {topic.problem}"
            results.findings.append(RULES["MS119"].finding(message))
    registry_path = check.registry_file
    if check.registry_problem and any(c.path == registry_path for c in changed):
        message, line = check.registry_problem
        _unreadable(results, f"registry state file: {message}", registry_path or "", line)
    if any(schema_format(c.path) == "protobuf" for c in changed):
        for buf_path, message, line in check.buf_problems:
            _unreadable(results, f"buf.yaml {message}; WIRE_JSON used", buf_path, line)
    by_name = {topic.name: topic for topic in topics or []}
    for change in changed:
        path, old_path = change.path, change.old_path or change.path
        if not (is_schema(path) or is_schema(old_path)):
            continue
        subject = check.subject_of(path)
        if change.status == "deleted":
            if subject.mode != "NONE" and is_schema(path):
                _deleted(results, path, subject)
            continue
        if subject.mode == "NONE" or not is_schema(path):
            continue
        sink = by_name.get(subject.topic or "")
        _check_file(results, base, head, path, old_path, subject, check, graph, bindings,
                    (history or {}).get(path), sink)  # fmt: skip
    return results


def _text(snapshot: Snapshot, path: str) -> str | None:
    content = snapshot.files.get(path)
    if content is None or content.data is None:
        return None
    return content.data.decode("utf-8", "replace")


def _check_file(
    results: MessageResults,
    base: Snapshot,
    head: Snapshot,
    path: str,
    old_path: str,
    subject: Subject,
    check: SchemaCheck,
    graph: LineageGraph,
    bindings: Bindings,
    history: list[str] | None,
    topic: Topic | None,
) -> None:
    fmt = schema_format(path) or ""
    new_text = _text(head, path)
    old_text = _text(base, old_path)
    depth = check.max_depth
    if new_text is None:
        return
    try:
        new = parse_schema(fmt, new_text, depth)
    except SchemaReadError as err:
        _unreadable(results, str(err), path, err.line)
        return
    limit = check.max_versions
    earlier = list(history) if history and transitive(subject.mode) else []
    cut = len(earlier) > limit  # the edge reads one more than the limit to tell
    earlier = earlier[-limit:]
    if old_text is not None and (not earlier or earlier[-1] != old_text):
        earlier.append(old_text)
    if not earlier:
        return  # a new subject: nothing to be compatible with
    found: dict[tuple[str, str, str], Incompatibility] = {}
    versions = earlier if transitive(subject.mode) else earlier[-1:]
    unreadable = 0
    for text in versions:
        try:
            old = parse_schema(fmt, text, depth)
        except SchemaReadError as err:
            if text is old_text:
                where = f"{old_path} at base" + (f", line {err.line}" if err.line else "")
                _unreadable(results, f"the previous version cannot be read ({where}: {err})",
                            path, None)  # fmt: skip
            else:
                unreadable += 1
            continue
        for hit in _compare(fmt, old, new, subject.mode, check.protobuf_rules_of(path), new_text):
            key = (hit.kind, hit.path, hit.message)
            if key not in found:
                found[key] = hit
    if unreadable or cut:  # compared with fewer versions than the mode asks: say so
        parts = []
        if unreadable:
            parts.append(f"{unreadable} earlier version(s) in its git history cannot be parsed")
        if cut:
            parts.append(f"versions older than the newest {limit} were not read (max_versions)")
        message = f"{path}: {subject.mode} compared with fewer versions: {'; '.join(parts)}"
        results.findings.append(RULES["MS119"].finding(message, Location(path)))
    for hit in found.values():
        _finding(results, hit, path, subject, topic, graph, bindings, len(versions), new)


def _compare(
    fmt: str, old: Any, new: Any, mode: str, protobuf_rules: str, new_text: str
) -> list[Incompatibility]:
    backward, forward = directions(mode)
    if fmt == "protobuf":
        from impact_check.messages.proto_compat import proto_breaking

        return proto_breaking(old, new, protobuf_rules)
    from impact_check.messages.avro import avro_compatibility
    from impact_check.messages.json_schema import json_schema_compatibility

    check: Any = avro_compatibility if fmt == "avro" else json_schema_compatibility
    out = list(check(new, old)) if backward else []
    if forward:  # the old version is the reader: its lines are base lines, find head's
        out += [_head_line(hit, new_text) for hit in check(old, new)]
    return out


def _head_line(hit: Incompatibility, text: str) -> Incompatibility:
    name = hit.field or hit.path.rstrip("/").rsplit("/", 1)[-1]
    match = re.search('"' + re.escape(name) + '"', text) if name else None
    line = line_of(text, match.start()) if match else 1
    return Incompatibility(hit.kind, hit.message, hit.path, line, hit.field)


def _finding(
    results: MessageResults,
    hit: Incompatibility,
    path: str,
    subject: Subject,
    topic: Topic | None,
    graph: LineageGraph,
    bindings: Bindings,
    versions: int,
    new: Any,
) -> None:
    rule = RULES[RULE_OF.get(hit.kind, "MS103")]
    target = f"kafka:{subject.topic}" if subject.topic else f"schema:{path}"
    guessed = schema_format(path) == "json" and not subject.named
    field_name = hit.field or _proto_field(hit, new)
    against = "the previous version" if versions == 1 else f"{versions} earlier versions"
    message = (
        f"{hit.message} ({hit.kind} at {hit.path}); subject {subject.name} is "
        f"{subject.mode} ({subject.because}), checked against {against}"
    )
    if hit.kind.startswith("FIELD_NO_DELETE") and field_name:
        moved = _renumbered(new, hit, field_name)
        if moved:
            message += (
                f"; field {field_name} now has number {moved}: a new number is a delete plus an add"
            )
    change = Change(
        id=f"C{len(results.changes) + 1}",  # renumbered after the catalog's changes
        kind="message_schema_incompatible",
        dataset=target,
        column=field_name,
        before=hit.kind,
        after=subject.mode,
        location=Location(path, hit.line),
        dataset_kind="topic" if subject.topic else "message_schema",
    )
    if guessed:
        message += f"; {UNNAMED_JSON_SCHEMA}"
    impacted = _sink_impacts(subject, field_name, topic, graph, bindings)
    finding = rule.finding(message, Location(path, hit.line), change, impacted)
    if guessed:
        from impact_check.model import Severity

        finding.ceiling = Severity.WARNING
    results.changes.append(change)
    results.findings.append(finding)


def _proto_field(hit: Incompatibility, new: Any) -> str | None:
    """The field of the root message a Protobuf hit names (``pkg.Msg.field``), if any."""
    roots = [m for m in getattr(new, "messages", {}).values() if not m.map_entry]
    if not roots:
        return None
    root = roots[0].full_name
    if hit.path.startswith(root + ".") and "." not in hit.path[len(root) + 1 :]:
        return hit.path[len(root) + 1 :]
    return None


def _renumbered(new: Any, hit: Incompatibility, name: str) -> int | None:
    message = getattr(new, "messages", {}).get(hit.path.rsplit(".", 1)[0])
    if message is None:
        return None
    return next((n for n, f in message.fields.items() if f.name == name), None)


def _sink_impacts(
    subject: Subject, field_name: str | None, topic: Topic | None, graph: LineageGraph,
    bindings: Bindings,
) -> list[Impact]:  # fmt: skip
    """A sink topic's table (and that table's readers): affected by the topic's change."""
    from impact_check.impact import impacts_of

    if topic is None or topic.direction != "sink":
        return []
    table = topic.table
    column = topic.field_columns.get(field_name, field_name).lower() if field_name else None
    start = column_id(table, column) if column and column_id(table, column) in graph else table
    node = topic.node_id
    reason = (
        f"the sink connector writes it from topic {subject.topic}, whose schema change is "
        "incompatible"
    )
    first = Impact(table, "table", False, [node, start], reason=reason, origin="kafka")
    first.column = column
    out = [first]
    probe = Change(
        id="", kind="expression_changed", dataset=table, column=column if start != table else None
    )
    for impact in impacts_of(probe, graph, bindings):
        impact.path = [node, *impact.path]
        out.append(impact)
    return out


def _deleted(results: MessageResults, path: str, subject: Subject) -> None:
    message = f"{path}: message schema of subject {subject.name} ({subject.mode}) deleted"
    finding = RULES["MS114"].finding(message, Location(path))
    if subject.topic:
        from impact_check.model import Severity

        finding.floor = Severity.ERROR
        finding.message += f"; topic {subject.topic} still uses it (topics.{subject.topic})"
    results.findings.append(finding)


def _unreadable(results: MessageResults, reason: str, path: str, line: int | None) -> None:
    results.findings.append(RULES["MS119"].finding(f"{path}: {reason}", Location(path, line)))
    results.unanalyzed.append(Unanalyzed(path, f"message schema not checked: {reason}", line))
