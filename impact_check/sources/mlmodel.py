"""MLmodel files: the signature of an MLflow model, from the server or from the repository.

An ``MLmodel`` file is YAML whose ``signature.inputs`` is a JSON string: column-based
(``[{"type": "double", "name": "lifetime_value", "required": true}, …]``) or tensor-based
(``[{"name": "features", "type": "tensor", "tensor-spec": {…}}]``, no column names). This
module parses it (never loading the model: only the bounded loaders of impact_check.safeload)
and, as the ``mlmodel`` lineage kind, reads MLmodel files committed in the repository:

    lineage:
      - kind: mlmodel
        location: models/**/MLmodel   # a file, a directory (searched for **/MLmodel) or a glob
        options: {dataset: analytics.customer_features}   # the table the models were trained on

A file's training table comes from its ``metadata`` (``log_model(metadata={"training_dataset":
"analytics.customer_features"})``; ``training_datasets`` for a list), else from
``options.dataset``; ``metadata.registered_model_name`` + ``metadata.version`` make the node
``mlflow:<name>/<version>``, the same node the ``mlflow`` source gives that version, otherwise
it is ``mlmodel:<directory>``. A file with no training table is listed in the source's detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from impact_check.errors import SourceError
from impact_check.identity import canonical
from impact_check.model import column_id
from impact_check.safeload import LimitExceeded, load_json, load_yaml
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext

MAX_MLMODEL_BYTES = 1_000_000


@dataclass
class Signature:
    """A model's input signature: ``columns`` (name -> MLflow type), or ``tensor``, or none."""

    kind: str  # "columns" | "tensor" | "none"
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class MLmodel:
    """What the checker uses of an MLmodel file."""

    signature: Signature
    run_id: str | None = None
    model_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_mlmodel(text: str, where: str) -> MLmodel:
    """Parse an MLmodel file's text; SourceError naming ``where`` (and the line) when bad."""
    try:
        data = load_yaml(text).data  # bounded: an anchors bomb or deep nesting is refused
    except LimitExceeded as err:
        line = f":{err.line}" if err.line else ""
        raise SourceError(f"{where}{line}: MLmodel {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "cannot be parsed"
        raise SourceError(f"{where}{line}: invalid YAML in MLmodel: {problem}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{where}: an MLmodel file must be a YAML mapping")
    signature = data.get("signature")
    inputs = signature.get("inputs") if isinstance(signature, dict) else None
    metadata = data.get("metadata")
    return MLmodel(
        signature=parse_signature(inputs, where),
        run_id=_text(data.get("run_id")),
        model_id=_text(data.get("model_id")),
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def parse_signature(inputs: Any, where: str) -> Signature:
    """``signature.inputs`` (a JSON string, or an already decoded list) as a Signature."""
    if inputs is None or inputs == "":
        return Signature("none")
    if isinstance(inputs, str):
        try:
            inputs = load_json(inputs)
        except ValueError as err:
            raise SourceError(f"{where}: signature.inputs is not JSON ({err})") from None
    if not isinstance(inputs, list):
        raise SourceError(f"{where}: signature.inputs must be a list of column or tensor specs")
    columns: dict[str, str] = {}
    for spec in inputs:
        if not isinstance(spec, dict):
            raise SourceError(f"{where}: signature.inputs has an entry that is not a mapping")
        if spec.get("type") == "tensor" or "tensor-spec" in spec:
            return Signature("tensor")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            return Signature("tensor")  # unnamed column specs: positional, no column names
        columns[name] = str(spec.get("type") or "any")
    return Signature("columns", columns) if columns else Signature("none")


def parse_colspec(schema: Any, where: str) -> dict[str, str] | None:
    """A dataset input's ``schema`` (JSON ``{"mlflow_colspec": […]}``): column -> type.

    None when the dataset has no schema or one without column names (tensors).
    """
    if schema is None or schema == "":
        return None
    if isinstance(schema, str):
        try:
            schema = load_json(schema)
        except ValueError as err:
            raise SourceError(f"{where}: dataset schema is not JSON ({err})") from None
    specs = schema.get("mlflow_colspec") if isinstance(schema, dict) else None
    if not isinstance(specs, list):
        return None
    out: dict[str, str] = {}
    for spec in specs:
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            out[spec["name"]] = str(spec.get("type") or "any")
    return out or None


@dataclass
class Link:
    """How one model reads one training relation, as edges and expectations."""

    edges: list[tuple[str, str]] = field(default_factory=list)  # (src node id, edge kind)
    expects: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)  # signature columns the table lacks


def link(relation: str, schema: dict[str, str] | None, signature: Signature) -> Link:
    """The edges from a training relation to a model.

    Signature columns the dataset has are read column by column, typed by the signature;
    dataset columns outside the signature may feed preprocessing (``exposure``: possible use);
    a tensor or missing signature reads the whole relation at table level.
    """
    out = Link()
    if signature.kind != "columns":
        out.edges.append((relation, "reads"))
        return out
    for name, sig_type in signature.columns.items():
        if schema is not None and name not in schema:
            out.unmapped.append(name)
            continue
        out.edges.append((column_id(relation, name), "column"))
        out.expects[column_id(relation, name)] = sig_type
    for name in schema or {}:
        if name not in signature.columns:
            out.edges.append((column_id(relation, name), "exposure"))
    if not out.expects and schema is None:
        out.edges.append((relation, "reads"))
    return out


def fetch(spec: Any, ctx: SourceContext) -> GraphFragment:
    """MLmodel files in the repository as ML consumers (lineage kind ``mlmodel``)."""
    fragment = GraphFragment(spec.name or f"mlmodel:{spec.location}", "mlmodel")
    files = _files(ctx.root, spec.location)
    if not files:
        raise SourceError(f"{spec.location}: no MLmodel file found under {ctx.root}")
    problems: list[str] = []
    default_dataset = spec.options.get("dataset")
    for path in files:
        rel = path.relative_to(ctx.root).as_posix()
        try:
            if path.stat().st_size > MAX_MLMODEL_BYTES:
                raise SourceError(f"{rel}: larger than {MAX_MLMODEL_BYTES:,} bytes; not read")
            text = path.read_text(encoding="utf-8", errors="replace")
        except (SourceError, OSError) as err:
            problems.append(str(err))
            continue
        problem = add_file(fragment, rel, text, default_dataset, spec, ctx)
        if problem:
            problems.append(problem)
    if problems:
        fragment.status = "partial" if fragment.nodes else "failed"
        fragment.detail = "; ".join(problems[:5]) + (
            f"; +{len(problems) - 5} more" if len(problems) > 5 else ""
        )
    return fragment


NO_DATASET = "MLmodel files naming no training dataset (not linked to a table)"


def add_file(
    fragment: GraphFragment, rel: str, text: str, default_dataset: Any, spec: Any, ctx: Any
) -> str | None:
    """Add the model of one MLmodel file (``rel``: its path in the repository); the
    problem (``file[:line]: why``) when it cannot be read or names no training table."""
    try:
        model = parse_mlmodel(text, rel)
    except SourceError as err:
        return str(err)
    datasets = _datasets(model.metadata, default_dataset)
    if not datasets:
        return (
            f"{rel}: no training dataset (set metadata.training_dataset in the MLmodel "
            "or options.dataset)"
        )
    _add_model(fragment, rel, model, datasets, spec, ctx)
    return None


def _add_model(
    fragment: GraphFragment,
    rel: str,
    model: MLmodel,
    datasets: list[str],
    spec: Any,
    ctx: SourceContext,
) -> None:
    meta = model.metadata
    name, version = _text(meta.get("registered_model_name")), _text(meta.get("version"))
    directory = rel.rsplit("/", 1)[0] if "/" in rel else "."
    node_id = f"mlflow:{name}/{version}" if name and version else f"mlmodel:{directory}"
    display = f"{name}/{version}" if name and version else directory
    node = FragmentNode(
        node_id,
        "ml_model",
        "mlmodel",
        name=display + (" (unknown schema)" if model.signature.kind != "columns" else ""),
        owners=[str(o) for o in _as_list(meta.get("owners") or meta.get("owner"))],
        attrs={
            "file": rel,
            "signature": model.signature.kind,
            **({"model": name, "version": version} if name and version else {}),
            **({"run_id": model.run_id} if model.run_id else {}),
        },
    )
    for dataset in datasets:
        relation = canonical(dataset, spec.namespace, {**ctx.aliases, **spec.aliases})
        linked = link(relation, None, model.signature)
        node.expects.update(linked.expects)
        for src, kind in linked.edges:
            fragment.edge(src, node_id, kind)
    if model.signature.kind != "columns":
        fragment.count("models with no column signature (read at table level)")
    fragment.node(node)


def _datasets(metadata: dict[str, Any], default: Any) -> list[str]:
    for key in ("training_datasets", "training_dataset", "dataset"):
        if metadata.get(key):
            return [str(d) for d in _as_list(metadata[key]) if d]
    return [str(d) for d in _as_list(default) if d]


def _files(root: Path, location: str) -> list[Path]:
    """The MLmodel files a location names: a file, a directory (recursively) or a glob."""
    target = (root / location).resolve()
    root = root.resolve()
    if any(ch in location for ch in "*?["):
        found = [p for p in root.glob(location) if p.is_file()]
    elif target.is_file():
        found = [target]
    elif target.is_dir():
        found = [p for p in target.rglob("MLmodel") if p.is_file()]
    else:
        return []
    # never read outside the repository (a location like ../../etc is ignored)
    return sorted(p for p in found if p.resolve().is_relative_to(root) and ".git" not in p.parts)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
