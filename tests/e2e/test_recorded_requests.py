"""The recorded tool declarations the writers' tests check against are what the pinned CLIs
declare today: a moved pin, or a CLI that declares other tools, fails here until
`python -m tests.e2e.record_requests` records them again."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import record_requests


@pytest.mark.e2e
@pytest.mark.parametrize("cli", sorted(record_requests.RECORDED))
def test_the_recorded_declarations_are_the_pinned_clis_own(
    installed_clis: None, tmp_path: Path, cli: str
) -> None:
    fresh = record_requests.text(record_requests.record(cli, tmp_path))
    recorded = record_requests.RECORDED[cli]
    assert recorded.read_text() == fresh, (
        f"{recorded} is not what the pinned {cli} declares: "
        "run `python -m tests.e2e.record_requests` and review the diff"
    )
