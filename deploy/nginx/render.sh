#!/usr/bin/env bash
# Renders the front door (deploy/nginx/visage.conf.template, the same file the gateway image
# uses) for an nginx run by a user on this machine: writes DIR/visage.conf and a minimal main
# configuration DIR/nginx.conf (pid, logs and temporary files under DIR) that includes it.
# Start it with: nginx -c DIR/nginx.conf -p DIR
#
# Usage: render.sh DIR PORT UI_ROOT ADMIN_HOST API_HOST CORE_HOST MAX_BODY [CONNECT_MS READ_MS [MAX_IMPORT]]
#   e.g. render.sh data/nginx 8000 ui/dist 127.0.0.1:8081 127.0.0.1:8080 127.0.0.1:3000 10M
# ADMIN_HOST, API_HOST and CORE_HOST are host:port, or lists of them (commas) for replicas:
#   render.sh data/nginx 8000 ui/dist 127.0.0.1:8081 127.0.0.1:8080,127.0.0.1:8082 127.0.0.1:3000 10M
# Sizes may be written as nginx writes them (10M) or as CompreFace's settings do (10MB); MAX_IMPORT
# (the largest collection archive, default 2G) applies to POST /api/v1/recognition/import only.
# Rate limits come from the environment (nginx's rate syntax; defaults generous enough for any
# one client of a self-hosted installation): RATE_PER_KEY (50r/s) and BURST_PER_KEY (200),
# RATE_PER_ADDRESS (100r/s) and BURST_PER_ADDRESS (400), RATE_LOGIN (30r/m) and BURST_LOGIN (10).
# HTTPS, from the environment too (deploy/nginx/tls.sh): TLS_CERT and TLS_KEY, or TLS=self-signed
# (a certificate made in DIR/tls), and TLS_PORT; PORT then only redirects to it.
set -euo pipefail
if [[ $# -lt 7 ]]; then
    sed -n '2,16p' "$0" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$1" port="$2" ui_root="$3" admin="$4" api="$5" core="$6" body="$7"
connect="${8:-10000}" read="${9:-60000}" import="${10:-2G}"
# nginx's sizes take a unit letter alone: 10MB -> 10M.
nginx_size() { local v="$1"; [[ "$v" =~ ^([0-9]+)([kKmMgG])[bB]$ ]] && v="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"; printf '%s' "$v"; }
body="$(nginx_size "$body")"
import="$(nginx_size "$import")"
mkdir -p "$dir/tmp" "$dir/logs" "$ui_root"
dir="$(cd "$dir" && pwd)"
ui_root="$(cd "$ui_root" && pwd)"

# One `server` line per replica of each service.
"$here/upstreams.sh" "$admin" >"$dir/admin.servers"
"$here/upstreams.sh" "$api" >"$dir/api.servers"
"$here/upstreams.sh" "$core" >"$dir/core.servers"

# The HTTPS snippet (empty without TLS settings).
"$here/tls.sh" "$dir/tls.conf" "$dir/tls"

sed -e "s|\${VISAGE_LISTEN}|$port|g" \
    -e "s|\${TLS_INCLUDE}|$dir/tls.conf|g" \
    -e "s|\${UI_ROOT}|$ui_root|g" \
    -e "s|\${UPSTREAM_RESOLVER}||g" \
    -e "/^[[:space:]]*\${ADMIN_SERVERS}$/{r $dir/admin.servers" -e "d}" \
    -e "/^[[:space:]]*\${API_SERVERS}$/{r $dir/api.servers" -e "d}" \
    -e "/^[[:space:]]*\${CORE_SERVERS}$/{r $dir/core.servers" -e "d}" \
    -e "s|\${CLIENT_MAX_BODY_SIZE}|$body|g" \
    -e "s|\${MAX_IMPORT_SIZE}|$import|g" \
    -e "s|\${RATE_PER_KEY}|${RATE_PER_KEY:-50r/s}|g" \
    -e "s|\${BURST_PER_KEY}|${BURST_PER_KEY:-200}|g" \
    -e "s|\${RATE_PER_ADDRESS}|${RATE_PER_ADDRESS:-100r/s}|g" \
    -e "s|\${BURST_PER_ADDRESS}|${BURST_PER_ADDRESS:-400}|g" \
    -e "s|\${RATE_LOGIN}|${RATE_LOGIN:-30r/m}|g" \
    -e "s|\${BURST_LOGIN}|${BURST_LOGIN:-10}|g" \
    -e "s|\${PROXY_CONNECT_TIMEOUT}|${connect}ms|g" \
    -e "s|\${PROXY_READ_TIMEOUT}|${read}ms|g" \
    "$here/visage.conf.template" >"$dir/visage.conf"

mime=""
for types in /etc/nginx/mime.types /usr/local/etc/nginx/mime.types; do
    if [[ -f "$types" ]]; then
        mime="include $types;"
        break
    fi
done
cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    $mime
    default_type application/octet-stream;
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/visage.conf;
}
CONF
