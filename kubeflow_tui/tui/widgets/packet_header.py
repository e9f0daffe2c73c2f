"""The packet's header after the step, with the fields that just changed highlighted."""

from __future__ import annotations

from rich.text import Text

from kubeflow_tui.tui.widgets.base import StepStatic

FIELDS = ("src", "sport", "dst", "dport", "proto", "mark", "flags")


def field_text(packet, name: str) -> str:
    v = getattr(packet, name)
    if name == "mark":
        return hex(v)
    if name == "flags":
        return ",".join(v) or "-"
    if name in ("sport", "dport"):
        return str(v) if v else "-"
    return str(v)


class PacketHeader(StepStatic):
    COMPONENT_CLASSES = {"packet--label", "packet--field", "packet--changed", "packet--was"}
    HIGHLIGHT_CLASSES = ("packet--changed",)

    def build(self) -> Text:
        t = Text(no_wrap=False, overflow="fold")
        if self.trace is None or not self.trace.steps:
            t.append(self.PENDING_TEXT if self.pending else "no packet yet", self.cstyle("packet--label"))
            return t
        s = self.trace.steps[self.index]
        p = s.packet
        changed = set(s.changed)
        lab, hi = self.cstyle("packet--label"), self.cstyle("packet--changed")

        def put(name: str, prefix: str = "") -> None:
            if prefix:
                t.append(prefix, lab)
            val = field_text(p, name)
            if name in changed:
                t.append(f"{val}*", hi)
            else:
                t.append(val, self.cstyle("packet--field"))

        put("src", "src ")
        t.append(":")
        put("sport")
        t.append(" → ")
        put("dst", "dst ")
        t.append(":")
        put("dport")
        t.append("  ")
        put("proto")
        put("mark", "  mark ")
        put("flags", "  ")
        t.append(f"  {p.direction}", lab)
        t.append("\n")
        if changed and self.index > 0:
            before = self.trace.steps[self.index - 1].packet
            parts = [f"{n} {field_text(before, n)} → {field_text(p, n)}" for n in FIELDS if n in changed]
            t.append("* changed: " + "; ".join(parts), self.cstyle("packet--was"))
        elif changed:
            t.append("* changed: " + ", ".join(sorted(changed)), self.cstyle("packet--was"))
        else:
            t.append("header unchanged by this step", lab)
        return t

    def changed_values(self) -> list[str]:
        return [h.rstrip("*") for h in self.highlighted()]
