"""Parse text-format schemas with tensorflow-metadata and print them as JSON.

Run with the Python of a venv holding tensorflow-metadata (tests/test_tfx.py; never imported
by the checker): ``python tfmd_dump.py FILE...`` -> {file: MessageToDict(Schema)}.
"""

import json
import sys

from google.protobuf import json_format, text_format
from tensorflow_metadata.proto.v0 import schema_pb2

out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    out[path] = json_format.MessageToDict(schema, preserving_proto_field_name=True)
print(json.dumps(out))
