"""Redaction: every kind of fake secret in tests/secrets_corpus.py, in every part kind
(title, user text, assistant text, reasoning, tool input, tool output), leaves tether through
no export format and no convert target; JSON and JSONL stay valid; nothing is flagged in
the real sessions under tests/fixtures.
"""

from __future__ import annotations

import base64
import os
import stat
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.secrets_corpus import KINDS, PLACEMENTS, Sample, leaks, placed, samples, session_with
from tether.convert.session import convert
from tether.convert.writers import writable
from tether.formats.html import to_html
from tether.formats.markdown import to_markdown
from tether.formats.tether_json import session_json
from tether.model import Attachment, Message, Session, Text
from tether.redact import redact_doc, redact_session, redact_text, redact_value, scan_doc

PLACED = placed()
FAKE_OPENCODE = """\
#!{python}
import json, sys
args = sys.argv[1:]
if args[:2] == ["debug", "config"]:
    print(json.dumps({{"model": "mock/test-model"}}))
elif args[:1] == ["models"]:
    print("mock/test-model")
elif args[:1] == ["import"]:
    print("Imported session: " + json.load(open(args[1]))["info"]["id"])
"""


def test_the_corpus_has_at_least_30_kinds_each_well_formed() -> None:
    assert len(KINDS) >= 30
    names = [sample.kind for sample in samples()]
    assert len(set(names)) == len(names)
    for sample in samples():
        assert sample.material and all(len(piece) >= 8 for piece in sample.material)


@pytest.mark.parametrize("sample", list(samples()), ids=lambda s: s.kind)
def test_every_kind_is_redacted_from_text_and_from_a_tool_input(sample: Sample) -> None:
    text = redact_text(sample.snippet)
    assert not [n for n in sample.needles() if n in text]
    assert "[REDACTED:" in text
    value = orjson.dumps(redact_value(sample.tool_input())).decode()
    assert not [n for n in sample.needles() if n in value]


def exports(doc: dict[str, Any]) -> dict[str, str]:
    return {
        "md": to_markdown(doc),
        "json": orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(),
        "html": to_html(doc),
    }


@pytest.mark.parametrize("where", PLACED, ids=[k.name for k in KINDS])
def test_export_leaks_no_secret_in_any_part_kind_or_format(where: dict[str, Sample]) -> None:
    doc = session_json(session_with(where, "/srv/app"))
    for fmt, text in exports(doc).items():
        assert leaks(text, where) == list(PLACEMENTS), f"{fmt}: the unredacted export"
    redacted = redact_doc(doc)
    for fmt, text in exports(redacted).items():
        assert leaks(text, where) == [], fmt
    assert orjson.loads(exports(redacted)["json"])["format"] == "tether.session"
    assert doc == session_json(session_with(where, "/srv/app")), "the original is unchanged"


@pytest.fixture
def convert_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder to convert into, and stand-ins for `opencode` and `kilo` (only their
    import step is faked: what tether writes is the export JSON it hands over)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for binary in ("opencode", "kilo"):
        fake = bin_dir / binary
        fake.write_text(FAKE_OPENCODE.format(python=sys.executable))
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path


def written_bytes(root: Path) -> str:
    """Everything under `root` that a conversion wrote, as text; JSON/JSONL must parse."""
    out = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "bin" in path.relative_to(root).parts[:1]:
            continue
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for line in data.splitlines():
                if line.strip():
                    orjson.loads(line)
        elif path.suffix == ".json":
            orjson.loads(data)
        out.append(data.decode(errors="replace"))
    return "\n".join(out)


def convert_all(
    session: Session, root: Path, keep: bool, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The bytes each writable target writes for `session`, per target."""
    out = {}
    for target in writable():
        folder = root / ("keep" if keep else "redacted") / target
        cwd = folder / "project"
        cwd.mkdir(parents=True)
        monkeypatch.setenv("TETHER_HOME", str(folder / "tether-home"))
        convert(session, target, store=folder / "store" / target, cwd=cwd, keep_secrets=keep)
        out[target] = written_bytes(folder)
    return out


@pytest.mark.parametrize("where", PLACED, ids=[k.name for k in KINDS])
def test_convert_leaks_no_secret_in_any_part_kind_to_any_target(
    where: dict[str, Sample], convert_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # from a tool tether only reads, so every writable target is another tool
    session = session_with(where, str(convert_env), tool="amp")
    kept = convert_all(session, convert_env, True, monkeypatch)
    redacted = convert_all(session, convert_env, False, monkeypatch)
    assert set(kept) == set(writable()) and len(kept) >= 7
    for target in writable():
        carried = leaks(kept[target], where)
        # every target carries the texts, the call and its output; the title where it has one
        assert {"user_text", "assistant_text", "tool_input", "tool_output"} <= set(carried)
        assert leaks(redacted[target], where) == [], target
        assert "[REDACTED:" in redacted[target]


def test_the_claude_title_line_is_redacted(convert_env: Path) -> None:
    where = PLACED[[k.name for k in KINDS].index("stripe-secret-key")]
    session = session_with(where, str(convert_env), tool="codex")
    cwd = convert_env / "p"
    cwd.mkdir()
    done = convert(session, "claude", store=convert_env / "claude", cwd=cwd)
    lines = [orjson.loads(line) for line in done.written.path.read_bytes().splitlines()]
    titles = [line["customTitle"] for line in lines if line.get("type") == "custom-title"]
    assert titles and titles[0].startswith("deploy ") and "[REDACTED:" in titles[0]
    assert not leaks(titles[0], where)


def test_a_value_under_a_secret_key_is_replaced_whole_and_json_stays_a_value() -> None:
    value = {
        "command": "./deploy.sh",
        "env": {"DB_PASSWORD": "hunter2-but-longer", "REGION": "eu", "MAX_TOKENS": "4096"},
        "headers": [{"Authorization": "Basic ZGVwbG95OnMzY3JldA=="}],
        "tokenizer": "cl100k_base",
        "password_file": "/run/secrets/db",
    }
    out = redact_value(value)
    assert out["env"] == {
        "DB_PASSWORD": "[REDACTED:keyed-secret]",
        "REGION": "eu",
        "MAX_TOKENS": "4096",
    }
    assert out["headers"] == [{"Authorization": "[REDACTED:keyed-secret]"}]
    assert out["tokenizer"] == "cl100k_base" and out["password_file"] == "/run/secrets/db"
    assert value["env"]["DB_PASSWORD"] == "hunter2-but-longer", "the input is not changed"


def test_references_placeholders_and_code_are_not_secrets() -> None:
    kept = [
        "password = get_password()",
        "token = self.token",
        "apiKey: config.api_key,",
        "def login(token: Token) -> None:",
        "export API_TOKEN=${API_TOKEN}",
        "--password-file /run/secrets/db",
        "password: <your password>",
        "--- PASS: TestSaveChanges (0.05s)",
        "see /home/dev/src/my_app.v2/cmd/kofo/garpi_burnilgo.py and BAAI/bge-small-en-v1.5",
        "commit 3f9a2c4e8d1b7a6f5e4d3c2b1a0f9e8d7c6b5a49",
        "uuid 3422d2c9-cb79-5958-8427-2446ef85bafb",
        '"integrity": "sha512-Zq3Xq1Bn8s0Yk2Lw9Rr4Tt6Uu8Vv0Ww2Xx4Yy6Zz8Aa0Bb2Cc4"',
    ]
    for text in kept:
        assert redact_text(text) == text


def test_text_attachments_are_redacted_and_images_left_alone() -> None:
    secret = next(s for s in samples() if s.kind == "github-fine-grained-token")
    text = base64.b64encode(secret.snippet.encode()).decode()
    image = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    session = Session(
        "x" * 64,
        "claude",
        "n1",
        messages=[
            Message(
                "user",
                [
                    Text("see attached"),
                    Attachment("text/plain", "notes.txt", data=text),
                    Attachment("image/png", "dot.png", data=image),
                ],
            )
        ],
    )
    for parts in (
        redact_session(session)[0].messages[0].parts,
        [_part(p) for p in redact_doc(session_json(session))["messages"][0]["parts"]],
    ):
        decoded = base64.b64decode(parts[1].data or "").decode()
        assert "[REDACTED:" in decoded and not leaks(decoded, {"x": secret})
        assert parts[2].data == image
    assert session.messages[0].parts[1].data == text, "the session itself is not changed"


def _part(data: dict[str, Any]) -> Any:
    from tether.formats.tether_json import part_from_json

    return part_from_json(data)


def test_scan_says_where_never_what() -> None:
    where = PLACED[0]
    found = scan_doc(session_json(session_with(where, "/srv/app")))
    paths = {f.path for f in found}
    assert "session.title" in paths
    assert any(p.endswith(".input.content") for p in paths)
    assert not any(leaks(repr(found), where))
