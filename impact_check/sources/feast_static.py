"""Feast feature definitions read from Python source without running it.

A feature repository's ``*.py`` files are parsed with ``ast`` and interpreted as a tiny
language: module-level assignments of Feast constructor calls (``Entity``, ``FeatureView``,
``Field``, ``FeatureService``, the batch sources), string constants, lists and dicts,
``view[["a", "b"]]`` projections, and imports between files of the same repository (parsed
the same way). Nothing is imported or executed: pull-request code never runs in CI, where
secrets live.

What this cannot follow (a name computed at run time, a definition built in a loop or an
``if``, the result of a function call) becomes a :class:`Problem` naming the file and line;
the rest of the repository is still read. The registry readers (sources/feast.py) produce
the same :class:`FeastRepo`, so every way of reading Feast ends in one model.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

# Feast classes the reader understands (anything else imported from feast is opaque).
VIEW_CLASSES = frozenset({"FeatureView", "BatchFeatureView", "StreamFeatureView"})
SOURCE_CLASSES = frozenset(
    {
        "FileSource",
        "PostgreSQLSource",
        "BigQuerySource",
        "SnowflakeSource",
        "RedshiftSource",
        "SparkSource",
        "TrinoSource",
        "AthenaSource",
        "PushSource",
        "KafkaSource",
        "KinesisSource",
        "RequestSource",
    }
)
_CLASSES = VIEW_CLASSES | SOURCE_CLASSES | {"Entity", "Field", "FeatureService"}
_DYNAMIC_STATEMENTS = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.Try)
_SKIP_DIRS = {"__pycache__", "node_modules", "venv", ".venv", "site-packages"}


@dataclass
class Problem:
    """A definition the static reader could not follow."""

    file: str  # relative to the repository root
    line: int | None
    message: str


@dataclass
class SourceDef:
    """A Feast data source as declared (only the parts lineage needs)."""

    name: str | None
    kind: str  # the Feast class: FileSource, PostgreSQLSource, …
    table: str | None = None
    query: str | None = None
    path: str | None = None
    database: str | None = None
    schema: str | None = None
    field_mapping: dict[str, str] = field(default_factory=dict)
    timestamp_field: str | None = None
    created_timestamp_column: str | None = None


@dataclass
class ViewDef:
    """A feature view: its features (name -> declared dtype) and the source they come from."""

    name: str
    features: dict[str, str | None]
    entity_columns: dict[str, str | None]  # join key -> declared dtype
    source: SourceDef | None
    entities: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    kind: str = "FeatureView"
    file: str | None = None
    line: int | None = None


@dataclass
class ServiceDef:
    """A feature service: (view name, feature names or None for all of them) it serves."""

    name: str
    features: list[tuple[str, list[str] | None]]
    owners: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None


@dataclass
class FeastRepo:
    """What a feature repository (or registry) defines."""

    project: str | None = None
    views: list[ViewDef] = field(default_factory=list)
    services: list[ServiceDef] = field(default_factory=list)
    entities: dict[str, list[str]] = field(default_factory=dict)  # entity -> join keys
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # on-demand views, … -> count
    opaque_views: set[str] = field(default_factory=set)  # on-demand views (Python UDFs)
    files: int = 0


# --- the values the interpreter computes -------------------------------------------------


@dataclass(frozen=True)
class _Unknown:
    why: str


@dataclass(frozen=True)
class _FeastName:
    """A name imported from a ``feast`` module (a class, a type, a decorator)."""

    name: str


@dataclass(frozen=True)
class _Dtype:
    text: str  # Int64, Array(Int64)


@dataclass(frozen=True)
class _Opaque:
    """An on-demand feature view (a decorated Python function): served, not traced."""

    name: str


@dataclass(frozen=True)
class _Function:
    """A function defined in the repository (calls to it are not followed)."""

    name: str
    builds_feast: bool


@dataclass(eq=False)
class _Obj:
    """A Feast constructor call with its evaluated arguments."""

    cls: str
    kwargs: dict[str, Any]
    args: list[Any]
    file: str
    line: int


@dataclass(frozen=True)
class _Projection:
    view: _Obj
    features: tuple[str, ...]


@dataclass
class _Module:
    path: PurePosixPath  # "/" + the file's key: a virtual absolute path, so parents stay valid
    rel: str
    env: dict[str, Any] = field(default_factory=dict)
    done: bool = False


# A file's bytes, or why it could not be read.
FileText = bytes | str


class StaticReader:
    """Reads every ``*.py`` file of ``files`` under ``root``.

    ``files`` maps paths (relative to the repository root, ``/``-separated; they name files in
    problems) to their bytes or to why they could not be read: the same reader serves a
    feature repository on disk (:func:`read_repo`) and one in a git revision's snapshot
    (:func:`read_files`). Imports are resolved among ``files`` only.
    """

    def __init__(self, files: Mapping[str, FileText], root: str, only: str | None = None) -> None:
        self.files = files
        self.root = PurePosixPath("/", root)
        self.only = only  # read this file (and what it imports) instead of every file
        self.repo = FeastRepo()
        self._modules: dict[PurePosixPath, _Module] = {}

    def read(self) -> FeastRepo:
        """The repository's definitions; never raises on bad Python (problems instead)."""
        for key in [self.only] if self.only else sorted(self.files):
            path = PurePosixPath("/", key)
            if path.suffix == ".py" and _inside(path, self.root) and not _skipped(path, self.root):
                self._module(path)
        self._collect()
        return self.repo

    # --- modules and statements ----------------------------------------------------------

    def _module(self, path: PurePosixPath) -> _Module:
        module = self._modules.get(path)
        if module is not None:
            return module  # done, or being read (an import cycle: names bound so far)
        module = _Module(path, str(path)[1:])
        self._modules[path] = module
        self.repo.files += 1
        content = self.files.get(module.rel, "not found")
        try:
            if isinstance(content, str):
                raise OSError(content)
            tree = ast.parse(content, filename=module.rel)
        except SyntaxError as err:
            self._problem(module.rel, err.lineno, f"syntax error: {err.msg}; file not read")
            module.done = True
            return module
        except (OSError, ValueError) as err:
            self._problem(module.rel, None, f"cannot read the file: {err}")
            module.done = True
            return module
        for statement in tree.body:
            self._statement(module, statement)
        module.done = True
        return module

    def _statement(self, module: _Module, node: ast.stmt) -> None:
        if isinstance(node, ast.ImportFrom):
            self._import_from(module, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = self._repo_module(module, alias.name, 0)
                bound = alias.asname or alias.name.split(".")[0]
                if target is not None and alias.asname:
                    module.env[bound] = target
                elif alias.name.split(".")[0] == "feast":
                    module.env[bound] = _FeastName("feast")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            value_node = node.value
            if value_node is None:
                return
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = self._eval(module, value_node)
            for assigned in targets:
                if isinstance(assigned, ast.Name):
                    module.env[assigned.id] = value
                elif self._mentions_feast(module, value_node):
                    self._problem(module.rel, node.lineno, "Feast definition assigned to a pattern")
            if isinstance(value, _Unknown) and self._builds_feast(module, value_node):
                self._problem(module.rel, node.lineno, value.why)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self._function(module, node)
        elif isinstance(node, _DYNAMIC_STATEMENTS) and self._mentions_feast(module, node):
            word = type(node).__name__.lower().replace("async", "")
            self._problem(
                module.rel,
                node.lineno,
                f"Feast objects defined inside a `{word}` statement cannot be read "
                "statically; define them at module level",
            )

    def _function(self, module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            value = self._eval(module, decorator)
            name = value.cls if isinstance(value, _Obj) else getattr(value, "name", "")
            if name.endswith("_feature_view"):  # @on_demand_feature_view(...), …
                key = f"{name} definitions (Python functions, no column lineage)"
                self.repo.skipped[key] = self.repo.skipped.get(key, 0) + 1
                self.repo.opaque_views.add(node.name)
                module.env[node.name] = _Opaque(node.name)
                return
        module.env[node.name] = _Function(node.name, self._mentions_feast(module, node))

    def _import_from(self, module: _Module, node: ast.ImportFrom) -> None:
        name = node.module or ""
        if node.level == 0 and name.split(".")[0] == "feast":
            for alias in node.names:
                module.env[alias.asname or alias.name] = _FeastName(alias.name)
            return
        target = self._repo_module(module, name, node.level)
        if target is None:
            return  # a third-party or standard-library import: opaque
        for alias in node.names:
            bound = alias.asname or alias.name
            if alias.name == "*":
                module.env.update({k: v for k, v in target.env.items() if not k.startswith("_")})
            elif alias.name in target.env:
                module.env[bound] = target.env[alias.name]
            else:
                sub = self._repo_module(target, alias.name, 1)
                module.env[bound] = (
                    sub
                    if sub is not None
                    else _Unknown(f"`{alias.name}` is not defined in {target.rel}")
                )

    def _repo_module(self, module: _Module, name: str, level: int) -> _Module | None:
        """The repository file an import names, parsed statically (None: not ours)."""
        base = module.path.parent
        for _ in range(max(level - 1, 0)):
            base = base.parent
        candidates = [base] if level else [module.path.parent, self.root]
        parts = [p for p in name.split(".") if p]
        for folder in candidates:
            stem = folder.joinpath(*parts) if parts else folder
            paths = [stem / "__init__.py"]
            if parts and stem.name:
                paths.insert(0, stem.with_suffix(".py"))
            for path in paths:
                if str(path)[1:] in self.files and _inside(path, self.root):
                    return self._module(path)
        return None

    # --- expressions ----------------------------------------------------------------------

    def _eval(self, module: _Module, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in module.env:
                return module.env[node.id]
            return _Unknown(f"`{node.id}` is not bound to a value the reader can follow")
        if isinstance(node, ast.Attribute):
            return self._attribute(module, node)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self._eval(module, item) for item in node.elts]
        if isinstance(node, ast.Dict):
            return self._dict(module, node)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(module, node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._eval(module, node.left), self._eval(module, node.right)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            if isinstance(left, list) and isinstance(right, list):
                return left + right
            return _Unknown("a computed value")
        if isinstance(node, ast.Subscript):
            return self._subscript(module, node)
        if isinstance(node, ast.Call):
            return self._call(module, node)
        return _Unknown(f"a `{type(node).__name__}` expression is not read statically")

    def _attribute(self, module: _Module, node: ast.Attribute) -> Any:
        owner = self._eval(module, node.value)
        if isinstance(owner, _Module):
            return owner.env.get(
                node.attr, _Unknown(f"`{node.attr}` is not defined in {owner.rel}")
            )
        if isinstance(owner, _FeastName):
            return _FeastName(node.attr)  # feast.FeatureView, feast.types.Int64, ValueType.X
        return _Unknown(f"attribute `{node.attr}` of a value the reader cannot follow")

    def _dict(self, module: _Module, node: ast.Dict) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                return _Unknown("a dict built with `**`")
            k = self._eval(module, key)
            if isinstance(k, _Unknown):
                return _Unknown("a dict with computed keys")
            out[k] = self._eval(module, value)
        return out

    def _fstring(self, module: _Module, node: ast.JoinedStr) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                inner = self._eval(module, value.value)
                if not isinstance(inner, str | int) or value.format_spec is not None:
                    return _Unknown("a name computed at run time (f-string)")
                parts.append(str(inner))
        return "".join(parts)

    def _subscript(self, module: _Module, node: ast.Subscript) -> Any:
        owner = self._eval(module, node.value)
        index = self._eval(module, node.slice)
        if isinstance(owner, _Obj) and owner.cls in VIEW_CLASSES:
            if isinstance(index, list) and all(isinstance(i, str) for i in index):
                return _Projection(owner, tuple(index))
            return _Unknown("a feature view projection with computed feature names")
        if isinstance(owner, dict) and not isinstance(index, _Unknown):
            try:
                return owner.get(index, _Unknown(f"key {index!r} not in the dict"))
            except TypeError:
                return _Unknown("an unhashable dict key")
        if isinstance(owner, list) and isinstance(index, int) and -len(owner) <= index < len(owner):
            return owner[index]
        return _Unknown("a subscript the reader cannot follow")

    def _call(self, module: _Module, node: ast.Call) -> Any:
        func = self._eval(module, node.func)
        if isinstance(func, _FeastName):
            if func.name == "Array":
                inner = self._eval(module, node.args[0]) if node.args else None
                text = inner.text if isinstance(inner, _Dtype) else "?"
                if isinstance(inner, _FeastName):
                    text = inner.name
                return _Dtype(f"Array({text})")
            if func.name in _CLASSES or func.name.endswith("_feature_view"):
                kwargs: dict[str, Any] = {}
                for keyword in node.keywords:
                    if keyword.arg is None:
                        return _Unknown(f"`{func.name}(**…)`: arguments built at run time")
                    kwargs[keyword.arg] = self._eval(module, keyword.value)
                args = [self._eval(module, a) for a in node.args]
                return _Obj(func.name, kwargs, args, module.rel, node.lineno)
            return _Unknown(f"`{func.name}(…)` from feast")
        if isinstance(func, _Function):
            return _Unknown(
                f"`{func.name}(…)` is a function call: its result cannot be read statically"
            )
        return _Unknown("the result of a function call cannot be read statically")

    def _builds_feast(self, module: _Module, node: ast.expr) -> bool:
        """Whether an unresolvable value would have been a Feast definition."""
        if isinstance(node, ast.Call):
            func = self._eval(module, node.func)
            if isinstance(func, _FeastName) and func.name in _CLASSES:
                return True
            if isinstance(func, _Function) and func.builds_feast:
                return True  # a local factory: make_view("orders") builds a feature view
        return self._mentions_feast(module, node)

    def _mentions_feast(self, module: _Module, node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = self._eval(module, sub.func)
                if isinstance(func, _FeastName) and func.name in _CLASSES:
                    return True
        return False

    # --- from values to definitions -------------------------------------------------------

    def _collect(self) -> None:
        objects: dict[int, _Obj] = {}
        for module in self._modules.values():
            for value in module.env.values():
                if isinstance(value, _Obj):
                    objects.setdefault(id(value), value)
        for obj in sorted(objects.values(), key=lambda o: (o.file, o.line)):
            if obj.cls == "Entity":
                self._entity(obj)
        for obj in sorted(objects.values(), key=lambda o: (o.file, o.line)):
            if obj.cls in VIEW_CLASSES:
                view = self._view(obj)
                if view is not None:
                    self.repo.views.append(view)
            elif obj.cls == "FeatureService":
                service = self._service(obj)
                if service is not None:
                    self.repo.services.append(service)

    def _entity(self, obj: _Obj) -> None:
        name = self._name(obj)
        if name is None:
            return
        keys = obj.kwargs.get("join_keys")
        if keys is None and isinstance(obj.kwargs.get("join_key"), str):
            keys = [obj.kwargs["join_key"]]
        if keys is None:
            keys = [name]  # Feast's default: the entity's name is its join key
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            self._problem(obj.file, obj.line, f"entity {name}: join_keys computed at run time")
            keys = []
        self.repo.entities[name] = list(keys)

    def _view(self, obj: _Obj) -> ViewDef | None:
        name = self._name(obj)
        if name is None:
            return None
        fields = obj.kwargs.get("schema")
        if fields is None:
            self._problem(
                obj.file,
                obj.line,
                f"feature view {name} has no schema=: Feast infers its features when it "
                "applies; declare them with Field(...) so they can be checked",
            )
            fields = []
        if not isinstance(fields, list):
            self._problem(obj.file, obj.line, f"feature view {name}: schema computed at run time")
            fields = []
        entities = self._entity_names(obj, name)
        keys = {k for e in entities for k in self.repo.entities.get(e, [])}
        features: dict[str, str | None] = {}
        entity_columns: dict[str, str | None] = {}
        for item in fields:
            parsed = self._field(item, obj, name)
            if parsed is None:
                continue
            field_name, dtype = parsed
            (entity_columns if field_name in keys else features)[field_name] = dtype
        for key in sorted(keys - set(entity_columns)):
            entity_columns[key] = None
        source = self._source(obj.kwargs.get("source"), obj, name)
        return ViewDef(
            name=name,
            features=features,
            entity_columns=entity_columns,
            source=source,
            entities=entities,
            owners=_owners(obj.kwargs),
            tags=_tags(obj.kwargs.get("tags")),
            kind=obj.cls,
            file=obj.file,
            line=obj.line,
        )

    def _entity_names(self, obj: _Obj, view: str) -> list[str]:
        raw = obj.kwargs.get("entities") or []
        if not isinstance(raw, list):
            self._problem(obj.file, obj.line, f"feature view {view}: entities computed at run time")
            return []
        names = []
        for entity in raw:
            if isinstance(entity, _Obj) and entity.cls == "Entity":
                entity_name = entity.kwargs.get("name")
                if isinstance(entity_name, str):
                    names.append(entity_name)
            elif isinstance(entity, str):
                names.append(entity)
            else:
                self._problem(obj.file, obj.line, f"feature view {view}: an entity not resolved")
        return names

    def _field(self, item: Any, obj: _Obj, view: str) -> tuple[str, str | None] | None:
        if not isinstance(item, _Obj) or item.cls != "Field":
            self._problem(obj.file, obj.line, f"feature view {view}: a schema entry not resolved")
            return None
        name = item.kwargs.get("name", item.args[0] if item.args else None)
        if not isinstance(name, str):
            self._problem(item.file, item.line, f"feature view {view}: a field name not resolved")
            return None
        dtype = item.kwargs.get("dtype", item.args[1] if len(item.args) > 1 else None)
        if isinstance(dtype, _Dtype):
            return name, dtype.text
        if isinstance(dtype, _FeastName):
            return name, dtype.name
        return name, None

    def _source(self, value: Any, obj: _Obj, view: str) -> SourceDef | None:
        if isinstance(value, _Obj) and value.cls in ("PushSource", "KafkaSource", "KinesisSource"):
            value = value.kwargs.get("batch_source")  # the offline rows come from the batch source
        if value is None:
            self._problem(obj.file, obj.line, f"feature view {view}: no batch source")
            return None
        if not isinstance(value, _Obj) or value.cls not in SOURCE_CLASSES:
            why = value.why if isinstance(value, _Unknown) else "not a known Feast source"
            self._problem(obj.file, obj.line, f"feature view {view}: source not resolved ({why})")
            return None
        kw = value.kwargs
        mapping = kw.get("field_mapping") or {}
        if not isinstance(mapping, dict):
            self._problem(value.file, value.line, "field_mapping computed at run time")
            mapping = {}
        source = SourceDef(
            name=_text(kw.get("name")),
            kind=value.cls,
            table=_text(kw.get("table")),
            query=_text(kw.get("query")),
            path=_text(kw.get("path")),
            database=_text(kw.get("database")),
            schema=_text(kw.get("schema")),
            field_mapping={str(k): str(v) for k, v in mapping.items() if isinstance(v, str)},
            timestamp_field=_text(kw.get("timestamp_field") or kw.get("event_timestamp_column")),
            created_timestamp_column=_text(kw.get("created_timestamp_column")),
        )
        for key in ("table", "query", "path"):
            if isinstance(kw.get(key), _Unknown):
                self._problem(
                    value.file, value.line, f"source {source.name or view}: `{key}` {kw[key].why}"
                )
        return source

    def _service(self, obj: _Obj) -> ServiceDef | None:
        name = self._name(obj)
        if name is None:
            return None
        raw = obj.kwargs.get("features") or []
        if not isinstance(raw, list):
            self._problem(
                obj.file, obj.line, f"feature service {name}: features computed at run time"
            )
            raw = []
        features: list[tuple[str, list[str] | None]] = []
        for item in raw:
            if isinstance(item, _Projection):
                view = _text(item.view.kwargs.get("name"))
                if view:
                    features.append((view, list(item.features)))
            elif isinstance(item, _Obj) and item.cls in VIEW_CLASSES:
                view = _text(item.kwargs.get("name"))
                if view:
                    features.append((view, None))
            elif isinstance(item, _Opaque):
                features.append((item.name, None))
            else:
                self._problem(obj.file, obj.line, f"feature service {name}: an entry not resolved")
        return ServiceDef(
            name, features, _owners(obj.kwargs), _tags(obj.kwargs.get("tags")), obj.file, obj.line
        )

    def _name(self, obj: _Obj) -> str | None:
        name = obj.kwargs.get("name", obj.args[0] if obj.args else None)
        if isinstance(name, str) and name:
            return name
        why = name.why if isinstance(name, _Unknown) else "no name="
        self._problem(obj.file, obj.line, f"{obj.cls}: name not resolved ({why}); not read")
        return None

    def _problem(self, file: str, line: int | None, message: str) -> None:
        problem = Problem(file, line, message)
        if problem not in self.repo.problems:
            self.repo.problems.append(problem)


MAX_PYTHON_BYTES = 2_000_000  # limits.max_file_bytes' default, for files read from disk


def read_repo(root: Path, repo_root: Path | None = None) -> FeastRepo:
    """The Feast definitions under ``root`` on disk (a folder, or one file and what it
    imports), files named relative to ``repo_root`` when ``root`` is inside it."""
    target = root.resolve()
    folder = target if target.is_dir() else target.parent
    top = (repo_root or root).resolve()
    if not folder.is_relative_to(top):
        top = folder
    files: dict[str, FileText] = {}
    for path in _python_files(folder):
        key = path.relative_to(top).as_posix()
        try:
            size = path.stat().st_size
            if size > MAX_PYTHON_BYTES:
                files[key] = f"{size:,} bytes, over {MAX_PYTHON_BYTES:,}: not read"
            else:
                files[key] = path.read_bytes()
        except OSError as err:
            files[key] = str(err.strerror or err)
    only = target.relative_to(top).as_posix() if target.is_file() else None
    return StaticReader(files, folder.relative_to(top).as_posix(), only).read()


def read_files(files: Mapping[str, FileText], root: str) -> FeastRepo:
    """The Feast definitions of the files under ``root`` (``""``: everything) of a mapping
    path -> bytes (a git revision's snapshot)."""
    return StaticReader(files, root).read()


def _python_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).parts
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel[:-1]):
            continue
        if path.is_symlink():
            continue  # a link may point outside the repository
        yield path


def _inside(path: PurePosixPath, root: PurePosixPath) -> bool:
    return path == root or root in path.parents


def _skipped(path: PurePosixPath, root: PurePosixPath) -> bool:
    """Hidden folders and virtual environments are no part of a feature repository."""
    parts = path.relative_to(root).parts[:-1]
    return any(part.startswith(".") or part in _SKIP_DIRS for part in parts)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _tags(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}


def _owners(kwargs: dict[str, Any]) -> list[str]:
    owners = [kwargs["owner"]] if isinstance(kwargs.get("owner"), str) else []
    tag_owner = _tags(kwargs.get("tags")).get("owner")
    if tag_owner and tag_owner not in owners:
        owners.append(tag_owner)
    return [o for o in owners if o]
