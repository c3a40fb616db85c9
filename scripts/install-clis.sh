#!/usr/bin/env bash
# Install the pinned AI coding CLIs that the end-to-end tests drive (tests/e2e).
# Usage: scripts/install-clis.sh [DIR]   (default: <repo>/.cache/clis)
# Idempotent: a package whose installed version already matches its pin is skipped.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-${TETHER_CLIS_DIR:-$repo/.cache/clis}}"

# Keep in step with tests/e2e/clis.py (PINS, TARGET_PINS, OPENCODE_PIN).
pins=(
    "@anthropic-ai/claude-code@2.1.197"
    "@openai/codex@0.169.0"
    "@google/gemini-cli@0.61.0"
    "@github/copilot@1.0.102"
    "@qwen-code/qwen-code@0.24.4"
    "opencode-ai@1.18.33"
    "cline@3.0.65"
    # The Kilo CLI's linux-x64 binary package: its @kilocode/cli wrapper needs platform
    # packages the registry lacks (clis.py TARGET_PINS says more).
    "@kilocode/cli-linux-x64@7.7.9"
)

# Python CLIs, each in its own venv under .cache/ (keep in step with clis.py PYTHON_PINS).
# aider-chat: ~690 MB, ~80 s from the local wheel mirror.
aider_pin="aider-chat==0.86.2"
aider_venv="${TETHER_AIDER_VENV:-$repo/.cache/aider-venv}"
python="${PYTHON:-$( [[ -x "$repo/.venv/bin/python" ]] && "$repo/.venv/bin/python" -c 'import sys; print(sys._base_executable)' || command -v python3)}"
if [[ -x "$aider_venv/bin/aider" ]] \
    && [[ "$("$aider_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("aider-chat"))' 2>/dev/null)" == "${aider_pin#*==}" ]]; then
    echo "install-clis: $aider_pin already installed"
else
    start=$SECONDS
    echo "install-clis: installing $aider_pin into $aider_venv"
    "$python" -m venv "$aider_venv"
    "$aider_venv/bin/pip" install --quiet "$aider_pin"
    echo "install-clis: done in $((SECONDS - start)) s"
fi

command -v npm >/dev/null || { echo "install-clis: npm not found (install Node.js >= 20)" >&2; exit 1; }

installed_version() {  # print the version of package $1 installed under $dir, or nothing
    local manifest="$dir/node_modules/$1/package.json"
    [[ -f "$manifest" ]] || return 0
    node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest"
}

missing=()
for pin in "${pins[@]}"; do
    name="${pin%@*}"
    version="${pin##*@}"
    if [[ "$(installed_version "$name")" == "$version" ]]; then
        echo "install-clis: $name@$version already installed"
    else
        missing+=("$pin")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

mkdir -p "$dir"
# A package.json of our own keeps npm from walking up to another one; npm records the pins
# in it, so installing one missing package later does not prune the others.
[[ -f "$dir/package.json" ]] || echo '{"name": "tether-e2e-clis", "private": true}' >"$dir/package.json"

start=$SECONDS
echo "install-clis: installing ${missing[*]} into $dir"
npm install --prefix "$dir" --no-audit --no-fund --save-exact --loglevel=error "${missing[@]}"
echo "install-clis: done in $((SECONDS - start)) s"

for pin in "${pins[@]}"; do
    name="${pin%@*}"
    version="${pin##*@}"
    got="$(installed_version "$name")"
    if [[ "$got" != "$version" ]]; then
        echo "install-clis: $name is at '${got:-nothing}', wanted $version" >&2
        exit 1
    fi
done
