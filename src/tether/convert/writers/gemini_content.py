"""Parts of a Gemini API `Content`, as the Gemini CLI and Qwen Code (its fork) record them:
the model's function calls, their responses and its thoughts."""

from __future__ import annotations

from typing import Any

from tether.model import ToolCall, ToolResult


def function_call(call: ToolCall, name: str) -> dict[str, Any]:
    """A `functionCall` part for `call` under `name` (input that is no object goes under
    `input`: the API takes objects only); the call's own signature when it has one."""
    args = call.input if isinstance(call.input, dict) else {"input": call.input}
    part: dict[str, Any] = {"functionCall": {"id": call.id, "name": name, "args": args}}
    if call.native.get("thoughtSignature"):
        part["thoughtSignature"] = call.native["thoughtSignature"]
    return part


def function_response(result: ToolResult, name: str) -> dict[str, Any]:
    """A `functionResponse` part answering the call `name`: its output, or its error."""
    body = {"error": result.output} if result.is_error else {"output": result.output}
    return {"functionResponse": {"id": result.call_id, "name": name, "response": body}}


def thought(text: str, signature: str | None = None) -> dict[str, Any]:
    """A thought part; a signature only where it may replay (its own tool's)."""
    part: dict[str, Any] = {"text": text, "thought": True}
    if signature:
        part["thoughtSignature"] = signature
    return part
