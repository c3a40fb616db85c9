"""The files a scan will read, packed: a first scan holds one entry for every file in the
stores, and an object per file made its peak memory grow with them.

A Found per file (its object, its name and its packed stat: 250 bytes) was not the whole
cost: the Founds were made among the Paths, Sources and strings of the listing, which
die at once, and each kept the pymalloc arena it sits in alive. At 25,000 files the
listing left 14 MB behind. Here each file is a few bytes in a handful of buffers (its
name and native id in one bytearray, its stat in another, indexes in arrays), which live
outside the small-object arenas; a Found is made only when its file's turn comes.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from typing import Any, overload

from tether.capture.ingest import _STAT, Found, Known, Stat, split_source
from tether.tools.base import Members, Source, SourceMode, Tool

_STEM = 1
"""The native id is the file's name without its suffix."""
_NATIVE = 2
"""The native id follows the name in `text`, after a NUL."""
_SPLIT = b"\0"
"""Between a name and its native id: never in a file's name."""

Named = tuple[str, bool, str | None]
"""A file's name, whether its native id is the name's stem, and else its native id."""


class Todo:
    """A list of Found, packed; indexing or iterating makes each Found anew."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []
        self.folders: list[str] = []
        self.modes: list[SourceMode] = []
        self._index: dict[tuple[int, str], int] = {}
        """(kind, value) -> its place in tools (0, by name), folders (1) or modes (2)."""
        self.text = bytearray()
        """Each file's name, and its native id when it is not the name's stem."""
        self.ends = array("Q")
        self.folder = array("L")
        self.tool = array("H")
        self.mode = array("B")
        self.flags = array("B")
        self.stats = bytearray()
        self.extra: dict[int, tuple[Members | None, Known | None, Named | None]] = {}
        """What packs badly, by file: a container's members, what the archive knows of the
        file, and its name and native id when they do not pack (all rare in a first scan)."""

    def __len__(self) -> int:
        return len(self.ends)

    def _place(self, kind: int, key: str, into: list[Any], value: object) -> int:
        at = self._index.get((kind, key))
        if at is None:
            at = self._index[(kind, key)] = len(into)
            into.append(value)
        return at

    def add(self, tool: Tool, source: Source, st: Stat, row: Known | None) -> None:
        folder, name, stem, native = split_source(source)
        odd: Named | None = None
        try:
            data = name.encode("utf-8", "surrogateescape")
            flags = _STEM if stem else 0
            if native is not None:
                raw = native.encode("utf-8", "surrogateescape")
                if _SPLIT in raw or _SPLIT in data:
                    raise UnicodeError  # kept aside, as one that does not encode
                data += _SPLIT + raw
                flags = _NATIVE
        except UnicodeError:
            data, odd, flags = b"", (name, stem, native), 0
        at = len(self.ends)
        self.text += data
        self.ends.append(len(self.text))
        self.folder.append(self._place(1, folder, self.folders, folder))
        self.tool.append(self._place(0, tool.name, self.tools, tool))
        self.mode.append(self._place(2, source.mode, self.modes, source.mode))
        self.flags.append(flags)
        self.stats += _STAT.pack(st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode)
        if source.members is not None or row is not None or odd is not None:
            self.extra[at] = (source.members, row, odd)

    @overload
    def __getitem__(self, at: int) -> Found: ...
    @overload
    def __getitem__(self, at: slice) -> list[Found]: ...
    def __getitem__(self, at: int | slice) -> Found | list[Found]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(len(self)))]
        if at < 0:
            at += len(self)
        members, row, odd = self.extra.get(at, (None, None, None))
        name, stem, native = odd if odd is not None else self._named(at)
        return Found.from_fields(
            self.tools[self.tool[at]],
            self.folders[self.folder[at]],
            name,
            self.modes[self.mode[at]],
            stem,
            native,
            members,
            bytes(self.stats[at * _STAT.size : (at + 1) * _STAT.size]),
            row,
        )

    def _named(self, at: int) -> Named:
        flags = self.flags[at]
        data = bytes(self.text[self.ends[at - 1] if at else 0 : self.ends[at]])
        raw, _, rest = data.partition(_SPLIT)
        name = raw.decode("utf-8", "surrogateescape")
        native = rest.decode("utf-8", "surrogateescape") if flags & _NATIVE else None
        return name, bool(flags & _STEM), native

    def __iter__(self) -> Iterator[Found]:
        for at in range(len(self)):
            yield self[at]

    def size(self, at: int) -> int:
        return int(_STAT.unpack_from(self.stats, at * _STAT.size)[0])

    def total(self) -> int:
        """The bytes of every file."""
        return sum(self.size(at) for at in range(len(self)))

    def path(self, at: int) -> str:
        odd = self.extra.get(at, (None, None, None))[2]
        name = odd[0] if odd is not None else self._named(at)[0]
        return os.path.join(self.folders[self.folder[at]], name)  # noqa: PTH118  # as Found.path

    def sort(self) -> None:
        """In path order (as a list of Found sorted by path)."""
        order = sorted(range(len(self)), key=self.path)
        if order == list(range(len(self))):
            return
        other = Todo()
        other.tools, other.folders, other.modes, other._index = (
            self.tools,
            self.folders,
            self.modes,
            self._index,
        )
        size = _STAT.size
        for at in order:
            start = self.ends[at - 1] if at else 0
            other.text += self.text[start : self.ends[at]]
            other.ends.append(len(other.text))
            other.stats += self.stats[at * size : (at + 1) * size]
            if at in self.extra:
                other.extra[len(other.ends) - 1] = self.extra[at]
        for name in ("folder", "tool", "mode", "flags"):
            mine = getattr(self, name)
            setattr(other, name, array(mine.typecode, (mine[at] for at in order)))
        self.__dict__.update(other.__dict__)
