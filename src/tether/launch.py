"""How each resumable CLI is started on a chosen session: argv facts, as plain data.

Shared by `tether resume`, the auto-resume shims and teams. Standard library only and no
dataclasses, so the shim's hot path can import it for the cost of reading one small file.
Every argv here leaves out the binary itself: callers put the real binary in front.
"""

from __future__ import annotations

from typing import TypedDict


class LaunchSpec(TypedDict):
    binary: str
    """The executable's name on PATH."""
    preassign: tuple[str, ...]
    """Flags that start a NEW session on an id tether chose ("{id}" is replaced); empty when
    the tool cannot be told its id (codex: the id is found afterwards, in its rollouts)."""
    resume: tuple[str, ...]
    """Interactive resume of one session."""
    headless_flags: tuple[str, ...]
    """Flags or first words that make a run headless (print mode / exec)."""
    headless_resume: tuple[str, ...]
    """Resume of one session for a headless run: replaces the headless word when it is the
    subcommand (codex `exec` → `exec resume ID`), else is added to the user's own argv."""


SPECS: dict[str, LaunchSpec] = {
    "claude": {
        "binary": "claude",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume", "{id}"),
        "headless_flags": ("-p", "--print"),
        "headless_resume": ("--resume", "{id}"),
    },
    "codex": {
        "binary": "codex",
        "preassign": (),
        "resume": ("resume", "{id}"),
        "headless_flags": ("exec", "e"),
        "headless_resume": ("exec", "resume", "{id}"),
    },
    "gemini": {
        "binary": "gemini",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume", "{id}"),
        "headless_flags": ("-p", "--prompt"),
        "headless_resume": ("--resume", "{id}"),
    },
    "copilot": {
        "binary": "copilot",
        "preassign": ("--session-id", "{id}"),
        "resume": ("--resume={id}",),
        "headless_flags": ("-p", "--prompt"),
        "headless_resume": ("--resume={id}",),
    },
}


def fill(template: tuple[str, ...], native_id: str) -> list[str]:
    return [word.replace("{id}", native_id) for word in template]


def resume_args(tool: str, native_id: str) -> list[str]:
    """The arguments (after the binary) that resume `native_id` interactively."""
    return fill(SPECS[tool]["resume"], native_id)


def resume_command(tool: str, native_id: str) -> list[str]:
    """The whole argv a user types to resume `native_id` in `tool`."""
    return [SPECS[tool]["binary"], *resume_args(tool, native_id)]


def new_session_args(tool: str, native_id: str) -> list[str] | None:
    """Arguments that start a new session on `native_id`, or None if the tool cannot."""
    template = SPECS[tool]["preassign"]
    return fill(template, native_id) if template else None
