"""The archive: one SQLite database of sessions, messages and parts, their full-text index,
and the raw native bytes they were read from."""
