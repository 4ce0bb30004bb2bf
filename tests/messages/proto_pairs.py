"""Generated ``.proto`` pairs for the truth test: a base file and one or two textual
mutations (field adds, deletes with and without reserving, renames, number changes, type
changes inside and across buf's compatibility groups, cardinality, oneofs, maps, nested
messages, enums, reserved ranges and names, required fields, package)."""

from __future__ import annotations

import random
from collections.abc import Iterator

BASE = """syntax = "proto3";

package shop.v1;

import "google/protobuf/timestamp.proto";

// An order as the orders-cdc topic carries it.
message Order {
  int64 id = 1;
  double amount = 2;
  string status = 3;
  optional string note = 4;
  repeated string tags = 5;
  map<string, int32> attrs = 6;
  Customer customer = 7;
  Kind kind = 8;
  oneof payment {
    string card = 9;
    string iban = 10;
  }
  google.protobuf.Timestamp created_at = 11;
  int32 qty = 12 [json_name = "quantity"];
  reserved 20, 30 to 39;
  reserved "legacy";

  message Customer {
    int64 cid = 1;
    string email = 2;
  }
}

enum Kind {
  KIND_UNSPECIFIED = 0;
  KIND_RETAIL = 1;
  KIND_WHOLESALE = 2;
  reserved 9;
  reserved "KIND_OLD";
}
"""

MUTATIONS: dict[str, tuple[str, ...]] = {
    "add field": ("  int32 qty = 12", "  int64 extra = 13;\n  int32 qty = 12"),
    "add message": ("enum Kind {", "message Refund {\n  int64 id = 1;\n}\n\nenum Kind {"),
    "delete field": ("  double amount = 2;\n", ""),
    "delete field reserving number": ("  double amount = 2;\n", "  reserved 2;\n"),
    "delete field reserving name": ("  double amount = 2;\n", '  reserved "amount";\n'),
    "delete field reserving both": (
        "  double amount = 2;\n",
        '  reserved 2;\n  reserved "amount";\n',
    ),
    "rename field": ("double amount = 2;", "double total = 2;"),
    "rename field same json name": ("int64 id = 1;", 'int64 ID = 1 [json_name = "id"];'),
    "change json_name": ('[json_name = "quantity"]', '[json_name = "qty"]'),
    "change field number": ("double amount = 2;", "double amount = 14;"),
    "int32 to int64": ("int32 qty = 12", "int64 qty = 12"),
    "int64 to uint64": ("int64 id = 1;", "uint64 id = 1;"),
    "int64 to sint64": ("int64 id = 1;", "sint64 id = 1;"),
    "int64 to fixed64": ("int64 id = 1;", "fixed64 id = 1;"),
    "int32 to uint32": ("int32 qty = 12", "uint32 qty = 12"),
    "int32 to bool": ("int32 qty = 12", "bool qty = 12"),
    "double to float": ("double amount = 2;", "float amount = 2;"),
    "double to string": ("double amount = 2;", "string amount = 2;"),
    "string to bytes": ("string status = 3;", "bytes status = 3;"),
    "message to other message": ("  Customer customer = 7;", "  Order customer = 7;"),
    "enum to int32": ("  Kind kind = 8;", "  int32 kind = 8;"),
    "singular to repeated": ("  double amount = 2;", "  repeated double amount = 2;"),
    "repeated to singular": ("  repeated string tags = 5;", "  string tags = 5;"),
    "map to repeated": ("  map<string, int32> attrs = 6;", "  repeated string attrs = 6;"),
    "map value type": ("map<string, int32> attrs", "map<string, string> attrs"),
    "make optional": ("  string status = 3;", "  optional string status = 3;"),
    "drop optional": ("  optional string note = 4;", "  string note = 4;"),
    "move out of oneof": ("    string iban = 10;\n", ""),
    "rename oneof": ("oneof payment {", "oneof method {"),
    "delete oneof field": ("    string card = 9;\n", ""),
    "nested delete field": ("    string email = 2;\n", ""),
    "nested type change": ("    int64 cid = 1;", "    string cid = 1;"),
    "nested rename": ("    string email = 2;", "    string mail = 2;"),
    "rename nested message": (
        "  message Customer {",
        "  message Client {",
        "  Customer customer = 7;",
        "  Client customer = 7;",
    ),
    "enum add value": ("  KIND_WHOLESALE = 2;", "  KIND_WHOLESALE = 2;\n  KIND_ONLINE = 3;"),
    "enum delete value": ("  KIND_WHOLESALE = 2;\n", ""),
    "enum delete value reserved": (
        "  KIND_WHOLESALE = 2;\n",
        '  reserved 2;\n  reserved "KIND_WHOLESALE";\n',
    ),
    "enum rename value": ("KIND_WHOLESALE = 2;", "KIND_BULK = 2;"),
    "enum delete reserved": ("  reserved 9;\n", ""),
    "enum delete reserved name": ('  reserved "KIND_OLD";\n', ""),
    "delete reserved range": ("  reserved 20, 30 to 39;\n", "  reserved 20;\n"),
    "shrink reserved range": ("30 to 39", "30 to 35"),
    "widen reserved range": ("30 to 39", "30 to 49"),
    "delete reserved name": ('  reserved "legacy";\n', ""),
    "change package": ("package shop.v1;", "package shop.v2;"),
    "timestamp to string": (
        "google.protobuf.Timestamp created_at = 11;",
        "string created_at = 11;",
    ),
    "comment only": ("// An order as", "// The order as"),
}
# a field moved into the oneof: two edits
MUTATIONS["move into oneof"] = (
    "  string status = 3;\n  optional string note = 4;\n",
    "  optional string note = 4;\n",
    "    string iban = 10;\n",
    "    string iban = 10;\n    string status = 3;\n",
)

PROTO2 = """syntax = "proto2";

package legacy;

message Event {
  required int64 id = 1;
  optional string name = 2 [default = "none"];
  optional int32 level = 3 [default = 1];
  repeated string labels = 4;
  optional group Meta = 5 {
    optional string source = 1;
  }
}
"""
PROTO2_MUTATIONS: dict[str, tuple[str, ...]] = {
    "proto2 add required": (
        "  repeated string labels = 4;",
        "  repeated string labels = 4;\n  required string region = 6;",
    ),
    "proto2 drop required": ("  required int64 id = 1;", "  optional int64 id = 1;"),
    "proto2 make required": ("  optional int32 level = 3", "  required int32 level = 3"),
    "proto2 change default": ('[default = "none"]', '[default = "n/a"]'),
    "proto2 drop default": (" [default = 1]", ""),
    "proto2 same default spelled": ("[default = 1]", "[default = 0x1]"),
    "proto2 group field type": (
        "    optional string source = 1;",
        "    optional int32 source = 1;",
    ),
    "proto2 delete group": (
        "  optional group Meta = 5 {\n    optional string source = 1;\n  }\n",
        "",
    ),
}


def _apply(text: str, mutation: tuple[str, ...]) -> str | None:
    """The text with each (old, new) edit applied once; None when one does not apply."""
    for old, new in zip(mutation[::2], mutation[1::2]):
        if old not in text:
            return None
        text = text.replace(old, new, 1)
    return text


def pairs(count: int | None = None, seed: int = 23) -> Iterator[tuple[str, str, str]]:
    """(name, old text, new text): every single mutation of both bases, then random pairs
    of mutations of the proto3 base (``count`` in all; every single one when None)."""
    produced = 0
    singles = [(n, BASE, m) for n, m in sorted(MUTATIONS.items())]
    singles += [(n, PROTO2, m) for n, m in sorted(PROTO2_MUTATIONS.items())]
    for name, base, mutation in singles:
        if count is not None and produced >= count:
            return
        new = _apply(base, mutation)
        if new is not None:
            produced += 1
            yield name, base, new
    rng = random.Random(seed)
    names = sorted(MUTATIONS)
    while count is not None and produced < count:
        a, b = rng.sample(names, 2)
        first = _apply(BASE, MUTATIONS[a])
        second = _apply(first, MUTATIONS[b]) if first is not None else None
        if second is None or second == first:
            continue
        produced += 1
        yield f"{a} + {b}", BASE, second
