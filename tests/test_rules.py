"""`tether rules`: AGENTS.md compiled into every tool's own files, deterministic, marked,
never over a file tether did not write, and `check` failing on what is stale or edited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run
from tether.rules.compile import state
from tether.rules.sources import BadRuleFile, parse

AGENTS = "# Shop\n\nRun the tests with `make test`. The deploy word is kestrel-lantern.\n"
PYTHON_RULE = (
    '---\ndescription: Python style\nglobs: ["src/**/*.py", "tests/*.py"]\n---\nType hints.\n'
)
CLAUDE_RULE = "---\ntargets: [claude-code]\n---\nClaude only: be brief.\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shop"
    (root / ".git").mkdir(parents=True)
    (root / ".agents" / "rules").mkdir(parents=True)
    (root / "AGENTS.md").write_text(AGENTS)
    (root / ".agents" / "rules" / "python.md").write_text(PYTHON_RULE)
    (root / ".agents" / "rules" / "claude-only.md").write_text(CLAUDE_RULE)
    monkeypatch.chdir(root / ".agents")  # any folder of the project
    return root


def rules(*args: str, ok: bool = True) -> dict[str, object]:
    result = run("rules", *args, "--json", ok=ok)
    return json.loads(result.stdout) if result.stdout.strip() else {"code": result.exit_code}


def statuses(report: dict[str, object]) -> dict[str, str]:
    return {f["path"]: f["state"] for f in report["files"]}  # type: ignore[attr-defined,index]


def test_compile_writes_every_tool_its_own_file(project: Path) -> None:
    report = rules("compile")
    assert report["project"] == str(project)
    assert set(statuses(report).values()) == {"written"}
    assert set(statuses(report)) == {
        "CLAUDE.md",
        ".claude/rules/python.md",
        "GEMINI.md",
        ".github/copilot-instructions.md",
        ".github/instructions/python.instructions.md",
        ".cursor/rules/python.mdc",
        ".clinerules/agents.md",
        ".roo/rules/agents.md",
        ".kilocode/rules/agents.md",
        "CONVENTIONS.md",
        ".aider.conf.yml",
    }
    claude = (project / "CLAUDE.md").read_text()
    assert claude.splitlines()[0].startswith("<!-- tether-managed:")
    assert "\n@AGENTS.md\n" in claude and "Claude only: be brief." in claude
    assert "Type hints" not in claude  # a path rule: its own file, scoped
    assert (
        (project / ".claude/rules/python.md")
        .read_text()
        .startswith('---\npaths:\n  - "src/**/*.py"\n  - "tests/*.py"\n---\n<!-- tether-managed')
    )
    assert "@AGENTS.md" in (project / "GEMINI.md").read_text()
    assert "Claude only" not in (project / "GEMINI.md").read_text()
    copilot = (project / ".github/copilot-instructions.md").read_text()
    assert "kestrel-lantern" in copilot and "Type hints" not in copilot
    scoped = (project / ".github/instructions/python.instructions.md").read_text()
    assert scoped.startswith('---\napplyTo: "src/**/*.py,tests/*.py"\n---\n')
    mdc = (project / ".cursor/rules/python.mdc").read_text()
    assert mdc.startswith('---\ndescription: "Python style"\nglobs: src/**/*.py,tests/*.py\n')
    roo = (project / ".roo/rules/agents.md").read_text()
    assert "kestrel-lantern" in roo and "for files matching `src/**/*.py`" in roo
    assert "read:\n  - CONVENTIONS.md" in (project / ".aider.conf.yml").read_text()
    # deterministic: again, nothing changes
    before = {p: (project / p).read_bytes() for p in statuses(report)}
    assert set(statuses(rules("compile")).values()) == {"unchanged"}
    assert {p: (project / p).read_bytes() for p in before} == before
    assert set(statuses(rules("check")).values()) == {"unchanged"}


def test_check_fails_on_stale_edited_and_missing_files(project: Path) -> None:
    rules("compile")
    (project / "AGENTS.md").write_text(AGENTS + "\nA new rule.\n")
    gemini = project / "GEMINI.md"
    gemini.write_text(gemini.read_text() + "my own line\n")
    (project / ".roo/rules/agents.md").unlink()
    result = run("rules", "check", "--json", ok=False)
    assert result.exit_code == 1
    found = statuses(json.loads(result.stdout))
    assert found["GEMINI.md"] == "edited" and found[".roo/rules/agents.md"] == "missing"
    assert found[".github/copilot-instructions.md"] == "stale"
    assert found["CLAUDE.md"] == "unchanged"  # it imports AGENTS.md: never stale
    compiled = statuses(rules("compile"))
    assert compiled["GEMINI.md"] == "edited"  # an edit by hand is not overwritten
    assert "my own line" in gemini.read_text()
    assert compiled[".github/copilot-instructions.md"] == "written"
    gemini.unlink()
    rules("compile")
    assert run("rules", "check").exit_code == 0


def test_a_file_tether_did_not_write_is_never_overwritten(project: Path) -> None:
    (project / "CLAUDE.md").write_text("# Mine\nHand written.\n")
    report = rules("compile", "--for", "claude")
    assert statuses(report)["CLAUDE.md"] == "not_ours"
    assert (project / "CLAUDE.md").read_text() == "# Mine\nHand written.\n"
    assert run("rules", "check", "--for", "claude", ok=False).exit_code == 1
    assert state("# Mine\n") == "not_ours" and state(None) == "missing"


def test_init_imports_what_the_tools_files_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "old"
    (root / ".github").mkdir(parents=True)
    (root / "CLAUDE.md").write_text("Use tabs.\n")
    (root / ".github" / "copilot-instructions.md").write_text("Prefer small PRs.\n")
    monkeypatch.chdir(root)
    made = rules("init")
    assert made == {"path": str(root / "AGENTS.md"), "imported": [
        "CLAUDE.md", ".github/copilot-instructions.md"]}  # fmt: skip
    text = (root / "AGENTS.md").read_text()
    assert "Use tabs." in text and "Prefer small PRs." in text
    assert rules("init")["imported"] == []  # AGENTS.md is kept as it is
    assert (root / "AGENTS.md").read_text() == text


def test_removed_rules_take_their_files_and_limits_warn(project: Path) -> None:
    rules("compile")
    (project / ".agents/rules/python.md").unlink()
    report = rules("compile")
    assert statuses(report)[".cursor/rules/python.mdc"] == "removed"
    assert not (project / ".cursor/rules/python.mdc").exists()
    (project / "AGENTS.md").write_text(AGENTS + "x" * 40_000)
    (project / ".agents/rules/codex.md").write_text("---\ntargets: [codex]\n---\nCodex only.\n")
    (project / ".agents/rules/qwen.md").write_text("---\ntargets: [qwen]\n---\nQwen only.\n")
    compiled = rules("compile")
    assert (project / "QWEN.md").read_text().endswith("## Qwen\n\nQwen only.\n")
    assert "kestrel-lantern" not in (project / "QWEN.md").read_text()  # it reads AGENTS.md
    assert statuses(compiled)["QWEN.md"] == "written"
    warnings = rules("compile", "--for", "codex")["warnings"]
    assert any("first 32 KiB" in w for w in warnings), warnings
    assert any("codex.md" in w for w in warnings), warnings


def test_no_agents_md_and_bad_rule_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("rules", "compile", ok=False).exit_code == 4
    assert run("rules", "compile", "--for", "amp", ok=False).exit_code == 2
    with pytest.raises(BadRuleFile):
        parse(Path("x.md"), "---\nwhen: always\n---\nbody")
    with pytest.raises(BadRuleFile):
        parse(Path("x.md"), "---\ntargets: [claude]\nbody")
    rule = parse(Path("Style.md"), "---\ntargets:\n  - gemini-cli\n  - codex\n---\nbody\n")
    assert rule.targets == ("gemini", "codex") and rule.name == "style" and rule.body == "body"


def test_resume_says_when_the_tool_would_not_see_the_rules(
    project: Path, isolated_home: Path
) -> None:
    from tests.stores import CLAUDE_ID, place_claude

    place_claude(isolated_home)
    where = ("--cwd", str(project), "--print", "--anyway")
    gemini = run("resume", CLAUDE_ID, "--in", "gemini", *where)
    assert "gemini would not see this project's AGENTS.md" in gemini.stderr
    assert "GEMINI.md (missing)" in gemini.stderr and "tether rules compile" in gemini.stderr
    rules("compile")
    assert "note:" not in run("resume", CLAUDE_ID, "--in", "gemini", *where).stderr
    (project / "AGENTS.md").unlink()
    (project / "CLAUDE.md").unlink()
    (project / "CLAUDE.md").write_text("Use tabs.\n")
    codex = run("resume", CLAUDE_ID, "--in", "codex", *where)
    assert "codex does not read this project's rules (CLAUDE.md)" in codex.stderr


def test_nothing_is_written_or_removed_through_a_link_out_of_the_project(
    project: Path, tmp_path: Path
) -> None:
    """A cloned project may commit `.cursor/rules` as a link to a folder of yours, or
    CLAUDE.md as a link to a file of yours: compile writes and removes nothing through it."""
    yours = tmp_path / "yours"
    yours.mkdir()
    (yours / "keep.txt").write_text("mine\n")
    (project / ".cursor").mkdir()
    (project / ".cursor" / "rules").symlink_to(yours)
    elsewhere = tmp_path / "elsewhere.md"
    (project / "CLAUDE.md").symlink_to(elsewhere)
    report = rules("compile", ok=False)
    found = statuses(report)
    assert found[".cursor/rules/python.mdc"] == "outside" and found["CLAUDE.md"] == "outside"
    assert sorted(p.name for p in yours.iterdir()) == ["keep.txt"] and not elsewhere.exists()
    assert found["GEMINI.md"] == "written"  # the rest of the project still compiles


def test_a_rule_file_that_is_a_link_out_of_the_project_is_never_read(
    project: Path, tmp_path: Path
) -> None:
    """A clone's AGENTS.md or CLAUDE.md linked to a private file of yours would have its text
    copied into files of the project (which get committed): tether reads nothing through it."""
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = hunter2hunter2\n")
    (project / "AGENTS.md").unlink()
    (project / "CLAUDE.md").symlink_to(secret)
    run("rules", "init")
    assert "hunter2" not in (project / "AGENTS.md").read_text()
    (project / "AGENTS.md").unlink()
    (project / "AGENTS.md").symlink_to(secret)
    refused = run("rules", "compile", ok=False)
    assert refused.exit_code == 3 and "link out of the project" in refused.output
    assert not any("hunter2" in p.read_text() for p in project.rglob("*.md") if not p.is_symlink())
