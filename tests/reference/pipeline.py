"""Reference face pipeline on onnxruntime, written to match InsightFace's Python package.

This is what Visage's Rust engine is checked against (tests/parity/) and timed against (the HTTP
latency benchmark). It reproduces, step by step:

* ``insightface/model_zoo/scrfd.py``: the image is resized (``cv2.resize``, bilinear) to fit
  ``det_size`` x ``det_size`` keeping its aspect ratio (upscaling small images, as InsightFace
  does), pasted into the top-left corner of a black ``det_size`` square, normalised with
  ``cv2.dnn.blobFromImage(img, 1/128, mean 127.5, swapRB=True)``; anchor centres for strides 8, 16,
  32 with two anchors per cell; score threshold ``det_thresh`` (0.5); NMS at IoU 0.4 with
  InsightFace's ``+1`` box areas; boxes and landmarks divided by the resize factor.
* ``insightface/utils/face_align.py`` ``norm_crop``: a ``skimage.transform.SimilarityTransform``
  estimated from the five landmarks to ``arcface_dst`` and ``cv2.warpAffine`` to 112x112, black
  border.
* ``insightface/model_zoo/arcface_onnx.py``: ``blobFromImages(1/127.5, mean 127.5, swapRB=True)``;
  the raw output is L2-normalised here (InsightFace's ``normed_embedding``).

Images are BGR ``numpy`` arrays as returned by ``cv2.imread``.

Usage as a module::

    from pipeline import ReferencePipeline
    ref = ReferencePipeline("models")
    faces = ref.find_faces(cv2.imread("photo.jpg"))   # [{"box", "score", "landmarks", "embedding"}]
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort
from skimage import transform as trans

ARCFACE_DST = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def _session(path: str, threads: int | None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


@dataclass
class Face:
    box: np.ndarray  # x1, y1, x2, y2 in original pixels
    score: float
    landmarks: np.ndarray  # 5 x 2


class Scrfd:
    """SCRFD as ``insightface.model_zoo.scrfd.SCRFD`` runs it."""

    strides = (8, 16, 32)
    num_anchors = 2

    def __init__(self, path: str, det_size: int = 640, det_thresh: float = 0.5,
                 nms_thresh: float = 0.4, threads: int | None = None):
        self.session = _session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.det_size = det_size
        self.det_thresh = det_thresh
        self.nms_thresh = nms_thresh
        self._centres: dict = {}

    def _forward(self, det_img: np.ndarray, threshold: float):
        blob = cv2.dnn.blobFromImage(det_img, 1.0 / 128.0, det_img.shape[1::-1],
                                     (127.5, 127.5, 127.5), swapRB=True)
        outs = self.session.run(self.output_names, {self.input_name: blob})
        h, w = blob.shape[2:]
        scores_l, boxes_l, kps_l = [], [], []
        for idx, stride in enumerate(self.strides):
            scores = outs[idx][0]
            bbox = outs[idx + 3][0] * stride
            kps = outs[idx + 6][0] * stride
            fh, fw = h // stride, w // stride
            key = (fh, fw, stride)
            centres = self._centres.get(key)
            if centres is None:
                centres = np.stack(np.mgrid[:fh, :fw][::-1], axis=-1).astype(np.float32)
                centres = (centres * stride).reshape((-1, 2))
                centres = np.stack([centres] * self.num_anchors, axis=1).reshape((-1, 2))
                self._centres[key] = centres
            pos = np.where(scores >= threshold)[0]
            boxes = np.stack([centres[:, 0] - bbox[:, 0], centres[:, 1] - bbox[:, 1],
                              centres[:, 0] + bbox[:, 2], centres[:, 1] + bbox[:, 3]], axis=-1)
            points = np.empty((kps.shape[0], 5, 2), dtype=np.float32)
            for j in range(5):
                points[:, j, 0] = centres[:, 0] + kps[:, 2 * j]
                points[:, j, 1] = centres[:, 1] + kps[:, 2 * j + 1]
            scores_l.append(scores[pos])
            boxes_l.append(boxes[pos])
            kps_l.append(points[pos])
        return scores_l, boxes_l, kps_l

    def _nms(self, dets: np.ndarray) -> list[int]:
        x1, y1, x2, y2, scores = dets[:, 0], dets[:, 1], dets[:, 2], dets[:, 3], dets[:, 4]
        areas = (x2 - x1 + 1) * (y2 - y1 + 1)
        order = scores.argsort()[::-1]
        keep = []
        while order.size > 0:
            i = order[0]
            keep.append(i)
            xx1 = np.maximum(x1[i], x1[order[1:]])
            yy1 = np.maximum(y1[i], y1[order[1:]])
            xx2 = np.minimum(x2[i], x2[order[1:]])
            yy2 = np.minimum(y2[i], y2[order[1:]])
            w = np.maximum(0.0, xx2 - xx1 + 1)
            h = np.maximum(0.0, yy2 - yy1 + 1)
            inter = w * h
            ovr = inter / (areas[i] + areas[order[1:]] - inter)
            order = order[np.where(ovr <= self.nms_thresh)[0] + 1]
        return keep

    def detect(self, img: np.ndarray, threshold: float | None = None) -> list[Face]:
        threshold = self.det_thresh if threshold is None else threshold
        size = self.det_size
        im_ratio = img.shape[0] / img.shape[1]
        if im_ratio > 1.0:
            new_h, new_w = size, int(size / im_ratio)
        else:
            new_w, new_h = size, int(size * im_ratio)
        det_scale = new_h / img.shape[0]
        det_img = np.zeros((size, size, 3), dtype=np.uint8)
        det_img[:new_h, :new_w, :] = cv2.resize(img, (new_w, new_h))
        scores_l, boxes_l, kps_l = self._forward(det_img, threshold)
        scores = np.concatenate(scores_l).ravel()
        if scores.size == 0:
            return []
        order = scores.argsort()[::-1]
        boxes = np.vstack(boxes_l) / det_scale
        kps = np.concatenate(kps_l) / det_scale
        pre = np.hstack((boxes, scores[:, None])).astype(np.float32)[order]
        keep = self._nms(pre)
        kps = kps[order][keep]
        pre = pre[keep]
        faces = [Face(box=p[:4], score=float(p[4]), landmarks=k) for p, k in zip(pre, kps)]
        faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        return faces


def norm_crop(img: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """``insightface.utils.face_align.norm_crop`` (arcface mode)."""
    src = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    dst = ARCFACE_DST * (size / 112.0)
    if hasattr(trans.SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        tform = trans.SimilarityTransform.from_estimate(src, dst)
    else:
        tform = trans.SimilarityTransform()
        tform.estimate(src, dst)
    m = tform.params[0:2, :]
    return cv2.warpAffine(img, m, (size, size), borderValue=0.0)


class ArcFace:
    """An ArcFace-family embedder as ``insightface.model_zoo.arcface_onnx.ArcFaceONNX`` runs it."""

    def __init__(self, path: str, threads: int | None = None):
        self.session = _session(path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def embed_aligned(self, chip: np.ndarray) -> np.ndarray:
        blob = cv2.dnn.blobFromImages([chip], 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
        raw = self.session.run(None, {self.input_name: blob})[0].ravel()
        return raw / np.linalg.norm(raw)

    def embed(self, img: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return self.embed_aligned(norm_crop(img, landmarks))


class ReferencePipeline:
    """Detector + embedder, the models of Visage's default set."""

    def __init__(self, models_dir: str = "models", det_size: int = 640, det_thresh: float = 0.5,
                 threads: int | None = None):
        self.detector = Scrfd(os.path.join(models_dir, "scrfd_500m_bnkps.onnx"), det_size, det_thresh,
                              threads=threads)
        self.embedder = ArcFace(os.path.join(models_dir, "w600k_mbf.onnx"), threads=threads)

    def find_faces(self, img: np.ndarray, threshold: float | None = None, embed: bool = True) -> list[dict]:
        out = []
        for face in self.detector.detect(img, threshold):
            item = {
                "box": [float(v) for v in face.box],
                "score": face.score,
                "landmarks": face.landmarks.tolist(),
            }
            if embed:
                item["embedding"] = self.embedder.embed(img, face.landmarks).tolist()
            out.append(item)
        return out
