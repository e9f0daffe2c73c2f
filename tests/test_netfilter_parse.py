"""Parsing iptables text: normalisation as the kernel stores it, and errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeflow_tui.netfilter import (
    IptablesError,
    Match,
    Option,
    Rule,
    Ruleset,
    parse_iptables_save,
    parse_rule_args,
    render_rule,
)
from kubeflow_tui.netfilter.spec import _tokenize_chars, tokenize

FIXTURES = Path(__file__).parent / "fixtures" / "netfilter"


def _load_kube_dump():
    spec = importlib.util.spec_from_file_location("kt_kube_dump", FIXTURES / "kube_dump.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def one(spec: str, table: str = "filter", chain: str = "X") -> str:
    """Parse one rule spec in a restore file and give back its iptables-save line."""
    decl = ":X - [0:0]\n:Y - [0:0]\n:KUBE-SVC-X - [0:0]\n"
    rs = parse_iptables_save(f"*{table}\n{decl}-A {chain} {spec}\nCOMMIT\n", "t.rules")
    return render_rule(rs.tables[table].chains[chain].rules[0])


def err(text: str) -> str:
    with pytest.raises(IptablesError) as e:
        parse_iptables_save(text, "t.rules")
    return str(e.value)


# --- normalisation (each expectation was read from iptables-save on the kernel) -------

@pytest.mark.parametrize("spec,saved", [
    ('-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.20.30.41 --dport 80'
     " -j KUBE-SVC-X",
     '-A X -d 10.20.30.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp'
     " --dport 80 -j KUBE-SVC-X"),
    ("-p tcp --dport 80 -m comment --comment x -j ACCEPT",
     "-A X -p tcp -m tcp --dport 80 -m comment --comment x -j ACCEPT"),
    ("-p tcp -m comment --comment x --dport 80 -j ACCEPT",
     "-A X -p tcp -m comment --comment x -m tcp --dport 80 -j ACCEPT"),
    ("-s 10.1.2.3/8 -d 192.168.1.7/255.255.0.0 -j DROP",
     "-A X -s 10.0.0.0/8 -d 192.168.0.0/16 -j DROP"),
    ("-s 10.1.2.3/0 -j DROP", "-A X -j DROP"),
    ("-s 10.0.0.0/255.0.255.0 -j DROP", "-A X -s 10.0.0.0/255.0.255.0 -j DROP"),
    ("-m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j Y",
     '-A X -s 10.180.0.1/32 -m comment --comment "ns1/svc1:p80" -j Y'),
    ("-m comment --comment abc_DEF-1 -j Y", "-A X -m comment --comment abc_DEF-1 -j Y"),
    ('-m comment --comment "a \\"b\\" \\\\ c\'" -j Y',
     '-A X -m comment --comment "a \\"b\\" \\\\ c\\\'" -j Y'),
    ('-m comment --comment "" -j Y', '-A X -m comment --comment "" -j Y'),
    ("-j MARK --or-mark 0x4000", "-A X -j MARK --set-xmark 0x4000/0x4000"),
    ("-j MARK --or-mark 16384", "-A X -j MARK --set-xmark 0x4000/0x4000"),
    ("-j MARK --xor-mark 0x4000", "-A X -j MARK --set-xmark 0x4000/0x0"),
    ("-j MARK --and-mark 0xffffbfff", "-A X -j MARK --set-xmark 0x0/0x4000"),
    ("-j MARK --set-mark 0x4000", "-A X -j MARK --set-xmark 0x4000/0xffffffff"),
    ("-j MARK --set-mark 5/0xff", "-A X -j MARK --set-xmark 0x5/0xff"),
    ("-m mark ! --mark 0x4000/0x4000 -j RETURN", "-A X -m mark ! --mark 0x4000/0x4000 -j RETURN"),
    ("-m mark --mark 16384/0xffffffff -j RETURN", "-A X -m mark --mark 0x4000 -j RETURN"),
    ("-j REJECT", "-A X -j REJECT --reject-with icmp-port-unreachable"),
    ("-j REJECT --reject-with host-unreach", "-A X -j REJECT --reject-with icmp-host-unreachable"),
    ("-m statistic --mode random --probability 0.3333333333 -j Y",
     "-A X -m statistic --mode random --probability 0.33333333349 -j Y"),
    ("-m statistic --mode random --probability 0.5000000000 -j Y",
     "-A X -m statistic --mode random --probability 0.50000000000 -j Y"),
    ("-m statistic --mode random ! --probability 0.1 -j Y",
     "-A X -m statistic --mode random ! --probability 0.10000000009 -j Y"),
    ("-m statistic --mode nth --every 3 --packet 1 -j Y",
     "-A X -m statistic --mode nth --every 3 --packet 1 -j Y"),
    ("-p udp ! --sport 53 --dport 1000:2000 -j DROP",
     "-A X -p udp -m udp ! --sport 53 --dport 1000:2000 -j DROP"),
    ("-p tcp --dport 1000: -j DROP", "-A X -p tcp -m tcp --dport 1000:65535 -j DROP"),
    ("-p tcp --dport 0:65535 -j DROP", "-A X -p tcp -m tcp -j DROP"),
    ("-p tcp --dport http -j DROP", "-A X -p tcp -m tcp --dport 80 -j DROP"),
    ("-p tcp --syn -j DROP", "-A X -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP"),
    ("-p 6 -j ACCEPT", "-A X -p tcp -j ACCEPT"),
    ("-p all -j ACCEPT", "-A X -j ACCEPT"),
    ("-p icmp --icmp-type echo-request -j ACCEPT",
     "-A X -p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ("-m conntrack --ctstate ESTABLISHED,RELATED,NEW -j ACCEPT",
     "-A X -m conntrack --ctstate NEW,RELATED,ESTABLISHED -j ACCEPT"),
    ("-m addrtype --dst-type UNICAST,LOCAL -j Y", "-A X -m addrtype --dst-type UNICAST,LOCAL -j Y"),
    ("-m recent --name KUBE-SEP-X --mask 255.255.255.255 --rsource --rcheck --seconds 10800"
     " --reap -j Y",
     "-A X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255"
     " --rsource -j Y"),
    ("-m recent --set -j Y",
     "-A X -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource -j Y"),
    ("-j LOG --log-prefix abc --log-level 4", "-A X -j LOG --log-prefix abc"),
    ("-j LOG --log-level debug --log-uid", "-A X -j LOG --log-level 7 --log-uid"),
    ("--source 1.2.3.4 --protocol udp --jump ACCEPT", "-A X -s 1.2.3.4/32 -p udp -j ACCEPT"),
    ("-j ACCEPT -p tcp", "-A X -p tcp -j ACCEPT"),
    ("-g Y", "-A X -g Y"),
])
def test_normalised_like_the_kernel(spec, saved):
    assert one(spec) == saved


@pytest.mark.parametrize("spec,saved", [
    ("-p tcp -j DNAT --to-destination 10.180.0.1:80",
     "-A X -p tcp -j DNAT --to-destination 10.180.0.1:80"),
    ("-j MASQUERADE --random-fully", "-A X -j MASQUERADE --random-fully"),
    ("-p tcp -j MASQUERADE --to-ports 1000-2000 --random",
     "-A X -p tcp -j MASQUERADE --to-ports 1000-2000 --random"),
])
def test_nat_targets(spec, saved):
    assert one(spec, "nat") == saved


def test_rule_model_fields():
    rs = parse_iptables_save(
        "*nat\n:KUBE-SVC-X - [0:0]\n:KUBE-SEP-Y - [0:0]\n"
        '-A KUBE-SVC-X -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic'
        " --mode random --probability 0.3333333333 -j KUBE-SEP-Y\n"
        "-A KUBE-SEP-Y ! -s 10.0.0.0/8 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80\n"
        "COMMIT\n")
    svc = rs.tables["nat"].chains["KUBE-SVC-X"].rules[0]
    assert svc.comment == "ns1/svc1:p80 -> 10.180.0.1:80"
    assert svc.match("statistic").get("--probability") == Option("--probability",
                                                                   ("0.33333333349",))
    assert svc.target == "KUBE-SEP-Y" and svc.line == 4 and not svc.goto
    sep = rs.tables["nat"].chains["KUBE-SEP-Y"].rules[0]
    assert (sep.src, sep.src_neg, sep.proto) == ("10.0.0.0/8", True, "tcp")
    assert sep.matches == (Match("tcp", ()),)
    assert sep.target_option("--to-destination").value == "10.180.0.1:80"
    assert isinstance(sep, Rule) and hash(sep) == hash(sep)
    # built-in chains of a mentioned table exist with their policies
    assert list(rs.tables["nat"].chains)[:4] == ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]


def test_save_output_parses_back_the_same():
    text = (FIXTURES / "kube-proxy-basic.save.kernel").read_text()
    rs = parse_iptables_save(text)
    from kubeflow_tui.netfilter import render_save
    assert render_save(rs, header=False) == text


def test_counters_policies_and_commands():
    rs = parse_iptables_save(
        "# comment\n\n*filter\n:INPUT DROP [7:800]\n:A - [0:0]\n:B - [0:0]\n"
        "[3:120] -A INPUT -j A\n-A A -j ACCEPT\n-F A\n-X B\n-N C\n-P FORWARD DROP\n"
        "-I INPUT -j C\n-I INPUT 2 -s 10.0.0.1 -j ACCEPT\n-A C -c 5 6 -j RETURN\nCOMMIT\n")
    t = rs.tables["filter"]
    assert (t.chains["INPUT"].policy, t.chains["INPUT"].packets, t.chains["INPUT"].bytes) == (
        "DROP", 7, 800)
    assert t.chains["FORWARD"].policy == "DROP"
    assert [r.target for r in t.chains["INPUT"].rules] == ["C", "ACCEPT", "A"]
    assert (t.chains["INPUT"].rules[2].packets, t.chains["INPUT"].rules[2].bytes) == (3, 120)
    assert (t.chains["C"].rules[0].packets, t.chains["C"].rules[0].bytes) == (5, 6)
    assert t.chains["A"].rules == [] and "B" not in t.chains


def test_redeclaring_a_chain_flushes_it_and_sections_replace_tables():
    # the kernel (nf_tables) accepts both
    rs = parse_iptables_save("*filter\n:A - [0:0]\n-A A -j ACCEPT\n:A - [0:0]\n-A A -j DROP\n"
                             "COMMIT\n*filter\n:B - [0:0]\nCOMMIT\n")
    assert list(rs.tables["filter"].chains) == ["INPUT", "FORWARD", "OUTPUT", "B"]
    rs = parse_iptables_save("*filter\n:A - [0:0]\n-A A -j ACCEPT\n:A - [0:0]\n-A A -j DROP\n"
                             "COMMIT\n")
    assert [r.target for r in rs.tables["filter"].chains["A"].rules] == ["DROP"]
    # a table section with nothing in it leaves no table (iptables-save prints none)
    assert parse_iptables_save("*mangle\nCOMMIT\n").tables == {}


def test_unloaded_loops_are_accepted():
    # nf_tables only refuses loops reachable from a built-in chain
    parse_iptables_save("*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\nCOMMIT\n")


@pytest.mark.parametrize("text", [
    # a loop, then B declared again (flushed): no loop is left when the table commits
    "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n:B - [0:0]\n-A INPUT -j A\n"
    "COMMIT\n",
    # the same with -F B, and with -F (every chain) before the jumps are added again
    "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n-F B\n-A INPUT -j A\nCOMMIT\n",
    "*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n-F\n-A INPUT -j A\n-A A -j B\n"
    "COMMIT\n",
    # MASQUERADE in X, reached from PREROUTING until X is flushed
    "*nat\n:X - [0:0]\n-A PREROUTING -j X\n-A X -j MASQUERADE\n-F X\nCOMMIT\n",
    # a chain deleted (after a flush) takes its jumps with it
    "*filter\n:A - [0:0]\n:B - [0:0]\n-A B -j A\n-A A -j B\n-F A\n-F B\n-X B\n"
    "-A INPUT -j A\nCOMMIT\n",
])
def test_commit_checks_the_table_as_it_ends_up(text):
    # the parser collects the jump graph while reading; flushes must not leave stale jumps
    parse_iptables_save(text)


@pytest.mark.parametrize("text,expected", [
    ("*filter\n:A - [0:0]\n:B - [0:0]\n-A A -j B\n:B - [0:0]\n-I B -j A\n-A INPUT -j A\n"
     "COMMIT\n", "t.rules:6: chain loop A -> B -> A"),
    ("*nat\n:X - [0:0]\n:Y - [0:0]\n-A Y -j MASQUERADE\n-A X -j DNAT --to-destination 1.2.3.4"
     "\n-A PREROUTING -j X\n-I PREROUTING 1 -j Y\nCOMMIT\n",
     "t.rules:4: target MASQUERADE is not allowed in the PREROUTING hook (chain Y"),
])
def test_commit_errors_after_inserts(text, expected):
    with pytest.raises(IptablesError) as e:
        parse_iptables_save(text, "t.rules")
    assert str(e.value).startswith(expected)


# --- tokenizer --------------------------------------------------------------------

@pytest.mark.parametrize("line,words", [
    ('-A X -m comment --comment "a b" -j Y', ["-A", "X", "-m", "comment", "--comment", "a b",
                                               "-j", "Y"]),
    ('a"b c"d', ["ab c", "d"]),
    ('x ""', ["x", ""]),
    ("a 'b c'", ["a", "'b", "c'"]),
    ('x "a \\"q\\" \\\\"', ["x", 'a "q" \\']),
    ('x "unclosed rest', ["x", "unclosed rest"]),
    ("a\tb  c", ["a", "b", "c"]),
])
def test_tokenize_like_iptables_restore(line, words):
    assert tokenize(line) == words
    assert _tokenize_chars(line) == words


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=' a"\\\t-', max_size=30))
def test_tokenize_fast_path_agrees(line):
    assert tokenize(line) == _tokenize_chars(line)


# --- errors -----------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("*filter\n:X - [0:0]\n-A X -m foo -j ACCEPT\nCOMMIT\n",
     't.rules:3: unsupported match "-m foo" in rule "-A X -m foo -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -j FOO\nCOMMIT\n",
     't.rules:3: unknown chain or target "FOO" in rule "-A X -j FOO"'),
    ("*nat\n:KUBE-SVC-A - [0:0]\nCOMMIT\n*filter\n-A INPUT -j KUBE-SVC-A\nCOMMIT\n",
     't.rules:5: unknown chain or target "KUBE-SVC-A" (a chain of table nat: a rule can only'
     ' jump to chains of its own table, filter) in rule "-A INPUT -j KUBE-SVC-A"'),
    ("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n",
     't.rules:2: chain \'NOPE\' does not exist in table filter (rule "-A NOPE -j ACCEPT")'),
    ("*filter\n-A INPUT -j LATE\n:LATE - [0:0]\nCOMMIT\n",
     't.rules:2: unknown chain or target "LATE" in rule "-A INPUT -j LATE"'),
    ("*filter\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n",
     't.rules:6: chain loop A -> B -> A (Too many links) in rule "-A B -j A"'),
    ("*filter\n:A - [0:0]\n-A OUTPUT -j A\n-A A -j A\nCOMMIT\n",
     't.rules:4: chain loop A -> A (Too many links) in rule "-A A -j A"'),
    ("*filter\n:A - [0:0]\n",
     "t.rules:2: COMMIT expected: table filter (line 1) is not committed"),
    ("*filter\n:INPUT FOO [0:0]\nCOMMIT\n",
     't.rules:2: Bad policy name "FOO" for chain INPUT'),
    ("*foo\nCOMMIT\n", "t.rules:1: table name 'foo' invalid"),
    ("-A INPUT -j ACCEPT\n",
     't.rules:1: no table specified ("*filter" etc.) before "-A INPUT -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -j ACCEPT --bogus\nCOMMIT\n",
     't.rules:3: unknown option "--bogus" in rule "-A X -j ACCEPT --bogus"'),
    ("*filter\n:X - [0:0]\n-A X -s 10.0.0.300 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: host/network `10.0.0.300' not found in rule \"-A X -s 10.0.0.300 -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X -p tcp --dport 70000 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: invalid port/service `70000' specified in rule"
     " \"-A X -p tcp --dport 70000 -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X -p tcp --dport 100:50 -j ACCEPT\nCOMMIT\n",
     't.rules:3: invalid portrange (min > max) in rule "-A X -p tcp --dport 100:50 -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -m tcp --dport 80 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: TCP match requires '-p tcp' in rule \"-A X -m tcp --dport 80 -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X --dport 80 -p tcp -j ACCEPT\nCOMMIT\n",
     't.rules:3: unknown option "--dport" in rule "-A X --dport 80 -p tcp -j ACCEPT"'),
    ("*nat\n:X - [0:0]\n-A X -j REJECT\nCOMMIT\n",
     "t.rules:3: target REJECT can only be used in the filter table, not in nat in rule"
     ' "-A X -j REJECT"'),
    ("*filter\n:X - [0:0]\n-A X -j DNAT --to-destination 1.2.3.4\nCOMMIT\n",
     "t.rules:3: target DNAT can only be used in the nat table, not in filter in rule"
     ' "-A X -j DNAT --to-destination 1.2.3.4"'),
    ("*nat\n:X - [0:0]\n-A PREROUTING -j X\n-A X -j MASQUERADE\nCOMMIT\n",
     "t.rules:4: target MASQUERADE is not allowed in the PREROUTING hook (chain X is reached"
     " from PREROUTING; MASQUERADE only works from POSTROUTING) in rule"
     ' "-A X -j MASQUERADE"'),
    ("*filter\n:X - [0:0]\n-A X -s 10.0.0.1 -s 10.0.0.2 -j ACCEPT\nCOMMIT\n",
     't.rules:3: multiple -s flags not allowed in rule "-A X -s 10.0.0.1 -s 10.0.0.2 -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -m statistic --mode random --probability 1.5 -j ACCEPT\nCOMMIT\n",
     't.rules:3: statistic: bad value for option "--probability", or out of range (0-1). in'
     ' rule "-A X -m statistic --mode random --probability 1.5 -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -m statistic --mode nth --every 2 -j ACCEPT\nCOMMIT\n",
     't.rules:3: statistic: option "--every" also requires "--packet". in rule'
     ' "-A X -m statistic --mode nth --every 2 -j ACCEPT"'),
    # strtoul stops at "-" (and refuses a sign): the word is not a number
    ("*filter\n:X - [0:0]\n-A X -m mark --mark 0-1 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: bad value '0-1' for --mark in rule \"-A X -m mark --mark 0-1 -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X -m mark --mark 0x-1 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: bad value '0x-1' for --mark in rule \"-A X -m mark --mark 0x-1 -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X -m mark --mark 0x100000000 -j ACCEPT\nCOMMIT\n",
     "t.rules:3: value '0x100000000' for --mark out of range (max 4294967295) in rule"
     ' "-A X -m mark --mark 0x100000000 -j ACCEPT"'),
    ("*filter\n:X - [0:0]\n-A X -m comment --comment 'single q' -j ACCEPT\nCOMMIT\n",
     "t.rules:3: Bad argument `q'' in rule \"-A X -m comment --comment 'single q' -j ACCEPT\""),
    ("*filter\n:X - [0:0]\n-A X -j ACCEPT # note\nCOMMIT\n",
     't.rules:3: Bad argument `#\' in rule "-A X -j ACCEPT # note"'),
    ("*filter\n:ABCDEFGHIJKLMNOPQRSTUVWXYZABC - [0:0]\nCOMMIT\n",
     "t.rules:2: chain name `ABCDEFGHIJKLMNOPQRSTUVWXYZABC' too long (must be under 29 chars)"),
    ("*filter\n:A - [0:0]\n-A INPUT -j A\n-X A\nCOMMIT\n",
     't.rules:4: Cannot delete chain A: it is referenced by "-A INPUT -j A"'),
    ("*filter\n:A - [0:0]\n-A A -j ACCEPT\n-X A\nCOMMIT\n",
     "t.rules:4: Cannot delete chain A: it still has rules (flush it with -F first)"),
    ("*filter\n:A - [0:0]\n-N A\nCOMMIT\n", "t.rules:3: Chain already exists: A"),
    ("*filter\n:A - [0:0]\n-I A 2 -j ACCEPT\nCOMMIT\n",
     't.rules:3: Index of insertion too big (2) in "-I A 2 -j ACCEPT"'),
    ("*filter\n-A INPUT -j OUTPUT\nCOMMIT\n",
     't.rules:2: cannot jump to built-in chain OUTPUT in rule "-A INPUT -j OUTPUT"'),
    ("*filter\n:X - [0:0]\n-A X ! -s 0.0.0.0/0 -j DROP\nCOMMIT\n",
     't.rules:3: ! -s 0.0.0.0/0 can never match in rule "-A X ! -s 0.0.0.0/0 -j DROP"'),
    ("*filter\n:X - [0:0]\n-A X -p tcp -j REJECT --reject-with foo\nCOMMIT\n",
     't.rules:3: unknown reject type "foo" in rule "-A X -p tcp -j REJECT --reject-with foo"'),
])
def test_errors_name_line_and_rule(text, expected):
    assert err(text) == expected


def test_error_has_parts():
    with pytest.raises(IptablesError) as e:
        parse_iptables_save("*filter\n:X - [0:0]\n-A X -m foo\nCOMMIT\n", "node-a.rules")
    assert (e.value.line, e.value.source) == (3, "node-a.rules")
    assert str(e.value).startswith("node-a.rules:3: unsupported match")


# --- parse_rule_args (the simulated shell's iptables -A) ------------------------------

def test_parse_rule_args_normalises():
    rule = parse_rule_args(["-m", "comment", "--comment", "ns1/svc1:p80 cluster IP", "-m", "tcp",
                            "-p", "tcp", "-d", "10.96.0.1", "--dport", "8080", "-j", "ACCEPT"],
                           "filter", "INPUT")
    assert render_rule(rule) == ('-A INPUT -d 10.96.0.1/32 -p tcp -m comment --comment '
                                 '"ns1/svc1:p80 cluster IP" -m tcp --dport 8080 -j ACCEPT')


def test_parse_rule_args_checks_chains_with_a_ruleset():
    rs = parse_iptables_save("*nat\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n")
    rule = parse_rule_args(["-j", "KUBE-MARK-MASQ"], "nat", "PREROUTING", ruleset=rs)
    assert rule.target == "KUBE-MARK-MASQ"
    with pytest.raises(IptablesError, match='unknown chain or target "NOPE"'):
        parse_rule_args(["-j", "NOPE"], "nat", "PREROUTING", ruleset=rs)
    with pytest.raises(IptablesError, match="chain 'NOPE' does not exist"):
        parse_rule_args(["-j", "ACCEPT"], "nat", "NOPE", ruleset=rs)
    with pytest.raises(IptablesError, match='unsupported match "-m foo" in rule "-A X -m foo"'):
        parse_rule_args(["-m", "foo"], "filter", "X")
    # without a ruleset any jump target is taken as a chain name
    assert parse_rule_args(["-j", "KUBE-SVC-X"], "nat", "X").target == "KUBE-SVC-X"


# --- robustness and speed ---------------------------------------------------------

_WORDS = ["*filter", "*nat", "*raw", "*mangle", "COMMIT", ":X - [0:0]", ":INPUT DROP [1:2]",
          "-A", "-I", "-N", "-X", "-F", "-P", "X", "INPUT", "PREROUTING", "-j", "-g", "ACCEPT",
          "DNAT", "MARK", "REJECT", "MASQUERADE", "-m", "tcp", "udp", "comment", "statistic",
          "recent", "mark", "addrtype", "conntrack", "multiport", "icmp", "-p", "!", "-s", "-d",
          "10.0.0.1/8", "--dport", "80:90", "--comment", '"a b"', "--mode", "random",
          "--probability", "0.5", "--or-mark", "0x4000", "--to-destination", "1.2.3.4:80",
          "--set", "--name", "--ctstate", "NEW", "--dst-type", "LOCAL", "[1:2]", "\n", "#",
          "-c", "1", "2", "--dports", "1,2", "--icmp-type", "any", "-i", "eth0", '"', "\\"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_WORDS), max_size=40).map(" ".join),
    st.lists(st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join), max_size=8).map(
        lambda lines: "*filter\n:X - [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"),
))
def test_any_text_gives_a_ruleset_or_iptables_error(text):
    try:
        assert isinstance(parse_iptables_save(text), Ruleset)
    except IptablesError:
        pass


def test_a_kube_proxy_shaped_dump_parses_whole():
    """A tenth of the benchmark's 10,000 Services x 3 endpoints dump: every rule arrives.
    (Its speed is measured in benchmarks/bench.py, against iptables-restore --test.)"""
    text = _load_kube_dump().kube_proxy_dump(1000, 3)
    rs = parse_iptables_save(text)
    rules = [ln for ln in text.splitlines() if ln.startswith("-A ")]
    assert sum(len(c.rules) for t in rs.tables.values() for c in t.chains.values()) == len(rules)


@pytest.mark.parametrize("decl,msg", [
    (":ACCEPT - [0:0]", "t.rules:3: invalid chain name `ACCEPT'"),
    (":!x - [0:0]", "t.rules:3: invalid chain name `!x'"),
    (":ABCDEFGHIJKLMNOPQRSTUVWXYZABC - [0:0]",
     "t.rules:3: chain name `ABCDEFGHIJKLMNOPQRSTUVWXYZABC' too long (must be under 29 chars)"),
])
def test_a_bad_declaration_after_the_first_is_refused_with_its_line(decl, msg):
    """(the parser's fast path for ``:NAME - [0:0]`` once the table has chains)"""
    assert err(f"*nat\n:A - [0:0]\n{decl}\nCOMMIT\n") == msg


def test_a_builtin_or_existing_chain_declared_again_after_the_first():
    rs = parse_iptables_save("*nat\n:A - [0:0]\n:B - [0:0]\n-A B -j A\n-A PREROUTING -j B\n"
                             ":B - [0:0]\n:PREROUTING DROP [3:4]\nCOMMIT\n", "t.rules")
    chains = rs.tables["nat"].chains
    assert chains["B"].rules == []  # flushed by its second declaration
    assert [r.target for r in chains["PREROUTING"].rules] == ["B"]
    assert chains["PREROUTING"].policy == "DROP"
    assert (chains["PREROUTING"].packets, chains["PREROUTING"].bytes) == (3, 4)
