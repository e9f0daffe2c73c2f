"""Questions answered by typing a debugging command.

An answer is right when it is *equivalent* to the reference command: both are run, each
in a fresh simulated shell on the same scenario state, and must print the same thing,
exit the same way and leave the cluster in the same state.  So
``iptables -nL KUBE-SERVICES -t nat`` counts like ``iptables -t nat -L KUBE-SERVICES -n``,
and ``iptables -t nat -F`` (empty output too) does not count like a listing that
happens to print nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

#: Builds a fresh simulator in the state the question is asked about.
SimFactory = Callable[[], Any]


@dataclass(frozen=True)
class CommandQuestion:
    id: str
    prompt: str
    reference: str  # one right command line
    host: str  # where the command runs (a node, usually)
    hints: tuple[str, ...] = ()  # authored hints, vaguest first
    scenario: str = ""
    kind: str = "command"

    def all_hints(self) -> tuple[str, ...]:
        """The authored hints, then the tool, then the reference itself."""
        tool = self.reference.split()[0] if self.reference.split() else ""
        auto = [f"It is a `{tool}` command." ] if tool and not self.hints else []
        return tuple(self.hints) + tuple(auto) + (f"One answer: `{self.reference}`",)

    def hint(self, level: int) -> list[str]:
        """The first ``level`` hints (asking again reveals one more; the last is the answer)."""
        return list(self.all_hints()[: max(0, level)])


@dataclass(frozen=True)
class CommandVerdict:
    correct: bool
    message: str
    output: str  # what the learner's command printed (stdout + stderr)
    expected: str  # what the reference printed
    exit_code: int = 0


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _fingerprint(sim: Any) -> tuple:
    """The state a command may change: every node's rules and conntrack table."""
    return tuple((name, sim.node_ruleset_text(name), tuple(sim.conntrack(name).lines()))
                 for name in sorted(sim.nodes))


def run_fresh(make_sim: SimFactory, host: str, line: str) -> tuple[Any, Any]:
    """Run one command line in a new shell on a new simulator: (ShellResult, sim)."""
    from ..shell import Shell

    sim = make_sim()
    return Shell(sim, host).run(line), sim


def judge_command(question: CommandQuestion, answer: str, make_sim: SimFactory) -> CommandVerdict:
    """Is ``answer`` equivalent to the question's reference command?"""
    line = answer.strip()
    if line.startswith("$ "):
        line = line[2:].strip()
    ref, ref_sim = run_fresh(make_sim, question.host, question.reference)
    expected = ref.stdout + ref.stderr
    if not line:
        return CommandVerdict(False, "Type a command.", "", expected)
    got, got_sim = run_fresh(make_sim, question.host, line)
    output = got.stdout + got.stderr
    if got.exit_code != ref.exit_code:
        msg = (f"That command failed (exit code {got.exit_code})." if got.exit_code
               else "That command succeeded where the expected one fails.")
        return CommandVerdict(False, msg, output, expected, got.exit_code)
    if _normal(got.stdout) != _normal(ref.stdout):
        return CommandVerdict(False, "It runs, but it does not show what was asked.", output, expected,
                              got.exit_code)
    if _fingerprint(got_sim) != _fingerprint(ref_sim):
        return CommandVerdict(False, "Same output, but it changes the cluster's rules or conntrack "
                              "table differently.", output, expected, got.exit_code)
    same = " ".join(line.split()) == " ".join(question.reference.split())
    msg = "Right." if same else f"Right: equivalent to `{question.reference}`."
    return CommandVerdict(True, msg, output, expected, got.exit_code)


def scenario_state(scenario: Any, *, seed: int | None = None, flows: Iterable[str] = ()) -> SimFactory:
    """A factory of fresh simulators of ``scenario`` after running ``flows`` in order."""
    names = tuple(flows)

    def make() -> Any:
        from ..cluster import ClusterSim

        sim = ClusterSim(scenario, seed=seed)
        for f in names:
            sim.run_flow(f)
        return sim

    return make


def standard_command_questions(scenario: Any, *, flow: str | None = None) -> list[CommandQuestion]:
    """A few questions every scenario supports, on the node the flow's first packet uses."""
    node = scenario.cluster.nodes[0].name
    if flow is not None:
        f = scenario.flow(flow)
        for n in scenario.cluster.nodes:
            if f.from_ == n.name:
                node = n.name
        for p in scenario.pods:
            if f.from_ == p.name:
                node = p.node
    qs = [
        CommandQuestion(
            f"{scenario.name}/command/kube-services", f"On {node}, list the nat table's KUBE-SERVICES "
            "chain with numeric addresses (no DNS look-ups).", "iptables -t nat -L KUBE-SERVICES -n", node,
            ("The nat table holds kube-proxy's Service rules: -t nat.", "-L lists a chain, -n keeps it numeric."),
            scenario.name),
        CommandQuestion(
            f"{scenario.name}/command/save-nat", f"On {node}, print the nat table the way `iptables-save` "
            "prints it, and nothing else.", "iptables-save -t nat", node,
            ("iptables-save can print one table.",), scenario.name),
        CommandQuestion(
            f"{scenario.name}/command/postrouting", f"On {node}, show the rules of KUBE-POSTROUTING as "
            "commands (the -S form).", "iptables -t nat -S KUBE-POSTROUTING", node,
            ("-S prints rules as the commands that would create them.",), scenario.name),
    ]
    if flow is not None:
        qs.append(CommandQuestion(
            f"{scenario.name}/command/conntrack", f"The flow {flow} has run. On {node}, list the "
            "connection tracking table.", "conntrack -L", node, ("conntrack-tools can list the table.",),
            scenario.name))
    return qs
