"""NetworkPolicy as the CNI enforces it beside the pods (kubeflow_tui/cluster/policy.py):
ingress on the packet as it reaches the pod (post-DNAT, post-SNAT), egress on the client's
node after kube-proxy's DNAT.  Ingress is also checked against the kernel
(tests/kernel/netpol.py puts the same policy in the pods' namespaces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.cluster.policy import EGRESS_STEP, INGRESS_STEP, egress_verdict, ingress_verdict
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text
from kubeflow_tui.scenario.models import Scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "scenarios" / "networkpolicy.yaml"


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario(PATH)


def policy_steps(trace):
    return [s for s in trace.steps if s.chain in (INGRESS_STEP, EGRESS_STEP)]


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
@pytest.mark.parametrize("flow,seen", [("partner-via-node-a", "10.244.1.1"), ("partner-via-node-b", "192.168.1.11")])
def test_masquerade_defeats_the_ip_block(sc, mode, flow, seen):
    t = ClusterSim(sc, proxy_mode=mode).run_flow(flow)
    assert (t.ending, t.error) == ("dropped", "ETIMEDOUT")
    (step,) = policy_steps(t)
    assert (step.host, step.kind, step.chain) == ("web-1", "drop", INGRESS_STEP)
    # the CNI sees the source after the node's SNAT and the destination after its DNAT
    assert (step.packet.src, step.packet.dst, step.packet.dport) == (seen, "10.244.1.5", 8080)
    assert step.table == "CNI"
    assert f"from {seen} to port 8080, as the pod receives it" in step.why
    assert "no rule of default/web-allow allows it" in step.why


def test_a_pod_selector_lets_the_client_pod_in(sc):
    t = ClusterSim(sc).run_flow("client-to-service")
    assert t.ending == "delivered" and t.server_saw == "10.244.2.7:40000"
    egress, ingress = policy_steps(t)
    assert (egress.host, egress.chain, egress.kind) == ("node-b", EGRESS_STEP, "accept")
    assert "to 10.244.1.5:8080, after kube-proxy's DNAT; egress rule 1 of default/client-egress" in egress.why
    assert (ingress.host, ingress.chain, ingress.target) == ("web-1", INGRESS_STEP, "ACCEPT")
    assert "ingress rule 1 of default/web-allow allows it" in ingress.why


def test_egress_is_judged_after_dnat(sc):
    t = ClusterSim(sc).run_flow("batch-to-service")
    assert t.ending == "dropped"
    (step,) = policy_steps(t)
    assert (step.host, step.chain) == ("node-b", EGRESS_STEP)
    assert step.packet.dst == "10.244.1.5"  # not the ClusterIP the ipBlock names
    assert "to 10.244.1.5:8080, after kube-proxy's DNAT" in step.why


def test_external_traffic_policy_local_keeps_the_partners_address():
    text = PATH.read_text().replace("    type: NodePort\n", "    type: NodePort\n    externalTrafficPolicy: Local\n")
    t = ClusterSim(load_scenario_text(text, "np.yaml")).run_flow("partner-via-node-a")
    assert t.ending == "delivered" and t.server_saw.startswith("192.168.1.2:")


def _with_policies(sc: Scenario, policies: list[dict]) -> Scenario:
    data = sc.model_dump(by_alias=True)
    data["networkPolicies"] = policies
    data["pods"].append({"name": "ops-1", "namespace": "ops", "node": "node-b", "ip": "10.244.2.20",
                         "labels": {"app": "client"}})
    return Scenario.model_validate(data)


def test_selectors_blocks_and_ports(sc):
    web = {"matchLabels": {"app": "web"}}
    s = _with_policies(sc, [
        {"name": "p", "podSelector": web, "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}}],
             "ports": [{"port": 8000, "endPort": 8100}]},
            {"from": [{"ipBlock": {"cidr": "192.168.1.0/24", "except": ["192.168.1.11/32"]}}]},
        ]},
    ])
    pods, web1 = list(s.pods), s.pod("web-1")

    def ok(src, port=8080, proto="tcp"):
        return ingress_verdict(s, pods, web1, src, proto, port).allowed

    assert ok("10.244.2.20") and not ok("10.244.2.20", 9000)  # ops namespace, port range
    assert not ok("10.244.2.7")  # app=client in default: the podSelector-less peer is ops only
    assert ok("192.168.1.10") and not ok("192.168.1.11")  # except
    assert ingress_verdict(s, pods, s.pod("client"), "10.244.1.5", "tcp", 80) is None  # not isolated


def test_an_empty_ingress_list_denies_everything_and_types_default(sc):
    s = _with_policies(sc, [{"name": "deny", "podSelector": {}},
                            {"name": "eg", "podSelector": {"matchLabels": {"app": "batch"}},
                             "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}]}])
    pods = list(s.pods)
    assert s.networkPolicies[0].types == ("Ingress",) and s.networkPolicies[1].types == ("Ingress", "Egress")
    assert not ingress_verdict(s, pods, s.pod("client"), "10.244.2.9", "tcp", 80).allowed
    assert ingress_verdict(s, pods, s.pod("ops-1"), "10.244.2.9", "tcp", 80) is None  # other namespace
    assert egress_verdict(s, pods, s.pod("batch"), "10.96.0.10", "udp", 53).allowed
    assert not egress_verdict(s, pods, s.pod("batch"), "10.244.1.5", "tcp", 8080).allowed


def test_a_peer_mixing_ip_block_and_selectors_is_an_error():
    text = PATH.read_text().replace("          - ipBlock: {cidr: 192.168.1.2/32}",
                                    "          - ipBlock: {cidr: 192.168.1.2/32}\n"
                                    "            podSelector: {matchLabels: {app: x}}")
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "np.yaml")
    line = text.splitlines().index("          - ipBlock: {cidr: 192.168.1.2/32}") + 1
    assert f"np.yaml:{line}:" in str(e.value)
    assert "ipBlock cannot be combined with podSelector or namespaceSelector" in str(e.value)


def test_kubectl_lists_the_policies(sc):
    sh = Shell(ClusterSim(sc), "node-a")
    assert sh.run("kubectl get networkpolicy").stdout == (
        "NAME            POD-SELECTOR   AGE\n"
        "batch-egress    app=batch      5m\n"
        "client-egress   app=client     5m\n"
        "web-allow       app=web        5m\n")
    assert sh.run("kubectl get netpol -A").stdout.splitlines()[0].split() == [
        "NAMESPACE", "NAME", "POD-SELECTOR", "AGE"]
    y = sh.run("kubectl get networkpolicy web-allow -o yaml").stdout
    assert "kind: NetworkPolicy" in y and "cidr: 192.168.1.2/32" in y and "- Ingress" in y


def test_kubectl_patch_changes_a_policy(sc):
    from kubeflow_tui.shell.kubectl_fix import install

    sim = ClusterSim(sc)
    sh = Shell(sim, "node-a")
    install(sh)
    r = sh.run("kubectl patch networkpolicy web-allow --type json -p "
               "'[{\"op\":\"replace\",\"path\":\"/spec/ingress/0/from/1/ipBlock/cidr\",\"value\":\"192.168.1.0/24\"}]'")
    assert (r.exit_code, r.stdout) == (0, "networkpolicy.networking.k8s.io/web-allow patched\n")
    assert sim.run_flow("partner-via-node-b").ending == "delivered"  # node-b's 192.168.1.11 is inside
    bad = sh.run("kubectl patch netpol web-allow -p '{\"spec\":{\"policyTypes\":[\"Bogus\"]}}'")
    assert bad.exit_code == 1 and 'The NetworkPolicy "web-allow" is invalid' in bad.stderr
