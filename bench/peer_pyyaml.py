#!/usr/bin/env python3
"""PyYAML peer for the harden benchmark (bench/run).

Usage:
    bench/peer_pyyaml.py FILE > out.yaml      # or: bench/peer_pyyaml.py < FILE
    bench/peer_pyyaml.py --check              # exit 0 if the C LibYAML bindings are present

Does the core of what `harden` does to a stream, the way a script would do it
with PyYAML's C loader and dumper (LibYAML): load every document, edit each
workload's pod spec, dump every document. Not lossless (comments, quoting,
key style are lost) and it checks nothing: it is a lower bound on what a
"parse to objects, edit, dump" tool costs, not a replacement for harden.

Per pod spec (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, PodTemplate):
  - securityContext: runAsNonRoot true, runAsUser/runAsGroup/fsGroup 10001,
    fsGroupChangePolicy OnRootMismatch, seccompProfile RuntimeDefault
    (existing values are kept: only missing keys are added);
  - automountServiceAccountToken: false on the default service account;
  - a `harden-tmp` emptyDir volume;
and per init and regular container:
  - securityContext: allowPrivilegeEscalation false, capabilities.drop [ALL],
    readOnlyRootFilesystem true;
  - a volumeMount of `harden-tmp` at /tmp (unless /tmp is mounted already);
  - resources: requests cpu 100m / memory 128Mi, limits memory 512Mi
    (missing ones only).

`harden_doc()` is also used by bench/run to write the equivalent kustomize
patches, so both peers make the same changes.
"""
import os
import sys

import yaml

try:
    from yaml import CSafeDumper as Dumper
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - reported by --check / bench/run
    Loader = Dumper = None

UID = 10001

# kind -> path (list of keys) to the pod spec
POD_SPEC_PATHS = {
    "Pod": ["spec"],
    "PodTemplate": ["template", "spec"],
    "Deployment": ["spec", "template", "spec"],
    "StatefulSet": ["spec", "template", "spec"],
    "DaemonSet": ["spec", "template", "spec"],
    "ReplicaSet": ["spec", "template", "spec"],
    "ReplicationController": ["spec", "template", "spec"],
    "Job": ["spec", "template", "spec"],
    "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}


def pod_spec_path(doc):
    if not isinstance(doc, dict):
        return None
    path = POD_SPEC_PATHS.get(doc.get("kind"))
    if path is None:
        return None
    node = doc
    for key in path:
        if not isinstance(node, dict) or not isinstance(node.get(key), dict):
            return None
        node = node[key]
    return path


def get_path(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _sub(d, key):
    v = d.get(key)
    if not isinstance(v, dict):
        v = {}
        d[key] = v
    return v


def harden_container(c):
    sc = _sub(c, "securityContext")
    sc.setdefault("allowPrivilegeEscalation", False)
    caps = _sub(sc, "capabilities")
    drop = caps.get("drop")
    if not isinstance(drop, list):
        caps["drop"] = ["ALL"]
    elif "ALL" not in drop:
        drop.append("ALL")
    sc.setdefault("readOnlyRootFilesystem", True)
    mounts = c.get("volumeMounts")
    if not isinstance(mounts, list):
        mounts = []
        c["volumeMounts"] = mounts
    if not any(isinstance(m, dict) and m.get("mountPath") == "/tmp" for m in mounts):
        mounts.append({"name": "harden-tmp", "mountPath": "/tmp"})
    res = _sub(c, "resources")
    req = _sub(res, "requests")
    req.setdefault("cpu", "100m")
    req.setdefault("memory", "128Mi")
    lim = _sub(res, "limits")
    lim.setdefault("memory", "512Mi")


def harden_pod(spec):
    sc = _sub(spec, "securityContext")
    sc.setdefault("runAsNonRoot", True)
    sc.setdefault("runAsUser", UID)
    sc.setdefault("runAsGroup", UID)
    sc.setdefault("fsGroup", UID)
    sc.setdefault("fsGroupChangePolicy", "OnRootMismatch")
    _sub(sc, "seccompProfile").setdefault("type", "RuntimeDefault")
    if spec.get("serviceAccountName", "default") == "default":
        spec.setdefault("automountServiceAccountToken", False)
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                harden_container(c)
    vols = spec.get("volumes")
    if not isinstance(vols, list):
        vols = []
        spec["volumes"] = vols
    if not any(isinstance(v, dict) and v.get("name") == "harden-tmp" for v in vols):
        vols.append({"name": "harden-tmp", "emptyDir": {}})


def harden_doc(doc):
    """Harden one loaded document in place; return the pod spec path or None."""
    path = pod_spec_path(doc)
    if path is not None:
        harden_pod(get_path(doc, path))
    return path


def main(argv):
    if argv[1:] == ["--check"]:
        return 0 if Loader is not None else 1
    if Loader is None:
        sys.stderr.write("peer_pyyaml: PyYAML has no C LibYAML bindings (yaml.CSafeLoader)\n")
        return 2
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-") and argv[1] != "-"):
        sys.stderr.write(__doc__)
        return 2
    if len(argv) == 2 and argv[1] != "-":
        with open(argv[1], "rb") as f:
            docs = list(yaml.load_all(f, Loader=Loader))
    else:
        docs = list(yaml.load_all(sys.stdin.buffer, Loader=Loader))
    hardened = sum(1 for d in docs if harden_doc(d) is not None)
    out = sys.stdout
    try:
        yaml.dump_all(docs, out, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                      allow_unicode=True, width=1 << 30)
        out.flush()
    except BrokenPipeError:  # `| head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    sys.stderr.write(f"peer_pyyaml: {len(docs)} documents, {hardened} workloads hardened\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
