"""Core types shared by the loaders, the diff, the graph and the reports.

Plain dataclasses: validation happens at the edges (config, payloads, the JSON report).
Node ids follow DESIGN.md, Identity: a relation is its canonical name, a column is
``relation#column``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

Src = tuple[str, str]  # (canonical relation name, column name)


def column_id(dataset: str, column: str) -> str:
    """The node id of a column: ``relation#column``."""
    return f"{dataset}#{column}"


def split_node_id(node_id: str) -> tuple[str, str | None]:
    """Split ``relation#column`` into its parts; a relation id has no column."""
    dataset, sep, column = node_id.partition("#")
    return dataset, (column if sep else None)


class Severity(str, Enum):
    """Finding severities, ordered error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True)
class Location:
    """A place in the repository: file relative to the repo root, 1-based line."""

    file: str
    line: int | None = None


@dataclass
class Column:
    """A column of a relation as declared (DDL) or derived (a view's output)."""

    name: str
    type: str | None = None  # rendered canonical sqlglot type, None when unknown
    written_type: str | None = None  # the type as spelled in the file
    not_null: bool = False
    default: str | None = None
    primary_key: bool = False
    unique: bool = False
    accepted_values: tuple[str, ...] | None = None  # dbt accepted_values, contract enum
    references: str | None = None  # dbt relationships test: "relation.column"
    tests: tuple[str, ...] = ()  # dbt not_null/unique tests: "unique", "not_null:relaxed"


@dataclass
class TypeUse:
    """A source column used in an operation that needs a type family (arithmetic, sum, …)."""

    source: Src
    operation: str  # e.g. "arithmetic", "sum", "compare", "string_function"
    needs: str  # the family the operation needs: numeric, text, temporal, comparable_number…
    sql: str  # the expression, for the message


@dataclass
class FieldUse:
    """A nested field read through a source column: ``info.col_a``, ``info['col_a']``,
    ``arr[1].x``, a column of ``UNNEST(arr)``, a Snowflake ``v:a.b`` path."""

    source: Src
    path: tuple[str, ...]  # field names; "[]" steps into an array's elements
    sql: str  # the expression, for the message
    needs: str | None = None  # the family an operation on the field needs (see TypeUse)
    loose: bool = False  # a semi-structured path (Snowflake VARIANT/OBJECT): not checked


@dataclass
class Fingerprints:
    """What a derived dataset computes, hashed: per output column and per row-level aspect
    (filter, grain, join, source, limit, cardinality)."""

    columns: dict[str, str] = field(default_factory=dict)
    aggregated: dict[str, bool] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)


@dataclass
class Comparison:
    """Two relation columns compared with each other (``a.x = b.y``, ``a.x < b.y``)."""

    left: Src
    right: Src
    ordered: bool  # <, >, <=, >=, BETWEEN: stricter than equality in DuckDB
    sql: str


@dataclass
class Lineage:
    """Everything one derived statement reads, from one parse + qualify + walk."""

    columns: dict[str, set[Src]] = field(default_factory=dict)  # output column -> sources
    clauses: dict[str, set[Src]] = field(default_factory=dict)  # where/joins/group/… -> sources
    referenced: set[Src] = field(default_factory=set)  # every base column read anywhere
    tables: set[str] = field(default_factory=set)  # every relation read
    star_tables: set[str] = field(default_factory=set)  # relations read through `*`
    unresolved: set[str] = field(default_factory=set)  # column refs that could not be traced
    missing: set[Src] = field(default_factory=set)  # refs to columns a known relation lacks
    type_uses: list[TypeUse] = field(default_factory=list)
    star_unknown: set[str] = field(default_factory=set)  # `*` over relations of unknown schema
    errors: list[str] = field(default_factory=list)  # binding errors: ambiguity, arity, …
    pure: dict[str, Src] = field(default_factory=dict)  # output column that is a bare column
    output_types: dict[str, str | None] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    fingerprints: Fingerprints | None = None
    outer_joined: set[str] = field(default_factory=set)  # outputs from an outer join's
    # NULL-filled side: nullable whatever the source column says
    field_uses: list[FieldUse] = field(default_factory=list)
    # source columns read only through their fields -> the field paths read (``a``,
    # ``pos.lat``): a change to other fields reaches nothing here
    field_reads: dict[Src, set[str]] = field(default_factory=dict)
    guessed_names: set[str] = field(default_factory=set)  # outputs named by the engine in a
    # way the checker only approximates: readers of other names may still bind


@dataclass
class Dataset:
    """A relation at one revision: a table from DDL, or a derived dataset with lineage."""

    name: str
    kind: str  # table, view, materialized_view
    columns: dict[str, Column] = field(default_factory=dict)
    location: Location | None = None
    definition: str | None = None  # digest of the defining query's tree (derived only)
    lineage: Lineage | None = None
    columns_known: bool = True  # False when a `*` over an unknown relation hid the columns
    dialect: str = "duckdb"
    updatable: bool = False  # a simple one-table view PostgreSQL can INSERT into
    constraints: dict[str, str] = field(default_factory=dict)  # FK/CHECK: name (or SQL) -> SQL
    contract: bool = False  # dbt enforced contract: promises its columns to unknown readers
    access: str | None = None  # dbt access (public promises to other projects)
    owners: list[str] = field(default_factory=list)
    declared: dict[str, Column] = field(default_factory=dict)  # schema.yml columns
    origin: str = "sql"  # "warehouse": columns read from a warehouse, not defined here
    names_guessed: bool = False  # some columns bear engine-given names the checker only
    # approximates: a reader of another name may still bind

    @property
    def derived(self) -> bool:
        return self.definition is not None


@dataclass
class Load:
    """An ``INSERT INTO target … SELECT`` statement: a writer of an existing table."""

    target: str
    columns: list[str]  # target columns in insert order
    location: Location
    definition: str
    lineage: Lineage | None = None
    dialect: str = "duckdb"
    assignments: list[tuple[str, Src]] = field(default_factory=list)  # target col <- column
    positional: bool = False  # no column list: the query's columns land by position

    @property
    def node_id(self) -> str:
        return f"sql:insert/{self.location.file}:{self.location.line}"


@dataclass
class Issue:
    """A problem met while reading a revision: becomes an AN finding and/or unanalyzed entry."""

    rule: str  # AN901, AN903, …
    message: str
    location: Location
    target: str | None = None  # relation it concerns, when known
    unanalyzed: bool = True  # also list the file under `unanalyzed`
    whole_file: bool = False  # nothing of the file was read (its base version stands in)


@dataclass
class Defined:
    """A model or view a revision defines; ``reason`` says why it was not analysed."""

    name: str
    location: Location
    reason: str | None = None  # None: analysed
    project: str | None = None  # the dbt project's directory ("" at the root); None: SQL


@dataclass
class ProjectInfo:
    """A dbt project as the checker read it: where, and in which dialect (and why)."""

    name: str
    root: str
    dialect: str
    dialect_origin: str = ""  # "profiles.yml (…)", "CI installs dbt-…", "configured", ""


@dataclass
class Consumer:
    """A downstream asset that is not a relation (a dbt exposure: dashboard, ML model, …)."""

    node_id: str
    name: str
    kind: str
    owners: list[str]
    reads: list[str]  # relations it depends on
    location: Location | None = None
    model: str | None = None  # the registered ML model an exposure of type ml names


@dataclass
class ContractModel:
    """One model (DCS) or schema object (ODCS) of a contract file."""

    node: str  # contract:<id>.<model>
    table: str  # the physical name it promises
    schemas: list[str]  # schemas of the contract's servers, if it names any
    path: str
    line: int | None
    fields: dict[str, Column]
    lines: dict[str, int]  # field -> line in the file


@dataclass
class Catalog:
    """What a repository defines at one revision."""

    datasets: dict[str, Dataset] = field(default_factory=dict)
    loads: list[Load] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    renamed_tables: dict[str, str] = field(default_factory=dict)  # old -> new (RENAME TABLE)
    renamed_columns: dict[Src, str] = field(default_factory=dict)  # (table, old) -> new
    dropped: dict[str, Location] = field(default_factory=dict)  # explicitly dropped relations
    events: dict[str, Location] = field(default_factory=dict)  # node id -> last DDL touching it
    consumers: list[Consumer] = field(default_factory=list)  # exposures and other assets
    model_meta: dict[str, dict[str, object]] = field(default_factory=dict)  # dbt: contract, …
    contracts: list[ContractModel] = field(default_factory=list)  # project/contracts.py
    # incremental loading (project/incremental.py): derived dataset -> content key, the
    # relations it reads, and lineage still in its cached (undecoded) form
    keys: dict[str, str] = field(default_factory=dict)
    reads: dict[str, set[str]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # name -> cache key of its lineage
    defined: dict[str, Defined] = field(default_factory=dict)  # models and views (by file
    # for dbt models, by name for SQL views), for coverage
    projects: list[ProjectInfo] = field(default_factory=list)  # dbt projects read
    # where the issues of derived datasets begin in ``issues`` (after the files' own):
    # the per-revision index replaces a re-derived dataset's issues in place
    derived_issues_at: int | None = None


@dataclass
class Change:
    """One schema or definition change between base and head."""

    id: str
    kind: str  # column_dropped, type_changed, … (report.schema.json change.kind)
    dataset: str
    column: str | None = None
    before: object = None
    after: object = None
    location: Location | None = None
    dataset_kind: str = "table"
    types: tuple[str, str] | None = None  # canonical (before, after) for type_changed

    @property
    def target(self) -> str:
        return f"{self.dataset}#{self.column}" if self.column else self.dataset


@dataclass
class Impact:
    """A downstream consumer reached from a change."""

    node: str  # dataset (or load) id
    kind: str
    breaks: bool
    path: list[str]
    certainty: str = "certain"  # certain | likely | possible
    reason: str = ""
    preexisting: bool = False
    file: str | None = None
    column: str | None = None
    owners: list[str] = field(default_factory=list)
    name: str | None = None  # display name of a fetched asset (``churn_model/3 (alias champion)``)
    origin: str | None = None  # which source contributed the node (sql, dbt, mlflow, feast, …)
    details: dict[str, object] = field(default_factory=dict)  # version, aliases, feature view…


@dataclass
class Finding:
    """A rule hit: what changed, how bad, who is impacted."""

    rule: str
    name: str
    severity: Severity
    message: str
    change: Change | None = None
    location: Location | None = None
    impacted: list[Impact] = field(default_factory=list)
    suppressed: str | None = None
    help: str = ""
    floor: Severity | None = None  # a minimum set by the analysis (e.g. positional readers)
    # a maximum set by the analysis where what the file is rests on a guess (a JSON Schema
    # no configuration names as a message schema); the configuration may still raise it
    ceiling: Severity | None = None

    @property
    def breaking(self) -> bool:
        return any(i.breaks and not i.preexisting for i in self.impacted)


class FileContent:
    """A file at one revision: its bytes, or why it cannot be read.

    ``data`` may be given as ``load``, called at its first read (git.py reads a blob only
    when something reads it): the object then behaves exactly as if made with those bytes
    (equality, repr, pickling and copies read them first). Whether it is readable at all
    (``reason``, ``missing``) is known from the start.
    """

    __slots__ = ("_data", "_load", "missing", "path", "reason", "sha")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as a dataclass)

    def __init__(
        self,
        path: str,
        data: bytes | None,
        reason: str | None = None,  # symlink, unreadable, …
        sha: str | None = None,  # git blob SHA-1 of data, when git named it
        missing: bool = False,  # git names the blob but this clone lacks it (partial clone, …)
        *,
        load: Callable[[], bytes | None] | None = None,  # data, read when first asked for
    ) -> None:
        self.path, self.reason, self.sha, self.missing = path, reason, sha, missing
        self._data, self._load = data, load

    @property
    def data(self) -> bytes | None:
        load = self._load
        if load is not None:
            self._data, self._load = load(), None
        return self._data

    def _fields(self) -> tuple[str, bytes | None, str | None, str | None, bool]:
        return (self.path, self.data, self.reason, self.sha, self.missing)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, FileContent)
        return self._fields() == other._fields()

    def __repr__(self) -> str:
        path, data, reason, sha, missing = self._fields()
        return (
            f"FileContent(path={path!r}, data={data!r}, reason={reason!r}, sha={sha!r}, "
            f"missing={missing!r})"
        )

    def __reduce__(self) -> tuple[type[FileContent], tuple[Any, ...]]:
        return (FileContent, self._fields())  # the bytes, never the loader (a git process)


@dataclass
class Snapshot:
    """The files of one revision that the loaders may read."""

    files: dict[str, FileContent] = field(default_factory=dict)


@dataclass
class Unanalyzed:
    """A changed file (or part of one) that could not be analysed, and why."""

    file: str
    reason: str
    line: int | None = None


@dataclass
class SourceStatus:
    """A lineage source consulted for the report."""

    name: str
    kind: str
    status: str
    detail: str = ""
    nodes: int = 0
    edges: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # what the source said it dropped, …


@dataclass
class ProjectCoverage:
    """Coverage of one dbt project (or of the SQL files, name "")."""

    name: str
    root: str
    defined: int
    analysed: int
    dialect: str = ""
    dialect_origin: str = ""


@dataclass
class Coverage:
    """Models and views analysed of those defined at head, and what was left out and why."""

    defined: int = 0
    analysed: int = 0
    not_analysed: list[Defined] = field(default_factory=list)
    projects: list[ProjectCoverage] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.analysed / self.defined if self.defined else 1.0


@dataclass
class Report:
    """The outcome of one check: what changed, findings, and what was not analysed."""

    base: str
    head: str
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unanalyzed: list[Unanalyzed] = field(default_factory=list)
    sources: list[SourceStatus] = field(default_factory=list)
    failed: bool = False
    elapsed_ms: float = 0.0
    fail_on: str = "error"
    partial: bool = False  # the time budget ran out: some of the work was skipped
    coverage: Coverage | None = None  # models and views analysed at head
    files_changed: int | None = None  # files in the git diff (None: not from a diff)


# -- lineage fetched from outside the repository ------------------------------------------
# What every lineage source returns (sources/base.py says how a source fills them in): node
# ids as DESIGN.md, Identity says; graph.merge_fragment maps them onto the repository's.


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
