"""Render dbt model Jinja without dbt: stubbed ``ref``, ``source``, ``config``, ``var``,
``is_incremental``, ``this``, ``target``, ``env_var``.

Rendering runs in jinja2's sandbox and calls nothing of the project: no macros execute, no
adapter or ``run_query`` exists. A macro the stubs do not know renders to a recognisable
placeholder (``__impact_check_macro_<name>__``) and is reported, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Undefined
from jinja2.exceptions import TemplateError
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
    prelude: str = "",
) -> Rendered:
    """Render one model's raw code; errors are returned, never raised.

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

    env = SandboxedEnvironment(undefined=_undefined_class(recorder), autoescape=False)
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
    )
    try:
        sql = env.from_string(prelude + text).render()
    except (TemplateError, TypeError, ValueError, KeyError) as err:
        return Rendered("", config, recorder.unknown, refs, f"{type(err).__name__}: {err}")
    return Rendered(sql, config, sorted(set(recorder.unknown)), refs)
