"""The event list's rows (Packet Tracer's event list, ``v`` on the flow screen).

One row per step of the Trace, read from it: which packet, where, what happened, and for
the steps a learner looks for (a hop, a rewrite, conntrack, a drop) what it did, with the
ladder's markers so the NAT points read without colour::

     2 SYN  user → node-a  link  192.168.1.2:40000 → 192.168.1.10:30080
    16 SYN  node-a  ◆ dnat  dst → 10.244.1.5:8080
    26 SYN  node-a  ■ masquerade  src → 10.244.1.1:37170
    27 SYN  node-a  ct conntrack-confirm
"""

from __future__ import annotations

from kubeflow_tui.ladder import DROP_MARKER, MARKERS, TIMEOUT_MARKER
from kubeflow_tui.trace import Step, Trace
from kubeflow_tui.tui.screens.flow.screen import RULE_KINDS  # steps that name their chain


def marker(step: Step) -> str:
    """The ladder's marker of a rewrite, a conntrack event or an end ('' for the rest)."""
    changed = set(step.changed)
    if step.kind == "dnat":
        return MARKERS["dnat", "rule"]
    if step.kind in ("snat", "masquerade"):
        return MARKERS["snat", "rule"]
    if step.kind in ("conntrack-reverse", "conntrack-hit") and changed & {"src", "sport", "dst", "dport"}:
        # a reply's source turned back is an un-DNAT; a later packet's destination: the DNAT again
        dnat_side = {"src", "sport"} if step.kind == "conntrack-reverse" else {"dst", "dport"}
        return MARKERS["dnat" if changed & dnat_side else "snat", "conntrack"]
    if step.kind.startswith("conntrack-"):
        return "ct"
    if step.kind in ("drop", "reject", "socket-error"):
        return DROP_MARKER
    if step.kind == "timeout":
        return TIMEOUT_MARKER
    return ""


def event_label(trace: Trace, i: int) -> str:
    s = trace.steps[i]
    p = s.packet
    where = f"{s.link[0]} → {s.link[1]}" if s.kind == "link" and len(s.link) == 2 else s.host
    mark = marker(s)
    what = f"{mark} {s.kind}" if mark else s.kind
    sides = [side for side, fields in (("src", {"src", "sport"}), ("dst", {"dst", "dport"}))
             if set(s.changed) & fields]
    if s.kind == "link":
        detail = f"  {p.endpoint_text('src')} → {p.endpoint_text('dst')}"
    else:  # what a rewrite made of the address (its hook is on the step itself)
        detail = "".join(f"  {side} → {p.endpoint_text(side)}" for side in sides)
    if s.kind in RULE_KINDS and s.chain:
        what += f"  {s.table} {s.chain}".rstrip() if s.table else f"  {s.chain}"
    elif s.hook and not detail:
        what += f" at {s.hook}"
    return f"{i + 1:>3} {s.packet_label or 'packet'}  {where}  {what}{detail}"
