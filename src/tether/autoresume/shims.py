"""The auto-resume shims: small launchers in tether's own folder, first on PATH.

No installed binary is renamed, moved or replaced: a shim finds the real tool further down
PATH at every launch, so the tool's own updater cannot break it, and uninstalling is
deleting the folder. A shim is a POSIX sh script that execs `python -I -S` on tether's
stdlib-only hot path (tether.autoresume.launcher); when that python or tether is gone, the
script still runs the real tool.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import tether
from tether.autoresume import fastfile
from tether.files import replace
from tether.tools import facts, launch
from tether.tools.launch import SHIM_MARK, SHIM_VERSION, find_real, is_shim, is_stale

if TYPE_CHECKING:
    from tether.tools.facts import LaunchSpec

SHELLS = ("bash", "zsh", "fish")
HOT_MODULES = (
    "__init__",
    "shim",
    "statefile",
    "files",
    "errors",
    "autoresume/__init__",
    "autoresume/launcher",
    "autoresume/plan",
    "autoresume/fastfile",
    "tools/__init__",
    "tools/launch",
    "tools/facts/__init__",
    *(f"tools/facts/{tool}" for tool in facts.NAMES),
)
"""The modules a launch imports (tether/shim.py: the entry point of shims that an earlier
tether installed)."""

SCRIPT = """\
#!/bin/sh
@MARK@: @TOOL@
@VERSION_MARK@
# Puts `@BINARY@` on this project's own session (see `tether status`); the real @BINARY@ is
# the next one on PATH, untouched. Remove: `tether shim uninstall @TOOL@`, or delete this folder.
_tether_fast() {
    # A plain launch whose session tether's python path has checked and left a fast file for
    # (tether.autoresume.fastfile): resume it without starting python. Any doubt: return,
    # python decides.
    _tether_real=
    _tether_ifs=$IFS
    set -f
    IFS=:
    for _tether_d in ${PATH-}; do
        if [ -n "$_tether_d" ] && [ "${_tether_d%/}" != @SHIM_DIR@ ] \\
            && [ -f "$_tether_d/@BINARY@" ] && [ -x "$_tether_d/@BINARY@" ]; then
            _tether_real=$_tether_d/@BINARY@
            break
        fi
    done
    IFS=$_tether_ifs
    set +f
    [ -n "$_tether_real" ] && [ -n "${HOME-}" ] && cd -P . 2>/dev/null || return 1
    _tether_root=$PWD
    _tether_d=$PWD
    while :; do
        if [ -e "$_tether_d/.git" ] || [ -h "$_tether_d/.git" ]; then
            _tether_root=${_tether_d:-/}
            break
        fi
        [ -n "$_tether_d" ] || break
        _tether_d=${_tether_d%/*}
    done
    _tether_state=$_tether_root/.tether/autoresume/@TOOL@.json
    _tether_cache=@FAST_DIR@/@TOOL@$_tether_root.fast
    [ -f "$_tether_cache" ] && [ -f "$_tether_state" ] && [ ! -h "$_tether_state" ] \\
        && [ ! "$_tether_state" -nt "$_tether_cache" ] || return 1
    {
        IFS= read -r _tether_l && [ "$_tether_l" = "@MAGIC@" ] \\
            && IFS= read -r _tether_l && [ "$_tether_l" = "root=$_tether_root" ] \\
            && IFS= read -r _tether_l && [ "$_tether_l" = "home=$HOME" ] \\
            && IFS= read -r _tether_l && [ "$_tether_l" = "store=@STORE@" ] \\
            && IFS= read -r _tether_l && [ "$_tether_l" = "real=$_tether_real" ] \\
            && IFS= read -r _tether_id && IFS= read -r _tether_file || return 1
    } 2>/dev/null <"$_tether_cache" || return 1
    case $_tether_id in id=?*) _tether_id=${_tether_id#id=} ;; *) return 1 ;; esac
    case $_tether_file in file=/?*) _tether_file=${_tether_file#file=} ;; *) return 1 ;; esac
    [ -f "$_tether_file" ] && cd -P "$_tether_root" 2>/dev/null || return 1
    printf '%s\\n' "tether: @TOOL@: resuming session $_tether_id ($_tether_root)" >&2
    @RESTORE@
    exec "$_tether_real" @RESUME@ "$@"
}
_tether_plain() {
    # Arguments python would put after the resume flags as they are: none of the tool's
    # own session choices, headless flags or command words (anywhere before --: a word
    # that may be one sends the launch to python, which tells them apart).
    for _tether_a in "$@"; do
        case $_tether_a in
        --) return 0 ;;
        @NOT_PLAIN@) return 1 ;;
        esac
    done
    return 0
}
if [ -z "${TETHER_AUTORESUME-}" ] && _tether_plain "$@"; then
    _tether_pwd=$PWD
    _tether_oldpwd=${OLDPWD-}
    _tether_oldpwd_set=${OLDPWD+x}
    _tether_fast "$@"
    @RESTORE@
fi
if [ -x @PYTHON@ ] && [ -f @HOT@ ]; then
    exec @PYTHON@ -I -S -c @CODE@ @TOOL@ "$@"
fi
echo "tether: "@PYTHON@" is gone: running @BINARY@ without auto-resume" >&2
set -f
IFS=:
for dir in $PATH; do
    if [ -n "$dir" ] && [ "$dir" != @SHIM_DIR@ ] && [ -f "$dir/@BINARY@" ] \\
        && [ -x "$dir/@BINARY@" ] && ! grep -q '^@MARK@' "$dir/@BINARY@" 2>/dev/null; then
        exec "$dir/@BINARY@" "$@"
    fi
done
echo "tether: @BINARY@: not found on PATH" >&2
exit 127
"""
RESTORE = (
    'PWD=$_tether_pwd; if [ -n "$_tether_oldpwd_set" ]; then OLDPWD=$_tether_oldpwd;'
    " else unset OLDPWD; fi"
)
"""Puts back the variables `cd` changes: the tool gets the environment the python path
gives it (which changes the folder, not $PWD)."""


@dataclass(frozen=True)
class ShimRow:
    """One tool's shim: where it is (None: not installed), and the real binary it runs."""

    tool: str
    shim: str | None
    real: str | None
    active: bool
    """`binary` on PATH is this shim: a launch in a shell goes through it."""

    def as_dict(self) -> dict[str, object]:
        return {"tool": self.tool, "shim": self.shim, "real": self.real, "active": self.active}


def shim_path(folder: Path, tool: str) -> Path:
    """A tool's shim: named as its binary (`agy`, `cursor-agent`), which it stands in for."""
    return folder / launch.binary(tool)


def package_parent() -> Path:
    """The folder that holds the `tether` package (site-packages, or src/ when editable)."""
    return Path(tether.__file__).resolve().parent.parent


def script(tool: str, folder: Path, python: str, parent: Path) -> str:
    """The shim for `tool` in `folder`, running tether from `parent` with `python`."""
    code = f"import sys; sys.path.insert(0, {str(parent)!r}); "
    code += f"from tether.autoresume.launcher import main; main({str(folder)!r})"
    spec = launch.spec(tool)
    store = ":".join(f"${{{name}-}}" for name in facts.get(tool).STORE_VARIABLES)
    fills = {
        "@MARK@": SHIM_MARK,
        "@VERSION_MARK@": SHIM_VERSION,
        "@TOOL@": tool,
        "@BINARY@": spec["binary"],
        "@PYTHON@": shlex.quote(python),
        "@HOT@": shlex.quote(str(parent / "tether" / "autoresume" / "launcher.py")),
        "@CODE@": shlex.quote(code),
        "@SHIM_DIR@": shlex.quote(str(folder)),
        "@FAST_DIR@": shlex.quote(str(folder / fastfile.FOLDER)),
        "@MAGIC@": fastfile.MAGIC,
        "@STORE@": store,
        "@RESUME@": " ".join(_sh_word(word) for word in spec["resume"]),
        "@NOT_PLAIN@": not_plain(spec),
        "@RESTORE@": RESTORE,
    }
    text = SCRIPT
    for placeholder, value in fills.items():
        text = text.replace(placeholder, value)
    return text


def not_plain(spec: LaunchSpec) -> str:
    """A sh `case` pattern for the arguments that need python's decision: the tool's own
    session choices, headless flags (also as `--flag=value`) and command words."""
    flags = [*spec["passthrough_flags"], *spec["headless_flags"]]
    words = [*spec["subcommands"], *(w for w in spec["headless_flags"] if not w.startswith("-"))]
    patterns = [p for flag in flags if flag.startswith("-") for p in (flag, f"{flag}=*")]
    patterns += words
    unsafe = [p for p in patterns if not all(c.isalnum() or c in "-_=*." for c in p)]
    if unsafe:
        raise ValueError(f"not a plain sh pattern: {unsafe}")
    if spec.get("positional_prompt") == "headless":
        patterns.append("[!-]*")  # a prompt, or a flag's value: python tells them apart
    return "|".join(dict.fromkeys(patterns)) or "''"


def _sh_word(template: str) -> str:
    """One word of a resume template as sh: literal parts quoted, "{id}" the session's id."""
    parts = [shlex.quote(part) if part else "" for part in template.split("{id}")]
    return '"$_tether_id"'.join(parts)


def heal(folder: Path) -> list[Path]:
    """Rewrite the shims an earlier tether installed in `folder` (their fast path trusted
    a file in the project; see tether.autoresume.fastfile); the paths rewritten. Cheap when
    there is nothing to do: one short read per shim."""
    by_binary = {launch.binary(tool): tool for tool in facts.able("autoresume")}
    stale = [
        by_binary[path.name]
        for path in sorted(folder.glob("*"))
        if path.name in by_binary and is_stale(str(path))
    ]
    return install(stale, folder) if stale else []


def install(tools: list[str], folder: Path, python: str | None = None) -> list[Path]:
    """Write a shim for each tool (replacing an older shim of tether's); their paths."""
    python = python or sys.executable
    parent = package_parent()
    _precompile(parent / "tether")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for tool in tools:
        path = shim_path(folder, tool)
        if path.exists() and not is_shim(str(path)):
            raise FileExistsError(f"{path} exists and is not a tether shim: left as it is")
        replace(path, script(tool, folder, python, parent).encode(), mode=0o755)
        written.append(path)
    return written


def uninstall(tools: list[str], folder: Path) -> list[Path]:
    """Remove the shims of these tools (only files that are tether shims); what went."""
    removed = []
    for tool in tools:
        path = shim_path(folder, tool)
        if path.is_file() and is_shim(str(path)):
            path.unlink()
            removed.append(path)
    return removed


def rows(folder: Path, path_env: str) -> list[ShimRow]:
    """Every tool that can auto-resume: its shim, its real binary, whether the shim is active."""
    out = []
    for tool in facts.able("autoresume"):
        binary = launch.binary(tool)
        path = shim_path(folder, tool)
        installed = path.is_file() and is_shim(str(path))
        out.append(
            ShimRow(
                tool=tool,
                shim=str(path) if installed else None,
                real=find_real(binary, str(folder), path_env),
                active=installed and _same(_first_on_path(binary, path_env), path),
            )
        )
    return out


def found_on_path(folder: Path, path_env: str) -> list[str]:
    """The tools whose real binary is on PATH (tether's own folder skipped)."""
    return [
        tool
        for tool in facts.able("autoresume")
        if find_real(launch.binary(tool), str(folder), path_env)
    ]


def on_path(folder: Path, path_env: str) -> bool:
    return any(_same(Path(entry), folder) for entry in path_env.split(os.pathsep) if entry)


def init_lines(shell: str, folder: Path) -> str:
    """What `eval "$(tether init SHELL)"` runs: the shim folder first on PATH, once."""
    if shell == "fish":
        quoted = "'" + str(folder).replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"if not contains -- {quoted} $PATH\n    set -gx PATH {quoted} $PATH\nend\n"
    quoted = shlex.quote(str(folder))
    return (
        f'case ":$PATH:" in *:{quoted}:*) ;; *) export PATH={quoted}:"$PATH" ;; esac\n'
        "hash -r 2>/dev/null || true\n"
    )


def _first_on_path(binary: str, path_env: str) -> Path | None:
    for entry in path_env.split(os.pathsep):
        candidate = Path(entry or ".") / binary
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _same(a: Path | None, b: Path) -> bool:
    if a is None:
        return False
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _precompile(package: Path) -> None:
    """Write the hot path's bytecode now, so no launch has to compile it."""
    import py_compile

    for name in HOT_MODULES:
        try:
            py_compile.compile(str(package / f"{name}.py"), doraise=True)
        except (OSError, py_compile.PyCompileError):
            continue  # a read-only install: python compiles in memory, a little slower
