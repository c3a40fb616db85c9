"""Amp's tool calls in the shared vocabulary (its thread files). Decode only."""

from __future__ import annotations

from tether.tools.vocabulary import Shape, Vocabulary

vocabulary = Vocabulary(
    [
        Shape("shell", "Bash", {"command": "cmd", "workdir": "cwd"}),
        Shape("read_file", "Read", {"path": "path"}),
        Shape("write_file", "create_file", {"path": "path", "content": "content"}),
        Shape("edit_file", "edit_file", {"path": "path", "old": "old_str", "new": "new_str"}),
        Shape("list_dir", "list_directory", {"path": "path"}),
        Shape("glob", "glob", {"pattern": "filePattern"}),
        Shape("grep", "Grep", {"pattern": "pattern", "path": "path"}),
        Shape("web_fetch", "read_web_page", {"url": "url", "prompt": "prompt"}),
        Shape("web_search", "web_search", {"query": "query"}),
        Shape("task", "Task", {"prompt": "prompt", "description": "description"}),
    ]
)
