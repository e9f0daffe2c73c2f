"""The narration line: where we are, and the Step's ``why``."""

from __future__ import annotations

from rich.text import Text

from kubeflow_tui.tui.widgets.base import StepStatic


class Narration(StepStatic):
    COMPONENT_CLASSES = {"narration--where", "narration--kind", "narration--why", "narration--outcome"}
    HIGHLIGHT_CLASSES = ("narration--kind",)

    def __init__(self, *, title: str = "", **kw) -> None:
        super().__init__(**kw)
        self.title = title
        self.playing = False
        self.speed = 2.0

    def build(self) -> Text:
        t = Text(no_wrap=False, overflow="fold")
        if self.trace is None or not self.trace.steps:
            t.append(self.title or "No trace", self.cstyle("narration--where"))
            if self.pending:
                t.append("\nTracing the packet: loading the scenario and its iptables rules…")
            else:
                t.append("\nNothing to show yet: pick a flow with f.")
            return t
        tr, i = self.trace, self.index
        s = tr.steps[i]
        if self.title:  # the title has the first line to itself (cut only if wider than the screen)
            room = max(12, self.size.width - 2)
            title = self.title if len(self.title) <= room else self.title[: room - 1] + "…"
            t.append(title + "\n", self.cstyle("narration--where"))
        t.append(f"step {i + 1}/{len(tr.steps)} ", self.cstyle("narration--where"))
        # the step's kind as the engine names it
        label = f"{s.packet_label} " if s.packet_label else ""
        t.append(f" {label}@ {s.host} · {s.kind} ", self.cstyle("narration--kind"))
        t.append(f" ▶ {self.speed:g}/s " if self.playing else "  ")
        t.append(s.why, self.cstyle("narration--why"))
        if i == 0 and tr.meta.get("timeline_short"):  # a flow played at a time of its timeline
            t.append("\n" + tr.meta["timeline_short"], self.cstyle("narration--where"))
        if i == len(tr.steps) - 1:
            t.append("\n")
            t.append(f"{tr.outcome.upper()}: {tr.summary}", self.cstyle("narration--outcome"))
        return t

    @property
    def why(self) -> str:
        if self.trace is None or not self.trace.steps:
            return ""
        return self.trace.steps[self.index].why
