"""Everything that touches sqlglot: parsing, DDL, lineage, types. Imported lazily."""
