"""The jump checks made while parsing (kubeflow_tui.netfilter.jumps) against the plain
walk over the committed table (parse._validate_reachable): same verdict, same error."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeflow_tui.netfilter import IptablesError, parse_iptables_save
from kubeflow_tui.netfilter import parse as parse_mod
from kubeflow_tui.netfilter.jumps import JumpGraph

USER = ["A", "B", "C", "D", "E"]
NAT_BUILTINS = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]


class _NeverExact(JumpGraph):
    """A graph that always leaves COMMIT to walk the table itself."""

    __slots__ = ()

    def add(self, src: str, dst: str) -> None:
        self.exact = False


def _outcome(text: str) -> str | None:
    try:
        parse_iptables_save(text, "t.rules")
    except IptablesError as e:
        return str(e)
    return None


_rule = st.one_of(
    st.tuples(st.sampled_from(USER + NAT_BUILTINS), st.sampled_from(USER)).map(
        lambda r: f"-A {r[0]} -j {r[1]}"),
    st.sampled_from(USER).map(lambda c: f"-A {c} -j DNAT --to-destination 10.0.0.1"),
    st.sampled_from(USER).map(lambda c: f"-A {c} -j MASQUERADE"),
    st.sampled_from(USER).map(lambda c: f"-A {c} -j RETURN"),
    st.tuples(st.sampled_from(USER + NAT_BUILTINS), st.sampled_from(USER)).map(
        lambda r: f"-I {r[0]} -j {r[1]}"),
    st.sampled_from(USER).map(lambda c: f"-F {c}"),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rule, max_size=14))
def test_checks_while_parsing_agree_with_the_walk(rules):
    text = "*nat\n" + "".join(f":{c} - [0:0]\n" for c in USER) + "\n".join(rules) + "\nCOMMIT\n"
    fast = _outcome(text)
    with mock.patch.object(parse_mod, "JumpGraph", _NeverExact):
        walked = _outcome(text)
    assert fast == walked


def test_a_long_chain_of_jumps_added_backwards_is_lifted_not_refused():
    # each jump lands on a chain that already jumps on: every level is lifted again
    names = [f"C{i}" for i in range(300)]
    text = ("*filter\n" + "".join(f":{n} - [0:0]\n" for n in names)
            + "".join(f"-A {a} -j {b}\n" for a, b in reversed(list(zip(names, names[1:]))))
            + "-A INPUT -j C0\nCOMMIT\n")
    parse_iptables_save(text)
    with pytest.raises(IptablesError, match="chain loop"):
        parse_iptables_save(text.replace("COMMIT", "-A C299 -j C0\nCOMMIT"))


def test_levels_and_hooks_after_jumps():
    g = JumpGraph(["PREROUTING", "POSTROUTING"])
    g.add("PREROUTING", "A")
    g.add("A", "B")
    g.add("POSTROUTING", "B")
    g.add("B", "C")
    assert g.exact
    assert g.level["A"] < g.level["B"] < g.level["C"]
    assert g.hooks["C"] == {"PREROUTING", "POSTROUTING"}
    assert g.hooks["A"] == {"PREROUTING"}
    g.add("C", "A")  # a loop
    assert not g.exact
