"""Codex CLI's tool calls in the shared vocabulary: exec_command and its older shells,
apply_patch (edits and new files as patches), update_plan, read_file, list_dir, grep_files."""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath
from typing import Any

from tether.tools.vocabulary import Args, Shape, Vocabulary, codex_patch

SHELLS = frozenset({"bash", "sh", "zsh", "dash"})


def _shell_decode(native: Args) -> Args | None:
    """`exec_command {cmd}`, `shell_command {command}`, `shell {command: argv}`, and
    `local_shell` / `container.exec` actions `{command: argv, working_directory}`."""
    command = native.get("cmd", native.get("command"))
    if isinstance(command, list) and all(isinstance(arg, str) for arg in command):
        command = _argv_command(command)
    if not isinstance(command, str):
        return None
    args: Args = {"command": command}
    workdir = native.get("workdir") or native.get("working_directory")
    if isinstance(workdir, str) and workdir:
        args["workdir"] = workdir
    timeout = native.get("timeout_ms")
    if isinstance(timeout, int) and not isinstance(timeout, bool):
        args["timeout_ms"] = timeout
    return args


def _argv_command(argv: list[str]) -> str:
    """The command line an argv runs: `bash -lc "ls"` is `ls`."""
    if len(argv) == 3 and PurePosixPath(argv[0]).name in SHELLS and argv[1] in ("-lc", "-c"):
        return argv[2]
    return shlex.join(argv)


def _shell_encode(args: Args) -> Args | None:
    native: Args = {"cmd": args["command"]}
    if isinstance(args.get("workdir"), str):
        native["workdir"] = args["workdir"]
    return native


def _plan_decode(native: Args) -> Args | None:
    plan = native.get("plan")
    if not isinstance(plan, list):
        return None
    items = [
        {"text": str(step.get("step", "")), "status": step.get("status", "pending")}
        for step in plan
        if isinstance(step, dict)
    ]
    return {"items": items}


def _plan_encode(args: Args) -> Args | None:
    items = args.get("items")
    if not isinstance(items, list):
        return None
    plan = [
        {"step": str(item.get("text", "")), "status": _status(item.get("status"))}
        for item in items
        if isinstance(item, dict)
    ]
    return {"plan": plan}


def _status(value: Any) -> str:
    return value if value in ("pending", "in_progress", "completed") else "pending"


def _patch_decode(native: Any) -> Args | None:
    """apply_patch `{input: patch}` (a function call) or the patch itself (a freeform call),
    holding one edit of one file."""
    patch = native if isinstance(native, str) else native.get("input")
    parsed = codex_patch.parse_update(patch) if isinstance(patch, str) else None
    if parsed is None:
        return None
    path, old, new = parsed
    return {"path": path, "old": old, "new": new}


def _write_encode(args: Args) -> Args | None:
    content = args.get("content")
    if not isinstance(content, str):
        return None
    return {"input": codex_patch.add_file(str(args["path"]), content)}


def _edit_encode(args: Args) -> Args | None:
    old, new = args.get("old"), args.get("new")
    if not isinstance(old, str) or not isinstance(new, str) or not old or args.get("replace_all"):
        return None
    return {"input": codex_patch.update_file(str(args["path"]), old, new)}


def _search_decode(native: Args) -> Args | None:
    """A `web_search_call` action: `{type: search, query}`."""
    query = native.get("query")
    return {"query": query} if native.get("type", "search") == "search" and query else None


def _spawn_decode(native: Args) -> Args | None:
    message = native.get("message")
    return {"prompt": message} if isinstance(message, str) else None


def _never(args: Args) -> Args | None:
    """Decode only: Codex has no call of this kind a history may hold without its own
    server-side result."""
    return None


vocabulary = Vocabulary(
    [
        Shape(
            "shell",
            "exec_command",
            {"command": "cmd", "workdir": "workdir"},
            aliases=("shell", "shell_command", "local_shell", "container.exec"),
            decode=_shell_decode,
            encode=_shell_encode,
        ),
        Shape("todo", "update_plan", {}, decode=_plan_decode, encode=_plan_encode),
        # One name, two actions: a name decodes through its first shape only (edits).
        Shape(
            "edit_file",
            "apply_patch",
            {},
            decode=_patch_decode,
            encode=_edit_encode,
            freeform=True,
        ),
        Shape("write_file", "apply_patch", {}, decode=_never, encode=_write_encode),
        Shape(
            "read_file", "read_file", {"path": "file_path", "offset": "offset", "limit": "limit"}
        ),
        Shape("list_dir", "list_dir", {"path": "dir_path"}),
        Shape("grep", "grep_files", {"pattern": "pattern", "path": "path", "glob": "include"}),
        Shape("web_search", "web_search", {}, decode=_search_decode, encode=_never),
        Shape("task", "spawn_agent", {}, decode=_spawn_decode, encode=_never),
    ]
)
