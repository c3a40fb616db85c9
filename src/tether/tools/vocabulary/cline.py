"""Cline's tool calls in the shared vocabulary: the Cline CLI's (3.0, which tether writes
sessions of) first, then the editor extension's, whose names Roo Code and Kilo Code (its
forks) keep (decode only: tether reads those sessions and never writes them)."""

from __future__ import annotations

from tether.tools.vocabulary import Args, Shape, Vocabulary, given


def _edit_decode(native: Args) -> Args | None:
    """A diff or a search/replace edit of one file: what changed is in the diff text."""
    return given(path=native.get("path"))


def _search_decode(native: Args) -> Args | None:
    return given(
        pattern=native.get("regex"), path=native.get("path"), glob=native.get("file_pattern")
    )


def _cli_shell_decode(native: Args) -> Args | None:
    commands = native.get("commands")
    if isinstance(commands, list) and len(commands) == 1 and isinstance(commands[0], str):
        return {"command": commands[0]}
    return None


def _cli_shell_encode(args: Args) -> Args | None:
    command = args.get("command")
    return {"commands": [command]} if isinstance(command, str) and command else None


def _cli_read_decode(native: Args) -> Args | None:
    files = native.get("files")
    if not (isinstance(files, list) and len(files) == 1 and isinstance(files[0], dict)):
        return None
    path = files[0].get("path")
    return {"path": path} if isinstance(path, str) else None


def _cli_read_encode(args: Args) -> Args | None:
    return {"files": [{"path": args["path"]}]} if args.get("path") else None


def _cli_search_decode(native: Args) -> Args | None:
    queries = native.get("queries")
    if isinstance(queries, list) and len(queries) == 1 and isinstance(queries[0], str):
        return {"pattern": queries[0]}
    return None


def _cli_search_encode(args: Args) -> Args | None:
    return {"queries": [args["pattern"]]} if args.get("pattern") else None


def _cli_fetch_decode(native: Args) -> Args | None:
    requests = native.get("requests")
    if isinstance(requests, list) and len(requests) == 1 and isinstance(requests[0], dict):
        return {k: requests[0][k] for k in ("url", "prompt") if requests[0].get(k)}
    return None


def _cli_fetch_encode(args: Args) -> Args | None:
    url = args.get("url")
    if not url:
        return None
    return {"requests": [{"url": url, "prompt": args.get("prompt") or "Summarise the page"}]}


def _cli_write_encode(args: Args) -> Args | None:
    if not args.get("path"):
        return None
    return {"path": args["path"], "new_text": str(args.get("content") or "")}


# The tools Cline 3.0.65 declares (run_commands, read_files, editor, search_codebase,
# fetch_web_content, spawn_agent, …): each takes a list where the others take one item.
CLI_SHAPES = [
    Shape("shell", "run_commands", {}, decode=_cli_shell_decode, encode=_cli_shell_encode),
    Shape("read_file", "read_files", {}, decode=_cli_read_decode, encode=_cli_read_encode),
    Shape(
        "edit_file",
        "editor",
        {"path": "path", "old": "old_text", "new": "new_text"},
    ),
    Shape("write_file", "editor", {"path": "path"}, encode=_cli_write_encode),
    Shape("grep", "search_codebase", {}, decode=_cli_search_decode, encode=_cli_search_encode),
    Shape("web_fetch", "fetch_web_content", {}, decode=_cli_fetch_decode, encode=_cli_fetch_encode),
    Shape("task", "spawn_agent", {"prompt": "task"}, fixed={"systemPrompt": "You help."}),
]


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
vocabulary = Vocabulary([*CLI_SHAPES, *SHAPES])
