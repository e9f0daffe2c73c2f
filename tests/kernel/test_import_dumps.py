"""The dumps `import --nft-ruleset` and `open-dump --conntrack` read, as the real tools print
them in a network namespace: `nft list ruleset` after kube-proxy's transaction went in with
`nft -f`, and `conntrack -L` after entries went in with `conntrack -I`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kubeflow_tui.cli import main
from kubeflow_tui.importer.opendump import parse_conntrack
from kubeflow_tui.kubeproxy import generate_nft
from kubeflow_tui.scenario import load_scenario

from .netns import scratch_netns

pytestmark = pytest.mark.kernel

KIND = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "kind-2node.yaml"


def _run(*argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30,
                          stdin=None if input is not None else subprocess.DEVNULL)


@pytest.fixture
def ns():
    with scratch_netns("imp", "nft", "conntrack") as name:
        yield name


def test_nft_diff_of_the_real_listing(ns, tmp_path, capsys):
    scenario_file = tmp_path / "kind.yaml"
    assert main(["import", str(KIND), "-o", str(scenario_file), "-q"]) == 0
    s = load_scenario(scenario_file)
    r = _run("ip", "netns", "exec", ns, "nft", "-f", "-", input=generate_nft(s, "kind-worker"))
    assert r.returncode == 0, r.stderr
    listing = tmp_path / "node.nft"
    listing.write_text(_run("ip", "netns", "exec", ns, "nft", "list", "ruleset").stdout)
    capsys.readouterr()
    rc = main(["import", str(KIND), "--nft-ruleset", str(listing), "--node", "kind-worker", "-q"])
    out, _ = capsys.readouterr()
    assert rc == 0, out
    assert out.startswith(f"node kind-worker: {listing} holds exactly the rules kube-proxy writes")

    # the node lost kube-dns's UDP port in service-ips (a kube-proxy that never synced it)
    r = _run("ip", "netns", "exec", ns, "nft", "delete", "element", "ip", "kube-proxy", "service-ips",
             "{ 10.96.0.10 . udp . 53 }")
    assert r.returncode == 0, r.stderr
    listing.write_text(_run("ip", "netns", "exec", ns, "nft", "-a", "list", "ruleset").stdout)
    rc = main(["import", str(KIND), "--nft-ruleset", str(listing), "--node", "kind-worker", "-q"])
    out, _ = capsys.readouterr()
    assert rc == 1
    assert ("kube-system/kube-dns:dns\n  - ip kube-proxy map service-ips: 10.96.0.10 . udp . 53 : "
            "goto service-FY5PMXPG-kube-system/kube-dns/udp/dns\n") in out
    assert out.startswith("node kind-worker: 1 difference ")


def test_conntrack_l_reads_back_line_for_line(ns):
    for args in (
        ["-p", "tcp", "-s", "10.244.1.2", "-d", "10.96.0.10", "--sport", "40000", "--dport", "80",
         "-r", "10.244.2.5", "-q", "10.244.1.2", "--reply-port-src", "8080", "--reply-port-dst", "40000",
         "--state", "ESTABLISHED", "-t", "300", "-u", "SEEN_REPLY,ASSURED"],
        ["-p", "udp", "-s", "10.244.1.2", "-d", "10.96.0.10", "--sport", "40001", "--dport", "53",
         "-r", "10.244.2.6", "-q", "10.244.1.2", "--reply-port-src", "53", "--reply-port-dst", "40001",
         "-t", "30"],
        ["-p", "tcp", "-s", "192.168.1.2", "-d", "192.168.1.10", "--sport", "48900", "--dport", "30080",
         "-r", "10.244.1.5", "-q", "10.244.1.1", "--reply-port-src", "8080", "--reply-port-dst", "58336",
         "--state", "TIME_WAIT", "-t", "120", "-u", "SEEN_REPLY,ASSURED"],
    ):
        r = _run("ip", "netns", "exec", ns, "conntrack", "-I", *args)
        assert r.returncode == 0, r.stderr
    listed = _run("ip", "netns", "exec", ns, "conntrack", "-L")
    assert listed.returncode == 0, listed.stderr
    entries, notes = parse_conntrack(listed.stderr + listed.stdout, "ct")
    assert notes == []
    assert len(entries) == 3
    # the entries read print back exactly what the tool printed
    assert [e.line() for e in entries] == listed.stdout.splitlines()
    assert {e.state for e in entries} == {"ESTABLISHED", "TIME_WAIT", ""}
