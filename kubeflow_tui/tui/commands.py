"""Command palette provider: the app's actions, the lessons and the bundled scenarios."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from kubeflow_tui.tui.app import KubeflowApp

#: (title, help, screen action) for actions of the flow/lesson screens
FLOW_ACTIONS = [
    ("Next step", "→ / l", "step(1)"),
    ("Previous step", "← / h", "step(-1)"),
    ("Play / pause", "space", "play"),
    ("Faster", "+", "speed(1)"),
    ("Slower", "-", "speed(-1)"),
    ("Jump to start", "home / g", "jump('start')"),
    ("Jump to end", "end / G", "jump('end')"),
    ("Run again with a new seed", "r", "reroll"),
    ("Run again with a chosen endpoint", "e", "endpoint"),
    ("Pick a flow", "f", "pick_flow"),
    ("Show this node's ruleset (iptables-save)", "n", "ruleset"),
    ("Shell on this cluster (iptables, conntrack, kubectl, curl)", "s", "shell"),
    ("Predict mode on/off (guess each decisive step)", "y", "predict"),
    ("Quiz on these flows", "z", "quiz"),
    ("Back to the lesson list", "esc", "back"),
]


class KubeflowCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: "KubeflowApp" = self.app  # type: ignore[assignment]
        screen = self.screen
        out: list[tuple[str, str, Callable[[], object]]] = []
        from kubeflow_tui.tui.screens.flow import FlowScreen

        if isinstance(screen, FlowScreen):
            for title, keys, action in FLOW_ACTIONS:
                out.append((title, f"key: {keys}", partial(screen.run_action, action)))
        out.append(("Help: list the keys", "key: ?", app.action_help))
        out.append(("Toggle light / dark theme", "key: t", app.action_toggle_theme))
        out.append(("Open a scenario file…", "key: o", app.action_open_scenario))
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
