"""How a connection ends, named for what it is: in the Trace, the CLI's text and --json.

A REJECT answers with an ICMP error (iptables' default ``icmp-port-unreachable``) that
travels back to the client, whose kernel fails connect() with ECONNREFUSED (the kernel
referee sees the same: tests/kernel, ``outcome == "refused"``); a DROP leaves the client
to retransmit and give up (ETIMEDOUT); an ARP failure comes back as ICMP host
unreachable (EHOSTUNREACH), which a UDP socket does not report.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kubeflow_tui import cli
from kubeflow_tui.cluster import ClusterSim, run_flow
from kubeflow_tui.render_trace import render_trace_text
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.trace import ENDINGS, ERRORS, STEP_KINDS, Trace

sys.path.insert(0, str(Path(__file__).parent))
from kernel.handmade import SCENARIO as HANDMADE  # noqa: E402

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def trace(name: str, flow: str) -> Trace:
    return run_flow(load_scenario(SCENARIOS / f"{name}.yaml"), flow)


def test_reject_ends_with_the_icmp_error_at_the_client_not_a_delivery():
    tr = trace("no-endpoints", "no-backend")
    assert (tr.ending, tr.error, tr.outcome) == ("rejected", "ECONNREFUSED", "refused")
    end = tr.steps[-1]
    assert end.kind == "socket-error" and end.host == "client" and end.error == "ECONNREFUSED"
    assert end.packet_label == "ICMP port unreachable"
    # the ICMP error comes from node-b (the pod gateway on the client's veth), to the client
    assert (end.packet.proto, end.packet.src, end.packet.dst) == ("icmp", "10.244.2.1", "10.244.2.9")
    assert end.packet.direction == "reply"
    assert not [s for s in tr.steps if s.host == "client" and s.kind == "deliver"]
    assert "Connection refused (ECONNREFUSED)" in tr.summary


def test_closed_port_rst_is_delivered_then_fails_the_connection():
    tr = run_flow(HANDMADE, "pod-to-closed-port")
    assert (tr.ending, tr.error) == ("rejected", "ECONNREFUSED")
    deliver, end = tr.steps[-2:]
    assert deliver.kind == "deliver" and deliver.packet_label == "RST"  # the RST does reach the socket
    assert end.kind == "socket-error" and end.host == deliver.host and "RST" in end.packet.flags


def test_drop_ends_in_a_timeout_named_dropped():
    tr = trace("source-ranges", "blocked-client")
    assert (tr.ending, tr.error, tr.outcome) == ("dropped", "ETIMEDOUT", "timeout")
    assert tr.steps[-1].kind == "timeout" and tr.steps[-1].error == "ETIMEDOUT"


def test_arp_failure_is_unreachable_and_udp_does_not_hear_it():
    sc = load_scenario(SCENARIOS / "no-endpoints.yaml")
    sim = ClusterSim(sc)
    tcp = sim.run_adhoc("client", "192.168.1.250:80", "TCP")
    assert (tcp.ending, tcp.error) == ("unreachable", "EHOSTUNREACH")
    assert tcp.steps[-1].packet_label == "ICMP host unreachable"
    udp = sim.run_adhoc("client", "192.168.1.250:80", "UDP")
    # udp_err: host unreachable is not a "hard" error: a connected UDP socket hears nothing
    assert (udp.ending, udp.error) == ("unreachable", "")
    assert udp.steps[-1].kind == "timeout"


def test_every_ending_and_error_is_in_the_documented_vocabulary():
    assert "socket-error" in STEP_KINDS
    sc = load_scenario(SCENARIOS / "clusterip.yaml")
    delivered = run_flow(sc, sc.flows[0].name)
    assert (delivered.ending, delivered.error) == ("delivered", "")
    for tr in (delivered, trace("no-endpoints", "no-backend"), trace("source-ranges", "blocked-client")):
        assert tr.ending in ENDINGS
        assert tr.error == "" or tr.error in ERRORS
        assert all(s.kind in STEP_KINDS for s in tr.steps)


def test_json_keeps_outcome_and_adds_ending_and_error():
    tr = trace("no-endpoints", "no-backend")
    data = json.loads(tr.to_json())
    assert (data["outcome"], data["ending"], data["error"]) == ("refused", "rejected", "ECONNREFUSED")
    assert data["steps"][-1]["kind"] == "socket-error" and data["steps"][-1]["error"] == "ECONNREFUSED"
    assert Trace.from_json(tr.to_json()) == tr


def test_older_json_without_ending_reads_back_with_the_closest_word():
    data = json.loads(trace("source-ranges", "blocked-client").to_json())
    del data["ending"], data["error"]
    for s in data["steps"]:
        del s["error"]
    old = Trace.from_dict(data)
    assert (old.outcome, old.ending, old.error) == ("timeout", "timed-out", "")


def test_cli_trace_text_names_the_ending_and_the_error(capsys):
    assert cli.main(["trace", str(SCENARIOS / "no-endpoints.yaml"), "no-backend"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "ending rejected" in first
    assert "Connection refused (ECONNREFUSED)" in out
    assert "ICMP port unreachable  10.244.2.1:" not in out  # ICMP has no ports
    assert "ICMP port unreachable  10.244.2.1 → 10.244.2.9 icmp" in out


def test_cli_json_carries_the_ending(capsys):
    assert cli.main(["trace", str(SCENARIOS / "source-ranges.yaml"), "blocked-client", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["ending"], data["error"]) == ("dropped", "ETIMEDOUT")


def test_rendered_text_ends_with_the_error_at_the_client():
    tr = trace("no-endpoints", "no-backend")
    text = render_trace_text(tr, width=80)
    assert "client's socket Connection refused (ECONNREFUSED)" in text
    assert "deliver" not in text.split("\nclient\n")[-1]


def test_udp_to_a_closed_port_gets_the_servers_icmp_port_unreachable():
    sim = ClusterSim(load_scenario(SCENARIOS / "udp.yaml"))
    tr = sim.run_adhoc("app", "10.244.1.3:5353", "UDP")  # coredns-1 listens on 53 only
    assert (tr.ending, tr.error, tr.outcome) == ("rejected", "ECONNREFUSED", "refused")
    reject, end = tr.steps[-2:]
    assert (reject.host, reject.kind) == ("coredns-1", "reject")
    assert (end.host, end.kind, end.packet_label) == ("app", "socket-error", "ICMP port unreachable")
    assert (end.packet.src, end.packet.dst, end.packet.proto) == ("10.244.1.3", "10.244.2.8", "icmp")
    assert "connected) UDP socket" in end.why
