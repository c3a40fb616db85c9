"""Capture: native session files into the archive (scan, watch, import, reindex)."""
