"""The session JSON format: its schema validates the examples and what tether prints."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tether.archive.assemble import Assembly
from tether.capture.feed import feed_from_bytes
from tether.formats import tether_json
from tether.tools.base import Source

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "src/tether/formats/session.schema.json").read_text())
EXAMPLES = sorted((ROOT / "docs/examples").glob("*.json"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(example: Path) -> None:
    jsonschema.validate(json.loads(example.read_text()), SCHEMA)


def test_schema_rejects_what_it_should() -> None:
    doc = json.loads(EXAMPLES[0].read_text())
    doc["messages"][0]["role"] = "robot"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    doc = json.loads(EXAMPLES[0].read_text())
    doc["messages"][1]["parts"][2] = {"type": "tool_call", "name": "Bash"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_reading_an_export_back_gives_the_same_json(example: Path) -> None:
    data = example.read_bytes()
    assembly = Assembly("tether")
    assembly.apply(tether_json.read(feed_from_bytes(Source(example, "document"), data), {}))
    session = assembly.session()
    again = tether_json.session_json(session)
    original = json.loads(data)
    assert again["messages"] == original["messages"]
    assert again["session"]["tool"] == original["session"]["tool"]
    jsonschema.validate(again, SCHEMA)
