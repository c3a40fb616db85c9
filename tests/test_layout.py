"""The layout holds: imports run one way (commands -> features -> archive/tools -> model)
and no two modules import each other, however indirectly, lazily or only for types."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# What each part may import besides itself. The bottom (plain values and small helpers)
# imports no other part; `shim` is the entry point of shims an earlier tether installed.
BOTTOM = {"__init__", "model", "paths", "dates", "errors", "files", "statefile", "redact"}
BOTTOM |= {"controls", "terminal"}
ALLOWED: dict[str, set[str]] = {
    "bottom": set(),
    "tools": {"bottom"},
    "formats": {"bottom", "tools"},
    "archive": {"bottom", "tools", "formats"},
    "autoresume": {"bottom", "tools"},
    "capture": {"bottom", "tools", "formats", "archive"},
    "convert": {"bottom", "tools", "formats", "archive"},
    "teams": {"bottom", "tools", "formats", "archive", "capture", "convert"},
    "web": {"bottom", "tools", "formats", "archive", "convert", "teams"},
    "summary": {"bottom", "tools", "formats", "archive"},
    "mcp": {"bottom", "tools", "formats", "archive", "capture", "summary"},
    "rules": {"bottom", "tools"},
    # The sync client: push, pull, handoff; what it sends is redacted and chunked here.
    "sync": {"bottom", "tools", "formats", "archive", "capture", "convert"},
    # The server (an optional extra): only the chunk wire format is shared with the client;
    # it reads pushed files as capture reads any file, and serves the web pages and the MCP
    # tools over its own data.
    "server": {"bottom", "sync", "archive", "capture", "web", "mcp"},
    "commands": {
        *("bottom", "tools", "formats", "archive", "autoresume", "capture", "convert", "teams"),
        *("web", "summary", "mcp", "rules", "sync", "server"),
    },
    "cli": {"bottom", "commands"},
    "__main__": {"cli"},
    "shim": {"autoresume"},
}


def part(module: str) -> str:
    """The part of the product a module `tether.x.y` belongs to."""
    first = module.split(".")[1] if "." in module else "__init__"
    return "bottom" if first in BOTTOM else first


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "tether").rglob("*.py")):
        dotted = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """Every tether module this file imports, anywhere in it (function-level and type-only
    imports included: a lazy import is still a dependency)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        out |= {name for name in names if name in known}
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(path, known) - {name} for name, path in found.items()}


def test_every_module_belongs_to_a_known_part() -> None:
    assert {part(name) for name in graph()} <= set(ALLOWED)


def test_imports_run_one_way() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in sorted(targets)
        if part(target) != part(name) and part(target) not in ALLOWED[part(name)]
    ]
    assert wrong == []


def test_no_module_imports_itself_through_others() -> None:
    edges = {
        name: {t for t in targets if not _is_package_of(t, name)}
        for name, targets in graph().items()
    }
    cycles = [sorted(group) for group in _strongly_connected(edges) if len(group) > 1]
    assert cycles == []


def _is_package_of(package: str, module: str) -> bool:
    """`from tether.tools import launch` names the package too: not a dependency on its
    (empty) __init__ that could close a circle."""
    return module.startswith(package + ".")


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    for start, targets in edges.items():
        if start in index:
            continue
        work = [(start, iter(sorted(targets)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            child = next(pending, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [sorted(g) for g in _strongly_connected(edges) if len(g) > 1] == [["a", "b", "c"]]
