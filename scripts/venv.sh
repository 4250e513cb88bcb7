# Sourced by scripts/*: creates .venv and installs csvbot (with dev extras) when missing or stale.
ensure_venv() {
    local py="${PYTHON:-python3}"
    if ! command -v "$py" >/dev/null; then
        echo "csvbot needs python3 (3.11+); install it first" >&2
        return 1
    fi
    "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csvbot needs Python 3.11+")'
    if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
        # Debian ships venv separately; install it when we may, say what to do when we may not.
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
            echo "== installing python3-venv" >&2
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        else
            echo "csvbot needs Python's venv module: sudo apt-get install python3-venv" >&2
            return 1
        fi
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "== creating .venv" >&2
        "$py" -m venv .venv
    fi
    local stamp=".venv/.csvbot-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "== installing csvbot with dev extras" >&2
        .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
        .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored" >&2 || true
        .venv/bin/python -c 'import service, telemetry, aiogram, asyncpg, pytest'  # fail loudly
        touch "$stamp"
    fi
}
