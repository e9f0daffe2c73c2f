"""Every "Check yourself" prompt of a lesson has its answer key (a fenced ```answer block),
which the lesson's text does not show; the keys name only chains the engine writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubeflow_tui import lessons as lessons_mod
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.kubeproxy import endpoint_chain_name, service_chain_name
from kubeflow_tui.netfilter import render_save
from kubeflow_tui.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
FILES = lessons_mod.lesson_files(REPO / "lessons")
ASKING = [p for p in FILES if re.search(r"^## Check yourself", p.read_text(encoding="utf-8"), re.M)]


def test_the_lessons_ask():
    assert len(ASKING) >= 10


@pytest.mark.parametrize("path", ASKING, ids=[p.stem for p in ASKING])
def test_every_check_yourself_prompt_has_its_answer(path):
    lesson = lessons_mod.parse_lesson(path)
    sections = lessons_mod.check_sections(lesson.source_body)
    assert sections and all(has for _, has in sections), f"{path.name}: a Check yourself section has no answer key"
    assert len(lesson.answers) >= len(sections)
    for a in lesson.answers:
        assert a.prompt.endswith("?") or "?" in a.prompt, f"{path.name}:{a.line}: {a.prompt!r} asks nothing"
        assert len(a.answer) >= 80, f"{path.name}:{a.line}: an answer key of a few words explains nothing"
        assert path.read_text(encoding="utf-8").splitlines()[a.line - 1].startswith("```answer")
    assert "```answer" not in lesson.body and lesson.answers[0].answer not in lesson.body
    assert not lessons_mod.validate([path])


@pytest.mark.parametrize("path", ASKING, ids=[p.stem for p in ASKING])
def test_answer_keys_name_real_chains(path):
    """A full KUBE-SVC-/SEP-/EXT-/SVL-/FW- name in an answer is one the engine writes for the
    lesson's scenarios."""
    lesson = lessons_mod.parse_lesson(path)
    rules = ""
    refs = [lesson.scenario] + [lessons_mod.resolve_scenario(r, path) for r in lesson.extra.get("see_also", [])]
    for ref in refs:
        sc = load_scenario(ref)
        sim = ClusterSim(sc)
        rules += "".join(render_save(sim.node_ruleset(n.name)) for n in sc.cluster.nodes)
        # an endpoint chain a counterfactual names: one kube-proxy would write for a pod
        # the Service selects (e.g. a terminating one it falls back to)
        for svc in sc.services:
            for port in svc.ports:
                for pod in sc.endpoints(svc):
                    for cp in pod.ports:
                        if port.target in (cp.name, cp.containerPort):
                            rules += endpoint_chain_name(f"{svc.key}:{port.name}", port.protocol,
                                                         f"{pod.ip}:{cp.containerPort}")
    rules += service_chain_name("KUBE-SVC-", "kube-system/kube-dns:dns", "udp")
    for a in lesson.answers:
        for name in set(re.findall(r"KUBE-(?:SVC|SEP|EXT|FW|SVL)-[A-Z0-9]{16}", a.answer)):
            assert name in rules, f"{path.name}:{a.line}: {name} is not in the rules of its scenarios"


def _rule_lines(markdown: str) -> list[str]:
    """The ``-A …`` rules of an answer's indented code blocks, continuation lines joined."""
    out: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("    -A "):
            out.append(line.strip())
        elif line.startswith("      ") and out:
            out[-1] += " " + line.strip()
    return out


def test_16_the_answer_is_what_kube_proxy_writes_without_web_2():
    """The counterfactual of lesson 16's key, computed: web-2 gone, web-1 terminating."""
    import yaml
    from kubeflow_tui.netfilter import render_rules_S
    from kubeflow_tui.scenario import Scenario

    lesson = lessons_mod.parse_lesson(REPO / "lessons" / "16-rollouts-terminating.md")
    data = yaml.safe_load(lesson.scenario.read_text(encoding="utf-8"))
    data["pods"] = [p for p in data["pods"] if p["name"] != "web-2"]
    sim = ClusterSim(Scenario.model_validate(data))
    chain = render_rules_S(sim.node_ruleset("node-b"), "nat", "KUBE-SVC-CDGGSHYLG3RE2FKL").splitlines()
    quoted = _rule_lines(lesson.answers[0].answer)
    assert quoted and all(re.sub(r"\s+", " ", q) in [re.sub(r"\s+", " ", c) for c in chain] for q in quoted), chain
    assert sim.run_flow("to-web").steps[-1].host == "web-1"


def test_17_the_answer_is_the_rule_node_b_meets():
    import yaml
    from kubeflow_tui.scenario import Scenario

    lesson = lessons_mod.parse_lesson(REPO / "lessons" / "17-dns-for-services.md")
    data = yaml.safe_load(lesson.scenario.read_text(encoding="utf-8"))
    data["pods"] = [p for p in data["pods"] if not p["name"].startswith("coredns")]
    trace = ClusterSim(Scenario.model_validate(data)).run_flow("dns-query")
    rejects = [s for s in trace.steps if s.kind == "reject"]
    assert trace.error == "ECONNREFUSED" and rejects and rejects[0].host == "node-b"
    assert rejects[0].hook == "FORWARD" and rejects[0].table == "filter"
    assert _rule_lines(lesson.answers[0].answer) == [rejects[0].rule]


def _lesson(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "01-x.md"
    p.write_text("---\ntitle: X\nscenario: scenarios/clusterip.yaml\nflows: [pod-other-node]\nminutes: 5\n---\n"
                 + body, encoding="utf-8")
    return p


def test_the_answer_is_taken_out_of_the_text(tmp_path):
    p = _lesson(tmp_path, "# X\n\nText.\n\n## Check yourself\n\nWhy?\n\n~~~answer\nBecause.\n~~~\n\nAfter.\n")
    lesson = lessons_mod.parse_lesson(p)
    assert [(a.prompt, a.answer, a.line) for a in lesson.answers] == [("Why?", "Because.", 15)]
    assert "Because" not in lesson.body and "After." in lesson.body
    shown = lesson.body_with_answer_note("(press a)")
    assert shown.index("Why?") < shown.index("(press a)") < shown.index("After.")


def test_a_prompt_without_a_key_is_reported_with_its_line(tmp_path):
    p = _lesson(tmp_path, "# X\n\n## Check yourself\n\nWhy?\n")
    assert any(e.startswith(f"{p}:9: the Check yourself section has no answer key") for e in lessons_mod.validate([p]))
    p = _lesson(tmp_path, "# X\n\n## Check yourself\n\nWhy?\n\n```answer\nBecause.\n")
    errors = lessons_mod.validate([p])
    assert any("not closed" in e for e in errors) and any("no answer key" in e for e in errors)


def test_plain_mode_gives_the_answer_on_request(tmp_path):
    from kubeflow_tui.plain import PlainSession

    s = PlainSession(lessons_dir=REPO / "lessons")
    assert s.handle("answer") == ["Open a lesson first: type lesson 1."]
    n = [p.stem for p in FILES].index("17-dns-for-services") + 1
    text = s.handle(f"lesson {n}")
    key = lessons_mod.parse_lesson(REPO / "lessons" / "17-dns-for-services.md").answers[0]
    assert not any("resolver reports" in line for line in text)  # hidden in the lesson's text
    assert any(line.startswith("Type answer") for line in text)
    out = s.handle("answer")
    assert out[0] == "Question:" and "Answer:" in out and any("resolver reports" in line for line in out)
    assert key.answer.splitlines()[0].split(":")[0].replace("`", "") in " ".join(out)
