"""The tools a pinned CLI declares to the model, as recorded in
tests/fixtures/declared/<cli>.json by tests/e2e/record_requests.py (which says how to record
them again)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import FIXTURES
from tests.e2e.mockmodel import Request, kind_of, offered_tools
from tether.tools.vocabulary import Canonical, Vocabulary


def recorded(cli: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / "declared" / f"{cli}.json").read_text()))


def declared_tools(cli: str) -> dict[str, dict[str, Any]]:
    """Tool name -> JSON schema of its parameters, read as the mock model reads a request."""
    record = recorded(cli)
    path = record["path"]
    return offered_tools(Request("POST", path, "", {}, record["body"], kind_of(path)))


def encode_as_declared(cli: str, vocabulary: Vocabulary, call: Canonical) -> tuple[str, Any]:
    """The call encoded by `vocabulary`, checked against the tools the pinned `cli` declares:
    a declared tool, only its parameters, all it requires, values from its enums."""
    encoded = vocabulary.encode(call)
    assert encoded is not None
    tool, args = encoded
    schema = declared_tools(cli).get(tool)
    assert schema is not None, f"{tool} is not a tool of the pinned CLI"
    properties = schema["properties"]
    assert set(args) <= set(properties), (tool, args)
    assert set(schema.get("required", [])) <= set(args), (tool, args)
    for key, value in args.items():
        assert value in properties[key].get("enum", [value]), (tool, key, value)
    return tool, args
