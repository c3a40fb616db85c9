"""Qwen Code's tool calls in the shared vocabulary (0.24.4 and older argument names)."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, decode_gemini_edit, first_given, given

TODO_STATUSES = frozenset({"pending", "in_progress", "completed"})


def _shell_decode(native: Args) -> Args | None:
    args = given(
        command=native.get("command"),
        description=native.get("description"),
        workdir=first_given(native, "directory", "dir_path"),
    )
    if type(native.get("timeout")) is int:
        args["timeout_ms"] = native["timeout"]
    return args


def _read_decode(native: Args) -> Args | None:
    """`offset` is a 0-based line number (the canonical one counts from 1)."""
    args = given(path=first_given(native, "file_path", "absolute_path", "path"))
    offset, limit = native.get("offset"), native.get("limit")
    if type(offset) is int:
        args["offset"] = offset + 1
    if type(limit) is int:
        args["limit"] = limit
    return args


def _read_encode(args: Args) -> Args | None:
    native: Args = {"file_path": args["path"]}
    offset, limit = args.get("offset"), args.get("limit")
    if type(offset) is int and offset > 0:
        native["offset"] = offset - 1
    if type(limit) is int and limit > 0:
        native["limit"] = limit
    return native


def _grep_decode(native: Args) -> Args | None:
    return given(
        pattern=native.get("pattern"),
        path=first_given(native, "path", "dir_path"),
        glob=first_given(native, "glob", "include"),
    )


def _todo_decode(native: Args) -> Args | None:
    todos = native.get("todos")
    if not isinstance(todos, list):
        return None
    items = [
        {"text": str(todo.get("content", "")), "status": str(todo.get("status") or "pending")}
        for todo in todos
        if isinstance(todo, dict)
    ]
    return {"items": items}


def _todo_encode(args: Args) -> Args | None:
    items = args.get("items")
    if not isinstance(items, list):
        return None
    todos = [
        {
            "id": str(number),
            "content": str(item.get("text", "")) or "(empty)",
            "status": item["status"] if item.get("status") in TODO_STATUSES else "pending",
        }
        for number, item in enumerate((i for i in items if isinstance(i, dict)), 1)
    ]
    return {"todos": todos}


def _task_decode(native: Args) -> Args | None:
    return given(
        prompt=native.get("prompt"),
        description=native.get("description"),
        agent=native.get("subagent_type"),
    )


def _task_encode(args: Args) -> Args | None:
    prompt = str(args["prompt"])
    description = args.get("description") or (prompt.strip().splitlines() or ["task"])[0][:80]
    native: Args = {"description": description, "prompt": prompt}
    if args.get("agent"):
        native["subagent_type"] = args["agent"]
    return native


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "run_shell_command",
            {
                "command": "command",
                "description": "description",
                "workdir": "directory",
                "timeout_ms": "timeout",
            },
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
        Shape(
            "edit_file",
            "edit",
            {
                "path": "file_path",
                "old": "old_string",
                "new": "new_string",
                "replace_all": "replace_all",
            },
            aliases=("replace",),
            decode=decode_gemini_edit,
        ),
        Shape("list_dir", "list_directory", {"path": "path"}),
        Shape("glob", "glob", {"pattern": "pattern", "path": "path"}),
        Shape(
            "grep",
            "grep_search",
            {"pattern": "pattern", "path": "path", "glob": "glob"},
            aliases=("search_file_content",),
            decode=_grep_decode,
        ),
        Shape("web_fetch", "web_fetch", {"url": "url", "prompt": "prompt"}),
        Shape("web_search", "web_search", {"query": "query"}),
        Shape("todo", "todo_write", {}, decode=_todo_decode, encode=_todo_encode),
        Shape(
            "task",
            "agent",
            {"prompt": "prompt", "description": "description", "agent": "subagent_type"},
            aliases=("task",),
            decode=_task_decode,
            encode=_task_encode,
        ),
    ]
)
