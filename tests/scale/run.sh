#!/usr/bin/env bash
# Replicas that fail over, on this machine: 2 core-, 3 api- and 2 admin-service processes behind
# the real front door (deploy/nginx, rendered by render.sh with every replica in its upstreams),
# a throwaway PostgreSQL, all on 127.0.0.1. tests/src/bin/scale.rs drives CompreFace's load
# scenarios (recognize, detect, verification, verify against an image; 8 users each) and
# enrolments through the front door while it kills a core replica, then an api and a core
# replica together, with SIGKILL, and starts them again; it fails unless every recognize,
# detect and verify call was answered 200 and every enrolment is stored once or not at all
# (see its header). The report, with throughput and latencies per window, goes to OUT
# (default: a temporary directory) as scale.md and to the standard output. About 2 minutes.
#
# Usage: tests/scale/run.sh [OUT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
scripts/fetch-models.sh >/dev/null
scripts/nginx.sh install
scripts/build.sh
bin="$target_dir/debug"
scripts/build.sh verify "$bin" core-service api-service admin-service scale

work="$(mktemp -d)"
chmod 755 "$work"
out="${1:-$work/out}"
mkdir -p "$out"
cleanup() {
    VISAGE_PG_DIR="$work/pg" scripts/postgres.sh stop >/dev/null 2>&1 || true
    rm -rf "$work/pg"
}
trap cleanup EXIT
database_url="$(VISAGE_PG_DIR="$work/pg" VISAGE_PG_FAST=1 scripts/postgres.sh start)"

if BIN="$bin" MODELS_DIR="$root/models" DATABASE_URL="$database_url" \
    FIXTURES="$root/tests/fixtures/upstream-samples" OUT="$out" "$bin/scale"; then
    [[ -n "${1:-}" ]] || rm -rf "$work"
    exit 0
fi
echo "scale: failed; the services' logs are in $out" >&2
exit 1
