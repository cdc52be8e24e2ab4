"""Times, in-process, the onnxruntime reference pipeline (tests/reference/pipeline.py) on the
work of one ``/find_faces?face_plugins=calculator`` request, whole and stage by stage: the
counterpart of core-service's ``find_faces_stages`` example, with the same stages.

    python reference_stages.py [--models DIR] [--runs N] [--threads N] FILES...

For each file, after one warm-up, ``N`` runs (default 30) of:

* ``request``: ``cv2.imdecode`` then ``ReferencePipeline.find_faces`` (detect, align, embed);
* ``decode``: ``cv2.imdecode`` (``IMREAD_COLOR``);
* ``resize``: SCRFD's resize to 640 (``cv2.resize``, bilinear): ``Scrfd.detect`` on the decoded
  image minus ``Scrfd.detect`` on the image already at that size;
* ``detect``: ``Scrfd.detect`` on the resized image (padding, blob, network, decoding, NMS), of
  which ``detect_net`` is onnxruntime's ``run`` alone;
* ``align``: ``norm_crop`` of each face; ``embed``: w600k_mbf on each crop (blob, run, norm).

Prints one JSON object per file with each stage's median and 90th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
from pipeline import ReferencePipeline, norm_crop  # noqa: E402

STAGES = ("request", "decode", "resize", "detect", "detect_net", "align", "embed")


class TimedSession:
    """An onnxruntime session whose ``run`` calls add their time to ``elapsed``."""

    def __init__(self, session):
        self.session = session
        self.elapsed = 0.0

    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.session.run(*args, **kwargs)
        finally:
            self.elapsed += time.perf_counter() - started


def detector_input(img: np.ndarray, size: int) -> np.ndarray:
    """The image at the size ``Scrfd.detect`` resizes it to (longest side `size`, the other
    truncated), so that detecting on it skips nothing but the resize."""
    ratio = img.shape[0] / img.shape[1]
    if ratio > 1.0:
        new_h, new_w = size, int(size / ratio)
    else:
        new_w, new_h = size, int(size * ratio)
    return cv2.resize(img, (new_w, new_h))


def ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(max(math.ceil(q * len(ordered)), 1), len(ordered)) - 1], 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None,
                    help="onnxruntime intra-op threads per model (default: onnxruntime's)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    ref = ReferencePipeline(args.models, threads=args.threads)
    timed = TimedSession(ref.detector.session)
    ref.detector.session = timed
    for path in args.files:
        with open(path, "rb") as f:
            data = np.frombuffer(f.read(), np.uint8)
        samples = {stage: [] for stage in STAGES}
        for run in range(args.runs + 1):
            t = time.perf_counter()
            faces = ref.find_faces(cv2.imdecode(data, cv2.IMREAD_COLOR))
            request_ms = ms(t)

            t = time.perf_counter()
            img = cv2.imdecode(data, cv2.IMREAD_COLOR)
            decode_ms = ms(t)

            t = time.perf_counter()
            detections = ref.detector.detect(img)
            detect_full_ms = ms(t)
            resized = detector_input(img, ref.detector.det_size)
            timed.elapsed = 0.0
            t = time.perf_counter()
            ref.detector.detect(resized)
            detect_ms = ms(t)
            net_ms = timed.elapsed * 1000.0
            if len(detections) != len(faces):
                raise SystemExit(f"{path}: the stages found {len(detections)} faces, the request {len(faces)}")

            align_ms = embed_ms = 0.0
            for face in detections:
                t = time.perf_counter()
                chip = norm_crop(img, face.landmarks)
                align_ms += ms(t)
                t = time.perf_counter()
                ref.embedder.embed_aligned(chip)
                embed_ms += ms(t)
            if run == 0:
                continue  # warm-up
            values = (request_ms, decode_ms, max(detect_full_ms - detect_ms, 0.0), detect_ms, net_ms,
                      align_ms, embed_ms)
            for stage, value in zip(STAGES, values):
                samples[stage].append(value)
        stats = {s: {"p50": percentile(v, 0.5), "p90": percentile(v, 0.9)} for s, v in samples.items()}
        print(json.dumps({"file": os.path.basename(path), "runs": args.runs, "threads": args.threads, "ms": stats}))


if __name__ == "__main__":
    main()
