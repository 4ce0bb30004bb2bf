"""The check on two snapshots, step by step: the edge that reads the configuration and hands
each step what it needs.

Both catalogs are loaded (through the cache; a head file that cannot be read keeps its base
version), the consumers the repository carries are found (discover.py), the analysis
compares the catalogs with the fetched lineage (analysis.py), the message schemas are
checked, the inline suppressions of the changed files apply, then the policy decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlglot.errors import SqlglotError

from impact_check.analysis import (
    AnalysisSettings,
    ChangedFile,
    LineageFetch,
    analysis_limits,
    compare_catalogs,
    report_coverage,
    selected,
    unresolved_references,
)
from impact_check.budget import NO_DEADLINE, BudgetExceeded, Deadline
from impact_check.carried import QuerySettings
from impact_check.config import Config
from impact_check.discover import discover
from impact_check.graph import LineageGraph
from impact_check.messages.analysis import SchemaCheck, message_findings
from impact_check.messages.buf_config import protobuf_rules_of
from impact_check.messages.formats import is_schema, parse_schema, schema_format
from impact_check.messages.model import SchemaReadError, transitive
from impact_check.messages.schema_files import registry_at
from impact_check.messages.settings import subject_of
from impact_check.messages.topics import Topic, TopicField, top_fields
from impact_check.model import (
    Catalog,
    FileContent,
    Finding,
    Report,
    Snapshot,
    Unanalyzed,
)
from impact_check.policy import finish
from impact_check.project.incremental import load_pair
from impact_check.project.loader import (
    dbt_roots,
    dialect_for,
    in_dbt_project,
    load_catalog,
    usable_external,
)
from impact_check.project.migrations import natural_key
from impact_check.rules import RULES
from impact_check.sql.parse import split_statements
from impact_check.suppressions import InlineIgnore, Malformed, apply_ignores, parse_ignores

if TYPE_CHECKING:
    from impact_check.cache import AnalysisCache

External = Mapping[str, Mapping[str, str | None]]


def analysis_settings(config: Config) -> AnalysisSettings:
    """What the analysis reads of the configuration."""
    queries = QuerySettings(
        config.dialect,
        config.default_schema,
        config.default_database,
        config.limits.max_nesting_depth,
    )
    return AnalysisSettings(queries, strict_sources=config.on_source_error == "fail")


def analyze(
    base: Snapshot,
    head: Snapshot,
    changed: Iterable[ChangedFile],
    config: Config,
    paths: list[str] | None = None,
    renames: dict[str, str] | None = None,
    manifest: dict[str, Any] | None = None,
    lineage: LineageFetch | None = None,
    external: External | None = None,
    cache: AnalysisCache | None = None,
    deadline: Deadline | None = None,
    notes: list[Finding] | None = None,
    history: Mapping[str, list[str]] | None = None,
) -> tuple[Report, LineageGraph]:
    """Compare two revisions; the report has no base/head ids (the caller sets them).

    ``external`` holds relations read from a warehouse (name -> column -> type): those
    both revisions read and neither defines are loaded with these columns. ``cache`` holds
    what earlier runs derived (cache.py): unchanged files are not re-read. ``notes`` are
    findings the edges made (a source that failed); past ``deadline`` the report is
    partial: an AN909 finding, and what was not analysed listed under unanalyzed.
    ``history`` holds earlier versions of message schema files (oldest first) for the
    ``_TRANSITIVE`` compatibility modes (messages/analysis.py).
    """
    deadline = deadline or NO_DEADLINE
    changed = [c for c in changed if selected(c.path, paths)]
    base, head, over = _file_limit(base, head, config.limits.max_files)
    try:
        whole = _feeds_a_sink(changed, config)  # a sink topic's readers are listed
        incremental = lineage is None and not external and not whole
        base_catalog, head_catalog = _catalogs(
            base, head, config, manifest, external, cache, deadline, incremental
        )
    except BudgetExceeded as hit:
        report = Report(base="", head="")
        report.findings += list(notes or [])
        _partial(report, config.timeout, hit.stage, [c.path for c in changed])
        return finish(report, config), LineageGraph()
    changed_paths = {c.path for c in changed} | {c.old_path for c in changed if c.old_path}
    topics = topics_at(head, config) if config.topics else []
    report, graph = compare_catalogs(
        base_catalog,
        head_catalog,
        analysis_settings(config),
        renames,
        (changed_paths, paths) if paths else None,
        lineage,
        deadline,
        topics,
        discover(head, config),  # consumers the repository carries, read at head
    )
    schemas = schema_check(head, config)
    messages = message_findings(base, head, changed, schemas, graph, topics, history)
    for change in messages.changes:  # numbered after the catalog's changes
        change.id = f"C{len(report.changes) + 1}"
        report.changes.append(change)
    report.findings += messages.findings
    report.unanalyzed += messages.unanalyzed
    report.findings += list(notes or [])
    python_models = _python_models(changed, head)
    analysis_limits(report, head_catalog, changed, python_models, base_catalog)
    report_coverage(
        report, base_catalog, head_catalog, config.coverage.minimum, config.coverage.max_drop
    )
    unresolved_references(report, base_catalog, head_catalog, changed)
    _file_limit_findings(report, over, changed, config.limits.max_files)
    apply_ignores(report.findings, *_inline_ignores(head, changed, config))
    if deadline.hit is not None:
        done = {f.location.file for f in report.findings if f.location is not None}
        skipped = [c.path for c in changed if c.path not in done]
        _partial(report, config.timeout, deadline.hit, skipped)
    return finish(report, config), graph


def topics_at(snapshot: Snapshot, config: Config) -> list[Topic]:
    """The configured topics with their head schema's fields (a problem when unreadable)."""
    out = []
    for name, link in sorted(config.topics.items()):
        topic = Topic(name, link.table.lower(), link.schema_file, link.direction, link.owners)
        topic.field_columns = dict(link.fields)
        content = snapshot.files.get(link.schema_file)
        fmt = schema_format(link.schema_file)
        if fmt is None:
            topic.problem = "not a message schema file (.avsc, .proto, .schema.json)"
        elif content is None or content.data is None:
            topic.problem = "the schema file is not in the repository"
        else:
            try:
                parsed = parse_schema(fmt, content.data.decode("utf-8", "replace"))
                topic.fields = [
                    TopicField(n, link.fields.get(n, n).lower(), required, kind)
                    for n, required, kind in top_fields(fmt, parsed)
                ]
            except SchemaReadError as err:
                topic.problem = str(err)
        out.append(topic)
    return out


def schema_check(head: Snapshot, config: Config) -> SchemaCheck:
    """What the message schema check reads of the configuration and of the head's registry
    state file and buf.yaml files (the .proto files' breaking category)."""
    settings = config.message_schemas
    registry = registry_at(head, settings.registry_file)
    explicit = "protobuf_rules" in settings.model_fields_set  # .impact-check.yml wins
    rules_of, buf_problems = protobuf_rules_of(head, settings.protobuf_rules, explicit)
    return SchemaCheck(
        lambda path: subject_of(path, settings, config.topics, registry),
        settings.registry_file,
        registry.problem,
        config.limits.max_nesting_depth,
        settings.max_versions,
        rules_of,
        tuple(buf_problems),
    )


def wants_history(path: str, head: Snapshot, config: Config) -> bool:
    """Whether the check of the schema file ``path`` compares with every earlier version
    (its subject's mode is transitive): check.py then reads them from git."""
    return is_schema(path) and transitive(schema_check(head, config).subject_of(path).mode)


def _feeds_a_sink(changed: list[ChangedFile], config: Config) -> bool:
    """Whether a changed schema feeds a table through a sink (its readers are listed, so
    the catalogs must hold them even though the table itself did not change)."""
    sinks = {link.schema_file for link in config.topics.values() if link.direction == "sink"}
    return any(c.path in sinks for c in changed)


def _catalogs(
    base: Snapshot,
    head: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None,
    external: External | None,
    cache: AnalysisCache | None,
    deadline: Deadline,
    incremental: bool,
) -> tuple[Catalog, Catalog]:
    """Both catalogs: as one pair through the cache when ``incremental`` (the head built
    from the base's derivations), else each on its own; a second pass with the warehouse's
    relations when the repository reads some of them."""
    pair = None
    if incremental and cache is not None:
        pair = load_pair(base, head, config, manifest, cache, deadline)
        if _stand_ins(base, head, pair[1]):
            pair = None  # an unreadable head file keeps its base version (below)
    if pair is None:
        pair = (
            load_catalog(base, config, manifest, cache=cache, deadline=deadline),
            _head_catalog(base, head, config, manifest, deadline, cache=cache),
        )
    base_catalog, head_catalog = pair
    stand_in_unanalysed(base_catalog, head_catalog)
    usable = usable_external(external, (base_catalog, head_catalog)) if external else {}
    if usable:  # a second pass, only when the repository reads what the warehouse knows
        base_catalog = load_catalog(base, config, manifest, usable, cache=cache, deadline=deadline)
        head_catalog = _head_catalog(base, head, config, manifest, deadline, usable, cache)
        stand_in_unanalysed(base_catalog, head_catalog)
    return base_catalog, head_catalog


def _python_models(changed: list[ChangedFile], head: Snapshot) -> list[str]:
    """The changed dbt Python models (reported as not analysed)."""
    roots = dbt_roots(head.files)
    return [
        c.path
        for c in changed
        if c.status != "deleted" and in_dbt_project(c.path, roots) and c.path.endswith(".py")
    ]


def _inline_ignores(
    head: Snapshot, changed: list[ChangedFile], config: Config
) -> tuple[list[InlineIgnore], list[Malformed]]:
    """The ``-- impact-check: ignore[…]`` comments of the changed files, and the malformed
    ones."""
    names = {rule.name for rule in RULES.values()}
    ignores: list[InlineIgnore] = []
    malformed: list[Malformed] = []
    for change in changed:
        content = head.files.get(change.path)
        if change.status == "deleted" or content is None or content.data is None:
            continue
        text = content.data.decode("utf-8", "replace")
        if "impact-check:" not in text:
            continue
        found, bad = parse_ignores(
            change.path,
            text,
            _spans(text, dialect_for(change.path, config)),
            lambda rule: rule in RULES or rule in names,
        )
        ignores += found
        malformed += bad
    return ignores, malformed


def _spans(text: str, dialect: str) -> list[tuple[int, int]]:
    try:
        return [(line, line + sql.count("\n")) for line, sql in split_statements(text, dialect)]
    except SqlglotError:
        return []


def _partial(report: Report, timeout: float | None, stage: str, skipped: list[str]) -> None:
    """Mark the report partial: AN909 naming the budget (``timeout``, seconds), skipped
    files as unanalyzed."""
    report.partial = True
    message = (
        f"the check ran out of its time budget (timeout: {timeout:g} s) while "
        f"{stage}: the report is partial, {len(skipped)} changed file"
        f"{'' if len(skipped) == 1 else 's'} not analysed"
    )
    report.findings.append(RULES["AN909"].finding(message))
    listed = {u.file for u in report.unanalyzed}
    for path in sorted(set(skipped) - listed):
        reason = f"not analysed: the time budget (timeout: {timeout:g} s) ran out"
        report.unanalyzed.append(Unanalyzed(path, reason))


def _file_limit(base: Snapshot, head: Snapshot, limit: int) -> tuple[Snapshot, Snapshot, set[str]]:
    """Both revisions cut to the same first ``limit`` paths (so the cut reads as no change)."""
    paths = sorted(set(base.files) | set(head.files), key=natural_key)
    if len(paths) <= limit:
        return base, head, set()
    over = set(paths[limit:])
    return (
        Snapshot({p: c for p, c in base.files.items() if p not in over}),
        Snapshot({p: c for p, c in head.files.items() if p not in over}),
        over,
    )


def _file_limit_findings(
    report: Report, over: set[str], changed: list[ChangedFile], limit: int
) -> None:
    if not over:
        return
    message = (
        f"the repository has more than limits.max_files ({limit:,}) files the checker reads: "
        f"{len(over):,} were not read, in both revisions"
    )
    report.findings.append(RULES["AN901"].finding(message))
    for change in changed:
        if change.path in over:
            reason = f"not read: over limits.max_files ({limit:,})"
            report.unanalyzed.append(Unanalyzed(change.path, reason))


def _head_catalog(
    base: Snapshot,
    head: Snapshot,
    config: Config,
    manifest: dict[str, Any] | None,
    deadline: Deadline,
    external: External | None = None,
    cache: AnalysisCache | None = None,
) -> Catalog:
    """The head catalog; a file that cannot be read at head keeps its base version.

    An unreadable file (binary, too large, invalid YAML, LFS pointer, a model whose Jinja or
    SQL the checker cannot read, …) says nothing about what it defines: reading it as empty
    would report everything it defined as dropped. Its issues stay, so it is still listed
    as not analysed, and so do its coverage entries (the head version was not analysed).
    """
    catalog = load_catalog(head, config, manifest, external, cache=cache, deadline=deadline)
    stand_in = _stand_ins(base, head, catalog)
    if not stand_in:
        return catalog
    patched = Snapshot(files={**head.files, **stand_in})
    retry = load_catalog(patched, config, manifest, external, cache=cache, deadline=deadline)
    kept = {(i.rule, i.message, i.location) for i in retry.issues}
    retry.issues += [
        i
        for i in catalog.issues
        if i.location.file in stand_in and (i.rule, i.message, i.location) not in kept
    ]
    for name, entry in catalog.defined.items():
        if entry.location.file in stand_in and entry.reason is not None:
            entry.reason += " (the base version stands in)"
            retry.defined[name] = entry
    return retry


def stand_in_unanalysed(base: Catalog, head: Catalog) -> None:
    """Models and tables head defines but could not analyse keep their base dataset (in
    place), with columns unknown.

    The file-level stand-in covers a model whose own file broke; this covers one whose file
    is unchanged but whose rendering broke with something else (a macro edit), and a table
    whose head statement the parser does not understand (a ClickHouse ``ENGINE = Kafka``
    table): absent at head, it would read as dropped and everything reading it as broken.
    """
    for entry in head.defined.values():
        if entry.reason is None or entry.name in head.datasets:
            continue
        dataset = base.datasets.get(entry.name)
        if dataset is not None:
            # its columns at head are not known: readers binding against the base ones
            # would break on a column the head model may well produce (a pivot's)
            head.datasets[entry.name] = replace(dataset, columns_known=False)
            if entry.name in base.model_meta:
                head.model_meta.setdefault(entry.name, base.model_meta[entry.name])


def _stand_ins(base: Snapshot, head: Snapshot, catalog: Catalog) -> dict[str, FileContent]:
    """Base versions of the head files the catalog could not read, where they differ
    (a file unreadable at both revisions gains nothing from its base version)."""
    out = {}
    for issue in catalog.issues:
        path = issue.location.file
        if not issue.whole_file or path not in base.files or path in out:
            continue
        before, after = base.files[path], head.files.get(path)
        if after is None or before.data != after.data or before.reason != after.reason:
            out[path] = before
    return out
