"""What the message-schema checkers share: the compatibility modes, a schema file's subject,
the registry state file's content, an incompatibility, and the error a schema file that
cannot be read raises."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from impact_check.safeload import LimitExceeded, load_json

# the schema registries' compatibility modes (Confluent's names); the configuration
# (messages/settings.py) names them for a file, a subject or a topic
Mode = Literal[
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]

MODES: tuple[str, ...] = typing.get_args(Mode)
DEFAULT_MODE = "BACKWARD"


class SchemaReadError(ValueError):
    """A schema file that cannot be parsed; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Incompatibility:
    """One reason a new schema version is not compatible with an earlier one.

    ``kind`` is the reference checker's own name for it (the ``avro`` package's
    SchemaIncompatibilityType, a ``buf breaking`` rule id, or ours for JSON Schema);
    ``path`` says where in the schema (``/fields/2/type``, ``shop.Order.amount``);
    ``line`` is the line in the head file (None when the element exists only at base).
    """

    kind: str
    message: str
    path: str
    line: int | None = None
    field: str | None = None  # the top-level field or property it concerns, when one does


@dataclass
class Subject:
    """Who a schema file is registered as, and under which mode (and why that mode)."""

    name: str
    mode: str
    because: str
    topic: str | None = None  # the topics: entry naming the file
    # whether anything names the file as a message schema: a topics: entry, a
    # message_schemas subject or files glob, the registry state file's subject list (not a
    # default mode that applies to every file found)
    named: bool = True


@dataclass
class Registry:
    """The committed registry state file: subject per file, modes, problems reading it."""

    modes: dict[str, str] = field(default_factory=dict)  # subject -> mode
    subjects: dict[str, str] = field(default_factory=dict)  # schema path -> subject
    default: str | None = None
    problem: tuple[str, int | None] | None = None  # (message, line)


def directions(mode: str) -> tuple[bool, bool]:
    """(check new-reads-old, check old-reads-new) for a compatibility mode."""
    base = mode.removesuffix("_TRANSITIVE")
    return base in ("BACKWARD", "FULL"), base in ("FORWARD", "FULL")


def transitive(mode: str) -> bool:
    """Whether the mode compares with every earlier version, not only the previous one."""
    return mode.endswith("_TRANSITIVE")


def load_schema_json(text: str, max_depth: int, what: str) -> Any:
    """A JSON schema document, bounded; SchemaReadError (with the line) when it is not JSON."""
    try:
        return load_json(text, max_depth)
    except LimitExceeded as err:
        raise SchemaReadError(f"{what} {err}") from None
    except ValueError as err:
        line = getattr(err, "lineno", None)
        raise SchemaReadError(f"invalid JSON: {getattr(err, 'msg', err)}", line) from None


def line_of(text: str, offset: int) -> int:
    """1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1
