"""Time on the timeline: kube-proxy's sync runner (minSyncPeriod, coalesced changes, the
hourly full sync) and flows that meet the rules of the last sync at or before their time."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cli import main
from kubeflow_tui.cluster import ClusterSim, run_flow
from kubeflow_tui.cluster.sync_timing import SyncRun, schedule
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "sync-timing.yaml"
SVC = "KUBE-SVC-CDGGSHYLG3RE2FKL"  # default/web:http tcp

# ---------------------------------------------------------------- the runner's schedule


def test_an_idle_kube_proxy_syncs_a_change_at_once():
    assert schedule([5.0], [False], 1.0) == [SyncRun(5.0, (0,), False)]


def test_changes_inside_min_sync_period_wait_and_are_coalesced():
    # a sync at 0; changes at 0.2 and 0.5 wait for 0 + 1 s and land in one sync
    assert schedule([0.0, 0.2, 0.5], [False] * 3, 1.0) == [
        SyncRun(0.0, (0,), False), SyncRun(1.0, (1, 2), False)]


def test_a_change_after_the_window_syncs_when_it_arrives():
    assert schedule([0.0, 2.5, 2.9, 4.0], [False] * 4, 1.0) == [
        SyncRun(0.0, (0,), False), SyncRun(2.5, (1,), False), SyncRun(3.5, (2,), False),
        SyncRun(4.5, (3,), False)]


def test_min_sync_period_zero_syncs_every_change_on_its_own():
    assert schedule([0.0, 0.1, 0.1], [False] * 3, 0.0) == [
        SyncRun(0.0, (0,), False), SyncRun(0.1, (1, 2), False)]


def test_a_full_resync_makes_its_sync_full():
    assert schedule([0.0, 0.3, 0.6], [False, True, False], 1.0) == [
        SyncRun(0.0, (0,), False), SyncRun(1.0, (1, 2), True)]


def test_an_hour_without_a_sync_brings_the_runners_full_sync():
    runs = schedule([0.0, 5000.0], [False, False], 1.0)
    assert runs == [SyncRun(0.0, (0,), False), SyncRun(3600.0, (), True), SyncRun(5000.0, (1,), False)]
    assert runs[1].periodic


# ---------------------------------------------------------------- validation


BASE = """\
name: t
cluster:
  nodes:
    - {name: node-a, ip: 192.168.1.10, podCIDR: 10.244.1.0/24}
pods:
  - {name: web-1, node: node-a, ip: 10.244.1.5, deployment: web, labels: {app: web}}
  - {name: web-2, node: node-a, ip: 10.244.1.6, deployment: web, labels: {app: web}}
services:
  - {name: web, clusterIP: 10.96.7.7, selector: {app: web}, ports: [{port: 80}]}
flows:
  - {name: f, from: web-1, to: "10.96.7.7:80", at: 1}
timeline:
  - {action: scale, deployment: web, replicas: 1, at: 0.5}
  - {action: scale, deployment: web, replicas: 2, at: 0.7}
"""


def test_a_timed_scenario_is_valid():
    sc = load_scenario_text(BASE, "t.yaml")
    assert [ev.at for ev in sc.timeline] == [0.5, 0.7]
    assert sc.kubeProxy.minSyncPeriod == 1.0 and sc.kubeProxy.syncPeriod == 30.0


@pytest.mark.parametrize("old,new,expected", [
    ("replicas: 2, at: 0.7}", "replicas: 2}",
     "t.yaml:14:5: timeline[1]: timeline[0] has at, so every event needs at (seconds since the "
     "timeline started); or leave at out everywhere"),
    ("at: 0.7}", "at: 0.2}",
     "t.yaml:14:55: timeline[1].at: at 0.2 is earlier than timeline[0]'s 0.5: events are in time "
     "order (equal times are fine)"),
    ("replicas: 1, at: 0.5}", "replicas: 1}", None),
    ("at: 0.5}", "at: -1}", "t.yaml:13:55: timeline[0].at: must be greater than or equal to 0, got the number -1"),
])
def test_timing_errors_point_at_the_line(old, new, expected):
    text = BASE.replace(old, new)
    if expected is None:  # events without at, but the flow has one
        text = text.replace("replicas: 2, at: 0.7}", "replicas: 2}")
        with pytest.raises(ScenarioError) as info:
            load_scenario_text(text, "t.yaml")
        assert str(info.value) == ("t.yaml:11:52: flows[0].at: at needs a timeline whose events "
                                   "carry at (seconds since it started)")
        return
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "t.yaml")
    assert str(info.value).startswith(expected)


# ---------------------------------------------------------------- the shipped scenario


def _svc_rules(sim: ClusterSim, node: str) -> list[str]:
    return [ln for ln in sim.node_ruleset_text(node).splitlines() if ln.startswith(f"-A {SVC} ") and "-j KUBE-SEP-" in ln]


THREE = [
    f'-A {SVC} -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random '
    "--probability 0.33333333349 -j KUBE-SEP-AFGSLHOD2HFNCBX4",
    f'-A {SVC} -m comment --comment "default/web:http -> 10.244.2.5:8080" -m statistic --mode random '
    "--probability 0.50000000000 -j KUBE-SEP-OAIGUPJHOE4YU7HS",
    f'-A {SVC} -m comment --comment "default/web:http -> 10.244.2.6:8080" -j KUBE-SEP-3OLK2YUW6LHBC4UX',
]
TWO = [
    f'-A {SVC} -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random '
    "--probability 0.50000000000 -j KUBE-SEP-AFGSLHOD2HFNCBX4",
    f'-A {SVC} -m comment --comment "default/web:http -> 10.244.2.5:8080" -j KUBE-SEP-OAIGUPJHOE4YU7HS',
]


def test_inside_the_window_the_rules_still_hold_the_deleted_pod():
    sim = ClusterSim(load_scenario(SCENARIO))
    assert len(_svc_rules(sim, "node-a")) == 4  # web-1 .. web-4 before the timeline
    sim.advance_to(0.7)
    assert "web-3" not in {p.name for p in sim.scenario.pods}  # the API server knows
    assert _svc_rules(sim, "node-a") == THREE  # kube-proxy's rules do not, yet
    assert sim.pending_changes() == [1, 2]
    sim.advance_to(0.99)
    assert _svc_rules(sim, "node-a") == THREE
    sim.advance_to(1.0)
    assert _svc_rules(sim, "node-a") == TWO
    syncs = [e for e in sim.played if e.kind == "sync"]
    assert [e.text for e in syncs] == [
        "kube-proxy synced at t=0 (partial: default/web); 1 change",
        "kube-proxy synced at t=1 (partial: default/web); 2 changes coalesced",
    ]
    # web-5 (10.244.2.2) came and went inside the window: no sync ever wrote a chain for it
    assert all("10.244.2.2" not in d for e in syncs for d in e.diffs.values())


def test_a_connection_in_the_window_is_sent_to_the_gone_pod():
    sc = load_scenario(SCENARIO)
    tr = run_flow(sc, "during-the-window")
    dnat = [s for s in tr.steps if s.kind == "dnat"]
    assert dnat[0].rule.endswith("-j DNAT --to-destination 10.244.2.6:8080")
    assert tr.ending == "dropped" and tr.error == "ETIMEDOUT"
    assert tr.meta["timeline"] == (
        "At t=0.7 the rules are those of kube-proxy's sync at t=0; 2 changes not written yet "
        "(next sync at t=1, minSyncPeriod 1 s after the last)")
    # the app's narration line (80 columns)
    assert tr.meta["timeline_short"] == "t=0.7: rules of kube-proxy's sync at t=0; 2 changes wait for t=1"
    after = run_flow(sc, "after-the-sync")
    assert after.ending == "delivered" and after.endpoint in ("web-1", "web-2")


def test_time_does_not_go_back():
    sim = ClusterSim(load_scenario(SCENARIO))
    sim.run_flow("after-the-sync")
    with pytest.raises(Exception, match="the cluster is at t=1 already; time does not go back to t=0.7"):
        sim.run_flow("during-the-window")


def test_a_timeline_without_times_syncs_every_event_at_once():
    sc = load_scenario(ROOT / "scenarios" / "scale.yaml")
    sim = ClusterSim(sc)
    assert not sim.timed
    with pytest.raises(ValueError, match="no times"):
        sim.advance_to(1.0)


def test_the_timeline_command(capsys):
    assert main(["timeline", str(SCENARIO)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "sync-timing: kube-proxy minSyncPeriod 1 s, syncPeriod 30 s, a full sync every hour",
        "t=0: kubectl scale deployment web --replicas 3",
        "kube-proxy synced at t=0 (partial: default/web); 1 change",
        "t=0.2: pod web-3 deleted",
        "t=0.5: kubectl scale deployment web --replicas 2",
        "t=0.7: flow during-the-window runs. At t=0.7 the rules are those of kube-proxy's sync at "
        "t=0; 2 changes not written yet (next sync at t=1, minSyncPeriod 1 s after the last)",
        "kube-proxy synced at t=1 (partial: default/web); 2 changes coalesced",
        "t=1: flow after-the-sync runs. At t=1 the rules are those of kube-proxy's sync at t=1; "
        "nothing is waiting",
    ]


def test_the_timeline_command_at_a_time_prints_the_rules_then(capsys):
    assert main(["timeline", str(SCENARIO), "--at", "0.7", "--node", "node-a"]) == 0
    out = capsys.readouterr().out
    for line in THREE:
        assert line + "\n" in out
    assert TWO[1] + "\n" not in out
    assert "# node-a at t=0.7: iptables-save." in out


def test_the_timeline_command_refuses_at_without_times(capsys):
    assert main(["timeline", str(ROOT / "scenarios" / "scale.yaml"), "--at", "1"]) == 2
    assert "--at needs a timeline whose events carry at; scale's do not" in capsys.readouterr().err


def test_lesson_10_quotes_the_rules_and_lines_of_the_window():
    """What lesson 10's minSyncPeriod section shows is what the engine prints at those times."""
    body = (ROOT / "lessons" / "10-kube-proxy-controller.md").read_text()
    section = body.split("## When the sync comes: minSyncPeriod", 1)[1].split("\n## ", 1)[0]
    blocks = [b.strip().splitlines() for b in section.split("```text\n")[1:]]
    blocks = [[ln for ln in b if not ln.startswith("```")] for b in (x[:x.index("```")] if "```" in x else x
                                                                     for x in blocks)]
    sim = ClusterSim(load_scenario(SCENARIO))
    played = [e.text for e in sim.play_all()]
    assert blocks[0] == played[1:]  # from the first sync on
    sim = ClusterSim(load_scenario(SCENARIO))
    sim.advance_to(0.7)
    assert " ".join(ln.strip() for ln in blocks[1]) == THREE[2] and THREE[2] in _svc_rules(sim, "node-a")


def test_the_shell_at_a_time_shows_the_api_ahead_of_the_rules(capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(f"iptables -t nat -S {SVC}\nkubectl get pods\n"))
    assert main(["shell", str(SCENARIO), "--node", "node-a", "--at", "0.7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# At t=0.7 the rules are those of kube-proxy's sync at t=0; 2 changes")
    assert THREE[2] + "\n" in out  # the rules still jump to web-3 ...
    pods = out.split("NAME ", 1)[1]
    assert "web-1 " in pods and "web-3 " not in pods  # ... which the API server no longer has
