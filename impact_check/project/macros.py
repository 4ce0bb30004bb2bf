"""A dbt project's own macros (``{% macro name(...) %} … {% endmacro %}`` blocks in its
macro paths), so that models calling them render as dbt would compile them.

Macros are only ever rendered by the sandboxed stub environment of sql/jinja.py: a macro
that calls ``run_query``, ``adapter`` or anything else unknown renders as a placeholder.
A model gets the source of the macros it calls (and of those they call), prepended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(
    r"\{%-?\s*macro\s+(\w+)\s*\(.*?\{%-?\s*endmacro\s*-?%\}", re.DOTALL | re.IGNORECASE
)
_WORD = re.compile(r"\b(\w+)\s*\(")


@dataclass(frozen=True)
class Macro:
    name: str
    source: str  # the whole block, from `{% macro` to `{% endmacro %}`
    path: str


def parse_macros(path: str, text: str) -> dict[str, Macro]:
    """The macro blocks of one file by name."""
    return {m.group(1): Macro(m.group(1), m.group(0), path) for m in _BLOCK.finditer(text)}


def used_macros(text: str, macros: dict[str, Macro]) -> list[Macro]:
    """The project macros ``text`` calls, directly or through other macros, in name order."""
    found: dict[str, Macro] = {}
    queue = [text]
    while queue:
        for name in _WORD.findall(queue.pop()):
            macro = macros.get(name)
            if macro is not None and name not in found:
                found[name] = macro
                queue.append(macro.source)
    return [found[name] for name in sorted(found)]


def prelude(text: str, macros: dict[str, Macro]) -> str:
    """The macro definitions to render before ``text`` (they render to whitespace only)."""
    return "".join(m.source for m in used_macros(text, macros))
