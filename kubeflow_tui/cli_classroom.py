"""``kubeflow-tui class …``: the teacher's side of a class served with ``serve --class``."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("class", parents=[common], help="a class served with 'serve --class': its report",
                       description="The teacher's view of a class served with "
                       "'kubeflow-tui serve --class NAME'.")
    csub = p.add_subparsers(dest="class_command", metavar="ACTION", required=True)
    r = csub.add_parser("report", parents=[common], help="each student's progress",
                        description="One row per student: lessons done and started, quizzes "
                        "passed, score, cases solved, when last active.")
    r.add_argument("name", metavar="NAME", help="the class name given to 'serve --class'")
    r.add_argument("--format", choices=("table", "csv", "json", "md"), default="table",
                   help="table (default, for the terminal), csv (for a learning platform), "
                   "json, or md (a Markdown table)")
    s = csub.add_parser("students", parents=[common], help="the students of a class, one a line")
    s.add_argument("name", metavar="NAME")


def cmd_class(args: argparse.Namespace) -> int:
    from kubeflow_tui.classroom import (SCREEN_COLUMNS, Classroom, ClassroomError, class_report,
                                        format_report, screen_cells)
    from kubeflow_tui.cli import CliError, EXIT_OK, make_console

    try:
        classroom = Classroom(args.name)
        if args.class_command == "students":
            if not classroom.exists():
                raise ClassroomError(f"no class called {classroom.name!r}")
            for student in classroom.students():
                print(student.name)
            return EXIT_OK
        rows = class_report(classroom)
    except ClassroomError as exc:
        raise CliError(str(exc)) from None
    if args.format != "table":
        sys.stdout.write(format_report(rows, args.format))
        return EXIT_OK
    from rich.table import Table

    table = Table(*SCREEN_COLUMNS, box=None, title=f"class {classroom.name}: {len(rows)} students",
                  title_justify="left")
    for r in rows:
        table.add_row(*screen_cells(r))
    make_console(args).print(table)
    return EXIT_OK


def open_plain_or_class(args: argparse.Namespace) -> int:
    """``kubeflow-tui --plain`` (line mode on this terminal), ``open --plain-app`` (plain
    mode in a Textual app, for ``serve --plain``), ``open --class NAME`` (a served class:
    sign in first) and ``--high-contrast``."""
    import os
    from pathlib import Path

    from kubeflow_tui.cli import EXIT_OK, CliError
    from kubeflow_tui.progress import Progress

    classroom = None
    if args.class_name:
        from kubeflow_tui.classroom import Classroom, ClassroomError

        try:
            classroom = Classroom(args.class_name)
        except ClassroomError as exc:
            raise CliError(f"--class: {exc}") from None
    if args.plain and not args.plain_app:
        from kubeflow_tui.plain import run_plain

        if classroom is not None:
            raise CliError("--plain on a terminal is for one learner; a class uses 'serve --class NAME --plain'")
        return run_plain(progress=Progress.load())
    if args.no_color:
        os.environ["NO_COLOR"] = "1"  # Textual reads it
    if args.plain_app:
        from kubeflow_tui.tui.plain_app import PlainApp

        app = PlainApp(progress=None if classroom else Progress.load(), classroom=classroom,
                       high_contrast=args.high_contrast)
        result = app.run()
        return result if isinstance(result, int) else EXIT_OK
    from kubeflow_tui.resources import find_scenario
    from kubeflow_tui.tui.app import run_app

    path = args.path
    if path is not None and not Path(path).exists():
        path = str(find_scenario(path))
    return run_app(path=path, classroom=classroom, high_contrast=args.high_contrast,
                   proxy_mode=getattr(args, "proxy_mode", None))
