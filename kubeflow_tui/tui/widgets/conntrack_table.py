"""The conntrack table of the current host, the touched entry highlighted."""

from __future__ import annotations

from rich.text import Text

from kubeflow_tui.tui.widgets.base import StepScroll


def _tuple(t: tuple) -> str:
    src, dst, sport, dport = t
    return f"{src}:{sport} → {dst}:{dport}" if sport or dport else f"{src} → {dst}"


class ConntrackTable(StepScroll):
    COMPONENT_CLASSES = {"conntrack--title", "conntrack--touched", "conntrack--entry", "conntrack--raw"}
    HIGHLIGHT_CLASSES = ("conntrack--touched",)
    DEFAULT_CSS = """
    ConntrackTable > .conntrack--title { color: $secondary; text-style: bold; }
    ConntrackTable > .conntrack--touched { background: $accent 30%; text-style: bold; }
    ConntrackTable > .conntrack--entry { }
    ConntrackTable > .conntrack--raw { color: $text-muted; }
    """

    def build(self) -> Text:
        t = Text(no_wrap=False, overflow="fold")
        if self.trace is None or not self.trace.steps:
            t.append(self.PENDING_TEXT if self.pending else "No trace.")
            return t
        s = self.trace.steps[self.index]
        t.append(f"conntrack -L on {s.host}", self.cstyle("conntrack--title"))
        if not s.conntrack:
            t.append(f"\n(no entries on {s.host})")
            return t
        t.append(f"  ({len(s.conntrack)} entr{'y' if len(s.conntrack) == 1 else 'ies'})\n", self.cstyle("conntrack--title"))
        for i, e in enumerate(s.conntrack):
            touched = i == s.touched
            style = self.cstyle("conntrack--touched") if touched else self.cstyle("conntrack--entry")
            tag = f"[{e.event}] " if touched and e.event else ("» " if touched else "  ")
            status = " ".join(e.status)
            t.append(f"{tag}{e.proto} {e.state or '-'} {status}".rstrip() + "\n", style)
            t.append(f"   orig  {_tuple(e.orig)}\n", style)
            t.append(f"   reply {_tuple(e.reply)}\n", style)
            t.append(f"   {e.line}\n", self.cstyle("conntrack--raw"))
        t.rstrip()
        return t

    def touched_entry(self):
        if self.trace is None:
            return None
        s = self.trace.steps[self.index]
        return s.conntrack[s.touched] if 0 <= s.touched < len(s.conntrack) else None
