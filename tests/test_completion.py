"""Shell completion: the bash script completes commands, subcommands, options, tool names
and, from the archive, session ids, names and checkpoints; zsh loads the same through
bashcompinit; fish's script is valid fish. `tether init` sources a kept copy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run
from tests.stores import CLAUDE_ID, CODEX_ID, place_claude, place_codex

COMPLETE = """
source "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_tether
printf '%s\\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def script(isolated_home: Path, tmp_path: Path) -> Path:
    place_claude(isolated_home)
    place_codex(isolated_home)
    run("scan")
    run("alias", CLAUDE_ID, "review-one")
    run("checkpoint", CODEX_ID, "codex-point")
    path = tmp_path / "tether.bash"
    path.write_text(run("completion", "bash").stdout)
    return path


def complete(script: Path, *words: str) -> list[str]:
    done = subprocess.run(
        ["bash", "-c", COMPLETE, "bash", str(script), "tether", *words],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_bash_completes_commands_options_tools_and_sessions(script: Path) -> None:
    assert {"show", "alias", "checkpoint", "storage", "prune", "completion"} <= set(
        complete(script, "")
    )
    assert complete(script, "ch") == ["checkpoint"]
    assert complete(script, "team", "") == ["list", "move", "resume", "start", "status", "stop"]
    assert "--json" in complete(script, "show", "--")
    assert complete(script, "list", "--tool", "cl") == ["claude", "cline"]
    assert complete(script, "convert", "x", "--to", "ki") == ["kilo"]
    assert complete(script, "shim", "install", "cu") == ["cursor"]
    assert complete(script, "export", "x", "--format", "") == ["md", "json", "html"]
    assert complete(script, "completion", "") == ["bash", "zsh", "fish"]
    # sessions: names and checkpoints, native ids, short tether ids
    assert complete(script, "show", "rev") == ["review-one"]
    assert complete(script, "resume", "codex-") == ["codex-point"]
    assert complete(script, "show", "70fc") == ["70fc6d83-147d-4fdf-b015-bd67eeb11883"]
    everything = complete(script, "fork", "")
    assert {"review-one", "codex-point", CLAUDE_ID, CODEX_ID} <= set(everything)
    assert complete(script, "show", "zzz") == []


def test_a_broken_archive_completes_nothing_and_says_nothing(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", "-c", COMPLETE, "bash", str(script), "tether", "show", ""],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TETHER_HOME": str(tmp_path / "nowhere")},
    )
    assert done.stdout.split() == [] and done.stderr == ""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_it(isolated_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "tether.zsh"
    path.write_text(run("completion", "zsh").stdout)
    done = subprocess.run(
        ["zsh", "-c", f"source {path}; whence -w _tether"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "function" in done.stdout, done.stderr


def test_fish_script_is_fish(isolated_home: Path, tmp_path: Path) -> None:
    text = run("completion", "fish").stdout
    assert "complete -c tether -n '__fish_use_subcommand' -a 'checkpoint'" in text
    assert "__tether_ids" in text
    if shutil.which("fish"):
        path = tmp_path / "tether.fish"
        path.write_text(text)
        subprocess.run(["fish", "--no-execute", str(path)], check=True)


def test_init_sources_a_kept_copy(isolated_home: Path, tmp_path: Path) -> None:
    lines = run("init", "bash").stdout
    [source] = [line for line in lines.splitlines() if line.startswith("source ")]
    kept = Path(source.split(" ", 1)[1])
    assert kept.is_file() and "_tether()" in kept.read_text()
    stamp = kept.stat().st_mtime_ns
    run("init", "bash")
    assert kept.stat().st_mtime_ns == stamp  # current: not written again
