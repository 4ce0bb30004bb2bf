"""Canonical names for relations named by other systems (DESIGN.md, Identity).

Pure functions: a source's (namespace, name) or platform-qualified name becomes
``[catalog.]schema.table`` with unquoted parts lower-cased; config ``aliases`` map a
namespace or platform onto a catalog (or onto nothing: ``""`` drops the catalog part).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


def canonical(
    name: str, namespace: str | None = None, aliases: dict[str, str] | None = None
) -> str:
    """``name`` in canonical form, with the catalog an alias gives the namespace.

    ``canonical("Jaffle.Main.Orders", "duckdb://jaffle.duckdb", {"duckdb://jaffle.duckdb": ""})``
    is ``main.orders``; without an alias the name is kept as the source gives it, folded.
    """
    parts = [_fold(part) for part in _split(name)]
    if namespace is not None and aliases and namespace in aliases:
        catalog = aliases[namespace]
        if len(parts) >= 3:
            parts = parts[-2:]
        if catalog:
            parts = [_fold(catalog), *parts]
    return ".".join(parts)


def canonical_in(name: str, namespaces: Iterable[str], aliases: dict[str, str]) -> str:
    """``name`` in canonical form with the alias of the first of ``namespaces`` that has
    one (a source names several: ``postgres://db:5432`` then ``postgres``), else folded."""
    for namespace in namespaces:
        if namespace in aliases:
            return canonical(name, namespace, aliases)
    return canonical(name)


# Schemes of asset URIs that name files or object stores, not relations.
_FILE_SCHEMES = {"file", "s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasb", "hdfs", "http", "https"}


def uri_relation(uri: str) -> tuple[str, str] | None:
    """(namespace, dotted relation name) of a dataset URI as Airflow and OpenLineage write
    them, None for files and URIs naming no table.

    ``postgres://db:5432/shop/analytics/orders`` -> (``postgres://db:5432``,
    ``shop.analytics.orders``); ``bigquery://project/dataset/table`` -> (``bigquery``,
    ``project.dataset.table``): BigQuery's authority is the project, part of the name.
    """
    scheme, sep, rest = uri.partition("://")
    scheme = scheme.lower()
    if not sep or not scheme or scheme in _FILE_SCHEMES:
        return None
    authority, _, path = rest.partition("/")
    parts = [unquote(p) for p in path.split("?", 1)[0].split("/") if p]
    if scheme == "bigquery":
        parts = [authority, *parts] if authority else parts
        namespace = scheme
    else:
        namespace = f"{scheme}://{authority}"
    if len(parts) < 2 or not all(parts):
        return None
    return namespace, ".".join(_quote_dotted(p) for p in parts)


def _quote_dotted(part: str) -> str:
    return f'"{part}"' if "." in part else part


def upper_case_folded(part: str) -> str:
    """A Snowflake (or Oracle) identifier as our canonical part: those systems store an
    unquoted identifier upper-cased, so an all-upper part folds to lower case and any other
    was quoted when created (kept as written, quoted)."""
    if part.startswith('"') and part.endswith('"') and len(part) >= 2:
        return part
    return part.lower() if part == part.upper() else f'"{part}"'


def name_parts(name: str) -> list[str]:
    """The dot-separated parts of ``name`` (dots inside double quotes do not split)."""
    return _split(name)


def _split(name: str) -> list[str]:
    """Split on dots outside double quotes."""
    parts, current, quoted = [], [], False
    for char in name:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def _fold(part: str) -> str:
    if len(part) >= 2 and part.startswith('"') and part.endswith('"'):
        return part[1:-1]
    return part.lower()


@dataclass
class Matcher:
    """Maps fetched relation names onto the repository's: exact, else an unambiguous suffix.

    ``suffix_matches`` records every suffix match (they are reported), ``ambiguous`` the
    names that matched more than one known relation (left as they are).
    """

    known: set[str]
    suffix_matches: dict[str, str] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)
    _by_suffix: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.known:
            parts = name.split(".")
            for i in range(1, len(parts)):
                self._by_suffix.setdefault(".".join(parts[i:]), set()).add(name)

    def relation(self, name: str) -> str:
        """The known relation ``name`` denotes, or ``name`` itself."""
        if name in self.known or not name:
            return name
        parts = name.split(".")
        for i in range(len(parts)):  # longest suffix first: db.schema.t, schema.t (not t)
            suffix = ".".join(parts[i:])
            if i > 0 and suffix.count(".") < 1:
                break
            hits = self._by_suffix.get(suffix, set()) | ({suffix} & self.known)
            if len(hits) == 1:
                match = next(iter(hits))
                if match != name:
                    self.suffix_matches[name] = match
                return match
            if len(hits) > 1:
                self.ambiguous.add(name)
                return name
        return name

    def node(self, node_id: str) -> str:
        """A node id with its relation part matched (``origin:name`` ids are kept)."""
        if is_asset(node_id):
            return node_id
        relation, sep, column = node_id.partition("#")
        return self.relation(relation) + (sep + column if sep else "")


def is_asset(node_id: str) -> bool:
    """Whether a node id names a non-relation asset (``origin:name``)."""
    return ":" in node_id.split("#", 1)[0]


def relations(node_ids: Iterable[str]) -> set[str]:
    """The relation parts of the relation and column ids among ``node_ids``."""
    return {n.split("#", 1)[0] for n in node_ids if not is_asset(n)}


def same_relation_suffix(a: str, b: str) -> bool:
    """Whether two canonical names agree on their last two or more parts, one of them
    having parts the other lacks (``shop.public.orders`` and ``public.orders``)."""
    short, long = sorted((a, b), key=lambda s: s.count("."))
    return short.count(".") >= 1 and long.endswith("." + short)


# ---------------------------------------------------------------------------- ML models

# ``…/#/models/churn_model/versions/3`` (MLflow UI, DataHub externalUrl) or ``…/models/churn``
_MODEL_URL = re.compile(r"/models/([^/?#]+)(?:/versions/([^/?#]+))?")
_VERSION_SUFFIX = re.compile(r"^(.+)_(\d+)$")


@dataclass(frozen=True)
class ModelIdentity:
    """A registered ML model (its name, case-folded) and, when known, one version of it."""

    name: str
    version: str | None = None


def model_in_url(url: str | None) -> ModelIdentity | None:
    """The model (and version) a ``…/models/<name>[/versions/<v>]`` URL points at."""
    match = _MODEL_URL.search(url or "")
    if match is None:
        return None
    return ModelIdentity(match.group(1).lower(), match.group(2))


def exposure_model(exposure: Mapping[str, Any]) -> str:
    """The registered model a dbt exposure of type ``ml`` names.

    ``meta.mlflow_model`` (or ``mlflow_registered_model``), else ``meta.model`` (in ``meta``
    or ``config.meta``), else a ``url`` with ``/models/<name>``, else the exposure's own
    name: explicit settings win over the naming convention.
    """
    config = _mapping(exposure.get("config"))
    meta = {**_mapping(config.get("meta")), **_mapping(exposure.get("meta"))}
    for key in ("mlflow_model", "mlflow_registered_model", "model"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    url = exposure.get("url")
    in_url = _MODEL_URL.search(url) if isinstance(url, str) else None
    return in_url.group(1) if in_url else str(exposure.get("name"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def model_identity(
    node_id: str, attrs: Mapping[str, Any], known: Iterable[str] = ()
) -> ModelIdentity | None:
    """Which registered model an ``ml_model`` node is, None when it names none.

    MLflow and MLmodel nodes and dbt exposures carry a ``model`` attribute (and ``version``);
    a DataHub node is named by its externalUrl, else by its URN name: for the MLflow
    platform ``<model>_<version>`` (an mlModel) or ``<model>`` (an mlModelGroup), split at
    the last ``_<digits>`` only when ``<model>`` is among the ``known`` (folded) model names.
    """
    if attrs.get("kind") != "ml_model" or "#" in node_id:
        return None
    model = attrs.get("model")
    if isinstance(model, str) and model:
        version = attrs.get("version")
        return ModelIdentity(model.lower(), str(version) if version is not None else None)
    if not node_id.startswith("datahub:ml_model/"):
        return None
    url = attrs.get("url")
    from_url = model_in_url(url if isinstance(url, str) else None)
    if from_url is not None:
        return from_url
    platform, _, name = node_id.removeprefix("datahub:ml_model/").partition("/")
    name = (name or platform).lower()
    split = _VERSION_SUFFIX.match(name)
    if split and split.group(1) in set(known) and name not in set(known):
        return ModelIdentity(split.group(1), split.group(2))
    return ModelIdentity(name)
