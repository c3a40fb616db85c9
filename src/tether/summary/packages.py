"""Packages a session installed: the install commands of the common package managers in its
shell commands (pip, uv, poetry, npm, pnpm, yarn, bun, cargo, go, gem, apt, brew, …)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# (manager, the words that install with it); the packages are the arguments that follow.
INSTALLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pip", ("pip install", "pip3 install", "python -m pip install", "python3 -m pip install")),
    ("uv", ("uv pip install", "uv add", "uv tool install")),
    ("poetry", ("poetry add",)),
    ("pipx", ("pipx install",)),
    ("conda", ("conda install", "mamba install")),
    ("npm", ("npm install", "npm i", "npm add")),
    ("pnpm", ("pnpm add", "pnpm install", "pnpm i")),
    ("yarn", ("yarn add",)),
    ("bun", ("bun add", "bun install", "bun i")),
    ("cargo", ("cargo add", "cargo install")),
    ("go", ("go get", "go install")),
    ("gem", ("gem install", "bundle add")),
    ("apt", ("apt install", "apt-get install")),
    ("dnf", ("dnf install", "yum install")),
    ("apk", ("apk add",)),
    ("brew", ("brew install",)),
)
VALUE_FLAGS = frozenset(
    {
        *("-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-t", "--target"),
        *("--prefix", "--registry", "-w", "--workspace", "--filter", "--cache-dir", "-f"),
        *("--find-links", "--python", "-p", "--group", "--path", "--version", "--root"),
        *("--features", "-F", "--rev", "--branch", "--tag", "--git"),
    }
)
REQUIREMENT_FLAGS = frozenset({"-r", "--requirement", "-e", "--editable"})
SEPARATORS = re.compile(r"&&|\|\||[;|\n]")
PREFIXES = frozenset({"sudo", "env", "time", "nice", "command", "exec"})


@dataclass(frozen=True, slots=True)
class Install:
    """One install command: its manager, the packages it named (a requirements file as
    `-r FILE`; empty for a bare `npm install`), and its exit code when known."""

    manager: str
    packages: tuple[str, ...]
    command: str
    exit_code: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "manager": self.manager,
            "packages": list(self.packages),
            "command": self.command,
            "exit_code": self.exit_code,
        }


def installs(command: str, exit_code: int | None) -> list[Install]:
    """Every install in a shell command line (`cd x && pip install a b` is one)."""
    found = []
    for piece in SEPARATORS.split(command):
        words = _words(piece)
        while words and (words[0] in PREFIXES or "=" in words[0]):
            words = words[1:]  # sudo, env VAR=value, …
        for manager, spellings in INSTALLS:
            start = _match(words, spellings)
            if start is not None:
                found.append(Install(manager, _packages(words[start:]), piece.strip(), exit_code))
                break
    return found


def _words(piece: str) -> list[str]:
    try:
        return shlex.split(piece)
    except ValueError:  # an unclosed quote: the plain words will do
        return piece.split()


def _match(words: list[str], spellings: tuple[str, ...]) -> int | None:
    """Where the arguments start, when the words begin with one of the spellings."""
    head = [word.rsplit("/", 1)[-1] for word in words[:4]]  # /usr/bin/pip3 is pip3
    head = [word.removesuffix(".exe") for word in head]
    for spelling in spellings:
        parts = spelling.split()
        if head[: len(parts)] == parts or (
            parts[0] == "pip"
            and len(head) > 1
            and re.fullmatch(r"pip3(\.\d+)?", head[0])
            and head[1] == "install"
        ):
            return len(parts)
    return None


def _packages(args: list[str]) -> tuple[str, ...]:
    packages: list[str] = []
    skip = False
    for index, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in REQUIREMENT_FLAGS and index + 1 < len(args):
            packages.append(f"{arg} {args[index + 1]}")
            skip = True
        elif arg in VALUE_FLAGS:
            skip = True
        elif not arg.startswith("-"):
            packages.append(arg)
    return tuple(packages)
