"""The home screen: the lesson list with progress marks, and a way to open any scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from kubeflow_tui.tui import messages
from kubeflow_tui.tui.screens.breakpoints import TooSmall

if TYPE_CHECKING:
    from kubeflow_tui.tui.app import KubeflowApp

MARKS = {"done": "✓", "started": "▸", "": "·"}
OPEN_ID = "__open__"
CASES_ID = "__cases__"
INTERVIEW_ID = "__interview__"
PRACTICE_ID = "__practice__"


class HomeScreen(Screen):
    DEFAULT_CSS = """
    #home { padding: 0 1; }
    #home-intro { color: $text-muted; margin: 1 0; }
    #lesson-list { height: 1fr; }
    #home-status { height: auto; color: $text-muted; }
    """
    HELP_TITLE = "The lesson list"
    BINDINGS = [
        Binding("enter", "open_selected", "Open", tooltip="Open the highlighted lesson", id="home.open",
                show=False),
        Binding("c", "cases", "Cases", tooltip="Troubleshooting cases: debug a broken cluster", id="home.cases"),
        Binding("p", "practice", "Practice", tooltip="Endless practice: a generated incident to fix",
                id="home.practice"),
        Binding("i", "interview", "Interview", tooltip="Interview practice: timed questions", id="home.interview"),
        Binding("o", "open_file", "Open file", tooltip="Open a scenario file", id="home.open_file", show=False),
        Binding("j", "cursor(1)", "Down", tooltip="Move down the list", id="home.down", show=False),
        Binding("k", "cursor(-1)", "Up", tooltip="Move up the list", id="home.up", show=False),
    ]

    @property
    def kapp(self) -> "KubeflowApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield TooSmall()
        yield Header()
        with Vertical(id="home"):
            yield Static(
                "Watch a packet cross a Kubernetes cluster rule by rule: kube-proxy's iptables "
                "rules, DNAT, SNAT and conntrack, as a real node does them.",
                id="home-intro",
            )
            yield OptionList(id="lesson-list")
            yield Static("", id="home-status")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "kubeflow-tui"
        self.sub_title = "Kubernetes Service traffic, hop by hop"
        self.refresh_list()
        self.query_one(OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_list()

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh_list)

    def refresh_list(self) -> None:
        ol = self.query_one("#lesson-list", OptionList)
        keep = ol.highlighted
        ol.clear_options()
        prog = self.kapp.progress
        opts: list[Option] = []
        width = max((len(l.title) for l in self.kapp.lessons), default=20)
        # the room the list gives a title: its width less the mark, number, minutes, borders
        room = max(20, (ol.size.width or self.app.size.width - 2) - 20)
        for i, lesson in enumerate(self.kapp.lessons):
            status = prog.status(lesson.id)
            mark = MARKS.get(status, "·")
            num = lesson.number or f"{i + 1:02d}"
            w = min(width, room)
            title = lesson.title if len(lesson.title) <= w else lesson.title[: w - 1] + "…"
            label = f"{mark} {num}  {title.ljust(w)}  {lesson.minutes:>3} min"
            opts.append(Option(label, id=lesson.id))
        if not opts:
            opts.append(Option("(no lessons found)", id="__none__", disabled=True))
        opts.append(Option("  ⚒  Troubleshooting cases: debug a broken cluster", id=CASES_ID))
        streak = prog.quiz("practice")
        best = f" (best streak {streak.get('best_streak', 0)})" if streak.get("best_streak") else ""
        opts.append(Option(f"  ∞  Practice: a generated incident to fix{best}", id=PRACTICE_ID))
        opts.append(Option("  ⏱  Interview practice: timed questions", id=INTERVIEW_ID))
        opts.append(Option("  …  Open a scenario file", id=OPEN_ID))
        ol.add_options(opts)
        if keep is not None and keep < len(opts):
            ol.highlighted = keep
        else:
            last = prog.last
            ids = [l.id for l in self.kapp.lessons]
            ol.highlighted = ids.index(last) if last in ids else 0
        status = self.kapp.lesson_errors
        done = sum(1 for l in self.kapp.lessons if prog.status(l.id) == "done")
        text = f"{done} of {len(self.kapp.lessons)} lessons done   ✓ done  ▸ started  · new"
        if status:
            text += f"\n{len(status)} lesson file(s) could not be read: " + "; ".join(status)[:300]
        self.query_one("#home-status", Static).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option.id)

    def _open(self, oid: str | None) -> None:
        if oid == OPEN_ID:
            self.action_open_file()
            return
        if oid == CASES_ID:
            self.action_cases()
            return
        if oid == INTERVIEW_ID:
            self.action_interview()
            return
        if oid == PRACTICE_ID:
            self.action_practice()
            return
        for lesson in self.kapp.lessons:
            if lesson.id == oid:
                self.post_message(messages.OpenLesson(lesson))
                return

    def action_open_selected(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is not None:
            self._open(ol.get_option_at_index(ol.highlighted).id)

    def action_cursor(self, delta: int) -> None:
        ol = self.query_one(OptionList)
        if delta > 0:
            ol.action_cursor_down()
        else:
            ol.action_cursor_up()

    # (messages up: the app decides where each entry goes)
    def action_cases(self) -> None:
        self.post_message(messages.OpenCases())

    def action_practice(self) -> None:
        self.post_message(messages.OpenPractice())

    def action_interview(self) -> None:
        self.post_message(messages.OpenInterview())

    def action_open_file(self) -> None:
        self.post_message(messages.OpenScenarioFile())
