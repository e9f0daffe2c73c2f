"""Interview practice: a timed session of mixed questions over random clusters.

:func:`random_scenario` builds a valid :class:`~kubeflow_tui.scenario.Scenario` of random
size and Service type (ClusterIP, NodePort, LoadBalancer; sometimes
externalTrafficPolicy Local or sessionAffinity ClientIP) with flows from a pod, a node
and, for NodePort/LoadBalancer, an external client.  :class:`InterviewSession` runs
those flows, generates questions from their Traces, mixes the kinds, adds an incident or
two from the practice generator (:mod:`kubeflow_tui.quiz.practice`: which fault is it, from
the user's report and what the investigation commands print) and keeps time.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from .context import context_from_sim
from .generate import KINDS, generate_questions
from .model import Question, Result, Score, grade
from .reasoning import scenario_reasoning_questions


def random_scenario(rng: random.Random, *, name: str | None = None) -> Any:
    """A valid random scenario (1-3 nodes, 1-4 endpoints, a random Service type)."""
    from ..scenario import Scenario

    n_nodes = rng.randint(1, 3)
    nodes = [{"name": f"node-{'abc'[i]}", "ip": f"192.168.1.{10 + i}", "podCIDR": f"10.244.{i + 1}.0/24"}
             for i in range(n_nodes)]
    target = rng.choice([8080, 80, 9376, 5000])
    port = rng.choice([80, 8080, 443])
    n_ep = rng.randint(1, 4)
    pods = []
    for k in range(n_ep):
        ni = rng.randrange(n_nodes)
        pods.append({"name": f"web-{k + 1}", "node": nodes[ni]["name"], "ip": f"10.244.{ni + 1}.{5 + k}",
                     "deployment": "web", "labels": {"app": "web"},
                     "ports": [{"name": "http", "containerPort": target}]})
    ci = rng.randrange(n_nodes)
    pods.append({"name": "client", "node": nodes[ci]["name"], "ip": f"10.244.{ci + 1}.100",
                 "labels": {"app": "client"}})
    stype = rng.choice(["ClusterIP", "NodePort", "LoadBalancer"])
    sport: dict[str, Any] = {"name": "http", "port": port, "targetPort": rng.choice(["http", target])}
    svc: dict[str, Any] = {"name": "web", "type": stype, "clusterIP": f"10.96.{rng.randint(0, 15)}.{rng.randint(1, 254)}",
                           "selector": {"app": "web"}, "ports": [sport]}
    if rng.random() < 0.2:
        svc["sessionAffinity"] = "ClientIP"
    flows: list[dict[str, Any]] = [
        {"name": "pod-to-service", "from": "client", "to": f"{svc['clusterIP']}:{port}"},
        {"name": "node-to-service", "from": nodes[rng.randrange(n_nodes)]["name"], "to": f"{svc['clusterIP']}:{port}",
         "sourcePort": 40001},
    ]
    # systemServices off: the random clusterIP may be 10.96.0.1 or .10, and the question is
    # about this one Service
    data: dict[str, Any] = {"name": name or f"random-{rng.randint(1000, 9999)}", "seed": rng.randint(0, 9999),
                            "cluster": {"nodes": nodes, "systemServices": False}, "pods": pods, "services": [svc]}
    if stype != "ClusterIP":
        sport["nodePort"] = rng.randint(30000, 32767)
        if rng.random() < 0.25:
            svc["externalTrafficPolicy"] = "Local"
        data["clients"] = [{"name": "user", "kind": "external", "ip": "192.168.1.2"}]
        via = nodes[rng.randrange(n_nodes)]
        if stype == "NodePort":
            flows.append({"name": "external-nodeport", "from": "user", "to": f"{via['ip']}:{sport['nodePort']}"})
        else:
            svc["loadBalancerIP"] = f"203.0.113.{rng.randint(2, 250)}"
            data["loadBalancer"] = {"name": "lb", "ip": "192.168.1.100", "style": rng.choice(["vip", "proxy"])}
            flows.append({"name": "external-lb", "from": "user", "to": f"{svc['loadBalancerIP']}:{port}",
                          "via": via["name"]})
    data["flows"] = flows
    return Scenario.model_validate(data)


def describe_scenario(scenario: Any) -> str:
    """Two or three lines a candidate needs to answer (what the cluster looks like)."""
    svc = scenario.services[0]
    p = svc.ports[0]
    where = f"{svc.clusterIP}:{p.port}"
    if p.nodePort:
        where += f", NodePort {p.nodePort}"
    if svc.loadBalancerIP:
        where += f", LoadBalancer {svc.loadBalancerIP}"
    extra = []
    if svc.externalTrafficPolicy == "Local":
        extra.append("externalTrafficPolicy Local")
    if svc.sessionAffinity == "ClientIP":
        extra.append("sessionAffinity ClientIP")
    eps = ", ".join(f"{q.name} {q.ip} ({q.node})" for q in scenario.endpoints(svc))
    nodes = ", ".join(f"{n.name} {n.ip}" for n in scenario.cluster.nodes)
    return (f"Service {svc.key} ({svc.type}: {where}{'; ' + ', '.join(extra) if extra else ''}), "
            f"targetPort {p.target}.\nEndpoints: {eps or 'none'}.\nNodes: {nodes}.")


#: lines of each investigation command's output an incident question shows
EVIDENCE_LINES = 30


@dataclass(frozen=True)
class InterviewItem:
    question: Question
    brief: str  # the cluster the question is about (describe_scenario)


class InterviewSession:
    """A timed run of ``count`` mixed questions.  ``clock`` is injectable for tests."""

    def __init__(self, *, seed: int | None = None, count: int = 10, minutes: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, max_scenarios: int = 12):
        self.seed = seed if seed is not None else random.SystemRandom().randint(0, 2**31)
        self.rng = random.Random(self.seed)
        self.limit = minutes * 60
        self.clock = clock
        self.items = self._pick(count, max_scenarios)
        self.score = Score()
        self.position = 0
        self.started = clock()

    def _pick(self, count: int, max_scenarios: int) -> list[InterviewItem]:
        from ..cluster import ClusterSim

        pool: list[InterviewItem] = []
        for i in range(max_scenarios):
            sc = random_scenario(self.rng, name=f"interview-{i + 1}")
            brief = describe_scenario(sc)
            flows = {f.name: f for f in sc.flows}
            for f in sc.flows:
                sim = ClusterSim(sc)
                ctx = context_from_sim(sim)
                trace = sim.run_flow(f.name)
                pool += [InterviewItem(q, f"{brief}\nFlow: {f.from_} → {f.to}.")
                         for q in generate_questions(trace, seed=self.seed, context=ctx)]
            # the questions that need the engine to run again: counterfactuals, compare, affinity
            for q in scenario_reasoning_questions(sc, seed=self.seed):
                f = flows.get(q.flow)
                pool.append(InterviewItem(q, brief + (f"\nFlow: {f.from_} → {f.to}." if f else "")))
            if len(pool) >= 4 * count and len({it.question.kind for it in pool}) >= min(5, len(KINDS)):
                break
        self.rng.shuffle(pool)
        incidents = self._incidents(1 if count < 6 else 2) if count >= 3 else []
        picked: list[InterviewItem] = []
        used: dict[str, int] = {}
        while pool and len(picked) < count - len(incidents):
            # the least asked kind next, so the session stays mixed
            best = min(pool, key=lambda it: used.get(it.question.kind, 0))
            pool.remove(best)
            used[best.question.kind] = used.get(best.question.kind, 0) + 1
            picked.append(best)
        for item in incidents:  # somewhere in the second half: after a few warm-up questions
            picked.insert(self.rng.randint(len(picked) // 2, len(picked)), item)
        return picked

    def _incidents(self, n: int) -> list[InterviewItem]:
        """``n`` incidents from the practice generator (a random cluster with one fault of
        the catalogue, each of another kind): the brief is what the user reports and what
        the case's investigation commands print on the broken cluster; the question, which
        cause it is (the case's own diagnosis, its distractors the other causes of the
        same symptom)."""
        from .cases import CaseSession
        from .practice import practice_case

        out: list[InterviewItem] = []
        faults: set[str] = set()
        for _ in range(4 * n):
            if len(out) >= n:
                break
            pseed = self.rng.randint(0, 99999)
            try:
                case = practice_case(pseed)
            except Exception:  # noqa: BLE001 - a seed the generator cannot use is skipped
                continue
            if case.model.fault in faults:
                continue
            faults.add(case.model.fault)
            session = CaseSession(case, seed=pseed)
            lines = [f"Incident: {case.title}.", f"Reported: {case.model.symptom.text}"]
            for inv in case.model.investigate:
                r = session.run(inv.command, inv.host)
                shown = (r.stdout or r.stderr or "").rstrip("\n").splitlines()
                lines.append(f"{inv.host}$ {inv.command}")
                lines += shown[:EVIDENCE_LINES] + (["…"] if len(shown) > EVIDENCE_LINES else [])
            d = case.diagnosis_question()
            q = Question(f"practice/{pseed}/diagnosis", "diagnosis", d.prompt, d.options, d.answer_index,
                         d.explanation.strip() + f"\n(practice incident {pseed}: `kubeflow-tui practice --seed "
                         f"{pseed}` lets you fix it)", 0, d.scenario, d.flow, case.shell_host,
                         f"practice {case.model.fault}")
            out.append(InterviewItem(q, "\n".join(lines)))
        return out

    # -- time
    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def time_left(self) -> float:
        return max(0.0, self.limit - self.elapsed)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.items) or self.time_left <= 0

    # -- questions
    def current(self) -> InterviewItem | None:
        return None if self.finished else self.items[self.position]

    def answer(self, choice: int) -> Result:
        item = self.current()
        if item is None:
            raise RuntimeError("the session is over")
        result = grade(item.question, choice)
        self.score.add(item.question, result)
        self.position += 1
        return result

    def summary_data(self) -> dict:
        """The session as plain data for the progress file (also when time ran out)."""
        topics: dict[str, dict[str, int]] = {}
        for q, r in self.score.results:
            t = topics.setdefault(q.topic, {"right": 0, "total": 0})
            t["total"] += 1
            t["right"] += int(r.correct)
        return {"seed": self.seed, "right": self.score.right, "total": self.score.total,
                "questions": len(self.items), "unanswered": len(self.items) - self.position,
                "seconds": int(self.elapsed), "topics": topics, "review": self.score.review()}

    def report(self) -> str:
        unanswered = len(self.items) - self.position
        text = self.score.summary()
        minutes, seconds = divmod(int(self.elapsed), 60)
        text += f"\nTime: {minutes}:{seconds:02d}"
        if unanswered:
            text += f" (time ran out with {unanswered} question{'s' if unanswered > 1 else ''} unanswered)"
        return text
