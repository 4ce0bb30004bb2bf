"""Settings a pull request must not change in the Action: where lineage is fetched from.

A pull request's own ``.impact-check.yml`` could point a lineage URL at a server it
controls, name another secret in ``token_env`` (and have it sent there), or switch the
check to a cache it committed. So in the Action the network-related keys come from the
configuration of the *base* revision (DESIGN.md, Config): ``lineage`` (URLs, auth
variable names, ``ca_bundle``), ``dbt.manifest``/``dbt.catalog``/``dbt.token_env``,
``offline`` and ``cache``. Everything else (rules, dialect, aliases…) is the head's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from impact_check import git
from impact_check.config import CONFIG_FILES, Config, config_from_text
from impact_check.errors import ConfigError


@dataclass
class Trusted:
    """The configuration to run with, and a note for the log when the head's differed."""

    config: Config
    note: str | None = None


def base_config(root: Path, base: str, config_path: str | None) -> Config:
    """The configuration at commit ``base`` (defaults when it has none).

    A base configuration that does not validate gives defaults: no network source is
    better than one a broken file half-describes. The error is raised for the caller to log.
    """
    candidates = [config_path] if config_path else [*CONFIG_FILES, "pyproject.toml"]
    for candidate in candidates:
        rel = _relative(root, candidate)
        if rel is None:
            continue
        raw = git.read_file(root, base, rel)
        if raw is None:
            continue
        text = raw.decode("utf-8", "replace")
        if rel.endswith(".toml") and "[tool.impact-check]" not in text:
            continue
        return config_from_text(text, f"{rel}@{base[:12]}", toml=rel.endswith(".toml"))
    return Config()


def _relative(root: Path, path: str) -> str | None:
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None  # a config outside the repository is not the pull request's to change


def with_base_network(head: Config, base: Config) -> Trusted:
    """``head`` with the network-related keys of ``base``."""
    trusted = head.model_copy(deep=True)
    trusted.lineage = [s.model_copy(deep=True) for s in base.lineage]
    trusted.dbt.manifest = base.dbt.manifest
    trusted.dbt.catalog = base.dbt.catalog
    trusted.dbt.token_env = base.dbt.token_env
    trusted.offline = base.offline
    trusted.cache = base.cache
    changed = _network(head) != _network(base)
    note = (
        "lineage sources, dbt manifest/catalog/token_env, offline and cache come from the "
        "base revision's configuration; the pull request's changes to them apply once merged"
        if changed
        else None
    )
    return Trusted(trusted, note)


def _network(config: Config) -> tuple[object, ...]:
    return (
        [s.model_dump() for s in config.lineage],
        config.dbt.manifest,
        config.dbt.catalog,
        config.dbt.token_env,
        config.offline,
        config.cache,
    )


def trusted_config(root: Path, base: str, head: Config, config_path: str | None) -> Trusted:
    """The configuration the Action runs with (see the module docstring)."""
    try:
        base_cfg = base_config(root, base, config_path)
    except ConfigError as err:
        trusted = with_base_network(head, Config())
        trusted.note = (
            f"the base revision's configuration is invalid ({err}); no lineage source or "
            "remote dbt manifest is fetched"
        )
        return trusted
    return with_base_network(head, base_cfg)
