"""The body of the flow and lesson screens: narration, packet header, and the panels.

``FlowView`` holds no state of its own: its reactives are bound to the screen's
(``FlowScreen.compose``: ``data_bind``), and its watchers redraw the widgets."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from kubeflow_tui.tui.widgets.narration import Narration
from kubeflow_tui.tui.widgets.packet_header import PacketHeader

if TYPE_CHECKING:
    from kubeflow_tui.trace import Trace

PANELS = ("lesson", "chain", "wire", "hooks", "card", "ladder", "conntrack", "shell")
PANEL_TITLES = {"lesson": "Lesson", "chain": "Chain", "wire": "Wire", "hooks": "Hooks", "card": "Card",
                "ladder": "Ladder", "conntrack": "Conntrack", "shell": "Shell"}
#: the pictures (``kubeflow_tui.tui.widgets``): bound to the view's state with ``data_bind``
PICTURES = ("wire", "hooks", "card", "ladder")
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)  # steps per second (FlowScreen.speed_i indexes this)
#: the lesson text's widget: imported in a thread after the first frame, unless already imported
LESSON_TEXT_MODULE = "kubeflow_tui.tui.widgets.lesson_markdown"


class FlowView(Vertical):
    """Narration + packet header, always visible; the panels below them.

    Below 120 columns one panel shows at a time (tabs); from 120 columns the panel chosen
    (``-main``) shows beside a companion (``-companion``: the header card, or the wire
    beside the card).  One set of widgets either way: CSS decides.  The panels the first
    frame does not show are mounted just after it.
    """

    class PanelChosen(Message):
        """The learner clicked a panel's tab."""

        def __init__(self, panel: str) -> None:
            super().__init__()
            self.panel = panel

    trace: reactive[Trace | None] = reactive(None, always_update=True, init=False)
    index: reactive[int] = reactive(0, init=False)
    playing: reactive[bool] = reactive(False, init=False)
    speed_i: reactive[int] = reactive(2, init=False)
    #: steps per second of playback (the screen's speed, scaled for a long flow)
    rate: reactive[float] = reactive(SPEEDS[2], init=False)
    pending: reactive[bool] = reactive(True, init=False)
    heading: reactive[str] = reactive("", init=False)
    scenario: reactive[Any] = reactive(None, always_update=True, init=False)
    panel: reactive[str] = reactive("", init=False)

    def __init__(self, *, lesson_markdown: str | None = None, shell: Callable[[], tuple[Any, Any]] | None = None,
                 **kw: Any) -> None:
        """``shell`` gives the shell pane's (get the live cluster, reset it) when the pane is
        made (after the first frame: it asks the engine)."""
        super().__init__(**kw)
        self.lesson_markdown = lesson_markdown
        self.shell = shell
        self.panels = [p for p in PANELS if p != "lesson" or lesson_markdown is not None]
        self._hidden: list[str] = []  # panels not mounted yet
        self._panel_widgets: dict[str, Widget] = {}
        self._step_widgets: dict[str, Any] = {}  # chain, conntrack: what draws a step (show())
        self._main = ""  # the panel shown in the main place (the last one chosen but the shell)
        self._narration = Narration(id="narration")
        self._packet = PacketHeader(id="packet")
        self._tabs: Tabs | None = None
        self._lesson_rest: str | None = None  # the whole lesson text, while its first screenful shows
        self._container: Container | None = None

    @property
    def first_panel(self) -> str:
        return "chain" if "chain" in self.panels and self.lesson_markdown is None else self.panels[0]

    def compose(self) -> ComposeResult:
        first = self.panel or self.first_panel
        yield self._narration
        yield self._packet
        self._tabs = Tabs(*[Tab(f"{i + 1} {PANEL_TITLES[p]}", id=f"tab-{p}") for i, p in enumerate(self.panels)],
                          active=f"tab-{first}", id="panel-tabs")
        yield self._tabs
        # what the first frame shows: the first panel (and its companion when wide)
        wide = self.screen.has_class("-wide")
        self._main = first
        shown = [p for p in self.panels if p == first or (wide and p == self.companion(first))]
        self._hidden = [p for p in self.panels if p not in shown]
        self._container = Container(*[self._panel(p, active=p == first) for p in shown], id="panels",
                                    classes="with-lesson" if self.lesson_markdown is not None else "")
        yield self._container

    @staticmethod
    def companion(main: str) -> str:
        """The panel shown beside ``main`` from 120 columns."""
        return {"card": "wire", "lesson": "wire"}.get(main, "card")

    def _panel_classes(self, name: str) -> str:
        classes = ["panel"]
        if name == self.panel or (not self.panel and name == self._main):
            classes.append("-active")
        if name == self._main:
            classes.append("-main")
        elif name == self.companion(self._main):
            classes.append("-companion")
        return " ".join(classes)

    def _panel(self, name: str, *, active: bool) -> Widget:
        """A new panel widget, drawing what the view shows now."""
        classes = self._panel_classes(name)
        widget: Widget
        step: Any = None  # the widget that draws this panel's part of a step
        if name == "lesson":
            widget = VerticalScroll(id="lesson", classes=classes)  # (its text: after the first frame)
        elif name == "chain":
            from kubeflow_tui.tui.widgets.chain_walk import ChainWalk

            widget = step = ChainWalk(id="chain", classes=classes)
        elif name in PICTURES:
            widget = self._picture(name, classes)
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
            step.trace, step.index, step.scenario = self.trace, self.index, self.scenario
            if self.is_mounted:  # mounted after the first frame: draw it once its parts are mounted
                self.call_after_refresh(self._redraw_step, step)
        return widget

    def _picture(self, name: str, classes: str) -> Widget:
        """One of the pictures, its ``trace``/``step`` (and ``scenario``) bound to the view's."""
        picture: Widget
        if name == "wire":
            from kubeflow_tui.tui.widgets.wire import WireView

            picture = WireView(id="wire-view")
            binds: dict[str, Any] = {"scenario": FlowView.scenario}
        elif name == "hooks":
            from kubeflow_tui.tui.widgets.pipeline import PipelineView

            picture, binds = PipelineView(id="hooks-view"), {}
        elif name == "card":
            from kubeflow_tui.tui.widgets.header_card import HeaderCardView

            picture, binds = HeaderCardView(id="card-view"), {}
        else:
            from kubeflow_tui.tui.widgets.ladder_view import LadderView

            picture, binds = LadderView(id="ladder", classes=classes), {}
        # bound from the view's own message loop (data_bind's parent is the view)
        self.call_later(picture.data_bind, trace=FlowView.trace, step=FlowView.index, **binds)
        if name == "ladder":
            return picture
        return VerticalScroll(picture, id=name, classes=classes)

    @staticmethod
    def _redraw_step(step: Any) -> None:
        if step.is_attached:
            step.redraw()

    def on_mount(self) -> None:
        self._show()
        lesson = self._panel_widgets.get("lesson")
        if lesson is None:
            self._mount_hidden_soon()
            return
        # else: once the lesson's text is on screen (what the learner reads first comes first)
        if LESSON_TEXT_MODULE in sys.modules:
            # imported already (the fork server of `serve` imports every module): the text
            # after the first frame, once the panel has the focus (its blocks are then
            # styled once, not again when the panel takes the focus)
            self.call_after_refresh(self.post_message, self.LessonTextReady())
        else:
            lesson.loading = True
            self.call_after_refresh(self._import_lesson_text)  # (the thread starts after the first frame)

    def _mount_hidden_soon(self) -> None:
        # (from the view's own message loop: the pictures bind their data to the view)
        self.call_after_refresh(self.call_later, self.mount_hidden_panels)

    def on_markdown_table_of_contents_updated(self, message: Message) -> None:
        """The lesson's text has mounted (Markdown.TableOfContentsUpdated ends its update;
        named, not imported: Markdown is imported after the first frame).  After the
        first screenful, the whole text; after the whole text, the panels the first frame
        did not show."""
        message.stop()
        if self._lesson_rest is not None:
            whole, self._lesson_rest = self._lesson_rest, None
            self.call_after_refresh(self._show_whole_lesson, whole)
            return
        self._mount_hidden_soon()

    def _show_whole_lesson(self, text: str) -> None:
        found = self.query("#lesson-md")
        if found:
            found.first().update(text)  # (its blocks replace the first screenful's in one frame)

    def mount_hidden_panels(self) -> None:
        """Mount the panels the first frame did not show, each in its place (idempotent)."""
        if not self._hidden or not self.is_attached or self._container is None:
            return
        hidden, self._hidden = self._hidden, []
        for name in hidden:
            widget = self._panel(name, active=name == self.panel)
            earlier = [p for p in self.panels[: self.panels.index(name)] if p in self._panel_widgets]
            if earlier:  # (always: the first panel is in the first frame)
                self._container.mount(widget, after=self._panel_widgets[earlier[-1]])
            else:
                self._container.mount(widget, before=0)

    # ------------------------------------------------------------------ the lesson text
    class LessonTextReady(Message):
        """The lesson's Markdown widget can be made (its module is imported)."""

    @work(thread=True, exit_on_error=False)
    def _import_lesson_text(self) -> None:
        """Import Textual's Markdown (and markdown-it) in a thread: the largest cost of the
        screen, which the first frame (the panel loading) need not wait for."""
        import kubeflow_tui.tui.widgets.lesson_markdown  # noqa: F401

        self.post_message(self.LessonTextReady())

    @on(LessonTextReady)
    async def _mount_lesson_text(self, message: LessonTextReady) -> None:
        """The Markdown parses in a thread once mounted and then mounts its blocks."""
        message.stop()
        panel = self._panel_widgets.get("lesson")
        if panel is None or not panel.is_attached:
            return
        from kubeflow_tui.tui.widgets.lesson_markdown import LessonMarkdown, first_screenful

        text = self.lesson_markdown or ""
        first = first_screenful(text, self.app.size.height)
        self._lesson_rest = None if first is None else text  # (the whole text, after the first)
        await panel.mount(LessonMarkdown(text if first is None else first, id="lesson-md"))
        panel.loading = False
        if self.panel == "lesson" and self.screen.focused is None:
            panel.focus()  # (it could not take the focus while loading): ↑↓ pgup pgdn scroll the text

    # ------------------------------------------------------------------ panels
    def watch_panel(self, name: str) -> None:
        if name not in self.panels:
            return
        if name != "shell":
            self._main = name
        for pname, w in self._panel_widgets.items():
            w.set_classes(self._panel_classes(pname))
        if self._tabs is not None and self._tabs.active != f"tab-{name}":
            self._tabs.active = f"tab-{name}"
        widget = self._panel_widgets.get(name)
        if widget is not None and hasattr(widget, "after_redraw"):  # redrawn while hidden: it could not scroll
            self.call_after_refresh(widget.after_redraw)
        if name in ("hooks", "ladder"):  # their keys (↑↓ a hook or an arrow) work at once
            self.call_after_refresh(self._focus_picture, name)

    def _focus_picture(self, name: str) -> None:
        found = self.query(f"#{name}-view" if name == "hooks" else f"#{name}")
        if found and self.panel == name and found.first().focusable:
            found.first().focus()

    @property
    def active_panel(self) -> str:
        return self.panel

    @on(Tabs.TabActivated)
    def _tab(self, event: Tabs.TabActivated) -> None:
        event.stop()
        name = (event.tab.id or "").removeprefix("tab-")
        if name != self.panel:
            self.post_message(self.PanelChosen(name))

    # ------------------------------------------------------------------ showing a step
    def watch_trace(self) -> None:
        self._show()

    def watch_index(self) -> None:
        self._show()

    def watch_playing(self) -> None:
        self._show_narration()

    def watch_speed_i(self) -> None:
        self._show_narration()

    def watch_rate(self) -> None:
        self._show_narration()

    def watch_heading(self) -> None:
        self._show_narration()

    def watch_pending(self) -> None:
        self._show()

    def _show_narration(self) -> None:
        nar = self._narration
        nar.title, nar.playing, nar.speed = self.heading, self.playing, round(self.rate, 1)
        nar.pending = self.pending
        if nar.is_mounted:
            nar.show(self.trace, self.index, self.scenario)

    def _show(self) -> None:
        if not self.is_mounted:
            return
        self._show_narration()
        for w in (self._packet, *self._step_widgets.values()):
            w.pending = self.pending
            w.show(self.trace, self.index, self.scenario)
