"""tether: capture, search and resume AI coding sessions."""

__version__ = "0.1.0"
