#!/usr/bin/env bash
# Checks the deployment files: docker-compose.yml validates with `docker-compose config`
# (Debian's docker-compose, installed with apt when missing and we are root), and
# check_deploy.py compares it, .env, the Dockerfile and the nginx configuration with the
# contract (service names, the one published port, CompreFace's .env names, health-gated
# start-up, the front door's routes); the nginx configuration is rendered the way start.sh
# renders it and checked by `nginx -t` when nginx is installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
log() { printf 'deploy: %s\n' "$*" >&2; }

install() {
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian's $*"
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    fi
}
command -v docker-compose >/dev/null 2>&1 || install docker-compose
command -v docker-compose >/dev/null 2>&1 || { log "docker-compose is missing: install Debian's docker-compose"; exit 1; }
scripts/nginx.sh install || true

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for file in docker-compose*.yml; do
    log "docker-compose -f $file config"
    docker-compose -f "$file" config >"$work/$file"
done
# docker-compose's own Python has PyYAML (Debian's python3-yaml).
python=/usr/bin/python3
"$python" -c 'import yaml' 2>/dev/null || python=python3
"$python" tests/deploy/check_deploy.py "$work/docker-compose.yml" "$work"
