"""Render dbt model Jinja without dbt and without a warehouse.

One :class:`DbtRenderer` per dbt project and revision holds jinja2's sandbox with what dbt
puts in a model's context: ``ref``/``source``/``config``/``var``/``env_var``/``this``, the
project's and installed packages' macros (each compiled once, called like dbt's macro
generator: ``return()`` ends a macro with a value), ``adapter.dispatch`` resolving
``<adapter>__name`` / ``default__name`` through the project and packages, ``builtins``,
``target``, ``{% do %}``, and dbt's cross-database macros (sql/dbt_context.py).

Rendering calls nothing of the project but its Jinja: no query runs (``execute`` is false,
as while dbt parses). A name the checker cannot give (a macro of a package that is not
installed, an adapter call it cannot answer) renders to a recognisable placeholder
(``__impact_check_macro_<name>__``) that lineage reads as "unknown", and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from jinja2 import Template, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from impact_check.sql.dbt_context import (
    ColumnInfo,
    CompilerError,
    CrossDatabase,
    Relation,
    base_context,
    dispatch_prefixes,
    executing_context,
    quote_character,
)
from impact_check.sql.placeholders import PLACEHOLDER_PREFIX, placeholder

# Keys of a profile's output a model may read through ``target`` (never secrets).
TARGET_KEYS = (
    "schema",
    "database",
    "dataset",
    "project",
    "catalog",
    "account",
    "warehouse",
    "role",
    "location",
    "threads",
    "host",
    "port",
    "user",
    "path",
)


@dataclass
class Rendered:
    """A rendered model: its SQL, the config() it set, and what could not be expanded."""

    sql: str
    config: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # what rendered as placeholders
    refs: list[str] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)  # what ref() and source() returned
    empty: list[str] = field(default_factory=list)  # macros that rendered nothing
    introspected: bool = False  # asked the warehouse for columns while parsing (got none)
    queried: bool = False  # ran a query (run_query, statement, load_result): no rows here
    error: str | None = None
    syntax_error: bool = False  # the Jinja does not parse: dbt rejects the project too
    line: int | None = None  # where the error is, when known


@dataclass(frozen=True)
class MacroSource:
    """One ``{% macro %}`` block: its name, text, file, first line and package."""

    name: str
    source: str
    path: str
    line: int = 1
    package: str = ""


@dataclass
class Target:
    """``target``: the profile's output the project builds with (or the dialect's adapter)."""

    name: str = "dev"
    schema: str = "main"
    database: str = ""
    type: str = "duckdb"
    profile_name: str = ""
    threads: int = 1
    extra: dict[str, Any] = field(default_factory=dict)  # other TARGET_KEYS of the output

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "extra":
            raise AttributeError(name)
        extra = self.__dict__.get("extra") or {}
        if name in extra:
            return extra[name]
        if name in ("dataset",):
            return self.schema
        if name in ("project", "catalog"):
            return self.database
        raise AttributeError(name)


class _Return(Exception):
    """``return(value)`` inside a macro: the macro call evaluates to ``value``."""

    def __init__(self, value: Any) -> None:
        super().__init__("return")
        self.value = value


def _return(value: Any = None) -> None:
    raise _Return(value)


# what runs a query on the warehouse (which answers no rows here)
_QUERIES = ("run_query", "statement", "load_result")


class _Recorder:
    """What one render could not expand, in order."""

    def __init__(self) -> None:
        self.unknown: list[str] = []

    def add(self, name: str) -> None:
        if name not in self.unknown:
            self.unknown.append(name)


def _undefined_class(recorder: _Recorder) -> type[Undefined]:
    class Placeholder(Undefined):
        """An unknown name: renders as a placeholder; calls, attributes, items and
        arithmetic stay placeholders, comparisons are false. What the sandbox refused
        (an unsafe attribute) raises its SecurityError on any use instead."""

        def _name(self) -> str:
            if self._undefined_exception is SecurityError:
                self._fail_with_undefined_error()
            owner = self._undefined_obj
            label = getattr(owner, "_label", None) if owner is not None else None
            own = str(self._undefined_name or "unknown")
            return f"{label}.{own}" if isinstance(label, str) else own

        def __str__(self) -> str:
            recorder.add(self._name())
            return placeholder(self._name())

        def __call__(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
            recorder.add(self._name())
            return placeholder(self._name())

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            return Placeholder(name=f"{self._name()}.{name}")

        def __getitem__(self, key: Any) -> Any:
            return Placeholder(name=f"{self._name()}.{key}")

        def __iter__(self) -> Iterator[Any]:
            self._name()
            return iter(())

        def __len__(self) -> int:
            self._name()
            return 0

        def __bool__(self) -> bool:
            self._name()
            return False

        def _same(self, *_: Any) -> Any:
            self._name()
            return self

        __add__ = __radd__ = __sub__ = __rsub__ = _same
        __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _same
        __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __neg__ = __pos__ = _same

        def _false(self, *_: Any) -> bool:
            self._name()
            return False

        __lt__ = __le__ = __gt__ = __ge__ = _false  # type: ignore[assignment]

    return Placeholder


_COUNTER = "__impact_check_loop__"


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox plus a work budget: loops, calls, ``*`` and ``**`` count against
    ``max_steps`` (reset for every model)."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, max_steps: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps_left = max_steps
        self.max_steps = max_steps

    def _spend(self, steps: int) -> None:
        self.steps_left -= max(steps, 1)
        if self.steps_left < 0:
            raise SecurityError(
                f"the template asks for more than limits.max_render_steps ({self.max_steps:,}) "
                "loop iterations or characters"
            )

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Route every ``{% for %}`` through a counter: a loop nest is work the template asks
        for even when its body calls nothing."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_COUNTER, "load"), [loop.iter], [], None, None)
        return tree

    def counted(self, items: Any) -> Iterator[Any]:
        for item in items:
            self._spend(1)
            yield item

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int) and abs(right) > 64:
                raise SecurityError("exponent too large to render")
            return left**right
        for value, count in ((left, right), (right, left)):  # sequence * n
            if isinstance(value, (str, list, tuple)) and isinstance(count, int):
                self._spend(len(value) * count)
        return left * right

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self._spend(1)
        return super().call(__context, __obj, *args, **kwargs)


class _Namespace:
    """A package's macros as attributes (``dbt_utils.star``, ``dbt.date_trunc``)."""

    def __init__(self, label: str, lookup: Callable[[str], Any]) -> None:
        self._label = label
        self._lookup = lookup

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        found = self._lookup(name)
        if found is None:
            raise AttributeError(name)  # jinja makes it a placeholder named label.name
        return found

    def __getitem__(self, name: str) -> Any:
        """``pkg._private_macro``: jinja's sandbox refuses attributes starting with an
        underscore and falls back to the item, which holds only this package's macros."""
        found = self._lookup(str(name)) if not str(name).startswith("__") else None
        if found is None:
            raise KeyError(name)
        return found

    def __str__(self) -> str:
        return self._label


class _MacroCall:
    """A project or package macro, called like dbt's MacroGenerator: ``return()`` inside
    it gives the call's value."""

    def __init__(self, renderer: DbtRenderer, macro: MacroSource) -> None:
        self._renderer = renderer  # private: templates see no attribute of it
        self._macro = macro

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        renderer = self._renderer
        renderer.stack.append(self._macro)
        try:
            function = renderer.macro_function(self._macro)
            if function is None:
                return placeholder(self._macro.name)
            result = function(*args, **kwargs)
        except _Return as done:
            result = done.value
        except Exception:
            if renderer.failed_in is None:
                renderer.failed_in = list(renderer.stack)
            raise
        finally:
            renderer.stack.pop()
        if isinstance(result, str) and not result.strip() and self._macro.package:
            renderer.empty.append(f"{self._macro.package}.{self._macro.name}")
        return result


class _Adapter:
    """``adapter``: dispatch, quoting and the type; warehouse questions get no answer."""

    _label = "adapter"

    def __init__(self, renderer: DbtRenderer, executing: bool = False) -> None:
        self._renderer = renderer
        self._executing = executing

    def dispatch(
        self,
        macro_name: str,
        macro_namespace: str | None = None,
        packages: Any = None,
    ) -> Any:
        return self._renderer.dispatch(str(macro_name), macro_namespace, packages)

    def type(self) -> str:
        return self._renderer.target.type

    def quote(self, identifier: Any) -> str:
        mark = quote_character(self._renderer.target.type)
        return f"{mark}{identifier}{mark}"

    def quote_as_configured(self, identifier: Any, quote_key: Any = None) -> str:
        return str(identifier)

    def quote_seed_column(self, column: Any, quote_config: Any = None) -> str:
        return str(column)

    def get_relation(
        self, database: Any = None, schema: Any = None, identifier: Any = None, *_: Any, **__: Any
    ) -> Relation | None:
        """Nothing while parsing; as dbt compiles, the relation asked for, assumed to exist
        (a union macro falling back to an empty one-column select when the warehouse has no
        such table would read as every other column dropped). Its columns stay unknown."""
        if not self._executing:
            self._renderer.introspected = True
            return None
        if not identifier:
            return None
        return Relation(str(database or ""), str(schema or ""), str(identifier))

    def get_columns_in_relation(self, relation: Any = None, *_: Any, **__: Any) -> list[Any]:
        """Nothing while parsing; as dbt compiles, one column of unknown name: macros
        listing a relation's columns build SQL whose columns lineage reads as unknown."""
        if not self._executing:
            self._renderer.introspected = True
            return []
        name = placeholder(f"columns of {relation}")
        return [ColumnInfo(name, "unknown")]

    def get_missing_columns(self, *_: Any, **__: Any) -> list[Any]:
        return []

    def list_relations_without_caching(self, *_: Any, **__: Any) -> list[Any]:
        return []

    def check_schema_exists(self, *_: Any, **__: Any) -> bool:
        return False

    def already_exists(self, *_: Any, **__: Any) -> bool:
        return False

    def get_columns_in_query(self, *_: Any, **__: Any) -> list[Any]:
        if not self._executing:
            self._renderer.introspected = True
        return []


class _Var:
    """``var``: project vars (string values rendered as dbt does when they are read),
    ``var.has_var``."""

    def __init__(self, renderer: DbtRenderer) -> None:
        self._renderer = renderer

    def __call__(self, name: Any, default: Any = Undefined) -> Any:
        renderer = self._renderer
        values = renderer.variables
        key = str(name)
        if key in values:
            return renderer.render_value(values[key])
        if default is not Undefined:
            return default
        renderer.recorder.add(f"var('{key}')")
        return placeholder(f"var_{key}")

    def has_var(self, name: Any) -> bool:
        return str(name) in self._renderer.variables


class _Config:
    """``config``: ``config(…)`` records, ``config.get``/``require`` read what is set."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        for arg in args:
            if isinstance(arg, dict):
                self.values.update(arg)
        self.values.update(kwargs)
        return ""

    def get(self, name: Any, default: Any = None, validator: Any = None) -> Any:
        return self.values.get(str(name), default)

    def require(self, name: Any, validator: Any = None) -> Any:
        return self.values.get(str(name), placeholder(f"config_{name}"))

    def set(self, name: Any, value: Any) -> str:
        self.values[str(name)] = value
        return ""

    def persist_relation_docs(self) -> bool:
        return False

    def persist_column_docs(self) -> bool:
        return False


def _native(text: Any) -> Any:
    """A rendered value as dbt's native rendering reads it (booleans, numbers, None);
    ``as_bool``/``as_native``/``as_number`` are this filter, and pass other values on."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if re.fullmatch(r"-?\d+", stripped):
        return int(stripped)
    if re.fullmatch(r"-?\d+\.\d*", stripped):
        return float(stripped)
    return text


class DbtRenderer:
    """The Jinja of one dbt project at one revision.

    ``macros`` maps a package name (the project's own name for its macros) to its macros;
    ``dispatch`` is dbt_project.yml's ``dispatch:`` (namespace -> search order).
    """

    def __init__(
        self,
        project: str,
        target: Target,
        variables: Mapping[str, Any] | None = None,
        macros: Mapping[str, Mapping[str, MacroSource]] | None = None,
        dispatch: Mapping[str, list[str]] | None = None,
        max_steps: int = 1_000_000,
    ) -> None:
        self.project = project
        self.target = target
        self.variables = dict(variables or {})
        self.macros = {pkg: dict(found) for pkg, found in (macros or {}).items()}
        self.dispatch_order = dict(dispatch or {})
        self.max_steps = max_steps
        self.graph: dict[str, Any] = {"nodes": {}, "sources": {}, "macros": {}, "exposures": {}}
        self.recorder = _Recorder()
        self.stack: list[MacroSource] = []
        self.empty: list[str] = []  # macros that rendered nothing (waiting for `execute`)
        self.introspected = False  # the render asked the warehouse for columns
        self.queried = False  # the render ran a query
        self.failed_in: list[MacroSource] | None = None
        self._templates: dict[tuple[str, str], Template | None] = {}
        self._functions: dict[tuple[str, str], Any] = {}
        self._values: dict[str, Template] = {}
        self._calls: dict[tuple[str, str], _MacroCall] = {}
        self._vars: dict[str, Any] = {}
        self._lines: dict[str, dict[int, str]] = {}  # macro file -> line -> text
        self._model = ("", "")  # the model being rendered: path, text
        self.env = _BoundedEnvironment(
            max_steps,
            undefined=_undefined_class(self.recorder),
            autoescape=False,
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        )
        self.env.filters.update(
            as_bool=_native,
            as_native=_native,
            as_number=_native,
            as_text=str,
        )
        self._internal = CrossDatabase(target.type).macros()
        self.env.globals.update(self._globals())

    # -- the global namespace ------------------------------------------------------------

    def _globals(self) -> dict[str, Any]:
        names: dict[str, Any] = dict(base_context(self.target.type))
        names.update(
            {
                "return": _return,
                "adapter": _Adapter(self),
                "target": self.target,
                "project_name": self.project,
                "env_var": self.env_var,
                "var": _Var(self),
                _COUNTER: self.env.counted,
            }
        )
        for name in self._internal:  # dbt's macros are global names, dispatched
            names[name] = self._dispatching(name, "dbt")
        names["dbt"] = _Namespace("dbt", lambda n: self._package_macro("dbt", n))
        if "dbt_utils" not in self.macros:
            # dbt_utils before 1.0 held the cross-database macros dbt 1.2 then took over
            # unchanged (`dbt_utils.type_string()`): not installed, they are dbt's own
            names["dbt_utils"] = _Namespace("dbt_utils", self._cross_database)
        for package in self.macros:  # the project's own name too: `shop.cents(…)`
            names[package] = _Namespace(package, self._package_lookup(package))
        for name in self.macros.get(self.project, {}):
            names[name] = self._call(self.project, name)
        return names

    def _dispatching(self, name: str, namespace: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.dispatch(name, namespace)(*args, **kwargs)

        return call

    def _cross_database(self, name: str) -> Any:
        """dbt's cross-database macro ``name`` (dispatched), or None."""
        return self._dispatching(name, "dbt") if name in self._internal else None

    def _package_lookup(self, package: str) -> Callable[[str], Any]:
        return lambda name: self._package_macro(package, name)

    def _call(self, package: str, name: str) -> _MacroCall:
        key = (package, name)
        if key not in self._calls:
            self._calls[key] = _MacroCall(self, self.macros[package][name])
        return self._calls[key]

    def _package_macro(self, package: str, name: str) -> Any:
        """``package.name``: the package's macro (dbt's own: dispatched internals)."""
        if package == "dbt":
            if name in self._internal:
                return self._dispatching(name, "dbt")
            if name.startswith("default__") and name[9:] in self._internal:
                return self._internal[name[9:]]
            return None
        if name in self.macros.get(package, {}):
            return self._call(package, name)
        return None

    def _lookup(self, package: str | None, name: str) -> Any:
        """A macro by exact name in one package (None: the global namespace)."""
        if package is None:
            if name in self.macros.get(self.project, {}):
                return self._call(self.project, name)
            return self._package_macro("dbt", name) if name.startswith("default__") else None
        return self._package_macro(package, name)

    def dispatch(self, name: str, namespace: str | None = None, packages: Any = None) -> Any:
        """``adapter.dispatch(name, namespace)``: the first ``<adapter>__name`` (then its
        parents', then ``default__name``) in the namespace's search order."""
        if isinstance(packages, (list, tuple)) and packages:
            search: list[str | None] = [str(p) for p in packages]
        elif namespace:
            search = [*self.dispatch_order.get(str(namespace), [str(namespace)])]
        else:
            search = [None]
        for package in search:
            for prefix in dispatch_prefixes(self.target.type):
                found = self._lookup(package, f"{prefix}__{name}")
                if found is not None:
                    return found
        where = f", '{namespace}'" if namespace else ""
        label = f"adapter.dispatch('{name}'{where})"
        self.recorder.add(label)
        return lambda *_, **__: placeholder(label)

    def env_var(self, name: Any, default: Any = None) -> Any:
        # Never read the CI environment into SQL: its secrets must not leak into reports.
        if default is not None:
            return default
        self.recorder.add(f"env_var('{name}')")
        return placeholder(f"env_{name}")

    # -- macros ----------------------------------------------------------------------------

    def macro_function(self, macro: MacroSource) -> Any:
        """The jinja macro for this render (its module sees the model's names)."""
        key = (macro.package, macro.name)
        if key in self._functions:
            return self._functions[key]
        template = self._template(macro)
        function = None
        if template is not None:
            # the block defines the macro in its context (a module would hide `_private`)
            context = template.new_context(vars=self._vars)
            for _ in template.root_render_func(context):
                pass
            function = context.vars.get(macro.name)
        self._functions[key] = function
        return function

    def _template(self, macro: MacroSource) -> Template | None:
        key = (macro.package, macro.name)
        if key not in self._templates:
            local: dict[str, Any] = {}
            if macro.package and macro.package != self.project:
                local = {n: self._call(macro.package, n) for n in self.macros[macro.package]}
            text = "\n" * (macro.line - 1) + macro.source
            self._remember(macro.path, macro.source, macro.line)
            try:
                code = self.env.compile(text, macro.name, macro.path)
            except TemplateSyntaxError:
                self._templates[key] = None
                self.recorder.add(f"{macro.name} (its Jinja does not parse)")
                return None
            self._templates[key] = self.env.template_class.from_code(
                self.env, code, self.env.make_globals(local), None
            )
        return self._templates[key]

    def syntax_errors(self, package: str | None = None) -> list[tuple[MacroSource, str, int]]:
        """The macros of ``package`` (default: the project's) whose Jinja does not parse."""
        out = []
        for macro in self.macros.get(package or self.project, {}).values():
            try:
                self.env.parse("\n" * (macro.line - 1) + macro.source)
            except TemplateSyntaxError as err:
                out.append((macro, err.message or str(err), err.lineno))
            except RecursionError:
                continue
        return out

    def static_config(self, text: str) -> dict[str, Any]:
        """The constant keyword arguments of a model's ``{{ config(...) }}`` calls, read
        from the template without rendering it: ``ref()`` to a model whose file sets its own
        ``schema`` or ``alias`` must name the relation that model will have, before (or
        without) rendering it. Empty when the template does not parse."""
        if "config" not in text:
            return {}
        try:
            tree = self.env.parse(text)
        except (TemplateSyntaxError, RecursionError):
            return {}
        out: dict[str, Any] = {}
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "config":
                for keyword in call.kwargs:
                    if isinstance(keyword.value, nodes.Const):
                        out[keyword.key] = keyword.value.value
        return out

    # -- rendering ---------------------------------------------------------------------------

    def render_value(self, value: Any) -> Any:
        """A YAML value (var, config, profile) with its Jinja rendered; others unchanged."""
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        template = self._values.get(value)
        if template is None:
            template = self._values[value] = self.env.from_string(value)
        return template.render(self._vars)

    def render_yaml_value(self, value: Any) -> Any:
        """A YAML value rendered natively (``"{{ var('on', true) }}"`` -> True); None when
        it cannot be rendered (never the Jinja text itself: it would end up in names)."""
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        self._begin({})
        try:
            return _native(str(self.render_value(value)))
        except (TemplateError, TypeError, ValueError, KeyError, ArithmeticError, _Return):
            return None
        except (CompilerError, RecursionError, AttributeError, LookupError):
            return None

    def _begin(self, model_vars: dict[str, Any]) -> None:
        self.env.steps_left = self.max_steps
        self.recorder.unknown.clear()
        self.empty.clear()
        self.introspected = False
        self.queried = False
        self.stack.clear()
        self.failed_in = None
        self._functions.clear()
        self._vars = model_vars

    def render(
        self,
        text: str,
        path: str,
        ref: Callable[..., str | Relation],
        source: Callable[[str, str], str | Relation],
        this: str,
        config: Mapping[str, Any] | None = None,
        model: Mapping[str, Any] | None = None,
        execute: bool = False,
    ) -> Rendered:
        """Render one model's raw code; errors are returned, never raised.

        By default as dbt parses (``execute`` false: macros that need the warehouse hold
        back); with ``execute`` as dbt compiles against an empty warehouse (queries return
        no rows, relations no columns) and with ``graph`` holding the project's nodes.
        """
        values: dict[str, Any] = dict(config or {})
        configured = dict(values)
        refs: list[str] = []

        relations: list[str] = []

        def relation(found: str | Relation) -> Relation:
            rel = found if isinstance(found, Relation) else Relation.parse(found)
            relations.append(str(rel))
            return rel

        def ref_stub(*args: Any, **kwargs: Any) -> Relation:
            name = args[-1] if args else kwargs.get("name", "")
            refs.append(str(name))
            return relation(ref(*args, **kwargs))

        def source_stub(source_name: Any, table_name: Any) -> Relation:
            return relation(source(str(source_name), str(table_name)))

        config_object = _Config(values)
        this_relation = Relation.parse(this)
        builtins = {"ref": ref_stub, "source": source_stub, "config": config_object}
        model_vars: dict[str, Any] = {
            "builtins": builtins,
            "this": this_relation,
            "model": dict(model or {}),
            "database": this_relation.database or self.target.database,
            "schema": this_relation.schema or self.target.schema,
        }
        if execute:
            model_vars.update(executing_context(), graph=self.graph, adapter=_Adapter(self, True))
        for name in _QUERIES:
            model_vars[name] = self._querying(model_vars.get(name, self.env.globals.get(name)))
        own = self.macros.get(self.project, {})
        model_vars.update({k: v for k, v in builtins.items() if k not in own})
        self._begin(model_vars)
        self._model = (path, text)
        try:
            code = self.env.compile(text, path, path)
            template = self.env.template_class.from_code(
                self.env, code, self.env.make_globals(None), None
            )
        except TemplateSyntaxError as err:
            message = f"the Jinja does not parse: {err.message} (line {err.lineno})"
            return Rendered("", values, [], refs, error=message, syntax_error=True, line=err.lineno)
        except RecursionError:
            return Rendered("", values, [], refs, error="the template nests too deeply to render")
        try:
            sql = template.render(model_vars)
        except _Return:
            return Rendered("", values, [], refs, error="return() outside a macro")
        except SecurityError as err:
            return Rendered("", values, self._unknown(), refs, error=f"the sandbox refused: {err}")
        except (TemplateError, TypeError, ValueError, KeyError, ArithmeticError) as err:
            return Rendered("", values, self._unknown(), refs, error=self._explain(err))
        except (CompilerError, AttributeError, IndexError, LookupError) as err:
            return Rendered("", values, self._unknown(), refs, error=self._explain(err))
        except RecursionError:
            error = "the template nests too deeply to render"
            return Rendered("", values, self._unknown(), refs, error=error)
        except MemoryError:
            return Rendered(
                "", values, self._unknown(), refs, error="the template builds too much text"
            )
        set_by_model = {k: v for k, v in values.items() if configured.get(k, _MISSING) != v}
        rendered = Rendered(
            sql, set_by_model, self._unknown(), refs, list(dict.fromkeys(relations))
        )
        rendered.empty = list(dict.fromkeys(self.empty))
        rendered.introspected = self.introspected
        rendered.queried = self.queried
        return rendered

    def _querying(self, answer: Any) -> Callable[..., Any]:
        """``answer`` (a query's stand-in), noting that the render ran a query."""

        def query(*args: Any, **kwargs: Any) -> Any:
            self.queried = True
            return answer(*args, **kwargs) if callable(answer) else None

        return query

    def _unknown(self) -> list[str]:
        return list(self.recorder.unknown)

    def _remember(self, path: str, text: str, first: int) -> None:
        lines = self._lines.setdefault(path, {})
        for number, line in enumerate(text.splitlines(), first):
            lines[number] = line

    def _explain(self, err: BaseException) -> str:
        """The error with the construct that raised it: file:line, the line's text and
        the macros it was in (``adapter.dispatch in cents_to_dollars``, not a bare
        ``TypeError``)."""
        what = str(err) if isinstance(err, CompilerError) else f"{type(err).__name__}: {err}"
        model_path, model_text = self._model
        lines = dict(self._lines)
        lines[model_path] = dict(enumerate(model_text.splitlines(), 1))
        where = _template_frame(err.__traceback__, set(lines))
        parts = [what]
        if where is not None:
            file, line = where
            code = _line_of(lines.get(file, {}), line)
            parts.append(f"at {file}:{line}" + (f" `{code}`" if code else ""))
        macros = self.failed_in or []
        if macros:
            parts.append("in macro " + " <- ".join(m.name for m in reversed(macros)))
        return " ".join(parts)


_MISSING = object()


def _template_frame(tb: TracebackType | None, files: set[str]) -> tuple[str, int] | None:
    """The innermost traceback frame inside a template (jinja maps them to template lines)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in files:
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _line_of(lines: Mapping[int, str], line: int) -> str:
    code = lines.get(line, "").strip()
    return code if len(code) <= 120 else code[:117] + "..."


def render_model(
    text: str,
    ref: Callable[..., str],
    source: Callable[[str, str], str],
    this: str,
    variables: Mapping[str, Any],
    target: Target,
    max_steps: int = 1_000_000,
    path: str = "model.sql",
) -> Rendered:
    """Render one model without project macros (see :class:`DbtRenderer`)."""
    renderer = DbtRenderer("project", target, variables, max_steps=max_steps)
    return renderer.render(text, path, ref, source, this)


__all__ = [
    "PLACEHOLDER_PREFIX",
    "TARGET_KEYS",
    "DbtRenderer",
    "MacroSource",
    "Rendered",
    "Target",
    "placeholder",
    "render_model",
]
