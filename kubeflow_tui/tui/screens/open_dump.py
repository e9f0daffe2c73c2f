"""``kubeflow-tui open-dump node.save [--conntrack FILE] [--nft-ruleset]``: a real node's
rules in the app.

``OpenDumpScreen``: the learner picks a destination kube-proxy's rules answer (or a
connection of the given ``conntrack -L`` table), or types a packet (source, destination
``IP:PORT``, protocol, source port); what they typed is checked (``importer.opendump.
check_packet``: the field and what a good value looks like).  The trace runs in a worker
and opens on ``DumpFlowScreen``: the flow screen (every panel: wire, hooks, header card,
ladder, chain, conntrack …) over that trace, predict mode (``y``) included.  The dump has no
scenario, so the keys that need one (the shell, a quiz, another flow or endpoint of the
scenario) are off there; ``n`` shows the dump itself, ``r`` runs the packet again with a new
seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from kubeflow_tui.tui.screens.breakpoints import TooSmall, apply_breakpoints
from kubeflow_tui.tui.screens.flow import FlowScreen
from kubeflow_tui.tui.screens.flow.messages import EngineFailed, Traced


class DumpTraced(Message):
    """The worker's trace of the packet typed (or its error)."""

    def __init__(self, spec: Any, trace: Any, error: str = "") -> None:
        super().__init__()
        self.spec, self.trace, self.error = spec, trace, error


def _known_label(e: Any) -> str:
    o, r = e.orig, e.reply
    nat = []
    if (r[0], r[2]) != (o[1], o[3]):
        nat.append(f"DNAT to {r[0]}:{r[2]}")
    if (r[1], r[3]) != (o[0], o[2]):
        nat.append(f"SNAT to {r[1]}:{r[3]}")
    state = f" {e.state}" if e.state else ""
    return f"{e.proto} {o[0]}:{o[2]} -> {o[1]}:{o[3]}{state}" + (f" ({', '.join(nat)})" if nat else "")


class OpenDumpScreen(Screen):
    """Pick or type a packet and play it through a node's dump."""

    HELP_TITLE = "A node's dump: pick a packet"
    AUTO_FOCUS = "#dump-targets"
    DEFAULT_CSS = """
    OpenDumpScreen { layout: vertical; }
    OpenDumpScreen #dump-title { height: auto; text-style: bold; color: $accent; padding: 0 1; }
    OpenDumpScreen #dump-notes { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    OpenDumpScreen #dump-targets { height: 1fr; min-height: 4; }
    OpenDumpScreen #dump-form { height: auto; }
    OpenDumpScreen #dump-labels { height: 1; color: $text-muted; }
    OpenDumpScreen #dump-labels Static { padding: 0 1; }
    OpenDumpScreen #dump-fields { height: 3; }
    OpenDumpScreen .dump-src { width: 1fr; }
    OpenDumpScreen .dump-dst { width: 1fr; }
    OpenDumpScreen .dump-proto { width: 12; }
    OpenDumpScreen .dump-sport { width: 11; }
    OpenDumpScreen #dump-message { height: auto; min-height: 1; padding: 0 1; }
    OpenDumpScreen #dump-message.-error { color: $error; text-style: bold; }
    """
    BINDINGS = [
        Binding("f5,ctrl+r", "play", "Play", tooltip="Play the packet of the form through the dump (enter in "
                "the list or a field does too)", id="dump.play"),
        Binding("escape", "leave", "Back", tooltip="Back to the list (from the form: to the list first)",
                id="dump.back"),
    ]

    def __init__(self, dump: Any) -> None:
        super().__init__()
        self.dump = dump
        self.busy = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        apply_breakpoints(self)
        yield TooSmall()
        d = self.dump
        kind = "nft list ruleset" if d.mode == "nftables" else "iptables-save"
        yield Static(f"{d.name} ({kind}) · node IP {d.node_ip}", id="dump-title")
        notes = ["Pick a destination kube-proxy's rules answer or a known connection, or type a packet; "
                 "enter plays it."] + list(d.notes)
        if d.conntrack_source:
            notes.append(f"conntrack -L: {Path(d.conntrack_source).name}, {len(d.known)} entries")
        yield Static("\n".join(notes), id="dump-notes")
        yield OptionList(*self._options(), id="dump-targets")
        with Vertical(id="dump-form"):
            with Horizontal(id="dump-labels"):
                for text, cls in (("Source IP", "dump-src"), ("Destination IP:PORT", "dump-dst"),
                                  ("Protocol", "dump-proto"), ("Src port", "dump-sport")):
                    yield Static(text, classes=cls)
            with Horizontal(id="dump-fields"):
                yield Input(self._default_source(), placeholder="10.244.1.5", id="dump-src", classes="dump-src")
                first = d.targets[0] if d.targets else None
                yield Input(f"{first.dst}:{first.dport}" if first else "", placeholder="10.96.0.10:53",
                            id="dump-dst", classes="dump-dst")
                yield Select([("tcp", "tcp"), ("udp", "udp")], value=first.proto if first else "tcp",
                             allow_blank=False, id="dump-proto", classes="dump-proto")
                yield Input("40000", placeholder="40000", id="dump-sport", classes="dump-sport",
                            restrict=r"[0-9]*", max_length=5)
            yield Static("", id="dump-message")
        yield Footer(compact=True)

    def _default_source(self) -> str:
        """A client on the node's network (the node's own address sends from the node itself)."""
        if self.dump.known:
            return self.dump.known[0].orig[0]
        import ipaddress

        node = ipaddress.IPv4Address(self.dump.node_ip)
        net = ipaddress.IPv4Network(f"{node}/24", strict=False)
        cand = net.network_address + 2
        return str(cand if cand != node else cand + 1)

    def _options(self) -> list[Any]:
        d = self.dump
        out: list[Any] = []
        if d.targets:
            out.append(Option(f"Services in {d.name} ({len(d.targets)} destinations)", disabled=True))
            out += [Option(f"  {t.label}", id=f"t{i}") for i, t in enumerate(d.targets)]
        else:
            out.append(Option(f"No Service destinations in {d.name}'s kube-proxy rules: type a packet below",
                              disabled=True))
        if d.known:
            out.append(Option(f"Known connections ({Path(d.conntrack_source).name}): they take the conntrack path",
                              disabled=True))
            for i, e in enumerate(d.known):
                out.append(Option(f"  {_known_label(e)}", id=f"k{i}"))
                if e.dnat or e.snat:  # its reply: conntrack undoes the NAT, no rule does
                    r, o = e.reply, e.orig
                    out.append(Option(f"    its reply {e.proto} {r[0]}:{r[2]} -> {r[1]}:{r[3]} "
                                      f"(conntrack turns it back into {o[1]}:{o[3]} -> {o[0]}:{o[2]})",
                                      id=f"r{i}"))
        return out

    # ------------------------------------------------------------------ picking
    @on(OptionList.OptionHighlighted, "#dump-targets")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._fill(event.option.id)

    @on(OptionList.OptionSelected, "#dump-targets")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._fill(event.option.id)
        self.action_play()

    def _fill(self, oid: str | None) -> None:
        if not oid:
            return
        src, dst, proto, sport = self.query_one("#dump-src", Input), self.query_one("#dump-dst", Input), \
            self.query_one("#dump-proto", Select), self.query_one("#dump-sport", Input)
        if oid.startswith("t"):
            t = self.dump.targets[int(oid[1:])]
            dst.value, proto.value = f"{t.dst}:{t.dport}", t.proto
        else:
            e = self.dump.known[int(oid[1:])]
            t = e.orig if oid.startswith("k") else e.reply
            src.value, dst.value, proto.value, sport.value = t[0], f"{t[1]}:{t[3]}", e.proto, str(t[2])
        self._say("")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_play()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#dump-message", Static)
        msg.update(text)
        msg.set_class(error, "-error")

    # ------------------------------------------------------------------ playing
    def action_play(self) -> None:
        from kubeflow_tui.importer.opendump import PacketError, check_packet

        if self.busy:
            return
        try:
            spec = check_packet(self.query_one("#dump-src", Input).value, self.query_one("#dump-dst", Input).value,
                                str(self.query_one("#dump-proto", Select).value),
                                self.query_one("#dump-sport", Input).value)
        except PacketError as exc:
            self._say(str(exc), error=True)
            self.query_one(f"#dump-{exc.field}").focus()
            return
        known = self.dump.known_entry(spec)
        self._say(f"Tracing {spec} through {self.dump.name}"
                  + (" (a known connection: conntrack path) …" if known is not None else " …"))
        self.busy = True
        self._trace_worker(spec)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _trace_worker(self, spec: Any) -> None:
        try:
            trace = self.dump.trace(spec)
        except Exception as exc:  # the engine refused this packet: say why, keep the form
            self.post_message(DumpTraced(spec, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(DumpTraced(spec, trace))

    @on(DumpTraced)
    def _traced(self, message: DumpTraced) -> None:
        message.stop()
        self.busy = False
        if message.trace is None:
            self._say(f"Cannot trace {message.spec}: {message.error}", error=True)
            return
        self._say(f"{message.spec}: {message.trace.outcome}. esc on the flow screen comes back here.")
        self.app.push_screen(DumpFlowScreen(self.dump, message.spec, message.trace))

    def action_leave(self) -> None:
        if isinstance(self.focused, (Input, Select)):
            self.query_one("#dump-targets").focus()
            return
        self.app.exit(0)


class DumpFlowScreen(FlowScreen):
    """The flow screen over one packet of a dump (no scenario: the dump's node is ``node``)."""

    HELP_TITLE = "A packet through a node's dump"
    #: keys that need a scenario (its live cluster, its flows, pods and quizzes)
    NO_SCENARIO = frozenset({"shell", "quiz", "pick_flow", "endpoint"})

    def __init__(self, dump: Any, spec: Any, trace: Any) -> None:
        super().__init__(None, str(spec), source=dump.source, flows=[str(spec)], seed=trace.seed)
        self.dump, self.spec, self.first_trace = dump, spec, trace

    def _start(self) -> None:  # the trace is in already: show it
        if self.is_attached and not self.loaded_once:
            self.loaded_once = True
            self.show_trace(self.first_trace)
            self.busy = False

    def title_text(self) -> str:
        extra = f" (seed {self.trace.seed})" if self.trace is not None and self.trace.seed is not None else ""
        return f"{self.dump.name} › {self.spec}{extra}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.NO_SCENARIO:
            return False
        return super().check_action(action, parameters)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _trace_worker(self, flow: str, seed: int | None, endpoint: str | None, start: int,
                      then: Any) -> None:
        try:
            trace = self.dump.trace(self.spec, seed=seed if seed is not None else 1)
        except Exception as exc:
            self.post_message(EngineFailed(f"Cannot trace {self.spec}", f"{type(exc).__name__}: {exc}", loaded=True))
            return
        self.post_message(Traced(None, list(self.flows), flow, trace, seed=seed, endpoint=None, start=start,
                                 token=None, then=then))

    def current_node(self) -> str | None:
        return "node"

    def action_shell(self) -> None:  # (the Shell tab calls it directly)
        self.notify("No shell here: a dump is one node's rules, not a cluster to run commands on. "
                    "n shows the dump; esc goes back to pick another packet.", timeout=6)

    def action_ruleset(self) -> None:
        from kubeflow_tui.tui.screens.ruleset import RulesetScreen

        step = self.step
        rule = step.rule if step is not None and step.host == "node" and step.rule else ""
        self.app.push_screen(RulesetScreen(self.dump.name, self.dump.ruleset_text(), focus_rule=rule or ""))

    def action_back(self) -> None:
        self.stop_playing()
        self.dismiss()


def dump_app(dump: Any, **kwargs: Any) -> Any:
    """The app, opening on the dump's screen (``kwargs``: ``KubeflowApp``'s, e.g. ``progress``)."""
    from kubeflow_tui.tui import app as app_module

    class OpenDumpApp(app_module.KubeflowApp):
        CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))

        def first_screen(self) -> Screen:
            return OpenDumpScreen(dump)

    return OpenDumpApp(**{"start": "home", **kwargs})


def run_dump_app(dump: Any) -> int:
    app = dump_app(dump)
    result = app.run()
    return int(result or 0) if app.return_code is None else int(app.return_code)
