"""A node's full ruleset (iptables-save text), searchable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from kubeflow_tui.tui.screens.breakpoints import TooSmall


class RulesetScreen(Screen):
    DEFAULT_CSS = """
    #ruleset-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    #ruleset-search { margin: 0 1; }
    #ruleset-scroll { height: 1fr; padding: 0 1; }
    """
    HELP_TITLE = "Ruleset screen"
    BINDINGS = [
        Binding("escape,q", "close", "Close", tooltip="Back to the flow", id="ruleset.close"),
        Binding("slash", "search", "Search", tooltip="Search the rules", id="ruleset.search"),
        Binding("n", "next(1)", "Next match", tooltip="Next match (enter in the search box too)",
                id="ruleset.next"),
        Binding("N", "next(-1)", "Prev match", tooltip="Previous match", id="ruleset.prev"),
    ]

    def __init__(self, node: str, text: str, *, focus_rule: str = "", command: str = "iptables-save") -> None:
        """``command``: what printed ``text`` on the node (``nft list ruleset`` in nftables mode)."""
        super().__init__()
        self.node = node
        self.command = command
        self.ruleset = text
        self.lines = text.splitlines()
        self.focus_rule = focus_rule.strip()
        self.query_text = ""
        self.matches: list[int] = []
        self.current = -1

    def compose(self) -> ComposeResult:
        yield TooSmall()
        yield Static(f"{self.command} on {self.node}   (/ search · n/N next/prev · esc close)", id="ruleset-title")
        yield Input(placeholder="search rules, e.g. KUBE-SEP or 10.96.0.1 (enter: next match)", id="ruleset-search")
        with VerticalScroll(id="ruleset-scroll"):
            yield Static(id="ruleset-body")
        yield Footer()

    def on_mount(self) -> None:
        self.render_body()
        self.query_one("#ruleset-scroll").focus()
        if self.focus_rule:
            for i, ln in enumerate(self.lines):
                if ln.strip() == self.focus_rule:
                    self.call_after_refresh(self._scroll_to, i)
                    break

    def render_body(self) -> None:
        t = Text(no_wrap=False, overflow="fold")
        q = self.query_text.lower()
        cur_line = self.matches[self.current] if 0 <= self.current < len(self.matches) else -1
        for i, ln in enumerate(self.lines):
            style = ""
            if ln.startswith("*") or ln == "COMMIT":
                style = "bold"
            elif ln.startswith("#"):
                style = "dim"
            if self.focus_rule and ln.strip() == self.focus_rule:
                style = "bold reverse"
            start = len(t)
            t.append(f"{i + 1:>4} ", "dim")
            t.append(ln, style)
            if q:
                low = ln.lower()
                pos = low.find(q)
                while pos >= 0:
                    t.stylize("bold black on yellow" if i != cur_line else "bold white on red",
                              start + 5 + pos, start + 5 + pos + len(q))
                    pos = low.find(q, pos + len(q))
            t.append("\n")
        t.rstrip()
        self.body_text = t
        self.query_one("#ruleset-body", Static).update(t)

    def _scroll_to(self, line: int) -> None:
        sc = self.query_one("#ruleset-scroll", VerticalScroll)
        # lines can wrap; approximate with the rendered line count
        sc.scroll_to(y=max(0, line - 3), animate=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        q = self.query_text.lower()
        self.matches = [i for i, ln in enumerate(self.lines) if q and q in ln.lower()]
        self.current = 0 if self.matches else -1
        self.render_body()
        if self.matches:
            self._scroll_to(self.matches[0])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.matches:
            if self.query_text:
                self.notify(f"No rule contains {self.query_text!r}.", severity="warning", timeout=3)
            return
        self.action_next(1)

    def action_search(self) -> None:
        self.query_one(Input).focus()

    def action_next(self, delta: int) -> None:
        if not self.matches:
            self.notify("Nothing to find: press / and type.", timeout=3)
            return
        self.current = (self.current + delta) % len(self.matches)
        self.render_body()
        self._scroll_to(self.matches[self.current])
        self.notify(f"match {self.current + 1} of {len(self.matches)}", timeout=1.5)

    def action_close(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()
