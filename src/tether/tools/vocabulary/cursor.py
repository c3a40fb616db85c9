"""Cursor's tool calls in the shared vocabulary: the cursor-agent CLI's transcripts (`Shell`,
`Read`, `Write`, `StrReplace`, …) and the editor's composer (`run_terminal_cmd`,
`read_file`, `edit_file`, `search_replace`, …). Decode only."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, first_given, given

PATH_KEYS = ("file_path", "path", "target_file", "relative_workspace_path", "filePath")


def _path_decode(native: Args) -> Args | None:
    return given(path=first_given(native, *PATH_KEYS))


def _write_decode(native: Args) -> Args | None:
    return given(path=first_given(native, *PATH_KEYS), content=native.get("contents"))


def _edit_decode(native: Args) -> Args | None:
    return given(
        path=first_given(native, *PATH_KEYS),
        old=first_given(native, "old_string", "old_str"),
        new=first_given(native, "new_string", "new_str"),
    )


def _grep_decode(native: Args) -> Args | None:
    return given(
        pattern=first_given(native, "pattern", "query"),
        path=native.get("path"),
        glob=first_given(native, "glob", "include_pattern"),
    )


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "Shell",
            {"command": "command", "description": "description"},
            aliases=("Bash", "run_terminal_cmd", "run_terminal_command"),
        ),
        Shape("read_file", "Read", {}, aliases=("read_file",), decode=_path_decode),
        Shape("write_file", "Write", {}, aliases=("write",), decode=_write_decode),
        Shape(
            "edit_file",
            "StrReplace",
            {},
            aliases=("Edit", "edit_file", "search_replace", "MultiEdit"),
            decode=_edit_decode,
        ),
        Shape("list_dir", "LS", {}, aliases=("list_dir",), decode=_path_decode),
        Shape("glob", "Glob", {"pattern": "glob_pattern"}, aliases=("file_search",)),
        Shape("grep", "Grep", {}, aliases=("grep_search", "grep"), decode=_grep_decode),
        Shape("web_search", "web_search", {"query": "search_term"}),
        Shape("task", "Agent", {"prompt": "prompt", "description": "description"}),
    ]
)
