"""Convert: a captured session as a new native session of a tool that can resume it."""
