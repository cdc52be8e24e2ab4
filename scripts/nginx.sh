#!/usr/bin/env bash
# nginx for the front door (deploy/nginx), which scripts/start.sh runs and the tests put in front
# of the services.
#
#   scripts/nginx.sh install   make sure nginx is there: root gets Debian's nginx-light installed
#                              when it is missing; anyone else is told what to install (exit 1)
#   scripts/nginx.sh path      print the nginx binary's path (exit 1 when there is none)
#
# Debian installs it as /usr/sbin/nginx, which is not on every user's PATH: callers use `path`.
set -euo pipefail

find_nginx() {
    command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }
}

case "${1:-}" in
install)
    if find_nginx >/dev/null; then
        exit 0
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "nginx.sh: nginx is missing: install Debian's nginx-light (or nginx)" >&2
        exit 1
    fi
    echo "nginx.sh: installing Debian's nginx-light" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq nginx-light >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get install -y -qq nginx-light >/dev/null || apt-get install -y -qq nginx >/dev/null
    fi
    find_nginx >/dev/null
    ;;
path)
    find_nginx
    ;;
*)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
