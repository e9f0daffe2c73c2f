"""``nft monitor trace`` (nftables 1.0.6) read into the referee's ``KPacket``s.

The referee's own table ``ip kt-trace`` sets ``meta nftrace set 1`` at priority -350 of
prerouting and output, so every packet is traced from its first base chain on::

    trace id 0510beac ip kt-trace prerouting packet: iif "eth0" … ip saddr 192.168.1.2 ip daddr 192.168.1.10 … tcp sport 40000 tcp dport 30080 tcp flags == syn …
    trace id 0510beac ip kube-proxy nat-prerouting rule jump services (verdict jump services)
    trace id 0510beac ip kube-proxy services rule ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports (verdict goto external-…)
    trace id 0510beac ip kube-proxy filter-forward policy accept meta mark 0x00004000

Only rules whose statements ran print a line (``verdict continue`` for one that only set a
mark); falling off the end of a regular chain prints nothing.  A ``kt-trace`` ``packet:``
line starts a new packet (trace ids are reused); its events are the referee's, not
compared.  Verdicts become the labels ``compare`` uses for both sides (``JUMP:CHAIN``,
``ACCEPT``, ``CONTINUE``, ``policy:ACCEPT``).
"""

from __future__ import annotations

import re

from kubeflow_tui.kubeproxy.nftables import BASE_CHAINS

from .capture import KEvent, KHeader, KPacket

REFEREE_TABLE = "kt-trace"
TRACE_TABLE = f"""add table ip {REFEREE_TABLE}
add chain ip {REFEREE_TABLE} prerouting {{ type filter hook prerouting priority -350 ; }}
add chain ip {REFEREE_TABLE} output {{ type filter hook output priority -350 ; }}
add rule ip {REFEREE_TABLE} prerouting meta l4proto {{ tcp, udp, icmp, sctp }} meta nftrace set 1
add rule ip {REFEREE_TABLE} output meta l4proto {{ tcp, udp, icmp, sctp }} meta nftrace set 1
"""
HOOKS = {name: hook.upper() for name, _t, hook, _p in BASE_CHAINS}
HOOKS.update({"prerouting": "PREROUTING", "output": "OUTPUT"})

_LINE = re.compile(r"^trace id (?P<id>[0-9a-f]+) (?P<family>\w+) (?P<table>\S+) (?P<chain>\S+) (?P<rest>.*?)\s*$")
_VERDICT = re.compile(r"^rule (?P<rule>.*) \(verdict (?P<verdict>\w+)(?: (?P<target>\S+))?\)$")
_TCP_BITS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20),
             ("ECE", 0x40), ("CWR", 0x80))


def _tcp_flags(text: str) -> tuple[str, ...]:
    bits = 0
    for part in text.split("|"):
        part = part.strip()
        if part.startswith("0x"):
            bits |= int(part, 16)
        else:
            bits |= dict(_TCP_BITS).get(part.upper(), 0)
    return tuple(name for name, bit in _TCP_BITS if bits & bit)


def parse_packet(text: str, line: str = "") -> KHeader:
    """The fields of a ``packet:`` line."""
    def after(words: str) -> str:
        m = re.search(rf"(?:^| ){re.escape(words)} (\S+)", text)
        return m.group(1).strip('"') if m else ""

    proto = "icmp" if " icmp type " in f" {text}" else ("udp" if " udp sport " in f" {text}" else
                                                          ("tcp" if " tcp sport " in f" {text}" else
                                                           ("sctp" if " sctp sport " in f" {text}" else "")))
    sport = after(f"{proto} sport") if proto in ("tcp", "udp", "sctp") else ""
    dport = after(f"{proto} dport") if proto in ("tcp", "udp", "sctp") else ""
    flags: tuple[str, ...] = ()
    m = re.search(r"tcp flags == (.+?)(?: tcp window| tcp |$)", text)
    if m:
        flags = _tcp_flags(m.group(1))
    mark = after("meta mark")
    return KHeader(src=after("ip saddr"), dst=after("ip daddr"), proto=proto or "icmp",
                   sport=int(sport or 0), dport=int(dport or 0), flags=flags, iif=after("iif"),
                   oif=after("oif"), ip_id=int(after("ip id") or 0), length=int(after("ip length") or 0),
                   mark=int(mark, 16) if mark else 0, line=line)


_MARK = re.compile(r" meta mark (0x[0-9a-f]+)\s*$")


def parse_nft_trace(text: str) -> list[KPacket]:
    """Packets in order.  nft prints no mark on ``packet:`` lines, only on a base chain's
    ``policy`` line (`` meta mark 0x00004000``, when not 0): a base chain's header gets the
    mark the packet left the previous base chain with, or -1 (unknown) when that one ended
    by a rule's verdict.  Of several base chains of one table at one hook
    only the first one's header is kept (``compare`` keys headers by table and hook)."""
    packets: list[KPacket] = []
    latest: dict[str, KPacket] = {}
    marks: dict[int, int] = {}
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        tid, table, chain, rest = m["id"], m["table"], m["chain"], m["rest"]
        if table == REFEREE_TABLE:
            if rest.startswith("packet:"):
                p = KPacket(trace_id=tid, family=2)
                packets.append(p)
                latest[tid] = p
            elif rest.startswith("policy ") and tid in latest:
                mm = _MARK.search(rest)
                marks[id(latest[tid])] = int(mm.group(1), 16) if mm else 0
            continue
        p = latest.get(tid)
        if p is None:
            continue
        tname = f"{m['family']} {table}"
        hook = HOOKS.get(chain, "")
        if rest.startswith("packet:"):
            if (tname, hook) not in p.base_chains:
                h = parse_packet(rest[len("packet:"):].strip(), raw)
                p.headers.append(KHeader(**{**h.__dict__, "mark": marks.get(id(p), 0)}))
                p.base_chains.append((tname, hook))
            continue
        # the mark is printed only where a base chain ends by its policy: then it is
        # known for the next base chain; after a rule's verdict it is not (-1)
        mm = _MARK.search(rest)
        if mm:
            rest = rest[: mm.start()]
        if rest.startswith("policy "):
            marks[id(p)] = int(mm.group(1), 16) if mm else 0
        elif rest.endswith(("(verdict accept)", "(verdict drop)")):
            marks[id(p)] = -1
        if rest.startswith("policy "):
            verdict = rest.split()[1].upper()
            p.events.append(KEvent(tname, chain, "policy", verdict, hook=hook, trace_id=tid, line=raw))
            continue
        v = _VERDICT.match(rest)
        if v is None:
            continue
        verdict, target = v["verdict"].upper(), (v["target"] or "").upper()
        p.events.append(KEvent(tname, chain, "rule", verdict, target, 0, v["rule"], hook, tid, raw))
    return packets
