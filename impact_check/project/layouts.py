"""Migration layouts: which SQL files each framework applies, in its own order. Pure.

One detector per framework reads the repository's paths (and the few texts whose content
decides: a plan, a checksum file, a content marker) and returns the directories it
recognises, each with its forward units in order, the files it never applies and why, and
the engine the framework names when it does. project/migrations.py puts them together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_NATURAL = re.compile(r"(\d+)")


def natural_key(path: str) -> list[object]:
    """Sort key that orders digit runs numerically: V2__ before V10__."""
    return [int(part) if part.isdigit() else part.lower() for part in _NATURAL.split(path)]


@dataclass(frozen=True, slots=True)
class Unit:
    """One file (or the forward part of one) applied to the schema.

    ``framework`` is None for a plain SQL file. ``role``: ``plain`` (not in a migration
    directory), ``versioned`` (a forward migration of the sequence), ``repeatable`` (Flyway
    ``R__``), ``script`` (a one-time script inside a migration directory, or seed data) or
    ``dump`` (a schema dump). ``lines`` holds the 1-based inclusive line ranges that are
    applied (dbmate's up section); None: the whole file. ``sequence`` names the migration
    directory the unit belongs to (parallel directories may target different databases).
    """

    path: str
    framework: str | None = None
    role: str = "plain"
    lines: tuple[tuple[int, int], ...] | None = None
    sequence: str | None = None
    dialect: str | None = None  # the engine the framework's own files name, when they do

    @property
    def one_time(self) -> bool:
        """Whether its data statements run once, at this point of a sequence (not a
        recurring job read at head)."""
        return self.framework is not None


@dataclass
class Group:
    """A recognised migration directory: its forward units in order, every file it owns
    (``members``), those it never applies and why, and the engine it names."""

    root: str
    framework: str
    units: list[Unit] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)
    dialect: str | None = None


Texts = Mapping[str, "str | None"]
Dirs = dict[str, list[str]]  # directory -> its SQL files not claimed yet


# -- helpers ------------------------------------------------------------------------------


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _loose(group: Group, files: Iterable[str]) -> None:
    """Other SQL files in the directory: one-time scripts after the sequence."""
    for path in sorted(files, key=natural_key):
        if path not in group.members:
            group.members.add(path)
            group.units.append(Unit(path, group.framework, "script"))


# -- sqitch -------------------------------------------------------------------------------


def _sqitch(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for plan_path in (p for p in everything if _name(p) == "sqitch.plan"):
        top = _parent(plan_path)
        group = Group(top, "sqitch")
        prefix = {kind: _join(top, kind) + "/" for kind in ("deploy", "revert", "verify")}
        mine = [p for p in sql if any(p.startswith(v) for v in prefix.values())]
        group.members = set(mine)
        text = texts.get(plan_path)
        scripts = _sqitch_scripts(text or "", {p for p in mine if p.startswith(prefix["deploy"])})
        used = set()
        for name in scripts:
            path = prefix["deploy"] + name
            if path in group.members and path not in used:
                used.add(path)
                group.units.append(Unit(path, "sqitch", "versioned"))
        for path in mine:
            if path.startswith(prefix["revert"]):
                group.excluded[path] = "sqitch revert script"
            elif path.startswith(prefix["verify"]):
                group.excluded[path] = "sqitch verify script"
            elif path not in used:
                group.excluded[path] = "sqitch deploy script not listed in sqitch.plan"
        group.dialect = _engine(texts.get(_join(top, "sqitch.conf")), _SQITCH_ENGINE, _SQITCH)
        groups.append(group)
    return groups


_SQITCH = {
    "pg": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "snowflake": "snowflake",
    "oracle": "oracle",
    "exasol": "exasol",
    "vertica": "postgres",
    "cockroach": "postgres",
}
_SQITCH_ENGINE = re.compile(r"^\s*engine\s*=\s*(\w+)", re.MULTILINE)
_PRISMA = {
    "postgresql": "postgres",
    "cockroachdb": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "sqlserver": "tsql",
}
_PRISMA_PROVIDER = re.compile(r"^\s*provider\s*=\s*\"(\w+)\"", re.MULTILINE)


# words in a migration directory's path that name its engine (conductor's
# `mysql-persistence/…/db/migration`, harbor's `make/migrations/postgresql`)
_PATH_ENGINES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "cockroach": "postgres",
    "cockroachdb": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "oracle": "oracle",
    "clickhouse": "clickhouse",
}
_PATH_WORDS = re.compile(r"[a-z0-9]+")


def path_engine(directory: str) -> str | None:
    """The one engine the words of a directory's path name (``mysql-persistence``), or None
    when they name none or several."""
    named = {_PATH_ENGINES[w] for w in _PATH_WORDS.findall(directory.lower()) if w in _PATH_ENGINES}
    return named.pop() if len(named) == 1 else None


def _engine(text: str | None, pattern: re.Pattern[str], names: Mapping[str, str]) -> str | None:
    """The sqlglot dialect a framework's config file names (sqitch.conf, migration_lock.toml)."""
    match = pattern.search(text or "")
    return names.get(match.group(1).lower()) if match else None


def _sqitch_scripts(text: str, deploy: set[str]) -> list[str]:
    """Deploy script names (relative to deploy/) in plan order, reworked changes resolved."""
    entries: list[tuple[str, str]] = []  # ("change" | "tag", name)
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("%", "#", "-")):
            continue  # pragmas, comments, old-style revert entries
        token = re.split(r"[\s\[]", line.lstrip("+"), maxsplit=1)[0]
        if token.startswith("@"):
            entries.append(("tag", token[1:]))
        elif token:
            entries.append(("change", token))
    names = []
    for i, (kind, name) in enumerate(entries):
        if kind != "change":
            continue
        later = next(
            (j for j in range(i + 1, len(entries)) if entries[j] == ("change", name)), None
        )
        if later is None:
            names.append(f"{name}.sql")
            continue
        tags = [t for k, t in entries[i + 1 : later] if k == "tag"]
        # sqitch picks the first tag between the instances whose script exists
        found = [t for t in tags if any(d.endswith(f"/{name}@{t}.sql") for d in deploy)]
        names.append(f"{name}@{(found or tags or [''])[0]}.sql")
    return names


# -- Atlas --------------------------------------------------------------------------------


def _atlas(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for sum_path in (p for p in everything if _name(p) == "atlas.sum"):
        root = _parent(sum_path)
        files = dirs.get(root, [])
        group = Group(root, "atlas", members=set(files))
        listed = []
        for line in (texts.get(sum_path) or "").splitlines()[1:]:
            name = line.split(" ", 1)[0].strip()
            if name.endswith(".sql"):
                listed.append(_join(root, name))
        for path in listed:
            if path in group.members:
                group.units.append(Unit(path, "atlas", "versioned"))
        seen = set(listed)
        for path in sorted(files, key=_name):
            if path in seen:
                continue
            if path.endswith(".down.sql"):
                group.excluded[path] = "down migration (not in atlas.sum)"
            else:  # not hashed yet (`atlas migrate hash`): still what the author means
                group.units.append(Unit(path, "atlas", "versioned"))
        groups.append(group)
    return groups


# -- Diesel and Prisma: one folder per migration ------------------------------------------

_DIESEL_VERSION = re.compile(r"^[\d-]+$")


def _diesel(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    return _folder_groups(sql, "diesel", "up.sql", _diesel_key)


def _diesel_key(folder: str) -> tuple[object, ...]:
    # diesel_migrations: the version is the name up to the first `_`, dashes removed,
    # compared as text
    return (folder.split("_", 1)[0].replace("-", ""), folder)


def _prisma(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = _folder_groups(sql, "prisma", "migration.sql", lambda folder: (folder,))
    for group in groups:
        lock = texts.get(_join(group.root, "migration_lock.toml"))
        group.dialect = _engine(lock, _PRISMA_PROVIDER, _PRISMA)
    return groups


def _folder_groups(
    sql: list[str], framework: str, script: str, key: Callable[[str], tuple[object, ...]]
) -> list[Group]:
    """Directories whose sub-folders hold ``script`` and are named ``<version>_…``."""
    folders: dict[str, list[str]] = {}  # migrations directory -> migration folders
    for path in sql:
        if _name(path) == script:
            folder = _parent(path)
            folders.setdefault(_parent(folder), []).append(_name(folder))
    groups = []
    for root, names in folders.items():
        if not any(_DIESEL_VERSION.match(n.split("_", 1)[0]) for n in names if "_" in n):
            continue
        group = Group(root, framework)
        for name in sorted(set(names), key=key):
            path = _join(_join(root, name), script)
            group.units.append(Unit(path, framework, "versioned"))
            group.members.add(path)
        migration_folders = {_join(root, n) for n in names}
        for path in sql:
            if path not in group.members and _parent(path) in migration_folders:
                group.members.add(path)
                group.excluded[path] = (
                    "Diesel down migration"
                    if _name(path) == "down.sql"
                    else f"not run by {framework} (only {script} is)"
                )
        _loose(group, [p for p in sql if _parent(p) == root])
        groups.append(group)
    return groups


# -- Supabase -----------------------------------------------------------------------------

_TIMESTAMPED = re.compile(r"^(\d+)_.*\.sql$")


def _supabase(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for root, files in dirs.items():
        if not (root == "supabase/migrations" or root.endswith("/supabase/migrations")):
            continue
        group = Group(root, "supabase", members=set(files), dialect="postgres")
        for path in sorted(files, key=_name):
            if _TIMESTAMPED.match(_name(path)):
                group.units.append(Unit(path, "supabase", "versioned"))
            else:
                group.excluded[path] = "skipped by Supabase (not named <timestamp>_name.sql)"
        seed = _join(_parent(root), "seed.sql")
        if seed in sql:
            group.members.add(seed)
            group.units.append(Unit(seed, "supabase", "script"))
        groups.append(group)
    return groups


# -- golang-migrate -----------------------------------------------------------------------

_GOLANG = re.compile(r"^(\d+)_.*\.(up|down)\.sql$")
# gobuffalo pop (fizz): <version>_<name>.<dialect>.up.sql, one variant per engine
POP_DIALECTS = ("postgres", "cockroach", "mysql", "sqlite3", "sqlite", "mssql")
_POP = re.compile(r"^\d+_.*\.(" + "|".join(POP_DIALECTS) + r")\.(?:up|down)\.sql$")


def _golang_migrate(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for root, files in dirs.items():
        matched = {p: _GOLANG.match(_name(p)) for p in files}
        if not any(matched.values()):
            continue
        group = Group(root, "golang-migrate")
        ups = []
        for path, match in matched.items():
            if match is None:
                continue
            group.members.add(path)
            if match.group(2) == "down":
                group.excluded[path] = "golang-migrate down migration"
            else:
                ups.append((int(match.group(1)), _name(path), path))
        group.units = [Unit(p, "golang-migrate", "versioned") for *_, p in sorted(ups)]
        _loose(group, files)
        groups.append(group)
    return groups


_POP_SQLGLOT = {"cockroach": "postgres", "sqlite3": "sqlite", "mssql": "tsql"}


def file_engine(path: str) -> str | None:
    """The sqlglot dialect a pop-style file name names (``…_x.mysql.up.sql``): its SQL is
    that engine's, whichever engine the sequence applies."""
    match = _POP.match(_name(path))
    return _POP_SQLGLOT.get(match.group(1), match.group(1)) if match else None


def pop_engine(units: Sequence[Unit], configured: str | None) -> str | None:
    """The engine whose pop variants a sequence applies: the configured dialect when some
    variant names it (``sqlite`` also takes ``sqlite3``, ``tsql`` takes ``mssql``), else
    ``postgres``, else the first in POP_DIALECTS a variant names; None: no pop variants."""
    named = {m.group(1) for u in units if (m := _POP.match(_name(u.path)))}
    wanted = {"sqlite": ("sqlite3", "sqlite"), "tsql": ("mssql",)}.get(
        configured or "", (configured,) if configured else ()
    )
    for engine in (*wanted, "postgres", *POP_DIALECTS):
        if engine in named:
            return engine
    return None


def choose_pop_variants(group: Group, configured: str | None) -> None:
    """Keep one engine's variant of each pop migration (pop runs one database): the others,
    and the migrations only another engine has, are excluded. Files without a dialect
    suffix apply to every engine."""
    engine = pop_engine(group.units, configured)
    if engine is None:
        return
    kept = []
    for unit in group.units:
        match = _POP.match(_name(unit.path))
        if match is None or match.group(1) == engine:
            kept.append(unit)
        else:
            group.excluded[unit.path] = f"pop variant for {match.group(1)}, another engine"
    group.units = kept


# -- dbmate -------------------------------------------------------------------------------

_DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b", re.MULTILINE)
_DBMATE_MARK = re.compile(r"^\s*--\s*migrate:(up|down)\b")
_DBMATE_DUMP = "-- Dbmate schema migrations"
_LEADING_DIGITS = re.compile(r"^(\d+)")


def _dbmate(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for root, files in dirs.items():
        sections = {}
        for path in files:
            text = texts.get(path)
            if text and "migrate:up" in text and _DBMATE_UP.search(text):
                sections[path] = _up_section(text)
        if not sections:
            continue
        group = Group(root, "dbmate", members=set(sections))
        for path in sorted(sections, key=_dbmate_key):
            group.units.append(Unit(path, "dbmate", "versioned", sections[path]))
        _loose(group, files)
        dump = _join(_parent(root), "schema.sql")
        if dump in sql and _DBMATE_DUMP in (texts.get(dump) or ""):
            group.members.add(dump)
            group.excluded[dump] = "dbmate schema dump (written from the migrations)"
        groups.append(group)
    return groups


def _dbmate_key(path: str) -> tuple[int, str]:
    match = _LEADING_DIGITS.match(_name(path))
    return (int(match.group(1)) if match else -1, _name(path))


def _up_section(text: str) -> tuple[tuple[int, int], ...]:
    """Line ranges after each ``-- migrate:up`` up to the next ``-- migrate:down``."""
    ranges = []
    start = None
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        mark = _DBMATE_MARK.match(line)
        if mark is None:
            continue
        if start is not None:
            ranges.append((start, number - 1))
        start = number + 1 if mark.group(1) == "up" else None
    if start is not None:
        ranges.append((start, len(lines)))
    return tuple((a, b) for a, b in ranges if a <= b)


# -- Liquibase formatted SQL --------------------------------------------------------------

_LIQUIBASE = re.compile(r"\A\s*--\s*liquibase\s+formatted\s+sql\b", re.IGNORECASE)


def _liquibase(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for root, files in dirs.items():
        mine = [p for p in files if _LIQUIBASE.match(texts.get(p) or "")]
        if not mine:
            continue
        group = Group(root, "liquibase", members=set(mine))
        # the changelog's own order (an XML/YAML master's includes) is not read: path order
        group.units = [Unit(p, "liquibase", "versioned") for p in sorted(mine, key=natural_key)]
        groups.append(group)
    return groups


# -- Flyway -------------------------------------------------------------------------------

_FLYWAY = re.compile(r"^([VUB])(\d+(?:[._]\d+)*)__(.+)\.sql$|^R__(.+)\.sql$")
_FLYWAY_CALLBACK = re.compile(
    r"^(before|after)(Each)?(Migrate|Clean|Validate|Baseline|Repair|Info|Undo|Connect)"
    r"(Statement|Applied|Error|OperationFinish)?\w*\.sql$"
)


def _flyway(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for root, files in dirs.items():
        matched = {p: _FLYWAY.match(_name(p)) for p in files}
        versioned = {p: m for p, m in matched.items() if m and m.group(1) == "V"}
        if not versioned:
            continue
        group = Group(root, "flyway")
        lowest = min(_flyway_version(m.group(2)) for m in versioned.values())
        ordered: list[tuple[tuple[int, ...], str, str]] = []
        repeatable: list[tuple[str, str]] = []
        for path, match in matched.items():
            if match is None:
                if _FLYWAY_CALLBACK.match(_name(path)):
                    group.members.add(path)
                    group.excluded[path] = "Flyway callback"
                continue
            group.members.add(path)
            kind = match.group(1)
            if kind is None:
                repeatable.append((match.group(4).replace("_", " "), path))
            elif kind == "U":
                group.excluded[path] = "Flyway undo migration"
            elif kind == "B" and _flyway_version(match.group(2)) >= lowest:
                group.excluded[path] = "Flyway baseline (the versioned migrations it stands "
                group.excluded[path] += "for are applied instead)"
            else:
                ordered.append((_flyway_version(match.group(2)), _name(path), path))
        group.units = [Unit(p, "flyway", "versioned") for *_, p in sorted(ordered)]
        # repeatables run after every versioned migration, in description order
        group.units += [Unit(p, "flyway", "repeatable") for _, p in sorted(repeatable)]
        _loose(group, files)
        groups.append(group)
    return groups


def _flyway_version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:  # 1.0 is version 1
        parts.pop()
    return tuple(parts)


# -- Rails --------------------------------------------------------------------------------


def _rails(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    groups = []
    for path in sql:
        if _parent(path).split("/")[-1] == "db" and _name(path).endswith("structure.sql"):
            head = (texts.get(path) or "")[:2000]
            dialect = "postgres" if "pg_catalog" in head or "statement_timeout" in head else None
            unit = Unit(path, "rails", "dump")
            groups.append(Group(_parent(path), "rails", [unit], members={path}, dialect=dialect))
    return groups


# -- numbered files in a migrations folder -------------------------------------------------

_NUMBERED = re.compile(r"^\d+[_\-.]")


def _numbered(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    """A home-grown sequence: numbered SQL files (``01_init.sql``, ``0002-keys.sql``) in a
    folder named for migrations, applied in number order (what no framework claimed)."""
    groups = []
    for root, files in dirs.items():
        if "migration" not in _name(root).lower():
            continue
        numbered = sorted((p for p in files if _NUMBERED.match(_name(p))), key=natural_key)
        if len(numbered) < 2:
            continue
        group = Group(root, "numbered", members=set(numbered))
        group.units = [Unit(p, "numbered", "versioned") for p in numbered]
        _loose(group, files)
        groups.append(group)
    return groups


# -- pgTAP tests --------------------------------------------------------------------------

_TEST_DIRS = {"test", "tests", "t", "pgtap", "spec"}
_PGTAP = re.compile(
    r"\bCREATE\s+EXTENSION\b[^;]*\bpgtap\b|\bSELECT\s+(?:\*\s+FROM\s+)?(?:no_)?plan\s*\(",
    re.I,
)


def _pgtap(everything: list[str], sql: list[str], dirs: Dirs, texts: Texts) -> list[Group]:
    """pgTAP test files (``CREATE EXTENSION pgtap``, ``SELECT plan(n)``) in a test folder:
    they run assertions against a deployed schema and build none of it (read as schema,
    one repository's tests gave 400 parse warnings per commit: psql's ``\\set``)."""
    groups = []
    for root, files in dirs.items():
        if not _TEST_DIRS & set(root.lower().split("/")):
            continue
        tests = {p for p in files if _PGTAP.search((texts.get(p) or "")[:5000])}
        if tests:
            excluded = dict.fromkeys(sorted(tests), "pgTAP test (asserts on the schema)")
            groups.append(Group(root, "pgtap", excluded=excluded, members=tests))
    return groups


Detector = Callable[[list[str], list[str], Dirs, Texts], list[Group]]
# The order decides when layouts overlap: a dump by its name, a plan or checksum file names
# its files outright;
# folder layouts before file-name patterns; content markers before Flyway's V prefix.
DETECTORS: Sequence[Detector] = (
    _pgtap,
    _rails,
    _sqitch,
    _atlas,
    _diesel,
    _prisma,
    _supabase,
    _golang_migrate,
    _dbmate,
    _liquibase,
    _flyway,
    _numbered,
)


__all__ = [
    "DETECTORS",
    "POP_DIALECTS",
    "Dirs",
    "Group",
    "Texts",
    "Unit",
    "choose_pop_variants",
    "file_engine",
    "natural_key",
    "path_engine",
    "pop_engine",
]
