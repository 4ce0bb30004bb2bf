"""Migration frameworks: which SQL files build the schema, and in what order.

Pure: repository paths (and the texts of the few files whose content decides) in, the
forward units in the order the framework applies them out. No I/O, no caching.

A repository may hold several migration directories and plain SQL files. Each recognised
directory is one sequence, applied in the framework's own order at the place its first
file takes in natural path order; every other ``.sql`` file keeps natural path order
(``V2`` before ``V10``). Down, undo, revert and verify scripts never build the schema, nor
does a migration directory under a test folder (``src/test/``, ``testdata/``, ``fixtures/``)
when a directory outside test folders holds the application's history.

Recognised layouts (docs/migrations.md):

- Flyway: ``V<version>__<desc>.sql`` by version, then ``R__<desc>.sql`` repeatables by
  description; ``U`` undo scripts and callbacks excluded.
- Diesel: ``<dir>/<version>_<name>/up.sql`` by version (dashes removed, compared as text);
  ``down.sql`` excluded.
- golang-migrate: ``<version>_<name>.up.sql`` by numeric version; ``.down.sql`` excluded.
  gobuffalo pop's ``<version>_<name>.<dialect>.up.sql`` variants: one engine's applied
  (layouts.pop_engine), the others excluded.
- dbmate: files with a ``-- migrate:up`` line, by version; only the up section is applied.
- sqitch: ``sqitch.plan`` order, ``deploy/<change>.sql`` (a reworked change's earlier
  instances ``deploy/<change>@<tag>.sql``); ``revert/`` and ``verify/`` excluded.
- Prisma: ``<dir>/<timestamp>_<name>/migration.sql`` in folder-name order.
- Liquibase formatted SQL: files starting ``--liquibase formatted sql``, in path order
  (``--rollback`` lines are comments: never applied).
- Atlas: the files a directory's ``atlas.sum`` lists, in its order.
- Supabase: ``supabase/migrations/<timestamp>_<name>.sql`` by name; ``supabase/seed.sql``
  after them, as a one-time script.
- Rails: ``db/structure.sql`` (a schema dump: the whole schema at that revision).

A schema dump beside a recognised migration directory (``schema.sql``, ``structure.sql``,
``init.sql``… in the directory, its parent or, alone there, its grandparent) that creates a
relation the directory's migrations also create is the same database built another way
(project/dumps.py): the dump builds the schema, and the directory's forward units are a
sequence checked in a state of their own (``Plan.checked``), never applied on top of it.
One schema dumped for several engines in one folder (``postgres_dump.sql``,
``mysql_dump.sql``) is read once, in one engine's dump.

Other ``.sql`` files inside a recognised directory (a hand-run data fix next to Diesel
folders) are one-time scripts, applied after the directory's sequence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from impact_check.project.layouts import (
    DETECTORS,
    Group,
    Texts,
    Unit,
    choose_pop_variants,
    file_engine,
    natural_key,
    path_engine,
)


@dataclass
class Plan:
    """The forward units in order, and the SQL files that build nothing, with why."""

    units: list[Unit] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    sequences: dict[str, str] = field(default_factory=dict)  # directory -> framework
    # sequences paired with a schema dump: each applied in a state of its own, for its own
    # deploy checks (TB109/TB110), never into the schema the dump builds
    checked: list[list[Unit]] = field(default_factory=list)
    paired: dict[str, str] = field(default_factory=dict)  # migration directory -> its dump


def plan(paths: Iterable[str], texts: Texts, dialect: str | None = None) -> Plan:
    """The forward units of a revision, in application order.

    ``paths`` are the repository files the loader may read (``.sql`` files and the
    frameworks' own files: ``sqitch.plan``, ``sqitch.conf``, ``atlas.sum``,
    ``migration_lock.toml``); ``texts`` gives the decoded text of any of them on request
    (None when it cannot be read), and is asked only for the files whose content decides.
    ``dialect``: the configured one, which picks the engine of pop's per-dialect variants.
    """
    # imported here: a warm run reuses the cached plan (project/dumps.py is never needed)
    from impact_check.project.dumps import engine_dumps, pair_dumps

    everything = sorted(set(paths), key=natural_key)
    sql = [p for p in everything if p.endswith(".sql")]
    parents = {p: p.rpartition("/")[0] for p in sql}
    groups: list[Group] = []
    claimed: set[str] = set()
    for detect in DETECTORS:
        unclaimed = [p for p in sql if p not in claimed]
        dirs: dict[str, list[str]] = {}
        for path in unclaimed:
            dirs.setdefault(parents[path], []).append(path)
        for group in detect(everything, unclaimed, dirs, texts):
            if group.framework == "golang-migrate":
                choose_pop_variants(group, dialect)
            if group.dialect is None and dialect is None:
                # no configuration, and the framework names none: the directory's path may
                group.dialect = path_engine(group.root)
            groups.append(group)
            claimed |= group.members
    copies = _test_copies(groups)
    groups = [group for group in groups if group not in copies]
    out = Plan()
    pairs = pair_dumps(groups, sql, texts)
    paired = [group for group in groups if group.root in pairs.sequences]
    groups = [group for group in groups if group.root not in pairs.sequences]
    groups.extend(pairs.dump_groups)
    owner = {path: group for group in groups for path in group.members}
    unused = {path for group in copies for path in group.members}
    unused |= {path for group in paired for path in group.members}
    unused -= set(pairs.dumps)
    per_engine, other_engines = engine_dumps([p for p in sql if p not in owner], dialect)
    unused |= set(other_engines)
    emitted: set[int] = set()
    for path in sql:
        mine = owner.get(path)
        if path in unused:
            continue
        if mine is None:
            # no framework: the engine its dump names, else (nothing configured) its path's
            engine = per_engine.get(path) or (None if dialect else path_engine(parents[path]))
            out.units.append(Unit(path, dialect=engine))
        elif id(mine) not in emitted:
            emitted.add(id(mine))
            out.units.extend(
                replace(u, sequence=mine.root, dialect=file_engine(u.path) or mine.dialect)
                for u in mine.units
            )
    named = {group.dialect for group in groups if group.units and group.dialect}
    if len(named) == 1:
        # the repository's other SQL (queries next to sqitch or Supabase migrations) is for
        # the one engine its migrations name
        engine = named.pop()
        out.units = [u if u.dialect else replace(u, dialect=engine) for u in out.units]
    for group in groups:
        out.excluded.update(group.excluded)
        out.sequences[group.root] = group.framework
    for group in copies:
        why = f"{group.framework} migrations kept for tests (another directory builds the schema)"
        out.excluded.update(dict.fromkeys(sorted(group.members), why))
    for group in paired:
        out.sequences[group.root] = group.framework
        out.excluded.update(group.excluded)
        units = [u for u in group.units if u.path not in pairs.dumps]
        out.checked.append([replace(u, sequence=group.root, dialect=group.dialect) for u in units])
    out.paired = dict(pairs.sequences)
    out.excluded.update(other_engines)
    return out


# path segments of test fixtures: a migration directory under one is a copy of (part of)
# a schema history kept for the tests (src/test/resources/db/changelog, tools/migrate/
# testdata/...), which builds a test database, not the one the application deploys
_TEST_SEGMENTS = {"test", "tests", "testdata", "test-data", "test_data", "fixtures", "__tests__"}


def _test_copies(groups: list[Group]) -> list[Group]:
    """The migration directories under test fixtures, when another directory outside them
    holds a migration history (alone, a test directory's migrations are all there is)."""
    histories = [g for g in groups if g.units]  # not pgTAP tests: they build nothing
    copies = [g for g in histories if _TEST_SEGMENTS & set(g.root.lower().split("/"))]
    return copies if len(copies) < len(histories) else []


def forward_text(text: str, lines: tuple[tuple[int, int], ...] | None) -> str:
    """``text`` with every line outside ``lines`` blanked (line numbers are kept)."""
    if lines is None:
        return text
    kept = text.split("\n")
    return "\n".join(
        line if any(a <= n <= b for a, b in lines) else "" for n, line in enumerate(kept, 1)
    )


__all__ = ["Plan", "Unit", "forward_text", "natural_key", "plan"]
