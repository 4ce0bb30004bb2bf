"""Derived datasets and lineage as plain JSON values, and back, validating every field.

The cache (and the worker processes of a parallel build) carry what the loader derives in
this form. Decoding treats its input as untrusted: any value of the wrong shape raises
``CodecError`` and the caller recomputes instead.
"""

from __future__ import annotations

from typing import Any

from impact_check.model import (
    Catalog,
    Column,
    Comparison,
    Dataset,
    FieldUse,
    Fingerprints,
    Issue,
    Lineage,
    Location,
    Src,
    TypeUse,
)


class CodecError(ValueError):
    """A stored value does not have the expected shape."""


# The shape checks every cache codec reads stored values through.


def expect_str(value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError("expected a string")
    return value


def expect_opt_str(value: Any) -> str | None:
    return None if value is None else expect_str(value)


def expect_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CodecError("expected a boolean")
    return value


def expect_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise CodecError("expected a list")
    return value


def expect_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError("expected an object")
    return value


def expect_rows(value: Any, width: int) -> list[list[Any]]:
    """A list of lists of ``width`` items each."""
    rows = expect_list(value)
    for row in rows:
        if not isinstance(row, list) or len(row) != width:
            raise CodecError("bad row")
    return rows


def expect_strs(value: Any) -> list[str]:
    return [expect_str(v) for v in expect_list(value)]


def _src(value: Any) -> Src:
    # checked inline (type(), not isinstance: JSON gives exact types): a warm run decodes
    # some 100,000 of these, and a call per check cost a third of the lineage decoding
    if type(value) is list and len(value) == 2:
        relation, column = value
        if type(relation) is str and type(column) is str:
            return relation, column
    raise CodecError("expected a (relation, column) pair")


def _srcs(value: Any) -> set[Src]:
    return {_src(v) for v in expect_list(value)}


def _strs(value: Any) -> set[str]:
    items = expect_list(value)
    if not all(type(v) is str for v in items):
        raise CodecError("expected strings")
    return set(items)


def _sorted_srcs(values: set[Src]) -> list[list[str]]:
    return [list(v) for v in sorted(values)]


# -- lineage ----------------------------------------------------------------------------


def encode_lineage(res: Lineage) -> dict[str, Any]:
    """A Lineage as plain JSON values (sets sorted, so equal lineages encode equally)."""
    fp = res.fingerprints
    return {
        "columns": [[k, _sorted_srcs(v)] for k, v in res.columns.items()],
        "clauses": [[k, _sorted_srcs(v)] for k, v in res.clauses.items()],
        "referenced": _sorted_srcs(res.referenced),
        "tables": sorted(res.tables),
        "star_tables": sorted(res.star_tables),
        "unresolved": sorted(res.unresolved),
        "missing": _sorted_srcs(res.missing),
        "type_uses": [[list(u.source), u.operation, u.needs, u.sql] for u in res.type_uses],
        "star_unknown": sorted(res.star_unknown),
        "errors": list(res.errors),
        "pure": [[k, list(v)] for k, v in res.pure.items()],
        "output_types": [[k, v] for k, v in res.output_types.items()],
        "comparisons": [[list(c.left), list(c.right), c.ordered, c.sql] for c in res.comparisons],
        "fingerprints": None
        if fp is None
        else [[[k, v] for k, v in part.items()] for part in (fp.columns, fp.aggregated, fp.rows)],
        "outer_joined": sorted(res.outer_joined),
        "field_uses": [
            [list(u.source), list(u.path), u.sql, u.needs, u.loose] for u in res.field_uses
        ],
        "field_reads": [[list(k), sorted(v)] for k, v in sorted(res.field_reads.items())],
        "guessed_names": sorted(res.guessed_names),
    }


def decode_lineage(value: Any) -> Lineage:
    """The Lineage ``encode_lineage`` produced; CodecError on any other shape."""
    data = expect_dict(value)
    try:
        res = Lineage(
            columns={expect_str(k): _srcs(v) for k, v in _pairs(data["columns"])},
            clauses={expect_str(k): _srcs(v) for k, v in _pairs(data["clauses"])},
            referenced=_srcs(data["referenced"]),
            tables=_strs(data["tables"]),
            star_tables=_strs(data["star_tables"]),
            unresolved=_strs(data["unresolved"]),
            missing=_srcs(data["missing"]),
            type_uses=[_type_use(u) for u in expect_list(data["type_uses"])],
            star_unknown=_strs(data["star_unknown"]),
            errors=[expect_str(e) for e in expect_list(data["errors"])],
            pure={expect_str(k): _src(v) for k, v in _pairs(data["pure"])},
            output_types={
                expect_str(k): expect_opt_str(v) for k, v in _pairs(data["output_types"])
            },
            comparisons=[_comparison(c) for c in expect_list(data["comparisons"])],
            fingerprints=_fingerprints(data["fingerprints"]),
            outer_joined=_strs(data["outer_joined"]),
            field_uses=[_field_use(u) for u in expect_list(data["field_uses"])],
            field_reads={_src(k): _strs(v) for k, v in _pairs(data["field_reads"])},
            guessed_names=_strs(data["guessed_names"]),
        )
    except KeyError as err:
        raise CodecError(f"missing field {err}") from err
    return res


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    out = []
    for item in expect_list(value):
        pair = expect_list(item)
        if len(pair) != 2:
            raise CodecError("expected a pair")
        out.append((pair[0], pair[1]))
    return out


def _type_use(value: Any) -> TypeUse:
    parts = expect_list(value)
    if len(parts) != 4:
        raise CodecError("bad type use")
    return TypeUse(_src(parts[0]), expect_str(parts[1]), expect_str(parts[2]), expect_str(parts[3]))


def _field_use(value: Any) -> FieldUse:
    parts = expect_list(value)
    if len(parts) != 5:
        raise CodecError("bad field use")
    path = tuple(expect_str(p) for p in expect_list(parts[1]))
    return FieldUse(
        _src(parts[0]), path, expect_str(parts[2]), expect_opt_str(parts[3]), expect_bool(parts[4])
    )


def _comparison(value: Any) -> Comparison:
    parts = expect_list(value)
    if len(parts) != 4:
        raise CodecError("bad comparison")
    return Comparison(_src(parts[0]), _src(parts[1]), expect_bool(parts[2]), expect_str(parts[3]))


def _fingerprints(value: Any) -> Fingerprints | None:
    if value is None:
        return None
    parts = expect_list(value)
    if len(parts) != 3:
        raise CodecError("bad fingerprints")
    return Fingerprints(
        columns={expect_str(k): expect_str(v) for k, v in _pairs(parts[0])},
        aggregated={expect_str(k): expect_bool(v) for k, v in _pairs(parts[1])},
        rows={expect_str(k): expect_str(v) for k, v in _pairs(parts[2])},
    )


# -- datasets ---------------------------------------------------------------------------


def encode_column(col: Column) -> list[Any]:
    """A Column as a plain list."""
    return [
        col.name,
        col.type,
        col.written_type,
        col.not_null,
        col.default,
        col.primary_key,
        col.unique,
        None if col.accepted_values is None else list(col.accepted_values),
        col.references,
        list(col.tests),
    ]


def decode_column(value: Any) -> Column:
    """The Column ``encode_column`` produced."""
    parts = expect_list(value)
    if len(parts) not in (9, 10):  # 9: written before dbt tests were kept
        raise CodecError("bad column")
    name, col_type, written, not_null, default, primary_key, unique, _, references = parts[:9]
    # checked inline, like _src: every column of every kept dataset passes here
    if not (
        type(name) is str
        and (col_type is None or type(col_type) is str)
        and (written is None or type(written) is str)
        and type(not_null) is bool
        and (default is None or type(default) is str)
        and type(primary_key) is bool
        and type(unique) is bool
        and (references is None or type(references) is str)
    ):
        raise CodecError("bad column")
    accepted = None if parts[7] is None else tuple(expect_str(v) for v in expect_list(parts[7]))
    tests = tuple(expect_str(t) for t in expect_list(parts[9])) if len(parts) == 10 else ()
    return Column(
        name, col_type, written, not_null, default, primary_key, unique, accepted, references, tests
    )


def encode_location(location: Location | None) -> list[Any] | None:
    """A Location as ``[file, line]``."""
    return None if location is None else [location.file, location.line]


def decode_location(value: Any) -> Location | None:
    """The Location ``encode_location`` produced."""
    if value is None:
        return None
    parts = expect_list(value)
    if len(parts) != 2 or not (parts[1] is None or type(parts[1]) is int):
        raise CodecError("bad location")
    return Location(expect_str(parts[0]), parts[1])


def encode_dataset(ds: Dataset) -> dict[str, Any]:
    """A Dataset (a table from DDL or a derived dataset with lineage) as plain values."""
    return {
        "name": ds.name,
        "kind": ds.kind,
        "columns": [encode_column(c) for c in ds.columns.values()],
        "location": encode_location(ds.location),
        "definition": ds.definition,
        "lineage": None if ds.lineage is None else encode_lineage(ds.lineage),
        "columns_known": ds.columns_known,
        "dialect": ds.dialect,
        "updatable": ds.updatable,
        "constraints": [[k, v] for k, v in ds.constraints.items()],
        "contract": ds.contract,
        "access": ds.access,
        "owners": list(ds.owners),
        "declared": [encode_column(c) for c in ds.declared.values()],
        "origin": ds.origin,
        "names_guessed": ds.names_guessed,
    }


def decode_dataset(value: Any, lineage: bool = True) -> Dataset:
    """The Dataset ``encode_dataset`` produced; CodecError on any other shape.

    ``lineage=False`` leaves the lineage out (None) for a later ``decode_lineage``.
    """
    data = expect_dict(value)
    try:
        columns = [decode_column(c) for c in expect_list(data["columns"])]
        declared = [decode_column(c) for c in expect_list(data["declared"])]
        return Dataset(
            name=expect_str(data["name"]),
            kind=expect_str(data["kind"]),
            columns={c.name: c for c in columns},
            location=decode_location(data["location"]),
            definition=expect_opt_str(data["definition"]),
            lineage=None
            if data["lineage"] is None or not lineage
            else decode_lineage(data["lineage"]),
            columns_known=expect_bool(data["columns_known"]),
            dialect=expect_str(data["dialect"]),
            updatable=expect_bool(data["updatable"]),
            constraints={expect_str(k): expect_str(v) for k, v in _pairs(data["constraints"])},
            contract=expect_bool(data["contract"]),
            access=expect_opt_str(data["access"]),
            owners=[expect_str(o) for o in expect_list(data["owners"])],
            declared={c.name: c for c in declared},
            origin=expect_str(data["origin"]),
            names_guessed=expect_bool(data["names_guessed"]),
        )
    except KeyError as err:
        raise CodecError(f"missing field {err}") from err


def expect_location(value: Any) -> Location:
    where = decode_location(value)
    if where is None:
        raise CodecError("a location is required")
    return where


def encode_catalog_marks(catalog: Catalog) -> dict[str, Any]:
    """What reading a revision's files leaves besides its datasets: issues, renames, drops
    and the events of the DDL sequence."""
    return {
        "issues": [
            [i.rule, i.message, encode_location(i.location), i.target, i.unanalyzed, i.whole_file]
            for i in catalog.issues
        ],
        "renamed_tables": [[k, v] for k, v in catalog.renamed_tables.items()],
        "renamed_columns": [[k[0], k[1], v] for k, v in catalog.renamed_columns.items()],
        "dropped": [[k, encode_location(v)] for k, v in catalog.dropped.items()],
        "events": [[k, encode_location(v)] for k, v in catalog.events.items()],
    }


def decode_catalog_marks(value: dict[str, Any], catalog: Catalog) -> None:
    """``encode_catalog_marks``' fields of ``value`` back into ``catalog`` (CodecError on a
    wrong shape, KeyError on a missing field)."""
    for rule, message, location, target, unanalyzed, whole in expect_rows(value["issues"], 6):
        catalog.issues.append(
            Issue(
                expect_str(rule),
                expect_str(message),
                expect_location(location),
                expect_opt_str(target),
                expect_bool(unanalyzed),
                expect_bool(whole),
            )
        )
    for old, new in expect_rows(value["renamed_tables"], 2):
        catalog.renamed_tables[expect_str(old)] = expect_str(new)
    for table, old, new in expect_rows(value["renamed_columns"], 3):
        catalog.renamed_columns[(expect_str(table), expect_str(old))] = expect_str(new)
    for marks, field_name in ((catalog.dropped, "dropped"), (catalog.events, "events")):
        for node, location in expect_rows(value[field_name], 2):
            marks[expect_str(node)] = expect_location(location)
