"""Consumers the repository carries, found without configuration (no I/O: a snapshot in).

Like a ``dbt_project.yml`` makes a dbt project, these files make consumers of the tables the
diff changes; they are read from the revision being checked (the head snapshot, never the
work tree of another revision), statically (nothing is imported or run):

- a folder with ``feature_store.yaml`` is a Feast feature repository: its ``*.py`` files
  (sources/feast_static.py);
- a file named ``MLmodel`` is an MLflow model (sources/mlmodel.py), linked to the table its
  ``metadata.training_dataset`` names;
- a folder with ``great_expectations.yml`` is a Great Expectations project (sources/gx.py);
- ``*.dvc`` files and ``dvc.yaml`` are DVC imports and stages (sources/dvc.py);
- a file named ``schema.pbtxt`` is a TFX/TFDV schema (sources/tfx.py).

Configuration only narrows or adds: ``discover: {enabled: false}`` turns this off,
``discover.kinds`` keeps some kinds, ``discover.exclude`` lists path globs never read, and a
``lineage:`` entry of the same kind whose location covers a discovered folder or file
replaces its discovery (its options apply). :func:`consumer_paths` picks the files
beyond the SQL and YAML a snapshot must hold for this (the edge hands it to git.snapshot).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impact_check.model import FileContent, Snapshot
from impact_check.sources.dvc import is_dvc_file
from impact_check.sources.tfx import is_schema, pipeline_files

if TYPE_CHECKING:
    from impact_check.config import Config, LineageSource
    from impact_check.sources.base import GraphFragment

FEAST_MARKER = "feature_store.yaml"
GX_MARKER = "great_expectations.yml"
MLMODEL_NAME = "MLmodel"


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _under(path: str, root: str) -> bool:
    return root == "" or path.startswith(root + "/")


def _roots(paths: Iterable[str], marker: str) -> list[str]:
    return sorted({_folder(p) for p in paths if _name(p) == marker})


def _in_project(path: str, roots: list[str]) -> bool:
    """Inside a GX project, not in its ``uncommitted/`` (validation results, data docs)."""
    return any(
        _under(path, r) and not path[len(r) :].lstrip("/").startswith("uncommitted/") for r in roots
    )


def consumer_paths(paths: Iterable[str]) -> set[str]:
    """The paths among ``paths`` that discovery reads besides SQL and YAML files."""
    listed = list(paths)
    feast = _roots(listed, FEAST_MARKER)
    gx = _roots(listed, GX_MARKER)
    out = set()
    for path in listed:
        name = _name(path)
        if (
            name == MLMODEL_NAME
            or (path.endswith(".py") and any(_under(path, r) for r in feast))
            or (path.endswith(".json") and _in_project(path, gx))
            or is_dvc_file(path)
            or is_schema(path)
        ):
            out.add(path)
    return out | pipeline_files(listed)


def discover(snapshot: Snapshot, config: Config) -> list[GraphFragment]:
    """A fragment per consumer folder or kind found in ``snapshot`` (see the module doc)."""
    settings = config.discover
    if not settings.enabled:
        return []
    kinds = set(settings.kinds or ("feast", "mlmodel", "great_expectations", "dvc", "tfx"))
    files = {p: c for p, c in snapshot.files.items() if not _excluded(p, settings.exclude)}
    out: list[GraphFragment] = []
    if "feast" in kinds:
        for root in _roots(files, FEAST_MARKER):
            if not _configured("feast", root, config.lineage):
                out.append(_feast(files, root, config))
    if "great_expectations" in kinds:
        for root in _roots(files, GX_MARKER):
            if not _configured("great_expectations", root, config.lineage):
                out.append(_gx(files, root, config))
    if "dvc" in kinds:
        dvc = {
            p: c
            for p, c in files.items()
            if is_dvc_file(p) and not _configured("dvc", p, config.lineage)
        }
        if any(p.endswith((".dvc", "dvc.yaml")) for p in dvc):
            out.append(_dvc(dvc, config))
    if "tfx" in kinds:
        schemas = [p for p in files if is_schema(p) and not _configured("tfx", p, config.lineage)]
        if schemas:
            near = pipeline_files(list(files))
            tfx = {p: c for p, c in files.items() if p in schemas or p in near}
            out.append(_tfx(tfx, config))
    if "mlmodel" in kinds:
        models = [
            p
            for p in sorted(files)
            if _name(p) == MLMODEL_NAME and not _configured("mlmodel", p, config.lineage)
        ]
        if models:
            out.append(_mlmodels(files, models, config))
    return out


def _excluded(path: str, globs: list[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(path, glob) or _under(path, glob.strip("/")) for glob in globs if glob
    )


def _configured(kind: str, path: str, specs: list[LineageSource]) -> bool:
    """Whether a configured source of ``kind`` reads ``path`` (a folder or a file)."""
    for spec in specs:
        if spec.kind != kind or "://" in spec.location:
            continue
        location = spec.location.strip().removeprefix("./").rstrip("/")
        if location in ("", ".") or path == location or _under(path, location):
            return True
        if any(ch in location for ch in "*?[") and fnmatch.fnmatchcase(path, location):
            return True
    return False


def _text(content: FileContent, config: Config) -> tuple[str | None, str]:
    """A file's text under the configured limits, or (None, why it cannot be read)."""
    from impact_check.project.files import decode_file

    text, reason, _line = decode_file(content, config.limits.max_file_bytes)
    return text, reason


def _spec(kind: str, location: str, **options: Any) -> LineageSource:
    from impact_check.config import LineageSource

    shown = location or "."
    return LineageSource(
        kind=kind, location=shown, name=f"{kind}:{shown} (discovered)", options=options
    )


def _context(config: Config) -> Any:
    from impact_check.sources.base import SourceContext

    return SourceContext(root=Path("."), aliases=dict(config.aliases), use_cache=False)


def _feast(files: dict[str, FileContent], root: str, config: Config) -> GraphFragment:
    from impact_check.sources.feast import build_fragment
    from impact_check.sources.feast_static import FileText, read_files

    texts: dict[str, FileText] = {}
    for path, content in files.items():
        if path.endswith(".py") and _under(path, root):
            text, reason = _text(content, config)
            texts[path] = text.encode("utf-8") if text is not None else reason
    repo = read_files(texts, root)
    return build_fragment(repo, _spec("feast", root), _context(config))


def _gx(files: dict[str, FileContent], root: str, config: Config) -> GraphFragment:
    from impact_check.sources.gx import read_project

    spec = _spec("great_expectations", root)
    return read_project(files, root, spec, _context(config), config)


def _dvc(files: dict[str, FileContent], config: Config) -> GraphFragment:
    from impact_check.sources.dvc import read_dvc

    return read_dvc(files, _spec("dvc", ""), _context(config), config)


def _tfx(files: dict[str, FileContent], config: Config) -> GraphFragment:
    from impact_check.sources.tfx import read_schemas

    return read_schemas(files, _spec("tfx", ""), _context(config), config)


def _mlmodels(files: dict[str, FileContent], paths: list[str], config: Config) -> GraphFragment:
    from impact_check.sources.base import GraphFragment
    from impact_check.sources.mlmodel import NO_DATASET, add_file

    spec = _spec("mlmodel", "**/MLmodel")
    fragment = GraphFragment(str(spec.name), "mlmodel")
    ctx = _context(config)
    problems = []
    for path in paths:
        text, reason = _text(files[path], config)
        if text is None:
            problems.append(f"{path}: {reason}")
            continue
        problem = add_file(fragment, path, text, None, spec, ctx)
        if problem and "no training dataset" in problem:
            fragment.count(NO_DATASET)  # a model of something else: counted, not a problem
        elif problem:
            problems.append(problem)
    fragment.count("MLmodel files", len(paths))
    if problems:
        fragment.status = "partial"
        more = f"; +{len(problems) - 5} more" if len(problems) > 5 else ""
        fragment.detail = "; ".join(problems[:5]) + more
    return fragment


__all__ = ["consumer_paths", "discover"]
