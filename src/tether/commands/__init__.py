"""Command families in their own modules, registered lazily in tether.cli.LAZY_COMMANDS."""
