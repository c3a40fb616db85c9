"""The archive as a few read-only tools for agents, over the Model Context Protocol.

`tools` holds what each tool does, against a `Source` (the local archive here; the team
server's per-user view there); `server` puts them on the official MCP SDK (stdio for
`tether mcp serve`); `install` writes tether into each coding tool's own MCP configuration.
Every import of the SDK is absolute (`import mcp…`): this package's name must never stand
for the SDK's.
"""
