"""The simulated node shell: real tools' output over a live ClusterSim.

Golden files live in tests/golden/shell/; regenerate with ``KFT_UPDATE_GOLDEN=1 pytest
tests/test_shell.py`` (then read the diff: they are what a real node prints).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell, ShellResult, run_repl

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "shell"
UPDATE = os.environ.get("KFT_UPDATE_GOLDEN", "") not in ("", "0")


def make_sim(name: str = "clusterip") -> ClusterSim:
    return ClusterSim(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))


def shell(name: str = "clusterip", host: str = "node-a") -> Shell:
    return Shell(make_sim(name), host)


def transcript(sh: Shell, lines: list[str]) -> str:
    """What a terminal shows: prompt + command, stdout, stderr, for each line."""
    out = []
    for line in lines:
        r = sh.run(line)
        out.append(f"{sh.prompt}{line}\n{r.stdout}{r.stderr}")
    return "".join(out)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


# ---------------------------------------------------------------------- golden


def test_golden_kube_services_listing():
    sh = shell()
    r = sh.run("iptables -t nat -L KUBE-SERVICES -n --line-numbers")
    assert r.exit_code == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == "Chain KUBE-SERVICES (2 references)"
    assert lines[1].startswith("num  target     prot opt source               destination")
    check_golden("clusterip-node-a-kube-services.txt", r.stdout)


def test_golden_conntrack_after_curl():
    sim = make_sim()
    pod = Shell(sim, "client-b")
    node = Shell(sim, "node-b")
    r = pod.run("curl http://10.96.0.1:8080/")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"saw 10.244.2.7:{r.trace.steps[0].packet.sport} from web-1\n"
    assert r.trace is not None and r.trace.outcome == "delivered"
    ct = node.run("conntrack -L")
    assert ct.exit_code == 0
    assert ct.stderr == "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n"
    line = ct.stdout.strip()
    assert line.startswith("tcp      6 119 TIME_WAIT src=10.244.2.7 dst=10.96.0.1 ")
    assert "src=10.244.1.5 dst=10.244.2.7 sport=8080" in line and line.endswith("[ASSURED] mark=0 use=1")
    check_golden("clusterip-conntrack-after-curl.txt", transcript(node, ["conntrack -L", "conntrack -C"]))


@pytest.mark.parametrize("scenario", ["clusterip", "nodeport"])
def test_golden_kubectl(scenario):
    sh = shell(scenario)
    text = transcript(sh, [
        "kubectl get svc", "kubectl get svc -o wide", "kubectl get services -A", "kubectl get endpoints",
        "kubectl get endpointslices", "kubectl get pods -o wide", "kubectl describe svc web",
        "kubectl get svc nope", "kubectl get pods -n kube-system",
    ])
    check_golden(f"{scenario}-kubectl.txt", text)


def test_kubectl_columns():
    sh = shell("nodeport")
    out = sh.run("kubectl get svc").stdout.splitlines()
    assert out[0] == "NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)          AGE"
    assert out[1] == "web    NodePort   10.96.0.1    <none>        8080:30080/TCP   5m"
    eps = sh.run("kubectl get endpointslices").stdout.splitlines()
    assert eps[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]


def test_golden_node_network():
    sh = shell()
    check_golden("clusterip-node-a-network.txt",
                 transcript(sh, ["ip addr", "ip route", "hostname", "hostname -I", "ip route get 10.244.2.7"]))
    pod = Shell(sh.sim, "client-b")
    check_golden("clusterip-client-b-network.txt",
                 transcript(pod, ["ip a", "ip r", "cat /etc/resolv.conf", "nslookup web",
                                  "dig +short web.default.svc.cluster.local", "nslookup nope"]))


# ---------------------------------------------------------------------- equivalences

EQUIVALENT = [
    ["iptables -t nat -L KUBE-SERVICES -n", "iptables -nL KUBE-SERVICES -t nat", "iptables -tnat -nL KUBE-SERVICES",
     "iptables --table=nat --list KUBE-SERVICES --numeric", "iptables --table nat -n --list KUBE-SERVICES",
     "sudo iptables -t nat -L KUBE-SERVICES -n"],
    ["iptables -t nat -L -n --line-numbers", "iptables -t nat -nL --line-numbers", "iptables --line-numbers -t nat -nL",
     "iptables -t nat -L -n --line"],
    ["iptables -t nat -S KUBE-SERVICES", "iptables -tnat -S KUBE-SERVICES", "iptables --list-rules KUBE-SERVICES -t nat"],
    ["iptables -t nat -L -n -v", "iptables -nvL -t nat", "iptables -t nat -vnL"],
    ["iptables-save -t nat", "iptables-save --table=nat", "iptables-save -tnat"],
    ["conntrack -L", "conntrack --dump"],
    ["kubectl get svc", "kubectl get services", "kubectl get service", "kubectl get svc -n default"],
    ["kubectl get svc web", "kubectl get svc/web", "kubectl get services web"],
    ["ip addr", "ip a", "ip address show", "ip addr show"],
    ["ip route", "ip r", "ip route show", "ip ro"],
]


@pytest.mark.parametrize("group", EQUIVALENT, ids=lambda g: g[0])
def test_equivalent_commands(group):
    sh = shell()
    first = sh.run(group[0])
    assert first.exit_code == 0, first.stderr
    for line in group[1:]:
        r = sh.run(line)
        assert (r.stdout, r.stderr, r.exit_code) == (first.stdout, first.stderr, first.exit_code), line


def test_listing_options_order_matters_like_iptables():
    # a chain given after another option is not -L's argument: iptables says so
    r = shell().run("iptables -t nat -L -n KUBE-SERVICES")
    assert r.exit_code == 2
    assert r.stderr == "Bad argument `KUBE-SERVICES'\nTry `iptables -h' or 'iptables --help' for more information.\n"


# ---------------------------------------------------------------------- changing rules


def _dnat_rule(sh: Shell) -> str:
    r = sh.run("iptables -t nat -S | grep -- '-j DNAT'")
    assert r.exit_code == 0
    return r.stdout.strip().splitlines()[0]


def test_delete_dnat_rule_breaks_the_service():
    sim = make_sim()
    node = Shell(sim, "node-b")
    pod = Shell(sim, "client-b")
    assert pod.run("curl 10.96.0.1:8080").exit_code == 0
    rule = _dnat_rule(node)
    assert rule.startswith("-A KUBE-SEP-")
    r = node.run("iptables -t nat -D " + rule[3:])
    assert (r.stdout, r.stderr, r.exit_code) == ("", "", 0)
    assert "DNAT" not in node.run("iptables-save -t nat").stdout
    # deleting it again: the kernel has no such rule any more
    again = node.run("iptables -t nat -D " + rule[3:])
    assert again.exit_code == 1
    assert again.stderr == "iptables: Bad rule (does a matching rule exist in that chain?).\n"
    # the next connection is not translated: 10.96.0.1 is no address anyone owns
    r = pod.run("curl --connect-timeout 2 10.96.0.1:8080")
    assert r.exit_code == 28
    assert r.stdout == ""
    assert r.stderr == "curl: (28) Failed to connect to 10.96.0.1 port 8080 after 2002 ms: Timeout was reached\n"
    # nobody owns 10.96.0.1: node-b sends the SYN to its default router, which has no
    # route into the cluster and discards it without an ICMP error
    assert r.trace is not None and r.trace.outcome == "timeout"
    assert [s.kind for s in r.trace.steps if s.host == "router"] == ["link", "drop"]
    r = pod.run("curl 10.96.0.1:8080")
    assert r.exit_code == 28
    assert r.stderr.startswith("curl: (28) Failed to connect to 10.96.0.1 port 8080 after ")
    assert not any(s.kind == "dnat" for s in r.trace.steps)


def test_delete_kube_services_jump_by_number():
    sim = make_sim()
    node = Shell(sim, "node-b")
    pod = Shell(sim, "client-b")
    listing = node.run("iptables -t nat -L KUBE-SERVICES -n --line-numbers").stdout
    assert "1    KUBE-SVC-" in listing
    assert node.run("iptables -t nat -D KUBE-SERVICES 1").exit_code == 0
    assert "KUBE-SVC-" not in node.run("iptables -t nat -L KUBE-SERVICES -n").stdout
    r = pod.run("nc -zv -w 2 10.96.0.1 8080")
    assert r.exit_code == 1
    assert r.stderr == "nc: connect to 10.96.0.1 port 8080 (tcp) timed out: Operation now in progress\n"
    # and a listing by number again is out of range
    r = node.run("iptables -t nat -D KUBE-SERVICES 5")
    assert (r.stderr, r.exit_code) == ("iptables: Index of deletion too big.\n", 1)


def test_append_and_flush_user_chain():
    sh = shell()
    assert sh.run("iptables -t nat -N MY-CHAIN").exit_code == 0
    assert sh.run("iptables -t nat -A MY-CHAIN -s 10.244.0.0/16 -p tcp --dport 80 -j ACCEPT").exit_code == 0
    assert sh.run("iptables -t nat -S MY-CHAIN").stdout == (
        "-N MY-CHAIN\n-A MY-CHAIN -s 10.244.0.0/16 -p tcp -m tcp --dport 80 -j ACCEPT\n")
    r = sh.run("iptables -t nat -N MY-CHAIN")
    assert (r.stderr, r.exit_code) == ("iptables: Chain already exists.\n", 1)
    r = sh.run("iptables -t nat -X MY-CHAIN")
    assert r.exit_code == 4
    assert r.stderr == "iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain MY-CHAIN\n"
    assert sh.run("iptables -t nat -F MY-CHAIN").exit_code == 0
    assert sh.run("iptables -t nat -X MY-CHAIN").exit_code == 0
    assert "MY-CHAIN" not in sh.run("iptables-save").stdout


# ---------------------------------------------------------------------- stale conntrack


def test_scale_down_leaves_stale_conntrack_until_flushed():
    sim = make_sim()
    node = Shell(sim, "node-b")
    pod = Shell(sim, "client-b")
    r = node.run("kubectl scale deployment web --replicas 2")
    assert (r.stdout, r.exit_code) == ("deployment.apps/web scaled\n", 0)
    new_pod = next(p for p in sim.scenario.pods if p.deployment == "web" and p.name != "web-1")
    # connect until the kernel's random pick lands on the new replica
    for _ in range(40):
        r = pod.run("curl 10.96.0.1:8080")
        assert r.exit_code == 0
        if r.trace.endpoint == new_pod.name:
            break
    else:
        pytest.fail("no connection reached the second replica")
    assert f"from {new_pod.name}" in r.stdout
    r = node.run("kubectl scale deployment/web --replicas=1")
    assert r.stdout == "deployment.apps/web scaled\n"
    assert new_pod.ip not in node.run("iptables-save -t nat").stdout  # kube-proxy resynced
    stale = node.run(f"conntrack -L -r {new_pod.ip}")
    assert stale.exit_code == 0 and new_pod.ip in stale.stdout  # the entry outlives the pod
    assert "flow entries have been shown." in stale.stderr and not stale.stderr.startswith(
        "conntrack v1.4.7 (conntrack-tools): 0 ")
    r = node.run("conntrack -F")
    assert r.stderr == "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n"
    r = node.run("conntrack -L")
    assert (r.stdout, r.stderr) == ("", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n")


def test_kubectl_delete_pod_replaces_it():
    sh = shell()
    r = sh.run("kubectl delete pod web-1")
    assert (r.stdout, r.exit_code) == ('pod "web-1" deleted\n', 0)
    pods = sh.run("kubectl get pods").stdout
    assert "web-1 " not in pods and "web-2" in pods
    r = sh.run("kubectl delete pod web-1")
    assert (r.stderr, r.exit_code) == ('Error from server (NotFound): pods "web-1" not found\n', 1)


# ---------------------------------------------------------------------- events and TRACE


def test_conntrack_events_and_trace_lines():
    sh = shell()
    assert sh.run("iptables -t raw -A PREROUTING -p tcp -d 10.96.0.1 -j TRACE").exit_code == 0
    assert sh.run("conntrack -E").exit_code == 0
    r = sh.run("kubectl exec client-a -- curl -s 10.96.0.1:8080")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("saw 10.244.1.7:")
    trace = [ln for ln in lines if ln.startswith(" TRACE: 2 ")]
    assert any(":nat:KUBE-SERVICES:rule:0x" in ln.replace(" nat:", ":nat:") and "JUMP:KUBE-SVC-" in ln for ln in trace)
    assert any("-j DNAT --to-destination 10.244.1.5:8080" in ln for ln in trace)
    events = [ln for ln in lines if ln.lstrip().startswith("[")]
    assert events[0].startswith("    [NEW] tcp      6 120 SYN_SENT src=10.244.1.7 dst=10.96.0.1 ")
    assert "[UNREPLIED] src=10.244.1.5 dst=10.244.1.7 sport=8080" in events[0]
    assert events[-1].startswith(" [UPDATE] tcp      6 120 TIME_WAIT ")
    assert r.stderr.endswith(f"conntrack v1.4.7 (conntrack-tools): {len(events)} flow events have been shown.\n")
    # -E was for one connection only
    r = sh.run("kubectl exec client-a -- curl -s 10.96.0.1:8080")
    assert "[NEW]" not in r.stdout and "flow events" not in r.stderr


# ---------------------------------------------------------------------- errors

ERRORS = [
    ("node-a", "foo", "", "bash: foo: command not found\n", 127),
    ("node-a", "iptables", "", "iptables v1.8.9 (nf_tables): no command specified\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -Q", "", "iptables v1.8.9 (nf_tables): unknown option \"-Q\"\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -L -S", "", "iptables v1.8.9 (nf_tables): Cannot use -S with -L\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -t foo -L", "", "iptables v1.8.9 (nf_tables): table 'foo' does not exist\n"
     "Perhaps iptables or your kernel needs to be upgraded.\n", 3),
    ("node-a", "iptables -t nat -L NOPE", "",
     "iptables v1.8.9 (nf_tables): chain `NOPE' in table `nat' is incompatible, use 'nft' tool.\n", 1),
    ("node-a", "iptables -t nat -A NOPE -j ACCEPT", "", "iptables: No chain/target/match by that name.\n", 1),
    ("node-a", "iptables -t nat -A KUBE-SERVICES -j NOPE", "",
     "iptables v1.8.9 (nf_tables): Chain 'NOPE' does not exist\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -t nat -A KUBE-SERVICES --dport 80 -j ACCEPT", "",
     "iptables v1.8.9 (nf_tables): unknown option \"--dport\"\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -t nat -D KUBE-SERVICES 0", "", "iptables v1.8.9 (nf_tables): Invalid rule number `0'\n"
     "Try `iptables -h' or 'iptables --help' for more information.\n", 2),
    ("node-a", "iptables -t nat -I KUBE-SERVICES 9 -j ACCEPT", "", "iptables: Index of insertion too big.\n", 1),
    ("node-a", "iptables -t nat -P KUBE-SERVICES ACCEPT", "", "iptables: Bad built-in chain name.\n", 1),
    ("node-a", "iptables -t nat -X PREROUTING", "", "iptables: No chain/target/match by that name.\n", 1),
    ("node-a", "iptables-save -t foo", "", "Table `foo' does not exist\n", 1),
    ("client-a", "iptables -t nat -L", "", "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: "
     "Permission denied (you must be root)\n", 4),
    ("client-a", "conntrack -L", "", "conntrack v1.4.7 (conntrack-tools): Operation failed: sorry, you must be root "
     "or get CAP_NET_ADMIN capability to do this\n", 1),
    ("node-a", "conntrack -L -L", "", "conntrack v1.4.7 (conntrack-tools): Invalid commands combination\n"
     "Try `conntrack -h' or 'conntrack --help' for more information.\n", 2),
    ("node-a", "conntrack -L -s 1.2.3.999", "", "conntrack v1.4.7 (conntrack-tools): Invalid IP address `1.2.3.999'\n"
     "Try `conntrack -h' or 'conntrack --help' for more information.\n", 2),
    ("node-a", "conntrack -L -p foo", "", "conntrack v1.4.7 (conntrack-tools): `foo' unsupported protocol\n"
     "Try `conntrack -h' or 'conntrack --help' for more information.\n", 2),
    ("node-a", "conntrack -L --dport 80", "", "conntrack v1.4.7 (conntrack-tools): unknown option `--dport'\n"
     "Try `conntrack -h' or 'conntrack --help' for more information.\n", 2),
    ("node-a", "conntrack -D -p tcp", "", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n", 1),
    ("node-a", "conntrack -C", "0\n", "", 0),
    ("node-a", "kubectl get svc nope", "", 'Error from server (NotFound): services "nope" not found\n', 1),
    ("node-a", "kubectl describe svc nope", "", 'Error from server (NotFound): services "nope" not found\n', 1),
    ("node-a", "kubectl get foo", "", 'error: the server doesn\'t have a resource type "foo"\n', 1),
    ("node-a", "kubectl scale deployment nope --replicas 1", "",
     'Error from server (NotFound): deployments.apps "nope" not found\n', 1),
    ("node-a", "kubectl scale deployment web", "", 'error: required flag(s) "replicas" not set\n', 1),
    ("client-a", "curl", "", "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more "
     "information\n", 2),
    ("client-a", "curl 10.244.1.5:9999", "", "curl: (7) Failed to connect to 10.244.1.5 port 9999 after 0 ms: "
     "Couldn't connect to server\n", 7),
    ("client-a", "curl http://nope:8080", "", "curl: (6) Could not resolve host: nope\n", 6),
    ("client-a", "curl foo://x", "", 'curl: (1) Protocol "foo" not supported or disabled in libcurl\n', 1),
    ("client-a", "nc -zv 10.96.0.1 8080", "", "Connection to 10.96.0.1 8080 port [tcp/http-alt] succeeded!\n", 0),
    ("client-a", "nc -zv 10.244.1.5 9999", "", "nc: connect to 10.244.1.5 port 9999 (tcp) failed: "
     "Connection refused\n", 1),
    ("node-a", "echo 'unterminated", "", "bash: unexpected EOF while looking for matching `''\n", 2),
]


@pytest.mark.parametrize("host,line,out,err,code", ERRORS, ids=[e[1] for e in ERRORS])
def test_error_texts(host, line, out, err, code):
    r = Shell(make_sim(), host).run(line)
    assert (r.stdout, r.stderr, r.exit_code) == (out, err, code)


def test_curl_through_dns_name_and_verbose():
    pod = shell(host="client-a")
    a = pod.run("curl http://web.default.svc.cluster.local:8080/")
    b = pod.run("curl web:8080")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout.startswith("saw 10.244.1.7:") and b.stdout.startswith("saw 10.244.1.7:")
    v = pod.run("curl -v 10.96.0.1:8080")
    assert v.stderr.startswith("*   Trying 10.96.0.1:8080...\n* Connected to 10.96.0.1 (10.96.0.1) port 8080 (#0)\n")
    # the wire's header lines keep their "\r\n"; on a terminal the body comes after the headers
    assert "> GET / HTTP/1.1\r\n" in v.stderr and "< HTTP/1.1 200 OK\r\n" in v.stderr
    assert v.terminal.index("< \r\n") < v.terminal.index("saw ") < v.terminal.index("* Connection #0")


# ---------------------------------------------------------------------- shell mechanics


def test_prompt_history_clear_exit():
    sh = shell()
    assert sh.prompt == "root@node-a:~# "
    assert Shell(sh.sim, "client-a").prompt == "root@client-a:/# "
    sh.run("hostname")
    sh.run("ip r")
    assert sh.history == ["hostname", "ip r"]
    assert sh.run("history").stdout == "    1  hostname\n    2  ip r\n    3  history\n"
    assert sh.run("clear").clear is True
    r = sh.run("exit 3")
    assert r.exit and r.exit_code == 3


def test_pipes_and_lists():
    sh = shell()
    r = sh.run("iptables-save -t nat | grep -c KUBE-SVC")
    assert r.exit_code == 0 and int(r.stdout) >= 2
    assert sh.run("iptables -t nat -L NOPE 2>/dev/null || echo missing").stdout == "missing\n"
    assert sh.run("false && echo no").stdout == ""
    # a stage of only redirections runs nothing: bash prints nothing, exit status 0
    r = sh.run("iptables-save -t nat | 2>/dev/null")
    assert (r.stdout, r.stderr, r.exit_code) == ("", "", 0)


def test_complete():
    sh = shell()
    assert sh.complete("ipt") == ["iptables", "iptables-legacy", "iptables-legacy-save", "iptables-nft",
                                  "iptables-nft-save", "iptables-save"]
    assert "KUBE-SERVICES" in sh.complete("iptables -t nat -L KUBE-S")
    assert all(c.startswith("KUBE-S") for c in sh.complete("iptables -t nat -L KUBE-S"))
    assert sh.complete("iptables -t n") == ["nat"]
    assert sh.complete("kubectl get s") == ["svc"] or "svc" in sh.complete("kubectl get s")
    assert sh.complete("kubectl get svc w") == ["web"]
    assert "web.default.svc.cluster.local" in sh.complete("nslookup w")


def test_unknown_host():
    with pytest.raises(ValueError):
        Shell(make_sim(), "nope")


def test_repl_script():
    sim = make_sim()
    out = io.StringIO()
    code = run_repl(sim, "node-a", io.StringIO("hostname\nfoo\nexit 5\nhostname\n"), out)
    assert code == 5
    assert out.getvalue() == "node-a\nbash: foo: command not found\n"


# ---------------------------------------------------------------------- never a traceback

WORDS = ["iptables", "iptables-save", "conntrack", "kubectl", "curl", "nc", "ip", "hostname", "nslookup", "dig",
         "-t", "nat", "raw", "filter", "-L", "-S", "-A", "-D", "-I", "-F", "-N", "-X", "-E", "-P", "-n", "-v",
         "-x", "--line-numbers", "-nL", "-tnat", "KUBE-SERVICES", "PREROUTING", "KUBE-SVC-X", "-j", "ACCEPT",
         "DNAT", "TRACE", "--to-destination", "10.96.0.1", "10.96.0.1:8080", "-p", "tcp", "udp", "--dport",
         "8080", "-s", "-d", "-m", "comment", "--comment", "1", "0", "-1", "-E", "-C", "-G", "-r", "get", "svc",
         "pods", "describe", "scale", "deployment", "web", "--replicas", "delete", "pod", "web-1", "exec", "--",
         "-o", "yaml", "json", "wide", "-A", "addr", "route", "get", "-zv", "-u", "http://web:8080/", "|",
         "grep", "head", "wc", "-l", ";", "&&", "||", ">", "2>/dev/null", "!", "'", '"', "=", "--table=nat",
         "-w", "history", "clear", "help", "sudo", "x" * 40, "ü", ""]


@pytest.fixture(scope="module")
def fuzz_shells():
    sim = make_sim()
    return [Shell(sim, "node-a"), Shell(sim, "client-b"), Shell(sim, "node-b")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(WORDS), min_size=0, max_size=10))
def test_random_command_lines_never_raise(fuzz_shells, words):
    sh = fuzz_shells[len(words) % len(fuzz_shells)]
    line = " ".join(words)
    r = sh.run(line)
    assert isinstance(r, ShellResult)
    assert isinstance(r.stdout, str) and isinstance(r.stderr, str) and isinstance(r.exit_code, int)
    assert "Traceback" not in r.stderr
    assert "internal error" not in r.stderr, (line, r.stderr)
    assert isinstance(sh.complete(line), list)


# ---------------------------------------------------------------------- recorded from the real tools


REAL = GOLDEN / "real"


def _real_sessions() -> list:
    return [pytest.param(p, id=p.stem) for p in sorted(REAL.glob("*.json"))]


@pytest.mark.parametrize("path", _real_sessions())
def test_real_tools_recording(path):
    """Every line of a session recorded from the real tools in network namespaces
    (``tests/kernel/record_shell.py``) prints the same in the simulated shell, in order:
    stdout, stderr and exit code apart, or the terminal's interleaved text."""
    import json

    from kernel.record_shell import normalise

    doc = json.loads(path.read_text())
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / f"{doc['scenario']}.yaml"), proxy_mode=doc.get("proxyMode"))
    shells: dict[str, Shell] = {}
    diffs = []
    for rec in doc["commands"]:
        sh = shells.setdefault(rec["host"], Shell(sim, rec["host"]))
        r = sh.run(rec["line"])
        if rec["mode"] == "tty":
            got = {"terminal": normalise(r.terminal), "exit": r.exit_code}
        else:
            got = {"stdout": normalise(r.stdout), "stderr": normalise(r.stderr), "exit": r.exit_code}
        want = {k: rec[k] for k in got}
        if got != want:
            diffs.append(f"{rec['host']}$ {rec['line']}\n  real: {want!r}\n  sim:  {got!r}")
    assert not diffs, "\n".join(diffs)


# ---------------------------------------------------------------------- issue 13: what no real tool here can show


def test_kubectl_lists_sorted_and_the_other_resource_types():
    sh = shell()
    pods = sh.run("kubectl get pods").stdout.splitlines()
    assert [ln.split()[0] for ln in pods[1:]] == ["client-a", "client-b", "web-1"]
    assert sh.run("kubectl get events").stderr == "No resources found in default namespace.\n"
    assert sh.run("kubectl get networkpolicy").stderr == "No resources found in default namespace.\n"
    cm = sh.run("kubectl get cm -n kube-system")
    assert cm.stdout.splitlines()[1].split() == ["kube-root-ca.crt", "1", "5m"]
    both = sh.run("kubectl get svc,ep").stdout
    assert "service/web " in both and "\n\nNAME " in both and "endpoints/web   10.244.1.5:8080" in both


def test_kubectl_jsonpath():
    sh = shell()
    assert sh.run("kubectl get svc web -o jsonpath={.spec.clusterIP}").stdout == "10.96.0.1"
    r = sh.run("""kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.status.podIP}{"\\n"}{end}'""")
    assert r.stdout == "client-a\t10.244.1.7\nclient-b\t10.244.2.7\nweb-1\t10.244.1.5\n", r.stderr
    assert sh.run("kubectl get pods -o jsonpath={.items[*].metadata.name}").stdout == "client-a client-b web-1"


def test_kubectl_describe_endpoints_and_logs():
    sh = shell()
    d = sh.run("kubectl describe endpoints web").stdout
    assert "  Addresses:          10.244.1.5\n" in d and "    http  8080  TCP\n" in d
    assert sh.run("kubectl logs web-1").exit_code == 0
    assert sh.run("kubectl logs nope").stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_counters_move_with_each_connection_and_zero():
    sim = make_sim()
    node = Shell(sim, "node-b")
    pod = Shell(sim, "client-b")
    line = "iptables -t nat -L KUBE-SERVICES -n -v -x"
    assert node.run(line).stdout.splitlines()[2].split()[:2] == ["0", "0"]
    for _ in range(3):
        assert pod.run("curl -s 10.96.0.1:8080").exit_code == 0
    assert node.run(line).stdout.splitlines()[2].split()[:2] == ["3", "180"]  # 3 SYNs of 60 bytes
    # nc -z sends no data: SYN, SYN-ACK, ACK, FIN, FIN-ACK, ACK cross node-b's FORWARD chain
    before = node.run("iptables -L FORWARD -n -v -x").stdout.splitlines()[3].split()[0]
    pod.run("nc -z 10.96.0.1 8080")
    after = node.run("iptables -L FORWARD -n -v -x").stdout.splitlines()[3].split()[0]
    assert int(after) - int(before) == 6
    assert node.run("iptables -t nat -Z").exit_code == 0
    assert node.run(line).stdout.splitlines()[2].split()[:2] == ["0", "0"]
    save = node.run("iptables-save -c -t nat").stdout
    assert "[0:0] -A KUBE-SERVICES -d 10.96.0.1/32" in save


def test_redirections_keep_what_they_do_not_redirect():
    sh = shell()
    assert sh.run("iptables -t nat -L 2>/dev/null | wc -l").stdout.strip() != "0"
    r = sh.run("iptables --bogus 2>&1 >/dev/null")
    assert r.output.startswith('iptables v1.8.9 (nf_tables): unknown option "--bogus"')
    assert sh.run("iptables --bogus >/dev/null 2>&1").output == ""


def test_tcpdump_replays_the_last_connection_on_this_host():
    sim = make_sim()
    node = Shell(sim, "node-a")
    idle = node.run("tcpdump -nn")
    assert idle.stdout == "" and idle.stderr.endswith("^C\n0 packets captured\n0 packets received by filter\n"
                                                      "0 packets dropped by kernel\n")
    Shell(sim, "client-b").run("curl -s 10.96.0.1:8080")
    r = node.run("tcpdump -i veth-web-1 -nn -t")
    lines = r.stdout.splitlines()
    # node-a only forwards: web-1 sees the DNATed packets, the reply before conntrack undoes it
    assert lines[0].startswith("IP 10.244.2.7.41001 > 10.244.1.5.8080: Flags [S], seq ")
    assert lines[1].startswith("IP 10.244.1.5.8080 > 10.244.2.7.41001: Flags [S.], ")
    assert len(lines) == 10 and r.terminal.index("listening on veth-web-1") < r.terminal.index("IP 10.244")
    assert node.run("tcpdump -nn udp").stdout == ""
    assert node.run("tcpdump -i eth9").stderr.startswith("tcpdump: eth9: No such device exists")


def test_watch_shows_one_screen_and_host_looks_up_names():
    sh = shell()
    r = sh.run("watch -n 1 conntrack -C")
    title = r.stdout.splitlines()[0]
    assert title.startswith("Every 1.0s: conntrack -C ") and " node-a: " in title and len(title) == 80
    assert r.stdout.splitlines()[1:] == ["", "0"]
    assert sh.run("watch -t conntrack -C").stdout == "0\n"
    assert sh.history[-1] == "watch -t conntrack -C"
    pod = shell(host="client-b")
    assert pod.run("host web").stdout == "web.default.svc.cluster.local has address 10.96.0.1\n"
    assert pod.run("host nope").exit_code == 1


def test_a_node_calling_itself_goes_through_lo():
    sim = ClusterSim(load_scenario(ROOT / "tests" / "kernel" / "fixtures" / "own-address.yaml"))
    sh = Shell(sim, "node-a")
    assert sh.run("nc -z 192.168.0.2 30000").exit_code == 1  # KUBE-NODEPORTS accepts; nothing listens
    lines = sh.run("tcpdump -i any -nn -t").stdout.splitlines()
    assert lines[0].startswith("lo    In  IP 192.168.0.2.41001 > 192.168.0.2.30000: Flags [S], ")
    isn = int(lines[0].split("seq ")[1].split(",")[0])
    assert "mss 65495" in lines[0]  # the loopback's MTU
    assert lines[1].endswith(f"Flags [R.], seq 0, ack {isn + 1}, win 0, length 0")
    counts = sh.run("iptables -L KUBE-NODEPORTS -n -v -x").stdout.splitlines()[2].split()
    assert counts[:3] == ["1", "60", "ACCEPT"]


# ---------------------------------------------------------------------- nft (issue 17)


def test_nft_on_a_pod_and_on_an_iptables_mode_node():
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml"), proxy_mode="nftables")
    r = Shell(sim, "client-a").run("nft list ruleset")
    assert r.exit_code == 1 and "Operation not permitted" in r.stderr and r.stdout == ""
    sh = shell()  # iptables mode: iptables-nft's tables as nft lists them (the recordings: *-iptables-nft.json)
    assert sh.run("nft list tables").stdout == "table ip filter\ntable ip nat\n"
    # the counters are the rules' own, as iptables -L -v counts them
    rule = "\t\tmeta l4proto tcp ip daddr 10.96.0.1  tcp dport 8080 counter packets {} bytes {} jump KUBE-SVC-CDGGSHYLG3RE2FKL\n"
    assert rule.format(0, 0) in sh.run("nft list chain ip nat KUBE-SERVICES").stdout
    assert sh.run("curl -s 10.96.0.1:8080").exit_code == 0
    r = sh.run("nft list chain ip nat KUBE-SERVICES")
    assert rule.format(1, 60) in r.stdout and r.stderr == "# Warning: table ip nat is managed by iptables-nft, do not touch!\n"
    assert "    1    60 KUBE-SVC-CDGGSHYLG3RE2FKL" in sh.run("iptables -t nat -L KUBE-SERVICES -v -n").stdout
    # what was never recorded is declined plainly: the kernel's handles, a rule form kube-proxy never writes
    for line in ("nft -a list ruleset", "nft -a list chain ip nat KUBE-SERVICES"):
        r = sh.run(line)
        assert r.exit_code == 1 and r.stdout == "" and "handles" in r.stderr and "iptables-save" in r.stderr
    assert sh.run("iptables -t nat -I KUBE-SERVICES -i eth1 -j RETURN").exit_code == 0
    r = sh.run("nft list table ip nat")
    assert r.exit_code == 1 and r.stdout == "" and "an interface or protocol match" in r.stderr
    assert sh.run("nft list table ip filter").exit_code == 0  # (the other table is unchanged)
    assert sh.complete("nft list chain ip ") == ["filter", "nat"]
    assert "KUBE-SERVICES" in sh.complete("nft list chain ip nat KUBE-SE")
    assert "iptables mode: nft [-s] list ruleset" in sh.run("help").stdout
    r = Shell(sim, "node-a").run("nft add rule ip kube-proxy services drop")
    assert r.exit_code == 1 and "not modelled" in r.stderr


def test_nft_completion_and_help():
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml"), proxy_mode="nftables")
    sh = Shell(sim, "node-a")
    assert "ruleset" in sh.complete("nft list r")
    assert "services" in sh.complete("nft list chain ip kube-proxy ser")
    assert "service-ips" in sh.complete("nft list map ip kube-proxy ")
    assert "cluster-ips" not in sh.complete("nft list map ip kube-proxy ")
    assert "nft" in sh.run("help").stdout


def test_nft_lists_the_affinity_element_a_connection_added():
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "affinity.yaml"), proxy_mode="nftables")
    name = "affinity-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080"
    node = Shell(sim, "node-a")
    assert "elements" not in node.run(f"nft list set ip kube-proxy {name}").stdout
    assert Shell(sim, "client").run("curl -s http://10.96.0.1:8080/").stdout.endswith("from web-1\n")
    out = node.run(f"nft list set ip kube-proxy {name}").stdout
    # as nft 1.0.6 lists an element the packet path added (format recorded from the real nft:
    # `elements = { 10.244.1.7 expires 2h59m59s960ms, … }`): 3h of affinity minus the connection's time
    assert "\t\ttimeout 3h\n\t\telements = { 10.244.1.9 expires 2h59m59s9" in out
