"""Troubleshooting cases ("broken clusters"): data files ``cases/*.yaml``.

A case names a scenario (a file under ``scenarios/cases/`` with the fault built in, or a
base scenario broken at start by ``setup`` actions), a symptom that is *verified by
running the flow* (``outcome``), hints, the commands a good investigation runs, a
multiple-choice diagnosis and optionally a fix check (a flow that must succeed after the
learner's commands).  Errors read ``file:line:col: field: message`` like the scenario
loader's (:class:`CaseError` is a :class:`~kubeflow_tui.scenario.ScenarioError`).

Example::

    title: A Service with no endpoints
    scenario: ../scenarios/cases/not-ready.yaml   # relative to this file, or a shipped name
    setup:                                        # optional, in order
      - run: dns-query                            # run a flow of the scenario
      - event: {action: delete-pod, pod: coredns-1}
      - shell: iptables -t nat -D KUBE-SERVICES 1
        host: node-a
      - conntrackMax: {host: node-b, max: 2}
    host: node-b                                  # where the learner's shell starts
    symptom:
      flow: no-backend
      outcome: refused                            # delivered refused timeout unreachable
      text: curl 10.96.0.1:8080 from client is refused at once.
    hints: [...]
    investigate:
      - {host: node-b, command: iptables -t filter -S KUBE-SERVICES, expect: has no endpoints}
    diagnosis:
      question: Why is the connection refused?
      options: [..., ...]
      answer: 0                                   # 0-based
      explanation: ...
    fix:                                          # optional
      commands: [{host: node-a, command: ...}]    # one reference fix (the tests run it)
      check: {flow: no-backend, outcome: delivered}
      # check.before: commands run first on a copy of the learner's cluster (the next rollout)

An app that connects by name: ``symptom.lookup`` / ``fix.check.lookup`` ``{from: POD, env:
VAR}`` (or ``name: NAME``) resolves it in that pod first (search list and ndots as glibc
applies them, each query a DNS flow), then runs the flow to the address found;
``outcome: unresolved`` when nothing resolves.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..scenario import ErrorDetail, Event, ScenarioError, load_scenario
from ..scenario.loader import format_path
from ..trace import Trace
from .model import Question, Result, grade

OUTCOMES = ("delivered", "refused", "timeout", "unreachable", "dropped", "unresolved")
_Outcome = Literal["delivered", "refused", "timeout", "unreachable", "dropped", "unresolved"]
MAX_CASE_BYTES = 256 * 1024
MAX_CASE_VALUES = 20_000


class CaseError(ScenarioError):
    """A case file that cannot be used (``str()``: ``file:line:col: field: message``)."""


# ------------------------------------------------------------------ schema


def _fail(msg: str, *at: str | int) -> PydanticCustomError:
    """A validation error located ``at`` a path below the model raising it."""
    return PydanticCustomError("case", "{msg}", {"msg": msg, "at": tuple(at)})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Command(_Strict):
    host: str = Field(description="Where the command runs (a node, pod or client)")
    command: str = Field(min_length=1, description="The command line")
    expect: str = Field("", description="Text the output must contain (checked by the tests)")


class ConntrackMax(_Strict):
    host: str = Field(description="A node")
    max: int = Field(ge=0, description="nf_conntrack_max for this node's table")


class SetupAction(_Strict):
    """Exactly one of run, event, shell, conntrackMax or conntrackCleanup."""

    run: str | None = Field(None, description="Run this flow of the scenario")
    event: Event | None = Field(None, description="Apply a timeline event (kube-proxy resyncs)")
    shell: str | None = Field(None, description="Run this command line (needs host)")
    host: str | None = Field(None, description="shell: where it runs")
    conntrackMax: ConntrackMax | None = Field(None, description="Shrink a node's conntrack table")
    conntrackCleanup: bool | None = Field(
        None, description="false: kube-proxy's deletion of stale UDP conntrack entries after a sync "
        "fails (as when it cannot reach the conntrack netlink interface)")

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("run", "event", "shell", "conntrackMax", "conntrackCleanup")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a setup action needs exactly one of run, event, shell, conntrackMax, "
                             "conntrackCleanup"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.shell is not None and self.host is None:
            raise _fail("a shell action needs host", "shell")
        if self.shell is None and self.host is not None:
            raise _fail("host is only for shell actions", "host")
        return self


class Lookup(_Strict):
    """The app looks a name up before it connects: its pod's resolver (search list and
    ndots as glibc applies them, each query a DNS flow through the kube-dns Service) turns
    the name into the address the flow then connects to."""

    from_: str = Field(alias="from", description="The app's pod (after a rollout: the new pod of its "
                       "Deployment); the flow's from")
    name: str | None = Field(None, min_length=1, description="The name the app looks up")
    env: str | None = Field(None, min_length=1, description="Or: the pod's environment variable that "
                            "holds it (the app's configuration, which `kubectl set env` changes)")

    @model_validator(mode="after")
    def _one(self):
        if (self.name is None) == (self.env is None):
            raise ValueError("a lookup needs exactly one of name and env")
        return self


def _lookup_outcome(model: Any) -> Any:
    if model.outcome == "unresolved" and model.lookup is None:
        raise _fail("outcome unresolved needs a lookup (the name that does not resolve)", "outcome")
    return model


class Symptom(_Strict):
    flow: str = Field(description="The flow that shows the problem")
    outcome: _Outcome = Field(
        description="What the flow's Trace must end with (verified when the case starts); "
        "unresolved: the lookup finds no address, so the app never connects")
    lookup: Lookup | None = Field(None, description="The name the app looks up first; the flow "
                                  "connects to the address it resolves to, on the flow's port")
    text: str = Field(min_length=1, description="The symptom as a user reports it")

    _v_outcome = model_validator(mode="after")(_lookup_outcome)


class Diagnosis(_Strict):
    question: str = Field(min_length=1)
    options: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="0-based index of the right option")
    explanation: str = Field(min_length=1)

    @model_validator(mode="after")
    def _answer(self):
        if self.answer >= len(self.options):
            raise _fail(f"answer {self.answer} is not an option index (0..{len(self.options) - 1})", "answer")
        if len(set(self.options)) != len(self.options):
            raise _fail("options must differ from each other", "options")
        return self


class FixCheck(_Strict):
    flow: str
    outcome: _Outcome = "delivered"
    lookup: Lookup | None = Field(None, description="Re-run the app's name lookup first (as the symptom's)")
    sourcePort: int | None = Field(None, ge=1024, le=65535, description="Default: a fresh port, "
                                   "as a new curl would use; set it to reuse the symptom's port")
    before: list[Command] = Field(default_factory=list, description="Commands run first on a copy of "
                                  "the learner's cluster (the next rollout), so the check judges the fix "
                                  "by the next incident, not by the passing of this one")


class Fix(_Strict):
    commands: list[Command] = Field(default_factory=list, description="One reference fix")
    check: FixCheck


class CaseModel(_Strict):
    title: str = Field(min_length=1, description="What a user reports, naming no cause "
                       "(\"checkout can't reach payments\")")
    summary: str = Field("", description="The cause, shown only after the diagnosis or giving up")
    fault: str | None = Field(None, description="The fault's kind (kubeflow_tui.quiz.practice.FAULTS); "
                              "never shown before the case is over")
    difficulty: int = Field(1, ge=1, le=3)
    scenario: str = Field(min_length=1, description="Scenario file (relative to the case) or shipped name")
    seed: int | None = None
    setup: list[SetupAction] = Field(default_factory=list)
    host: str | None = Field(None, description="Where the learner's shell starts (default: first node)")
    symptom: Symptom
    hints: list[str] = Field(default_factory=list)
    investigate: list[Command] = Field(default_factory=list)
    diagnosis: Diagnosis
    fix: Fix | None = None


# ------------------------------------------------------------------ loading with marks

PathT = tuple[Union[str, int], ...]


def _build(node: Any, path: PathT, marks: dict[PathT, Any], errors: list[tuple[Any, PathT, str]],
           loader: yaml.SafeLoader) -> Any:
    """Plain data from a composed YAML node, remembering where each value starts."""
    marks.setdefault(path, node.start_mark)
    if len(marks) > MAX_CASE_VALUES:
        raise CaseError.single(node.start_mark.name, f"more than {MAX_CASE_VALUES:,} values (an alias bomb?)",
                               line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        try:
            return loader.construct_object(node)
        except yaml.YAMLError as e:
            errors.append((node.start_mark, path, f"cannot read {node.value!r}: {e}"))
            return None
    if isinstance(node, SequenceNode):
        return [_build(v, path + (i,), marks, errors, loader) for i, v in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, ScalarNode) else None
            if key is None:
                errors.append((k.start_mark, path, "a mapping key must be a plain string"))
                continue
            if key in out:
                errors.append((k.start_mark, path + (key,), f"duplicate key {key!r}"))
                continue
            marks[path + (key,)] = v.start_mark
            out[key] = _build(v, path + (key,), marks, errors, loader)
        return out
    errors.append((node.start_mark, path, "unsupported YAML node"))
    return None


def _detail(source: str, marks: dict[PathT, Any], path: PathT, message: str) -> ErrorDetail:
    probe = path
    mark = marks.get(probe)
    while mark is None and probe:
        probe = probe[:-1]
        mark = marks.get(probe)
    return ErrorDetail(source, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                       format_path(path), message)


@dataclass
class Case:
    """A loaded, checked case."""

    id: str
    path: Path
    model: CaseModel
    scenario: Any  # kubeflow_tui.scenario.Scenario
    marks: dict = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        return self.model.title

    @property
    def shell_host(self) -> str:
        return self.model.host or self.scenario.cluster.nodes[0].name

    def diagnosis_question(self, step_index: int = 0) -> Question:
        d = self.model.diagnosis
        return Question(f"case/{self.id}/diagnosis", "diagnosis", d.question, tuple(d.options), d.answer,
                        d.explanation, step_index, self.scenario.name, self.model.symptom.flow)


def _resolve_scenario(ref: str, base: Path) -> Path:
    p = (base / ref) if not os.path.isabs(ref) else Path(ref)
    if p.is_file():
        return p
    from ..resources import find_scenario

    return find_scenario(ref)


def load_case_text(text: str, source: str = "<string>", *, base: Path | None = None) -> Case:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CASE_BYTES:
        raise CaseError.single(source, f"file is too large (the limit is {MAX_CASE_BYTES:,} bytes)")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        raise CaseError.single(source, f"invalid YAML: {e.problem or e.context}",
                               line=m.line + 1 if m else None, column=m.column + 1 if m else None) from None
    if not isinstance(root, MappingNode):
        raise CaseError.single(source, "a case file is a mapping (title:, scenario:, symptom:, diagnosis:)",
                               line=1, column=1)
    marks: dict[PathT, Any] = {}
    errs: list[tuple[Any, PathT, str]] = []
    data = _build(root, (), marks, errs, yaml.SafeLoader(""))
    if errs:
        raise CaseError([ErrorDetail(source, m.line + 1, m.column + 1, format_path(p), msg) for m, p, msg in errs])
    try:
        model = CaseModel.model_validate(data)
    except ValidationError as e:
        details = []
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"]) + tuple((err.get("ctx") or {}).get("at", ()))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}"
            elif err["type"] == "missing":
                msg = f"missing required key {loc[-1]!r}"
            details.append(_detail(source, marks, loc, msg))
        raise CaseError(details) from None
    base = base if base is not None else Path(source).resolve().parent
    try:
        scen_path = _resolve_scenario(model.scenario, base)
    except FileNotFoundError as e:
        raise CaseError([_detail(source, marks, ("scenario",), str(e))]) from None
    scenario = load_scenario(scen_path)  # its own errors point into the scenario file
    case = Case(Path(source).stem, Path(source), model, scenario, marks)
    problems = _cross_check(case)
    if problems:
        raise CaseError([_detail(source, marks, p, m) for p, m in problems])
    return case


def load_case(path: str | os.PathLike[str]) -> Case:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CaseError.single(str(p), f"cannot read the file: {e}") from None
    return load_case_text(text, str(p), base=p.resolve().parent)


def _cross_check(case: Case) -> list[tuple[PathT, str]]:
    s = case.scenario
    m = case.model
    flows = {f.name for f in s.flows}
    hosts = {n.name for n in s.cluster.nodes} | {p.name for p in s.pods} | {c.name for c in s.clients}
    nodes = {n.name for n in s.cluster.nodes}
    out: list[tuple[PathT, str]] = []

    def flow(name: str, *path: str | int) -> None:
        if name not in flows:
            out.append((path, f"flow {name!r} is not in scenario {s.name} (flows: {', '.join(sorted(flows))})"))

    def host(name: str, *path: str | int) -> None:
        if name not in hosts:
            out.append((path, f"host {name!r} is not a node, pod or client of scenario {s.name}"))

    for i, a in enumerate(m.setup):
        if a.run is not None:
            flow(a.run, "setup", i, "run")
        if a.host is not None:
            host(a.host, "setup", i, "host")
        if a.conntrackMax is not None and a.conntrackMax.host not in nodes:
            out.append((("setup", i, "conntrackMax", "host"), f"{a.conntrackMax.host!r} is not a node"))
    if m.host is not None:
        host(m.host, "host")
    flow(m.symptom.flow, "symptom", "flow")
    checks = [(("symptom",), m.symptom.flow, m.symptom.lookup)]
    if m.fix is not None:
        checks.append((("fix", "check"), m.fix.check.flow, m.fix.check.lookup))
    pods = {p.name: p for p in s.pods}
    for at, fname, lk in checks:
        if lk is None:
            continue
        if lk.from_ not in pods:
            out.append((at + ("lookup", "from"), f"{lk.from_!r} is not a pod of scenario {s.name}"))
        elif lk.env is not None and lk.env not in pods[lk.from_].env:
            out.append((at + ("lookup", "env"), f"pod {lk.from_} has no environment variable {lk.env!r}"))
        if fname in flows and s.flow(fname).from_ != lk.from_:
            out.append((at + ("lookup", "from"), f"the lookup runs in {lk.from_}, but flow {fname} starts "
                        f"from {s.flow(fname).from_}: they are the same app"))
    for i, c in enumerate(m.investigate):
        host(c.host, "investigate", i, "host")
    if m.fix is not None:
        flow(m.fix.check.flow, "fix", "check", "flow")
        for i, c in enumerate(m.fix.commands):
            host(c.host, "fix", "commands", i, "host")
        for i, c in enumerate(m.fix.check.before):
            host(c.host, "fix", "check", "before", i, "host")
    return out


def is_case_file(path: str | os.PathLike[str]) -> bool:
    """A case file has ``diagnosis`` and ``symptom`` at the top level (a scenario has ``cluster``)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except Exception:
        return False
    return isinstance(data, dict) and "diagnosis" in data and "symptom" in data


def cases_dir() -> Path:
    from ..resources import data_dir

    return data_dir("cases")


def list_cases() -> list[Path]:
    try:
        return sorted(cases_dir().glob("*.yaml"))
    except FileNotFoundError:
        return []


def find_case(ref: str) -> Path | None:
    """A shipped case by id: its file stem (``09-one-client-hangs``), the stem without its
    number (``one-node-no-route``), either with ``.yaml``; None when no case has that name."""
    name = ref[:-5] if ref.endswith(".yaml") else ref
    for c in list_cases():
        if c.stem == name or re.sub(r"^\d+-", "", c.stem) == name:
            return c
    return None


# ------------------------------------------------------------------ running a case


class CaseSession:
    """One learner working on one case: a broken cluster, a shell, a diagnosis, a fix.

    ``sim`` is the cluster after ``setup`` and the symptom flow (so `conntrack -L` shows
    the failed attempt, as on a real node).  ``run(line)`` runs a command through the
    simulated shell; ``answer(choice)`` grades the diagnosis; ``check_fix()`` runs the
    fix flow on the learner's cluster.
    """

    def __init__(self, case: Case, *, seed: int | None = None):
        self.case = case
        self.seed = case.model.seed if seed is None else seed
        self.sim = self.fresh_sim()
        sym = case.model.symptom
        #: the symptom's name lookup (cases whose app looks a name up first), else None
        self.symptom_lookup: Any = None
        if sym.lookup is None:
            self.symptom_trace: Trace = self.sim.run_flow(sym.flow)
            self.symptom_outcome = self.symptom_trace.outcome
        else:
            flow = case.scenario.flow(sym.flow)
            self.symptom_outcome, trace, self.symptom_lookup = self._run_with_lookup(flow, sym.lookup)
            if trace is None:
                raise CaseError([_detail(str(case.path), case.marks, ("symptom", "lookup"),
                                         f"the lookup sent no query: {self.symptom_lookup.story()}")])
            self.symptom_trace = trace
        if self.symptom_outcome != sym.outcome:
            what = (self.symptom_lookup.story() if self.symptom_lookup is not None and
                    self.symptom_outcome == "unresolved" else self.symptom_trace.summary)
            raise CaseError([_detail(str(case.path), case.marks, ("symptom", "outcome"),
                                     f"the flow {sym.flow} ended {self.symptom_outcome!r}, "
                                     f"not {sym.outcome!r}: {what}")])
        self.host = case.shell_host
        self._shells: dict[str, Any] = {}
        self.log: list[tuple[str, str, Any]] = []  # (host, line, ShellResult)
        self.hints_shown = 0
        self.diagnosis_result: Result | None = None
        self.fix_trace: Trace | None = None
        self.fix_outcome = ""
        self.fix_lookup: Any = None
        self.fix_error = ""
        self.gave_up = False
        self._checks = 0

    # -- state
    def fresh_sim(self) -> Any:
        """A new simulator with the case's setup applied (the broken cluster)."""
        from ..cluster import ClusterSim

        sim = ClusterSim(self.case.scenario, seed=self.seed)
        for a in self.case.model.setup:
            if a.run is not None:
                sim.run_flow(a.run)
            elif a.event is not None:
                sim.apply_event(a.event)
            elif a.conntrackMax is not None:
                sim.conntrack(a.conntrackMax.host).max_entries = a.conntrackMax.max
            elif a.conntrackCleanup is not None:
                sim.conntrack_cleanup = a.conntrackCleanup
            elif a.shell is not None:
                from ..shell import Shell
                from ..shell.kubectl_fix import install

                r = install(Shell(sim, a.host)).run(a.shell)
                if r.exit_code != 0:
                    raise CaseError.single(str(self.case.path), f"setup command {a.shell!r} on {a.host} "
                                           f"failed: {(r.stderr or r.stdout).strip()}")
        return sim

    @property
    def question(self) -> Question:
        return self.case.diagnosis_question(_deciding_step(self.symptom_trace))

    # -- shell
    def shell(self, host: str | None = None) -> Any:
        from ..shell import Shell

        from ..shell.kubectl_fix import install

        h = host or self.host
        if h not in self._shells:
            self._shells[h] = install(Shell(self.sim, h))
        return self._shells[h]

    def run(self, line: str, host: str | None = None) -> Any:
        result = self.shell(host).run(line)
        self.log.append((host or self.host, line, result))
        return result

    # -- help
    def next_hint(self) -> str | None:
        hints = self.case.model.hints
        if self.hints_shown >= len(hints):
            return None
        self.hints_shown += 1
        return hints[self.hints_shown - 1]

    # -- answers
    def answer(self, choice: int) -> Result:
        self.diagnosis_result = grade(self.question, choice)
        return self.diagnosis_result

    def give_up(self) -> str:
        """Stop guessing: the diagnosis counts as wrong; returns what :meth:`reveal` says."""
        self.gave_up = True
        return self.reveal()

    @property
    def revealed(self) -> bool:
        """The cause may be shown: the diagnosis was answered, or the learner gave up."""
        return self.gave_up or self.diagnosis_result is not None

    def reveal(self) -> str:
        """The cause: the right diagnosis, its explanation, the case's summary and what the
        failing connection really did (only once :attr:`revealed`)."""
        if not self.revealed:
            return ""
        d = self.case.model.diagnosis
        parts = [f"Diagnosis: {d.options[d.answer]}", d.explanation.strip()]
        if self.case.model.summary:
            parts.append(f"What happened: {self.case.model.summary.strip()}")
        if self.symptom_lookup is not None and not self.symptom_lookup.resolved:
            parts.append(f"The failing lookup: {self.symptom_lookup.story()}")
        else:
            parts.append(f"The failing connection: {self.symptom_trace.summary}")
        return "\n".join(parts)

    # -- a lookup, then the connection
    def _app_pod(self, name: str, sim: Any = None) -> str:
        """The app's pod on the learner's cluster: ``name``, or after a rollout (new pods,
        new names) the pod its Deployment runs now."""
        pods = (sim or self.sim).scenario.pods
        if any(p.name == name and not p.terminating for p in pods):
            return name
        orig = next((p for p in self.case.scenario.pods if p.name == name), None)
        if orig is not None and orig.deployment:
            # a pod still listed as Terminating after a rollout is the old one: its successor runs the app
            for p in pods:
                if p.deployment == orig.deployment and p.namespace == orig.namespace and not p.terminating:
                    return p.name
        raise KeyError(f"pod {name} is gone and no pod of its Deployment runs")

    def _run_with_lookup(self, flow: Any, lk: Any, port: int | None = None,
                         sim: Any = None) -> tuple[str, Trace | None, Any]:
        """(outcome, trace, lookup): the app's pod resolves the name (each query a DNS flow);
        resolved, it connects to that address on the flow's port; else the outcome is
        "unresolved" and the trace is the last query's."""
        from ..shell.resolver import lookup

        sim = sim or self.sim
        pod_name = self._app_pod(lk.from_, sim)
        pod = sim.scenario.pod(pod_name)
        name = lk.name if lk.name is not None else pod.env.get(lk.env, "")
        if not name:
            raise KeyError(f"pod {pod_name} has no environment variable {lk.env}")
        found = lookup(sim, pod_name, name)
        if not found.resolved:
            last = found.queries[-1].trace if found.queries else None
            return "unresolved", last, found
        update: dict[str, Any] = {"from_": pod_name, "to": f"{found.address}:{flow.dst_port}"}
        if port is not None:
            update["sourcePort"] = port
        trace = sim.run(flow.model_copy(update=update))
        return trace.outcome, trace, found

    #: points a case is worth, what a hint costs
    POINTS = 100
    HINT_COST = 10

    @property
    def score(self) -> int:
        """0-100: the diagnosis (40, or all 100 when the case has no fix to make) and the fix
        (60), less 10 per hint taken; giving up scores the diagnosis 0."""
        diag = 40 if self.has_fix else self.POINTS
        got = diag if (self.diagnosis_result is not None and self.diagnosis_result.correct
                       and not self.gave_up) else 0
        if self.fixed:
            got += self.POINTS - diag
        return max(0, got - self.HINT_COST * self.hints_shown) if got else 0

    @property
    def has_fix(self) -> bool:
        return self.case.model.fix is not None

    def check_fix(self) -> tuple[bool, Trace | None]:
        fix = self.case.model.fix
        if fix is None:
            return True, None
        flow = self.case.scenario.flow(fix.check.flow)
        port = fix.check.sourcePort
        self._checks += 1
        if port is None:  # a fresh source port, as a new curl would pick
            port = 42000 + self._checks
        self.fix_error = ""
        self.fix_outcome = ""
        self.fix_lookup = None
        sim = self.sim
        try:
            if fix.check.before:
                import copy

                from ..shell import Shell
                from ..shell.kubectl_fix import install

                sim = copy.deepcopy(self.sim)  # the learner's cluster stays as they left it
                for c in fix.check.before:
                    r = install(Shell(sim, c.host)).run(c.command)
                    if r.exit_code != 0:
                        raise RuntimeError(f"{c.command!r} failed: {(r.stderr or r.stdout).strip()}")
            if fix.check.lookup is not None:
                self.fix_outcome, self.fix_trace, self.fix_lookup = self._run_with_lookup(
                    flow, fix.check.lookup, port, sim=sim)
                if self.fix_outcome == "unresolved" != fix.check.outcome:
                    # what the app itself reports, as its log would: the name and the error
                    self.fix_error = (f"{fix.check.lookup.from_}'s lookup of {self.fix_lookup.name} still fails "
                                      f"({self.fix_lookup.error})")
            else:
                self.fix_trace = sim.run(flow.model_copy(update={"sourcePort": port}),
                                         endpoint=flow.endpoint if flow.endpoint in sim.topology.hosts else None)
                self.fix_outcome = self.fix_trace.outcome
        except Exception as e:  # noqa: BLE001 - e.g. the flow's client pod was deleted
            self.fix_trace = None
            self.fix_outcome = ""
            self.fix_error = f"{fix.check.flow} cannot run on this cluster: {e}"
        return self.fixed, self.fix_trace

    @property
    def check_note(self) -> str:
        """What ``check`` does before the connection, when the case says (``fix.check.before``):
        `` after `kubectl rollout restart deployment/web` on a copy of your cluster``."""
        fix = self.case.model.fix
        if fix is None or not fix.check.before:
            return ""
        cmds = " and ".join(f"`{c.command}`" for c in fix.check.before)
        return f" after {cmds} on a copy of your cluster"

    @property
    def fixed(self) -> bool:
        fix = self.case.model.fix
        return fix is not None and self.fix_trace is not None and self.fix_outcome == fix.check.outcome

    @property
    def points(self) -> tuple[int, int]:
        """(right, total): one point for the diagnosis, one for the fix if the case has one."""
        right = int(self.diagnosis_result is not None and self.diagnosis_result.correct)
        return right + int(self.fixed), 1 + int(self.has_fix)

    @property
    def solved(self) -> bool:
        right, total = self.points
        return right == total


def _deciding_step(trace: Trace) -> int:
    """The step that decided the symptom: a DROP/REJECT, else the last step."""
    for s in trace.steps:
        if s.kind in ("drop", "reject"):
            return s.index
    return len(trace.steps) - 1 if trace.steps else 0
