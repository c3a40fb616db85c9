"""The entry point of the shims that an earlier tether installed: they run
`from tether.shim import main; main(SHIM_DIR)`. Shims written now run
tether.autoresume.launcher directly; this keeps the older ones working after an upgrade."""

from tether.autoresume.launcher import main

__all__ = ["main"]
