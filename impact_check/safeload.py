"""Bounded parsing of untrusted YAML and JSON: safe constructors only, nesting depth and
expanded size capped, duplicate YAML keys reported.

Everything the checker reads from a pull request or a server goes through here. PyYAML's
composer and the json module recurse once per nesting level, so depth is checked before
either builds a tree (a 10,000-level document would otherwise end in RecursionError), and
aliases are counted by the size they expand to (an anchors bomb is a few hundred bytes that
expand to billions of nodes when anything walks them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is much faster on large schema files; the pure loader behaves the same
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_DEPTH = 100
MAX_NODES = 1_000_000


class LimitExceeded(ValueError):
    """A document is over one of the limits; ``limit`` names the config key."""

    def __init__(self, message: str, limit: str, line: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.line = line


@dataclass
class Loaded:
    """A parsed YAML document and the duplicate keys met in it (key, 1-based line)."""

    data: Any
    duplicates: list[tuple[str, int]] = field(default_factory=list)


def load_yaml(text: str, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Loaded:
    """Parse one YAML document with safe constructors only.

    Raises yaml.YAMLError for invalid YAML and LimitExceeded over a limit.
    """
    _check_yaml_shape(text, max_depth)
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Loaded(None)
        _check_expanded_size(node, max_nodes)
        duplicates = _duplicate_keys(node)
        return Loaded(loader.construct_document(node), duplicates)
    finally:
        loader.dispose()


def _check_yaml_shape(text: str, max_depth: int) -> None:
    """Walk the event stream (the parser is iterative) and stop at the first level too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > max_depth:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise LimitExceeded(
                    f"nested deeper than limits.max_nesting_depth ({max_depth})",
                    "max_nesting_depth",
                    line,
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_expanded_size(root: yaml.Node, max_nodes: int) -> None:
    """Nodes counted as a reader walking the tree sees them (aliases expanded), memoised."""
    size: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [root]
    seen: set[int] = set()
    while stack:  # post-order without recursion
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(_children(node))
    for node in reversed(order):
        total = 1 + sum(size.get(id(child), 1) for child in _children(node))
        size[id(node)] = total
        if total > max_nodes:
            line = node.start_mark.line + 1 if node.start_mark else None
            raise LimitExceeded(
                f"expands to more than {max_nodes:,} nodes through anchors and aliases "
                "(limits.max_yaml_nodes)",
                "max_yaml_nodes",
                line,
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _duplicate_keys(root: yaml.Node) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, _value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        found.append((str(key.value), key.start_mark.line + 1))
                    keys.add(key.value)
        stack.extend(_children(node))
    return sorted(found, key=lambda item: item[1])


def yaml_error_line(err: Exception) -> int | None:
    """The 1-based line a YAML or limit error points at, when known."""
    if isinstance(err, LimitExceeded):
        return err.line
    mark = getattr(err, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def yaml_error_text(err: Exception) -> str:
    """One line describing a YAML or limit error."""
    if isinstance(err, LimitExceeded):
        return str(err)
    problem = getattr(err, "problem", None)
    text = str(problem) if problem else (str(err).strip().splitlines() or [type(err).__name__])[0]
    return f"invalid YAML: {text}"


def load_json(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON; ValueError when invalid, LimitExceeded when nested deeper than allowed."""
    try:
        data = json.loads(raw)
    except RecursionError as err:
        raise LimitExceeded(
            f"nested deeper than limits.max_nesting_depth ({max_depth})", "max_nesting_depth"
        ) from err
    if json_depth(data, max_depth) > max_depth:
        raise LimitExceeded(
            f"nested deeper than limits.max_nesting_depth ({max_depth})", "max_nesting_depth"
        )
    return data


def json_depth(data: Any, stop: int) -> int:
    """Nesting depth of a parsed JSON value, counted without recursion (stops past ``stop``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop:
                return deepest
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth) for item in items if isinstance(item, (dict, list)))
    return deepest
