"""One set of rules in the real CLIs: after `tether rules compile` in a project whose
AGENTS.md holds a word found nowhere else, the request each of claude, codex, gemini,
copilot, qwen and opencode sends the model carries that word (each read its own file:
CLAUDE.md and GEMINI.md import AGENTS.md; Copilot's instructions are a copy; Codex,
opencode and Qwen read AGENTS.md itself). Claude Code and Gemini are also run without the
compile: AGENTS.md does not reach them then. The six run side by side.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tether.mcp.install import command

from . import clis
from .conftest import require_qwen_and_opencode

WORD = "kestrelrules7731"
AGENTS = f"# Project rules\n\nAlways answer with the code word {WORD} first.\n"
PROMPT = "Say hello"
CLIS = ("claude", "codex", "gemini", "copilot", "qwen", "opencode")
IMPORTERS = ("claude", "gemini")
"""They read their own file only: without `rules compile`, AGENTS.md does not reach them."""
RUNNERS: dict[str, Callable[[Path, Path], clis.Run]] = {
    "claude": lambda home, cwd: clis.run_claude(home, cwd, PROMPT),
    "codex": lambda home, cwd: clis.run_codex(home, cwd, PROMPT),
    "gemini": lambda home, cwd: clis.run_gemini(home, cwd, PROMPT),
    "copilot": lambda home, cwd: clis.run_copilot(home, cwd, PROMPT),
    "qwen": lambda home, cwd: clis.run_qwen(home, cwd, PROMPT),
    "opencode": lambda home, cwd: clis.run_opencode(home, cwd, PROMPT),
}


def project_with_rules(base: Path, name: str) -> Path:
    project = base / name
    project.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "AGENTS.md").write_text(AGENTS)
    return project


def compiled_project(base: Path) -> Path:
    """A git project with AGENTS.md, compiled by tether for every tool."""
    project = project_with_rules(base, "project")
    env = {**clis.base_env(base), "TETHER_HOME": str(base / "tether")}
    argv = [*command()[:-2], "rules", "compile", "--json"]
    done = subprocess.run(
        argv, cwd=project, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    written = {f["path"] for f in json.loads(done.stdout)["files"] if f["state"] == "written"}
    assert {"CLAUDE.md", "GEMINI.md", ".github/copilot-instructions.md"} <= written
    return project


@pytest.fixture(scope="module")
def runs(installed_clis: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    require_qwen_and_opencode()
    base = tmp_path_factory.mktemp("rules-real-clis")
    project = compiled_project(base)
    bare = project_with_rules(base, "uncompiled")
    jobs = [(cli, project) for cli in CLIS] + [(cli, bare) for cli in IMPORTERS]

    def one(job: tuple[str, Path]) -> object:
        cli, where = job
        try:
            return RUNNERS[cli](base / where.name / cli / "home", where)
        except (OSError, RuntimeError, ValueError) as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = list(pool.map(one, jobs))
    return {f"{cli}@{where.name}": run for (cli, where), run in zip(jobs, done, strict=True)}


@pytest.mark.e2e
@pytest.mark.parametrize("cli", CLIS)
def test_the_cli_sends_the_canonical_rules(runs: dict[str, object], cli: str) -> None:
    run = runs[f"{cli}@project"]
    assert isinstance(run, clis.Run), run
    requests = run.model_requests()
    assert run.proc.returncode == 0 and requests, run.describe()
    carrying = [r for r in requests if WORD in json.dumps(r.body)]
    assert carrying, f"no request of {cli} carries the rules\n{run.describe()}"


@pytest.mark.e2e
@pytest.mark.parametrize("cli", IMPORTERS)
def test_without_compile_the_rules_do_not_reach_it(runs: dict[str, object], cli: str) -> None:
    run = runs[f"{cli}@uncompiled"]
    assert isinstance(run, clis.Run), run
    assert run.proc.returncode == 0 and run.model_requests(), run.describe()
    assert not [r for r in run.model_requests() if WORD in json.dumps(r.body)]
