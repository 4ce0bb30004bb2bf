"""Macros of a dbt project and of its installed packages (``{% macro name(...) %} …
{% endmacro %}`` blocks in their macro paths), for sql/jinja.py to call as dbt would.

Macros are only ever rendered by the sandboxed environment of sql/jinja.py: a macro that
runs a query gets no rows, and one that calls something unknown renders as a placeholder.
"""

from __future__ import annotations

import re

from impact_check.sql.jinja import MacroSource

Macro = MacroSource

_BLOCK = re.compile(
    r"\{%[-+]?\s*macro\s+(\w+)\s*\(.*?\{%[-+]?\s*endmacro\s*[-+]?%\}", re.DOTALL | re.IGNORECASE
)


def parse_macros(path: str, text: str, package: str = "") -> dict[str, MacroSource]:
    """The macro blocks of one file by name, each with its first line and package."""
    out = {}
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        out[match.group(1)] = MacroSource(match.group(1), match.group(0), path, line, package)
    return out
