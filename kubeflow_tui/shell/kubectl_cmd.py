"""``kubectl`` (v1.32) over the simulated cluster's scenario: get, describe, scale, delete.

Tables follow kubectl's printers (tabwriter, three spaces between columns); changes go
through ``sim.apply_event`` so kube-proxy resyncs every node's rules at once.
"""

from __future__ import annotations

import json
import re

from ..kubeproxy.endpoints import endpoint_slices
from ..scenario.models import Event
from .base import CommandError, ShellContext, ShellResult, align_table

AGE = "5m"
NEW_AGE = "10s"
K8S_VERSION = "v1.32.4"

_RESOURCES = {
    "svc": "services", "service": "services", "services": "services",
    "ep": "endpoints", "endpoint": "endpoints", "endpoints": "endpoints",
    "endpointslice": "endpointslices", "endpointslices": "endpointslices",
    "endpointslices.discovery.k8s.io": "endpointslices", "endpointslice.discovery.k8s.io": "endpointslices",
    "po": "pods", "pod": "pods", "pods": "pods",
    "no": "nodes", "node": "nodes", "nodes": "nodes",
    "deploy": "deployments", "deployment": "deployments", "deployments": "deployments",
    "deployment.apps": "deployments", "deployments.apps": "deployments",
    "ev": "events", "event": "events", "events": "events", "events.events.k8s.io": "events",
    "netpol": "networkpolicies", "networkpolicy": "networkpolicies", "networkpolicies": "networkpolicies",
    "networkpolicies.networking.k8s.io": "networkpolicies",
    "cm": "configmaps", "configmap": "configmaps", "configmaps": "configmaps",
}
_NOTFOUND_KIND = {"services": "services", "endpoints": "endpoints", "pods": "pods", "nodes": "nodes",
                  "deployments": "deployments.apps", "endpointslices": "endpointslices.discovery.k8s.io",
                  "events": "events", "networkpolicies": "networkpolicies.networking.k8s.io",
                  "configmaps": "configmaps"}
_SINGULAR = {"services": "service", "pods": "pod", "deployments": "deployment.apps", "endpoints": "endpoints",
             "nodes": "node", "endpointslices": "endpointslice.discovery.k8s.io", "events": "event",
             "networkpolicies": "networkpolicy.networking.k8s.io", "configmaps": "configmap"}
#: the CA bundle every namespace gets (kube-controller-manager's root-ca-cert-publisher)
ROOT_CA_CM = "kube-root-ca.crt"


class _Flags:
    def __init__(self):
        self.namespace: str | None = None
        self.all_ns = False
        self.output = ""
        self.replicas: str | None = None
        self.selector: str | None = None
        self.show_labels = False
        self.positional: list[str] = []


def _parse(argv: list[str]) -> _Flags:
    f = _Flags()
    i = 0
    while i < len(argv):
        tok = argv[i]
        i += 1

        def value(flag: str) -> str:
            nonlocal i
            if i < len(argv):
                i += 1
                return argv[i - 1]
            raise CommandError(f"error: flag needs an argument: {flag}", 1)

        if tok in ("-n", "--namespace"):
            f.namespace = value(tok)
        elif tok.startswith("--namespace="):
            f.namespace = tok.split("=", 1)[1]
        elif tok.startswith("-n") and not tok.startswith("--") and len(tok) > 2:
            f.namespace = tok[2:].lstrip("=")
        elif tok in ("-A", "--all-namespaces", "--all-namespaces=true"):
            f.all_ns = True
        elif tok in ("-o", "--output"):
            f.output = value(tok)
        elif tok.startswith("--output="):
            f.output = tok.split("=", 1)[1]
        elif tok.startswith("-o") and not tok.startswith("--"):
            f.output = tok[2:].lstrip("=")
        elif tok == "--replicas":
            f.replicas = value(tok)
        elif tok.startswith("--replicas="):
            f.replicas = tok.split("=", 1)[1]
        elif tok in ("-l", "--selector"):
            f.selector = value(tok)
        elif tok.startswith("--selector="):
            f.selector = tok.split("=", 1)[1]
        elif tok == "--show-labels":
            f.show_labels = True
        elif tok in ("-w", "--watch", "--wait", "--now", "--force", "--no-headers"):
            if tok == "--no-headers":
                f.output = f.output or "no-headers"
        elif tok.startswith("--grace-period") or tok.startswith("--timeout") or tok.startswith("--context"):
            if "=" not in tok:
                value(tok)
        elif tok.startswith("-") and tok != "-":
            name = tok.split("=", 1)[0]
            raise CommandError(f"error: unknown flag: {name}\nSee 'kubectl --help' for usage.", 1)
        else:
            f.positional.append(tok)
    if f.output and f.output not in ("wide", "yaml", "json", "name", "no-headers") and not (
            f.output.startswith("jsonpath=") or f.output.startswith("jsonpath-as-json=")):
        raise CommandError(f"error: unable to match a printer suitable for the output format \"{f.output}\", "
                           "allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,"
                           "json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml", 1)
    return f


def _resource(word: str) -> tuple[str, str | None]:
    name = None
    if "/" in word:
        word, name = word.split("/", 1)
    res = _RESOURCES.get(word.lower())
    if res is None:
        raise CommandError(f'error: the server doesn\'t have a resource type "{word}"', 1)
    return res, name


# ------------------------------------------------------------------ objects


def _ports_text(svc) -> str:
    parts = []
    for p in svc.ports:
        if p.nodePort and svc.type != "ClusterIP":
            parts.append(f"{p.port}:{p.nodePort}/{p.protocol}")
        else:
            parts.append(f"{p.port}/{p.protocol}")
    return ",".join(parts)


def _external_ip(svc) -> str:
    ips = list(svc.externalIPs)
    if svc.type == "LoadBalancer":
        if svc.loadBalancerIP:
            ips = [svc.loadBalancerIP] + ips
        elif not ips:
            return "<pending>"
    return ",".join(ips) if ips else "<none>"


def _selector_text(sel) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(sel.items())) if sel else "<none>"


def _slices(ctx: ShellContext):
    return endpoint_slices(ctx.sim.scenario)


def _ready_endpoints(ctx: ShellContext, svc, port_name: str | None = None) -> list[str]:
    """ip:port of ready endpoints, in the Endpoints object's order (by port, then IP)."""
    out: list[tuple[str, tuple, str]] = []
    for sl in _slices(ctx).get(svc.key, []):
        for p in sl.ports:
            if port_name is not None and p.name != port_name:
                continue
            for e in sl.endpoints:
                if e.ready:
                    out.append((p.name, tuple(int(x) for x in e.address.split(".")), f"{e.address}:{p.port}"))
    seen = []
    for item in sorted(out):
        if item[2] not in seen:
            seen.append(item[2])
    return seen


def _format_list(items: list[str], empty: str = "<none>") -> str:
    if not items:
        return empty
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {len(items) - 3} more..."
    return ",".join(items)


def _age(ctx: ShellContext, pod_name: str) -> str:
    orig = getattr(ctx.state, "original_pods", None)
    if orig is not None and pod_name not in orig:
        return NEW_AGE
    return AGE


def _svc_obj(svc) -> dict:
    spec: dict = {
        "clusterIP": svc.clusterIP, "clusterIPs": [svc.clusterIP],
        "internalTrafficPolicy": svc.internalTrafficPolicy, "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [],
        "sessionAffinity": svc.sessionAffinity, "type": svc.type,
    }
    if svc.selector:
        spec["selector"] = dict(svc.selector)
    if svc.externalIPs:
        spec["externalIPs"] = list(svc.externalIPs)
    if svc.type != "ClusterIP":
        spec["externalTrafficPolicy"] = svc.externalTrafficPolicy
    for p in svc.ports:
        port: dict = {}
        if p.name:
            port["name"] = p.name
        if p.nodePort and svc.type != "ClusterIP":
            port["nodePort"] = p.nodePort
        port["port"] = p.port
        port["protocol"] = p.protocol
        port["targetPort"] = p.target
        spec["ports"].append(port)
    status: dict = {"loadBalancer": {}}
    if svc.type == "LoadBalancer" and svc.loadBalancerIP:
        status["loadBalancer"] = {"ingress": [{"ip": svc.loadBalancerIP, "ipMode": "VIP"}]}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc.name, "namespace": svc.namespace}, "spec": spec, "status": status}


def _pod_spec(pod) -> dict:
    container: dict = {"name": pod.deployment or pod.name}
    if pod.env:
        container["env"] = [{"name": k, "value": v} for k, v in pod.env.items()]
    container["ports"] = [
        ({"name": cp.name} if cp.name else {}) | {"containerPort": cp.containerPort, "protocol": cp.protocol}
        for cp in pod.ports]
    if pod.preStopSleepSeconds:
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": pod.preStopSleepSeconds}}}
    spec: dict = {"containers": [container]}
    if pod.dnsConfig is not None:
        spec["dnsConfig"] = pod.dnsConfig.model_dump()
    return spec | {"terminationGracePeriodSeconds": 30}


def _pod_obj(pod) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"labels": dict(pod.labels), "name": pod.name, "namespace": pod.namespace},
        "spec": _pod_spec(pod) | {"nodeName": pod.node},
        "status": {"phase": "Running", "podIP": pod.ip, "podIPs": [{"ip": pod.ip}],
                   # a terminating pod keeps its Ready condition while its probe passes
                   "conditions": [{"status": "True" if pod.ready else "False",
                                   "type": "Ready"}]},
    }


def _drop_empty(v):
    """The API server's omitempty: empty lists and maps are left out."""
    if isinstance(v, dict):
        return {k: _drop_empty(x) for k, x in v.items() if x not in ([], {}, None)}
    if isinstance(v, list):
        return [_drop_empty(x) for x in v]
    return v


def _netpol_obj(pol) -> dict:
    spec = pol.model_dump(by_alias=True, exclude_none=True, include={"podSelector", "ingress", "egress"})
    spec = _drop_empty(spec)
    spec["podSelector"] = spec.get("podSelector") or {}
    spec["policyTypes"] = list(pol.types)  # defaulted by the API server
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": pol.name, "namespace": pol.namespace}, "spec": spec}


def _pod_ref(e, namespace: str) -> dict:
    """nodeName and targetRef of an endpoint; none for one that is not a pod (the API
    server's own address in default/kubernetes)."""
    if not e.pod:
        return {}
    return {"nodeName": e.node, "targetRef": {"kind": "Pod", "name": e.pod, "namespace": namespace}}


def _slice_obj(sl) -> dict:
    return {
        "addressType": sl.address_type, "apiVersion": "discovery.k8s.io/v1",
        "endpoints": [{"addresses": [e.address],
                       "conditions": {"ready": e.ready, "serving": e.serving, "terminating": e.terminating},
                       **_pod_ref(e, sl.namespace)}
                      for e in sl.endpoints] or None,
        "kind": "EndpointSlice",
        "metadata": {"labels": {"kubernetes.io/service-name": sl.service}, "name": sl.name,
                     "namespace": sl.namespace},
        # an empty list comes back from the API server as null (the placeholder slice)
        "ports": [({"name": p.name} if p.name else {"name": ""}) | {"port": p.port, "protocol": p.protocol}
                  for p in sl.ports] or None,
    }


def _ep_obj(ctx: ShellContext, svc) -> dict:
    subsets = []
    for sl in _slices(ctx).get(svc.key, []):
        ready = [e for e in sl.endpoints if e.ready]
        notready = [e for e in sl.endpoints if not e.ready]
        sub: dict = {}
        if ready:
            sub["addresses"] = [{"ip": e.address, **_pod_ref(e, sl.namespace)}
                                for e in sorted(ready, key=lambda e: e.address)]
        if notready:
            sub["notReadyAddresses"] = [{"ip": e.address, **_pod_ref(e, sl.namespace)}
                                        for e in sorted(notready, key=lambda e: e.address)]
        sub["ports"] = [({"name": p.name} if p.name else {}) | {"port": p.port, "protocol": p.protocol}
                        for p in sl.ports]
        subsets.append(sub)
    obj: dict = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": svc.name, "namespace": svc.namespace}}
    if subsets:
        obj["subsets"] = subsets
    return obj


def _node_obj(node) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node.name},
            "spec": {"podCIDR": node.podCIDR, "podCIDRs": [node.podCIDR]},
            "status": {"addresses": [{"address": node.ip, "type": "InternalIP"},
                                     {"address": node.name, "type": "Hostname"}]}}


def _deployments(ctx: ShellContext) -> dict[tuple[str, str], list]:
    out: dict[tuple[str, str], list] = {}
    for p in ctx.sim.scenario.pods:
        if p.deployment:
            out.setdefault((p.namespace, p.deployment), []).append(p)
    return out


def _dump(objs: list[dict], fmt: str, single: bool) -> str:
    if single and len(objs) == 1:
        data = objs[0]
    else:
        data = {"apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}
    if fmt == "json":
        return json.dumps(data, indent=4) + "\n"
    import yaml

    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True)


# ------------------------------------------------------------------ get


def _in_ns(f: _Flags, ns: str) -> bool:
    return f.all_ns or ns == (f.namespace or "default")


def _label_match(labels: dict, selector: str | None) -> bool:
    if not selector:
        return True
    for part in selector.split(","):
        if "!=" in part:
            k, v = part.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in part:
            k, v = part.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif part.strip() and part.strip() not in labels:
            return False
    return True


def _namespaces(ctx: ShellContext) -> list[str]:
    sc = ctx.sim.scenario
    return sorted({"default", "kube-system", "kube-public", "kube-node-lease"}
                  | {s.namespace for s in sc.services} | {p.namespace for p in sc.pods})


def _get(ctx: ShellContext, f: _Flags, prefix_kind: bool = False) -> ShellResult:
    if not f.positional:
        raise CommandError("You must specify the type of resource to get. Use \"kubectl api-resources\" for a "
                           "complete list of supported resources.\n\nerror: Required resource not specified.\n"
                           "Use \"kubectl explain <resource>\" for a detailed description of that resource "
                           "(e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples", 1)
    if "," in f.positional[0] and "/" not in f.positional[0]:
        # kubectl get svc,ep: one listing per type, a blank line between them
        kinds = [k for k in f.positional[0].split(",") if k]
        for k in kinds:
            _resource(k)
        out = err = ""
        code = 0
        for k in kinds:
            sub = _Flags()
            sub.__dict__.update(f.__dict__)
            sub.positional = [k] + f.positional[1:]
            r = _get(ctx, sub, prefix_kind=True)
            if r.stdout and out:
                out += "\n"
            out += r.stdout
            err += r.stderr
            code = code or r.exit_code
        return ShellResult(stdout=out, stderr=err, exit_code=code)
    res, name = _resource(f.positional[0])
    names = ([name] if name else []) + f.positional[1:]
    sc = ctx.sim.scenario
    ns_col = f.all_ns and res != "nodes"
    rows: list[list[str]] = []
    objs: list[dict] = []
    found: set[str] = set()
    wide = f.output == "wide"

    def want(obj_name: str, ns: str) -> bool:
        if names and obj_name not in names:
            return False
        return res == "nodes" or _in_ns(f, ns)

    if res == "networkpolicies":
        header = ["NAME", "POD-SELECTOR", "AGE"]
        for pol in sorted(sc.networkPolicies, key=lambda p: (p.namespace, p.name)):
            if not want(pol.name, pol.namespace):
                continue
            found.add(pol.name)
            rows.append(([pol.namespace] if ns_col else [])
                        + [pol.name, _selector_text(pol.podSelector.matchLabels), AGE])
            objs.append(_netpol_obj(pol))
    elif res == "events":
        # events expire an hour after the fact
        header = ["NAME"]
    elif res == "configmaps":
        header = ["NAME", "DATA", "AGE"]
        for ns in _namespaces(ctx):
            if want(ROOT_CA_CM, ns):
                found.add(ROOT_CA_CM)
                rows.append(([ns] if ns_col else []) + [ROOT_CA_CM, "1", AGE])
                objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": ROOT_CA_CM, "namespace": ns}})
    elif res == "services":
        header = ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"] + (["SELECTOR"] if wide else [])
        for svc in sorted(sc.services, key=lambda s: (s.namespace, s.name)):
            if not want(svc.name, svc.namespace):
                continue
            found.add(svc.name)
            row = [svc.name, svc.type, svc.clusterIP, _external_ip(svc), _ports_text(svc), AGE]
            if wide:
                row.append(_selector_text(svc.selector))
            rows.append(([svc.namespace] if ns_col else []) + row)
            objs.append(_svc_obj(svc))
    elif res == "endpoints":
        header = ["NAME", "ENDPOINTS", "AGE"]
        for svc in sorted(sc.services, key=lambda s: (s.namespace, s.name)):
            # selectorless: no Endpoints, but for the one the API server writes (default/kubernetes)
            if (not svc.selector and not _slices(ctx).get(svc.key)) or not want(svc.name, svc.namespace):
                continue
            found.add(svc.name)
            rows.append(([svc.namespace] if ns_col else []) + [svc.name, _format_list(_ready_endpoints(ctx, svc)), AGE])
            objs.append(_ep_obj(ctx, svc))
    elif res == "endpointslices":
        header = ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        for sl in sorted((sl for sls in _slices(ctx).values() for sl in sls),
                         key=lambda sl: (sl.namespace, sl.name)):  # the API server lists by key
            if True:
                if not want(sl.name, sl.namespace):
                    continue
                found.add(sl.name)
                ports = _format_list([str(p.port) for p in sl.ports], "<unset>")
                eps = _format_list([e.address for e in sl.endpoints], "<unset>")
                rows.append(([sl.namespace] if ns_col else []) + [sl.name, sl.address_type, ports, eps, AGE])
                objs.append(_slice_obj(sl))
    elif res == "pods":
        header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        if wide:
            header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
        if f.show_labels:
            header.append("LABELS")
        for p in sorted(sc.pods, key=lambda p: (p.namespace, p.name)):  # the API server lists by key
            if not want(p.name, p.namespace) or not _label_match(p.labels, f.selector):
                continue
            found.add(p.name)
            ready = "1/1" if p.ready else "0/1"  # (Terminating 1/1: still passing readiness)
            status = "Terminating" if p.terminating else "Running"
            row = [p.name, ready, status, "0", _age(ctx, p.name)]
            if wide:
                row += [p.ip, p.node, "<none>", "<none>"]
            if f.show_labels:
                row.append(_selector_text(p.labels))
            rows.append(([p.namespace] if ns_col else []) + row)
            objs.append(_pod_obj(p))
    elif res == "nodes":
        header = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        if wide:
            header += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
        for n in sorted(sc.cluster.nodes, key=lambda n: n.name):
            if not want(n.name, ""):
                continue
            found.add(n.name)
            row = [n.name, "Ready", "<none>", AGE, K8S_VERSION]
            if wide:
                row += [n.ip, "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.24"]
            rows.append(row)
            objs.append(_node_obj(n))
    else:  # deployments
        header = ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        for (ns, dep), every in sorted(_deployments(ctx).items()):
            if not want(dep, ns):
                continue
            found.add(dep)
            # terminating pods are not replicas any more (the ReplicaSet counts active pods)
            pods = [p for p in every if not p.terminating]
            ready = sum(1 for p in pods if p.ready)
            template = (pods or every)[-1]
            rows.append(([ns] if ns_col else []) + [dep, f"{ready}/{len(pods)}", str(len(pods)), str(ready), AGE])
            objs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": dep, "namespace": ns},
                         "spec": {"replicas": len(pods), "template": {"metadata": {"labels": dict(template.labels)},
                                                                      "spec": _pod_spec(template)}},
                         "status": {"readyReplicas": ready, "replicas": len(pods)}})
    missing = [n for n in names if n not in found]
    err = "".join(f'Error from server (NotFound): {_NOTFOUND_KIND[res]} "{n}" not found\n' for n in missing)
    code = 1 if missing else 0
    if f.output in ("yaml", "json"):
        if not objs:
            if missing:
                return ShellResult(stderr=err, exit_code=1)
            return ShellResult(stdout=_dump([], f.output, False))
        return ShellResult(stdout=_dump(objs, f.output, single=bool(names) and len(names) == 1),
                           stderr=err, exit_code=code)
    if f.output.startswith("jsonpath"):
        data = objs[0] if names and len(names) == 1 and len(objs) == 1 else {
            "apiVersion": "v1", "items": objs, "kind": "List", "metadata": {"resourceVersion": ""}}
        template = f.output.split("=", 1)[1]
        return ShellResult(stdout=jsonpath(template, data), stderr=err, exit_code=code)
    if f.output == "name":
        kind = _SINGULAR[res]
        return ShellResult(stdout="".join(f"{kind}/{o['metadata']['name']}\n" for o in objs), stderr=err,
                           exit_code=code)
    if not rows:
        if missing:
            return ShellResult(stderr=err, exit_code=1)
        where = "" if (f.all_ns or res == "nodes") else f" in {f.namespace or 'default'} namespace"
        return ShellResult(stderr=f"No resources found{where}.\n")
    if ns_col:
        header = ["NAMESPACE"] + header
    if prefix_kind:  # kubectl get svc,ep names each row kind/name
        kind = _SINGULAR[res].split(".")[0] if res != "endpoints" else "endpoints"
        k = 1 if ns_col else 0
        rows = [r[:k] + [f"{kind}/{r[k]}"] + r[k + 1:] for r in rows]
    table = [header] + rows if f.output != "no-headers" else rows
    return ShellResult(stdout=align_table(table), stderr=err, exit_code=code)


# ------------------------------------------------------------------ -o jsonpath


def _jp_eval(path: str, data) -> list:
    """Values a kubectl JSONPath expression (``.a.b[0].c``, ``[*]``, ``..x`` not) selects."""
    vals = [data]
    for tok in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\*|-?\d+)\]|\['([^']*)'\]", path):
        key, idx, quoted = tok
        key = key or quoted
        nxt = []
        for v in vals:
            if key:
                if isinstance(v, dict) and key in v:
                    nxt.append(v[key])
            elif idx == "*":
                if isinstance(v, list):
                    nxt += v
                elif isinstance(v, dict):
                    nxt += list(v.values())
            elif isinstance(v, list):
                k = int(idx)
                if -len(v) <= k < len(v):
                    nxt.append(v[k])
        vals = nxt
    return vals


def _jp_text(v) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def jsonpath(template: str, data) -> str:
    """kubectl's ``-o jsonpath=TEMPLATE``: text with ``{expr}``, ``{range expr}...{end}``
    and quoted literals (``{"\\n"}``); values of one expression joined by spaces."""
    parts = re.split(r"(\{[^{}]*\})", template)
    out: list[str] = []

    def run(items: list[str], ctx) -> None:
        i = 0
        while i < len(items):
            item = items[i]
            i += 1
            if not (item.startswith("{") and item.endswith("}")):
                out.append(item)
                continue
            expr = item[1:-1].strip()
            if expr.startswith("range "):
                depth, j = 1, i
                while j < len(items) and depth:
                    e = items[j][1:-1].strip() if items[j].startswith("{") else ""
                    depth += 1 if e.startswith("range ") else -1 if e == "end" else 0
                    j += 1
                body = items[i:j - 1]
                for v in _jp_eval(expr[6:].strip().lstrip("@"), ctx):
                    run(body, v)
                i = j
            elif expr.startswith('"') and expr.endswith('"') or expr.startswith("'") and expr.endswith("'"):
                out.append(expr[1:-1].encode().decode("unicode_escape"))
            else:
                base = ctx if expr.startswith("@") or not expr.startswith("$") else data
                vals = _jp_eval(expr.lstrip("$@"), base)
                out.append(" ".join(_jp_text(v) for v in vals))

    run([p for p in parts if p], data)
    return "".join(out)


# ------------------------------------------------------------------ describe


def _describe_svc(ctx: ShellContext, svc) -> str:
    w = 26
    lines: list[tuple[str, str]] = [
        ("Name:", svc.name), ("Namespace:", svc.namespace), ("Labels:", "<none>"), ("Annotations:", "<none>"),
        ("Selector:", _selector_text(svc.selector)), ("Type:", svc.type),
        ("IP Family Policy:", "SingleStack"), ("IP Families:", "IPv4"), ("IP:", svc.clusterIP),
        ("IPs:", svc.clusterIP),
    ]
    if svc.externalIPs:
        lines.append(("External IPs:", ",".join(svc.externalIPs)))
    if svc.type == "LoadBalancer" and svc.loadBalancerIP:
        lines.append(("LoadBalancer Ingress:", f"{svc.loadBalancerIP} (VIP)"))
    for p in svc.ports:
        lines.append(("Port:", f"{p.name or '<unset>'}  {p.port}/{p.protocol}"))
        lines.append(("TargetPort:", f"{p.target}/{p.protocol}"))
        if p.nodePort and svc.type != "ClusterIP":
            lines.append(("NodePort:", f"{p.name or '<unset>'}  {p.nodePort}/{p.protocol}"))
        eps = _ready_endpoints(ctx, svc, p.name)
        lines.append(("Endpoints:", _format_list(eps, "")))
    lines.append(("Session Affinity:", svc.sessionAffinity))
    if svc.type != "ClusterIP":
        lines.append(("External Traffic Policy:", svc.externalTrafficPolicy))
    lines.append(("Internal Traffic Policy:", svc.internalTrafficPolicy))
    if svc.healthCheckNodePort:
        lines.append(("HealthCheck NodePort:", str(svc.healthCheckNodePort)))
    if svc.loadBalancerSourceRanges:
        lines.append(("LoadBalancer Source Ranges:", ",".join(svc.loadBalancerSourceRanges)))
    lines.append(("Events:", "<none>"))
    width = max(w, max(len(k) for k, _ in lines) + 2)
    return "".join((k.ljust(width) + v).rstrip() + "\n" if v else k.ljust(width) + "\n" for k, v in lines)


def _describe_pod(ctx: ShellContext, p) -> str:
    rows = [("Name:", p.name), ("Namespace:", p.namespace), ("Node:", f"{p.node}/{ctx.sim.scenario.node(p.node).ip}"),
            ("Labels:", _selector_text(p.labels).replace(",", "\n" + " " * 16)),
            ("Status:", "Terminating" if p.terminating else "Running"), ("IP:", p.ip), ("IPs:", ""),
            ("  IP:", p.ip)]
    return "".join((k.ljust(16) + v).rstrip() + "\n" for k, v in rows) + "Events:         <none>\n"


def _describe_ep(ctx: ShellContext, svc) -> str:
    """``kubectl describe endpoints NAME`` (kubectl's describeEndpoints layout)."""
    obj = _ep_obj(ctx, svc)
    lines = [f"Name:         {svc.name}", f"Namespace:    {svc.namespace}", "Labels:       <none>",
             "Annotations:  <none>", "Subsets:"]
    for sub in obj.get("subsets", []):
        ready = ",".join(a["ip"] for a in sub.get("addresses", [])) or "<none>"
        notready = ",".join(a["ip"] for a in sub.get("notReadyAddresses", [])) or "<none>"
        lines += [f"  Addresses:          {ready}", f"  NotReadyAddresses:  {notready}", "  Ports:"]
        rows = [["Name", "Port", "Protocol"], ["----", "----", "--------"]]
        rows += [[p.get("name", "<unset>"), str(p["port"]), p["protocol"]] for p in sub["ports"]]
        lines += ["    " + x for x in align_table(rows, sep=2).splitlines()]
        lines.append("")
    lines.append("Events:  <none>")
    return "\n".join(lines) + "\n"


def _describe(ctx: ShellContext, f: _Flags) -> ShellResult:
    if not f.positional:
        raise CommandError("You must specify the type of resource to describe. Use \"kubectl api-resources\" for "
                           "a complete list of supported resources.", 1)
    if "," in f.positional[0] and "/" not in f.positional[0]:
        # kubectl describe svc,ep: each type in turn
        kinds = [k for k in f.positional[0].split(",") if k]
        for k in kinds:
            _resource(k)
        out = err = ""
        code = 0
        for k in kinds:
            sub = _Flags()
            sub.__dict__.update(f.__dict__)
            sub.positional = [k] + f.positional[1:]
            r = _describe(ctx, sub)
            if r.stdout and out:
                out += "\n\n"
            out += r.stdout
            err += r.stderr
            code = code or r.exit_code
        return ShellResult(stdout=out, stderr=err, exit_code=code)
    res, name = _resource(f.positional[0])
    names = ([name] if name else []) + f.positional[1:]
    sc = ctx.sim.scenario
    ns = f.namespace or "default"
    out = []
    err = ""
    if res == "services":
        pool = [s for s in sc.services if f.all_ns or s.namespace == ns]
        for n in names or [s.name for s in pool]:
            svc = next((s for s in pool if s.name == n), None)
            if svc is None:
                err += f'Error from server (NotFound): services "{n}" not found\n'
            else:
                out.append(_describe_svc(ctx, svc))
    elif res == "pods":
        pool = [p for p in sc.pods if f.all_ns or p.namespace == ns]
        for n in names or [p.name for p in pool]:
            pod = next((p for p in pool if p.name == n), None)
            if pod is None:
                err += f'Error from server (NotFound): pods "{n}" not found\n'
            else:
                out.append(_describe_pod(ctx, pod))
    elif res == "endpoints":
        pool = [s for s in sc.services if s.selector and (f.all_ns or s.namespace == ns)]
        for n in names or [s.name for s in pool]:
            svc = next((s for s in pool if s.name == n), None)
            if svc is None:
                err += f'Error from server (NotFound): endpoints "{n}" not found\n'
            else:
                out.append(_describe_ep(ctx, svc))
    else:
        raise CommandError(f"error: kubectl describe {res} is not simulated here; try kubectl get {res} -o yaml", 1)
    if not out and not err:
        return ShellResult(stderr=f"No resources found in {ns} namespace.\n")
    return ShellResult(stdout="\n\n".join(out), stderr=err, exit_code=1 if err else 0)


# ------------------------------------------------------------------ scale / delete


def _apply(ctx: ShellContext, event: Event) -> None:
    from ..cluster.events import EventError

    try:
        ctx.sim.apply_event(event)
    except EventError as e:
        raise CommandError(f"error: {e}", 1) from None


def _scale(ctx: ShellContext, f: _Flags) -> ShellResult:
    if f.replicas is None:
        raise CommandError('error: required flag(s) "replicas" not set', 1)
    try:
        replicas = int(f.replicas)
    except ValueError:
        raise CommandError(f'error: invalid argument "{f.replicas}" for "--replicas" flag: strconv.ParseInt: '
                           f'parsing "{f.replicas}": invalid syntax', 1) from None
    if replicas < 0:
        raise CommandError("error: The --replicas=COUNT flag is required, and COUNT must be greater than or "
                           "equal to 0", 1)
    if not f.positional:
        raise CommandError("error: You must provide one or more resources by argument or filename.\n"
                           "Example resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                           "   '<resource> <name>'\n   '<resource>'", 1)
    res, name = _resource(f.positional[0])
    names = ([name] if name else []) + f.positional[1:]
    if res != "deployments":
        raise CommandError(f"error: no objects passed to scale ({res} cannot be scaled here)", 1)
    if not names:
        raise CommandError("error: resource(s) were provided, but no name was specified", 1)
    deps = _deployments(ctx)
    ns = f.namespace or "default"
    out = err = ""
    for n in names:
        if (ns, n) not in deps:
            err += f'Error from server (NotFound): deployments.apps "{n}" not found\n'
            continue
        if replicas > 100:
            raise CommandError("error: the simulator allows at most 100 replicas", 1)
        _apply(ctx, Event(action="scale", deployment=n, replicas=replicas))
        out += f"deployment.apps/{n} scaled\n"
    return ShellResult(stdout=out, stderr=err, exit_code=1 if err else 0)


def _delete(ctx: ShellContext, f: _Flags) -> ShellResult:
    if not f.positional:
        raise CommandError("error: You must provide one or more resources by argument or filename.", 1)
    res, name = _resource(f.positional[0])
    names = ([name] if name else []) + f.positional[1:]
    if not names:
        raise CommandError("error: resource(s) were provided, but no name was specified", 1)
    ns = f.namespace or "default"
    sc = ctx.sim.scenario
    out = err = ""
    for n in names:
        if res == "pods":
            if not any(p.name == n and p.namespace == ns for p in ctx.sim.scenario.pods):
                err += f'Error from server (NotFound): pods "{n}" not found\n'
                continue
            _apply(ctx, Event(action="delete-pod", pod=n))
            out += f'pod "{n}" deleted\n'
        elif res == "services":
            if not any(s.name == n and s.namespace == ns for s in sc.services):
                err += f'Error from server (NotFound): services "{n}" not found\n'
                continue
            _apply(ctx, Event(action="delete-service", service=f"{ns}/{n}"))
            out += f'service "{n}" deleted\n'
        else:
            raise CommandError(f"error: deleting {res} is not simulated here (pods and services are)", 1)
    return ShellResult(stdout=out, stderr=err, exit_code=1 if err else 0)


KUBECTL_HELP = """kubectl controls the Kubernetes cluster manager.

 Find more information at: https://kubernetes.io/docs/reference/kubectl/

Basic Commands (simulated here):
  get           Display one or many resources (svc, endpoints, endpointslices, pods, nodes, deployments)
  describe      Show details of a specific resource (svc, pods)
  scale         Set a new size for a deployment
  delete        Delete pods or services

Usage:
  kubectl [flags] [options]
"""


def run_kubectl(ctx: ShellContext, argv: list[str]) -> ShellResult:
    if not argv or argv[0] in ("-h", "--help", "help"):
        return ShellResult(stdout=KUBECTL_HELP)
    verb = argv[0]
    if verb == "version":
        return ShellResult(stdout=f"Client Version: {K8S_VERSION}\nKustomize Version: v5.5.0\n"
                                  f"Server Version: {K8S_VERSION}\n")
    if verb.startswith("-"):
        # flags before the verb (kubectl -n ns get pods)
        for k, tok in enumerate(argv):
            if not tok.startswith("-") and k > 0 and argv[k - 1] not in ("-n", "--namespace", "-o", "--output"):
                rest = argv[:k] + argv[k + 1:]
                return run_kubectl(ctx, [tok] + rest)
        raise CommandError(KUBECTL_HELP.rstrip(), 1)
    f = _parse(argv[1:])
    if verb == "get":
        return _get(ctx, f)
    if verb == "describe":
        return _describe(ctx, f)
    if verb == "logs":
        # the simulated pods run test servers that write no log lines
        pods = [w for w in f.positional if not w.startswith("-")]
        if not pods:
            raise CommandError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                               "POD or TYPE/NAME is a required argument for the logs command\n"
                               "See 'kubectl logs -h' for help and examples", 1)
        name = pods[0].split("/", 1)[1] if pods[0].startswith(("pod/", "pods/")) else pods[0]
        ns = f.namespace or "default"
        if not any(p.name == name and p.namespace == ns for p in ctx.sim.scenario.pods):
            raise CommandError(f'Error from server (NotFound): pods "{name}" not found', 1)
        return ShellResult()
    if verb == "scale":
        return _scale(ctx, f)
    if verb == "delete":
        return _delete(ctx, f)
    raise CommandError(f'error: unknown command "{verb}" for "kubectl"\n\nDid you mean this?\n\tget\n\t'
                       "describe\n\tscale\n\tdelete" if verb in ("gte", "gt", "desc", "del") else
                       f'error: unknown command "{verb}" for "kubectl"', 1)


def resource_names(ctx: ShellContext, res: str) -> list[str]:
    sc = ctx.sim.scenario
    if res == "services":
        return [s.name for s in sc.services]
    if res == "pods":
        return [p.name for p in sc.pods]
    if res == "deployments":
        return sorted({p.deployment for p in sc.pods if p.deployment})
    if res == "nodes":
        return [n.name for n in sc.cluster.nodes]
    if res == "endpoints":
        return [s.name for s in sc.services if s.selector]
    if res == "endpointslices":
        return [sl.name for sls in _slices(ctx).values() for sl in sls]
    if res == "networkpolicies":
        return [p.name for p in sc.networkPolicies]
    return []
