"""opencode's tool calls in the shared vocabulary (1.18.33 and older names)."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, decode_todos, encode_todos


def _todo_encode(args: Args) -> Args | None:
    return encode_todos(args, lambda text: {"priority": "medium"})


# The tools opencode 1.18.33 declares (bash, read, write, edit, glob, grep, webfetch,
# todowrite, task, skill), and older names its sessions hold (list, websearch).
vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "bash",
            {
                "command": "command",
                "description": "description",
                "workdir": "workdir",
                "timeout_ms": "timeout",
            },
        ),
        Shape("read_file", "read", {"path": "filePath", "offset": "offset", "limit": "limit"}),
        Shape("write_file", "write", {"path": "filePath", "content": "content"}),
        Shape(
            "edit_file",
            "edit",
            {
                "path": "filePath",
                "old": "oldString",
                "new": "newString",
                "replace_all": "replaceAll",
            },
        ),
        Shape("list_dir", "list", {"path": "path"}),
        Shape("glob", "glob", {"pattern": "pattern", "path": "path"}),
        Shape("grep", "grep", {"pattern": "pattern", "path": "path", "glob": "include"}),
        Shape("web_fetch", "webfetch", {"url": "url"}, fixed={"format": "markdown"}),
        Shape("web_search", "websearch", {"query": "query"}),
        Shape("todo", "todowrite", {}, decode=decode_todos, encode=_todo_encode),
        Shape(
            "task",
            "task",
            {"prompt": "prompt", "description": "description", "agent": "subagent_type"},
            fixed={"subagent_type": "general"},
        ),
    ]
)
