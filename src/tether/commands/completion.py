"""`tether completion SHELL`: shell completion for bash, zsh and fish.

The script is generated from the command tree (commands, options, what each argument and
option takes), so it knows every command without starting tether at each <Tab>. Session
ids, names and checkpoints come from the archive through a few lines of python that load
nothing but sqlite3 (bench/completion.py times them on the 10x corpus).
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from tether.tools import facts

SHELLS = ("bash", "zsh", "fish")
IDS_LIMIT = 50
RECENT = 30
IDS_CODE = f"""\
import sqlite3, sys
p, db = sys.argv[1], sys.argv[2]
q = db.replace('%', '%25').replace('?', '%3f').replace('#', '%23')
try:
    c = sqlite3.connect('file:' + q + '?mode=ro', uri=True)
except Exception:
    sys.exit(0)
out = []
def rows(sql, *args):
    try:
        out.extend(r[0] for r in c.execute(sql, args))
    except Exception:
        pass
top = p + '\\U0010ffff'
rows('SELECT name FROM names WHERE name >= ? AND name < ? ORDER BY name LIMIT 200', p, top)
if p:
    rows('SELECT native_id FROM sessions WHERE native_id >= ? AND native_id < ?'
         ' LIMIT {IDS_LIMIT}', p, top)
    h = p.lower()
    if len(h) < 64 and all(ch in '0123456789abcdef' for ch in h):
        rows('SELECT substr(id, 1, 12) FROM sessions WHERE id >= ? AND id < ? LIMIT {IDS_LIMIT}',
             h, h + 'g')
else:
    rows('SELECT native_id FROM sessions ORDER BY updated_at DESC LIMIT {RECENT}')
sys.stdout.write('\\n'.join(dict.fromkeys(x for x in out if x and x.startswith(p))) + '\\n')
"""
"""Prints the names, native ids and short tether ids that start with argv[1], from the
archive at argv[2], read-only; nothing at all on any trouble."""


@dataclass
class Spec:
    """What one command (`show`, `team start`) takes, as completion needs it."""

    path: str
    subcommands: list[tuple[str, str]] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    """(option, help)"""
    valued: dict[str, str] = field(default_factory=dict)
    """option -> what its value is: tool, id, path, dir, shell, choice:a b c, any"""
    positional: list[str] = field(default_factory=list)
    repeats: bool = False
    """The last positional kind repeats (nargs=-1)."""


def kind_of(param: click.Parameter) -> str:
    """What a parameter's value is, for completion."""
    name = param.name or ""
    if name == "ident":
        return "id"
    if name in ("tool", "target", "tools"):
        return "tool"
    if name == "shell":
        return "shell"
    if isinstance(param.type, click.Choice):
        return "choice:" + " ".join(str(c) for c in param.type.choices)
    if isinstance(param.type, click.Path):
        return "dir" if not param.type.file_okay else "path"
    return "any"


def specs(root: click.Group) -> list[Spec]:
    """Every command of the tree, each with what it takes."""
    out: list[Spec] = []
    ctx = click.Context(root, info_name="tether")

    def walk(command: click.Command, path: str) -> None:
        spec = Spec(path)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is None or sub.hidden:
                    continue
                spec.subcommands.append((name, sub.get_short_help_str(60)))
                walk(sub, f"{path} {name}".strip())
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                words = [*param.opts, *param.secondary_opts]
                spec.options.extend((word, (param.help or "").split(".")[0]) for word in words)
                if not param.is_flag and not param.count:
                    spec.valued.update(dict.fromkeys(param.opts, kind_of(param)))
            elif isinstance(param, click.Argument):
                spec.positional.append(kind_of(param))
                spec.repeats = param.nargs == -1
        out.append(spec)

    walk(root, "")
    return out


def script(
    root: click.Group, shell: str, python: str, database: str, home_var: str = "TETHER_HOME"
) -> str:
    """The completion script for `shell` (bash, zsh or fish) of the command tree `root`."""
    every = specs(root)
    if shell == "fish":
        return fish(every, python, database, home_var)
    body = bash(every, python, database, home_var)
    if shell == "zsh":
        return ZSH_PRELUDE + body
    return body


def _words(kind: str) -> str:
    if kind == "tool":
        return " ".join(facts.NAMES)
    if kind == "shell":
        return " ".join(SHELLS)
    return kind.removeprefix("choice:") if kind.startswith("choice:") else ""


def _bash_case(pairs: list[tuple[str, str]]) -> str:
    lines = [
        f"        {shlex.quote(key)}) printf '%s\\n' {shlex.quote(value)} ;;"
        for key, value in pairs
    ]
    return "\n".join(lines)


def bash(every: list[Spec], python: str, database: str, home_var: str) -> str:
    subs = [(s.path, " ".join(n for n, _ in s.subcommands)) for s in every if s.subcommands]
    opts = [(s.path, " ".join(o for o, _ in s.options)) for s in every]
    valued = [(f"{s.path}|{o}", k) for s in every for o, k in s.valued.items()]
    positional = [(f"{s.path}|{i}", k) for s in every for i, k in enumerate(s.positional)]
    repeats = [(f"{s.path}|+", s.positional[-1]) for s in every if s.repeats and s.positional]
    db = f'"${{{home_var}:-{_sh_default(database)}}}/tether.db"'
    return BASH.format(
        python=shlex.quote(python),
        code=shlex.quote(IDS_CODE),
        db=db,
        subs=_bash_case(subs),
        opts=_bash_case(opts),
        valued=_bash_case(valued),
        positional=_bash_case([*positional, *repeats]),
        tools=" ".join(facts.NAMES),
        shells=" ".join(SHELLS),
    )


def _sh_default(folder: str) -> str:
    """A folder as the default of a ${VAR:-…} expansion inside double quotes."""
    return "".join("\\" + ch if ch in '"$`\\}' else ch for ch in folder)


ZSH_PRELUDE = """\
(( $+functions[compdef] )) || {{ autoload -U +X compinit && compinit -u; }}
autoload -U +X bashcompinit && bashcompinit
""".replace("{{", "{").replace("}}", "}")
BASH = """\
# tether completion (bash); generated by `tether completion bash`, regenerated by `tether init`
_tether_ids() {{
    {python} -I -S -c {code} "$1" {db} 2>/dev/null
}}
_tether_subs() {{
    case "$1" in
{subs}
    esac
}}
_tether_opts() {{
    case "$1" in
{opts}
    esac
}}
_tether_valued() {{
    case "$1" in
{valued}
        *) return 1 ;;
    esac
}}
_tether_positional() {{
    case "$1" in
{positional}
        *) return 1 ;;
    esac
}}
_tether_complete_kind() {{
    local kind=$1 cur=$2
    case "$kind" in
        id) COMPREPLY=($(compgen -W "$(_tether_ids "$cur")" -- "$cur")) ;;
        tool) COMPREPLY=($(compgen -W "{tools}" -- "$cur")) ;;
        shell) COMPREPLY=($(compgen -W "{shells}" -- "$cur")) ;;
        path) COMPREPLY=($(compgen -f -- "$cur")) ;;
        dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
        choice:*) COMPREPLY=($(compgen -W "${{kind#choice:}}" -- "$cur")) ;;
        *) COMPREPLY=() ;;
    esac
}}
_tether() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} cmd="" pos=0 i=1 w kind subs
    while [ "$i" -lt "$COMP_CWORD" ]; do
        w=${{COMP_WORDS[i]}}
        case "$w" in
            -*=*) ;;
            -*) if _tether_valued "$cmd|$w" >/dev/null; then i=$((i + 1)); fi ;;
            *)
                subs=" $(_tether_subs "$cmd") "
                if [ "$pos" -eq 0 ] && [ "${{subs#* $w }}" != "$subs" ]; then
                    cmd="${{cmd:+$cmd }}$w"
                else
                    pos=$((pos + 1))
                fi
                ;;
        esac
        i=$((i + 1))
    done
    w=${{COMP_WORDS[COMP_CWORD - 1]}}
    if [ "$COMP_CWORD" -gt 1 ] && kind=$(_tether_valued "$cmd|$w"); then
        _tether_complete_kind "$kind" "$cur"
        return 0
    fi
    case "$cur" in
        -*) COMPREPLY=($(compgen -W "$(_tether_opts "$cmd")" -- "$cur")); return 0 ;;
    esac
    subs=$(_tether_subs "$cmd")
    if [ -n "$subs" ] && [ "$pos" -eq 0 ]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    if kind=$(_tether_positional "$cmd|$pos") || kind=$(_tether_positional "$cmd|+"); then
        _tether_complete_kind "$kind" "$cur"
    fi
    return 0
}}
complete -o default -F _tether tether
"""


def fish(every: list[Spec], python: str, database: str, home_var: str) -> str:
    lines = [
        "# tether completion (fish); generated by `tether completion fish`",
        "complete -c tether -f",
        "function __tether_ids",
        f"    set -l db (set -q {home_var}; and echo ${home_var}; or echo {_fish_quote(database)})",
        f"    {_fish_quote(python)} -I -S -c {_fish_quote(IDS_CODE)}"
        " (commandline -ct) $db/tether.db 2>/dev/null",
        "end",
    ]
    top = {s.path: s for s in every}
    for spec in every:
        seen = _fish_seen(spec.path, top)
        names = " ".join(n for n, _ in spec.subcommands)
        for name, help_text in spec.subcommands:
            condition = (
                "__fish_use_subcommand"
                if not spec.path
                else f"{seen}; and not __fish_seen_subcommand_from {names}"
            )
            lines.append(
                f"complete -c tether -n {_fish_quote(condition)} -a {_fish_quote(name)}"
                f" -d {_fish_quote(help_text)}"
            )
        if not spec.path:
            continue
        for option, help_text in spec.options:
            flag = f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}"
            kind = spec.valued.get(option)
            extra = f" -r {_fish_values(kind)}" if kind else ""
            lines.append(
                f"complete -c tether -n {_fish_quote(seen)} {flag}{extra}"
                f" -d {_fish_quote(help_text)}"
            )
        kinds = set(spec.positional)
        for kind in sorted(kinds):
            values = _fish_values(kind)
            if values:
                lines.append(f"complete -c tether -n {_fish_quote(seen)} {values}")
    return "\n".join(lines) + "\n"


def _fish_seen(path: str, top: dict[str, Spec]) -> str:
    words = path.split()
    if not words:
        return "__fish_use_subcommand"
    return "; and ".join(f"__fish_seen_subcommand_from {w}" for w in words)


def _fish_values(kind: str | None) -> str:
    if kind == "id":
        return "-a '(__tether_ids)'"
    if kind in ("path", "dir"):
        return "-F"
    words = _words(kind or "")
    return f"-a {_fish_quote(words)}" if words else ""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def default_database() -> str:
    """The folder of the archive when $TETHER_HOME is unset, as this tether finds it."""
    import os

    from tether.paths import tether_home

    env = {k: v for k, v in os.environ.items() if k != "TETHER_HOME"}
    try:
        return str(tether_home(env))
    except RuntimeError:  # under tests, where the real data dir is off limits
        return str(tether_home())


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (`tether init` includes it).

    \b
      source <(tether completion bash)        # in ~/.bashrc (zsh: ~/.zshrc)
      tether completion fish | source         # in ~/.config/fish/config.fish
    """
    sys.stdout.write(script(_root(), shell, sys.executable, default_database()))


def _root() -> click.Group:
    """The command tree this command runs in (commands never import the CLI itself)."""
    root = click.get_current_context().find_root().command
    assert isinstance(root, click.Group)
    return root


def for_init(shell: str, folder: Path) -> str:
    """What `tether init SHELL` adds: a line that sources the script, kept in `folder`
    (tether's data folder) and written again when this tether or its python is another
    one than wrote it (making it takes a while: a new shell should not pay for it)."""
    import tether

    path = folder / f"completion.{shell}"
    mark = f"# tether {tether.__version__} {sys.executable}\n"
    try:
        current = path.read_text(errors="replace").startswith(mark)
    except OSError:
        current = False
    if not current:
        from tether.statefile import write_atomic

        text = mark + script(_root(), shell, sys.executable, default_database())
        write_atomic(str(path), text, mode=0o600, sync=False)
    return f"source {shlex.quote(str(path))}\n"
