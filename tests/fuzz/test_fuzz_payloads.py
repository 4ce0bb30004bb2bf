"""Every payload parser on main, fed random and mutated documents, raises nothing but its
documented error: dbt manifest.json and catalog.json (SourceError), schema.yml and
dbt_project.yml (never: problems become AN findings), the config (ConfigError) and GitHub
event payloads (UsageError).

Mutations start from real recorded payloads (tests/data) and replace one value anywhere in
the tree with a random JSON value, so the parsers see realistic documents with wrong types
in every place. IMPACT_CHECK_FUZZ_EXAMPLES sets the examples per property (default 50).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact_check.config import Config, _from_file, parse_config
from impact_check.errors import ConfigError, SourceError, UsageError
from impact_check.github.event import load_event
from impact_check.model import FileContent, Snapshot
from impact_check.project.loader import load_catalog
from impact_check.project.manifest import catalog_from_manifest, check_manifest

DATA = Path(__file__).parent.parent / "data"
EXAMPLES = int(os.environ.get("IMPACT_CHECK_FUZZ_EXAMPLES", "50"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
MANIFEST = json.loads((DATA / "dbt" / "manifest.json").read_text())
EVENTS = {p.stem: json.loads(p.read_text()) for p in sorted((DATA / "github").glob("*.json"))}
PROJECT = {
    str(p.relative_to(DATA / "jaffle_project")): p.read_bytes()
    for p in (DATA / "jaffle_project").rglob("*")
    if p.is_file()
}
COUNTS: dict[str, int] = {}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    paths = _paths(document)
    result = document
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        try:
            result = _replace(result, path, draw(json_values))
        except (KeyError, IndexError, TypeError):  # an earlier mutation removed the path
            continue
    return result


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


@SETTINGS
@given(st.one_of(mutated(MANIFEST), json_values), st.one_of(st.none(), json_values))
def _manifest(manifest: Any, catalog_json: Any) -> None:
    _count("manifest")
    if not isinstance(manifest, dict):
        return  # fetch_json refuses non-objects before any parser sees them
    try:
        check_manifest(manifest, "manifest.json")
    except SourceError:
        pass
    else:  # what check() does next with a manifest that passed: dbt projects use it
        snapshot = Snapshot({p: FileContent(p, b) for p, b in PROJECT.items()})
        load_catalog(snapshot, Config(), manifest)
    with contextlib.suppress(SourceError):
        catalog_from_manifest(
            manifest, Config(), catalog_json if isinstance(catalog_json, dict) else None
        )


@SETTINGS
@given(st.one_of(json_values, st.text(max_size=300)), st.sampled_from(["schema", "project"]))
def _dbt_yaml(document: Any, which: str) -> None:
    _count("dbt yaml")
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    files = dict(PROJECT)
    files["models/marts/customers.yml" if which == "schema" else "dbt_project.yml"] = text.encode()
    load_catalog(Snapshot({p: FileContent(p, b) for p, b in files.items()}), Config())


@SETTINGS
@given(json_values, st.text(max_size=300))
def _config(data: Any, text: str) -> None:
    _count("config")
    for value in (data, {"limits": data}, {"lineage": [data]}, {"ignores": data}):
        with contextlib.suppress(ConfigError):
            parse_config(value, "fuzz")


def _config_file(tmp: Path) -> Callable[[str], None]:
    @SETTINGS
    @given(st.text(max_size=300) | json_values.map(yaml.safe_dump))
    def run(text: str) -> None:
        _count("config file")
        path = tmp / ".impact-check.yml"
        path.write_text(text)
        with contextlib.suppress(ConfigError):
            _from_file(path)

    return run


def _events(tmp: Path) -> Callable[[], None]:
    @SETTINGS
    @given(
        st.sampled_from(sorted(EVENTS)).flatmap(lambda name: mutated(EVENTS[name])),
        st.sampled_from(["pull_request", "pull_request_target", "push", "merge_group", "x"]),
    )
    def run(payload: Any, name: str) -> None:
        _count("github event")
        path = tmp / "event.json"
        path.write_text(json.dumps(payload))
        with contextlib.suppress(UsageError):
            load_event(name, path)

    return run


def _record(name: str, before: int, record_figure: Callable[[str, str], None]) -> None:
    ran = COUNTS.get(name, 0) - before
    record_figure(
        f"fuzz-{name.replace(' ', '-')}",
        f"fuzz {name} parser: {ran} examples, 0 undocumented errors",
    )


def test_manifest_and_catalog_json(record_figure: Callable[[str, str], None]) -> None:
    before = COUNTS.get("manifest", 0)
    _manifest()
    _record("manifest", before, record_figure)


def test_schema_yml_and_dbt_project(record_figure: Callable[[str, str], None]) -> None:
    before = COUNTS.get("dbt yaml", 0)
    _dbt_yaml()
    _record("dbt yaml", before, record_figure)


def test_config(tmp_path: Path, record_figure: Callable[[str, str], None]) -> None:
    before = COUNTS.get("config", 0) + COUNTS.get("config file", 0)
    _config()
    _config_file(tmp_path)()  # type: ignore[call-arg]
    COUNTS["config"] = COUNTS.get("config", 0) + COUNTS.pop("config file", 0)
    _record("config", before, record_figure)


def test_github_events(tmp_path: Path, record_figure: Callable[[str, str], None]) -> None:
    before = COUNTS.get("github event", 0)
    _events(tmp_path)()
    _record("github event", before, record_figure)
