"""Aider: `.aider.chat.history.md` in each project, one session per `# aider chat started at`.

Aider has no store of its own and no session ids: tether's id of an Aider session names
its start and its file, and never reaches a path or an argv; a history is resumed whole
(`--restore-chat-history`, with `--chat-history-file` for one tether wrote).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts import Capability, LaunchSpec

NAME = "aider"
DISPLAY_NAME = "Aider"
ALIASES: tuple[str, ...] = ("aider-chat",)
CAPABILITIES: frozenset[Capability] = frozenset({"read", "write", "resume"})
STORE_VARIABLES: tuple[str, ...] = ()
HISTORY = ".aider.chat.history.md"

LAUNCH: LaunchSpec | None = {
    "binary": "aider",
    "preassign": (),
    "resume": ("--restore-chat-history",),
    "headless_flags": ("-m", "--message", "-f", "--message-file"),
    "headless_resume": ("--restore-chat-history",),
    "headless_value_flags": (),
    "passthrough_flags": (
        *("--restore-chat-history", "--chat-history-file", "--gui", "--browser"),
        *("-h", "--help", "--version", "--list-models", "--models"),
    ),
    "subcommands": (),
    "prompt": ("--message", "{prompt}"),
}
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """Every project folder tether knows of (from its archive): aider writes its history in
    the project."""
    from tether.tools.projects import known_folders

    return [str(folder) for folder in known_folders(env)]


def valid_id(native_id: str) -> bool:
    """`<start>@<file or folder>`: one line of text (it names no file and starts no run)."""
    return "@" in native_id and not any(ch in native_id for ch in "\0\n\r")


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return ".aider.chat.history*.md"
