"""The SQL identifiers that stand for Jinja the checker could not expand.

A dbt macro of a package that is not installed, or an adapter call no warehouse answers,
renders as ``__impact_check_macro_<name>__``. Lineage reads such an identifier as
"unknown": in a select list it yields columns of unknown names (like ``*`` over a
relation of unknown schema), elsewhere it reads nothing that can be checked.
"""

from __future__ import annotations

import re

PLACEHOLDER_PREFIX = "__impact_check_macro_"
_NOT_WORD = re.compile(r"\W+")


def placeholder(name: str) -> str:
    """The SQL identifier standing for ``name`` (``dbt_utils.star`` ->
    ``__impact_check_macro_dbt_utils__star__``)."""
    word = _NOT_WORD.sub("_", name.replace(".", "__")).strip("_")
    return f"{PLACEHOLDER_PREFIX}{word}__"


def is_placeholder_name(name: str) -> bool:
    """Whether an identifier is a placeholder."""
    return name.startswith(PLACEHOLDER_PREFIX)


def described(name: str) -> str:
    """What a placeholder (or a relation name holding one) stands for, for people."""
    if PLACEHOLDER_PREFIX not in name:
        return name
    inner = name.split(PLACEHOLDER_PREFIX, 1)[1]
    inner = inner[:-2] if inner.endswith("__") else inner
    return f"what {inner.replace('__', '.')} produces (not expanded)"
