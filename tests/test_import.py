"""`kubeflow-tui import`: kubectl's objects -> a scenario, and a node's dump compared with
kube-proxy's rules.  The fixture is a kind-like 2-node cluster as kubectl prints it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from kubeflow_tui.cli import main
from kubeflow_tui.importer import build_scenario, read_inputs
from kubeflow_tui.importer import read as read_mod
from kubeflow_tui.kubeproxy import endpoint_chain_name, service_chain_name, service_port_endpoints
from kubeflow_tui.scenario import load_scenario

FIXTURES = Path(__file__).parent / "fixtures" / "import"
KIND = FIXTURES / "kind-2node.yaml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture()
def imported(tmp_path, capsys):
    out = tmp_path / "kind.yaml"
    rc, stdout, err = run(capsys, "import", str(KIND), "-o", str(out))
    assert rc == 0, err
    return load_scenario(out), err, out


# ----------------------------------------------------------------------------- the scenario


def test_nodes_and_networks_come_from_the_objects(imported):
    s, _, _ = imported
    assert [(n.name, n.ip, n.podCIDR) for n in s.cluster.nodes] == [
        ("kind-control-plane", "172.18.0.2", "10.244.0.0/24"),
        ("kind-worker", "172.18.0.3", "10.244.1.0/24"),
    ]
    # --cluster-cidr and --service-cluster-ip-range of the kubeadm static pods
    assert (s.cluster.clusterCIDR, s.cluster.serviceCIDR) == ("10.244.0.0/16", "10.96.0.0/16")
    assert s.cluster.nodeNetwork == "172.18.0.0/24"


def test_pods_keep_ips_labels_ports_and_readiness(imported):
    s, _, _ = imported
    by_ip = {p.ip: p for p in s.pods}
    assert sorted(by_ip) == ["10.244.0.2", "10.244.0.3", "10.244.0.7", "10.244.1.2", "10.244.1.3"]
    dns = by_ip["10.244.0.2"]
    assert (dns.name, dns.namespace, dns.node) == ("coredns-6f6b679f8f-7lqhd", "kube-system",
                                                   "kind-control-plane")
    assert dns.labels == {"k8s-app": "kube-dns", "pod-template-hash": "6f6b679f8f"}
    assert [(p.name, p.containerPort, p.protocol) for p in dns.ports] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    assert dns.deployment == "coredns"
    leaving = by_ip["10.244.0.7"]
    assert (leaving.ready, leaving.terminating) == (True, True)  # serving, terminating
    # two pods of one ReplicaSet on one node would share veth-coredns-6f: one is renamed
    assert by_ip["10.244.0.3"].name == "wz5nc-coredns-6f6b679f8f"


def test_services_keep_every_field_the_schema_has(imported):
    s, _, _ = imported
    web = s.service("default/web")
    assert (web.type, web.clusterIP, web.sessionAffinity, web.sessionAffinityTimeoutSeconds) == (
        "NodePort", "10.96.142.17", "ClientIP", 3600)
    assert [(p.name, p.port, p.targetPort, p.nodePort) for p in web.ports] == [
        ("http", 80, "http", 31080)]
    pub = s.service("default/web-public")
    assert (pub.type, pub.loadBalancerIP, pub.externalTrafficPolicy, pub.healthCheckNodePort) == (
        "LoadBalancer", "198.51.100.20", "Local", 32415)
    assert pub.loadBalancerSourceRanges == ["203.0.113.0/24", "172.18.0.0/16"]
    dns = s.service("kube-system/kube-dns")
    assert [(p.name, p.port, p.protocol) for p in dns.ports] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    # (default/kubernetes: written by cluster.systemServices, see below)
    assert {sv.key for sv in s.services} == {"default/kubernetes", "default/web", "default/web-public",
                                             "kube-system/kube-dns"}


def test_endpoints_are_the_endpointslices(imported):
    s, _, _ = imported
    eps = {str(k): [(e.address, e.ready, e.serving, e.terminating) for e in v]
           for k, v in service_port_endpoints(s).items()}
    assert eps["default/web:http"] == [
        ("10.244.0.7:8080", False, True, True),
        ("10.244.1.2:8080", True, True, False),
        ("10.244.1.3:8080", True, True, False),
    ]
    assert [a for a, *_ in eps["kube-system/kube-dns:dns"]] == ["10.244.0.2:53", "10.244.0.3:53"]


def test_chain_names_are_the_real_clusters(imported, capsys):
    _, _, out = imported
    rc, text, _ = run(capsys, "rules", str(out), "--node", "kind-worker")
    assert rc == 0
    # kube-dns:dns/udp hashes to the chain every kubeadm cluster has
    assert "-j KUBE-SVC-TCOU7JCQXEZGVUNU" in text


def test_warnings_name_what_was_left_out(imported):
    _, err, _ = imported
    for needle in (
        "Pod kube-system/kube-apiserver-kind-control-plane: hostNetwork pod",
        "Pod default/migrate-28871234-q2v9x: phase Succeeded",
        "Pod default/batch-pending: not scheduled",
        "Service default/web-headless: headless",
        "Service default/upstream-db: type ExternalName",
        "skipped objects of kinds a scenario does not use: 1 Secret",
    ):
        assert f"kubeflow-tui: warning: {needle}" in err


def test_what_loses_nothing_is_a_note_not_a_warning(imported):
    _, err, out = imported
    lines = err.splitlines()
    notes = [ln for ln in lines if ln.startswith("kubeflow-tui: note: ")]
    assert notes == [
        "kubeflow-tui: note: Pod kube-system/coredns-6f6b679f8f-wz5nc: named wz5nc-coredns-6f6b679f8f in "
        "the scenario: on node kind-control-plane the interface veth-<pod> (15 characters) must differ "
        "from its neighbours'",
        "kubeflow-tui: note: Pod default/web-6d8f7b9c5d-9tq7w: named 9tq7w-web-6d8f7b9c5d in the scenario: "
        "on node kind-worker the interface veth-<pod> (15 characters) must differ from its neighbours'",
        "kubeflow-tui: note: Service default/kubernetes: imported as cluster.systemServices: true, which "
        "writes it as the cluster has it: 10.96.0.1:443 -> the API server in node kind-control-plane's "
        "host network (172.18.0.2:6443); kind-control-plane is listed first, as the control plane",
    ]
    warnings = [ln for ln in lines if ln.startswith("kubeflow-tui: warning: ")]
    assert not any("systemServices" in w or "named " in w for w in warnings)
    # the notes are counted apart, and the scenario's header counts the warnings only
    assert lines[-1].endswith(f"({len(warnings)} warnings, 3 notes) -> {out}")
    assert f"# {len(warnings)} warning(s): objects or fields" in out.read_text()


def test_notes_are_in_the_result_and_quiet_hides_them(tmp_path, capsys):
    r = build_scenario(read_inputs([str(KIND)]))
    assert any(n.startswith("Service default/kubernetes: imported as cluster.systemServices") for n in r.notes)
    assert not any("systemServices" in w for w in r.warnings)
    rc, _, err = run(capsys, "import", str(KIND), "-o", str(tmp_path / "k.yaml"), "-q")
    assert rc == 0
    assert "note:" not in err and "warning:" not in err
    assert f"({len(r.warnings)} warnings, {len(r.notes)} notes, not listed)" in err


def test_the_api_servers_service_becomes_system_services(imported, capsys):
    _, _, out = imported
    sc = load_scenario(out)
    assert sc.cluster.systemServices is True
    assert sc.cluster.nodes[0].name == "kind-control-plane"
    k8s = next(s for s in sc.services if (s.namespace, s.name) == ("default", "kubernetes"))
    assert k8s.clusterIP == "10.96.0.1"
    rc, text, _ = run(capsys, "rules", str(out), "--node", "kind-worker")
    assert rc == 0
    # the chains every kubeadm/kind cluster has for it, to the control plane's API server
    assert "-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment " \
        '"default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y' in text
    assert "--to-destination 172.18.0.2:6443" in text
    # kube-dns stays the cluster's own (its CoreDNS pods as imported), not the default replicas
    assert not {"coredns-1", "coredns-2"} & {p.name for p in sc.pods}


def test_other_kinds_are_never_echoed(imported):
    _, err, out = imported
    text = out.read_text()
    for secret in ("db-credentials", "aHVudGVyMg==", "hunter2"):
        assert secret not in err and secret not in text


def test_flows_cover_every_service_port_and_play(imported, capsys):
    s, _, out = imported
    flows = {f.name: f for f in s.flows}
    assert flows["kube-dns-dns"].protocol == "UDP" and flows["kube-dns-dns"].to == "10.96.0.10:53"
    # from a pod on the node without a DNS endpoint
    assert s.pod(flows["kube-dns-dns"].from_).node == "kind-worker"
    assert flows["web-http-nodeport"].from_ == "outside"
    assert flows["web-public-http-lb"].to == "198.51.100.20:80"
    assert flows["web-public-http-lb"].via == "kind-worker"  # eTP Local: a node with a ready pod
    rc, text, err = run(capsys, "validate", "--deep", str(out))
    assert rc == 0, text + err
    rc, text, _ = run(capsys, "trace", str(out), "web-public-http-lb")
    assert rc == 0 and "ending delivered" in text.splitlines()[0]


def test_json_stdin_and_several_files_give_the_same_scenario(tmp_path, capsys, monkeypatch):
    strip = lambda t: t[t.index("\nname: "):]  # noqa: E731 - the comments name the sources
    data = yaml.safe_load(KIND.read_text())
    want = strip(run(capsys, "import", str(KIND))[1])
    assert "kube-dns" in want
    js = tmp_path / "kind.json"
    js.write_text(json.dumps(data, indent=4))
    assert strip(run(capsys, "import", str(js))[1]) == want
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(js.read_bytes())))
    assert strip(run(capsys, "import", "-")[1]) == want
    files = []
    for kind in ("Node", "Pod", "Service", "EndpointSlice"):
        f = tmp_path / f"{kind}.yaml"
        f.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
            i for i in data["items"] if i["kind"] == kind]}))
        files.append(str(f))
    assert strip(run(capsys, "import", *files)[1]) == want


# ----------------------------------------------------------------------------- bad input


def _bad(capsys, tmp_path, text: str, *extra: str) -> str:
    f = tmp_path / "dump.yaml"
    f.write_text(text)
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    rc, stdout, err = run(capsys, "import", str(f), "-o", str(out), *extra)
    assert rc == 2
    assert out.read_text() == "keep me\n"  # nothing written on failure
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err.strip().replace(str(f), "dump.yaml")


def test_truncated_yaml(tmp_path, capsys):
    text = KIND.read_text()
    # cut inside a quoted string: the YAML ends early
    cut = text[: text.index('cri-socket: unix') + len("cri-socket: ")] + "'unix:///run"
    err = _bad(capsys, tmp_path, cut)
    assert re.fullmatch(r"kubeflow-tui: error: dump\.yaml:\d+:\d+: invalid YAML: .*truncated\?\)", err)
    # cut at a line: still YAML, but kubectl prints `kind: List` after the items
    cut = text[: text.index("- apiVersion: v1\n  kind: Service")]
    err = _bad(capsys, tmp_path, cut)
    assert err == ("kubeflow-tui: error: dump.yaml:3:1: a List without its kind (kubectl prints "
                   "`kind: List` after the items): the file looks truncated")


def test_truncated_json(tmp_path, capsys):
    text = json.dumps(yaml.safe_load(KIND.read_text()), indent=4)
    err = _bad(capsys, tmp_path, text[:5000])
    assert re.fullmatch(r"kubeflow-tui: error: dump\.yaml:\d+:\d+: invalid JSON: .*", err), err


def test_a_scenario_is_not_a_dump(tmp_path, capsys):
    err = _bad(capsys, tmp_path, "name: x\ncluster: {nodes: []}\n")
    assert err == ("kubeflow-tui: error: dump.yaml:1:1: not a Kubernetes object: it has no kind "
                   "(make the dump with `kubectl get nodes,pods,services,endpointslices -A -o yaml`)")


def test_no_nodes(tmp_path, capsys):
    err = _bad(capsys, tmp_path, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: b}\n")
    assert "no Node objects in the input" in err and "name: s" not in err


def test_duplicate_objects(tmp_path, capsys):
    rc, _, err = run(capsys, "import", str(KIND), str(KIND))
    assert rc == 2
    assert re.fullmatch(r"kubeflow-tui: error: \S+kind-2node\.yaml:3:3: duplicate object: Node "
                        r"kind-control-plane appears twice \(also at \S+kind-2node\.yaml:3:3\)\n", err)


def test_a_wrong_type_points_at_the_field(tmp_path, capsys):
    text = KIND.read_text().replace("      nodePort: 31080\n      port: 80\n",
                                    "      nodePort: 31080\n      port: eighty\n")
    err = _bad(capsys, tmp_path, text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "port: eighty" in ln)
    assert err == (f"kubeflow-tui: error: dump.yaml:{line}:13: Service default/web: "
                   "spec.ports[0].port must be a port number, not 'eighty'")


def test_size_is_checked_before_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(read_mod, "MAX_BYTES", 1000)
    err = _bad(capsys, tmp_path, KIND.read_text())
    assert "file is too large" in err and "limit for a kubectl dump is 1,000 bytes" in err


def test_unsupported_things_are_warnings_not_errors():
    text = KIND.read_text()
    objs = read_mod.parse_text(text.replace("protocol: UDP\n      targetPort: 53",
                                            "protocol: SCTP\n      targetPort: 53"), "k.yaml")
    r = build_scenario(objs)
    assert any("Service kube-system/kube-dns: port dns/SCTP: only TCP and UDP" in w
               for w in r.warnings)
    assert [p.name for p in r.scenario.service("kube-system/kube-dns").ports] == [
        "dns-tcp", "metrics"]


# ----------------------------------------------------------------------------- the dump diff


def _our_dump(tmp_path, capsys, node: str = "kind-worker") -> str:
    out = tmp_path / "kind.yaml"
    assert run(capsys, "import", str(KIND), "-o", str(out), "-q")[0] == 0
    rc, text, _ = run(capsys, "rules", str(out), "--node", node)
    assert rc == 0
    return text


def test_our_own_rules_are_no_difference(tmp_path, capsys):
    dump = tmp_path / "node.save"
    dump.write_text(_our_dump(tmp_path, capsys))
    rc, out, _ = run(capsys, "import", str(KIND), "--iptables-save", str(dump),
                     "--node", "kind-worker", "-q")
    assert rc == 0
    assert out.startswith(f"node kind-worker: {dump} holds exactly the rules kube-proxy writes")


def test_mutated_dump_shows_missing_extra_and_changed_rules(tmp_path, capsys):
    text = _our_dump(tmp_path, capsys)
    lines = text.splitlines()
    # 1. a deleted KUBE-SEP rule: web's DNAT to 10.244.1.3
    sep = endpoint_chain_name("default/web:http", "tcp", "10.244.1.3:8080")
    dnat = next(ln for ln in lines if ln.startswith(f"-A {sep} ") and "DNAT" in ln)
    lines.remove(dnat)
    # 2. a changed probability in kube-dns:dns's chain
    svc = service_chain_name("KUBE-SVC-", "kube-system/kube-dns:dns", "udp")
    assert svc == "KUBE-SVC-TCOU7JCQXEZGVUNU"
    i = next(i for i, ln in enumerate(lines) if ln.startswith(f"-A {svc} ") and "probability" in ln)
    old_rule = lines[i]
    new_rule = lines[i] = old_rule.replace("0.50000000000", "0.33333333349")
    # 3. extra rules: a Service the scenario does not hold, and one stray rule
    k_svc = service_chain_name("KUBE-SVC-", "default/legacy:https", "tcp")
    k_sep = endpoint_chain_name("default/legacy:https", "tcp", "172.18.0.9:6443")
    nat = lines.index("*nat")
    decl = max(i for i, ln in enumerate(lines) if ln.startswith(":") and i > nat)
    lines[decl + 1:decl + 1] = [f":{k_sep} - [0:0]", f":{k_svc} - [0:0]", ":KIND-MASQ-AGENT - [0:0]"]
    commit = max(i for i, ln in enumerate(lines) if ln == "COMMIT")
    lines[commit:commit] = [
        '-A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m comment --comment '
        '"default/legacy:https cluster IP" -m tcp --dport 443 -j ' + k_svc,
        f"-A {k_svc} -m comment --comment \"default/legacy:https -> 172.18.0.9:6443\" -j {k_sep}",
        f'-A {k_sep} -p tcp -m comment --comment "default/legacy:https" -m tcp -j DNAT '
        "--to-destination 172.18.0.9:6443",
        "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j KIND-MASQ-AGENT",
        "-A KIND-MASQ-AGENT -d 10.244.0.0/16 -j RETURN",
        "-A KUBE-MARK-MASQ -j LOG",
    ]
    dump = tmp_path / "node.save"
    dump.write_text("\n".join(lines) + "\n")
    rc, out, _ = run(capsys, "import", str(KIND), "--iptables-save", str(dump),
                     "--node", "kind-worker", "-q")
    assert rc == 1
    blocks = {b.splitlines()[0]: b for b in out.split("\n\n")[1:]}
    assert out.startswith(f"node kind-worker: 8 differences between the rules kube-proxy writes "
                          f"for the scenario and {dump}")
    assert blocks["default/web:http"] == f"default/web:http\n  - nat {sep}: {dnat}"
    assert blocks["kube-system/kube-dns:dns"] == (
        f"kube-system/kube-dns:dns\n  ~ nat {svc}:\n      want {old_rule}\n"
        f"      have {new_rule}")
    k = blocks["default/legacy:https"]
    assert k.count("\n  + nat ") == 5  # two chains, three rules
    assert blocks["kube-proxy (not one Service's)"].strip() == (
        "kube-proxy (not one Service's)\n  + nat KUBE-MARK-MASQ: -A KUBE-MARK-MASQ -j LOG")
    assert "KIND-MASQ-AGENT" not in out  # not kube-proxy's


def test_dump_errors_are_one_line(tmp_path, capsys):
    dump = tmp_path / "node.save"
    dump.write_text("*nat\n-A NOPE -j ACCEPT\nCOMMIT\n")
    rc, _, err = run(capsys, "import", str(KIND), "--iptables-save", str(dump), "--node", "kind-worker")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and f"{dump}:2" in err
    rc, _, err = run(capsys, "import", str(KIND), "--iptables-save", str(dump), "--node", "nope")
    assert rc == 2


def test_a_scenario_too_big_for_the_app_is_a_warning(tmp_path, capsys, monkeypatch):
    import kubeflow_tui.scenario as scenario_pkg

    monkeypatch.setattr(scenario_pkg, "MAX_NODES", 100)
    rc, _, err = run(capsys, "import", str(KIND), "-o", str(tmp_path / "s.yaml"), "-q")
    assert rc == 0 and (tmp_path / "s.yaml").exists()
    assert "YAML values (the limit is 100): the app and `validate` will not open it" in err


def test_slices_and_selectors_that_disagree_are_warned():
    text = KIND.read_text()
    # the web slice without web-...-9tq7w (10.244.1.3), as a slice lagging behind the pods
    start = text.index("    name: web-k2f9s")
    block_start = text.rindex("  - addresses:\n    - 10.244.1.3\n", 0, start)
    block_end = text.index("  - addresses:\n    - 10.244.0.7\n", block_start)
    objs = read_mod.parse_text(text[:block_start] + text[block_end:], "k.yaml")
    r = build_scenario(objs)
    assert ("Service default/web: its endpoints in the scenario differ from its EndpointSlices: "
            "http: 10.244.1.3:8080 would be selected, not in its EndpointSlices") in r.warnings


def test_an_unready_endpoint_makes_an_unready_pod():
    text = KIND.read_text().replace(
        "    - 10.244.0.2\n    conditions:\n      ready: true\n      serving: true\n"
        "      terminating: false\n", "    - 10.244.0.2\n    conditions:\n      ready: false\n")
    r = build_scenario(read_mod.parse_text(text, "k.yaml"))
    pod = next(p for p in r.scenario.pods if p.ip == "10.244.0.2")
    assert (pod.ready, pod.terminating) == (False, False)
    assert not any("kube-dns" in w and "differ" in w for w in r.warnings)


def test_a_big_json_dump_still_names_the_line(tmp_path, capsys, monkeypatch):
    data = yaml.safe_load(KIND.read_text())
    data["items"][1]["status"]["addresses"] = "oops"  # Node kind-worker
    text = json.dumps(data, indent=4)
    monkeypatch.setattr(read_mod, "LOCATE_MAX", 100)  # as if it were too big to compose again
    err = _bad(capsys, tmp_path, text)
    lines = text.splitlines()
    braces = [i for i, ln in enumerate(lines) if ln == "        {"]
    line = braces[1] + 1  # the second item's opening brace
    assert lines[braces[1] + 1:braces[1] + 3] == ['            "apiVersion": "v1",',
                                                  '            "kind": "Node",']
    assert re.fullmatch(rf"kubeflow-tui: error: dump\.yaml:{line}:9: Node kind-worker: "
                        r"status\.addresses must be a sequence, not str 'oops'", err), err
