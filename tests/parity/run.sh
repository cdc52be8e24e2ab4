#!/usr/bin/env bash
# Parity check: Visage's detector + alignment + embedder, on each inference backend, against the onnxruntime reference
# pipeline (tests/reference/pipeline.py, InsightFace's own pre- and post-processing) on the sample
# photos. Fails if any embedding is below 0.99 cosine to the reference's.
#
# Usage: tests/parity/run.sh [extra options for check.py, e.g. --min-cosine 0.995]
# Needs: python3 with venv and pip (packages are installed into tests/.venv), cargo.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/tests/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import onnxruntime, numpy, cv2, skimage" 2>/dev/null ||
  "$venv/bin/python" -m pip install --quiet onnxruntime numpy opencv-python-headless scikit-image

scripts/fetch-models.sh >/dev/null

ours="$(mktemp)"
trap 'rm -f "$ours"' EXIT
# Both backends: tract everywhere, ONNX Runtime where fetch-models.sh fetched its library.
backends=(tract)
[[ -f models/libonnxruntime.so ]] && backends+=(onnxruntime)
for backend in "${backends[@]}"; do
  echo "parity of the $backend backend"
  cargo run --quiet --release -p visage-inference --features onnxruntime --example embed -- \
    --backend "$backend" --threshold 0.5 \
    tests/fixtures/upstream-samples/*.jpg tests/fixtures/image-formats/einstein.jpeg >"$ours"
  "$venv/bin/python" tests/parity/check.py "$ours" --models models "$@"
done
