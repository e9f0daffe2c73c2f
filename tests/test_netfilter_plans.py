"""Rule plans (kubeflow_tui.netfilter.plans) against the word-by-word parser: every rule
a plan builds must equal what the generic parser gives, and every error must read the
same."""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeflow_tui.netfilter import IptablesError, parse_iptables_save, parse_rule_args
from kubeflow_tui.netfilter import plans

FIXTURES = Path(__file__).parent / "fixtures" / "netfilter"


@contextmanager
def word_by_word():
    """No plans: every rule goes through the generic parser."""
    with mock.patch.object(plans, "_PLANS", {}), mock.patch.object(plans, "_MAX_PLANS", 0):
        yield


@contextmanager
def fresh_plans():
    with mock.patch.object(plans, "_PLANS", {}), mock.patch.object(plans, "_VALUE_CACHES", {}), \
            mock.patch.object(plans, "_SHAPE_IDS", {}):
        yield


def _kube_dump(*args, **kw) -> str:
    spec = importlib.util.spec_from_file_location("kt_kube_dump", FIXTURES / "kube_dump.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.kube_proxy_dump(*args, **kw)


def _rules(rs):
    return {(t, c): list(ch.rules) for t, tb in rs.tables.items() for c, ch in tb.chains.items()}


@pytest.mark.parametrize("name", ["kube-proxy-basic.rules", "kube-proxy-generated.rules",
                                  "misc.rules", "varied-dump"])
def test_plans_build_the_rules_the_generic_parser_builds(name):
    text = (_kube_dump(60, 3, varied=True) if name == "varied-dump"
            else (FIXTURES / name).read_text())
    with word_by_word():
        expected = _rules(parse_iptables_save(text))
    with fresh_plans():
        got = _rules(parse_iptables_save(text))
        assert plans._PLANS, "the dump was parsed without plans"
        again = _rules(parse_iptables_save(text))  # every rule through a plan now
    assert got == expected
    assert again == expected


# Rules built from a few shapes with values drawn at random: the first of each shape
# makes the plan, the later ones go through it.
_ADDR = st.sampled_from(["10.0.0.1", "10.0.0.1/32", "10.0.0.0/8", "0.0.0.0/0", "010.1.2.3",
                         "10.0.0.300", "1.2.3.4/255.255.0.0", "1.2.3.4/33", "a.b.c.d",
                         "10.0.0.1,10.0.0.2", "255.255.255.255"])
_PORT = st.sampled_from(["80", "0", "65535", "65536", "http", "1:100", "100:1", "x"])
_TEXT = st.sampled_from(["ns/svc:p80 cluster IP", "", "x" * 256, "-weird", "é" * 70])
_IFACE = st.sampled_from(["eth0", "cni0", "x" * 16, "", "veth+"])
_TARGET = st.sampled_from(["Y", "KUBE-SVC-X", "INPUT", "NOPE", "ACCEPT", "QUEUE", "X"])
_DEST = st.sampled_from(["10.244.1.5:8080", "10.244.1.5", "10.244.1.5:0", "10.244.1.5:70000",
                         "10.244.1.5-10.244.1.9:80-90", "1.2.3:80", "010.1.1.1:80"])
_PROB = st.sampled_from(["0.5", "0.33333333349", "1.5", "x", "0.0000000001"])


@st.composite
def _rule_words(draw):
    """One of several shapes with drawn values (the proto and negations vary too)."""
    shape = draw(st.integers(0, 7))
    neg = draw(st.sampled_from(["", "! "]))
    proto = draw(st.sampled_from(["tcp", "udp", "icmp"]))
    if shape == 0:
        return (f"-m comment --comment \"{draw(_TEXT)}\" -m {proto} -p {proto} "
                f"{neg}-d {draw(_ADDR)} --dport {draw(_PORT)} -j {draw(_TARGET)}")
    if shape == 1:
        return f"{neg}-s {draw(_ADDR)} -m comment --comment \"{draw(_TEXT)}\" -j {draw(_TARGET)}"
    if shape == 2:
        return (f"-m comment --comment \"{draw(_TEXT)}\" -m {proto} -p {proto} "
                f"-j DNAT --to-destination {draw(_DEST)}")
    if shape == 3:
        return (f"-m comment --comment \"{draw(_TEXT)}\" -m statistic --mode random "
                f"--probability {draw(_PROB)} -j {draw(_TARGET)}")
    if shape == 4:
        return f"{neg}-i {draw(_IFACE)} -o {draw(_IFACE)} -j {draw(_TARGET)}"
    if shape == 6:  # SNAT with or without a flag, a comment maybe negated (refused)
        flag = draw(st.sampled_from(["", " --random", " --persistent"]))
        return (f"-p {proto} -m comment {neg}--comment \"{draw(_TEXT)}\" "
                f"-j SNAT --to-source {draw(_DEST)}{flag}")
    if shape == 7:  # DNAT with a flag
        return f"-p {proto} -m {proto} --dport 80 -j DNAT --to-destination {draw(_DEST)} --random"
    return f"-c {draw(_PORT)} {draw(_PORT)} -p {proto} -m {proto} {neg}--sport {draw(_PORT)} -j ACCEPT"


def _one_rule(words: str, table: str):
    text = f"*{table}\n:X - [0:0]\n:Y - [0:0]\n:KUBE-SVC-X - [0:0]\n-A X {words}\nCOMMIT\n"
    try:
        return parse_iptables_save(text, "t.rules").tables[table].chains["X"].rules[0]
    except IptablesError as e:
        return str(e)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rule_words(), min_size=1, max_size=12), st.sampled_from(["nat", "filter"]))
def test_rules_of_a_known_shape_parse_as_word_by_word(rules, table):
    with word_by_word():
        expected = [_one_rule(w, table) for w in rules]
    with fresh_plans():
        got = [_one_rule(w, table) for w in rules]
    assert got == expected


def test_a_plan_made_by_a_chain_jump_declines_a_builtin_target():
    # the same syntax words, but ACCEPT is a target with options of its own, not a chain
    with fresh_plans():
        a = parse_rule_args(["-s", "10.0.0.1", "-j", "KUBE-SVC-X"], "filter", "X")
        b = parse_rule_args(["-s", "10.0.0.2", "-j", "ACCEPT"], "filter", "X")
    assert (a.target, b.target, b.src) == ("KUBE-SVC-X", "ACCEPT", "10.0.0.2/32")
    with fresh_plans(), pytest.raises(IptablesError, match="QUEUE"):
        parse_rule_args(["-j", "Y"], "filter", "X")
        parse_rule_args(["-j", "QUEUE"], "filter", "X")


def test_forgotten_plans_are_freed_without_the_cycle_collector():
    # a big parse ends with gc.freeze(): a plan kept alive only by a reference cycle
    # would never be freed, and with it every value its caches hold
    import gc
    import weakref

    from kubeflow_tui.netfilter.parse import forget_parsed_values

    with fresh_plans():
        parse_iptables_save((FIXTURES / "kube-proxy-basic.rules").read_text())
        plan = weakref.ref(next(iter(plans._PLANS.values()))[0])
        enabled = gc.isenabled()
        gc.disable()
        try:
            forget_parsed_values()
            assert plan() is None
        finally:
            if enabled:
                gc.enable()


def test_quoted_comments_and_nat_targets_through_plans_as_word_by_word():
    """Comments with spaces, escaped quotes and backslashes, the same text in rules of
    different shapes, and DNAT/SNAT addresses: the plans (their comment and NAT fast path,
    cold then with every value cached) give the rules the generic parser gives."""
    from kubeflow_tui.netfilter import render_save

    comments = ['ns1/svc1:p80', 'a \\"quoted\\" word', 'back\\\\slash \\"and\\" quote', 'x' * 63,
                'é' * 63, 'ns1/svc1:p80']
    lines = ["*nat", ":KUBE-SEP-A - [0:0]", ":KUBE-SEP-B - [0:0]", ":KUBE-MARK-MASQ - [0:0]"]
    for i, text in enumerate(comments * 2):
        chain = "KUBE-SEP-A" if i % 2 else "KUBE-SEP-B"
        lines += [f'-A {chain} -s 10.180.0.{i}/32 -m comment --comment "{text}" -j KUBE-MARK-MASQ',
                  f'-A {chain} -p tcp -m comment --comment "{text}" -m tcp -j DNAT '
                  f'--to-destination 10.180.0.{i}:80',
                  f'-A {chain} -p udp -m comment --comment "{text}" -j SNAT --to-source 10.{i}.0.1',
                  f'-A {chain} -p tcp -j DNAT --to-destination 10.180.{i}.1-10.180.{i}.3:80-81']
    text = "\n".join(lines + ["COMMIT", ""])
    with word_by_word():
        expected = parse_iptables_save(text)
    with fresh_plans():
        got = parse_iptables_save(text)
        again = parse_iptables_save(text)
    assert _rules(got) == _rules(expected) == _rules(again)
    saved = render_save(got)
    assert saved == render_save(expected)
    assert '--comment "a \\"quoted\\" word"' in saved
    assert "--to-destination 10.180.0.1:80" in saved and "--to-source 10.1.0.1" in saved
