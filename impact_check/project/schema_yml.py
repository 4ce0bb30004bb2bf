"""What a dbt ``schema.yml`` says about models, sources and their columns: declared
types, constraints and tests (not_null, unique, accepted_values, relationships), contracts,
access, owners, and model versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from impact_check.model import Column, Location
from impact_check.sql.types import canonical, parse_type


@dataclass
class ModelInfo:
    """What schema.yml says about one model."""

    columns: dict[str, Column] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    owners: list[str] = field(default_factory=list)
    access: str | None = None
    location: Location | None = None
    version: tuple[str, str, str | None] | None = None  # (model name, v, deprecation_date)


def declared_columns(items: Any, dialect: str) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for item in items or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = str(item["name"]).lower()
        dtype = parse_type(str(item["data_type"]), dialect) if item.get("data_type") else None
        constraints = [c.get("type") for c in item.get("constraints") or [] if isinstance(c, dict)]
        specs = [t for t in _list(item.get("tests")) + _list(item.get("data_tests")) if t]
        tests = _tests(specs)
        out[name] = Column(
            name=name,
            type=canonical(dtype) if dtype is not None else None,
            written_type=str(item.get("data_type")) if item.get("data_type") else None,
            not_null="not_null" in constraints or "not_null" in tests,
            unique="unique" in constraints or any(t.startswith("unique") for t in tests),
            primary_key="primary_key" in constraints,
            accepted_values=_accepted_values(specs),
            references=_relationship(specs),
            tests=tuple(sorted(tests)),
        )
    return out


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):  # reported by the caller's guard, naming the file
        raise TypeError(f"tests must be a list, not a {type(value).__name__}")
    return value


_RELAXING = ("where", "error_if", "warn_if", "limit")


def _tests(specs: list[Any]) -> list[str]:
    """The column's not_null and unique tests: ``"not_null"``, or ``"not_null:relaxed"``
    when failures no longer stop the build in full (severity warn, where, thresholds)."""
    out = []
    for spec in specs:
        name = (
            spec
            if isinstance(spec, str)
            else next(iter(spec), "")
            if isinstance(spec, dict)
            else ""
        )
        name = str(name).split(".")[-1] if str(name).startswith("dbt.") else str(name)
        if name not in ("not_null", "unique"):
            continue
        args = spec.get(name) if isinstance(spec, dict) else None
        config = args.get("config") if isinstance(args, dict) else None
        settings = {**(args or {}), **(config if isinstance(config, dict) else {})}
        relaxed = str(settings.get("severity", "error")).lower() == "warn" or any(
            settings.get(key) not in (None, "") for key in _RELAXING
        )
        out.append(f"{name}:relaxed" if relaxed else name)
    return out


def _test_arguments(specs: list[Any], name: str) -> dict[str, Any] | None:
    """A generic test's arguments (dbt >= 1.10 nests them under ``arguments``)."""
    for spec in specs:
        if isinstance(spec, dict) and isinstance(spec.get(name), dict):
            args = spec[name]
            return dict(args.get("arguments") or {}) | {k: v for k, v in args.items()}
    return None


def _accepted_values(specs: list[Any]) -> tuple[str, ...] | None:
    args = _test_arguments(specs, "accepted_values")
    values = args.get("values") if args else None
    return tuple(sorted(str(v) for v in values)) if isinstance(values, list) else None


def _relationship(specs: list[Any]) -> str | None:
    args = _test_arguments(specs, "relationships")
    if not args or not args.get("to"):
        return None
    return f"{args['to']}.{args.get('field', '')}"


def owners(entry: dict[str, Any]) -> list[str]:
    owners = []
    owner = entry.get("owner")
    if isinstance(owner, dict):
        owners += [str(owner[k]) for k in ("name", "email") if owner.get(k)][:1]
    meta = entry.get("meta") or {}
    if isinstance(meta, dict) and meta.get("owner"):
        owners.append(str(meta["owner"]))
    if entry.get("group"):
        owners.append(f"group:{entry['group']}")
    return owners


def versions(
    model: dict[str, Any], info: ModelInfo, dialect: str
) -> tuple[str, dict[str, str], dict[str, ModelInfo]]:
    """``versions:``: each version is its own model (``<name>_v<v>`` or ``defined_in``)
    that inherits the top-level columns and config, minus ``exclude``, plus its own.

    Returns (latest version, version -> model name of its file, model name -> info).
    """
    name = str(model["name"])
    files: dict[str, str] = {}
    infos: dict[str, ModelInfo] = {}
    for entry in model["versions"]:
        if not isinstance(entry, dict) or entry.get("v") is None:
            continue
        v = str(entry["v"])
        stem = str(entry.get("defined_in") or f"{name}_v{v}")
        files[v] = stem
        columns = dict(info.columns)
        for item in entry.get("columns") or []:
            if isinstance(item, dict) and "include" in item:
                for dropped in item.get("exclude") or []:
                    columns.pop(str(dropped).lower(), None)
        columns.update(declared_columns(entry.get("columns"), dialect))
        config = {**info.config, **(entry.get("config") or {})}
        deprecation = entry.get("deprecation_date") or model.get("deprecation_date")
        infos[stem] = ModelInfo(
            columns=columns,
            config=config,
            owners=info.owners,
            access=info.access,
            location=info.location,
            version=(name, v, str(deprecation) if deprecation else None),
        )
    latest = str(model.get("latest_version") or max(files, key=_version_key, default=""))
    return latest, files, infos


def _version_key(v: str) -> tuple[int, str]:
    return (int(v), "") if v.isdigit() else (0, v)


def model_info(model: dict[str, Any], path: str, dialect: str) -> ModelInfo:
    config = dict(model.get("config") or {})
    if "contract" in model and "contract" not in config:
        config["contract"] = model["contract"]
    return ModelInfo(
        columns=declared_columns(model.get("columns"), dialect),
        config=config,
        owners=owners(
            {**model, "meta": {**(model.get("meta") or {}), **(config.get("meta") or {})}}
        ),
        access=model.get("access") or config.get("access"),
        location=Location(path),
    )
