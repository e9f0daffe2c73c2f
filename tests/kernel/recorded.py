"""What the kernel did on every shipped scenario, recorded, so that machines without root
still hold the simulator against it (``tests/test_cluster_sim.py``).

Record (as root): ``python -m tests.kernel.recorded`` writes
``tests/kernel/fixtures/scenarios/<scenario>.json``: per flow, the kernel's own output
(``xtables-monitor --trace``, ``conntrack -E``, ``conntrack -L`` open and closed) of every
node and the flow's outcome, plus a fingerprint of what was run (the flows and the rules
``generate_restore`` wrote).  ``load(path)`` turns a recording back into ``KernelResult``s
(the texts are parsed again, with today's parsers); a recording whose fingerprint no
longer matches the scenario is stale and says so.

Stdlib only on the reading side.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from kubeflow_tui.scenario.models import Scenario

from .capture import parse_conntrack, parse_trace
from .netns import HostCapture, KernelResult

FIXTURES = Path(__file__).with_name("fixtures") / "scenarios"
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def fingerprint(scenario: Scenario) -> str:
    """What a recording depends on: every flow and every node's rules."""
    from kubeflow_tui.kubeproxy import generate_restore

    h = hashlib.sha256()
    flows = [f.model_dump(by_alias=True) for f in scenario.flows]
    for f in flows:  # keepOpen came after the recordings; a flow that closes runs as it did
        if not f.get("keepOpen"):
            f.pop("keepOpen", None)
        if f.get("at") is None:  # so did at (a time on the timeline): a flow without one runs as it did
            f.pop("at", None)
    h.update(json.dumps(flows, sort_keys=True).encode())
    for n in scenario.cluster.nodes:
        h.update(n.name.encode() + b"\0" + generate_restore(scenario, n.name).encode())
    if scenario.networkPolicies:  # the pods' ingress rules (tests/kernel/netpol.py)
        h.update(json.dumps([p.model_dump(by_alias=True) for p in scenario.networkPolicies],
                            sort_keys=True).encode())
    return h.hexdigest()[:16]


def prerequisites(sc: Scenario, flow: str, seen: set[str] | None = None) -> list[str]:
    """The flows ``after`` names, depth first, each once (as ClusterSim runs them)."""
    seen = set() if seen is None else seen
    out: list[str] = []
    for name in sc.flow(flow).after:
        if name in seen:
            continue
        seen.add(name)
        out += prerequisites(sc, name, seen)
        out.append(name)
    return out


_RESULT_FIELDS = ("scenario", "flow", "protocol", "source", "to", "outcome", "error", "reply", "server",
                  "server_saw", "client_local", "client_saw", "attempts")
_HOST_FIELDS = ("trace_text", "events_text", "conntrack_open_text", "conntrack_text")


_NOISE = re.compile(r" (?:MACSRC|MACDST|MACPROTO|TOS|TTL|LEN|ID)=\S+")


def _slim(text: str) -> str:
    """A trace without what no comparison reads (MAC addresses, TTL, IP id, lengths)."""
    return _NOISE.sub("", text)


def result_to_dict(res: KernelResult) -> dict:
    d = {k: getattr(res, k) for k in _RESULT_FIELDS}
    d["hosts"] = {
        name: {**{k: getattr(cap, k) for k in _HOST_FIELDS}, "tables": list(cap.tables)}
        for name, cap in res.hosts.items()
    }
    for h in d["hosts"].values():
        h["trace_text"] = _slim(h["trace_text"])
    return d


def result_from_dict(d: dict) -> KernelResult:
    res = KernelResult(**{k: d[k] for k in _RESULT_FIELDS})
    for name, h in d["hosts"].items():
        tables = tuple(h["tables"])
        res.hosts[name] = HostCapture(
            host=name, netns="(recorded)",
            trace_text=h["trace_text"], packets=parse_trace(h["trace_text"]),
            events_text=h["events_text"], events=parse_conntrack(h["events_text"]),
            conntrack_open_text=h["conntrack_open_text"], conntrack_open=parse_conntrack(h["conntrack_open_text"]),
            conntrack_text=h["conntrack_text"], conntrack=parse_conntrack(h["conntrack_text"]),
            tables=tables, referee_raw="raw" not in tables,
        )
    return res


@dataclass
class RecordedFlow:
    scenario: str  # file stem
    flow: str
    chain: list[str]  # the flows run, prerequisites first
    results: list[KernelResult]  # one per flow of the chain


def load(path: Path, scenario: Scenario) -> tuple[list[RecordedFlow], str]:
    """(flows, "") or ([], why the recording cannot be used)."""
    data = json.loads(path.read_text())
    if data.get("fingerprint") != fingerprint(scenario):
        return [], (f"{path.name} is stale (the scenario's flows or rules changed since it was "
                    "recorded): re-record as root with python -m tests.kernel.recorded")
    out = []
    for f in data["flows"]:
        out.append(RecordedFlow(path.stem, f["flow"], f["chain"], [result_from_dict(r) for r in f["results"]]))
    return out, ""


def egress_policy_drops(sc: Scenario, flow: str) -> bool:
    """Whether the simulator drops the flow at a CNI egress NetworkPolicy step."""
    if not sc.networkPolicies:
        return False
    from kubeflow_tui.cluster import ClusterSim
    from kubeflow_tui.cluster.policy import EGRESS_STEP

    return any(s.kind == "drop" and s.chain == EGRESS_STEP for s in ClusterSim(sc).run_flow(flow).steps)


def record(paths: list[Path]) -> None:
    import platform
    import subprocess

    from kubeflow_tui.kubeproxy import generate_restore
    from kubeflow_tui.scenario import load_scenario

    from .netns import KernelCluster

    FIXTURES.mkdir(parents=True, exist_ok=True)
    versions = " / ".join([
        f"kernel {platform.release()}",
        subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout.strip(),
        subprocess.run(["conntrack", "--version"], capture_output=True, text=True).stdout.strip(),
    ])
    for path in paths:
        sc = load_scenario(path)
        flows = []
        with KernelCluster(sc, generate_restore, timeout=1.0) as kc:
            for flow in sc.flows:
                if egress_policy_drops(sc, flow.name):
                    continue  # no CNI for egress in the referee (tests/kernel/netpol.py)
                chain = prerequisites(sc, flow.name) + [flow.name]
                results = kc.run_chain(chain)
                flows.append({"flow": flow.name, "chain": chain,
                              "results": [result_to_dict(r) for r in results]})
                print(f"{path.stem}: {results[-1].summary()}")
        out = {"scenario": sc.name, "recorded_with": versions, "fingerprint": fingerprint(sc), "flows": flows}
        (FIXTURES / f"{path.stem}.json").write_text(json.dumps(out, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    import sys

    names = (argv if argv is not None else sys.argv[1:])
    paths = [SCENARIO_DIR / f"{n}.yaml" for n in names] if names else sorted(SCENARIO_DIR.glob("*.yaml"))
    record(paths)


if __name__ == "__main__":
    main()
