"""Gemini CLI's tool calls in the shared vocabulary (0.61 and the argument names of older
versions)."""

from __future__ import annotations

import re
from typing import Any

from tether.tools.vocabulary import Args, Shape, Vocabulary, decode_gemini_edit, first_given, given

TODO_STATUS = {"cancelled": "completed", "blocked": "pending"}
URL = re.compile(r"https?://[^\s\"'<>)\]]+")


def _shell_decode(native: Args) -> Args | None:
    return given(
        command=native.get("command"),
        description=native.get("description"),
        workdir=first_given(native, "dir_path", "directory"),
    )


def _read_decode(native: Args) -> Args | None:
    """0.61: 1-based `start_line`/`end_line`; older: 0-based `offset` and `limit`."""
    args = given(path=first_given(native, "file_path", "absolute_path", "path"))
    start, end = native.get("start_line"), native.get("end_line")
    if isinstance(start, int) or isinstance(end, int):
        first = start if isinstance(start, int) else 1
        args["offset"] = first
        if isinstance(end, int):
            args["limit"] = end - first + 1
    elif isinstance(native.get("offset"), int):
        args["offset"] = native["offset"] + 1
        if isinstance(native.get("limit"), int):
            args["limit"] = native["limit"]
    return args


def _read_encode(args: Args) -> Args | None:
    native: Args = {"file_path": args["path"]}
    offset, limit = args.get("offset"), args.get("limit")
    first = offset if isinstance(offset, int) and offset > 0 else 1
    if isinstance(offset, int) and offset > 0:
        native["start_line"] = first
    if isinstance(limit, int) and limit > 0:
        native["start_line"] = first
        native["end_line"] = first + limit - 1
    return native


def _edit_encode(args: Args) -> Args | None:
    native: Args = {
        "file_path": args["path"],
        "instruction": f"Replace the text in {args['path']}",
        "old_string": args.get("old", ""),
        "new_string": args.get("new", ""),
    }
    if args.get("replace_all"):
        native["allow_multiple"] = True
    return native


def _path_decode(native: Args) -> Args | None:
    return given(
        pattern=native.get("pattern"),
        path=first_given(native, "dir_path", "path", "directory"),
        glob=first_given(native, "include_pattern", "include"),
    )


def _fetch_decode(native: Args) -> Args | None:
    prompt = native.get("prompt")
    if not isinstance(prompt, str):
        return given(url=native.get("url"))
    found = URL.search(prompt)
    if found is None:
        return given(prompt=prompt)
    url = found.group(0)
    if prompt == f"Fetch {url}":  # as _fetch_encode spells a bare URL
        return {"url": url}
    return given(url=url, prompt=prompt.removesuffix(f"\n{url}"))


def _fetch_encode(args: Args) -> Args | None:
    url, prompt = args.get("url"), args.get("prompt")
    if url and prompt:
        return {"prompt": prompt if str(url) in str(prompt) else f"{prompt}\n{url}"}
    if url:
        return {"prompt": f"Fetch {url}"}
    return {"prompt": prompt} if prompt else None


def _todo_decode(native: Args) -> Args | None:
    todos = native.get("todos")
    if not isinstance(todos, list):
        return None
    items = [
        {
            "text": str(todo.get("description", "")),
            "status": _todo_status(todo.get("status")),
        }
        for todo in todos
        if isinstance(todo, dict)
    ]
    return {"items": items}


def _todo_status(status: Any) -> str:
    text = status if isinstance(status, str) and status else "pending"
    return TODO_STATUS.get(text, text)


def _todo_encode(args: Args) -> Args | None:
    items = args.get("items")
    if not isinstance(items, list):
        return None
    todos = [
        {"description": str(item.get("text", "")), "status": item.get("status", "pending")}
        for item in items
        if isinstance(item, dict)
    ]
    return {"todos": todos}


def _task_decode(native: Args) -> Args | None:
    return given(prompt=native.get("prompt"), agent=native.get("agent_name"))


def _task_encode(args: Args) -> Args | None:
    return {"agent_name": args.get("agent") or "generalist", "prompt": args["prompt"]}


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "run_shell_command",
            {"command": "command", "description": "description", "workdir": "dir_path"},
            decode=_shell_decode,
        ),
        Shape(
            "read_file",
            "read_file",
            {"path": "file_path"},
            decode=_read_decode,
            encode=_read_encode,
        ),
        Shape("write_file", "write_file", {"path": "file_path", "content": "content"}),
        Shape("edit_file", "replace", {}, decode=decode_gemini_edit, encode=_edit_encode),
        Shape("list_dir", "list_directory", {"path": "dir_path"}, decode=_path_decode),
        Shape("glob", "glob", {"pattern": "pattern", "path": "dir_path"}, decode=_path_decode),
        Shape(
            "grep",
            "grep_search",
            {"pattern": "pattern", "path": "dir_path", "glob": "include_pattern"},
            aliases=("search_file_content",),
            decode=_path_decode,
        ),
        Shape("web_fetch", "web_fetch", {}, decode=_fetch_decode, encode=_fetch_encode),
        Shape("web_search", "google_web_search", {"query": "query"}),
        Shape("todo", "write_todos", {}, decode=_todo_decode, encode=_todo_encode),
        Shape("task", "invoke_agent", {}, decode=_task_decode, encode=_task_encode),
    ]
)
