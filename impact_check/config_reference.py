"""Every configuration key with its type and default, read off the pydantic model.

docs/configuration.md's reference table lists these rows (tests/test_docs.py compares key,
type and default with this module), so the documented keys cannot drift from the code.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from impact_check.config import Config


def _type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_text(a) for a in args)
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if origin is dict:
        return f"map {_type_text(args[0])} → {_type_text(args[1])}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _default_text(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "(below)"
        return repr(value) if value else "empty"
    if field.default is PydanticUndefined:
        return "required"
    if field.default is None:
        return "none"
    return (
        repr(field.default).replace("'", "")
        if not isinstance(field.default, bool)
        else (str(field.default).lower())
    )


def rows(model: type[BaseModel] = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted key, type, default) for every key of ``model``; ``[]`` marks list items."""
    out: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)  # the key as written in the file
        annotation = field.annotation
        out.append((key, _type_text(annotation), _default_text(field)))
        nested = _nested_model(annotation)
        if nested is not None:
            is_list = typing.get_origin(annotation) is list
            out += rows(nested, key + ("[]." if is_list else "."))
    return out


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def markdown_rows() -> str:
    """The reference table's rows without the meaning column (a starting point for docs)."""
    return "\n".join(f"| `{k}` | {t} | {d} | |" for k, t, d in rows())


if __name__ == "__main__":
    print(markdown_rows())
