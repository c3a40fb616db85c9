"""A session as one self-contained HTML page (no scripts, no external resources)."""

from __future__ import annotations

from html import escape
from typing import Any

from tether.formats.render import header, part_blocks

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.msg{border-left:4px solid #ccc;margin:1.2rem 0;padding:.2rem 1rem}
.user{border-color:#2b6cb0}.assistant{border-color:#2f855a}.tool{border-color:#b7791f}
.system{border-color:#999;color:#555}
.role{font-weight:600;text-transform:capitalize}.when{color:#777;font-size:.85em;margin-left:.5em}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
.text{white-space:pre-wrap}details{margin:.4rem 0}summary{cursor:pointer;color:#444}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
"""


def to_html(doc: dict[str, Any]) -> str:
    info = doc["session"]
    title = escape(info.get("title") or "Untitled session")
    rows = "".join(f"<dt>{label}</dt><dd>{escape(value)}</dd>" for label, value in header(info))
    body = [f"<h1>{title}</h1><dl>{rows}</dl>"]
    for message in doc["messages"]:
        role = escape(message["role"])
        when = escape(message.get("timestamp") or "")
        body.append(
            f'<section class="msg {role}"><div><span class="role">{role}</span>'
            f'<span class="when">{when}</span></div>'
        )
        for kind, label, text in part_blocks(message):
            if kind == "text":
                body.append(f'<div class="text">{escape(text)}</div>')
            else:
                opened = " open" if kind == "tool_call" else ""
                body.append(
                    f"<details{opened}><summary>{escape(label)}</summary>"
                    f"<pre>{escape(text)}</pre></details>"
                )
        body.append("</section>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
