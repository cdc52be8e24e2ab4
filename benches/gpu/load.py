"""Concurrent load on core-service's /find_faces?face_plugins=calculator: N clients, each with its
own keep-alive connection, sending the same photo for a fixed number of requests after a warm-up.
Prints one JSON line per run: clients, requests, p50/p90/p99 latency (ms) and throughput (req/s).

Usage: load.py --url http://127.0.0.1:3000 --clients 8 --requests 20 PHOTO
Standard library only (runs on a machine without network access).
"""

import argparse
import http.client
import json
import threading
import time
import uuid
from urllib.parse import urlparse


def body_of(path):
    boundary = uuid.uuid4().hex
    with open(path, "rb") as f:
        data = f.read()
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def client(url, body, content_type, warmup, count, out, faces):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    for i in range(warmup + count):
        started = time.perf_counter()
        conn.request("POST", "/find_faces?face_plugins=calculator", body, {"Content-Type": content_type})
        response = conn.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {payload[:200]!r}")
        if i == 0:
            faces.append(len(json.loads(payload)["result"]))
        if i >= warmup:
            out.append(elapsed)
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--requests", type=int, default=20, help="timed requests per client")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("photo")
    args = ap.parse_args()
    body, content_type = body_of(args.photo)
    latencies, faces, threads = [], [], []
    started = time.perf_counter()
    for _ in range(args.clients):
        t = threading.Thread(target=client, args=(args.url, body, content_type, args.warmup, args.requests, latencies, faces))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)
    total = args.clients * (args.warmup + args.requests)
    print(json.dumps({"clients": args.clients, "faces": faces[0] if faces else None, "requests": len(latencies),
                      "p50_ms": pick(0.5), "p90_ms": pick(0.9), "p99_ms": pick(0.99),
                      "throughput_per_s": round(total / wall, 1)}))


if __name__ == "__main__":
    main()
