"""How each resumable CLI is started on a chosen session: argv from the tools' launch facts.

Shared by `tether resume`, the auto-resume shims and teams. Standard library only, and not
even `typing` at run time (13 ms to import), so the shim's hot path can import it for the cost
of reading one small file. Every argv here leaves out the binary itself: callers put the real
binary in front. The facts themselves (flags, subcommands) are each tool's LAUNCH, in
tether.tools.facts.
"""

from __future__ import annotations

import os

from tether.errors import UsageError
from tether.tools import facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal

    from tether.tools.facts import LaunchSpec

    Kind = Literal["passthrough", "headless", "interactive"]


class CannotLaunch(UsageError, ValueError):
    """The tool has no CLI that tether starts, or an id that is not the tool's reached an argv."""


def spec(tool: str) -> LaunchSpec:
    """How `tool`'s CLI starts; CannotLaunch for a tool tether does not run."""
    launch = facts.get(tool).LAUNCH
    if launch is None:
        raise CannotLaunch(f"tether does not run {tool}: it can only read its sessions")
    return launch


def binary(tool: str) -> str:
    return spec(tool)["binary"]


def checked(tool: str, native_id: str) -> str:
    """`native_id`, when it has the shape of `tool`'s session ids: the one gate an id passes
    before it reaches an argv (an id from an import, a state or team file must never add a
    flag the user did not type)."""
    if not facts.get(tool).valid_id(native_id):
        raise CannotLaunch(f"{native_id!r} is not a {tool} session id")
    return native_id


def fill(template: Sequence[str], native_id: str) -> list[str]:
    return [word.replace("{id}", native_id) for word in template]


def fill_checked(tool: str, template: Sequence[str], native_id: str) -> list[str]:
    """The template with `native_id` (checked against the tool's ids) for "{id}"."""
    return fill(template, checked(tool, native_id) if any("{id}" in w for w in template) else "")


def resume_args(tool: str, native_id: str) -> list[str]:
    """The arguments (after the binary) that resume `native_id` interactively."""
    return fill_checked(tool, spec(tool)["resume"], native_id)


def resume_command(tool: str, native_id: str) -> list[str]:
    """The whole argv a user types to resume `native_id` in `tool`."""
    return [binary(tool), *resume_args(tool, native_id)]


def new_session_args(tool: str, native_id: str) -> list[str] | None:
    """Arguments that start a new session on `native_id`, or None if the tool cannot."""
    template = spec(tool)["preassign"]
    return fill_checked(tool, template, native_id) if template else None


def _is_flag(word: str) -> bool:
    return word.startswith("-") and word != "-"


def classify(tool: str, args: Sequence[str]) -> Kind:
    """What the user's arguments ask for: their own session choice or a command that is not
    a conversation ("passthrough"), a headless run, or an interactive conversation.

    Flags count anywhere before "--". A command word counts where a command can stand: first,
    after a headless command word, or after a flag (whose value it may be: then passing
    through is the safe mistake). For a tool that runs a plain-word prompt headless (Cline),
    such a prompt makes the run headless unless an interactive flag keeps it interactive.
    """
    launch = spec(tool)
    headless_prompt = launch.get("positional_prompt") == "headless"
    kind: Kind = "interactive"
    in_command_position = True
    value_may_follow = False
    prompt = False
    keeps_interactive = False
    for word in args:
        if word == "--":
            break
        if _is_flag(word):
            name = word.split("=", 1)[0]
            if name in launch["passthrough_flags"]:
                return "passthrough"
            if name in launch["headless_flags"]:
                kind = "headless"
            keeps_interactive |= name in launch.get("interactive_flags", ())
            prompt |= name == launch["prompt"][0]  # its own prompt flag: `--prompt TEXT`
            value_may_follow = "=" not in word and (
                not headless_prompt or name in launch["headless_value_flags"]
            )
            continue
        if in_command_position:
            if word in launch["subcommands"]:
                return "passthrough"
            if word in launch["headless_flags"]:
                kind = "headless"
            elif not value_may_follow:
                in_command_position = False
                prompt = True
        value_may_follow = False
    if prompt and headless_prompt and not keeps_interactive:
        kind = "headless"
    if prompt and kind == "interactive" and not launch.get("resume_takes_prompt", True):
        return "passthrough"  # resuming would drop the prompt the user typed
    return kind


def start_args(tool: str, args: Sequence[str], native_id: str | None) -> list[str]:
    """The arguments that start a new session on `native_id` (None: the tool picks the id)."""
    template = spec(tool)["preassign"]
    if native_id is None or not template:
        return list(args)
    return [*fill_checked(tool, template, native_id), *args]


def resumes_headless(tool: str) -> bool:
    """Whether the tool can resume a session in a headless run (Cline cannot: its resume
    opens the TUI)."""
    return bool(spec(tool)["headless_resume"])


def continue_args(tool: str, args: Sequence[str], kind: Kind, native_id: str) -> list[str]:
    """The arguments that carry on session `native_id` with the user's own `args`."""
    launch = spec(tool)
    if kind != "headless":
        return [*fill_checked(tool, launch["resume"], native_id), *args]
    resume = fill_checked(tool, launch["headless_resume"], native_id)
    at = _headless_word_at(tool, args)
    if at is None:
        return [*resume, *args]
    prompt_at = _first_positional(args, at + 1, launch["headless_value_flags"])
    return [*args[:prompt_at], *resume, *args[prompt_at:]]


def _headless_word_at(tool: str, args: Sequence[str]) -> int | None:
    """Where the headless command word (codex `exec`) is, if the run is headless by one."""
    words = {word for word in spec(tool)["headless_flags"] if not _is_flag(word)}
    in_command_position = True
    value_may_follow = False
    for at, word in enumerate(args):
        if word == "--":
            return None
        if _is_flag(word):
            value_may_follow = "=" not in word
            continue
        if in_command_position:
            if word in words:
                return at
            if not value_may_follow:
                in_command_position = False
        value_may_follow = False
    return None


def _first_positional(args: Sequence[str], start: int, value_flags: Sequence[str]) -> int:
    """Index of the first argument from `start` that is neither a flag nor a flag's value."""
    at = start
    while at < len(args):
        word = args[at]
        if word == "--" or not _is_flag(word):
            return at
        at += 2 if word in value_flags else 1
    return len(args)


def prompt_args(tool: str, prompt: str) -> list[str]:
    """The arguments that give an interactive run its first prompt."""
    return [word.replace("{prompt}", prompt) for word in spec(tool)["prompt"]]


# ---------------------------------------------------------------------------------------
# The real binary on PATH, never a tether shim


SHIM_MARK = "# tether-shim"
"""The second line of every shim: a file with it on PATH is never taken for a real tool."""


def find_real(binary: str, shim_dir: str, path: str) -> str | None:
    """The first executable `binary` on `path` that is not a tether shim (tether's own folder
    is skipped, and so is any other tether install's shim)."""
    for folder in path.split(os.pathsep):
        if not folder or folder.rstrip("/") == shim_dir:
            continue
        candidate = f"{folder}/{binary}"
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and not is_shim(candidate):
            return candidate
    return None


SHIM_VERSION = "# tether-shim-version: 2"
"""The third line of a shim this tether wrote; an older shim is rewritten at its next
launch (tether.autoresume.launcher.heal) and by `tether init`."""


def is_stale(path: str) -> bool:
    """A shim an earlier tether wrote (its fast path trusted a file of the project's)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            head = os.read(fd, 256)
        finally:
            os.close(fd)
    except OSError:
        return False
    return SHIM_MARK.encode() in head and SHIM_VERSION.encode() not in head


def is_shim(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    return SHIM_MARK.encode() in head
