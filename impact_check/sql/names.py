"""Canonical relation names (DESIGN.md, Identity).

Unquoted identifiers are lower-cased in every dialect and quoted ones kept as written, so
``Raw.Orders`` and ``raw.orders`` meet while ``"OrderTotal"`` stays distinct. After
:func:`normalize` every identifier in a tree is marked quoted, which makes sqlglot treat the
(already folded) names as exact in any dialect.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy


def normalize(expression: exp.Expr, dialect: str) -> exp.Expr:
    """Fold unquoted identifiers to lower case, in place, and mark all of them exact.

    Dialects whose engine ignores case even in quotes (DuckDB) fold quoted names too.
    """
    fold_quoted = case_insensitive(dialect)
    for ident in expression.find_all(exp.Identifier):
        if fold_quoted or not ident.quoted:
            ident.set("this", ident.name.lower())
        ident.set("quoted", True)
    return expression


def case_insensitive(dialect: str) -> bool:
    """Whether the dialect's engine matches even quoted identifiers case-insensitively."""
    strategy = Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY
    return bool(strategy == NormalizationStrategy.CASE_INSENSITIVE)


def table_name(table: exp.Table) -> str:
    """The canonical name of a table reference: its parts joined by dots."""
    return ".".join(part.name for part in table.parts if not isinstance(part, exp.Star))


def identifier_name(node: exp.Expr | str | None) -> str:
    """The folded name of an identifier-like node (unquoted -> lower case)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        node = node.this  # RENAME COLUMN "mixedCase": the identifier keeps its quoting
    if isinstance(node, exp.Identifier):
        return node.name if node.quoted else node.name.lower()
    return node.name.lower() if isinstance(node.name, str) else str(node)


class NameResolver:
    """Maps a written relation name onto a known canonical one.

    Exact match first; otherwise a unique suffix match in either direction
    (``orders`` -> ``raw.orders``, ``db.raw.orders`` -> ``raw.orders``). Ambiguous or unknown
    names stay as written, optionally qualified with the configured defaults.
    """

    def __init__(
        self,
        known: set[str],
        default_schema: str | None = None,
        default_database: str | None = None,
    ) -> None:
        self.known = known
        self.default_schema = default_schema
        self.default_database = default_database

    def qualify(self, name: str) -> str:
        """Apply the configured default schema/database to a written name."""
        parts = name.split(".")
        if len(parts) == 1 and self.default_schema:
            parts.insert(0, self.default_schema)
        if len(parts) == 2 and self.default_database:
            parts.insert(0, self.default_database)
        return ".".join(parts)

    def resolve(self, name: str) -> str:
        """The known canonical name for ``name``, or ``name`` qualified with defaults."""
        qualified = self.qualify(name)
        if qualified in self.known:
            return qualified
        if name in self.known:
            return name
        suffix = "." + name
        matches = [k for k in self.known if k.endswith(suffix) or name.endswith("." + k)]
        if len(matches) == 1:
            return matches[0]
        return qualified
