#!/usr/bin/env bash
# core-service against the onnxruntime reference pipeline on the same work: /find_faces with
# face_plugins=calculator (detector + embedder), over HTTP with one client (client.py), then
# in-process stage by stage. Results are reported in docs/benchmarks.md.
#
#   1. builds the release core-service and its find_faces_stages example;
#   2. starts, on free ports of 127.0.0.1: core-service (release, default settings: the onnxruntime
#      backend), a second one with INTRA_OP_THREADS=1, a third on the tract backend; the reference
#      server (reference_server.py) with onnxruntime's default intra-op threads, and a second one
#      limited to one intra-op thread per model;
#   3. client.py: single client and concurrent clients, the targets taking turns;
#   4. in-process stage timings: find_faces_stages (both backends) and reference_stages.py, each
#      with both thread settings.
#
# Usage: benches/find_faces/run.sh [IMAGES...]   (default: 009_C.jpg and 004_A.jpg of the samples)
# Environment: REQUESTS (timed requests per client, default 40), CLIENTS (default 2),
#              RUNS (in-process runs, default 30), OUT (a directory for the JSON results).
# Needs: python3 with venv and pip (packages go into tests/.venv, shared with tests/parity), cargo.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
here="$root/benches/find_faces"
venv="$root/tests/.venv"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
requests="${REQUESTS:-40}"
clients="${CLIENTS:-2}"
runs="${RUNS:-30}"
if [[ $# -gt 0 ]]; then
    images=("$@")
else
    images=(tests/fixtures/upstream-samples/009_C.jpg tests/fixtures/upstream-samples/004_A.jpg)
fi

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import onnxruntime, numpy, cv2, skimage" 2>/dev/null ||
    "$venv/bin/python" -m pip install --quiet onnxruntime numpy opencv-python-headless scikit-image
scripts/fetch-models.sh >/dev/null
# The same package set as scripts/start.sh, so both share one build of the dependencies.
cargo build --release --locked -p core-service -p api-service --bins --example find_faces_stages

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
    "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

core_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$core_port" MODELS_DIR="$root/models" RUST_LOG=warn \
    "$target_dir/release/core-service" &
pids+=($!)
core1_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$core1_port" MODELS_DIR="$root/models" RUST_LOG=warn INTRA_OP_THREADS=1 \
    "$target_dir/release/core-service" &
pids+=($!)
tract_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$tract_port" MODELS_DIR="$root/models" RUST_LOG=warn INFERENCE_BACKEND=tract \
    "$target_dir/release/core-service" &
pids+=($!)
ref_port="$(free_port)"
"$venv/bin/python" "$here/reference_server.py" --port "$ref_port" --models "$root/models" &
pids+=($!)
ref1_port="$(free_port)"
"$venv/bin/python" "$here/reference_server.py" --port "$ref1_port" --models "$root/models" --threads 1 &
pids+=($!)

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version)"
"$venv/bin/python" -c 'import sys, onnxruntime, cv2, numpy; print(f"python {sys.version.split()[0]}, onnxruntime {onnxruntime.__version__}, opencv {cv2.__version__}, numpy {numpy.__version__}")'

json_args=()
if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    json_args=(--json "$OUT/http.json")
fi
echo
echo "== HTTP /find_faces?face_plugins=calculator ($requests timed requests per client)"
"$venv/bin/python" "$here/client.py" --requests "$requests" --clients "$clients" "${json_args[@]}" \
    --target "ours=http://127.0.0.1:$core_port" \
    --target "ours-1t=http://127.0.0.1:$core1_port" \
    --target "ours-tract=http://127.0.0.1:$tract_port" \
    --target "reference=http://127.0.0.1:$ref_port" \
    --target "reference-1t=http://127.0.0.1:$ref1_port" \
    "${images[@]}"
cleanup
pids=()

echo
for backend in onnxruntime tract; do
    echo "== in-process stages, ms (ours on $backend: core-service's pipeline, default INTRA_OP_THREADS)"
    "$target_dir/release/examples/find_faces_stages" --backend "$backend" --models "$root/models" --runs "$runs" \
        "${images[@]}" | tee ${OUT:+"$OUT/stages-ours-$backend.jsonl"}
    echo "== in-process stages, ms (ours on $backend, INTRA_OP_THREADS=1)"
    "$target_dir/release/examples/find_faces_stages" --backend "$backend" --models "$root/models" --runs "$runs" \
        --threads 1 "${images[@]}" | tee ${OUT:+"$OUT/stages-ours-$backend-1t.jsonl"}
done
echo "== in-process stages, ms (reference, onnxruntime default threads, then 1 thread)"
"$venv/bin/python" "$here/reference_stages.py" --models "$root/models" --runs "$runs" "${images[@]}" |
    tee ${OUT:+"$OUT/stages-reference.jsonl"}
"$venv/bin/python" "$here/reference_stages.py" --models "$root/models" --runs "$runs" --threads 1 "${images[@]}" |
    tee ${OUT:+"$OUT/stages-reference-1t.jsonl"}
