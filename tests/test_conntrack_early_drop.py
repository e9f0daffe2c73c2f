"""A full conntrack table, as nf_conntrack_core.c handles it: early_drop evicts an entry that
is not ASSURED; when all are ASSURED the packet is dropped ("table full") and the garbage
collector evicts closing TCP entries (tcp_can_early_drop: FIN_WAIT, LAST_ACK, TIME_WAIT,
CLOSE, CLOSE_WAIT).  Live ESTABLISHED connections are never evicted, so only they keep a
table full; `sysctl -w net.netfilter.nf_conntrack_max=…` on a node makes room."""

from __future__ import annotations

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


def test_make_room_prefers_an_unassured_entry_and_never_evicts_a_live_one():
    table = ConntrackTable(entries=[_entry(1, "TIME_WAIT", True), _entry(2, "SYN_SENT", False)], max_entries=2)
    evicted, dropped = table.make_room()
    assert evicted.orig[2] == 41002 and not dropped  # early_drop at allocation: no packet lost
    assert (table.drop, table.early_drop) == (0, 1)

    table = ConntrackTable(entries=[_entry(1, "ESTABLISHED", True), _entry(2, "TIME_WAIT", True)], max_entries=2)
    evicted, dropped = table.make_room()
    assert evicted.state == "TIME_WAIT" and dropped  # the first try dropped, then the GC evicts
    assert (table.drop, table.early_drop) == (1, 0)  # (the GC's kill is no early_drop)

    table = ConntrackTable(entries=[_entry(1, "ESTABLISHED", True), _entry(2, "ESTABLISHED", True)], max_entries=2)
    assert table.make_room() == (None, True)
    assert len(table.entries) == 2 and (table.drop, table.early_drop) == (1, 0)


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


def test_closed_connections_do_not_keep_the_table_full():
    sim = _busy(keep_open=False)
    assert [e.state for e in sim.conntrack("node-b").entries] == ["TIME_WAIT", "TIME_WAIT"]
    t = sim.run_flow("client-to-web")
    assert t.outcome == "delivered"
    new = next(s for s in t.steps if s.host == "node-b" and s.kind == "conntrack-new")
    assert "table full, dropping packet" in new.why and "TIME_WAIT" in new.why
    stats = Shell(sim, "node-b").run("conntrack -S").stdout.splitlines()
    assert "drop=1 early_drop=0 " in stats[0] and all("drop=0 early_drop=0 " in line for line in stats[1:])


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
