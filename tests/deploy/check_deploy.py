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


def envsubst(text, env):
    """The gateway image's rendering: ${NAME} of the defined variables replaced, others kept."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), m.group(0)), text)


def check_replicas(services, template, dockerfile, work):
    """Replicas: compose can scale api and core, nginx and api find every replica, and only the
    calls that store nothing are sent to a second replica."""
    for name in ("compreface-api", "compreface-core", "compreface-admin"):
        service = services[name]
        check(f"{name} can be scaled (no container_name, no published port)",
              "container_name" not in service and not service.get("ports"), service.get("ports"))
    front_env = services["compreface-fe"].get("environment", {})
    check("the front door looks its upstreams' names up again (UPSTREAM_RESOLVE=on)",
          str(front_env.get("UPSTREAM_RESOLVE")) == "on", front_env.get("UPSTREAM_RESOLVE"))
    core_url = services["compreface-api"].get("environment", {}).get("CORE_URL", "")
    check("api-service reaches core by its service name (every replica)", core_url == "http://compreface-core:3000", core_url)

    # The gateway image's entrypoint: the envsh script, then envsubst of the template.
    envsh = (ROOT / "deploy/nginx/gateway-upstreams.envsh").read_text().replace(
        "/usr/local/bin/visage-upstreams.sh", str(ROOT / "deploy/nginx/upstreams.sh"))
    script = envsh + "\nprintf '%s\\0' \"$UPSTREAM_RESOLVER\" \"$ADMIN_SERVERS\" \"$API_SERVERS\" \"$CORE_SERVERS\"\n"
    (work / "envsh.sh").write_text(script)
    env = {"PATH": os.environ.get("PATH", ""), "UPSTREAM_RESOLVE": "on", "NGINX_LOCAL_RESOLVERS": "127.0.0.11",
           "ADMIN_HOST": "compreface-admin:8080", "API_HOST": "compreface-api:8080", "CORE_HOST": "compreface-core:3000"}
    run = subprocess.run(["sh", str(work / "envsh.sh")], env=env, capture_output=True, text=True)
    parts = run.stdout.split("\0")
    check("the gateway image writes a resolver and resolving servers with UPSTREAM_RESOLVE=on",
          run.returncode == 0 and parts[:4] == ["resolver 127.0.0.11 valid=5s;",
                                                "server compreface-admin:8080 max_fails=1 fail_timeout=5s resolve;",
                                                "server compreface-api:8080 max_fails=1 fail_timeout=5s resolve;",
                                                "server compreface-core:3000 max_fails=1 fail_timeout=5s resolve;"],
          (run.returncode, parts, run.stderr))
    rendered = envsubst(template, dict(zip(["UPSTREAM_RESOLVER", "ADMIN_SERVERS", "API_SERVERS", "CORE_SERVERS"], parts)))
    check("the gateway image's rendering fills the upstreams",
          "upstream visage_api {\n    zone visage_api 64k;\n    server compreface-api:8080 max_fails=1 fail_timeout=5s resolve;" in rendered
          and "resolver 127.0.0.11 valid=5s;" in rendered, "")
    env["UPSTREAM_RESOLVE"] = "off"
    run = subprocess.run(["sh", str(work / "envsh.sh")], env=env, capture_output=True, text=True)
    check("without UPSTREAM_RESOLVE the names are resolved once (Kubernetes Services)",
          run.returncode == 0 and run.stdout.split("\0")[:2] == ["", "server compreface-admin:8080 max_fails=1 fail_timeout=5s;"],
          run.stdout)
    check("the gateway image sources the upstreams script before rendering and can resolve names",
          "/docker-entrypoint.d/16-visage-upstreams.envsh" in dockerfile and "NGINX_ENTRYPOINT_LOCAL_RESOLVERS=1" in dockerfile
          and re.search(r"FROM nginx:1\.(2[89]|[3-9]\d)", dockerfile) is not None)

    # Only the calls that store nothing go to a second replica after being sent.
    retry = re.search(r"location ~ (\S+) \{(?:(?!location).)*?proxy_next_upstream error http_502 http_503 non_idempotent;",
                      template, re.S)
    check("the front door sends reading calls again to another replica", retry is not None)
    if retry:
        pattern = re.compile(retry.group(1))
        reads = ["/api/v1/recognition/recognize", "/api/v1/detection/detect", "/api/v1/verification/verify",
                 "/api/v1/recognition/faces/0f0e/verify", "/api/v1/recognition/subjects/Ann/verify",
                 "/api/v1/recognition/embeddings/recognize", "/api/v1/recognition/embeddings/faces/0f0e/verify",
                 "/api/v1/verification/embeddings/verify"]
        writes = ["/api/v1/recognition/faces", "/api/v1/recognition/faces/delete", "/api/v1/recognition/subjects",
                  "/api/v1/recognition/subjects/Ann", "/api/v1/recognition/import", "/api/v1/migrate",
                  "/api/v1/recognition/faces/0f0e", "/api/v1/recognition/recognize/x"]
        check("…exactly the reads", all(pattern.match(p) for p in reads) and not any(pattern.match(p) for p in writes),
              [p for p in reads if not pattern.match(p)] + [p for p in writes if pattern.match(p)])
    check("no other location sends a write again", template.count("non_idempotent") == 1)


def main(rendered, work):
    compose = yaml.safe_load(Path(rendered).read_text())
    services = compose["services"]
    check("the compose services are CompreFace's", set(services) == SERVICES, sorted(services))

    published = {name: s.get("ports", []) for name, s in services.items() if s.get("ports")}
    ports = [str(p.get("published", "")) + ":" + str(p.get("target", "")) if isinstance(p, dict) else str(p)
             for p in published.get("compreface-fe", [])]
    check("only compreface-fe publishes ports, 8000 -> 80 and 8443 -> 443 (HTTPS)",
          list(published) == ["compreface-fe"] and ports == ["8000:80", "8443:443"], published)
    fe_env = services["compreface-fe"].get("environment", {})
    check("HTTP redirects to the published HTTPS port (TLS_PORT 443 inside, TLS_PUBLIC_PORT 8443 outside)",
          str(fe_env.get("TLS_PORT")) == "443" and str(fe_env.get("TLS_PUBLIC_PORT")) == "8443", fe_env)

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

    check_replicas(services, template, dockerfile, Path(work))

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
        subprocess.run([str(ROOT / "deploy/nginx/render.sh"), str(work / "replicas"), "18001", str(work / "ui"),
                        "127.0.0.1:1,127.0.0.1:4", "127.0.0.1:2, 127.0.0.1:5,127.0.0.1:6", "127.0.0.1:3,127.0.0.1:7", "10M"],
                       check=True)
        conf = (work / "replicas/visage.conf").read_text()
        blocks = dict(re.findall(r"upstream (visage_\w+) \{(.*?)\}", conf, re.S))
        servers = {name: re.findall(r"server (\S+) max_fails=1 fail_timeout=5s;", body) for name, body in blocks.items()}
        check("render.sh puts every replica in its upstream",
              servers == {"visage_admin": ["127.0.0.1:1", "127.0.0.1:4"],
                          "visage_api": ["127.0.0.1:2", "127.0.0.1:5", "127.0.0.1:6"],
                          "visage_core": ["127.0.0.1:3", "127.0.0.1:7"]}, servers)
        test = subprocess.run([nginx, "-t", "-q", "-c", str(work / "replicas/nginx.conf"), "-p", str(work / "replicas")],
                              capture_output=True, text=True)
        check("nginx -t accepts the front door with several replicas", test.returncode == 0, test.stderr.strip())
        check_https(nginx, work)

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
