"""Which warehouse a dbt project builds in, read from the repository: its ``profiles.yml``
(the project's own, or any ``*profiles.yml`` in the repository holding the project's
profile), else the dbt adapter a CI file installs (``pip install dbt-bigquery``).

The adapter type gives ``target.type`` and, when the configuration names no dialect, the
SQL dialect the project's models are parsed in (a BigQuery project read as DuckDB makes
``date_trunc(x, month)`` read a column ``month``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from impact_check.sql.dbt_context import adapter_for_dialect, dialect_for_adapter
from impact_check.sql.jinja import TARGET_KEYS, DbtRenderer, Target
from impact_check.sql.placeholders import PLACEHOLDER_PREFIX

_CI_FILES = re.compile(
    r"(^|/)(\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.ya?ml|bitbucket-pipelines\.ya?ml"
    r"|\.circleci/config\.ya?ml|azure-pipelines\.ya?ml|cloudbuild\.ya?ml)$"
)
_ADAPTER_PACKAGE = re.compile(r"\bdbt-([a-z]+)\b")
_NOT_ADAPTERS = {"core", "labs", "utils", "osmosis", "checkpoint", "coverage", "artifacts"}


@dataclass
class Warehouse:
    """The target a project builds in and where the checker learned it."""

    target: Target
    dialect: str | None  # sqlglot dialect of the adapter; None when sqlglot has none
    origin: str  # "profiles.yml (shop/profiles.yml, target dev)", "CI: …", "" when guessed
    inferred: bool = False  # read off the project's own SQL: likely, not known


def _installed(path: str) -> bool:
    """Inside installed packages: their profiles and CI files are the packages' own."""
    return bool({"dbt_packages", "dbt_modules"} & set(PurePosixPath(path).parts[:-1]))


def profile_files(paths: Iterable[str], root: str) -> list[str]:
    """Candidate profiles files: the project's own first, then the nearest others."""
    found = [
        p for p in paths if PurePosixPath(p).name.endswith("profiles.yml") and not _installed(p)
    ]
    own = root + "profiles.yml"

    def distance(path: str) -> tuple[int, int, str]:
        inside = path.startswith(root)
        depth = path[len(root) :].count("/") if inside else 100 + path.count("/")
        return (0 if path == own else 1, depth, path)

    return sorted(found, key=distance)


def find_warehouse(
    paths: Iterable[str],
    root: str,
    profile: str | None,
    read_yaml: Callable[[str], Any],
    read_text: Callable[[str], str | None],
    dialect: str,
    vars_: Mapping[str, Any] | None = None,
) -> Warehouse:
    """The project's target: from a profiles file holding ``profile``, else from the dbt
    adapter a CI file installs, else the adapter of ``dialect``.

    ``read_yaml`` parses a repository file (reporting problems itself); ``read_text``
    gives a file's text.
    """
    paths = list(paths)
    if profile:
        for path in profile_files(paths, root):
            data = read_yaml(path)
            entry = data.get(profile) if isinstance(data, dict) else None
            if isinstance(entry, dict):
                found = _from_profile(entry, profile, vars_ or {})
                if found is not None:
                    target, name = found
                    origin = f"profiles.yml ({path}, target {name})"
                    return Warehouse(target, dialect_for_adapter(target.type), origin)
    adapters = _ci_adapters(paths, read_text)
    if len(adapters) == 1:
        adapter = adapters.pop()
        target = Target(type=adapter, schema=_default_schema(adapter), profile_name=profile or "")
        return Warehouse(target, dialect_for_adapter(adapter), f"CI installs dbt-{adapter}")
    adapter = adapter_for_dialect(dialect)
    target = Target(type=adapter, schema=_default_schema(adapter), profile_name=profile or "")
    return Warehouse(target, None, "")


# `target.type == 'bigquery'` (either way round, `!=` too): an adapter the project tests for
_ADAPTER_TEST = re.compile(
    r"target\s*\.\s*type\s*[!=]=\s*['\"](\w+)['\"]|['\"](\w+)['\"]\s*[!=]=\s*target\s*\.\s*type"
)


def adapter_from_tests(
    paths: Iterable[str], root: str, read_text: Callable[[str], str | None]
) -> Warehouse | None:
    """The adapter a project without a profile most likely builds in: the one its own SQL
    files test ``target.type`` against most often (a project written for BigQuery and
    Snowflake that the default adapter would render down other branches, or not at all),
    when one adapter leads; None when none does."""
    counts: dict[str, int] = {}
    for path in paths:
        if not path.startswith(root) or not path.endswith(".sql") or _installed(path):
            continue
        found = {a or b for a, b in _ADAPTER_TEST.findall(read_text(path) or "")}
        for adapter in found:
            if dialect_for_adapter(adapter) is not None:
                counts[adapter] = counts.get(adapter, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    adapter, files = ranked[0]
    target = Target(type=adapter, schema=_default_schema(adapter))
    origin = f"guessed: the project's SQL tests target.type == '{adapter}' ({files} files)"
    return Warehouse(target, dialect_for_adapter(adapter), origin, inferred=True)


def _default_schema(adapter: str) -> str:
    return "main" if adapter == "duckdb" else "public"


def _from_profile(
    profile: dict[str, Any], name: str, vars_: Mapping[str, Any]
) -> tuple[Target, str] | None:
    bare = DbtRenderer(name, Target(), vars_)
    outputs = profile.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return None
    wanted = str(bare.render_yaml_value(profile.get("target") or "")) or "dev"
    target_name = wanted if wanted in outputs else next(iter(outputs))
    output = outputs.get(target_name)
    if not isinstance(output, dict):
        return None
    values = {
        k: bare.render_yaml_value(v)
        for k, v in output.items()
        if k in (*TARGET_KEYS, "type", "dbname")
    }
    # an env_var without a default is unknown here: the adapter's defaults stand in
    values = {k: v for k, v in values.items() if PLACEHOLDER_PREFIX not in str(v)}
    adapter = str(values.get("type") or "duckdb").lower()
    schema = values.get("schema") or values.get("dataset") or _default_schema(adapter)
    database = values.get("database") or values.get("project") or values.get("dbname") or ""
    threads = values.get("threads")
    extra = {k: v for k, v in values.items() if k in TARGET_KEYS and v is not None}
    target = Target(
        name=target_name,
        schema=str(schema).lower(),
        database=str(database),
        type=adapter,
        profile_name=name,
        threads=threads if isinstance(threads, int) else 1,
        extra=extra,
    )
    return target, target_name


def _ci_adapters(paths: list[str], read_text: Callable[[str], str | None]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        if not _CI_FILES.search(path) or _installed(path):
            continue
        text = read_text(path) or ""
        for adapter in _ADAPTER_PACKAGE.findall(text.lower()):
            if adapter not in _NOT_ADAPTERS and dialect_for_adapter(adapter) is not None:
                found.add(adapter)
    return found
