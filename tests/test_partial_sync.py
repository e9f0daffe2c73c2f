"""kube-proxy's partial syncs (KEP-3453) in the event model: a sync rewrites the top-level
chains and the chains of the Services that changed; a rule deleted by hand elsewhere comes
back only when its Service changes or at the (at least hourly) full resync."""

from __future__ import annotations

from pathlib import Path

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.cluster.partial_sync import FULL_SYNC_PERIOD
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.scenario.models import Event
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]
API_SVC = "KUBE-SVC-NPX46M4PTMTKRN6Y"  # default/kubernetes:https


def _cluster():
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "system-services.yaml"))
    return sim, Shell(sim, "worker")


def test_a_flushed_chain_of_an_untouched_service_survives_a_partial_sync():
    sim, sh = _cluster()
    assert sim.last_sync == ("full", ())
    assert sh.run(f"iptables -t nat -F {API_SVC}").exit_code == 0
    assert sim.run_adhoc("app", "10.96.0.1:443").ending == "dropped"  # no DNAT: to the router
    sim.apply_event(Event(action="scale", deployment="web", replicas=2))
    assert sim.last_sync == ("partial", ("default/web",))
    assert sh.run(f"iptables -t nat -S {API_SVC}").stdout == f"-N {API_SVC}\n"
    assert sim.run_adhoc("app", "10.96.0.1:443").ending == "dropped"
    # web's own chains were rewritten: its new endpoint is there
    assert sim.run_adhoc("app", "10.96.45.12:80", endpoint="web-2").ending == "delivered"
    sim.apply_event(Event(action="full-resync"))
    assert sim.last_sync[0] == "full"
    assert f"-A {API_SVC} -m comment" in sh.run(f"iptables -t nat -S {API_SVC}").stdout
    assert sim.run_adhoc("app", "10.96.0.1:443").ending == "delivered"


def test_top_level_chains_are_rewritten_by_every_sync():
    sim, sh = _cluster()
    line = sh.run("iptables -t nat -S KUBE-SERVICES").stdout.splitlines()[1]
    assert "default/kubernetes:https cluster IP" in line
    assert sh.run("iptables -t nat -D KUBE-SERVICES 1").exit_code == 0
    assert "default/kubernetes:https" not in sh.run("iptables -t nat -S KUBE-SERVICES").stdout
    sim.apply_event(Event(action="scale", deployment="web", replicas=2))
    assert sim.last_sync[0] == "partial"
    assert line in sh.run("iptables -t nat -S KUBE-SERVICES").stdout.splitlines()


def test_the_built_in_jumps_come_back_only_at_a_full_sync():
    sim, sh = _cluster()
    assert sh.run("iptables -t nat -D PREROUTING 1").exit_code == 0
    sim.apply_event(Event(action="scale", deployment="web", replicas=2))
    assert "-j KUBE-SERVICES" not in sh.run("iptables -t nat -S PREROUTING").stdout
    sim.now += FULL_SYNC_PERIOD  # an hour later, the next sync is a full one
    sim.apply_event(Event(action="scale", deployment="web", replicas=1))
    assert sim.last_sync[0] == "full"
    assert "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES" in \
        sh.run("iptables -t nat -S PREROUTING").stdout


def test_a_changed_service_gets_its_chains_back_and_stale_chains_go():
    sim, sh = _cluster()
    sep = [c for c in sh.run("iptables -t nat -S").stdout.split()
           if c.startswith("KUBE-SEP-")]
    dns_seps = {c for c in sep}
    assert sh.run(f"iptables -t nat -F {API_SVC}").exit_code == 0
    sim.apply_event(Event(action="delete-service", service="default/kubernetes"))
    assert sim.last_sync == ("partial", ("default/kubernetes",))
    out = sh.run("iptables -t nat -S").stdout
    assert API_SVC not in out and "KUBE-SEP-FIMWYXOJBPP32KI5" not in out  # deleted, not left stale
    assert dns_seps - {"KUBE-SEP-FIMWYXOJBPP32KI5"} <= set(out.split())
