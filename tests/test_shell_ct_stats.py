"""``conntrack -S`` when the table is full: every packet that needed a new entry and got
none is dropped and counted as ``drop`` (nf_conntrack_in: "Too stressed to deal")."""

from __future__ import annotations

from pathlib import Path

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]


def test_conntrack_stats_count_the_drops_of_a_full_table():
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml"))
    node = Shell(sim, "node-b")
    before = node.run("conntrack -S").stdout
    assert "drop=0 early_drop=0" in before
    sim.conntrack("node-b").max_entries = 1
    first = sim.run_flow("pod-other-node")  # takes the only slot
    assert first.ending == "delivered"
    for sport in (41001, 41002):  # new connections: no entry to be had
        t = sim.run_adhoc("client-b", "10.96.0.1:8080", source_port=sport)
        assert t.ending == "dropped"
        assert any("table full" in s.why for s in t.steps)
    lines = node.run("conntrack -S").stdout.splitlines()
    assert lines[0].startswith("cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=2 early_drop=0 ")
    assert all(" drop=0 " in x for x in lines[1:])
    assert node.run("conntrack -C").stdout == "1\n"
