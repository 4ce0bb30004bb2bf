"""The analysis on two loaded catalogs and the fetched fragments, without I/O: changes,
graph, impact, findings. The edge (pipeline.py) loads the catalogs, finds the fragments and
applies suppressions and the policy; this module only compares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impact_check.bind import Break, broken_datasets
from impact_check.budget import NO_DEADLINE, Deadline
from impact_check.carried import QuerySettings, bind_carried
from impact_check.diff import diff_catalogs
from impact_check.dq import dq_findings
from impact_check.external import fetched_breaks
from impact_check.graph import (
    LineageGraph,
    graph_from_catalog,
    merge_fragment,
    merge_same_models,
)
from impact_check.impact import Bindings, impacts_of, readers_of_unbuilt, unexplained_breaks
from impact_check.ml import ml_findings
from impact_check.model import (
    Catalog,
    Change,
    Finding,
    GraphFragment,
    Impact,
    Issue,
    Location,
    Report,
    Severity,
    SourceStatus,
    Unanalyzed,
)
from impact_check.rules import RULES, rule_for
from impact_check.sql.statements import summary as statements_summary
from impact_check.sql.types import compare

if TYPE_CHECKING:
    from impact_check.messages.topics import Topic

# Fetches lineage for (touched datasets, datasets the repository defines): injected by the
# edge (check.py) so that the analysis itself does no I/O.
LineageFetch = Callable[[set[str], set[str]], list[GraphFragment]]


@dataclass(frozen=True)
class AnalysisSettings:
    """The settings the comparison reads (the edge takes them from the configuration)."""

    queries: QuerySettings  # how consumers' own SQL is read (carried.py)
    strict_sources: bool  # on_source_error: fail: a source not read in full is an error


class ChangedFile:
    """A changed path as the analysis needs it (status and previous path)."""

    def __init__(
        self, path: str, status: str, old_path: str | None = None, mode: str | None = None
    ) -> None:
        self.path = path
        self.status = status
        self.old_path = old_path
        self.mode = mode


def compare_catalogs(
    base_catalog: Catalog,
    head_catalog: Catalog,
    settings: AnalysisSettings,
    renames: dict[str, str] | None = None,
    scope: tuple[set[str], list[str]] | None = None,
    lineage: LineageFetch | None = None,
    deadline: Deadline | None = None,
    topics: list[Topic] | None = None,
    consumers: list[GraphFragment] | None = None,
) -> tuple[Report, LineageGraph]:
    """Changes, impact and findings between two catalogs (no files involved).

    ``scope`` = (changed paths, PATH arguments) restricts findings to those files;
    ``lineage`` fetches the lineage sources, merged before impact is computed, after the
    ``consumers`` the repository carries (discover.py); ``topics`` (configured, with their
    head schemas) join the graph as consumers.
    """
    from impact_check.messages.topics import add_topics, topic_breaks

    graph = graph_from_catalog(base_catalog, head_catalog)
    base_broken = broken_datasets(base_catalog, set())
    limited: dict[str, list[Break]] = {}  # breaks resting on what was unbound at base
    bindings = Bindings(
        base=base_broken,
        head=broken_datasets(
            head_catalog,
            set(base_catalog.datasets),
            base_catalog,
            set(base_broken),
            limited,
            _stood_in(head_catalog),
        ),
    )
    if topics:
        add_topics(graph, topics, base_catalog, head_catalog)
        bindings.head.update(topic_breaks(topics, base_catalog, head_catalog))
    changes = [
        c
        for c in diff_catalogs(base_catalog, head_catalog, renames or {})
        if scope is None or _change_selected(c, scope[0], scope[1])
    ]
    report = Report(base="", head="", changes=changes)
    deadline = deadline or NO_DEADLINE
    base_view, head_view = base_catalog, head_catalog
    if (lineage is not None or consumers) and not deadline.note("fetching lineage sources"):
        touched = {c.dataset for c in changes} | {
            str(c.after) for c in changes if c.kind == "table_renamed"
        }
        defined = set(base_catalog.datasets) | set(head_catalog.datasets)
        fragments = list(consumers or []) + (lineage(touched, defined) if lineage else [])
        strict = settings.strict_sources
        _merge_sources(report, graph, fragments, base_catalog, head_catalog, strict)
        for merged, keeper in merge_same_models(graph).items():
            for known in (bindings.base, bindings.head):
                if merged in known:  # a dbt exposure's breaks are its model's
                    known.setdefault(keeper, []).extend(known.pop(merged))
        # consumers' own queries, bound like views: from here on the catalogs include them
        relevant = _downstream_relations(graph, touched) | set(bindings.head)
        queries = settings.queries
        carried = bind_carried(graph, base_catalog, head_catalog, queries, bindings, relevant)
        report.findings += carried.findings
        base_view, head_view = carried.base, carried.head
        bindings.base.update(carried.base_breaks)
        bindings.head.update(carried.head_breaks)
        bindings.base.update(fetched_breaks(graph, base_view, base_view, bindings.base))
        bindings.head.update(fetched_breaks(graph, base_view, head_view, bindings.head))
    explained: set[str] = set()
    positional = _positional_readers(head_catalog)
    for change in changes:
        if deadline.note("computing impacts"):
            break
        finding = _change_finding(change, graph, bindings)
        if finding is not None and _key_removed_under_joins(change, finding, graph):
            finding.floor = Severity.ERROR
            finding.message += "; consumers join or group on it (fan-out risk)"
        promise = _promise(change, base_catalog, head_catalog)
        if finding is not None and promise:  # unknown consumers rely on the promised schema
            rule = RULES[finding.rule]
            finding.floor = Severity.ERROR if rule.breaking else rule.severity
            finding.message += f"; {change.dataset} {promise}"
        if finding is not None and change.kind == "column_reordered":
            readers = {i.node for i in finding.impacted} & positional.get(change.dataset, set())
            if readers:
                finding.floor = Severity.WARNING
                finding.message += f"; read by position in {', '.join(sorted(readers))}"
        if finding is not None:
            report.findings.append(finding)
            explained |= {i.node for i in finding.impacted if i.breaks}
    report.findings += ml_findings(report.findings, graph, base_view, head_view, describe_change)
    report.findings += dq_findings(report.findings, graph, describe_change)
    report.findings += _contract_findings(base_catalog, head_catalog)
    report.findings += [
        f
        for f in _definition_findings(bindings, explained, changes, head_catalog, graph)
        + _unknown_findings(limited, bindings, base_catalog, head_catalog, graph)
        if f.location is None or scope is None or selected(f.location.file, scope[1])
    ]
    return report, graph


def _stood_in(head: Catalog) -> set[str]:
    """Models and tables defined at head whose definition could not be read there."""
    return {entry.name for entry in head.defined.values() if entry.reason is not None}


def _downstream_relations(graph: LineageGraph, touched: set[str]) -> set[str]:
    """The relations the diff changes and every relation downstream of them."""
    out = set(touched)
    for relation in touched:
        if relation in graph:
            out |= {n.split("#", 1)[0] for n in graph.walk(relation)}
    return out


def _unknown_findings(
    limited: dict[str, list[Break]],
    bindings: Bindings,
    base: Catalog,
    head: Catalog,
    graph: LineageGraph,
) -> list[Finding]:
    """AN914 for changed or new datasets whose only breaks rest on what the checker could
    not bind at base either (an analysis limit there, not a proven failure), and for dbt
    models removed from the project but still read through ref() while packages.yml
    declares packages that are not installed (one of them may now define the model)."""
    out = []
    for name, dataset in head.datasets.items():
        before = base.datasets.get(name)
        if dataset.origin == "package-not-installed" and before is not None and before.derived:
            message = (
                f"{name} is no longer a model of the project but is still read through ref(); "
                "a package packages.yml declares, not installed here, may define it: whether "
                "its readers build is not judged (run `dbt deps` before the check)"
            )
            out.append(RULES["AN914"].finding(message, before.location))
    stood_in = _stood_in(head)
    for name, reasons in limited.items():
        if name in bindings.base or name in bindings.head:
            continue
        old, new = base.datasets.get(name), head.datasets.get(name)
        if old is not None and new is not None and old.definition == new.definition:
            continue  # unchanged: nothing of it is this diff's doing
        upstream = sorted({r.upstream for r in reasons if r.upstream})
        why = (
            "whose definition at head the checker could not read"
            if stood_in.intersection(upstream)
            else "which the checker could not bind at base either"
        )
        message = (
            f"{name} reads {', '.join(upstream)}, {why}: whether it builds is not judged "
            "(it rests on what is unknown)"
        )
        out.append(RULES["AN914"].finding(message, _location_of(name, head, graph)))
    return out


def _promise(change: Change, base: Catalog, head: Catalog) -> str | None:
    """Why a dataset has consumers the repository cannot see, if it does."""
    for catalog in (base, head):
        dataset = catalog.datasets.get(change.dataset)
        if dataset is None:
            continue
        if dataset.kind == "contract":
            return "is a data contract: it promises its schema to unknown consumers"
        if dataset.contract:
            return "has an enforced contract: it promises its schema to unknown consumers"
        if dataset.access == "public":
            return "has access: public: other projects may read it"
    return None


def _contract_findings(base: Catalog, head: Catalog) -> list[Finding]:
    """CO207: a data contract whose dataset, at head, no longer delivers a promised field."""
    from impact_check.contract_check import new_unmet

    out = []
    for model, name, why in new_unmet(base, head):
        message = f"{model.node} promises {name}, but {why}"
        location = Location(model.path, model.lines.get(name) or model.line)
        out.append(RULES["CO207"].finding(message, location))
    return out


def _merge_sources(
    report: Report,
    graph: LineageGraph,
    fragments: list[GraphFragment],
    base: Catalog,
    head: Catalog,
    strict: bool,
) -> None:
    """Merge fetched fragments; every source gets a `sources` entry, failures an AN905
    (errors when ``strict``: on_source_error: fail)."""
    derived = {n for cat in (base, head) for n, ds in cat.datasets.items() if ds.derived}
    for fragment in fragments:
        detail = fragment.detail
        counts = dict(fragment.counts)
        if fragment.status not in ("failed", "skipped"):
            stats = merge_fragment(graph, fragment, derived)
            said = ", ".join(f"{v} {k}" for k, v in sorted(fragment.counts.items()) if v)
            detail = "; ".join(p for p in (detail, said, stats.summary()) if p)
            nodes, edges = len(fragment.nodes), len(fragment.edges)
            counts.update(stats.counts())
        else:
            nodes = edges = 0
        report.sources.append(
            SourceStatus(
                fragment.name, fragment.kind, fragment.status, detail, nodes, edges, counts
            )
        )
        for issue in fragment.issues:
            location = Location(issue.file, issue.line) if issue.file else None
            finding = RULES[issue.rule].finding(f"{fragment.name}: {issue.message}", location)
            if strict:
                finding.floor = Severity.ERROR
            report.findings.append(finding)
        if fragment.status == "partial" and fragment.issues:
            continue  # the issues above say what was not read, file by file
        if fragment.status in ("failed", "partial"):
            report.findings.append(
                source_finding(
                    f"lineage source {fragment.name}",
                    fragment.status,
                    fragment.detail,
                    "consumers only it knows may be missing",
                    strict,
                )
            )


def source_finding(what: str, status: str, detail: str, consequence: str, strict: bool) -> Finding:
    """AN905 for a source (lineage source, dbt manifest) that could not be read fully;
    an error when ``strict`` (``on_source_error: fail``)."""
    how = "could not be read" if status == "failed" else "was read in part"
    finding = RULES["AN905"].finding(f"{what} {how}: {detail or 'no detail'}; {consequence}")
    if strict:
        finding.floor = Severity.ERROR
    return finding


def _key_removed_under_joins(change: Change, finding: Finding, graph: LineageGraph) -> bool:
    """CN403 is an error when a consumer joins or groups on the key that lost uniqueness."""
    if change.kind != "constraint_changed" or change.after is not None:
        return False
    for impact in finding.impacted:
        if len(impact.path) < 2:
            continue
        kind = (graph.g.get_edge_data(impact.path[-2], impact.path[-1]) or {}).get("kind", "")
        if kind in ("clause:joins", "clause:group"):
            return True
    return False


def _positional_readers(catalog: Catalog) -> dict[str, set[str]]:
    """Relation -> the datasets and INSERTs that read it with `*` or by position."""
    readers: dict[str, set[str]] = {}
    for name, dataset in catalog.datasets.items():
        for relation in dataset.lineage.star_tables if dataset.lineage else ():
            readers.setdefault(relation, set()).add(name)
    for load in catalog.loads:
        if load.lineage is not None and load.positional:
            for relation in load.lineage.star_tables:
                readers.setdefault(relation, set()).add(load.node_id)
    return readers


def selected(path: str, paths: list[str] | None) -> bool:
    """Whether ``path`` is one of the PATH arguments or under one (all are, without any)."""
    if not paths:
        return True
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths)


def _change_selected(change: Change, changed_paths: set[str], paths: list[str] | None) -> bool:
    if not paths:
        return True
    return change.location is not None and change.location.file in changed_paths


def _change_finding(change: Change, graph: LineageGraph, bindings: Bindings) -> Finding | None:
    rule = rule_for(change)
    if rule is None:
        return None
    impacted = impacts_of(change, graph, bindings)
    message = f"{describe_change(change)}; {_consumer_summary(impacted)}"
    if change.types is not None and compare(*change.types) == "unknown":
        message += " (a type sqlglot does not model: compared as text)"
    return rule.finding(message, change.location, change, impacted)


def describe_change(change: Change) -> str:
    """A one-line description of a change for people."""
    target = f"{change.dataset}.{change.column}" if change.column else change.dataset
    what = change.dataset_kind.replace("_", " ")
    texts = {
        "table_dropped": f"{what} {target} dropped",
        "version_removed": f"{what} {target} (version {_version(change.after)}) removed",
        "contract_changed": f"enforced contract of {target} removed",
        "accepted_values_changed": (
            f"accepted values of {target}: {change.before} -> {change.after or 'any'}"
        ),
        "table_renamed": f"{what} {target} renamed to {change.after}",
        "table_added": f"{what} {target} added",
        "column_dropped": f"column {target} dropped",
        "column_renamed": f"column {target} renamed to {change.after}",
        "column_added": f"column {target} added ({change.after})",
        "type_changed": f"column {target} type {change.before} -> {change.after}",
        "nullability_changed": f"column {target} {change.before} -> {change.after}",
        "default_changed": f"column {target} default {change.before} -> {change.after}",
        "constraint_changed": (
            f"column {target} constraint {change.before} -> {change.after}"
            if change.column
            else f"constraint removed from {target}: {change.before}"
        ),
        "expression_changed": f"expression of {target} changed",
        "column_reordered": f"column order of {what} {target} changed",
        "materialization_changed": f"{target} changed from {change.before} to {change.after}",
        "aggregation_changed": f"aggregation of {target} changed",
        "filter_changed": f"filter (WHERE/HAVING/QUALIFY) of {what} {target} changed",
        "grain_changed": f"grain (GROUP BY/DISTINCT) of {what} {target} changed",
        "join_changed": f"joins of {what} {target} changed",
        "cardinality_changed": f"row-multiplying projection of {what} {target} changed",
        "source_changed": f"relations read by {what} {target} changed",
        "limit_changed": f"LIMIT/OFFSET/sample of {what} {target} changed",
        "test_removed": f"dbt {change.before} removed from {target}",
        "test_relaxed": f"dbt {change.before} of {target} relaxed (severity warn, where, "
        "or thresholds)",
    }
    return texts.get(change.kind, f"{change.kind.replace('_', ' ')} on {target}")


def _version(version: object) -> str:
    if isinstance(version, (tuple, list)) and len(version) == 3:
        name, v, deprecation = version
        return f"{v} of {name}" + (f", deprecation_date {deprecation}" if deprecation else "")
    return str(version)


def _consumer_summary(impacted: list[Impact]) -> str:
    broken = sum(1 for i in impacted if i.breaks and not i.preexisting)
    if not impacted:
        return "no known consumer"
    affected = len(impacted) - broken
    parts = []
    if broken:
        parts.append(f"{broken} consumer{'s' if broken != 1 else ''} break")
    if affected:
        parts.append(f"{affected} affected")
    return ", ".join(parts)


def _definition_findings(
    bindings: Bindings,
    explained: set[str],
    changes: list[Change],
    head: Catalog,
    graph: LineageGraph,
) -> list[Finding]:
    """Datasets that do not bind at head and that no change's walk explains."""
    own: dict[str, Change] = {}
    for change in changes:
        own.setdefault(change.dataset, change)
    unexplained = unexplained_breaks(bindings, explained, lambda n: graph.attrs(n).get("file"))
    out = []
    for name, readers in readers_of_unbuilt(unexplained, graph, bindings).items():
        why = "; ".join(sorted({r.message for r in unexplained[name]}))
        location = _location_of(name, head, graph)
        message = f"{name} no longer binds at head: {why}"
        finding = RULES["TB108"].finding(message, location, own.get(name))
        finding.impacted = readers
        if readers:
            finding.message += f"; {_consumer_summary(readers)}"
        out.append(finding)
    return out


def _location_of(name: str, catalog: Catalog, graph: LineageGraph) -> Location | None:
    dataset = catalog.datasets.get(name)
    if dataset is not None and dataset.location is not None:
        return dataset.location
    for load in catalog.loads:
        if load.node_id == name:
            return load.location
    file = graph.attrs(name).get("file")
    return Location(file) if file else None


def report_coverage(
    report: Report, base: Catalog, head: Catalog, minimum: float | None, max_drop: int
) -> None:
    """The head's coverage, and AN912/AN913 when the diff made it worse or it is low
    (``minimum`` and ``max_drop``: the configuration's ``coverage``)."""
    from impact_check.coverage import coverage_findings, coverage_of

    report.coverage = coverage_of(head)
    before = coverage_of(base)
    report.findings += coverage_findings(base, head, before, report.coverage, minimum, max_drop)


def analysis_limits(
    report: Report,
    head: Catalog,
    changed: list[ChangedFile],
    python_models: Iterable[str],
    base: Catalog | None = None,
) -> None:
    """AN findings and `unanalyzed` entries for changed files the checker could not read
    (and TB108 for Jinja that does not parse, unless it did not at base either); migrations
    the diff adds or edits that fail on deploy (TB109/TB110, unless they already did at
    base); one AN911 summary of the statements not analysed; submodules and the changed
    dbt Python models (``python_models``) as not analysed."""
    changed_paths = {c.path for c in changed if c.status != "deleted"}
    at_base = {_deploy_key(i) for i in (base.issues if base else []) if i.rule in _DEPLOY}
    skipped = []
    before = (
        {(i.location.file, i.message) for i in base.issues if i.rule == "TB108"} if base else set()
    )
    for issue in head.issues:
        if issue.rule == "TB108" and (issue.location.file, issue.message) in before:
            continue  # broken at base already: not this diff's doing
        if issue.location.file in changed_paths:
            if issue.rule == "AN911":
                skipped.append(issue)
                continue
            if issue.rule in _DEPLOY and _deploy_key(issue) in at_base:
                continue
            report.findings.append(_no_longer_created(issue, base) or _issue_finding(issue))
            if issue.unanalyzed:
                report.unanalyzed.append(
                    Unanalyzed(issue.location.file, issue.message, issue.location.line)
                )
    summary = statements_summary(skipped)
    if summary is not None:
        report.findings.append(RULES["AN911"].finding(*summary))
    for change in changed:
        if change.mode == "160000":  # a gitlink: the checker reads no other repository
            reason = "git submodule: its files are not analysed"
            report.unanalyzed.append(Unanalyzed(change.path, reason))
            message = f"{change.path}: {reason} (check that repository on its own)"
            report.findings.append(RULES["AN904"].finding(message, Location(change.path)))
    for path in python_models:
        reason = "Python models are not analysed"
        report.unanalyzed.append(Unanalyzed(path, reason))
        message = f"{path}: {reason}"
        report.findings.append(RULES["AN904"].finding(message, Location(path)))


_DEPLOY = ("TB109", "TB110")  # a migration that fails on deploy (sql/onetime.py)


def _deploy_key(issue: Issue) -> tuple[str, str, str]:
    return issue.rule, issue.message, issue.location.file


def _no_longer_created(issue: Issue, base: Catalog | None) -> Finding | None:
    """TB110 for an ALTER of a table no file creates at head that the repository's own DDL
    created at base: the diff removed its creation, so the changed file fails on deploy
    (a table the repository never created may exist outside it: that stays AN903)."""
    if base is None or issue.rule != "AN903" or issue.target is None:
        return None
    if "is not created by any analysed file" not in issue.message:
        return None
    before = base.datasets.get(issue.target)
    if before is not None:
        if before.derived or before.location is None or before.origin != "sql":
            return None
        where = before.location
    elif issue.target in base.dropped:  # created, then dropped, by the repository's own DDL
        where = base.dropped[issue.target]
    else:
        return None
    if _sequence_of(where.file) != _sequence_of(issue.location.file):
        return None  # created by another engine's or another sequence's DDL: unknown here
    message = (
        f"ALTER TABLE {issue.target}: no file creates it any more (the repository's DDL had it "
        f"at base, {where.file}:{where.line or 1}): this migration fails on deploy"
    )
    return RULES["TB110"].finding(message, issue.location)


def _sequence_of(path: str) -> str:
    """The folder a migration sequence lives in: up to the last folder named for migrations
    (Diesel and Prisma keep one folder per migration below it), else the file's own folder.
    A repository may hold one sequence per engine (``db/postgresql/migrations``,
    ``db/clickhouse/migrations``) whose tables share names but not databases."""
    folders = path.split("/")[:-1]
    for index in range(len(folders) - 1, -1, -1):
        if "migration" in folders[index].lower():
            return "/".join(folders[: index + 1])
    return "/".join(folders)


_SYSTEM_SCHEMAS = ("information_schema.", "pg_catalog.", "sys.", "system.")


def unresolved_references(
    report: Report, base: Catalog, head: Catalog, changed: list[ChangedFile]
) -> None:
    """AN903 for each changed definition with references the binder could not attribute:
    a relation the repository defines at neither revision (its columns are not checked),
    a column that several relations of unknown columns could hold, a query sqlglot could
    not qualify. References the engine would refuse are binding errors instead (TB108)."""
    changed_paths = {c.path for c in changed if c.status != "deleted"}
    known = set(base.datasets) | set(head.datasets) | set(base.dropped) | set(head.dropped)
    known |= set(base.renamed_tables) | set(head.renamed_tables)
    readers = [(n, d.lineage, d.location) for n, d in head.datasets.items()]
    readers += [(load.node_id, load.lineage, load.location) for load in head.loads]
    for name, lineage, location in readers:
        if lineage is None or location is None or location.file not in changed_paths:
            continue
        outside = sorted(
            t for t in lineage.tables if t not in known and not t.startswith(_SYSTEM_SCHEMAS)
        )
        parts = []
        if outside:
            parts.append(
                f"reads {', '.join(outside)}, which the repository does not define: "
                "the columns read from it are not checked"
            )
        if lineage.unresolved:
            parts.append(f"cannot attribute {', '.join(sorted(lineage.unresolved))}")
        if parts:
            message = f"lineage of {name} is incomplete: {'; '.join(parts)}"
            report.findings.append(RULES["AN903"].finding(message, location))


def _issue_finding(issue: Issue) -> Finding:
    return RULES[issue.rule].finding(issue.message, issue.location)


__all__ = [
    "AnalysisSettings",
    "Break",
    "ChangedFile",
    "LineageFetch",
    "analysis_limits",
    "compare_catalogs",
    "describe_change",
    "report_coverage",
    "selected",
    "source_finding",
    "unresolved_references",
]
