"""Whether head still delivers what each data contract promises (datacontract.com DCS and
ODCS files read by project/contracts.py): the comparison of a contract with the dataset the
repository produces for it. Pure: two loaded catalogs in."""

from __future__ import annotations

from impact_check.model import Catalog, ContractModel, Dataset
from impact_check.sql.types import family


def produced_by(model: ContractModel, catalog: Catalog) -> Dataset | None:
    """The repository dataset a contract describes: the exact name (under a server's schema
    when the contract names one), else the one dataset, or the one model or view, whose
    name ends in ``.<table>``."""
    names = [f"{schema}.{model.table}" for schema in model.schemas] or [model.table]
    for name in names:
        exact = catalog.datasets.get(name)
        if exact is not None and exact.kind != "contract":
            return exact
    suffixes = tuple("." + name for name in names)
    matches = [
        ds
        for key, ds in catalog.datasets.items()
        if ds.kind != "contract" and key.endswith(suffixes)
    ]
    derived = [ds for ds in matches if ds.derived]  # a contract describes what SQL produces
    for found in (matches, derived):
        if len(found) == 1:
            return found[0]
    return None


def new_unmet(base: Catalog, head: Catalog) -> list[tuple[ContractModel, str, str]]:
    """(contract, field, why) for promises head breaks that base kept."""
    before: dict[str, dict[str, str]] = {}
    for model in base.contracts:
        dataset = produced_by(model, base)
        before[model.node] = unmet_fields(model, dataset) if dataset is not None else {}
    out = []
    for model in head.contracts:
        dataset = produced_by(model, head)
        if dataset is None:
            continue
        kept = before.get(model.node)
        for name, why in sorted(unmet_fields(model, dataset).items()):
            if kept is None or name not in kept:
                out.append((model, name, why))
    return out


def unmet_fields(model: ContractModel, dataset: Dataset) -> dict[str, str]:
    """Field -> why the dataset no longer delivers it (missing, or another type family)."""
    if not dataset.columns_known:
        return {}
    out = {}
    for name, promised in model.fields.items():
        column = dataset.columns.get(name)
        if column is None:
            out[name] = f"{dataset.name} has no column {name}"
            continue
        want, have = family(promised.type), family(column.type)
        if "unknown" not in (want, have) and want != have:
            said = promised.written_type or promised.type
            out[name] = f"{dataset.name}.{name} is {column.type}, the contract says {said}"
    return out
