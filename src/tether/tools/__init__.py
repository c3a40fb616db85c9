"""One module per external tool; the registry of them is tether.tools.registry."""
