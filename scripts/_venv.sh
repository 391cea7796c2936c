# Sourced by scripts/test and scripts/demo: make $VENV hold this project and its dev dependencies.
VENV="${PYWATS_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "pyWATS needs Python 3.10 or newer (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
stamp="$VENV/.pywats-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Setting up $VENV (first run, or pyproject.toml changed)..." >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]" >&2
    echo "$want" > "$stamp"
fi
