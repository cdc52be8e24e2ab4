"""HTTP load client for ``POST /find_faces?face_plugins=calculator``: the same requests, sent the
same way, to every target given, so core-service and the reference server are measured alike.

    python client.py --target ours=http://127.0.0.1:3000 --target reference=http://127.0.0.1:3001 \
        [--requests 40] [--warmup 5] [--block 10] [--clients 2] [--json OUT] IMAGE...

For each image, after ``--warmup`` requests per target (whose answers are checked: at least one
face, every face with a 512-value embedding, the same face count from every target):

* single client: one keep-alive connection per target, requests one after another, until each
  target has ``--requests`` timed requests; p50 and p90 of the latencies;
* ``--clients`` concurrent clients: that many threads, each with its own keep-alive connection,
  each sending ``--requests`` requests; throughput (requests per second of wall time) and the
  p50 and p90 of the latencies.

Each row also gives the 1-minute load average when it finished, since the machine may be shared.

Targets take turns in blocks of ``--block`` requests (per client), so a change of background
load during the run is shared between them instead of landing on one. A latency is the wall
time from sending the request to having read the whole answer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import threading
import time
import uuid
from urllib.parse import urlsplit

PATH = "/find_faces?face_plugins=calculator"


def multipart(name: str, data: bytes) -> tuple[str, bytes]:
    """A multipart body with one part `file`, as the CompreFace SDKs send it."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n').encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


class Target:
    def __init__(self, spec: str):
        self.name, _, url = spec.partition("=")
        parts = urlsplit(url)
        if not self.name or not parts.hostname or not parts.port:
            raise SystemExit(f"--target NAME=http://HOST:PORT expected, got {spec!r}")
        self.host, self.port = parts.hostname, parts.port

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def wait_healthy(self, seconds: float = 180.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                conn = self.connect()
                conn.request("GET", "/healthcheck")
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} does not answer /healthcheck on port {self.port}")
            time.sleep(0.2)


def send(conn: http.client.HTTPConnection, content_type: str, body: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    conn.request("POST", PATH, body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000.0
    if response.status != 200:
        raise SystemExit(f"HTTP {response.status}: {data[:300]!r}")
    return elapsed, json.loads(data)


def check(target: Target, answer: dict) -> int:
    faces = answer.get("result", [])
    if not faces or any(len(f.get("embedding", [])) != 512 for f in faces):
        raise SystemExit(f"{target.name}: unexpected answer {json.dumps(answer)[:300]}")
    return len(faces)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the value below which a share `q` of the values lie."""
    ordered = sorted(values)
    rank = min(max(math.ceil(q * len(ordered)), 1), len(ordered))
    return ordered[rank - 1]


def run_block(target: Target, conns: list, content_type: str, body: bytes, count: int, out: list) -> float:
    """`count` requests on each connection, the connections in parallel; returns the wall time."""
    def worker(conn):
        for _ in range(count):
            out.append(send(conn, content_type, body)[0])

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def measure(targets: list[Target], image: str, args) -> list[dict]:
    with open(image, "rb") as f:
        content_type, body = multipart(os.path.basename(image), f.read())
    counts = {}
    for target in targets:
        conn = target.connect()
        for _ in range(args.warmup):
            counts[target.name] = check(target, send(conn, content_type, body)[1])
        conn.close()
    if len(set(counts.values())) != 1:
        raise SystemExit(f"{image}: the targets disagree on the number of faces: {counts}")

    rows = []
    for clients in (1, args.clients):
        latencies = {t.name: [] for t in targets}
        wall = {t.name: 0.0 for t in targets}
        conns = {t.name: [t.connect() for _ in range(clients)] for t in targets}
        per_client = args.requests
        done = 0
        while done < per_client:
            block = min(args.block, per_client - done)
            for target in targets:
                wall[target.name] += run_block(target, conns[target.name], content_type, body, block,
                                               latencies[target.name])
            done += block
        for target in targets:
            for conn in conns[target.name]:
                conn.close()
            values = latencies[target.name]
            rows.append({
                "image": os.path.basename(image),
                "target": target.name,
                "clients": clients,
                "requests": len(values),
                "faces": counts[target.name],
                "p50_ms": round(percentile(values, 0.5), 1),
                "p90_ms": round(percentile(values, 0.9), 1),
                "mean_ms": round(sum(values) / len(values), 1),
                "throughput_rps": round(len(values) / wall[target.name], 2),
                "load_average": round(os.getloadavg()[0], 2),
            })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", action="append", required=True, help="NAME=http://HOST:PORT")
    ap.add_argument("--requests", type=int, default=40, help="timed requests per client and target")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--block", type=int, default=10, help="requests per client before the next target's turn")
    ap.add_argument("--clients", type=int, default=2, help="concurrent clients of the second run")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()

    targets = [Target(spec) for spec in args.target]
    for target in targets:
        target.wait_healthy()
    rows = []
    print(f"{'image':<10} {'target':<16} {'clients':>7} {'n':>4} {'p50 ms':>8} {'p90 ms':>8} {'req/s':>7} {'load':>5}")
    for image in args.images:
        for row in measure(targets, image, args):
            rows.append(row)
            print(f"{row['image']:<10} {row['target']:<16} {row['clients']:>7} {row['requests']:>4} "
                  f"{row['p50_ms']:>8} {row['p90_ms']:>8} {row['throughput_rps']:>7} {row['load_average']:>5}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
