"""For each rule: a change that triggers it and the safe way to do the same thing.

Shown by ``impact-check rules``; every rule must have both (tests/test_rules_catalogue.py).
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, str]] = {
    "TB101": (
        "DROP TABLE raw.orders;",
        "-- first move every consumer listed, then drop in a later release",
    ),
    "TB102": (
        "ALTER TABLE raw.orders RENAME TO orders_v2;",
        "ALTER TABLE raw.orders RENAME TO orders_v2;\n"
        "CREATE VIEW raw.orders AS SELECT * FROM raw.orders_v2;  -- compatibility view",
    ),
    "TB105": (
        "CREATE VIEW raw.orders AS SELECT * FROM raw.orders_v2;  -- was a table",
        "-- keep writers on the table; point readers at the view",
    ),
    "CO207": (
        "SELECT id FROM raw.orders  -- orders.yml (ODCS) still promises `amount`",
        "SELECT id, amount FROM raw.orders  -- or publish a new contract version",
    ),
    "TB104": (
        "# schema.yml\nconfig:\n  contract:\n    enforced: false  # was true",
        "# keep the contract; publish an incompatible change as a new model version",
    ),
    "TB107": (
        "# schema.yml: versions [1, 2] -> [2], while a model still has ref('dim', v=1)",
        "# move every ref('dim', v=1) to v=2, then remove version 1 after its deprecation_date",
    ),
    "VL603": (
        "accepted_values: {values: [placed, shipped]}  # was [placed, shipped, returned]",
        "# keep the value accepted until consumers filtering on it have moved",
    ),
    "VL604": (
        "accepted_values: {values: [placed, shipped, returned, lost]}  # 'lost' is new",
        "(widening is compatible; tell consumers with fixed vocabularies about 'lost')",
    ),
    "TB108": (
        "CREATE VIEW mart.v AS SELECT amount_typo FROM raw.orders;",
        "CREATE VIEW mart.v AS SELECT amount FROM raw.orders;",
    ),
    "CO201": (
        "ALTER TABLE raw.orders DROP COLUMN amount;",
        "-- deprecate: keep amount until its consumers moved, then drop it",
    ),
    "CO202": (
        "ALTER TABLE raw.orders RENAME COLUMN amount TO gross_amount;",
        "ALTER TABLE raw.orders ADD COLUMN gross_amount DECIMAL(12, 2);\n"
        "-- or in a view: SELECT amount AS gross_amount, amount AS amount  (old name kept)",
    ),
    "CO203": (
        "ALTER TABLE raw.orders ADD COLUMN currency CHAR(3);",
        "(adding a nullable column is already the safe form)",
    ),
    "CO204": (
        "CREATE VIEW mart.v AS SELECT b, a FROM raw.t;  -- was SELECT a, b",
        "keep the order, or make positional readers name their columns",
    ),
    "CO206": (
        "ALTER TABLE raw.orders ADD COLUMN region TEXT NOT NULL;",
        "ALTER TABLE raw.orders ADD COLUMN region TEXT NOT NULL DEFAULT 'unknown';",
    ),
    "TY301": (
        "ALTER TABLE raw.orders ALTER COLUMN amount TYPE VARCHAR;",
        "ALTER TABLE raw.orders ADD COLUMN amount_text VARCHAR;",
    ),
    "TY302": (
        "ALTER TABLE raw.orders ALTER COLUMN id TYPE INT;  -- was BIGINT",
        "ALTER TABLE raw.orders ALTER COLUMN id TYPE BIGINT;  -- widen, never narrow",
    ),
    "TY303": (
        "ALTER TABLE raw.orders ALTER COLUMN amount TYPE DECIMAL(18, 2);",
        "(widening is compatible; update typed consumers such as ML signatures)",
    ),
    "TY304": (
        "ALTER TABLE raw.t ALTER COLUMN code TYPE VARCHAR;  -- was TEXT",
        "(same type, other spelling: nothing to do)",
    ),
    "TY305": (
        "ALTER TABLE raw.e ALTER COLUMN payload TYPE STRUCT(a INT);  -- lost field b",
        "ALTER TABLE raw.e ALTER COLUMN payload TYPE STRUCT(a INT, b VARCHAR, c INT);",
    ),
    "CN401": (
        "ALTER TABLE raw.orders ALTER COLUMN customer_id DROP NOT NULL;",
        "-- keep NOT NULL; store unknowns as an explicit sentinel row",
    ),
    "CN402": (
        "ALTER TABLE raw.orders ALTER COLUMN note SET NOT NULL;",
        "backfill NULLs first, then SET NOT NULL",
    ),
    "CN403": (
        "CREATE TABLE raw.customers (id INT, name TEXT);  -- id was UNIQUE",
        "keep the key; deduplicate upstream instead",
    ),
    "CN404": (
        "ALTER TABLE raw.orders ADD PRIMARY KEY (id);",
        "check for duplicates first:\nSELECT id FROM raw.orders GROUP BY id HAVING COUNT(*) > 1",
    ),
    "CN405": (
        "ALTER TABLE raw.orders ALTER COLUMN status SET DEFAULT 'new';",
        "change writers explicitly rather than the default",
    ),
    "CN406": (
        "ALTER TABLE raw.orders DROP CONSTRAINT fk_customer;",
        "keep the constraint; fix the rows that violate it",
    ),
    "RS501": (
        "CREATE VIEW mart.v AS SELECT * FROM raw.orders WHERE status = 'paid';",
        "add a new view for the filtered rows; keep mart.v unfiltered",
    ),
    "RS502": (
        "... GROUP BY customer_id, day  -- was GROUP BY customer_id",
        "publish the new grain as a new model; keep the old one",
    ),
    "RS503": (
        "... LEFT JOIN raw.customers c ON ...  -- was JOIN",
        "announce the change to the consumers listed, or add a new model",
    ),
    "RS504": (
        "SELECT id, UNNEST(tags) AS tag FROM raw.posts",
        "explode in a separate model whose grain is documented",
    ),
    "RS505": (
        "CREATE VIEW mart.v AS SELECT id FROM raw.orders_v2;  -- was raw.orders",
        "make sure the new source has the same grain and history",
    ),
    "RS506": (
        "CREATE VIEW mart.v AS SELECT id FROM raw.orders LIMIT 100;",
        "sample in the consumer that needs a sample",
    ),
    "VL601": (
        "SELECT amount * 1.2 AS amount  -- was amount",
        "SELECT amount, amount * 1.2 AS amount_with_tax  -- a new column",
    ),
    "VL602": (
        "SELECT MAX(amount) AS amount  -- was SUM(amount)",
        "SELECT SUM(amount) AS amount, MAX(amount) AS max_amount",
    ),
    "ML701": (
        "ALTER TABLE analytics.customer_features DROP COLUMN lifetime_value;"
        "  -- a feature and churn_model/3 read it",
        "-- keep the column until the feature view and the model moved; retrain, re-register",
    ),
    "ML702": (
        "ALTER TABLE analytics.customer_features ALTER COLUMN number_of_orders TYPE DOUBLE;"
        "  -- signature says long",
        "keep BIGINT (or CAST in the view), or retrain and log the new signature first",
    ),
    "ML703": (
        "ALTER TABLE analytics.customer_features RENAME COLUMN customer_id TO cust_id;"
        "  -- entity join key",
        "ALTER TABLE analytics.customer_features ADD COLUMN cust_id BIGINT;"
        "  -- new key alongside the old one",
    ),
    "MS101": (
        '{"name": "region", "type": "string"}  # added to orders.avsc, no default',
        '{"name": "region", "type": "string", "default": "eu"}',
    ),
    "MS102": (
        "message Order { int64 id = 1; }  // was: double amount = 2;",
        'message Order { int64 id = 1; reserved 2; reserved "amount"; }',
    ),
    "MS103": (
        '{"name": "amount", "type": "string"}  # was "double"',
        '{"name": "amount_text", "type": ["null", "string"], "default": null}  # a new field',
    ),
    "MS104": (
        "double total = 2;  // was: double amount = 2;",
        "double amount = 2;\ndouble total = 3;  // a new field beside the old one",
    ),
    "MS105": (
        '{"type": "record", "name": "Purchase", ...}  # was "Order"',
        '{"type": "record", "name": "Purchase", "aliases": ["shop.Order"], ...}',
    ),
    "MS106": (
        '{"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}  # SHIPPED removed',
        '{"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"], "default": "NEW"}',
    ),
    "MS107": (
        '{"name": "choice", "type": ["int"]}  # was ["int", "string"]',
        '{"name": "choice", "type": ["int", "string"]}  # keep the branch',
    ),
    "MS108": (
        '{"type": "fixed", "name": "Hash", "size": 32}  # was 16',
        '{"type": "fixed", "name": "Hash256", "size": 32}  # a new type, in a new field',
    ),
    "MS109": (
        "repeated double amount = 2;  // was: double amount = 2;",
        "double amount = 2;\nrepeated double amounts = 3;",
    ),
    "MS110": (
        "oneof payment { string card = 9; string status = 3; }  // status moved in",
        "oneof payment { string card = 9; string new_status = 13; }",
    ),
    "MS111": (
        "message Order { ... }  // was: reserved 20, 30 to 39;",
        "message Order { ... reserved 20, 30 to 39; }  // never remove reservations",
    ),
    "MS112": (
        'optional string name = 2 [default = "n/a"];  // was "none"',
        'optional string name = 2 [default = "none"];',
    ),
    "MS113": (
        '"additionalProperties": false  # added to orders.schema.json',
        "leave the content model open (or check FORWARD first, when writers comply)",
    ),
    "MS114": (
        "git rm schemas/orders.avsc  # topics.orders-cdc still names it",
        "keep the file while the subject has readers; remove the topic mapping first",
    ),
    "MS118": (
        '"allOf": [{"required": ["id"]}]  # changed in orders.schema.json',
        "express it with properties/required, which are compared",
    ),
    "MS119": (
        '{"type": "record", "name": "Order", "fields": [  # truncated .avsc',
        "fix the file at the line the finding names",
    ),
    "AN901": (
        "CREATE VIEW mart.bad AS SELECT FROM WHERE (;",
        "fix the SQL or set `dialect` / `dialects` in .impact-check.yml",
    ),
    "AN902": (
        "CREATE VIEW mart.v AS SELECT * FROM external.events;",
        "CREATE VIEW mart.v AS SELECT id, kind FROM external.events;",
    ),
    "AN903": (
        "ALTER TABLE mart.ctas_table ADD COLUMN x INT;  -- on a CTAS table",
        "change the CTAS definition instead",
    ),
    "AN904": (
        "a changed file in a dbt project (not analysed yet)",
        "review the consumers by hand until dbt support lands",
    ),
    "AN908": (
        "select {{ dbt_utils.star(ref('orders')) }} from {{ ref('orders') }}",
        "select id, amount from {{ ref('orders') }}  -- or provide a manifest",
    ),
    "AN910": (
        "for name in TABLES: views.append(FeatureView(name=name, ...))  # in a Feast repo",
        'orders_view = FeatureView(name="orders", ...)  # or configure a registry dump',
    ),
    "AN905": (
        "--lineage openlineage:events/  (the directory is missing, or a line is not JSON)",
        "fix the source the report's `sources` entry names; on_source_error: fail to insist",
    ),
    "AN915": (
        "git clone --filter=blob:limit=1k …  # then the remote is gone: big blobs never arrive",
        "actions/checkout with fetch-depth: 0 and no `filter` (or keep the remote reachable)",
    ),
    "AN909": (
        "impact-check check --timeout 5  # on a repository that takes a minute",
        "a timeout above the check's usual time (the report says when it is partial)",
    ),
    "AN906": (
        "ignores: [{rule: CO201, object: gone.table, reason: old}]  -- matches nothing",
        "remove ignore entries once they match nothing",
    ),
    "AN907": (
        "-- impact-check: ignore[CO201]   (no reason)",
        "-- impact-check: ignore[CO201] reason: rebuilt in the same release",
    ),
}
