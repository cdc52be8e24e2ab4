"""Compares Visage's faces and embeddings (JSON from the `embed` example) with the reference
pipeline (tests/reference/pipeline.py) on the same files, prints the numbers and fails when an
embedding is below the required cosine.

    python check.py OURS.json [--min-cosine 0.99] [--models DIR]

Faces are matched by box IoU. For each face it prints the detector scores, the largest landmark
difference as a fraction of the inter-ocular distance, the cosine between our embedding and the
reference's (`cos`), and the cosine between ours and the reference embedder run on *our*
landmarks (`cos@ours`), which separates the detector's share of a difference from the
alignment's and the embedder's.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from pipeline import ReferencePipeline  # noqa: E402


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("--min-cosine", type=float, default=0.99)
    ap.add_argument("--models", default="models")
    args = ap.parse_args()

    with open(args.ours) as f:
        ours_all = json.load(f)
    ref = ReferencePipeline(args.models)
    failures = []
    cosines, cosines_at_ours = [], []
    print(f"{'file':<14} {'face':>4} {'score ours/ref':>15} {'lmk diff':>9} {'cos':>8} {'cos@ours':>9}")
    for entry in ours_all:
        path = entry["file"]
        name = os.path.basename(path)
        img = cv2.imread(path)
        if img is None:
            failures.append(f"{name}: the reference cannot read the file")
            continue
        theirs = ref.find_faces(img)
        ours = entry["faces"]
        if len(ours) != len(theirs):
            failures.append(f"{name}: {len(ours)} faces, reference {len(theirs)}")
        for i, r in enumerate(theirs):
            best = max(ours, key=lambda o: iou(o["box"], r["box"]), default=None)
            if best is None or iou(best["box"], r["box"]) < 0.5:
                failures.append(f"{name}: reference face {i} has no match")
                continue
            a, b = np.array(best["embedding"]), np.array(r["embedding"])
            cos = float(a @ b)
            at_ours = float(a @ ref.embedder.embed(img, np.array(best["landmarks"])))
            lr, lo = np.array(r["landmarks"]), np.array(best["landmarks"])
            eyes = np.linalg.norm(lr[0] - lr[1])
            diff = float(np.max(np.linalg.norm(lr - lo, axis=1)) / eyes)
            cosines.append(cos)
            cosines_at_ours.append(at_ours)
            print(f"{name:<14} {i:>4} {best['score']:>7.3f}/{r['score']:<7.3f} {diff:>9.4f} {cos:>8.5f} {at_ours:>9.5f}")
            if cos < args.min_cosine:
                failures.append(f"{name}: face {i} cosine {cos:.5f} < {args.min_cosine}")
    if cosines:
        c, d = np.array(cosines), np.array(cosines_at_ours)
        print(f"\n{len(c)} faces: cos min {c.min():.5f} mean {c.mean():.5f}; "
              f"cos@ours min {d.min():.5f} mean {d.mean():.5f}")
    if failures:
        print("\nPARITY FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"parity OK: every embedding is at least {args.min_cosine} cosine to the reference")


if __name__ == "__main__":
    main()
