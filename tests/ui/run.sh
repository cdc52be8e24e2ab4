#!/usr/bin/env bash
# The web UI's browser tests (ui/tests/e2e, node's test runner driving Debian's Chromium through
# playwright-core) against the real services, set up from scratch:
#   1. Chromium (Debian's `chromium`, installed with apt when missing and we are root) and the
#      UI's packages (npm ci, pinned by ui/package-lock.json); the UI is built (npm run build);
#   2. the models and the core-service, api-service and admin-service binaries (scripts/build.sh,
#      honouring CARGO_TARGET_DIR, which refuses binaries not built from these sources);
#   3. a throwaway PostgreSQL cluster in a temporary directory (scripts/postgres.sh);
#   4. the three services on free ports of 127.0.0.1 and, in front of them, nginx with the front
#      door's configuration rendered by deploy/nginx/render.sh as scripts/start.sh renders it
#      (Debian's nginx-light is installed when missing and we are root; without nginx,
#      ui/tests/serve.mjs stands in for it).
# Everything started is stopped on exit. Screenshots of each step go to ui/test-results/.
#
# Usage: tests/ui/run.sh [node --test arguments]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
log() { printf 'ui: %s\n' "$*" >&2; }

# 1. Browser and packages.
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's chromium"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        log "Chromium is missing: install Debian's chromium package (or set CHROMIUM_PATH)"
        exit 1
    fi
fi
export CHROMIUM_PATH="$chromium"
# VISAGE_UI_DIST builds the UI somewhere else than ui/dist (two runs side by side).
dist="${VISAGE_UI_DIST:-$root/ui/dist}"
(cd ui && { [[ -d node_modules ]] && npm ls --depth=0 >/dev/null 2>&1 || npm ci --no-audit --no-fund >/dev/null; } && npm run build -- --outDir "$dist" --emptyOutDir >/dev/null)

# 2. Models and binaries.
scripts/fetch-models.sh >&2
log "building the services (dev profile)"
# The binaries this check starts, built (a no-op after the test command's build) and checked to
# come from these sources.
scripts/build.sh
bin="$target_dir/debug"
scripts/build.sh verify "$bin" core-service api-service admin-service

# 3 and 4 in a temporary directory, removed on exit with everything started from here.
work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    VISAGE_PG_DIR="$work/pg" scripts/postgres.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

database_url="$(env -u DATABASE_URL -u POSTGRES_URL VISAGE_PG_DIR="$work/pg" VISAGE_PG_FAST=1 VISAGE_PG_WATCH_PID=$$ scripts/postgres.sh start)"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Waits until `url` answers, failing early when process `pid` has died.
wait_for() {
    local name="$1" url="$2" pid="$3" logfile="$4"
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.3
    done
    log "$name did not start; its log:"
    tail -n 40 "$logfile" >&2
    return 1
}

export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
export RUST_LOG="${RUST_LOG:-info}"

core_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$core_port" MODELS_DIR="$root/models" "$bin/core-service" >"$work/core.log" 2>&1 &
pids+=($!)
wait_for core-service "http://127.0.0.1:$core_port/healthcheck" "${pids[-1]}" "$work/core.log"

api_port="$(free_port)"
API_HOST=127.0.0.1 API_PORT="$api_port" DATABASE_URL="$database_url" CORE_URL="http://127.0.0.1:$core_port" \
    "$bin/api-service" >"$work/api.log" 2>&1 &
pids+=($!)
wait_for api-service "http://127.0.0.1:$api_port/api/v1/config" "${pids[-1]}" "$work/api.log"

front_port="$(free_port)"
admin_port="$(free_port)"
# The walk-through signs a second user up without a mail server: open sign-up, chosen explicitly.
SIGN_UP=open ADMIN_HOST=127.0.0.1 ADMIN_PORT="$admin_port" DATABASE_URL="$database_url" PUBLIC_URL="http://127.0.0.1:$front_port" \
    "$bin/admin-service" >"$work/admin.log" 2>&1 &
pids+=($!)
wait_for admin-service "http://127.0.0.1:$admin_port/admin/status" "${pids[-1]}" "$work/admin.log"

scripts/nginx.sh install || true
if nginx="$(scripts/nginx.sh path)"; then
    # The walk-through logs in and signs up more often than one person would in a minute.
    RATE_LOGIN=600r/m BURST_LOGIN=100 deploy/nginx/render.sh "$work/nginx" "$front_port" "$dist" "127.0.0.1:$admin_port" "127.0.0.1:$api_port" \
        "127.0.0.1:$core_port" 10M
    "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" >"$work/front.log" 2>&1 &
else
    log "nginx is missing: ui/tests/serve.mjs stands in for the front door"
    PORT="$front_port" ADMIN_URL="http://127.0.0.1:$admin_port" API_URL="http://127.0.0.1:$api_port" \
        CORE_URL="http://127.0.0.1:$core_port" node ui/tests/serve.mjs >"$work/front.log" 2>&1 &
fi
pids+=($!)
wait_for front "http://127.0.0.1:$front_port/" "${pids[-1]}" "$work/front.log"
log "front door on port $front_port (admin $admin_port, api $api_port, core $core_port)"

status=0
(cd ui && VISAGE_URL="http://127.0.0.1:$front_port" npm run --silent test:e2e -- "$@") || status=$?
if [[ $status -ne 0 ]]; then
    for service in admin api core; do
        log "$service-service log (last 30 lines):"
        tail -n 30 "$work/$service.log" >&2
    done
fi
exit "$status"
