"""A generated dbt project for execution truth: independent domains of seeds, sources,
staging, intermediate and mart models, plus cross-domain union models.

Each domain ``dNN`` has two seeds (one read through a source, one through ``ref``), a macro,
15 models in three layers (CTEs, joins, aggregates, ``select *`` import CTEs, an incremental
model with ``on_schema_change: fail``, a contracted mart) and two exposures. Every fourth
domain's region revenue meets in a ``union all`` model. Domains share nothing else, so one
mutation per domain can be applied and checked in the same ``dbt run``.

``MUTATIONS`` maps a mutation kind to a function editing one domain's files in place.
"""

from __future__ import annotations

from collections.abc import Callable

Files = dict[str, str]
MODELS_PER_DOMAIN = 15
GROUP = 4  # domains per cross-domain union model

PROJECT = """name: gen
version: '1.0.0'
config-version: 2
profile: gen
model-paths: ["models"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
vars:
  cancelled_status: cancelled
models:
  gen:
    staging:
      +materialized: view
    intermediate:
      +materialized: view
    marts:
      +materialized: table
"""

PROFILES = """gen:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: gen.duckdb
      threads: 2
"""


def _seeds(d: str, index: int) -> Files:
    regions = ["north", "south", "east", "west"]
    customers = ["id,name,region,signup_date"]
    orders = ["id,customer_id,amount_cents,status,ordered_at"]
    for i in range(1, 7):
        customers.append(f"{i},c{index}_{i},{regions[(i + index) % 4]},2023-0{i}-1{i % 9}")
    statuses = ["placed", "shipped", "cancelled", "returned"]
    for i in range(1, 13):
        orders.append(
            f"{i},{(i % 6) + 1},{1000 + 37 * i},{statuses[i % 4]},2023-1{i % 3}-0{i % 9 + 1}"
        )
    return {
        f"seeds/{d}_customers.csv": "\n".join(customers) + "\n",
        f"seeds/{d}_orders.csv": "\n".join(orders) + "\n",
    }


def _staging(d: str) -> Files:
    s = f"models/staging/{d}/"
    return {
        f"macros/{d}_dollars.sql": (
            f"{{% macro {d}_dollars(column) %}}cast({{{{ column }}}} as double) / 100"
            "{% endmacro %}\n"
        ),
        s + "sources.yml": f"""version: 2
sources:
  - name: raw_{d}
    schema: main
    tables:
      - name: customers
        identifier: {d}_customers
        columns:
          - name: id
          - name: region
""",
        s + f"stg_{d}_customers.sql": f"""with source as (
    select * from {{{{ source('raw_{d}', 'customers') }}}}
),
renamed as (
    select
        cast(id as integer) as customer_id,
        cast(name as varchar) as customer_name,
        cast(region as varchar) as region,
        cast(signup_date as date) as signup_date
    from source
)
select * from renamed
""",
        s + f"stg_{d}_orders.sql": f"""select
    cast(id as integer) as order_id,
    cast(customer_id as integer) as customer_id,
    {{{{ {d}_dollars('amount_cents') }}}} as amount,
    cast(status as varchar) as status,
    cast(ordered_at as date) as ordered_at
from {{{{ ref('{d}_orders') }}}}
""",
        s + "schema.yml": f"""version: 2
models:
  - name: stg_{d}_customers
    columns:
      - name: customer_id
        tests: [unique, not_null]
      - name: region
        tests:
          - accepted_values:
              values: ['north', 'south', 'east', 'west']
  - name: stg_{d}_orders
    columns:
      - name: order_id
        tests: [unique]
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped', 'cancelled', 'returned']
""",
    }


def _intermediate(d: str) -> Files:
    s = f"models/intermediate/{d}/"
    return {
        s + f"int_{d}_orders_enriched.sql": f"""with orders as (
    select * from {{{{ ref('stg_{d}_orders') }}}}
),
customers as (
    select * from {{{{ ref('stg_{d}_customers') }}}}
)
select
    o.order_id,
    o.customer_id,
    c.customer_name,
    c.region,
    o.amount,
    o.status,
    o.ordered_at
from orders o
join customers c on o.customer_id = c.customer_id
""",
        s + f"int_{d}_customer_orders.sql": f"""select
    customer_id,
    count(*) as order_count,
    sum(amount) as total_amount,
    min(ordered_at) as first_order_at,
    max(ordered_at) as last_order_at
from {{{{ ref('int_{d}_orders_enriched') }}}}
where status <> '{{{{ var("cancelled_status") }}}}'
group by customer_id
""",
        s + f"int_{d}_region_daily.sql": f"""select
    region,
    ordered_at,
    sum(amount) as revenue,
    count(distinct customer_id) as buyers
from {{{{ ref('int_{d}_orders_enriched') }}}}
group by region, ordered_at
""",
        s + f"int_{d}_status_counts.sql": f"""select status, count(*) as n
from {{{{ ref('stg_{d}_orders') }}}}
group by status
""",
        s + f"int_{d}_signups.sql": f"""with customers as (
    select * from {{{{ ref('stg_{d}_customers') }}}}
)
select region, min(signup_date) as first_signup, count(*) as signups
from customers
group by region
""",
    }


def _marts(d: str) -> Files:
    s = f"models/marts/{d}/"
    return {
        s + f"dim_{d}_customers.sql": f"""with customers as (
    select * from {{{{ ref('stg_{d}_customers') }}}}
),
orders as (
    select * from {{{{ ref('int_{d}_customer_orders') }}}}
)
select
    c.customer_id,
    c.customer_name,
    c.region,
    coalesce(o.order_count, 0) as order_count,
    coalesce(o.total_amount, 0) as total_amount,
    o.first_order_at
from customers c
left join orders o on c.customer_id = o.customer_id
""",
        s + f"fct_{d}_orders.sql": f"""select
    order_id,
    customer_id,
    region,
    amount,
    amount * 0.2 as tax,
    status,
    ordered_at
from {{{{ ref('int_{d}_orders_enriched') }}}}
""",
        s
        + f"inc_{d}_orders.sql": f"""{{{{ config(materialized='incremental', unique_key='order_id',
    on_schema_change='fail') }}}}
select * from {{{{ ref('stg_{d}_orders') }}}}
{{% if is_incremental() %}}
where ordered_at >= (select max(ordered_at) from {{{{ this }}}})
{{% endif %}}
""",
        s + f"mart_{d}_region_revenue.sql": f"""select
    region, sum(revenue) as revenue, sum(buyers) as buyers
from {{{{ ref('int_{d}_region_daily') }}}}
group by region
""",
        s + f"mart_{d}_customer_value.sql": f"""with dim as (
    select * from {{{{ ref('dim_{d}_customers') }}}}
),
facts as (
    select * from {{{{ ref('fct_{d}_orders') }}}}
)
select
    dim.customer_id,
    dim.customer_name,
    dim.total_amount,
    count(facts.order_id) as orders_seen,
    sum(facts.tax) as tax_paid
from dim
left join facts on dim.customer_id = facts.customer_id
group by dim.customer_id, dim.customer_name, dim.total_amount
""",
        s + f"rpt_{d}_summary.sql": f"""select
    c.region, count(*) as customers, sum(v.tax_paid) as tax_paid
from {{{{ ref('dim_{d}_customers') }}}} c
join {{{{ ref('mart_{d}_customer_value') }}}} v on c.customer_id = v.customer_id
group by c.region
""",
        s + f"mart_{d}_status.sql": f"""select *
from {{{{ ref('int_{d}_status_counts') }}}}
where n > 0
""",
        s + f"ml_{d}_features.sql": f"""select
    customer_id,
    order_count,
    total_amount,
    date_diff('day', first_order_at, date '2024-01-01') as tenure_days
from {{{{ ref('dim_{d}_customers') }}}}
""",
        s + f"mart_{d}_signups.sql": f"""select s.region, s.signups, r.revenue
from {{{{ ref('int_{d}_signups') }}}} s
left join {{{{ ref('mart_{d}_region_revenue') }}}} r on s.region = r.region
""",
        s + "schema.yml": f"""version: 2
models:
  - name: dim_{d}_customers
    access: public
    meta:
      owner: team-{d}
    config:
      contract:
        enforced: true
    columns:
      - name: customer_id
        data_type: integer
        constraints:
          - type: not_null
      - name: customer_name
        data_type: varchar
      - name: region
        data_type: varchar
      - name: order_count
        data_type: bigint
      - name: total_amount
        data_type: double
      - name: first_order_at
        data_type: date
  - name: fct_{d}_orders
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: status
        tests:
          - accepted_values:
              values: ['placed', 'shipped', 'cancelled', 'returned']
exposures:
  - name: {d}_churn_model
    type: ml
    owner:
      name: ML {d}
    depends_on:
      - ref('ml_{d}_features')
  - name: {d}_dashboard
    type: dashboard
    owner:
      name: BI {d}
    depends_on:
      - ref('rpt_{d}_summary')
""",
    }


def domain(index: int) -> str:
    return f"d{index:02d}"


def generate(domains: int) -> Files:
    """The files of a project with ``domains`` domains (15 models each, plus unions)."""
    files: Files = {"dbt_project.yml": PROJECT, "profiles.yml": PROFILES}
    for index in range(domains):
        d = domain(index)
        files.update(_seeds(d, index))
        files.update(_staging(d))
        files.update(_intermediate(d))
        files.update(_marts(d))
    for start in range(0, domains - GROUP + 1, GROUP):
        members = [domain(i) for i in range(start, start + GROUP)]
        union = "\nunion all\n".join(
            f"select '{d}' as domain, region, revenue from {{{{ ref('mart_{d}_region_revenue') }}}}"
            for d in members
        )
        files[f"models/marts/cross/xgrp_{start // GROUP}_revenue.sql"] = union + "\n"
    return files


def model_count(files: Files) -> int:
    return sum(1 for p in files if p.startswith("models/") and p.endswith(".sql"))


def group_of(index: int, domains: int) -> int | None:
    """The cross-domain union model a domain feeds, if any."""
    group = index // GROUP
    return group if (group + 1) * GROUP <= domains else None


# Mutations: (kind) -> edit of domain d's files. Each asserts that its target text exists.


def _edit(path: str, old: str, new: str) -> Callable[[Files, str], None]:
    def apply(files: Files, d: str) -> None:
        p, o, n = (x.replace("{d}", d) for x in (path, old, new))
        assert o in files[p], (p, o)
        files[p] = files[p].replace(o, n, 1)

    return apply


def _delete(path: str) -> Callable[[Files, str], None]:
    def apply(files: Files, d: str) -> None:
        del files[path.replace("{d}", d)]

    return apply


STG = "models/staging/{d}/"
INT = "models/intermediate/{d}/"
MART = "models/marts/{d}/"
MUTATIONS: dict[str, Callable[[Files, str], None]] = {
    "drop a staging column": _edit(
        STG + "stg_{d}_customers.sql", "        cast(region as varchar) as region,\n", ""
    ),
    "rename a staging column": _edit(STG + "stg_{d}_orders.sql", "as status,", "as order_status,"),
    "retype a staging column to text": _edit(
        STG + "stg_{d}_orders.sql",
        "{{ {d}_dollars('amount_cents') }} as amount",
        "cast(amount_cents as varchar) as amount",
    ),
    "drop an intermediate aggregate": _edit(
        INT + "int_{d}_region_daily.sql", "    sum(amount) as revenue,\n", ""
    ),
    "change a filter": _edit(
        INT + "int_{d}_customer_orders.sql",
        "where status <> '{{ var(\"cancelled_status\") }}'",
        "where status not in ('cancelled', 'returned')",
    ),
    "delete a model": _delete(INT + "int_{d}_status_counts.sql"),
    "disable a model": _edit(
        INT + "int_{d}_signups.sql", "with customers", "{{ config(enabled=false) }}\nwith customers"
    ),
    "break the contract in the SQL": _edit(
        MART + "dim_{d}_customers.sql", "as order_count,", "as orders,"
    ),
    "break the contract in schema.yml": _edit(
        MART + "schema.yml", "      - name: first_order_at\n        data_type: date\n", ""
    ),
    "retype a contracted column in schema.yml": _edit(
        MART + "schema.yml",
        "      - name: customer_name\n        data_type: varchar",
        "      - name: customer_name\n        data_type: integer",
    ),
    "add a column under an on_schema_change: fail model": _edit(
        STG + "stg_{d}_orders.sql",
        "    cast(status as varchar) as status,\n",
        "    cast(status as varchar) as status,\n    1 as flag,\n",
    ),
    "rename a seed column": _edit("seeds/{d}_orders.csv", "amount_cents,", "amount_in_cents,"),
    "change a macro's type": _edit(
        "macros/{d}_dollars.sql",
        "cast({{ column }} as double) / 100",
        "cast({{ column }} as varchar)",
    ),
    "remove a declared column of an uncontracted model": _edit(
        MART + "schema.yml", "      - name: order_id\n        tests: [unique, not_null]\n", ""
    ),
    "narrow accepted_values": _edit(
        MART + "schema.yml",
        "values: ['placed', 'shipped', 'cancelled', 'returned']",
        "values: ['placed', 'shipped']",
    ),
    "drop a mart column nobody reads": _edit(MART + "mart_{d}_signups.sql", ", r.revenue", ""),
}
# Mutations that make dbt refuse the whole project (a ref to a missing or disabled model):
# they get a dbt run of their own.
REFUSING = {"delete a model", "disable a model"}
