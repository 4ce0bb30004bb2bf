"""Generated Avro schema pairs for the truth test: a base record and one or two mutations
(adds, removes, renames with and without aliases, type promotions and narrowings, defaults,
enums, unions, nested records, arrays, maps, fixed sizes, named-type renames)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

Schema = dict[str, Any]


def base() -> Schema:
    return {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "amount", "type": "double"},
            {"name": "qty", "type": "int", "default": 1},
            {"name": "note", "type": ["null", "string"], "default": None},
            {
                "name": "status",
                "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]},
            },
            {
                "name": "customer",
                "type": {
                    "type": "record",
                    "name": "Customer",
                    "fields": [
                        {"name": "cid", "type": "long"},
                        {"name": "email", "type": "string"},
                    ],
                },
            },
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attrs", "type": {"type": "map", "values": "int"}},
            {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 16}},
            {"name": "code", "type": "bytes"},
            {"name": "choice", "type": ["int", "string"]},
        ],
    }


def _field(schema: Schema, name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


Mutation = Callable[[Schema], None]


def _set_type(name: str, new: Any) -> Mutation:
    def apply(s: Schema) -> None:
        _field(s, name)["type"] = new

    return apply


def _drop(name: str) -> Mutation:
    def apply(s: Schema) -> None:
        s["fields"] = [f for f in s["fields"] if f["name"] != name]

    return apply


def _add(spec: dict[str, Any]) -> Mutation:
    def apply(s: Schema) -> None:
        s["fields"].append(copy.deepcopy(spec))

    return apply


def _rename(old: str, new: str, alias: bool) -> Mutation:
    def apply(s: Schema) -> None:
        f = _field(s, old)
        f["name"] = new
        if alias:
            f["aliases"] = [old]

    return apply


def _default(name: str, value: Any, remove: bool = False) -> Mutation:
    def apply(s: Schema) -> None:
        f = _field(s, name)
        if remove:
            f.pop("default", None)
        else:
            f["default"] = value

    return apply


def _nested(mutation: Callable[[dict[str, Any]], None]) -> Mutation:
    def apply(s: Schema) -> None:
        mutation(_field(s, "customer")["type"])

    return apply


def _enum(symbols: list[str], default: str | None = None) -> Mutation:
    def apply(s: Schema) -> None:
        t = _field(s, "status")["type"]
        t["symbols"] = symbols
        if default:
            t["default"] = default

    return apply


def _rename_type(field: str, new: str, alias: str | None) -> Mutation:
    def apply(s: Schema) -> None:
        t = _field(s, field)["type"]
        t["name"] = new
        if alias:
            t["aliases"] = [alias]

    return apply


def _rename_record(new: str, alias: bool) -> Mutation:
    def apply(s: Schema) -> None:
        s["name"] = new
        if alias:
            s["aliases"] = ["shop.Order"]

    return apply


MUTATIONS: dict[str, Mutation] = {
    "add optional field": _add({"name": "extra", "type": ["null", "long"], "default": None}),
    "add field with default": _add({"name": "region", "type": "string", "default": "eu"}),
    "add required field": _add({"name": "region", "type": "string"}),
    "add enum field with enum default": _add(
        {
            "name": "kind",
            "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"], "default": "A"},
        }
    ),
    "remove required field": _drop("amount"),
    "remove field with default": _drop("qty"),
    "remove nullable field": _drop("note"),
    "rename field": _rename("amount", "total", alias=False),
    "rename field with alias": _rename("amount", "total", alias=True),
    "promote int to long": _set_type("qty", "long"),
    "promote int to double": _set_type("qty", "double"),
    "promote long to float": _set_type("id", "float"),
    "narrow long to int": _set_type("id", "int"),
    "narrow double to float": _set_type("amount", "float"),
    "double to string": _set_type("amount", "string"),
    "string to bytes": _set_type("note", ["null", "bytes"]),
    "bytes to string": _set_type("code", "string"),
    "make nullable": _set_type("amount", ["null", "double"]),
    "make required": _set_type("note", "string"),
    "drop default": _default("qty", None, remove=True),
    "add default": _default("amount", 0.0),
    "add enum symbol": _enum(["NEW", "PAID", "SHIPPED", "LOST"]),
    "remove enum symbol": _enum(["NEW", "PAID"]),
    "remove enum symbol with enum default": _enum(["NEW", "PAID"], default="NEW"),
    "union add branch": _set_type("choice", ["int", "string", "boolean"]),
    "union remove branch": _set_type("choice", ["int"]),
    "union to branch": _set_type("choice", "string"),
    "branch to union": _set_type("id", ["null", "long"]),
    "nested add required": _nested(
        lambda t: t["fields"].append({"name": "phone", "type": "string"})
    ),
    "nested remove field": _nested(lambda t: t.__setitem__("fields", t["fields"][:1])),
    "nested promote": _nested(lambda t: t["fields"][0].__setitem__("type", "double")),
    "nested rename type": _rename_type("customer", "Client", None),
    "nested rename type with alias": _rename_type("customer", "Client", "shop.Customer"),
    "array items promote": _set_type("tags", {"type": "array", "items": "bytes"}),
    "array items narrow": _set_type("tags", {"type": "array", "items": "int"}),
    "map values promote": _set_type("attrs", {"type": "map", "values": "long"}),
    "map values narrow": _set_type("attrs", {"type": "map", "values": "boolean"}),
    "array to map": _set_type("tags", {"type": "map", "values": "string"}),
    "fixed size change": _set_type("hash", {"type": "fixed", "name": "Hash", "size": 32}),
    "fixed rename": _rename_type("hash", "Digest", None),
    "record rename": _rename_record("Purchase", alias=False),
    "record rename with alias": _rename_record("Purchase", alias=True),
    "enum to string": _set_type("status", "string"),
    "record to string": _set_type("customer", "string"),
}


def pairs(count: int | None = None, seed: int = 17) -> Iterator[tuple[str, str, str]]:
    """(name, old schema text, new schema text): every single mutation, then random
    combinations of two (``count`` pairs in all, or every single one when None)."""
    names = sorted(MUTATIONS)
    produced = 0
    for name in names:
        if count is not None and produced >= count:
            return
        new = base()
        MUTATIONS[name](new)
        produced += 1
        yield name, json.dumps(base(), indent=2), json.dumps(new, indent=2)
    rng = random.Random(seed)
    while count is not None and produced < count:
        a, b = rng.sample(names, 2)
        new = base()
        try:
            MUTATIONS[a](new)
            MUTATIONS[b](new)
        except (StopIteration, TypeError, AttributeError, KeyError):  # the first one removed
            # or retyped what the second changes
            continue
        produced += 1
        yield f"{a} + {b}", json.dumps(base(), indent=2), json.dumps(new, indent=2)
