"""Regenerate tests/data/gx_pg (a GX 1.x file project) with real Great Expectations.

Run with the GX venv's Python: ``python make_gx_project.py DIR``; then copy DIR/gx without
``uncommitted/``. Its datasource reads ``${GX_PG_URL}`` (tests/dq/gx_runner.py sets it).
"""

import sys

import great_expectations as gx
import great_expectations.expectations as gxe

root = sys.argv[1]
ctx = gx.get_context(mode="file", project_root_dir=root)
ds = ctx.data_sources.add_postgres(name="wh", connection_string="${GX_PG_URL}")
asset = ds.add_table_asset(name="orders_asset", table_name="orders", schema_name="shop")
bd = asset.add_batch_definition_whole_table("all")
q = ds.add_query_asset(
    name="big_orders", query="select id, amount from shop.orders where amount > 15"
)
qbd = q.add_batch_definition_whole_table("all")
suite = ctx.suites.add(
    gx.ExpectationSuite(name="orders_suite", meta={"owner": "data-quality@example.com"})
)
for e in [
    gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=1000),
    gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
    gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["paid", "open"]),
    gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="amount", column_B="id", or_equal=True),
    gxe.ExpectTableColumnsToMatchSet(column_set=["id", "customer_id", "amount", "status", "qty"]),
    gxe.ExpectTableColumnsToMatchOrderedList(
        column_list=["id", "customer_id", "amount", "status", "qty"]
    ),
    gxe.ExpectTableColumnCountToEqual(value=5),
    gxe.ExpectColumnValuesToBeOfType(column="qty", type_="INTEGER"),
    gxe.ExpectColumnValuesToBeInTypeList(column="customer_id", type_list=["INTEGER", "BIGINT"]),
    gxe.ExpectColumnMeanToBeBetween(column="qty", min_value=0, max_value=100),
    gxe.ExpectColumnValuesToNotBeNull(
        column="status", row_condition='col("qty")>0', condition_parser="great_expectations"
    ),
    gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=100),
    gxe.ExpectColumnValueLengthsToBeBetween(column="status", min_value=1, max_value=10),
    gxe.ExpectColumnMaxToBeBetween(column="qty", min_value=0, max_value=100),
    gxe.UnexpectedRowsExpectation(unexpected_rows_query="SELECT * FROM {batch} WHERE qty < 0"),
]:
    suite.add_expectation(e)
vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="orders_vd", data=bd, suite=suite))
qsuite = ctx.suites.add(gx.ExpectationSuite(name="big_suite"))
qsuite.add_expectation(
    gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=1000)
)
qsuite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="id"))
qvd = ctx.validation_definitions.add(gx.ValidationDefinition(name="big_vd", data=qbd, suite=qsuite))
ctx.checkpoints.add(gx.Checkpoint(name="orders_cp", validation_definitions=[vd, qvd]))
