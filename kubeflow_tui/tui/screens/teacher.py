"""The teacher's live view of a class: one row per student, refreshed every few seconds."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from kubeflow_tui.classroom import SCREEN_COLUMNS, screen_cells

REFRESH_S = 5.0


class TeacherScreen(Screen):
    BINDINGS = [
        Binding("r", "refresh_report", "Refresh", tooltip="Read every student's progress again"),
    ]

    def __init__(self, classroom) -> None:
        super().__init__()
        self.classroom = classroom

    def compose(self) -> ComposeResult:
        yield Static(f"Class {self.classroom.name}: teacher's view", id="teacher-title")
        yield DataTable(id="report", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*SCREEN_COLUMNS)
        self.action_refresh_report()
        self.set_interval(REFRESH_S, self.action_refresh_report)

    @work(thread=True, exclusive=True)
    def action_refresh_report(self) -> None:
        from kubeflow_tui.classroom import ClassroomError, class_report

        try:
            rows = class_report(self.classroom)
        except ClassroomError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(*screen_cells(r))
        self.query_one("#teacher-title", Static).update(
            f"Class {self.classroom.name}: {len(rows)} student{'s' if len(rows) != 1 else ''} "
            f"(refreshed every {REFRESH_S:g} s; r now)"
        )
