"""Detecting small images without upscaling them to 640: what changes.

Reads the `embed` example's JSON for each policy (files named POLICY.json in the work directory)
and prints, per policy against the current one (every image's longest side brought to 640):
faces found on photos with a known face count, landmark shift and embedding cosine of the same
faces, and how well the embeddings of identity-labelled photos separate people (false accepts
and rejects at the default match threshold, nearest-neighbour identification).
"""

import json
import math
import sys
from pathlib import Path

import numpy as np

C0, C1 = float(sys.argv[2]), float(sys.argv[3])
work = Path(sys.argv[1])
policies = [p.strip() for p in sys.argv[4].split(",")]


def load(policy):
    return {Path(r["file"]).as_posix(): r for r in json.loads((work / f"{policy}.json").read_text())}


def similarity(a, b):
    d = float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
    return (math.tanh((C0 - d) * C1) + 1) / 2


def expected_faces(path):
    """The face count in a sample photo's name (`016_8.jpg`: 8), or 1 for an identity photo."""
    stem = Path(path).stem
    if "/identities" in path or stem.startswith("portrait"):
        return 1
    tail = stem.split("_")[-1]
    return int(tail) if tail.isdigit() else 1


def iou(a, b):
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0


def identity_of(path):
    parts = Path(path).parts
    return parts[-2] if "identities" in path else None


def separation(results):
    """False accepts / rejects at similarity 0.5 and rank-1 identification over labelled photos."""
    items = [(identity_of(f), r["faces"][0]["embedding"]) for f, r in results.items()
             if identity_of(f) and r["faces"]]
    missing = sum(1 for f, r in results.items() if identity_of(f) and not r["faces"])
    emb = np.asarray([e for _, e in items])
    names = [n for n, _ in items]
    d = np.sqrt(np.maximum(0, 2 - 2 * emb @ emb.T))
    sim = (np.tanh((C0 - d) * C1) + 1) / 2
    fa = fr = genuine = impostor = correct = 0
    for i in range(len(items)):
        order = np.argsort(-sim[i])
        best = next(j for j in order if j != i)
        correct += names[best] == names[i]
        for j in range(i + 1, len(items)):
            if names[i] == names[j]:
                genuine += 1
                fr += sim[i, j] < 0.5
            else:
                impostor += 1
                fa += sim[i, j] >= 0.5
    return dict(photos=len(items), no_face=missing, genuine=genuine, false_rejects=int(fr),
                impostor=impostor, false_accepts=int(fa), rank1=correct / max(1, len(items)))


base = load(policies[0])
print(f"baseline: {policies[0]}")
for policy in policies:
    res = load(policy)
    wrong = []
    shifts, cosines = [], []
    for f, r in res.items():
        n = len(r["faces"])
        if "identities" not in f and n != expected_faces(f):
            wrong.append(f"{Path(f).name}: {n} of {expected_faces(f)}")
        for face in r["faces"]:
            match = max(base[f]["faces"], key=lambda g: iou(g["box"], face["box"]), default=None)
            if match is None or iou(match["box"], face["box"]) < 0.5:
                continue
            lm, lm0 = np.asarray(face["landmarks"]), np.asarray(match["landmarks"])
            eyes = np.linalg.norm(lm0[0] - lm0[1])
            shifts.append(float(np.max(np.linalg.norm(lm - lm0, axis=1)) / eyes))
            a, b = np.asarray(face["embedding"]), np.asarray(match["embedding"])
            cosines.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    sep = separation(res)
    print(f"\n## {policy}")
    print(f"sample photos with a wrong face count: {len(wrong)} {wrong}")
    if shifts:
        print(f"faces matched to the baseline: {len(shifts)}; largest landmark shift / eye distance: "
              f"p50 {np.median(shifts):.3f}, max {max(shifts):.3f}; embedding cosine to the baseline: "
              f"min {min(cosines):.4f}, p50 {np.median(cosines):.4f}, below 0.99: {sum(c < 0.99 for c in cosines)}")
    print(f"identities: {sep}")
