"""Cline's tool calls in the shared vocabulary; Roo Code and Kilo Code (its forks) keep the
same names. Decode only: tether reads these tools' sessions and never writes them."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, given


def _edit_decode(native: Args) -> Args | None:
    """A diff or a search/replace edit of one file: what changed is in the diff text."""
    return given(path=native.get("path"))


def _search_decode(native: Args) -> Args | None:
    return given(
        pattern=native.get("regex"), path=native.get("path"), glob=native.get("file_pattern")
    )


SHAPES = [
    Shape("shell", "execute_command", {"command": "command", "workdir": "cwd"}),
    Shape("read_file", "read_file", {"path": "path"}),
    Shape("write_file", "write_to_file", {"path": "path", "content": "content"}),
    Shape(
        "edit_file",
        "replace_in_file",
        {"path": "path"},
        aliases=("apply_diff", "insert_content", "search_and_replace", "edit_file"),
        decode=_edit_decode,
    ),
    Shape("list_dir", "list_files", {"path": "path"}),
    Shape("grep", "search_files", {}, decode=_search_decode),
    Shape("web_fetch", "web_fetch", {"url": "url"}),
    Shape("task", "new_task", {"prompt": "message", "agent": "mode"}),
]
vocabulary = Vocabulary(SHAPES)
