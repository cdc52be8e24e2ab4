"""The deployment files against the contract (SPEC sections 1 and 6).

Usage: check_deploy.py RENDERED_COMPOSE WORK_DIR
Prints one line per check and a closing 'N passed, N failed' line; exits 1 if any failed.
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"compreface-postgres-db", "compreface-admin", "compreface-api", "compreface-core", "compreface-fe"}
ENV_NAMES = {
    "postgres_username", "postgres_password", "postgres_db", "postgres_domain", "postgres_port",
    "enable_email_server", "email_host", "email_username", "email_password", "email_from",
    "save_images_to_db", "max_file_size", "max_request_size", "max_detect_size",
    "ADMIN_VERSION", "API_VERSION", "FE_VERSION", "CORE_VERSION", "registry",
}
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_https(nginx, work):
    """HTTPS in one setting: render.sh with TLS=self-signed makes a throwaway certificate
    (openssl), the front door serves HTTPS with HSTS on TLS_PORT and redirects plain HTTP there."""
    front = work / "tls-front"
    (front / "ui").mkdir(parents=True, exist_ok=True)
    (front / "ui/index.html").write_text("<!doctype html><title>Visage</title>")
    # nginx's workers (user nobody under root) read the UI from here.
    for folder in (work, front, front / "ui"):
        folder.chmod(0o755)
    http_port, https_port = free_port(), free_port()
    env = dict(os.environ, TLS="self-signed", TLS_PORT=str(https_port))
    subprocess.run([str(ROOT / "deploy/nginx/render.sh"), str(front / "conf"), str(http_port), str(front / "ui"),
                    "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "10M"], check=True, env=env)
    check("render.sh with TLS=self-signed makes a certificate", (front / "conf/tls/self-signed.crt").is_file())
    server = subprocess.Popen([nginx, "-c", str(front / "conf/nginx.conf"), "-p", str(front / "conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{http_port}/admin/status?x=1", timeout=5)
            redirect = None
        except urllib.error.HTTPError as e:
            redirect = (e.code, e.headers.get("Location"))
        check("plain HTTP redirects to HTTPS", redirect == (301, f"https://127.0.0.1:{https_port}/admin/status?x=1"),
              redirect)
        context = ssl.create_default_context(cafile=str(front / "conf/tls/self-signed.crt"))
        context.check_hostname = False
        with urllib.request.urlopen(f"https://127.0.0.1:{https_port}/", context=context, timeout=5) as answer:
            status, hsts = answer.status, answer.headers.get("Strict-Transport-Security")
            csp = answer.headers.get("Content-Security-Policy") or ""
        check("HTTPS serves the UI with the certificate, HSTS and the browser headers",
              status == 200 and hsts == "max-age=31536000" and "frame-ancestors 'none'" in csp, (status, hsts))
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{https_port}/api/v1/config", context=context, timeout=5)
            down = None
        except urllib.error.HTTPError as e:
            down = (e.code, e.headers.get("Content-Type"), e.read().decode())
        check("over HTTPS a service that is down is nginx's JSON 502",
              down == (502, "application/json", '{"message":"The service is unavailable: try again later","code":0}'),
              down)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(rendered, work):
    compose = yaml.safe_load(Path(rendered).read_text())
    services = compose["services"]
    check("the compose services are CompreFace's", set(services) == SERVICES, sorted(services))

    published = {name: s.get("ports", []) for name, s in services.items() if s.get("ports")}
    ports = [str(p.get("published", "")) + ":" + str(p.get("target", "")) if isinstance(p, dict) else str(p)
             for p in published.get("compreface-fe", [])]
    check("only compreface-fe publishes ports, 8000 -> 80 and 8443 -> 443 (HTTPS)",
          list(published) == ["compreface-fe"] and ports == ["8000:80", "8443:443"], published)

    env_file = ROOT / ".env"
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line and not line.startswith("#"))
    check(".env has every name of SPEC section 6", ENV_NAMES <= set(env), sorted(ENV_NAMES - set(env)))
    raw = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", raw))
    check("every variable docker-compose.yml uses without a default is in .env", used <= set(env), sorted(used - set(env)))

    def healthy_deps(name):
        deps = services[name].get("depends_on", {})
        return {d for d, c in deps.items() if c.get("condition") == "service_healthy"} if isinstance(deps, dict) else set()

    check("the front door waits for healthy admin, api and core",
          healthy_deps("compreface-fe") == {"compreface-admin", "compreface-api", "compreface-core"}, healthy_deps("compreface-fe"))
    check("api waits for a healthy database and core",
          healthy_deps("compreface-api") == {"compreface-postgres-db", "compreface-core"}, healthy_deps("compreface-api"))
    check("admin waits for a healthy database", healthy_deps("compreface-admin") == {"compreface-postgres-db"})

    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, re.M))
    targets = {s["build"]["target"] for s in services.values() if "build" in s}
    check("every compose build target is a Dockerfile stage", targets <= stages, sorted(targets - stages))
    check("every service image has a health check",
          all(f"FROM runtime AS {t}" not in dockerfile or "HEALTHCHECK" in dockerfile.split(f"AS {t}")[1].split("FROM")[0]
              for t in ("core", "api", "admin")) and "HEALTHCHECK" in dockerfile.split("AS gateway")[1])
    runtime = dockerfile.split("AS runtime")[1].split("FROM")[0]
    check("the service images run as a non-root user", "USER visage" in runtime)

    gpu_file = Path(work) / "docker-compose.gpu.yml"
    if gpu_file.exists():
        gpu = yaml.safe_load(gpu_file.read_text())["services"]
        check("the GPU compose file has the same services", set(gpu) == SERVICES, sorted(gpu))
        core = gpu.get("compreface-core", {})
        devices = core.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
        check("the GPU compose file's core reserves an NVIDIA GPU",
              any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices), devices)
        check("the GPU compose file's core runs the GPU image on CUDA",
              core.get("build", {}).get("target") == "core-gpu"
              and core.get("environment", {}).get("INFERENCE_DEVICE") == "cuda", core)
        others = {name: s for name, s in gpu.items() if name != "compreface-core"}
        check("the GPU compose file differs from docker-compose.yml in core alone",
              others == {name: s for name, s in services.items() if name != "compreface-core"})
        gpu_stage = dockerfile.split("AS core-gpu")[1].split("FROM")[0]
        check("the GPU image runs as a non-root user and has a health check",
              "USER visage" in gpu_stage and "HEALTHCHECK" in gpu_stage)

    template = (ROOT / "deploy/nginx/visage.conf.template").read_text()
    start = (ROOT / "scripts/start.sh").read_text()
    ui_run = (ROOT / "tests/ui/run.sh").read_text()
    render = (ROOT / "deploy/nginx/render.sh").read_text()
    check("start.sh, the browser tests and the gateway image use the one nginx template",
          "deploy/nginx/render.sh" in start and "deploy/nginx/render.sh" in ui_run
          and '"$here/visage.conf.template"' in render and "deploy/nginx/visage.conf.template" in dockerfile
          and all("location /" not in text for text in (start, ui_run, render)))
    check("start.sh binds the services to 127.0.0.1 unless SERVICES_HOST says otherwise",
          'services_host="${SERVICES_HOST:-127.0.0.1}"' in start
          and all(f'{name}_HOST="$services_host"' in start for name in ("CORE", "API", "ADMIN")))
    for route in ("location / {", "location /admin/ {", "location /api/v1/ {", "location = /core/status {"):
        check(f"the front door has `{route}`", route in template)
    check("the front door serves nothing of core but its status",
          re.search(r"location /core/ \{\s*default_type application/json;\s*return 404", template) is not None)
    check("index.html is not cached, hashed assets are",
          re.search(r'default\s+"no-cache";', template) is not None and "immutable" in template
          and "add_header Cache-Control $visage_cache_control;" in template)

    nginx = shutil.which("nginx")
    if nginx:
        work = Path(work)
        subprocess.run([str(ROOT / "deploy/nginx/render.sh"), str(work / "front"), "18000", str(work / "ui"),
                        "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "10M"], check=True)
        rendered_conf = (work / "front/visage.conf").read_text()
        left = re.findall(r"\$\{[A-Z_]+\}", rendered_conf)
        check("render.sh fills every variable of the template", not left, left)
        test = subprocess.run([nginx, "-t", "-q", "-c", str(work / "front/nginx.conf"), "-p", str(work / "front")],
                              capture_output=True, text=True)
        check("nginx -t accepts the rendered front door", test.returncode == 0, test.stderr.strip())
        check_https(nginx, work)

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
