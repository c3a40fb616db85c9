"""Stand-ins for the CLIs that cannot be installed here (Antigravity's agy, Cursor's
cursor-agent) and for quick runs of the ones that can: small programs named as the real
binary that record their argv and folder in $FAKE_LOG, and write the files the real CLI
writes for a conversation, where it writes them (research/native-formats.md §5, §12;
tests/fixtures of the real Cline and Kilo CLIs), so that tether finds and reads them.

A run with a prompt (`-p PROMPT`, or a plain word for cline) answers it and exits; an
interactive run (no prompt) writes its first turn and waits, as a TUI would, unless
$FAKE_EXIT names a file (then it exits with the code in it, or 0 when it is missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

STANDIN = r"""
import hashlib, json, os, sqlite3, sys, time, uuid
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
cwd = os.getcwd()
home = os.environ["HOME"]
if os.environ.get("FAKE_LOG"):
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps({"tool": tool, "argv": args, "cwd": cwd}) + "\n")


def value(*flags):
    for at, word in enumerate(args):
        for flag in flags:
            if word == flag and at + 1 < len(args):
                return args[at + 1]
            if word.startswith(flag + "="):
                return word.split("=", 1)[1]
    return None


prompt = value("-p", "--print") or "hello from the stand-in"
now = time.time()
stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def agy():
    store = os.path.join(home, ".gemini", "antigravity-cli")
    native_id = value("--conversation") or str(uuid.uuid4())
    os.makedirs(os.path.join(store, "conversations"), exist_ok=True)
    db = sqlite3.connect(os.path.join(store, "conversations", native_id + ".db"))
    db.execute("CREATE TABLE IF NOT EXISTS steps (idx INTEGER, step BLOB)")
    db.commit()
    db.close()
    logs = os.path.join(store, "brain", native_id, ".system_generated", "logs")
    os.makedirs(logs, exist_ok=True)
    path = os.path.join(logs, "transcript.jsonl")
    step = sum(1 for _ in open(path)) if os.path.exists(path) else 0
    steps = [
        {"source": "USER_EXPLICIT", "type": "USER_INPUT",
         "content": "<USER_REQUEST>\n" + prompt + "\n</USER_REQUEST>"},
        {"source": "MODEL", "type": "PLANNER_RESPONSE", "content": "ECHO: " + prompt},
    ]
    with open(path, "a") as out:
        for n, line in enumerate(steps):
            record = {"step_index": step + n, **line, "status": "DONE", "created_at": stamp}
            out.write(json.dumps(record) + "\n")
    with open(os.path.join(store, "history.jsonl"), "a") as history:
        record = {"display": prompt, "timestamp": int(now * 1000), "workspace": cwd,
                  "conversationId": native_id}
        history.write(json.dumps(record) + "\n")


def cursor_agent():
    store = os.path.join(home, ".cursor")
    native_id = value("--resume") or str(uuid.uuid4())
    chat = os.path.join(store, "chats", hashlib.md5(cwd.encode()).hexdigest(), native_id)
    os.makedirs(chat, exist_ok=True)
    db = sqlite3.connect(os.path.join(chat, "store.db"))
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, data BLOB)")
    db.commit()
    db.close()
    meta = os.path.join(chat, "meta.json")
    if not os.path.exists(meta):
        with open(meta, "w") as out:
            json.dump({"createdAtMs": int(now * 1000), "hasConversation": True}, out)
    folder = os.path.join(store, "projects", cwd.strip("/").replace("/", "-"),
                          "agent-transcripts", native_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, native_id + ".jsonl"), "a") as out:
        user = {"type": "text", "text": "<user_query>\n" + prompt + "\n</user_query>"}
        out.write(json.dumps({"role": "user", "message": {"content": [user]}}) + "\n")
        said = {"type": "text", "text": "ECHO: " + prompt}
        out.write(json.dumps({"role": "assistant", "message": {"content": [said]}}) + "\n")


def cline():
    data = os.path.join(home, ".cline", "data", "sessions")
    native_id = value("--id")
    interactive = "--id" in args or not [a for a in args if not a.startswith("-")]
    if native_id is None:
        native_id = "%d_%s" % (now * 1000, uuid.uuid4().hex[:5])
    folder = os.path.join(data, native_id)
    os.makedirs(folder, exist_ok=True)
    messages_path = os.path.join(folder, native_id + ".messages.json")
    record_path = os.path.join(folder, native_id + ".json")
    if not os.path.exists(record_path):
        record = {"version": 1, "session_id": native_id, "source": "cli",
                  "interactive": interactive, "cwd": cwd, "workspace_root": cwd,
                  "started_at": stamp, "status": "completed", "prompt": prompt,
                  "metadata": {"title": prompt}, "messages_path": messages_path}
        with open(record_path, "w") as out:
            json.dump(record, out)
    doc = {"version": 1, "sessionId": native_id, "messages": []}
    if os.path.exists(messages_path):
        doc = json.load(open(messages_path))
    user = {"type": "text", "text": '<user_input mode="act">' + prompt + "</user_input>"}
    doc["messages"] += [
        {"id": str(uuid.uuid4()), "role": "user", "content": [user], "ts": int(now * 1000)},
        {"id": "msg_" + uuid.uuid4().hex[:8], "role": "assistant", "ts": int(now * 1000),
         "content": [{"type": "text", "text": "ECHO: " + prompt}]},
    ]
    with open(messages_path, "w") as out:
        json.dump(doc, out)


{"agy": agy, "cursor-agent": cursor_agent, "cline": cline}[tool]()
print("ECHO: " + prompt)
interactive = not (value("-p", "--print") or (tool == "cline" and "--json" in args))
exit_file = os.environ.get("FAKE_EXIT")
if interactive and exit_file is not None:
    while not os.path.exists(exit_file) and os.environ.get("FAKE_WAIT"):
        time.sleep(0.05)
    sys.exit(int(open(exit_file).read() or 0) if os.path.exists(exit_file) else 0)
"""
"""One program for every stand-in: what it does depends on the name it runs under."""

TOOLS = ("agy", "cursor-agent", "cline")


def install(folder: Path, tools: tuple[str, ...] = TOOLS) -> Path:
    """Write the stand-ins into `folder` (made if missing); the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        path = folder / tool
        path.write_text(f"#!{sys.executable}\n{STANDIN}")
        path.chmod(0o755)
    return folder
