"""Execution truth for every migration framework the checker recognises.

Each framework gets a fixture repository written in its own layout, from one story told as
an ordered list of migrations (each with its forward and rollback SQL). The list order is the
truth: it is the order the framework applies them, and the layouts name files so that path
order would differ (``V10`` after ``V2`` numerically, ``2020-02-01-…`` Diesel folders,
sqitch plan order, a reworked sqitch change, Flyway repeatables last). Rollback files are
written wherever the framework has them; if the checker applied them, views would vanish.

For every commit, the forward migrations (in list order) are deployed from scratch on a real
PostgreSQL at base and at head, and the consumers are probed (a view, a SQL function, a
PL/pgSQL trigger). A commit breaks when the deploy fails or a probe that passed at base fails
at head. The checker, run on a real git repository holding the files, must fail exactly the
commits that break:

- ``harmless``: a data migration that copies rows out of a column and drops it, an UPDATE, an
  index, a grant, a guarded DO block, a rollback script (exit 0);
- ``consumer``: a column a view and a SQL function read is dropped (the deploy fails: the
  view depends on it);
- ``deploy``: a new migration reads the column an earlier new one dropped (the deploy fails).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

pytestmark = [pytest.mark.postgres, pytest.mark.truth]


@dataclass(frozen=True)
class Migration:
    name: str
    up: str
    down: str = ""


INIT = Migration(
    "init",
    """CREATE TABLE customers (id INT PRIMARY KEY, email TEXT, legacy_token TEXT);
CREATE TABLE orders (
  id INT PRIMARY KEY,
  customer_id INT NOT NULL REFERENCES customers (id),
  amount INT NOT NULL,
  status TEXT
);
CREATE INDEX orders_customer ON orders (customer_id);
COMMENT ON TABLE orders IS 'one row per order';
""",
    "DROP TABLE orders;\nDROP TABLE customers;\n",
)
CONSUMERS = Migration(
    "consumers",
    """CREATE VIEW order_totals AS
SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id;

CREATE FUNCTION customer_total(p_customer INT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT sum(amount) FROM orders WHERE customer_id = p_customer
$$;

CREATE FUNCTION check_customer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_found INT;
BEGIN
  SELECT id INTO v_found FROM customers
  WHERE id = NEW.customer_id AND legacy_token IS NULL;
  IF v_found IS NULL THEN
    RAISE EXCEPTION 'unknown customer %', NEW.customer_id;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER orders_check BEFORE INSERT ON orders
  FOR EACH ROW EXECUTE FUNCTION check_customer();

CREATE FUNCTION open_orders() RETURNS BIGINT LANGUAGE sql BEGIN ATOMIC
  SELECT count(*) FROM orders WHERE status IS DISTINCT FROM 'closed';
END;
""",
    """DROP FUNCTION open_orders();
DROP TRIGGER orders_check ON orders;
DROP FUNCTION check_customer();
DROP FUNCTION customer_total(INT);
DROP VIEW order_totals;
""",
)
PLACED_AT = Migration(
    "placed_at",
    """ALTER TABLE orders ADD COLUMN placed_at DATE;
UPDATE orders SET placed_at = CURRENT_DATE WHERE placed_at IS NULL;
""",
    "ALTER TABLE orders DROP COLUMN placed_at;\n",
)
SPLIT_EMAILS = Migration(
    "split_emails",
    """CREATE TABLE customer_emails (
  customer_id INT PRIMARY KEY REFERENCES customers (id),
  email TEXT NOT NULL
);
INSERT INTO customer_emails (customer_id, email)
SELECT id, email FROM customers WHERE email IS NOT NULL;
ALTER TABLE customers DROP COLUMN email;
UPDATE orders SET status = 'new' WHERE status IS NULL AND placed_at IS NOT NULL;
CREATE INDEX customer_emails_email ON customer_emails (email);
GRANT SELECT ON customer_emails TO PUBLIC;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'order_channel') THEN
    CREATE TYPE order_channel AS ENUM ('web', 'shop');
  END IF;
END $$;
ALTER TABLE orders ADD COLUMN channel order_channel;
""",
    """ALTER TABLE orders DROP COLUMN channel;
ALTER TABLE customers ADD COLUMN email TEXT;
UPDATE customers SET email = e.email FROM customer_emails e WHERE e.customer_id = customers.id;
DROP TABLE customer_emails;
""",
)
DROP_AMOUNT = Migration(
    "drop_amount",
    "ALTER TABLE orders DROP COLUMN amount;\n",
    "ALTER TABLE orders ADD COLUMN amount INT;\n",
)
BACKFILL = Migration(
    "backfill_emails",
    """INSERT INTO customer_emails (customer_id, email)
SELECT id, email FROM customers WHERE email IS NOT NULL
ON CONFLICT DO NOTHING;
""",
)
BASE = [INIT, CONSUMERS, PLACED_AT]
CASES: dict[str, tuple[list[Migration], bool, set[str]]] = {
    # name: (migrations at head, breaks, rules among the error findings)
    "harmless": ([*BASE, SPLIT_EMAILS], False, set()),
    "consumer": ([*BASE, DROP_AMOUNT], True, {"CO201"}),
    "deploy": ([*BASE, SPLIT_EMAILS, BACKFILL], True, {"TB109"}),
}
PROBES = [
    "SELECT * FROM order_totals LIMIT 0",
    "SELECT customer_total(1)",
    "SELECT open_orders()",
    "INSERT INTO customers (id) VALUES (1); INSERT INTO orders (id, customer_id, amount) "
    "VALUES (1, 1, 5)",
]


# -- layouts: an ordered list of migrations -> the files of a repository -------------------


def _flyway(migrations: list[Migration]) -> dict[str, str]:
    # V10 sorts before V2 as text; V10.1 before V10 in path order: only versions order them
    versions = ["1", "2", "10", "10.1", "11"]
    files = {}
    for version, m in zip(versions, migrations):
        files[f"db/migration/V{version}__{m.name}.sql"] = m.up
        if m.down:
            files[f"db/migration/U{version}__{m.name}.sql"] = m.down
    return files


def _flyway_repeatable(migrations: list[Migration]) -> dict[str, str]:
    """The consumers live in a repeatable migration: applied after every versioned one."""
    versioned = [m for m in migrations if m is not CONSUMERS]
    files = _flyway(versioned)
    files["db/migration/R__consumers.sql"] = CONSUMERS.up
    return files


def _diesel(migrations: list[Migration]) -> dict[str, str]:
    # Diesel compares versions with dashes removed: 2020-02-01-… comes after 20200110…
    versions = [
        "2020-01-01-000001",
        "20200102000000",
        "20200110000000",
        "2020-02-01-000000",
        "2020-02-02-000000",
    ]
    files = {
        "migrations/00000000000000_diesel_initial_setup/up.sql": (
            "CREATE FUNCTION set_updated_now() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;\n"
        ),
        "migrations/00000000000000_diesel_initial_setup/down.sql": (
            "DROP FUNCTION IF EXISTS set_updated_now();\n"
        ),
        # a hand-run script next to the migration folders: Diesel never runs it
        "migrations/copy_legacy_tokens.sql": (
            "UPDATE customers SET legacy_token = email WHERE legacy_token IS NULL;\n"
        ),
    }
    for version, m in zip(versions, migrations):
        files[f"migrations/{version}_{m.name}/up.sql"] = m.up
        files[f"migrations/{version}_{m.name}/down.sql"] = m.down or "SELECT 1;\n"
    return files


def _golang_migrate(migrations: list[Migration]) -> dict[str, str]:
    files = {}
    for version, m in zip([1, 2, 10, 11, 12], migrations):
        files[f"db/migrations/{version}_{m.name}.up.sql"] = m.up
        files[f"db/migrations/{version}_{m.name}.down.sql"] = m.down
    return files


def _dbmate(migrations: list[Migration]) -> dict[str, str]:
    files = {
        # a stale dump dbmate wrote long ago: never part of the schema
        "db/schema.sql": "CREATE TABLE customers (id INT PRIMARY KEY);\n"
        "-- Dbmate schema migrations\n",
    }
    for index, m in enumerate(migrations, 1):
        files[f"db/migrations/2020010{index}000000_{m.name}.sql"] = (
            f"-- migrate:up\n{m.up}\n-- migrate:down\n{m.down}"
        )
    return files


def _sqitch(migrations: list[Migration]) -> dict[str, str]:
    """Plan order differs from name order, and the consumers change is reworked: its first
    instance's script is deploy/consumers@v1.0.sql."""
    names = {INIT.name: "schema", CONSUMERS.name: "consumers", PLACED_AT.name: "add_placed_at"}
    plan = ["%syntax-version=1.0.0", "%project=shop", ""]
    files: dict[str, str] = {}
    for m in migrations:
        name = names.get(m.name, m.name)
        plan.append(f"{name} 2020-01-01T00:00:00Z Dev <dev@example.com> # {m.name}")
        files[f"sqitch/deploy/{name}.sql"] = f"BEGIN;\n{m.up}COMMIT;\n"
        files[f"sqitch/revert/{name}.sql"] = f"BEGIN;\n{m.down}COMMIT;\n"
        files[f"sqitch/verify/{name}.sql"] = "SELECT 1/0;\n"  # never deployed
        if m is CONSUMERS:
            plan.append("@v1.0 2020-01-02T00:00:00Z Dev <dev@example.com> # release")
    # the reworked change: the old script keeps the tag's name, the plan lists it again
    files["sqitch/deploy/consumers@v1.0.sql"] = files["sqitch/deploy/consumers.sql"]
    files["sqitch/deploy/consumers.sql"] = (
        "BEGIN;\nCREATE OR REPLACE VIEW order_totals AS\n"
        "SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id;\nCOMMIT;\n"
    )
    plan.insert(
        plan.index("@v1.0 2020-01-02T00:00:00Z Dev <dev@example.com> # release") + 1,
        "consumers [consumers@v1.0] 2020-01-03T00:00:00Z Dev <dev@example.com> # rework",
    )
    files["sqitch/sqitch.plan"] = "\n".join(plan) + "\n"
    files["sqitch/sqitch.conf"] = "[core]\n\tengine = pg\n"
    return files


def _sqitch_truth(migrations: list[Migration]) -> list[str]:
    out = []
    for m in migrations:
        out.append(m.up)
        if m is CONSUMERS:  # the reworked instance, right after the tag
            out.append(
                "CREATE OR REPLACE VIEW order_totals AS\n"
                "SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id;\n"
            )
    return out


def _prisma(migrations: list[Migration]) -> dict[str, str]:
    files = {"prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n'}
    for index, m in enumerate(migrations, 1):
        files[f"prisma/migrations/2020010{index}120000_{m.name}/migration.sql"] = m.up
    return files


def _liquibase(migrations: list[Migration]) -> dict[str, str]:
    text = ["--liquibase formatted sql", ""]
    for index, m in enumerate(migrations, 1):
        text.append(f"--changeset dev:{index}")
        text.append(m.up.rstrip())
        for line in m.down.splitlines():
            text.append(f"--rollback {line}")
        text.append("")
    return {"src/main/resources/db/changelog/changes.sql": "\n".join(text)}


def _atlas(migrations: list[Migration]) -> dict[str, str]:
    files = {}
    sums = ["h1:Zm9yd2FyZCBvbmx5IHN1bQ=="]
    for index, m in enumerate(migrations, 1):
        name = f"2020010{index}000000_{m.name}.sql"
        files[f"migrations/{name}"] = m.up
        sums.append(f"{name} h1:{index:02d}c2tldGNoIHN1bQ==")
    files["migrations/atlas.sum"] = "\n".join(sums) + "\n"
    return files


def _supabase(migrations: list[Migration]) -> dict[str, str]:
    files = {"supabase/seed.sql": "INSERT INTO customers (id) VALUES (100), (101);\n"}
    for index, m in enumerate(migrations, 1):
        files[f"supabase/migrations/2020010{index}000000_{m.name}.sql"] = m.up
    return files


@dataclass
class Framework:
    layout: Callable[[list[Migration]], dict[str, str]]
    truth: Callable[[list[Migration]], list[str]] = field(default=lambda ms: [m.up for m in ms])


def _repeatable_truth(migrations: list[Migration]) -> list[str]:
    return [m.up for m in migrations if m is not CONSUMERS] + [CONSUMERS.up]


def _supabase_truth(migrations: list[Migration]) -> list[str]:  # `supabase db reset`
    return [m.up for m in migrations] + ["INSERT INTO customers (id) VALUES (100), (101);"]


FRAMEWORKS = {
    "flyway": Framework(_flyway),
    "flyway-repeatable": Framework(_flyway_repeatable, _repeatable_truth),
    "diesel": Framework(_diesel),
    "golang-migrate": Framework(_golang_migrate),
    "dbmate": Framework(_dbmate),
    "sqitch": Framework(_sqitch, _sqitch_truth),
    "prisma": Framework(_prisma),
    "liquibase": Framework(_liquibase),
    "atlas": Framework(_atlas),
    "supabase": Framework(_supabase, _supabase_truth),
}


# -- truth --------------------------------------------------------------------------------

_counter = itertools.count()


def _deploy(dsn: str, units: list[str], probes: list[str]) -> tuple[str | None, set[int]]:
    """Apply the units on a fresh database, each in one transaction (as the frameworks do):
    (the error of the first failing unit, or None; the indexes of failing probes)."""
    import psycopg

    name = f"migration_truth_{next(_counter)}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(dsn, dbname=name, autocommit=True) as con:
            for unit in units:
                try:
                    con.execute(unit.encode())
                except psycopg.Error as err:
                    return str(err).splitlines()[0], set()
            failing = set()
            for index, probe in enumerate(probes):
                try:
                    with con.transaction(force_rollback=True):
                        con.execute(probe.encode())
                except psycopg.Error:
                    failing.add(index)
            return None, failing
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


def breaks(dsn: str, base: list[str], head: list[str], probes: list[str] = PROBES) -> bool:
    """Whether head breaks: its deploy fails, or a probe that passed at base fails."""
    error, failing_base = _deploy(dsn, base, probes)
    assert error is None and not failing_base, f"the fixture's base does not deploy: {error}"
    error, failing_head = _deploy(dsn, head, probes)
    return error is not None or bool(failing_head - failing_base)


def _check(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> tuple[int, Any]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(dict(base), "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({**{p: None for p in base if p not in head}, **head}, "head")
    return repo.report("--base", "main", "--head", "feature", "--dialect", "postgres")


def _cases() -> list[Any]:
    return [
        pytest.param(framework, case, id=f"{framework}-{case}")
        for framework in FRAMEWORKS
        for case in CASES
    ]


DROP_TOKEN = Migration("drop_token", "ALTER TABLE customers DROP COLUMN legacy_token;\n")
DROP_STATUS = Migration("drop_status", "ALTER TABLE orders DROP COLUMN status;\n")
RENAME_STATUS = Migration("rename_status", "ALTER TABLE orders RENAME COLUMN status TO state;\n")
RENAME_ORDERS = Migration("rename_orders", "ALTER TABLE orders RENAME TO purchases;\n")


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        # PL/pgSQL is checked only when it runs: the DROP succeeds, the trigger then fails
        pytest.param(DROP_TOKEN, {"check_customer()"}, id="plpgsql-trigger"),
        # a BEGIN ATOMIC body records its dependencies: the DROP itself fails
        pytest.param(DROP_STATUS, {"open_orders()"}, id="begin-atomic-drop"),
        # … and is stored parsed: a rename follows it, as it follows the view
        pytest.param(RENAME_STATUS, set(), id="begin-atomic-rename"),
        # the string body of customer_total is read again at each call: it breaks
        pytest.param(RENAME_ORDERS, {"customer_total()"}, id="table-rename"),
    ],
)
def test_routines_and_stored_views_as_in_postgres(
    postgres_dsn: str, tmp_path: Path, change: Migration, broken: set[str]
) -> None:
    head = [*BASE, change]
    assert breaks(postgres_dsn, [m.up for m in BASE], [m.up for m in head]) == bool(broken)
    code, report = _check(tmp_path, _flyway(BASE), _flyway(head))
    claimed = {i["node"]["id"] for f in report["findings"] for i in f["impacted"] if i["breaks"]}
    assert (code, claimed) == (1 if broken else 0, broken), report["findings"]


@pytest.mark.parametrize(("framework", "case"), _cases())
def test_verdict_matches_postgres(
    postgres_dsn: str, tmp_path: Path, framework: str, case: str
) -> None:
    spec = FRAMEWORKS[framework]
    migrations, expected, rules = CASES[case]
    truth = breaks(postgres_dsn, spec.truth(BASE), spec.truth(migrations))
    assert truth == expected, f"the {case} fixture does not do what it says in PostgreSQL"
    code, report = _check(tmp_path, spec.layout(BASE), spec.layout(migrations))
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == (1 if truth else 0), errors or report["findings"]
    assert rules <= {rule for rule, _ in errors}, errors


RAILS_BASE = """SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);
SET default_tablespace = '';

CREATE TABLE public.customers (
    id bigint NOT NULL,
    email character varying,
    created_at timestamp(6) without time zone NOT NULL
);

CREATE SEQUENCE public.customers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.customers_id_seq OWNED BY public.customers.id;

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    amount integer NOT NULL,
    status character varying
);

CREATE VIEW public.order_totals AS
 SELECT orders.customer_id,
    sum(orders.amount) AS total
   FROM public.orders
  GROUP BY orders.customer_id;

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);

ALTER TABLE ONLY public.customers
    ALTER COLUMN id SET DEFAULT nextval('public.customers_id_seq'::regclass);

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

CREATE INDEX index_orders_on_customer_id ON public.orders USING btree (customer_id);

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT fk_rails_3dad120da3 FOREIGN KEY (customer_id) REFERENCES public.customers(id);

SET search_path TO "$user", public;

INSERT INTO "schema_migrations" (version) VALUES
('20200101000000'),
('20200102000000');
"""
# what `rails db:migrate` dumps after a migration that adds a column (harmless) and after
# one that drops orders.amount and the view reading it (a report outside the dump reads it)
RAILS_HARMLESS = RAILS_BASE.replace(
    "    status character varying\n", "    status character varying,\n    notes text\n"
).replace("('20200102000000');", "('20200102000000'),\n('20200103000000');")
_RAILS_VIEW = RAILS_BASE[
    RAILS_BASE.index("CREATE VIEW") : RAILS_BASE.index("CREATE TABLE public.s")
]
RAILS_BREAK = (
    RAILS_BASE.replace("    amount integer NOT NULL,\n", "")
    .replace(_RAILS_VIEW, "")
    .replace("('20200102000000');", "('20200102000000'),\n('20200103000000');")
)
RAILS_REPORT = (
    "CREATE VIEW public.big_spenders AS\n"
    "SELECT customer_id FROM public.orders GROUP BY customer_id HAVING sum(amount) > 1000;\n"
)


@pytest.mark.parametrize(("dump", "expected"), [(RAILS_HARMLESS, False), (RAILS_BREAK, True)])
def test_rails_structure_dump_is_the_schema(
    postgres_dsn: str, tmp_path: Path, dump: str, expected: bool
) -> None:
    """db/structure.sql is the whole schema at each revision (the Ruby migrations that
    wrote it are not read); a report view outside it is the consumer."""
    probes = ["SELECT * FROM public.big_spenders LIMIT 0"]
    truth = breaks(postgres_dsn, [RAILS_BASE, RAILS_REPORT], [dump, RAILS_REPORT], probes)
    assert truth == expected
    base = {"db/structure.sql": RAILS_BASE, "reports/big_spenders.sql": RAILS_REPORT}
    code, report = _check(tmp_path, base, {**base, "db/structure.sql": dump})
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == (1 if truth else 0), errors or report["findings"]


# harbor 0120_2.9.0_schema.up.sql: summary columns added, then filled by a DO block whose
# PL/pgSQL variables (`critical_count`, a loop record `report`) are values, not columns
ORDER_COUNTS = Migration(
    "order_counts",
    """ALTER TABLE customers ADD COLUMN IF NOT EXISTS order_cnt BIGINT;
DO
$$
    DECLARE
        c RECORD;
        order_count BIGINT;
    BEGIN
        FOR c IN SELECT id FROM customers
            LOOP
                order_count := 0;
                SELECT count(*) INTO order_count FROM orders o WHERE o.customer_id = c.id;
                UPDATE customers
                SET order_cnt = order_count
                WHERE id = c.id;
            END LOOP;
    END
$$;
""",
)
# the same block filling a column an earlier migration of the diff dropped: deploy fails
ORDER_COUNTS_DROPPED = Migration(
    "order_counts_dropped",
    "ALTER TABLE customers DROP COLUMN order_cnt;\n"
    + ORDER_COUNTS.up.replace(
        "ALTER TABLE customers ADD COLUMN IF NOT EXISTS order_cnt BIGINT;\n", ""
    ),
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param([*BASE, ORDER_COUNTS], False, id="variables-harmless"),
        pytest.param([*BASE, ORDER_COUNTS, ORDER_COUNTS_DROPPED], True, id="column-dropped"),
    ],
)
def test_do_block_variables_are_values_not_columns(
    postgres_dsn: str, tmp_path: Path, head: list[Migration], expected: bool
) -> None:
    """A one-time DO block's data statements bind at their point of the sequence with its
    declared and loop variables as values (harbor: `SET critical_cnt = critical_count` was a
    TB109 "reads scan_report.critical_count, never created")."""
    seed = (
        "INSERT INTO customers (id) VALUES (7);\n"
        "INSERT INTO orders (id, customer_id, amount) VALUES (7, 7, 5);"
    )
    base_units = [*(m.up for m in BASE), seed]
    head_units = [*(m.up for m in BASE), seed, *(m.up for m in head[len(BASE) :])]
    assert breaks(postgres_dsn, base_units, head_units) == expected
    code, report = _check(tmp_path, _golang_migrate(BASE), _golang_migrate(head))
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == (1 if expected else 0), errors or report["findings"]
    if expected:
        assert {rule for rule, _ in errors} == {"TB109"} and "order_cnt" in str(errors)


# openmeter 02fbd9bb05: tools/migrate/testdata/ holds an old copy of the first migrations
# (for the migrate tool's own tests); applied after tools/migrate/migrations in path order,
# its CREATE TABLE replaced the real table, and a new function reading a later column was
# "no longer binds at head: reads billing_invoices.schema_level, which does not exist"
ADD_PRIORITY = Migration("priority", "ALTER TABLE orders ADD COLUMN priority INT;\n")
PRIORITY_FUNCTION = Migration(
    "priority_function",
    "CREATE FUNCTION urgent_orders() RETURNS BIGINT LANGUAGE sql AS $$\n"
    "  SELECT count(*) FROM orders WHERE priority > 1\n$$;\n",
)
DROP_PRIORITY = Migration("drop_priority", "ALTER TABLE orders DROP COLUMN priority;\n")


def _with_test_copy(migrations: list[Migration]) -> dict[str, str]:
    files = {}
    for version, m in enumerate(migrations, 1):
        files[f"tools/migrate/migrations/{version}_{m.name}.up.sql"] = m.up
        files[f"tools/migrate/migrations/{version}_{m.name}.down.sql"] = m.down
    files["tools/migrate/testdata/old/1_init.up.sql"] = INIT.up
    files["tools/migrate/testdata/old/1_init.down.sql"] = INIT.down
    return files


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param([*BASE, ADD_PRIORITY, PRIORITY_FUNCTION], False, id="new-reader"),
        pytest.param([*BASE, ADD_PRIORITY, DROP_PRIORITY, PRIORITY_FUNCTION], True, id="break"),
    ],
)
def test_a_test_copy_of_the_migrations_is_not_the_schema(
    postgres_dsn: str, tmp_path: Path, head: list[Migration], expected: bool
) -> None:
    # PostgreSQL validates a SQL function's body when it is created: the deploy fails
    base = [*BASE, ADD_PRIORITY]
    assert breaks(postgres_dsn, [m.up for m in base], [m.up for m in head]) == expected
    code, report = _check(tmp_path, _with_test_copy(base), _with_test_copy(head))
    errors = [(f["rule"], f["message"]) for f in report["findings"] if f["severity"] == "error"]
    assert code == (1 if expected else 0), errors or report["findings"]
