"""The Kubernetes manifests (deploy/kubernetes) against Kubernetes' schemas and our rules.

Usage: check.py KUBECTL      (tests/kubernetes/run.sh installs the tools and runs it)

1. Renders every overlay the way a user applies it, with kustomize (`kubectl kustomize`, the
   kustomize built into kubectl), plus the cpu overlay with each optional exposure component
   (ingress, loadbalancer).
2. Validates every rendered object against Kubernetes' OpenAPI schemas in strict mode
   (kubernetes-validate: unknown fields are errors, as `kubectl apply` makes them), for the
   oldest and the newest Kubernetes version we support; CloudNativePG's Cluster against the
   schema of its CRD (tests/kubernetes/schemas), also strictly.
3. Checks our rules: probes, resources and the restricted security context of every container;
   what may be exposed (the gateway only, never core-service); images and environment matching
   docker-compose.yml (docker-compose.gpu.yml for the GPU overlays) with .env's values; api
   replicas and disruption budgets; core's headless Service and autoscaler; the GPU request;
   NetworkPolicies evaluated against who must and must not connect; the CloudNativePG wiring.

Prints one line per check and a closing 'N passed, N failed' line; exits 1 if any failed.
"""

import copy
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import yaml
from kubernetes_validate import utils as kv

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy/kubernetes"
# The oldest Kubernetes the manifests are meant for (README) and the newest with schemas here.
KUBERNETES_VERSIONS = ["1.29", "1.37"]
OVERLAYS = {
    # overlay: (compose file, database)
    "cpu": ("docker-compose.yml", "external"),
    "cpu-cnpg": ("docker-compose.yml", "cnpg"),
    "gpu": ("docker-compose.gpu.yml", "external"),
    "gpu-cnpg": ("docker-compose.gpu.yml", "cnpg"),
}
# The cpu overlay with each optional component, rendered from a kustomization made for the run.
VARIANTS = {"cpu+ingress": ("cpu", "ingress"), "cpu+loadbalancer": ("cpu", "loadbalancer")}
# docker-compose service -> Deployment and container of the same name.
WORKLOADS = {
    "compreface-core": ("compreface-core", "core"),
    "compreface-api": ("compreface-api", "api"),
    "compreface-admin": ("compreface-admin", "admin"),
    "compreface-fe": ("compreface-fe", "gateway"),
}
# docker-compose services with no Deployment here, and why.
NOT_APPLICABLE_SERVICES = {
    "compreface-postgres-db": "the database is components/external-postgres or components/cloudnative-pg",
}
# Settings whose value differs from docker-compose's on purpose (README, "Differences from
# docker-compose"). Everything else docker-compose sets must be set to the same value.
DIFFERENT = {
    ("compreface-fe", "CORE_HOST"): "compreface-core-vip:3000",
    ("compreface-fe", "TLS_PORT"): "8443",
    ("compreface-fe", "TLS_PUBLIC_PORT"): "443",
    ("compreface-fe", "UPSTREAM_RESOLVE"): "off",
}
# Settings that come from a Secret in Kubernetes, whatever docker-compose's value.
FROM_SECRET = {"POSTGRES_USER", "POSTGRES_PASSWORD", "EMAIL_PASSWORD"}
# Secrets the manifests use without making them, and who makes them.
SECRETS = {
    "visage-postgres": "you (README: kubectl create secret generic visage-postgres)",
    "visage-email": "you, optionally (README: kubectl create secret generic visage-email)",
}
NEEDS_STARTUP_PROBE = {"core", "api", "admin"}
HEALTH_PATHS = {"core": ("/health/live", "/health/ready"), "api": ("/health/live", "/health/ready"),
                "admin": ("/health/live", "/health/ready"), "gateway": ("/", "/")}
GATEWAY_WRITABLE = ["/etc/nginx", "/var/cache/nginx", "/var/run", "/tmp"]
CNPG_OPERATOR = ({"kubernetes.io/metadata.name": "cnpg-system"}, {"app.kubernetes.io/name": "cloudnative-pg"})

results = []  # (name, where, ok, detail)


def check(name, ok, detail="", where=None):
    """Records one check; `where` is the rendering it was made on (the same check on several
    renderings prints as one line)."""
    results.append((name, where, bool(ok), detail))
    return ok


def report():
    grouped = {}
    for name, where, ok, detail in results:
        grouped.setdefault(name, []).append((where, ok, detail))
    for name, entries in grouped.items():
        passed = [w for w, ok, _ in entries if ok]
        for where, ok, detail in entries:
            if not ok:
                print(f"FAIL {where + ': ' if where else ''}{name}" + (f": {detail}" if detail else ""))
        if passed:
            wheres = [w for w in passed if w]
            print(f"ok   {name}" + (f" [{', '.join(wheres)}]" if wheres else ""))
    passed = sum(ok for _, _, ok, _ in results)
    return passed, len(results) - passed


# --- docker-compose ------------------------------------------------------------------------

def read_env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def interpolate(value, env):
    """docker-compose's ${NAME}, ${NAME:-default}, ${NAME-default} with .env's values."""
    def one(m):
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env[name] if name in env else default
        return env.get(name, "")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-)([^}]*))?\}", one, str(value))


def compose_services(file, env):
    data = yaml.safe_load((ROOT / file).read_text())
    services = {}
    for name, service in data["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        services[name] = {
            "image": interpolate(service.get("image", ""), env),
            "environment": {k: interpolate("" if v is None else v, env) for k, v in environment.items()},
        }
    return services


# --- rendering and schemas -----------------------------------------------------------------

def render(kubectl, directory):
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc], ""


def render_variant(kubectl, overlay, component):
    with tempfile.TemporaryDirectory() as tmp:
        def rel(path):  # kustomize takes relative paths only
            return os.path.relpath(path, tmp)

        # As a user's overlay would: the namespace set where the component is added.
        Path(tmp, "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": "visage",
            "resources": [rel(KUBE / "overlays" / overlay)],
            "components": [rel(KUBE / "components" / component)],
        }))
        return render(kubectl, tmp)


def strict_crd_schema(schema):
    """A CRD schema as the API server applies it with strict field validation: unknown fields
    are errors unless the schema preserves them."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    # The API server checks metadata itself (ObjectMeta), not the CRD.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


CRD_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): ROOT / "tests/kubernetes/schemas/cnpg-cluster-v1.json",
}


@functools.lru_cache(maxsize=None)
def crd_validator(api_version, kind):
    schema = strict_crd_schema(json.loads(CRD_SCHEMAS[(api_version, kind)].read_text()))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(obj):
    """Why obj does not validate (empty when it does)."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in CRD_SCHEMAS:
        return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in crd_validator(*key).iter_errors(obj)][:3]
    errors = []
    for version in KUBERNETES_VERSIONS:
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as e:
            errors.append(f"Kubernetes {version}: {'.'.join(map(str, e.path))}: {e.message}")
        except kv.SchemaNotFoundError as e:
            errors.append(e.message)
    return errors


# The schema files are large: read each once for the whole run.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)


# --- helpers over rendered objects ---------------------------------------------------------

def selector_matches(selector, labels):
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def network_allows(policies, namespace, target_labels, source_ns_labels, source_labels, port):
    """Whether a connection from a pod (its namespace's labels and its own) to a pod of
    `namespace` with target_labels on TCP port is allowed by the ingress NetworkPolicies."""
    selecting = [p for p in policies if p["metadata"].get("namespace") == namespace
                 and "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"])
                 and selector_matches(p["spec"]["podSelector"], target_labels)]
    if not selecting:
        return True
    same_namespace = source_ns_labels.get("kubernetes.io/metadata.name") == namespace
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and not any(p.get("protocol", "TCP") == "TCP" and p.get("port") in (None, port) for p in ports):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
                if ns_sel is None and pod_sel is None:
                    continue  # an ipBlock: pod addresses are not listed here
                if ns_sel is None and not same_namespace:
                    continue
                if ns_sel is not None and not selector_matches(ns_sel, source_ns_labels):
                    continue
                if pod_sel is not None and not selector_matches(pod_sel, source_labels):
                    continue
                return True
    return False


def containers_of(spec):
    return [(c, False) for c in spec.get("initContainers") or []] + [(c, True) for c in spec.get("containers") or []]


def env_value(env_entry, configmaps):
    """(kind, value): ('value', literal), ('configmap', value), ('secret', 'name/key')."""
    if "value" in env_entry:
        return "value", str(env_entry["value"])
    source = env_entry.get("valueFrom") or {}
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data = (configmaps.get(ref["name"]) or {}).get("data") or {}
        return "configmap", data.get(ref["key"])
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return "secret", f"{ref['name']}/{ref['key']}"
    return "other", None


# --- the checks of one rendering -----------------------------------------------------------

def check_rendering(label, objects, compose, database, gpu):
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    configmaps = by_kind.get("ConfigMap", {})
    policies = list(by_kind.get("NetworkPolicy", {}).values())
    namespaces = by_kind.get("Namespace", {})

    def c(name, ok, detail=""):
        return check(name, ok, detail, where=label)

    # Schemas.
    bad = {f"{o['kind']}/{o['metadata']['name']}": schema_errors(o) for o in objects}
    bad = {k: v for k, v in bad.items() if v}
    c(f"{len(objects)} objects validate strictly against Kubernetes {' and '.join(KUBERNETES_VERSIONS)}"
      " (CloudNativePG's Cluster against its CRD)", not bad, bad)

    # Namespace.
    ns_names = list(namespaces)
    namespace = ns_names[0] if len(ns_names) == 1 else None
    c("one Namespace, and every object in it",
      namespace and all(o["metadata"].get("namespace") == namespace for o in objects if o["kind"] != "Namespace"),
      ns_names)
    if namespace:
        ns_labels = namespaces[namespace]["metadata"].get("labels") or {}
        c("the Namespace enforces the restricted Pod Security Standard",
          ns_labels.get("pod-security.kubernetes.io/enforce") == "restricted", ns_labels)
    ns_labels = {"kubernetes.io/metadata.name": namespace}

    # Workloads: one Deployment per docker-compose service.
    for service in compose:
        if service in NOT_APPLICABLE_SERVICES:
            c(f"docker-compose's {service}: not applicable ({NOT_APPLICABLE_SERVICES[service]})",
              service not in deployments)
            continue
        c(f"docker-compose's {service} has a Deployment", service in WORKLOADS
          and WORKLOADS[service][0] in deployments, f"no Deployment {service}")
    component_of = {}
    for name, dep in deployments.items():
        template = dep["spec"]["template"]
        component = template["metadata"]["labels"].get("app.kubernetes.io/component")
        component_of[name] = component
        spec = template["spec"]
        c(f"{name}: selector matches its pods",
          selector_matches(dep["spec"]["selector"], template["metadata"]["labels"]))
        pod_sc = spec.get("securityContext") or {}
        c(f"{name}: no host namespaces, no hostPath volumes, no service account token",
          not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
          and not any("hostPath" in v for v in spec.get("volumes") or [])
          and spec.get("automountServiceAccountToken") is False)
        c(f"{name}: pod runs as a non-root user with seccomp RuntimeDefault",
          pod_sc.get("runAsNonRoot") is True and (pod_sc.get("runAsUser") or 0) > 0
          and (pod_sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", pod_sc)
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container, regular in containers_of(spec):
            cname = f"{name}/{container['name']}"
            sc = container.get("securityContext") or {}
            run_as_non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
            run_as_user = sc.get("runAsUser", pod_sc.get("runAsUser"))
            seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
            c(f"{cname}: runAsNonRoot, allowPrivilegeEscalation false, read-only root, "
              "capabilities dropped, not privileged",
              run_as_non_root is True and run_as_user not in (None, 0)
              and sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
              and "ALL" in ((sc.get("capabilities") or {}).get("drop") or [])
              and not (sc.get("capabilities") or {}).get("add") and not sc.get("privileged")
              and seccomp == "RuntimeDefault", sc)
            res = container.get("resources") or {}
            missing = [f"{kind}.{r}" for kind in ("requests", "limits") for r in ("cpu", "memory")
                       if r not in (res.get(kind) or {})]
            c(f"{cname}: cpu and memory requests and limits", not missing, missing)
            c(f"{cname}: no hostPort",
              not any("hostPort" in port for port in container.get("ports") or []))
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
            for path, volume in mounts.items():
                c(f"{cname}: {path} is a declared volume", volume in volumes, volume)
            if not regular:
                continue
            c(f"{cname}: a writable /tmp (emptyDir) under the read-only root",
              "emptyDir" in volumes.get(mounts.get("/tmp"), {}), mounts)
            port_names = {port.get("name"): port["containerPort"] for port in container.get("ports") or []}
            probes = {kind: container.get(f"{kind}Probe") for kind in ("startup", "readiness", "liveness")}
            needed = ["readiness", "liveness"] + (["startup"] if component in NEEDS_STARTUP_PROBE else [])
            c(f"{cname}: {', '.join(needed)} probes", all(probes[k] for k in needed),
              [k for k in needed if not probes[k]])
            live, ready = HEALTH_PATHS.get(component, (None, None))
            for kind, probe in probes.items():
                if not probe:
                    continue
                get = probe.get("httpGet") or {}
                want = ready if kind == "readiness" else live
                c(f"{cname}: {kind} probe GET {want} on a port of the container",
                  get.get("path") == want and (get.get("port") in port_names or get.get("port") in port_names.values()),
                  get)
            if probes["startup"] and component == "api":
                budget = probes["startup"].get("periodSeconds", 10) * probes["startup"].get("failureThreshold", 3)
                c(f"{cname}: the startup probe waits at least 15 min for the collections to load",
                  budget >= 900, f"{budget} s")

    # Images and environment against docker-compose.
    for service, (dep_name, container_name) in WORKLOADS.items():
        if service not in compose or dep_name not in deployments:
            continue
        spec = deployments[dep_name]["spec"]["template"]["spec"]
        containers = {c["name"]: c for c, _ in containers_of(spec)}
        container = containers.get(container_name)
        if not c(f"{dep_name} has the container {container_name}", container):
            continue
        want_image = compose[service]["image"]
        images = {c.get("image") for c in containers.values()}
        c(f"{dep_name}: image {want_image}, as docker-compose's {service}", images == {want_image}, images)
        env = {e["name"]: e for e in container.get("env") or []}
        for var, compose_value in compose[service]["environment"].items():
            entry = env.get(var)
            if entry is None:
                c(f"{dep_name}: {var} is set, as docker-compose sets it", False, "missing")
                continue
            kind, value = env_value(entry, configmaps)
            if var in FROM_SECRET:
                c(f"{dep_name}: {var} comes from a Secret", kind == "secret", kind)
            elif var == "POSTGRES_URL":
                c(f"{dep_name}: POSTGRES_URL is set by the database component",
                  kind == "secret" or (kind == "value" and value.startswith("jdbc:postgresql://")), value)
            elif (service, var) in DIFFERENT:
                c(f"{dep_name}: {var}={DIFFERENT[(service, var)]} (docker-compose: {compose_value!r}, "
                  "a deliberate difference)", value == DIFFERENT[(service, var)], value)
            else:
                c(f"{dep_name}: {var}={compose_value!r} as in docker-compose", value == compose_value,
                  f"{kind} {value!r}")
        for e in env.values():
            ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                c(f"{dep_name}: {e['name']} reads a key that the ConfigMap {ref['name']} has",
                  ref["key"] in ((configmaps.get(ref["name"]) or {}).get("data") or {}))
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                known = ref["name"] in SECRETS or (database == "cnpg" and ref["name"].endswith("-app"))
                c(f"{dep_name}: {e['name']} from Secret {ref['name']}, which the README or the operator "
                  "provides", known, ref["name"])

    # Exposure: only the gateway; core-service never.
    pods = {name: dep["spec"]["template"]["metadata"]["labels"] for name, dep in deployments.items()}

    def selected(svc):
        """The Deployments whose pods a Service selects."""
        selector = svc["spec"].get("selector")
        return [n for n, labels in pods.items() if selector and all(labels.get(k) == v for k, v in selector.items())]

    for name, svc in services.items():
        targets = selected(svc)
        c(f"Service {name} selects pods of a Deployment", targets, svc["spec"].get("selector"))
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            ok = all(any(target in (cp.get("name"), cp["containerPort"])
                         for ctr in deployments[t]["spec"]["template"]["spec"]["containers"]
                         for cp in ctr.get("ports") or []) for t in targets)
            c(f"Service {name}: port {port['port']} goes to a port of its pods", ok, target)
        if svc["spec"].get("type", "ClusterIP") in ("NodePort", "LoadBalancer") or svc["spec"].get("externalIPs"):
            c(f"Service {name} ({svc['spec']['type']}) exposes the gateway only",
              targets and all(component_of.get(t) == "gateway" for t in targets), targets)
    core_services = [n for n, s in services.items() if any(component_of.get(t) == "core" for t in selected(s))]
    c("core-service: Service compreface-core is headless",
      "compreface-core" in services and services["compreface-core"]["spec"].get("clusterIP") == "None")
    internal = [services[n]["spec"].get("type", "ClusterIP") == "ClusterIP"
                and not services[n]["spec"].get("externalIPs") for n in core_services]
    c("core-service: its Services are all ClusterIP (no NodePort, LoadBalancer, external IPs)", all(internal),
      core_services)
    for name, ingress in by_kind.get("Ingress", {}).items():
        backends = [path["backend"]["service"]["name"] for rule in ingress["spec"].get("rules") or []
                    for path in (rule.get("http") or {}).get("paths") or []]
        if ingress["spec"].get("defaultBackend"):
            backends.append(ingress["spec"]["defaultBackend"]["service"]["name"])
        to_gateway = [b in services and all(component_of.get(t) == "gateway" for t in selected(services[b]))
                      for b in backends]
        c(f"Ingress {name} routes to the gateway only (never core-service)", backends and all(to_gateway), backends)
    c("no Gateway API routes or other exposure kinds",
      not any(k in by_kind for k in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "Gateway")))
    core_url = "http://compreface-core:3000"
    api_env = {e["name"]: e.get("value") for e in
               deployments.get("compreface-api", {}).get("spec", {}).get("template", {}).get("spec", {}).get(
                   "containers", [{}])[0].get("env") or []}
    c(f"api-service reaches core through the headless Service (CORE_URL={core_url})",
      api_env.get("CORE_URL") == core_url, api_env.get("CORE_URL"))

    # Replicas, disruption budgets, autoscaling.
    pdbs = list(by_kind.get("PodDisruptionBudget", {}).values())
    for name, dep in deployments.items():
        replicas = dep["spec"].get("replicas")
        hpa = [h for h in by_kind.get("HorizontalPodAutoscaler", {}).values()
               if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
        if component_of[name] == "api":
            c(f"{name}: at least 2 replicas", (replicas or 1) >= 2, replicas)
        if component_of[name] == "core":
            c(f"{name}: a HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation) owns the replica count",
              len(hpa) == 1 and hpa[0]["apiVersion"] == "autoscaling/v2" and replicas is None
              and any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in hpa[0]["spec"]["metrics"])
              and hpa[0]["spec"].get("minReplicas", 1) >= 2, hpa)
        if (replicas or 1) >= 2 or hpa:
            budget = [b for b in pdbs if selector_matches(b["spec"]["selector"], pods[name])]
            keeps_one = len(budget) == 1 and (budget[0]["spec"].get("minAvailable", 0) >= 1
                                              or "maxUnavailable" in budget[0]["spec"])
            c(f"{name}: a PodDisruptionBudget keeps one pod up", keeps_one, budget)

    # GPU.
    core = deployments.get("compreface-core", {}).get("spec", {}).get("template", {}).get("spec", {})
    core_container = (core.get("containers") or [{}])[0]
    limits = (core_container.get("resources") or {}).get("limits") or {}
    requests = (core_container.get("resources") or {}).get("requests") or {}
    if gpu:
        # An extended resource needs its limit; a request, if given, must equal it.
        c("core-service requests one NVIDIA GPU (nvidia.com/gpu: 1)",
          str(limits.get("nvidia.com/gpu")) == "1" and str(requests.get("nvidia.com/gpu", 1)) == "1",
          {"requests": requests, "limits": limits})
    every_gpu = [f"{n}/{c['name']}" for n, d in deployments.items()
                 for c, _ in containers_of(d["spec"]["template"]["spec"])
                 if "nvidia.com/gpu" in ((c.get("resources") or {}).get("limits") or {})]
    c("only core-service asks for GPUs" if gpu else "no container asks for a GPU",
      every_gpu == (["compreface-core/core"] if gpu else []), every_gpu)

    # NetworkPolicies: who must and who must not connect.
    components = {component_of[n]: pods[n] for n in pods}
    others = {
        "a pod of another app in the namespace": (ns_labels, {"app": "something-else"}),
        "a pod labelled like the gateway in another namespace": (
            {"kubernetes.io/metadata.name": "elsewhere"}, components.get("gateway", {})),
    }
    sources = {c: (ns_labels, l) for c, l in components.items()} | others

    def expect(target_name, target_labels, port, allowed_sources, extra_sources=None):
        srcs = dict(sources, **(extra_sources or {}))
        wrong = [s for s, (nsl, pl) in srcs.items()
                 if network_allows(policies, namespace, target_labels, nsl, pl, port) != (s in allowed_sources)]
        c(f"NetworkPolicy: {target_name}:{port} is reached by {', '.join(sorted(allowed_sources))} and no one else",
          not wrong, f"wrong for {wrong}")

    expect("core-service", components.get("core", {}), 3000, {"api", "admin", "gateway"})
    expect("api-service", components.get("api", {}), 8080, {"gateway"})
    expect("admin-service", components.get("admin", {}), 8080, {"gateway"})

    # The database.
    clusters = by_kind.get("Cluster", {})
    for name in ("compreface-api", "compreface-admin"):
        env = {e["name"]: e for e in deployments[name]["spec"]["template"]["spec"]["containers"][0].get("env") or []}
        kinds = {v: env_value(env[v], configmaps) if v in env else (None, None)
                 for v in ("POSTGRES_URL", "POSTGRES_USER", "POSTGRES_PASSWORD")}
        if database == "external":
            c(f"{name}: POSTGRES_URL, POSTGRES_USER, POSTGRES_PASSWORD from the Secret visage-postgres",
              all(k == "secret" and v.startswith("visage-postgres/") for k, v in kinds.values()), kinds)
        else:
            (cluster_name, cluster), = clusters.items() if len(clusters) == 1 else ((None, {}),)
            db = ((cluster.get("spec") or {}).get("bootstrap") or {}).get("initdb", {}).get("database", "app")
            want_url = f"jdbc:postgresql://{cluster_name}-rw:5432/{db}"
            c(f"{name}: POSTGRES_URL={want_url} (the primary's Service and the bootstrap database)",
              kinds["POSTGRES_URL"] == ("value", want_url), kinds["POSTGRES_URL"])
            c(f"{name}: credentials from the operator's Secret {cluster_name}-app (username, password)",
              kinds["POSTGRES_USER"] == ("secret", f"{cluster_name}-app/username")
              and kinds["POSTGRES_PASSWORD"] == ("secret", f"{cluster_name}-app/password"), kinds)
    if database == "external":
        c("no PostgreSQL in the cluster (external server: guard it with its firewall and pg_hba.conf, "
          "README; no NetworkPolicy applies)", not clusters and "compreface-postgres-db" not in deployments)
    else:
        c("one CloudNativePG Cluster with 3 instances",
          len(clusters) == 1 and all(c["spec"].get("instances") == 3 for c in clusters.values()),
          {n: c["spec"].get("instances") for n, c in clusters.items()})
        for cluster_name in clusters:
            instance = {"cnpg.io/cluster": cluster_name, "cnpg.io/instanceRole": "primary", "role": "primary"}
            extra = {"an instance of the cluster": (ns_labels, instance),
                     "the CloudNativePG operator (cnpg-system)": CNPG_OPERATOR}
            expect(f"PostgreSQL ({cluster_name})", instance, 5432,
                   {"api", "admin", "an instance of the cluster", "the CloudNativePG operator (cnpg-system)"}, extra)
            expect(f"PostgreSQL's instance manager ({cluster_name})", instance, 8000,
                   {"an instance of the cluster", "the CloudNativePG operator (cnpg-system)"}, extra)


def check_sources():
    """Every resources block (requests, limits) in the manifests' sources says where its numbers
    come from: a comment right above it or as its first line."""
    missing = []
    for path in sorted(KUBE.rglob("*.yaml")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\s*resources:\s*$", line):
                before = lines[i - 1].strip() if i else ""
                following = [ln.strip() for ln in lines[i + 1:] if ln.strip()]
                first = following[0] if following else ""
                numbers = next((ln for ln in following if not ln.startswith("#")), "")
                commented = before.startswith("#") or first.startswith("#")
                if numbers.startswith(("requests:", "limits:")) and not commented:
                    missing.append(f"{path.relative_to(ROOT)}:{i + 1}")
    check("sources: every resources block has a comment saying where its numbers come from", not missing, missing)
    readme = (KUBE / "README.md").read_text() if (KUBE / "README.md").is_file() else ""
    for needle in ["kubectl apply -k deploy/kubernetes/overlays/" + o for o in OVERLAYS] + \
                  ["kubectl create secret generic " + s for s in SECRETS] + ["pg_advisory_lock"]:
        check(f"README: says {needle!r}", needle in readme)


def main():
    kubectl = sys.argv[1]
    env = read_env_file(ROOT / ".env")
    version = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True)
    info = json.loads(version.stdout or "{}")
    print(f"kubectl {info.get('clientVersion', {}).get('gitVersion')} (kustomize "
          f"{info.get('kustomizeVersion')}), kubernetes-validate schemas for {', '.join(KUBERNETES_VERSIONS)}")
    renderings = {}
    for overlay in OVERLAYS:
        renderings[overlay] = render(kubectl, KUBE / "overlays" / overlay)
    for variant, (overlay, component) in VARIANTS.items():
        renderings[variant] = render_variant(kubectl, overlay, component)
    for label, (objects, error) in renderings.items():
        if not check("kubectl kustomize renders it", objects is not None, error, where=label):
            continue
        overlay = VARIANTS.get(label, (label,))[0]
        compose_file, database = OVERLAYS[overlay]
        check_rendering(label, objects, compose_services(compose_file, env), database, overlay.startswith("gpu"))
        if label in VARIANTS:
            kinds = {o["kind"] for o in objects}
            exposed = ("Ingress" in kinds if "ingress" in label else
                       any(o["kind"] == "Service" and o["spec"].get("type") == "LoadBalancer" for o in objects))
            check("the optional component adds its exposure", exposed, where=label)
    check_sources()
    passed, failed = report()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
