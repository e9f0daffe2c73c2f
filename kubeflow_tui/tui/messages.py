"""Messages the screens post to the app (the app decides where to go: screens never
import the app or each other's navigation)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class ScreenFailed(Message):
    """This screen cannot show anything (its scenario does not load): back to the lesson
    list, and show why."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title = title
        self.message = message


class GoHome(Message):
    """Back to the lesson list."""


class OpenQuiz(Message):
    """A quiz on these flows of the scenario."""

    def __init__(self, scenario: Any, flows: list[str], *, title: str, record_key: str) -> None:
        super().__init__()
        self.scenario = scenario
        self.flows = flows
        self.title = title
        self.record_key = record_key


class OpenLessonQuiz(Message):
    """The lesson's quiz (its flows' questions, its own questions, its cases)."""

    def __init__(self, lesson: Any, scenario: Any) -> None:
        super().__init__()
        self.lesson = lesson
        self.scenario = scenario


class OpenLesson(Message):
    """Open a lesson (``delta``: the one before/after ``lesson``; 0: that lesson)."""

    def __init__(self, lesson: Any, delta: int = 0) -> None:
        super().__init__()
        self.lesson = lesson
        self.delta = delta


class LessonFlowDone(Message):
    """The learner reached the last step of one of the lesson's flows."""

    def __init__(self, lesson: Any, flow: str) -> None:
        super().__init__()
        self.lesson = lesson
        self.flow = flow


class SavePosition(Message):
    """Where the learner is in a lesson (saved in the progress file)."""

    def __init__(self, lesson: Any, flow: str, step: int) -> None:
        super().__init__()
        self.lesson = lesson
        self.flow = flow
        self.step = step


class OpenCases(Message):
    """The troubleshooting cases (from the lesson list)."""


class OpenPractice(Message):
    """Endless practice: a generated incident to fix."""


class OpenInterview(Message):
    """Interview practice: timed questions."""


class OpenScenarioFile(Message):
    """Ask for a scenario file to open."""
