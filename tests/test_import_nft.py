"""`kubeflow-tui import FILE --nft-ruleset DUMP --node N`: a node's `nft list ruleset` next to
the table kube-proxy's nftables mode should have written there: rules, set and map elements,
grouped by the Service port they belong to."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeflow_tui.cli import main
from kubeflow_tui.kubeproxy import nft_transaction
from kubeflow_tui.netfilter.nft_list import render_nft_table
from kubeflow_tui.scenario import load_scenario

KIND = Path(__file__).parent / "fixtures" / "import" / "kind-2node.yaml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture()
def listing(tmp_path, capsys) -> str:
    """kube-proxy's table for kind-worker as `nft list ruleset` prints it."""
    out = tmp_path / "kind.yaml"
    assert run(capsys, "import", str(KIND), "-o", str(out), "-q")[0] == 0
    return render_nft_table(nft_transaction(load_scenario(out), "kind-worker").apply())


def test_our_own_table_is_no_difference(tmp_path, capsys, listing):
    dump = tmp_path / "node.nft"
    dump.write_text(listing)
    rc, out, err = run(capsys, "import", str(KIND), "--nft-ruleset", str(dump), "--node", "kind-worker", "-q")
    assert rc == 0, err
    assert out == (f"node kind-worker: {dump} holds exactly the rules kube-proxy writes for the scenario "
                   "(84 rules and set/map elements of table ip kube-proxy compared)\n")


def test_missing_extra_and_changed_rules_and_elements(tmp_path, capsys, listing):
    web = "endpoint-SVLGPL42-default/web/tcp/http__10.244.1.2/8080"
    two = (f"numgen random mod 2 vmap {{ 0 : goto {web}, 1 : goto "
           "endpoint-QYTGA46O-default/web/tcp/http__10.244.1.3/8080 }")
    assert two in listing
    bad = listing.replace(two, f"numgen random mod 1 vmap {{ 0 : goto {web} }}")
    udp = "\t\t\t     10.96.0.10 . udp . 53 : goto service-FY5PMXPG-kube-system/kube-dns/udp/dns,\n"
    assert udp in bad
    bad = bad.replace(udp, "")
    last = "10.96.0.10 . tcp . 9153 : goto service-AS2KJYAD-kube-system/kube-dns/tcp/metrics }"
    bad = bad.replace(last, last[:-2] + ",\n\t\t\t     10.96.0.99 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http }")
    dump = tmp_path / "node.nft"
    dump.write_text(bad)
    rc, out, _ = run(capsys, "import", str(KIND), "--nft-ruleset", str(dump), "--node", "kind-worker", "-q")
    assert rc == 1
    assert out == f"""\
node kind-worker: 3 differences between the rules kube-proxy writes for the scenario and {dump}
  - kube-proxy writes it, the dump lacks it   + only in the dump   ~ changed (want, then have)

default/web:http
  ~ ip kube-proxy chain service-SUSTUHLJ-default/web/tcp/http:
      want {two}
      have numgen random mod 1 vmap {{ 0 : goto {web} }}
  + ip kube-proxy map service-ips: 10.96.0.99 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http

kube-system/kube-dns:dns
  - ip kube-proxy map service-ips: 10.96.0.10 . udp . 53 : goto service-FY5PMXPG-kube-system/kube-dns/udp/dns
"""


def test_a_missing_chain_and_a_changed_priority(tmp_path, capsys, listing):
    start = listing.index("\tchain service-FY5PMXPG-kube-system/kube-dns/udp/dns {")
    end = listing.index("\t}\n", start) + 3
    bad = listing[:start] + listing[end:]
    bad = bad.replace("type nat hook prerouting priority dstnat; policy accept;",
                      "type nat hook prerouting priority dstnat + 1; policy accept;")
    dump = tmp_path / "node.nft"
    dump.write_text(bad)
    rc, out, _ = run(capsys, "import", str(KIND), "--nft-ruleset", str(dump), "--node", "kind-worker", "-q")
    assert rc == 1
    assert "kube-system/kube-dns:dns\n  - ip kube-proxy chain service-FY5PMXPG-kube-system/kube-dns/udp/dns: " \
           "chain service-FY5PMXPG-kube-system/kube-dns/udp/dns\n" in out
    assert ("  ~ ip kube-proxy chain nat-prerouting:\n"
            "      want chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
            "      have chain nat-prerouting { type nat hook prerouting priority dstnat + 1; policy accept; }\n") in out


@pytest.mark.parametrize(("text", "says"), [
    ("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", "node.nft:1:1: this is iptables-save output: compare it "
     "with --iptables-save"),
    ("table ip filter {\n}\n", "node.nft:1:1: no table ip kube-proxy in this listing (tables: ip filter)"),
    ("table ip kube-proxy {\n\tchain x {\n", "node.nft:"),
])
def test_bad_nft_dumps_are_one_line_and_nothing_written(tmp_path, capsys, text, says):
    dump = tmp_path / "node.nft"
    dump.write_text(text)
    out_file = tmp_path / "out.yaml"
    rc, _, err = run(capsys, "import", str(KIND), "--nft-ruleset", str(dump), "--node", "kind-worker",
                     "-o", str(out_file))
    assert rc == 2
    assert f"{tmp_path}/{says}" in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out_file.exists()


def test_one_dump_at_a_time(tmp_path, capsys):
    rc, _, err = run(capsys, "import", str(KIND), "--nft-ruleset", "a", "--iptables-save", "b", "--node", "x")
    assert rc == 2 and "give --iptables-save or --nft-ruleset" in err
    rc, _, err = run(capsys, "import", str(KIND), "--nft-ruleset", "a")
    assert rc == 2 and "--nft-ruleset needs --node NAME" in err


# ----------------------------------------------------------------------------- bad input, end to end


def _fails(capsys, tmp_path, *argv: str) -> str:
    """The command fails with one line (no traceback) and leaves -o as it was."""
    out = tmp_path / "out.yaml"
    out.write_text("keep me\n")
    rc, _, err = run(capsys, *argv, "-o", str(out))
    assert rc == 2, err
    assert out.read_text() == "keep me\n"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip().replace(str(tmp_path) + "/", "")


def test_a_binary_file_is_named_at_its_first_bad_character(tmp_path, capsys):
    (tmp_path / "dump.yaml").write_bytes(b"apiVersion: v1\nkind: List\nitems:\n- \x00\x01")
    err = _fails(capsys, tmp_path, "import", str(tmp_path / "dump.yaml"))
    assert err == ("kubeflow-tui: error: dump.yaml:4:3: not YAML text: character 0x00 is not allowed "
                   "(is it a binary file?)")


def test_a_huge_iptables_dump_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    from kubeflow_tui.importer import read as read_mod

    dump = tmp_path / "node.save"
    dump.write_text("*nat\n" + "# padding\n" * 3000 + "COMMIT\n")
    monkeypatch.setattr(read_mod, "MAX_BYTES", 20_000)
    err = _fails(capsys, tmp_path, "import", str(KIND), "--iptables-save", str(dump), "--node", "kind-worker")
    assert err == ("kubeflow-tui: error: node.save: file is too large: 30,012 bytes (the limit for "
                   "iptables-save output is 20,000 bytes)")


@pytest.mark.parametrize(("text", "says"), [
    ("*nat\n-A FOO -j BAR\n", "node.save:2:1: chain 'FOO' does not exist in table nat"),
    ("table ip kube-proxy {\n}\n", "node.save:1:1: this is `nft list ruleset` output: compare it with "
     "--nft-ruleset"),
])
def test_a_bad_iptables_dump_is_one_line(tmp_path, capsys, text, says):
    dump = tmp_path / "node.save"
    dump.write_text(text)
    err = _fails(capsys, tmp_path, "import", str(KIND), "--iptables-save", str(dump), "--node", "kind-worker")
    assert err.startswith(f"kubeflow-tui: error: {says}"), err


@pytest.mark.parametrize(("text", "says"), [
    ('{"apiVersion": "v1", "kind": "List", "items": [{"kind": "Node", "metadata": {"na',
     "dump.json:1:"),
    ("42\n", "dump.json:1:1: expected a Kubernetes object or a List, not a number"),
    ('[{"kind": "Node"}]', "dump.json:1:1: expected a Kubernetes object or a List (kind: List, items: …), "
     "not a bare sequence"),
    ('{"kind": "Secret", "metadata": {"name": "token"}, "data": {"password": "c2VjcmV0"}}',
     "dump.json: no Node objects in the input"),
])
def test_wrong_kinds_and_truncated_json(tmp_path, capsys, text, says):
    (tmp_path / "dump.json").write_text(text)
    err = _fails(capsys, tmp_path, "import", str(tmp_path / "dump.json"))
    assert err.startswith(f"kubeflow-tui: error: {says}"), err
    assert "c2VjcmV0" not in err and "password" not in err  # another kind's content is never echoed


def test_affinity_set_elements_are_the_nodes_state_not_a_difference(tmp_path, capsys, listing):
    name = "set affinity-SVLGPL42-default/web/tcp/http__10.244.1.2/8080 {"
    assert name in listing
    # as nft lists a client the packet path added (format from the real nft)
    with_client = listing.replace("\t\tflags dynamic,timeout\n\t\ttimeout 1h\n",
                                  "\t\tflags dynamic,timeout\n\t\ttimeout 1h\n"
                                  "\t\telements = { 10.244.0.7 timeout 1h expires 59m58s120ms }\n", 1)
    assert with_client != listing
    dump = tmp_path / "node.nft"
    dump.write_text(with_client)
    rc, out, err = run(capsys, "import", str(KIND), "--nft-ruleset", str(dump), "--node", "kind-worker", "-q")
    assert rc == 0, out + err
