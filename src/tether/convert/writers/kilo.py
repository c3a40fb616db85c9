"""Write a session that `kilo --session ID` (and `kilo run -s ID`) continues.

The Kilo CLI is an opencode fork with opencode's session store and export format: this is
opencode's writer (writers/opencode.py), run with the real `kilo import`, Kilo's primary
agent (`code`) and its own folder names. Proven with the Kilo CLI 7.7.9 (tests/e2e).
"""

from __future__ import annotations

from tether.convert.writers import opencode
from tether.convert.writers.base import WriteJob, Written
from tether.tools.vocabulary.kilo import vocabulary  # noqa: F401 (a Writer names its table)

name = "kilo"
"""Kilo declares opencode's tools under opencode's names (bash, read, edit, …)."""
context_tokens = opencode.context_tokens
accepts_generic_calls = False
CLI_VERSION = "7.7.9"
KILO = opencode.App(
    name=name,
    binary="kilo",
    version=CLI_VERSION,
    agent="code",
    quiet_env={"KILO_DISABLE_AUTOUPDATE": "1", "KILO_DISABLE_MODELS_FETCH": "1"},
    install="npm install -g @kilocode/cli",
)


def write(job: WriteJob) -> Written:
    return opencode.write_app(job, KILO)
