"""Bad input on every route, on SQLite and a folder and on PostgreSQL and S3: missing, bad
and revoked tokens, another user's ids and hashes, oversized and malformed bodies, path-like
ids. Each gets its status and the one error shape; nothing leaks, nothing is written."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tether.server import admin, schema
from tether.server.app import API, create_app
from tether.server.runtime import Runtime, open_runtime
from tether.server.settings import Settings
from tether.server.storage import FolderStorage, S3Storage
from tether.sync import wire

PUBLIC = {"/healthz", f"{API}/enrol", f"{API}/openapi.json", f"{API}/docs"}
WORD = "quetzalcoatlus"


@dataclass
class World:
    client: TestClient
    runtime: Runtime
    alice: dict[str, str]
    bob: dict[str, str]
    session: str
    chunk: str
    raw: bytes
    handoff: int
    tokens: list[str]


def enrol(
    client: TestClient, runtime: Runtime, user: str, device: str
) -> tuple[dict[str, str], str]:
    code = admin.add_user(runtime.engine, user, False, 24)["code"]
    answer = client.post(f"{API}/enrol", json={"user": user, "code": code, "device": device})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    return {"Authorization": f"Bearer {token}"}, token


def push_body(native_id: str, chunk: str, size: int, **extra: Any) -> dict[str, Any]:
    return {
        "tool": "claude",
        "native_id": native_id,
        "title": f"the {WORD} session",
        "sources": [{"name": f"{native_id}.jsonl", "mode": "jsonl", "chunks": [[chunk, size]]}],
        "text": {"start": 0, "pieces": [f"we talked about {WORD}"]},
        **extra,
    }


def sid_of(native_id: str) -> str:
    return hashlib.sha256(f"claude\0{native_id}".encode()).hexdigest()


@pytest.fixture
def world(
    backend: tuple[str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    database, storage, env = backend
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime = open_runtime(Settings(database=database, storage=storage))
    client = TestClient(create_app(runtime), raise_server_exceptions=False)
    alice, alice_token = enrol(client, runtime, "alice", "laptop")
    bob, bob_token = enrol(client, runtime, "bob", "desk")
    admin.add_user(runtime.engine, "carol", False, 24)
    raw = b'{"type":"user","text":"' + WORD.encode() + b'"}\n'
    chunk = wire.digest(raw)
    assert (
        client.post(
            f"{API}/chunks", content=wire.pack([(chunk, wire.compress(raw))]), headers=alice
        ).status_code
        == 200
    )
    native = "6a1c2b3d-0000-4000-8000-000000000001"
    pushed = client.put(
        f"{API}/sessions/{sid_of(native)}", json=push_body(native, chunk, len(raw)), headers=alice
    )
    assert pushed.status_code == 200, pushed.text
    handed = client.post(
        f"{API}/handoffs", json={"session_id": sid_of(native), "to": "carol"}, headers=alice
    )
    assert handed.status_code == 201, handed.text
    yield World(
        client,
        runtime,
        alice,
        bob,
        sid_of(native),
        chunk,
        raw,
        handed.json()["id"],
        [alice_token, bob_token],
    )
    client.close()
    runtime.engine.dispose()


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """Every table's rows (as counts and the counter) and every object in the store."""
    out: dict[str, Any] = {}
    with runtime.engine.connect() as connection:
        for table in schema.metadata.sorted_tables:
            out[table.name] = connection.execute(select(func.count()).select_from(table)).scalar()
        out["counter"] = connection.execute(select(schema.counter.c.value)).scalar()
        out["devices_seen"] = sorted(
            str(row) for row in connection.execute(select(schema.devices.c.last_seen_at))
        )
    storage = runtime.storage
    if isinstance(storage, FolderStorage):
        out["objects"] = sorted(str(p) for p in storage.root.rglob("*") if p.is_file())
    elif isinstance(storage, S3Storage):
        import obstore

        out["objects"] = sorted(
            item["path"] for batch in obstore.list(storage.store) for item in batch
        )
    return out


def routes(world: World) -> list[tuple[str, str]]:
    """(method, path) of every route, its parameters filled with values that exist."""
    values = {
        "session_id": world.session,
        "owner": "alice",
        "handoff_id": str(world.handoff),
    }
    out = []
    spec = world.client.get(f"{API}/openapi.json").json()
    for template, methods in spec["paths"].items():
        if template in PUBLIC:
            continue
        path = template
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        out += [(method.upper(), path) for method in sorted(methods)]
    return out


def call(
    world: World, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    return world.client.request(method, path, headers=headers or {}, **kwargs)


def assert_error(response: Any, status: int, *hidden: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "kind"} and "\n" not in body["error"], body
    for secret in hidden:
        assert secret not in response.text
    return body


def test_every_route_wants_a_valid_token(world: World) -> None:
    before = snapshot(world.runtime)
    listed = routes(world)
    assert len(listed) >= 11
    forged = f"tt_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
    swapped = world.tokens[0][:20] + world.tokens[1][20:]  # alice's id, bob's secret
    for method, path in listed:
        for headers in (
            {},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": f"Basic {world.tokens[0]}"},
            {"Authorization": f"Bearer {forged}"},
            {"Authorization": f"Bearer {swapped}"},
        ):
            body = assert_error(call(world, method, path, headers, json={}), 401, WORD)
            assert body["kind"] == "unauthorized"
    assert snapshot(world.runtime) == before


def test_a_removed_user_is_locked_out(world: World) -> None:
    admin.remove_user(world.runtime.engine, "bob")
    assert_error(call(world, "GET", f"{API}/me", world.bob), 401)


def test_another_users_things_do_not_exist(world: World) -> None:
    before = snapshot(world.runtime)
    bob = world.bob
    assert_error(call(world, "GET", f"{API}/sessions/alice/{world.session}", bob), 404, WORD)
    assert_error(
        call(world, "POST", f"{API}/chunks/fetch", bob, json={"hashes": [world.chunk]}), 404
    )
    missing = call(world, "POST", f"{API}/chunks/missing", bob, json={"hashes": [world.chunk]})
    assert missing.json() == {"missing": [world.chunk]}  # no telling that alice has it
    handoff = {"session_id": world.session, "to": "bob"}
    assert_error(call(world, "POST", f"{API}/handoffs", bob, json=handoff), 404, WORD)
    assert_error(call(world, "POST", f"{API}/handoffs/{world.handoff}/received", bob), 404)
    native = "6a1c2b3d-0000-4000-8000-000000000002"
    body = push_body(native, world.chunk, len(world.raw))
    taken = call(world, "PUT", f"{API}/sessions/{sid_of(native)}", bob, json=body)
    assert assert_error(taken, 409)["kind"] == "missing_chunks"
    for path in ("/sessions", "/changes", "/inbox", f"/search?q={WORD}"):
        answer = call(world, "GET", API + path, bob)
        assert (
            answer.status_code == 200
            and world.session not in answer.text
            and WORD not in answer.text
        )
    assert snapshot(world.runtime) == before
    # what bob may not see, alice may
    assert (
        call(world, "GET", f"{API}/search?q={WORD}", world.alice).json()[0]["session_id"]
        == world.session
    )


def test_oversized_bodies_are_refused_before_they_are_read(world: World) -> None:
    before = snapshot(world.runtime)
    huge = b"x" * ((wire.MAX_BATCH) + (2 << 20))
    assert_error(call(world, "POST", f"{API}/chunks", world.alice, content=huge), 413)
    big_json = json.dumps({"hashes": ["0" * 64] * 20_000}).encode()
    assert_error(call(world, "POST", f"{API}/chunks/missing", world.alice, content=big_json), 413)
    native = "6a1c2b3d-0000-4000-8000-000000000003"
    body = push_body(native, world.chunk, len(world.raw))
    body["text"]["pieces"] = ["y" * 200_000] * 90
    assert_error(
        call(world, "PUT", f"{API}/sessions/{sid_of(native)}", world.alice, json=body), 413
    )
    assert snapshot(world.runtime) == before


def test_malformed_bodies_are_bad_requests(world: World) -> None:
    import zstandard

    before = snapshot(world.runtime)
    alice = world.alice
    native = "6a1c2b3d-0000-4000-8000-000000000004"
    put = f"{API}/sessions/{sid_of(native)}"
    good = push_body(native, world.chunk, len(world.raw))
    bomb = zstandard.ZstdCompressor().compress(b"\0" * (64 << 20))
    wrong = wire.pack([(world.chunk, wire.compress(b"other bytes\n"))])
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"{API}/chunks/missing", {"content": b"{not json"}),
        ("POST", f"{API}/chunks/missing", {"json": {"hashes": "abc"}}),
        ("POST", f"{API}/chunks/missing", {"json": {"hashes": ["../../etc/passwd"]}}),
        ("POST", f"{API}/chunks/fetch", {"json": {"hashes": [world.chunk.upper()]}}),
        ("POST", f"{API}/chunks", {"content": b"not a batch"}),
        ("POST", f"{API}/chunks", {"content": wire.MAGIC + b"\x01" * 20}),
        ("POST", f"{API}/chunks", {"content": wrong}),
        ("POST", f"{API}/chunks", {"content": wire.pack([(wire.digest(b""), bomb)])}),
        (
            "POST",
            f"{API}/chunks",
            {"content": wire.pack([(world.chunk, b"\x28\xb5\x2f\xfd junk")])},
        ),
        ("PUT", put, {"content": b"[1, 2"}),
        ("PUT", put, {"json": {**good, "tool": "Claude Code"}}),
        ("PUT", put, {"json": {**good, "native_id": "another-one"}}),
        ("PUT", put, {"json": {**good, "sources": []}}),
        (
            "PUT",
            put,
            {"json": {**good, "sources": [{**good["sources"][0], "name": "../../etc/passwd"}]}},
        ),
        ("PUT", put, {"json": {**good, "sources": [{**good["sources"][0], "mode": "container"}]}}),
        (
            "PUT",
            put,
            {"json": {**good, "sources": [{**good["sources"][0], "chunks": [[world.chunk, 5]]}]}},
        ),
        ("PUT", put, {"json": {**good, "base": "nope"}}),
        ("PUT", put, {"json": {**good, "message_count": -1}}),
        ("PUT", f"{API}/sessions/..%2F..%2Fetc%2Fpasswd", {"json": good}),
        ("POST", f"{API}/handoffs", {"json": {"session_id": world.session, "to": "../bob"}}),
        ("POST", f"{API}/handoffs/99999999999999999999/received", {}),
        ("GET", f"{API}/search?q=", {}),
        ("GET", f"{API}/changes?since=-1", {}),
        ("GET", f"{API}/sessions?prefix=../x", {}),
    ]
    for method, path, kwargs in cases:
        answer = call(world, method, path, alice, **kwargs)
        assert answer.status_code in (400, 404, 409), (
            method,
            path,
            answer.status_code,
            answer.text,
        )
        assert_error(answer, answer.status_code)
        assert "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower()
    packed = {**alice, "Content-Encoding": "zstd"}
    spaces = zstandard.ZstdCompressor().compress(b" " * (80 << 20))  # inflates past 64 MiB
    for content in (b"not zstd", spaces, wire.compress(b'{"sessions": [{"tool": 1}]}')):
        answer = world.client.post(f"{API}/sessions", content=content, headers=packed)
        assert_error(answer, 400)
    assert snapshot(world.runtime) == before


def test_path_like_ids_find_nothing(world: World) -> None:
    before = snapshot(world.runtime)
    for path in (
        f"{API}/sessions/alice/..%2F..%2F..%2Fetc%2Fpasswd",
        f"{API}/sessions/..%2Falice/{world.session}",
        f"{API}/sessions/alice/{world.session}%00",
        f"{API}/sessions/alice/{world.session.upper()}",
    ):
        answer = call(world, "GET", path, world.alice)
        assert answer.status_code == 404, (path, answer.text)
        assert_error(answer, 404, "root:")
    assert snapshot(world.runtime) == before


def test_tokens_and_codes_are_kept_hashed(world: World) -> None:
    code = admin.add_user(world.runtime.engine, "dave", False, 24)["code"]
    with world.runtime.engine.connect() as connection:
        stored = json.dumps(
            [
                [str(v) for v in row]
                for table in (schema.users, schema.devices)
                for row in connection.execute(select(table))
            ]
        )
    for token in world.tokens:
        assert token not in stored and token.split("_", 2)[2] not in stored
    assert code not in stored and code.replace("-", "") not in stored


def test_an_enrolment_code_is_used_once_and_dies_after_wrong_tries(world: World) -> None:
    code = admin.add_user(world.runtime.engine, "erin", False, 24)["code"]
    ask = {"user": "erin", "code": code, "device": "one"}
    assert world.client.post(f"{API}/enrol", json=ask).status_code == 200
    assert_error(world.client.post(f"{API}/enrol", json=ask), 401)  # used
    code = admin.add_user(world.runtime.engine, "erin", True, 24)["code"]
    for _ in range(5):
        wrong = {**ask, "code": "AAAA-BBBB-CCCC-DDDD"}
        assert_error(world.client.post(f"{API}/enrol", json=wrong), 401)
    assert_error(world.client.post(f"{API}/enrol", json={**ask, "code": code}), 401)  # void now
    expired = admin.add_user(world.runtime.engine, "erin", True, -1)["code"]
    assert_error(world.client.post(f"{API}/enrol", json={**ask, "code": expired}), 401)
    unknown = {"user": "nobody", "code": code, "device": "x"}
    assert (
        assert_error(world.client.post(f"{API}/enrol", json=unknown), 401)["error"]
        == (
            world.client.post(f"{API}/enrol", json={**ask, "code": "WXYZ-WXYZ-WXYZ-WXYZ"}).json()[
                "error"
            ]
        )
    )  # an unknown user and a wrong code read the same


def test_health_and_openapi_are_public_and_say_little(world: World) -> None:
    health = world.client.get("/healthz")
    assert health.json() == {"ok": True, "database": "ok", "storage": "ok"}
    spec = world.client.get(f"{API}/openapi.json").json()
    assert spec["info"]["title"] == "tether server"
    assert {f"{API}/sessions/{{session_id}}", f"{API}/changes", f"{API}/inbox"} <= set(
        spec["paths"]
    )


def test_another_app_mounts_beside_the_api_and_shares_who_sees_what(tmp_path: Path) -> None:
    """The web view's way in: an ASGI app mounted on the server, finding the runtime, the
    caller (find_caller) and the one scoping rule (visible_sessions) the API uses."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tether.server.auth import find_caller
    from tether.server.scope import visible_sessions

    runtime = open_runtime(Settings(database=f"sqlite:///{tmp_path}/s.db", storage=str(tmp_path)))
    app = create_app(runtime)

    def mine(request: Request) -> JSONResponse:
        who = find_caller(runtime.engine, request.headers.get("authorization"))
        with runtime.engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(schema.sessions)
                .where(visible_sessions(who.user_id))
            ).scalar()
        return JSONResponse({"user": who.user, "sessions": count})

    app.mount("/web", Starlette(routes=[Route("/mine", mine)]))
    client = TestClient(app)
    headers, _ = enrol(client, runtime, "alice", "laptop")
    assert client.get("/web/mine", headers=headers).json() == {"user": "alice", "sessions": 0}
    assert client.get(f"{API}/me", headers=headers).json()["user"] == "alice"
    runtime.engine.dispose()


def test_a_search_ranking_only_the_newest_places_says_so(world: World) -> None:
    # A word in more places than a search ranks: the answer's header says only the newest
    # were ranked, for the user whose sessions hold them, and not for another user.
    from tether.server.routes.search import CAPPED_HEADER, NEWEST

    with world.runtime.engine.begin() as connection:
        pk = connection.execute(
            select(schema.sessions.c.pk).where(schema.sessions.c.session_id == world.session)
        ).scalar_one()
        connection.execute(
            schema.search_docs.insert(),
            [{"session_pk": pk, "seq": 100 + n, "text": "commonplace"} for n in range(NEWEST)],
        )
    answer = call(world, "GET", f"{API}/search?q=commonplace", world.alice)
    assert answer.headers.get(CAPPED_HEADER) == str(NEWEST)
    assert [hit["session_id"] for hit in answer.json()] == [world.session]
    rare = call(world, "GET", f"{API}/search?q={WORD}", world.alice)
    assert CAPPED_HEADER not in rare.headers and rare.json()
    theirs = call(world, "GET", f"{API}/search?q=commonplace", world.bob)
    assert CAPPED_HEADER not in theirs.headers and theirs.json() == []


def test_a_batch_that_inflates_past_its_limit_is_refused_as_it_is_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of zeros inflate ~30,000-fold: 32 MiB of them would be hundreds of gigabytes to
    # decompress and hash. Each chunk here is valid; the batch's total is what is refused.
    monkeypatch.setattr(wire, "MAX_BATCH_RAW", 3 * wire.MAX_CHUNK, raising=False)
    before = snapshot(world.runtime)
    raws = [bytes([n]) + b"\0" * (wire.MAX_CHUNK - 1) for n in range(4)]
    batch = wire.pack([(wire.digest(raw), wire.compress(raw)) for raw in raws])
    assert len(batch) < 4096
    answer = call(world, "POST", f"{API}/chunks", world.alice, content=batch)
    assert "inflates past" in assert_error(answer, 400)["error"]
    assert snapshot(world.runtime) == before
    assert (
        call(
            world,
            "POST",
            f"{API}/chunks",
            world.alice,
            content=wire.pack([(wire.digest(raw), wire.compress(raw)) for raw in raws[:3]]),
        ).status_code
        == 200
    )


def test_a_session_larger_than_its_limit_is_refused_however_few_chunks_it_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A manifest may name one chunk any number of times: 64 files of 100,000 times an 8 MiB
    # chunk would be 5 PB to read back for the pages from one 300-byte upload.
    monkeypatch.setattr(wire, "MAX_SESSION_RAW", 100 * len(world.raw), raising=False)
    before = snapshot(world.runtime)
    native = "6a1c2b3d-0000-4000-8000-000000000009"
    body = push_body(native, world.chunk, len(world.raw))
    body["sources"][0]["chunks"] = [[world.chunk, len(world.raw)]] * 101
    answer = call(world, "PUT", f"{API}/sessions/{sid_of(native)}", world.alice, json=body)
    assert "more than" in assert_error(answer, 400)["error"]
    assert snapshot(world.runtime) == before
    body["sources"][0]["chunks"] = [[world.chunk, len(world.raw)]] * 100
    answer = call(world, "PUT", f"{API}/sessions/{sid_of(native)}", world.alice, json=body)
    assert answer.status_code == 200, answer.text


def test_an_inbox_shows_the_newest_handoffs_however_many_are_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Anyone on the server may hand bob sessions: a flood must not make his inbox unusable.
    from tether.server.routes import handoffs

    monkeypatch.setattr(handoffs, "INBOX", 3, raising=False)
    for n in range(5):
        body = {"session_id": world.session, "to": "bob", "note": f"note {n}"}
        assert call(world, "POST", f"{API}/handoffs", world.alice, json=body).status_code == 201
    inbox = call(world, "GET", f"{API}/inbox", world.bob).json()
    assert [item["note"] for item in inbox] == ["note 4", "note 3", "note 2"]
