"""The Feast source: static reading agrees with what real `feast apply` registers, the
registry dump and REST server are read, nothing from the feature repository is executed,
bad input is named by file and line, and a dropped column fails the check end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo
from pytest_httpserver import HTTPServer
from werkzeug import Response

from impact_check.config import LineageSource
from impact_check.sources import fetch_one
from impact_check.sources.base import GraphFragment, SourceContext

HERE = Path(__file__).parent
REPO_DATA = HERE / "data" / "feast_repo"
FIXTURES = Path("/work/shared/fixtures/feast")
if not FIXTURES.is_dir():
    FIXTURES = HERE.parent.parent / "shared" / "fixtures" / "feast"
FEAST_VENV = Path(os.environ.get("IMPACT_CHECK_FEAST_VENV", "/tmp/impact-check-feast-venv"))


def _fetch(location: str | Path, root: Path, **options: Any) -> GraphFragment:
    spec = LineageSource(kind="feast", location=str(location), options=options, timeout=5)
    return fetch_one(spec, SourceContext(root=root, cache_dir=None, use_cache=False))


def feature_map(fragment: GraphFragment) -> dict[str, list[str]]:
    """feature node -> the source column ids it reads (the comparison key)."""
    return {n.id: list(n.attrs["source_columns"]) for n in fragment.nodes if n.kind == "feature"}


def view_roles(fragment: GraphFragment) -> dict[str, tuple[list[str], str | None]]:
    return {
        n.id: (sorted(n.attrs["entity_keys"]), n.attrs["timestamp_field"])
        for n in fragment.nodes
        if n.kind == "feature_view"
    }


# --- real Feast ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def feast_registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """tests/data/feast_repo after a real `feast apply`, and its `feast registry-dump`."""
    feast = FEAST_VENV / "bin" / "feast"
    if not feast.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{feast} missing: .ci/run creates the Feast venv")
        pytest.skip(f"Feast venv not installed ({feast}; see .ci/run)")
    repo = tmp_path_factory.mktemp("feast") / "repo"
    shutil.copytree(REPO_DATA, repo)
    (repo / "data").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["FEAST_USAGE"] = "False"
    for argv in (["apply"], ["registry-dump"]):
        proc = subprocess.run(
            [str(feast), *argv], cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    return repo, json.loads(proc.stdout[proc.stdout.index("{") :])


def _registered_feature_map(dump: dict[str, Any]) -> dict[str, str]:
    """feature -> source column name, straight from Feast's registry (fieldMapping rule)."""
    out = {}
    for item in dump["featureViews"]:
        spec = item["spec"]
        mapping = {v: k for k, v in spec["batchSource"].get("fieldMapping", {}).items()}
        for feature in spec["features"]:
            name = feature["name"]
            out[f"feast:feature/{spec['name']}.{name}"] = mapping.get(name, name)
    return out


def test_static_reading_agrees_with_feast_apply(
    feast_registry: tuple[Path, dict[str, Any]],
) -> None:
    repo, dump = feast_registry
    static = _fetch(repo, repo)
    assert static.status == "ok", static.detail
    registered = _registered_feature_map(dump)
    features = feature_map(static)
    assert set(features) == set(registered)
    for feature, column in registered.items():
        assert [c.split("#", 1)[1] for c in features[feature]] == [column], feature
    assert features["feast:feature/order_features.order_amount"] == ["analytics.orders#amount"]
    # a query source: the features read its output columns; the analysis binds its SQL
    assert features["feast:feature/order_stats.doubled"] == [
        "feast:query/order_stats_query#doubled"
    ]
    registered_sql = {
        _source_query(i["spec"]["batchSource"])
        for i in dump["featureViews"]
        if i["spec"]["name"] == "order_stats"
    }
    assert registered_sql == {_node(static, "feast:query/order_stats_query").sql}
    # entity join keys as Feast registered them
    keys = {
        f"feast:feature_view/{i['spec']['name']}": sorted(
            c["name"] for c in i["spec"].get("entityColumns", [])
        )
        for i in dump["featureViews"]
    }
    roles = view_roles(static)
    assert {v: [k.split("#", 1)[1] for k in r[0]] for v, r in roles.items()} == keys
    timestamps = {
        f"feast:feature_view/{i['spec']['name']}": i["spec"]["batchSource"]["timestampField"]
        for i in dump["featureViews"]
    }
    assert {v: r[1].split("#", 1)[1] if r[1] else None for v, r in roles.items()} == timestamps
    # and the registry dump read by the checker says the same as the static reading
    dumped = tmp_dump = repo / "registry.json"
    tmp_dump.write_text(json.dumps(dump))
    from_dump = _fetch(dumped, repo)
    assert feature_map(from_dump) == features
    assert view_roles(from_dump) == roles


def _source_query(source: dict[str, Any]) -> str | None:
    """The query of a registered batch source (a PostgreSQLSource keeps it base64-encoded)."""
    import base64

    config = source.get("customOptions", {}).get("configuration")
    if config:
        return str(json.loads(base64.b64decode(config))["query"])
    return None


def _node(fragment: GraphFragment, node_id: str) -> Any:
    return next(n for n in fragment.nodes if n.id == node_id)


def test_feature_services_match_the_registry(feast_registry: tuple[Path, dict[str, Any]]) -> None:
    repo, dump = feast_registry
    static = _fetch(repo, repo)
    served = {
        e.dst.split("/", 1)[1]: set() for e in static.edges if e.dst.startswith("feast:feature_s")
    }
    for edge in static.edges:
        if edge.dst.startswith("feast:feature_service/"):
            served[edge.dst.split("/", 1)[1]].add(edge.src.split("/", 1)[1])
    registered = {
        s["spec"]["name"]: {
            f"{f['featureViewName']}.{c['name']}"
            for f in s["spec"]["features"]
            for c in f["featureColumns"]
        }
        for s in dump["featureServices"]
    }
    assert served == registered


# --- recorded registry payloads ------------------------------------------------------------


def test_recorded_registry_dump_decodes_postgres_sources() -> None:
    fragment = _fetch(FIXTURES / "registry-dump.feast-0.67.json", FIXTURES)
    assert fragment.status == "ok", fragment.detail
    features = feature_map(fragment)
    assert features["feast:feature/customers_pg.customer_lifetime_value"] == [
        "analytics.customers#customer_lifetime_value"
    ]
    assert features["feast:feature/order_amounts.amount"] == ["feast:query/orders_pg_source#amount"]
    query = _node(fragment, "feast:query/orders_pg_source")
    assert query.sql == "SELECT customer_id, amount, order_date FROM analytics.orders"
    assert (query.kind, query.dialect) == ("data_source", "postgres")
    assert features["feast:feature/customer_features.lifetime_value"] == [
        "feast:file/data/customer_features.parquet#customer_lifetime_value"
    ]
    assert fragment.counts["features of on-demand views served (not traced)"] == 3
    view = next(n for n in fragment.nodes if n.id == "feast:feature_view/customer_features")
    assert view.owners == ["ml-platform"]
    assert (
        view.expects["feast:file/data/customer_features.parquet#customer_lifetime_value"]
        == "DOUBLE"
    )


def test_file_sources_map_to_relations_through_options() -> None:
    fragment = _fetch(
        FIXTURES,
        FIXTURES.parent,
        files={"data/customer_features.parquet": "Analytics.Customers"},
    )
    features = feature_map(fragment)
    assert features["feast:feature/customer_features.lifetime_value"] == [
        "analytics.customers#customer_lifetime_value"
    ]


def _serve_rest(httpserver: HTTPServer) -> None:
    for route, name in (
        ("/api/v1/projects", "rest-projects.json"),
        ("/api/v1/lineage/complete", "rest-lineage-complete.json"),
    ):
        httpserver.expect_request(route).respond_with_data(
            (FIXTURES / name).read_bytes(), content_type="application/json"
        )


def test_rest_registry_server_gives_the_same_features_as_the_dump(httpserver: HTTPServer) -> None:
    _serve_rest(httpserver)
    rest = _fetch(httpserver.url_for("/api/v1"), FIXTURES)
    assert rest.status == "ok", rest.detail
    dump = _fetch(FIXTURES / "registry-dump.feast-0.67.json", FIXTURES)
    assert feature_map(rest) == feature_map(dump)
    assert view_roles(rest) == view_roles(dump)


def test_rest_server_error_and_timeout_fail_the_source_naming_the_url(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/api/v1/projects").respond_with_data("boom", status=500)
    failed = _fetch(httpserver.url_for("/api/v1"), FIXTURES, retries=1, backoff=0.01)
    assert failed.status == "failed"
    assert "/api/v1/projects" in failed.detail and "HTTP 500" in failed.detail
    httpserver.clear()

    def slow(_request: Any) -> Response:
        import time

        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/v1/lineage/complete").respond_with_handler(slow)
    spec = LineageSource(
        kind="feast",
        location=httpserver.url_for("/api/v1"),
        timeout=0.3,
        options={"project": "demo", "retries": 0},
    )
    timed_out = fetch_one(spec, SourceContext(root=FIXTURES, use_cache=False))
    assert timed_out.status == "failed" and "timed out" in timed_out.detail


@pytest.mark.parametrize(
    "content", ['{"project": "demo", "featureViews": [{"spec"', "<html>not json</html>", ""]
)
def test_truncated_or_non_json_dump_fails_naming_the_file(tmp_path: Path, content: str) -> None:
    dump = tmp_path / "registry.json"
    dump.write_text(content)
    fragment = _fetch(dump, tmp_path)
    assert fragment.status == "failed"
    assert str(dump) in fragment.detail and "registry dump" in fragment.detail


# --- never executed ------------------------------------------------------------------------

MALICIOUS = """\
import pathlib
pathlib.Path({marker!r}).write_text("executed")
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Int64
__import__("os").system("touch " + {marker!r})

src = FileSource(name="s", path="data/s.parquet", timestamp_field="ts")
e = Entity(name="user", join_keys=["user_id"])
fv = FeatureView(name="evil", entities=[e], schema=[Field(name="clicks", dtype=Int64)], source=src)
"""


def test_definitions_are_never_imported_or_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed.marker"
    repo = GitRepo(tmp_path / "repo")
    source = MALICIOUS.format(marker=str(marker))
    # the file does write the marker when run: the test can fail
    probe = tmp_path / "probe.py"
    probe.write_text(source.split("from feast")[0])
    subprocess.run([sys.executable, str(probe)], check=True)
    assert marker.exists()
    marker.unlink()
    repo.commit(
        {
            "features/evil.py": source,
            "db/V1.sql": "CREATE TABLE raw.t (id INT);\n",
            ".impact-check.yml": "lineage:\n  - kind: feast\n    location: features\n",
        }
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V2.sql": "ALTER TABLE raw.t ADD COLUMN x INT;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0
    (status,) = [s for s in report["sources"] if s["kind"] == "feast"]
    assert status["status"] == "ok" and status["nodes"] > 0
    fragment = _fetch(repo.root / "features", repo.root)
    assert "feast:feature/evil.clicks" in feature_map(fragment)
    assert not marker.exists()


# --- bad input -----------------------------------------------------------------------------

GOOD = """\
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Int64

user = Entity(name="user", join_keys=["user_id"])
clicks_source = FileSource(name="clicks", path="data/clicks.parquet", timestamp_field="ts")
clicks = FeatureView(
    name="clicks",
    entities=[user],
    schema=[Field(name="user_id", dtype=Int64), Field(name="clicks", dtype=Int64)],
    source=clicks_source,
)
"""
DYNAMIC = """\
from feast import FeatureView, Field, FileSource
from feast.types import Int64
from good import user

TABLES = ["a", "b"]
views = []
for table in TABLES:
    views.append(FeatureView(name=table, entities=[user], schema=[], source=None))


def make_view(name):
    return FeatureView(name=name, entities=[user], schema=[], source=None)


made = make_view("made")
named = FeatureView(
    name=get_name(),
    entities=[user],
    schema=[Field(name="x", dtype=Int64)],
    source=FileSource(path="x.parquet", timestamp_field="ts"),
)
"""


def test_syntax_errors_and_dynamic_definitions_are_an910_with_file_and_line(
    tmp_path: Path,
) -> None:
    root = tmp_path / "feature_repo"
    root.mkdir()
    (root / "good.py").write_text(GOOD)
    (root / "broken.py").write_text("from feast import Entity\nuser = Entity(name='u'\n")
    (root / "dynamic.py").write_text(DYNAMIC)
    fragment = _fetch(root, tmp_path)
    assert fragment.status == "partial"
    issues = {(i.file, i.line): i.message for i in fragment.issues}
    assert all(i.rule == "AN910" for i in fragment.issues)
    assert "syntax error" in issues[("feature_repo/broken.py", 2)]
    assert "`for` statement" in issues[("feature_repo/dynamic.py", 7)]
    assert "make_view" in issues[("feature_repo/dynamic.py", 15)]
    assert "name not resolved" in issues[("feature_repo/dynamic.py", 16)]
    assert len(issues) == 4
    # everything else is still read
    assert feature_map(fragment) == {
        "feast:feature/clicks.clicks": ["feast:file/data/clicks.parquet#clicks"]
    }


def test_an910_reaches_the_report_with_file_and_line(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {
            "feature_repo/good.py": GOOD,
            "feature_repo/dynamic.py": DYNAMIC,
            "db/V1.sql": "CREATE TABLE raw.t (id INT);\n",
            ".impact-check.yml": "lineage:\n  - kind: feast\n    location: feature_repo\n",
        }
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"db/V2.sql": "ALTER TABLE raw.t ADD COLUMN x INT;\n"})
    _code, report = repo.report("--base", "main", "--head", "feature")
    an910 = [f for f in report["findings"] if f["rule"] == "AN910"]
    assert {(f["location"]["file"], f["location"]["line"]) for f in an910} == {
        ("feature_repo/dynamic.py", 7),
        ("feature_repo/dynamic.py", 15),
        ("feature_repo/dynamic.py", 16),
    }
    assert not [f for f in report["findings"] if f["rule"] == "AN905"]


# --- end to end ----------------------------------------------------------------------------

WAREHOUSE = {
    "migrations/V1__orders.sql": (
        "CREATE SCHEMA analytics;\n"
        "CREATE TABLE analytics.orders (customer_id BIGINT, amount DOUBLE, status TEXT, "
        "ordered_at TIMESTAMP, loaded_at TIMESTAMP);\n"
    ),
    "feature_repo/orders.py": """\
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, Int64, String

customer = Entity(name="customer", join_keys=["customer_id"])
orders = PostgreSQLSource(
    name="orders", table="analytics.orders", timestamp_field="ordered_at",
    field_mapping={"amount": "order_amount"},
)
order_view = FeatureView(
    name="order_features", entities=[customer], ttl=timedelta(days=1),
    schema=[Field(name="order_amount", dtype=Float64), Field(name="status", dtype=String)],
    source=orders, owner="growth@example.com",
)
checkout = FeatureService(name="checkout_v1", features=[order_view[["order_amount"]]])
""",
    ".impact-check.yml": "lineage:\n  - kind: feast\n    location: feature_repo\n",
}


@pytest.fixture
def warehouse(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(WAREHOUSE, "base")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def test_dropping_the_source_column_names_feature_view_and_service(warehouse: GitRepo) -> None:
    warehouse.commit(
        {"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN amount;\n"}
    )
    code, report = warehouse.report("--base", "main", "--head", "feature")
    assert code == 1 and report["summary"]["failed"]
    (drop,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    broken = {i["node"]["id"] for i in drop["impacted"] if i["breaks"]}
    assert broken == {
        "feast:feature/order_features.order_amount",
        "feast:feature_view/order_features",
        "feast:feature_service/checkout_v1",
    }
    feature = next(
        i
        for i in drop["impacted"]
        if i["node"]["id"] == "feast:feature/order_features.order_amount"
    )
    assert feature["path"] == [
        "analytics.orders#amount",
        "feast:feature/order_features.order_amount",
    ]
    # the other feature of the view reads a column that still exists
    assert "feast:feature/order_features.status" not in broken


def test_dropping_an_unused_column_breaks_no_feature(warehouse: GitRepo) -> None:
    warehouse.commit(
        {"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN loaded_at;\n"}
    )
    _code, report = warehouse.report("--base", "main", "--head", "feature")
    broken = {i["node"]["id"] for f in report["findings"] for i in f["impacted"] if i["breaks"]}
    assert not {b for b in broken if b.startswith("feast:")}


def test_dropping_the_entity_key_breaks_every_feature(warehouse: GitRepo) -> None:
    warehouse.commit(
        {"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN customer_id;\n"}
    )
    _code, report = warehouse.report("--base", "main", "--head", "feature")
    (drop,) = [f for f in report["findings"] if f["rule"] == "CO201"]
    broken = {i["node"]["id"] for i in drop["impacted"] if i["breaks"]}
    assert {
        "feast:feature/order_features.order_amount",
        "feast:feature/order_features.status",
        "feast:feature_view/order_features",
        "feast:feature_service/checkout_v1",
    } <= broken


def test_ml_rules_name_the_feature_view_and_service(warehouse: GitRepo) -> None:
    warehouse.commit(
        {"migrations/V2__drop.sql": "ALTER TABLE analytics.orders DROP COLUMN amount;\n"}
    )
    _code, report = warehouse.report("--base", "main", "--head", "feature")
    (ml701,) = [f for f in report["findings"] if f["rule"] == "ML701"]
    assert ml701["severity"] == "error"
    for name in ("order_features:order_amount", "feature view order_features", "checkout_v1"):
        assert name in ml701["message"]


def test_incompatible_retype_is_ml702_and_key_retype_ml703(warehouse: GitRepo) -> None:
    warehouse.commit(
        {
            "migrations/V2__retype.sql": (
                "ALTER TABLE analytics.orders ALTER COLUMN amount TYPE TEXT;\n"
                "ALTER TABLE analytics.orders ALTER COLUMN customer_id TYPE TEXT;\n"
            )
        }
    )
    _code, report = warehouse.report("--base", "main", "--head", "feature")
    rules = {f["rule"]: f for f in report["findings"]}
    assert "Float64" in rules["ML702"]["message"] and rules["ML702"]["severity"] == "error"
    assert "entity join key of feature view order_features" in rules["ML703"]["message"]


def test_static_reader_follows_constants_imports_and_mappings() -> None:
    fragment = _fetch(REPO_DATA, REPO_DATA)
    assert fragment.status == "ok", fragment.detail
    features = feature_map(fragment)
    # table=ORDERS_TABLE imported from tables.py; field_mapping amount -> order_amount
    assert features["feast:feature/order_features.order_amount"] == ["analytics.orders#amount"]
    assert features["feast:feature/order_features.order_status"] == ["analytics.orders#status"]
    # a query built from an f-string of imported constants, carried to the analysis
    assert features["feast:feature/order_stats.doubled"] == [
        "feast:query/order_stats_query#doubled"
    ]
    stats_query = _node(fragment, "feast:query/order_stats_query")
    assert "FROM analytics.orders o JOIN analytics.customers c" in str(stats_query.sql)
    view = next(n for n in fragment.nodes if n.id == "feast:feature_view/order_features")
    assert view.attrs["entity_keys"] == ["analytics.orders#customer_id"]  # pg_customer, imported
    assert view.attrs["timestamp_field"] == "analytics.orders#ordered_at"
    assert view.attrs["created_timestamp_column"] == "analytics.orders#loaded_at"
    assert view.expects["analytics.orders#tags"] == "Array(String)"
    assert view.owners == ["growth@example.com"]
    stats = _node(fragment, "feast:feature_view/order_stats")
    assert stats.attrs["timestamp_field"] == "feast:query/order_stats_query#ordered_at"


QUERY_REPO = {
    "migrations/V1__orders.sql": (
        "CREATE SCHEMA raw;\n"
        "CREATE TABLE raw.orders (customer_id BIGINT, amount DOUBLE PRECISION, status TEXT, "
        "ordered_at TIMESTAMP);\n"
    ),
    "feature_repo/orders.py": """\
from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field
from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import (
    PostgreSQLSource,
)
from feast.types import Float64, String

customer = Entity(name="customer", join_keys=["customer_id"])
orders = PostgreSQLSource(
    name="orders_query", query="SELECT * FROM raw.orders", timestamp_field="ordered_at"
)
order_view = FeatureView(
    name="order_features", entities=[customer], ttl=timedelta(days=1),
    schema=[Field(name="amount", dtype=Float64), Field(name="status", dtype=String)],
    source=orders,
)
checkout = FeatureService(name="checkout_v1", features=[order_view[["status"]]])
""",
    ".impact-check.yml": "dialect: postgres\nlineage:\n  - {kind: feast, location: feature_repo}\n",
}
# What Feast's PostgreSQL offline store runs for a feature: the source query as a subquery.
FEATURE_SQL = "SELECT {column} FROM (SELECT * FROM raw.orders) AS source"


@pytest.mark.postgres
def test_a_field_no_longer_coming_out_of_a_star_query_source_breaks_and_postgres_agrees(
    tmp_path: Path, postgres_dsn: str
) -> None:
    import psycopg

    repo = GitRepo(tmp_path / "repo")
    repo.commit(QUERY_REPO, "base")
    repo.git("checkout", "-q", "-b", "feature")
    drop = "ALTER TABLE raw.orders DROP COLUMN amount;\n"
    repo.commit({"migrations/V2__drop.sql": drop})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 1
    (ml701,) = [f for f in report["findings"] if f["rule"] == "ML701"]
    verdicts = {i["node"]["id"]: (i["breaks"], i["certainty"]) for i in ml701["impacted"]}
    assert verdicts["feast:feature/order_features.amount"] == (True, "certain")
    assert verdicts["feast:feature_view/order_features"] == (True, "certain")
    assert "order_features:amount" in ml701["message"]
    # the other feature (and the service serving only it) still materialise
    broken = {n for n, (b, _c) in verdicts.items() if b}
    assert "feast:feature/order_features.status" not in broken
    assert "feast:feature_service/checkout_v1" not in broken
    # truth: PostgreSQL runs both features' queries at base, only `status` at head
    with psycopg.connect(postgres_dsn, autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS raw CASCADE")
        con.execute(QUERY_REPO["migrations/V1__orders.sql"])
        for column in ("amount", "status"):
            con.execute(FEATURE_SQL.format(column=column))
        con.execute(drop)
        con.execute(FEATURE_SQL.format(column="status"))
        with pytest.raises(psycopg.errors.UndefinedColumn):
            con.execute(FEATURE_SQL.format(column="amount"))
        con.execute("DROP SCHEMA raw CASCADE")


def test_a_column_a_star_query_source_passes_but_no_feature_reads_is_harmless(
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(QUERY_REPO, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"migrations/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN note TEXT;\n"})
    code, report = repo.report("--base", "main", "--head", "feature")
    assert code == 0
    assert not [i for f in report["findings"] for i in f["impacted"] if i["breaks"]]
