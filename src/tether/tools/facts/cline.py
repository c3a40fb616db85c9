"""Cline: task folders `tasks/<id>/` in the editors' extension storage and the Cline CLI's data
folder (`$CLINE_DATA_DIR`, else `$CLINE_DIR/data`, else ~/.cline/data)."""

from __future__ import annotations

from tether.tools.facts.common import EDITOR_VARIABLES, editor_storage, env_dir, is_safe_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from tether.tools.facts.common import Capability, LaunchSpec

NAME = "cline"
DISPLAY_NAME = "Cline"
ALIASES: tuple[str, ...] = ("claude-dev", "cline-cli")
CAPABILITIES: frozenset[Capability] = frozenset({"read"})
STORE_VARIABLES: tuple[str, ...] = ("CLINE_DATA_DIR", "CLINE_DIR", *EDITOR_VARIABLES)
EXTENSION_ID = "saoudrizwan.claude-dev"
LAUNCH: LaunchSpec | None = None
started_since = None


def store_roots(env: Mapping[str, str], home: str) -> list[str]:
    """Every editor's storage, then the CLI's (the CLI and JetBrains plugin keep tasks there)."""
    cli = env_dir(env, "CLINE_DATA_DIR", home)
    if cli is None:
        cli = f"{env_dir(env, 'CLINE_DIR', home) or home + '/.cline'}/data"
    return [*editor_storage(env, home, EXTENSION_ID), cli]


valid_id = is_safe_id
"""Task ids: the task's start in milliseconds, or a UUID."""


def session_pattern(native_id: str, cwd: str | None) -> str | None:
    return f"tasks/{native_id}/api_conversation_history.json"
