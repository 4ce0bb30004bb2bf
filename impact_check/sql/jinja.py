"""Render dbt model Jinja without dbt: stubbed ``ref``, ``source``, ``config``, ``var``,
``is_incremental``, ``this``, ``target``, ``env_var``.

Rendering runs in jinja2's sandbox and calls nothing of the project: no macros execute, no
adapter or ``run_query`` exists. A macro the stubs do not know renders to a recognisable
placeholder (``__impact_check_macro_<name>__``) and is reported, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

PLACEHOLDER = "__impact_check_macro_{}__"


@dataclass
class Rendered:
    """A rendered model: its SQL, the config() it set, and what could not be expanded."""

    sql: str
    config: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # macros/vars rendered as placeholders
    refs: list[str] = field(default_factory=list)
    error: str | None = None


class _Recorder:
    def __init__(self) -> None:
        self.unknown: list[str] = []


def _undefined_class(recorder: _Recorder) -> type[Undefined]:
    class Placeholder(Undefined):
        """An unknown name: renders as a placeholder, calls and attributes stay placeholders."""

        def _name(self) -> str:
            return str(self._undefined_name or "unknown")

        def __str__(self) -> str:
            recorder.unknown.append(self._name())
            return PLACEHOLDER.format(self._name())

        def __call__(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
            recorder.unknown.append(self._name())
            return PLACEHOLDER.format(self._name())

        def __getattr__(self, name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            return Placeholder(name=f"{self._name()}.{name}")

        def __iter__(self) -> Any:
            return iter(())

        def __bool__(self) -> bool:
            return False

    return Placeholder


_COUNTER = "__impact_check_loop__"


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox plus a work budget: loops, ``*`` and ``**`` count against ``max_steps``."""

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


@dataclass
class Target:
    name: str = "dev"
    schema: str = "main"
    database: str = ""
    type: str = "duckdb"


def render_model(
    text: str,
    ref: Callable[..., str],
    source: Callable[[str, str], str],
    this: str,
    variables: Mapping[str, Any],
    target: Target,
    max_steps: int = 1_000_000,
    prelude: str = "",
) -> Rendered:
    """Render one model's raw code; errors are returned, never raised.

    ``max_steps`` bounds the work a template can ask for (loop iterations, the length of
    strings and lists it builds), so a hostile model cannot hang or exhaust the checker.

    ``prelude`` holds the project macros the model calls (``{% macro %}`` blocks, which
    render to nothing themselves).
    """
    recorder = _Recorder()
    config: dict[str, Any] = {}
    refs: list[str] = []

    def config_stub(*args: Any, **kwargs: Any) -> str:
        for arg in args:
            if isinstance(arg, dict):
                config.update(arg)
        config.update(kwargs)
        return ""

    def ref_stub(*args: Any, **kwargs: Any) -> str:
        name = args[-1] if args else kwargs.get("name", "")
        refs.append(str(name))
        return ref(*args, **kwargs)

    def var_stub(name: str, default: Any = None) -> Any:
        if name in variables:
            return variables[name]
        if default is not None:
            return default
        recorder.unknown.append(f"var('{name}')")
        return PLACEHOLDER.format(f"var_{name}")

    def env_var_stub(name: str, default: Any = None) -> Any:
        # Never read the CI environment into SQL: its secrets must not leak into reports.
        if default is not None:
            return default
        recorder.unknown.append(f"env_var('{name}')")
        return PLACEHOLDER.format(f"env_{name}")

    env = _BoundedEnvironment(max_steps, undefined=_undefined_class(recorder), autoescape=False)
    env.globals.update(
        ref=ref_stub,
        source=source,
        config=config_stub,
        var=var_stub,
        env_var=env_var_stub,
        is_incremental=lambda: False,
        this=this,
        target=target,
        execute=False,
        flags={},
        return_=lambda value: value,
        **{_COUNTER: env.counted},
    )
    try:
        sql = env.from_string(prelude + text).render()
    except (TemplateError, TypeError, ValueError, KeyError, ArithmeticError) as err:
        return Rendered("", config, recorder.unknown, refs, f"{type(err).__name__}: {err}")
    except RecursionError:
        error = "the template nests too deeply to render"
        return Rendered("", config, recorder.unknown, refs, error)
    except MemoryError:
        return Rendered("", config, recorder.unknown, refs, "the template builds too much text")
    return Rendered(sql, config, sorted(set(recorder.unknown)), refs)
