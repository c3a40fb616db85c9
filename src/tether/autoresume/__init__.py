"""Auto-resume: per-project shims that put each CLI back on this project's session.

Imported on the shim's hot path: keep it to what every launch needs."""

OFF_SWITCH = "TETHER_AUTORESUME"
"""`TETHER_AUTORESUME=0` turns the shims off for one launch."""
