"""TFX/TFDV schema.pbtxt files as typed feature contracts: the small text-format reader
agrees with tensorflow-metadata's parser; a schema next to a TFX pipeline is linked to the
table its ExampleGen query reads, without configuration; a required feature whose column goes
breaks (ML704), a column whose type no longer maps to the feature's type breaks (ML705)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check.sources.textproto import TextFormatError, parse
from impact_check.sources.tfx import TYPES

DATA = Path(__file__).parent / "data" / "tfx"
TFMD_VENV = Path(os.environ.get("IMPACT_CHECK_TFMD_VENV", "/tmp/impact-check-tfmd-venv"))


def _features(schema: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Our reading: feature -> (type, presence min_fraction, min_count, deprecated)."""
    out = {}
    for feature in schema.get("feature", []):
        presence = (feature.get("presence") or [{}])[-1]
        out[feature["name"][-1]] = (
            (feature.get("type") or [None])[-1],
            float((presence.get("min_fraction") or [0])[-1]),
            int((presence.get("min_count") or [0])[-1]),
            bool((feature.get("deprecated") or [False])[-1]),
        )
    return out


def _tfmd_features(dump: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        f["name"]: (
            f.get("type"),
            float(f.get("presence", {}).get("min_fraction", 0)),
            int(f.get("presence", {}).get("min_count", 0)),
            bool(f.get("deprecated", False)),
        )
        for f in dump.get("feature", [])
    }


def test_the_reader_agrees_with_tensorflow_metadata() -> None:
    python = TFMD_VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{python} missing: .ci/run creates the tensorflow-metadata venv")
        pytest.skip(f"tensorflow-metadata venv not installed ({python}; see .ci/run)")
    files = sorted(DATA.glob("*.pbtxt"))
    proc = subprocess.run(
        [str(python), str(DATA / "tfmd_dump.py"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dumps = json.loads(proc.stdout)
    for path in files:
        ours = _features(parse(path.read_text()))
        assert ours == _tfmd_features(dumps[str(path)]), path.name
        assert {t for t, *_ in ours.values()} <= set(TYPES)


@pytest.mark.parametrize(
    ("text", "line"),
    [("feature {\n  name: 'x'\n", 2), ("feature {\n  name 'x'\n}\n", 2), ("a: b: c", 1)],
)
def test_bad_text_format_names_the_line(text: str, line: int) -> None:
    with pytest.raises(TextFormatError) as caught:
        parse(text)
    assert caught.value.line == line


def test_depth_is_bounded() -> None:
    with pytest.raises(TextFormatError, match="nested deeper"):
        parse("a {" * 200 + "}" * 200)


TRIPS = (
    "CREATE SCHEMA taxi;\n"
    "CREATE TABLE taxi.trips (company VARCHAR, fare DOUBLE, trip_seconds BIGINT, "
    "tips DOUBLE, note VARCHAR);\n"
)
PIPELINE = """\
from tfx.components import ImportSchemaGen
from tfx.extensions.google_cloud_big_query.example_gen.component import BigQueryExampleGen

QUERY = "SELECT * FROM taxi.trips"
example_gen = BigQueryExampleGen(query=QUERY)
schema_gen = ImportSchemaGen(schema_file="pipeline/schema/schema.pbtxt")
"""
SCHEMA = (DATA / "schema.pbtxt").read_text() + 'feature {\n  name: "tips"\n  type: FLOAT\n}\n'


def _repo(tmp_path: Path, config: str | None = None) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    files = {
        "db/V1__trips.sql": TRIPS,
        "pipeline/pipeline.py": PIPELINE,
        "pipeline/schema/schema.pbtxt": SCHEMA,
    }
    if config:
        files[".impact-check.yml"] = config
    repo.commit(files, "base")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def _verdicts(report: dict[str, Any], rule: str | None = None) -> dict[str, bool]:
    return {
        i["node"]["id"]: i["breaks"]
        for f in report["findings"]
        if rule is None or f["rule"] == rule
        for i in f["impacted"]
        if i["node"]["id"].startswith("tfx:feature/")
    }


def test_a_required_features_column_dropped_breaks_it_and_an_optional_one_is_affected(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    repo.commit({"db/V2.sql": "ALTER TABLE taxi.trips DROP COLUMN fare;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    ml704 = _verdicts(report, "ML704")
    assert ml704 == {"tfx:feature/pipeline/schema/schema.pbtxt/fare": True}
    (finding,) = [f for f in report["findings"] if f["rule"] == "ML704"]
    assert "TFX schema pipeline/schema/schema.pbtxt" in finding["message"]
    source = next(s for s in report["sources"] if s["kind"] == "tfx")
    assert source["name"] == "tfx:. (discovered)" and source["counts"]["features"] == 4

    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "optional")
    repo.commit({"db/V2.sql": "ALTER TABLE taxi.trips DROP COLUMN tips;\n"})
    code, report = repo.report("--base", "main", "--head", "optional")
    assert _verdicts(report) == {"tfx:feature/pipeline/schema/schema.pbtxt/tips": False}
    assert code == 0


@pytest.mark.parametrize(
    ("change", "breaks"),
    [
        ("ALTER TABLE taxi.trips ALTER COLUMN trip_seconds TYPE VARCHAR;", True),
        ("ALTER TABLE taxi.trips ALTER COLUMN fare TYPE BIGINT;", True),
        ("ALTER TABLE taxi.trips ALTER COLUMN fare TYPE DECIMAL(10,2);", False),
        ("ALTER TABLE taxi.trips ALTER COLUMN trip_seconds TYPE INTEGER;", False),
    ],
)
def test_a_type_that_no_longer_maps_to_the_feature_type_breaks(
    tmp_path: Path, change: str, breaks: bool
) -> None:
    repo = _repo(tmp_path)
    repo.commit({"db/V2.sql": change + "\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert bool(_verdicts(report, "ML705")) == breaks
    assert all(_verdicts(report, "ML705").values())
    assert code == (1 if breaks else 0)


def test_a_configured_schema_takes_its_table_from_options(tmp_path: Path) -> None:
    config = (
        "lineage:\n  - kind: tfx\n    location: pipeline/schema/schema.pbtxt\n"
        "    options: {dataset: taxi.trips}\n"
    )
    repo = _repo(tmp_path, config)
    repo.commit({"db/V2.sql": "ALTER TABLE taxi.trips RENAME COLUMN company TO vendor;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert _verdicts(report, "ML704") == {"tfx:feature/pipeline/schema/schema.pbtxt/company": True}
    assert [s["name"] for s in report["sources"]] == ["tfx:pipeline/schema/schema.pbtxt"]
    assert code == 1


def test_an_unreadable_schema_is_dq819_with_file_and_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    repo.commit(
        {
            "db/V2.sql": "ALTER TABLE taxi.trips DROP COLUMN note;\n",
            "pipeline/schema/schema.pbtxt": 'feature {\n  name: "fare"\n  type FLOAT\n}\n',
        }
    )
    _code, report = repo.report("--base", "main", "--head", "feature")
    (dq819,) = [f for f in report["findings"] if f["rule"] == "DQ819"]
    assert dq819["location"] == {"file": "pipeline/schema/schema.pbtxt", "line": 3}
