"""Writes the openAPIV3Schema of a CustomResourceDefinition's served version as JSON, without
its descriptions (documentation only; a field that is itself named `description` stays).

Usage: extract.py CRD.yaml VERSION OUT.json
e.g.   extract.py postgresql.cnpg.io_clusters.yaml v1 cnpg-cluster-v1.json
"""

import json
import sys

import yaml


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    crd_path, version, out = sys.argv[1:4]
    with open(crd_path) as f:
        crd = yaml.safe_load(f)
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = strip(served["schema"]["openAPIV3Schema"])
    with open(out, "w") as f:
        json.dump(schema, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
