"""Message schemas through the whole check: modes from config and from a committed registry
state file, transitive modes against the file's git history, and topics linked to tables
(a CDC topic as a consumer of the table's columns, a sink topic's table readers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.gitrepo import GitRepo

SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "report.schema.json").read_text())


def _avsc(*fields: dict[str, Any]) -> str:
    return json.dumps({"type": "record", "name": "Order", "namespace": "shop",
                       "fields": list(fields)}, indent=2)  # fmt: skip


ID = {"name": "id", "type": "long"}
AMOUNT = {"name": "amount", "type": "double"}
NOTE = {"name": "note", "type": ["null", "string"], "default": None}
TABLE = "CREATE SCHEMA raw;\nCREATE TABLE raw.orders (id BIGINT, amount DOUBLE, note VARCHAR);\n"
READER = "CREATE SCHEMA mart;\nCREATE VIEW mart.amounts AS SELECT id, amount FROM raw.orders;\n"


def _check(
    tmp_path: Path, base: dict[str, Any], head: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({".gitignore": ".impact-check/\n", **base}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(head, "head")
    code, report = repo.report("--base", "main", "--head", "feature")
    jsonschema.validate(report, SCHEMA)
    return code, report


def _rules(report: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in report["findings"]]


CDC = "topics:\n  orders-cdc: {table: raw.orders, schema: schemas/orders.avsc, owners: [pay]}\n"


def test_cdc_topic_breaks_when_a_column_its_schema_requires_is_dropped(tmp_path: Path) -> None:
    base = {"db/V1.sql": TABLE, "views/v.sql": READER,
            "schemas/orders.avsc": _avsc(ID, AMOUNT, NOTE), ".impact-check.yml": CDC}  # fmt: skip
    drop = "ALTER TABLE raw.orders DROP COLUMN amount;\nALTER TABLE raw.orders DROP COLUMN note;\n"
    code, report = _check(tmp_path, base, {"db/V2.sql": drop})
    assert code == 1
    by_column = {f["change"]: f for f in report["findings"] if f["rule"] == "CO201"}
    changes = {c["id"]: c["target"]["id"] for c in report["changes"]}
    topics = {
        changes[cid]: next(i for i in f["impacted"] if i["node"]["id"] == "kafka:orders-cdc")
        for cid, f in by_column.items()
    }
    assert topics["raw.orders#amount"]["breaks"]  # required: no default
    assert "requires field amount" in topics["raw.orders#amount"]["reason"]
    assert topics["raw.orders#amount"]["node"]["owners"] == ["pay"]
    assert not topics["raw.orders#note"]["breaks"]  # a nullable union with a null default


def test_cdc_topic_breaks_on_a_column_type_its_field_cannot_hold(tmp_path: Path) -> None:
    base = {"db/V1.sql": TABLE, "schemas/orders.avsc": _avsc(ID, AMOUNT, NOTE),
            ".impact-check.yml": CDC}  # fmt: skip
    retype = "ALTER TABLE raw.orders ALTER COLUMN amount TYPE VARCHAR;\n"
    code, report = _check(tmp_path, base, {"db/V2.sql": retype})
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["rule"] == "TY301"]
    (topic,) = finding["impacted"]
    assert topic["node"]["id"] == "kafka:orders-cdc" and topic["breaks"]


def test_sink_topic_change_lists_the_table_and_its_readers(tmp_path: Path) -> None:
    sink = ("topics:\n  orders-sink: {table: raw.orders, schema: schemas/orders.avsc, "
            "direction: sink, fields: {total: amount}}\n")  # fmt: skip
    total = {"name": "total", "type": "double"}
    base = {"db/V1.sql": TABLE, "views/v.sql": READER, "schemas/orders.avsc": _avsc(ID, total),
            ".impact-check.yml": sink}  # fmt: skip
    head = {"schemas/orders.avsc": _avsc(ID, {"name": "total", "type": "string"})}
    code, report = _check(tmp_path, base, head)
    assert code == 1
    (ms103,) = [f for f in report["findings"] if f["rule"] == "MS103"]
    assert ms103["location"]["file"] == "schemas/orders.avsc"
    impacted = {i["node"]["id"]: i for i in ms103["impacted"]}
    assert set(impacted) == {"raw.orders", "mart.amounts"}
    assert not any(i["breaks"] for i in impacted.values())
    assert impacted["mart.amounts"]["path"][:2] == ["kafka:orders-sink", "raw.orders#amount"]
    (change,) = [c for c in report["changes"] if c["kind"] == "message_schema_incompatible"]
    assert change["target"]["id"] == "kafka:orders-sink#total"


def test_transitive_mode_checks_every_earlier_version(tmp_path: Path) -> None:
    region = {"name": "region", "type": "string", "default": "eu"}
    repo = GitRepo(tmp_path / "repo")
    repo.commit({".gitignore": ".impact-check/\n", "schemas/orders.avsc": _avsc(ID)}, "v1")
    repo.commit({"schemas/orders.avsc": _avsc(ID, region)}, "v2")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"schemas/orders.avsc": _avsc(ID, {"name": "region", "type": "string"})}, "v3")
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0 and "MS101" not in _rules(report)  # v2 writes region: BACKWARD is met
    repo.commit({".impact-check.yml": "message_schemas: {compatibility: BACKWARD_TRANSITIVE}\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    (ms101,) = [f for f in report["findings"] if f["rule"] == "MS101"]
    assert "2 earlier versions" in ms101["message"] and "region" in ms101["message"]
    assert "MS119" not in _rules(report)
    limited = "message_schemas: {compatibility: BACKWARD_TRANSITIVE, max_versions: 1}\n"
    repo.commit({".impact-check.yml": limited})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0  # only v2 is read: the version without region is left out, and said
    (ms119,) = [f for f in report["findings"] if f["rule"] == "MS119"]
    assert "newest 1 were not read" in ms119["message"]


def test_modes_from_a_committed_registry_state_file(tmp_path: Path) -> None:
    state = (
        "compatibility: FORWARD\nsubjects:\n  - name: legacy-value\n"
        "    file: ../schemas/legacy.avsc\n    compatibility: NONE\n"
    )
    config = "message_schemas: {registry_file: registry/state.yml}\n"
    base = {"registry/state.yml": state, ".impact-check.yml": config,
            "schemas/orders.avsc": _avsc(ID, AMOUNT),
            "schemas/legacy.avsc": _avsc(ID, AMOUNT)}  # fmt: skip
    head = {"schemas/orders.avsc": _avsc(ID), "schemas/legacy.avsc": _avsc(ID)}
    code, report = _check(tmp_path, base, head)
    assert code == 1
    (ms101,) = [f for f in report["findings"] if f["rule"] == "MS101"]
    assert ms101["location"]["file"] == "schemas/orders.avsc"  # the legacy subject is NONE
    assert "FORWARD (registry/state.yml)" in ms101["message"]


def test_full_mode_checks_both_directions_and_json_reports_validate(tmp_path: Path) -> None:
    config = "message_schemas:\n  files: {'schemas/*.avsc': FULL}\n"
    base = {".impact-check.yml": config, "schemas/orders.avsc": _avsc(ID, AMOUNT)}
    head = {"schemas/orders.avsc": _avsc(ID, {"name": "region", "type": "string"})}
    code, report = _check(tmp_path, base, head)
    assert code == 1
    hits = sorted(f["message"].split(" ")[2] for f in report["findings"] if f["rule"] == "MS101")
    assert hits == ["amount", "region"]  # old readers need amount; new readers need region


def test_protobuf_field_number_change_names_the_new_number(tmp_path: Path) -> None:
    proto = (
        'syntax = "proto3";\npackage shop;\nmessage Order {\n  int64 id = 1;\n'
        "  double amount = 2;\n}\n"
    )
    moved = proto.replace("amount = 2", "amount = 7")
    code, report = _check(tmp_path, {"proto/order.proto": proto}, {"proto/order.proto": moved})
    assert code == 1
    messages = [f["message"] for f in report["findings"] if f["rule"] == "MS102"]
    assert messages and all("now has number 7" in m for m in messages)
    assert {f["location"]["line"] for f in report["findings"] if f["rule"] == "MS102"} == {3}


ORDER_PROTO = (
    'syntax = "proto3";\npackage shop;\nmessage Order {\n  int64 id = 1;\n  double amount = 2;\n}\n'
)
RENAMED_PROTO = ORDER_PROTO.replace("amount = 2", "total = 2")


def _ms_rules(report: dict[str, Any]) -> list[str]:
    return [r for r in _rules(report) if r.startswith("MS")]


def test_protobuf_rename_breaks_json_under_the_default_category(tmp_path: Path) -> None:
    code, report = _check(tmp_path, {"proto/order.proto": ORDER_PROTO},
                          {"proto/order.proto": RENAMED_PROTO})  # fmt: skip
    assert code == 1
    assert _ms_rules(report)


def test_protobuf_category_comes_from_buf_yaml_v1(tmp_path: Path) -> None:
    buf = "version: v1\nbreaking:\n  use:\n    - WIRE\n"
    base = {"proto/buf.yaml": buf, "proto/order.proto": ORDER_PROTO}
    code, report = _check(tmp_path, base, {"proto/order.proto": RENAMED_PROTO})
    assert _ms_rules(report) == []
    assert code == 0


def test_protobuf_category_comes_from_the_v2_module_holding_the_file(tmp_path: Path) -> None:
    buf = ("version: v2\nmodules:\n  - path: proto\n    breaking: {use: [WIRE]}\n"
           "  - path: strict\nbreaking:\n  use: [FILE]\n")  # fmt: skip
    base = {"buf.yaml": buf, "proto/order.proto": ORDER_PROTO, "strict/order.proto": ORDER_PROTO}
    head = {"proto/order.proto": RENAMED_PROTO, "strict/order.proto": RENAMED_PROTO}
    code, report = _check(tmp_path, base, head)
    files = {f["location"]["file"] for f in report["findings"] if f["rule"].startswith("MS")}
    assert files == {"strict/order.proto"}  # FILE is checked as WIRE_JSON
    assert code == 1


def test_configured_protobuf_rules_win_over_buf_yaml(tmp_path: Path) -> None:
    base = {"proto/buf.yaml": "version: v1\nbreaking: {use: [WIRE]}\n",
            "proto/order.proto": ORDER_PROTO,
            ".impact-check.yml": "message_schemas: {protobuf_rules: WIRE_JSON}\n"}  # fmt: skip
    code, report = _check(tmp_path, base, {"proto/order.proto": RENAMED_PROTO})
    assert _ms_rules(report)
    assert code == 1


def test_unreadable_buf_yaml_is_reported(tmp_path: Path) -> None:
    base = {"proto/buf.yaml": "version: v1\nbreaking: [\n", "proto/order.proto": ORDER_PROTO}
    _code, report = _check(tmp_path, base, {"proto/order.proto": RENAMED_PROTO})
    problems = [f for f in report["findings"] if f["rule"] == "MS119"]
    assert [f["location"]["file"] for f in problems] == ["proto/buf.yaml"]
    assert "MS" in "".join(_ms_rules(report)).replace("MS119", "")  # still checked, WIRE_JSON


# -- JSON Schemas nothing names as message schemas (configuration files' schemas) ----------

CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"dsn": {"type": "string"}, "log_level": {"type": "string"}},
}


def _named(config: dict[str, Any], registry: dict[str, str] | None = None) -> bool:
    from impact_check.messages.model import Registry
    from impact_check.messages.settings import MessageSchemaSettings, TopicLink, subject_of

    settings = MessageSchemaSettings(**config.get("message_schemas", {}))
    topics = {name: TopicLink(**link) for name, link in config.get("topics", {}).items()}
    found = Registry(
        subjects=dict(registry or {}), default="FULL" if registry is not None else None
    )
    return subject_of("embedx/config.schema.json", settings, topics, found).named


def test_what_names_a_json_schema_as_a_message_schema() -> None:
    path = "embedx/config.schema.json"
    assert not _named({})
    assert not _named({"message_schemas": {"compatibility": "FULL"}})  # a mode, for any file
    assert not _named({}, registry={})  # the registry's default mode, the file not listed
    assert _named({}, registry={path: "config-value"})
    assert _named({"message_schemas": {"files": {"embedx/*.schema.json": "BACKWARD"}}})
    assert _named({"message_schemas": {"subjects": {path: "FULL"}}})
    assert _named({"topics": {"cfg": {"table": "raw.t", "schema": path}}})


def test_a_tightened_config_file_schema_warns_unless_configured_as_a_message_schema(
    tmp_path: Path,
) -> None:
    """ory-style ``embedx/config.schema.json`` (the schema of the tool's own configuration)
    closed to additional properties: found only by its name, the finding says why it fails
    nothing; named in message_schemas.files, the same change is an error."""
    path = "embedx/config.schema.json"
    closed = {**CONFIG_SCHEMA, "additionalProperties": False}
    repo = GitRepo(tmp_path / "repo")
    repo.commit({path: json.dumps(CONFIG_SCHEMA, indent=2)}, "base")
    repo.commit({path: json.dumps(closed, indent=2)}, "closed")
    code, report = repo.report("--base", "HEAD~1", "--head", "HEAD")
    (finding,) = [f for f in report["findings"] if f["rule"] == "MS113"]
    assert (code, finding["severity"]) == (0, "warning")
    assert "no topic, message_schemas subject or files glob" in finding["message"]
    config = "message_schemas:\n  files: {'embedx/*.schema.json': BACKWARD}\n"
    repo.commit({".impact-check.yml": config}, "configured")
    code, report = repo.report("--base", "HEAD~2", "--head", "HEAD")
    (finding,) = [f for f in report["findings"] if f["rule"] == "MS113"]
    assert (code, finding["severity"]) == (1, "error")
    assert "no topic" not in finding["message"]
