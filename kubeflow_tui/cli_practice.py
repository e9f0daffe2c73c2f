"""``kubeflow-tui practice`` and ``kubeflow-tui cases generate``: endless practice from
generated incidents (:mod:`kubeflow_tui.quiz.practice`); ``kubeflow-tui interview``: the
app's timed interview on a replayable set.  Registered by ``cli.py``."""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any, Callable


def cmd_practice(args: argparse.Namespace) -> int:
    from kubeflow_tui.quiz.practice import FAULTS, practice_case
    from kubeflow_tui.quiz.runner import play_case

    if args.list_faults:
        for f, kind in FAULTS.items():
            print(f"{f:<22}{kind}")
        return 0
    if args.fault is not None and args.fault not in FAULTS:
        from kubeflow_tui.cli import CliError

        raise CliError(f"practice: no fault kind {args.fault!r} (kinds: {', '.join(FAULTS)})")
    seed = args.seed if args.seed is not None else random.SystemRandom().randint(0, 99999)
    case = practice_case(seed, args.fault)
    print(f"Practice incident {seed} (replay it with --seed {seed})")
    return play_case(case, sys.stdin, sys.stdout, key="practice")


def cmd_cases(args: argparse.Namespace) -> int:
    from kubeflow_tui.quiz.practice import FAULTS, write_cases

    if args.action == "faults":
        for f, kind in FAULTS.items():
            print(f"{f:<22}{kind}")
        return 0
    if args.count < 1:
        from kubeflow_tui.cli import CliError

        raise CliError("cases generate: --count must be at least 1")
    paths = write_cases(args.seed, args.count, args.output)
    for p in paths:
        print(p)
    return 0


def cmd_interview(args: argparse.Namespace) -> int:
    from kubeflow_tui.cli import CliError, no_color_wanted

    if args.minutes <= 0:
        raise CliError("interview: --minutes must be more than 0")
    if args.count < 1:
        raise CliError("interview: --count must be at least 1")
    seed = args.seed if args.seed is not None else random.SystemRandom().randint(0, 99999)
    if no_color_wanted(args):
        import os

        os.environ["NO_COLOR"] = "1"  # Textual reads it
    from kubeflow_tui.tui.quiz_runner import run_interview_app

    return run_interview_app(seed=seed, minutes=args.minutes, count=args.count)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"practice": cmd_practice, "cases": cmd_cases,
                                                            "interview": cmd_interview}


def register(sub: Any, common: argparse.ArgumentParser) -> dict[str, Callable[[argparse.Namespace], int]]:
    p = sub.add_parser("practice", parents=[common], help="endless practice: a random broken cluster to fix",
                       description="A random cluster from a seed with one fault from a catalogue: "
                       "investigate and fix it in the shell (commands on stdin).")
    p.add_argument("--seed", type=int, help="the incident's seed (default: a new one)")
    p.add_argument("--fault", metavar="KIND", help="the fault kind (default: drawn from the seed)")
    p.add_argument("--list-faults", action="store_true", help="list the fault kinds and exit")

    p = sub.add_parser("interview", parents=[common], help="timed interview practice in the app (replayable)",
                       description="Open the app on a timed interview: questions drawn from a seed over "
                       "random clusters (the same seed asks the same questions). The summary, saved in your "
                       "progress, names the seed, so you can take the same set again.")
    p.add_argument("--seed", type=int, help="the set's seed (default: a new one)")
    p.add_argument("--minutes", type=float, default=10.0, help="time allowed (default 10)")
    p.add_argument("--count", type=int, default=10, help="how many questions (default 10)")

    p = sub.add_parser("cases", parents=[common], help="generate troubleshooting case files",
                       description="cases generate: write generated incidents as case files (each with "
                       "its scenario under OUT/scenarios/); cases faults: list the fault kinds.")
    p.add_argument("action", choices=("generate", "faults"))
    p.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    p.add_argument("--count", type=int, default=1, help="how many cases (default 1)")
    p.add_argument("-o", "--output", default=".", metavar="DIR", help="where to write them (default: .)")
    return COMMANDS
