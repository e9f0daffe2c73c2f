"""Questions generated from any Trace, so every scenario a teacher writes gets a quiz.

Each builder reads what the engine decided (the Trace) and asks about it; the right
option is copied from the Trace, the distractors come from the same ruleset and packet
(the node's other chains, the other endpoints' addresses, the pre-NAT tuple, the other
probabilities), never from random strings.  The explanation is the deciding step's
``why``; ``step_index`` is the step to replay.  Same trace + same seed = same questions.

>>> qs = generate_questions(trace, seed=1, context=context_from_sim(sim))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Iterable

from ..trace import ConntrackView, PacketView, Step, Trace
from .context import EMPTY, QuizContext
from .fairness import fair_assemble
from .model import Question, cite, endpoint, packet_text, rng_for

BUILTIN_CHAINS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})
SERVICE_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")

#: every kind generate_questions can produce, in the order a lesson meets them: the reading
#: ones, then the families that need reasoning (:mod:`kubeflow_tui.quiz.reasoning`)
KINDS = ("next-chain", "probability", "dnat", "masquerade", "conntrack-entry", "reply-source", "verdict",
         "decider", "nat-packet", "conntrack-node", "server-source", "pick-chance", "nft-vmap")
#: the kinds that need more than one run of the engine (a scenario, not a trace):
#: :func:`kubeflow_tui.quiz.reasoning.scenario_reasoning_questions`
SCENARIO_KINDS = ("counterfactual", "compare", "nft-wrong-port")


# ------------------------------------------------------------------ small readers

#: kube-proxy's table in nftables mode
NFT_TABLE = "ip kube-proxy"


def is_nft(step: Step) -> bool:
    """A step in kube-proxy's nftables table (nftables mode): the families word their
    questions in nft's terms there (chains, handles, verdicts), or are not asked."""
    return step.table == NFT_TABLE


def in_nat(step: Step) -> bool:
    """A step in a nat chain: iptables' nat table, or an nftables base chain of type nat."""
    return step.table == "nat" or step.base_chain.startswith("type nat ")



def _before(trace: Trace, i: int) -> PacketView:
    """The packet as it was before step ``i`` changed it."""
    return trace.steps[i - 1].packet if i > 0 else trace.steps[i].packet


def _label(step: Step) -> str:
    return step.packet_label or "packet"


def _family(chain: str) -> str:
    for prefix in SERVICE_PREFIXES:
        if chain.startswith(prefix):
            return prefix
    return chain


def _qid(trace: Trace, kind: str, index: int) -> str:
    return f"{trace.scenario}/{trace.flow}/{kind}/{index}"


def _make(trace: Trace, kind: str, index: int, host: str, prompt: str, answer: str,
          tiers: list[Iterable[str]], explanation: str, seed: int | None, target: str = "") -> Question | None:
    qid = _qid(trace, kind, index)
    assembled = fair_assemble(answer, tiers, rng_for(seed, qid))
    if assembled is None:
        return None
    options, answer_index = assembled
    expl = explanation.strip()
    if 0 <= index < len(trace.steps):
        expl += "\n" + cite(trace.steps[index])
    return Question(qid, kind, prompt, options, answer_index, expl, index,
                    trace.scenario, trace.flow, host, target or f"{host} {index}")


def _tuple_text(t: tuple) -> str:
    return f"src={t[0]} dst={t[1]} sport={t[2]} dport={t[3]}"


def _invert(t: tuple) -> tuple:
    return (t[1], t[0], t[3], t[2])


def ct_line(entry: ConntrackView, orig: tuple, reply: tuple) -> str:
    """``entry.line`` with its tuples replaced: the same state, timeout and flags."""
    line = entry.line
    o, r = _tuple_text(entry.orig), _tuple_text(entry.reply)
    po = line.find(o)
    pr = line.find(r, po + len(o))
    if po < 0 or pr < 0:
        return ""
    return line[:po] + _tuple_text(orig) + line[po + len(o):pr] + _tuple_text(reply) + line[pr + len(r):]


def kernel_probability(p: float) -> str:
    """A probability as the kernel keeps it (round(p*2^31)) and iptables-save prints it."""
    return f"{round(p * 2**31) / 2**31:.11f}"


def _later_targets(trace: Trace, step: Step) -> set[str]:
    """Chains the same packet jumps to later from the same chain (not "next", but close)."""
    return {s.target for s in trace.steps[step.index + 1:]
            if s.host == step.host and s.chain == step.chain and s.packet_no == step.packet_no
            and s.kind in ("jump", "goto")}


# ------------------------------------------------------------------ builders


def q_next_chain(trace: Trace, i: int, ctx: QuizContext = EMPTY, seed: int | None = None, *,
                 predict: bool = False) -> Question | None:
    s = trace.steps[i]
    if s.kind not in ("jump", "goto") or not s.target or s.target in BUILTIN_CHAINS or not s.table:
        return None
    if is_nft(s):
        return None  # nftables mode: where a packet goes next is a map's element (the nft-vmap family)
    if s.chain in BUILTIN_CHAINS:
        return None  # PREROUTING -> KUBE-SERVICES is the same for every packet: nothing to ask
    exclude = {s.chain, s.target} | _later_targets(trace, s) | BUILTIN_CHAINS
    # the best distractors are the chain's own other jump targets (its neighbours: the
    # other Services' chains from KUBE-SERVICES, the other endpoints from a KUBE-SVC
    # chain), then chains of the same family on the node; never chains of another hook
    neighbours = [c for c in ctx.targets.get(s.host, {}).get(s.chain, ())
                  if c and c.startswith("KUBE-") and c not in exclude]
    node_chains = [c for c in ctx.chains.get(s.host, {}).get(s.table, ()) if c not in exclude]
    fam = _family(s.target)
    same_family = [c for c in node_chains if _family(c) == fam]
    if fam in SERVICE_PREFIXES:
        same_family += [c for c in node_chains if c.startswith(SERVICE_PREFIXES) and c not in same_family]
    verb = "Jump to" if s.kind == "jump" else "Go to"
    fmt = (lambda c: f"{verb} {c}") if predict else (lambda c: c)
    where = f"{s.table} {s.chain}" + (f" ({s.hook})" if s.hook else "")
    if predict:
        prompt = f"On {s.host}, the {_label(s)} {packet_text(s.packet)} is in {where}. What happens next?"
    else:
        prompt = (f"On {s.host}, the {_label(s)} {packet_text(s.packet)} is in {where}. "
                  "Which chain does it jump to next?")
    expl = s.why + (f"\nThe rule: {s.rule}" if s.rule else "")
    return _make(trace, "next-chain", i, s.host, prompt, fmt(s.target),
                 [map(fmt, neighbours), map(fmt, same_family)], expl, seed, target=s.chain)


def q_dnat(trace: Trace, i: int, ctx: QuizContext = EMPTY, seed: int | None = None, *,
           predict: bool = False) -> Question | None:
    s = trace.steps[i]
    if s.kind != "dnat":
        return None
    before = _before(trace, i)
    answer = endpoint(s.packet.dst, s.packet.dport)
    pre = endpoint(before.dst, before.dport)
    others = [t for t in ctx.dnat_targets.get(s.host, ()) if t != answer]
    if predict:
        def fmt(a: str) -> str:
            return f"No DNAT: the destination stays {pre}" if a == pre else f"DNAT: the destination becomes {a}"
    else:
        def fmt(a: str) -> str:
            return a
    tiers: list[Iterable[str]] = [
        [fmt(t) for t in others + [pre]],
        [fmt(endpoint(s.packet.dst, before.dport)), fmt(endpoint(before.dst, s.packet.dport))],
        [fmt(t) for t in ctx.all_dnat_targets() + [endpoint(before.src, before.sport)]],
    ]
    if predict:
        prompt = (f"On {s.host}, the {_label(s)} {packet_text(before)} has entered {s.table} {s.chain}. "
                  "What happens next?")
    else:
        # the rule's text is not quoted: its --to-destination (dnat to) is the answer
        rule = f"the rule with handle {s.rule_index} in" if is_nft(s) else f"rule {s.rule_index} of"
        prompt = (f"On {s.host}, the {_label(s)} {packet_text(before)} matches {rule} "
                  f"{s.table} {s.chain}. What is its destination after this rule?")
    expl = s.why + (f"\nThe rule: {s.rule}" if s.rule else "")
    return _make(trace, "dnat", i, s.host, prompt, fmt(answer), tiers, expl, seed, target=pre)


def _first_dnat(trace: Trace, host: str) -> Step | None:
    return next((s for s in trace.steps if s.host == host and s.packet_no == 0 and s.kind == "dnat"), None)


def q_masquerade(trace: Trace, host: str, ctx: QuizContext = EMPTY, seed: int | None = None, *,
                 predict: bool = False) -> Question | None:
    first = [s for s in trace.steps if s.host == host and s.packet_no == 0]
    nft = any(is_nft(s) for s in first)
    post = [s for s in first if s.hook == "POSTROUTING" and s.table in ("nat", NFT_TABLE)]
    if not post:
        return None
    # the chain that returns unmarked packets, the one that marks them, nat POSTROUTING's name
    returns, marks_in, nat_post = (("masquerading", "mark-for-masquerade", "nat-postrouting") if nft
                                   else ("KUBE-POSTROUTING", "KUBE-MARK-MASQ", "nat POSTROUTING"))
    before = _before(trace, post[0].index)
    masq = next((s for s in first if s.kind in ("masquerade", "snat")), None)
    stays = f"No: the source stays {before.src}"
    if masq is not None:
        answer = f"Yes: masqueraded to {masq.packet.src}"
        index = masq.index
        marks = [s.why for s in first if s.kind == "mark" and s.packet.mark & 0x4000]
        expl = "\n".join(marks[:1] + [masq.why])
    else:
        answer = stays
        decider = next((s for s in post if s.chain == returns and s.kind == "return"), post[-1])
        index = decider.index
        expl = (f"The packet leaves {host} with mark 0x{decider.packet.mark:x}: nothing set the "
                f"masquerade bit 0x4000 ({marks_in} was not reached), so {returns} returns and the source "
                "is kept.\n" + decider.why)
    dn = _first_dnat(trace, host)
    addrs = list(ctx.addresses.get(host, ()))
    if dn is not None:
        addrs.append(_before(trace, dn.index).dst)  # the Service address
    addrs += [before.dst]
    addrs += [s.packet.src for s in trace.steps if s.packet_no == 0 and s.kind == "send"]
    # "Yes: masqueraded to <its own source>" next to "No: the source stays <it>" would only confuse
    tiers: list[Iterable[str]] = [[stays], [f"Yes: masqueraded to {a}" for a in addrs
                                         if a not in ("127.0.0.1", before.src)]]
    if predict:
        prompt = (f"On {host}, the {_label(post[0])} {packet_text(before)} enters {nat_post}. "
                  "What happens next: is it masqueraded, and to which address?")
    else:
        prompt = (f"On {host}, the {_label(post[0])} {packet_text(before)} is about to leave "
                  f"({nat_post}). Will it be masqueraded, and to which address?")
    return _make(trace, "masquerade", index, host, prompt, answer, tiers, expl, seed,
                 target=f"{host} {before.src}")


def q_conntrack_entry(trace: Trace, host: str, ctx: QuizContext = EMPTY,
                      seed: int | None = None) -> Question | None:
    confirm = next((s for s in trace.steps if s.host == host and s.packet_no == 0
                    and s.kind == "conntrack-confirm"), None)
    if confirm is None or not 0 <= confirm.touched < len(confirm.conntrack):
        return None
    e = confirm.conntrack[confirm.touched]
    o, r = tuple(e.orig), tuple(e.reply)
    if r == _invert(o):
        return None  # no NAT on this host: nothing to tell apart
    answer = e.line
    snat = (r[1], r[3]) != (o[0], o[2])
    cands = [ct_line(e, o, _invert(o)), ct_line(e, (o[0], r[0], o[2], r[2]), r)]
    cands.append(ct_line(e, o, (r[0], o[0], r[2], o[2])) if snat else "")
    for t in ctx.dnat_targets.get(host, ()):
        ip, _, port = t.rpartition(":")
        if ip and port.isdigit() and (ip, int(port)) != (r[0], r[2]):
            cands.append(ct_line(e, o, (ip, r[1], int(port), r[3])))
    if not snat:
        for a in ctx.addresses.get(host, ())[:1]:
            cands.append(ct_line(e, o, (r[0], a, r[2], r[3])))
    sent = PacketView(o[0], o[1], e.proto, o[2], o[3])
    prompt = (f"The {_label(confirm)} ({packet_text(sent)}) has passed {host}. "
              f"Which entry does `conntrack -L` show on {host} now?")
    expl = (confirm.why + f"\nThe first tuple is the packet as it arrived ({_tuple_text(o)}); the second "
            f"is what a reply will look like ({_tuple_text(r)}), NAT included.")
    return _make(trace, "conntrack-entry", confirm.index, host, prompt, answer, [cands], expl, seed,
                 target=f"{host} {o[0]}>{o[1]}:{o[3]}")


def q_reply_source(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    if trace.outcome != "delivered" or not trace.client_saw:
        return None
    step = next((s for s in trace.steps if s.kind == "conntrack-reverse" and s.packet_no > 0
                 and ("src" in s.changed or "sport" in s.changed)
                 and endpoint(s.packet.src, s.packet.sport) == trace.client_saw), None)
    if step is None:
        return None
    before = endpoint(_before(trace, step.index).src, _before(trace, step.index).sport)
    saw = trace.client_saw
    client = trace.meta.get("from") or trace.steps[0].host
    to = trace.meta.get("to") or endpoint(trace.steps[0].packet.dst, trace.steps[0].packet.dport)
    answer = f"{saw}, rewritten by conntrack undoing the DNAT (reply un-NAT)"
    if any(is_nft(s) for s in trace.steps):  # nftables mode: its chains and statements
        rules = (f"{saw}, rewritten by an snat rule in nat-postrouting",
                 f"{saw}, rewritten by the endpoint chain's dnat rule run in reverse", "by masquerade")
    else:
        rules = (f"{saw}, rewritten by an SNAT rule in nat POSTROUTING",
                 f"{saw}, rewritten by the KUBE-SEP chain's DNAT rule run in reverse", "by MASQUERADE")
    tiers: list[Iterable[str]] = [[rules[0], f"{before}: nothing rewrites the reply's source", rules[1]],
                                  [f"{a}, rewritten {rules[2]}" for a in ctx.addresses.get(step.host, ())[:1]]]
    prompt = (f"{client} connected to {to}; the server answers from {before}. "
              f"What source address does {client} see on the reply, and what rewrites it?")
    expl = (step.why + f"\nThe nat {'chains only see' if any(is_nft(s) for s in trace.steps) else 'table only sees'} "
            "a connection's first packet; every reply is translated from the conntrack entry the first packet created.")
    return _make(trace, "reply-source", step.index, step.host, prompt, answer, tiers, expl, seed,
                 target=f"{client} {to}")


def q_probability(trace: Trace, i: int, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    s = trace.steps[i]
    if s.probability is None or not s.probability > 0 or _family(s.chain) not in ("KUBE-SVC-", "KUBE-SVL-"):
        return None
    k = 1 + sum(1 for t in trace.steps[:i] if t.host == s.host and t.chain == s.chain
                and t.packet_no == s.packet_no and t.probability is not None)
    n = k - 1 + round(1 / s.probability)
    answer = f"{s.probability:.11f}"
    others = [kernel_probability(1 / m) for m in (n, n - k, n - k + 2, n + 1, 2, 3, 4) if m >= 2]
    ordinal = ORDINALS[k - 1] if k <= len(ORDINALS) else f"{k}th"
    prompt = (f"{s.chain} on {s.host} picks one of {n} endpoints. What probability does its {ordinal} "
              "endpoint rule's statistic match have, as `iptables-save` prints it?")
    expl = (f"With n endpoints, the i-th rule takes 1/(n-i+1) of the packets that reach it, so each "
            f"endpoint gets 1/n overall: here 1/{n - k + 1}. kube-proxy writes %0.10f, the kernel keeps "
            f"round(p*2^31) and iptables-save prints {answer}.\n{s.why}")
    return _make(trace, "probability", i, s.host, prompt, answer, [others], expl, seed, target=f"{s.chain} {k}")


VERDICTS = {
    "reject": "REJECT: the node answers ICMP port-unreachable; the client gets 'connection refused'",
    "drop": "DROP: the packet is discarded without a word; the client hears nothing and times out",
    "accept": "ACCEPT: the packet goes on through the node, towards an endpoint, which answers it",
    "dnat": "DNAT: the destination becomes an endpoint's address, and the packet is sent on to that",
}
#: the same in nftables mode: nft's verdicts and statements are lower case
NFT_VERDICTS = {k: f"{k}:{v.split(':', 1)[1]}" for k, v in VERDICTS.items()}


def q_verdict(trace: Trace, i: int, ctx: QuizContext = EMPTY, seed: int | None = None, *,
              predict: bool = False) -> Question | None:
    s = trace.steps[i]
    if s.kind not in ("drop", "reject") or not s.rule:
        return None
    before = _before(trace, i)
    prompt = (f"On {s.host}, the {_label(s)} {packet_text(before)} reaches {s.table} {s.chain}. "
              + ("What happens next?" if predict else "What does this chain do with it?"))
    expl = s.why + f"\nThe rule: {s.rule}"
    words = NFT_VERDICTS if is_nft(s) else VERDICTS
    return _make(trace, "verdict", i, s.host, prompt, words[s.kind],
                 [[v for k, v in words.items() if k != s.kind]], expl, seed, target=f"{s.table} {s.chain}")


# ------------------------------------------------------------------ all of them


def _nat_hosts(trace: Trace) -> list[str]:
    """Hosts whose nat table the first packet walked, in trace order."""
    out: list[str] = []
    for s in trace.steps:
        if s.packet_no == 0 and in_nat(s) and s.host not in out:
            out.append(s.host)
    return out


def generate_questions(trace: Trace, *, seed: int | None = None, context: QuizContext | None = None,
                       kinds: Iterable[str] | None = None) -> list[Question]:
    """Every question this trace supports, in step order (at most one per kind and step).

    ``context`` (see :func:`~kubeflow_tui.quiz.context.context_from_sim`) gives better
    distractors; without it they come from the trace alone.
    """
    ctx = context or EMPTY
    want = set(kinds) if kinds is not None else set(KINDS)
    out: list[Question | None] = []
    seen_jumps: set[tuple[str, str, str]] = set()
    for i, s in enumerate(trace.steps):
        if s.packet_no != 0:
            continue
        if "next-chain" in want and s.kind in ("jump", "goto") and (s.host, s.table, s.chain) not in seen_jumps:
            seen_jumps.add((s.host, s.table, s.chain))
            out.append(q_next_chain(trace, i, ctx, seed))
        if "probability" in want and s.probability is not None:
            out.append(q_probability(trace, i, ctx, seed))
        if "dnat" in want and s.kind == "dnat":
            out.append(q_dnat(trace, i, ctx, seed))
        if "verdict" in want and s.kind in ("drop", "reject"):
            out.append(q_verdict(trace, i, ctx, seed))
    for host in _nat_hosts(trace):
        if "masquerade" in want:
            out.append(q_masquerade(trace, host, ctx, seed))
        if "conntrack-entry" in want:
            out.append(q_conntrack_entry(trace, host, ctx, seed))
    if "reply-source" in want:
        out.append(q_reply_source(trace, ctx, seed))
    from .nft_questions import nft_vmap_questions
    from .reasoning import reasoning_questions

    if "nft-vmap" in want:  # nftables mode: which verdict-map element matched
        out += [q for _, q in nft_vmap_questions(trace, ctx, seed)]
    out += [q for q in reasoning_questions(trace, seed=seed, context=ctx) if q.kind in want]
    qs = [q for q in out if q is not None]
    qs.sort(key=lambda q: (q.step_index, KINDS.index(q.kind)))
    return qs


