"""A full conntrack table, as nf_conntrack_core.c handles it: early_drop at allocation looks
only in the 8 hash buckets next to the new tuple's, so in a sparse table the packet is
dropped ("table full", stat drop); the garbage collector then evicts, once the table is at
least 95% full (nf_conntrack_max / 100 * 95: never below 100 entries), an entry that is not
ASSURED or is closing (tcp_can_early_drop: FIN_WAIT, LAST_ACK, TIME_WAIT, CLOSE,
CLOSE_WAIT).  Live ESTABLISHED connections are never evicted, so only they keep a large
table full; `sysctl -w net.netfilter.nf_conntrack_max=…` on a node makes room."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.netfilter.conntrack import ConntrackEntry, ConntrackTable
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parent.parent
BUSY = ROOT / "scenarios" / "cases" / "busy-node.yaml"


def _entry(n: int, state: str, assured: bool) -> ConntrackEntry:
    t = ("10.244.2.9", "10.96.0.1", 41000 + n, 8080)
    return ConntrackEntry("tcp", t, (t[1], t[0], t[3], t[2]), state=state, assured=assured,
                          seen_reply=assured, confirmed=True, id=n)


def test_a_full_table_drops_the_packet_and_the_collector_evicts_only_what_may_go_early():
    closing = [_entry(n, "TIME_WAIT", True) for n in range(1, 100)] + [_entry(100, "SYN_SENT", False)]
    table = ConntrackTable(entries=list(closing), max_entries=100)
    evicted = table.make_room()
    assert evicted is not None and evicted.state == "TIME_WAIT" and table.drop == 1
    assert len(table.entries) == 99

    table = ConntrackTable(entries=[_entry(n, "ESTABLISHED", True) for n in range(1, 101)], max_entries=100)
    assert table.make_room() is None
    assert len(table.entries) == 100 and table.drop == 1


def test_below_100_entries_the_collector_never_evicts_early():
    # nf_conntrack_max / 100u * 95u is 0: gc_worker skips its early drop altogether
    table = ConntrackTable(entries=[_entry(1, "TIME_WAIT", True), _entry(2, "SYN_SENT", False)], max_entries=2)
    assert table.make_room() is None
    assert len(table.entries) == 2 and table.drop == 1


def _busy(keep_open: bool) -> ClusterSim:
    sc = load_scenario(BUSY)
    if not keep_open:
        flows = [f.model_copy(update={"keepOpen": False}) for f in sc.flows]
        sc = sc.model_copy(update={"flows": flows})
    sim = ClusterSim(sc)
    sim.conntrack("node-b").max_entries = 2
    sim.run_flow("batch-1")
    sim.run_flow("batch-2")
    return sim


def test_closed_connections_free_a_large_table_but_not_a_tiny_one():
    sim = _busy(keep_open=False)
    assert [e.state for e in sim.conntrack("node-b").entries] == ["TIME_WAIT", "TIME_WAIT"]
    t = sim.run_flow("client-to-web")
    assert t.outcome == "timeout"  # max 2: the collector's early drop is off below 100 entries
    stats = Shell(sim, "node-b").run("conntrack -S").stdout.splitlines()
    assert "drop=1 early_drop=0 " in stats[0] and all("drop=0 early_drop=0 " in line for line in stats[1:])

    sim = _busy(keep_open=False)
    table = sim.conntrack("node-b")
    table.entries += [dataclasses.replace(table.entries[0], id=10 + n, orig=("10.244.2.9", "10.96.0.1", 50000 + n, 8080),
                                          reply=("10.244.1.5", "10.244.2.9", 8080, 50000 + n)) for n in range(98)]
    table.max_entries = 100
    t = sim.run_flow("client-to-web")
    assert t.outcome == "delivered"
    new = next(s for s in t.steps if s.host == "node-b" and s.kind == "conntrack-new")
    assert "table full, dropping packet" in new.why and "TIME_WAIT" in new.why


def test_open_connections_fill_the_table_until_nf_conntrack_max_grows():
    sim = _busy(keep_open=True)
    assert "keeps the connection open" in ClusterSim(load_scenario(BUSY)).run_flow("batch-1").summary
    sh = Shell(sim, "node-b")
    listing = sh.run("conntrack -L").stdout
    assert listing.count(" ESTABLISHED ") == 2 and listing.count("[ASSURED]") == 2
    t = sim.run_flow("client-to-web")
    assert t.outcome == "timeout"
    assert any(s.kind == "drop" and "table full" in s.why for s in t.steps if s.host == "node-b")
    assert "drop=1 early_drop=0 " in sh.run("conntrack -S").stdout.splitlines()[0]
    assert len(sim.conntrack("node-b").entries) == 2  # the live connections are kept

    r = sh.run("sysctl -w net.netfilter.nf_conntrack_max=262144")
    assert (r.exit_code, r.stdout) == (0, "net.netfilter.nf_conntrack_max = 262144\n")
    assert sh.run("cat /proc/sys/net/netfilter/nf_conntrack_max").stdout == "262144\n"
    assert sim.run_flow("client-to-web").outcome == "delivered"

    bad = sh.run("sysctl -w net.netfilter.nf_conntrack_max=lots")
    assert bad.exit_code == 255 and 'setting key "net.netfilter.nf_conntrack_max": Invalid argument' in bad.stderr
    other = sh.run("sysctl -w net.ipv4.ip_forward=0")
    assert other.exit_code == 255 and "permission denied" in other.stderr
    assert sh.run("sysctl -q -w net.netfilter.nf_conntrack_max=131072").stdout == ""
    assert sim.conntrack("node-b").max_entries == 131072
