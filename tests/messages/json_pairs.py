"""Generated JSON Schema pairs for the truth test (draft-07 and 2020-12): a base object
schema and one or two mutations (properties added and removed, required, additional
properties, type widening and narrowing, enums, nested objects, arrays, bounds, anyOf), and
the witness documents the truth test validates with the real ``jsonschema`` package."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

Schema = dict[str, Any]


def base(draft: str) -> Schema:
    uri = (
        "https://json-schema.org/draft/2020-12/schema"
        if draft == "2020-12"
        else "http://json-schema.org/draft-07/schema#"
    )
    defs = "$defs" if draft == "2020-12" else "definitions"
    return {
        "$schema": uri,
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "amount": {"type": "number", "minimum": 0},
            "status": {"type": "string", "enum": ["new", "paid", "shipped"]},
            "note": {"type": ["string", "null"], "maxLength": 20},
            "tags": {"type": "array", "items": {"type": "string"}},
            "customer": {"$ref": f"#/{defs}/customer"},
            "choice": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
        "required": ["id", "amount"],
        defs: {
            "customer": {
                "type": "object",
                "properties": {"cid": {"type": "integer"}, "email": {"type": "string"}},
                "required": ["cid"],
            }
        },
    }


Mutation = Callable[[Schema], None]


def _prop(name: str, spec: Any) -> Mutation:
    def apply(s: Schema) -> None:
        if spec is None:
            s["properties"].pop(name)
        else:
            s["properties"][name] = copy.deepcopy(spec)

    return apply


def _patch(name: str, **changes: Any) -> Mutation:
    def apply(s: Schema) -> None:
        target = s["properties"][name]
        for key, value in changes.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value

    return apply


def _required(names: list[str]) -> Mutation:
    def apply(s: Schema) -> None:
        s["required"] = names

    return apply


def _root(**changes: Any) -> Mutation:
    def apply(s: Schema) -> None:
        s.update(changes)

    return apply


def _customer(**changes: Any) -> Mutation:
    def apply(s: Schema) -> None:
        defs = s.get("$defs") or s["definitions"]
        defs["customer"].update(copy.deepcopy(changes))

    return apply


MUTATIONS: dict[str, Mutation] = {
    "add optional property": _prop("region", {"type": "string"}),
    "add unconstrained property": _prop("region", {}),
    "add required property": lambda s: (
        _prop("region", {"type": "string"})(s),
        s["required"].append("region"),
    ),
    "remove property": _prop("note", None),
    "remove required property": lambda s: (
        _prop("amount", None)(s),
        s["required"].remove("amount"),
    ),
    "make required": _required(["id", "amount", "status"]),
    "make optional": _required(["id"]),
    "close content model": _root(additionalProperties=False),
    "close and remove property": lambda s: (
        _root(additionalProperties=False)(s),
        _prop("note", None)(s),
    ),
    "extra properties typed": _root(additionalProperties={"type": "string"}),
    "integer to number": _patch("id", type="number"),
    "number to integer": _patch("amount", type="integer"),
    "string to integer": _patch("status", type="integer", enum=None),
    "widen to union": _patch("id", type=["integer", "string"]),
    "drop null": _patch("note", type="string"),
    "add enum value": _patch("status", enum=["new", "paid", "shipped", "lost"]),
    "remove enum value": _patch("status", enum=["new", "paid"]),
    "drop enum": _patch("status", enum=None),
    "add const": _patch("id", const=1),
    "raise minimum": _patch("amount", minimum=10),
    "drop minimum": _patch("amount", minimum=None),
    "lower maxLength": _patch("note", maxLength=5),
    "raise maxLength": _patch("note", maxLength=50),
    "items to integer": _patch("tags", items={"type": "integer"}),
    "items widen": _patch("tags", items={"type": ["string", "integer"]}),
    "add maxItems": _patch("tags", maxItems=2),
    "nested add required": _customer(required=["cid", "email"]),
    "nested type change": _customer(
        properties={"cid": {"type": "string"}, "email": {"type": "string"}}
    ),
    "nested close": _customer(additionalProperties=False),
    "anyOf remove branch": _patch("choice", anyOf=[{"type": "integer"}]),
    "anyOf add branch": _patch(
        "choice", anyOf=[{"type": "integer"}, {"type": "string"}, {"type": "boolean"}]
    ),
    "add pattern": _patch("note", pattern="^[a-z]*$"),
    "object to string": _prop("customer", {"type": "string"}),
}


def pairs(count: int | None = None, seed: int = 31) -> Iterator[tuple[str, str, str]]:
    """(name, old text, new text): every mutation on both drafts, then random pairs."""
    produced = 0
    names = sorted(MUTATIONS)
    for draft in ("draft-07", "2020-12"):
        for name in names:
            if count is not None and produced >= count:
                return
            new = base(draft)
            MUTATIONS[name](new)
            produced += 1
            yield f"{draft} {name}", json.dumps(base(draft), indent=2), json.dumps(new, indent=2)
    rng = random.Random(seed)
    while count is not None and produced < count:
        draft = rng.choice(("draft-07", "2020-12"))
        a, b = rng.sample(names, 2)
        new = base(draft)
        try:
            MUTATIONS[a](new)
            MUTATIONS[b](new)
        except (KeyError, ValueError, TypeError):
            continue
        produced += 1
        yield f"{draft} {a} + {b}", json.dumps(base(draft), indent=2), json.dumps(new, indent=2)


_SAMPLES: list[Any] = [
    None,
    True,
    0,
    7,
    -3,
    1.5,
    25,
    "",
    "new",
    "lost",
    "x" * 30,
    "A-1",
    [],
    ["a"],
    [1, 2, 3],
    {},
    {"cid": 1},
    {"cid": "c"},
]


# property names writers may send beyond their schema's (those of the base schemas)
EXTRA_NAMES = ("zz_extra", "id", "amount", "status", "note", "tags", "customer", "choice")


def witnesses(schema: Any, root: Any, depth: int = 0) -> list[Any]:
    """Candidate documents for ``schema``: samples of each type, enum values, bounds, and
    for objects a full document with variants of one property at a time."""
    if depth > 6:
        return [None]
    if isinstance(schema, dict) and "$ref" in schema:
        target: Any = root
        for part in schema["$ref"][1:].split("/")[1:]:
            target = target[part]
        return witnesses(target, root, depth + 1)
    out: list[Any] = list(_SAMPLES)
    if not isinstance(schema, dict):
        return out
    for key in ("enum",):
        out += list(schema.get(key) or [])
    if "const" in schema:
        out.append(schema["const"])
    for bound in ("minimum", "maximum", "minLength", "maxLength"):
        if bound in schema:
            n = schema[bound]
            out += (
                [n - 1, n, n + 1]
                if "Length" not in bound
                else ["y" * max(n - 1, 0), "y" * n, "y" * (n + 1)]
            )
    for branch in (schema.get("anyOf") or []) + (schema.get("oneOf") or []):
        out += witnesses(branch, root, depth + 1)
    if "items" in schema and isinstance(schema["items"], dict):
        items = witnesses(schema["items"], root, depth + 1)[:20]
        out += [[v] for v in items] + [[v] * 5 for v in items]
    props = schema.get("properties")
    if isinstance(props, dict):
        choices = {name: witnesses(sub, root, depth + 1) for name, sub in props.items()}
        full = {
            name: _first_valid(sub, vals, root)
            for name, (sub, vals) in ((n, (props[n], v)) for n, v in choices.items())
        }
        out.append(full)
        for name, values in choices.items():
            out.append({k: v for k, v in full.items() if k != name})
            out += [{**full, name: v} for v in values]
        for extra in EXTRA_NAMES:  # properties writers of an open model may add
            out += [{**full, extra: v} for v in ("s", 1, None, "x" * 30) if extra not in full]
        out += [{"region": v, **full} for v in ("eu", 5)]
    return out


def _first_valid(schema: Any, values: list[Any], root: Any) -> Any:
    import jsonschema

    validator = jsonschema.validators.validator_for(root)
    for value in values:
        sub = (
            {**schema, **{k: v for k, v in root.items() if k in ("$defs", "definitions")}}
            if isinstance(schema, dict)
            else schema
        )
        if validator(sub).is_valid(value):
            return value
    return values[0]
