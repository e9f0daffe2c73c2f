"""Question families that need reasoning, over every shipped scenario: no giveaway, no
repeat, distractors distinct and of the answer's kind, explanations that cite their step,
counterfactual answers that agree with an independent run of the engine; the quiz flow
(retry of wrong answers, a report saved half-way) and the worksheet export."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.quiz import context_from_sim, generate_questions
from kubeflow_tui.quiz.flow import QuizRun, export_json, export_markdown, lesson_questions, select_questions
from kubeflow_tui.quiz.reasoning import (REFUSED, TIMED_OUT, UNREACHABLE, counterfactual_questions,
                                         scenario_reasoning_questions)
from kubeflow_tui.scenario import Scenario, load_scenario
from kubeflow_tui.shell import Shell

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))


@pytest.fixture(autouse=True)
def _private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))


def _all_questions(sc):
    from kubeflow_tui.quiz.runner import with_proxy_mode

    # the shapes below are iptables mode's (a scenario may say nftables: test_quiz_nft.py)
    sc = with_proxy_mode(sc, "iptables")
    out = []
    for f in sc.flows:
        sim = ClusterSim(sc)
        out += generate_questions(sim.run_flow(f.name), seed=5, context=context_from_sim(sim))
    return out + scenario_reasoning_questions(sc, seed=5)


TOKEN = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\bKUBE-[A-Z0-9-]+\b")
CHAIN = r"(?:[A-Z][A-Z0-9-]*)"
OUTCOME = "(?:" + "|".join(re.escape(o) for o in (REFUSED, TIMED_OUT, UNREACHABLE)) + "|It works; the server sees .+)"
#: the shape every option of a family has: a distractor is of the answer's kind
SHAPES = {
    "next-chain": rf"^{CHAIN}$",
    "dnat": r"^(?:\d{1,3}\.){3}\d{1,3}:\d+$",
    "masquerade": r"^(?:Yes: masqueraded to (?:\d{1,3}\.){3}\d{1,3}|No: the source stays .+)$",
    "conntrack-entry": r"^(?:tcp|udp) ",
    "reply-source": r"^(?:\d{1,3}\.){3}\d{1,3}:\d+(?:, rewritten by |: nothing rewrites)",
    "probability": r"^0\.\d{11}$",
    "verdict": r"^(?:REJECT|DROP|ACCEPT|DNAT): ",
    "decider": rf"^(?:PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) · (?:raw|mangle|nat|filter) · {CHAIN} on \S+$",
    "nat-packet": r"^(?:Only the |The |All \d+ of them$)",
    "conntrack-node": r"^\S+: reply src=\S+ dst=\S+ sport=\d+ dport=\d+$",
    "server-source": r"^(?:\d{1,3}\.){3}\d{1,3}: ",
    "pick-chance": r"^(?:\d+/\d+ \(\d+%\)|1 \(certain\)|0 \(never\))$",
    "counterfactual": rf"^{OUTCOME}$",
    "compare": rf"^{CHAIN} jumps to KUBE-MARK-MASQ for it",
}


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda p: p.stem)
def scenario_questions(request):
    from kubeflow_tui.quiz.runner import with_proxy_mode

    sc = with_proxy_mode(load_scenario(request.param), "iptables")  # as _all_questions
    return sc, _all_questions(sc)


def test_no_answer_is_given_away_by_its_prompt(scenario_questions):
    _, qs = scenario_questions
    for q in qs:
        others = " ".join(o for i, o in enumerate(q.options) if i != q.answer_index)
        for tok in set(TOKEN.findall(q.answer)):
            if tok in others:
                continue  # the same address or chain is in a distractor too: it tells nothing
            assert not re.search(rf"(?<![\w.:-]){re.escape(tok)}(?![\w:-]|\.\d)", q.prompt), (q.kind, tok, q.prompt)


def test_distractors_are_distinct_and_of_the_answers_kind(scenario_questions):
    _, qs = scenario_questions
    for q in qs:
        assert len(q.options) >= 3 and len(set(q.options)) == len(q.options), (q.kind, q.options)
        shape = SHAPES[q.kind]
        for o in q.options:
            assert re.match(shape, o), (q.kind, o)


def test_every_explanation_cites_the_step_that_proves_it(scenario_questions):
    _, qs = scenario_questions
    for q in qs:
        assert re.search(r"\(step \d+ on \S+", q.explanation), (q.kind, q.explanation)


def test_conntrack_options_keep_the_entrys_flags(scenario_questions):
    _, qs = scenario_questions
    for q in qs:
        if q.kind != "conntrack-entry":
            continue
        flags = re.findall(r"\[[A-Z]+\]", q.answer)
        for o in q.options:
            assert re.findall(r"\[[A-Z]+\]", o) == flags, o
            assert "  " not in o.split(None, 3)[3], o  # no flag dropped, leaving two spaces


def test_a_quiz_has_no_two_questions_of_the_same_family_and_target(scenario_questions):
    sc, qs = scenario_questions
    quiz = lesson_questions(sc, seed=5)
    keys = [(q.kind, q.target) for q in quiz]
    assert len(keys) == len(set(keys)), keys
    assert len({q.prompt for q in quiz}) == len(quiz)
    assert len(quiz) <= 10 and (len(quiz) >= 6 or len({(q.kind, q.target) for q in qs}) < 6)
    if len(quiz) >= 6:
        assert len({q.kind for q in quiz}) >= 3, [q.kind for q in quiz]


def _independent_outcome(sc, flow, q):
    """Re-run the flow on a cluster changed as the question says, without the quiz's code."""
    data = sc.model_dump(by_alias=True, exclude_none=True)
    m = re.search(r"If rule (\d+) of nat KUBE-SERVICES on (\S+) ", q.prompt)
    if m:
        sim = ClusterSim(sc, seed=5)
        r = Shell(sim, m.group(2)).run(f"iptables -t nat -D KUBE-SERVICES {m.group(1)}")
        assert r.exit_code == 0, r.stderr
        return sim.run_flow(flow)
    for policy in ("Local", "Cluster"):
        if f"externalTrafficPolicy: {policy}" in q.prompt:
            for s in data["services"]:
                if s.get("type", "ClusterIP") != "ClusterIP":
                    s["externalTrafficPolicy"] = policy
                    if policy == "Cluster":  # the API server releases the health check port
                        s.pop("healthCheckNodePort", None)
            return ClusterSim(Scenario.model_validate(data), seed=5).run_flow(flow)
    m = re.search(r"If ([\w, -]+?) (carried the label (\S+)=(\S+) the Service selects)?(?: and )?"
                  r"(were Ready|still passed (?:its|their) readiness probe while terminating)?, what", q.prompt)
    if m and (m.group(2) or m.group(5)):  # the meant endpoints, made endpoints by hand
        names = m.group(1).split(", ")
        for p in data["pods"]:
            if p["name"] in names:
                if m.group(2):
                    p.setdefault("labels", {})[m.group(3)] = m.group(4)
                if m.group(5):
                    p["ready"] = True
        return ClusterSim(Scenario.model_validate(data), seed=5).run_flow(flow)
    m = re.search(r"If the Service (\S+) also had port (\d+) \(to the same targetPort", q.prompt)
    if m:  # a second Service port, the client's, to the first port's target
        svc = next(s for s in data["services"] if s["name"] == m.group(1))
        extra = {k: v for k, v in svc["ports"][0].items() if k != "nodePort"}
        extra.update(name=f"{svc['ports'][0].get('name', 'port')}-{m.group(2)}", port=int(m.group(2)))
        svc["ports"][0].setdefault("name", "port")
        svc["ports"].append(extra)
        return ClusterSim(Scenario.model_validate(data), seed=5).run_flow(flow)
    m = re.search(r"client pod (\S+) ran on (\S+) instead", q.prompt)
    assert m, q.prompt
    import ipaddress

    node = next(n for n in data["cluster"]["nodes"] if n["name"] == m.group(2))
    used = {p["ip"] for p in data["pods"]}
    ip = next(str(a) for a in list(ipaddress.IPv4Network(node["podCIDR"]).hosts())[1:] if str(a) not in used)
    for p in data["pods"]:
        if p["name"] == m.group(1):
            p["node"], p["ip"] = node["name"], ip
    return ClusterSim(Scenario.model_validate(data), seed=5).run_flow(flow)


def test_counterfactual_answers_agree_with_the_engine(scenario_questions):
    sc, qs = scenario_questions
    for q in qs:
        if q.kind != "counterfactual":
            continue
        alt = _independent_outcome(sc, q.flow, q)
        expected = {"delivered": "It works", "refused": REFUSED, "unreachable": UNREACHABLE,
                    "timeout": TIMED_OUT, "dropped": TIMED_OUT}[alt.outcome]
        assert q.answer.startswith(expected), (q.prompt, q.answer, alt.summary)
        if alt.outcome == "delivered":
            ip = alt.server_saw.rsplit(":", 1)[0]
            own = alt.steps[0].packet.src
            assert (ip == own and "client's own address" in q.answer) or ip in q.answer, (q.answer, ip)


def test_every_reasoning_family_is_generated_somewhere():
    seen = set()
    for path in SCENARIOS:
        seen |= {q.kind for q in _all_questions(load_scenario(path))}
    assert {"decider", "nat-packet", "conntrack-node", "server-source", "pick-chance", "counterfactual",
            "compare"} <= seen


def test_local_policy_counterfactual_from_another_node_times_out():
    sc = load_scenario(ROOT / "scenarios" / "loadbalancer.yaml")
    qs = counterfactual_questions(sc, "via-other-node", seed=5)
    q = next(q for q in qs if "externalTrafficPolicy: Local" in q.prompt)
    assert q.answer == TIMED_OUT
    assert "DROP" in q.explanation and "no local endpoints" in q.explanation


def test_cluster_policy_counterfactual_masquerades():
    sc = load_scenario(ROOT / "scenarios" / "local-policy.yaml")
    q = next(q for q in counterfactual_questions(sc, "to-node-without-endpoint", seed=5)
             if "externalTrafficPolicy: Cluster" in q.prompt)
    assert q.answer == "It works; the server sees node-b's address 192.168.1.11"


def test_affinity_sends_the_same_client_back():
    sc = load_scenario(ROOT / "scenarios" / "affinity.yaml")
    q = next(q for q in scenario_reasoning_questions(sc, seed=5) if q.kind == "pick-chance"
             and q.target.endswith("affinity"))
    assert q.answer == "1 (certain)" and "1/2 (50%)" in q.options
    assert "--rcheck" in q.explanation


def test_compare_names_the_chain_that_marks_the_masqueraded_flow():
    sc = load_scenario(ROOT / "scenarios" / "lesson-masquerade.yaml")
    qs = [q for q in scenario_reasoning_questions(sc, seed=5) if q.kind == "compare"]
    node = next(q for q in qs if q.flow == "node-to-service")
    assert node.answer.startswith("KUBE-SVC-")  # the ! -s clusterCIDR rule of the Service chain
    hairpin = next(q for q in qs if q.flow == "hairpin")
    assert hairpin.answer.startswith("KUBE-SEP-")  # the endpoint's own -s rule


# ------------------------------------------------------------------ quiz flow


def _quiz():
    return lesson_questions(load_scenario(ROOT / "scenarios" / "clusterip.yaml"), seed=5)


def test_a_wrong_answer_comes_back_later_and_the_score_counts_first_answers():
    qs = _quiz()
    run = QuizRun(qs, retry_gap=2)
    first = run.current()
    wrong = (first.answer_index + 1) % len(first.options)
    assert not run.answer(wrong).correct
    order = []
    while not run.finished:
        q = run.current()
        order.append((q.id, run.is_retry))
        run.answer(q.answer_index)
    assert order.index((first.id, True)) == 2  # asked again after two others
    report = run.report()
    assert (report["right"], report["total"], report["recovered"]) == (len(qs) - 1, len(qs), 1)
    assert report["review"] == [first.topic]
    assert report["topics"][first.topic]["right"] < report["topics"][first.topic]["total"]
    json.dumps(report)  # plain data


def test_a_quiz_left_half_way_saves_its_report():
    from kubeflow_tui.quiz.record import recorded, recorded_attempt

    qs = _quiz()
    run = QuizRun(qs)
    run.answer(qs[0].answer_index)
    run.answer((qs[1].answer_index + 1) % len(qs[1].options))
    run.save("quiz:half")
    assert recorded("quiz:half") == {}  # not a finished result ...
    entry = recorded_attempt("quiz:half")  # ... but an attempt with its score so far
    assert (entry["right"], entry["answered"], entry["total"]) == (1, 2, len(qs))
    assert [a["correct"] for a in entry["answers"]] == [True, False]
    assert entry["topics"][qs[1].topic]["right"] < entry["topics"][qs[1].topic]["total"]
    assert not run.report()["finished"]
    while not run.finished:  # finishing it later records the result and drops the attempt
        run.answer(run.current().answer_index)
    run.save("quiz:half")
    assert recorded_attempt("quiz:half") == {}
    assert recorded("quiz:half")["total"] == len(qs)


def test_select_questions_mixes_families_and_drops_repeats():
    qs = _quiz()
    assert select_questions(qs + qs, count=8) == select_questions(qs, count=8)
    assert len(select_questions(qs * 3, count=20)) == len(qs)


def test_worksheet_json_and_markdown():
    qs = _quiz()
    items = json.loads(export_json(qs))
    assert len(items) == len(qs)
    for it, q in zip(items, qs):
        assert {"prompt", "options", "answer", "explanation", "family"} <= set(it)
        assert it["answer"] == it["options"][it["answer_index"]] == q.answer
    md = export_markdown(qs, "clusterip")
    assert md.index("# Answer key") > md.index(qs[-1].prompt.splitlines()[0])
    assert all(q.answer in md for q in qs)


def test_cli_export(capsys):
    from kubeflow_tui.cli import main

    assert main(["quiz", "clusterip", "--export", "json", "--seed", "5"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert 6 <= len(items) <= 10 and len({i["family"] for i in items}) >= 3
    assert main(["quiz", str(ROOT / "lessons" / "05-masquerade.md"), "--export", "md"]) == 0
    assert "# Answer key" in capsys.readouterr().out


def test_cli_quiz_asks_a_wrong_answer_again(monkeypatch, capsys):
    from kubeflow_tui.cli import main
    from kubeflow_tui.quiz.runner import quiz_for_file
    from kubeflow_tui.resources import find_scenario

    _, _, _, qs = quiz_for_file(find_scenario("clusterip"), seed=5)
    first = qs[0]
    lines = [str((first.answer_index + 1) % len(first.options) + 1)]
    lines += [str(q.answer_index + 1) for q in qs[1:4]] + [str(first.answer_index + 1)]
    lines += [str(q.answer_index + 1) for q in qs[4:]]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["quiz", "clusterip", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "(again)" in out and f"Score: {len(qs) - 1}/{len(qs)}" in out
    assert "right on the second try" in out


LESSONS = sorted((ROOT / "lessons").glob("*.md"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_quiz_has_six_to_ten_questions_without_repeats(path):
    from kubeflow_tui.quiz.runner import quiz_for_file

    _, _, key, qs = quiz_for_file(path, seed=5)
    assert key.startswith("lesson:")
    assert 6 <= len(qs) <= 10, (path.name, [(q.kind, q.target) for q in qs])
    assert all(re.search(r"\(step \d+ on \S+", q.explanation) for q in qs if q.kind != "authored")
    keys = [(q.kind, q.target) for q in qs if q.kind != "authored"]
    assert len(keys) == len(set(keys))
    assert len({q.prompt for q in qs}) == len(qs)


def test_interview_mixes_in_computed_questions_and_saves_plain_data():
    from kubeflow_tui.quiz import InterviewSession

    now = [0.0]
    s = InterviewSession(seed=8, count=12, minutes=10, clock=lambda: now[0])
    kinds = {it.question.kind for it in s.items}
    assert len(kinds) >= 6
    for _ in range(3):
        q = s.current().question
        s.answer(q.answer_index)
    now[0] = 95
    data = s.summary_data()
    assert (data["right"], data["total"], data["unanswered"], data["seconds"]) == (3, 3, len(s.items) - 3, 95)
    json.dumps(data)


def test_predict_questions_give_nothing_away_and_cite_their_step(scenario_questions):
    from kubeflow_tui.quiz import predict_points

    sc, _ = scenario_questions
    for f in sc.flows:
        sim = ClusterSim(sc)
        trace = sim.run_flow(f.name)
        for p in predict_points(trace, seed=5, context=context_from_sim(sim)):
            q = p.question
            assert len(set(q.options)) == len(q.options) >= 3
            assert re.search(r"\(step \d+ on \S+", q.explanation)
            others = " ".join(o for i, o in enumerate(q.options) if i != q.answer_index)
            for tok in set(TOKEN.findall(q.answer)) - set(TOKEN.findall(others)):
                assert tok not in q.prompt, (q.kind, tok, q.prompt)
