"""How a turn's parts are shown: a tool call as its action and arguments, an edit or a patch
as a diff, long outputs folded, control characters made visible. Pure functions over the
rows a Source returns; the templates escape whatever they print.
"""

from __future__ import annotations

import difflib
import re
import shlex
from typing import Any

import orjson
from markupsafe import Markup, escape

from tether.controls import CONTROLS
from tether.tools import facts

FOLD_LINES = 12
FOLD_CHARS = 1200
DIFF_LINES = 2000
ID = re.compile(r"[0-9a-f]{64}")

# Argument names that carry an edit, when a tool's own vocabulary does not say.
_EDIT_KEYS = (
    ("old_string", "new_string"),
    ("old_str", "new_str"),
    ("oldString", "newString"),
    ("old_text", "new_text"),
    ("oldText", "newText"),
)
_PATH_KEYS = ("file_path", "path", "filePath", "absolute_path", "target_file", "TargetFile")
_CONTENT_KEYS = ("content", "file_text", "CodeContent", "text")
_WRITES = re.compile(r"(?i)write|create")
_PATCH = re.compile(r"^(\*\*\* Begin Patch|diff --git |--- \S|@@ )", re.MULTILINE)


def visible(text: Any) -> Markup:
    """`text` escaped for HTML, with control and direction characters shown as `\\uXXXX`."""
    escaped = str(escape("" if text is None else str(text).replace("\r\n", "\n")))
    return Markup(CONTROLS.sub(lambda m: f'<span class="ctl">\\u{ord(m[0]):04x}</span>', escaped))


def folded(text: str | None) -> bool:
    """Whether an output is long enough to be folded at first."""
    text = text or ""
    return len(text) > FOLD_CHARS or text.count("\n") >= FOLD_LINES


def pretty(value: Any) -> str:
    """A tool call's input as people read it: a string as it is, else indented JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)


def tool_call(tool: str, part: dict[str, Any]) -> dict[str, Any]:
    """What a page shows of a call: `action` (shell, edit_file, … or None), `summary` (the
    command, the path), `diff` (lines as (kind, text): add, del, hunk, meta, same) or None."""
    name, value = str(part.get("name") or ""), part.get("input")
    action, args = _canonical(tool, name, value)
    summary = _summary(action, args, value)
    return {"action": action, "summary": summary, "diff": _diff(action, args, value)}


def _canonical(tool: str, name: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    from tether.convert.writers import vocabulary

    try:
        call = vocabulary(tool).decode(name, value) if tool in facts.NAMES else None
    except (TypeError, ValueError, AttributeError):
        call = None
    if call is not None:
        return call.kind, call.args
    if isinstance(value, dict):
        path = next((value[k] for k in _PATH_KEYS if isinstance(value.get(k), str)), None)
        for old, new in _EDIT_KEYS:
            if isinstance(value.get(old), str) and isinstance(value.get(new), str):
                return "edit_file", {"path": path, "old": value[old], "new": value[new]}
        content = next((value[k] for k in _CONTENT_KEYS if isinstance(value.get(k), str)), None)
        if path and content is not None and _WRITES.search(name):
            return "write_file", {"path": path, "content": content}
    return None, {}


def _summary(action: str | None, args: dict[str, Any], value: Any) -> str | None:
    for key in ("command", "path", "pattern", "query", "url", "description"):
        found = args.get(key)
        if isinstance(found, list) and all(isinstance(word, str) for word in found):
            return shlex.join(found)
        if isinstance(found, str) and found:
            return found.splitlines()[0][:300] if found.strip() else None
    if isinstance(value, dict):
        for key in ("command", "cmd", *_PATH_KEYS, "pattern", "query", "url"):
            found = value.get(key)
            if isinstance(found, str) and found.strip():
                return found.splitlines()[0][:300]
    return None


def _diff(action: str | None, args: dict[str, Any], value: Any) -> list[tuple[str, str]] | None:
    if action == "edit_file" and isinstance(args.get("old"), str):
        return unified(str(args.get("path") or "file"), args["old"], str(args.get("new") or ""))
    if action == "write_file" and isinstance(args.get("content"), str):
        return unified(str(args.get("path") or "file"), "", args["content"])
    patch = _patch_text(value)
    return patch_lines(patch) if patch else None


def _patch_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = next(
            (value[k] for k in ("patch", "diff", "input") if isinstance(value.get(k), str)), None
        )
    if isinstance(value, str) and _PATCH.search(value):
        return value
    return None


def unified(path: str, old: str, new: str) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=3
    )
    return patch_lines("\n".join(lines))


def patch_lines(patch: str) -> list[tuple[str, str]]:
    """Each line of a patch with its kind: add, del, hunk (@@), meta (file headers), same."""
    out: list[tuple[str, str]] = []
    for line in patch.splitlines()[:DIFF_LINES]:
        if line.startswith(("+++", "---", "*** ", "diff --git")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def resume_commands(session: dict[str, Any]) -> list[dict[str, str]]:
    """For every tool that can continue this session: the exact command that does it (its
    own tool first, as `tether resume ID` runs it)."""
    sid = str(session.get("id") or "")
    if not ID.fullmatch(sid):
        return []
    able = [t for t in facts.able("write") if t in facts.able("resume")]
    own = session.get("tool")
    ordered = [own, *(t for t in able if t != own)] if own in able else able
    return [
        {
            "tool": tool,
            "display_name": facts.get(tool).DISPLAY_NAME,
            "command": f"tether resume {sid} --in {tool}",
            "own": "yes" if tool == own else "",
        }
        for tool in ordered
        if isinstance(tool, str)
    ]


def call_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    """call id -> tool name, for the calls on a page (a result names what it answers)."""
    return {
        str(part.get("id")): str(part.get("name"))
        for message in messages
        for part in message["parts"]
        if part.get("type") == "tool_call"
    }


_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def image_url(part: dict[str, Any]) -> str | None:
    """A `data:` URL for an inline raster image (never SVG: it can hold script), else None."""
    media, data = part.get("media_type"), part.get("data")
    if media not in _IMAGES or not isinstance(data, str) or not _BASE64.fullmatch(data):
        return None
    return f"data:{media};base64,{data}"


def web_link(uri: Any) -> str | None:
    """A link worth following from a page: http(s) only (never `javascript:`, `data:`)."""
    if isinstance(uri, str) and re.match(r"(?i)https?://[^\s\"'<>]+$", uri):
        return uri
    return None
