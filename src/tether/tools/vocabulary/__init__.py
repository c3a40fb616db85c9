"""One shared vocabulary of tool calls, so a call keeps its meaning from tool to tool.

Every tool names the same actions differently (Claude `Bash {command}`, Codex
`exec_command {cmd}`, Gemini `run_shell_command {command}`, Copilot `bash {command}`). A
`Vocabulary` is one tool's table of `Shape`s: which native name and argument names stand
for which canonical action. Converting a call is decode with the source's table, encode
with the target's; a call either table lacks stays a generic call under its own name.

Canonical actions and their arguments (only `command`, `path`, `pattern`, `query`, `url`
or `prompt` are required where listed; the rest are carried when both sides have them):

    shell        command, description, workdir, timeout_ms
    read_file    path, offset, limit
    write_file   path, content
    edit_file    path, old, new, replace_all
    list_dir     path
    glob         pattern, path
    grep         pattern, path, glob
    web_fetch    url, prompt
    web_search   query
    todo         items: [{text, status}]   (status: pending | in_progress | completed)
    task         prompt, description, agent
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Kind = Literal[
    "shell",
    "read_file",
    "write_file",
    "edit_file",
    "list_dir",
    "glob",
    "grep",
    "web_fetch",
    "web_search",
    "todo",
    "task",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "shell": ("command",),
    "read_file": ("path",),
    "write_file": ("path",),
    "edit_file": ("path",),
    "list_dir": (),
    "glob": ("pattern",),
    "grep": ("pattern",),
    "web_fetch": (),
    "web_search": ("query",),
    "todo": ("items",),
    "task": ("prompt",),
}

Args = dict[str, Any]
Converter = Callable[[Args], Args | None]


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis last where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int) -> str:
    """`text` on one line (every run of white space one space), cut to `limit`."""
    return shorten(" ".join(text.split()), limit)


def first_given(native: Args, *keys: str) -> Any:
    """The value of the first of `keys` that `native` gives (not missing, None or "")."""
    return next((native[key] for key in keys if native.get(key) not in (None, "")), None)


def given(**values: Any) -> Args:
    """The canonical arguments among `values` that are given (not None or "")."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def decode_gemini_edit(native: Args) -> Args | None:
    """An edit in the Gemini CLI's `replace` and Qwen Code's `edit` (its fork's): the path
    under any of its names, the strings, and several replacements allowed by a flag (Gemini
    `allow_multiple`, Qwen `replace_all`) or an `expected_replacements` above one."""
    args = given(
        path=first_given(native, "file_path", "absolute_path", "path"),
        old=native.get("old_string"),
        new=native.get("new_string"),
    )
    expected = native.get("expected_replacements")
    flagged = native.get("allow_multiple") is True or native.get("replace_all") is True
    if flagged or (type(expected) is int and expected > 1):
        args["replace_all"] = True
    return args


def decode_todos(native: Args) -> Args | None:
    """A todo call's `todos: [{content, status}]` (Claude Code's TodoWrite, opencode's
    todowrite) as the canonical `items: [{text, status}]`."""
    todos = native.get("todos")
    if not isinstance(todos, list):
        return None
    items = [
        {"text": t.get("content", ""), "status": t.get("status", "pending")}
        for t in todos
        if isinstance(t, dict)
    ]
    return {"items": items}


def encode_todos(args: Args, extra: Callable[[str], Args]) -> Args | None:
    """The canonical `items` as `todos: [{content, status, …}]` (decode_todos' inverse), each
    with the fields its tool also wants, from `extra(text)` (Claude Code's `activeForm`,
    opencode's `priority`)."""
    items = args.get("items")
    if not isinstance(items, list):
        return None
    todos = [
        {
            "content": str(item.get("text", "")),
            "status": item.get("status", "pending"),
            **extra(str(item.get("text", ""))),
        }
        for item in items
        if isinstance(item, dict)
    ]
    return {"todos": todos}


@dataclass(frozen=True, slots=True)
class Canonical:
    """A tool call in the shared vocabulary: what was done, with canonical argument names."""

    kind: Kind
    args: Args


@dataclass(frozen=True, slots=True)
class Shape:
    """How one tool spells one canonical action.

    `fields` maps canonical argument names to the tool's own. Where renaming is not enough
    (a command given as an argv list, todo items of another shape), `decode` (native input
    -> canonical args) and `encode` (canonical args -> native input) replace the renaming;
    either may return None to say "this call does not fit", and the call stays generic.
    """

    kind: Kind
    name: str
    fields: Mapping[str, str]
    aliases: tuple[str, ...] = ()
    """Older or alternative native names that decode to the same action (never encoded)."""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Native arguments the tool requires that have no canonical counterpart (encode only)."""
    decode: Converter | None = None
    encode: Converter | None = None
    freeform: bool = False
    """Its `decode` also takes input that is not an object (Codex's freeform patch text)."""


class Vocabulary:
    """One tool's table of shapes; decode native calls, encode canonical ones."""

    def __init__(self, shapes: list[Shape]) -> None:
        self.shapes = shapes
        self._by_name: dict[str, list[Shape]] = {}
        self._by_kind: dict[Kind, Shape] = {}
        for shape in shapes:
            for name in (shape.name, *shape.aliases):
                self._by_name.setdefault(name, []).append(shape)
            self._by_kind.setdefault(shape.kind, shape)

    def decode(self, name: str, native_input: Any) -> Canonical | None:
        """The canonical call for this tool's call, or None when it has no shared meaning.

        One native name may stand for several actions (Codex `apply_patch` adds or edits a
        file): its shapes are tried in table order, the first that fits wins. Input that is
        not an object (a freeform patch) only fits a `freeform` shape (with its own `decode`).
        """
        for shape in self._by_name.get(name, ()):
            call = _decode(shape, native_input)
            if call is not None:
                return call
        return None

    def encode(self, call: Canonical) -> tuple[str, Args] | None:
        """This tool's name and arguments for a canonical call, or None if it has none."""
        shape = self._by_kind.get(call.kind)
        if shape is None:
            return None
        if shape.encode is not None:
            encoded = shape.encode(dict(call.args))
            return None if encoded is None else (shape.name, {**shape.fixed, **encoded})
        args = call.args
        if any(key not in shape.fields for key in REQUIRED[call.kind] if key in args):
            return None  # the tool has nowhere to put a required argument
        native = {shape.fields[key]: value for key, value in args.items() if key in shape.fields}
        return shape.name, {**shape.fixed, **native}


def _decode(shape: Shape, native_input: Any) -> Canonical | None:
    if shape.decode is not None and (shape.freeform or isinstance(native_input, dict)):
        args = shape.decode(dict(native_input) if isinstance(native_input, dict) else native_input)
        if args is None:
            return None
    elif isinstance(native_input, dict):
        reverse = {native: canonical for canonical, native in shape.fields.items()}
        args = {reverse[key]: value for key, value in native_input.items() if key in reverse}
    else:
        return None
    if any(args.get(key) in (None, "") for key in REQUIRED[shape.kind]):
        return None
    return Canonical(shape.kind, args)


EMPTY = Vocabulary([])


TABLES = {
    "claude": "claude",
    "codex": "codex",
    "gemini": "gemini",
    "copilot": "copilot",
    "qwen": "qwen",
    "opencode": "opencode",
    "cursor": "cursor",
    "cline": "cline",
    "roo": "cline",
    "kilo": "kilo",
    "amp": "amp",
    "antigravity": "antigravity",
}
"""The module under tether.tools.vocabulary holding each tool's table. Roo Code and Kilo
Code are forks of Cline and keep its tool names; Kilo's CLI adds opencode's."""


def of(tool: str) -> Vocabulary:
    """The tool's table (empty for a tool whose calls have no shared meaning: Aider's)."""
    module = TABLES.get(tool)
    if module is None:
        return EMPTY
    import importlib

    table = importlib.import_module(f"tether.tools.vocabulary.{module}").vocabulary
    assert isinstance(table, Vocabulary)
    return table
