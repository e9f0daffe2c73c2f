"""ping in the simulated shell: what the real-tool recordings (``clusterip-ping*.json``)
cannot show -- a ping without ``-c`` (it runs until Ctrl-C), names, the probes of one ping
sharing one conntrack entry, the trace it leaves, options it does not simulate."""

from __future__ import annotations

from pathlib import Path

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parents[1]


def _shell(host: str, mode: str | None = None) -> Shell:
    return Shell(ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml"), proxy_mode=mode), host)


def test_ping_without_count_runs_until_ctrl_c():
    r = _shell("client-b").run("ping 10.244.1.5")
    lines = r.stdout.splitlines()
    assert [x.split(" time=")[0] for x in lines if x.startswith("64 bytes")] == [
        f"64 bytes from 10.244.1.5: icmp_seq={n} ttl=62" for n in range(1, 5)]
    assert "^C" in lines and lines.index("^C") < lines.index("--- 10.244.1.5 ping statistics ---")
    assert "4 packets transmitted, 4 received, 0% packet loss" in r.stdout
    assert r.exit_code == 0


def test_the_probes_of_one_ping_share_one_conntrack_entry():
    sh = _shell("client-b")
    sh.run("ping -c 3 10.244.1.5")
    node = Shell(sh.sim, "node-b")
    r = node.run("conntrack -L -p icmp")
    assert r.stdout.count("\n") == 1, r.stdout
    assert "src=10.244.2.7 dst=10.244.1.5 type=8 code=0" in r.stdout
    assert "[UNREPLIED]" not in r.stdout
    sh.run("ping -c 1 10.244.1.5")  # a new ping: a new id, a second entry
    assert node.run("conntrack -L -p icmp").stdout.count("\n") == 2


def test_ping_a_service_name_reaches_the_clusterip_that_does_not_answer():
    r = _shell("client-b").run("ping -c 2 web")
    assert r.stdout.startswith("PING web (10.96.0.1) 56(84) bytes of data.\n")
    assert "2 packets transmitted, 0 received, 100% packet loss" in r.stdout
    assert r.exit_code == 1
    # the engine's verdict: discarded by the node network's router, no ICMP error
    assert r.trace is not None and r.trace.ending == "dropped"
    assert r.trace.steps[-2].host == "router"


def test_ping_a_service_in_nftables_mode_gets_the_node_s_reject():
    r = _shell("client-a", "nftables").run("ping -c 1 web")
    assert "From 10.244.1.1 icmp_seq=1 Destination Port Unreachable" in r.stdout
    assert "+1 errors" in r.stdout and r.exit_code == 1
    chains = [s.chain for s in r.trace.steps if s.host == "node-a" and s.chain]
    assert "cluster-ips-check" in chains


def test_ping_unknown_name_and_unsupported_options():
    sh = _shell("client-b")
    r = sh.run("ping -c 1 nope")
    assert (r.stderr, r.exit_code) == ("ping: nope: Name or service not known\n", 2)
    r = sh.run("ping -f 10.244.1.5")
    assert r.exit_code == 2 and "ping -f is not simulated" in r.stderr and not r.stdout
    r = sh.run("ping -V")
    assert r.stdout.startswith("ping from iputils 20221126\n")


def test_ping_is_in_help():
    assert "ping" in _shell("node-a").run("help").stdout


def test_traceroute_shows_the_nodes_then_stars_for_a_clusterip():
    sh = _shell("client-b")
    r = sh.run("traceroute -n -q 1 -m 3 10.96.0.1")
    assert r.stdout.splitlines()[1:] == [" 1  10.244.2.1  " + r.stdout.splitlines()[1].split("  ")[2],
                                         " 2  *", " 3  *"]
    # the probe whose TTL ran out on node-b was never confirmed there: only the later ones are
    lines = Shell(sh.sim, "node-b").run("conntrack -L -p udp -d 10.96.0.1").stdout.splitlines()
    assert sorted(int(x.split("dport=")[1].split()[0]) for x in lines) == [33435, 33436]


def test_traceroute_without_n_prints_names_and_three_probes():
    r = _shell("client-b").run("traceroute -m 4 web")
    first = r.stdout.splitlines()[0]
    assert first == "traceroute to web (10.96.0.1), 4 hops max, 60 byte packets"
    hop1 = r.stdout.splitlines()[1]
    assert hop1.startswith(" 1  10.244.2.1 (10.244.2.1)  ") and hop1.count(" ms") == 3
    assert r.stdout.splitlines()[2] == " 2  * * *"
    r = _shell("client-b").run("traceroute -I 10.244.1.5")
    assert r.exit_code == 2 and "traceroute -I is not simulated" in r.stderr
