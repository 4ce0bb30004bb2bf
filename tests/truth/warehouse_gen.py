"""Seeded random warehouses with random changes, for the execution-truth tests.

A scenario is a repository at base (``migrations/V1__init.sql``, ``views/NN_*.sql``,
``transforms/01_load.sql``) and the same repository at head after one or two changes. Every view
file holds one statement; file names sort in build order. The SQL is valid in DuckDB and
PostgreSQL alike (materialized views only for PostgreSQL).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TYPES = {
    "int": "INTEGER",
    "big": "BIGINT",
    "text": "VARCHAR",
    "short": "VARCHAR(20)",
    "num": "NUMERIC(10, 2)",
    "date": "DATE",
    "ts": "TIMESTAMP",
    "bool": "BOOLEAN",
}
NUMERIC = {"int", "big", "num"}
WORDS = [
    "amount",
    "qty",
    "price",
    "score",
    "label",
    "code",
    "status",
    "created",
    "updated",
    "flag",
    "region",
    "note",
    "weight",
    "total",
    "rank",
    "kind",
    "city",
    "level",
]
COMPATIBLE = {"int": "big", "short": "text", "num": "num_wide", "date": "ts"}
INCOMPATIBLE = {
    "int": "text",
    "big": "text",
    "num": "text",
    "date": "text",
    "ts": "text",
    "bool": "text",
}
TYPES["num_wide"] = "NUMERIC(14, 2)"
# Nested columns (DuckDB): a struct and a list of structs, with the variants the changes
# make of them (a field dropped, renamed or added).
STRUCT_FIELDS = {
    "rec": {"a": "INTEGER", "b": "VARCHAR"},
    "rec_a": {"a": "INTEGER"},
    "rec_b": {"b": "VARCHAR"},
    "rec_a2": {"a2": "INTEGER", "b": "VARCHAR"},
    "rec_b2": {"a": "INTEGER", "b2": "VARCHAR"},
    "rec_abc": {"a": "INTEGER", "b": "VARCHAR", "c": "INTEGER"},
}
for _key, _fields in STRUCT_FIELDS.items():
    _struct = "STRUCT(" + ", ".join(f"{f} {t}" for f, t in _fields.items()) + ")"
    TYPES[_key] = _struct
    TYPES["recs" + _key[3:]] = _struct + "[]"
NESTED = {k for k in TYPES if k.startswith("rec")}
FIELD_DROPS = {"rec": ["rec_a", "rec_b"], "recs": ["recs_a", "recs_b"]}
FIELD_RENAMES = {"rec": ["rec_a2", "rec_b2"], "recs": ["recs_a2", "recs_b2"]}
FIELD_ADDS = {"rec": "rec_abc", "recs": "recs_abc"}


@dataclass
class Relation:
    name: str
    columns: dict[str, str]  # column -> type key (the type of a derived column is a guess)
    # columns named by the engine (an unaliased count(*)…): how a reader refers to them
    engine_named: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    """A base and a head repository (path -> text; a path missing at head is deleted)."""

    base: dict[str, str]
    head: dict[str, str]
    description: str
    kinds: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, rng: random.Random, dialect: str) -> None:
        self.rng = rng
        self.dialect = dialect
        self.tables: list[Relation] = []
        self.views: list[Relation] = []
        self.files: dict[str, str] = {}
        self.engine_named: list[str] = []  # set by the template of the view being made
        self.touched: set[tuple[str, str]] = set()  # nested columns a change already edited

    # -- tables ------------------------------------------------------------------------

    def make_tables(self) -> None:
        for i in range(self.rng.randint(3, 5)):
            cols = {"id": "int", "ref_id": "int"}
            for word in self.rng.sample(WORDS, self.rng.randint(2, 5)):
                cols[word] = self.rng.choice([*INCOMPATIBLE, "short", "num", "num"])
            if self.dialect == "duckdb":
                if self.rng.random() < 0.4:
                    cols["info"] = "rec"
                if self.rng.random() < 0.3:
                    cols["items"] = "recs"
            self.tables.append(Relation(f"raw.t{i}", cols))

    def table_sql(self, rel: Relation, types: dict[str, str] | None = None) -> str:
        types = types or rel.columns
        lines = [
            f"  {c} {TYPES[types[c]]}{' PRIMARY KEY' if c == 'id' else ''}" for c in rel.columns
        ]
        return f"CREATE TABLE {rel.name} (\n" + ",\n".join(lines) + "\n);\n"

    def init_sql(self, tables: list[Relation]) -> str:
        parts = ["CREATE SCHEMA raw;\n", "CREATE SCHEMA analytics;\n"]
        parts += [self.table_sql(t) for t in tables]
        return "".join(parts)

    # -- views -------------------------------------------------------------------------

    def sources(self) -> list[Relation]:
        return self.tables + self.views

    def cols_of(self, rel: Relation, kinds: set[str] | None = None) -> list[str]:
        """Columns of the kinds asked for (any scalar kind when None: nested columns only
        where a template asks for them)."""
        return [
            c for c, t in rel.columns.items() if (t not in NESTED if kinds is None else t in kinds)
        ]

    def pick(self, rel: Relation, n: int = 1, kinds: set[str] | None = None) -> list[str]:
        cols = [c for c in self.cols_of(rel, kinds) if c != "id"]
        return self.rng.sample(cols, min(n, len(cols))) if cols else []

    def make_views(self) -> None:
        for i in range(self.rng.randint(5, 9)):
            name = f"analytics.v{i}"
            sql, cols = self.view(name)
            self.views.append(Relation(name, cols, self.engine_named))
            self.files[f"views/{i:02d}_v{i}.sql"] = sql
        if self.rng.random() < 0.5:
            self.files["transforms/01_load.sql"] = self.load()

    def view(self, name: str, template: str | None = None) -> tuple[str, dict[str, str]]:
        templates = [
            "project",
            "join_on",
            "join_using",
            "aggregate",
            "cte",
            "union",
            "exists",
            "scalar",
            "window",
            "star",
            "named",
            "ctas",
            "arith",
            "quoted",
        ]
        templates += ["unnamed", "reads_unnamed"]
        if self.dialect == "postgres":
            templates.append("matview")
        if self.dialect == "duckdb":
            templates += ["field", "unnest_field", "pivot", "pivot_statement", "unpivot"]
        template = template or self.rng.choice(templates)
        self.engine_named = []
        body, cols = getattr(self, f"_{template}")()
        if template == "ctas":
            return f"CREATE TABLE {name} AS\n{body};\n", cols
        if template == "matview":
            return f"CREATE MATERIALIZED VIEW {name} AS\n{body};\n", cols
        return f"CREATE VIEW {name} AS\n{body};\n", cols

    def _rel(self, needs: tuple[str, ...] = ("id",)) -> Relation:
        """A table or earlier view that has the columns a template needs."""
        fitting = [r for r in self.sources() if all(c in r.columns for c in needs)]
        return self.rng.choice(fitting or self.tables)

    def _table(self) -> Relation:
        return self.rng.choice(self.tables)

    def _project(self) -> tuple[str, dict[str, str]]:
        r = self._rel()
        cols = ["id", *self.pick(r, 2)]
        num = self.pick(r, 1, NUMERIC)
        where = f"\nWHERE {num[0]} > 5" if num else ""
        return (f"SELECT {', '.join(cols)}\nFROM {r.name}{where}", {c: r.columns[c] for c in cols})

    def _join_on(self) -> tuple[str, dict[str, str]]:
        a, b = self._rel(("id", "ref_id")), self._table()
        ca, cb = self.pick(a, 1), self.pick(b, 1)
        cols = {"id": "int"}
        sel = ["a.id"]
        for alias, rel, picked in (("a", a, ca), ("b", b, cb)):
            for c in picked:
                out = f"{alias}_{c}"
                sel.append(f"{alias}.{c} AS {out}")
                cols[out] = rel.columns[c]
        join = self.rng.choice(["JOIN", "LEFT JOIN"])
        return (
            f"SELECT {', '.join(sel)}\nFROM {a.name} AS a\n{join} {b.name} AS b ON a.ref_id = b.id",
            cols,
        )

    def _join_using(self) -> tuple[str, dict[str, str]]:
        a, b = self._table(), self._rel()
        ca, cb = self.pick(a, 1), [c for c in self.pick(b, 1) if c not in a.columns]
        sel = ["id"] + [f"a.{c}" for c in ca] + [f"b.{c}" for c in cb]
        cols = {"id": "int", **{c: a.columns[c] for c in ca}, **{c: b.columns[c] for c in cb}}
        return f"SELECT {', '.join(sel)}\nFROM {a.name} AS a\nJOIN {b.name} AS b USING (id)", cols

    def _aggregate(self) -> tuple[str, dict[str, str]]:
        r = self._rel(("ref_id",))
        num = self.pick(r, 1, NUMERIC)
        agg = f"SUM({num[0]}) AS total_{num[0]}, " if num else ""
        cols = {"ref_id": "int", "n": "big"}
        if num:
            cols[f"total_{num[0]}"] = "num"
        group = "ref_id" if "ref_id" in r.columns else "id"
        if group == "id":
            cols = {"id": "int", **{k: v for k, v in cols.items() if k != "ref_id"}}
        return (
            f"SELECT {group}, {agg}COUNT(*) AS n\nFROM {r.name}\nGROUP BY {group}\n"
            f"HAVING COUNT(*) > 0",
            cols,
        )

    def _cte(self) -> tuple[str, dict[str, str]]:
        r = self._rel()
        picked = self.pick(r, 2)
        first = ", ".join(["id", *picked])
        cols = {"id": "int", **{c: r.columns[c] for c in picked}}
        return (
            f"WITH base AS (\n  SELECT {first} FROM {r.name}\n),\n"
            f"kept AS (\n  SELECT * FROM base WHERE id IS NOT NULL\n)\nSELECT * FROM kept",
            cols,
        )

    def _union(self) -> tuple[str, dict[str, str]]:
        a, b = self._rel(), self._rel()
        ta = self.pick(a, 1, {"text", "short"})
        tb = self.pick(b, 1, {"text", "short"})
        if not ta or not tb:
            return self._project()
        return (
            f"SELECT id, {ta[0]} AS label FROM {a.name}\nUNION ALL\n"
            f"SELECT id, {tb[0]} FROM {b.name}",
            {"id": "int", "label": "text"},
        )

    def _exists(self) -> tuple[str, dict[str, str]]:
        a, b = self._rel(), self._table()
        ca = self.pick(a, 2)
        sel = ", ".join(["a.id", *[f"a.{c}" for c in ca]])
        return (
            f"SELECT {sel}\nFROM {a.name} AS a\nWHERE EXISTS (\n  SELECT 1 FROM {b.name} AS b"
            f" WHERE b.id = a.ref_id\n)"
            if "ref_id" in a.columns
            else f"SELECT {sel}\nFROM {a.name} AS a\nWHERE EXISTS (\n  SELECT 1 FROM {b.name} AS b"
            f" WHERE b.id = a.id\n)",
            {"id": "int", **{c: a.columns[c] for c in ca}},
        )

    def _scalar(self) -> tuple[str, dict[str, str]]:
        a, b = self._table(), self._table()
        cb = self.pick(b, 1, set(TYPES) - {"bool"})  # PostgreSQL has no MAX(boolean)
        if not cb:
            return self._project()
        return (
            f"SELECT a.id,\n  (SELECT MAX(b.{cb[0]}) FROM {b.name} AS b WHERE b.id = a.ref_id)"
            f" AS max_{cb[0]}\nFROM {a.name} AS a",
            {"id": "int", f"max_{cb[0]}": b.columns[cb[0]]},
        )

    def _window(self) -> tuple[str, dict[str, str]]:
        r = self._table()
        c = self.pick(r, 1)
        order = self.pick(r, 1) or ["id"]
        return (
            f"SELECT id, {', '.join(c) + ', ' if c else ''}ROW_NUMBER() OVER ("
            f"PARTITION BY ref_id ORDER BY {order[0]}) AS rn\nFROM {r.name}",
            {"id": "int", **{x: r.columns[x] for x in c}, "rn": "big"},
        )

    def _star(self) -> tuple[str, dict[str, str]]:
        r = self._rel()
        return f"SELECT *\nFROM {r.name}", dict(r.columns)

    def _named(self) -> tuple[str, dict[str, str]]:
        if not self.views:
            return self._star()
        r = self.rng.choice(self.views)
        cols = (
            list(dict.fromkeys(["id", *self.pick(r, 2)]))
            if "id" in r.columns
            else (self.pick(r, 2) or list(r.columns)[:1])
        )
        return f"SELECT {', '.join(cols)}\nFROM {r.name}", {c: r.columns[c] for c in cols}

    def _ctas(self) -> tuple[str, dict[str, str]]:
        return self.rng.choice([self._project, self._join_on, self._aggregate])()

    def _matview(self) -> tuple[str, dict[str, str]]:
        return self.rng.choice([self._project, self._aggregate])()

    def _arith(self) -> tuple[str, dict[str, str]]:
        r = self._rel()
        num = self.pick(r, 1, NUMERIC)
        if not num:
            return self._project()
        return (
            f"SELECT id, {num[0]} * 2 AS doubled, {num[0]} + 1 AS plus_one\nFROM {r.name}",
            {"id": "int", "doubled": "num", "plus_one": "num"},
        )

    def _quoted(self) -> tuple[str, dict[str, str]]:
        r = self._rel()
        c = self.pick(r, 1)
        if not c:
            return self._project()
        return (
            f'SELECT id, {c[0]} AS "Mixed_{c[0]}"\nFROM {r.name}',
            # The quoted name's case matters in PostgreSQL only; later views do not name
            # it (a SELECT * over this view still passes it on).
            {"id": "int"},
        )

    # -- nested fields, pivots, engine-named columns -----------------------------------

    def _nested(self, kind: str) -> tuple[Relation, str] | None:
        """A source with an ``id`` and a struct (``rec``) or list-of-structs (``recs``)."""
        fitting = [
            (r, c)
            for r in self.sources()
            if "id" in r.columns
            for c, t in r.columns.items()
            if t == kind
        ]
        return self.rng.choice(fitting) if fitting else None

    def _field(self) -> tuple[str, dict[str, str]]:
        found = self._nested("rec")
        if found is None:
            return self._project()
        r, col = found
        f = self.rng.choice(["a", "b"])
        kind = "int" if f == "a" else "text"
        out = f"{col}_{f}"
        form = self.rng.choice(["dot", "extract", "bracket", "where"])
        if form == "where":
            cond = f"{col}.{f} > 0" if f == "a" else f"{col}.{f} IS NOT NULL"
            return f"SELECT id\nFROM {r.name}\nWHERE {cond}", {"id": "int"}
        read = {
            "dot": f"{col}.{f}",
            "extract": f"struct_extract({col}, '{f}')",
            "bracket": f"{col}['{f}']",
        }[form]
        return f"SELECT id, {read} AS {out}\nFROM {r.name}", {"id": "int", out: kind}

    def _unnest_field(self) -> tuple[str, dict[str, str]]:
        found = self._nested("recs")
        if found is None:
            return self._field()
        r, col = found
        f = self.rng.choice(["a", "b"])
        out = f"item_{f}"
        cols = {"id": "int", out: "int" if f == "a" else "text"}
        form = self.rng.choice(["lateral", "index", "call", "derived"])
        if form == "lateral":
            body = f"SELECT t.id, u.{f} AS {out}\nFROM {r.name} AS t, UNNEST(t.{col}) AS u"
        elif form == "index":
            body = f"SELECT id, {col}[1].{f} AS {out}\nFROM {r.name}"
        elif form == "call":
            body = f"SELECT id, unnest({col}).{f} AS {out}\nFROM {r.name}"
        else:
            body = (
                f"SELECT s.id, s.e.{f} AS {out}\n"
                f"FROM (SELECT id, unnest({col}) AS e FROM {r.name}) AS s"
            )
        return body, cols

    def _pivot_parts(self) -> tuple[Relation, str, str] | None:
        fitting = [
            r
            for r in self.sources()
            if "id" in r.columns and self.cols_of(r, {"text", "short"}) and self.pick(r, 1, NUMERIC)
        ]
        if not fitting:
            return None
        r = self.rng.choice(fitting)
        return r, self.rng.choice(self.cols_of(r, {"text", "short"})), self.pick(r, 1, NUMERIC)[0]

    def _pivot(self) -> tuple[str, dict[str, str]]:
        parts = self._pivot_parts()
        if parts is None:
            return self._project()
        r, on, value = parts
        if any(t in NESTED for t in r.columns.values()) or self.rng.random() < 0.5:
            return (
                f"SELECT *\nFROM {r.name}\nPIVOT (sum({value}) FOR {on} IN ('x', 'y') GROUP BY id)",
                {"id": "int", "x": "num", "y": "num"},
            )
        kept = {c: t for c, t in r.columns.items() if c not in (on, value)}
        return (
            f"SELECT *\nFROM {r.name}\nPIVOT (sum({value}) FOR {on} IN ('x', 'y'))",
            {**kept, "x": "num", "y": "num"},
        )

    def _pivot_statement(self) -> tuple[str, dict[str, str]]:
        parts = self._pivot_parts()
        if parts is None:
            return self._project()
        r, on, value = parts
        agg = self.rng.choice(["sum", "max"])
        return (
            f"PIVOT {r.name}\nON {on} IN ('x', 'y')\nUSING {agg}({value})\nGROUP BY id",
            {"id": "int", "x": "num", "y": "num"},
        )

    def _unpivot(self) -> tuple[str, dict[str, str]]:
        fitting = [r for r in self.sources() if len(self.cols_of(r, NUMERIC)) >= 2]
        if not fitting:
            return self._project()
        r = self.rng.choice(fitting)
        first, second = self.rng.sample(self.cols_of(r, NUMERIC), 2)
        kept = {c: t for c, t in r.columns.items() if c not in (first, second)}
        cols = {**kept, "metric": "text", "val": "num"}
        if self.rng.random() < 0.5:
            body = f"UNPIVOT {r.name}\nON {first}, {second}\nINTO NAME metric VALUE val"
        else:
            body = f"SELECT *\nFROM {r.name}\nUNPIVOT (val FOR metric IN ({first}, {second}))"
        return body, cols

    def _unnamed(self) -> tuple[str, dict[str, str]]:
        r = self._rel(("ref_id", "id"))
        if "ref_id" not in r.columns:
            return self._project()
        if self.dialect == "duckdb":
            self.engine_named = ['"count_star()"', '"max(id)"']
        else:
            self.engine_named = ["count", "max"]
        return f"SELECT ref_id, count(*), max(id)\nFROM {r.name}\nGROUP BY ref_id", {
            "ref_id": "int"
        }

    def _reads_unnamed(self) -> tuple[str, dict[str, str]]:
        fitting = [v for v in self.views if v.engine_named]
        if not fitting:
            return self._unnamed()
        r = self.rng.choice(fitting)
        return (
            f"SELECT ref_id, {self.rng.choice(r.engine_named)} AS n\nFROM {r.name}",
            {"ref_id": "int", "n": "big"},
        )

    def load(self) -> str:
        target, source = self.rng.sample(self.tables, 2)
        pairs = [
            (tc, sc)
            for tc, tt in target.columns.items()
            if tc not in ("id", "ref_id") and tt not in NESTED
            for sc, st in source.columns.items()
            if st == tt and sc != "id"
        ]
        cols = [("id", "id")] + ([self.rng.choice(pairs)] if pairs else [])
        return (
            f"INSERT INTO {target.name} ({', '.join(t for t, _ in cols)})\n"
            f"SELECT {', '.join(s for _, s in cols)} FROM {source.name};\n"
        )


def generate(seed: int, dialect: str) -> Scenario:
    """One deterministic scenario for (seed, dialect)."""
    rng = random.Random(f"{dialect}:{seed}")
    b = _Builder(rng, dialect)
    b.make_tables()
    b.make_views()
    base = {"migrations/V1__init.sql": b.init_sql(b.tables), **b.files}
    head = dict(base)
    harmless = rng.random() < 0.25
    count = 1 if harmless or rng.random() < 0.6 else 2
    kinds: list[str] = []
    notes: list[str] = []
    migration: list[str] = []
    for _ in range(count):
        kind = rng.choice(
            ["add_column", "add_view", "reformat_view", "compat_view", "keep_alias", "add_field"]
            if harmless
            else [
                "drop_column",
                "rename_column",
                "retype_column",
                "retype_column",
                "drop_table",
                "rename_table",
                "edit_view",
                "drop_view",
                "add_column",
                "drop_column",
                "drop_field",
                "rename_field",
            ]
        )
        note = _apply(kind, b, rng, head, migration)
        if note:
            kinds.append(kind)
            notes.append(note)
    if migration:
        head["migrations/V2__change.sql"] = "".join(migration)
    return Scenario(base, head, "; ".join(notes) or "no change", kinds)


def _apply(
    kind: str, b: _Builder, rng: random.Random, head: dict[str, str], migration: list[str]
) -> str:
    table = rng.choice(b.tables)
    cols = [c for c in table.columns if c not in ("id",)]
    via_alter = rng.random() < 0.6
    if kind == "drop_column" and cols:
        col = rng.choice(cols)
        if via_alter:
            migration.append(f"ALTER TABLE {table.name} DROP COLUMN {col};\n")
        elif not _edit_create(b, head, table, drop=col):
            return ""
        return f"drop {table.name}.{col}{' (ALTER)' if via_alter else ' (edit CREATE)'}"
    if kind == "rename_column" and cols:
        col = rng.choice(cols)
        migration.append(f"ALTER TABLE {table.name} RENAME COLUMN {col} TO {col}_new;\n")
        return f"rename {table.name}.{col}"
    if kind == "retype_column":
        typed = [c for c in cols if table.columns[c] in INCOMPATIBLE]
        if not typed:
            return ""
        col = rng.choice(typed)
        old = table.columns[col]
        new = COMPATIBLE.get(old) if rng.random() < 0.4 and old in COMPATIBLE else INCOMPATIBLE[old]
        assert new is not None
        if not _edit_create(b, head, table, retype=(col, new)):
            return ""
        return f"retype {table.name}.{col} {old}->{new}"
    if kind == "drop_table":
        if via_alter:
            migration.append(f"DROP TABLE {table.name};\n")
        elif not _edit_create(b, head, table, remove=True):
            return ""
        return f"drop table {table.name}"
    if kind == "rename_table":
        migration.append(f"ALTER TABLE {table.name} RENAME TO {table.name.split('.')[1]}_new;\n")
        return f"rename table {table.name}"
    if kind in ("drop_field", "rename_field", "add_field"):
        return _change_struct(kind, b, rng, head, migration)
    if kind == "add_column":
        migration.append(
            f"ALTER TABLE {table.name} ADD COLUMN extra_{rng.randint(0, 99)} INTEGER;\n"
        )
        return f"add column to {table.name}"
    view_files = sorted(p for p in head if p.startswith("views/"))
    if kind == "edit_view" and view_files:
        path = rng.choice(view_files)
        index = int(path.split("/")[1][:2])
        name = f"analytics.v{index}"
        saved = b.views
        b.views = b.views[:index]  # a view may only read the views before it
        sql, _cols = b.view(name)
        b.views = saved
        head[path] = sql
        return f"edit {name}"
    if kind == "reformat_view" and view_files:
        path = rng.choice(view_files)
        head[path] = _reformat(head[path], b.dialect)
        return f"reformat {path}"
    if kind == "compat_view":
        new_name = f"{table.name}_v2"
        migration.append(f"ALTER TABLE {table.name} RENAME TO {new_name.split('.')[1]};\n")
        migration.append(f"CREATE VIEW {table.name} AS SELECT * FROM {new_name};\n")
        return f"rename {table.name} with a compatibility view"
    if kind == "keep_alias" and view_files:
        path = rng.choice(view_files)
        edited = _keep_alias(head[path])
        if edited is None:
            return ""
        head[path] = edited
        return f"new alias beside the old one in {path}"
    if kind == "drop_view" and view_files:
        path = rng.choice(view_files)
        del head[path]
        return f"drop view file {path}"
    if kind == "add_view":
        n = len(b.views)
        sql, _cols = b.view(f"analytics.v{n}")
        head[f"views/{n:02d}_v{n}.sql"] = sql
        return f"add analytics.v{n}"
    return ""


def _change_struct(
    kind: str, b: _Builder, rng: random.Random, head: dict[str, str], migration: list[str]
) -> str:
    """Drop, rename or add a field of a struct column (or of a list of structs' elements),
    by ALTER COLUMN … TYPE or by editing the CREATE."""
    nested = [
        (t, c)
        for t in b.tables
        for c, k in t.columns.items()
        if k in ("rec", "recs") and (t.name, c) not in b.touched
    ]
    if not nested:
        return ""
    table, col = rng.choice(nested)
    b.touched.add((table.name, col))  # a second ALTER would cast from the first one's type
    base = table.columns[col]
    if kind == "drop_field":
        new = rng.choice(FIELD_DROPS[base])
    elif kind == "rename_field":
        new = rng.choice(FIELD_RENAMES[base])
    else:
        new = FIELD_ADDS[base]
    if rng.random() < 0.5:
        migration.append(f"ALTER TABLE {table.name} ALTER COLUMN {col} TYPE {TYPES[new]};\n")
        how = "ALTER"
    elif _edit_create(b, head, table, retype=(col, new)):
        how = "edit CREATE"
    else:
        return ""
    return f"{kind.replace('_', ' ')} {table.name}.{col} {base}->{new} ({how})"


def _edit_create(
    b: _Builder,
    head: dict[str, str],
    table: Relation,
    drop: str | None = None,
    retype: tuple[str, str] | None = None,
    remove: bool = False,
) -> bool:
    path = "migrations/V1__init.sql"
    old = b.table_sql(table)
    if remove:
        new = ""
    else:
        cols = {c: t for c, t in table.columns.items() if c != drop}
        if retype:
            cols[retype[0]] = retype[1]
        new = b.table_sql(Relation(table.name, cols))
    if old not in head[path]:
        return False  # the other change of this scenario already edited this table
    head[path] = head[path].replace(old, new)
    return True


def _reformat(sql: str, dialect: str) -> str:
    """The same statement, pretty-printed by sqlglot, lower-cased keywords, a comment, and its
    CTE renamed: a formatting-only edit."""
    import sqlglot

    text = sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect, pretty=True)
    text = text.replace("base AS (", "source_rows AS (").replace("FROM base", "FROM source_rows")
    return "-- reformatted, same meaning\n" + text + ";\n"


def _keep_alias(sql: str) -> str | None:
    """Add a renamed copy of the first aliased output column, keeping the old name."""
    import re

    projection = sql.split("\nFROM", 1)[0]  # only output columns, not table aliases
    match = re.search(r"(\w+(?:\.\w+)?) AS (\w+)", projection.split("\n", 1)[-1])
    if match is None or "WITH" in sql or "UNION" in sql or "(" in match.group(0):
        return None
    expr, alias = match.group(1), match.group(2)
    return sql.replace(match.group(0), f"{match.group(0)}, {expr} AS {alias}_renamed", 1)
