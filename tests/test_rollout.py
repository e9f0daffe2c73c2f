"""Rollouts and kube-proxy's lag (cases/22): a node whose kube-proxy applies each change one
sync late (``syncLag``), pods that exited at SIGTERM (``exited``), the preStop sleep
(``preStopSleepSeconds``), ``kubectl rollout restart`` and ``kubectl patch deployment``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.netfilter import parse_iptables_save, render_save
from kubeflow_tui.quiz.cases import CaseSession, load_case
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text
from kubeflow_tui.scenario.models import Event
from kubeflow_tui.shell import Shell
from kubeflow_tui.shell.kubectl_fix import install

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "cases" / "rollout-no-prestop.yaml"
CASE = ROOT / "cases" / "22-refused-during-deploys.yaml"
PRESTOP = ("kubectl patch deployment web -p "
           "'{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"lifecycle\":"
           "{\"preStop\":{\"sleep\":{\"seconds\":10}}}}]}}}}'")


def _dnat_targets(sim: ClusterSim, node: str) -> set[str]:
    text = sim.restore_text(node)
    return {line.split("--to-destination ")[1] for line in text.splitlines()
            if "default/web:http" in line and "--to-destination" in line}


def _rows(shell) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in shell.run("kubectl get pods -o wide").stdout.splitlines()[1:]}


@pytest.fixture
def sim():
    return ClusterSim(load_scenario(SCENARIO))


def test_a_lagging_node_applies_each_change_one_sync_late(sim):
    before = {"10.244.1.5:8080", "10.244.2.5:8080"}
    assert _dnat_targets(sim, "node-a") == _dnat_targets(sim, "node-b") == before
    sim.apply_event(Event(action="delete-pod", pod="web-1"))
    after = _dnat_targets(sim, "node-a")
    assert after != before and "10.244.1.5:8080" not in after
    assert _dnat_targets(sim, "node-b") == before  # the change has not reached node-b
    # node-b's partial syncs leave the rules a full sync from its view would write
    for ev in (Event(action="scale", deployment="web", replicas=3), Event(action="delete-pod", pod="web-2")):
        sim.apply_event(ev)
        assert sim.last_sync[0] == "partial"
        for node in ("node-a", "node-b"):
            assert render_save(sim.node_ruleset(node), header=False) == render_save(
                parse_iptables_save(sim.restore_text(node)), header=False)
    lagging = _dnat_targets(sim, "node-b")
    assert lagging != _dnat_targets(sim, "node-a")
    # the next sync (nothing new changed) brings node-b to where node-a is
    sim.apply_event(Event(action="full-resync"))
    assert _dnat_targets(sim, "node-b") == _dnat_targets(sim, "node-a") != lagging


def test_rollout_keeps_old_pods_terminating_and_without_prestop_they_exit(sim):
    shell = install(Shell(sim, "node-a"))
    assert shell.run("kubectl rollout restart deployment/web").stdout == "deployment.apps/web restarted\n"
    rows = _rows(shell)
    assert [rows[p][1:3] for p in ("web-1", "web-2")] == [["0/1", "Terminating"]] * 2
    assert [rows[p][1:3] for p in ("web-3", "web-4")] == [["1/1", "Running"]] * 2
    web1 = next(p for p in sim.scenario.pods if p.name == "web-1")
    assert web1.exited and web1.terminating and not web1.ready
    # node-b still DNATs to the old pods: the pod's kernel answers with a RST
    t = sim.run_flow("checkout-to-web")
    assert t.outcome == "refused" and t.error == "ECONNREFUSED"
    assert any(s.kind == "reject" and "Nothing listens on tcp port 8080" in s.why for s in t.steps)
    assert any(s.packet_label == "RST" and s.packet.flags == ("RST", "ACK") for s in t.steps)
    assert sim.run_flow("frontend-to-web").outcome == "delivered"
    # a second rollout: web-1 and web-2 are gone, no name comes back
    shell.run("kubectl rollout restart deployment/web")
    assert set(r for r in _rows(shell) if r.startswith("web-")) == {"web-3", "web-4", "web-5", "web-6"}


def test_with_a_prestop_sleep_the_old_pods_keep_serving(sim):
    shell = install(Shell(sim, "node-b"))
    assert shell.run(PRESTOP).stdout == "deployment.apps/web patched\n"
    assert shell.run(PRESTOP).stdout == "deployment.apps/web patched (no change)\n"
    spec = shell.run("kubectl get deployment web -o yaml").stdout
    assert "preStop:\n            sleep:\n              seconds: 10" in spec
    # the patch rolled web out: web-1/web-2 had no hook and exited, so this rollout drops
    assert sim.run_flow("checkout-to-web").outcome == "refused"
    shell.run("kubectl rollout restart deployment/web")
    rows = _rows(shell)
    # web-3/web-4 were made with the hook: terminating but Ready, still serving
    assert [rows[p][1:3] for p in ("web-3", "web-4")] == [["1/1", "Terminating"]] * 2
    slices = shell.run("kubectl get endpointslices -l kubernetes.io/service-name=web -o yaml").stdout
    assert "ready: false\n      serving: true\n      terminating: true" in slices
    t = sim.run_flow("checkout-to-web")
    assert t.outcome == "delivered" and t.endpoint in ("web-3", "web-4")


@pytest.mark.parametrize("body,message", [
    ('{"spec":{"replicas":3}}', "patches a Deployment's preStop hook only"),
    ('{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}', "preStop hook only"),
    ('{"spec":{"template":{"spec":{"containers":[{"name":"web","lifecycle":{"preStop":{"exec":'
     '{"command":["sleep","5"]}}}}]}}}}', "preStop.sleep.seconds"),
    ('{"spec":{"template":{"spec":{"containers":[{"name":"web","lifecycle":{"preStop":{"sleep":'
     '{"seconds":-1}}}}]}}}}', "must be a non-negative integer"),
    ('{"spec":{"template":{"spec":{"containers":[{"lifecycle":{}}]}}}}', 'needs "name"'),
])
def test_patch_deployment_says_what_it_cannot_do(sim, body, message):
    r = install(Shell(sim, "node-a")).run(f"kubectl patch deployment web -p '{body}'")
    assert r.exit_code == 1 and message in r.stderr, r.stderr
    assert not any(p.terminating for p in sim.scenario.pods)  # nothing rolled out


def test_patch_deployment_json_patch_and_not_found(sim):
    shell = install(Shell(sim, "node-a"))
    r = shell.run("kubectl patch deploy web --type json -p '[{\"op\":\"add\",\"path\":"
                  "\"/spec/template/spec/containers/0/lifecycle\",\"value\":{\"preStop\":{\"sleep\":{\"seconds\":5}}}}]'")
    assert r.stdout == "deployment.apps/web patched\n", r.stderr
    assert all(p.preStopSleepSeconds == 5 for p in sim.scenario.pods if p.deployment == "web" and not p.terminating)
    r = shell.run("kubectl patch deployment nope -p '{}'")
    assert r.exit_code == 1 and 'deployments.apps "nope" not found' in r.stderr


def test_an_exited_pod_cannot_be_ready():
    text = SCENARIO.read_text().replace("    deployment: web\n    labels: {app: web}\n",
                                        "    deployment: web\n    exited: true\n    labels: {app: web}\n", 1)
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "t.yaml")
    assert str(info.value).startswith("t.yaml:") and "an exited pod cannot be ready" in str(info.value)


# ------------------------------------------------------------------ the case


def test_the_case_check_judges_the_next_rollout():
    case = load_case(CASE)
    assert case.model.fix.check.before  # the check rolls web out again first
    s = CaseSession(case)
    assert s.check_fix()[0] is False
    # waiting (any later sync) closes this window, but the next rollout drops again
    assert s.run("kubectl label pod checkout tier=shop").exit_code == 0
    assert s.run("curl -sS 10.96.112.40").exit_code == 0
    assert s.check_fix()[0] is False
    # the check works on a copy: the learner's cluster is as they left it
    assert not any(p.name == "web-5" for p in s.sim.scenario.pods)
    assert s.run(PRESTOP).exit_code == 0
    ok, trace = s.check_fix()
    assert ok, trace.summary


def test_restarting_again_without_the_hook_does_not_solve_the_case():
    s = CaseSession(load_case(CASE))
    assert s.run("kubectl rollout restart deployment/web").exit_code == 0
    assert s.check_fix()[0] is False and not s.solved
