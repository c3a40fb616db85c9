"""One set of project rules for every coding tool: AGENTS.md is canonical, and each tool's
own file (CLAUDE.md, GEMINI.md, .github/copilot-instructions.md, .cursor/rules,
.clinerules, .roo/rules, .kilocode/rules, Aider's CONVENTIONS.md) is compiled from it,
with optional rule files (`.agents/rules/*.md`, front matter: targets, globs) for rules
that apply to some tools or some paths.

A compiled file carries a managed marker with the hash of what tether wrote: a file without
one is the user's and is never overwritten (it is imported or reported), and a file whose
hash no longer matches was edited by hand.
"""
