"""The tools a pinned CLI declares to the model, as recorded in tests/fixtures/<cli>/
declared_tools.json by tests/e2e/record_requests.py (which says how to record them again)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import FIXTURES
from tests.e2e.mockmodel import Request, kind_of, offered_tools


def recorded(cli: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / cli / "declared_tools.json").read_text()))


def declared_tools(cli: str) -> dict[str, dict[str, Any]]:
    """Tool name -> JSON schema of its parameters, read as the mock model reads a request."""
    record = recorded(cli)
    path = record["path"]
    return offered_tools(Request("POST", path, "", {}, record["body"], kind_of(path)))
