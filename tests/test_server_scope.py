"""Who sees which session, asked both ways the server writes it (gathered by owner, team and
handoff, or filtered over a scan newest first): the same rows, on a real migrated database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from tether.server.db import engine_for, now, transaction
from tether.server.migrations import upgrade
from tether.server.schema import handoffs, sessions, team_members, teams, users
from tether.server.scope import visible_sessions

ORDER = ["a1", "a2", "a3", "c-team", "c-own", "b-handed", "b-own"]
"""The sessions, oldest first."""
SEES = {
    "alice": {"a1", "a2", "a3", "c-team", "b-handed"},
    "bob": {"b-handed", "b-own"},
    "carol": {"c-team", "c-own"},
}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = engine_for(f"sqlite:///{tmp_path}/server.db")
    upgrade(engine)
    with transaction(engine) as c:
        ids = {}
        for name in ("alice", "bob", "carol"):
            made = c.execute(insert(users).values(name=name, created_at=now()))
            ids[name] = made.inserted_primary_key[0]
        team = c.execute(
            insert(teams).values(name="backend", created_at=now())
        ).inserted_primary_key[0]
        c.execute(
            insert(team_members), [{"team_id": team, "user_id": ids[n]} for n in ("alice", "carol")]
        )
        pks = {}
        for n, native in enumerate(ORDER):
            owner = {"a": "alice", "b": "bob", "c": "carol"}[native[0]]
            team_id = team if native == "c-team" else None
            pks[native] = c.execute(
                insert(sessions).values(
                    owner_id=ids[owner],
                    session_id=f"{n:064x}",
                    tool="claude",
                    native_id=native,
                    updated_at=f"2026-01-0{n + 1}",
                    team_id=team_id,
                    revision="0" * 64,
                    bytes=1,
                    pushed_at=now(),
                    change=n + 1,
                    project=f"/p/{n % 2}",
                )
            ).inserted_primary_key[0]
        c.execute(insert(handoffs).values(
            session_pk=pks["b-handed"], from_id=ids["bob"], to_id=ids["alice"], created_at=now()
        ))  # fmt: skip
    return engine


@pytest.mark.parametrize("indexed", [True, False])
def test_both_forms_of_the_scope_see_the_same_sessions(engine: Engine, indexed: bool) -> None:
    with transaction(engine, reading=True) as c:
        for name, expected in SEES.items():
            uid = c.execute(select(users.c.id).where(users.c.name == name)).scalar_one()
            seen = c.execute(
                select(sessions.c.native_id).where(visible_sessions(uid, indexed))
            ).scalars()
            assert set(seen) == expected, name


def test_the_list_and_its_facets_whichever_way_they_are_read(engine: Engine) -> None:
    """alice sees most of the table (read newest first by scan), bob little of it (gathered
    by owner and handoff): each gets their own, newest first, counted right."""
    from tether.server.views import Sessions, narrowing

    class Filters:
        project = "/p/0"

    for uid, name in ((1, "alice"), (2, "bob")):
        rows, total = Sessions(engine, None, uid).listed((), 0, 2)  # type: ignore[arg-type]
        newest = sorted(SEES[name], key=ORDER.index, reverse=True)
        assert [r["native_id"] for r in rows] == newest[:2] and total == len(SEES[name])
    rows, total = Sessions(engine, None, 1).listed(narrowing(Filters()), 0, 10)  # type: ignore[arg-type]
    assert [r["native_id"] for r in rows] == ["a3", "a1"] and total == 2
    facets = Sessions(engine, None, 1).facets()  # type: ignore[arg-type]
    assert dict(facets["people"]) == {"alice": 3, "carol": 1, "bob": 1}
    assert dict(facets["teams"]) == {"backend": 1} and dict(facets["tools"]) == {"claude": 5}
    assert dict(facets["projects"]) == {"/p/0": 2, "/p/1": 3}


def test_a_common_word_ranks_only_the_newest_places_it_is_in(engine: Engine) -> None:
    """Past NEWEST pieces of text the search says it ranked only the newest; the cap counts
    only what the user may see."""
    from tether.server.routes.search import NEWEST
    from tether.server.schema import search_docs
    from tether.server.views import Sessions

    with transaction(engine) as c:
        pk = {n: p for p, n in c.execute(select(sessions.c.pk, sessions.c.native_id))}
        c.execute(
            insert(search_docs),
            [{"session_pk": pk["a1"], "seq": n, "text": "common words"} for n in range(NEWEST)]
            + [{"session_pk": pk["a2"], "seq": 0, "text": "common and rare words"}],
        )
    alice, bob = Sessions(engine, None, 1), Sessions(engine, None, 2)  # type: ignore[arg-type]
    hits, capped = alice.search("common", (), 10)
    assert capped and {h["native_id"] for h in hits} == {"a1", "a2"}
    assert "«common»" in hits[0]["snippet"]
    hits, capped = alice.search("rare", (), 10)
    assert not capped and [h["native_id"] for h in hits] == ["a2"]
    assert bob.search("common", (), 10) == ([], False)
