"""The topology: clients, the load balancer, nodes with their pods, the packet's position.

Drawn from the scenario (who exists, where) and the Trace (where the packet is).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from kubeflow_tui.tui.widgets.base import StepStatic


def _hosts_from_scenario(scenario: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str, list[tuple[str, str]]]]]:
    """(outside hosts [(name, ip)], nodes [(name, ip, [(pod, ip)])])."""
    outside: list[tuple[str, str]] = []
    nodes: list[tuple[str, str, list[tuple[str, str]]]] = []
    if scenario is None:
        return outside, nodes
    try:
        for c in getattr(scenario, "clients", []) or []:
            if getattr(c, "kind", "external") == "external":
                outside.append((c.name, c.ip or ""))
        lb = getattr(scenario, "loadBalancer", None)
        if lb is not None:
            outside.append((lb.name, lb.ip))
        pods = list(getattr(scenario, "pods", []) or [])
        for n in scenario.cluster.nodes:
            nodes.append((n.name, n.ip, [(p.name, p.ip) for p in pods if p.node == n.name]))
    except AttributeError:
        pass
    return outside, nodes


class Topology(StepStatic):
    COMPONENT_CLASSES = {"topology--current", "topology--visited", "topology--packet", "topology--box", "topology--dim"}
    HIGHLIGHT_CLASSES = ("topology--current",)
    DEFAULT_CSS = """
    Topology > .topology--current { background: $accent 60%; text-style: bold; }
    Topology > .topology--visited { color: $success; }
    Topology > .topology--packet { color: $warning; text-style: bold; }
    Topology > .topology--box { color: $primary; }
    Topology > .topology--dim { color: $text-muted; }
    """

    def on_resize(self) -> None:
        if self.trace is not None:
            self.redraw()

    def _path(self) -> list[str]:
        path: list[str] = []
        if self.trace is None:
            return path
        for s in self.trace.steps[: self.index + 1]:
            if not path or path[-1] != s.host:
                path.append(s.host)
        return path

    def build(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.trace is None or not self.trace.steps:
            t.append(self.PENDING_TEXT if self.pending else "No trace.")
            return t
        step = self.trace.steps[self.index]
        cur = step.host
        path = self._path()
        visited = set(path)
        outside, nodes = _hosts_from_scenario(self.scenario)
        known = {h for h, _ in outside} | {n for n, _, _ in nodes} | {p for _, _, ps in nodes for p, _ in ps}
        for h in self.trace.hosts:
            if h not in known:
                outside.append((h, ""))
                known.add(h)
        marker = f" ◆{step.packet_label or 'pkt'}"

        def host(name: str, ip: str, width: int = 0) -> Text:
            x = Text()
            if name == cur:
                style = self.cstyle("topology--current")
            elif name in visited:
                style = self.cstyle("topology--visited")
            else:
                style = self.cstyle("topology--dim")
            x.append(name, style)
            if ip:
                x.append(f" {ip}", self.cstyle("topology--dim") if name != cur else "")
            if name == cur and step.kind != "link":
                x.append(marker, self.cstyle("topology--packet"))
            if width:
                x.pad_right(max(0, width - x.cell_len))
            return x

        # outside world
        if outside:
            t.append("outside  ")
            for i, (n, ip) in enumerate(outside):
                if i:
                    t.append("   ")
                t.append_text(host(n, ip))
            t.append("\n")
        # node boxes
        boxes: list[list[Text]] = []
        for name, ip, pods in nodes:
            bs = self.cstyle("topology--box")
            title = host(name, ip)
            rows_ = [host(p, pip) for p, pip in pods] or [Text("(no pods)", self.cstyle("topology--dim"))]
            inner = max([title.cell_len + 2] + [r.cell_len for r in rows_] + [14])
            top = Text("┌ ", bs)
            top.append_text(title)
            top.append(" " + "─" * (inner - title.cell_len) + "┐", bs)
            lines = [top]
            for r in rows_:
                ln = Text("│ ", bs)
                r.pad_right(inner - r.cell_len)
                ln.append_text(r)
                ln.append(" │", bs)
                lines.append(ln)
            lines.append(Text("└" + "─" * (inner + 2) + "┘", bs))
            boxes.append(lines)
        width = max(self.size.width, 20)
        rows: list[list[list[Text]]] = [[]]
        used = 0
        for b in boxes:
            w = b[0].cell_len + 1
            if rows[-1] and used + w > width:
                rows.append([])
                used = 0
            rows[-1].append(b)
            used += w
        for row in rows:
            if not row:
                continue
            height = max(len(b) for b in row)
            for i in range(height):
                for b in row:
                    bw = b[0].cell_len
                    seg = b[i] if i < len(b) else Text(" " * bw)
                    seg = seg.copy()
                    seg.pad_right(bw - seg.cell_len)
                    t.append_text(seg)
                    t.append(" ")
                t.rstrip()
                t.append("\n")
        if step.kind == "link" and step.link:
            a, b = step.link
            t.append("link     ")
            t.append(a, self.cstyle("topology--visited"))
            t.append(f" ══{step.packet_label or 'pkt'}══▶ ", self.cstyle("topology--packet"))
            t.append(b, self.cstyle("topology--current"))
            t.append("\n")
        t.append("path     ")
        for i, h in enumerate(path):
            if i:
                t.append(" → ")
            t.append(h, self.cstyle("topology--current") if i == len(path) - 1 else self.cstyle("topology--visited"))
        return t
