"""Question families that need reasoning, not reading.

From one Trace (so any scenario a teacher writes gets them):

* ``conntrack-node``: which node's conntrack translates the connection, and its reply tuple;
* ``server-source``: what source the server sees, and why (masquerade or not);
* ``decider``: which hook, table and chain decide where the first packet goes;
* ``nat-packet``: which packets of the connection meet the nat table;
* ``pick-chance``: the overall chance that the chosen endpoint is picked, from the
  ``-m statistic`` probabilities of the node's own rules.

From a scenario (the engine runs again on a changed cluster, so the answer is computed):

* ``counterfactual``: this rule deleted / externalTrafficPolicy Local / the client moved
  to another node / (a connection that found no endpoint) the meant pods selected, Ready or
  still serving / (no rule for its port) the Service with that port: what happens to the
  same connection?
* ``pick-chance`` with sessionAffinity: the same client connects again;
* ``compare``: two flows of one scenario, one masqueraded, one not: which chain decides.

Distractors are real things of the same kind from the same trace and ruleset: other nodes'
entries, other chains that jump to KUBE-MARK-MASQ, the hooks and chains the packet really
crossed, the outcomes of the other changes; among them, the ones that leave the answer
neither the only longest nor the only shortest option (``fairness.fair_assemble``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Iterable

from ..trace import Step, Trace
from .context import EMPTY, QuizContext
from .generate import ORDINALS, _before, _label, _make, _tuple_text, in_nat, is_nft
from .model import Question, endpoint, packet_text

REASONING_KINDS = ("conntrack-node", "server-source", "decider", "nat-packet", "pick-chance",
                   "counterfactual", "compare")


# ------------------------------------------------------------------ small readers


def _first(trace: Trace, pred: Callable[[Step], bool]) -> Step | None:
    return next((s for s in trace.steps if pred(s)), None)


def _client(trace: Trace) -> str:
    return trace.meta.get("from") or (trace.steps[0].host if trace.steps else "the client")


def _dest(trace: Trace) -> str:
    return trace.meta.get("to") or (endpoint(trace.steps[0].packet.dst, trace.steps[0].packet.dport)
                                    if trace.steps else "")


def _server_host(trace: Trace) -> str:
    d = _first(trace, lambda s: s.packet_no == 0 and s.kind == "deliver")
    return d.host if d else ""


def _ip(hostport: str) -> str:
    return hostport.rsplit(":", 1)[0] if ":" in hostport else hostport


def _node_addr(ctx: QuizContext, host: str) -> str:
    addrs = [a for a in ctx.addresses.get(host, ()) if a != "127.0.0.1"]
    return addrs[0] if addrs else ""


# ------------------------------------------------------------------ conntrack-node


def q_conntrack_node(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """Which node's conntrack entry does the DNAT, and what is its reply tuple?"""
    dn = _first(trace, lambda s: s.packet_no == 0 and s.kind == "dnat")
    if dn is None:
        return None
    confirms = {s.host: s for s in trace.steps if s.packet_no == 0 and s.kind == "conntrack-confirm"
                and 0 <= s.touched < len(s.conntrack)}
    mine = confirms.get(dn.host)
    if mine is None:
        return None
    e = mine.conntrack[mine.touched]

    def opt(host: str, reply: tuple) -> str:
        return f"{host}: reply {_tuple_text(reply)}"

    answer = opt(dn.host, tuple(e.reply))
    o = tuple(e.orig)
    cands = [opt(h, tuple(c.conntrack[c.touched].reply)) for h, c in confirms.items() if h != dn.host]
    cands += [opt(h, tuple(e.reply)) for h in confirms if h != dn.host]
    cands.append(opt(dn.host, (o[1], o[0], o[3], o[2])))  # no NAT at all: the pre-DNAT reply
    tiers: list[Iterable[str]] = [cands]
    pre = _before(trace, dn.index)
    prompt = (f"{_client(trace)} opens a connection to {_dest(trace)} ({packet_text(pre)}). After its first "
              f"packet has passed, which node's conntrack table holds the entry that translates this "
              f"connection, and what reply tuple does that entry expect?")
    expl = (f"The DNAT happens on {dn.host} (step {dn.index}, {dn.table} {dn.chain}), so {dn.host}'s entry "
            f"records it: the reply tuple is what the server's answer will look like ({_tuple_text(tuple(e.reply))}); "
            "other nodes on the way only see the already translated packet and keep a plain entry.\n"
            + mine.why)
    return _make(trace, "conntrack-node", mine.index, dn.host, prompt, answer, tiers, expl, seed,
                 target=f"{_client(trace)}>{_dest(trace)}")


# ------------------------------------------------------------------ server-source


def q_server_source(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """What source does the server see on the first packet, and why?"""
    if not trace.server_saw:
        return None
    server = _server_host(trace)
    if not server:
        return None
    first = [s for s in trace.steps if s.packet_no == 0]
    masq = next((s for s in first if s.kind in ("masquerade", "snat")), None)
    sent = trace.steps[0].packet
    saw = _ip(trace.server_saw)
    nat_hosts = list(dict.fromkeys(s.host for s in first if s.table == "nat"))

    nft = any(s.table == "ip kube-proxy" for s in first)  # kube-proxy in nftables mode

    def masq_text(addr: str, host: str) -> str:
        if nft:
            return f"{addr}: {host} masquerades it (mark 0x4000 set in mark-for-masquerade, masquerade in masquerading)"
        return f"{addr}: {host} masquerades it (marked 0x4000, MASQUERADE in KUBE-POSTROUTING)"

    keep = (f"{sent.src}: its own address; no mark 0x4000 was set, so "
            f"{'masquerading' if nft else 'KUBE-POSTROUTING'} returns")
    if masq is not None:
        answer = masq_text(saw, masq.host)
        index = masq.index
        mark = next((s for s in first if s.kind == "jump" and s.target in ("KUBE-MARK-MASQ", "mark-for-masquerade")),
                    None)
        expl = ((f"Step {mark.index}: {mark.why}\n" if mark else "") + masq.why)
    else:
        if saw != sent.src:
            return None  # a proxy or something else rewrote it: not this family's question
        answer = keep
        ret = [s for s in first if s.chain in ("KUBE-POSTROUTING", "masquerading") and s.kind == "return"]
        decider = ret[-1] if ret else first[-1]
        index = decider.index
        marker, returns = ("mark-for-masquerade", "masquerading") if nft else ("KUBE-MARK-MASQ", "KUBE-POSTROUTING")
        expl = (f"Nothing jumped to {marker} for this packet, so {returns} returns without "
                "masquerading it and the server sees the client's own address.\n" + decider.why)
    cands = [keep]
    for h in nat_hosts:
        a = _node_addr(ctx, h)
        if a:
            cands.append(masq_text(a, h))
    dn = _first(trace, lambda s: s.packet_no == 0 and s.kind == "dnat")
    if dn is not None:
        vip = _before(trace, dn.index).dst
        cands.append(f"{vip}: the Service address; the DNAT rewrote the source and the destination")
    prompt = (f"{_client(trace)} connects to {_dest(trace)}; the connection reaches {server}. "
              f"Which source address does {server} see, and why?")
    return _make(trace, "server-source", index, server, prompt, answer, [cands], expl, seed,
                 target=f"{_client(trace)}>{_dest(trace)}")


# ------------------------------------------------------------------ decider


def _place(s: Step) -> str:
    return f"{s.hook} · {s.table} · {s.chain} on {s.host}"


def _kube_proxy(s: Step) -> bool:
    """A chain of kube-proxy's: KUBE-… in iptables mode, any chain of ip kube-proxy in nftables mode."""
    return s.chain.startswith("KUBE-") or is_nft(s)


def q_decider(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """Which hook/table/chain decides the first packet's fate (DNAT, REJECT or DROP)?"""
    first = [s for s in trace.steps if s.packet_no == 0]
    deciding = next((s for s in first if s.kind in ("dnat", "reject", "drop") and s.chain), None)
    if deciding is None or not deciding.hook:
        return None
    answer = _place(deciding)
    seen = [s for s in first if s.chain and s.hook and s.kind in ("jump", "goto", "return", "policy",
                                                                    "dnat", "mark", "masquerade", "accept")]
    key = (deciding.host, deciding.table, deciding.chain)
    # best: the chains of the same table the packet really crossed (KUBE-SERVICES, KUBE-SVC,
    # KUBE-EXT …), then the same chain at the other hook, then the other tables' chains
    same_table = [_place(s) for s in seen if s.table == deciding.table and (s.host, s.table, s.chain) != key
                  and _kube_proxy(s)]
    other_hook = {"PREROUTING": "OUTPUT", "OUTPUT": "PREROUTING", "FORWARD": "INPUT", "INPUT": "FORWARD"}
    flipped = ([f"{other_hook[deciding.hook]} · {deciding.table} · {deciding.chain} on {deciding.host}"]
               if deciding.hook in other_hook else [])
    rest = [_place(s) for s in seen if (s.host, s.table, s.chain) != key and _kube_proxy(s)]
    tiers: list[Iterable[str]] = [same_table, flipped, rest]
    pre = _before(trace, deciding.index)
    if deciding.kind == "dnat":
        what = "rewritten to an endpoint's address (the DNAT)"
    else:
        what = "refused" if deciding.kind == "reject" else "discarded"
    prompt = (f"The {_label(deciding)} {packet_text(pre)} from {_client(trace)} is {what}. "
              "At which hook, in which table and chain, is that decided?")
    expl = deciding.why + (f"\nThe rule: {deciding.rule}" if deciding.rule else "")
    return _make(trace, "decider", deciding.index, deciding.host, prompt, answer, tiers, expl, seed,
                 target=f"{_client(trace)}>{_dest(trace)} {deciding.kind}")


# ------------------------------------------------------------------ nat-packet


def _labels(trace: Trace) -> list[tuple[int, str]]:
    """(packet number, label) of every packet of the connection, in order."""
    out: dict[int, str] = {}
    for s in trace.steps:
        if s.kind == "send" and s.packet_no not in out:
            out[s.packet_no] = s.packet_label or f"packet {s.packet_no + 1}"
    return sorted(out.items())


def _list_text(labels: list[str], everything: bool, total: int = 0) -> str:
    """A set of packets, with how many of the ``total`` it is (so that no option is
    recognisable by its length alone: "Only the SYN" beside a list of eight)."""
    of = f": {len(labels)} of the {total}" if total else ""
    if everything:
        return f"All {len(labels)} of them"
    if len(labels) == 1:
        return f"Only the {labels[0]}{of}"
    return "The " + ", ".join(labels[:-1]) + " and " + labels[-1] + of


def q_nat_packet(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """Which packets of the connection are walked through the nat table on a node?"""
    dn = _first(trace, lambda s: s.kind == "dnat")
    if dn is None:
        return None
    host = dn.host
    packets = _labels(trace)
    if len(packets) < 3:
        return None
    on_host = sorted({s.packet_no for s in trace.steps if s.host == host})
    natted = sorted({s.packet_no for s in trace.steps if s.host == host and in_nat(s)})
    nft = is_nft(dn)
    name = dict(packets)
    relevant = [n for n in on_host if n in name]
    if not natted or len(relevant) < 3:
        return None
    answer = _list_text([name[n] for n in natted], natted == relevant, len(relevant))
    from_client = [n for n in relevant if any(
        s.packet_no == n and s.kind == "send" and s.host == trace.steps[0].host for s in trace.steps)]
    subsets = [relevant[:1], relevant[:2], from_client, relevant, [n for n in relevant if n not in from_client]]
    cands = [_list_text([name[n] for n in sub], sub == relevant, len(relevant))
             for sub in subsets if sub and sub != natted]
    hit = _first(trace, lambda s: s.host == host and s.kind == "conntrack-hit")
    index = hit.index if hit is not None else dn.index
    prompt = (f"{_client(trace)} connects to {_dest(trace)}; {host} sees the packets "
              + ", ".join(name[n] for n in relevant)
              + (f". Which of them go through {host}'s nat chains (nat-prerouting/nat-output, nat-postrouting)?"
                 if nft else f". Which of them go through {host}'s nat table (PREROUTING/OUTPUT, POSTROUTING)?"))
    expl = (("The nat chains (type nat) run only for a connection's first packet" if nft else
             "The nat table is consulted only for a connection's first packet")
            + "; conntrack stores the translation and applies it to every later packet and reverses it on replies.\n"
            + (hit.why if hit is not None else dn.why))
    return _make(trace, "nat-packet", index, host, prompt, answer, [cands], expl, seed, target=host)


# ------------------------------------------------------------------ pick-chance


def _frac(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator} ({float(f) * 100:.0f}%)" if f not in (0, 1) else \
        ("1 (certain)" if f == 1 else "0 (never)")


def overall_chances(picks: tuple[tuple[str, float | None], ...]) -> list[Fraction]:
    """Overall chance of each endpoint rule: its probability times the chance that every
    earlier rule did not match (the last rule, without a statistic match, takes the rest)."""
    out: list[Fraction] = []
    left = Fraction(1)
    for _, p in picks:
        q = Fraction(1) if p is None else Fraction(p).limit_denominator(1000)
        out.append(left * q)
        left *= 1 - q
    return out


def q_pick_chance(trace: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """The overall chance that a new connection goes to the endpoint this one got."""
    jump = _first(trace, lambda s: s.packet_no == 0 and s.kind in ("jump", "goto")
                  and s.chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and s.target.startswith("KUBE-SEP-"))
    if jump is None:
        return None
    picks = ctx.picks.get(jump.host, {}).get(jump.chain, ())
    targets = [t for t, _ in picks]
    if len(picks) < 2 or jump.target not in targets:
        return None
    k = targets.index(jump.target)
    chances = overall_chances(picks)
    answer = _frac(chances[k])
    n = len(picks)
    p = picks[k][1]
    cands = []
    if p is not None:
        cands.append(_frac(Fraction(p).limit_denominator(1000)))  # the rule's own probability
    cands += [_frac(Fraction(1, m)) for m in (n - 1, n + 1, 2 ** (k + 1)) if m >= 1]
    cands += [_frac(c) for c in chances]
    ordinal = ORDINALS[k] if k < len(ORDINALS) else f"{k + 1}th"
    prompt = (f"On {jump.host}, {jump.chain} has {n} endpoint rules. Before {_client(trace)}'s connection "
              f"was made, what was the chance that a new connection goes to its {ordinal} endpoint "
              f"({jump.target})?")
    probs = ", ".join("none" if q is None else f"{q:.11f}" for _, q in picks)
    expl = (f"The rules are tried in order with probabilities {probs}; the {ordinal} is reached only when "
            f"the earlier ones did not match, so its overall chance is {answer}: each endpoint gets 1/{n}.\n"
            + jump.why)
    return _make(trace, "pick-chance", jump.index, jump.host, prompt, answer, [cands], expl, seed,
                 target=jump.chain)


# ------------------------------------------------------------------ all from one trace


def reasoning_questions(trace: Trace, *, seed: int | None = None,
                        context: QuizContext | None = None) -> list[Question]:
    """Every reasoning question one trace supports (the scenario-level ones are in
    :func:`scenario_reasoning_questions`)."""
    ctx = context or EMPTY
    out = [f(trace, ctx, seed) for f in (q_decider, q_nat_packet, q_conntrack_node, q_server_source,
                                          q_pick_chance)]
    return [q for q in out if q is not None]


# ------------------------------------------------------------------ counterfactuals


def _who(ip: str, labels: dict[str, str]) -> str:
    return labels.get(ip, ip)


#: how a connection fails, worded with as much detail as "It works; the server sees …"
REFUSED = "It fails at once: the client gets 'connection refused'"
TIMED_OUT = "It hangs: nothing comes back, and the client times out"
UNREACHABLE = "It fails at once: the client gets 'No route to host'"


def outcome_text(trace: Trace, labels: dict[str, str] | None = None) -> str:
    """What the client experiences, in a form that compares across clusters; ``labels``
    name addresses (``{"192.168.1.11": "node-b's address 192.168.1.11"}``)."""
    if trace.outcome == "delivered":
        return f"It works; the server sees {_who(_ip(trace.server_saw), labels or {})}"
    if trace.outcome == "refused":
        return REFUSED
    if trace.outcome == "unreachable":
        return UNREACHABLE
    return TIMED_OUT


def address_labels(scenario: Any, trace: Trace, *extra_own: str) -> dict[str, str]:
    """Names for the addresses a server may see: the client's own, each node's, the balancer's."""
    import ipaddress

    labels = {n.ip: f"{n.name}'s address {n.ip}" for n in scenario.cluster.nodes}
    for n in scenario.cluster.nodes:
        gw = str(next(ipaddress.IPv4Network(n.podCIDR).hosts()))  # the node's side of its pods' network
        labels[gw] = f"{n.name}'s pod-network address {gw}"
    lb = getattr(scenario, "loadBalancer", None)
    if lb is not None:
        labels[lb.ip] = f"the load balancer's address {lb.ip}"
    own = [trace.steps[0].packet.src] if trace.steps else []
    for ip in own + list(extra_own):
        labels[ip] = "the client's own address"
    return labels


def _outcome_options(scenario: Any, trace: Trace, answer: str, labels: dict[str, str]) -> list[str]:
    opts = [REFUSED, TIMED_OUT, UNREACHABLE]
    addrs = [trace.steps[0].packet.src] if trace.steps else []
    addrs += [n.ip for n in scenario.cluster.nodes if any(s.host == n.name for s in trace.steps)]
    opts += [f"It works; the server sees {_who(a, labels)}" for a in addrs]
    return [o for o in opts if o != answer]


#: (key, wording, mutate a sim or None, changed scenario or None, the step the change concerns)
Change = tuple[str, str, Callable[[Any], None] | None, Any, int]


def _changes(scenario: Any, trace: Trace) -> list[Change]:
    """The changes worth asking about for this flow, each as a sim mutation or a new scenario."""
    out: list[Change] = []
    jump = _first(trace, lambda s: s.packet_no == 0 and s.table == "nat" and s.chain == "KUBE-SERVICES"
                  and s.kind in ("jump", "goto") and s.rule_index > 0)
    if jump is not None:
        host, idx = jump.host, jump.rule_index

        def delete(sim: Any, host: str = host, idx: int = idx) -> None:
            rs = sim.node_ruleset(host).copy()
            del rs.tables["nat"].chains["KUBE-SERVICES"].rules[idx - 1]
            sim.set_ruleset(host, rs)

        out.append((f"rule-deleted {host}", f"rule {idx} of nat KUBE-SERVICES on {host} (the one this "
                    f"{_label(jump)} matched) were deleted", delete, None, jump.index))
    uses_ext = any(s.packet_no == 0 and s.chain.startswith("KUBE-EXT-") for s in trace.steps)
    if uses_ext:
        svcs = []
        changed = False
        for svc in scenario.services:
            if svc.type != "ClusterIP" and svc.externalTrafficPolicy != "Local":
                svc = svc.model_copy(update={"externalTrafficPolicy": "Local"})
                changed = True
            svcs.append(svc)
        ext = _first(trace, lambda s: s.packet_no == 0 and s.chain.startswith("KUBE-EXT-"))
        if changed and ext is not None:
            out.append(("etp-local", "the Service had externalTrafficPolicy: Local", None,
                        scenario.model_copy(update={"services": svcs}), ext.index))
        local = [svc for svc in scenario.services if svc.type != "ClusterIP" and svc.externalTrafficPolicy == "Local"]
        if local and ext is not None:
            # the API server releases a Service's healthCheckNodePort when its policy
            # becomes Cluster (only Local LoadBalancers have one)
            svcs = [svc.model_copy(update={"externalTrafficPolicy": "Cluster", "healthCheckNodePort": None})
                    if svc in local else svc for svc in scenario.services]
            out.append(("etp-cluster", "the Service had externalTrafficPolicy: Cluster (the default)", None,
                        scenario.model_copy(update={"services": svcs}), ext.index))
    out += _endpoint_changes(scenario, trace)
    flow = next((f for f in scenario.flows if f.name == trace.flow), None)
    pod = next((p for p in scenario.pods if flow is not None and p.name == flow.from_), None)
    if pod is not None and len(scenario.cluster.nodes) > 1:
        from ..cluster.events import EventError, _free_ip

        other = next(n.name for n in scenario.cluster.nodes if n.name != pod.node)
        try:
            ip = _free_ip(scenario, other, {p.ip for p in scenario.pods})
        except EventError:
            ip = ""
        if ip:
            pods = [p.model_copy(update={"node": other, "ip": ip}) if p.name == pod.name else p
                    for p in scenario.pods]
            moved = scenario.model_copy(update={"pods": pods})
            try:
                type(scenario).model_validate(moved.model_dump(by_alias=True))
                out.append((f"moved {other}", f"the client pod {pod.name} ran on {other} instead (with a "
                            f"new address from {other}'s pod range)", None, moved, 0))
            except Exception:  # noqa: BLE001 - a change the scenario rules forbid is not asked
                pass
    return out


def _valid(scenario: Any, changed: Any) -> bool:
    try:
        type(scenario).model_validate(changed.model_dump(by_alias=True))
        return True
    except Exception:  # noqa: BLE001 - a change the scenario rules forbid is not asked
        return False


def _endpoint_changes(scenario: Any, trace: Trace) -> list[Change]:
    """For a connection to a ClusterIP that finds no endpoint (REJECTed: "has no endpoints")
    or no rule for its port: the cluster with the endpoint's pods selected and Ready, and
    the Service with the port the client calls."""
    out: list[Change] = []
    if not trace.steps:
        return out
    dst, dport = trace.steps[0].packet.dst, trace.steps[0].packet.dport
    svc = next((v for v in scenario.services if v.clusterIP == dst), None)
    if svc is None or not svc.selector:
        return out
    reject = _first(trace, lambda s: s.packet_no == 0 and s.kind in ("reject", "drop")
                    and "has no endpoints" in (s.rule or ""))
    if reject is not None:
        client = _flow_ends(trace)
        selected = [p for p in scenario.endpoints(svc) if p.name not in client]
        if selected:  # selected, but not Ready (or terminating and no longer serving)
            meant = [p for p in selected if not p.ready]
        else:  # the pods meant to serve it: its Deployment's, or unselected ones sharing a selector key
            meant = [p for p in scenario.pods if p.namespace == svc.namespace and p.ports and p.name not in client
                     and not any(o is not svc and o.selects(p) for o in scenario.services)
                     and (p.deployment == svc.name or any(k in p.labels for k in svc.selector))]
        if meant:
            names = ", ".join(p.name for p in meant)
            wanted = ",".join(f"{k}={v}" for k, v in svc.selector.items())
            pods = [p.model_copy(update={"labels": {**p.labels, **svc.selector}, "ready": True})
                    if p in meant else p for p in scenario.pods]
            changed = scenario.model_copy(update={"pods": pods})
            their = "its" if len(meant) == 1 else "their"
            parts = []
            if not selected:
                parts.append(f"carried the label {wanted} the Service selects")
            if any(not p.ready and not p.terminating for p in meant):
                parts.append("were Ready")
            elif any(not p.ready for p in meant):
                parts.append(f"still passed {their} readiness probe while terminating")
            if parts and _valid(scenario, changed):
                out.append((f"endpoints {svc.key}", f"{names} {' and '.join(parts)}", None, changed, reject.index))
    if dport and all(pt.port != dport for pt in svc.ports):
        first = svc.ports[0]
        added = first.model_copy(update={"name": f"{first.name or 'port'}-{dport}", "port": dport,
                                         "nodePort": None})
        ports = [first if first.name else first.model_copy(update={"name": "port"})] + list(svc.ports[1:]) + [added]
        svcs = [v.model_copy(update={"ports": ports}) if v is svc else v for v in scenario.services]
        changed = scenario.model_copy(update={"services": svcs})
        last = [s for s in trace.steps if s.packet_no == 0 and s.table == "nat" and s.chain == "KUBE-SERVICES"]
        if _valid(scenario, changed):
            out.append((f"port {svc.key}:{dport}", f"the Service {svc.name} also had port {dport} (to the same "
                        f"targetPort, {first.targetPort})", None, changed, last[-1].index if last else 0))
    return out


def _flow_ends(trace: Trace) -> set[str]:
    """The flow's client (a pod that sends is not an endpoint to fix)."""
    return {trace.meta.get("from") or (trace.steps[0].host if trace.steps else "")}


def run_changed(scenario: Any, flow: str, change: Change, *, seed: int | None = None) -> Trace:
    """Run ``flow`` on a fresh cluster with ``change`` applied (what a counterfactual's answer is)."""
    from ..cluster import ClusterSim

    _, _, mutate, changed, _ = change
    sim = ClusterSim(changed if changed is not None else scenario, seed=seed)
    if mutate is not None:
        mutate(sim)
    return sim.run_flow(flow)


def counterfactual_questions(scenario: Any, flow: str, *, seed: int | None = None,
                             trace: Trace | None = None, context: QuizContext | None = None) -> list[Question]:
    """"If this were different, what would happen?" The engine runs the flow again on the
    changed cluster; the answer is what that run ended with."""
    from ..cluster import ClusterSim
    from .context import context_from_sim

    if trace is None or context is None:
        sim = ClusterSim(scenario, seed=seed)
        context = context_from_sim(sim)
        trace = sim.run_flow(flow)
    out: list[Question] = []
    for change in _changes(scenario, trace):
        key, wording, _, _, at = change
        try:
            alt = run_changed(scenario, flow, change, seed=seed)
        except Exception:  # noqa: BLE001 - a change the engine cannot run is not asked
            continue
        labels = address_labels(scenario, trace, alt.steps[0].packet.src if alt.steps else "")
        answer = outcome_text(alt, labels)
        now = outcome_text(trace, labels)
        prompt = (f"{_client(trace)} → {_dest(trace)}: today — {now.lower()}. If {wording}, "
                  "what would the same connection do?")
        decisive = next((s for s in alt.steps if s.kind in ("drop", "reject", "masquerade", "dnat")),
                        alt.steps[-1] if alt.steps else None)
        expl = (f"Run again on the changed cluster: {alt.summary}"
                + (f"\nIn that run, step {decisive.index} on {decisive.host}: {decisive.why}" if decisive else ""))
        q = _make(trace, "counterfactual", at, _client(trace), prompt, answer,
                  [_outcome_options(scenario, trace, answer, labels)], expl, seed, target=f"{trace.flow} {key}")
        if q is not None:
            out.append(q)
    return out


def affinity_question(scenario: Any, flow: str, *, seed: int | None = None) -> Question | None:
    """sessionAffinity: the same client connects again; the engine runs it twice."""
    from ..cluster import ClusterSim
    from .context import context_from_sim

    sim = ClusterSim(scenario, seed=seed)
    ctx = context_from_sim(sim)
    first = sim.run_flow(flow)
    jump = _first(first, lambda s: s.packet_no == 0 and s.kind in ("jump", "goto")
                  and s.chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and s.target.startswith("KUBE-SEP-"))
    if jump is None or not ctx.affinity.get(jump.host, {}).get(jump.chain):
        return None
    f = scenario.flow(flow)
    second = sim.run(f.model_copy(update={"sourcePort": f.sourcePort + 1}))
    j2 = _first(second, lambda s: s.packet_no == 0 and s.kind in ("jump", "goto") and s.chain == jump.chain
                and s.target.startswith("KUBE-SEP-"))
    if j2 is None:
        return None
    picks = ctx.picks.get(jump.host, {}).get(jump.chain, ())
    chances = overall_chances(picks)
    targets = [t for t, _ in picks]
    same = j2.target == jump.target and "--rcheck" in j2.rule
    answer = _frac(Fraction(1)) if same else _frac(chances[targets.index(jump.target)])
    cands = [_frac(c) for c in chances] + [_frac(Fraction(1, max(1, len(picks))))]
    cands += [_frac(Fraction(p).limit_denominator(1000)) for _, p in picks if p is not None]
    # "it goes round-robin to the next one" is the other common belief
    tiers: list[Iterable[str]] = [cands, [_frac(Fraction(0)), _frac(Fraction(1, len(picks) + 1))]]
    prompt = (f"{_client(first)}'s connection to {_dest(first)} went to {jump.target} (the Service has "
              f"sessionAffinity ClientIP). Right after, it opens a new connection from another source port. "
              f"What is the chance that this one goes to {jump.target} too?")
    expl = (f"Second connection, step {j2.index} on {j2.host}: {j2.why}\n"
            "The `-m recent --rcheck` rules come before the statistic rules: a client seen within the "
            "affinity timeout goes back to the same endpoint.")
    return _make(second, "pick-chance", j2.index, j2.host, prompt, answer, tiers, expl, seed,
                 target=f"{jump.chain} affinity")


# ------------------------------------------------------------------ compare two flows


def q_compare(a: Trace, b: Trace, ctx: QuizContext = EMPTY, seed: int | None = None) -> Question | None:
    """``a`` is masqueraded and ``b`` is not: which chain marks ``a``?"""
    mark = _first(a, lambda s: s.packet_no == 0 and s.kind in ("jump", "goto") and s.target == "KUBE-MARK-MASQ")
    masq = _first(a, lambda s: s.packet_no == 0 and s.kind in ("masquerade", "snat"))
    if mark is None or masq is None or not a.server_saw or not b.server_saw:
        return None
    if _first(b, lambda s: s.packet_no == 0 and s.kind in ("masquerade", "snat")) is not None:
        return None

    def reason(chain: str) -> str:
        return f"{chain} jumps to KUBE-MARK-MASQ for it; KUBE-POSTROUTING masquerades marked packets"

    answer = reason(mark.chain)
    cands = []
    for tmap in ctx.targets.values():
        for chain, targets in tmap.items():
            if "KUBE-MARK-MASQ" in targets and chain != mark.chain:
                cands.append(reason(chain))
    b_post = [s for s in b.steps if s.packet_no == 0 and s.chain == "KUBE-POSTROUTING" and s.kind == "return"]
    prompt = (f"Two flows of {a.scenario}: in {a.flow} ({_client(a)} → {_dest(a)}, to {a.endpoint or 'the server'}) "
              f"the server sees the source {_ip(a.server_saw)}, but in {b.flow} ({_client(b)} → {_dest(b)}, to "
              f"{b.endpoint or 'the server'}) it sees the client's own address {_ip(b.server_saw)}. "
              "What makes the difference?")
    expl = (f"{a.flow}, step {mark.index} on {mark.host}: {mark.why}\n{a.flow}, step {masq.index}: {masq.why}"
            + (f"\n{b.flow}, step {b_post[0].index} on {b_post[0].host}: nothing marked it, so "
               "KUBE-POSTROUTING returns." if b_post else ""))
    return _make(a, "compare", mark.index, mark.host, prompt, answer, [cands], expl, seed,
                 target=f"{a.flow}|{b.flow}")


def compare_questions(traces: list[Trace], ctx: QuizContext = EMPTY, seed: int | None = None) -> list[Question]:
    """One compare question per masqueraded flow, against the first flow that is not."""
    plain = [t for t in traces if t.server_saw and not any(
        s.packet_no == 0 and s.kind in ("masquerade", "snat") for s in t.steps)]
    out = []
    for t in traces:
        for b in plain:
            if b is t:
                continue
            q = q_compare(t, b, ctx, seed)
            if q is not None:
                out.append(q)
                break
    return out


def scenario_reasoning_questions(scenario: Any, flows: Iterable[str] | None = None, *,
                                 seed: int | None = None) -> list[Question]:
    """The questions that need more than one run: counterfactuals, affinity, compare."""
    from ..cluster import ClusterSim
    from .context import context_from_sim

    # flows with a time (at) are left out, as in questions_for_scenario
    names = list(flows) if flows is not None else [f.name for f in scenario.flows if f.at is None]
    traces: list[Trace] = []
    ctx = EMPTY
    out: list[Question] = []
    for name in names:
        sim = ClusterSim(scenario, seed=seed)
        ctx = context_from_sim(sim)
        t = sim.run_flow(name)
        traces.append(t)
        out += counterfactual_questions(scenario, name, seed=seed, trace=t, context=ctx)
        q = affinity_question(scenario, name, seed=seed)
        if q is not None:
            out.append(q)
        from .nft_questions import nft_wrong_port_question

        q = nft_wrong_port_question(scenario, name, seed=seed)  # nftables mode only
        if q is not None and all(o.target != q.target for o in out):
            out.append(q)
    out += compare_questions(traces, ctx, seed)
    return out
