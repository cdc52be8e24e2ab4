#!/bin/sh
# Writes nginx's `server` lines for one upstream of the front door: one per host:port of LIST
# (commas or spaces between them), so that nginx spreads requests over every replica and leaves
# one that fails aside for a few seconds.
#
# Usage: upstreams.sh LIST [resolve]
#   upstreams.sh 127.0.0.1:8080,127.0.0.1:8082
#   upstreams.sh compreface-api:8080 resolve
# With `resolve`, a server given by name gets nginx's `resolve` parameter (nginx 1.27.3 and
# later, with a `resolver` in the configuration): the name is looked up again as its DNS answer
# expires, so replicas that `docker compose up --scale` adds or restarts are found. POSIX sh:
# the gateway image sources it from its entrypoint (deploy/Dockerfile).
set -eu
list="${1:-}"
resolve="${2:-}"
servers=0
for server in $(printf '%s' "$list" | tr ',' ' '); do
    case "$server" in
        *:[0-9]*) ;;
        *) echo "upstreams.sh: \"$server\": host:port expected" >&2; exit 2 ;;
    esac
    extra=""
    if [ "$resolve" = resolve ]; then
        case "$server" in
            \[*|[0-9]*.[0-9]*.[0-9]*.[0-9]*:*) ;;
            *) extra=" resolve" ;;
        esac
    fi
    printf 'server %s max_fails=1 fail_timeout=5s%s;\n' "$server" "$extra"
    servers=$((servers + 1))
done
if [ "$servers" = 0 ]; then
    echo "upstreams.sh: no server in \"$list\"" >&2
    exit 2
fi
