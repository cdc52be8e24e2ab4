#!/bin/sh
# HTTPS for the front door in one setting: writes the snippet the server block of
# visage.conf.template includes (${TLS_INCLUDE}). render.sh runs it, and so does the gateway
# image at start-up (/docker-entrypoint.d), from the same environment:
#
#   TLS_CERT, TLS_KEY   the certificate (chain) and its key, PEM files: serve HTTPS with them
#   TLS=self-signed     no certificate at hand: make a self-signed one (openssl) in DIR and use it
#                       (browsers warn; for a trial or a private network)
#   TLS_PORT            the HTTPS port nginx listens on (default 443); plain HTTP then only
#                       redirects to HTTPS
#   TLS_PUBLIC_PORT     the HTTPS port clients reach, where it differs from TLS_PORT (a container
#                       listening on 443 published as 8443): the redirect's port (default TLS_PORT)
#
# With none of them set the snippet is empty: plain HTTP, as before. With HTTPS, every answer
# carries Strict-Transport-Security. (admin-service's session cookies become Secure with
# COOKIE_SECURE=true, which start.sh and docker-compose.yml set from the same settings.)
#
# Usage: tls.sh SNIPPET_FILE DIR    (DIR keeps a generated certificate)
set -eu
out="$1"
dir="$2"
port="${TLS_PORT:-443}"
public_port="${TLS_PUBLIC_PORT:-$port}"

if [ -z "${TLS_CERT:-}" ] && [ "${TLS:-}" = "self-signed" ]; then
    mkdir -p "$dir"
    TLS_CERT="$dir/self-signed.crt"
    TLS_KEY="$dir/self-signed.key"
    if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
        echo "tls.sh: making a self-signed certificate in $dir" >&2
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=${TLS_NAME:-localhost}" \
            -addext "subjectAltName=DNS:${TLS_NAME:-localhost},IP:127.0.0.1" \
            -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
        chmod 600 "$TLS_KEY"
    fi
fi

if [ -z "${TLS_CERT:-}" ]; then
    : >"$out"
    exit 0
fi
if [ ! -r "$TLS_CERT" ] || [ ! -r "${TLS_KEY:-}" ]; then
    echo "tls.sh: TLS_CERT ($TLS_CERT) and TLS_KEY (${TLS_KEY:-unset}) must be readable PEM files" >&2
    exit 1
fi
if [ "$public_port" = 443 ]; then target='https://$host$request_uri'; else target="https://\$host:$public_port\$request_uri"; fi
cat >"$out" <<CONF
# HTTPS (deploy/nginx/tls.sh): plain HTTP only redirects here.
listen $port ssl;
ssl_certificate $TLS_CERT;
ssl_certificate_key $TLS_KEY;
ssl_protocols TLSv1.2 TLSv1.3;
ssl_session_cache shared:visage_tls:10m;
add_header Strict-Transport-Security "max-age=31536000" always;
if (\$scheme = http) {
    return 301 $target;
}
CONF
