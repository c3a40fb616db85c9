"""Where a pulled session continues here: only in a folder the user chose, whatever the
session (a teammate's, or a hostile server's) says its folders were."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.model import Session
from tether.sync.checkouts import NoCheckout, place


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "tether"))
    return tmp_path


def pulled(project: str, cwd: str | None) -> Session:
    return Session(id="ab" * 32, tool="claude", native_id="x", project=project, cwd=cwd)


def test_a_cwd_outside_the_sessions_project_does_not_leave_the_checkout(home: Path) -> None:
    checkout, elsewhere = home / "checkout", home / "secrets"
    (checkout / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    session = pulled("/work/their-project", str(elsewhere))
    assert place(session, None, checkout, [])[1] == checkout
    session = pulled("/work/their-project", "/")
    assert place(session, None, checkout, [])[1] == checkout
    # inside its project, the cwd moves into the checkout with it
    moved, folder = place(
        pulled("/work/their-project", "/work/their-project/sub"), None, checkout, []
    )
    assert folder == checkout / "sub" and moved.cwd == str(checkout / "sub")


def test_a_folder_that_merely_exists_here_is_not_the_sessions_checkout(home: Path) -> None:
    # A teammate's session naming `/`, a home or a dot folder would have the tool run there.
    victim = home / "victim"
    victim.mkdir()
    for project in ("/", str(victim)):
        with pytest.raises(NoCheckout):
            place(pulled(project, project), None, None, [])
    # One of the user's own folders (the archive knows it) is where it continues.
    moved, folder = place(pulled(str(victim), str(victim)), None, None, [victim])
    assert folder == victim and moved.cwd == str(victim)
