#!/usr/bin/env python3
"""Benchmark of `kubeflow-tui import`: a cluster of 2,000 Services and 10,000 pods.

    python benchmarks/bench_import.py            # 2,000 Services / 10,000 pods, median of 3
    python benchmarks/bench_import.py --quick    # 200 / 1,000, one run
    python benchmarks/bench_import.py --json     # also the dump as -o json

The dump is what `kubectl get nodes,pods,services,endpointslices -A -o yaml` prints for
such a cluster (50 nodes, 20 namespaces; each Service a Deployment of 5 pods with one
EndpointSlice; 10% NodePort, 2% LoadBalancer; pods as kubectl shows them without
managedFields: containers, probes, volumes, four conditions, container statuses).  The
figure is the whole command, as a user runs it: a fresh `kubeflow-tui import DUMP -o
OUT -q` process from start to exit (reading, checking, flows, writing), wall time and
the CPU time it used (steadier on a shared machine; the load average is reported).
Target: <= 10 s.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 10.0


def _hash(i: int, n: int = 10) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    out, x = [], (i * 2654435761 + 97) & 0xFFFFFFFFFFFF
    for _ in range(n):
        out.append(alphabet[x % len(alphabet)])
        x = (x // len(alphabet)) ^ (x * 31 + 7) & 0xFFFFFFFF
    return "".join(out)


def cluster(services: int, pods_per_service: int = 5, nodes: int = 50, namespaces: int = 20):
    items: list[dict] = []
    node_list = []
    for n in range(nodes):
        name = f"worker-{n:03d}"
        node_list.append((name, f"10.0.{n // 200}.{10 + n % 200}", f"10.244.{n}.0/24"))
        items.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": f"node-{n}", "resourceVersion": str(1000 + n),
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64",
                                    "topology.kubernetes.io/zone": f"zone-{n % 3}"}},
            "spec": {"podCIDR": f"10.244.{n}.0/24", "podCIDRs": [f"10.244.{n}.0/24"],
                     "providerID": f"cloud://{name}"},
            "status": {
                "addresses": [{"address": f"10.0.{n // 200}.{10 + n % 200}", "type": "InternalIP"},
                              {"address": name, "type": "Hostname"}],
                "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "250"},
                "conditions": [{"type": t, "status": s, "reason": r,
                                "lastHeartbeatTime": "2026-12-03T05:58:01Z",
                                "lastTransitionTime": "2026-11-30T09:12:30Z"}
                               for t, s, r in (("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                                               ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                                               ("PIDPressure", "False", "KubeletHasSufficientPID"),
                                               ("Ready", "True", "KubeletReady"))],
                "nodeInfo": {"kubeletVersion": "v1.31.0", "kubeProxyVersion": "v1.31.0",
                             "containerRuntimeVersion": "containerd://1.7.18",
                             "osImage": "Ubuntu 24.04.1 LTS", "kernelVersion": "6.8.0-49-generic",
                             "architecture": "amd64", "operatingSystem": "linux"},
            },
        })
    next_ip = [2] * nodes
    slot = 0
    svc_objs, slice_objs = [], []
    for s in range(services):
        ns = f"team-{s % namespaces:02d}"
        app = f"app-{s:04d}"
        rs_hash = _hash(s)
        kind = "LoadBalancer" if s % 50 == 0 else "NodePort" if s % 10 == 0 else "ClusterIP"
        endpoints = []
        for r in range(pods_per_service):
            n = slot % nodes
            slot += 1
            ip = f"10.244.{n}.{next_ip[n]}"
            next_ip[n] += 1
            pod = f"{app}-{rs_hash}-{_hash(s * 100 + r, 5)}"
            items.append(_pod(pod, ns, app, rs_hash, node_list[n], ip))
            endpoints.append({"addresses": [ip],
                              "conditions": {"ready": True, "serving": True, "terminating": False},
                              "nodeName": node_list[n][0],
                              "targetRef": {"kind": "Pod", "name": pod, "namespace": ns,
                                            "uid": f"pod-{s}-{r}"}})
        spec = {"clusterIP": f"10.96.{s // 250}.{s % 250 + 2}",
                "clusterIPs": [f"10.96.{s // 250}.{s % 250 + 2}"],
                "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None", "type": kind,
                "selector": {"app": app},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
                          {"name": "metrics", "port": 9090, "protocol": "TCP", "targetPort": 9090}]}
        status: dict = {"loadBalancer": {}}
        if kind != "ClusterIP":
            spec["externalTrafficPolicy"] = "Cluster"
            for j, p in enumerate(spec["ports"]):
                p["nodePort"] = 30000 + (s // 10) * 2 + j
        if kind == "LoadBalancer":
            spec["allocateLoadBalancerNodePorts"] = True
            status = {"loadBalancer": {"ingress": [{"ip": f"198.51.100.{s // 50 + 1}",
                                                    "ipMode": "VIP"}]}}
        svc_objs.append({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": app, "namespace": ns, "uid": f"svc-{s}",
                                      "labels": {"app": app}, "resourceVersion": str(5000 + s)},
                         "spec": spec, "status": status})
        slice_objs.append({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "endpoints": endpoints,
            "metadata": {"name": f"{app}-{_hash(s + 7, 5)}", "namespace": ns,
                         "generateName": f"{app}-",
                         "labels": {"endpointslice.kubernetes.io/managed-by":
                                    "endpointslice-controller.k8s.io",
                                    "kubernetes.io/service-name": app, "app": app},
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": app,
                                              "uid": f"svc-{s}", "controller": True,
                                              "blockOwnerDeletion": True}]},
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                      {"name": "metrics", "port": 9090, "protocol": "TCP"}],
        })
    items += svc_objs + slice_objs
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def _pod(name, ns, app, rs_hash, node, ip):
    node_name, node_ip, _ = node
    cond = lambda t: {"lastProbeTime": None, "lastTransitionTime": "2026-12-01T14:02:14Z",  # noqa: E731
                      "status": "True", "type": t}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "creationTimestamp": "2026-12-01T14:02:11Z", "generateName": f"{app}-{rs_hash}-",
            "labels": {"app": app, "pod-template-hash": rs_hash}, "name": name, "namespace": ns,
            "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": True,
                                 "controller": True, "kind": "ReplicaSet",
                                 "name": f"{app}-{rs_hash}", "uid": f"rs-{app}"}],
            "resourceVersion": "30112", "uid": f"uid-{name}"},
        "spec": {
            "containers": [{
                "image": "registry.example.com/shop/api:1.42.0", "imagePullPolicy": "IfNotPresent",
                "name": "api",
                "env": [{"name": "LOG_LEVEL", "value": "info"},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "status.podIP"}}}],
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"},
                          {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
                "readinessProbe": {"failureThreshold": 3, "httpGet": {"path": "/healthz",
                                   "port": "http", "scheme": "HTTP"}, "periodSeconds": 10,
                                   "successThreshold": 1, "timeoutSeconds": 1},
                "resources": {"limits": {"memory": "256Mi"},
                              "requests": {"cpu": "100m", "memory": "128Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                  "name": "kube-api-access", "readOnly": True}]}],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "nodeName": node_name,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": "Always",
            "schedulerName": "default-scheduler", "securityContext": {},
            "serviceAccount": "default", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
                             "operator": "Exists", "tolerationSeconds": 300},
                            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                             "operator": "Exists", "tolerationSeconds": 300}],
            "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                               "name": "kube-root-ca.crt"}}]}}]},
        "status": {
            "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"),
                           cond("ContainersReady"), cond("PodScheduled")],
            "containerStatuses": [{"containerID": f"containerd://{_hash(len(name), 10) * 6}",
                                   "image": "registry.example.com/shop/api:1.42.0",
                                   "imageID": "registry.example.com/shop/api@sha256:" + "ab" * 32,
                                   "lastState": {}, "name": "api", "ready": True,
                                   "restartCount": 0, "started": True,
                                   "state": {"running": {"startedAt": "2026-12-01T14:02:13Z"}}}],
            "hostIP": node_ip, "hostIPs": [{"ip": node_ip}], "phase": "Running", "podIP": ip,
            "podIPs": [{"ip": ip}], "qosClass": "Burstable", "startTime": "2026-12-01T14:02:11Z"},
    }


def run_import(exe: list[str], dump: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh `kubeflow-tui import` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([*exe, "import", str(dump), "-o", str(out), "-q"],
                          capture_output=True, text=True)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 Services / 1,000 pods, one run")
    ap.add_argument("--json", action="store_true", help="also time the dump as -o json")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    services = 200 if a.quick else 2000
    runs = 1 if a.quick else a.runs
    exe = [sys.executable, "-m", "kubeflow_tui"] if (REPO / "kubeflow_tui" / "__main__.py").exists() \
        else ["kubeflow-tui"]
    result: dict = {"python": platform.python_version(), "services": services,
                    "pods": services * 5, "nodes": 50, "target_s": TARGET_S}
    with tempfile.TemporaryDirectory(prefix="kft-bench-import-") as tmp:
        tmpd = Path(tmp)
        print(f"generating {services} Services / {services * 5} pods …", file=sys.stderr)
        data = cluster(services)
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        dump = tmpd / "cluster.yaml"
        dump.write_text(yaml.dump(data, Dumper=dumper, default_flow_style=False, sort_keys=True))
        formats = [("yaml", dump)]
        if a.json:
            js = tmpd / "cluster.json"
            js.write_text(json.dumps(data, indent=4, sort_keys=True))
            formats.append(("json", js))
        out = tmpd / "out.yaml"
        for fmt, path in formats:
            times, cpus = [], []
            for i in range(runs):
                print(f"import ({fmt}) run {i + 1}/{runs} …", file=sys.stderr)
                wall, cpu = run_import(exe, path, out)
                times.append(wall)
                cpus.append(cpu)
            result[f"{fmt}_bytes"] = path.stat().st_size
            result[f"{fmt}_lines"] = path.read_text().count("\n")
            result[f"import_{fmt}_s"] = round(statistics.median(times), 2)
            result[f"import_{fmt}_runs_s"] = [round(t, 2) for t in times]
            result[f"import_{fmt}_cpu_s"] = round(statistics.median(cpus), 2)
        result["scenario_bytes"] = out.stat().st_size
        result["target_met"] = all(result[f"import_{f}_s"] <= TARGET_S for f, _ in formats)
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
