"""A pod's resolver: the search list and ndots as glibc applies them, each query a DNS flow
through kube-dns's rules; the app's configuration (env) and `kubectl set env`; the case
check that re-runs the app's name lookup (case 20)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.quiz import CaseError, CaseSession, load_case, load_case_text, run_quiz
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell
from kubeflow_tui.shell.kubectl_fix import install
from kubeflow_tui.shell.resolver import ResolvConf, candidates, lookup, resolv_conf

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "scenarios" / "cases" / "shop-billing.yaml"
CASE = ROOT / "cases" / "20-checkout-cannot-find-payments.yaml"
SEARCH = ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")


@pytest.fixture(autouse=True)
def _private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))


def _sim(**pod_update) -> ClusterSim:
    sc = load_scenario(SCEN)
    if pod_update:
        from kubeflow_tui.scenario.models import Scenario

        data = sc.model_dump(by_alias=True, exclude_none=True)
        for p in data["pods"]:
            if p["name"] == "checkout":
                p.update(pod_update)
        sc = Scenario.model_validate(data)
    return ClusterSim(sc)


def _dns_entries(sim: ClusterSim) -> list:
    return [e for e in sim.conntrack("worker").entries if "dst=10.96.0.10 " in e.line() and "dport=53 " in e.line()]


# ------------------------------------------------------------------ glibc's order


def test_fewer_dots_than_ndots_search_list_first_then_the_name_itself():
    conf = ResolvConf("10.96.0.10", SEARCH, 5)
    assert candidates("payments", conf) == [
        "payments.shop.svc.cluster.local", "payments.svc.cluster.local", "payments.cluster.local", "payments"]
    assert candidates("payments.billing", conf)[1] == "payments.billing.svc.cluster.local"
    # four dots are still fewer than five: even the full name goes through the list first
    assert candidates("payments.billing.svc.cluster.local", conf)[0] == \
        "payments.billing.svc.cluster.local.shop.svc.cluster.local"


def test_enough_dots_the_name_first_and_a_trailing_dot_only_the_name():
    conf = ResolvConf("10.96.0.10", SEARCH, 1)
    assert candidates("payments.billing", conf) == ["payments.billing"] + [f"payments.billing.{d}" for d in SEARCH]
    assert candidates("payments", conf)[-1] == "payments"  # no dot: still the list first
    assert candidates("payments.billing.svc.cluster.local.", ResolvConf("x", SEARCH, 5)) == [
        "payments.billing.svc.cluster.local"]


def test_dns_config_adds_searches_after_the_clusters_and_overrides_ndots():
    sim = _sim(dnsConfig={"searches": ["billing.svc.cluster.local", "svc.cluster.local"],
                          "options": [{"name": "ndots", "value": "2"}]})
    pod = sim.scenario.pod("checkout")
    conf = resolv_conf(sim.scenario, pod)
    assert conf.search == SEARCH + ("billing.svc.cluster.local",)  # the duplicate is left out
    assert conf.ndots == 2
    out = install(Shell(sim, "checkout")).run("cat /etc/resolv.conf").stdout
    assert out == ("search shop.svc.cluster.local svc.cluster.local cluster.local billing.svc.cluster.local\n"
                   "nameserver 10.96.0.10\noptions ndots:2\n")
    # now a bare payments is found through the added domain, on the fourth try
    found = lookup(sim, "checkout", "payments")
    assert found.address == "10.96.120.15"
    assert [q.name for q in found.queries][-1] == "payments.billing.svc.cluster.local"


def test_a_pods_resolv_conf_without_dns_config_is_the_kubelets():
    sim = _sim()
    out = install(Shell(sim, "checkout")).run("cat /etc/resolv.conf").stdout
    assert out == ("search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                   "nameserver 10.96.0.10\noptions ndots:5\n")


# ------------------------------------------------------------------ real queries


def test_each_query_is_a_dns_flow_through_the_service():
    sim = _sim()
    before = len(_dns_entries(sim))
    found = lookup(sim, "checkout", "payments")
    assert not found.resolved and found.error == "NXDOMAIN"
    assert [(q.name, q.result) for q in found.queries] == [
        ("payments.shop.svc.cluster.local", "NXDOMAIN"), ("payments.svc.cluster.local", "NXDOMAIN"),
        ("payments.cluster.local", "NXDOMAIN"), ("payments", "NXDOMAIN")]
    # four exchanges with CoreDNS, DNATed by the worker: four conntrack entries there
    assert len(_dns_entries(sim)) == before + 4
    for q in found.queries:
        assert q.trace.ending == "delivered" and q.trace.endpoint in ("coredns-1", "coredns-2")
        assert any(s.kind == "dnat" for s in q.trace.steps)
    ok = lookup(sim, "checkout", "payments.billing")
    assert ok.address == "10.96.120.15" and len(ok.queries) == 2
    assert "payments.billing is 10.96.120.15" in ok.story()


def test_a_refused_query_ends_the_lookup():
    sim = _sim()
    r = install(Shell(sim, "worker")).run("kubectl -n kube-system scale deployment coredns --replicas=0")
    assert r.exit_code == 0, r.stderr
    found = lookup(sim, "checkout", "payments.billing")
    # the first query is rejected by the node (kube-dns has no endpoints): glibc stops there
    assert [(q.name, q.result) for q in found.queries] == [
        ("payments.billing.shop.svc.cluster.local", "connection refused")]
    assert found.error == "connection refused" and "failed (connection refused)" in found.story()


def test_dig_and_nslookup_follow_the_search_list():
    sim = _sim(dnsConfig={"options": [{"name": "ndots", "value": "1"}]})
    sh = install(Shell(sim, "checkout"))
    assert sh.run("dig +short +search payments.billing").stdout == "10.96.120.15\n"
    assert sh.run("dig +short payments.billing").stdout == ""  # dig does not search by default
    r = sh.run("nslookup payments.billing")
    assert "Name:\tpayments.billing.svc.cluster.local\nAddress: 10.96.120.15" in r.stdout


def test_scenario_rejects_a_bad_dns_config_with_its_place(tmp_path):
    from kubeflow_tui.scenario import ScenarioError

    text = SCEN.read_text().replace("    env:\n", "    dnsConfig:\n      options: [{name: timeout, value: \"2\"}]\n"
                                    "    env:\n", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(bad)
    assert "bad.yaml:" in str(e.value) and "dnsConfig" in str(e.value) and "ndots" in str(e.value)


# ------------------------------------------------------------------ kubectl set env


def test_kubectl_set_env_rolls_the_deployment_and_its_flows_follow():
    sim = _sim()
    sh = install(Shell(sim, "worker"))
    r = sh.run("kubectl set env deployment/checkout -n shop --list")
    assert r.stdout == "# Deployment checkout, container checkout\nPAYMENTS_HOST=payments\nPAYMENTS_PORT=8080\n"
    r = sh.run("kubectl set env deployment/checkout -n shop PAYMENTS_HOST=payments.billing PAYMENTS_PORT-")
    assert r.stdout == "deployment.apps/checkout env updated\n", r.stderr
    pods = {p.name: p for p in sim.scenario.pods if p.deployment == "checkout"}
    # the old pod is listed as Terminating (no preStop: it exited at SIGTERM); the new one runs
    assert sorted(pods) == ["checkout", "checkout-1"]
    assert pods["checkout"].terminating and pods["checkout"].exited
    new = [pods["checkout-1"]]
    assert not new[0].terminating and new[0].ip != "10.244.1.7"
    assert new[0].env == {"PAYMENTS_HOST": "payments.billing"}
    assert sim.scenario.flow("checkout-payments").from_ == "checkout-1"
    assert "value: payments.billing" in sh.run("kubectl get pod checkout-1 -n shop -o yaml").stdout
    assert sh.run("kubectl set env deployment/checkout -n shop PAYMENTS_HOST=payments.billing").stdout.endswith(
        "(no change)\n")
    r = sh.run("kubectl set env pod/checkout-1 -n shop A=b")
    assert r.exit_code == 1 and "Forbidden" in r.stderr
    r = sh.run("kubectl set env deployment/nope -n shop A=b")
    assert r.exit_code == 1 and 'deployments.apps "nope" not found' in r.stderr


# ------------------------------------------------------------------ the case


def test_case_symptom_is_the_apps_lookup_and_the_check_reruns_it():
    case = load_case(CASE)
    s = CaseSession(case)
    assert s.symptom_outcome == "unresolved"
    assert [q.name for q in s.symptom_lookup.queries][0] == "payments.shop.svc.cluster.local"
    ok, _ = s.check_fix()
    assert not ok and s.fix_error == "checkout's lookup of payments still fails (NXDOMAIN)"
    s.answer(case.model.diagnosis.answer)
    assert "The failing lookup: the resolver asked payments.shop.svc.cluster.local (NXDOMAIN)" in s.reveal()


@pytest.mark.parametrize("value,fixed", [
    ("payments.billing", True),
    ("payments.billing.svc.cluster.local.", True),
    ("payments.billing.svc", True),  # payments.billing.svc.cluster.local through the last domain
    ("payments.billing.svc.cluster", False),
    ("payments.shop", False),
    ("10.96.120.15", True),  # an address needs no lookup (and breaks when the Service is recreated)
])
def test_any_name_that_really_resolves_fixes_it(value, fixed):
    s = CaseSession(load_case(CASE))
    r = s.run(f"kubectl set env deployment/checkout -n shop PAYMENTS_HOST={value}", "worker")
    assert r.exit_code == 0, r.stderr
    ok, trace = s.check_fix()
    assert ok is fixed, (value, s.fix_error, trace.summary if trace else None)
    if fixed:
        assert trace.outcome == "delivered" and trace.endpoint in ("payments-1", "payments-2")


def test_plain_mode_plays_the_case():
    case = load_case(CASE)
    script = ("kubectl exec -n shop checkout -- cat /etc/resolv.conf\ncheck\nanswer\n"
              f"{case.model.diagnosis.answer + 1}\n{case.model.fix.commands[0].command}\ncheck\n")
    out = io.StringIO()
    assert run_quiz(CASE, io.StringIO(script), out) == 0
    text = out.getvalue()
    assert "options ndots:5" in text and "Not yet: checkout's lookup of payments still fails (NXDOMAIN)" in text
    assert "Right." in text and "deployment.apps/checkout env updated" in text
    assert "Fixed:" in text and "case solved" in text


GOOD = """\
title: t
scenario: ../scenarios/cases/shop-billing.yaml
symptom: {flow: checkout-payments, outcome: unresolved, lookup: {from: checkout, env: PAYMENTS_HOST}, text: x}
investigate: [{host: worker, command: conntrack -L}]
diagnosis: {question: "q?", options: [a, b], answer: 0, explanation: e}
"""


@pytest.mark.parametrize("old,new,where,message", [
    ("env: PAYMENTS_HOST", "env: NOPE", "symptom.lookup.env", "no environment variable 'NOPE'"),
    ("from: checkout, env: PAYMENTS_HOST", "from: payments-1, name: payments", "symptom.lookup.from",
     "they are the same app"),
    ("env: PAYMENTS_HOST", "env: PAYMENTS_HOST, name: x", "symptom.lookup", "exactly one of name and env"),
    (", lookup: {from: checkout, env: PAYMENTS_HOST}", "", "symptom.outcome", "outcome unresolved needs a lookup"),
])
def test_lookup_errors_point_at_the_case_file(old, new, where, message):
    with pytest.raises(CaseError) as e:
        load_case_text(GOOD.replace(old, new), "bad.yaml", base=ROOT / "cases")
    assert str(e.value).startswith("bad.yaml:3:") and where in str(e.value) and message in str(e.value)


def test_a_lookup_that_resolves_when_the_case_says_unresolved_is_caught():
    text = GOOD.replace("env: PAYMENTS_HOST", "name: payments.billing")
    case = load_case_text(text, "x.yaml", base=ROOT / "cases")
    with pytest.raises(CaseError, match="ended 'delivered', not 'unresolved'"):
        CaseSession(case)


def test_dig_a_name_outside_the_zone_is_the_upstreams_nxdomain():
    sim = _sim()
    out = install(Shell(sim, "checkout")).run("dig +search payments").stdout
    # the last candidate, payments., is forwarded upstream: recursive, not authoritative
    assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1" in out
    assert "recursion requested but not available" not in out
    assert ".\t\t\t30\tIN\tSOA\ta.root-servers.net. nstld.verisign-grs.com. " in out
    assert ";; MSG SIZE  rcvd: 112" in out  # 12 + 14 question + 75 SOA + 11 OPT
    inzone = install(Shell(sim, "checkout")).run("dig nope.shop.svc.cluster.local").stdout
    assert "flags: qr aa rd;" in inzone and "cluster.local.\t\t30\tIN\tSOA\tns.dns.cluster.local." in inzone


CASE_21 = ROOT / "cases" / "21-cache-refused-after-install.yaml"


def test_case_21_the_lookup_succeeds_to_the_shadowing_service():
    s = CaseSession(load_case(CASE_21))
    assert s.symptom_outcome == "refused" and s.symptom_lookup.address == "10.96.77.31"
    # the first candidate answered: the extra search domain is never asked
    assert [q.name for q in s.symptom_lookup.queries] == ["redis.shop.svc.cluster.local"]
    assert any(st.kind == "reject" and st.host == "worker" for st in s.symptom_trace.steps)
    s.answer(s.case.model.diagnosis.answer)
    assert "The failing connection: " in s.reveal()  # a lookup that worked: the connection failed


@pytest.mark.parametrize("commands,fixed", [
    (["kubectl set env deployment/checkout -n shop REDIS_HOST=redis.infra"], True),
    (["kubectl set env deployment/checkout -n shop REDIS_HOST=redis.infra.svc.cluster.local."], True),
    (["kubectl delete svc redis -n shop"], True),  # then the fourth search domain finds infra's
    (["kubectl rollout restart deployment/checkout -n shop"], False),
    (["kubectl set env deployment/checkout -n shop REDIS_HOST=redis.shop"], False),
])
def test_case_21_fixes(commands, fixed):
    s = CaseSession(load_case(CASE_21))
    for c in commands:
        r = s.run(c, "worker")
        assert r.exit_code == 0, (c, r.stderr)
    ok, trace = s.check_fix()
    assert ok is fixed, (commands, s.fix_error, trace.summary if trace else None)
    if fixed:
        assert trace.endpoint == "redis-1"


def test_a_rollout_restart_moves_the_flows_of_the_replaced_pod():
    sim = _sim()
    sh = install(Shell(sim, "worker"))
    r = sh.run("kubectl rollout restart deployment/checkout -n shop")
    assert r.stdout == "deployment.apps/checkout restarted\n", r.stderr
    assert sim.scenario.flow("dns-query").from_ == "checkout-1"
    assert sim.run_flow("checkout-payments").outcome == "delivered"
    assert sim.scenario.pod("checkout-1").env["PAYMENTS_HOST"] == "payments"  # the template is kept
