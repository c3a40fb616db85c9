"""A message's usage and native fields kept with their well-known keys as one byte
(tether.archive.jsonkeys, m015): every text comes back as it was, and every
answer of an archive packed by the migration is the one of an archive never packed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from tests.test_parttext import answers
from tests.test_staging import fill
from tether.archive import jsonkeys
from tether.archive.db import connect
from tether.archive.query import Filters
from tether.capture.scan import scan
from tether.summary.stats import stats

UUID = "19b30140-b66e-49c2-9a30-4df2f6e7f74e"
TEXTS: list[tuple[str, str | None]] = [
    ('{"input_tokens":88,"output_tokens":3148,"cache_read_input_tokens":7281}', None),
    (f'{{"parentUuid":"644239b4","uuid":"{UUID}","requestId":"req_1"}}', UUID),
    (f'{{"parentUuid":null,"uuid":"{UUID}"}}', "another-id"),  # not its own id
    (f'{{"uuid":"{UUID}","nested":{{"uuid":"{UUID}"}}}}', UUID),  # twice, one nested
    ('{"uuid":"a\\"b"}', 'a"b'),  # an id JSON escapes: kept as written
    ('{"uuid":"x"}', "x' || '"),  # an id that would be SQL: never spliced in
    ('{"x":"\\"uuid\\":\\"input_tokens\\":"}', "uuid"),  # patterns inside a string value
    ('{"x\\"input_tokens":1,"type":"\\u0001"}', None),  # half a pattern in a key; \\u0001
    ('{\n\t"type" :\r"kind",\n"role":"café \u2028 𝄞"}', None),  # whitespace JSON allows
    ('{"uuid":""}', ""),
    ("{}", None),
    ("[]", "u"),
    ('{"kind":"type","type":"kind","cached":{"cached":{}},"thoughts":[]}', None),
]


@pytest.mark.parametrize(("text", "native_id"), TEXTS)
def test_a_packed_text_reads_back_as_it_was(text: str, native_id: str | None) -> None:
    packed = jsonkeys.pack(text, native_id)
    assert packed is not None
    assert jsonkeys.unpack(packed, native_id) == text
    assert jsonkeys.unpack(jsonkeys.pack(text) or "") == text
    assert jsonkeys.unpack(packed.encode(), native_id) == text


def test_well_known_keys_and_a_message_s_own_id_take_a_byte_each() -> None:
    native = f'{{"parentUuid":"p","uuid":"{UUID}","requestId":"r","message_id":"m"}}'
    assert jsonkeys.pack(native, UUID) == '{\x02"p",\x01,\x04"r",\x05"m"}'
    assert jsonkeys.pack(None) is None
    codes = [code for _pattern, code in jsonkeys.PAIRS]
    assert len(set(codes)) == len(codes) == len(jsonkeys.KEYS)
    assert jsonkeys.OWN_ID not in codes and not set("\t\n\r") & set(codes)


def unpacked(db: sqlite3.Connection) -> None:
    """Every message's fields as the archive kept them before m015, and m015 to run again."""
    db.create_function("unpack", 2, lambda text, nid: text and jsonkeys.unpack(text, nid))
    db.execute(
        "UPDATE messages SET usage = unpack(usage, NULL), native = unpack(native, native_id)"
    )
    db.execute("DELETE FROM migrations WHERE name = 'm015_well_known_keys_in_one_byte'")


def test_an_archive_packed_by_m015_gives_every_answer_an_unpacked_one_gave(
    isolated_home: Path, tmp_path: Path
) -> None:
    fill(isolated_home)
    db = connect(tmp_path / "tether.db")
    assert not scan(db, {"HOME": str(isolated_home)}, isolated_home).failed
    written = db.execute("SELECT pk, usage, native FROM messages ORDER BY pk").fetchall()
    packed = sum(len(u or "") + len(n or "") for _pk, u, n in written)
    unpacked(db)
    plain = db.execute("SELECT pk, usage, native FROM messages ORDER BY pk").fetchall()
    assert packed < 0.7 * sum(len(u or "") + len(n or "") for _pk, u, n in plain)
    for _pk, usage, native in plain:  # what orjson wrote: parsed and printed again, the same
        for value in (usage, native):
            if value is not None:
                assert orjson.dumps(orjson.loads(value)).decode() == value
    before = answers(db), stats(db, "model", Filters())
    assert before[1]["total"]["messages"] > 100
    db.close()

    db = connect(tmp_path / "tether.db")  # runs m015
    assert db.execute("SELECT pk, usage, native FROM messages ORDER BY pk").fetchall() == written
    assert (answers(db), stats(db, "model", Filters())) == before
    db.close()


def test_a_message_merged_into_keeps_its_fields_packed(isolated_home: Path, tmp_path: Path) -> None:
    """A Claude reply written over several records is merged into its stored message: read
    back unpacked, merged, packed again."""
    from tests.stores import place_claude

    path = place_claude(isolated_home)
    records = [
        {"type": "user", "uuid": "u1", "parentUuid": None, "sessionId": path.stem,
         "timestamp": "2026-01-01T00:00:00.000Z", "message": {"role": "user", "content": "hi"}},
        {"type": "assistant", "uuid": "a1", "parentUuid": "u1", "sessionId": path.stem,
         "timestamp": "2026-01-01T00:00:01.000Z", "requestId": "req_1",
         "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5",
                     "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}],
                     "usage": {"input_tokens": 3, "output_tokens": 1}}},
    ]  # fmt: skip
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    db = connect(tmp_path / "tether.db")
    assert not scan(db, {"HOME": str(isolated_home)}, isolated_home).failed
    records[1] |= {"uuid": "a2", "parentUuid": "a1"}
    records[1]["message"] |= {  # type: ignore[operator]
        "content": [{"type": "text", "text": "hello"}],
        "usage": {"input_tokens": 3, "output_tokens": 9},
    }
    with path.open("ab") as out:
        out.write(orjson.dumps(records[1]) + b"\n")
    assert not scan(db, {"HOME": str(isolated_home)}, isolated_home).failed
    rows = db.execute("SELECT native_id, usage, native FROM messages ORDER BY seq").fetchall()
    assert [(r[0], r[1] and jsonkeys.unpack(r[1]), jsonkeys.unpack(r[2], r[0])) for r in rows] == [
        ("u1", None, '{"parentUuid":null,"uuid":"u1"}'),
        (
            "a1",
            '{"input_tokens":3,"output_tokens":9}',
            '{"parentUuid":"u1","uuid":"a1","requestId":"req_1","message_id":"msg_1"}',
        ),
    ]
    assert all(jsonkeys.OWN_ID in r[2] for r in rows)
    db.close()


@pytest.mark.parametrize("native_id", ["caf\u00e9", "a b", "x" * 201, "a/b", "a\\b"])
def test_an_id_that_is_not_plain_stays_in_its_text(native_id: str) -> None:
    text = orjson.dumps({"uuid": native_id}).decode()
    packed = jsonkeys.pack(text, native_id)
    assert packed is not None and jsonkeys.OWN_ID not in packed
    assert jsonkeys.unpack(packed, native_id) == text
