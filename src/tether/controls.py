"""Characters in text tether did not write that a terminal would act on or that hide and
reorder what is shown: C0/C1 controls (ESC among them), the zero-width space, the byte
order mark, line and paragraph separators, bidirectional marks and overrides. The terminal
output (`commands/render.py`) and the web pages (`web/turns.py`) show each as its code.

The zero-width joiner and non-joiner are not among them: emoji sequences and Persian words
need them, and they hide or reorder nothing.
"""

from __future__ import annotations

import re

CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)
