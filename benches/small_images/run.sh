#!/usr/bin/env bash
# Detecting small images at (or near) their own size instead of upscaling them so that their
# longest side is 640: face counts, landmark and embedding changes, identity separation
# (benches/small_images/compare.py), on the photos smaller than 640 px (the small sample photos,
# the identity-labelled photos, and the group photos scaled down to 480 and 400 px).
#
#   benches/small_images/run.sh [TESTDATA_DIR]     (default ../shared/testdata)
#
# Policies: `upscale` (today: longest side 640), `own-320` and `own-480` (the image's own size,
# at least 320 or 480 px). Detection time per input shape is tract_profile's business
# (docs/benchmarks.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
testdata="${1:-$root/../shared/testdata}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
py="$root/tests/.venv/bin/python"
[[ -x "$py" ]] || python3 -m venv "$root/tests/.venv"
"$py" -c "import numpy, PIL" 2>/dev/null || "$py" -m pip install --quiet numpy==2.4.6 pillow==13.0.0

mkdir -p "$work/photos"
"$py" - "$root/tests/fixtures/upstream-samples" "$work/photos" <<'PY'
import sys
from pathlib import Path
from PIL import Image
src, out = Path(sys.argv[1]), Path(sys.argv[2])
for f in sorted(src.glob("*.jpg")):
    im = Image.open(f).convert("RGB")
    if max(im.size) < 640:
        im.save(out / f.name, quality=95)
    elif max(im.size) <= 1000:   # the group photos, as a phone or camera thumbnail would send them
        for side in (480, 400):
            scale = side / max(im.size)
            small = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
            small.save(out / f"{f.stem}_at{side}_{f.stem.split('_')[-1]}.jpg", quality=95)
PY
files=("$work"/photos/*.jpg)
while IFS= read -r f; do files+=("$f"); done < <(find "$testdata/identities" -name '*.jpg' | sort)

cargo build --quiet --release -p visage-inference --features onnxruntime --example embed
embed="${CARGO_TARGET_DIR:-$root/target}/release/examples/embed"
backend="${BACKEND:-onnxruntime}"

"$embed" --backend "$backend" --max-detect-size 640 "${files[@]}" > "$work/upscale.json" 2>/dev/null
for min in 320 480; do
  # One run per detect size: the image's longest side, at least $min (and at most 640).
  declare -A groups=()
  for f in "${files[@]}"; do
    side=$("$py" -c "import sys; from PIL import Image; print(max(Image.open(sys.argv[1]).size))" "$f")
    size=$(( side < min ? min : (side > 640 ? 640 : side) ))
    groups[$size]+="$f"$'\n'
  done
  parts=()
  for size in "${!groups[@]}"; do
    mapfile -t group < <(printf '%s' "${groups[$size]}")
    "$embed" --backend "$backend" --max-detect-size "$size" "${group[@]}" > "$work/part-$min-$size.json" 2>/dev/null
    parts+=("$work/part-$min-$size.json")
  done
  "$py" -c "import json,sys; print(json.dumps([r for p in sys.argv[1:] for r in json.load(open(p))]))" "${parts[@]}" \
    > "$work/own-$min.json"
  unset groups
done
# w600k_mbf's similarity coefficients (EmbedderKind::similarity_coefficients).
"$py" benches/small_images/compare.py "$work" 1.11 5.5 upscale,own-320,own-480
