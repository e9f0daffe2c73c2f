"""The body of the flow and lesson screens: narration, packet header, and the panels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from kubeflow_tui.tui.widgets.narration import Narration
from kubeflow_tui.tui.widgets.packet_header import PacketHeader

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace

PANELS = ("lesson", "chain", "topology", "conntrack", "shell")
PANEL_TITLES = {"lesson": "Lesson", "chain": "Chain walk", "topology": "Topology", "conntrack": "Conntrack",
                "shell": "Shell"}


class FlowView(Vertical):
    """Narration + packet header, always visible; the panels below them.

    Below 120 columns one panel shows at a time (tabs); from 120 columns all panels
    are laid out in a grid.  One set of widgets either way: CSS decides.

    The view is composed before the engine has run (``pending``): the first frame shows
    the lesson text and the panels with a "tracing…" placeholder, and ``show`` fills
    them in when the screen has its Trace.  Only the panels that the first frame shows
    are composed; the hidden ones are mounted just after it (``mount_hidden_panels``).
    """

    #: show a preview of the lesson's first screen until Textual's Markdown is loaded
    PREVIEW_LESSON = True

    def __init__(self, *, lesson_markdown: str | None = None, shell: Callable[[], tuple[Any, Any]] | None = None,
                 title: str = "", pending: bool = False, **kw: Any) -> None:
        """``shell`` gives the shell pane's (get the live cluster, reset it) when the pane is
        made (after the first frame: it asks the engine)."""
        super().__init__(**kw)
        self.lesson_markdown = lesson_markdown
        self.shell = shell
        self.title = title
        self.pending = pending
        self.panels = [p for p in PANELS if p != "lesson" or lesson_markdown is not None]
        self._hidden: list[str] = []  # panels not mounted yet
        self._state: tuple[Trace | None, int, Any] = (None, 0, None)  # the last ``show``
        self._hidden_mounting = False
        # the parts, kept at hand: a DOM query (parsing its selector) costs more than the
        # update it serves, and these run before the first frame
        self._panel_widgets: dict[str, Widget] = {}
        self._step_widgets: dict[str, Any] = {}  # chain, topology, conntrack: what draws a step
        self._narration = Narration(id="narration", title=title)
        self._packet = PacketHeader(id="packet")
        self._tabs: Tabs | None = None
        self._container: Container | None = None

    @property
    def first_panel(self) -> str:
        return "chain" if "chain" in self.panels and self.lesson_markdown is None else self.panels[0]

    def compose(self) -> ComposeResult:
        first = self.first_panel
        self._narration.pending = self._packet.pending = self.pending
        yield self._narration
        yield self._packet
        self._tabs = Tabs(*[Tab(f"{i + 1} {PANEL_TITLES[p]}", id=f"tab-{p}") for i, p in enumerate(self.panels)],
                          active=f"tab-{first}", id="panel-tabs")
        yield self._tabs
        # what the first frame shows: all panels but the shell when wide, else the first one
        wide = self.screen.has_class("-wide")
        shown = [p for p in self.panels if p == first or (wide and p != "shell")]
        self._hidden = [p for p in self.panels if p not in shown]
        self._container = Container(*[self._panel(p, active=p == first) for p in shown], id="panels",
                                    classes="with-lesson" if self.lesson_markdown is not None else "")
        yield self._container

    def _panel(self, name: str, *, active: bool) -> Widget:
        """A new panel widget, drawing what the view shows now."""
        classes = "panel -active" if active else "panel"
        widget: Widget
        step: Any = None  # the widget that draws this panel's part of a step
        if name == "lesson":
            widget = VerticalScroll(self._first_lesson_text(), id="lesson", classes=classes)
        elif name == "chain":
            from kubeflow_tui.tui.widgets.chain_walk import ChainWalk

            widget = step = ChainWalk(id="chain", classes=classes)
        elif name == "topology":
            from kubeflow_tui.tui.widgets.topology import Topology

            step = Topology(id="topology-view")
            widget = VerticalScroll(step, id="topology", classes=classes)
        elif name == "conntrack":
            from kubeflow_tui.tui.widgets.conntrack_table import ConntrackTable

            widget = step = ConntrackTable(id="conntrack", classes=classes)
        else:
            from kubeflow_tui.tui.widgets.shell_pane import ShellPane

            get_sim, reset_sim = self.shell() if self.shell is not None else (None, None)
            widget = ShellPane(get_sim, reset_sim=reset_sim, id="shell", classes=classes)
        widget.border_title = f"{self.panels.index(name) + 1} {PANEL_TITLES[name]}"
        self._panel_widgets[name] = widget
        if step is not None:
            self._step_widgets[name] = step
            step.pending = self.pending
            step.trace, step.index, step.scenario = self._state
            if self._hidden_mounting:  # mounted after the view was shown: draw it once
                self.call_after_refresh(self._redraw_step, step)  # its parts are mounted
        return widget

    @staticmethod
    def _redraw_step(step: Any) -> None:
        if step.is_attached:
            step.redraw()

    def on_mount(self) -> None:
        # (the panels and tabs were made showing the first panel)
        self.call_after_refresh(self.mount_hidden_panels)

    def mount_hidden_panels(self) -> None:
        """Mount the panels the first frame did not show, each in its place (idempotent)."""
        if not self._hidden or not self.is_attached:
            return
        hidden, self._hidden = self._hidden, []
        container = self._container
        if container is None:
            return
        active = self.active_panel
        self._hidden_mounting = True
        for name in hidden:
            widget = self._panel(name, active=name == active)
            earlier = [p for p in self.panels[: self.panels.index(name)] if p in self._panel_widgets]
            if earlier:  # (always: the first panel is in the first frame)
                container.mount(widget, after=self._panel_widgets[earlier[-1]])
            else:
                container.mount(widget, before=0)
        self._hidden_mounting = False

    # ------------------------------------------------------------------ the lesson text
    def _first_lesson_text(self) -> Widget:
        """The lesson text of the first frame: a preview of its first screen when the
        Markdown allows one (see ``lesson_preview``), else the Markdown widget itself."""
        from kubeflow_tui.tui.widgets.markdown_subset import FIRST_LINES, first_blocks

        text = self.lesson_markdown or ""
        blocks = first_blocks(text, max(FIRST_LINES, self.app.size.height)) if self.PREVIEW_LESSON else None
        if blocks:
            from kubeflow_tui.tui.widgets.lesson_preview import LessonPreview

            return LessonPreview(blocks, id="lesson-preview")
        from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown

        return LessonMarkdown(text, id="lesson-md")

    def load_lesson_markdown(self) -> None:
        """Soon: the real Markdown widget in place of the preview (the screen calls this once
        the engine has traced the first flow, so that the panels fill in first)."""
        if self.lesson_markdown is not None:
            self.call_after_refresh(self._replace_lesson_preview)

    async def _replace_lesson_preview(self) -> None:
        """The real Markdown widget in place of the preview, swapped in one frame once its
        first blocks are mounted (they look the same)."""
        try:
            preview = self.query_one("#lesson-preview")
        except NoMatches:
            return
        from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown

        markdown = LessonMarkdown(self.lesson_markdown or "", id="lesson-md")
        markdown.display = False
        await self._panel_widgets["lesson"].mount(markdown, after=preview)
        if not (preview.is_attached and markdown.is_attached):
            return
        with self.app.batch_update():
            preview.display = False
            markdown.display = True
        await preview.remove()

    # ------------------------------------------------------------------ panels
    def _mounted_panels(self) -> list[Widget]:
        return [self._panel_widgets[p] for p in self.panels if p in self._panel_widgets]

    def select_panel(self, name: str) -> None:
        if name not in self.panels or not self.is_mounted:
            return
        try:
            self._select(name)
        except NoMatches:
            pass

    def _select(self, name: str) -> None:
        for w in self._mounted_panels():
            w.set_class(w.id == name, "-active")
        tabs = self._tabs
        if tabs is not None and tabs.active != f"tab-{name}":
            tabs.active = f"tab-{name}"

    @property
    def active_panel(self) -> str:
        active = (self._tabs.active if self._tabs is not None else "") or ""
        return active.removeprefix("tab-")

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        name = (event.tab.id or "").removeprefix("tab-")
        for w in self._mounted_panels():
            w.set_class(w.id == name, "-active")
        widget = self._panel_widgets.get(name)
        if widget is None:
            return
        if hasattr(widget, "after_redraw"):  # a panel redrawn while hidden could not scroll
            self.call_after_refresh(widget.after_redraw)
        topo = self._step_widgets.get("topology")
        if name == "topology" and topo is not None and topo.trace is not None:
            # The topology is laid out to its panel's width; a panel hidden since the
            # screen opened has no width yet (and gets no Resize when shown): redraw it
            # once it has one.
            self.call_after_refresh(topo.redraw)

    # ------------------------------------------------------------------ showing a step
    def show(self, trace: Trace | None, index: int, scenario: Any, *, title: str, playing: bool, speed: float,
             pending: bool = False) -> None:
        self.pending = pending
        self._state = (trace, index, scenario)
        if not self.is_attached:
            return
        nar = self._narration
        nar.title, nar.playing, nar.speed = title, playing, speed
        for w in (nar, self._packet, *self._step_widgets.values()):
            w.pending = pending
            w.show(trace, index, scenario)
