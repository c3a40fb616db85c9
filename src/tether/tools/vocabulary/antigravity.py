"""Antigravity's tool calls in the shared vocabulary (its CLI transcripts). Decode only."""

from __future__ import annotations

from tether.tools.vocabulary import Shape, Vocabulary

vocabulary = Vocabulary(
    [
        Shape("shell", "run_command", {"command": "CommandLine", "workdir": "Cwd"}),
        Shape("read_file", "view_file", {"path": "AbsolutePath"}),
        Shape(
            "write_file",
            "write_to_file",
            {"path": "TargetFile", "content": "CodeContent"},
            aliases=("write_file",),
        ),
        Shape(
            "edit_file",
            "replace_file_content",
            {"path": "TargetFile"},
            aliases=("multi_replace_file_content",),
        ),
        Shape("list_dir", "list_dir", {"path": "DirectoryPath"}),
        Shape("glob", "find_by_name", {"pattern": "Pattern", "path": "SearchDirectory"}),
        Shape("grep", "grep_search", {"pattern": "Query", "path": "SearchPath"}),
        Shape("web_fetch", "read_url_content", {"url": "Url"}),
        Shape("web_search", "search_web", {"query": "query"}),
    ]
)
