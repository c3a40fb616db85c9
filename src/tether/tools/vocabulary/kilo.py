"""Kilo Code's tool calls in the shared vocabulary: the extension keeps Cline's names, and
Kilo's CLI (an opencode fork, kilo.db) opencode's. Decode only."""

from __future__ import annotations

from tether.tools.vocabulary import Vocabulary, cline, opencode

# opencode's first: tether writes Kilo sessions through the Kilo CLI's import, as opencode's
vocabulary = Vocabulary([*opencode.vocabulary.shapes, *cline.SHAPES])
