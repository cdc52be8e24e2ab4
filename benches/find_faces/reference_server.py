"""The onnxruntime reference pipeline (tests/reference/pipeline.py) behind a minimal HTTP
``/find_faces``, so that it can be timed over HTTP with the same client as core-service.

    python reference_server.py [--port N] [--models DIR] [--threads N]

It serves what the benchmark sends: ``GET /healthcheck`` and ``POST /find_faces`` with the image
as multipart part ``file`` and ``face_plugins`` in the query (``calculator`` adds the
embedding). A request decodes the image with ``cv2.imdecode``, detects with SCRFD at 640, and
for each face aligns with ``norm_crop`` and embeds with w600k_mbf, then answers core-service's
JSON shape (``box``, ``embedding``, ``execution_time``). No face is a 400, as in core-service.

One process, one thread per connection (``ThreadingHTTPServer``); cv2 and onnxruntime release
the GIL while they compute, so two clients are served in parallel as core-service serves them.
onnxruntime runs each model with its default intra-op thread pool (one thread per physical
core) unless ``--threads`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
from pipeline import ReferencePipeline  # noqa: E402


def multipart_part(content_type: str, body: bytes, name: str) -> bytes | None:
    """The content of the multipart part called `name`, or None."""
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"').encode()
    if not boundary:
        return None
    for part in body.split(b"--" + boundary):
        headers, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        for line in headers.split(b"\r\n"):
            if line.lower().startswith(b"content-disposition:") and f'name="{name}"'.encode() in line:
                return content[:-2] if content.endswith(b"\r\n") else content
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as core-service serves
    pipeline: ReferencePipeline

    def log_message(self, *args):
        pass

    def answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urlsplit(self.path).path == "/healthcheck":
            self.answer(200, {"status": "OK"})
        else:
            self.answer(404, {"message": "not found", "code": 0})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if url.path != "/find_faces":
            self.answer(404, {"message": "not found", "code": 0})
            return
        file = multipart_part(self.headers.get("Content-Type", ""), body, "file")
        if file is None:
            self.answer(400, {"message": "Required part file is missing", "code": 34})
            return
        plugins = ",".join(parse_qs(url.query).get("face_plugins", [])).split(",")
        embed = "calculator" in plugins

        started = time.perf_counter()
        img = cv2.imdecode(np.frombuffer(file, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            self.answer(400, {"message": "The image cannot be decoded", "code": 28})
            return
        decoded = time.perf_counter()
        faces = self.pipeline.detector.detect(img)
        detected = time.perf_counter()
        if not faces:
            self.answer(400, {"message": "No face is found in the given image", "code": 28})
            return
        detector_ms = round((detected - decoded) * 1000 / len(faces))
        result = []
        for face in faces:
            x1, y1, x2, y2 = (int(max(v, 0.0)) for v in face.box)
            item = {
                "box": {"probability": round(face.score, 5), "x_min": x1, "y_min": y1, "x_max": x2, "y_max": y2},
                "execution_time": {"detector": detector_ms},
            }
            if embed:
                t = time.perf_counter()
                item["embedding"] = self.pipeline.embedder.embed(img, face.landmarks).tolist()
                item["execution_time"]["calculator"] = round((time.perf_counter() - t) * 1000)
            result.append(item)
        versions = {"detector": "scrfd_500m_bnkps (onnxruntime)"}
        if embed:
            versions["calculator"] = "w600k_mbf (onnxruntime)"
        self.answer(200, {"plugins_versions": versions, "result": result})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client closing its keep-alive connection is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=3001)
    ap.add_argument("--models", default="models")
    ap.add_argument("--threads", type=int, default=None,
                    help="onnxruntime intra-op threads per model (default: onnxruntime's)")
    args = ap.parse_args()
    Handler.pipeline = ReferencePipeline(args.models, threads=args.threads)
    server = Server((args.host, args.port), Handler)
    print(f"reference /find_faces on {args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
