"""tether's MCP server on the official SDK: five read-only tools over a Source.

`build(source)` gives the server; `tether mcp serve` runs it on stdio over the local
archive (`serve_stdio`), and the team server mounts the same tools over streamable HTTP
with a source that is the signed-in user's view (`source` is called once per tool call,
so it may look the user up in the request's context).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from tether import __version__
from tether.errors import TetherError
from tether.mcp import tools
from tether.mcp.source import Source

NAME = "tether"
INSTRUCTIONS = (
    "tether keeps every session of the user's AI coding tools (Claude Code, Codex, Gemini, "
    "Copilot, Cursor, opencode, Qwen, …). Before redoing work, search what was already "
    "tried, in any tool: search_sessions, then session_summary or get_session on a hit. "
    "Results are redacted and capped; each says how to get more."
)
T = TypeVar("T")
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Limit = Annotated[int, Field(ge=1, le=tools.MAX_LIMIT, description="At most this many.")]
SessionId = Annotated[
    str, Field(description="A session's id (any unique prefix), or the tool's own id.")
]
Tool = Annotated[
    str | None, Field(description="Only this tool's sessions: claude, codex, gemini, …")
]
Project = Annotated[str | None, Field(description="Only sessions in this folder or below.")]
Since = Annotated[
    str | None, Field(description="Only sessions updated since: 2026-11-01, 3d, 12h, 2w.")
]


def build(source: Callable[[], Source], here: str | None = None) -> MCPServer:
    """The server with its tools; `here` is the project whose sessions come first."""
    server: MCPServer = MCPServer(
        NAME, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    def run(call: Callable[[Source], T]) -> T:
        try:
            return call(source())
        except TetherError as error:  # the user's kind of error: the model reads it
            raise ToolError(str(error)) from None

    @server.tool(annotations=READ_ONLY)
    def search_sessions(
        query: Annotated[
            str,
            Field(description='Words to find (all of them); "a phrase"; prefix*; OR, NOT.'),
        ],
        tool: Tool = None,
        project: Project = None,
        since: Since = None,
        limit: Limit = 10,
    ) -> tools.SearchResult:
        """Full-text search over every session of every coding tool: prompts, replies,
        tool calls and their outputs. Use it before redoing work, to find what was tried."""
        return run(lambda s: tools.search_sessions(s, query, tool, project, since, limit))

    @server.tool(annotations=READ_ONLY)
    def recent_sessions(project: Project = None, limit: Limit = 10) -> tools.RecentResult:
        """The latest sessions, this project's first (the folder the agent runs in)."""
        return run(lambda s: tools.recent_sessions(s, here, project, limit))

    @server.tool(annotations=READ_ONLY)
    def get_session(
        session_id: SessionId,
        offset: Annotated[int, Field(ge=0, description="The first message to return.")] = 0,
        max_chars: Annotated[
            int, Field(ge=1_000, le=tools.MAX_CHARS, description="Size of the page in characters.")
        ] = tools.DEFAULT_CHARS,
    ) -> tools.SessionPage:
        """A session's messages as text, a page at a time (next_offset reads on)."""
        return run(lambda s: tools.get_session(s, session_id, offset, max_chars))

    @server.tool(annotations=READ_ONLY)
    def session_summary(session_id: SessionId) -> tools.SummaryResult:
        """What a session did: files read, written and edited, commands and exit codes,
        test runs and results, packages installed, errors, duration and tokens."""
        return run(lambda s: tools.session_summary(s, session_id))

    @server.tool(annotations=READ_ONLY)
    def sessions_touching_file(
        path: Annotated[str, Field(description="A file path, or its end: src/app.py, app.py.")],
        limit: Limit = 10,
    ) -> tools.TouchingResult:
        """The sessions whose tool calls read, wrote, edited or deleted a file."""
        return run(lambda s: tools.sessions_touching_file(s, path, limit))

    return server


def serve_stdio(server: MCPServer) -> None:
    """Serve `server` on stdin/stdout, in the `initialize` handshake's protocol era only.

    The SDK's own stdio loop serves both eras and lets the client's first request choose,
    once. Copilot CLI opens with a `server/discover` probe (2026-07-28) and, when a server
    that is still starting has not answered it within ~10 s, falls back to `initialize`;
    the server then reads both, locks the connection to the probe's era, refuses the
    `initialize` (-32022), and Copilot runs without tether. Here the probe is refused at
    once (it carries the 2026 envelope, which the handshake era does not accept): the client
    falls back, however slowly the server started, and every client meets one protocol.
    """
    import anyio
    from mcp.server.runner import serve_loop
    from mcp.server.stdio import stdio_server

    lowlevel = server._lowlevel_server  # the SDK's public serve_loop drives this Server

    async def run() -> None:
        async with stdio_server() as (read, write), lowlevel.lifespan(lowlevel) as state:
            options = lowlevel.create_initialization_options()
            await serve_loop(lowlevel, read, write, lifespan_state=state, init_options=options)

    anyio.run(run)
