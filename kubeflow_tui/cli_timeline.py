"""``kubeflow-tui timeline``: a scenario's timeline as kube-proxy lives it.

Each event at the time it reaches the API server, each of kube-proxy's syncs when its sync
runner runs it (minSyncPeriod, coalesced changes, the hourly full sync), and the flows that
carry a time, with whose rules they meet.  ``--node`` adds each sync's diff of that node's
rules; ``--at T`` stops at time T and prints the node's rules as they are then.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable


def add_parser(sub: Any, common: argparse.ArgumentParser) -> dict[str, Callable[[argparse.Namespace], int]]:
    p = sub.add_parser(
        "timeline", parents=[common], help="a scenario's timeline: changes and kube-proxy's syncs in time",
        description="Play a scenario's timeline: each change when it reaches the API server, each "
        "kube-proxy sync when its runner runs it (no sooner than kubeProxy.minSyncPeriod after the "
        "previous one; changes in between are coalesced), and the flows that carry a time. Events "
        "without times are synced one by one.",
        epilog="Example: kubeflow-tui timeline sync-timing --node node-a",
    )
    p.add_argument("file", metavar="FILE", help="scenario file, or the name of a shipped scenario")
    p.add_argument("--node", help="show each sync's change to this node's rules (iptables-save diff)")
    p.add_argument("--at", type=float, metavar="SECONDS",
                   help="stop at this time and print --node's rules (default node: the first) as "
                   "kube-proxy has written them by then")
    return {"timeline": cmd_timeline}


def timeline_lines(scenario, node: str | None = None, at: float | None = None) -> list[str]:
    """The text ``kubeflow-tui timeline`` prints (without --at's rules)."""
    from kubeflow_tui.cluster import ClusterSim
    from kubeflow_tui.cluster.sync_timing import seconds
    from kubeflow_tui.cluster.timeline import describe_event

    sim = ClusterSim(scenario)
    kp = scenario.kubeProxy
    out = [f"{scenario.name}: kube-proxy minSyncPeriod {seconds(kp.minSyncPeriod)} s, "
           f"syncPeriod {seconds(kp.syncPeriod)} s, a full sync every hour"]
    if not scenario.timeline:
        return out + ["no timeline"]
    if not sim.timed:
        out.append("events without times: kube-proxy syncs after each one at once")
        for i, ev in enumerate(scenario.timeline):
            diffs = sim.apply_event(ev)
            kind, changed = sim.last_sync
            what = "full" if kind == "full" else "partial: " + (", ".join(changed) or "top-level chains only")
            out.append(f"{i + 1}. {describe_event(ev)}; kube-proxy synced ({what})")
            if node is not None:
                out += _indent(diffs.get(node, ""))
        return out
    flows = sorted((f for f in scenario.flows if f.at is not None and (at is None or f.at <= at)),
                   key=lambda f: f.at)
    stops: list[float | None] = sorted({f.at for f in flows} | ({at} if at is not None else set()))
    if at is None:
        stops.append(None)  # then the rest of the timeline
    for t in stops:
        entries = sim.play_all() if t is None else sim.advance_to(t)
        for e in entries:
            out.append(e.text)
            if e.kind == "sync":
                for h, lines in sorted(e.cleanup.items()):
                    out.append(f"    {h}: conntrack entries deleted: {len(lines)}")
                if node is not None:
                    out += _indent(e.diffs.get(node, ""))
        if t is not None:
            for f in flows:
                if f.at == t:
                    out.append(f"t={seconds(t)}: flow {f.name} runs. {sim.rules_as_of()}")
    return out


def _indent(diff: str) -> list[str]:
    lines = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++", "@@"))]
    changed = [ln for ln in lines if ln[:1] in "+-"]
    return ["    " + ln[0] + " " + ln[1:] for ln in changed] if changed else ["    (no change to this node's rules)"]


def cmd_timeline(args: argparse.Namespace) -> int:
    from kubeflow_tui.cli import EXIT_OK, CliError, _load_scenario, _pick_node

    scenario = _load_scenario(args.file)
    node = _pick_node(scenario, args.node) if args.node or args.at is not None else None
    if args.at is not None:
        if args.at < 0:
            raise CliError(f"--at {args.at:g}: times start at 0")
        if not scenario.timeline or any(ev.at is None for ev in scenario.timeline):
            raise CliError(f"--at needs a timeline whose events carry at; {scenario.name}'s do not")
    for line in timeline_lines(scenario, node if args.node else None, args.at):
        sys.stdout.write(line + "\n")
    if args.at is not None:
        from kubeflow_tui.cluster import ClusterSim
        from kubeflow_tui.cluster.sync_timing import seconds

        sim = ClusterSim(scenario)
        sim.advance_to(args.at)
        sys.stdout.write(f"\n# {node} at t={seconds(args.at)}: iptables-save. {sim.rules_as_of()}\n")
        if sim.proxy_mode == "nftables":
            from kubeflow_tui.netfilter.nft_list import render_nft_ruleset

            sys.stdout.write(render_nft_ruleset([sim.nft_table(node)]))
        else:
            sys.stdout.write(sim.node_ruleset_text(node))
    return EXIT_OK
