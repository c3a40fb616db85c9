"""What a session did, without asking a model: files read, written and edited, commands and
their exit codes, test runs, packages installed, errors, duration and tokens; and what
sessions cost, across every tool that records usage.

One summary for every consumer: `tether summary`, the MCP tools, the handoff note and the
web view all call tether.summary.session.summarize.
"""
