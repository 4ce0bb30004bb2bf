"""The per-revision index: what reading a revision gave, by dataset, without the datasets.

An entry of the analysis cache (cache.py), keyed by the revision's files (every path with
its git blob SHA), the reading settings, the sqlglot version and ALGORITHM_VERSION: the
same key means the same inputs to ``catalog.build_catalog``, so the same catalog. Its value
is that catalog with every derived dataset replaced by its cache key (dataset -> content
key, the relations it reads, the file defining it, issues, drops and renames of the DDL):
a warm run that finds the index of a revision neither reads its files' entries nor
derives keys nor decodes a single dataset until the comparison says which it needs (the
datasets that differ, their downstream and their upstream: incremental.relevant).

Only revisions read from plain SQL (model folders, DDL files, migrations) are indexed: a
catalog holding dbt projects, contracts, consumers or INSERT … SELECT loads is built as
before. Values are plain JSON, validated field by field when read (CodecError otherwise):
the cache directory is untrusted input, so a corrupt or foreign index is ignored and the
revision built again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from impact_check.cache import ALGORITHM_VERSION, blob_sha, digest, sqlglot_version
from impact_check.model import Catalog, Dataset, Defined, Snapshot
from impact_check.project.codec import (
    CodecError,
    decode_catalog_marks,
    decode_dataset,
    encode_catalog_marks,
    encode_dataset,
    encode_location,
    expect_bool,
    expect_dict,
    expect_list,
    expect_location,
    expect_opt_str,
    expect_rows,
    expect_str,
)
from impact_check.project.settings import ReadSettings


@dataclass
class Indexed:
    """A revision's catalog with its cached derived datasets not yet decoded.

    ``order`` is every dataset name in the catalog's order; ``deferred`` the derived ones
    left out of ``catalog.datasets``: name -> (cache key of the derived dataset, whether a
    trigger or rule made it updatable); ``inline`` the others left out (the tables of the
    DDL, failed derivations): name -> the dataset as the index stores it, decoded by
    ``inline_dataset`` only when the comparison keeps it. ``catalog.keys`` and
    ``catalog.reads`` are whole.
    """

    catalog: Catalog
    order: list[str] = field(default_factory=list)
    deferred: dict[str, tuple[str, bool]] = field(default_factory=dict)
    key: str | None = None  # the index entry it was read from
    inline: dict[str, Any] = field(default_factory=dict)

    def names(self) -> set[str]:
        """Every dataset the revision holds, decoded or not."""
        return set(self.order)

    def inline_dataset(self, name: str) -> Dataset:
        """The inline dataset ``name``, decoded (CodecError when its entry is malformed)."""
        dataset = decode_dataset(self.inline[name])
        if dataset.name != name:
            raise CodecError("dataset named twice")
        return dataset


def built(catalog: Catalog) -> Indexed:
    """A catalog just built (every dataset decoded, lineage pending) as an Indexed one."""
    return Indexed(catalog, list(catalog.datasets))


def index_key(snapshot: Snapshot, settings: ReadSettings) -> str:
    """Key of a revision's index: everything building its catalog reads."""
    files = []
    for path in sorted(snapshot.files):
        content = snapshot.files[path]
        sha = content.sha or (blob_sha(content.data) if content.data is not None else None)
        files.append([path, sha, content.reason])
    return digest(
        "revision-index",
        ALGORITHM_VERSION,
        sqlglot_version(),
        settings.key(),
        files,
    )


def indexable(catalog: Catalog) -> bool:
    """Whether the index says everything of the catalog (plain SQL only, see the module)."""
    return not (
        catalog.loads
        or catalog.consumers
        or catalog.model_meta
        or catalog.contracts
        or catalog.projects
    )


def encode_index(indexed: Indexed) -> dict[str, Any]:
    """A revision's catalog (lineage pending, or deferred) as its index value."""
    catalog = indexed.catalog
    datasets: list[list[Any]] = []
    for name in indexed.order:
        if name in indexed.deferred:
            key, updatable = indexed.deferred[name]
            datasets.append(["cached", name, key, updatable])
            continue
        if name in indexed.inline:
            datasets.append(["inline", name, indexed.inline[name]])
            continue
        dataset = catalog.datasets[name]
        pending = catalog.pending.get(name)
        if pending is not None and dataset.lineage is None:
            datasets.append(["cached", name, pending, dataset.updatable])
        else:  # a table of the DDL, or a derivation that failed (no cached entry)
            datasets.append(["inline", name, encode_dataset(dataset)])
    return {
        "datasets": datasets,
        "derived_issues_at": catalog.derived_issues_at,
        "keys": [[k, v] for k, v in catalog.keys.items()],
        "reads": [[k, sorted(v)] for k, v in catalog.reads.items()],
        **encode_catalog_marks(catalog),
        "defined": [
            [d.name, encode_location(d.location), d.reason, d.project]
            for d in catalog.defined.values()
        ],
    }


def decode_index(value: Any) -> Indexed:
    """``encode_index``'s value back (CodecError on any other shape)."""
    data = expect_dict(value)
    catalog = Catalog()
    indexed = Indexed(catalog)
    try:
        for row in expect_list(data["datasets"]):
            row = expect_list(row)
            if len(row) == 4 and row[0] == "cached":
                _, name, key, updatable = row
                indexed.deferred[expect_str(name)] = (expect_str(key), expect_bool(updatable))
            elif len(row) == 3 and row[0] == "inline":
                # decoded when kept (inline_dataset): most are tables no change reaches
                indexed.inline[expect_str(row[1])] = row[2]
            else:
                raise CodecError("bad dataset row")
            indexed.order.append(expect_str(row[1]))
        if len(set(indexed.order)) != len(indexed.order):
            raise CodecError("a dataset listed twice")
        at = data["derived_issues_at"]
        if at is not None and type(at) is not int:
            raise CodecError("bad issue position")
        catalog.derived_issues_at = at
        for name, key in expect_rows(data["keys"], 2):
            catalog.keys[expect_str(name)] = expect_str(key)
        if not indexed.deferred.keys() <= catalog.keys.keys():
            raise CodecError("a cached dataset without its key")
        for name, reads in expect_rows(data["reads"], 2):
            catalog.reads[expect_str(name)] = {expect_str(r) for r in expect_list(reads)}
        decode_catalog_marks(data, catalog)
        for name, location, reason, project in expect_rows(data["defined"], 4):
            catalog.defined[expect_str(name)] = Defined(
                expect_str(name),
                expect_location(location),
                expect_opt_str(reason),
                expect_opt_str(project),
            )
    except KeyError as err:
        raise CodecError(f"missing field {err}") from err
    if at is not None and not 0 <= at <= len(catalog.issues):
        raise CodecError("bad issue position")
    return indexed


def materialise(indexed: Indexed, keep: set[str], datasets: dict[str, Dataset]) -> Catalog:
    """The catalog holding the datasets of ``keep`` (the deferred and inline ones taken
    from ``datasets``, decoded by the caller), in the revision's order; lineage of the
    deferred ones left pending under their keys."""
    catalog = indexed.catalog
    ordered: dict[str, Dataset] = {}
    for name in indexed.order:
        if name not in keep:
            continue
        found = catalog.datasets.get(name)
        if found is None:
            found = datasets[name]
            if name in indexed.deferred:
                catalog.pending[name] = indexed.deferred[name][0]
        ordered[name] = found
    catalog.datasets = ordered
    indexed.order = list(ordered)
    indexed.deferred = {}
    indexed.inline = {}
    return catalog
