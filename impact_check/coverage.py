"""Coverage: how many of the models and views a revision defines the checker analysed, what
it left out and why, and the findings when the diff makes coverage worse.

A green check over models the checker could not read means "not looked at", so every report
says its coverage, and a drop the diff causes (a model that was analysed and no longer is,
or a new model that cannot be analysed) is an AN912 finding; a head coverage under the
configured ``coverage.minimum`` is AN913. Pure functions over catalogs: no I/O.
"""

from __future__ import annotations

from impact_check.model import Catalog, Coverage, Defined, Finding, ProjectCoverage
from impact_check.rules import RULES

LISTED = 5  # models named in a finding's message; the report's coverage lists them all


def coverage_of(catalog: Catalog) -> Coverage:
    """The catalog's coverage, per dbt project (SQL views and model files: name "")."""
    failed = _lineage_failures(catalog)
    entries = []
    for entry in catalog.defined.values():
        reason = entry.reason or failed.get(entry.name)
        entries.append(Defined(entry.name, entry.location, reason, entry.project))
    out = Coverage(
        defined=len(entries),
        analysed=sum(1 for e in entries if e.reason is None),
        not_analysed=sorted(
            (e for e in entries if e.reason is not None),
            key=lambda e: (e.project or "", e.location.file, e.name),
        ),
    )
    projects = {p.root: p for p in catalog.projects}
    roots = {e.project for e in entries} | set(projects)
    for root in sorted(roots, key=lambda r: (r is not None, r or "")):
        mine = [e for e in entries if e.project == root]
        info = projects.get(root) if root is not None else None
        out.projects.append(
            ProjectCoverage(
                name=info.name if info else "",
                root=root or "",
                defined=len(mine),
                analysed=sum(1 for e in mine if e.reason is None),
                dialect=info.dialect if info else "",
                dialect_origin=info.dialect_origin if info else "",
            )
        )
    return out


def _lineage_failures(catalog: Catalog) -> dict[str, str]:
    """Definitions whose lineage could not be traced (AN903 on them)."""
    return {
        i.target: i.message for i in catalog.issues if i.rule == "AN903" and i.target is not None
    }


def lost_by_diff(base: Coverage, head: Coverage) -> list[Defined]:
    """Models not analysed at head that were analysed at base, or are new: the coverage
    the diff lost (a model left out at both revisions is not the diff's doing)."""
    was_out = {(e.project, e.name) for e in base.not_analysed}
    return [e for e in head.not_analysed if (e.project, e.name) not in was_out]


def coverage_findings(
    base_catalog: Catalog,
    head_catalog: Catalog,
    base: Coverage,
    head: Coverage,
    minimum: float | None,
    max_drop: int,
) -> list[Finding]:
    """AN912 for models the diff left unanalysed (beyond ``max_drop``: coverage.max_drop),
    AN913 when head coverage is under ``minimum`` (coverage.minimum)."""
    out = []
    lost = [e for e in lost_by_diff(base, head) if not _syntax_error(head_catalog, e)]
    if len(lost) > max_drop:
        before = {(e.project, e.name) for e in base_catalog.defined.values()}
        new = sum(1 for e in lost if (e.project, e.name) not in before)
        plural = len(lost) != 1
        what = f"{len(lost)} model{'s' if plural else ''} or view{'s' if plural else ''}"
        detail = f", {new} of them new" if new else ""
        message = (
            f"coverage drops: {what}{detail} cannot be analysed at head, so nothing reading "
            f"{'them' if plural else 'it'} is checked: {_listing(lost)}; head coverage "
            f"{head.analysed} of {head.defined} ({head.ratio:.1%})"
        )
        files = {e.location.file for e in lost}
        location = lost[0].location if len(files) == 1 else None
        out.append(RULES["AN912"].finding(message, location))
    if minimum is not None and head.defined and head.ratio < minimum:
        message = (
            f"coverage {head.analysed} of {head.defined} models and views ({head.ratio:.1%}) "
            f"is under coverage.minimum ({minimum:.0%}); not analysed: "
            f"{_listing(head.not_analysed)}"
        )
        out.append(RULES["AN913"].finding(message))
    return out


def _syntax_error(catalog: Catalog, entry: Defined) -> bool:
    """A model whose Jinja does not parse has its own error (TB108)."""
    return any(i.rule == "TB108" and i.location.file == entry.location.file for i in catalog.issues)


def _listing(entries: list[Defined]) -> str:
    shown = "; ".join(f"{e.name} ({e.reason})" for e in entries[:LISTED])
    more = len(entries) - LISTED
    return shown + (f"; and {more} more (listed under the report's coverage)" if more > 0 else "")


__all__ = ["coverage_findings", "coverage_of", "lost_by_diff"]
