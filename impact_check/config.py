"""Configuration: `.impact-check.yml` or `[tool.impact-check]` in pyproject.toml.

Validated by pydantic; unknown keys are errors naming the key's path. Command-line flags
and ``IMPACT_CHECK_*`` environment variables override the file (cli.py).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from impact_check.errors import ConfigError
from impact_check.lineage_kinds import unknown_kind_message
from impact_check.messages.settings import MessageSchemaSettings, TopicLink
from impact_check.safeload import LimitExceeded, load_yaml, yaml_error_line, yaml_error_text

CONFIG_FILES = (".impact-check.yml", ".impact-check.yaml")
SeverityName = Literal["error", "warning", "info", "off"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Ignore(_Strict):
    """A reviewed suppression: rule code, object glob, a reason, optionally an expiry."""

    rule: str
    object: str = "*"
    reason: str = Field(min_length=1)
    expires: dt.date | None = None


class Limits(_Strict):
    """Size, depth and count limits on everything read; a hit is reported, never silent."""

    max_file_bytes: int = Field(default=2_000_000, gt=0)  # one file of the repository
    max_statements_per_file: int = Field(default=10_000, gt=0)
    max_nesting_depth: int = Field(default=100, gt=0)  # SQL parentheses, YAML/JSON levels
    max_yaml_nodes: int = Field(default=1_000_000, gt=0)  # after expanding anchors/aliases
    max_files: int = Field(default=20_000, gt=0)  # files read per revision
    max_response_bytes: int = Field(default=50_000_000, gt=0)  # one lineage source answer
    max_render_steps: int = Field(default=1_000_000, gt=0)  # Jinja loop iterations per model


class DbtSettings(_Strict):
    """Where a dbt manifest comes from (slim CI's production manifest), optionally."""

    manifest: str | None = None  # a path in the repository or on disk, or an http(s) URL
    catalog: str | None = None
    token_env: str | None = None  # environment variable holding a bearer token for the URL
    vars: dict[str, Any] = Field(default_factory=dict)


class CoverageSettings(_Strict):
    """When coverage (models and views analysed of those defined) gets a finding."""

    minimum: float | None = Field(default=None, ge=0, le=1)  # AN913 under this ratio
    max_drop: int = Field(default=0, ge=0)  # AN912 when the diff loses more models than this


class LineageSource(_Strict):
    """One fetched lineage source (``lineage:`` list, or ``--lineage KIND:LOCATION``).

    Secrets are never written here: ``token_env`` / ``username_env`` / ``password_env`` name
    environment variables that hold them.
    """

    kind: str
    location: str  # a path (file or directory) or an http(s) URL
    name: str | None = None
    token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    namespace: str | None = None
    aliases: dict[str, str] = Field(default_factory=dict)  # namespace/platform -> catalog
    depth: int = Field(default=5, ge=1, le=50)
    timeout: float | None = Field(default=None, gt=0)
    ca_bundle: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # source-specific settings

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        # An unknown kind is a mistake in the configuration, not a source that failed to
        # answer (which, under on_source_error: warn, would let the build pass).
        problem = unknown_kind_message(value)
        if problem:
            raise ValueError(problem)
        return value


DISCOVERED_KINDS = ("feast", "mlmodel", "great_expectations", "dvc", "tfx")


class Discovery(_Strict):
    """Consumers the repository carries (Feast repositories, MLmodel files, Great
    Expectations projects, DVC files, TFX schemas), found without configuration."""

    enabled: bool = True
    kinds: list[Literal["feast", "mlmodel", "great_expectations", "dvc", "tfx"]] | None = None
    exclude: list[str] = Field(default_factory=list)  # path globs never read as consumers


def parse_lineage_flag(value: str) -> LineageSource:
    """``KIND:LOCATION`` from the command line (the location may contain colons)."""
    kind, sep, location = value.partition(":")
    if not sep or not kind or not location:
        raise ConfigError(
            f"--lineage {value!r}: expected KIND:LOCATION, e.g. openlineage:events/ or "
            "marquez:http://localhost:5000"
        )
    try:
        return LineageSource(kind=kind.strip(), location=location.strip())
    except ValidationError as err:
        raise ConfigError(f"--lineage {value!r}: {_pydantic_message(err)}") from err


class Config(_Strict):
    """The whole configuration."""

    dialect: str = "duckdb"
    dialects: dict[str, str] = Field(default_factory=dict)  # glob -> dialect
    default_database: str | None = None
    default_schema: str | None = None
    models: dict[str, str | None] = Field(default_factory=dict)  # folder -> schema (or None)
    placeholders: dict[str, str] = Field(default_factory=dict)
    preset: Literal["contract", "consumer", "strict"] = "consumer"
    strict: bool = False
    fail_on: Literal["error", "warning", "never"] = "error"
    rules: dict[str, SeverityName] = Field(default_factory=dict)
    ignores: list[Ignore] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    timeout: float | None = None
    dbt: DbtSettings = Field(default_factory=DbtSettings)
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    lineage: list[LineageSource] = Field(default_factory=list)
    discover: Discovery = Field(default_factory=Discovery)
    aliases: dict[str, str] = Field(default_factory=dict)  # namespace/platform -> catalog
    on_source_error: Literal["warn", "fail"] = "warn"
    offline: bool = False
    cache: bool = True
    message_schemas: MessageSchemaSettings = Field(default_factory=MessageSchemaSettings)
    topics: dict[str, TopicLink] = Field(default_factory=dict)  # topic -> table and schema

    @field_validator("models", mode="before")
    @classmethod
    def _models_list(cls, value: Any) -> Any:
        if isinstance(value, list):  # `models: [models/]` = folder names give the schema
            return {str(v): None for v in value}
        return value


def load_config(repo_root: Path, path: Path | None = None) -> Config:
    """Find and validate the configuration; defaults when there is none."""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return _from_file(path)
    for name in CONFIG_FILES:
        candidate = repo_root / name
        if candidate.is_file():
            return _from_file(candidate)
    pyproject = repo_root / "pyproject.toml"
    if pyproject.is_file():
        _check_size(pyproject)
        try:
            text = pyproject.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ConfigError(f"{pyproject}: not UTF-8 text: {_first_line(err)}") from err
        section = _pyproject_section(text, str(pyproject))
        if section is not None:
            return parse_config(section, str(pyproject) + " [tool.impact-check]")
    return Config()


MAX_CONFIG_BYTES = 1_000_000  # read before `limits` exist: a fixed cap


def _from_file(path: Path) -> Config:
    _check_size(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text: {_first_line(err)}") from err
    return config_from_text(text, str(path))


def config_from_text(text: str, source: str, toml: bool | None = None) -> Config:
    """A configuration from the text of ``source``: YAML, or TOML (its
    ``[tool.impact-check]`` section) when ``toml`` is set or, by default, when ``source``
    ends in .toml; e.g. a config file read from a git revision."""
    if source.endswith(".toml") if toml is None else toml:
        section = _pyproject_section(text, source)
        return parse_config(section or {}, source)
    try:
        loaded = load_yaml(text)
    except (yaml.YAMLError, LimitExceeded) as err:
        line = yaml_error_line(err)
        where = f":{line}" if line is not None else ""
        raise ConfigError(f"{source}{where}: {yaml_error_text(err)}") from err
    if loaded.duplicates:
        key, line = loaded.duplicates[0]
        raise ConfigError(f"{source}:{line}: duplicate key '{key}'")
    return parse_config(loaded.data if loaded.data is not None else {}, source)


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from err
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: {size:,} bytes, over the {MAX_CONFIG_BYTES:,} a config may have"
        )


def _pyproject_section(text: str, source: str) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,no-redef]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: invalid TOML: {err}") from err
    except RecursionError as err:  # tomllib recurses once per nested array or table
        raise ConfigError(f"{source}: invalid TOML: nested too deeply") from err
    tool = data.get("tool")
    section = tool.get("impact-check") if isinstance(tool, dict) else None
    return section if isinstance(section, dict) else None


def parse_config(data: object, source: str) -> Config:
    """Validate a mapping; the error names the first bad key by its dotted path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping")
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(root)"
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: unknown key '{key}'") from err
        raise ConfigError(f"{source}: invalid value for '{key}': {_pydantic_message(err)}") from err


def _pydantic_message(err: ValidationError) -> str:
    """The first error's message without pydantic's "Value error, " prefix."""
    return str(err.errors()[0]["msg"]).removeprefix("Value error, ")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
