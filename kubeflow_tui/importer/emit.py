"""Write an imported scenario as YAML in the shipped scenarios' style: one line per node,
pod, port and flow (flow mappings), block style around them."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import yaml

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_resolver = yaml.resolver.Resolver()



@lru_cache(maxsize=65536)
def _str(s: str) -> str:
    if _PLAIN.match(s) and _resolver.resolve(yaml.ScalarNode, s, (True, False)) == "tag:yaml.org,2002:str":
        return s
    return json.dumps(s)  # a JSON string is a YAML double-quoted scalar


def scalar(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    return _str(str(v))


def flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_str(str(k))}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return scalar(v)


def render(data: dict, comments: list[str] = ()) -> str:
    out: list[str] = []
    for c in comments:
        out.append(("# " + c).rstrip())
    out.append(f"name: {scalar(data['name'])}")
    if data.get("description"):
        out.append(f"description: {scalar(data['description'])}")
    c = data["cluster"]
    out.append("cluster:")
    for k in ("clusterCIDR", "serviceCIDR", "nodeNetwork"):
        out.append(f"  {k}: {scalar(c[k])}")
    if c.get("systemServices"):
        # default/kubernetes as the cluster has it, written by the option (see the comment above)
        out.append("  systemServices: true")
    else:
        # stated: the default (true) would add a default/kubernetes and kube-dns the dump lacks
        out.append("  systemServices: false  # the dump has no default/kubernetes in the kubeadm/kind shape")
    out.append("  nodes:")
    out += [f"    - {flow(n)}" for n in c["nodes"]]
    out.append("pods:" if data["pods"] else "pods: []")
    out += [f"  - {flow(p)}" for p in data["pods"]]
    out.append("services:" if data["services"] else "services: []")
    for s in data["services"]:
        first = True
        for k, v in s.items():
            lead = "  - " if first else "    "
            first = False
            if k == "ports":
                out.append(f"{lead}ports:")
                out += [f"      - {flow(p)}" for p in v]
            else:
                out.append(f"{lead}{k}: {flow(v)}")
    if data.get("clients"):
        out.append("clients:")
        out += [f"  - {flow(x)}" for x in data["clients"]]
    if data.get("loadBalancer"):
        out.append(f"loadBalancer: {flow(data['loadBalancer'])}")
    if data.get("flows"):
        out.append("flows:")
        for f in data["flows"]:
            out.append(f"  - {flow(f)}")
    return "\n".join(out) + "\n"
