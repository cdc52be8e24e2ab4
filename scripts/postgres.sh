#!/usr/bin/env bash
# PostgreSQL for running and testing Visage.
#
#   scripts/postgres.sh start    start (initialising on first use) and print the URL
#   scripts/postgres.sh stop     stop the private cluster
#   scripts/postgres.sh status   say whether it runs; exit 0 when it accepts connections
#   scripts/postgres.sh url      print the connection URL
#   scripts/postgres.sh install  make sure the server binaries are there (installing them as root)
#
# When DATABASE_URL or POSTGRES_URL is set, that server is used as it is: `start` and `status`
# only check that it answers, `url` prints it, `stop` does nothing.
#
# Otherwise a private cluster lives in VISAGE_PG_DIR (default: <repo>/data/postgres), made with
# the system's PostgreSQL binaries (Debian keeps them in `pg_config --bindir` or
# /usr/lib/postgresql/<version>/bin, off PATH). When they are missing, root gets Debian's
# `postgresql` package installed; anyone else is told what to install. The server listens on
# 127.0.0.1 and on a unix socket inside the cluster directory.
#
# Settings (environment):
#   VISAGE_PG_DIR          cluster directory
#   VISAGE_PG_PORT         port; default 5432 when free, else the first free one from 5433
#   VISAGE_PG_DB           database to create (default visage)
#   VISAGE_PG_USER         superuser name (default visage); VISAGE_PG_PASSWORD its password
#                          for TCP connections (default visage; the socket trusts local users)
#   VISAGE_PG_FAST=1       no fsync, for throwaway clusters (tests)
#   VISAGE_PG_WATCH_PID    after `start`, stop the cluster (and delete its directory) as soon as
#                          this process exits; used by the test helper for its temporary cluster
#
# initdb and postgres refuse to run as root: as root the server runs as the `postgres` system
# user (created when missing), which owns the cluster directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_DIR="${VISAGE_PG_DIR:-$ROOT/data/postgres}"
PG_DB="${VISAGE_PG_DB:-visage}"
PG_USER="${VISAGE_PG_USER:-visage}"
PG_PASSWORD="${VISAGE_PG_PASSWORD:-visage}"
CLUSTER="$PG_DIR/cluster"
PORT_FILE="$PG_DIR/port"
LOG_FILE="$PG_DIR/postgres.log"

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

external_url() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        echo "$DATABASE_URL"
    elif [[ -n "${POSTGRES_URL:-}" ]]; then
        echo "$POSTGRES_URL"
    fi
}

# The directory holding initdb, pg_ctl and postgres, installing them when root may.
find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir)"
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
    fi
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing PostgreSQL (Debian package postgresql)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
        if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
    fi
    die "PostgreSQL server binaries not found. Install them (Debian/Ubuntu: sudo apt-get install postgresql) or set DATABASE_URL."
}

# Runs a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_owner_account() {
    [[ "$(id -u)" -eq 0 ]] || return 0
    if ! id postgres >/dev/null 2>&1; then
        log "creating system user postgres"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
}

port_is_free() {
    # bash's /dev/tcp connects; a refused connection means nobody listens there.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

choose_port() {
    if [[ -n "${VISAGE_PG_PORT:-}" ]]; then echo "$VISAGE_PG_PORT"; return; fi
    if [[ -f "$PORT_FILE" ]]; then cat "$PORT_FILE"; return; fi
    local port=5432
    if port_is_free "$port"; then echo "$port"; return; fi
    for port in $(seq 5433 5532); do
        if port_is_free "$port"; then echo "$port"; return; fi
    done
    die "no free port in 5432-5532; set VISAGE_PG_PORT"
}

cluster_url() {
    echo "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$(cat "$PORT_FILE")/$PG_DB"
}

init_cluster() {
    local bindir="$1" port pwfile
    ensure_owner_account
    mkdir -p "$PG_DIR"
    port="$(choose_port)"
    echo "$port" >"$PORT_FILE"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres: "$PG_DIR"
        # The server user must be able to reach its directory.
        as_owner test -x "$PG_DIR" || die "user postgres cannot enter $PG_DIR (check its parents' permissions)"
    fi
    pwfile="$(mktemp "$PG_DIR/.pw.XXXXXX")"
    echo "$PG_PASSWORD" >"$pwfile"
    if [[ "$(id -u)" -eq 0 ]]; then chown postgres: "$pwfile"; fi
    log "initialising a cluster in $CLUSTER (port $port)"
    local fast=()
    if [[ "${VISAGE_PG_FAST:-0}" == 1 ]]; then fast=(--no-sync); fi
    if ! as_owner "$bindir/initdb" -D "$CLUSTER" -U "$PG_USER" --pwfile="$pwfile" "${fast[@]}" \
        --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
        >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed"
    fi
    rm -f "$pwfile"
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$PG_DIR'"
        echo "max_connections = 200"
        if [[ "${VISAGE_PG_FAST:-0}" == 1 ]]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | as_owner tee -a "$CLUSTER/postgresql.conf" >/dev/null
}

is_running() {
    local bindir="$1"
    [[ -d "$CLUSTER" ]] && as_owner "$bindir/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1
}

watch_and_remove() {
    local bindir="$1" pid="$2"
    # Detached from our process group so that it outlives this script and the caller.
    setsid bash -c '
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        if [[ "$(id -u)" -eq 0 ]]; then
            runuser -u postgres -- "$2/pg_ctl" -D "$3/cluster" -m immediate stop
        else
            "$2/pg_ctl" -D "$3/cluster" -m immediate stop
        fi
        rm -rf "$3"
    ' watch "$pid" "$bindir" "$PG_DIR" >/dev/null 2>&1 </dev/null &
}

start() {
    local url
    url="$(external_url)"
    if [[ -n "$url" ]]; then
        echo "$url"
        return
    fi
    local bindir
    bindir="$(find_bindir)"
    [[ -f "$CLUSTER/PG_VERSION" ]] || init_cluster "$bindir"
    if ! is_running "$bindir"; then
        if [[ "$(id -u)" -eq 0 ]]; then touch "$LOG_FILE"; chown postgres: "$LOG_FILE"; fi
        as_owner "$bindir/pg_ctl" -D "$CLUSTER" -l "$LOG_FILE" -w -t 60 start >&2 \
            || die "the server did not start; see $LOG_FILE"
    fi
    if [[ -n "${VISAGE_PG_WATCH_PID:-}" ]]; then
        watch_and_remove "$bindir" "$VISAGE_PG_WATCH_PID"
    fi
    local port
    port="$(cat "$PORT_FILE")"
    if ! as_owner "$bindir/psql" -h "$PG_DIR" -p "$port" -U "$PG_USER" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
        as_owner "$bindir/createdb" -h "$PG_DIR" -p "$port" -U "$PG_USER" "$PG_DB"
    fi
    cluster_url
}

stop() {
    if [[ -n "$(external_url)" ]]; then log "external server in use; nothing to stop"; return; fi
    local bindir
    bindir="$(find_bindir)"
    if is_running "$bindir"; then
        as_owner "$bindir/pg_ctl" -D "$CLUSTER" -m fast -w stop >&2
    else
        log "not running"
    fi
}

status() {
    local url
    url="$(external_url)"
    if [[ -n "$url" ]]; then
        if command -v pg_isready >/dev/null 2>&1; then
            pg_isready -d "$url" >&2
        else
            log "external server: $url"
        fi
        return
    fi
    local bindir
    bindir="$(find_bindir)"
    if is_running "$bindir"; then
        log "running: $(cluster_url)"
    else
        log "not running (cluster directory: $PG_DIR)"
        return 1
    fi
}

url() {
    local url
    url="$(external_url)"
    if [[ -n "$url" ]]; then echo "$url"; return; fi
    [[ -f "$PORT_FILE" ]] || die "no cluster yet; run: scripts/postgres.sh start"
    cluster_url
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) url ;;
    install) find_bindir >/dev/null ;;
    *) echo "usage: $0 start|stop|status|url|install" >&2; exit 2 ;;
esac
