"""The diagnosis options of every case do not betray the answer by their length or place.

Runs over every shipped case (``cases/*.yaml``, including ones added later) and over
generated practice incidents; a failure names the case file and the options at fault."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from kubeflow_tui.quiz.fairness import MAX_LENGTH_RATIO, length_giveaway
from kubeflow_tui.quiz.practice import FAULTS, generate

CASES = sorted((Path(__file__).resolve().parent.parent / "cases").glob("*.yaml"))


def _diagnosis(path: Path) -> tuple[list[str], int]:
    d = yaml.safe_load(path.read_text(encoding="utf-8"))["diagnosis"]
    return list(d["options"]), int(d["answer"])


def _listing(options: list[str], answer: int) -> str:
    return "\n".join(f"  {'*' if i == answer else ' '} {i + 1}. ({len(o)}) {o}" for i, o in enumerate(options))


def test_the_rule():
    same = ["a" * 80, "b" * 80, "c" * 80, "d" * 80]
    assert length_giveaway(same, 2) is None
    longest = ["a" * 80, "b" * 81, "c" * 80, "d" * 80]
    assert "option 2, 81 characters) is the only longest" in length_giveaway(longest, 1)
    assert length_giveaway(longest, 0) is None  # a distractor may be the longest
    assert "only shortest" in length_giveaway(["a" * 70, "b" * 80, "c" * 80], 0)
    terse = ["a" * 100, "b" * 100, "c" * 40, "d" * 100]
    assert f"more than {MAX_LENGTH_RATIO}x" in length_giveaway(terse, 0)
    assert length_giveaway(["yes", "no"], 0) is None


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_shipped_cases_answer_is_not_given_away_by_length(path):
    options, answer = _diagnosis(path)
    problem = length_giveaway(options, answer)
    assert problem is None, (
        f"cases/{path.name}: diagnosis.options: {problem}.  Write the distractors as real causes "
        f"with their mechanism, as specific as the answer:\n{_listing(options, answer)}")


def test_the_answers_place_is_spread_over_the_options():
    """Nobody should learn that the answer is usually the second option."""
    places = Counter(_diagnosis(p)[1] for p in CASES)
    most, n = places.most_common(1)[0]
    assert n <= max(2, 0.4 * len(CASES)), (
        f"option {most + 1} is the answer in {n} of {len(CASES)} cases: "
        + ", ".join(p.name for p in CASES if _diagnosis(p)[1] == most))


def test_generated_incidents_do_not_give_the_answer_away():
    seeds = range(1, 241)
    kinds: Counter[str] = Counter()
    places: Counter[int] = Counter()
    for seed in seeds:
        case, _ = generate(seed)
        d = case["diagnosis"]
        problem = length_giveaway(d["options"], d["answer"])
        assert problem is None, (f"practice seed {seed} ({case['fault']}): {problem}:\n"
                                 f"{_listing(d['options'], d['answer'])}")
        kinds[case["fault"]] += 1
        places[d["answer"]] += 1
    assert set(kinds) == set(FAULTS)
    assert all(places[i] >= len(seeds) / 8 for i in range(4)), places


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_kind_can_be_asked_fairly(fault):
    """Each kind, in several worlds: the generator finds fair distractors, and they are
    the other causes of the same symptom (a refusal beside refusals, a hang beside hangs)."""
    from kubeflow_tui.quiz.practice import DNS_FAULTS, ONE_LINERS, _world

    for seed in range(12):
        case, _ = generate(seed, fault)
        d = case["diagnosis"]
        assert length_giveaway(d["options"], d["answer"]) is None, (seed, fault, d["options"])
        assert len(set(d["options"])) == 4
        if fault not in DNS_FAULTS:
            w = _world(seed)
            kinds = {ONE_LINERS[f](w): FAULTS[f] for f in FAULTS}
            wrong = [o for i, o in enumerate(d["options"]) if i != d["answer"]]
            assert all(kinds.get(o) == FAULTS[fault] for o in wrong), (seed, fault, wrong)


def test_generated_quiz_answers_are_not_the_odd_one_out_by_length():
    """Over every shipped scenario's quiz questions, per family: the answer is the only
    longest (or only shortest) option no more often than chance would make it."""
    from collections import defaultdict

    from kubeflow_tui.quiz.fairness import _extreme
    from kubeflow_tui.quiz.reasoning import scenario_reasoning_questions
    from kubeflow_tui.quiz.runner import questions_for_scenario
    from kubeflow_tui.scenario import load_scenario

    root = Path(__file__).resolve().parent.parent / "scenarios"
    asked: dict[str, list[tuple[bool, bool, int]]] = defaultdict(list)
    for path in sorted(root.glob("*.yaml")):
        sc = load_scenario(path)
        for seed in (1, 5):
            for q in questions_for_scenario(sc, seed=seed) + scenario_reasoning_questions(sc, seed=seed):
                if len(q.options) < 3:
                    continue
                lengths = [len(o) for o in q.options]
                mine, others = lengths[q.answer_index], lengths[:q.answer_index] + lengths[q.answer_index + 1:]
                asked[q.kind].append((mine > max(others), mine < min(others), len(q.options)))
    assert len(asked) >= 10
    for kind, rows in asked.items():
        if len(rows) < 10:
            continue
        chance = sum(1 / n for _, _, n in rows) / len(rows)
        longest = sum(r[0] for r in rows) / len(rows)
        shortest = sum(r[1] for r in rows) / len(rows)
        assert longest <= chance + 0.05 and shortest <= chance + 0.05, (
            f"{kind}: the answer is the only longest option in {longest:.0%} and the only shortest in "
            f"{shortest:.0%} of {len(rows)} questions (chance: {chance:.0%})")
    assert _extreme(["a", "bb", "cc"], 0) and not _extreme(["bb", "a", "cc"], 0)


def test_the_interview_draws_incidents_from_the_practice_generator():
    """An interview asks one or two generated incidents (of different faults), with the
    user's report and what the investigation commands print; the same seed, the same set."""
    from kubeflow_tui.quiz.interview import InterviewSession

    s = InterviewSession(seed=42, count=10)
    incidents = [it for it in s.items if it.question.kind == "diagnosis"]
    assert len(s.items) == 10 and len(incidents) == 2
    assert len({it.question.target for it in incidents}) == 2
    for it in incidents:
        pseed = int(it.question.id.split("/")[1])
        case, _ = generate(pseed)
        assert it.question.options == tuple(case["diagnosis"]["options"])
        assert it.question.answer_index == case["diagnosis"]["answer"]
        assert it.brief.splitlines()[1] == f"Reported: {case['symptom']['text']}"
        for inv in case["investigate"]:  # the evidence the case itself relies on is shown
            assert f"{inv['host']}$ {inv['command']}" in it.brief and inv["expect"] in it.brief
        assert f"kubeflow-tui practice --seed {pseed}" in it.question.explanation
    assert [it.question.prompt + it.brief for it in InterviewSession(seed=42, count=10).items] == \
        [it.question.prompt + it.brief for it in s.items]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_incidents_evidence_fits_in_the_interview(fault):
    """Every fault kind's investigation shows its evidence within the lines an interview
    question prints."""
    from kubeflow_tui.quiz.cases import CaseSession
    from kubeflow_tui.quiz.interview import EVIDENCE_LINES
    from kubeflow_tui.quiz.practice import practice_case

    for seed in (1, 2, 3):
        case = practice_case(seed, fault)
        session = CaseSession(case, seed=seed)
        for inv in case.model.investigate:
            r = session.run(inv.command, inv.host)
            shown = (r.stdout or r.stderr).splitlines()[:EVIDENCE_LINES]
            assert any(inv.expect in line for line in shown), (fault, seed, inv.command)
