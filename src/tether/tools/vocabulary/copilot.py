"""Copilot CLI's tool calls in the shared vocabulary (the tools 1.0.102 declares)."""

from __future__ import annotations

import re
import shlex
from typing import Any

from tether.tools.vocabulary import Args, Shape, Vocabulary, one_line

DESCRIPTION_MAX = 100
"""`bash` requires a description, "limited to 100 characters" (its declaration)."""
AGENT_TYPES = frozenset(
    {"explore", "task", "general-purpose", "code-review", "research", "security-review"}
)


def whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shell_decode(native: Args) -> Args | None:
    args: Args = {"command": native.get("command")}
    if native.get("description"):
        args["description"] = native["description"]
    return args


def _shell_encode(args: Args) -> Args | None:
    command = args.get("command")
    if not isinstance(command, str):
        return None
    workdir = args.get("workdir")
    if isinstance(workdir, str) and workdir:
        command = f"cd {shlex.quote(workdir)} && {command}"  # bash has no working-dir argument
    description = args.get("description")
    text = description if isinstance(description, str) and description.strip() else command
    return {"command": command, "description": one_line(text, DESCRIPTION_MAX)}


def _view_decode(native: Args) -> Args | None:
    args: Args = {"path": native.get("path")}
    bounds = native.get("view_range")
    if isinstance(bounds, list) and len(bounds) == 2:
        start, end = whole_number(bounds[0]), whole_number(bounds[1])
        if start is not None and start > 0:
            args["offset"] = start
            if end is not None and end >= start:
                args["limit"] = end - start + 1
    return args


def _view_encode(args: Args) -> Args | None:
    native: Args = {"path": args.get("path")}
    offset, limit = whole_number(args.get("offset")), whole_number(args.get("limit"))
    if offset is not None or limit is not None:
        start = offset if offset is not None and offset > 0 else 1
        end = start + limit - 1 if limit is not None and limit > 0 else -1
        native["view_range"] = [start, end]
    return native


def _edit_encode(args: Args) -> Args | None:
    if args.get("replace_all"):
        return None  # `edit` replaces one occurrence: the call stays generic, meaning intact
    renamed = {"path": "path", "old": "old_str", "new": "new_str"}
    return {native: args[key] for key, native in renamed.items() if key in args}


def _paths_decode(native: Args) -> Args | None:
    """grep/glob take `paths`: one directory or a list; a list of several has no canonical
    form (the call stays generic)."""
    args: Args = {key: native[key] for key in ("pattern", "glob") if key in native}
    paths = native.get("paths")
    if isinstance(paths, list):
        if len(paths) > 1:
            return None
        paths = paths[0] if paths else None
    if isinstance(paths, str) and paths:
        args["path"] = paths
    return args


def _task_encode(args: Args) -> Args | None:
    prompt = args.get("prompt")
    if not isinstance(prompt, str):
        return None
    description = args.get("description")
    label = description if isinstance(description, str) and description else one_line(prompt, 40)
    agent = str(args.get("agent") or "").lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", label.lower())[:4]) or "agent"
    return {
        "description": label,
        "prompt": prompt,
        "agent_type": agent if agent in AGENT_TYPES else "general-purpose",
        "name": slug,
    }


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "bash",
            {"command": "command", "description": "description"},
            aliases=("shell", "powershell"),  # 1.0.77 sessions; Windows
            decode=_shell_decode,
            encode=_shell_encode,
        ),
        Shape("read_file", "view", {"path": "path"}, decode=_view_decode, encode=_view_encode),
        Shape("write_file", "create", {"path": "path", "content": "file_text"}),
        Shape(
            "edit_file",
            "edit",
            {"path": "path", "old": "old_str", "new": "new_str"},
            encode=_edit_encode,
        ),
        Shape("list_dir", "view", {"path": "path"}),  # `view` lists a directory
        Shape("glob", "glob", {"pattern": "pattern", "path": "paths"}, decode=_paths_decode),
        Shape(
            "grep",
            "grep",
            {"pattern": "pattern", "path": "paths", "glob": "glob"},
            decode=_paths_decode,
        ),
        Shape("web_fetch", "web_fetch", {"url": "url"}),
        Shape("web_search", "web_search", {"query": "query"}),
        Shape(
            "task",
            "task",
            {"prompt": "prompt", "description": "description", "agent": "agent_type"},
            encode=_task_encode,
        ),
    ]
)
