"""Command palette provider: the places to go (the lesson list, each lesson, the cases,
the interview, the bundled scenarios).  The actions of the keys come from the bindings
(``KubeflowApp.get_system_commands``)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from kubeflow_tui.tui.app import KubeflowApp

class KubeflowCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: "KubeflowApp" = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object]]] = []
        out.append(("Lesson list", "home screen", app.go_home))
        out.append(("Troubleshooting cases", "key: c on the lesson list", app.open_case_list))
        out.append(("Interview practice (timed questions)", "key: i on the lesson list", app.open_interview))
        for lesson in app.lessons:
            out.append((f"Lesson {lesson.number}: {lesson.title}", f"{lesson.minutes} min", partial(app.open_lesson, lesson)))
        from kubeflow_tui.lessons import scenarios_dir

        d = scenarios_dir()
        if d.is_dir():
            for p in sorted(d.glob("*.y*ml")):
                out.append((f"Scenario: {p.stem}", str(p), partial(app.open_scenario_path, str(p))))
        return out

    async def discover(self) -> Hits:
        for title, help_text, cb in self._commands():
            yield DiscoveryHit(title, cb, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, cb in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), cb, text=title, help=help_text)
