"""Truth for the message schema checks: the reference checkers run on generated schema pairs.

- Avro: the ``avro`` package's ReaderWriterCompatibilityChecker (what Schema Registry's Avro
  check is a port of): the set of incompatibility types must be equal, both directions.
- Protobuf: ``buf breaking`` (npm ``@bufbuild/buf``, installed by .ci/run) with the WIRE_JSON
  and WIRE categories: the multiset of rule ids must be equal.
- JSON Schema: no reference checker exists; the real ``jsonschema`` validator is the truth:
  documents valid under the writer schema that the reader rejects (witnesses) must exist
  exactly when the check finds an incompatibility.

CI runs a sample; ``IMPACT_CHECK_MESSAGE_PAIRS=all`` runs every generated pair (the figures
in docs/message-schemas.md come from that run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from impact_check.messages.avro import avro_compatibility, parse_avro
from impact_check.messages.buf_config import buf_categories
from impact_check.messages.json_schema import json_schema_compatibility, parse_json_schema
from impact_check.messages.proto_compat import proto_breaking
from impact_check.messages.proto_parse import parse_proto
from impact_check.model import FileContent, Snapshot
from tests.messages import avro_pairs, json_pairs, proto_pairs

FULL = os.environ.get("IMPACT_CHECK_MESSAGE_PAIRS") == "all"
BUF = os.environ.get("IMPACT_CHECK_BUF", "/tmp/impact-check-node/node_modules/.bin/buf")


def _count(ci: int, full: int) -> int:
    return full if FULL else ci


def test_avro_agrees_with_the_avro_package(record_figure: Callable[[str, str], None]) -> None:
    avro_schema = pytest.importorskip("avro.schema")
    from avro.compatibility import ReaderWriterCompatibilityChecker

    total = agree = incompatible = 0
    disagreements = []
    for name, old, new in avro_pairs.pairs(_count(120, 600)):
        for reader, writer, direction in ((new, old, "backward"), (old, new, "forward")):
            try:
                truth_result = ReaderWriterCompatibilityChecker().get_compatibility(
                    avro_schema.parse(reader), avro_schema.parse(writer)
                )
            except Exception:  # a pair the reference refuses to parse (a duplicate field)
                continue
            truth = {i.value for i in truth_result.incompatibilities}
            ours = {i.kind for i in avro_compatibility(parse_avro(reader), parse_avro(writer))}
            total += 1
            incompatible += bool(truth)
            if truth == ours:
                agree += 1
            else:
                disagreements.append((name, direction, truth, ours))
    record_figure(
        "messages-avro",
        f"Avro vs avro {_version('avro')}: {agree}/{total} checks agree "
        f"({incompatible} incompatible by the reference)",
    )
    assert incompatible > total // 4  # the generated set exercises both outcomes
    assert not disagreements, disagreements[:5]


def _buf() -> str:
    if Path(BUF).is_file():
        return BUF
    found = shutil.which("buf")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("buf is not installed; .ci/run installs @bufbuild/buf from npm")
    pytest.skip("buf not installed (npm install --prefix /tmp/impact-check-node @bufbuild/buf)")


def _buf_breaking(buf: str, tmp: Path, old: str, new: str, category: str) -> list[str]:
    for side, text in (("old", old), ("new", new)):
        folder = tmp / side
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "buf.yaml").write_text(f"version: v2\nbreaking:\n  use: [{category}]\n")
        (folder / "schema.proto").write_text(text)
    proc = subprocess.run(
        [buf, "breaking", str(tmp / "new"), "--against", str(tmp / "old"), "--error-format",
         "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 100), proc.stderr  # 100: breaking changes found
    return sorted(json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("category", ["WIRE_JSON", "WIRE"])
def test_protobuf_agrees_with_buf_breaking(
    category: str, tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    buf = _buf()
    total = agree = breaking = 0
    disagreements = []
    count = _count(25 if category == "WIRE_JSON" else 10, 200)
    for index, (name, old, new) in enumerate(proto_pairs.pairs(count)):
        truth = _buf_breaking(buf, tmp_path / str(index), old, new, category)
        ours = sorted(i.kind for i in proto_breaking(parse_proto(old), parse_proto(new), category))
        total += 1
        breaking += bool(truth)
        if truth == ours:
            agree += 1
        else:
            disagreements.append((name, truth, ours))
    version = subprocess.run([buf, "--version"], capture_output=True, text=True).stdout.strip()
    record_figure(
        f"messages-protobuf-{category}",
        f"Protobuf vs buf breaking {version} ({category}): {agree}/{total} pairs agree "
        f"on the rule ids ({breaking} breaking by buf)",
    )
    assert breaking > total // 4
    assert not disagreements, disagreements[:5]


def test_json_schema_agrees_with_jsonschema_witnesses(
    record_figure: Callable[[str, str], None],
) -> None:
    import jsonschema

    total = agree = incompatible = 0
    disagreements = []
    for name, old, new in json_pairs.pairs(_count(100, 400)):
        for reader_text, writer_text, direction in ((new, old, "backward"), (old, new, "forward")):
            reader, writer = json.loads(reader_text), json.loads(writer_text)
            check_reader = jsonschema.validators.validator_for(reader)(reader)
            check_writer = jsonschema.validators.validator_for(writer)(writer)
            documents = [
                d for d in json_pairs.witnesses(writer, writer) if check_writer.is_valid(d)
            ]
            failing = [d for d in documents if not check_reader.is_valid(d)]
            ours = json_schema_compatibility(
                parse_json_schema(reader_text), parse_json_schema(writer_text)
            )
            total += 1
            incompatible += bool(failing)
            if bool(failing) == bool(ours):
                agree += 1
            else:
                disagreements.append((name, direction, failing[:1], [i.kind for i in ours]))
    record_figure(
        "messages-json-schema",
        f"JSON Schema vs jsonschema {_version('jsonschema')} witnesses: {agree}/{total} checks "
        f"agree ({incompatible} with a witness document)",
    )
    assert incompatible > total // 5
    assert not disagreements, disagreements[:5]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


RENAME = (
    'syntax = "proto3";\npackage shop;\nmessage Order {\n  int64 id = 1;\n  double amount = 2;\n}\n'
)
BUF_YAMLS = {  # buf.yaml -> whether buf's category is one the checker implements exactly
    "version: v1\nbreaking:\n  use:\n    - WIRE\n": True,
    "version: v1\nbreaking: {use: [WIRE_JSON]}\n": True,
    "version: v2\nbreaking:\n  use: [WIRE]\n": True,
    "version: v1\n": False,  # buf's default FILE, checked as WIRE_JSON
    "version: v2\nbreaking:\n  use: [PACKAGE]\n": False,
}


@pytest.mark.parametrize("buf_yaml", list(BUF_YAMLS))
def test_buf_yaml_category_agrees_with_buf_breaking(buf_yaml: str, tmp_path: Path) -> None:
    buf = _buf()
    old, new = RENAME, RENAME.replace("amount = 2", "total = 2")
    for side, text in (("old", old), ("new", new)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "buf.yaml").write_text(buf_yaml)
        (tmp_path / side / "schema.proto").write_text(text)
    proc = subprocess.run(
        [buf, "breaking", str(tmp_path / "new"), "--against", str(tmp_path / "old"),
         "--error-format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 100), proc.stderr
    truth = sorted(json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip())
    snapshot = Snapshot({"p/buf.yaml": FileContent("p/buf.yaml", buf_yaml.encode())})
    category = buf_categories(snapshot).category_of("p/schema.proto") or "WIRE_JSON"
    ours = sorted(i.kind for i in proto_breaking(parse_proto(old), parse_proto(new), category))
    if BUF_YAMLS[buf_yaml]:
        assert ours == truth
    else:  # FILE and PACKAGE hold WIRE_JSON's rules and more: both break, or neither
        assert ours and set(ours) <= set(truth)
