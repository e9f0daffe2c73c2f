"""Record what the real ``nft`` prints on kube-proxy's nftables rules: the shell's goldens.

    sudo .venv/bin/python -m tests.kernel.record_nft_shell            # every session
    sudo .venv/bin/python -m tests.kernel.record_nft_shell SESSION    # one of SESSIONS

For each session, one network namespace is created (``ip netns add``), kube-proxy's
transaction for the session's node (``generate_nft``) is loaded with ``nft -f -`` into
it (``-iptables-nft`` sessions: the iptables rules, with ``iptables-nft-restore``), and
each command line runs there under ``bash -c`` with stdout and stderr captured
apart.  The result goes to ``tests/golden/shell/real/<session>.json`` (``proxyMode:
nftables``), which ``tests/test_shell.py::test_real_tools_recording`` replays in the
simulated shell of a cluster in nftables mode.  Nothing outside the namespace is touched.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

from kubeflow_tui.kubeproxy.nftables import generate_nft
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "shell" / "real"

LISTINGS = [
    "nft list ruleset",
    "nft -a list ruleset",
    "nft list tables",
    "nft -a list tables",
    "nft list table ip kube-proxy",
    "nft -a list table ip kube-proxy",
    "nft list table kube-proxy",
    "nft list chain ip kube-proxy services",
    "nft -a list chain ip kube-proxy services",
    "nft list chain kube-proxy cluster-ips-check",
    "nft list chain ip kube-proxy nat-prerouting",
    "nft 'list chain ip kube-proxy masquerading'",
    "nft list map ip kube-proxy service-ips",
    "nft -a list map ip kube-proxy service-ips",
    "nft list map ip kube-proxy service-nodeports",
    "nft list set ip kube-proxy cluster-ips",
    "nft list set ip kube-proxy nodeport-ips",
    "nft -a list set ip kube-proxy cluster-ips",
    "nft list chains",
    "nft -a list chains",
    "nft list sets",
    "nft list maps",
    "nft list sets ip",
    "nft list ruleset ip",
    "nft list ruleset inet",
    "nft list tables inet",
    "nft -s list set ip kube-proxy cluster-ips",
    "nft list ruleset | grep -c chain",
    "nft -v",
]
ERRORS = [
    "nft list table ip nosuch",
    "nft list table nosuch",
    "nft list table inet kube-proxy",
    "nft list chain ip kube-proxy nosuch",
    "nft list chain ip nosuch services",
    "nft list set ip kube-proxy nosuch",
    "nft list set ip nosuch cluster-ips",
    "nft list set ip6 kube-proxy cluster-ips",
    "nft list map ip kube-proxy nosuch",
    "nft list map ip kube-proxy cluster-ips",
    "nft list set ip kube-proxy service-ips",
    "nft list chain ip kube-proxy",
    "nft list map ip kube-proxy",
    "nft list table ip",
    "nft list table",
    "nft list",
    "nft list bogus",
    "nft bogus",
    "nft foo bar",
    "nft list ruleset bogus",
    "nft list table ip kube-proxy x",
    "nft list chain ip kube-proxy services extra",
    "nft list ruleset -a",
    "nft",
    "nft -a",
    "nft --bogus",
    "nft list chain ip kube-proxy nosuch >/dev/null 2>&1",
]

#: on a node in iptables mode: what the shell prints exactly there (the rest it declines)
IPTABLES_MODE = [
    "nft list tables",
    "nft -a list tables",
    "nft list tables ip",
    "nft list tables inet",
    "nft list ruleset inet",
    "nft list chains ip6",
    "nft list table ip kube-proxy",
    "nft list map ip kube-proxy service-ips",
    "nft list set ip kube-proxy cluster-ips",
    "nft list chain ip nat NOSUCH",
    "nft list chain ip nosuch KUBE-SERVICES",
    "nft list set ip nat foo",
    "nft list table ip6 nat",
    "nft list table inet filter",
    "nft list chain ip nat",
    # iptables-nft's tables as nft lists them (kube-proxy's iptables rules)
    "nft list ruleset",
    "nft list ruleset ip",
    "nft -s list ruleset",
    "nft list table ip nat",
    "nft list table filter",
    "nft -s list table ip filter",
    "nft list chain ip nat KUBE-SERVICES",
    "nft list chain nat KUBE-SVC-CDGGSHYLG3RE2FKL",
    "nft list chain ip nat KUBE-SEP-AFGSLHOD2HFNCBX4",
    "nft list chain ip nat KUBE-MARK-MASQ",
    "nft list chain ip nat KUBE-POSTROUTING",
    "nft list chain ip nat KUBE-NODEPORTS",
    "nft list chain ip filter KUBE-FORWARD",
    "nft list chain ip filter KUBE-SERVICES",
    "nft list chain ip filter INPUT",
    "nft list chains",
    "nft list chains ip",
    "nft list sets",
    "nft list maps",
    "nft list ruleset | grep -c 'counter packets'",
]
#: other scenarios in iptables mode: the statistic, recent, addrtype, nfacct, REJECT, DROP forms
IPTABLES_MODE_MORE = ["nft list ruleset", "nft list table ip nat"]

SESSIONS = {
    "clusterip-nft": ("clusterip", "node-a", LISTINGS + ERRORS),
    "clusterip-iptables-nft": ("clusterip", "node-a", IPTABLES_MODE),
    "multi-endpoint-iptables-nft": ("multi-endpoint", "node-a", IPTABLES_MODE_MORE),
    "affinity-iptables-nft": ("affinity", "node-a", IPTABLES_MODE_MORE),
    "loadbalancer-iptables-nft": ("loadbalancer", "node-a", IPTABLES_MODE_MORE),
    "source-ranges-iptables-nft": ("source-ranges", "node-a", IPTABLES_MODE_MORE),
    "no-endpoints-iptables-nft": ("no-endpoints", "node-a", IPTABLES_MODE_MORE),
    "local-policy-iptables-nft": ("local-policy", "node-b", IPTABLES_MODE_MORE),
    "affinity-nft": ("affinity", "node-a", ["nft list sets", "nft -a list sets", "nft list chains",
                                            "nft list set ip kube-proxy "
                                            "affinity-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080",
                                            "nft list map ip kube-proxy service-ips",
                                            "nft list chain ip kube-proxy service-SUSTUHLJ-default/web/tcp/http"]),
}


def _run(argv: list[str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30,
                          stdin=None if input is not None else subprocess.DEVNULL)


def record(session: str) -> Path:
    scenario_name, node, lines = SESSIONS[session]
    sc = load_scenario(ROOT / "scenarios" / f"{scenario_name}.yaml")
    ns = f"kt-{secrets.token_hex(3)}-nftsh"
    r = _run(["ip", "netns", "add", ns])
    assert r.returncode == 0, r.stderr
    try:
        if session.endswith("-iptables-nft"):  # kube-proxy in iptables mode, through iptables-nft
            from kubeflow_tui.kubeproxy import ensure_nfacct_counters, generate_restore

            ensure_nfacct_counters(ns)
            r = _run(["ip", "netns", "exec", ns, "iptables-nft-restore"], input=generate_restore(sc, node))
        else:
            r = _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=generate_nft(sc, node))
        assert r.returncode == 0, r.stderr
        commands = []
        for line in lines:
            r = _run(["ip", "netns", "exec", ns, "bash", "-c", line])
            commands.append({"host": node, "line": line, "mode": "pipes", "stdout": r.stdout,
                             "stderr": r.stderr, "exit": r.returncode})
    finally:
        _run(["ip", "netns", "del", ns])
    version = _run(["nft", "-v"]).stdout.strip()
    kernel = _run(["uname", "-r"]).stdout.strip()
    mode = "iptables" if session.endswith("-iptables-nft") else "nftables"
    doc = {"scenario": scenario_name, "proxyMode": mode,
           "recorded_with": {"nft": version, "kernel": kernel}, "commands": commands}
    path = OUT / f"{session}.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path


def main(argv: list[str]) -> int:
    for session in argv or list(SESSIONS):
        print(record(session))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
