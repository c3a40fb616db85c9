"""Kilo Code's tool calls in the shared vocabulary: the extension keeps Cline's names, and
Kilo's CLI (an opencode fork, kilo.db) opencode's. Decode only."""

from __future__ import annotations

from tether.tools.vocabulary import Vocabulary, cline, opencode

vocabulary = Vocabulary([*cline.SHAPES, *opencode.vocabulary.shapes])
