"""tether's own formats: the session JSON (export/import/show --json), Markdown, HTML."""
