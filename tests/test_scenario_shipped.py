"""Every shipped scenario loads, explains itself, and keeps the seed article's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubeflow_tui.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*.yaml"))
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SCHEMA_LINE = "# yaml-language-server: $schema=../kubeflow_tui/scenario/scenario.schema.json"

EXPECTED = {
    "affinity", "clusterip", "hairpin", "internal-local", "loadbalancer",
    "loadbalancer-proxy", "local-policy", "multi-endpoint", "no-endpoints", "nodeport",
    "scale", "source-ranges", "udp",
}


def test_the_set_of_scenarios():
    assert {f.stem for f in FILES} >= EXPECTED


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_shipped_scenario(path: Path):
    s = load_scenario(path)
    assert s.name == path.stem
    assert s.description.strip()
    assert s.flows, "a shipped scenario has something to watch"
    for f in s.flows:
        assert KEBAB.match(f.name), f.name
        assert f.description.strip(), f.name
    text = path.read_text(encoding="utf-8")
    assert text.startswith(SCHEMA_LINE + "\n#\n# "), "schema line, then a header comment"
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert len(header) >= 4
    assert any(p.deployment for p in s.pods)
    assert any(c.name for p in s.pods for c in p.ports)


def _load(name: str):
    return load_scenario(SCENARIOS / f"{name}.yaml")


SEEDED = ["clusterip", "nodeport", "loadbalancer", "loadbalancer-proxy", "multi-endpoint",
          "local-policy", "internal-local", "affinity", "hairpin", "source-ranges", "scale"]


@pytest.mark.parametrize("name", SEEDED)
def test_seed_numbers(name):
    s = _load(name)
    web = s.service("default/web")
    assert web.clusterIP == "10.96.0.1" and web.ports[0].port == 8080
    assert web.ports[0].targetPort == "http"  # a named targetPort ...
    pod = s.pod("web-1")  # ... served by web-1's container port http: 10.244.1.5:8080
    assert (pod.ip, pod.node, pod.ports[0].name, pod.ports[0].containerPort) == (
        "10.244.1.5", "node-a", "http", 8080)
    node = s.node("node-a")
    assert (node.ip, node.podCIDR) == ("192.168.1.10", "10.244.1.0/24")
    if web.type != "ClusterIP":
        assert web.ports[0].nodePort == 30080
    if web.type == "LoadBalancer":
        assert web.loadBalancerIP == "203.0.113.5"
    for c in s.clients:
        if c.kind == "external" and c.name in ("user", "office"):
            assert c.ip == "192.168.1.2"


def test_specific_shapes():
    assert _load("loadbalancer").loadBalancer.style == "vip"
    assert _load("loadbalancer-proxy").loadBalancer.style == "proxy"
    me = _load("multi-endpoint")
    web = me.service("web")
    eps = me.endpoints(web)
    assert len(eps) == 3 and len({p.node for p in eps}) == 2
    assert {f.endpoint for f in me.flows if f.endpoint} == {p.name for p in eps}
    lp = _load("local-policy")
    assert lp.service("web").externalTrafficPolicy == "Local"
    assert _load("internal-local").service("web").internalTrafficPolicy == "Local"
    aff = _load("affinity")
    assert aff.service("web").sessionAffinity == "ClientIP"
    assert len({f.from_ for f in aff.flows}) == 1 and len(aff.flows) == 2
    ne = _load("no-endpoints")
    assert ne.endpoints(ne.service("web")) == []
    hp = _load("hairpin")
    f = hp.flow("back-to-itself")
    assert f.from_ == f.endpoint == "web-1"
    udp = _load("udp")
    dns = udp.service("kube-system/kube-dns")
    assert any(p.port == 53 and p.protocol == "UDP" for p in dns.ports)
    assert udp.flow("dns-query").protocol == "UDP"
    sr = _load("source-ranges")
    assert sr.service("web").loadBalancerSourceRanges == ["192.168.1.0/28"]
    assert {f.name for f in sr.flows} == {"allowed-client", "blocked-client"}
    sc = _load("scale")
    assert [e.action for e in sc.timeline] == ["scale", "delete-pod", "set-selector"]
