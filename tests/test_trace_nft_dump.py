"""``kubeflow-tui trace --nft-ruleset DUMP``: one packet through a node's ``nft list ruleset``.

Dumps: ``rules --proxy-mode nftables`` of a shipped scenario (our rendering, which the
kernel referee lists back byte for byte), the real kernel's ``nft -a list ruleset``
recorded in ``tests/golden/shell/real/clusterip-nft.json`` (real handles), and mutations
of them.  Golden text: ``tests/golden/trace/`` (regenerate with ``KFT_UPDATE_GOLDEN=1``).
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from kubeflow_tui import cli
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.cluster.dump import NftDumpError, trace_nft_dump
from kubeflow_tui.kubeproxy.nftables import nft_list_ruleset
from kubeflow_tui.netfilter.nft_parse import NftParseError
from kubeflow_tui.render_trace import render_trace_text
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "trace"
UPDATE = os.environ.get("KFT_UPDATE_GOLDEN", "") not in ("", "0")


def _dump(name: str = "clusterip", node: str = "node-a") -> str:
    return nft_list_ruleset(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), node)


def _real_dump() -> str:
    doc = json.loads((ROOT / "tests" / "golden" / "shell" / "real" / "clusterip-nft.json").read_text())
    return next(c["stdout"] for c in doc["commands"] if c["line"] == "nft -a list ruleset")


def _nft_steps(trace):
    return [s for s in trace.steps if s.table == "ip kube-proxy"]


def test_clusterip_through_the_dump_dnats_like_the_simulated_node():
    trace = trace_nft_dump(_dump(), "10.244.1.7", "10.96.0.1", 8080)
    assert trace.outcome == "delivered"
    assert trace.meta["final"] == "tcp 10.244.1.7:40000 -> 10.244.1.5:8080 [SYN]"
    steps = _nft_steps(trace)
    hit = next(s for s in steps if s.chain == "services" and s.target)
    assert "@service-ips" in hit.rule and hit.target == "service-SUSTUHLJ-default/web/tcp/http"
    dnat = next(s for s in steps if s.target == "DNAT")
    assert dnat.chain == "endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080"
    # the same chains, in the same order, as the cluster simulator's node in nftables mode
    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "clusterip.yaml"), proxy_mode="nftables")
    flow = sim.run_flow("pod-other-node")
    ours = [(s.hook, s.chain) for s in _nft_steps(trace)]
    theirs = [(s.hook, s.chain) for s in flow.steps if s.table == "ip kube-proxy" and s.host == "node-b"
              and s.packet_no == 0]
    assert ours == theirs


def test_the_kernels_own_listing_with_handles():
    trace = trace_nft_dump(_real_dump(), "10.244.1.7", "10.96.0.1", 8080, source="real")
    dnat = next(s for s in _nft_steps(trace) if s.target == "DNAT")
    assert "(handle 61)" in dnat.why  # the handle the kernel gave the rule (nft -a)
    services = next(s for s in _nft_steps(trace) if s.chain == "services" and s.target)
    assert "(handle 53)" in services.why


def test_a_wrong_port_of_a_clusterip_is_rejected_by_cluster_ips_check():
    trace = trace_nft_dump(_dump(), "10.244.1.7", "10.96.0.1", 80)
    assert trace.outcome == "refused"
    last = _nft_steps(trace)[-1]
    assert last.chain == "cluster-ips-check" and last.rule.startswith("ip daddr @cluster-ips reject")


def test_an_unallocated_clusterip_is_dropped():
    trace = trace_nft_dump(_dump(), "10.244.1.7", "10.96.0.99", 8080)
    assert trace.outcome == "dropped"
    last = _nft_steps(trace)[-1]
    assert last.chain == "cluster-ips-check" and "drop" in last.rule


def test_a_mutated_dump():
    text = _dump()
    # kube-proxy forgot the Service: its service-ips element is gone; 8080 is now a wrong port
    gone = text.replace("\t\telements = { 10.96.0.1 . tcp . 8080 : goto service-SUSTUHLJ-default/web/tcp/http }\n", "")
    assert gone != text
    trace = trace_nft_dump(gone, "10.244.1.7", "10.96.0.1", 8080)
    assert trace.outcome == "refused" and _nft_steps(trace)[-1].chain == "cluster-ips-check"
    # someone edited the endpoint's DNAT
    moved = text.replace("dnat to 10.244.1.5:8080", "dnat to 10.244.2.9:9090")
    trace = trace_nft_dump(moved, "10.244.1.7", "10.96.0.1", 8080)
    assert trace.meta["final"] == "tcp 10.244.1.7:40000 -> 10.244.2.9:9090 [SYN]"
    # an extra table is listed but not walked
    trace = trace_nft_dump("table ip filter {\n}\n" + text, "10.244.1.7", "10.96.0.1", 8080)
    assert trace.meta["ignored_tables"] == "ip filter" and trace.outcome == "delivered"


@pytest.mark.parametrize("edit, where, what", [
    (("policy accept;", "policy maybe;"), "dump:42:3:", "expected 'type T hook H priority P; policy accept;'"),
    (("goto endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080 }", "goto endpoint-NOSUCH }"),
     "dump:128:39:", "goto: no chain 'endpoint-NOSUCH'"),
    (("vmap @service-ips", "vmap @service-ipz"), "dump:97:43:", "no set or map @service-ipz"),
    (("table ip kube-proxy {", "table ip kube-proxy"), "dump:1:1:", "expected 'table FAMILY NAME {'"),
])
def test_bad_input_names_file_line_and_column(edit, where, what):
    text = _dump().replace(*edit)
    with pytest.raises((NftParseError, NftDumpError)) as e:
        trace_nft_dump(text, "10.244.1.7", "10.96.0.1", 8080, source="dump")
    assert str(e.value).startswith(where) and what in str(e.value), str(e.value)


def test_no_kube_proxy_table():
    with pytest.raises(NftDumpError, match=r"^x:1:1: no table ip kube-proxy in this listing \(tables: ip nat\)"):
        trace_nft_dump("table ip nat {\n}\n", "10.244.1.7", "10.96.0.1", 8080, source="x")


def test_cli_golden_and_errors(capsys, monkeypatch, tmp_path):
    dump = tmp_path / "node-a.nft"
    dump.write_text(_dump())
    assert cli.main(["trace", "--nft-ruleset", str(dump), "--src", "10.244.1.7", "--dst", "10.96.0.1:8080",
                     "--json"]) == 0
    trace_json = json.loads(capsys.readouterr().out)
    assert trace_json["outcome"] == "delivered"
    text = render_trace_text(trace_nft_dump(_dump(), "10.244.1.7", "10.96.0.1", 8080, source="node-a.nft"))
    golden = GOLDEN / "nft-dump-clusterip.txt"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
    # stdin, the wrong port
    monkeypatch.setattr(sys, "stdin", io.StringIO(_dump()))
    assert cli.main(["trace", "--nft-ruleset", "-", "--src", "10.244.1.7", "--dst", "10.96.0.1:80", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "refused"
    # errors: one line, file:line:col
    monkeypatch.setattr(sys, "stdin", io.StringIO(_dump().replace("policy accept;", "policy maybe;")))
    assert cli.main(["trace", "--nft-ruleset", "-", "--src", "10.244.1.7", "--dst", "10.96.0.1:80"]) == 2
    assert "kubeflow-tui: error: <stdin>:42:3: expected" in capsys.readouterr().err
    assert cli.main(["trace", "--nft-ruleset", str(tmp_path / "nope"), "--src", "1.2.3.4", "--dst", "10.96.0.1:80"]) == 2
    assert "cannot read it" in capsys.readouterr().err
    assert cli.main(["trace", "--nft-ruleset", str(dump), "--src", "10.244.1.7"]) == 2
    assert "needs --src IP and --dst IP:PORT" in capsys.readouterr().err
    assert cli.main(["trace", "clusterip", "f", "--nft-ruleset", str(dump)]) == 2
    assert "not both" in capsys.readouterr().err
    assert cli.main(["trace", "--nft-ruleset", str(dump), "--iptables-save", str(dump), "--src", "1.2.3.4",
                     "--dst", "10.96.0.1:80"]) == 2
    assert "not both" in capsys.readouterr().err


def test_handles_are_said_to_be_counted_without_nft_a():
    assert "handles" in trace_nft_dump(_dump(), "10.244.1.7", "10.96.0.1", 8080).meta
    assert "handles" not in trace_nft_dump(_real_dump(), "10.244.1.7", "10.96.0.1", 8080).meta


def _every_node() -> list:
    out = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        for node in load_scenario(path).cluster.nodes:
            out.append(pytest.param(path, node.name, id=f"{path.stem}/{node.name}"))
    return out


@pytest.mark.parametrize("path, node", _every_node())
def test_every_shipped_listing_loads_with_and_without_handles(path, node):
    from kubeflow_tui.cluster.dump import load_nft_dump
    from kubeflow_tui.kubeproxy.nftables import nft_transaction
    from kubeflow_tui.netfilter.nft_list import render_nft_ruleset

    table = nft_transaction(load_scenario(path), node).apply()
    for handles in (False, True):
        loaded, _, others = load_nft_dump(render_nft_ruleset([table], handles), f"{path.stem}/{node}")
        assert not others and set(loaded.chains) == set(table.chains)


def test_a_listed_affinity_element_keeps_its_client_on_its_endpoint():
    from kubeflow_tui.shell import Shell

    sim = ClusterSim(load_scenario(ROOT / "scenarios" / "affinity.yaml"), proxy_mode="nftables")
    Shell(sim, "client").run("curl -s http://10.96.0.1:8080/")
    dump = Shell(sim, "node-a").run("nft -a list ruleset").stdout
    assert " expires 2h59m59s9" in dump
    finals = {trace_nft_dump(dump, "10.244.1.9", "10.96.0.1", 8080, seed=k).meta["final"] for k in range(1, 7)}
    assert finals == {"tcp 10.244.1.9:40000 -> 10.244.1.5:8080 [SYN]"}
    others = {trace_nft_dump(dump, "10.244.1.77", "10.96.0.1", 8080, seed=k).meta["final"] for k in range(1, 7)}
    assert len(others) == 2  # a client without an element is spread over both endpoints
