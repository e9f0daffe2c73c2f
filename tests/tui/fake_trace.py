"""Hand-built Traces for the TUI tests, modelled on a real ClusterIP connection.

Pod client-1 (10.244.2.7, node-b) connects to the Service default/web, ClusterIP
10.96.0.1:8080, endpoints web-1 (10.244.1.5, node-a) and web-2 (10.244.2.5, node-b).
Steps follow ``kubeflow_tui.trace`` exactly: SYN out of the pod, conntrack on node-b,
nat PREROUTING → KUBE-SERVICES → KUBE-SVC (statistic roll) → KUBE-SEP (DNAT), routing,
filter FORWARD, nat POSTROUTING, confirm, the link to node-a, delivery at web-1; then the
SYN-ACK back, which conntrack on node-b turns back into 10.96.0.1:8080.

``FakeEngine`` offers the same three methods as ``kubeflow_tui.tui.engine.RealEngine``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubeflow_tui.scenario.models import Scenario
from kubeflow_tui.trace import ConntrackView, PacketView, Step, Trace
from kubeflow_tui.tui.engine import EngineError

SVC = "KUBE-SVC-CDGGSHYLG3RE2FKL"
SEP = {"web-1": "KUBE-SEP-AFGSLHOD2HFNCBX4", "web-2": "KUBE-SEP-OAIGUPJHOE4YU7HS"}
DB_SVC = "KUBE-SVC-XNGJKETZWGOHXDFO"
COMMENT = '"default/web:http cluster IP"'

SCENARIO_DATA: dict[str, Any] = {
    "name": "clusterip-basics",
    "description": "A pod talks to a ClusterIP Service with two endpoints.",
    "seed": 1,
    "cluster": {
        "systemServices": False,
        "nodes": [
            {"name": "node-a", "ip": "192.168.1.10", "podCIDR": "10.244.1.0/24"},
            {"name": "node-b", "ip": "192.168.1.11", "podCIDR": "10.244.2.0/24"},
        ]
    },
    "pods": [
        {"name": "web-1", "node": "node-a", "ip": "10.244.1.5", "labels": {"app": "web"},
         "ports": [{"name": "http", "containerPort": 8080}]},
        {"name": "web-2", "node": "node-b", "ip": "10.244.2.5", "labels": {"app": "web"},
         "ports": [{"name": "http", "containerPort": 8080}]},
        {"name": "client-1", "node": "node-b", "ip": "10.244.2.7", "labels": {"app": "client"}},
    ],
    "services": [
        {"name": "web", "clusterIP": "10.96.0.1", "selector": {"app": "web"},
         "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
        {"name": "db", "clusterIP": "10.96.0.20", "selector": {"app": "db"},
         "ports": [{"name": "pg", "port": 5432}]},
    ],
    "clients": [{"name": "laptop", "kind": "external", "ip": "192.168.1.2"}],
    "loadBalancer": {"name": "lb", "ip": "192.168.1.100"},
    "flows": [
        {"name": "pod-to-service", "description": "client-1 opens a TCP connection to web's ClusterIP.",
         "from": "client-1", "to": "10.96.0.1:8080"},
        {"name": "pod-to-service-web-2", "description": "The same, with the endpoint pinned to web-2.",
         "from": "client-1", "to": "10.96.0.1:8080", "endpoint": "web-2"},
    ],
}

POD_IP = {"web-1": "10.244.1.5", "web-2": "10.244.2.5", "client-1": "10.244.2.7"}
POD_NODE = {"web-1": "node-a", "web-2": "node-b", "client-1": "node-b"}


def make_scenario() -> Scenario:
    return Scenario.model_validate(SCENARIO_DATA)


def _ct(state: str, orig, reply, status=(), event="", timeout=120) -> ConntrackView:
    st = " ".join(f"[{s}]" for s in status)
    o = "src={} dst={} sport={} dport={}".format(*orig)
    r = "src={} dst={} sport={} dport={}".format(*reply)
    unrep = " [UNREPLIED]" if "UNREPLIED" in status else ""
    assured = " [ASSURED]" if "ASSURED" in status else ""
    line = f"tcp      6 {timeout} {state} {o}{unrep} {r}{assured} mark=0 use=1"
    del st
    return ConntrackView(line=line, proto="tcp", state=state, orig=tuple(orig), reply=tuple(reply),
                         status=tuple(status), event=event)


class _B:
    """Appends Steps, carrying packet and per-host conntrack along."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.ct: dict[str, list[ConntrackView]] = {}
        self.pkt: PacketView | None = None
        self.packet_no = 0
        self.label = ""

    def add(self, host: str, kind: str, why: str, *, ct_host: str | None = None, touched: int = -1,
            **kw: Any) -> None:
        pkt = kw.pop("packet", None)
        if pkt is not None:
            self.pkt = pkt
        entries = tuple(self.ct.get(ct_host or host, ()))
        for i, e in enumerate(entries):  # only the touched entry carries an event
            if i != touched and e.event:
                entries = entries[:i] + (replace(e, event=""),) + entries[i + 1:]
        assert self.pkt is not None
        self.steps.append(Step(index=len(self.steps), host=host, kind=kind, why=why, packet=self.pkt,
                               packet_no=self.packet_no, packet_label=self.label,
                               conntrack=entries, touched=touched, **kw))

    def set_ct(self, host: str, idx: int, entry: ConntrackView) -> int:
        lst = self.ct.setdefault(host, [])
        if idx >= len(lst):
            lst.append(entry)
            return len(lst) - 1
        lst[idx] = entry
        return idx


def _nat_walk(b: _B, host: str, *, to_service: bool, endpoint: str, roll: float) -> None:
    """nat PREROUTING on ``host`` for the first packet."""
    b.add(host, "rule-match", "The nat PREROUTING chain sends every new packet to KUBE-SERVICES.",
          hook="PREROUTING", table="nat", chain="PREROUTING", rule_index=1,
          rule='-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
          target="KUBE-SERVICES")
    b.add(host, "jump", "Jump to KUBE-SERVICES, the list of every Service's addresses.",
          hook="PREROUTING", table="nat", chain="PREROUTING", rule_index=1,
          rule='-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
          target="KUBE-SERVICES")
    dst = b.pkt.dst
    b.add(host, "no-match", f"10.96.0.20:5432 is db's ClusterIP; the packet goes to {dst}:{b.pkt.dport}, no match.",
          hook="PREROUTING", table="nat", chain="KUBE-SERVICES", rule_index=1,
          rule=f'-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m comment --comment "default/db:pg cluster IP" -m tcp --dport 5432 -j {DB_SVC}',
          target=DB_SVC)
    if not to_service:
        b.add(host, "no-match", f"{dst} is not a local address of this node, so not a NodePort.",
              hook="PREROUTING", table="nat", chain="KUBE-SERVICES", rule_index=3,
              rule='-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
              target="KUBE-NODEPORTS")
        b.add(host, "return", "End of KUBE-SERVICES: back to PREROUTING, whose policy accepts.",
              hook="PREROUTING", table="nat", chain="KUBE-SERVICES")
        b.add(host, "policy", "nat PREROUTING policy ACCEPT: no translation on this node.",
              hook="PREROUTING", table="nat", chain="PREROUTING", target="ACCEPT")
        return
    svc_rule = (f"-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment {COMMENT} "
                f"-m tcp --dport 8080 -j {SVC}")
    b.add(host, "rule-match", "10.96.0.1:8080 is web's ClusterIP and port: this rule matches.",
          hook="PREROUTING", table="nat", chain="KUBE-SERVICES", rule_index=2, rule=svc_rule, target=SVC)
    b.add(host, "jump", f"Jump to {SVC}, the chain of Service default/web port http.",
          hook="PREROUTING", table="nat", chain="KUBE-SERVICES", rule_index=2, rule=svc_rule, target=SVC)
    b.add(host, "no-match",
          "The source 10.244.2.7 is inside the cluster CIDR 10.244.0.0/16, so no masquerade mark.",
          hook="PREROUTING", table="nat", chain=SVC, rule_index=1,
          rule=f"-A {SVC} ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment {COMMENT} -m tcp --dport 8080 -j KUBE-MARK-MASQ",
          target="KUBE-MARK-MASQ")
    r1 = f'-A {SVC} -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j {SEP["web-1"]}'
    r2 = f'-A {SVC} -m comment --comment "default/web:http -> 10.244.2.5:8080" -j {SEP["web-2"]}'
    if endpoint == "web-1":
        b.add(host, "rule-match", f"statistic random p=0.50000000000, rolled {roll:.2f}: match, web-1 is chosen.",
              hook="PREROUTING", table="nat", chain=SVC, rule_index=2, rule=r1, target=SEP["web-1"],
              roll=roll, probability=0.5)
        rule, idx = r1, 2
    else:
        b.add(host, "no-match", f"statistic random p=0.50000000000, rolled {roll:.2f}: no match.",
              hook="PREROUTING", table="nat", chain=SVC, rule_index=2, rule=r1, target=SEP["web-1"],
              roll=roll, probability=0.5)
        b.add(host, "rule-match", "The last endpoint has no statistic match: it takes what is left.",
              hook="PREROUTING", table="nat", chain=SVC, rule_index=3, rule=r2, target=SEP["web-2"])
        rule, idx = r2, 3
    sep = SEP[endpoint]
    b.add(host, "jump", f"Jump to {sep}, the chain of endpoint {endpoint}.",
          hook="PREROUTING", table="nat", chain=SVC, rule_index=idx, rule=rule, target=sep)
    ip = POD_IP[endpoint]
    b.add(host, "no-match", f"The source is not {ip} itself (no hairpin), so no masquerade mark.",
          hook="PREROUTING", table="nat", chain=sep, rule_index=1,
          rule=f'-A {sep} -s {ip}/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ',
          target="KUBE-MARK-MASQ")
    dnat = f'-A {sep} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination {ip}:8080'
    b.add(host, "rule-match", f"The DNAT rule of {endpoint} matches every packet that reaches it.",
          hook="PREROUTING", table="nat", chain=sep, rule_index=2, rule=dnat, target="DNAT")
    old = b.ct[host][0]
    e = _ct("SYN_SENT", old.orig, (ip, "10.244.2.7", 8080, 40000), ("UNREPLIED",), "update")
    t = b.set_ct(host, 0, e)
    b.add(host, "dnat", f"DNAT: the destination 10.96.0.1:8080 becomes {ip}:8080; conntrack remembers it.",
          hook="PREROUTING", table="nat", chain=sep, rule_index=2, rule=dnat, target="DNAT",
          packet=replace(b.pkt, dst=ip, dport=8080), changed=("dst", "dport"), touched=t)


def _forward(b: _B, host: str, established: bool) -> None:
    fwd = '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'
    b.add(host, "rule-match", "filter FORWARD sends forwarded packets to KUBE-FORWARD.",
          hook="FORWARD", table="filter", chain="FORWARD", rule_index=1, rule=fwd, target="KUBE-FORWARD")
    b.add(host, "jump", "Jump to KUBE-FORWARD.", hook="FORWARD", table="filter", chain="FORWARD",
          rule_index=1, rule=fwd, target="KUBE-FORWARD")
    est = '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
    if established:
        b.add(host, "rule-match", "The connection is ESTABLISHED in conntrack: accepted.", hook="FORWARD",
              table="filter", chain="KUBE-FORWARD", rule_index=3, rule=est, target="ACCEPT")
        b.add(host, "accept", "ACCEPT: the packet may be forwarded.", hook="FORWARD", table="filter",
              chain="KUBE-FORWARD", rule_index=3, rule=est, target="ACCEPT")
        return
    b.add(host, "no-match", "The packet is not marked 0x4000 for masquerade.", hook="FORWARD", table="filter",
          chain="KUBE-FORWARD", rule_index=2,
          rule='-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
          target="ACCEPT")
    b.add(host, "no-match", "A first packet is NEW, not ESTABLISHED.", hook="FORWARD", table="filter",
          chain="KUBE-FORWARD", rule_index=3, rule=est, target="ACCEPT")
    b.add(host, "return", "End of KUBE-FORWARD: back to FORWARD.", hook="FORWARD", table="filter",
          chain="KUBE-FORWARD")
    b.add(host, "policy", "filter FORWARD policy ACCEPT: the packet may be forwarded.", hook="FORWARD",
          table="filter", chain="FORWARD", target="ACCEPT")


def _postrouting(b: _B, host: str) -> None:
    pr = '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
    b.add(host, "rule-match", "nat POSTROUTING sends new packets to KUBE-POSTROUTING.", hook="POSTROUTING",
          table="nat", chain="POSTROUTING", rule_index=1, rule=pr, target="KUBE-POSTROUTING")
    b.add(host, "jump", "Jump to KUBE-POSTROUTING.", hook="POSTROUTING", table="nat", chain="POSTROUTING",
          rule_index=1, rule=pr, target="KUBE-POSTROUTING")
    ret = "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"
    b.add(host, "rule-match", "No 0x4000 mark: no masquerade, the source stays the pod's own address.",
          hook="POSTROUTING", table="nat", chain="KUBE-POSTROUTING", rule_index=1, rule=ret, target="RETURN")
    b.add(host, "return", "RETURN to POSTROUTING, whose policy accepts.", hook="POSTROUTING", table="nat",
          chain="KUBE-POSTROUTING", rule_index=1, rule=ret, target="RETURN")


def build_trace(flow: str = "pod-to-service", *, seed: int | None = None, endpoint: str | None = None) -> Trace:
    if "broken" in flow:  # lets tests see how an engine error is shown
        raise EngineError(f"no flow named {flow!r} in scenario clusterip-basics")
    if flow == "pod-to-service-web-2" and endpoint is None:
        endpoint = "web-2"
    roll = random.Random(seed if seed is not None else 1).random()
    if endpoint is None:
        endpoint = "web-1" if roll < 0.5 else "web-2"
    elif endpoint not in SEP:
        raise EngineError(f"endpoint {endpoint!r} is not an endpoint of default/web (web-1, web-2)")
    else:  # a pinned choice: report a roll that agrees with it
        roll = 0.31 if endpoint == "web-1" else 0.71
    ep_ip, ep_node = POD_IP[endpoint], POD_NODE[endpoint]
    client, cip = "client-1", "10.244.2.7"
    b = _B()
    b.label = "SYN"
    b.add(client, "send", "client-1 opens a TCP connection to web's ClusterIP: a SYN to 10.96.0.1:8080.",
          packet=PacketView(src=cip, dst="10.96.0.1", proto="tcp", sport=40000, dport=8080, flags=("SYN",)))
    b.add("node-b", "link", "The SYN crosses client-1's veth into node-b.", link=(client, "node-b"))
    t = b.set_ct("node-b", 0, _ct("SYN_SENT", (cip, "10.96.0.1", 40000, 8080), ("10.96.0.1", cip, 8080, 40000),
                                  ("UNREPLIED",), "new"))
    b.add("node-b", "conntrack-new", "conntrack has no entry for this connection: a new one is made, "
          "so the nat table will be consulted.", hook="PREROUTING", touched=t)
    _nat_walk(b, "node-b", to_service=True, endpoint=endpoint, roll=roll)
    if ep_node == "node-b":
        b.add("node-b", "route", f"{ep_ip} is a pod on this node: out through veth-{endpoint}.")
    else:
        b.add("node-b", "route", f"{ep_ip} is in node-a's pod range 10.244.1.0/24: via 192.168.1.10 dev eth0.")
    _forward(b, "node-b", established=False)
    _postrouting(b, "node-b")
    b.ct["node-b"][0] = replace(b.ct["node-b"][0], event="update")
    b.add("node-b", "conntrack-confirm", "The packet leaves node-b: its conntrack entry is confirmed.",
          hook="POSTROUTING", touched=0)
    if ep_node != "node-b":
        b.add("node-a", "link", "The SYN crosses the node network from node-b to node-a.",
              link=("node-b", "node-a"))
        orig = (cip, ep_ip, 40000, 8080)
        t = b.set_ct("node-a", 0, _ct("SYN_SENT", orig, (ep_ip, cip, 8080, 40000), ("UNREPLIED",), "new"))
        b.add("node-a", "conntrack-new", "node-a keeps its own conntrack table: a new entry, already DNATed.",
              hook="PREROUTING", touched=t)
        _nat_walk(b, "node-a", to_service=False, endpoint=endpoint, roll=roll)
        b.add("node-a", "route", f"{ep_ip} is a pod on this node: out through veth-{endpoint}.")
        _forward(b, "node-a", established=False)
        _postrouting(b, "node-a")
        b.ct["node-a"][0] = replace(b.ct["node-a"][0], event="update")
        b.add("node-a", "conntrack-confirm", "The entry on node-a is confirmed.", hook="POSTROUTING", touched=0)
    b.add(endpoint, "link", f"The SYN crosses veth-{endpoint} into the pod.", link=(ep_node, endpoint))
    b.add(endpoint, "deliver", f"{endpoint} receives the SYN from {cip}:40000: the server sees the pod's "
          "real address, not a node's.")
    # ---- the reply
    b.packet_no, b.label = 1, "SYN-ACK"
    b.add(endpoint, "send", f"{endpoint} answers with a SYN-ACK to {cip}:40000.",
          packet=PacketView(src=ep_ip, dst=cip, proto="tcp", sport=8080, dport=40000, flags=("SYN", "ACK"),
                            direction="reply"))
    hop = ep_node
    b.add(hop, "link", f"The SYN-ACK crosses veth-{endpoint} into {ep_node}.", link=(endpoint, ep_node))
    if ep_node != "node-b":
        e = b.ct["node-a"][0]
        t = b.set_ct("node-a", 0, _ct("SYN_RECV", e.orig, e.reply, (), "update", timeout=60))
        b.add("node-a", "conntrack-hit", "The SYN-ACK belongs to a known connection: no nat table, no "
              "translation on node-a.", hook="PREROUTING", touched=t)
        b.add("node-a", "route", "10.244.2.7 is in node-b's pod range: via 192.168.1.11 dev eth0.")
        _forward(b, "node-a", established=True)
        b.add("node-b", "link", "The SYN-ACK crosses the node network to node-b.", link=("node-a", "node-b"))
    e = b.ct["node-b"][0]
    t = b.set_ct("node-b", 0, _ct("SYN_RECV", e.orig, e.reply, (), "update", timeout=60))
    b.add("node-b", "conntrack-reverse", f"The reply matches the entry's reply tuple: conntrack undoes the "
          f"DNAT, so the source {ep_ip}:8080 becomes 10.96.0.1:8080 again (no SNAT rule does this).",
          hook="PREROUTING", touched=t, changed=("src", "sport"),
          packet=replace(b.pkt, src="10.96.0.1", sport=8080))
    b.add("node-b", "route", "10.244.2.7 is a pod on this node: out through veth-client-1.")
    _forward(b, "node-b", established=True)
    b.add(client, "link", "The SYN-ACK crosses veth-client-1 into the pod.", link=("node-b", client))
    b.add(client, "deliver", "client-1 gets a SYN-ACK from 10.96.0.1:8080, the address it called.")
    hosts = ("laptop", "lb", "node-a", "web-1", "node-b", "web-2", "client-1")
    return Trace(scenario="clusterip-basics", flow=flow, hosts=hosts, steps=tuple(b.steps),
                 outcome="delivered", summary=f"Connected: client-1 reached {endpoint} via 10.96.0.1:8080.",
                 seed=seed, endpoint=endpoint, server_saw=f"{cip}:40000", client_saw="10.96.0.1:8080")


RULESET = """# Generated by iptables-save v1.8.9 (nf_tables) on Thu Jan  1 00:00:00 1970
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-AFGSLHOD2HFNCBX4 - [0:0]
:KUBE-SEP-OAIGUPJHOE4YU7HS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AFGSLHOD2HFNCBX4 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-OAIGUPJHOE4YU7HS -s 10.244.2.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-OAIGUPJHOE4YU7HS -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.5:8080
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 8080 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-CDGGSHYLG3RE2FKL ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 8080 -j KUBE-MARK-MASQ
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AFGSLHOD2HFNCBX4
-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 10.244.2.5:8080" -j KUBE-SEP-OAIGUPJHOE4YU7HS
COMMIT
"""


class FakeEngine:
    """Same methods as ``RealEngine``; any path loads the same hand-made scenario,
    except a path whose name contains ``bad`` (an error) ."""

    def load(self, path: str | Path) -> Scenario:
        name = str(path)
        if "bad" in Path(name).name or "missing" in Path(name).name:
            raise EngineError(f"{name}:3:5: cluster.nodes: Field required")
        return make_scenario()

    def run_flow(self, scenario: Any, flow: str, *, seed: int | None = None,
                 endpoint: str | None = None) -> Trace:
        return build_trace(flow, seed=seed, endpoint=endpoint)

    def ruleset_text(self, scenario: Any, node: str, *, seed: int | None = None) -> str:
        if node not in ("node-a", "node-b"):
            raise EngineError(f"{node} is not a node")
        return RULESET
