"""What every lineage source returns: a graph fragment in canonical node ids.

A source reads one place (an events directory, a Marquez URL, an MLflow server, a static
file) and returns nodes and edges named as DESIGN.md, Identity says: relations by canonical
name, columns as ``relation#column``, other assets as ``origin:name``. The merge
(graph.merge_fragment) maps names onto the repository's datasets and counts what it could
not match; impact analysis then walks the repository's lineage and the fragments as one graph.

Edge kinds a fragment may use (the same as graph.py's):
- ``has``: dataset -> its column;
- ``projection``: column -> column (data flows from the source column into the target);
- ``reads``: dataset -> consumer or job (table-level lineage only);
- ``column``: column -> consumer or job that reads that column (column-level lineage);
- ``writes``: job -> dataset it produces;
- ``exposure``: column -> consumer whose use of the dataset's columns is unknown.

A consumer's own SQL (``FragmentNode.sql``, in ``FragmentNode.dialect``) is the most precise
lineage a source can give: set it whenever the system hands the query back, whatever the
system (an OpenLineage ``sql`` facet, Airflow rendered SQL, a Snowflake view's DDL, dbt
Cloud compiled code, a Feast or Great Expectations query source, a DVC ``import-db`` query).
The analysis (impact_check/carried.py) then binds it like a view the repository does not
define, at base and at head, with no source-specific code:

- the statements are parsed once; the SELECT of a ``CREATE … AS``/``INSERT … SELECT`` is
  what is bound (an INSERT's target columns must exist too); DDL-only SQL binds nothing;
- relation names are resolved onto the repository's (defaults, unambiguous suffixes), ``*``
  is expanded, and the node breaks when its query would fail at head (a relation or column
  gone, an operation its type no longer allows, a view it reads that no longer builds);
- its output columns become ``<node id>#<column>`` nodes: an edge from one of them to another
  node (a feature reading its source query's column) makes that node break when the column
  no longer comes out of the query; ``FragmentNode.columns`` on the SQL node lists outputs the
  node itself relies on (a dashboard's fields), which break it when they go;
- the edges the source gave stay (``reads`` keeps the consumer in the graph when its SQL
  cannot be parsed, which is an AN901 naming the node and its ``attrs`` ``file``/``line``),
  but the table-level ``exposure`` edges its ``reads`` implied are dropped for relations
  the query names: the query says which columns it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class FragmentNode:
    """A node as a source knows it.

    ``expects`` holds the typed schema a consumer declares for what it reads (a Feast dtype,
    an MLflow signature type): column node id -> declared type, as the source spells it.
    ``sql`` is the consumer's own query when the source hands it back (an OpenLineage ``sql``
    facet, Airflow rendered SQL, a view definition, dbt Cloud compiled code, a Feast query
    source), in ``dialect`` (sqlglot's name; None: the check's dialect): the analysis binds it
    at head like a view, so the consumer breaks exactly when its query would fail (see the
    module docstring). On such a node ``columns`` lists the query outputs it relies on.
    """

    id: str
    kind: str
    origin: str
    name: str | None = None
    owners: list[str] = field(default_factory=list)
    url: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)  # dataset: column -> type
    expects: dict[str, str | None] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)  # version, alias, provider id, …
    sql: str | None = None
    dialect: str | None = None


@dataclass
class FragmentEdge:
    """A directed data-flow edge between two node ids, with the source that said so."""

    src: str
    dst: str
    kind: str
    provenance: str = ""


@dataclass
class FragmentIssue:
    """A definition a source could not read, at a place in the repository (an AN finding)."""

    rule: str
    message: str
    file: str | None = None
    line: int | None = None


@dataclass
class GraphFragment:
    """The lineage one source contributed, and how reading it went.

    ``status`` follows report.schema.json (ok, cached, partial, failed, skipped);
    ``counts`` carries what the report should show (dropped CTE inputs, unmatched names, …).
    """

    name: str
    kind: str
    nodes: list[FragmentNode] = field(default_factory=list)
    edges: list[FragmentEdge] = field(default_factory=list)
    status: str = "ok"
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    issues: list[FragmentIssue] = field(default_factory=list)

    def node(self, node: FragmentNode) -> None:
        """Add a node (the first one with an id wins; later ones fill unset fields)."""
        self.nodes.append(node)

    def edge(self, src: str, dst: str, kind: str, provenance: str = "") -> None:
        self.edges.append(FragmentEdge(src, dst, kind, provenance or self.kind))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def issue(
        self, rule: str, message: str, file: str | None = None, line: int | None = None
    ) -> None:
        """Record a finding about the repository (a definition the source could not read)."""
        self.issues.append(FragmentIssue(rule, message, file, line))


@dataclass
class SourceContext:
    """What a source may use besides its own settings.

    ``touched`` are the canonical names of the datasets the diff changes: sources that query
    a server (Marquez, DataHub) start their walks there instead of downloading everything.
    ``known`` are the datasets the repository defines (for identity matching).
    """

    root: Path
    touched: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)
    offline: bool = False
    use_cache: bool = True
    timeout: float = 30.0
    cache_dir: Path | None = None
    max_response_bytes: int = 50_000_000  # config limits.max_response_bytes
    deadline: Any = None  # budget.Deadline of the whole check, or None


class Fetcher(Protocol):
    """A source module's entry point: ``fetch(spec, ctx) -> GraphFragment``.

    It raises ``SourceError`` (with a message naming the file or URL) when it cannot read
    anything; a partial read returns a fragment with ``status="partial"`` and a detail.
    """

    def __call__(self, spec: Any, ctx: SourceContext) -> GraphFragment: ...


def as_object(value: Any) -> dict[str, Any]:
    """``value`` when a payload gave an object there, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str | None:
    """``value`` when a payload gave a non-empty string there, else None."""
    return value if isinstance(value, str) and value else None
