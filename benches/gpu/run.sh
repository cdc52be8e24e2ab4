#!/usr/bin/env bash
# /find_faces on a GPU against the CPU of the same machine, in one run of a few minutes.
#
# Starts core-service (a release binary) twice on free ports: on the CPU (INFERENCE_DEVICE=cpu,
# ONNX Runtime's CPU library when present, tract otherwise) and on the GPU (INFERENCE_DEVICE=cuda
# with ONNX Runtime's GPU build: the onnxruntime-gpu library, CUDA 13, and the nvidia-* libraries
# of CUDA and cuDNN on the loader's path). Then load.py sends /find_faces?face_plugins=calculator
# from 1, 8 and 32 concurrent clients, with a one-face photo (009_C.jpg) and an eight-face one
# (016_8.jpg), and prints one JSON line per run; `nvidia-smi` names the GPU.
#
# Usage: benches/gpu/run.sh [CORE_SERVICE_BINARY]   (default: the release build in the target dir)
# Environment:
#   MODELS_DIR           the models (scrfd_500m_bnkps.onnx and w600k_mbf.onnx suffice)
#   ONNXRUNTIME_GPU_LIB  the onnxruntime-gpu library; by default looked for in the Python
#                        packages of this machine (onnxruntime/capi/libonnxruntime.so.*, next to
#                        libonnxruntime_providers_cuda.so)
#   REQUESTS             timed requests per client (default 20)
# Needs: python3 (standard library only), curl.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/benches/gpu"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
core="${1:-$target_dir/release/core-service}"
models="${MODELS_DIR:-$root/models}"
requests="${REQUESTS:-20}"
photos=("$root/tests/fixtures/upstream-samples/009_C.jpg" "$root/tests/fixtures/upstream-samples/016_8.jpg")
[[ -x "$core" ]] || { echo "no core-service binary at $core" >&2; exit 1; }

gpu_lib="${ONNXRUNTIME_GPU_LIB:-}"
if [[ -z "$gpu_lib" ]]; then
    for dir in $(python3 -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
        for lib in "$dir"/onnxruntime/capi/libonnxruntime.so.*; do
            if [[ -f "$lib" && -f "$(dirname "$lib")/libonnxruntime_providers_cuda.so" ]]; then gpu_lib="$lib"; fi
        done
    done
fi
# CUDA's and cuDNN's libraries from the nvidia-* wheels, where the machine has them.
nvidia_paths="$(python3 -c 'import glob, site; print(":".join(sorted(glob.glob(site.getsitepackages()[0] + "/nvidia/*/lib"))))' 2>/dev/null || true)"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() {
    for _ in $(seq 1 300); do
        curl -fsS "$1/status" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "core-service at $1 did not start" >&2
    return 1
}

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "cpu features: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_vnni|avx_vnni|fma|neon|asimd)$' | sort | tr '\n' ' ')"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "gpu: nvidia-smi not available"
echo "onnxruntime-gpu library: ${gpu_lib:-not found}"

declare -A urls
cpu_port="$(free_port)"
CORE_HOST=127.0.0.1 CORE_PORT="$cpu_port" MODELS_DIR="$models" EXTRA_PLUGINS= RUST_LOG=warn \
    INFERENCE_DEVICE=cpu INFERENCE_WORKERS="$(nproc)" "$core" &
pids+=($!)
urls[cpu]="http://127.0.0.1:$cpu_port"
if [[ -n "$gpu_lib" ]]; then
    gpu_port="$(free_port)"
    LD_LIBRARY_PATH="${nvidia_paths}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        CORE_HOST=127.0.0.1 CORE_PORT="$gpu_port" MODELS_DIR="$models" EXTRA_PLUGINS= RUST_LOG=warn \
        INFERENCE_BACKEND=onnxruntime INFERENCE_DEVICE=cuda ONNXRUNTIME_LIB="$gpu_lib" INFERENCE_WORKERS=32 "$core" &
    pids+=($!)
    urls[cuda]="http://127.0.0.1:$gpu_port"
fi

for name in "${!urls[@]}"; do
    wait_ready "${urls[$name]}"
    echo "$name: $(curl -fsS "${urls[$name]}/status" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("inference"))')"
done

echo
echo "== /find_faces?face_plugins=calculator, $requests timed requests per client"
for photo in "${photos[@]}"; do
    for clients in 1 8 32; do
        for name in cpu cuda; do
            [[ -n "${urls[$name]:-}" ]] || continue
            printf '%s %s ' "$name" "$(basename "$photo")"
            python3 "$here/load.py" --url "${urls[$name]}" --clients "$clients" --requests "$requests" "$photo"
        done
    done
done
