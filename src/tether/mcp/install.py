"""`tether mcp install` / `uninstall`: tether's server in each coding tool's own MCP
configuration, the way that tool spells it (tether.tools.facts: which file, which shape).

Idempotent: the same install twice changes nothing. Only the `tether` entry is touched:
the user's other servers and settings stay as they were (Codex's config.toml keeps its
comments and layout, through tomlkit; a JSON file keeps its key order and indentation).
Before a file that exists is changed, a copy goes to $TETHER_HOME/backups/mcp/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tether.errors import ConflictError, UsageError
from tether.files import within
from tether.statefile import read_text, write_atomic
from tether.tools import facts

SERVER = "tether"
Scope = Literal["user", "project"]
LIMIT = 16 << 20
"""A configuration file larger than this is no configuration file (~/.claude.json grows
with history, but not this far)."""
INDENT = re.compile(r"^\{\s*\n([ \t]+)\S", re.MULTILINE)


class CannotConfigure(UsageError):
    """A tool whose MCP servers tether cannot configure (at that scope)."""


@dataclass(frozen=True, slots=True)
class Target:
    tool: str
    scope: Scope
    path: Path
    shape: str


@dataclass(slots=True)
class Change:
    """What an install or uninstall did to one file."""

    tool: str
    scope: Scope
    path: Path
    changed: bool
    backup: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "scope": self.scope,
            "path": str(self.path),
            "changed": self.changed,
            "backup": str(self.backup) if self.backup else None,
        }


def configurable() -> list[str]:
    """The tools tether can add its server to (at some scope)."""
    return [name for name in facts.NAMES if hasattr(facts.get(name), "mcp_config")]


def target(tool: str, scope: Scope, env: dict[str, str], home: str, project: str) -> Target:
    name = facts.resolve(tool)
    where = getattr(facts.get(name), "mcp_config", None)
    found = where(env, home, project if scope == "project" else None) if where else None
    if found is None:
        tools = ", ".join(configurable())
        raise CannotConfigure(
            f"tether cannot add its MCP server to {name}'s {scope} configuration "
            f"(it can for: {tools}); to add it by hand, the server is: {json.dumps(command())}"
        )
    path, shape = found
    if scope == "project" and not within(project, path):
        raise ConflictError(
            f"{path} is a link out of the project (or lies outside it): tether writes nothing"
            " through it; add the server to your user configuration instead (--scope user)"
        )
    return Target(name, scope, Path(path), shape)


def command() -> list[str]:
    """The command that starts tether's server: this tether's own launcher when it has one
    beside its interpreter, else the interpreter with `-m tether`. Absolute either way: a
    tool starts MCP servers with its own PATH."""
    launcher = Path(sys.executable).parent / "tether"
    if launcher.is_file() and os.access(launcher, os.X_OK):
        return [str(launcher), "mcp", "serve"]
    return [sys.executable, "-m", "tether", "mcp", "serve"]


def server_env(env: dict[str, str]) -> dict[str, str]:
    """The variables the server needs from here: TETHER_HOME when it is set (some tools
    give MCP servers only a few variables of their own, Codex among them)."""
    home = env.get("TETHER_HOME", "").strip()
    return {"TETHER_HOME": str(Path(home).expanduser().absolute())} if home else {}


def entry(shape: str, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """tether's server as one entry of that shape of configuration."""
    program, args = argv[0], argv[1:]
    if shape == "opencode":
        found: dict[str, Any] = {"type": "local", "command": argv, "enabled": True}
        return {**found, "environment": env} if env else found
    spec: dict[str, Any] = {"command": program, "args": args}
    if shape == "copilot":
        spec = {"type": "local", **spec, "tools": ["*"]}
    elif shape == "mcpServers":
        spec = {"type": "stdio", **spec}
    elif shape == "claude":  # connected before the first turn, its tools never deferred
        spec = {"type": "stdio", **spec, "alwaysLoad": True}
    elif shape == "qwen":  # five small tools: offered as they are, not behind tool_search
        spec = {**spec, "alwaysLoadTools": True}
    return {**spec, "env": env} if env else spec


SERVERS_KEY = {"mcpServers": "mcpServers", "copilot": "mcpServers", "qwen": "mcpServers"}
SERVERS_KEY["claude"] = "mcpServers"
SERVERS_KEY["opencode"] = "mcp"
SERVERS_KEY["amp"] = "amp.mcpServers"


def install(where: Target, spec: dict[str, Any], backups: Path) -> Change:
    text = _read(where.path)
    if where.shape == "codex":
        new = _toml_set(where.path, text, spec)
    else:
        new = _json_set(where.path, text, SERVERS_KEY[where.shape], spec)
    return _write(where, text, new, backups)


def uninstall(where: Target, backups: Path) -> Change:
    text = _read(where.path)
    if text is None:
        return Change(where.tool, where.scope, where.path, False)
    if where.shape == "codex":
        new = _toml_set(where.path, text, None)
    else:
        new = _json_set(where.path, text, SERVERS_KEY[where.shape], None)
    return _write(where, text, new, backups)


def _read(path: Path) -> str | None:
    from tether.statefile import StateError

    try:
        return read_text(str(path), LIMIT)
    except StateError as error:
        raise ConflictError(f"cannot edit {path}: {error}") from None


def _write(where: Target, old: str | None, new: str, backups: Path) -> Change:
    if new == old:
        return Change(where.tool, where.scope, where.path, False)
    real = where.path.resolve() if where.path.is_symlink() else where.path
    backup = None
    mode = 0o600
    if old is not None:
        backups.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        backup = backups / f"{where.tool}-{where.scope}-{stamp}-{os.getpid()}-{real.name}"
        shutil.copy2(real, backup)
        mode = real.stat().st_mode & 0o777
    write_atomic(str(real), new, mode=mode)
    return Change(where.tool, where.scope, where.path, True, backup)


def _json_set(path: Path, text: str | None, key: str, spec: dict[str, Any] | None) -> str:
    """The file's JSON with tether's entry under `key` set to `spec` (None: removed)."""
    try:
        doc = json.loads(text) if text and text.strip() else {}
    except ValueError:
        raise ConflictError(
            f"cannot edit {path}: it is not plain JSON (comments?); add the server by hand"
        ) from None
    if not isinstance(doc, dict):
        raise ConflictError(f"cannot edit {path}: it holds no JSON object")
    servers = doc.get(key)
    if servers is not None and not isinstance(servers, dict):
        raise ConflictError(f"cannot edit {path}: its {key!r} is not an object")
    if spec is None:
        if not servers or SERVER not in servers:
            return text or ""
        del servers[SERVER]
    else:
        if servers is None:
            servers = doc[key] = {}
        if servers.get(SERVER) == spec:
            return text or ""
        servers[SERVER] = spec
    found = INDENT.search(text or "")
    indent = found.group(1) if found else 2
    out = json.dumps(doc, indent=indent, ensure_ascii=False)
    return out + "\n" if not text or text.endswith("\n") else out


def _toml_set(path: Path, text: str | None, spec: dict[str, Any] | None) -> str:
    """config.toml with `[mcp_servers.tether]` set to `spec` (None: removed), everything
    else as it was: comments, order, layout."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text or "")
    except TOMLKitError as error:
        raise ConflictError(f"cannot edit {path}: not valid TOML ({error})") from None
    servers = doc.get("mcp_servers")
    if servers is not None and not isinstance(servers, dict):
        raise ConflictError(f"cannot edit {path}: its mcp_servers is not a table")
    if spec is None:
        if not servers or SERVER not in servers:
            return text or ""
        del servers[SERVER]
        if not servers:
            del doc["mcp_servers"]
        return doc.as_string()
    current = servers.get(SERVER) if servers is not None else None
    if current is not None and current.unwrap() == spec:
        return text or ""
    table = tomlkit.table()
    for key, value in spec.items():
        table[key] = tomlkit.inline_table() if isinstance(value, dict) else value
        if isinstance(value, dict):
            table[key].update(value)
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    servers[SERVER] = table
    out = doc.as_string()
    return out if out.endswith("\n") else out + "\n"
