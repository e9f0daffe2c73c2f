"""Shared pieces of the simulated shell: results, errors, the context a command runs in.

Stdlib only (plus the engine's own modules through ``ShellContext.sim``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..trace import Trace

if TYPE_CHECKING:  # pragma: no cover
    from ..cluster.sim import ClusterSim
    from ..cluster.topology import Host


@dataclass
class ShellResult:
    """What one command line printed and returned."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    trace: Trace | None = None  # set by commands that ran a connection (curl, nc)
    clear: bool = False  # `clear`: the front end should wipe the screen
    exit: bool = False  # `exit`: the session ends (exit_code is the status)
    #: the order the two streams reached the terminal, when it is not "all of stdout, then
    #: all of stderr" (curl -v: verbose lines, body, then "Connection left intact"):
    #: ("out" | "err", text) pieces whose concatenations per stream are stdout and stderr
    parts: list[tuple[str, str]] | None = None

    @property
    def chunks(self) -> list[tuple[str, str]]:
        """("out" | "err", text) in the order a terminal shows them."""
        if self.parts is not None and "".join(t for k, t in self.parts if k == "out") == self.stdout \
                and "".join(t for k, t in self.parts if k == "err") == self.stderr:
            return [(k, t) for k, t in self.parts if t]
        return [(k, t) for k, t in (("out", self.stdout), ("err", self.stderr)) if t]

    @property
    def terminal(self) -> str:
        """Both streams as a terminal shows them (interleaved where the tool interleaves)."""
        return "".join(t for _, t in self.chunks)

    @property
    def output(self) -> str:
        """What a terminal shows (for comparing typed answers)."""
        return self.terminal


class CommandError(Exception):
    """A command failed the way the real tool fails: text for stderr and an exit code."""

    def __init__(self, stderr: str, code: int = 1, stdout: str = ""):
        super().__init__(stderr)
        self.stderr = stderr if stderr.endswith("\n") or not stderr else stderr + "\n"
        self.code = code
        self.stdout = stdout


@dataclass
class ShellState:
    """What survives between commands of one session (beyond the simulation itself)."""

    ct_events: bool = False  # `conntrack -E` armed: the next connection prints events
    ct_event_filter: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    original_pods: set[str] | None = None  # pods of the scenario when the session began (AGE)


@dataclass
class ShellContext:
    sim: "ClusterSim"
    host_name: str
    state: ShellState
    run_flow: Callable[..., Trace] | None = None

    @property
    def host(self) -> "Host | None":
        return self.sim.topology.hosts.get(self.host_name)

    @property
    def kind(self) -> str:
        h = self.host
        return h.kind if h is not None else "gone"

    @property
    def is_node(self) -> bool:
        return self.kind == "node" and self.host_name in self.sim.nodes


def align_table(rows: list[list[str]], sep: int = 3) -> str:
    """Columns like kubectl's tabwriter: each column as wide as its widest cell plus
    ``sep`` spaces; the last column is not padded."""
    if not rows:
        return ""
    ncol = max(len(r) for r in rows)
    widths = [0] * ncol
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    out = []
    for r in rows:
        parts = []
        for i, cell in enumerate(r):
            if i == len(r) - 1:
                parts.append(cell)
            else:
                parts.append(cell.ljust(widths[i] + sep))
        out.append("".join(parts).rstrip() if r and r[-1] == "" else "".join(parts))
    return "\n".join(out) + "\n"
