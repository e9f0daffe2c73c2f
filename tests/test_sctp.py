"""SCTP Services: kube-proxy's ``-m sctp -p sctp`` rules, read and printed as iptables 1.8.9
does (checked against it in a namespace: a full port range stays in ``iptables-save`` and
vanishes from ``-L``), an association through the datapath and conntrack's SCTP states
(nf_conntrack_proto_sctp's table: an INIT leaves the entry CLOSED, COOKIE_ACK makes it
ESTABLISHED and ASSURED, SHUTDOWN_COMPLETE closes it), ``trace --proto sctp``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import generate_restore
from kubeflow_tui.netfilter import parse_iptables_save, render_list, render_save
from kubeflow_tui.netfilter.conntrack import sctp_next_state
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = load_scenario(ROOT / "tests" / "kernel" / "fixtures" / "sctp.yaml")

#: restored into iptables 1.8.9 (nf_tables) in a namespace; what it printed back
RULES = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p sctp -m sctp --dport 80 -j ACCEPT
-A INPUT -p sctp -m sctp --sport 0:65535 -j ACCEPT
-A INPUT -p sctp -m sctp ! --dport 80:90 -j ACCEPT
-A INPUT -p sctp -m sctp --dport 0:65535 --sport 5 -j ACCEPT
-A INPUT -p sctp --dport 81 -j ACCEPT
COMMIT
"""
SAVED = """*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p sctp -m sctp --dport 80 -j ACCEPT
-A INPUT -p sctp -m sctp --sport 0:65535 -j ACCEPT
-A INPUT -p sctp -m sctp ! --dport 80:90 -j ACCEPT
-A INPUT -p sctp -m sctp --sport 5 --dport 0:65535 -j ACCEPT
-A INPUT -p sctp -m sctp --dport 81 -j ACCEPT
COMMIT
"""
LISTED = """Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     132  --  0.0.0.0/0            0.0.0.0/0            sctp dpt:80
ACCEPT     132  --  0.0.0.0/0            0.0.0.0/0            sctp
ACCEPT     132  --  0.0.0.0/0            0.0.0.0/0            sctp dpts:!80:90
ACCEPT     132  --  0.0.0.0/0            0.0.0.0/0            sctp spt:5
ACCEPT     132  --  0.0.0.0/0            0.0.0.0/0            sctp dpt:81
"""


def test_sctp_rules_read_and_print_as_iptables_does():
    rs = parse_iptables_save(RULES)
    assert render_save(rs, header=False) == SAVED
    assert render_list(rs, "filter", "INPUT", numeric=True) == LISTED


def test_kube_proxy_writes_sctp_rules_for_an_sctp_service():
    text = generate_restore(SCENARIO, "node-b")
    lines = [x for x in text.splitlines() if "diameter" in x and ("--dport" in x or "DNAT" in x)]
    assert len(lines) == 3 and all("-m sctp -p sctp" in x for x in lines), lines


def test_an_association_through_the_datapath():
    sim = ClusterSim(SCENARIO)
    t = sim.run_flow("pod-other-node")
    assert t.ending == "delivered" and t.client_saw == "10.96.0.20:3868"
    labels = [s.packet_label for s in t.steps if s.kind == "send"]
    assert labels == ["INIT", "INIT ACK", "COOKIE ECHO", "COOKIE ACK", "request", "response", "SHUTDOWN",
                      "SHUTDOWN ACK", "SHUTDOWN COMPLETE"]
    # node-b DNATs the INIT only: later chunks are translated by conntrack
    assert [s.packet_label for s in t.steps if s.kind == "dnat"] == ["INIT"]
    after: dict[int, str] = {}  # the entry's state once each packet has crossed node-b
    for s in t.steps:
        if s.host == "node-b" and s.touched >= 0:
            after[s.packet_no] = s.conntrack[s.touched].state
    states = [after[n] for n in sorted(after)]
    assert states == ["CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED", "ESTABLISHED", "ESTABLISHED",
                      "SHUTDOWN_SENT", "SHUTDOWN_ACK_SENT", "CLOSED"]
    line = sim.conntrack("node-b").entries[0].line()
    assert line.startswith("sctp     132 9 CLOSED src=10.244.2.7 dst=10.96.0.20 sport=40000 dport=3868 "
                           "src=10.244.1.5 dst=10.244.2.7 sport=3868 dport=40000 [ASSURED]"), line


def test_sctp_state_table_edges():
    assert sctp_next_state("", "ORIGINAL", ("INIT",)) == "CLOSED"
    assert sctp_next_state("CLOSED", "REPLY", ("INIT_ACK",)) == "COOKIE_WAIT"
    assert sctp_next_state("ESTABLISHED", "ORIGINAL", ("ABORT",)) == "CLOSED"
    assert sctp_next_state("ESTABLISHED", "REPLY", ("SHUTDOWN",)) == "SHUTDOWN_RECD"
    assert sctp_next_state("ESTABLISHED", "ORIGINAL", ("DATA",)) == "ESTABLISHED"


def test_nothing_listening_aborts():
    t = ClusterSim(SCENARIO).run_adhoc("client-b", "10.244.1.5:9999", "SCTP")
    assert (t.ending, t.error) == ("rejected", "ECONNREFUSED")
    assert t.steps[-1].packet_label == "ABORT"


def test_trace_proto_sctp_on_a_dump(tmp_path):
    dump = tmp_path / "node-b.rules"
    dump.write_text(generate_restore(SCENARIO, "node-b"))
    r = subprocess.run([sys.executable, "-m", "kubeflow_tui", "trace", "--iptables-save", str(dump),
                        "--src", "10.244.2.7", "--dst", "10.96.0.20:3868", "--proto", "sctp", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert '"proto": "sctp"' in r.stdout and "KUBE-SEP-IXEW65V545JZBMRB" in r.stdout
    assert "sctp     132 9 CLOSED src=10.244.2.7 dst=10.96.0.20" in r.stdout
