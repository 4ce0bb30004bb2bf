"""Message schemas (Avro ``.avsc``, Protobuf ``.proto``, JSON Schema ``.schema.json``): parsers,
the compatibility checks of the reference checkers, subjects and modes, topics linked to
tables, and the MS findings of a diff (docs/message-schemas.md)."""
