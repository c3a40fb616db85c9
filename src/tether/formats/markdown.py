"""A session as Markdown: readable in any viewer, tool calls and results as code blocks."""

from __future__ import annotations

from typing import Any

from tether.formats.render import fence, header, part_blocks


def to_markdown(doc: dict[str, Any]) -> str:
    """`doc` is a session JSON (formats.tether_json.session_json), possibly redacted."""
    info = doc["session"]
    out = [f"# {info.get('title') or 'Untitled session'}", ""]
    out += [f"- **{label}:** `{value}`" for label, value in header(info)]
    if info.get("models"):
        out.append(f"- **Models:** {', '.join(info['models'])}")
    out.append("")
    for message in doc["messages"]:
        stamp = f" · {message['timestamp']}" if message.get("timestamp") else ""
        out += [f"## {message['role'].capitalize()}{stamp}", ""]
        for kind, title, body in part_blocks(message):
            if kind in ("text",):
                out += [body, ""]
            elif kind == "reasoning":
                out += ["> " + line for line in (f"*{title}*\n" + body).splitlines()] + [""]
            else:
                out += [f"**{title}**", "", fence(body), ""]
    return "\n".join(out).rstrip() + "\n"
