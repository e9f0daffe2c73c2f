"""The topology on the wire: hosts and the links between them, the packet travelling.

Layout (compact, 80 columns, 3 nodes × 4 pods + 2 clients + a balancer fit in 12 rows)::

    user 192.168.1.2      stranger 192.168.1.50      lb 192.168.1.100
    │                     │                          │
    ╧═══════╤═════════════╧══════════╤═══════════════╧════╤═══ 192.168.1.0/24
            │                        │                    │
    ┌─┼─ node-a 192.168.1.10 ─┐ ┌─┼─ node-b 192.168.1.11 ─┐ …
    │ ├── web-1 10.244.1.5    │ │ └── client-b 10.244.2.7 │
    │ └── client-a 10.244.1.7 │ │                         │
    └─────────────────────────┘ └─────────────────────────┘

Who exists comes from the scenario (clients, load balancer, nodes, pods, addresses);
where the packet is comes from the Trace: a ``link`` step moves it from one host to the
other along the drawn link, ``progress`` (0..1) says how far it has gone, so a viewer
animates it over several frames.  The links this packet has crossed so far are drawn
heavy (``━ ┃``) as well as coloured, so the path reads without colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.text import Text

from kubeflow_tui.pictures.canvas import HEAVY, Canvas
from kubeflow_tui.trace import Step, Trace

PACKET = "●"
#: the hop list under the picture: at most / at least this many rows (fewer: no list)
HOPS_MAX, HOPS_MIN = 14, 3

STYLES = {
    "line": Style(color="blue"),
    "bus": Style(color="blue"),
    "box": Style(color="bright_black"),
    "name": Style(bold=True),
    "addr": Style(color="cyan"),
    "travelled": Style(color="yellow", bold=True),
    "packet": Style(color="black", bgcolor="yellow", bold=True),
    "tag": Style(color="yellow", bold=True),
    "current": Style(reverse=True, bold=True),
    "visited": Style(color="yellow", bold=True, underline=True),
    "status": Style(bold=True),
    "dim": Style(dim=True),
}


@dataclass(frozen=True)
class WireHost:
    name: str
    kind: str  # "client" | "lb" | "node" | "pod" | "other"
    ip: str = ""
    node: str = ""  # pods: the node they run on
    detail: str = ""  # nodes: the pod CIDR; lb: its style


@dataclass(frozen=True)
class Site:
    """Everything the wire shows that does not change while a flow plays."""

    hosts: tuple[WireHost, ...]
    network: str = ""  # the node network's CIDR

    @classmethod
    def from_scenario(cls, scenario: Any) -> "Site":
        hosts: list[WireHost] = []
        for c in scenario.clients:
            if c.kind == "external":
                hosts.append(WireHost(c.name, "client", c.ip or ""))
        lb = scenario.loadBalancer
        if lb is not None:
            hosts.append(WireHost(lb.name, "lb", lb.ip, detail=lb.style))
        for n in scenario.cluster.nodes:
            hosts.append(WireHost(n.name, "node", n.ip, detail=n.podCIDR))
        for p in scenario.pods:
            hosts.append(WireHost(p.name, "pod", p.ip, node=p.node))
        return cls(tuple(hosts), scenario.cluster.nodeNetwork)

    def with_trace_hosts(self, trace: Trace | None) -> "Site":
        """Hosts the Trace mentions that the site does not know join as 'other'."""
        if trace is None:
            return self
        known = {h.name for h in self.hosts}
        extra = [WireHost(h, "other") for h in trace.hosts if h not in known]
        for s in trace.steps:
            for h in (s.host, *s.link):
                if h and h not in known and all(e.name != h for e in extra):
                    extra.append(WireHost(h, "other"))
        return self if not extra else Site(self.hosts + tuple(extra), self.network)


def _veth(pod: str) -> str:
    from kubeflow_tui.cluster.topology import veth_name

    return veth_name(pod)


class WireLayout:
    """Where every host, link cell and label goes for a given size (computed once)."""

    def __init__(self, site: Site, width: int, height: int):
        self.site, self.width = site, max(20, width)
        hosts = {h.name: h for h in site.hosts}
        self.nodes = [h for h in site.hosts if h.kind == "node"]
        node_names = {n.name for n in self.nodes}
        self.pods = {n.name: [h for h in site.hosts if h.kind == "pod" and h.node == n.name] for n in self.nodes}
        self.outside = [h for h in site.hosts if h.kind in ("client", "lb", "other")
                        or (h.kind == "pod" and h.node not in node_names)]
        self.hosts = hosts
        max_pods = max([len(p) for p in self.pods.values()] or [0])
        #: the boxes are wide enough to name each pod's veth and each node's pod CIDR
        self.wide = self._names_fit()
        compact = (2 if self.outside else 0) + 2 + max(1, max_pods) + 4
        free = height - compact
        #: more room than the hop list can use: the picture spaces out (its packet tag
        #: then also carries the addresses)
        self.tall = free >= (2 if self.outside else 1) + 2 + HOPS_MAX
        self.detail = self.tall  # (the older name)
        drop = 2 if self.tall else 1
        self.y_label = 0
        self.y_bus = 1 + drop if self.outside else 0
        self.y_box = self.y_bus + 1 + drop
        self.y_bottom = self.y_box + 1 + max(1, max_pods)
        self.y_status = self.y_bottom + 1
        below = height - (self.y_status + 2)
        #: rows of the hop list (its title, then a row per hop or rewrite), after a blank row
        self.hop_rows = min(HOPS_MAX, below - 1) if below - 1 >= HOPS_MIN else 0
        self.y_hops = self.y_status + 3
        self.height = self.y_status + 2 + (1 + self.hop_rows if self.hop_rows else 0)
        self._memo: dict[tuple[int, int], tuple[Trace, Any]] = {}
        self.anchor: dict[str, tuple[int, int]] = {}
        self.bus_x: dict[str, int] = {}
        self.trunk: dict[str, int] = {}
        self.pod_row: dict[str, int] = {}
        self.base = self._draw()

    def _names_fit(self) -> bool:
        n = len(self.nodes)
        if not n:
            return self.width >= 100
        bw = max(12, self.width // n)
        for node in self.nodes:
            if node.detail and len(f" {node.name} pods {node.detail} ") > bw - 7:
                return False
            for pod in self.pods[node.name]:
                # room right of the veth (box less its frame, the trunk, the wire, a blank)
                if len(pod.name) + 1 + len(pod.ip) > bw - 9 - len(_veth(pod.name)):
                    return False
        return True

    def memo(self, trace: Trace, key: Any, make: Any) -> Any:
        """``make()`` once per (trace, key): what a frame reads that only changes by step."""
        k = (id(trace), key)
        hit = self._memo.get(k)
        if hit is not None and hit[0] is trace:
            return hit[1]
        if len(self._memo) > 512:
            self._memo.clear()
        value = make()
        self._memo[k] = (trace, value)
        return value

    # -- drawing the still picture --------------------------------------------------
    def _draw(self) -> Canvas:
        W = self.width
        c = Canvas(W, self.height)
        st = STYLES
        # node boxes
        n = len(self.nodes)
        junctions: dict[int, str] = {}
        if n:
            bw = max(12, W // n)
            for i, node in enumerate(self.nodes):
                x0 = i * bw
                x1 = min(W - 1, x0 + bw - 2)
                nx = x0 + 2
                self.trunk[node.name] = nx
                self.bus_x[node.name] = nx
                self.anchor[node.name] = (nx, self.y_box)
                inner = x1 - x0 - 1
                c.put(x0, self.y_box, "┌" + "─" * (x1 - x0 - 1) + "┐", st["box"])
                c.put(nx, self.y_box, "┼", st["line"])
                title = f" {node.name}"
                if node.detail:  # (left out below when it does not fit)
                    title += f" pods {node.detail}"
                title += " "
                if len(title) > inner - 4:
                    title = f" {node.name} "
                # the node's address sits on its link to the node network (eth0)
                eth0 = " eth0" if len(node.ip) + 5 <= x1 - nx - 3 else ""
                c.put(nx + 2, self.y_box - 1, node.ip + eth0, st["addr"],
                      limit=x1 - nx - 2)
                c.put(nx + 2, self.y_box, " ", None)
                c.put(nx + 3, self.y_box, node.name, st["name"], limit=x1 - nx - 3)
                c.put(nx + 3 + len(node.name), self.y_box, title[len(node.name) + 1 :], st["addr"],
                      limit=max(0, x1 - nx - 3 - len(node.name)))
                for y in range(self.y_box + 1, self.y_bottom):
                    c.put(x0, y, "│", st["box"])
                    c.put(x1, y, "│", st["box"])
                c.put(x0, self.y_bottom, "└" + "─" * (x1 - x0 - 1) + "┘", st["box"])
                pods = self.pods[node.name]
                for k, pod in enumerate(pods):
                    y = self.y_box + 1 + k
                    self.pod_row[pod.name] = y
                    last = k == len(pods) - 1
                    c.put(nx, y, "└" if last else "├", st["line"])
                    wire = f"─{_veth(pod.name)}─" if self.wide else "──"
                    c.put(nx + 1, y, wire, st["line"])
                    px = nx + 1 + len(wire) + 1
                    self.anchor[pod.name] = (px - 1, y)
                    room = x1 - px
                    c.put(px, y, pod.name, st["name"], limit=room)
                    if len(pod.name) + 1 + len(pod.ip) <= room:
                        c.put(px + len(pod.name) + 1, y, pod.ip, st["addr"])
                    for yy in range(self.y_box + 1, y):
                        if c.get(nx, yy) == " ":
                            c.put(nx, yy, "│", st["line"])
                for y in range(self.y_bus + 1, self.y_box):
                    c.put(nx, y, "│", st["line"])
                junctions[nx] = "╤"
        # outside hosts
        k = len(self.outside)
        if k:
            seg = max(8, W // k)
            for i, h in enumerate(self.outside):
                ax = min(W - 1, i * seg + 1)
                while ax in junctions and ax < W - 1:
                    ax += 1
                self.bus_x[h.name] = ax
                self.anchor[h.name] = (ax, self.y_label + 1)
                c.put(ax, self.y_label, h.name, st["name"], limit=seg - 1)
                addr = h.ip
                if self.wide and h.kind in ("client", "lb"):
                    more = f"{addr} ({'load balancer, ' + h.detail if h.kind == 'lb' else 'client'})"
                    addr = more if len(h.name) + 1 + len(more) <= seg - 1 else addr
                if addr and len(h.name) + 1 + len(addr) <= seg - 1:
                    c.put(ax + len(h.name) + 1, self.y_label, addr, st["addr"])
                for y in range(self.y_label + 1, self.y_bus):
                    c.put(ax, y, "│", st["line"])
                junctions[ax] = "╪" if ax in junctions else "╧"
        # the node network
        c.put(0, self.y_bus, "═" * W, st["bus"])
        for x, ch in junctions.items():
            c.put(x, self.y_bus, ch, st["bus"])
        if self.site.network:
            label = f" {self.site.network} "
            x = W - len(label) - 1
            if all(c.get(xx, self.y_bus) == "═" for xx in range(x, x + len(label))):
                c.put(x, self.y_bus, label, st["dim"])
        return c

    # -- paths ----------------------------------------------------------------------
    def _to_bus(self, name: str) -> list[tuple[int, int]]:
        """Cells from a bus host's resting place to the bus (inclusive)."""
        x = self.bus_x[name]
        y0 = self.anchor[name][1]
        step = 1 if y0 < self.y_bus else -1
        return [(x, y) for y in range(y0, self.y_bus, step)] + [(x, self.y_bus)]

    def _node_to_pod(self, node: str, pod: str) -> list[tuple[int, int]]:
        nx = self.trunk[node]
        py = self.pod_row[pod]
        ax, _ = self.anchor[pod]
        return [(nx, y) for y in range(self.y_box, py + 1)] + [(x, py) for x in range(nx + 1, ax + 1)]

    def path(self, a: str, b: str) -> list[tuple[int, int]]:
        """The cells a packet crosses from host ``a`` to host ``b``."""
        if a not in self.anchor or b not in self.anchor:
            return [self.anchor.get(a, (0, 0)), self.anchor.get(b, (0, 0))]
        ha, hb = self.hosts[a], self.hosts[b]
        if ha.kind == "pod" and a in self.pod_row:
            tail = self.path(ha.node, b) if ha.node != b else []
            return list(reversed(self._node_to_pod(ha.node, a))) + tail[1:]
        if hb.kind == "pod" and b in self.pod_row:
            head = self.path(a, hb.node) if hb.node != a else []
            return head + self._node_to_pod(hb.node, b)[1 if head else 0 :]
        up = self._to_bus(a)
        down = list(reversed(self._to_bus(b)))
        xa, xb = up[-1][0], down[0][0]
        stepx = 1 if xb >= xa else -1
        bus = [(x, self.y_bus) for x in range(xa + stepx, xb, stepx)] if xa != xb else []
        return up + bus + (down if xa != xb else down[1:])


@dataclass(frozen=True)
class Position:
    """Where the packet is: on a host, or ``progress`` of the way along a link."""

    cell: tuple[int, int]
    host: str
    link: tuple[str, str] = ()
    progress: float = 1.0


def packet_run(trace: Trace, index: int) -> list[Step]:
    """The steps of the current packet from its ``send`` up to ``index``."""
    steps = trace.steps
    start = index
    while start > 0 and steps[start].kind != "send":
        start -= 1
    return list(steps[start : index + 1])


class WirePicture:
    """The wire at one moment: the layout, the packet of step ``step`` ``progress`` of
    the way along its link (1.0 when the step is not a link or the move is over)."""

    def __init__(self, layout: WireLayout, trace: Trace | None, step: int, progress: float = 1.0):
        self.layout, self.trace, self.step, self.progress = layout, trace, step, progress

    def position(self) -> Position | None:
        if self.trace is None or not self.trace.steps:
            return None
        s = self.trace.steps[max(0, min(self.step, len(self.trace.steps) - 1))]
        lay = self.layout
        if s.kind == "link" and len(s.link) == 2:
            cells = lay.path(*s.link)
            i = round(max(0.0, min(1.0, self.progress)) * (len(cells) - 1))
            return Position(cells[i], s.host, s.link, self.progress)
        return Position(lay.anchor.get(s.host, (0, 0)), s.host)

    def travelled(self) -> list[tuple[int, int]]:
        """Cells of the links this packet has crossed so far (the current one in part)."""
        if self.trace is None or not self.trace.steps:
            return []
        idx = max(0, min(self.step, len(self.trace.steps) - 1))
        out: list[tuple[int, int]] = []
        for s in packet_run(self.trace, idx):
            if s.kind != "link" or len(s.link) != 2:
                continue
            cells = self.layout.path(*s.link)
            if s.index == idx:
                cells = cells[: round(max(0.0, min(1.0, self.progress)) * (len(cells) - 1)) + 1]
            out.extend(cells)
        return out

    def canvas(self) -> Canvas:
        lay = self.layout
        c = lay.base.copy()
        if self.trace is None or not self.trace.steps:
            c.put(0, lay.y_status, "No trace yet.", STYLES["dim"])
            return c
        idx = max(0, min(self.step, len(self.trace.steps) - 1))
        s = self.trace.steps[idx]
        run = packet_run(self.trace, idx)
        for (x, y) in self.travelled():
            ch = c.get(x, y)
            c.put(x, y, ch.translate(HEAVY), STYLES["travelled"])
        visited = {st.host for st in run}
        for name in visited:
            self._style_name(c, name, STYLES["visited"])
        pos = self.position()
        moving = pos is not None and pos.link and pos.progress < 1.0
        if not moving:
            self._style_name(c, s.host, STYLES["current"])
        if pos is not None:
            x, y = pos.cell
            c.put(x, y, PACKET, STYLES["packet"])
            self._tag(c, x, y, s)
        self._status(c, s, run, pos)
        self._conntrack_counts(c, idx)
        if lay.hop_rows:
            self._hops(c, s, run, moving)
        return c

    # -- what only changes from step to step (memoised per trace and step) ---------------
    def _ladder(self) -> Any:
        from kubeflow_tui.ladder import build_ladder

        assert self.trace is not None
        return self.layout.memo(self.trace, "ladder", lambda: build_ladder(self.trace))

    def conntrack_counts(self, idx: int) -> dict[str, int]:
        """Entries in each node's conntrack table after step ``idx`` (nodes the flow has
        not reached yet: unknown, left out)."""
        trace = self.trace
        assert trace is not None
        nodes = {n.name for n in self.layout.nodes}

        def make() -> dict[str, int]:
            out: dict[str, int] = {}
            for st in reversed(trace.steps[: idx + 1]):
                if st.host in nodes and st.host not in out:
                    out[st.host] = len(st.conntrack)
                    if len(out) == len(nodes):
                        break
            return out

        return self.layout.memo(trace, ("ct", idx), make)

    def _conntrack_counts(self, c: Canvas, idx: int) -> None:
        """Each node's conntrack entry count, written into the bottom of its box."""
        lay = self.layout
        for name, count in self.conntrack_counts(idx).items():
            if name not in lay.trunk:
                continue
            x0 = lay.trunk[name] - 2
            label = f" conntrack: {count} {'entry' if count == 1 else 'entries'} "
            if all(c.get(x0 + 2 + i, lay.y_bottom) == "─" for i in range(len(label) + 1)):
                c.put(x0 + 2, lay.y_bottom, label, STYLES["dim"])

    def hop_lines(self, s: Step, run: list[Step], moving: bool) -> list[Text]:
        """The current packet's path so far, a row per link it crossed (the interfaces at
        both ends, the addresses as seen on that link, ✱ on an address it no longer had
        when sent) and per rewrite on the way (the ladder's NAT markers).  Where a row does
        not fit the width, each entry takes two lines (what, then the addresses)."""
        lay = self.layout
        first, last = run[0].index, s.index
        rows = [r for r in self._ladder().rows if first <= r.step <= last and r.kind != "connection"]
        label = s.packet_label or ("reply" if s.packet.direction == "reply" else "packet")
        arrows = [r for r in rows if r.kind in ("arrow", "icmp")]
        pair_w = max([len(f"{r.host} ▶ {r.to_host}") for r in arrows] or [0])
        ifaces = {id(r): self._interfaces(r.host, r.to_host) for r in arrows}
        if_w = max([len(v) for v in ifaces.values()] or [0])
        addr_w = max([len(r.addresses) + 2 for r in arrows] or [0])
        nat_w = max([len(f"    {r.marker} {r.nat} on {r.host}: {r.field} {r.before} → {r.after}")
                     for r in rows if r.kind == "nat"] or [0])
        one_line = max(5 + pair_w + 2 + addr_w, nat_w) <= lay.width
        show_if = one_line and 5 + pair_w + 2 + if_w + 2 + addr_w <= lay.width
        entries: list[list[Text]] = []
        n = 0
        for r in rows:
            head = Text(no_wrap=True, overflow="ellipsis")
            tail = Text(no_wrap=True, overflow="ellipsis")
            if r.kind in ("arrow", "icmp"):
                n += 1
                now = moving and r.step == last  # the link the packet is on
                head.append(" ")
                head.append(f" {PACKET}" if now else f"{n:>2}", STYLES["packet"] if now else STYLES["dim"])
                head.append(f"  {r.host} ▶ {r.to_host}".ljust(pair_w + 4 if one_line else 0), STYLES["name"])
                if show_if:
                    head.append(ifaces[id(r)].ljust(if_w + 2), STYLES["dim"])
                elif not one_line:
                    head.append(f"  {ifaces[id(r)]}", STYLES["dim"])
                addr = head if one_line else tail
                if not one_line:
                    tail.append("     ")
                for side, sep in (("src", " → "), ("dst", "")):
                    addr.append(r.src if side == "src" else r.dst, STYLES["addr"])
                    if side in r.changed:
                        addr.append("✱", STYLES["tag"])
                    addr.append(sep)
                if r.kind == "icmp" and r.text:
                    addr.append(f"  {r.label}", STYLES["dim"])
            elif r.kind == "nat":
                head.append(f"    {r.marker} {r.nat} on {r.host}", STYLES["tag"])
                if r.where and (not one_line or nat_w + len(r.where) + 3 <= lay.width):
                    head.append(f" ({r.where})", STYLES["dim"])
                nat = head if one_line else tail
                nat.append(": " if one_line else "      ")
                nat.append(f"{r.field} {r.before} → {r.after}")
            else:  # end: dropped, rejected, timed out, the socket's error
                head.append(f"    {r.marker} {r.host}: {r.text}", STYLES["status"])
                if r.where:
                    head.append(f" ({r.where})", STYLES["dim"])
            entry = [head] + ([tail] if tail.plain else [])
            for t in entry:
                t.truncate(lay.width, overflow="ellipsis")
            entries.append(entry)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f" the {label} so far", STYLES["status"])
        title.append(" (addresses as on each link, ✱ rewritten)" if entries
                     else f": on {s.host}, on no link yet", STYLES["dim"])
        room = lay.hop_rows - 1
        if sum(map(len, entries)) > room:
            while entries and sum(map(len, entries)) > room:
                entries.pop(0)
            title = Text.assemble((f" the {label} so far", STYLES["status"]),
                                  (" (its last hops; ✱ rewritten)", STYLES["dim"]), no_wrap=True)
        title.truncate(lay.width, overflow="ellipsis")
        return [title, *[t for e in entries for t in e]]

    def _interfaces(self, a: str, b: str) -> str:
        """The link's two ends: ``eth0 ▶ veth-web-1`` (the pod's eth0, the node's veth)."""
        lay = self.layout

        def end(host: str, other: str) -> str:
            h, o = lay.hosts.get(host), lay.hosts.get(other)
            if h is not None and h.kind == "node" and o is not None and o.kind == "pod" and o.node == host:
                return _veth(other)
            return "eth0" if h is not None and h.kind != "other" else "?"

        return f"{end(a, b)} ▶ {end(b, a)}"

    def _hops(self, c: Canvas, s: Step, run: list[Step], moving: bool) -> None:
        lay = self.layout
        key = ("hops", s.index, moving)
        lines = self.layout.memo(self.trace, key, lambda: self.hop_lines(s, run, moving))
        for i, t in enumerate(lines):
            c.put_text(0, lay.y_hops + i, t)

    def _tag(self, c: Canvas, x: int, y: int, s: Step) -> None:
        """The packet's label (and with room, its addresses) beside it, where the picture
        is blank."""
        p = s.packet
        label = s.packet_label or "packet"
        tags = [f"{label} {p.endpoint_text('src')}→{p.endpoint_text('dst')}", label] if self.layout.tall else [label]
        for tag in tags:
            n = len(tag)
            for tx, ty in ((x + 1, y - 1), (x - n, y - 1), (x + 1, y + 1), (x - n, y + 1), (x + 1, y), (x - n, y)):
                if tx < 0 or tx + n > c.width or not 0 <= ty < self.layout.y_status:
                    continue
                around = [(tx - 1, ty), (tx + n, ty)]
                if all(c.get(tx + i, ty) == " " for i in range(n)) and all(
                    c.get(ax, ay) == " " or (ax, ay) == (x, y) for ax, ay in around
                ):
                    c.put(tx, ty, tag, STYLES["tag"])
                    return

    def _style_name(self, c: Canvas, name: str, style: Style) -> None:
        lay = self.layout
        h = lay.hosts.get(name)
        if h is None or name not in lay.anchor:
            return
        if h.kind == "node":
            x, y = lay.trunk[name] + 3, lay.y_box
        elif h.kind == "pod" and name in lay.pod_row:
            x, y = lay.anchor[name][0] + 1, lay.pod_row[name]
        else:
            x, y = lay.bus_x[name], lay.y_label
        for i in range(len(name)):
            if c.get(x + i, y) == name[i]:
                c.restyle(x + i, y, style)

    def _status(self, c: Canvas, s: Step, run: list[Step], pos: Position | None) -> None:
        lay, p = self.layout, s.packet
        label = s.packet_label or ("reply" if p.direction == "reply" else "packet")
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f" {PACKET} ", STYLES["packet"])
        t.append(f" {label} ", STYLES["status"])
        t.append(f"{p.endpoint_text('src')} → {p.endpoint_text('dst')}")
        # the protocol and flags where they fit (the label names the packet already): a
        # narrow panel keeps both addresses whole rather than cut the destination's port
        tail = f" {p.proto}"
        if len(t.plain) + len(tail) <= c.width:
            t.append(tail)
            flags = f" [{','.join(p.flags)}]" if p.flags else ""
            if flags and len(t.plain) + len(flags) <= c.width:
                t.append(flags, STYLES["dim"])
        c.put_text(0, lay.y_status, t)
        where = Text(no_wrap=True, overflow="ellipsis")
        if pos is not None and pos.link:
            a, b = pos.link
            over = "veth" if "pod" in (lay.hosts.get(a, WireHost(a, "")).kind, lay.hosts.get(b, WireHost(b, "")).kind) \
                else "node network"
            where.append(f" on the wire: {a} → {b} ({over})", STYLES["dim"])
        else:
            what = s.kind if not s.hook else f"{s.kind} at {s.hook}"
            where.append(f" on {s.host}: {what}", STYLES["dim"])
        total = len(self.trace.steps) if self.trace else 0
        where.append(f"   step {s.index + 1}/{total}", STYLES["dim"])
        c.put_text(0, lay.y_status + 1, where)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.canvas().text()

