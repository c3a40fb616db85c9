"""Each tool's own rule files, as compiled from AGENTS.md and the rule files: which files,
and what they say. Deterministic: the same sources give the same bytes.

Claude Code and Gemini CLI import AGENTS.md (`@AGENTS.md` in CLAUDE.md, GEMINI.md); Codex,
opencode, Cursor and Qwen Code read AGENTS.md itself (Qwen's QWEN.md holds only the rules
meant for Qwen); Copilot, Cline, Roo, Kilo and Aider get a copy. Path rules become the
tool's own scoped rules where it has them (`.claude/rules/*.md` with `paths`,
`.github/instructions/*.instructions.md` with `applyTo`, `.cursor/rules/*.mdc` with
`globs`) and a section naming the paths elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from tether.rules.sources import CANONICAL, RuleFile

MARK = "tether-managed"
CODEX_LIMIT = 32 * 1024
"""Codex reads at most this many bytes of project docs (project_doc_max_bytes)."""


@dataclass(frozen=True, slots=True)
class Output:
    """One file to write: its path in the project, its text without the marker, and the
    kind of marker it takes (markdown comment, or YAML comment)."""

    path: str
    text: str
    comment: str = "md"
    front: str = ""
    """Front matter the file must open with (the marker follows it)."""


@dataclass(slots=True)
class Plan:
    outputs: list[Output] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _section(rule: RuleFile) -> str:
    title = rule.description or rule.name.replace("-", " ").replace("_", " ").capitalize()
    if rule.globs:
        paths = ", ".join(f"`{glob}`" for glob in rule.globs)
        return f"## {title} (for files matching {paths})\n\n{rule.body}\n"
    return f"## {title}\n\n{rule.body}\n"


def _extras(tool: str, rules: list[RuleFile], scoped_apart: bool) -> str:
    """The tool's rule sections to append: always-on ones, and path ones unless the tool
    has files of its own for them."""
    chosen = [r for r in rules if r.for_tool(tool) and not (scoped_apart and r.globs)]
    return "".join(f"\n{_section(rule)}" for rule in chosen)


def _importer(filename: str, tool: str) -> Callable[[str, list[RuleFile]], Plan]:
    def plan(agents: str, rules: list[RuleFile]) -> Plan:
        text = f"@{CANONICAL}\n{_extras(tool, rules, tool == 'claude')}"
        outputs = [Output(filename, text)]
        if tool == "claude":
            outputs += [_claude_path_rule(r) for r in rules if r.globs and r.for_tool(tool)]
        return Plan(outputs)

    return plan


def _claude_path_rule(rule: RuleFile) -> Output:
    paths = "".join(f"  - {json.dumps(glob)}\n" for glob in rule.globs)
    return Output(f".claude/rules/{rule.name}.md", f"{rule.body}\n", front=f"paths:\n{paths}")


def _reader(tool: str) -> Callable[[str, list[RuleFile]], Plan]:
    """Codex and opencode read AGENTS.md itself: nothing to write, limits to check."""

    def plan(agents: str, rules: list[RuleFile]) -> Plan:
        warnings = [
            f"{tool} reads {CANONICAL} only: .agents/rules/{rule.name}.md, meant for it, does "
            f"not reach it (put it in {CANONICAL})"
            for rule in rules
            if tool in rule.targets
        ]
        size = len(agents.encode())
        if tool == "codex" and size > CODEX_LIMIT:
            warnings.append(
                f"codex reads the first {CODEX_LIMIT // 1024} KiB of {CANONICAL}, which is "
                f"{size // 1024} KiB: the rest does not reach it"
            )
        return Plan([], warnings)

    return plan


def _reader_with_own(filename: str, tool: str) -> Callable[[str, list[RuleFile]], Plan]:
    """Qwen Code reads AGENTS.md itself, and its own QWEN.md beside it: that file holds only
    the rules meant for it (no copy of AGENTS.md, which it would then read twice)."""

    def plan(agents: str, rules: list[RuleFile]) -> Plan:
        extras = _extras(tool, [r for r in rules if r.targets], False)
        return Plan([Output(filename, extras.lstrip("\n"))] if extras else [])

    return plan


def _copier(filename: str, tool: str) -> Callable[[str, list[RuleFile]], Plan]:
    def plan(agents: str, rules: list[RuleFile]) -> Plan:
        return Plan([Output(filename, agents.rstrip("\n") + "\n" + _extras(tool, rules, False))])

    return plan


def _copilot(agents: str, rules: list[RuleFile]) -> Plan:
    outputs = [
        Output(
            ".github/copilot-instructions.md",
            agents.rstrip("\n") + "\n" + _extras("copilot", rules, True),
        )
    ]
    for rule in rules:
        if rule.globs and rule.for_tool("copilot"):
            front = f"applyTo: {json.dumps(','.join(rule.globs))}\n"
            path = f".github/instructions/{rule.name}.instructions.md"
            outputs.append(Output(path, f"{rule.body}\n", front=front))
    return Plan(outputs)


def _cursor(agents: str, rules: list[RuleFile]) -> Plan:
    """Cursor reads AGENTS.md itself; each rule file is an .mdc of its own."""
    outputs = []
    for rule in rules:
        if not rule.for_tool("cursor"):
            continue
        description = json.dumps(rule.description or rule.name)
        if rule.globs:
            front = (
                f"description: {description}\nglobs: {','.join(rule.globs)}\nalwaysApply: false\n"
            )
        else:
            front = f"description: {description}\nalwaysApply: true\n"
        outputs.append(Output(f".cursor/rules/{rule.name}.mdc", f"{rule.body}\n", front=front))
    return Plan(outputs)


def _aider(agents: str, rules: list[RuleFile]) -> Plan:
    plan = _copier("CONVENTIONS.md", "aider")(agents, rules)
    config = "read:\n  - CONVENTIONS.md\n"
    plan.outputs.append(Output(".aider.conf.yml", config, comment="yaml"))
    return plan


PLANS: dict[str, Callable[[str, list[RuleFile]], Plan]] = {
    "claude": _importer("CLAUDE.md", "claude"),
    "codex": _reader("codex"),
    "opencode": _reader("opencode"),
    "gemini": _importer("GEMINI.md", "gemini"),
    "qwen": _reader_with_own("QWEN.md", "qwen"),
    "copilot": _copilot,
    "cursor": _cursor,
    "cline": _copier(".clinerules/agents.md", "cline"),
    "roo": _copier(".roo/rules/agents.md", "roo"),
    "kilo": _copier(".kilocode/rules/agents.md", "kilo"),
    "aider": _aider,
}
"""Every tool whose rules tether compiles; Amp and Antigravity read AGENTS.md themselves."""
RULE_FOLDERS = (
    ".claude/rules",
    ".github/instructions",
    ".cursor/rules",
    ".clinerules",
    ".roo/rules",
    ".kilocode/rules",
)
"""Folders of one file per rule: a managed file there that no rule makes any more goes."""
