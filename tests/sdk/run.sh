#!/usr/bin/env bash
# The official CompreFace Python SDK (compreface-sdk 0.6.0) against the real Visage services.
#
# Sets up everything on a fresh machine, runs tests/sdk/test_sdk.py with pytest and exits with
# pytest's status:
#   1. a virtualenv in tests/sdk/.venv (reused when present) with the SDK and pytest;
#   2. the models (scripts/fetch-models.sh);
#   3. the core-service and api-service binaries (scripts/build.sh, honouring CARGO_TARGET_DIR,
#      which refuses binaries not built from these sources);
#   4. a throwaway PostgreSQL cluster in a temporary directory (scripts/postgres.sh), or the
#      server of DATABASE_URL when set; api-service migrates it, which seeds the demo services
#      whose API keys the tests use. With DATABASE_URL the demo recognition collection of that
#      database is emptied by the tests;
#   5. core-service and api-service on free ports of 127.0.0.1, waited for until they answer.
# Everything started is stopped on exit, whatever happens.
#
# Usage: tests/sdk/run.sh [--release] [pytest arguments, e.g. -k detection]
#   --release   build and run the release binaries (default: the dev profile, whose
#               dependencies and inference crates are optimised anyway)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/tests/sdk"
venv="$here/.venv"
sdk_version="0.6.0"

profile=debug
cargo_profile=()
if [[ "${1:-}" == "--release" ]]; then
    profile=release
    cargo_profile=(--release)
    shift
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"

log() { printf 'sdk: %s\n' "$*" >&2; }

# 1. The SDK.
if [[ ! -x "$venv/bin/python" ]]; then
    log "creating $venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" - "$sdk_version" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
import compreface, pytest  # noqa: F401
sys.exit(version("compreface-sdk") != sys.argv[1])
EOF
then
    # The SDK pins requests-toolbelt 0.9.1, which imports urllib3.contrib.appengine: gone in
    # urllib3 2, so the SDK only imports with urllib3 1.26, as in 2021.
    log "installing compreface-sdk==$sdk_version and pytest"
    "$venv/bin/python" -m pip install --quiet "compreface-sdk==$sdk_version" "urllib3<2" pytest
fi

# 2 and 3. Models and binaries.
scripts/fetch-models.sh >&2
log "building the services ($profile)"
# The binaries this check starts, built (a no-op after the test command's build) and checked to
# come from these sources.
scripts/build.sh "${cargo_profile[@]}"
bin="$target_dir/$profile"
scripts/build.sh verify "$bin" core-service api-service

# 4 and 5 run in a temporary directory, removed on exit with everything started from here.
work="$(mktemp -d)"
# The PostgreSQL server runs as user postgres when we are root: it must reach its directory.
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -z "${DATABASE_URL:-}" ]]; then
        VISAGE_PG_DIR="$work/pg" scripts/postgres.sh stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "${DATABASE_URL:-}" ]]; then
    database_url="$DATABASE_URL"
    log "using the database of DATABASE_URL"
else
    # The watcher stops the cluster even if this script is killed without running its trap.
    database_url="$(VISAGE_PG_DIR="$work/pg" VISAGE_PG_FAST=1 VISAGE_PG_WATCH_PID=$$ scripts/postgres.sh start)"
fi

free_port() {
    "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `url` answers 200, failing early when process `pid` has died.
wait_for() {
    local name="$1" url="$2" pid="$3" logfile="$4"
    "$venv/bin/python" - "$url" "$pid" <<'EOF' || { log "$name did not start; its log:"; cat "$logfile" >&2; return 1; }
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
}

export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

core_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$core_port" MODELS_DIR="$root/models" RUST_LOG="${RUST_LOG:-info}" \
    "$bin/core-service" >"$work/core.log" 2>&1 &
pids+=($!)
wait_for core-service "http://127.0.0.1:$core_port/healthcheck" "${pids[-1]}" "$work/core.log"

api_port="$(free_port)"
API_HOST=127.0.0.1 API_PORT="$api_port" DATABASE_URL="$database_url" CORE_URL="http://127.0.0.1:$core_port" \
    RUST_LOG="${RUST_LOG:-info}" "$bin/api-service" >"$work/api.log" 2>&1 &
pids+=($!)
wait_for api-service "http://127.0.0.1:$api_port/api/v1/config" "${pids[-1]}" "$work/api.log"
log "core-service on port $core_port, api-service on port $api_port"

status=0
VISAGE_API_URL="http://127.0.0.1:$api_port" \
    "$venv/bin/python" -m pytest "$here" -p no:cacheprovider "$@" || status=$?
if [[ $status -ne 0 ]]; then
    log "api-service log (last 40 lines):"
    tail -n 40 "$work/api.log" >&2
    log "core-service log (last 20 lines):"
    tail -n 20 "$work/core.log" >&2
fi
exit "$status"
