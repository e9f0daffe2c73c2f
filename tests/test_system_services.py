"""cluster.systemServices: default/kubernetes and kube-system/kube-dns as kubeadm/kind
create them, written by the same generator, reachable through kube-proxy's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import endpoint_slices, generate_restore
from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import ScenarioError, load_scenario, load_scenario_text
from kubeflow_tui.scenario.models import Scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "system-services.yaml"


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return load_scenario(SCENARIO)


def test_the_objects_kubeadm_creates(sc):
    kube = sc.service("default/kubernetes")
    assert (kube.clusterIP, kube.selector) == ("10.96.0.1", None)
    assert [(p.name, p.port, p.targetPort, p.protocol) for p in kube.ports] == [("https", 443, 6443, "TCP")]
    dns = sc.service("kube-system/kube-dns")
    assert dns.clusterIP == "10.96.0.10" and dns.selector == {"k8s-app": "kube-dns"}
    assert [(p.name, p.port, p.protocol) for p in dns.ports] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    coredns = [p for p in sc.pods if p.namespace == "kube-system"]
    assert [(p.name, p.node, p.ip, p.deployment) for p in coredns] == [
        ("coredns-1", "control-plane", "10.244.0.2", "coredns"),
        ("coredns-2", "control-plane", "10.244.0.3", "coredns")]


def test_the_api_server_endpoint_is_the_control_plane_not_a_pod(sc):
    (sl,) = endpoint_slices(sc)["default/kubernetes"]
    assert sl.name == "kubernetes"
    assert [(p.name, p.port) for p in sl.ports] == [("https", 6443)]
    assert [(e.address, e.pod, e.node) for e in sl.endpoints] == [("192.168.1.10", "", "")]


def test_rules_and_chain_names_as_on_real_clusters(sc):
    text = generate_restore(sc, "worker")
    # the chain names every kubeadm/kind cluster shows (hash of "ns/name:port" + protocol)
    for line in (
        '-A KUBE-SERVICES -m comment --comment "default/kubernetes:https cluster IP" -m tcp -p tcp '
        "-d 10.96.0.1 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y",
        '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp -p udp '
        "-d 10.96.0.10 --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU",
        '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:dns-tcp cluster IP" -m tcp -p tcp '
        "-d 10.96.0.10 --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4",
        '-A KUBE-SERVICES -m comment --comment "kube-system/kube-dns:metrics cluster IP" -m tcp -p tcp '
        "-d 10.96.0.10 --dport 9153 -j KUBE-SVC-JD5MR3NA4I4DYORP",
    ):
        assert line in text.splitlines()
    # the endpoint chain of an endpoint that is a node: the hairpin rule names the node IP
    sep = [ln for ln in text.splitlines() if "default/kubernetes:https" in ln and ln.startswith("-A KUBE-SEP-")]
    assert sep[0].endswith("-s 192.168.1.10 -j KUBE-MARK-MASQ")
    assert sep[1].endswith("-m tcp -p tcp -j DNAT --to-destination 192.168.1.10:6443")
    nft = generate_nft(sc, "worker")
    assert "10.96.0.10 . udp . 53 : goto service-" in nft


@pytest.mark.parametrize("mode", ["iptables", "nftables"])
@pytest.mark.parametrize("flow,server,saw", [
    ("pod-to-api-server", "control-plane", "10.244.1.7:40000"),
    ("dns-query", None, "10.244.1.7:53000"),
    ("dns-query-tcp", None, "10.244.1.7:53001"),
    ("node-to-api-server", "control-plane", None),
])
def test_system_flows_are_delivered(sc, mode, flow, server, saw):
    t = ClusterSim(sc, proxy_mode=mode).run_flow(flow)
    assert t.ending == "delivered"
    delivered_to = [s.host for s in t.steps if s.kind == "deliver"][0]
    assert delivered_to == (server or delivered_to)
    if server is None:
        assert delivered_to.startswith("coredns-")
    if saw:
        assert t.server_saw == saw
    else:  # the worker's own source, masqueraded to its node IP by KUBE-MARK-MASQ
        assert t.server_saw.startswith("192.168.1.11:")


def test_off_by_default_so_the_article_keeps_10_96_0_1():
    sc = load_scenario(ROOT / "scenarios" / "clusterip.yaml")
    assert not sc.cluster.systemServices
    assert [s.key for s in sc.services] == ["default/web"]
    assert sc.service("web").clusterIP == "10.96.0.1"


def test_a_service_on_the_first_ip_is_an_error_with_its_position():
    text = SCENARIO.read_text().replace("clusterIP: 10.96.45.12", "clusterIP: 10.96.0.1")
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "s.yaml")
    msg = str(e.value)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "clusterIP: 10.96.0.1" in ln)
    assert f"s.yaml:{line}:" in msg
    assert "10.96.0.1 is the first address of serviceCIDR 10.96.0.0/12, which default/kubernetes holds" in msg


def test_expansion_is_idempotent_and_own_definitions_win(sc):
    again = Scenario.model_validate(sc.model_dump(by_alias=True))
    assert [s.key for s in again.services] == [s.key for s in sc.services]
    assert [p.name for p in again.pods] == [p.name for p in sc.pods]
    data = sc.model_dump(by_alias=True)
    data["services"] = [s for s in data["services"] if s["name"] != "kube-dns"]
    data["pods"] = [p for p in data["pods"] if p["namespace"] != "kube-system"]
    data["services"].append({"name": "kube-dns", "namespace": "kube-system", "clusterIP": "10.96.0.10",
                             "selector": {"app": "dns"}, "ports": [{"port": 53, "protocol": "UDP"}]})
    own = Scenario.model_validate(data)
    assert own.service("kube-system/kube-dns").selector == {"app": "dns"}
    assert not [p for p in own.pods if p.namespace == "kube-system"]


def _shell(sc, host):
    return Shell(ClusterSim(sc), host)


def test_dig_from_a_pod_goes_the_service_path(sc):
    sh = _shell(sc, "app")
    assert sh.run("dig +short web.default.svc.cluster.local").stdout == "10.96.45.12\n"
    assert sh.run("kubectl scale deployment coredns -n kube-system --replicas=0").exit_code == 0
    r = sh.run("dig +short web.default.svc.cluster.local")
    # dig 9.18.49 against a Service IP that REJECTs (kube-dns has no endpoints)
    assert r.exit_code == 9
    assert r.stdout == (";; communications error to 10.96.0.10#53: connection refused\n" * 3
                        + ";; no servers could be reached\n")
    r = sh.run("nslookup web")
    assert r.exit_code == 1 and r.stdout.startswith(";; communications error to 10.96.0.10#53: connection refused")


def test_a_node_resolves_with_its_own_resolver(sc):
    r = _shell(sc, "worker").run("dig +short kubernetes.default.svc.cluster.local")
    assert "127.0.0.53#53" in r.stdout and r.exit_code == 9


def test_kubectl_shows_the_api_servers_endpoint(sc):
    sh = _shell(sc, "app")
    out = sh.run("kubectl get endpoints -A").stdout
    assert "default       kubernetes   192.168.1.10:6443" in out
    yaml_text = sh.run("kubectl get endpointslice kubernetes -o yaml").stdout
    assert "192.168.1.10" in yaml_text and "targetRef" not in yaml_text and "nodeName" not in yaml_text


def test_a_scenarios_own_dns_service_is_asked_too():
    # udp.yaml declares kube-system/kube-dns itself (systemServices off): a pod's dig
    # still goes to it through the rules, so scaling CoreDNS to zero is refused
    sh = Shell(ClusterSim(load_scenario(ROOT / "scenarios" / "udp.yaml")), "app")
    assert sh.run("dig +short kube-dns.kube-system.svc.cluster.local").stdout == "10.96.0.10\n"
    sh.run("kubectl scale deployment coredns -n kube-system --replicas=0")
    r = sh.run("dig +short kube-dns.kube-system.svc.cluster.local")
    assert r.exit_code == 9 and "10.96.0.10#53: connection refused" in r.stdout
