"""The type lattice: alias, widened, narrowed, incompatible."""

from __future__ import annotations

import pytest

from impact_check.sql.types import canonical, compare, parse_type


def verdict(before: str, after: str, dialect: str | None = None) -> str:
    old, new = parse_type(before, dialect), parse_type(after, dialect)
    assert old is not None and new is not None
    return compare(canonical(old), canonical(new))


@pytest.mark.parametrize(
    ("before", "after", "expected", "dialect"),
    [
        ("varchar", "character varying", "alias", "postgres"),
        ("int4", "integer", "alias", "postgres"),
        ("INT", "int", "alias", None),
        ("string", "text", "alias", "bigquery"),
        ("int", "bigint", "widened", None),
        ("varchar(10)", "varchar(20)", "widened", None),
        ("varchar(10)", "text", "widened", None),
        ("decimal(10,2)", "decimal(12,2)", "widened", None),
        ("date", "timestamp", "widened", None),
        ("int", "double", "widened", None),
        ("bigint", "int", "narrowed", None),
        ("varchar(20)", "varchar(10)", "narrowed", None),
        ("decimal(12,2)", "decimal(10,2)", "narrowed", None),
        ("decimal(10,2)", "decimal(10,4)", "narrowed", None),
        ("timestamp", "date", "narrowed", None),
        ("double", "int", "narrowed", None),
        ("numeric(10,2)", "varchar", "incompatible", None),
        ("date", "varchar", "incompatible", None),
        ("int", "boolean", "incompatible", None),
        ("array<int>", "array<string>", "incompatible", "spark"),
        ("struct<a int>", "int", "incompatible", "spark"),
        ("NUMBER(38,0)", "DECIMAL(38,0)", "alias", "snowflake"),
    ],
)
def test_lattice(before: str, after: str, expected: str, dialect: str | None) -> None:
    assert verdict(before, after, dialect) == expected
