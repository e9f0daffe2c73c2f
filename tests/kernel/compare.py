"""Hold a simulator ``Trace`` against what the kernel did (a ``KernelResult``).

``compare_flow(scenario, flow_name, kernel_result, trace) -> list[str]``: one sentence per
disagreement, empty when the simulator predicted the kernel.  Compared, per node:

* for every packet the simulator shows on the node, the kernel packet it stands for
  (same protocol, direction and TCP flags, in order; the kernel sees more packets -- pure
  ACKs, ICMP redirects, REJECT's ICMP error -- which the simulator need not show) and its
  ordered ``table:chain:verdict`` path, rule text included (``compare_rules``);
* the headers each base chain saw (the ``PACKET:`` lines): where DNAT, MASQUERADE and
  conntrack's translations of later packets and replies took effect;
* the packet's destination and source as it leaves the node (after DNAT / SNAT,
  MASQUERADE, or conntrack's reverse translation), taken from the kernel's conntrack tuples;
* the node's conntrack entries (proto, original and reply tuples, state, UNREPLIED/ASSURED,
  timeout within 2 s) at the moment the simulator's last step shows, and the states each
  entry went through (``conntrack -E``; the kernel may show more, never fewer or others);
* a node whose rules the kernel's packets crossed but the simulator never visits;

and for the flow: the outcome, the endpoint, what the server saw, what the client saw.

How the kernel's trace is read (what ``xtables-monitor --trace`` does and does not show):
only rules that *match* leave a line; falling off the end of a user chain leaves none (no
``return`` line on 6.x kernels), so the simulator's implicit returns are not compared; the
raw table exists only because the referee put its TRACE rules there, unless the node's
ruleset declared it; a NAT target's verdict is ACCEPT, MARK's is CONTINUE, REJECT's DROP,
a rule without a target CONTINUE.

``MASQUERADE --random-fully`` picks a random source port: every port a NAT chose (a reply
tuple's destination port that differs from the original source port), on either side,
is compared as ``*`` wherever it shows up.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from kubeflow_tui.scenario.models import Scenario
from kubeflow_tui.trace import ConntrackView, Step, Trace

from .capture import KHeader, KPacket
from .netns import HostCapture, KernelResult

#: What every comparison did in this session (the conftest prints it at the end).
STATS: Counter[str] = Counter(flows=0, packets=0, mismatches=0)

_SKIP_KINDS = {
    "send", "link", "route", "no-match", "deliver", "timeout",
    "conntrack-new", "conntrack-hit", "conntrack-reverse", "conntrack-confirm", "conntrack-invalid",
}
_NAT_TARGETS = {"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}
_CONTINUE_TARGETS = {"MARK", "CONNMARK", "LOG", "NFLOG", "TRACE", "CT", "CLASSIFY", "DSCP", "TOS"}
_CLOSING = {"FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE"}
_KERNEL_OUTCOMES = {  # kernel outcome -> simulator outcomes that say the same
    "delivered": {"delivered"},
    "refused": {"refused"},
    "timeout": {"timeout", "dropped"},
    "unreachable": {"dropped", "refused", "timeout"},
    "eperm": {"refused", "timeout"},  # the sending call failed (a drop in the sender's OUTPUT)
}
_TARGET_RE = re.compile(r"(?:^|\s)-([jg])\s+(\S+)")


@dataclass(frozen=True)
class PathEntry:
    """One row of a path, the same shape for both sides."""

    table: str
    chain: str
    verdict: str  # ACCEPT DROP CONTINUE RETURN JUMP:X GOTO:X policy:ACCEPT ...
    rule: str = ""

    @property
    def label(self) -> str:
        return f"{self.table}:{self.chain}:{self.verdict}"


def rule_verdict(rule: str, target: str = "", kind: str = "") -> str:
    """The verdict the kernel traces for a rule: from its ``-j``/``-g`` target."""
    m = _TARGET_RE.search(rule or "")
    if m:
        how, name = m.groups()
    elif rule and not target and kind == "rule-match":
        return "CONTINUE"  # a rule without a target (kube-proxy's KUBE-FW comment rule)
    else:
        how, name = ("g" if kind == "goto" else "j"), (target or kind).upper()
    if name in ("ACCEPT", "DROP", "RETURN", "QUEUE"):
        return name
    if name == "REJECT":
        return "DROP"
    if name == "NFQUEUE":
        return "QUEUE"
    if name in _NAT_TARGETS:
        return "ACCEPT"
    if name in _CONTINUE_TARGETS:
        return "CONTINUE"
    return f"{'GOTO' if how == 'g' else 'JUMP'}:{name}"


# ---------------------------------------------------------------------------------------
# the two sides as comparable paths


def kernel_path(packet: KPacket, capture: HostCapture | None = None) -> list[PathEntry]:
    referee_raw = capture.referee_raw if capture is not None else True
    out = []
    for e in packet.events:
        if e.kind == "return" or "-j TRACE" in e.rule:
            continue
        if e.table == "raw" and referee_raw:
            continue
        verdict = f"policy:{e.verdict}" if e.kind == "policy" else (
            f"{e.verdict}:{e.target}" if e.target else e.verdict)
        out.append(PathEntry(e.table, e.chain, verdict, e.rule))
    return out


def sim_path(steps: Iterable[Step], *, referee_raw: bool = True) -> list[PathEntry]:
    out: list[PathEntry] = []
    last_key = None
    for s in steps:
        if not s.chain or s.kind in _SKIP_KINDS:
            continue
        if s.table == "CNI":
            continue  # the CNI's NetworkPolicy step: no netfilter chain (tests/kernel/netpol.py)
        if s.table.startswith("legacy-"):
            continue  # iptables-legacy's x_tables: xtables-monitor --trace sees nf_tables only
        if s.kind == "return" and not s.rule:
            continue  # falling off a user chain: the kernel traces nothing
        if s.table == "raw" and referee_raw:
            continue
        if s.kind == "policy":
            verdict = f"policy:{(s.target or 'ACCEPT').upper()}"
            rule = ""
        else:
            verdict = rule_verdict(s.rule, s.target, s.kind)
            rule = s.rule
        key = (s.table, s.chain, s.rule_index, verdict)
        if key == last_key:
            continue  # rule-match followed by its jump / dnat / mark step: one kernel line
        last_key = key
        out.append(PathEntry(s.table, s.chain, verdict, rule))
    return out


def render_side_by_side(title: str, kernel: list[PathEntry], sim: list[PathEntry], width: int = 58) -> str:
    """Both paths in two columns, aligned; ``!`` marks rows that differ."""

    def cell(e: PathEntry | None) -> str:
        if e is None:
            return ""
        text = e.label
        return text if len(text) <= width else text[: width - 1] + "…"

    rows = [f"  {title}", f"    {'kernel':<{width}} | simulator", f"    {'-' * width}-+-{'-' * width}"]
    sm = difflib.SequenceMatcher(a=[e.label for e in kernel], b=[e.label for e in sim], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        ks, ss = kernel[i1:i2], sim[j1:j2]
        for n in range(max(len(ks), len(ss))):
            k = ks[n] if n < len(ks) else None
            s = ss[n] if n < len(ss) else None
            mark = " " if op == "equal" else "!"
            rows.append(f"  {mark} {cell(k):<{width}} | {cell(s)}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------
# matching packets


def _norm_flags(flags: Iterable[str]) -> frozenset[str]:
    return frozenset(flags) - {"PSH"}


def _entries(cap: HostCapture) -> list[ConntrackView]:
    """Every connection the node had during the flow (events, then snapshots)."""
    seen: dict[tuple, ConntrackView] = {}
    for ct in [*cap.events, *cap.conntrack_open, *cap.conntrack]:
        seen.setdefault((ct.proto, ct.orig), ct)
    return list(seen.values())


def _tuple(h: KHeader) -> tuple[str, str, int, int]:
    return (h.src, h.dst, h.sport, h.dport)


def classify(header: KHeader, entries: list[ConntrackView]) -> tuple[str, ConntrackView | None]:
    """("original" | "reply" | "", entry) for a packet as it arrived on the node."""
    t = _tuple(header)
    for ct in entries:
        if ct.proto == header.proto and ct.orig == t:
            return "original", ct
    for ct in entries:
        if ct.proto == header.proto and ct.reply == t:
            return "reply", ct
    return "", None


def exit_tuple(direction: str, ct: ConntrackView) -> tuple[str, str, int, int]:
    """(src, dst, sport, dport) of a packet leaving the node, all NAT done."""
    if direction == "original":
        return (ct.reply[1], ct.reply[0], ct.reply[3], ct.reply[2])
    return (ct.orig[1], ct.orig[0], ct.orig[3], ct.orig[2])


def _sim_packets(steps: list[Step]) -> list[tuple[int, list[Step]]]:
    """A host's steps per packet and per visit: a packet that comes back to a host it has
    already crossed (a pod calling another node's NodePort whose endpoint is back on the
    pod's node) is a second packet to the kernel there (a new skb, a new trace id).  A
    packet a node sends itself through lo stays one (the kernel side joins it too)."""
    order: dict[tuple[int, int], list[Step]] = {}
    visit: dict[int, int] = {}
    for s in steps:
        v = visit.setdefault(s.packet_no, 0)
        cur = order.get((s.packet_no, v))
        if (s.kind == "link" and len(s.link) == 2 and s.link[0] != s.link[1] and cur
                and any(x.kind != "link" for x in cur)):
            v = visit[s.packet_no] = v + 1
        order.setdefault((s.packet_no, v), []).append(s)
    return [(no, st) for (no, _), st in order.items()]


def _ct_direction(psteps: list[Step]) -> str:
    """The direction conntrack gives a simulated packet on this host ("original" |
    "reply"), as ``classify`` reads the kernel's: from the host's own conntrack step.  It is
    not always the connection's: a reply that reaches a node which never saw the request
    (a pod calling another node's NodePort, the endpoint on a third node, no masquerade:
    the reply goes straight back to the pod's node) opens a new entry there, in its
    original direction."""
    for s in psteps:
        if s.kind == "conntrack-reverse":
            return "reply"
        if s.kind in ("conntrack-new", "conntrack-hit"):
            return "original"
    return psteps[0].packet.direction


def _ep(ip: str, port: int | str, masked: bool = False) -> str:
    return f"{ip}:{'*' if masked else port}" if port else ip


class _Mask:
    """``MASQUERADE --random-fully`` ports, compared as ``*``.

    The kernel's: every port a NAT put into a reply tuple (the masqueraded source port of
    the original direction); the simulator's: every port its ``masquerade`` steps chose.
    A port is masked by value wherever it shows up (the next node sees it as an ordinary
    source port, the server reports it), on its own side only."""

    def __init__(self, kernel: set[int] = frozenset(), sim: set[int] = frozenset()):
        self.kernel, self.sim = set(kernel), set(sim)

    def k(self, port: int) -> int | str:
        return "*" if port in self.kernel else port

    def s(self, port: int) -> int | str:
        return "*" if port in self.sim else port

    def k_ep(self, ip: str, port: int) -> str:
        return _ep(ip, self.k(port))

    def s_ep(self, ip: str, port: int) -> str:
        return _ep(ip, self.s(port))

    def k_text(self, addr: str) -> str:
        ip, _, port = addr.rpartition(":")
        return self.k_ep(ip, int(port)) if port.isdigit() else addr

    def s_text(self, addr: str) -> str:
        ip, _, port = addr.rpartition(":")
        return self.s_ep(ip, int(port)) if port.isdigit() else addr


def _snat_ports(entries: Iterable[ConntrackView]) -> set[int]:
    """Source ports a NAT chose: the reply tuple's destination port, where it differs."""
    return {ct.reply[3] for ct in entries if ct.reply[3] != ct.orig[2]}


def _kernel_masq_ports(k: KernelResult) -> set[int]:
    return _snat_ports(ct for cap in k.hosts.values()
                       for ct in [*cap.events, *cap.conntrack_open, *cap.conntrack])


def _sim_masq_ports(trace: Trace) -> set[int]:
    return _snat_ports(ct for s in trace.steps for ct in s.conntrack)


# ---------------------------------------------------------------------------------------
# the comparison


def random_snat(kernel: KernelResult) -> bool:
    """True when the kernel masqueraded with ``--random-fully`` (nftables: ``masquerade
    fully-random``) somewhere in this flow."""
    return any(
        e.kind == "rule" and ("--random-fully" in e.rule or "masquerade fully-random" in e.rule)
        for cap in kernel.hosts.values()
        for p in cap.packets
        for e in p.events
    )


def compare_flow(
    scenario: Scenario,
    flow_name: str,
    kernel_result: KernelResult,
    trace: Trace,
    *,
    compare_rules: bool = True,
    record: bool = True,
) -> list[str]:
    """Every way the simulator's ``trace`` of ``flow_name`` differs from the kernel's run."""
    k = kernel_result
    scenario.flow(flow_name)  # KeyError for a flow the scenario does not have
    if k.flow != flow_name or trace.flow != flow_name:
        raise ValueError(f"compare_flow({flow_name!r}): kernel ran {k.flow!r}, trace is of {trace.flow!r}")
    out: list[str] = []
    rnd = random_snat(k)
    mask = _Mask(_kernel_masq_ports(k), _sim_masq_ports(trace)) if rnd else _Mask()
    packets = 0

    if trace.outcome not in _KERNEL_OUTCOMES.get(k.outcome, {k.outcome}):
        out.append(f"outcome: kernel {k.outcome} ({k.error or k.reply}), simulator {trace.outcome}")
    if (k.outcome == "eperm") != (trace.error == "EPERM"):
        out.append(f"the client's call: kernel {k.outcome} ({k.error or k.reply}), simulator "
                   f"{trace.error or 'no error'}")
    if k.outcome == "delivered":
        if trace.endpoint and k.server and trace.endpoint != k.server:
            out.append(f"endpoint: kernel {k.server}, simulator {trace.endpoint}")
        if trace.server_saw and mask.s_text(trace.server_saw) != mask.k_text(k.server_saw):
            out.append(f"server saw: kernel {k.server_saw}, simulator {trace.server_saw}"
                       + (" (port random: --random-fully)" if rnd else ""))
        if trace.client_saw and trace.client_saw != k.client_saw:
            out.append(f"client saw the reply from: kernel {k.client_saw}, simulator {trace.client_saw}")

    for host, cap in k.hosts.items():
        steps = trace.steps_on(host)
        entries = _entries(cap)
        kpackets = [(p, *classify(p.first, entries)) for p in cap.packets if p.headers]
        used = -1
        for packet_no, psteps in _sim_packets(steps):
            first = psteps[0].packet
            label = psteps[0].packet_label or " ".join(first.flags) or f"packet {packet_no}"
            name = f"{host} packet {packet_no} ({label})"
            want_flags = _norm_flags(first.flags)
            want_dir = _ct_direction(psteps)
            match = None
            for i in range(used + 1, len(kpackets)):
                kp, direction, _ = kpackets[i]
                if kp.first.proto != first.proto or (direction and direction != want_dir):
                    continue
                if want_flags and _norm_flags(kp.flags) != want_flags:
                    continue
                match, used = kpackets[i], i
                break
            if match is None:
                out.append(f"{name}: the kernel saw no {want_dir} {first.proto} packet "
                           f"{' '.join(first.flags)} on {host}")
                continue
            packets += 1
            kp, direction, ct = match
            kpath = kernel_path(kp, cap)
            spath = sim_path(psteps, referee_raw=cap.referee_raw)
            labels_differ = [e.label for e in kpath] != [e.label for e in spath]
            if labels_differ:
                out.append(f"{name}: chain path differs\n"
                           + render_side_by_side(f"{name}: {kp.describe()}", kpath, spath))
            elif compare_rules:
                for ke, se in zip(kpath, spath):
                    if ke.rule and se.rule and ke.rule != se.rule:
                        out.append(f"{name}: rule text in {ke.table}:{ke.chain} differs\n"
                                   f"    kernel:    {ke.rule}\n    simulator: {se.rule}")
            out += _compare_headers(name, kp, cap, psteps, mask)
            if ct is not None:
                src, dst, sport, dport = exit_tuple(direction, ct)
                last = psteps[-1].packet
                if mask.k_ep(dst, dport) != mask.s_ep(last.dst, last.dport):
                    out.append(f"{name}: destination leaving {host}: kernel {mask.k_ep(dst, dport)}, "
                               f"simulator {mask.s_ep(last.dst, last.dport)}")
                if mask.k_ep(src, sport) != mask.s_ep(last.src, last.sport):
                    out.append(f"{name}: source leaving {host}: kernel {mask.k_ep(src, sport)}, "
                               f"simulator {mask.s_ep(last.src, last.sport)}")
        if not steps:
            seen = [p for p in cap.packets if p.headers and kernel_path(p, cap)
                    and p.first.proto in ("tcp", "udp")]
            if seen:
                out.append(f"{host}: the kernel's rules saw {len(seen)} packet(s) of this flow "
                           f"(first: {seen[0].describe()}); the simulator shows none on {host}")
        out += _compare_conntrack(host, cap, steps, mask)
        out += _compare_ct_history(host, cap, steps, mask)

    if record:
        STATS["flows"] += 1
        STATS["packets"] += packets
        STATS["mismatches"] += len(out)
    return out


def _sim_headers(psteps: list[Step]) -> dict[tuple[str, str], Step]:
    """(table, hook) -> the first step of a packet in that table's base chain."""
    out: dict[tuple[str, str], Step] = {}
    for s in psteps:
        if s.table and s.hook and s.chain and (s.table, s.hook) not in out:
            out[(s.table, s.hook)] = s
    return out


def _compare_headers(name: str, kp: KPacket, cap: HostCapture, psteps: list[Step], mask: _Mask) -> list[str]:
    """The headers every base chain saw (``PACKET:`` lines): where each NAT took effect,
    conntrack's own translations of later packets and replies included."""
    out = []
    sim = _sim_headers(psteps)
    for (table, hook), h in zip(kp.base_chains, kp.headers):
        if table == "raw" and cap.referee_raw:
            continue
        step = sim.get((table, hook))
        if step is None:
            continue  # a chain the simulator did not enter: the path comparison says so
        p = step.packet
        k_mark = p.mark if h.mark < 0 else h.mark  # -1: the kernel's trace did not say
        k_text = f"{mask.k_ep(h.src, h.sport)} > {mask.k_ep(h.dst, h.dport)} mark 0x{k_mark:x}"
        s_text = f"{mask.s_ep(p.src, p.sport)} > {mask.s_ep(p.dst, p.dport)} mark 0x{p.mark:x}"
        if k_text != s_text:
            out.append(f"{name}: headers entering {table} {hook}: kernel {k_text}, simulator {s_text}")
    return out


def _timeout(ct: ConntrackView) -> int | None:
    toks = ct.line.split()
    if toks and toks[0].startswith("["):
        toks = toks[1:]
    return int(toks[2]) if len(toks) > 2 and toks[2].isdigit() else None


def _ct_key(ct: ConntrackView, port) -> tuple:
    o = ct.orig
    return (ct.proto, o[0], o[1], port(o[2]), port(o[3]))


def _ct_text(ct: ConntrackView, port) -> str:
    o, r = ct.orig, ct.reply
    status = ",".join(s for s in ct.status if s in ("UNREPLIED", "ASSURED"))
    return (f"{ct.proto} {ct.state or '-'} {_ep(o[0], port(o[2]))}>{_ep(o[1], port(o[3]))} "
            f"reply {_ep(r[0], port(r[2]))}>{_ep(r[1], port(r[3]))}{' [' + status + ']' if status else ''}")


def _flags(ct: ConntrackView) -> set[str]:
    return {s for s in ct.status if s in ("UNREPLIED", "ASSURED")}


def _compare_conntrack(host: str, cap: HostCapture, steps: list[Step], mask: _Mask) -> list[str]:
    # a node's every step carries its whole table: the last one is the final state (an
    # entry whose first packet was dropped or rejected was never confirmed: it is gone)
    sim: list[ConntrackView] = list(steps[-1].conntrack) if steps else []
    # the simulator's final state says which moment it shows: open, or after the close
    closing = any(ct.state in _CLOSING for ct in sim)
    kernel = cap.conntrack if closing else cap.conntrack_open
    when = "after the close" if closing else "while open"
    out = []
    sim_by = {_ct_key(ct, mask.s): ct for ct in sim}
    k_by = {_ct_key(ct, mask.k): ct for ct in kernel}
    for key, kc in k_by.items():
        sc = sim_by.get(key)
        if sc is None:
            out.append(f"{host} conntrack ({when}): kernel has {_ct_text(kc, mask.k)}; simulator has none")
            continue
        if (_ct_text(sc, mask.s) != _ct_text(kc, mask.k)) or _flags(sc) != _flags(kc):
            out.append(f"{host} conntrack ({when}): kernel {_ct_text(kc, mask.k)}; "
                       f"simulator {_ct_text(sc, mask.s)}")
            continue
        kt, st = _timeout(kc), _timeout(sc)
        if kt is not None and st is not None and abs(kt - st) > 2:
            out.append(f"{host} conntrack ({when}): timeout: kernel {kt} s left, simulator {st} s "
                       f"({_ct_text(kc, mask.k)})")
    for key, sc in sim_by.items():
        if key not in k_by:
            out.append(f"{host} conntrack ({when}): simulator has {_ct_text(sc, mask.s)}; kernel has none")
    return out


def _ct_state_text(ct: ConntrackView) -> str:
    if ct.event == "destroy":
        return "DESTROY"
    flags = sorted(_flags(ct))
    return (ct.state or ct.proto) + (f" [{','.join(flags)}]" if flags else "")


def _compare_ct_history(host: str, cap: HostCapture, steps: list[Step], mask: _Mask) -> list[str]:
    """Each connection's states one after the other: the kernel's ``conntrack -E`` events
    against the states the simulator's steps gave the entry they touched.  The kernel may
    show states the simulator's shorter script never reaches (a separate ACK before the
    server's FIN: CLOSE_WAIT), so the simulator's must come in the kernel's order, none
    missing, none extra."""
    def add(seqs: dict, key: tuple, text: str) -> None:
        seq = seqs.setdefault(key, [])
        if not seq or seq[-1] != text:
            seq.append(text)

    kseq: dict[tuple, list[str]] = {}
    for ev in cap.events:
        add(kseq, _ct_key(ev, mask.k), _ct_state_text(ev))
    sseq: dict[tuple, list[str]] = {}
    for st in steps:
        if 0 <= st.touched < len(st.conntrack):
            v = st.conntrack[st.touched]
            add(sseq, _ct_key(v, mask.s), _ct_state_text(v))
    out = []
    for key, ks in kseq.items():
        ss = sseq.get(key)
        if ss is None:
            continue  # the final-state comparison reports a missing entry
        it = iter(ks)
        if not all(any(x == y for y in it) for x in ss):
            out.append(f"{host} conntrack states of {key[0]} {_ep(key[1], key[3])}>{_ep(key[2], key[4])}: "
                       f"kernel {' -> '.join(ks)}; simulator {' -> '.join(ss)}")
    return out
