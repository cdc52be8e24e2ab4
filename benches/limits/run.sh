#!/usr/bin/env bash
# Peak memory of the worst calls the limits allow (benches/limits/measure.py says which), on
# this machine: a throwaway PostgreSQL cluster, core-, api- and admin-service from the dev
# profile (scripts/build.sh, whose dependencies are optimised), all on 127.0.0.1. The numbers go
# to docs/benchmarks.md by hand.
#
# Usage: benches/limits/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
scripts/fetch-models.sh >/dev/null
scripts/build.sh
bin="$target_dir/debug"
scripts/build.sh verify "$bin" core-service api-service admin-service

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    VISAGE_PG_DIR="$work/pg" scripts/postgres.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
database_url="$(VISAGE_PG_DIR="$work/pg" VISAGE_PG_FAST=1 scripts/postgres.sh start)"
export PATH="$(pg_config --bindir 2>/dev/null || true):$PATH"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done; return 1; }

core_port="$(free_port)" api_port="$(free_port)" admin_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$core_port" MODELS_DIR="$root/models" "$bin/core-service" >"$work/core.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$core_port/healthcheck"
API_HOST=127.0.0.1 API_PORT="$api_port" DATABASE_URL="$database_url" CORE_URL="http://127.0.0.1:$core_port" \
    "$bin/api-service" >"$work/api.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
wait_for "http://127.0.0.1:$api_port/api/v1/config"
ADMIN_HOST=127.0.0.1 ADMIN_PORT="$admin_port" DATABASE_URL="$database_url" "$bin/admin-service" >"$work/admin.log" 2>&1 &
admin_pid=$!
pids+=($admin_pid)
wait_for "http://127.0.0.1:$admin_port/admin/status"
# A face computed by core, so the bulk-written ones carry its calculator.
curl -fsS -o /dev/null -H 'x-api-key: 00000000-0000-0000-0000-000000000002' \
    -F file=@tests/fixtures/upstream-samples/001_A.jpg "http://127.0.0.1:$api_port/api/v1/recognition/faces?subject=A"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
python3 benches/limits/measure.py "$api_port" "$api_pid" "$admin_port" "$admin_pid" "$database_url"
