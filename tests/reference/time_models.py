"""Times the reference models on onnxruntime at the input shapes of Visage's criterion benches
(crates/inference/benches/inference.rs), and the reference pipeline's detection plus embeddings
on the benches' photos, for the comparison in docs/benchmarks.md.

    tests/.venv/bin/python tests/reference/time_models.py [--models models] [--threads 1 2]
"""

import argparse
import os
import time

import cv2
import numpy as np
import onnxruntime as ort

from pipeline import ReferencePipeline

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PHOTOS = [("1 face", "007_B.jpg"), ("8 faces", "016_8.jpg")]

CASES = [
    ("scrfd_500m_bnkps.onnx", (1, 3, 640, 640)),
    ("scrfd_500m_bnkps.onnx", (1, 3, 448, 640)),
    ("scrfd_500m_bnkps.onnx", (1, 3, 256, 256)),
    ("retinaface_mnet025.onnx", (1, 3, 640, 640)),
    ("retinaface_mnet025.onnx", (1, 3, 448, 640)),
    ("w600k_mbf.onnx", (1, 3, 112, 112)),
]


def timed(fn, runs):
    """Median wall and calling-thread CPU milliseconds of `fn()`. With one intra-op thread,
    onnxruntime runs on the calling thread, so its CPU time is the work, undisturbed by other
    processes on a shared machine."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
    return 1000 * float(np.median(wall)), 1000 * float(np.median(cpu))


def model_ms(session, shape, runs=30):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    name = session.get_inputs()[0].name
    return timed(lambda: session.run(None, {name: x}), runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    print(f"onnxruntime {ort.__version__}")
    for threads in args.threads:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        for file, shape in CASES:
            session = ort.InferenceSession(os.path.join(args.models, file), options,
                                           providers=["CPUExecutionProvider"])
            wall, cpu = model_ms(session, shape)
            print(f"{threads} thread(s)  {file:<26} {shape[3]}x{shape[2]:<4} "
                  f"wall {wall:7.1f} ms  thread CPU {cpu:7.1f} ms")
        ref = ReferencePipeline(args.models, threads=threads)
        for label, name in PHOTOS:
            img = cv2.imread(os.path.join(ROOT, "tests", "fixtures", "upstream-samples", name))
            wall, cpu = timed(lambda: ref.find_faces(img), 10)
            print(f"{threads} thread(s)  detect + embed, {label:<16} "
                  f"wall {wall:7.1f} ms  thread CPU {cpu:7.1f} ms")


if __name__ == "__main__":
    main()
