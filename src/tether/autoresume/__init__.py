"""Auto-resume: per-project shims that put each CLI back on this project's session.

Imported on the shim's hot path: keep it empty."""
