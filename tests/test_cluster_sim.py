"""The simulator against what the kernel showed, without root.

Two kinds of test:

* every flow of every shipped scenario against the kernel's own recorded output
  (``tests/kernel/fixtures/scenarios/*.json``, recorded as root with
  ``python -m tests.kernel.recorded``; the same ``compare_flow`` as the live referee);
* the facts the kernel showed, written out: chain paths (``table:chain:verdict`` as
  ``xtables-monitor --trace`` prints them), NAT results, ``conntrack -L`` lines.  Every
  expected value below was read off a real run (kernel 6.x, iptables 1.8.9 nf_tables,
  conntrack 1.4.7); MASQUERADE --random-fully ports are the kernel's choice, so only the
  simulator's own port is checked for range.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.compare import compare_flow, sim_path
from kernel.handmade import SCENARIO as HANDMADE
from kernel.recorded import FIXTURES, egress_policy_drops, load
from kubeflow_tui.cluster import ClusterSim, run_flow
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.trace import Trace

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

SVC = "KUBE-SVC-CDGGSHYLG3RE2FKL"  # default/web:http tcp
EXT = "KUBE-EXT-CDGGSHYLG3RE2FKL"
SVL = "KUBE-SVL-CDGGSHYLG3RE2FKL"
FW = "KUBE-FW-CDGGSHYLG3RE2FKL"
SEP1 = "KUBE-SEP-AFGSLHOD2HFNCBX4"  # -> 10.244.1.5:8080 (web-1)


def scenario(name: str):
    return load_scenario(SCENARIOS / f"{name}.yaml")


def trace(name: str, flow: str, **kw) -> Trace:
    return run_flow(scenario(name), flow, **kw)


def path(tr: Trace, host: str, packet_no: int = 0) -> list[str]:
    """The chain path of one packet on one host, in the kernel's trace form."""
    return [e.label for e in sim_path([s for s in tr.steps if s.host == host and s.packet_no == packet_no])]


def last(tr: Trace, host: str, packet_no: int):
    return [s for s in tr.steps if s.host == host and s.packet_no == packet_no][-1].packet


def ct_lines(tr: Trace, host: str) -> list[str]:
    steps = tr.steps_on(host)
    return [c.line for c in steps[-1].conntrack] if steps else []


FORWARD_NEW = ["filter:FORWARD:JUMP:KUBE-PROXY-FIREWALL", "filter:FORWARD:JUMP:KUBE-FORWARD",
               "filter:FORWARD:JUMP:KUBE-SERVICES", "filter:FORWARD:JUMP:KUBE-EXTERNAL-SERVICES",
               "filter:FORWARD:policy:ACCEPT"]
FORWARD_MARKED = ["filter:FORWARD:JUMP:KUBE-PROXY-FIREWALL", "filter:FORWARD:JUMP:KUBE-FORWARD",
                  "filter:KUBE-FORWARD:ACCEPT"]
FORWARD_ESTABLISHED = ["filter:FORWARD:JUMP:KUBE-FORWARD", "filter:KUBE-FORWARD:ACCEPT"]
POST_NO_MASQ = ["nat:POSTROUTING:JUMP:KUBE-POSTROUTING", "nat:KUBE-POSTROUTING:RETURN",
                "nat:POSTROUTING:policy:ACCEPT"]
POST_MASQ = ["nat:POSTROUTING:JUMP:KUBE-POSTROUTING", "nat:KUBE-POSTROUTING:CONTINUE",
             "nat:KUBE-POSTROUTING:ACCEPT"]
PRE_NO_SERVICE = ["nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:PREROUTING:policy:ACCEPT"]
CLUSTERIP_DNAT = ["nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{SVC}",
                  f"nat:{SVC}:JUMP:{SEP1}", f"nat:{SEP1}:ACCEPT"]
EXT_DNAT = [f"nat:{EXT}:JUMP:KUBE-MARK-MASQ", "nat:KUBE-MARK-MASQ:CONTINUE", f"nat:{EXT}:JUMP:{SVC}",
            f"nat:{SVC}:JUMP:{SEP1}", f"nat:{SEP1}:ACCEPT"]


# ---------------------------------------------------------------------------------------
# every shipped flow against the kernel's recording


def _recorded_params() -> list:
    out = []
    for path_ in sorted(SCENARIOS.glob("*.yaml")):
        rec = FIXTURES / f"{path_.stem}.json"
        sc = load_scenario(path_)
        # a flow with a time (at) meets the cluster as its timeline made it, which a recording
        # of the cluster as written does not hold: tests/kernel/test_sync_timing_kernel.py
        untimed = [f for f in sc.flows if f.at is None]
        if not untimed and sc.flows:
            continue
        if not rec.exists():
            out.append(pytest.param(path_, None, id=f"{path_.stem}/(not recorded)"))
            continue
        for f in untimed:
            out.append(pytest.param(path_, f.name, id=f"{path_.stem}/{f.name}"))
    return out


@pytest.mark.parametrize("path_, flow", _recorded_params())
def test_agrees_with_the_recorded_kernel(path_: Path, flow: str | None):
    if flow is None:
        pytest.skip(f"no kernel recording of {path_.name}: run python -m tests.kernel.recorded {path_.stem} as root")
    sc = load_scenario(path_)
    flows, stale = load(FIXTURES / f"{path_.stem}.json", sc)
    if stale:
        pytest.skip(stale)
    recs = [f for f in flows if f.flow == flow]
    if not recs and egress_policy_drops(sc, flow):
        pytest.skip(f"{flow}: an egress NetworkPolicy drops it; the referee has no CNI for egress")
    (rec,) = recs
    pods = {p.name for p in sc.pods}
    sim = ClusterSim(sc, proxy_mode="iptables")  # recorded with kube-proxy's iptables rules
    tr = None
    for name, res in zip(rec.chain, rec.results):
        f = sc.flow(name)
        pin = f.endpoint or (res.server if res.outcome == "delivered" and res.server in pods else None)
        tr = sim.run(f, endpoint=pin)
    out = compare_flow(sc, flow, rec.results[-1], tr, record=False)
    assert out == [], "\n".join(out)


# ---------------------------------------------------------------------------------------
# ClusterIP


def test_clusterip_from_a_pod_on_the_same_node():
    tr = trace("clusterip", "pod-same-node")
    assert tr.outcome == "delivered" and tr.endpoint == "web-1"
    assert path(tr, "node-a", 0) == CLUSTERIP_DNAT + FORWARD_NEW + POST_NO_MASQ
    assert (last(tr, "node-a", 0).dst, last(tr, "node-a", 0).dport) == ("10.244.1.5", 8080)
    assert (tr.server_saw, tr.client_saw) == ("10.244.1.7:40000", "10.96.0.1:8080")
    assert ct_lines(tr, "node-a") == [
        "tcp      6 119 TIME_WAIT src=10.244.1.7 dst=10.96.0.1 sport=40000 dport=8080 "
        "src=10.244.1.5 dst=10.244.1.7 sport=8080 dport=40000 [ASSURED] mark=0 use=1"]


def test_later_packets_skip_the_nat_table():
    """Only the SYN walks nat; every later packet, either way, is conntrack's (kernel: the
    same two FORWARD lines for SYN-ACK, ACK, request, response, FIN ...)."""
    tr = trace("clusterip", "pod-same-node")
    numbers = sorted({s.packet_no for s in tr.steps})
    assert len(numbers) == 8
    for no in numbers[1:]:
        assert path(tr, "node-a", no) == FORWARD_ESTABLISHED, no
        assert not any(s.table == "nat" for s in tr.steps if s.packet_no == no)
    # the reply's source becomes the ClusterIP again: conntrack, not a rule
    rev = [s for s in tr.steps if s.packet_no == 1 and s.kind == "conntrack-reverse" and s.changed]
    assert [(s.host, s.hook, s.packet.src, s.packet.sport) for s in rev] == [
        ("node-a", "POSTROUTING", "10.96.0.1", 8080)]
    # and the ACK after it is DNATed by conntrack before FORWARD sees it
    hit = [s for s in tr.steps if s.packet_no == 2 and s.kind == "conntrack-hit" and s.changed]
    assert [(s.hook, s.packet.dst) for s in hit] == [("PREROUTING", "10.244.1.5")]


def test_clusterip_from_a_pod_on_another_node():
    tr = trace("clusterip", "pod-other-node")
    assert path(tr, "node-b", 0) == CLUSTERIP_DNAT + FORWARD_NEW + POST_NO_MASQ
    # node-a only forwards: the packet is already addressed to the pod
    assert path(tr, "node-a", 0) == PRE_NO_SERVICE + FORWARD_NEW + POST_NO_MASQ
    assert path(tr, "node-b", 1) == FORWARD_ESTABLISHED
    assert ct_lines(tr, "node-a") == [
        "tcp      6 119 TIME_WAIT src=10.244.2.7 dst=10.244.1.5 sport=40000 dport=8080 "
        "src=10.244.1.5 dst=10.244.2.7 sport=8080 dport=40000 [ASSURED] mark=0 use=1"]
    assert tr.server_saw == "10.244.2.7:40000"


def test_clusterip_from_the_nodes_host_network():
    tr = trace("clusterip", "node-host-network")
    assert path(tr, "node-b", 0) == [
        "nat:OUTPUT:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{SVC}", f"nat:{SVC}:JUMP:KUBE-MARK-MASQ",
        "nat:KUBE-MARK-MASQ:CONTINUE", f"nat:{SVC}:JUMP:{SEP1}", f"nat:{SEP1}:ACCEPT",
        "filter:OUTPUT:JUMP:KUBE-FIREWALL", "filter:OUTPUT:JUMP:KUBE-PROXY-FIREWALL",
        "filter:OUTPUT:JUMP:KUBE-SERVICES", "filter:OUTPUT:policy:ACCEPT",
    ] + POST_MASQ
    # the reply is for the node itself: INPUT, no nat INPUT (not a new connection)
    assert path(tr, "node-b", 1) == ["filter:INPUT:JUMP:KUBE-FIREWALL", "filter:INPUT:JUMP:KUBE-NODEPORTS",
                                     "filter:INPUT:policy:ACCEPT"]
    syn = last(tr, "node-b", 0)
    assert (syn.src, syn.dst, syn.dport) == ("192.168.1.11", "10.244.1.5", 8080)
    assert 32768 <= syn.sport <= 60999  # masqueraded to the node's own address, random port
    (line,) = ct_lines(tr, "node-b")
    assert line.startswith("tcp      6 119 TIME_WAIT src=192.168.1.11 dst=10.96.0.1 sport=40000 dport=8080 "
                           f"src=10.244.1.5 dst=192.168.1.11 sport=8080 dport={syn.sport} [ASSURED]")


# ---------------------------------------------------------------------------------------
# NodePort and LoadBalancer


def test_nodeport_on_the_pods_node():
    tr = trace("nodeport", "to-pod-node")
    assert path(tr, "node-a", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT}"] + EXT_DNAT + FORWARD_MARKED + POST_MASQ
    syn = last(tr, "node-a", 0)
    assert (syn.src, syn.dst, syn.dport) == ("10.244.1.1", "10.244.1.5", 8080)  # the veth's address
    assert tr.client_saw == "192.168.1.10:30080"


def test_nodeport_on_another_node():
    tr = trace("nodeport", "to-other-node")
    assert path(tr, "node-b", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT}"] + EXT_DNAT + FORWARD_MARKED + POST_MASQ
    assert path(tr, "node-a", 0) == PRE_NO_SERVICE + FORWARD_NEW + POST_NO_MASQ
    assert tr.server_saw.startswith("192.168.1.11:")  # node-b's address: the client's is lost


def test_loadbalancer_vip_style_matches_the_lb_ip_on_the_node():
    tr = trace("loadbalancer", "via-pod-node")
    assert path(tr, "node-a", 0) == ["nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{EXT}"] \
        + EXT_DNAT + FORWARD_MARKED + POST_MASQ
    assert [s.host for s in tr.steps if s.kind == "link"][:2] == ["lb", "node-a"]
    assert tr.client_saw == "203.0.113.5:8080" and tr.server_saw.startswith("10.244.1.1:")
    tr = trace("loadbalancer", "via-other-node")
    assert path(tr, "node-b", 0) == ["nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{EXT}"] \
        + EXT_DNAT + FORWARD_MARKED + POST_MASQ
    assert tr.server_saw.startswith("192.168.1.11:")


def test_loadbalancer_proxy_style_opens_its_own_connection_to_the_nodeport():
    tr = trace("loadbalancer-proxy", "via-other-node")
    syn_b = [s for s in tr.steps if s.host == "node-b" and s.kind == "link"][0].packet
    assert (syn_b.src, syn_b.sport, syn_b.dst, syn_b.dport) == ("192.168.1.100", 50000, "192.168.1.11", 30080)
    assert path(tr, "node-b", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT}"] + EXT_DNAT + FORWARD_MARKED + POST_MASQ
    assert tr.client_saw == "203.0.113.5:8080"


# ---------------------------------------------------------------------------------------
# policies, firewalls, REJECT


def test_external_traffic_policy_local_with_a_local_endpoint_keeps_the_source():
    tr = trace("local-policy", "to-node-with-endpoint")
    assert path(tr, "node-a", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT}", f"nat:{EXT}:JUMP:{SVL}", f"nat:{SVL}:JUMP:{SEP1}",
        f"nat:{SEP1}:ACCEPT"] + FORWARD_NEW + POST_NO_MASQ
    assert tr.server_saw == "192.168.1.2:40000"


def test_external_traffic_policy_local_without_one_drops_in_filter_input():
    tr = trace("local-policy", "to-node-without-endpoint")
    assert tr.outcome == "timeout"
    # KUBE-EXT has no rule for this node (no local endpoint): nat leaves the packet alone,
    # it is for the node itself, and filter INPUT's KUBE-EXTERNAL-SERVICES drops it
    assert path(tr, "node-b", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", "nat:KUBE-SERVICES:JUMP:KUBE-NODEPORTS",
        f"nat:KUBE-NODEPORTS:JUMP:{EXT}", "nat:PREROUTING:policy:ACCEPT",
        "filter:INPUT:JUMP:KUBE-FIREWALL", "filter:INPUT:JUMP:KUBE-PROXY-FIREWALL",
        "filter:INPUT:JUMP:KUBE-NODEPORTS", "filter:INPUT:JUMP:KUBE-EXTERNAL-SERVICES",
        "filter:KUBE-EXTERNAL-SERVICES:DROP"]
    assert ct_lines(tr, "node-b") == []  # the entry was never confirmed


def test_internal_traffic_policy_local_drops_on_a_node_without_endpoint():
    tr = trace("internal-local", "client-on-other-node")
    assert tr.outcome == "timeout"
    assert path(tr, "node-b", 0) == PRE_NO_SERVICE + FORWARD_NEW[:3] + ["filter:KUBE-SERVICES:DROP"]
    assert ct_lines(tr, "node-b") == []


def test_no_endpoints_is_rejected_in_filter():
    tr = trace("no-endpoints", "no-backend")
    assert tr.outcome == "refused"
    assert path(tr, "node-b", 0) == PRE_NO_SERVICE + FORWARD_NEW[:3] + ["filter:KUBE-SERVICES:DROP"]
    (rej,) = [s for s in tr.steps if s.kind == "reject"]
    assert rej.rule.endswith("-j REJECT --reject-with icmp-port-unreachable")
    assert ct_lines(tr, "node-b") == []


def test_source_ranges_drop_a_stranger_in_kube_proxy_firewall():
    tr = trace("source-ranges", "blocked-client")
    assert tr.outcome == "timeout"
    # KUBE-FW's last rule has no target (only a comment): the kernel traces it as CONTINUE
    assert path(tr, "node-a", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{FW}", f"nat:{FW}:CONTINUE",
        "nat:PREROUTING:policy:ACCEPT", "filter:FORWARD:JUMP:KUBE-PROXY-FIREWALL",
        "filter:KUBE-PROXY-FIREWALL:DROP"]


def test_a_closed_port_rst_deletes_the_entry_at_once():
    """nf_conntrack_proto_tcp: a RST as the only answer kills the entry (the kernel's
    conntrack -E: [NEW] SYN_SENT, then [DESTROY]; conntrack -L is empty)."""
    tr = run_flow(HANDMADE, "pod-to-closed-port")
    assert tr.outcome == "refused"
    assert [s.packet_label for s in tr.steps if s.kind == "send"] == ["SYN", "RST"]
    assert path(tr, "node-a", 1) == FORWARD_ESTABLISHED
    views = [s.conntrack[s.touched] for s in tr.steps if s.host == "node-a" and s.touched >= 0]
    assert [(v.state, v.event) for v in views][0] == ("SYN_SENT", "new")
    assert [(v.state, v.event) for v in views][-1] == ("CLOSE", "destroy")
    assert ct_lines(tr, "node-a") == []


# ---------------------------------------------------------------------------------------
# hairpin, affinity, UDP


def test_hairpin_is_masqueraded_to_the_pod_gateway():
    tr = trace("hairpin", "back-to-itself")
    assert path(tr, "node-a", 0) == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{SVC}", f"nat:{SVC}:JUMP:{SEP1}",
        f"nat:{SEP1}:JUMP:KUBE-MARK-MASQ", "nat:KUBE-MARK-MASQ:CONTINUE", f"nat:{SEP1}:ACCEPT",
    ] + FORWARD_MARKED + POST_MASQ
    syn = last(tr, "node-a", 0)
    assert (syn.src, syn.dst) == ("10.244.1.1", "10.244.1.5")
    assert tr.server_saw.startswith("10.244.1.1:") and tr.client_saw == "10.96.0.1:8080"
    tr = trace("hairpin", "to-its-sibling")
    assert tr.server_saw == "10.244.1.5:40000"  # no hairpin, no masquerade


def test_affinity_sends_the_second_connection_by_the_recent_list():
    sc = scenario("affinity")
    sim = ClusterSim(sc)
    tr = sim.run_flow("second-request")  # runs first-request (pinned to web-2) first
    sep2 = [s.target for s in tr.steps if s.host == "node-a" and s.kind == "jump"
            and s.chain == SVC][0]
    assert path(tr, "node-a", 0)[:4] == [
        "nat:PREROUTING:JUMP:KUBE-SERVICES", f"nat:KUBE-SERVICES:JUMP:{SVC}", f"nat:{SVC}:JUMP:{sep2}",
        f"nat:{sep2}:ACCEPT"]
    jump = [s for s in tr.steps if s.kind == "jump" and s.chain == SVC][0]
    assert "-m recent --rcheck --seconds 10800 --reap --name" in jump.rule and jump.probability is None
    assert tr.endpoint == "web-2"
    # both connections are in node-a's table
    lines = ct_lines(tr, "node-a")
    assert len(lines) == 2 and all("TIME_WAIT" in line and "src=10.244.2.5" in line for line in lines)


def test_udp_entry_is_unreplied_then_replied_never_assured():
    tr = trace("udp", "dns-query")
    assert tr.outcome == "delivered" and tr.client_saw == "10.96.0.10:53"
    sc_views = [s.conntrack[s.touched] for s in tr.steps if s.host == "node-b" and s.touched >= 0]
    assert sc_views[0].status == ("UNREPLIED",) and sc_views[-1].status == ()
    assert ct_lines(tr, "node-b") == [
        "udp      17 29 src=10.244.2.8 dst=10.96.0.10 sport=53000 dport=53 "
        "src=10.244.1.3 dst=10.244.2.8 sport=53 dport=53000 mark=0 use=1"]
    assert path(tr, "node-b", 1) == FORWARD_ESTABLISHED


def test_udp_from_the_node_is_dnated_in_nat_output_and_masqueraded():
    tr = trace("udp", "dns-query-same-node")
    assert path(tr, "node-a", 0)[:2] == ["nat:OUTPUT:JUMP:KUBE-SERVICES",
                                         "nat:KUBE-SERVICES:JUMP:KUBE-SVC-TCOU7JCQXEZGVUNU"]
    assert path(tr, "node-a", 0)[-3:] == POST_MASQ
    assert tr.server_saw.startswith("10.244.1.1:")


# --------------------------------------------------------------------------- resync effects


def test_resync_deletes_stale_udp_entries_like_kube_proxy():
    """pkg/proxy/conntrack/cleanup.go: after a sync, UDP entries DNATed to an endpoint that
    no longer serves are deleted; TCP entries are left alone."""
    from kubeflow_tui.scenario.models import Event

    sim = ClusterSim(load_scenario(SCENARIOS / "udp.yaml"))
    assert sim.run_flow("dns-query").outcome == "delivered"
    stale = ("udp      17 29 src=10.244.2.8 dst=10.96.0.10 sport=53000 dport=53 "
             "src=10.244.1.3 dst=10.244.2.8 sport=53 dport=53000 mark=0 use=1")
    assert sim.conntrack("node-b").lines() == [stale]
    sim.apply_event(Event(action="delete-pod", pod="coredns-1"))
    assert sim.last_cleanup == {"node-b": [stale]}
    assert sim.conntrack("node-b").lines() == []
    # the same query from the same port now walks the new rules
    assert sim.run_flow("dns-query").outcome == "delivered"


def test_failed_cleanup_leaves_the_stale_udp_entry():
    from kubeflow_tui.scenario.models import Event

    sim = ClusterSim(load_scenario(SCENARIOS / "udp.yaml"))
    sim.conntrack_cleanup = False
    sim.run_flow("dns-query")
    sim.apply_event(Event(action="delete-pod", pod="coredns-1"))
    assert len(sim.conntrack("node-b").lines()) == 1
    assert sim.run_flow("dns-query").outcome != "delivered"


def test_new_syn_reopens_a_time_wait_tuple_and_walks_nat_again():
    """nf_conntrack_proto_tcp: a SYN on a TIME_WAIT entry kills it and starts anew."""
    sim = ClusterSim(load_scenario(SCENARIOS / "clusterip.yaml"))
    first = sim.run_flow("pod-other-node")
    assert "TIME_WAIT" in sim.conntrack("node-b").lines()[0]
    again = sim.run_flow("pod-other-node")
    node_b = [s for s in again.steps if s.host == "node-b" and s.packet_no == 0 and s.kind != "link"]
    assert node_b[0].kind == "conntrack-new" and "TIME_WAIT" in node_b[0].why
    assert any(s.table == "nat" and s.kind == "dnat" for s in node_b)
    assert first.endpoint == again.endpoint == "web-1"
    assert len(sim.conntrack("node-b").lines()) == 1


def test_hairpin_without_masquerade_is_a_martian():
    """Without KUBE-MARK-MASQ in the SEP chain the pod would get a packet from itself:
    the kernel drops it as a martian source."""
    sim = ClusterSim(load_scenario(SCENARIOS / "hairpin.yaml"))
    node = sim.scenario.pod("web-1").node
    rs = sim.node_ruleset(node).copy()
    for chain in rs.tables["nat"].chains.values():
        chain.rules = [r for r in chain.rules if r.target != "KUBE-MARK-MASQ" or not chain.name.startswith("KUBE-SEP-")]
    sim.set_ruleset(node, rs)
    t = sim.run_flow("back-to-itself")
    assert t.outcome == "timeout"
    assert t.steps[-2].kind == "drop" and "martian" in t.steps[-2].why
