#!/usr/bin/env bash
# Prints the path of a Python that can import the official `openai` client, creating a virtualenv outside the
# repository when needed ($REANCHOR_E2E_VENV, default ~/.cache/reanchor/e2e-venv). Needs python3 with venv
# (Debian: python3-venv) and PyPI.
set -euo pipefail
venv="${REANCHOR_E2E_VENV:-$HOME/.cache/reanchor/e2e-venv}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import openai" 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check openai >&2
"$venv/bin/python" -c "import openai" >&2
echo "$venv/bin/python"
