"""A real node's dump, opened to play packets through: ``kubeflow-tui open-dump``.

- ``load_node_dump(path, nft=…, conntrack=…, node_ip=…) -> NodeDump``: the node's
  ``iptables-save`` (or, with ``nft=True``, ``nft list ruleset``) and, optionally, its
  ``conntrack -L`` output; ``DumpError`` (``file:line:col: message``) when one cannot be read.
- ``NodeDump.targets``: the destinations kube-proxy's rules in the dump answer (cluster IPs,
  external and load-balancer IPs, nodePorts), each with the Service port it belongs to;
  ``NodeDump.known``: the connections of the conntrack table.
- ``check_packet(src, dst, proto, sport) -> PacketSpec``: what the learner typed, checked;
  ``PacketError`` names the field and says what is wrong.
- ``NodeDump.trace(spec, seed)``: the packet through the dump, as ``trace --iptables-save``
  / ``--nft-ruleset`` walks it.  A packet of a connection the conntrack table knows (its
  tuple is an entry's original or reply tuple) is sent as a later packet of that connection
  (TCP: an ACK, as every packet after the handshake is), so it takes the conntrack path: the
  nat table is not walked and the entry's NAT is applied (to a reply: undone).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from kubeflow_tui.netfilter.conntrack import TCP_TIMEOUTS, ConntrackEntry

from .read import DumpError

PROTOS = ("tcp", "udp")
DEFAULT_NODE_IP = "192.168.1.10"  # trace --iptables-save's default too
DUMP_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A destination kube-proxy's rules answer, and whose it is."""

    dst: str
    dport: int
    proto: str
    what: str  # "cluster IP", "nodePort", "external IP", "load balancer IP", "no endpoints"
    owner: str  # "default/web:http" ("" when the rule does not say)

    @property
    def label(self) -> str:
        return f"{self.dst}:{self.dport}/{self.proto}  {self.owner or '?'} ({self.what})"


@dataclass(frozen=True)
class PacketSpec:
    src: str
    dst: str
    dport: int
    proto: str = "tcp"
    sport: int = 40000

    def __str__(self) -> str:
        return f"{self.proto} {self.src}:{self.sport} -> {self.dst}:{self.dport}"


class PacketError(ValueError):
    """A packet the learner typed that cannot be sent: ``field`` (src, dst, proto, sport)
    and a message that says what a good value looks like."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


def _check_ip(text: str, field_name: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise PacketError(field_name, f"{what}: type an IPv4 address, e.g. 10.244.1.5")
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise PacketError(field_name, f"{what}: {text!r} is not an IPv4 address (e.g. 10.244.1.5)") from None


def _check_port(text: str, field_name: str, what: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise PacketError(field_name, f"{what}: {text!r} is not a port (1-65535)")
    return int(text)


def check_packet(src: str, dst: str, proto: str = "tcp", sport: str = "40000") -> PacketSpec:
    """The packet the learner typed: ``src`` an IPv4 address, ``dst`` ``IP:PORT``, ``proto``
    tcp or udp, ``sport`` a port."""
    s = _check_ip(src, "src", "source")
    dst = dst.strip()
    host, sep, port = dst.rpartition(":")
    if not sep:
        raise PacketError("dst", f"destination: {dst!r} needs a port: IP:PORT, e.g. 10.96.0.10:53"
                          if dst else "destination: type IP:PORT, e.g. 10.96.0.10:53")
    d = _check_ip(host, "dst", "destination")
    dport = _check_port(port.strip(), "dst", "destination port")
    p = proto.strip().lower()
    if p not in PROTOS:
        raise PacketError("proto", f"protocol: {proto!r}: kube-proxy's rules here are followed for tcp or udp")
    sp = _check_port(sport.strip(), "sport", "source port")
    return PacketSpec(s, d, dport, p, sp)


# ----------------------------------------------------------------------------- conntrack -L

_CT_LINE = re.compile(
    r"^(?:ipv4\s+2\s+)?(?P<proto>tcp|udp)\s+(?P<num>\d+)\s+(?P<timeout>\d+)\s+(?:(?P<state>[A-Z_]+)\s+)?"
    r"src=(?P<s1>\S+) dst=(?P<d1>\S+) sport=(?P<sp1>\d+) dport=(?P<dp1>\d+)(?P<unrep> \[UNREPLIED\])?"
    r" src=(?P<s2>\S+) dst=(?P<d2>\S+) sport=(?P<sp2>\d+) dport=(?P<dp2>\d+)(?P<rest>.*)$")
_CT_SUMMARY = re.compile(r"^conntrack v[\d.]+ \(conntrack-tools\): \d+ flow entr(y|ies) ha(s|ve) been shown\.$")
_CT_OTHER_PROTO = re.compile(r"^(?:ipv4\s+2\s+)?(icmp|sctp|dccp|gre|udplite|unknown)\s+\d+\s")
_CT_V6 = re.compile(r"^ipv6\s+10\s")


def parse_conntrack(text: str, source: str = "<conntrack>") -> tuple[list[ConntrackEntry], list[str]]:
    """The TCP and UDP entries of ``conntrack -L`` output (also ``-o extended`` and ``-o id``;
    the summary line conntrack prints on stderr is allowed): (entries, notes on the lines left
    out).  A line that is not conntrack's is a ``DumpError`` at its line."""
    entries: list[ConntrackEntry] = []
    skipped: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        if not line or _CT_SUMMARY.match(line):
            continue
        if _CT_V6.match(line):
            skipped["IPv6"] = skipped.get("IPv6", 0) + 1
            continue
        m = _CT_OTHER_PROTO.match(line)
        if m:
            skipped[m.group(1)] = skipped.get(m.group(1), 0) + 1
            continue
        m = _CT_LINE.match(line)
        if m is None:
            raise DumpError(source, "not a line of `conntrack -L` output (expected e.g. `tcp      6 431999 "
                            "ESTABLISHED src=… dst=… sport=… dport=… src=… …`)", n, 1)
        proto = m["proto"]
        if int(m["num"]) != {"tcp": 6, "udp": 17}[proto]:
            raise DumpError(source, f"{proto} is protocol {({'tcp': 6, 'udp': 17})[proto]}, not {m['num']}", n,
                            lead + m.start("num") + 1)
        state = m["state"] or ""
        if proto == "tcp" and state not in TCP_TIMEOUTS:
            col = lead + m.start("state") + 1 if state else lead + m.start("s1") - 3
            raise DumpError(source, f"unknown TCP state {state or '(none)'!r}; conntrack prints one of "
                            + ", ".join(TCP_TIMEOUTS), n, col)
        addrs = []
        for k in ("s1", "d1", "s2", "d2"):
            try:
                addrs.append(str(ipaddress.IPv4Address(m[k])))
            except ValueError:
                raise DumpError(source, f"{m[k]!r} is not an IPv4 address", n, lead + m.start(k) + 1) from None
        ports = [int(m[k]) for k in ("sp1", "dp1", "sp2", "dp2")]
        if not all(0 <= p <= 65535 for p in ports):
            raise DumpError(source, "a port is out of range (0-65535)", n, 1)
        rest = m["rest"]
        mark = re.search(r"\bmark=(\d+)", rest)
        entries.append(ConntrackEntry(
            proto=proto, orig=(addrs[0], addrs[1], ports[0], ports[1]),
            reply=(addrs[2], addrs[3], ports[2], ports[3]), state=state,
            seen_reply=not m["unrep"], assured="[ASSURED]" in rest, confirmed=True,
            timeout=int(m["timeout"]) + 1,  # (line() prints one less, as the kernel does a moment later)
            mark=int(mark.group(1)) if mark else 0, id=len(entries) + 1))
    notes = [f"{n} {what} entr{'y' if n == 1 else 'ies'} left out (only IPv4 TCP and UDP connections are followed)"
             for what, n in skipped.items()]
    return entries, notes


# ----------------------------------------------------------------------------- the dump


@dataclass
class NodeDump:
    source: str
    mode: str  # "iptables" | "nftables"
    text: str
    node_ip: str
    targets: list[Target] = field(default_factory=list)
    known: list[ConntrackEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conntrack_source: str = ""
    _ruleset: object = None
    _nft: tuple | None = None

    @property
    def name(self) -> str:
        return Path(self.source).name if self.source != "<stdin>" else "<stdin>"

    def known_entry(self, spec: PacketSpec) -> ConntrackEntry | None:
        t = (spec.src, spec.dst, spec.sport, spec.dport)
        for e in self.known:
            if e.proto == spec.proto and (e.orig == t or e.reply == t):
                return e
        return None

    def ruleset_text(self) -> str:
        return self.text

    def trace(self, spec: PacketSpec, seed: int = 1):
        """The packet through the dump (a fresh node each time, with the conntrack table given)."""
        from kubeflow_tui.cluster.dump import DumpSim, NftDumpSim

        if self.mode == "nftables":
            table, ev, _others = self._nft  # type: ignore[misc]
            sim = NftDumpSim(table, ev, node_ip=self.node_ip, seed=seed)
        else:
            sim = DumpSim(self._ruleset, node_ip=self.node_ip, seed=seed)  # type: ignore[arg-type]
        sim.nodes["node"].conntrack.load(self.known)
        known = self.known_entry(spec)
        trace = sim.trace_packet(spec.src, spec.dst, spec.dport, proto=spec.proto, sport=spec.sport,
                                 local=spec.src == self.node_ip, known=known is not None)
        what = "nft list ruleset dump" if self.mode == "nftables" else "iptables-save dump"
        meta = dict(trace.meta)
        meta["dump"] = self.source
        meta["node_ip"] = self.node_ip
        if known is not None:
            meta["known_connection"] = known.line()
        if self.conntrack_source:
            meta["conntrack"] = f"{self.conntrack_source}: {len(self.known)} entries"
        return dataclasses.replace(trace, scenario=f"{self.name} ({what})", flow=str(spec), meta=meta)


def _read(path: str, what: str) -> tuple[str, str]:
    from .read import read_source

    source, text = read_source(path, what=what)
    if not text.strip():
        raise DumpError(source, f"the {what} is empty", 1, 1)
    return source, text


def load_node_dump(path: str, *, nft: bool = False, conntrack: str | None = None,
                   node_ip: str | None = None) -> NodeDump:
    """Read a node's dump (and its conntrack table); ``DumpError`` says where it is wrong."""
    source, text = _read(path, "nft list ruleset output" if nft else "iptables-save output")
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if nft and first.startswith(("*", ":")):
        raise DumpError(source, "this is iptables-save output, not `nft list ruleset`: "
                        "leave out --nft-ruleset", 1, 1)
    if not nft and first.startswith("table "):
        raise DumpError(source, "this is `nft list ruleset` output: add --nft-ruleset", 1, 1)
    if node_ip is not None:
        try:
            node_ip = str(ipaddress.IPv4Address(node_ip))
        except ValueError:
            raise DumpError("--node-ip", f"{node_ip!r} is not an IPv4 address") from None
    notes: list[str] = []
    if nft:
        from kubeflow_tui.cluster.dump import NftDumpError, load_nft_dump
        from kubeflow_tui.netfilter.nft_parse import NftParseError

        try:
            table, ev, others = load_nft_dump(text, source)
        except (NftParseError, NftDumpError) as e:
            raise _as_dump_error(source, str(e)) from None
        if others:
            notes.append(f"tables not walked (not kube-proxy's): {', '.join(others)}")
        listed = sorted(table.sets["nodeport-ips"].elements) if "nodeport-ips" in table.sets else []
        if node_ip is None and listed:
            node_ip = listed[0][0]
            notes.append(f"node IP {node_ip}: the first address of the set nodeport-ips")
        dump = NodeDump(source, "nftables", text, node_ip or DEFAULT_NODE_IP, notes=notes,
                        _nft=(table, ev, others))
        dump.targets = _nft_targets(table, dump.node_ip)
    else:
        from kubeflow_tui.netfilter import parse_iptables_save

        try:
            rs = parse_iptables_save(text, source=source)
        except ValueError as e:
            raise _as_dump_error(source, str(e)) from None
        if "nat" not in rs.tables:
            raise DumpError(source, "no *nat table in this iptables-save output: kube-proxy's Services "
                            "live there (run iptables-save on the node, all tables)", 1, 1)
        dump = NodeDump(source, "iptables", text, node_ip or DEFAULT_NODE_IP, notes=notes, _ruleset=rs)
        dump.targets = _iptables_targets(rs, dump.node_ip)
    if node_ip is None:
        notes.append(f"node IP {DEFAULT_NODE_IP} (the dump does not say; --node-ip gives the real one)")
    if conntrack:
        ct_source, ct_text = _read(conntrack, "conntrack -L output")
        dump.known, more = parse_conntrack(ct_text, ct_source)
        dump.conntrack_source = ct_source
        notes += more
    return dump


def _as_dump_error(source: str, text: str) -> DumpError:
    """An error of the netfilter parsers (``source:line:col: message``) as a DumpError."""
    m = re.match(rf"^{re.escape(source)}:(\d+):(\d+): (.*)$", text, re.S)
    if m:
        return DumpError(source, m.group(3), int(m.group(1)), int(m.group(2)))
    m = re.match(rf"^{re.escape(source)}:(\d+): (.*)$", text, re.S)
    if m:
        return DumpError(source, m.group(2), int(m.group(1)), 1)
    return DumpError(source, text)


def _iptables_targets(rs, node_ip: str) -> list[Target]:
    out: list[Target] = []
    seen: set[tuple] = set()
    for table, chain in (("nat", "KUBE-SERVICES"), ("nat", "KUBE-NODEPORTS"), ("filter", "KUBE-SERVICES"),
                         ("filter", "KUBE-EXTERNAL-SERVICES"), ("filter", "KUBE-NODEPORTS")):
        t = rs.tables.get(table)
        c = t.chains.get(chain) if t is not None else None
        if c is None:
            continue
        for r in c.rules:
            if r.proto not in PROTOS or r.dst_neg:
                continue
            m = r.match(r.proto)
            opt = m.get("--dport") if m is not None else None
            if opt is None or opt.negated or not opt.value.isdigit():
                continue
            comment = r.comment or ""
            owner = comment.split(" ")[0] if "/" in comment.split(" ")[0] else ""
            if chain == "KUBE-NODEPORTS":
                dst, what = node_ip, "nodePort"
            elif r.dst and r.dst.endswith("/32"):
                dst = r.dst[:-3]
                what = comment[len(owner):].strip() or "Service"
            else:
                continue
            if table == "filter":
                what = "no endpoints" if "has no" in comment else what
            key = (dst, int(opt.value), r.proto)
            if key in seen:
                continue
            seen.add(key)
            out.append(Target(dst, int(opt.value), r.proto, what, owner))
    return out


_NFT_CHAIN = re.compile(r"^(?:service|external|firewall|endpoint|cluster|local)-[A-Z0-9]{8}-"
                        r"([a-z0-9][-a-z0-9.]*)/([a-z0-9][-a-z0-9.]*)/([a-z]+)/([^_]*)")


def nft_owner(chain: str) -> str:
    """``default/web:http`` for ``service-SUSTUHLJ-default/web/tcp/http`` (and the other
    per-Service chains), else ""."""
    m = _NFT_CHAIN.match(chain)
    if not m:
        return ""
    return f"{m.group(1)}/{m.group(2)}" + (f":{m.group(4)}" if m.group(4) else "")


def _nft_targets(table, node_ip: str) -> list[Target]:
    out: list[Target] = []
    cluster = table.sets.get("cluster-ips")
    cluster_ips = {k[0] for k in cluster.elements} if cluster is not None else set()
    for name, what_of in (("service-ips", None), ("no-endpoint-services", "no endpoints")):
        s = table.sets.get(name)
        if s is None:
            continue
        for el in s.elements.values():
            if len(el.key) != 3 or el.key[1] not in PROTOS or not el.key[2].isdigit():
                continue
            verdict = " ".join(el.value)
            chain = verdict.split()[-1] if verdict else ""
            what = what_of or ("cluster IP" if el.key[0] in cluster_ips else "external or load balancer IP")
            out.append(Target(el.key[0], int(el.key[2]), el.key[1], what, nft_owner(chain) or (el.comment or "")))
    for name, what_of in (("service-nodeports", "nodePort"), ("no-endpoint-nodeports", "nodePort, no endpoints")):
        s = table.sets.get(name)
        if s is None:
            continue
        for el in s.elements.values():
            if len(el.key) != 2 or el.key[0] not in PROTOS or not el.key[1].isdigit():
                continue
            chain = (" ".join(el.value)).split()[-1] if el.value else ""
            out.append(Target(node_ip, int(el.key[1]), el.key[0], what_of, nft_owner(chain) or (el.comment or "")))
    return out
