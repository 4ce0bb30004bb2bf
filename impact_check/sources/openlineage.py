"""OpenLineage events from a file or a directory (``dbt-ol``, Airflow's file transport, …).

RunEvents, JobEvents and DatasetEvents (spec 2-0-x). For each job the latest event wins (by
``eventTime``; an event naming no dataset does not replace one that does). A job becomes an
``openlineage:<namespace>/<name>`` node with ``reads`` edges from its inputs, ``writes``
edges to its outputs and, from ColumnLineageDatasetFacet (1-0-0 … 1-2-0), ``column`` edges
from every input column it reads and ``projection`` edges input column -> output column
(INDIRECT-only inputs such as join keys and filters are read, not projected). The top-level
``dataset`` inputs of the facet are columns that affect the whole output: ``column`` edges
into the job. SchemaDatasetFacet gives the datasets' columns and types (nested fields as
``parent.child``).

The ``sql`` facet is the job's own query: the analysis binds it at head like a view
(carried.py), so the job breaks exactly when its query would fail.

``dbt-ol`` names a model's CTEs as input datasets when they wrap ``select *``: inputs that
are CTEs of the job's ``sql`` facet, or that name no dataset any event or the repository
knows, are dropped and counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from impact_check.identity import canonical
from impact_check.sources.base import FragmentNode, GraphFragment, SourceContext
from impact_check.sources.jsonfiles import Record, read_records, resolve

if TYPE_CHECKING:
    from impact_check.config import LineageSource

ORIGIN = "openlineage"
CTE_DROPPED = "CTE-name inputs dropped"
UNKNOWN_DROPPED = "inputs naming no known dataset dropped"
BAD_RECORDS = "unreadable records skipped"
SQL_UNPARSED = "sql facets not parsed"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SchemaField(_Lenient):
    name: str
    type: str | None = None
    fields: list[SchemaField] = []


class SchemaFacet(_Lenient):
    fields: list[SchemaField] = []


class Transformation(_Lenient):
    type: str | None = None
    subtype: str | None = None


class InputField(_Lenient):
    namespace: str
    name: str
    field: str
    transformations: list[Transformation] = []


class FieldLineage(_Lenient):
    inputFields: list[InputField] = []  # the spec's camelCase
    transformationType: str | None = None  # deprecated since 1-1-0
    transformationDescription: str | None = None


class ColumnLineageFacet(_Lenient):
    fields: dict[str, FieldLineage] = {}
    dataset: list[InputField] = []  # 1-2-0: columns affecting the whole output


class DatasetRef(_Lenient):
    namespace: str
    name: str
    facets: dict[str, Any] = {}


class JobRef(_Lenient):
    namespace: str
    name: str
    facets: dict[str, Any] = {}


class Event(_Lenient):
    """Any of RunEvent, JobEvent, DatasetEvent; datasets are parsed one by one."""

    eventTime: str | None = None
    eventType: str | None = None
    job: JobRef | None = None
    dataset: DatasetRef | None = None
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []


_TIME = TypeAdapter(dt.datetime)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass
class _Job:
    """The event that describes a job, with its datasets parsed."""

    namespace: str
    name: str
    time: dt.datetime
    order: int
    event: Event
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)


def fetch(spec: LineageSource, ctx: SourceContext) -> GraphFragment:
    """Read every event under ``spec.location`` (SourceError when the path is missing)."""
    path = resolve(spec.location, ctx.root)
    read = read_records(path)
    fragment = GraphFragment(f"{spec.kind}:{spec.location}", spec.kind)
    errors = list(read.errors)
    jobs, datasets = _select(read.records, errors)
    aliases = {**ctx.aliases, **spec.aliases}
    _Builder(fragment, aliases, ctx.known).build(jobs, datasets)
    fragment.count("events", len(read.records))
    if errors:
        fragment.count(BAD_RECORDS, len(errors))
        fragment.status = "partial"
        more = f"; +{len(errors) - 3} more" if len(errors) > 3 else ""
        fragment.detail = "; ".join(errors[:3]) + more
    return fragment


def _select(records: list[Record], errors: list[str]) -> tuple[list[_Job], list[DatasetRef]]:
    """The latest event per job, and the datasets of DatasetEvents (latest last)."""
    jobs: dict[tuple[str, str], _Job] = {}
    static: list[tuple[dt.datetime, int, DatasetRef]] = []
    for order, record in enumerate(records):
        where = f"{record.file}:{record.line}"
        if not isinstance(record.value, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        try:
            event = Event.model_validate(record.value)
        except ValidationError as err:
            errors.append(f"{where}: not an OpenLineage event ({_first_error(err)})")
            continue
        time = _time(event.eventTime)
        if event.job is None:
            if event.dataset is None:
                errors.append(f"{where}: an event with neither job nor dataset")
            else:
                static.append((time, order, event.dataset))
            continue
        job = _Job(event.job.namespace, event.job.name, time, order, event)
        job.inputs = _datasets(event.inputs, where, errors)
        job.outputs = _datasets(event.outputs, where, errors)
        key = (job.namespace, job.name)
        if _replaces(job, jobs.get(key)):
            jobs[key] = job
    static.sort(key=lambda item: (item[0], item[1]))
    ordered = sorted(jobs.values(), key=lambda j: (j.time, j.order))
    return ordered, [ds for _, _, ds in static]


def _replaces(new: _Job, old: _Job | None) -> bool:
    if old is None:
        return True
    if not (new.inputs or new.outputs) and (old.inputs or old.outputs):
        return False  # a START without datasets does not erase what a COMPLETE said
    return (new.time, new.order) >= (old.time, old.order)


def _datasets(items: list[dict[str, Any]], where: str, errors: list[str]) -> list[DatasetRef]:
    out = []
    for item in items:
        try:
            out.append(DatasetRef.model_validate(item))
        except ValidationError as err:
            errors.append(f"{where}: dataset skipped ({_first_error(err)})")
    return out


def _time(value: str | None) -> dt.datetime:
    if not value:
        return _EPOCH
    try:
        parsed = _TIME.validate_python(value)
    except ValidationError:
        return _EPOCH
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"{key}: {first['msg']}"


def _facet(facets: dict[str, Any], name: str, model: type[_Lenient]) -> Any:
    """A facet parsed leniently; None when absent, deleted or not understood."""
    raw = facets.get(name)
    if not isinstance(raw, dict) or raw.get("_deleted"):
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


class _Builder:
    """Turns the selected events into nodes and edges."""

    def __init__(self, fragment: GraphFragment, aliases: dict[str, str], known: set[str]) -> None:
        self.fragment = fragment
        self.aliases = aliases
        self.known = set(known)
        self.nodes: dict[str, FragmentNode] = {}
        self.edges: set[tuple[str, str, str]] = set()

    def name(self, namespace: str, name: str) -> str:
        return canonical(name, namespace, self.aliases)

    def build(self, jobs: list[_Job], datasets: list[DatasetRef]) -> None:
        for job in jobs:
            for ds in (*job.inputs, *job.outputs):
                self.known.add(self.name(ds.namespace, ds.name))
        for ds in datasets:
            self.known.add(self.name(ds.namespace, ds.name))
        for ds in datasets:
            self.dataset(ds)
        for job in jobs:
            self.job(job)
        self.fragment.nodes = list(self.nodes.values())
        for src, dst, kind in sorted(self.edges):
            self.fragment.edge(src, dst, kind, ORIGIN)
        self.fragment.count("jobs", sum(1 for n in self.nodes.values() if n.kind == "job"))

    def dataset(self, ds: DatasetRef) -> str:
        node_id = self.name(ds.namespace, ds.name)
        node = self.nodes.get(node_id)
        if node is None:
            node = FragmentNode(node_id, "table", ORIGIN, name=ds.name)
            node.attrs["namespace"] = ds.namespace
            self.nodes[node_id] = node
        schema = _facet(ds.facets, "schema", SchemaFacet)
        if schema is not None and schema.fields:
            node.columns = dict(_columns(schema.fields))
        owners = _owners(ds.facets)
        if owners:
            node.owners = owners
        return node_id

    def job(self, job: _Job) -> None:
        if not (job.inputs or job.outputs):
            self.fragment.count("jobs without datasets skipped")
            return
        facets = job.event.job.facets if job.event.job else {}
        job_id = f"{ORIGIN}:{job.namespace}/{job.name}"
        node = FragmentNode(job_id, "job", ORIGIN, name=job.name, owners=_owners(facets))
        node.url = _job_url(facets)
        node.attrs.update(
            {"event_time": job.time.isoformat(), "event_type": job.event.eventType or ""}
        )
        node.sql, node.dialect = _sql(facets)  # bound at head by the analysis (carried.py)
        self.nodes[job_id] = node
        ctes = _ctes(facets, self.fragment)
        for ds in job.inputs:
            if self.dropped(ds.namespace, ds.name, ctes):
                continue
            self.edges.add((self.dataset(ds), job_id, "reads"))
        for ds in job.outputs:
            out = self.dataset(ds)
            self.edges.add((job_id, out, "writes"))
            self.exposures(out, ds.facets)
            lineage = _facet(ds.facets, "columnLineage", ColumnLineageFacet)
            if lineage is not None:
                self.column_lineage(job_id, out, lineage, ctes)

    def column_lineage(
        self, job_id: str, out: str, facet: ColumnLineageFacet, ctes: set[str]
    ) -> None:
        for column, spec in facet.fields.items():
            for src in spec.inputFields:
                if self.dropped(src.namespace, src.name, ctes):
                    continue
                source = f"{self.name(src.namespace, src.name)}#{src.field}"
                self.edges.add((source, job_id, "column"))
                if _projects(src, spec):
                    self.edges.add((source, f"{out}#{column}", "projection"))
        for src in facet.dataset:
            if not self.dropped(src.namespace, src.name, ctes):
                self.edges.add(
                    (f"{self.name(src.namespace, src.name)}#{src.field}", job_id, "column")
                )

    def dropped(self, namespace: str, name: str, ctes: set[str]) -> bool:
        """The producer's CTE names and names no one knows are not datasets."""
        if "." not in name and name.lower() in ctes:
            self.fragment.count(CTE_DROPPED)
            return True
        if self.name(namespace, name) not in self.known:
            self.fragment.count(UNKNOWN_DROPPED)
            return True
        return False

    def exposures(self, dataset: str, facets: dict[str, Any]) -> None:
        """dbt-ol's ``dbt_exposures`` facet: the same consumers the dbt loader names."""
        from impact_check.project.dbt import EXPOSURE_KINDS

        raw = facets.get("dbt_exposures")
        items = raw.get("exposures") if isinstance(raw, dict) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not (item.get("unique_id") or item.get("name")):
                continue
            node_id = f"dbt:{item.get('unique_id') or item.get('name')}"
            if node_id not in self.nodes:
                kind = EXPOSURE_KINDS.get(str(item.get("type", "")), "exposure")
                url = item.get("url") if isinstance(item.get("url"), str) else None
                self.nodes[node_id] = FragmentNode(
                    node_id, kind, ORIGIN, name=str(item.get("name") or node_id), url=url
                )
            self.edges.add((dataset, node_id, "reads"))


def _columns(fields: list[SchemaField], prefix: str = "") -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for f in fields:
        name = prefix + f.name
        out.append((name, f.type or None))
        out += _columns(f.fields, name + ".")
    return out


def _projects(src: InputField, spec: FieldLineage) -> bool:
    """Whether data of ``src`` flows into the output column (not only a join key/filter)."""
    kinds = {(t.type or "").upper() for t in src.transformations}
    if kinds:
        return kinds != {"INDIRECT"}
    return (spec.transformationType or "").upper() != "INDIRECT"


def _owners(facets: dict[str, Any]) -> list[str]:
    raw = facets.get("ownership")
    owners = raw.get("owners") if isinstance(raw, dict) else None
    names = [o.get("name") for o in owners or [] if isinstance(o, dict)]
    return [str(n) for n in names if n]


def _job_url(facets: dict[str, Any]) -> str | None:
    raw = facets.get("sourceCodeLocation")
    url = raw.get("url") if isinstance(raw, dict) else None
    return url if isinstance(url, str) else None


_DIALECTS = {"postgresql": "postgres", "mssql": "tsql", "sqlserver": "tsql", "ansi": ""}


def _sql(facets: dict[str, Any]) -> tuple[str | None, str | None]:
    """The job's ``sql`` facet: its query and sqlglot's name for its dialect (or None)."""
    raw = facets.get("sql")
    query = raw.get("query") if isinstance(raw, dict) else None
    if not isinstance(query, str) or not query.strip():
        return None, None
    written = str(raw.get("dialect") or "").lower() if isinstance(raw, dict) else ""
    return query, _DIALECTS.get(written, written) or None


def _ctes(facets: dict[str, Any], fragment: GraphFragment) -> set[str]:
    """CTE names of the job's SQL (one parse per job)."""
    raw = facets.get("sql")
    query = raw.get("query") if isinstance(raw, dict) else None
    if not isinstance(query, str) or "with" not in query.lower():
        return set()
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    written = str(raw.get("dialect") or "").lower() if isinstance(raw, dict) else ""
    dialect = _DIALECTS.get(written, written) or None
    try:
        statements = sqlglot.parse(query, read=dialect)
    except (SqlglotError, ValueError):  # ValueError: a dialect sqlglot does not know
        try:
            statements = sqlglot.parse(query)
        except SqlglotError:
            fragment.count(SQL_UNPARSED)
            return set()
    return {
        cte.alias_or_name.lower()
        for statement in statements
        if statement is not None
        for cte in statement.find_all(exp.CTE)
    }
