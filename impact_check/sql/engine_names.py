"""The names engines give to output columns written without an alias.

``SELECT count(*), max(a), a + 1 FROM t`` makes columns a consumer can read by name:
DuckDB calls them ``count_star()``, ``max(a)``, ``(a + 1)`` (its rendering of the
expression), PostgreSQL ``count``, ``max``, ``?column?`` (the function's name, else
``?column?``), BigQuery ``f0_``, ``f1_``… (numbered), Snowflake the expression's text in
upper case. sqlglot calls them all ``_col_0``…, so a reader of ``"count_star()"`` would
look broken where it is not, and stay unnoticed when it does break.

Each name comes with whether it is exact: DuckDB's rendering is reproduced for the
expressions listed here (checked against the engine by the tests), PostgreSQL's and
BigQuery's rules are exact; other expressions and dialects get an approximation, and a
reader of a name the checker did not predict is then not called broken (see
``Dataset.names_guessed``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from impact_check.sql.names import case_insensitive

Named = tuple[str, bool]  # (name, exact)

_POSTGRES_LIKE = {"postgres", "redshift", "materialize", "risingwave"}


def name_outputs(selects: list[exp.Select], dialect: str, root: exp.Expr) -> set[str]:
    """Alias every unaliased computed projection of ``selects`` with its engine name, in
    place; the root query's names that are approximations are returned."""
    namer = _NAMERS.get(dialect)
    fold = case_insensitive(dialect)
    guessed: set[str] = set()
    for select in selects:
        projections = select.expressions
        if not any(_unnamed(p) for p in projections):
            continue
        counter = 0
        renamed = []
        for projection in projections:
            if not _unnamed(projection):
                renamed.append(projection)
                continue
            if dialect == "bigquery":
                name, exact = f"f{counter}_", True
                counter += 1
            elif namer is not None:
                name, exact = namer(projection)
            else:
                name, exact = projection.sql(dialect=dialect), False
            if fold:
                name = name.lower()
            if not exact and select is root:
                guessed.add(name)
            renamed.append(exp.Alias(this=projection, alias=exp.to_identifier(name, quoted=True)))
        select.set("expressions", renamed)
    if dialect == "duckdb" and isinstance(root, exp.Select):
        _number_duplicates(root)
    return guessed


def _number_duplicates(select: exp.Select) -> None:
    """DuckDB names a view's repeated output names ``a``, ``a_1``, ``a_2``…"""
    names = [p.alias_or_name for p in select.expressions]
    if any(
        isinstance(p, exp.Star) or (isinstance(p, exp.Column) and p.is_star)
        for p in select.expressions
    ):
        return  # expanded later: the names are not all known here
    seen: dict[str, int] = {}
    renamed = []
    changed = False
    for projection, name in zip(select.expressions, names):
        count = seen.get(name.lower(), 0)
        seen[name.lower()] = count + 1
        if count and name:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            projection = exp.Alias(
                this=inner, alias=exp.to_identifier(f"{name}_{count}", quoted=True)
            )
            changed = True
        renamed.append(projection)
    if changed:
        select.set("expressions", renamed)


def _unnamed(projection: exp.Expr) -> bool:
    """A projection the engine names from its expression (not an alias, column or `*`)."""
    if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
        return False
    if isinstance(projection, exp.Dot):  # `info.a` is named `a`; `(unnest(arr)).x` is not
        node: exp.Expr = projection
        while isinstance(node, exp.Dot):
            node = node.this
        return not isinstance(node, exp.Column)
    return True


# -- DuckDB: its rendering of the parsed expression ------------------------------------

# sqlglot class -> DuckDB's function name, where no other DuckDB name parses to the class
_DUCK_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Count: "count",
    exp.Sum: "sum",
    exp.Min: "min",
    exp.Max: "max",
    exp.Avg: "avg",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Sqrt: "sqrt",
    exp.Exp: "exp",
    exp.Ln: "ln",
    exp.Sign: "sign",
    exp.Greatest: "greatest",
    exp.Least: "least",
    exp.Concat: "concat",
    exp.ConcatWs: "concat_ws",
    exp.Median: "median",
    exp.Mode: "mode",
    exp.Stddev: "stddev",
    exp.StddevPop: "stddev_pop",
    exp.StddevSamp: "stddev_samp",
    exp.VariancePop: "var_pop",
    exp.ApproxDistinct: "approx_count_distinct",
    exp.LogicalAnd: "bool_and",
    exp.LogicalOr: "bool_or",
    exp.First: "first",
    exp.Last: "last",
    exp.FirstValue: "first_value",
    exp.LastValue: "last_value",
    exp.RowNumber: "row_number",
    exp.Rank: "rank",
    exp.DenseRank: "dense_rank",
    exp.Lag: "lag",
    exp.Lead: "lead",
    exp.Ntile: "ntile",
    exp.Year: "year",
    exp.Month: "month",
    exp.Day: "day",
    exp.Hour: "hour",
    exp.Minute: "minute",
    exp.Second: "second",
    exp.Quarter: "quarter",
    exp.Week: "week",
    exp.Reverse: "reverse",
}
# DuckDB keywords that are also function names: quoted when it prints a call
_DUCK_KEYWORD_FUNCTIONS = {
    "add", "aggregate", "century", "checkpoint", "day", "decade", "error", "filter",
    "first", "functions", "glob", "hour", "if", "json", "last", "left", "map", "microsecond",
    "millennium", "millisecond", "minute", "mode", "month", "nullif", "overlay", "position",
    "quarter", "range", "replace", "right", "row", "second", "show", "substring", "trim",
    "user", "version", "week", "year",
}  # fmt: skip
_DUCK_BINARY: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
    exp.IntDiv: "//",
    exp.DPipe: "||",
    exp.EQ: "=",
    exp.NEQ: "!=",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.And: "AND",
    exp.Or: "OR",
    exp.Like: "~~",
    exp.ILike: "~~*",
}
_DUCK_TYPES = {
    exp.DataType.Type.INT: "INTEGER",
    exp.DataType.Type.BIGINT: "BIGINT",
    exp.DataType.Type.SMALLINT: "SMALLINT",
    exp.DataType.Type.DOUBLE: "DOUBLE",
    exp.DataType.Type.FLOAT: "FLOAT",
    exp.DataType.Type.VARCHAR: "VARCHAR",
    exp.DataType.Type.DATE: "DATE",
    exp.DataType.Type.TIMESTAMP: "TIMESTAMP",
    exp.DataType.Type.BOOLEAN: "BOOLEAN",
    exp.DataType.Type.DECIMAL: "DECIMAL",
}
_SIMPLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _duckdb(node: exp.Expr) -> Named:
    text, exact = _duck(node)
    if isinstance(node, exp.Paren) and isinstance(node.unnest(), exp.Column):
        return node.unnest().name, True  # `(a)` is the column a
    return text, exact


def _duck(node: exp.Expr) -> Named:
    if isinstance(node, exp.Paren):
        return _duck(node.this)
    if isinstance(node, exp.Column):
        parts = [p.name for p in node.parts]
        return ".".join(_duck_ident(p) for p in parts), True
    if isinstance(node, exp.Literal):
        return (_quote_string(node.name) if node.is_string else node.name), True
    if isinstance(node, exp.Boolean):
        return ("true" if node.this else "false"), True
    if isinstance(node, exp.Null):
        return "NULL", True
    if isinstance(node, exp.Neg):
        if isinstance(node.this, exp.Literal) and not node.this.is_string:
            return f"-{node.this.name}", True
        inner, exact = _duck(node.this)
        return f"(-({inner}))", exact and isinstance(node.this, exp.Column)
    if isinstance(node, exp.Not):
        inner_node = node.this
        if isinstance(inner_node, exp.Is) and isinstance(inner_node.expression, exp.Null):
            left, exact = _duck(inner_node.this)
            return f"({left} IS NOT NULL)", exact
        if isinstance(inner_node, (exp.Like, exp.ILike)):
            left, ok_left = _duck(inner_node.this)
            right, ok_right = _duck(inner_node.expression)
            negated = "!~~" if isinstance(inner_node, exp.Like) else "!~~*"
            return f"({left} {negated} {right})", ok_left and ok_right
        inner, exact = _duck(inner_node)
        return f"(NOT {inner})", exact
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        left, exact = _duck(node.this)
        return f"({left} IS NULL)", exact
    op = _DUCK_BINARY.get(type(node))
    if op is not None:
        left, ok_left = _duck(node.this)
        right, ok_right = _duck(node.expression)
        if node.args.get("negate"):  # `NOT LIKE` parsed as one node
            op = "!" + op
        return f"({left} {op} {right})", ok_left and ok_right
    if isinstance(node, exp.Array):
        items = [_duck(e) for e in node.expressions]
        listed = ", ".join(t for t, _ in items)
        return f"list_value({listed})", all(ok for _, ok in items)
    if isinstance(node, (exp.Explode, exp.Unnest)):
        args = node.expressions if isinstance(node, exp.Unnest) else [node.this]
        items = [_duck(e) for e in args]
        return f"unnest({', '.join(t for t, _ in items)})", all(ok for _, ok in items)
    if isinstance(node, exp.Extract) and isinstance(node.this, exp.Var):
        value, exact = _duck(node.expression)
        return f"date_part('{node.this.name.upper()}', {value})", exact
    if isinstance(node, exp.In) and node.expressions and not node.args.get("query"):
        left, exact = _duck(node.this)
        items = [_duck(e) for e in node.expressions]
        listed = ", ".join(t for t, _ in items)
        return f"({left} IN ({listed}))", exact and all(ok for _, ok in items)
    if isinstance(node, exp.Between):
        bounds = [_duck(node.this), _duck(node.args["low"]), _duck(node.args["high"])]
        text = f"({bounds[0][0]} BETWEEN {bounds[1][0]} AND {bounds[2][0]})"
        return text, all(ok for _, ok in bounds)
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        inner, exact = _duck(node.this)
        type_name, known = _duck_type(node.to)
        return f"CAST({inner} AS {type_name})", exact and known
    if isinstance(node, exp.Case):
        return _duck_case(node)
    if isinstance(node, exp.Coalesce):
        items = [_duck(node.this), *(_duck(e) for e in node.expressions)]
        return f"COALESCE({', '.join(t for t, _ in items)})", all(ok for _, ok in items)
    if isinstance(node, exp.Window):
        return _duck_window(node)
    if isinstance(node, exp.Filter):
        agg, ok_agg = _duck(node.this)
        where = node.expression.this if isinstance(node.expression, exp.Where) else None
        cond, ok_cond = _duck(where) if where is not None else ("", False)
        ok_cond = ok_cond and where is not None
        return f"{agg} FILTER (WHERE {cond})", ok_agg and ok_cond
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        base, ok_base = _duck(node.this)
        key, ok_key = _duck(node.expressions[0])
        index = node.expressions[0]
        if isinstance(index, exp.Literal) and not index.is_string:
            key = str(int(index.name) + 1) if index.name.isdigit() else key  # 1-based
        return f"{base}[{key}]", ok_base and ok_key
    if isinstance(node, exp.Dot):
        base, exact = _duck(node.this)
        return f"({base}).{_duck_ident(node.name)}", exact
    if isinstance(node, exp.Func):
        return _duck_function(node)
    return node.sql(dialect="duckdb"), False


def _duck_function(node: exp.Func) -> Named:
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        in_window = isinstance(node.parent, exp.Window)
        return ("count()" if in_window else "count_star()"), True
    if isinstance(node, exp.Anonymous):
        name, exact = node.name.lower(), True
        args = node.expressions
    else:
        known = _DUCK_FUNCTIONS.get(type(node))
        name, exact = (known, True) if known else (node.sql_name().lower(), False)
        args = [a for a in node.args.values() if isinstance(a, exp.Expr)]
        args += [e for value in node.args.values() if isinstance(value, list) for e in value]
        if type(node) in (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg):
            args = [node.this] if node.this is not None else []
    distinct = ""
    if len(args) == 1 and isinstance(args[0], exp.Distinct):
        distinct, args = "DISTINCT ", list(args[0].expressions)
    rendered = [_duck(a) for a in args]
    if name in _DUCK_KEYWORD_FUNCTIONS:
        name = f'"{name}"'
    listed = ", ".join(t for t, _ in rendered)
    return f"{name}({distinct}{listed})", exact and all(ok for _, ok in rendered)


def _duck_case(node: exp.Case) -> Named:
    operand = node.this
    exact = True
    parts = ["CASE "]
    for branch in node.args.get("ifs") or []:
        condition = branch.this if operand is None else exp.EQ(this=operand, expression=branch.this)
        cond, ok_cond = _duck(condition)
        then, ok_then = _duck(branch.args["true"])
        exact = exact and ok_cond and ok_then
        parts.append(f" WHEN ({cond}) THEN ({then})")
    default = node.args.get("default")
    other, ok_other = _duck(default) if default is not None else ("NULL", True)
    parts.append(f" ELSE {other} END")
    return "".join(parts), exact and ok_other


def _duck_window(node: exp.Window) -> Named:
    func, exact = _duck(node.this)
    if node.args.get("spec") is not None or node.args.get("alias") is not None:
        exact = False  # frames and named windows: not reproduced
    parts = []
    partition = node.args.get("partition_by") or []
    if partition:
        rendered = [_duck(p) for p in partition]
        exact = exact and all(ok for _, ok in rendered)
        parts.append("PARTITION BY " + ", ".join(t for t, _ in rendered))
    order = node.args.get("order")
    if isinstance(order, exp.Order):
        keys = []
        for key in order.expressions:
            text, ok = _duck(key.this if isinstance(key, exp.Ordered) else key)
            exact = exact and ok
            descending = isinstance(key, exp.Ordered) and key.args.get("desc")
            keys.append(text + (" DESC" if descending else ""))
        parts.append("ORDER BY " + ", ".join(keys))
    return f"{func} OVER ({' '.join(parts)})", exact


def _duck_type(dtype: exp.DataType) -> Named:
    name = _DUCK_TYPES.get(dtype.this)
    if name is None:
        return dtype.sql(dialect="duckdb"), False
    params = [p.sql(dialect="duckdb") for p in dtype.expressions]
    if dtype.this == exp.DataType.Type.VARCHAR and params:
        return f"VARCHAR({', '.join(params)})", True
    if dtype.this == exp.DataType.Type.DECIMAL:
        return (f"DECIMAL({', '.join(params)})" if params else "DECIMAL(18, 3)"), bool(params)
    return name, not params


def _duck_ident(name: str) -> str:
    return name if _SIMPLE_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def _quote_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- PostgreSQL: FigureColname ----------------------------------------------------------

_PG_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Count: "count",
    exp.Sum: "sum",
    exp.Min: "min",
    exp.Max: "max",
    exp.Avg: "avg",
    exp.Coalesce: "coalesce",
    exp.Greatest: "greatest",
    exp.Least: "least",
    exp.Nullif: "nullif",
    exp.Upper: "upper",
    exp.Lower: "lower",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Concat: "concat",
    exp.ArrayAgg: "array_agg",
    exp.RowNumber: "row_number",
    exp.Rank: "rank",
    exp.DenseRank: "dense_rank",
    exp.Lag: "lag",
    exp.Lead: "lead",
    exp.FirstValue: "first_value",
    exp.LastValue: "last_value",
    exp.Extract: "extract",
    exp.DateTrunc: "date_trunc",
    exp.TimestampTrunc: "date_trunc",
    exp.CurrentDate: "current_date",
    exp.CurrentUser: "current_user",
}
_PG_TYPES = {
    exp.DataType.Type.INT: "int4",
    exp.DataType.Type.BIGINT: "int8",
    exp.DataType.Type.SMALLINT: "int2",
    exp.DataType.Type.FLOAT: "float4",
    exp.DataType.Type.DOUBLE: "float8",
    exp.DataType.Type.DECIMAL: "numeric",
    exp.DataType.Type.BOOLEAN: "bool",
    exp.DataType.Type.VARCHAR: "varchar",
    exp.DataType.Type.CHAR: "bpchar",
    exp.DataType.Type.TEXT: "text",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
    exp.DataType.Type.TIME: "time",
    exp.DataType.Type.INTERVAL: "interval",
    exp.DataType.Type.JSON: "json",
    exp.DataType.Type.JSONB: "jsonb",
    exp.DataType.Type.UUID: "uuid",
}
_NO_NAME = "?column?"


def _postgres(node: exp.Expr) -> Named:
    name, _strength, exact = _figure(node)
    return (name or _NO_NAME), exact


def _figure(node: exp.Expr) -> tuple[str | None, int, bool]:
    """(name, strength, exact): strength 2 for a name from a column or function, 1 for a
    type name from a cast, 0 for none, as PostgreSQL's FigureColnameInternal ranks them."""
    if isinstance(node, exp.Paren):
        return _figure(node.this)
    if isinstance(node, exp.Column):
        return node.name, 2, True
    if isinstance(node, exp.Dot):
        return node.name, 2, True
    if isinstance(node, exp.Bracket):
        return _figure(node.this)  # subscripts do not name
    if isinstance(node, exp.Cast):
        name, strength, exact = _figure(node.this)
        if strength <= 1:
            type_name = _PG_TYPES.get(node.to.this)
            return (type_name or node.to.sql(dialect="postgres").lower()), 1, type_name is not None
        return name, strength, exact
    if isinstance(node, exp.Case):
        return "case", 2, True
    if isinstance(node, exp.Array):
        return "array", 2, True
    if isinstance(node, (exp.Struct, exp.Tuple)):
        return "row", 2, True
    if isinstance(node, exp.Exists):
        return "exists", 2, True
    if isinstance(node, exp.Subquery):
        inner = node.unnest()
        if isinstance(inner, exp.Select) and inner.selects:
            first = inner.selects[0]
            if isinstance(first, exp.Alias):
                return first.alias, 2, True
            return _figure(first)
        return None, 0, False
    if isinstance(node, (exp.Window, exp.Filter)):
        return _figure(node.this)
    if isinstance(node, exp.Trim):
        position = (node.args.get("position") or "").upper()
        return {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "btrim"), 2, True
    if isinstance(node, exp.Anonymous):
        return node.name.lower(), 2, True
    if isinstance(node, exp.Func):
        known = _PG_FUNCTIONS.get(type(node))
        if known is not None:
            return known, 2, True
        return node.sql_name().lower(), 2, False
    exact = isinstance(node, (exp.Binary, exp.Unary, exp.Literal, exp.Boolean, exp.Null))
    return None, 0, exact or isinstance(node, (exp.In, exp.Between, exp.Is))


# -- Snowflake, Spark: approximations ---------------------------------------------------


def _snowflake(node: exp.Expr) -> Named:
    """Snowflake names a column by the expression's text, upper-cased outside quotes."""
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        return "COUNT(*)", True
    return node.sql(dialect="snowflake").upper(), False


def _spark(node: exp.Expr) -> Named:
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        return "count(1)", True
    return node.sql(dialect="spark").lower(), False


_NAMERS: dict[str, Callable[[exp.Expr], Named]] = {
    "duckdb": _duckdb,
    "snowflake": _snowflake,
    "spark": _spark,
    "databricks": _spark,
    **{d: _postgres for d in _POSTGRES_LIKE},
}
