#!/usr/bin/env bash
# Makes the Python environment of the e-mail tests (aiosmtpd, by package name with pip) in
# tests/smtp/.venv, reusing it when present, and prints its python's path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6' >&2
fi
echo "$venv/bin/python"
