"""The shell pane: the simulated node shell (``kubeflow_tui.shell``) inside the flow screen.

``ShellPane(get_sim, default_host)`` runs every line through ``Shell(sim, host).run``
on the live cluster the engine keeps for the scenario (``Engine.live_sim``), so what the
learner changes here (``iptables -D``, ``conntrack -F``, ``kubectl scale``) is what the
next ``curl`` and the next run of a flow meet.

Besides the simulated commands the pane understands:

* ``host`` lists the hosts, ``host NAME`` switches to one (nodes, pods, clients);
* ``clear`` wipes the output, ``exit`` leaves the pane (back to the flow);
* ``reset`` starts the cluster afresh (undoes every change);
* ``play`` (or ``p`` on an empty line) after a ``curl``/``nc`` shows that connection's
  Trace in the flow view.

↑/↓ walk the history, Tab completes (``Shell.complete``).  stdout is drawn in the normal
colour, stderr in the error colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace

HELP_EXTRA = (
    "In this pane also: host [NAME] (list or switch hosts), clear, reset (the cluster afresh), "
    "exit or esc (back to the flow), play or p on an empty line (watch the last curl's "
    "connection), ↑/↓ history, Tab completion."
)


class ShellInput(Input):
    """An Input with shell keys: ↑/↓ history, Tab completion, ``p`` on an empty line plays."""

    HELP_TITLE = "Shell pane (s)"
    BINDINGS = [
        Binding("enter", "submit", "Run", tooltip="Run the command on the host in the prompt", id="shell.run",
                show=False),
        Binding("up", "history(-1)", "Older", tooltip="Command history: older", id="shell.older", show=False),
        Binding("down", "history(1)", "Newer", tooltip="Command history: newer", id="shell.newer", show=False),
        Binding("tab", "complete", "Complete", tooltip="Complete a command, option, chain, address or host",
                id="shell.complete", show=False, priority=True),
        Binding("p", "play", "Play", tooltip="After curl/nc, on an empty line: watch that connection step by step",
                id="shell.play", show=False, priority=True),
    ]

    def action_history(self, delta: int) -> None:
        pane = self._pane()
        if pane is not None:
            pane.history_move(delta)

    def action_complete(self) -> None:
        pane = self._pane()
        if pane is not None:
            pane.complete()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "play":  # only on an empty line with a connection to play; else p is typed
            pane = self._pane()
            return not self.value and pane is not None and pane.pending is not None
        return super().check_action(action, parameters)

    def action_play(self) -> None:
        pane = self._pane()
        if pane is not None:
            pane.play_pending()

    def _pane(self) -> "ShellPane | None":
        node = self.parent
        while node is not None and not isinstance(node, ShellPane):
            node = node.parent
        return node


class ShellPane(Vertical):
    """A simulated shell on one host of the live cluster."""

    DEFAULT_CSS = """
    #shell-log { height: 1fr; padding: 0 1; background: $surface; }
    #shell-line { height: 1; }
    #shell-prompt { width: auto; height: 1; padding: 0 0 0 1; color: $success; }
    """

    class Play(Message):
        """The learner wants to watch a connection the shell ran."""

        def __init__(self, trace: Trace, line: str) -> None:
            super().__init__()
            self.trace = trace
            self.line = line

    class Leave(Message):
        """``exit``: back to the flow."""

    class Changed(Message):
        """A command ran (the cluster may have changed)."""

    def __init__(self, get_sim: Callable[[], Any] | None = None, *, reset_sim: Callable[[], Any] | None = None,
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.get_sim = get_sim
        self.reset_sim = reset_sim
        self.host: str | None = None
        self._shells: dict[str, Any] = {}
        self._sim: Any = None
        self.history: list[str] = []
        self._hpos = 0
        self._draft = ""
        self.pending: Trace | None = None
        self.pending_line = ""
        self.lines: list[tuple[str, str]] = []  # (kind, text) as written: for tests and reading

    def compose(self) -> ComposeResult:
        # The pane is hidden when the flow screen opens: its widgets are mounted after the
        # first frame (``RichLog`` alone costs an import of rich.pretty at start-up).
        return iter(())

    def on_mount(self) -> None:
        self.call_after_refresh(self._build)

    def _build(self) -> None:
        if self.children or not self.is_attached:
            return
        from textual.widgets import RichLog

        self.mount(
            RichLog(id="shell-log", wrap=True, markup=False, highlight=False, max_lines=2000, min_width=20),
            Horizontal(
                Static("$ ", id="shell-prompt"),
                ShellInput(placeholder="a command, e.g. iptables -t nat -L KUBE-SERVICES -n  (help)",
                           id="shell-input"),
                id="shell-line",
            ),
        )
        if self.lines:  # written before the widgets existed
            self.call_after_refresh(self._rewrap)
            self._update_prompt()

    # ------------------------------------------------------------------ state
    def sim(self) -> Any:
        if self.get_sim is None:
            return None
        sim = self.get_sim()
        if sim is not self._sim:  # a new live cluster (reset): new shells
            self._sim = sim
            self._shells = {}
        return sim

    def shell(self) -> Any:
        sim = self.sim()
        if sim is None or self.host is None:
            return None
        sh = self._shells.get(self.host)
        if sh is None:
            from kubeflow_tui.shell import Shell

            sh = Shell(sim, self.host)
            self._shells[self.host] = sh
        return sh

    def hosts(self) -> list[str]:
        sim = self.sim()
        return list(sim.topology.hosts) if sim is not None else []

    def set_host(self, host: str, *, announce: bool = True) -> bool:
        sim = self.sim()
        if sim is None:
            return False
        if host not in sim.topology.hosts:
            self.write("err", f"host: no host named {host!r}; hosts: {', '.join(self.hosts())}")
            return False
        if host != self.host:
            self.host = host
            if announce:
                self.write("info", f"Now on {host}. (host NAME switches; host lists them)")
        self._update_prompt()
        return True

    def _update_prompt(self) -> None:
        sh = self.shell()
        prompt = sh.prompt if sh is not None else "$ "
        try:
            self.query_one("#shell-prompt", Static).update(Text(prompt, style="bold"))
        except Exception:
            pass

    def start(self, default_host: str | None) -> None:
        """Called when the pane is shown: pick a host the first time."""
        if self.sim() is None:
            if not self.lines:
                self.write("err", "The shell needs the real cluster simulator (this engine has none).")
            return
        if self.host is None or self.host not in self.hosts():
            host = default_host if default_host in self.hosts() else (self.hosts() or [None])[0]
            if host is not None:
                self.host = host
                self.write("info", f"Simulated shell on {host}, on this scenario's live cluster: what you "
                           "change here (iptables -D, conntrack -F, kubectl scale) changes what the next "
                           "curl and the next run of a flow meet. Type help for the commands; "
                           "host NAME switches host; esc goes back to the flow.")
        self._update_prompt()

    def focus_input(self) -> None:
        try:
            self.query_one(ShellInput).focus()
        except Exception:
            pass

    # ------------------------------------------------------------------ output
    def write(self, kind: str, text: str) -> None:
        """kind: cmd (the typed line), out (stdout), err (stderr), info, hint."""
        text = text.rstrip("\n")
        self.lines.append((kind, text))
        if len(self.lines) > 2000:
            del self.lines[:-2000]
        try:
            log = self.query_one("#shell-log")
        except Exception:
            return
        if log.size.width <= 0:
            return  # not laid out yet (hidden pane): drawn by on_resize
        log.write(self._styled(kind, text))

    def _styled(self, kind: str, text: str) -> Text:
        err, accent = self._colours()
        style = {"cmd": "bold", "out": "", "err": err, "info": "dim", "hint": f"bold {accent}"}.get(kind, "")
        return Text(text, style=style)

    def on_resize(self) -> None:
        self.call_after_refresh(self._rewrap)

    def _rewrap(self) -> None:
        """RichLog wraps when a line is written: write everything again at the new width."""
        try:
            log = self.query_one("#shell-log")
        except Exception:
            return
        if log.size.width <= 0:
            return
        log.clear()
        for kind, text in self.lines:
            log.write(self._styled(kind, text))

    def _colours(self) -> tuple[str, str]:
        """The theme's error and accent colours (stderr, hints)."""
        try:
            theme = self.app.current_theme
            return theme.error or "red", theme.accent or "cyan"
        except Exception:
            return "red", "cyan"

    def output_text(self) -> str:
        return "\n".join(t for _, t in self.lines)

    def clear(self) -> None:
        self.lines = []
        try:
            self.query_one("#shell-log").clear()
        except Exception:
            pass

    # ------------------------------------------------------------------ running
    @on(Input.Submitted, "#shell-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        event.input.value = ""
        self.run_line(line)

    def run_line(self, line: str) -> None:
        text = line.strip()
        self._draft = ""
        if text:
            if not self.history or self.history[-1] != text:
                self.history.append(text)
        self._hpos = len(self.history)
        sh = self.shell()
        prompt = sh.prompt if sh is not None else "$ "
        self.write("cmd", f"{prompt}{text}")
        if not text:
            return
        word, _, rest = text.partition(" ")
        if word == "host":
            if rest.strip():
                self.set_host(rest.strip())
            else:
                self.write("out", "hosts: " + ", ".join(self.hosts()) + f"   (now on {self.host})")
            return
        if text in ("play", "p"):
            if self.pending is not None:
                self.play_pending()
            else:
                self.write("err", "play: no connection to play yet (run curl or nc first)")
            return
        if text == "reset":
            if self.reset_sim is not None:
                self.reset_sim()
                self.sim()
                self._update_prompt()
                self.write("info", "The cluster is back to how the scenario starts (rules, pods, conntrack).")
                self.post_message(self.Changed())
            return
        if sh is None:
            self.write("err", "No cluster to run commands on.")
            return
        # a command may move packets through the whole cluster (curl, nc, ping): in a
        # worker, so typing and drawing never wait on the engine; one command at a time
        self.query_one("#shell-input", Input).disabled = True
        self._run_command(sh, text, word)

    @work(thread=True, exclusive=True, group="shell-command")
    def _run_command(self, sh: Any, text: str, word: str) -> None:
        result = sh.run(text)
        self.app.call_from_thread(self._show_result, result, text, word)

    def _show_result(self, result: Any, text: str, word: str) -> None:
        box = self.query_one("#shell-input", Input)
        box.disabled = False
        if self.display and self.is_attached:  # still the learner's pane: type on
            box.focus()
        self.pending = None
        if result.clear:
            self.clear()
        for kind, chunk in result.chunks:  # in the order a terminal shows them (curl -v)
            self.write(kind, chunk)
        if word == "help":
            self.write("info", HELP_EXTRA)
        if result.trace is not None:
            self.pending = result.trace
            self.pending_line = text
            self.write("hint", "▶ press p (on an empty line) or type play to watch this connection step by step")
        self.post_message(self.Changed())
        if result.exit:
            self.post_message(self.Leave())

    def play_pending(self) -> None:
        if self.pending is not None:
            trace, line = self.pending, self.pending_line
            self.post_message(self.Play(trace, line))

    # ------------------------------------------------------------------ keys
    def history_move(self, delta: int) -> None:
        if not self.history:
            return
        inp = self.query_one(ShellInput)
        if self._hpos == len(self.history):
            self._draft = inp.value
        self._hpos = max(0, min(self._hpos + delta, len(self.history)))
        inp.value = self.history[self._hpos] if self._hpos < len(self.history) else self._draft
        inp.cursor_position = len(inp.value)

    def complete(self) -> None:
        inp = self.query_one(ShellInput)
        line = inp.value[: inp.cursor_position]
        word_start = max(line.rfind(c) for c in " \t;|&") + 1
        word = line[word_start:]
        if line.lstrip().startswith("host ") and self.sim() is not None:
            cands = [h for h in self.hosts() if h.startswith(word)]
        else:
            sh = self.shell()
            cands = sh.complete(line) if sh is not None else []
        if not cands:
            self.app.bell()
            return
        common = cands[0]
        for c in cands[1:]:
            while not c.startswith(common):
                common = common[:-1]
        if len(cands) == 1:
            common = cands[0] + ("" if cands[0].endswith(("/", "=")) else " ")
        if len(common) > len(word) or len(cands) == 1:
            new = line[:word_start] + common
            inp.value = new + inp.value[inp.cursor_position:]
            inp.cursor_position = len(new)
        else:
            self.write("info", "  ".join(cands[:60]) + ("  …" if len(cands) > 60 else ""))
