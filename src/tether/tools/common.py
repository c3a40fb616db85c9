"""Small helpers every reader needs: timestamps, text of content blocks, titles, fields of
the wrong type, token counts, sniffing a head, reading the small files beside sessions, and
reading the items of a document one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from tether.files import read_regular
from tether.tools.base import Feed, FormatError, Op

TITLE_MAX = 120
MAX_NESTING = 32
"""Lists in lists as_text flattens; deeper ones are shown as JSON."""
SHOWN_MAX = 60
Item = TypeVar("Item")


def each(
    feed: Feed,
    what: str,
    items: Iterable[Item],
    read_one: Callable[[int, Item], Iterable[Op]],
) -> Iterator[Op]:
    """The ops of every item of a document (its messages), read one item at a time: an item
    the reader fails on (a field of a type it did not expect) is skipped and counted, as a
    bad line of a JSONL file is, and costs the document nothing else."""
    for index, item in enumerate(items):
        try:
            ops = list(read_one(index, item))
        except (OSError, MemoryError):
            raise
        except FormatError as exc:  # the reader's own word on what it cannot use
            feed.skip(f"{what} {index}: {exc}")
            continue
        except Exception as exc:
            feed.skip(f"{what} {index}: {failure(exc)}")
            continue
        yield from ops


def failure(exc: BaseException) -> str:
    """What a reader failed on, and where in tether (for a bug report from `tether doctor`)."""
    import traceback  # here: 5 ms of a quick capture, which rarely fails

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"the reader failed{where}: {type(exc).__name__}: {exc}"


def shown(value: Any) -> str:
    """A value from a native file in a message: short text as it is, anything else by its
    type (a list there may be huge, or nested too deep to print)."""
    if isinstance(value, str | int | float | bool) or value is None:
        text = repr(value)
        return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"
    return f"a JSON {'object' if isinstance(value, dict) else type(value).__name__}"


def iso(value: Any) -> str | None:
    """A timestamp as ISO 8601 UTC ending in Z, from ISO text or epoch seconds/milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            dt = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    if isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None  # not a time at all ("[trimmed]"): never let it sort as one
        if dt.tzinfo is None:
            return text
        if text.endswith("Z") and len(text) == 24:
            return text
        dt = dt.astimezone(UTC)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return None


def dict_or_empty(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (a field of the wrong type)."""
    return value if isinstance(value, dict) else {}


def str_or_none(value: Any) -> str | None:
    """`value` when it is a string, the empty one included; else None."""
    return value if isinstance(value, str) else None


def nonempty_str(value: Any) -> str | None:
    """`value` when it is a string with something in it; else None (an empty string too)."""
    return value if isinstance(value, str) and value else None


def head_records(head: bytes, lines: int) -> Iterator[Any]:
    """The JSON values of the first `lines` lines of a file's head, in order; blank lines,
    broken ones and a last line cut by the head's end are passed over (for sniffing)."""
    import orjson

    for line in head.split(b"\n", lines)[:lines]:
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError:
            continue


def read_small(path: Path, limit: int) -> bytes | None:
    """The bytes of a file that should be small (a marker, an index beside the sessions);
    None when it is missing, unreadable, no regular file (a FIFO is never waited on) or
    bigger than `limit` (then it is not what we want)."""
    try:
        return read_regular(str(path), limit)
    except OSError:
        return None


def token_counts(value: Any, names: Iterable[tuple[str, str]]) -> dict[str, int]:
    """The token counts in `value` (a JSON object), each under our name (`names`: pairs of
    theirs and ours): whole numbers only (true and false are no counts); none when `value`
    is no object."""
    if not isinstance(value, dict):
        return {}
    return {ours: value[theirs] for theirs, ours in names if type(value.get(theirs)) is int}


def file_path(uri: str) -> str:
    """A local path from a `file://` URI (or the text itself when it is a path already)."""
    if not uri.startswith("file:"):
        return uri
    return unquote(urlparse(uri).path) or uri


def title_from(text: str | None) -> str | None:
    """A one-line title from free text (first non-empty line, shortened)."""
    if not text:
        return None
    for raw in text.splitlines():
        line = raw.strip()
        if line:
            return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1] + "…"
    return None


def as_text(content: Any, depth: int = 0) -> str:
    """Plain text of a tool output or content value: a string, a list of blocks, or JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and depth < MAX_NESTING:
        pieces = []
        for item in content:
            if isinstance(item, dict):
                if isinstance(item.get("text"), str):
                    pieces.append(item["text"])
                elif item.get("type") in ("image", "input_image"):
                    pieces.append("[image]")
                else:
                    pieces.append(json_text(item))
            else:
                pieces.append(as_text(item, depth + 1))
        return "\n".join(pieces)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return str(content["text"])
    return json_text(content)


def text_of(value: Any) -> str:
    """A value that should be text (an id, a name, a media type), as text whatever it is:
    never str() of a list from a native file (it may be huge, or too deep to print)."""
    if isinstance(value, str):
        return value
    return "" if value is None else json_text(value)


def json_text(value: Any) -> str:
    """A value as JSON text; one nested deeper than orjson writes (254 levels) as a note."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return f"[{shown(value)} nested too deep to show]"
