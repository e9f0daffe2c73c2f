"""Predict mode: stop before each decisive step of a Trace and ask "what happens next?".

Decisive steps: a jump into a Service's chains (KUBE-SVC/KUBE-SVL/KUBE-EXT/KUBE-FW/KUBE-SEP),
a DNAT, a MASQUERADE, a DROP/REJECT by a rule, the first conntrack hit of a later packet
and the first conntrack reverse (reply un-NAT) on each host.

``PredictPoint.step_index`` is the first step of what the learner must predict: show the
steps up to ``step_index - 1``, ask ``question``, then reveal ``step_index`` onwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..trace import PacketView, Step, Trace
from .context import EMPTY, QuizContext
from .generate import SERVICE_PREFIXES, _label, _make, q_dnat, q_masquerade, q_next_chain, q_verdict
from .model import Question, endpoint, packet_text


@dataclass(frozen=True)
class PredictPoint:
    step_index: int
    question: Question


def _changes(before: PacketView, after: PacketView) -> str:
    parts = []
    if (before.dst, before.dport) != (after.dst, after.dport):
        parts.append(f"the destination to {endpoint(after.dst, after.dport)}")
    if (before.src, before.sport) != (after.src, after.sport):
        parts.append(f"the source to {endpoint(after.src, after.sport)}")
    return " and ".join(parts)


def _ct_question(trace: Trace, look: Step, changed: list[Step], ctx: QuizContext,
                 seed: int | None) -> Question | None:
    before, after = (trace.steps[look.index - 1].packet if look.changed else look.packet), changed[-1].packet
    what = _changes(before, after)
    if not what:
        return None
    unchanged = f"Nothing rewrites it: it goes on as {packet_text(before)}"
    if look.kind == "conntrack-hit":
        answer = f"Conntrack finds the connection and rewrites {what}; the nat table is not consulted"
        tiers: list[Iterable[str]] = [[
            "The nat table runs again: KUBE-SERVICES and KUBE-SVC pick an endpoint anew for this packet",
            unchanged,
        ], [f"Conntrack finds the connection and rewrites the destination to {t}; the nat table is not consulted"
            for t in ctx.dnat_targets.get(look.host, ())]]
        prompt = (f"A later packet of the same connection, the {_label(look)} {packet_text(before)}, "
                  f"reaches {look.host}. What happens next?")
    else:
        answer = f"Conntrack recognises the reply and rewrites {what}; no rule is consulted"
        tiers = [[
            f"A rule in nat POSTROUTING (SNAT) rewrites {what}",
            unchanged,
            f"The KUBE-SEP chain's DNAT rule runs in reverse and rewrites {what}",
        ]]
        prompt = f"The reply, the {_label(look)} {packet_text(before)}, reaches {look.host}. What happens next?"
    expl = "\n".join(s.why for s in dict.fromkeys([look] + changed))
    return _make(trace, look.kind, look.index, look.host, prompt, answer, tiers, expl, seed)


def predict_points(trace: Trace, *, seed: int | None = None,
                   context: QuizContext | None = None) -> list[PredictPoint]:
    """The decisive steps of ``trace``, each with a "what happens next?" question."""
    ctx = context or EMPTY
    out: list[PredictPoint] = []
    masq_hosts: set[str] = set()
    ct_seen: set[tuple[str, str]] = set()
    steps = trace.steps
    for i, s in enumerate(steps):
        q: Question | None = None
        if s.kind in ("jump", "goto") and s.target.startswith(SERVICE_PREFIXES):
            q = q_next_chain(trace, i, ctx, seed, predict=True)
        elif s.kind == "dnat":
            q = q_dnat(trace, i, ctx, seed, predict=True)
        elif s.kind in ("masquerade", "snat") and s.host not in masq_hosts:
            masq_hosts.add(s.host)
            q = q_masquerade(trace, s.host, ctx, seed, predict=True)
        elif s.kind in ("drop", "reject") and s.rule:
            q = q_verdict(trace, i, ctx, seed, predict=True)
        elif s.kind in ("conntrack-hit", "conntrack-reverse") and (s.host, s.kind) not in ct_seen \
                and (i == 0 or (steps[i - 1].host, steps[i - 1].kind) != (s.host, s.kind)):
            # the look-up step (and the translations that follow it for the same packet)
            changed = [t for t in steps[i:] if t.host == s.host and t.packet_no == s.packet_no
                       and t.kind == s.kind and t.changed]
            if changed:
                ct_seen.add((s.host, s.kind))
                q = _ct_question(trace, s, changed, ctx, seed)
        if q is not None:
            out.append(PredictPoint(i, q))
    return out
