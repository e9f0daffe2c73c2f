"""Quizzes generated from Traces, predict mode, command questions, troubleshooting
cases and interview practice.  No textual here.

* ``generate_questions(trace, seed=, context=)`` -> ``list[Question]``; ``grade(q, choice)``
* ``predict_points(trace, seed=, context=)`` -> ``list[PredictPoint(step_index, question)]``
* ``judge_command(question, answer, make_sim)`` -> ``CommandVerdict``
* ``load_case(path)`` / ``CaseSession(case)``; ``list_cases()``
* ``random_scenario(rng)``, ``InterviewSession(seed=, count=, minutes=)``
* ``run_quiz(path, stdin, stdout, seed=)`` for ``kubeflow-tui quiz FILE``
"""

from .cases import Case, CaseError, CaseSession, find_case, is_case_file, list_cases, load_case, load_case_text
from .commands import CommandQuestion, CommandVerdict, judge_command, scenario_state, standard_command_questions
from .context import QuizContext, context_from_sim
from .generate import KINDS, generate_questions
from .interview import InterviewItem, InterviewSession, describe_scenario, random_scenario
from .model import Question, Result, Score, grade
from .predict import PredictPoint, predict_points
from .record import record_result
from .runner import questions_for_scenario, run_quiz

__all__ = [
    "Case", "CaseError", "CaseSession", "CommandQuestion", "CommandVerdict", "InterviewItem",
    "InterviewSession", "KINDS", "PredictPoint", "Question", "QuizContext", "Result", "Score",
    "context_from_sim", "describe_scenario", "generate_questions", "grade", "is_case_file",
    "find_case", "judge_command", "list_cases", "load_case", "load_case_text", "predict_points",
    "questions_for_scenario", "random_scenario", "record_result", "run_quiz", "scenario_state",
    "standard_command_questions",
]
