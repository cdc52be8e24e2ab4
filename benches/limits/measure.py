"""Peak memory of the worst calls the limits allow (docs/benchmarks.md, "Bounded work").

Starts nothing itself: benches/limits/run.sh starts PostgreSQL, core-, api- and admin-service
(the dev-profile binaries scripts/build.sh stamps), then runs this with their ports and pids.

1. api-service: a recognition collection of FACES faces written in bulk, loaded; then each
   call below, one after the other, with the process's peak resident memory (VmHWM) read from
   /proc before and after:
   - MAX_EMBEDDINGS (1000) embeddings with prediction_count 10: 10 000 matches, the most one
     answer holds (MAX_MATCHES), and a 6 MB body;
   - 2 embeddings with prediction_count 5000: 10 000 matches;
   - the call that was accepted before the limits: 3000 embeddings with prediction_count -1
     (refused now, 400 code 50).
2. admin-service: 300 bad logins at once; its peak memory before and after, and how long
   /admin/status takes meanwhile.

Usage: measure.py API_PORT API_PID ADMIN_PORT ADMIN_PID DATABASE_URL
"""

import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

FACES = 100_000
KEY = "00000000-0000-0000-0000-000000000002"


def peak_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def unit(n, digits=6):
    v = [random.gauss(0, 1) for _ in range(n)]
    norm = sum(x * x for x in v) ** 0.5
    return [round(x / norm, digits) for x in v]


def main(api_port, api_pid, admin_port, admin_pid, database_url):
    api, admin = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{admin_port}"
    api_pid, admin_pid = int(api_pid), int(admin_pid)
    random.seed(7)
    # A collection of FACES faces: 1000 subjects, random unit embeddings (computed by SQL).
    sql = f"""
    WITH demo AS (SELECT id FROM models WHERE api_key = '{KEY}'),
    s AS (INSERT INTO subjects (model_id, name) SELECT demo.id, 'person ' || g FROM demo, generate_series(1, 1000) g
          ON CONFLICT DO NOTHING RETURNING id, model_id)
    INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator)
    SELECT s.model_id, s.id,
           (SELECT string_agg(float4send((random() - 0.5)::float4), ''::bytea) FROM generate_series(1, 512) WHERE g > 0),
           512, (SELECT calculator FROM faces LIMIT 1)
    FROM s, generate_series(1, {FACES // 1000}) g"""
    started = time.monotonic()
    subprocess.run(["psql", "-q", database_url, "-c", sql], check=True)
    print(f"wrote {FACES} faces in {time.monotonic() - started:.1f} s")
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    url = f"{api}/api/v1/recognition/embeddings/recognize"
    status, _ = post(url + "?prediction_count=1", json.dumps({"embeddings": [unit(512)]}).encode(), headers)
    assert status == 200, status
    time.sleep(1)
    print(f"api-service with the collection loaded: {rss_mib(api_pid):.0f} MiB resident, peak {peak_mib(api_pid):.0f} MiB")
    calls = [
        ("1000 embeddings x prediction_count 10 (10 000 matches)", 1000, "10"),
        ("2 embeddings x prediction_count 5000 (10 000 matches)", 2, "5000"),
        ("3000 embeddings x prediction_count -1 (refused)", 3000, "-1"),
    ]
    for name, count, prediction_count in calls:
        # Three decimals: 3000 embeddings of 512 values fit a 10 MB body, as in the call the
        # limits were made for.
        body = json.dumps({"embeddings": [unit(512, 3) for _ in range(count)]}, separators=(",", ":")).encode()
        before = peak_mib(api_pid)
        started = time.monotonic()
        status, answer = post(f"{url}?prediction_count={prediction_count}&similarity_threshold=0", body, headers)
        took = time.monotonic() - started
        print(f"{name}: {status}, body {len(body) / 2**20:.1f} MB, answer {len(answer) / 2**20:.2f} MB, "
              f"{took * 1000:.0f} ms; peak {before:.0f} -> {peak_mib(api_pid):.0f} MiB")

    # admin-service: 300 bad logins at once.
    before_rss, before_peak = rss_mib(admin_pid), peak_mib(admin_pid)
    answers = []

    def login(i):
        body = f"grant_type=password&username=nobody{i}@example.com&password=wrong".encode()
        answers.append(post(f"{admin}/admin/oauth/token", body, {
            "authorization": "Basic Q29tbW9uQ2xpZW50SWQ6cGFzc3dvcmQ=",
            "content-type": "application/x-www-form-urlencoded",
            "x-forwarded-for": f"198.51.{i // 250}.{i % 250}",
        })[0])

    threads = [threading.Thread(target=login, args=(i,)) for i in range(300)]
    for t in threads:
        t.start()
    status_times = []
    for _ in range(5):
        started = time.monotonic()
        with urllib.request.urlopen(f"{admin}/admin/status", timeout=30) as answer:
            answer.read()
        status_times.append((time.monotonic() - started) * 1000)
    for t in threads:
        t.join()
    counts = {s: answers.count(s) for s in sorted(set(answers))}
    print(f"admin-service, 300 bad logins at once: answers {counts}; /admin/status during the flood "
          f"{min(status_times):.0f}-{max(status_times):.0f} ms; resident {before_rss:.0f} -> {rss_mib(admin_pid):.0f} MiB, "
          f"peak {before_peak:.0f} -> {peak_mib(admin_pid):.0f} MiB")


if __name__ == "__main__":
    main(*sys.argv[1:])
