"""A scripted mock model server that the real AI coding CLIs talk to in the end-to-end tests.

Speaks just enough of four wire protocols (Anthropic Messages, OpenAI Responses, Gemini
generateContent, OpenAI chat completions), records every request, and answers by rule:

* the request ends with a shell tool's result   -> text ``TOOL-DONE: <last line of output>``
* the latest prompt holds ``RUN:<command>`` and the request offers a shell tool
                                                 -> a call of that shell tool running <command>
* the latest prompt holds ``SEARCH:<word>`` and the request offers tether's MCP search
  tool (under whatever name the CLI gives it: ``…search_sessions``)
                                                 -> a call of that tool searching for <word>
                                                    spelt backwards (so that the prompt, which
                                                    the CLI's own session records, never
                                                    holds what it finds)
* anything else                                  -> text ``ECHO: <latest prompt>``

Stdlib only, so that it also runs as a script: ``python mockmodel.py SPEC.json`` starts the
server, runs one command against it (inside a loopback-only network namespace when started
under ``unshare -n``) and writes the recorded requests to a file; see ``run_spec``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PORT_TOKEN = "@MOCK_PORT@"  # replaced by the server's port in a spec's env values and files

ANTHROPIC = "anthropic"
RESPONSES = "responses"
GEMINI = "gemini"
CHAT = "chat"

# Shell tools of the CLIs, by name as each CLI advertises it to the model (Cline's takes a
# list of commands).
SHELL_TOOLS = ("Bash", "exec_command", "shell", "run_shell_command", "bash", "run_commands")

RUN_RE = re.compile(r"RUN:(?P<cmd>[^\n]+)")
SEARCH_RE = re.compile(r"SEARCH:(?P<word>\S+)")
# tether's MCP search tool; each CLI prefixes an MCP tool's name its own way.
MCP_SEARCH = "search_sessions"
NAMESPACED = "__"
"""A tool inside a Responses `namespace` item is named `<namespace>__<tool>` here."""


@dataclass
class Request:
    """One HTTP request the mock received, with its JSON body parsed when it has one."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    kind: str  # the wire protocol (ANTHROPIC, RESPONSES, GEMINI, CHAT) or "other"


@dataclass
class Conversation:
    """What one model request carries, in wire-neutral terms (tool arguments as dicts)."""

    user_texts: list[str] = field(default_factory=list)
    assistant_texts: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tool_outputs: list[str] = field(default_factory=list)
    system_texts: list[str] = field(default_factory=list)
    ends_with_tool_output: bool = False

    def texts(self, role: str | None) -> list[str]:
        """The list that texts of this role go to (system, developer, … -> system_texts)."""
        return {"user": self.user_texts, "assistant": self.assistant_texts}.get(
            role or "", self.system_texts
        )


# ---------------------------------------------------------------------------------------
# Reading requests


def kind_of(path: str) -> str:
    if path.startswith("/v1/messages") and "count_tokens" not in path:
        return ANTHROPIC
    if path.endswith("/responses"):
        return RESPONSES
    if ":streamGenerateContent" in path or ":generateContent" in path:
        return GEMINI
    if path.endswith("/chat/completions"):
        return CHAT
    return "other"


def conversation(request: Request) -> Conversation:
    """The user/assistant texts, tool calls and tool outputs that a model request carries."""
    body = request.body if isinstance(request.body, dict) else {}
    readers = {
        ANTHROPIC: _anthropic_conversation,
        RESPONSES: _responses_conversation,
        GEMINI: _gemini_conversation,
        CHAT: _chat_conversation,
    }
    reader = readers.get(request.kind)
    return reader(body) if reader else Conversation()


def _text_of(content: Any) -> str:
    """Flatten a tool output or message content (string, list of parts, dict) to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_text_of(part) for part in content)
    if isinstance(content, dict):
        for key in ("text", "output", "content", "llmContent", "result"):
            if key in content:
                return _text_of(content[key])
        return json.dumps(content, sort_keys=True)
    return str(content)


def _json_args(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except (TypeError, ValueError):
        return {"_raw": arguments}
    return parsed if isinstance(parsed, dict) else {"_raw": parsed}


def _anthropic_conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation(system_texts=[_text_of(body.get("system"))] if body.get("system") else [])
    for message in body.get("messages", []):
        role, content = message.get("role"), message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        conv.ends_with_tool_output = any(block.get("type") == "tool_result" for block in blocks)
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                conv.texts(role).append(block.get("text", ""))
            elif kind == "tool_use":
                conv.tool_calls.append((block.get("name", ""), _json_args(block.get("input"))))
            elif kind == "tool_result":
                conv.tool_outputs.append(_text_of(block.get("content")))
    return conv


def _responses_conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation(system_texts=[body["instructions"]] if body.get("instructions") else [])
    items = body.get("input", [])
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    for item in items:
        kind = item.get("type", "message")
        conv.ends_with_tool_output = kind.endswith("_call_output")
        if kind == "message":
            role = item.get("role")
            content = item.get("content")
            parts = [{"text": content}] if isinstance(content, str) else content or []
            conv.texts(role).extend(part.get("text", "") for part in parts if "text" in part)
        elif kind == "function_call":
            name = item.get("name", "")
            if item.get("namespace"):
                name = f"{item['namespace']}{NAMESPACED}{name}"
            conv.tool_calls.append((name, _json_args(item.get("arguments"))))
        elif kind == "custom_tool_call":
            conv.tool_calls.append((item.get("name", ""), {"input": item.get("input")}))
        elif kind == "local_shell_call":
            conv.tool_calls.append(("local_shell", item.get("action") or {}))
        elif kind.endswith("_call_output"):
            conv.tool_outputs.append(_text_of(item.get("output")))
    return conv


def _gemini_conversation(body: dict[str, Any]) -> Conversation:
    system = body.get("systemInstruction") or body.get("system_instruction")
    conv = Conversation(system_texts=[_text_of(system.get("parts"))] if system else [])
    for content in body.get("contents", []):
        role = content.get("role", "user")
        parts = content.get("parts", [])
        conv.ends_with_tool_output = any("functionResponse" in part for part in parts)
        for part in parts:
            if "text" in part and not part.get("thought"):
                (conv.assistant_texts if role == "model" else conv.user_texts).append(part["text"])
            elif "functionCall" in part:
                call = part["functionCall"]
                conv.tool_calls.append((call.get("name", ""), _json_args(call.get("args"))))
            elif "functionResponse" in part:
                conv.tool_outputs.append(_text_of(part["functionResponse"].get("response")))
    return conv


def _chat_conversation(body: dict[str, Any]) -> Conversation:
    conv = Conversation()
    for message in body.get("messages", []):
        role = message.get("role")
        conv.ends_with_tool_output = role == "tool"
        text = _text_of(message.get("content")) if message.get("content") is not None else ""
        if role == "tool":
            conv.tool_outputs.append(text)
            continue
        if text:
            conv.texts(role).append(text)
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            conv.tool_calls.append(
                (function.get("name", ""), _json_args(function.get("arguments")))
            )
    return conv


CONTEXT_BLOCK_RE = re.compile(r"\A\s*<(?P<tag>[\w-]+)[^>]*>.*?</(?P=tag)>", re.DOTALL)


def strip_context(text: str) -> str:
    """Text without the leading ``<tag>…</tag>`` blocks a CLI adds (datetime, reminders)."""
    while match := CONTEXT_BLOCK_RE.match(text):
        text = text[match.end() :]
    return text.strip()


def latest_prompt(conv: Conversation) -> str:
    """The last user text that a person typed, without the context blocks the CLI added."""
    for text in reversed(conv.user_texts):
        if prompt := strip_context(text):
            return prompt
    return ""


def output_marker(output: str) -> str:
    """The line of a shell tool's output that a command printed, out of the CLI's wrapping.

    Claude sends the bare output, Codex ``…Output:\n<out>``, Gemini ``<untrusted_context>
    Output: <out>\nProcess Group PGID: …``, Copilot ``<out>\n<shellId: 0 completed …>``,
    Cline a JSON list of ``{query, result, success}``.
    """
    try:  # Cline's tools answer JSON: [{"query": …, "result": …, "success": …}]
        listed = json.loads(output)
    except ValueError:
        listed = None
    if isinstance(listed, list) and listed and isinstance(listed[-1], dict):
        output = str(listed[-1].get("result") or listed[-1].get("error") or "")
    lines = [line.strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not line.startswith("<")]
    for index, line in enumerate(lines):
        if line.startswith("Output:"):
            rest = line.removeprefix("Output:").strip()
            return rest or (lines[index + 1] if index + 1 < len(lines) else "")
    return lines[-1] if lines else "(no output)"


def offered_tools(request: Request) -> dict[str, dict[str, Any]]:
    """Tool name -> JSON schema of its parameters, for the tools a model request offers."""
    body = request.body if isinstance(request.body, dict) else {}
    tools: dict[str, dict[str, Any]] = {}
    for tool in body.get("tools") or []:
        if request.kind == GEMINI:
            for decl in tool.get("functionDeclarations") or tool.get("function_declarations") or []:
                schema = decl.get("parametersJsonSchema") or decl.get("parameters") or {}
                tools[decl.get("name", "")] = schema
        elif "function" in tool:  # chat completions
            tools[tool["function"].get("name", "")] = tool["function"].get("parameters") or {}
        elif tool.get("type") == "namespace":  # Responses: Codex's MCP servers
            for inner in tool.get("tools") or []:
                name = f"{tool.get('name', '')}{NAMESPACED}{inner.get('name', '')}"
                tools[name] = inner.get("parameters") or {}
        elif "name" in tool:  # Anthropic, Responses
            tools[tool["name"]] = tool.get("input_schema") or tool.get("parameters") or {}
    return tools


# ---------------------------------------------------------------------------------------
# Deciding what to answer


@dataclass
class Reply:
    text: str = ""
    tool: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    number: int = 1  # names the reply's ids: 1 + what the model said before in the history


def shell_args(schema: dict[str, Any], command: str) -> dict[str, Any]:
    """Arguments for a shell tool with this parameter schema that run ``command``."""
    properties: dict[str, Any] = schema.get("properties") or {}
    args: dict[str, Any] = {}
    for name in ("command", "cmd", "commands"):
        if name in properties:
            wants_list = properties[name].get("type") == "array"
            if name == "commands":  # a list of whole command lines
                args[name] = [command]
            else:
                args[name] = ["bash", "-lc", command] if wants_list else command
            break
    else:
        args["command"] = command
    for name in schema.get("required") or []:
        if name in args:
            continue
        spec = properties.get(name) or {}
        if "enum" in spec:
            args[name] = spec["enum"][0]
        elif spec.get("type") in ("integer", "number"):
            args[name] = spec.get("default", 30)
        elif spec.get("type") == "boolean":
            args[name] = spec.get("default", False)
        else:
            args[name] = f"Run {command}"
    return args


def structured_answer(schema: dict[str, Any]) -> Any:
    """A small JSON value matching a response schema (side requests ask for JSON)."""
    kind = schema.get("type", "object")
    kind = kind.lower() if isinstance(kind, str) else "object"
    if "enum" in schema:
        return schema["enum"][-1] if "user" not in schema["enum"] else "user"
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: structured_answer(spec) for name, spec in props.items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return "mock"


def decide(request: Request) -> Reply:
    conv = conversation(request)
    reply = _decide(request, conv)
    # Ids unique within a session and the same on every run (CLIs key records on them).
    reply.number = 1 + len(conv.assistant_texts) + len(conv.tool_calls)
    return reply


def _decide(request: Request, conv: Conversation) -> Reply:
    if conv.ends_with_tool_output:
        return Reply(text=f"TOOL-DONE: {output_marker(conv.tool_outputs[-1])}")
    prompt = latest_prompt(conv)
    match = RUN_RE.search(prompt)
    tools = offered_tools(request)
    search = SEARCH_RE.search(prompt)
    searcher = next((name for name in tools if name.endswith(MCP_SEARCH)), None)
    if search and searcher:
        return Reply(tool=searcher, args={"query": search["word"][::-1]})
    shell = next((name for name in SHELL_TOOLS if name in tools), None)
    if match and shell:
        return Reply(tool=shell, args=shell_args(tools[shell], match["cmd"].strip()))
    return Reply(text=f"ECHO: {prompt}")


# ---------------------------------------------------------------------------------------
# Writing answers, one function per wire protocol: (status, content type, body chunks)


def _sse(events: list[tuple[str | None, Any]]) -> list[bytes]:
    chunks = []
    for event, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {event}\n" if event else ""
        chunks.append(f"{head}data: {payload}\n\n".encode())
    return chunks


def anthropic_answer(body: dict[str, Any], reply: Reply) -> tuple[str, list[bytes]]:
    n = reply.number
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
    }
    block: dict[str, Any]
    if reply.tool:
        block = {
            "type": "tool_use",
            "id": f"toolu_mock{n:04d}",
            "name": reply.tool,
            "input": reply.args,
        }
    else:
        block = {"type": "text", "text": reply.text}
    stop = "tool_use" if reply.tool else "end_turn"
    message = {
        "id": f"msg_mock{n:04d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "mock"),
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    if not body.get("stream"):
        return "application/json", [json.dumps(message).encode()]
    start = {**block, "input": {}} if reply.tool else {**block, "text": ""}
    delta = (
        {"type": "input_json_delta", "partial_json": json.dumps(reply.args)}
        if reply.tool
        else {"type": "text_delta", "text": reply.text}
    )
    events: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {"type": "message_start", "message": {**message, "content": [], "stop_reason": None}},
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": start},
        ),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "text/event-stream", _sse(events)


def responses_answer(body: dict[str, Any], reply: Reply) -> tuple[str, list[bytes]]:
    n = reply.number
    item: dict[str, Any]
    if reply.tool:
        namespace, _, short = reply.tool.rpartition(NAMESPACED)
        offered = {tool.get("name") for tool in body.get("tools") or []}
        in_namespace = bool(namespace) and namespace in offered
        item = {
            "type": "function_call",
            "id": f"fc_mock{n:04d}",
            "call_id": f"call_mock{n:04d}",
            "name": short if in_namespace else reply.tool,
            "arguments": json.dumps(reply.args),
            "status": "completed",
        }
        if in_namespace:
            item["namespace"] = namespace
    else:
        part = {"type": "output_text", "text": reply.text, "annotations": []}
        item = {
            "type": "message",
            "id": f"msg_mock{n:04d}",
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }
    usage = {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 15,
    }
    response = {
        "id": f"resp_mock{n:04d}",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": body.get("model", "mock"),
        "status": "in_progress",
        "output": [],
    }
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": response}),
        ("response.in_progress", {"type": "response.in_progress", "response": response}),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress"},
            },
        ),
    ]
    if reply.tool:
        events += [
            (
                "response.function_call_arguments.delta",
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "delta": item["arguments"],
                },
            ),
            (
                "response.function_call_arguments.done",
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": item["id"],
                    "output_index": 0,
                    "arguments": item["arguments"],
                },
            ),
        ]
    else:
        where = {"item_id": item["id"], "output_index": 0, "content_index": 0}
        empty = {"type": "output_text", "text": "", "annotations": []}
        events += [
            (
                "response.content_part.added",
                {"type": "response.content_part.added", **where, "part": empty},
            ),
            (
                "response.output_text.delta",
                {"type": "response.output_text.delta", **where, "delta": reply.text},
            ),
            (
                "response.output_text.done",
                {"type": "response.output_text.done", **where, "text": reply.text},
            ),
            (
                "response.content_part.done",
                {"type": "response.content_part.done", **where, "part": item["content"][0]},
            ),
        ]
    done = {**response, "status": "completed", "output": [item], "usage": usage}
    events += [
        (
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": 0, "item": item},
        ),
        ("response.completed", {"type": "response.completed", "response": done}),
    ]
    for seq, (_, data) in enumerate(events):
        data["sequence_number"] = seq
    return "text/event-stream", _sse(events)


def gemini_answer(
    body: dict[str, Any], reply: Reply, model: str, stream: bool
) -> tuple[str, list[bytes]]:
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if reply.tool:
        part: dict[str, Any] = {"functionCall": {"name": reply.tool, "args": reply.args}}
    elif schema and not stream:
        part = {"text": json.dumps(structured_answer(schema))}
    else:
        part = {"text": reply.text}
    chunk = {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": model,
        "responseId": f"mock{reply.number:04d}",
    }
    if not stream:
        return "application/json", [json.dumps(chunk).encode()]
    return "text/event-stream", _sse([(None, chunk)])


def chat_answer(body: dict[str, Any], reply: Reply) -> tuple[str, list[bytes]]:
    n = reply.number
    base = {
        "id": f"chatcmpl-mock{n:04d}",
        "created": 1_700_000_000,
        "model": body.get("model", "mock"),
    }
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool:
        message["tool_calls"] = [
            {
                "id": f"call_mock{n:04d}",
                "type": "function",
                "function": {"name": reply.tool, "arguments": json.dumps(reply.args)},
            }
        ]
    finish = "tool_calls" if reply.tool else "stop"
    if not body.get("stream"):
        answer = {
            **base,
            "object": "chat.completion",
            "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }
        return "application/json", [json.dumps(answer).encode()]
    delta = dict(message)
    if reply.tool:
        delta["tool_calls"] = [{"index": 0, **message["tool_calls"][0]}]
    chunk = {**base, "object": "chat.completion.chunk"}
    events: list[tuple[str | None, Any]] = [
        (None, {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}),
        (
            None,
            {
                **chunk,
                "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
                "usage": usage,
            },
        ),
        (None, "[DONE]"),
    ]
    return "text/event-stream", _sse(events)


def answer(request: Request) -> tuple[int, str, list[bytes]]:
    body = request.body if isinstance(request.body, dict) else {}
    if request.kind == "other":
        return _side_answer(request)
    reply = decide(request)
    if request.kind == ANTHROPIC:
        return (200, *anthropic_answer(body, reply))
    if request.kind == RESPONSES:
        return (200, *responses_answer(body, reply))
    if request.kind == CHAT:
        return (200, *chat_answer(body, reply))
    model, _, method = request.path.rpartition("/")[2].partition(":")
    return (200, *gemini_answer(body, reply, model, method.startswith("stream")))


def _side_answer(request: Request) -> tuple[int, str, list[bytes]]:
    path = request.path
    if path.endswith("/models"):
        models = [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "mock"}]
        return 200, "application/json", [json.dumps({"object": "list", "data": models}).encode()]
    if "count_tokens" in path or path.endswith(":countTokens"):
        return (
            200,
            "application/json",
            [json.dumps({"input_tokens": 10, "totalTokens": 10}).encode()],
        )
    print(f"mockmodel: unknown request {request.method} {path}", file=sys.stderr)
    return 404, "application/json", [json.dumps({"error": {"message": "not mocked"}}).encode()]


# ---------------------------------------------------------------------------------------
# The server


class _Handler(BaseHTTPRequestHandler):
    server: MockModel
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: every request is in ``MockModel.requests``."""

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = Request(
            self.command,
            url.path,
            url.query,
            dict(self.headers.items()),
            body,
            kind_of(url.path) if self.command == "POST" else "other",
        )
        with self.server.lock:
            self.server.requests.append(request)
        status, content_type, chunks = answer(request)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(sum(len(chunk) for chunk in chunks)))
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
        self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class MockModel(ThreadingHTTPServer):
    """The mock server; ``with MockModel() as mock:`` serves on ``mock.url`` in a thread."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MockModel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


# ---------------------------------------------------------------------------------------
# Running one command against the mock (the script entry point)


def bring_loopback_up() -> None:
    """``ip link set lo up``, without needing iproute2: a new network namespace starts down."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


@contextlib.contextmanager
def _serving(in_namespace: bool) -> Iterator[MockModel]:
    if in_namespace:
        bring_loopback_up()
    with MockModel() as mock:
        yield mock


def run_spec(spec: dict[str, Any]) -> int:
    """Run ``spec["argv"]`` against a fresh mock; write the requests to ``spec["record"]``.

    The spec (JSON) holds argv, env, cwd, timeout (seconds), files ({path: text}, written
    first), record (path of the output JSON) and namespace (bring loopback up first).
    ``@MOCK_PORT@`` in env values and file texts becomes the mock's port.
    """
    with _serving(bool(spec.get("namespace"))) as mock:
        port = str(mock.port)
        for path, text in spec.get("files", {}).items():
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text.replace(PORT_TOKEN, port))
        env = {key: value.replace(PORT_TOKEN, port) for key, value in spec["env"].items()}
        argv = [arg.replace(PORT_TOKEN, port) for arg in spec["argv"]]
        timeout = spec.get("timeout", 120)
        if spec.get("typed"):
            returncode, stdout, stderr, timed_out = _run_in_terminal(
                argv, env, spec["cwd"], spec["typed"], timeout, mock, spec.get("ready", [])
            )
        else:
            returncode, stdout, stderr, timed_out = _run_piped(argv, env, spec["cwd"], timeout)
        end_leftovers(env.get("HOME", ""))
        with mock.lock:
            requests = [asdict(request) for request in mock.requests]
    record = {
        "returncode": returncode,
        "timed_out": timed_out,
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr": stderr.decode("utf-8", "replace"),
        "requests": requests,
    }
    Path(spec["record"]).write_text(json.dumps(record, indent=1))
    return 0


def end_leftovers(home: str) -> list[str]:
    """Kill what a CLI left running in the background with this run's HOME (Cline's hub
    daemon, Codex's app server): the processes whose environment says HOME=<home>; their
    argv[0]s."""
    if not home or home == "/":
        return []
    needle, ended = f"HOME={home}".encode(), []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if proc.name != str(os.getpid()) and needle in environ:
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGKILL)
                ended.append(argv[0].decode(errors="replace"))
    return ended


def _run_piped(
    argv: list[str], env: dict[str, str], cwd: str, timeout: float
) -> tuple[int, bytes, bytes, bool]:
    child = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
    with contextlib.suppress(ProcessLookupError):  # helpers the CLI left behind
        os.killpg(child.pid, signal.SIGKILL)
    return child.returncode, stdout, stderr, timed_out


SETTLE = 1.5  # seconds of a quiet screen before typing, and after the model has answered
SCREEN = (40, 120)
DRAWN = 512  # bytes of screen output that mean a TUI has drawn itself


def _run_in_terminal(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    typed: list[str],
    timeout: float,
    mock: Any,
    ready: list[str],
) -> tuple[int, bytes, bytes, bool]:
    """Run a TUI in a pseudo-terminal: type each text (then Enter) once the screen has been
    quiet a while, shows one of the `ready` texts (its input box) since the last typing and,
    after the first, once the mock has answered the text before; then end it (SIGTERM, then
    SIGKILL). Its screen output is the run's stdout."""
    import pty
    import termios
    import time

    env = {**env, "TERM": "xterm-256color"}
    env.pop("CI", None)  # TUIs draw no live screen under CI
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", *SCREEN, 0, 0))
    child = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    screen = bytearray()
    last = [time.monotonic()]

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)
            last[0] = time.monotonic()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout

    since = [0]

    def settled(count: int) -> bool:
        """Until the mock has `count` model requests and the screen has been quiet."""
        while time.monotonic() < deadline and child.poll() is None:
            with mock.lock:
                asked = sum(1 for r in mock.requests if r.kind != "other")
            drawn = len(screen) >= DRAWN  # not just a launcher's line: the TUI is up
            fresh = bytes(screen[since[0] :])
            shown = not ready or any(text.encode() in fresh for text in ready)
            if drawn and shown and asked >= count and time.monotonic() - last[0] > SETTLE:
                return True
            time.sleep(0.1)
        return False

    timed_out = False
    for index, text in enumerate(typed):
        if not settled(index):
            timed_out = child.poll() is None
            break
        since[0] = len(screen)
        os.write(leader, text.encode())
        time.sleep(0.3)
        os.write(leader, b"\r")
    else:
        timed_out = not settled(len(typed))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    os.close(leader)
    reader.join(timeout=2)
    return 0 if not timed_out else -9, bytes(screen), b"", timed_out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: mockmodel.py SPEC.json", file=sys.stderr)
        return 2
    return run_spec(json.loads(Path(argv[0]).read_text()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
