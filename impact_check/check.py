"""The check as a function: resolve revisions, read both sides from git, analyse."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact_check import git
from impact_check.config import Config
from impact_check.graph import LineageGraph
from impact_check.model import (
    FileContent,
    Finding,
    Location,
    Report,
    Snapshot,
    SourceStatus,
    Unanalyzed,
)


@dataclass
class Revisions:
    """What to compare: a base commit and a head (commit SHA, INDEX or WORKTREE)."""

    base: str
    head: str
    tip: str | None = None  # HEAD's commit, when resolved (the head is the index or work tree)


def resolve_revisions(
    root: Path,
    base: str | None = None,
    head: str | None = None,
    staged: bool = False,
    hook: bool = False,
) -> Revisions:
    """Apply the defaults of DESIGN.md: base = merge-base with the default branch."""
    if hook:
        pushed = git.hook_range()
        if pushed is not None:
            return Revisions(git.resolve(root, pushed[0]), git.resolve(root, pushed[1]))
        staged = True
    # a --no-checkout clone has no index, no work tree; HEAD's commit comes with it
    checked, tip = git.head_state(root)

    def head_commit() -> str:
        return tip if tip is not None else git.resolve(root, "HEAD")  # None: an error

    if staged:
        # With no index nothing is staged: HEAD against itself, not "every file deleted".
        index = git.INDEX if checked else head_commit()
        return Revisions(git.resolve(root, base) if base else head_commit(), index, tip)
    # With no work tree checked out, git sees every file as deleted: the head is HEAD.
    head_rev = git.resolve(root, head) if head else (git.WORKTREE if checked else head_commit())
    if base is None:
        branch = git.default_branch(root)
        at = head_rev if head_rev != git.WORKTREE else head_commit()
        base_rev = git.merge_base(root, git.resolve(root, branch), at)
    else:
        base_rev = git.resolve(root, base)
    return Revisions(base_rev, head_rev, tip)


def check(
    root: Path, revisions: Revisions, config: Config, paths: list[str] | None = None
) -> tuple[Report, LineageGraph]:
    """Run the check between two revisions of the repository at ``root``."""
    from impact_check.budget import Deadline

    started = time.perf_counter()
    changes = git.changed_files(root, revisions.base, revisions.head)
    if not config.lineage and not any(_analysed(c.path, c.old_path, c.mode) for c in changes):
        return _nothing_to_analyse(root, revisions, config, started, len(changes))
    from impact_check.analysis import ChangedFile
    from impact_check.cache import AnalysisCache, cache_dir
    from impact_check.discover import consumer_paths
    from impact_check.pipeline import analyze
    from impact_check.startup import resume

    resume()  # the imports are done: the command line's collector runs again (startup.py)
    deadline = Deadline(config.timeout)
    changed = [ChangedFile(c.path, c.status, c.old_path, c.mode) for c in changes]
    cache = AnalysisCache(cache_dir(root)) if config.cache else None
    # the snapshots hold the consumer files the repository carries too (discover.py)
    base_snapshot: Snapshot = git.snapshot(root, revisions.base, extra=consumer_paths)
    head_snapshot = git.snapshot(root, revisions.head, base_snapshot, consumer_paths)
    missing, unread = incomplete_clone(base_snapshot, head_snapshot, changes)
    _add_installed_packages(root, config, base_snapshot, head_snapshot)
    renames = declared_renames(
        git.commit_messages(root, revisions.base, revisions.head, revisions.tip)
    )
    history = _schema_history(root, revisions.base, changed, head_snapshot, config)
    manifest, statuses = _dbt_manifest(root, config)
    prefetched = catalog_sources(root, config, deadline)
    report, graph = analyze(
        base_snapshot,
        head_snapshot,
        changed,
        config,
        paths,
        renames,
        manifest,
        lineage_fetcher(root, config, prefetched, deadline) if config.lineage else None,
        external_relations(prefetched) if prefetched else None,
        cache,
        deadline,
        [_source_finding(s, config) for s in statuses if s.status in ("failed", "partial")]
        + missing,
        history,
    )
    listed = {u.file for u in report.unanalyzed}
    report.unanalyzed += [u for u in unread if u.file not in listed]
    if cache is not None:
        cache.save()
    report.sources = statuses + report.sources
    report.base, report.head = revisions.base, revisions.head
    report.files_changed = len(changes)
    report.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return report, graph


_PACKAGE_FOLDERS = ("dbt_packages", "dbt_modules")
_NOT_MACROS = {"tests", "analyses", "seeds", "snapshots", "integration_tests", "docs"}


def _add_installed_packages(root: Path, config: Config, *snapshots: Snapshot) -> None:
    """Packages `dbt deps` installed on disk (git ignores them) into both revisions: their
    macros expand models as dbt would, their model files say which models they provide.
    Only dbt_project.yml and SQL files (not tests, seeds, …) are read."""
    from impact_check.project.loader import dbt_roots

    roots = {r for snap in snapshots for r in dbt_roots(snap.files)}
    found: dict[str, FileContent] = {}
    for project in sorted(roots):
        for folder in _PACKAGE_FOLDERS:
            base = root / project / folder
            if not base.is_dir() or base.is_symlink():
                continue
            for package in sorted(base.iterdir()):
                if package.is_dir() and (package / "dbt_project.yml").is_file():
                    _read_package(root, package, found, config.limits.max_file_bytes)
    for snap in snapshots:
        for path, content in found.items():
            snap.files.setdefault(path, content)


def _read_package(root: Path, package: Path, found: dict[str, Any], max_bytes: int) -> None:
    from impact_check.model import FileContent

    resolved = root.resolve()
    for path in [package / "dbt_project.yml", *sorted(package.rglob("*.sql"))]:
        relative = path.relative_to(package)
        if relative.parts and relative.parts[0] in _NOT_MACROS:
            continue
        try:
            real = path.resolve()
            if path.is_symlink() or resolved not in real.parents or not path.is_file():
                continue
            if path.stat().st_size > max_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        name = path.relative_to(root).as_posix()
        found[name] = FileContent(name, data)


def _schema_history(
    root: Path, base: str, changed: list[Any], head: Snapshot, config: Config
) -> dict[str, list[str]]:
    """Earlier committed versions (oldest first) of the changed message schema files whose
    subject's mode is transitive (messages/analysis.py compares with each)."""
    from impact_check.pipeline import wants_history

    out: dict[str, list[str]] = {}
    for change in changed:
        if change.status == "deleted" or not wants_history(change.path, head, config):
            continue
        old = change.old_path or change.path
        # one more than the limit, so the analysis can say versions were left out
        versions, _more = git.file_versions(
            root, base, old, config.message_schemas.max_versions + 1
        )
        out[change.path] = [v.decode("utf-8", "replace") for v in versions]
    return out


def incomplete_clone(
    base: Snapshot, head: Snapshot, changes: list[git.FileChange]
) -> tuple[list[Finding], list[Unanalyzed]]:
    """AN915 findings and `unanalyzed` entries for the files whose git objects this clone
    lacks (a partial clone whose remote is gone, an incomplete copy).

    A changed file whose base version is missing reads as unchanged (its head version
    stands in at base): otherwise its definitions would look newly added. A file missing at
    head is left to the analysis, which keeps its base definition (never "deleted") and
    reports it. Unchanged files missing on both sides are named too: what they define is
    unknown to the check.
    """
    from impact_check.rules import RULES

    findings: list[Finding] = []
    unread: list[Unanalyzed] = []
    touched: set[str] = set()
    for change in changes:
        old = change.old_path or change.path
        touched |= {old, change.path}
        before = base.files.get(old) if change.status != "added" else None
        after = head.files.get(change.path) if change.status != "deleted" else None
        if before is None or not before.missing:
            continue
        if after is not None and after.missing:
            continue  # missing at head too: the analysis reports the file at head
        if after is not None and after.data is not None:
            base.files[old] = FileContent(old, after.data, sha=after.sha)
            what = "its change is not analysed (the head version stands in at base)"
        else:
            what = "what it defined is unknown: its deletion is not analysed"
        message = f"base version of {old}: {before.reason}; {what}"
        findings.append(RULES["AN915"].finding(message, Location(change.path)))
        unread.append(Unanalyzed(change.path, f"base version: {before.reason}"))
    lost = sorted(
        {
            path
            for snap in (base, head)
            for path, content in snap.files.items()
            if content.missing and path not in touched
        }
    )
    for path in lost:
        content = head.files.get(path) or base.files[path]
        unread.append(Unanalyzed(path, content.reason or "git object missing"))
    if lost:
        shown = ", ".join(lost[:5]) + (f" (+{len(lost) - 5} more)" if len(lost) > 5 else "")
        message = (
            f"{len(lost)} unchanged file{'s are' if len(lost) != 1 else ' is'} missing from "
            f"this clone (git objects not fetched): {shown}; what they define is unknown to "
            "the check (listed under not analysed): fetch the repository in full (no --filter, "
            "or a reachable remote) to analyse them"
        )
        findings.append(RULES["AN915"].finding(message))
    return findings, unread


def _analysed(path: str, old_path: str | None, mode: str | None = None) -> bool:
    """Whether a changed file can change what the loaders read (dbt Python models and
    submodules are reported as not analysed, so they count)."""
    if mode == "160000":
        return True
    return any(p and (git.wanted(p) or p.endswith(".py")) for p in (path, old_path))


def _nothing_to_analyse(
    root: Path, revisions: Revisions, config: Config, started: float, files_changed: int
) -> tuple[Report, LineageGraph]:
    """No SQL, schema or dbt file changed: nothing can break, and nothing is parsed (this
    path never imports sqlglot)."""
    report = Report(base=revisions.base, head=revisions.head, fail_on=config.fail_on)
    report.files_changed = files_changed
    report.sources = _dbt_manifest(root, config)[1]
    report.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return report, LineageGraph()


def _source_finding(status: SourceStatus, config: Config) -> Any:
    """AN905 for a dbt manifest that could not be read (fully), like a lineage source."""
    from impact_check.analysis import source_finding

    return source_finding(
        f"dbt manifest {status.name}",
        status.status,
        status.detail,
        "relation names and compiled code come from the repository alone",
        config.on_source_error == "fail",
    )


def _context(
    root: Path, config: Config, touched: set[str], known: set[str], deadline: Any = None
) -> Any:
    from impact_check.sources.base import SourceContext

    return SourceContext(
        root=root,
        touched=touched,
        known=known,
        aliases=dict(config.aliases),
        offline=config.offline,
        use_cache=config.cache,
        cache_dir=root / ".impact-check" / "cache",
        max_response_bytes=config.limits.max_response_bytes,
        deadline=deadline,
    )


def catalog_sources(root: Path, config: Config, deadline: Any = None) -> dict[int, Any]:
    """Sources that describe relations for the catalogs (warehouses), read first.

    Keyed by their position in ``config.lineage`` so the report lists sources in order.
    """
    from impact_check.sources import CATALOG_KINDS, fetch_one

    ctx = _context(root, config, set(), set(), deadline)
    return {
        i: fetch_one(spec, ctx)
        for i, spec in enumerate(config.lineage)
        if spec.kind in CATALOG_KINDS
    }


def external_relations(prefetched: dict[int, Any]) -> dict[str, dict[str, str | None]]:
    from impact_check.sources.warehouse import external_relations as relations

    return relations(list(prefetched.values()))


def lineage_fetcher(
    root: Path, config: Config, prefetched: dict[int, Any] | None = None, deadline: Any = None
) -> Any:
    """The edge that reads the configured lineage sources, for analysis to call.

    ``prefetched`` fragments (warehouses, read before the catalogs) keep only the relations
    the repository reads: the rest of the warehouse is no part of this check.
    """
    from impact_check.identity import Matcher
    from impact_check.sources import fetch_one
    from impact_check.sources.base import GraphFragment

    ready = prefetched or {}

    def fetch(touched: set[str], known: set[str]) -> list[GraphFragment]:
        ctx = _context(root, config, touched, known, deadline)
        matcher = Matcher(known)
        out = []
        for i, spec in enumerate(config.lineage):
            fragment = ready.get(i)
            if fragment is None:
                out.append(fetch_one(spec, ctx))
                continue
            fragment.nodes = [  # and the consumers inside kept tables (Delta constraints)
                n
                for n in fragment.nodes
                if matcher.relation(n.id) in known
                or matcher.relation(str(n.attrs.get("table", ""))) in known
            ]
            out.append(fragment)
        return out

    return fetch


def _dbt_manifest(root: Path, config: Config) -> tuple[dict[str, Any] | None, list[SourceStatus]]:
    """The configured dbt manifest, if any; a failure is reported, never fatal."""
    location = config.dbt.manifest
    if not location:
        return None, []
    from impact_check.errors import SourceError
    from impact_check.project.manifest import check_manifest
    from impact_check.sources.artifacts import fetch_json

    try:
        manifest = fetch_json(
            location, root, config.dbt.token_env, max_bytes=config.limits.max_response_bytes
        )
        problem = check_manifest(manifest, location)
    except SourceError as err:
        return None, [SourceStatus(location, "dbt-manifest", "failed", str(err))]
    nodes = len(manifest.get("nodes", {})) + len(manifest.get("sources", {}))
    status = "partial" if problem else "ok"
    return manifest, [SourceStatus(location, "dbt-manifest", status, problem, nodes, 0)]


_TRAILER = re.compile(
    r"^impact-check:\s*rename\s+(\S+)\s+(?:to\s+)?(\S+)\s*$", re.IGNORECASE | re.MULTILINE
)


def declared_renames(text: str) -> dict[str, str]:
    """``impact-check: rename OLD NEW`` trailers (commit messages, PR bodies): OLD -> NEW.

    Names are relations (``raw.orders``) or columns (``raw.orders.amount`` or
    ``raw.orders#amount``; NEW may be the bare new column name).
    """
    return {old.lower(): new.lower() for old, new in _TRAILER.findall(text)}


def graph_at(root: Path, rev: str, config: Config) -> LineageGraph:
    """The lineage graph the repository defines at one revision (for trace commands)."""
    from impact_check.discover import consumer_paths
    from impact_check.graph import graph_from_catalog
    from impact_check.project.loader import load_catalog

    snapshot = git.snapshot(root, rev, extra=consumer_paths)
    return graph_from_catalog(load_catalog(snapshot, config))
