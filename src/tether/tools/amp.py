"""Amp (Sourcegraph): the thread files it kept at `~/.local/share/amp/threads/T-<uuid>.json`.

One JSON document per thread, rewritten whole: Anthropic-style content blocks, with tool
results as `{type: tool_result, toolUseID, run: {status, result}}`. Amp moved threads to
its server in 2026; the files it left behind are what is read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tether.model import Attachment, Message, Part, Role, Text, ToolResult
from tether.tools.base import Feed, FormatError, Meta, Op, Put, Source
from tether.tools.claude import ASSISTANT_BLOCKS
from tether.tools.common import (
    as_text,
    dict_or_empty,
    each,
    file_path,
    iso,
    shown,
    text_of,
    token_counts,
)
from tether.tools.facts import amp as facts
from tether.tools.listing import entries, is_file

name = facts.NAME
display_name = facts.DISPLAY_NAME
aliases = facts.ALIASES
capabilities = facts.CAPABILITIES

EXTENSION_ID = "sourcegraph.amp"
THREAD_FOLDERS = ("threads", "threads3")
"""The CLI's folder, and the VS Code extension's before threads moved to the CLI's."""
THREAD_ID = re.compile(rb'"id"\s*:\s*"T-[0-9a-fA-F-]{8,}"')
FAILED = frozenset({"error", "cancelled", "rejected-by-user"})
USAGE_NAMES = (
    ("inputTokens", "input_tokens"),
    ("outputTokens", "output_tokens"),
    ("cacheCreationInputTokens", "cache_creation_input_tokens"),
    ("cacheReadInputTokens", "cache_read_input_tokens"),
    ("totalInputTokens", "total_input_tokens"),
    ("totalTokens", "total_tokens"),
)
RESULTS = "#results"
PROMPT = "#prompt"


def store_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    return [Path(root) for root in facts.store_roots(env, str(home))]


def discover(root: Path) -> Iterator[Source]:
    for folder in THREAD_FOLDERS:
        for entry in entries(root / folder):
            if entry.name.startswith("T-") and entry.name.endswith(".json") and is_file(entry):
                yield Source(Path(entry.path), "document", entry.name[:-5])


def sniff(path: Path, head: bytes) -> Source | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{") or THREAD_ID.search(text) is None:
        return None
    if b'"messages"' not in text and not path.name.startswith("T-"):
        return None
    return Source(path, "document")


def read(feed: Feed, state: dict[str, Any]) -> Iterator[Op]:
    doc = feed.document()
    if not isinstance(doc, dict) or not isinstance(doc.get("messages", []), list):
        raise FormatError("not an Amp thread: expected an object with a messages list")
    yield _meta(doc, feed.source)

    keys: set[str] = set()

    def one(index: int, message: Any) -> Iterator[Op]:
        if not isinstance(message, dict):
            feed.skip(f"message {index} is not an object")
            return
        key = _key(message, index)
        if key in keys:
            key = f"#{index}"  # each message of the thread is one: an id twice is a clash
        keys.add(key)
        yield from _message(feed, message, key)

    yield from each(feed, "message", doc.get("messages") or [], one)


def _meta(doc: dict[str, Any], source: Source) -> Meta:
    thread_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    initial = _initial(doc)
    cwd = _workspace(initial)
    native: dict[str, Any] = {
        k: doc[k] for k in ("v", "agentMode", "mainThreadID") if doc.get(k) is not None
    }
    tags = initial.get("tags")
    models = (
        [t[6:] for t in tags if isinstance(t, str) and t.startswith("model:")]
        if isinstance(tags, list)
        else []
    )
    if models:
        native["model"] = models[0]
    return Meta(
        native_id=thread_id or source.native_id,
        title=doc["title"] if isinstance(doc.get("title"), str) and doc["title"] else None,
        cwd=cwd,
        project=cwd,
        created_at=iso(doc.get("created")),
        native=native,
    )


def _initial(doc: dict[str, Any]) -> dict[str, Any]:
    env = doc.get("env")
    initial = env.get("initial") if isinstance(env, dict) else None
    return initial if isinstance(initial, dict) else {}


def _workspace(initial: dict[str, Any]) -> str | None:
    """The thread's working directory: `env.initial.cwd`, else its first workspace tree."""
    cwd = initial.get("cwd")
    if isinstance(cwd, str) and cwd:
        return cwd
    trees = initial.get("trees")
    for tree in trees if isinstance(trees, list) else ():
        uri = tree.get("uri") if isinstance(tree, dict) else None
        if isinstance(uri, dict):
            uri = uri.get("fsPath") or uri.get("path")
        if isinstance(uri, str) and uri:
            return file_path(uri)
    return None


def _message(feed: Feed, message: dict[str, Any], key: str) -> Iterator[Op]:
    role = message.get("role")
    blocks = message.get("content")
    if isinstance(blocks, str):
        blocks = [{"type": "text", "text": blocks}]
    if not isinstance(blocks, list):
        blocks = []
    timestamp = _timestamp(message)
    native = _message_native(message)
    if role == "assistant":
        yield from _assistant(feed, key, blocks, message, timestamp, native)
    elif role == "user":
        yield from _user(feed, key, blocks, timestamp, native)
    elif role == "info":
        parts = _info_parts(blocks)
        if parts:
            yield Put(key, Message("system", parts, timestamp, native={**native, "role": "info"}))
    else:
        feed.skip(f"message with unknown role {shown(role)}")


def _key(message: dict[str, Any], index: int) -> str:
    mid = message.get("messageId")
    return str(mid) if isinstance(mid, int | str) and mid != "" else f"#{index}"


def _timestamp(message: dict[str, Any]) -> str | None:
    meta = message.get("meta")
    if isinstance(meta, dict) and meta.get("sentAt") is not None:
        return iso(meta["sentAt"])
    usage = message.get("usage")
    if isinstance(usage, dict):
        return iso(usage.get("timestamp"))
    return None


def _message_native(message: dict[str, Any]) -> dict[str, Any]:
    state = message.get("state")
    if isinstance(state, dict):
        return {k: state[k] for k in ("type", "stopReason") if isinstance(state.get(k), str)}
    return {}


def _assistant(
    feed: Feed,
    key: str,
    blocks: list[Any],
    message: dict[str, Any],
    timestamp: str | None,
    native: dict[str, Any],
) -> Iterator[Op]:
    parts: list[Part] = []
    results: list[Part] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            results.append(_tool_result(block))
        elif isinstance(kind, str) and kind in ASSISTANT_BLOCKS:
            part = ASSISTANT_BLOCKS[kind](block)
            if part is not None:
                parts.append(part)
        else:
            feed.skip(f"unknown assistant block {shown(kind)}")
    usage = dict_or_empty(message.get("usage"))
    model = usage.get("model") if isinstance(usage.get("model"), str) else None
    if parts:
        yield Put(
            key,
            Message(
                "assistant",
                parts,
                timestamp,
                model,
                token_counts(usage, USAGE_NAMES) or None,
                None,
                native,
            ),
        )
    if results:
        yield Put(key + RESULTS, Message("tool", results, timestamp))


def _user(
    feed: Feed, key: str, blocks: list[Any], timestamp: str | None, native: dict[str, Any]
) -> Iterator[Op]:
    results: list[Part] = []
    prompt: list[Part] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            results.append(_tool_result(block))
        elif kind == "text":
            text = block.get("text")
            if isinstance(text, str) and text.strip():
                prompt.append(Text(text))
        elif kind == "image":
            prompt.append(ASSISTANT_BLOCKS["image"](block) or Attachment("image/*"))
        else:
            feed.skip(f"unknown user block {shown(kind)}")
    # Tool results come back in a user-role message; the prompt, if any, follows them.
    role: Role = "user"
    if results:
        yield Put(key, Message("tool", results, timestamp))
        if prompt:
            yield Put(key + PROMPT, Message(role, prompt, timestamp, native=native))
    elif prompt:
        yield Put(key, Message(role, prompt, timestamp, native=native))


def _tool_result(block: dict[str, Any]) -> ToolResult:
    call_id = block.get("toolUseID") or block.get("tool_use_id") or ""
    run = dict_or_empty(block.get("run"))
    status = run.get("status") if isinstance(run.get("status"), str) else None
    if "content" in block and not run:
        output = as_text(block.get("content"))
    else:
        output = _run_output(run, status)
    failed = status in FAILED or bool(block.get("is_error"))
    return ToolResult(text_of(call_id), output, failed, {"status": status} if status else {})


def _run_output(run: dict[str, Any], status: str | None) -> str:
    result = run.get("result")
    if isinstance(result, dict) and isinstance(result.get("output"), str):
        return str(result["output"])
    if result is not None and result != "":
        return as_text(result)
    if run.get("error") not in (None, ""):
        return as_text(run["error"])
    progress = run.get("progress")
    if isinstance(progress, list):
        return "\n".join(p for p in progress if isinstance(p, str))
    if progress not in (None, ""):
        return as_text(progress)
    return f"[{status}]" if status else ""


def _info_parts(blocks: list[Any]) -> list[Part]:
    parts: list[Part] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "summary" and isinstance(block.get("summary"), dict):
            summary = block["summary"]
            text = summary.get("summary") or summary.get("thread")
            if isinstance(text, str) and text:
                parts.append(Text(text, native={"summary": summary.get("type")}))
        elif isinstance(block.get("text"), str) and block["text"]:
            parts.append(Text(block["text"]))
    return parts
