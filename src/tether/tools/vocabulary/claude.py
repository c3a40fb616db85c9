"""Claude Code's tool calls in the shared vocabulary (the tools 2.1.197 declares)."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, decode_todos, encode_todos


def _todo_encode(args: Args) -> Args | None:
    return encode_todos(args, lambda text: {"activeForm": text})


def _timeout_decode(native: Args) -> Args | None:
    args: Args = {"command": native.get("command")}
    if native.get("description"):
        args["description"] = native["description"]
    if isinstance(native.get("timeout"), int):
        args["timeout_ms"] = native["timeout"]
    return args


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "Bash",
            {"command": "command", "description": "description", "timeout_ms": "timeout"},
            decode=_timeout_decode,
        ),
        Shape("read_file", "Read", {"path": "file_path", "offset": "offset", "limit": "limit"}),
        Shape("write_file", "Write", {"path": "file_path", "content": "content"}),
        Shape(
            "edit_file",
            "Edit",
            {
                "path": "file_path",
                "old": "old_string",
                "new": "new_string",
                "replace_all": "replace_all",
            },
        ),
        Shape("list_dir", "LS", {"path": "path"}),
        Shape("glob", "Glob", {"pattern": "pattern", "path": "path"}),
        Shape("grep", "Grep", {"pattern": "pattern", "path": "path", "glob": "glob"}),
        Shape("web_fetch", "WebFetch", {"url": "url", "prompt": "prompt"}),
        Shape("web_search", "WebSearch", {"query": "query"}),
        Shape("todo", "TodoWrite", {}, decode=decode_todos, encode=_todo_encode),
        Shape(
            "task",
            "Agent",
            {"prompt": "prompt", "description": "description", "agent": "subagent_type"},
            aliases=("Task",),
        ),
    ]
)
