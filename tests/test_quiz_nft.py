"""Quiz families of nftables mode (issue 17): which verdict-map element matched, and what
cluster-ips-check does to a wrong port of a ClusterIP, each checked against the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.quiz.context import context_from_sim
from kubeflow_tui.quiz.flow import lesson_questions
from kubeflow_tui.quiz.generate import generate_questions
from kubeflow_tui.quiz.nft_questions import nft_wrong_port_question
from kubeflow_tui.quiz.runner import with_proxy_mode
from kubeflow_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _scenario(name: str, mode: str = "nftables"):
    return with_proxy_mode(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), mode)


@pytest.mark.parametrize("name", ["clusterip", "multi-endpoint", "nodeport"])
def test_vmap_answers_are_the_elements_the_engine_matched(name):
    sc = _scenario(name)
    asked = 0
    for flow in sc.flows:
        sim = ClusterSim(sc, seed=3)
        ctx = context_from_sim(sim)
        trace = sim.run_flow(flow.name)
        for q in generate_questions(trace, seed=3, context=ctx, kinds=["nft-vmap"]):
            step = trace.steps[q.step_index]
            assert step.table == "ip kube-proxy" and "vmap" in step.rule
            assert f"element '{q.answer}'" in step.why
            assert step.target and q.answer.endswith(step.target)
            assert len(set(q.options)) == len(q.options) >= 3
            asked += 1
    assert asked


def test_multi_endpoint_numgen_distractors_are_the_other_endpoints():
    sc = _scenario("multi-endpoint")
    sim = ClusterSim(sc, seed=1)
    trace = sim.run_flow("to-web-1")
    q = next(q for q in generate_questions(trace, seed=1, context=context_from_sim(sim), kinds=["nft-vmap"])
             if "numgen" in q.prompt)
    gotos = [o for o in q.options if ": goto endpoint-" in o]
    assert len(gotos) == 3 and q.answer in gotos


def test_wrong_port_is_rejected_by_cluster_ips_check():
    sc = _scenario("clusterip")
    q = nft_wrong_port_question(sc, "pod-same-node", seed=1)
    assert q is not None and q.kind == "nft-wrong-port"
    assert "10.96.0.1:80," in q.prompt
    assert q.answer.startswith("Refused at once: cluster-ips-check rejects")
    # an independent run agrees
    trace = ClusterSim(sc, seed=1).run_adhoc("client-a", "10.96.0.1:80")
    assert trace.outcome == "refused"
    assert [s.chain for s in trace.steps if s.kind == "reject"] == ["cluster-ips-check"]


def test_no_nft_families_in_iptables_mode():
    sc = _scenario("clusterip", "iptables")
    assert nft_wrong_port_question(sc, "pod-same-node", seed=1) is None
    kinds = {q.kind for q in lesson_questions(sc, seed=1)}
    assert not {"nft-vmap", "nft-wrong-port"} & kinds


def test_an_nftables_quiz_asks_them():
    kinds = {q.kind for q in lesson_questions(_scenario("clusterip"), seed=1)}
    assert {"nft-vmap", "nft-wrong-port"} <= kinds


def test_server_source_names_nftables_chains_in_nftables_mode():
    from kubeflow_tui.quiz.reasoning import q_server_source

    trace = ClusterSim(_scenario("clusterip"), seed=1).run_flow("node-host-network")
    q = q_server_source(trace, seed=1)
    assert "mark-for-masquerade" in q.answer and "KUBE-" not in " ".join(q.options)


# ------------------------------------------------------------------ the older families in nftables mode

#: what only iptables mode has: its chains (KUBE-…, nat PREROUTING …), its tools and targets
IPTABLES_WORDS = re.compile(r"KUBE-[A-Z]|iptables|\b(nat|filter|mangle|raw) (PREROUTING|INPUT|FORWARD|OUTPUT|"
                            r"POSTROUTING)\b|statistic|\bMASQUERADE\b|--to-destination|\b(DNAT|REJECT|DROP|ACCEPT):"
                            r"|\bnat table\b|\brule \d+ of\b")
#: families that ask about iptables' own mechanics (a chain's next jump, the statistic match's
#: probabilities, which KUBE- chain marks for masquerade): not asked in nftables mode, where
#: nft-vmap (which map element decides) takes their place
IPTABLES_ONLY = {"next-chain", "probability", "pick-chance", "compare", "affinity"}


def _shipped():
    return [pytest.param(p, id=p.stem) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]


@pytest.mark.parametrize("path", _shipped())
def test_no_question_of_an_nftables_quiz_names_iptables_chains(path):
    """Every family is mode-aware or skipped: in nftables mode no question (prompt, options,
    explanation) speaks of iptables' chains, tables or targets."""
    from kubeflow_tui.quiz.flow import scenario_questions

    sc = with_proxy_mode(load_scenario(path), "nftables")
    qs = scenario_questions(sc, seed=1)
    for q in qs:
        for part in (q.prompt, *q.options, q.explanation):
            m = IPTABLES_WORDS.search(part)
            assert m is None, f"{q.kind}: {m.group(0)!r} in {part!r}"
        assert q.kind not in IPTABLES_ONLY
    ipt = scenario_questions(with_proxy_mode(load_scenario(path), "iptables"), seed=1)
    # the same families are asked in both modes, but for the iptables-only ones and nft's own,
    # and a verdict question where cluster-ips-check rejects what iptables mode lets time out
    own = {"nft-vmap", "nft-wrong-port"}
    sc_ipt, sc_nft = with_proxy_mode(load_scenario(path), "iptables"), with_proxy_mode(load_scenario(path), "nftables")
    if any(ClusterSim(sc_nft).run_flow(f.name).ending == "rejected" != ClusterSim(sc_ipt).run_flow(f.name).ending
           for f in sc_nft.flows):
        own.add("verdict")
    assert {q.kind for q in qs} - own <= {q.kind for q in ipt}


def test_the_older_families_in_nftables_words():
    from kubeflow_tui.quiz.flow import scenario_questions

    qs = {q.kind: q for q in scenario_questions(_scenario("clusterip"), ["pod-same-node"], seed=1)}
    dnat = qs["dnat"]
    assert "matches the rule with handle 61 in ip kube-proxy endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080" \
        in dnat.prompt
    assert dnat.answer == "10.244.1.5:8080"
    masq = qs["masquerade"]
    assert "is about to leave (nat-postrouting)" in masq.prompt and masq.answer == "No: the source stays 10.244.1.7"
    assert "so masquerading returns" in masq.explanation
    assert qs["decider"].answer == ("PREROUTING · ip kube-proxy · "
                                    "endpoint-HGNPOIJ5-default/web/tcp/http__10.244.1.5/8080 on node-a")
    assert "10.96.0.1:8080, rewritten by an snat rule in nat-postrouting" in qs["reply-source"].options
    assert "go through node-a's nat chains (nat-prerouting/nat-output, nat-postrouting)" in qs["nat-packet"].prompt
    assert qs["nat-packet"].answer == "Only the SYN: 1 of the 8"
    wrong = _scenario("no-endpoints")
    verdicts = [q for q in scenario_questions(wrong, seed=1) if q.kind == "verdict"]
    assert verdicts and all(o.split(":")[0] in ("reject", "drop", "accept", "dnat") for q in verdicts
                            for o in q.options)
