"""dbt's Jinja as real projects write it, rendered without dbt (sql/jinja.py), and what the
rest of the checker makes of what it cannot expand. Fast and pure: the execution truth for
the same constructs is tests/dbt/test_dbt_real.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlglot
from gitrepo import GitRepo

from impact_check.config import Config
from impact_check.model import FileContent, Snapshot
from impact_check.project.loader import load_catalog
from impact_check.project.macros import parse_macros
from impact_check.project.profiles import find_warehouse
from impact_check.sql.jinja import DbtRenderer, MacroSource, Target
from impact_check.sql.lineage import number_literal_type, query_lineage

SCHEMA = json.loads((Path(__file__).parent / "data" / "report.schema.json").read_text())


def renderer(
    macros: dict[str, str] | None = None,
    packages: dict[str, dict[str, str]] | None = None,
    adapter: str = "duckdb",
    variables: dict[str, Any] | None = None,
    dispatch: dict[str, list[str]] | None = None,
) -> DbtRenderer:
    found: dict[str, dict[str, MacroSource]] = {"shop": {}}
    for path, text in (macros or {}).items():
        found["shop"].update(parse_macros(path, text, "shop"))
    for package, files in (packages or {}).items():
        found[package] = {}
        for path, text in files.items():
            found[package].update(parse_macros(path, text, package))
    target = Target(name="ci", schema="analytics", type=adapter)
    return DbtRenderer("shop", target, variables, found, dispatch)


def render(r: DbtRenderer, text: str) -> Any:
    return r.render(
        text,
        "models/m.sql",
        ref=lambda *a, **k: f"analytics.{a[-1]}",
        source=lambda s, t: f"{s}.{t}",
        this="analytics.m",
    )


def test_do_return_and_a_source_override_through_builtins() -> None:
    r = renderer(
        {
            "macros/source.sql": """{% macro source(name, table) %}
    {% set seen = [] %}{% do seen.append(table) %}
    {{ return(builtins.source(name, table ~ '_v2')) }}
{% endmacro %}""",
            "macros/pick.sql": "{% macro pick() %}{% do return('b') %}a{% endmacro %}",
        }
    )
    out = render(r, "select {{ pick() }} from {{ source('raw', 'orders') }}")
    assert out.error is None and " ".join(out.sql.split()) == "select b from raw.orders_v2"


@pytest.mark.parametrize(
    ("adapter", "expected"),
    [("duckdb", "duck"), ("redshift", "pg"), ("bigquery", "project default"), ("postgres", "pg")],
)
def test_adapter_dispatch_finds_adapter_parent_then_default(adapter: str, expected: str) -> None:
    r = renderer(
        {
            "macros/x.sql": "{% macro x() %}{{ return(adapter.dispatch('x')()) }}{% endmacro %}"
            "{% macro default__x() %}project default{% endmacro %}"
            "{% macro duckdb__x() %}duck{% endmacro %}"
            "{% macro postgres__x() %}pg{% endmacro %}"
        },
        adapter=adapter,
    )
    assert render(r, "{{ x() }}").sql == expected


def test_dispatch_in_packages_with_search_order_and_the_old_packages_argument() -> None:
    package = {
        "dbt_packages/u/macros/m.sql": "{% macro m() %}{{ return(adapter.dispatch('m', 'u')()) }}"
        "{% endmacro %}{% macro default__m() %}from u{% endmacro %}"
    }
    plain = renderer(packages={"u": package})
    assert render(plain, "{{ u.m() }}").sql == "from u"
    overridden = renderer(
        {"macros/o.sql": "{% macro default__m() %}from shop{% endmacro %}"},
        packages={"u": package},
        dispatch={"u": ["shop", "u"]},
    )
    assert render(overridden, "{{ u.m() }}").sql == "from shop"
    assert render(overridden, "{{ adapter.dispatch('m', packages=['u'])() }}").sql == "from u"
    missing = render(plain, "select {{ adapter.dispatch('nowhere', 'u')() }} as x")
    assert missing.error is None and "adapter.dispatch('nowhere', 'u')" in missing.unknown


@pytest.mark.parametrize(
    ("adapter", "dialect", "timestamp", "truncated"),
    [
        ("duckdb", "duckdb", "timestamp", "DATE_TRUNC('MONTH', created_at)"),
        ("snowflake", "snowflake", "timestamp_ntz", "DATE_TRUNC('MONTH', created_at)"),
        (
            "bigquery",
            "bigquery",
            "timestamp",
            "TIMESTAMP_TRUNC(CAST(created_at AS TIMESTAMP), MONTH)",
        ),
        ("postgres", "postgres", "timestamp", "DATE_TRUNC('MONTH', created_at)"),
    ],
)
def test_cross_database_macros_are_the_adapters_sql(
    adapter: str, dialect: str, timestamp: str, truncated: str
) -> None:
    r = renderer(adapter=adapter)
    out = render(
        r,
        "select cast(x as {{ dbt.type_timestamp() }}) as t, "
        "{{ dbt.date_trunc('month', 'created_at') }} as m, "
        "{{ dbt.dateadd('day', 3, 'created_at') }} as d, "
        "{{ dbt.datediff('a', 'b', 'day') }} as n, "
        "{{ dbt.concat(['a', 'b']) }} as c, {{ dbt.hash('a') }} as h, "
        "cast(y as {{ type_string() }}) as s from t",
    )
    assert out.error is None and not out.unknown, out
    assert f"as {timestamp})" in out.sql
    parsed = sqlglot.parse_one(out.sql, read=dialect)  # the adapter's SQL parses as such
    assert parsed.selects[1].this.sql(dialect).upper() == truncated.upper()


def test_target_run_started_at_modules_and_this() -> None:
    r = renderer()
    out = render(
        r,
        "{{ target.type }} {{ target.name }} {{ this.schema }}.{{ this.identifier }} "
        "{{ run_started_at.strftime('%Y') | length }} "
        "{{ modules.datetime.datetime.now() == run_started_at.replace(tzinfo=none) }} "
        "{{ config.get('materialized', 'view') }} {{ invocation_id | length }}",
    )
    assert out.sql.split() == ["duckdb", "ci", "analytics.m", "4", "True", "view", "36"]


def test_vars_with_jinja_are_rendered_when_read() -> None:
    r = renderer(variables={"start": "{{ '2020' if target.name == 'prod' else '2023' }}"})
    assert render(r, "{{ var('start') }} {{ var('missing', 'd') }}").sql == "2023 d"
    out = render(r, "{{ var('nobody_sets_it') }}")
    assert "var('nobody_sets_it')" in out.unknown


def test_an_error_names_the_construct_file_line_and_macro() -> None:
    r = renderer(
        {
            "macros/cents.sql": "\n\n{% macro cents_to_dollars(column) %}\n"
            "    {{ column.upper()() }}\n{% endmacro %}"
        }
    )
    out = render(r, "select {{ cents_to_dollars('amount') }} as x")
    assert out.error is not None
    assert "macros/cents.sql:4" in out.error
    assert "column.upper()()" in out.error and "in macro cents_to_dollars" in out.error


def test_jinja_that_does_not_parse_is_a_syntax_error_with_its_line() -> None:
    out = render(renderer(), "select 1\nfrom {{ ref('stg_products' }}")
    assert out.syntax_error and out.line == 2


def test_a_macro_that_waits_for_execute_is_recorded_and_renders_as_dbt_compiles() -> None:
    r = renderer(
        packages={
            "p": {
                "m.sql": "{% macro union(rels) %}{% if not execute %}{{ return('') }}"
                "{% endif %}{% set rows = run_query('select 1') %}"
                "select {{ rows.columns[0].values() | length }} as n{% endmacro %}"
            }
        }
    )
    text = "{{ p.union([ref('a')]) }}"
    parsing = render(r, text)
    assert parsing.sql == "" and parsing.empty == ["p.union"]
    compiled = r.render(text, "m.sql", lambda *a: "x.a", lambda s, t: "", "x.m", execute=True)
    assert compiled.sql == "select 0 as n"


def test_placeholders_are_unknown_columns_not_a_relation_with_one_column() -> None:
    schema = {"raw.orders": {"id": "INT", "amount": "INT"}}
    query = sqlglot.parse_one(
        "with base as (select __impact_check_macro_pkg__star__ from raw.orders) "
        "select id, discount, __impact_check_macro_pkg__key__ as k from base"
    )
    lineage = query_lineage(query, schema, "duckdb")
    assert not lineage.missing and not lineage.errors
    assert set(lineage.columns) == {"id", "discount", "k"}
    side_by_side = sqlglot.parse_one(
        "select __impact_check_macro_a__ __impact_check_macro_b__ from raw.orders"
    )
    assert "*" in query_lineage(side_by_side, schema, "duckdb").columns


@pytest.mark.parametrize(
    ("literal", "dialect", "expected"),
    [
        ("1", "duckdb", "INT"),
        ("3000000000", "duckdb", "BIGINT"),
        ("1", "postgres", "INT"),
        ("1", "bigquery", "BIGINT"),
        ("1.5", "duckdb", "DECIMAL"),
        ("1.5", "bigquery", "DOUBLE"),
        ("1", "snowflake", None),
    ],
)
def test_an_integer_literal_is_an_integer(literal: str, dialect: str, expected: str | None) -> None:
    assert number_literal_type(literal, dialect) == expected


def _snapshot(files: dict[str, str]) -> Snapshot:
    return Snapshot({p: FileContent(p, t.encode()) for p, t in files.items()})


BQ_PROJECT = {
    "shop/dbt_project.yml": "name: shop\nprofile: shop\n"
    "models:\n  shop:\n    marts:\n      +schema: \"{{ env_var('MART', 'reporting') }}\"\n",
    "shop/profiles.yml": "shop:\n  target: \"{{ env_var('T', 'prod') }}\"\n  outputs:\n"
    "    prod:\n      type: bigquery\n      dataset: \"{{ env_var('DS', 'analytics') }}\"\n"
    "      project: \"{{ env_var('GCP_PROJECT') }}\"\n",
    "shop/models/orders.sql": "select 1 as id, current_timestamp() as created_at",
    "shop/models/marts/monthly.sql": "select date_trunc(created_at, month) as m, id "
    "from {{ ref('orders') }}",
}


def test_a_bigquery_profile_sets_the_dialect_and_jinja_in_config_names_relations() -> None:
    catalog = load_catalog(_snapshot(BQ_PROJECT), Config(cache=False))
    monthly = catalog.datasets["analytics_reporting.monthly"]
    assert monthly.dialect == "bigquery" and monthly.lineage is not None
    assert not monthly.lineage.missing and "month" not in str(monthly.lineage.unresolved)
    assert catalog.projects[0].dialect_origin.startswith("profiles.yml (shop/profiles.yml")
    # a configured dialect wins over the profile
    configured = load_catalog(_snapshot(BQ_PROJECT), Config(cache=False, dialect="duckdb"))
    assert configured.datasets["analytics_reporting.monthly"].dialect == "duckdb"
    assert configured.projects[0].dialect_origin == "configured"


def test_the_warehouse_from_a_ci_file_when_there_is_no_profile() -> None:
    files = {
        ".github/workflows/ci.yml": "steps:\n  - run: pip install dbt-core dbt-snowflake\n",
        "dbt_packages/p/.github/workflows/ci.yml": "run: pip install dbt-bigquery\n",
    }
    found = find_warehouse(files, "", "shop", lambda p: None, files.get, "duckdb")
    assert (found.target.type, found.dialect, found.target.schema) == (
        "snowflake",
        "snowflake",
        "public",
    )
    none = find_warehouse({}, "", "shop", lambda p: None, lambda p: None, "postgres")
    assert (none.target.type, none.dialect, none.origin) == ("postgres", None, "")


def test_every_report_states_coverage_and_names_what_was_not_analysed(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "dbt/dbt_project.yml": "name: shop\n",
            "dbt/models/a.sql": "select 1 as id",
            "dbt/models/b.sql": "select id from {{ ref('a') }}",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"dbt/models/b.sql": "select id from {{ ref('a') }} {{ (1)() }}"}, "head")
    code, report = repo.report("--base", "main", "--head", "feature")
    jsonschema.validate(report, SCHEMA)
    coverage = report["coverage"]
    assert (coverage["defined"], coverage["analysed"]) == (2, 1)
    [left] = coverage["not_analysed"]
    assert left["file"] == "dbt/models/b.sql" and "not callable" in left["reason"]
    assert code == 0 and {f["rule"] for f in report["findings"]} >= {"AN901", "AN912"}
    _code, text, _err = repo.run("check", "--base", "main", "--head", "feature")
    assert "coverage: 1 of 2 models and views analysed (50.0%)" in text


def test_private_package_macros_and_warehouse_columns_as_dbt_compiles() -> None:
    r = renderer(
        packages={
            "u": {
                "m.sql": "{% macro _quote(x) %}'{{ x }}'{% endmacro %}"
                "{% macro cols(rel) %}{% set names = [] %}"
                "{% for c in adapter.get_columns_in_relation(rel) %}"
                "{% do names.append(c.name) %}{% endfor %}"
                "{{ return(names | join(', ') or '*') }}{% endmacro %}"
            }
        }
    )
    assert render(r, "{{ u._quote('a') }}").sql == "'a'"
    # packages check relations like dbt_utils._is_relation does
    check = (
        "{{ ref('a') is mapping and "
        "ref('a').get('metadata', {}).get('type', '').endswith('Relation') }}"
    )
    assert render(r, check).sql == "True"
    parsing = render(r, "select {{ u.cols(ref('a')) }} from {{ ref('a') }}")
    assert parsing.sql == "select * from analytics.a"
    compiled = r.render(
        "select {{ u.cols(ref('a')) }} from {{ ref('a') }}",
        "m.sql",
        lambda *a: "analytics.a",
        lambda s, t: "",
        "x.m",
        execute=True,
    )
    # the warehouse's columns are unknown: one placeholder column, read as unknown columns
    assert compiled.sql.startswith("select __impact_check_macro_columns_of_analytics")
    lineage = query_lineage(sqlglot.parse_one(compiled.sql), {"analytics.a": {"x": "INT"}}, "")
    assert "*" in lineage.columns and not lineage.missing


def test_dbt_dateadd_over_a_timestamp_binds() -> None:
    """``dbt.dateadd`` on DuckDB is ``ts + interval (n) day``: a timestamp is fine there,
    a number is not (the need is temporal, not numeric-or-date)."""
    r = renderer()
    sql = render(r, "select {{ dbt.dateadd('day', 3, 'ts') }} as d from t").sql
    uses = query_lineage(
        sqlglot.parse_one(sql, read="duckdb"), {"t": {"ts": "TIMESTAMP"}}, "duckdb"
    )
    assert [(u.source, u.needs) for u in uses.type_uses] == [(("t", "ts"), "temporal")]


def test_ref_to_a_snapshot_names_its_target_schema_and_a_model_its_own_config() -> None:
    files = {
        "dbt_project.yml": "name: shop\nsnapshots:\n  shop:\n    +target_schema: history\n",
        "models/stg.sql": "{{ config(schema='staging', alias='stg_products') }}\nselect 1 as id",
        "snapshots/snaps.sql": (
            "{% snapshot snap_a %}{{ config(unique_key='id') }}select * from {{ ref('stg') }}"
            "{% endsnapshot %}\n{% snapshot snap_b %}{{ config(target_schema='archive', "
            "alias='b_hist') }}select 1 as id{% endsnapshot %}"
        ),
        "models/report.sql": (
            "select s.id from {{ ref('stg') }} as s join {{ ref('snap_a') }} using (id) "
            "join {{ ref('snap_b') }} using (id)"
        ),
    }
    catalog = load_catalog(_snapshot(files), Config(cache=False))
    report = catalog.datasets["main.report"]
    assert report.lineage is not None
    assert set(report.lineage.tables) == {
        "main_staging.stg_products",
        "history.snap_a",
        "archive.b_hist",
    }
    assert not catalog.datasets["history.snap_a"].columns_known  # a snapshot's body is not read
    assert "main.stg" not in catalog.datasets


# A Fivetran-style model: one package macro writes clause text (more partition keys), one a
# whole expression; the package is not installed. As the package expands them:
_PACKAGE_EXPANSION = {
    "{{ pkg.partition_extra() }}": ", source_relation",
    "{{ pkg.string_agg('dispute_id', \"','\") }}": "string_agg(dispute_id, ',')",
}
_CLAUSE_MODEL = """with ranked as (
    select charge_id, dispute_id,
        row_number() over (partition by charge_id {{ pkg.partition_extra() }}
            order by created_at) as n
    from {{ ref('disputes') }}
)
select
    charge_id,
    {{ pkg.string_agg('dispute_id', "','") }} as dispute_ids,
    max(n) as n
from ranked
group by charge_id
"""


def _clause_repo(root: Path) -> GitRepo:
    repo = GitRepo(root)
    repo.commit(
        {
            "dbt_project.yml": "name: shop\nprofile: shop\n",
            "packages.yml": "packages:\n  - package: acme/pkg\n    version: 1.0.0\n",
            "models/disputes.sql": "select 1 as charge_id, 'd1' as dispute_id, "
            "'s' as source_relation, current_date as created_at",
            "models/dispute_summary.sql": _CLAUSE_MODEL,
        },
        "base",
    )
    return repo


def test_a_package_macro_writing_clause_text_leaves_the_rest_of_the_model_analysed(
    tmp_path: Path,
) -> None:
    """dbt_stripe: `partition by charge_id {{ fivetran_utils.partition_by_source_relation() }}`
    left the whole model unparsed (not analysed) while `{{ string_agg(...) }} as ids` beside
    it parses; only the placeholder that breaks the parse is taken out."""
    repo = _clause_repo(tmp_path / "repo")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        {
            "models/disputes.sql": "select 1 as charge_id, 'd1' as dispute_id, "
            "'s' as source_relation"
        },
        "drop created_at",
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    assert (report["coverage"]["defined"], report["coverage"]["analysed"]) == (2, 2)
    broken = [f for f in report["findings"] if f["severity"] == "error"]
    assert code == 1 and broken and "dispute_summary" in json.dumps(broken)
    # truth: the model as the package expands it builds at base and fails at head
    import duckdb

    sql = _CLAUSE_MODEL.replace("{{ ref('disputes') }}", "disputes")
    for macro, expansion in _PACKAGE_EXPANSION.items():
        sql = sql.replace(macro, expansion)
    con = duckdb.connect()
    con.execute(
        "create table disputes as select 1 as charge_id, 'd1' as dispute_id, "
        "'s' as source_relation, current_date as created_at"
    )
    con.execute(f"create view dispute_summary as {sql}")
    con.execute("drop table disputes")
    con.execute("create table disputes as select 1 as charge_id, 'd1' as dispute_id, 's' as x")
    with pytest.raises(duckdb.BinderException):
        con.execute("select * from dispute_summary").fetchall()


def test_a_harmless_change_beside_clause_placeholders_passes(tmp_path: Path) -> None:
    repo = _clause_repo(tmp_path / "repo")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        {
            "models/disputes.sql": "select 1 as charge_id, 'd1' as dispute_id, "
            "'s' as source_relation, current_date as created_at, 2 as extra"
        },
        "add a column",
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0 and report["coverage"]["analysed"] == 2


def test_a_package_without_a_profile_builds_in_the_warehouse_of_its_installer() -> None:
    """A BigQuery package whose only profile is its integration tests' (installing it with
    `local: ../`): read as DuckDB, `"2099-01-01"` and `month` were columns no source has."""
    files = {
        "dbt_project.yml": "name: transit\nprofile: transit\n",
        "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n"
        "      - name: devices\n        columns:\n          - name: id\n"
        "          - name: created_at\n",
        "models/dim_devices.sql": 'select id, cast("2099-01-01" as timestamp) as valid_to, '
        "date_trunc(created_at, month) as m from {{ source('raw', 'devices') }}",
        "integration_tests/dbt_project.yml": "name: transit_tests\nprofile: ci\n",
        "integration_tests/packages.yml": "packages:\n  - local: ../\n",
        "integration_tests/profiles.yml": "ci:\n  target: bq\n  outputs:\n    bq:\n"
        "      type: bigquery\n      dataset: ci\n",
    }
    catalog = load_catalog(_snapshot(files), Config(cache=False))
    [dim] = [d for name, d in catalog.datasets.items() if name.endswith("dim_devices")]
    assert dim.dialect == "bigquery" and dim.lineage is not None
    assert not dim.lineage.missing and not dim.lineage.unresolved, dim.lineage
    package = next(p for p in catalog.projects if p.name == "transit")
    assert package.dialect_origin.startswith("profiles.yml (integration_tests/profiles.yml")


def test_the_installing_project_files_are_reported_once() -> None:
    """dbt_salesforce: integration_tests/dbt_project.yml has a duplicate var; read for the
    package's vars and warehouse too, it must still be one AN901, not three."""
    files = {
        "dbt_project.yml": "name: sf\n",
        "models/a.sql": "select 1 as id",
        "integration_tests/dbt_project.yml": "name: sf_tests\nprofile: ci\n"
        "vars:\n  sf_user: a\n  sf_user: b\n",
        "integration_tests/packages.yml": "packages:\n  - local: ../\n",
        "integration_tests/profiles.yml": "ci:\n  target: t\n  outputs:\n    t:\n"
        "      type: postgres\n      schema: ci\n",
    }
    catalog = load_catalog(_snapshot(files), Config(cache=False))
    duplicates = [i for i in catalog.issues if "duplicate key" in i.message]
    assert len(duplicates) == 1, catalog.issues
    assert next(p for p in catalog.projects if p.name == "sf").dialect == "postgres"


def _per_warehouse_variants(repo: GitRepo) -> None:
    """Base: one staging model; head: it moves into per-warehouse variants, each enabled
    for its own adapter (a BigQuery/Snowflake project without a profile, held-back replay)."""
    stg = "select 1 as id, 'a' as name"
    repo.commit(
        {
            "dbt_project.yml": "name: shop\nprofile: shop\n",
            "models/stg_users.sql": stg,
            "models/users.sql": "select id, name from {{ ref('stg_users') }}",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        {
            "models/stg_users.sql": None,
            "models/bigquery/stg_users.sql": "{{ config(enabled=target.type == 'bigquery') }}\n"
            + stg,
            "models/snowflake/stg_users.sql": "{{ config(enabled=target.type == 'snowflake') }}\n"
            + stg,
        },
        "head",
    )


def test_a_model_enabled_for_an_adapter_the_checker_only_guessed_is_not_dropped(
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    _per_warehouse_variants(repo)
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0, [f["message"] for f in report["findings"] if f["severity"] == "error"]
    assert not [c for c in report["changes"] if c["kind"] == "table_dropped"]
    left = {(n["file"], n["reason"].split(",")[0]) for n in report["coverage"]["not_analysed"]}
    assert left == {
        ("models/bigquery/stg_users.sql", "enabled or not depending on the dbt target"),
        ("models/snowflake/stg_users.sql", "enabled or not depending on the dbt target"),
    }


def test_a_known_target_builds_its_own_variant_and_drops_nothing(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({".impact-check.yml": "dialect: bigquery\n"}, "config")
    _per_warehouse_variants(repo)
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0 and report["coverage"]["not_analysed"] == []
    assert not [c for c in report["changes"] if c["kind"] == "table_dropped"]


def test_without_a_profile_the_adapter_the_project_tests_for_most_is_its_target(
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    bq = "{% if target.type == 'bigquery' %}select 1 as id{% else %}select 2 as id{% endif %}"
    repo.commit(
        {
            "dbt_project.yml": "name: shop\nprofile: shop\n",
            "models/a.sql": bq,
            "models/b.sql": bq,
            "models/c.sql": "{{ config(enabled=target.type == 'snowflake') }}\nselect 1 as id",
            # a month interval BigQuery writes bare: a column under the default dialect
            "models/d.sql": "select date_trunc(current_date, month) as m",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"models/e.sql": "select id from {{ ref('a') }}"}, "head")
    code, report = repo.report("--base", "main", "--head", "feature")
    [project] = report["coverage"]["projects"]
    assert project["dialect"] == "bigquery"
    assert project["dialect_origin"].startswith("guessed: the project's SQL tests")
    assert code == 0 and report["coverage"]["not_analysed"] == []


def test_a_reader_of_a_model_whose_head_cannot_be_read_rests_on_the_unknown(
    tmp_path: Path,
) -> None:
    """The base version of an unreadable model stands in; a column its head version adds
    and a reader takes up is not "missing" (held-back replay: a new model's readers)."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "dbt_project.yml": "name: shop\n",
            "models/a.sql": "select 1 as id",
            "models/b.sql": "select id from {{ ref('a') }}",
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(
        {
            "models/a.sql": "select 1 as id, 2 as extra {{ (1)() }}",
            "models/b.sql": "select id, extra from {{ ref('a') }}",
        },
        "head",
    )
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0, [f["message"] for f in report["findings"] if f["severity"] == "error"]
    [limit] = [f for f in report["findings"] if f["rule"] == "AN914"]
    assert (
        "main.b reads main.a, whose definition at head the checker could not read"
        in (limit["message"])
    )
    # in the same diff, a reader of a readable model that lacks the column still breaks
    repo.commit({"models/d.sql": "select nope from {{ ref('b') }}"}, "really broken")
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1 and "main.d" in {f["message"].split(" ", 1)[0] for f in report["findings"]}


UNION_PROJECT = {
    "dbt_project.yml": "name: pay\nprofile: pay\n",
    "packages.yml": "packages:\n  - package: acme/unions\n    version: 1.0.0\n",
    "models/charge_tmp.sql": "{{ unions.union_connections(connection_dictionary="
    "var('pay_sources', []), single_source_name='pay', single_table_name='charge') }}",
    "models/charge.sql": "select id, amount from {{ ref('charge_tmp') }}",
    "models/refund_tmp.sql": "-- the package stacks every connection's table\n"
    "{{ unions.union_data(table_identifier='refund', database_variable='pay_db') }}",
    "models/refund_totals.sql": "select charge_id, sum(amount) as refunded "
    "from {{ ref('refund_tmp') }} group by charge_id",
}


def test_a_model_written_entirely_by_an_uninstalled_package_macro_is_analysed() -> None:
    """dbt_stripe, dbt_hubspot: 68 `*_tmp` models are one `fivetran_utils` macro call; with
    the package not installed they were left out, hiding their readers' lineage. Each is a
    relation of unknown columns (the macro's output), so its readers are analysed and
    nothing they read from it is missing."""
    unknown = {"models/unknown.sql": "{{ macro_defined_nowhere('charge') }}"}
    catalog = load_catalog(_snapshot({**UNION_PROJECT, **unknown}), Config(cache=False))
    left = {d.location.file: d.reason for d in catalog.defined.values() if d.reason}
    assert list(left) == ["models/unknown.sql"], left  # an undefined name is no package's
    for name in ("charge", "refund_totals"):
        [model] = [d for n, d in catalog.datasets.items() if n.endswith(f".{name}")]
        assert model.lineage is not None
        assert not model.lineage.missing and not model.lineage.errors, model.lineage
    told = [i for i in catalog.issues if i.rule == "AN908" and "charge_tmp" in (i.target or "")]
    assert told and "unions.union_connections" in told[0].message


def test_a_model_turned_into_an_uninstalled_macro_call_breaks_nothing(tmp_path: Path) -> None:
    """Columns that become unknown are not columns removed: a model rewritten as a package
    macro call (known columns at base, unknown at head) fails no reader."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit({**UNION_PROJECT, "models/charge_tmp.sql": "select 1 as id, 2 as amount"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"models/charge_tmp.sql": UNION_PROJECT["models/charge_tmp.sql"]}, "union")
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0, [f for f in report["findings"] if f["severity"] == "error"]
    assert report["coverage"]["analysed"] == report["coverage"]["defined"] == 4
    jsonschema.validate(report, SCHEMA)


WAREHOUSE_BUILT = {
    "dbt_project.yml": "name: events\nprofile: events\n",
    "profiles.yml": "events:\n  target: prod\n  outputs:\n    prod:\n      type: snowflake\n"
    "      schema: analytics\n",
    "macros/tables_of.sql": "{% macro tables_of(schema) %}"
    '{% set found = run_query("select table_name from information_schema.tables '
    'where table_schema = \'" ~ schema ~ "\'") %}'
    "{% if execute %}{{ return(found.columns[0].values()) }}{% endif %}"
    "{{ return([]) }}{% endmacro %}",
    "macros/union_tables.sql": "{% macro union_tables(tables) %}{% for t in tables %}"
    "{% if not loop.first %} union all {% endif %}select * from raw.{{ t }}"
    "{% endfor %}{% endmacro %}",
    "models/events.sql": "{{ config(materialized='incremental') }}\n"
    "{% set tables = tables_of('tracks') %}\n{{ union_tables(tables) }}",
    "models/daily_events.sql": "select cast(received_at as date) as day, count(*) as n, "
    "cast(event as {{ dbt_utils.type_string() }}) as event "
    "from {{ ref('events') }} group by 1, 3",
    "models/nothing.sql": "{{ config(materialized='view') }}\n-- kept for later\n",
    # gitlab: the macro returns 1 when the warehouse lists no table to union
    "macros/schema_union_all.sql": "{% macro schema_union_all(table) %}"
    "{% call statement('tables', fetch_result=True) %}select table_schema "
    "from information_schema.tables where table_name ilike '{{ table }}'{% endcall %}"
    "{% set found = load_result('tables') %}"
    "{% if found and found['data'] %}{% for row in found['data'] %}select * from "
    "{{ row[0] }}.{{ table }}{% if not loop.last %} union all {% endif %}{% endfor %}"
    "{% else %}{{ return(1) }}{% endif %}{% endmacro %}",
    "models/page_views_all.sql": "{{ schema_union_all('page_views') }}",
    "models/views_per_day.sql": "select day, count(*) as n from {{ ref('page_views_all') }} "
    "group by day",
}


def test_a_model_whose_sql_comes_from_the_warehouse_is_analysed_with_unknown_columns() -> None:
    """mattermost-data-warehouse: 16 models union the tables `information_schema` lists, so
    without a warehouse they render no SQL (dbt's parse sees none either); gitlab's 7 render
    `1` (the macro's fallback when no table matched). Each is a
    relation of unknown columns, AN908 saying why, and its readers are analysed; a model
    of nothing but `config()` has no SQL at all and stays left out. `dbt_utils.type_string()`
    (dbt_utils < 1.0, not installed) is dbt's own cross-database macro."""
    catalog = load_catalog(_snapshot(WAREHOUSE_BUILT), Config(cache=False))
    left = {d.location.file: d.reason for d in catalog.defined.values() if d.reason}
    assert list(left) == ["models/nothing.sql"], left
    [daily] = [d for n, d in catalog.datasets.items() if n.endswith(".daily_events")]
    assert daily.lineage is not None
    assert not daily.lineage.missing and not daily.lineage.errors, daily.lineage
    assert str(daily.columns["event"].type).upper() == "VARCHAR", daily.columns
    told = {i.target for i in catalog.issues if i.rule == "AN908" and "query results" in i.message}
    assert told == {"analytics.events", "analytics.page_views_all"}, told
    [per_day] = [d for n, d in catalog.datasets.items() if n.endswith(".views_per_day")]
    assert per_day.lineage is not None and not per_day.lineage.missing, per_day.lineage
