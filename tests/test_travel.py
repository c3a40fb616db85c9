"""Sessions travel: two users on three machines (HOMEs) and a real tether server, on SQLite
and a folder and on PostgreSQL and S3 (SeaweedFS): push, sync to another machine, handoff,
inbox, resume elsewhere with the paths moved, lineage back to the first machine, search,
and what a user may not see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stores import CLAUDE_ID, CODEX_ID, append, claude_prompt, place_claude, place_codex
from tests.travel import machine, server_for


def test_the_whole_trip(
    backend: tuple[str, str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with server_for(backend) as server:
        server.cli("team", "add", "backend")
        work = machine("workstation", tmp_path, monkeypatch)
        laptop = machine("laptop", tmp_path, monkeypatch)
        bob = machine("bobs-box", tmp_path, monkeypatch)

        # alice captures and pushes everything from her workstation
        claude_file = place_claude(work.home)
        place_codex(work.home)
        work.run("scan", "-q")
        work.login(server, "alice")
        first = work.json("push", "--all")
        assert len(first["pushed"]) == 2 and first["failed"] == []
        assert first["bytes_sent"] > 0 and first["chunks_sent"] >= 2
        again = work.json("push", "--all")
        assert again["pushed"] == [] and again["unchanged"] == 2 and again["bytes_sent"] == 0

        # a session that grew sends only its new lines
        append(claude_file, claude_prompt(claude_file, "one more thing about zebrafinch"))
        grown = work.json("push", "--all")
        assert [p["id"] for p in grown["pushed"]] and grown["unchanged"] == 1
        assert grown["chunks_sent"] == 1 and grown["bytes_sent"] < 20_000

        # her laptop: one sync brings both, with who pushed them from where
        laptop.login(server, "alice", again=True)
        synced = laptop.json("sync")
        assert len(synced["received"]["pulled"]) == 2 and synced["sent"]["pushed"] == []
        listed = {s["native_id"]: s for s in laptop.json("list")}
        claude = listed[CLAUDE_ID]
        assert claude["pushed_by"] == "alice@workstation" and claude["message_count"] > 0
        assert laptop.json("sync")["received"]["pulled"] == []  # nothing new: nothing again
        hits = laptop.json("search", "zebrafinch")
        assert hits and hits[0]["session_id"] == claude["id"]

        # alice hands it to bob, who continues it in Codex in his own checkout
        bob.login(server, "bob")
        assert bob.json("remote", "list") == []  # nothing of alice's until she shares
        handed = work.json("handoff", claude["id"][:10], "--to", "bob", "--note", "take over")
        assert handed["to"] == "bob" and handed["session_id"] == claude["id"]
        inbox = bob.json("inbox")
        assert [(i["from"], i["note"], i["pulled"]) for i in inbox] == [
            ("alice", "take over", True)
        ]
        assert [s["session_id"] for s in bob.json("remote", "list")] == [claude["id"]]
        checkout = bob.home / "src" / "devenv"
        checkout.mkdir(parents=True)
        plan = bob.json(
            "resume", claude["id"][:10], "--in", "codex", "--cwd", str(checkout), "--print"
        )
        assert plan["tool"] == "codex" and plan["cwd"] == str(checkout)
        written = Path(plan["written"]).read_text()
        assert str(checkout) in written and "/Users/soph/Work/entire/devenv-cli" not in written
        bob.run("scan", "-q")
        continued = next(s for s in bob.json("list") if s["native_id"] == plan["native_id"])
        assert continued["continues"] == claude["id"] and continued["pushed_by"] is None
        assert "continued by" in bob.run("show", claude["id"][:10]).stdout

        # bob hands his continuation back: alice sees it as its own session, linked
        bob.json("handoff", continued["id"][:10], "--to", "alice")
        back = work.json("inbox")
        assert [i["session"]["session_id"] for i in back] == [continued["id"]]
        mine = {s["id"]: s for s in work.json("list")}
        assert mine[continued["id"]]["continues"] == claude["id"]
        assert mine[continued["id"]]["pushed_by"] == "bob@bobs-box"
        assert mine[claude["id"]]["pushed_by"] is None  # her own original is untouched
        shown = work.run("show", continued["id"][:10]).stdout
        assert f"continues {claude['id'][:12]}" in shown and "bob@bobs-box" in shown

        # server-side search sees what each may see, and only that
        found = work.json("remote", "search", "zebrafinch")
        assert {h["session_id"] for h in found} == {claude["id"], continued["id"]}
        assert bob.json("remote", "search", "zebrafinch")[0]["via"] == "handoff"
        codex_id = next(s["id"] for s in mine.values() if s["native_id"] == CODEX_ID)
        assert codex_id not in {h["session_id"] for h in bob.json("remote", "list")}

        # a team: bob's pushes to it are alice's to see and pull
        server.cli("team", "member", "add", "backend", "alice")
        server.cli("team", "member", "add", "backend", "bob")
        place_codex(bob.home)
        bob.run("scan", "-q")
        bob.json("push", "--all", "--team", "backend")
        shared = work.json("remote", "list")
        assert any(h["via"] == "team" and h["owner"] == "bob" for h in shared)
        assert laptop.json("pull", "--all")["pulled"]
        tokens = json.loads((laptop.data / "remote.json").read_text())
        assert (laptop.data / "remote.json").stat().st_mode & 0o777 == 0o600
        assert tokens["device"] == "laptop"


def test_every_sync_command_prints_its_documented_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_json_output import SHAPES, assert_shape

    folder = tmp_path / "server"
    folder.mkdir()
    database = f"sqlite:///{folder}/server.db"
    with server_for((database, str(folder / "objects"), {})) as server:
        alice = machine("alice-box", tmp_path, monkeypatch)
        bob = machine("bob-box", tmp_path, monkeypatch)
        place_claude(alice.home)
        alice.run("scan", "-q")

        def admin(*args: str) -> object:
            return alice.json("server", *args, "--database", database)

        added = admin("user", "add", "alice")
        assert_shape(added, SHAPES["server user add"], "server user add")
        assert isinstance(added, dict)
        login = alice.json("login", server.url, "--user", "alice", "--code", added["code"])
        assert_shape(login, SHAPES["login"], "login")
        bob.login(server, "bob")
        assert_shape(admin("team", "add", "crew"), SHAPES["server team add"], "team add")
        member = admin("team", "member", "add", "crew", "bob")
        assert_shape(member, SHAPES["server team member add"], "member add")
        assert_shape(admin("team", "list"), SHAPES["server team list"], "team list")
        assert_shape(admin("user", "list"), SHAPES["server user list"], "user list")
        assert_shape(alice.json("push", "--all"), SHAPES["push"], "push")
        assert_shape(alice.json("sync"), SHAPES["sync"], "sync")
        assert_shape(alice.json("remote", "list"), SHAPES["remote list"], "remote list")
        hits = alice.json("remote", "search", "the")
        assert_shape(hits, SHAPES["remote search"], "remote search")
        handed = alice.json("handoff", CLAUDE_ID, "--to", "bob")
        assert_shape(handed, SHAPES["handoff"], "handoff")
        assert_shape(bob.json("inbox"), SHAPES["inbox"], "inbox")
        assert_shape(bob.json("pull", "--all"), SHAPES["pull"], "pull")
        assert_shape(
            admin("team", "member", "remove", "crew", "bob"),
            SHAPES["server team member remove"],
            "member remove",
        )
        assert_shape(admin("user", "remove", "bob"), SHAPES["server user remove"], "user remove")
        assert alice.json("sync", "auto", "on")["auto"] is True
        gone = bob.run("remote", "list", ok=False)
        assert gone.exit_code == 1 and "log" in gone.stderr  # bob's token went with him


def test_the_same_session_changed_on_two_machines_is_not_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "server"
    folder.mkdir()
    with server_for((f"sqlite:///{folder}/server.db", str(folder / "objects"), {})) as server:
        one = machine("one", tmp_path, monkeypatch)
        two = machine("two", tmp_path, monkeypatch)
        for box in (one, two):
            path = place_claude(box.home)  # a copied ~/.claude: the same session on both
            box.run("scan", "-q")
        append(path, claude_prompt(path, "only on machine two"))
        one.login(server, "alice")
        two.login(server, "alice", again=True)
        first = one.json("push", "--all")
        refused = two.run("push", "--all", ok=False)
        assert refused.exit_code == 3
        assert refused.stderr.count("\n") == 1 and "pushed from one" in refused.stderr
        listed = one.json("remote", "list")
        assert [h["revision"] for h in listed] == [first["pushed"][0]["revision"]]


def test_auto_push_sends_what_the_watcher_captures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from tether.capture.watch import Watcher
    from tether.paths import tether_home
    from tether.sync.auto import hook

    folder = tmp_path / "server"
    folder.mkdir()
    with server_for((f"sqlite:///{folder}/server.db", str(folder / "objects"), {})) as server:
        box = machine("box", tmp_path, monkeypatch)
        path = place_claude(box.home)
        box.login(server, "alice")
        box.json("sync", "auto", "on")
        watcher = Watcher(
            tether_home(),
            {"HOME": str(box.home)},
            box.home,
            quiet=0.03,
            rescan=0,
            after_capture=hook(),
        )
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        try:
            assert watcher.ready.wait(60)
            append(path, claude_prompt(path, "captured and pushed: ocelotfinch"))
            deadline = time.monotonic() + 60
            while not box.json("remote", "search", "ocelotfinch"):
                assert time.monotonic() < deadline, "the watcher did not push the append"
                time.sleep(0.2)
        finally:
            watcher.stop()
            thread.join(60)
        assert box.json("sync", "auto", "off")["auto"] is False


def test_a_session_from_a_file_not_named_by_its_id_keeps_its_id_when_pulled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Claude Code names a session's file by its id; a file copied in under another name (a
    # fixture, a backup) is captured under its file's name, and must arrive on the other
    # machine under the same tether id, so that `resume ID` there finds it.
    folder = tmp_path / "server"
    folder.mkdir()
    with server_for((f"sqlite:///{folder}/server.db", str(folder / "objects"), {})) as server:
        alice, bob = machine("alice", tmp_path, monkeypatch), machine("bob", tmp_path, monkeypatch)
        store = alice.home / ".claude" / "projects" / "-tmp-proj"
        store.mkdir(parents=True)
        fixture = Path(__file__).parent / "fixtures" / "claude" / "agentsessions_small.jsonl"
        (store / fixture.name).write_bytes(fixture.read_bytes())
        alice.run("scan", "-q")
        [session] = alice.json("list")
        assert session["native_id"] == "agentsessions_small"
        alice.login(server, "alice")
        bob.login(server, "bob")
        alice.run("handoff", session["id"][:12], "--to", "bob")
        [item] = bob.json("inbox")
        assert item["pulled"] and "problem" not in item
        [pulled] = bob.json("list")
        assert (pulled["id"], pulled["native_id"]) == (session["id"], "agentsessions_small")
        checkout = bob.home / "proj"
        checkout.mkdir()
        resumed = bob.json(
            "resume", session["id"][:12], "--in", "codex", "--print", "--cwd", str(checkout)
        )
        assert resumed["tool"] == "codex"
