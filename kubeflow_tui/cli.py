"""The ``kubeflow-tui`` command.

``kubeflow-tui`` alone (or with a scenario or lesson path) opens the app; the subcommands
check scenario files, print a node's rules, trace a flow as text or JSON, and serve the app
to a browser.  Each command imports the engine parts it uses when it runs, so ``--help``,
``--version`` and the app's start import none of them here.

Exit codes: 0 ok, 2 a usage error or a problem with the input (one line on stderr, never a
traceback), 70 an internal error (a short message and the path of a crash log), 130 ^C.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import ipaddress
import json
import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import Callable, Sequence

from kubeflow_tui import __version__
from kubeflow_tui.cli_import import add_parser as add_import_parser
from kubeflow_tui.cli_import import add_open_dump_parser, cmd_import, cmd_open_dump

PROG = "kubeflow-tui"
EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

SCENARIO_SUFFIXES = (".yaml", ".yml")
TEACHER_TOKEN_ENV = "KUBEFLOW_TUI_TEACHER_TOKEN"
LESSON_SUFFIXES = (".md",)


class CliError(Exception):
    """A problem with what the user asked for: printed as one line, exit 2."""


# --------------------------------------------------------------------------- helpers


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that are the input's fault: CliError, OSError and the engine's own
    ScenarioError / IptablesError / LessonError / FlowError / EventError (looked up only if
    their module is already imported)."""
    types: list[type[BaseException]] = [CliError, OSError]
    for mod, name in (
        ("kubeflow_tui.scenario", "ScenarioError"),
        ("kubeflow_tui.netfilter", "IptablesError"),
        ("kubeflow_tui.lessons", "LessonError"),
        ("kubeflow_tui.cluster", "FlowError"),
        ("kubeflow_tui.cluster", "EventError"),
    ):
        cls = getattr(sys.modules.get(mod), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            types.append(cls)
    return tuple(types)


def error_message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip()
    return text or type(exc).__name__


def print_error(message: str) -> None:
    lines = [ln for ln in message.splitlines() if ln.strip()] or [message]
    for line in lines:
        print(f"{PROG}: error: {line}", file=sys.stderr)


def no_color_wanted(args: argparse.Namespace | None = None) -> bool:
    return bool(getattr(args, "no_color", False)) or os.environ.get("NO_COLOR", "") != ""


def make_console(args: argparse.Namespace | None = None, *, stderr: bool = False):
    from rich.console import Console

    return Console(no_color=no_color_wanted(args), highlight=False, stderr=stderr)


def _load_scenario(ref: str):
    """Load a scenario from a path or the name of a shipped scenario."""
    from kubeflow_tui.resources import find_scenario
    from kubeflow_tui.scenario import load_scenario

    return load_scenario(find_scenario(ref))


def _pick_node(scenario, wanted: str | None) -> str:
    names = [n.name for n in scenario.cluster.nodes]
    if wanted is None:
        return names[0]
    if wanted not in names:
        raise CliError(f"no node {wanted!r} in scenario {scenario.name!r}; nodes: {', '.join(names)}")
    return wanted


def _run_flow(scenario, flow: str, *, seed: int | None, endpoint: str | None):
    from kubeflow_tui.cluster import run_flow

    return run_flow(scenario, flow, seed=seed, endpoint=endpoint)


# --------------------------------------------------------------------------- validate


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _collect(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file()
                and f.suffix in SCENARIO_SUFFIXES + LESSON_SUFFIXES
                and f.name.lower() != "readme.md"
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            if not found:
                raise CliError(f"{raw}: no scenario (.yaml) or lesson (.md) files in this folder")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(2, "No such file or directory", raw)
    return out


def _is_case(path: Path) -> bool:
    from kubeflow_tui.quiz.cases import is_case_file

    return is_case_file(path)


def _validate_case(path: Path, deep: bool) -> tuple[list[str], str]:
    """A troubleshooting case: its schema and references; --deep also breaks the cluster
    as the case says and checks the symptom really shows."""
    from kubeflow_tui.quiz.cases import CaseSession, load_case

    try:
        case = load_case(path)
        if deep:
            CaseSession(case)
    except _user_error_types() as exc:
        return [error_message(exc)], ""
    return [], f"case: {case.model.title}"


def _validate_scenario(path: Path, deep: bool) -> tuple[list[str], str]:
    from kubeflow_tui.scenario import load_scenario

    try:
        sc = load_scenario(path)
    except _user_error_types() as exc:
        return [error_message(exc)], ""
    info = ", ".join(
        _count(len(items), word)
        for items, word in ((sc.cluster.nodes, "node"), (sc.services, "service"), (sc.flows, "flow"))
    )
    problems: list[str] = []
    if deep:
        from kubeflow_tui.kubeproxy import generate_restore

        for node in sc.cluster.nodes:
            try:
                generate_restore(sc, node.name)
            except Exception as exc:  # noqa: BLE001 - reported per file, not a crash
                problems.append(f"{path}: node {node.name}: {type(exc).__name__}: {exc}")
        for flow in sc.flows:
            try:
                _run_flow(sc, flow.name, seed=None, endpoint=None)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{path}: flow {flow.name}: {type(exc).__name__}: {exc}")
    return problems, info


def _validate_lessons(paths: list[Path]) -> tuple[dict[Path, list[str]], str]:
    """Problems per lesson file (checked together: titles must differ between lessons)."""
    if not paths:
        return {}, ""
    from kubeflow_tui.lessons import validate

    problems: dict[Path, list[str]] = {p: [] for p in paths}
    for message in validate(paths):
        owner = next((p for p in paths if message.startswith(f"{p}:")), paths[0])
        problems[owner].append(message)
    return problems, "lesson"


def cmd_validate(args: argparse.Namespace) -> int:
    console = make_console(args)
    files = _collect(args.paths)
    lessons = [f for f in files if f.suffix in LESSON_SUFFIXES]
    lesson_problems, lesson_info = _validate_lessons(lessons)
    bad = 0
    for f in files:
        if f.suffix in LESSON_SUFFIXES:
            problems, info = lesson_problems[f], lesson_info
        elif f.suffix in SCENARIO_SUFFIXES and _is_case(f):
            problems, info = _validate_case(f, args.deep)
        elif f.suffix in SCENARIO_SUFFIXES:
            problems, info = _validate_scenario(f, args.deep)
        else:
            problems, info = [f"{f}: not a scenario (.yaml, .yml) or a lesson (.md)"], ""
        if problems:
            bad += 1
            for p in problems:
                print_error(p)
        elif not args.quiet:
            console.print(f"[green]ok[/green]  {f}  [dim]({info})[/dim]" if info else f"[green]ok[/green]  {f}")
    if not args.quiet:
        summary = f"{_count(len(files), 'file')} checked"
        console.print(f"{summary}, [red]{bad} with errors[/red]" if bad else f"{summary}, all valid")
    return EXIT_ERROR if bad else EXIT_OK


# --------------------------------------------------------------------------- schema


def cmd_schema(args: argparse.Namespace) -> int:
    from kubeflow_tui.scenario import render_schema

    text = render_schema()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


# --------------------------------------------------------------------------- rules


def _with_proxy_mode(scenario, mode: str | None):
    """The scenario with cluster.proxyMode set by --proxy-mode (unchanged without it)."""
    from kubeflow_tui.quiz.runner import with_proxy_mode

    return with_proxy_mode(scenario, mode)


def cmd_rules(args: argparse.Namespace) -> int:
    scenario = _load_scenario(args.file)
    node = _pick_node(scenario, args.node)
    scenario = _with_proxy_mode(scenario, args.proxy_mode)
    if scenario.cluster.proxyMode == "nftables":
        from kubeflow_tui.kubeproxy.nftables import nft_rules_text

        try:
            sys.stdout.write(nft_rules_text(scenario, node, args.format))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        return EXIT_OK
    from kubeflow_tui.cluster import ClusterSim
    from kubeflow_tui.kubeproxy import generate_restore
    from kubeflow_tui.netfilter import render_list, render_save

    restore = generate_restore(scenario, node)
    if args.format == "restore":
        sys.stdout.write(restore if restore.endswith("\n") else restore + "\n")
        return EXIT_OK
    ruleset = ClusterSim(scenario).node_ruleset(node)  # the whole ruleset, as the kernel holds it
    if args.format == "save":
        tables = [args.table] if args.table else None
        sys.stdout.write(render_save(ruleset, tables))
        return EXIT_OK
    tables = [args.table] if args.table else list(ruleset.tables)
    for i, table in enumerate(tables):
        if table not in ruleset.tables:
            raise CliError(f"node {node} has no {table!r} table; tables: {', '.join(ruleset.tables)}")
        if i:
            sys.stdout.write("\n")
        cmd = f"iptables -t {table} -L{' ' + args.chain if args.chain else ''} -n -v --line-numbers"
        sys.stdout.write(f"# {node}: {cmd}\n")
        text = render_list(ruleset, table, args.chain, numeric=True, verbose=True, line_numbers=True)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


# --------------------------------------------------------------------------- trace


def _ip(text: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise CliError(f"{what}: {text!r} is not an IPv4 address") from None


def _ip_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise CliError(f"{what}: {text!r} must be IP:PORT, e.g. 10.96.0.1:8080")
    return _ip(host, what), int(port)


def _read_dump(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"{path}: cannot read it: {getattr(e, 'strerror', None) or e}") from None


def _trace_nft_dump(args: argparse.Namespace) -> int:
    if args.file or args.flow:
        raise CliError("trace: give either FILE FLOW or --nft-ruleset DUMP, not both")
    if args.iptables_save:
        raise CliError("trace: give either --iptables-save DUMP or --nft-ruleset DUMP, not both")
    if args.proxy_mode == "iptables":
        raise CliError("trace: --nft-ruleset is a node in nftables mode; --proxy-mode iptables contradicts it")
    if not args.src or not args.dst:
        raise CliError("trace --nft-ruleset needs --src IP and --dst IP:PORT")
    src = _ip(args.src, "--src")
    dst, dport = _ip_port(args.dst, "--dst")
    node_ip = _ip(args.node_ip, "--node-ip")
    text = _read_dump(args.nft_ruleset)
    from kubeflow_tui.cluster.dump import NftDumpError, trace_nft_dump
    from kubeflow_tui.netfilter.nft_parse import NftParseError

    source = "<stdin>" if args.nft_ruleset == "-" else args.nft_ruleset
    try:
        trace = trace_nft_dump(text, src, dst, dport, source=source, proto=args.proto, sport=args.sport,
                               node_ip=node_ip, seed=args.seed if args.seed is not None else 1, local=args.local)
    except (NftParseError, NftDumpError) as e:
        raise CliError(str(e)) from None
    return _emit_trace(trace, args)


def _trace_dump(args: argparse.Namespace) -> int:
    if args.file or args.flow:
        raise CliError("trace: give either FILE FLOW or --iptables-save DUMP, not both")
    if not args.src or not args.dst:
        raise CliError("trace --iptables-save needs --src IP and --dst IP:PORT")
    src = _ip(args.src, "--src")
    dst, dport = _ip_port(args.dst, "--dst")
    text = sys.stdin.read() if args.iptables_save == "-" else Path(args.iptables_save).read_text()
    from kubeflow_tui.cluster import trace_dump
    from kubeflow_tui.netfilter import parse_iptables_save

    ruleset = parse_iptables_save(text, source=args.iptables_save)

    node_ip = _ip(args.node_ip, "--node-ip")
    trace = trace_dump(ruleset, src, dst, dport, proto=args.proto, sport=args.sport, node_ip=node_ip,
                       seed=args.seed if args.seed is not None else 1, local=args.local)
    if _exit.as_script:
        _exit.held.append(ruleset)  # freed by the process's end, not object by object
    return _emit_trace(trace, args)


def _emit_trace(trace, args: argparse.Namespace) -> int:
    if args.json:
        sys.stdout.write(trace.to_json() + "\n")
        return EXIT_OK
    if args.format == "ladder" or args.svg:
        from kubeflow_tui.render_ladder import emit

        return emit(trace, args, make_console(args))
    from kubeflow_tui.render_trace import print_trace

    print_trace(trace, make_console(args), verbose=args.verbose)
    return EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    if args.nft_ruleset:
        return _trace_nft_dump(args)
    if args.iptables_save:
        return _trace_dump(args)
    if not args.file:
        raise CliError("trace needs a scenario FILE and a FLOW (or --iptables-save DUMP or --nft-ruleset DUMP)")
    scenario = _load_scenario(args.file)
    flows = [f.name for f in scenario.flows]
    if not args.flow:
        raise CliError(f"trace: name a flow of {scenario.name!r}: {', '.join(flows) or 'it has none'}")
    if args.flow not in flows:
        raise CliError(
            f"no flow {args.flow!r} in scenario {scenario.name!r}; flows: {', '.join(flows) or 'none'}"
        )
    scenario = _with_proxy_mode(scenario, args.proxy_mode)
    trace = _run_flow(scenario, args.flow, seed=args.seed, endpoint=args.endpoint)
    return _emit_trace(trace, args)


# --------------------------------------------------------------------------- shell, quiz, progress


def cmd_shell(args: argparse.Namespace) -> int:
    scenario = _load_scenario(args.file)
    from kubeflow_tui.cluster import ClusterSim
    from kubeflow_tui.shell.repl import run_repl

    sim = ClusterSim(_with_proxy_mode(scenario, args.proxy_mode))
    if args.node not in sim.topology.hosts:
        hosts = ", ".join(sim.topology.hosts)
        raise CliError(f"shell: no host {args.node!r} in {scenario.name!r}; hosts: {hosts}")
    if args.at is not None:  # the cluster at that time of its timeline (cluster/timeline.py)
        if not sim.timed or args.at < 0:
            raise CliError(f"shell --at: {scenario.name!r} has no timeline whose events carry at"
                           if not sim.timed else f"shell --at {args.at:g}: times start at 0")
        sim.advance_to(args.at)
        sys.stdout.write(f"# {sim.rules_as_of()}\n")
    return run_repl(sim, args.node, sys.stdin, sys.stdout)


def cmd_quiz(args: argparse.Namespace) -> int:
    from kubeflow_tui.quiz.runner import run_quiz

    path = _resolve_quiz_path(args.file)
    if getattr(args, "export", None):
        from kubeflow_tui.quiz.runner import export_quiz

        return export_quiz(path, args.export, sys.stdout, seed=args.seed, proxy_mode=args.proxy_mode)
    return run_quiz(path, sys.stdin, sys.stdout, seed=args.seed, proxy_mode=args.proxy_mode)


def _resolve_quiz_path(text: str) -> str:
    """A path, or the name of a shipped scenario or troubleshooting case."""
    from kubeflow_tui.quiz import find_case
    from kubeflow_tui.resources import find_scenario

    try:
        return str(find_scenario(text))
    except FileNotFoundError:
        case = find_case(text)
        if case is not None:
            return str(case)
    raise CliError(f"quiz: no such file, shipped scenario or case: {text!r}")


def cmd_progress(args: argparse.Namespace) -> int:
    from kubeflow_tui import progress_report
    from kubeflow_tui.lessons import discover
    from kubeflow_tui.progress import Progress

    progress = Progress.load()
    lessons, _errors = discover()
    rows = progress_report.lesson_rows(progress, lessons)
    if progress.notice:
        print(f"{PROG}: {progress.notice}", file=sys.stderr)
    if args.export == "json":
        sys.stdout.write(progress_report.to_json(progress, rows))
    elif args.export == "csv":
        sys.stdout.write(progress_report.to_csv(rows))
    else:
        progress_report.render(progress, rows, make_console(args))
    return EXIT_OK


# --------------------------------------------------------------------------- serve / app


def _offline_templates() -> Path:
    """textual-serve's page, minus its one outside request (a web font stylesheet):
    the font it wants ships inside textual-serve, so the page points there instead.
    A classroom without internet access then gets the whole page from this machine."""
    import platformdirs
    import textual_serve

    src = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    html = src.read_text(encoding="utf-8")
    local_font = (
        "<style>\n      @font-face {\n        font-family: \"Roboto Mono\";\n"
        "        src: url(\"{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf\");\n"
        "      }\n    </style>"
    )
    start = html.find("<link")
    while start != -1:
        end = html.find(">", start) + 1
        if "fonts.googleapis.com" in html[start:end]:
            html = html[:start] + local_font + html[end:]
            break
        start = html.find("<link", end)
    from kubeflow_tui.serve_page import add_student_link

    html = add_student_link(html)  # ?student=NAME: the name typed for the student
    out = Path(platformdirs.user_cache_dir("kubeflow-tui")) / "serve-templates"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app_index.html").write_text(html, encoding="utf-8")
    return out


def serve_command(path: str | None, no_color: bool, class_name: str | None = None, *,
                  plain: bool = False, high_contrast: bool = False) -> str:
    argv = [sys.executable, "-m", "kubeflow_tui"]
    if no_color:
        argv.append("--no-color")
    argv.append("open")
    if class_name:
        argv += ["--class", class_name]
    if plain:
        argv.append("--plain-app")  # the plain session in a Textual app: a browser needs one
    if high_contrast:
        argv.append("--high-contrast")
    if path:
        argv.append(str(Path(path).resolve()) if Path(path).exists() else path)
    return shlex.join(argv)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise CliError(
            "serve needs the 'serve' extra: pip install 'kubeflow-tui[serve]'"
        ) from None
    console = make_console(args, stderr=True)
    class_name = args.class_name
    if class_name:
        from kubeflow_tui.classroom import Classroom, ClassroomError

        try:
            classroom = Classroom(class_name)
            classroom.ensure()
        except (ClassroomError, OSError) as exc:
            raise CliError(f"--class: {exc}") from None
        console.print(f"class {classroom.name!r}: each student signs in with a name and a "
                      f"passphrase; progress kept apart under {classroom.folder}")
        from kubeflow_tui.serve_page import student_link

        base = args.public_url or f"http://{args.host}:{args.port}"
        console.print(f"a student's own link fills in the name: {student_link(base, 'NAME')}")
    if args.teacher_token is not None:
        if not class_name:
            raise CliError("--teacher-token needs --class (the class the teacher looks at)")
        if len(args.teacher_token) < 12:
            raise CliError("--teacher-token: use at least 12 characters")
        # The app processes textual-serve starts inherit this environment; a token on
        # their command line would show in `ps` to every user of the machine.
        os.environ[TEACHER_TOKEN_ENV] = args.teacher_token
    from kubeflow_tui import session_limits

    if args.session_memory < 64:
        raise CliError("--session-memory: at least 64 MiB")
    os.environ[session_limits.ENV] = f"{args.session_memory},,"  # each app process applies them
    command = serve_command(args.path, no_color_wanted(args), class_name,
                            plain=args.plain, high_contrast=args.high_contrast)
    public_url = args.public_url
    if args.host in ("0.0.0.0", "::", ""):
        if public_url is None:
            # The page names its script and websocket by absolute URL: 0.0.0.0 would send
            # every browser to itself.
            console.print(
                f"[yellow]note:[/] browsers on other machines need --public-url "
                f"http://<this machine's address>:{args.port}"
            )
        if not class_name:
            console.print(
                "[yellow]warning:[/] serving every address without --class: everyone who "
                "reaches this port shares one progress file. Use --class NAME for a class."
            )
    server = Server(
        command,
        host=args.host,
        port=args.port,
        title="kubeflow-tui",
        public_url=public_url,
        templates_path=_offline_templates(),
    )
    console.print(
        f"serving kubeflow-tui on {public_url or f'http://{args.host}:{args.port}'}  (Ctrl+C stops)"
    )
    from kubeflow_tui.fork_server import start  # sessions fork from one pre-imported process

    forks = None if args.no_fork_server else start(console.print)
    if forks is None:
        server.serve()
        return EXIT_OK
    with forks:
        server.command = forks.command(command)
        server.serve()
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    if os.environ.get("KUBEFLOW_TUI_SESSION_LIMITS") is not None:  # set by `serve`
        from kubeflow_tui import session_limits

        session_limits.apply()
    if args.plain or args.plain_app or args.class_name or args.high_contrast:
        from kubeflow_tui.cli_classroom import open_plain_or_class

        return open_plain_or_class(args)
    path = args.path
    if path is not None and not Path(path).exists():
        from kubeflow_tui.resources import find_scenario

        path = str(find_scenario(path))
    if no_color_wanted(args):
        os.environ["NO_COLOR"] = "1"  # Textual reads it
    from kubeflow_tui.tui.app import run_app

    result = run_app(path=path, proxy_mode=args.proxy_mode)
    return result if isinstance(result, int) else EXIT_OK


def cmd_class(args: argparse.Namespace) -> int:
    from kubeflow_tui.cli_classroom import cmd_class as run_class_command

    return run_class_command(args)


def cmd_paths(args: argparse.Namespace) -> int:
    from kubeflow_tui import resources

    names = [args.which] if args.which else ["lessons", "scenarios"]
    for name in names:
        try:
            where = resources.data_dir(name)
        except FileNotFoundError:
            if args.which:
                raise
            continue
        print(where if args.which else f"{name}: {where}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": cmd_validate,
    "rules": cmd_rules,
    "trace": cmd_trace,
    "schema": cmd_schema,
    "shell": cmd_shell,
    "quiz": cmd_quiz,
    "progress": cmd_progress,
    "serve": cmd_serve,
    "paths": cmd_paths,
    "open": cmd_open,
    "class": cmd_class,
    "import": cmd_import,
    "open-dump": cmd_open_dump,
}
# practice and cases generate (their own module, kubeflow_tui/cli_practice.py)
from kubeflow_tui.cli_practice import COMMANDS as _practice_commands  # noqa: E402
from kubeflow_tui.cli_practice import register as _register_practice  # noqa: E402

COMMANDS.update(_practice_commands)
from kubeflow_tui.cli_timeline import add_parser as _add_timeline_parser  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--no-color", action="store_true", default=argparse.SUPPRESS,
        help="no colour (the NO_COLOR environment variable does the same)",
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Follow a packet through kube-proxy's iptables rules, DNAT/SNAT and "
        "conntrack. With no command (or a scenario or lesson path) the app opens.",
        epilog="Run '%(prog)s COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--no-color", action="store_true", default=False,
                        help="no colour (the NO_COLOR environment variable does the same)")
    parser.add_argument("--plain", action="store_true", default=False,
                        help="plain mode for screen readers: linear text, one line per change, "
                        "every action a typed command")
    parser.add_argument("--high-contrast", action="store_true", default=False,
                        help="a black-and-white theme with yellow focus")
    access = argparse.ArgumentParser(add_help=False)
    access.add_argument("--plain", action="store_true", default=argparse.SUPPRESS,
                        help="plain mode for screen readers (linear text, typed commands)")
    access.add_argument("--high-contrast", action="store_true", default=argparse.SUPPRESS,
                        help="a black-and-white theme with yellow focus")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", parents=[common], help="check scenario and lesson files",
                       description="Check scenario files (.yaml) and lessons (.md); folders are searched.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--deep", action="store_true",
                   help="also generate every node's rules and run every flow")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")

    p = sub.add_parser("rules", parents=[common], help="print the iptables rules kube-proxy writes on a node")
    p.add_argument("file", metavar="FILE", help="scenario file, or the name of a shipped scenario")
    p.add_argument("--node", help="node name (default: the first node)")
    p.add_argument("--format", choices=("save", "restore", "list"), default="save",
                   help="save: as iptables-save prints it (default); restore: kube-proxy's "
                   "iptables-restore input; list: as iptables -L -n -v --line-numbers")
    p.add_argument("--table", help="only this table (save and list)")
    p.add_argument("--chain", help="only this chain (list)")
    p.add_argument("--proxy-mode", choices=("iptables", "nftables"),
                   help="kube-proxy's mode (default: the scenario's cluster.proxyMode); nftables: "
                   "save is nft list ruleset, restore is kube-proxy's nft -f input")

    p = sub.add_parser("trace", parents=[common], help="follow one flow rule by rule",
                       description="Follow a flow of a scenario, or one packet through a real "
                       "iptables-save or nft list ruleset dump, and print every hook, chain, rule and rewrite.")
    p.add_argument("file", nargs="?", metavar="FILE", help="scenario file or shipped scenario name")
    p.add_argument("flow", nargs="?", metavar="FLOW", help="flow name")
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument("--endpoint", metavar="POD", help="pin the endpoint the kernel picks")
    p.add_argument("--json", action="store_true", help="print the Trace as JSON")
    p.add_argument("--format", choices=("text", "ladder"),
                   help="text: hook by hook, rule by rule (the default); ladder: a sequence diagram of the connection (the default with --svg)")
    p.add_argument("--svg", metavar="OUT.svg", help="write the picture (the ladder unless --format text) to OUT.svg instead of printing it")
    p.add_argument("--proxy-mode", choices=("iptables", "nftables"),
                   help="kube-proxy's mode on the nodes (default: the scenario's cluster.proxyMode)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also show rules that did not match, and every step's explanation")
    g = p.add_argument_group("tracing a real node's dump (iptables-save or nft list ruleset)")
    g.add_argument("--iptables-save", metavar="DUMP", help="iptables-save output ('-' = stdin)")
    g.add_argument("--nft-ruleset", metavar="DUMP",
                   help="a node's nft list ruleset output ('-' = stdin; take it with nft -a for the "
                   "kernel's rule handles): its ip kube-proxy table (kube-proxy in nftables mode) "
                   "is walked; other tables are not")
    g.add_argument("--src", metavar="IP")
    g.add_argument("--dst", metavar="IP:PORT")
    g.add_argument("--sport", type=int, default=40000, metavar="PORT")
    g.add_argument("--proto", choices=("tcp", "udp", "sctp"), default="tcp")
    g.add_argument("--node-ip", default="192.168.1.10", metavar="IP",
                   help="the node's own address (for addrtype LOCAL; default 192.168.1.10)")
    g.add_argument("--local", action="store_true",
                   help="the node itself sends the packet (OUTPUT) instead of receiving it")

    p = sub.add_parser("schema", parents=[common], help="print the scenario JSON Schema")
    p.add_argument("-o", "--output", metavar="FILE", help="write it to FILE")

    p = sub.add_parser("shell", parents=[common], help="a simulated shell on a node, pod or client")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--node", required=True, metavar="HOST", help="node (or pod/client) to open the shell on")
    p.add_argument("--at", type=float, metavar="SECONDS",
                   help="open it at this time of a timed timeline: the API server has every change "
                   "up to then, the rules only what kube-proxy has synced")
    p.add_argument("--proxy-mode", choices=("iptables", "nftables"),
                   help="kube-proxy's mode on the nodes (default: the scenario's cluster.proxyMode); "
                   "nftables: nft list ruleset shows its table, iptables-save shows none of its rules")

    p = sub.add_parser("quiz", parents=[common],
                       help="questions about a scenario's flows, or a troubleshooting case (answers on stdin)")
    p.add_argument("file", metavar="FILE", help="scenario or case file, or a shipped one's name")
    p.add_argument("--seed", type=int, help="seed for the question order and options")
    p.add_argument("--export", choices=("json", "md"),
                   help="print the quiz as a worksheet with its answer key instead of asking it")
    p.add_argument("--proxy-mode", choices=("iptables", "nftables"),
                   help="kube-proxy's mode on the nodes (default: the scenario's cluster.proxyMode); "
                   "not for troubleshooting cases")

    _register_practice(sub, common)
    COMMANDS.update(_add_timeline_parser(sub, common))  # kubeflow_tui/cli_timeline.py

    p = sub.add_parser("progress", parents=[common], help="show or export your progress")
    p.add_argument("--export", choices=("json", "csv"))

    p = sub.add_parser("serve", parents=[common, access], help="serve the app to browsers (classrooms)")
    p.add_argument("path", nargs="?", metavar="PATH", help="scenario or lesson to open")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, e.g. http://192.0.2.7:8000 "
                   "(needed with --host 0.0.0.0)")
    p.add_argument("--class", dest="class_name", metavar="NAME",
                   help="serve a class: each browser session signs in with a student name and "
                   "passphrase, and each student's progress is kept apart")
    p.add_argument("--session-memory", type=int, default=2048, metavar="MIB",
                   help="memory one browser session may use before it alone fails (default 2048)")
    p.add_argument("--teacher-token", metavar="TOKEN",
                   help="with --class: signing in with this token as the name opens the "
                   "teacher's live view of the class")
    p.add_argument("--no-fork-server", action="store_true",
                   help="start each session as a new process (slower) instead of forking it "
                   "from one process that imported the app once")

    from kubeflow_tui.cli_classroom import add_parser as add_class_parser

    add_class_parser(sub, common)

    p = sub.add_parser("paths", parents=[common], help="where the shipped lessons and scenarios are")
    p.add_argument("which", nargs="?", choices=("lessons", "scenarios"))

    add_import_parser(sub, common)
    add_open_dump_parser(sub, common)

    p = sub.add_parser("open", parents=[common, access], help="open the app (the default)")
    p.add_argument("path", nargs="?", metavar="PATH", help="scenario or lesson to open")
    p.add_argument("--class", dest="class_name", metavar="NAME", help=argparse.SUPPRESS)
    p.add_argument("--plain-app", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--proxy-mode", choices=("iptables", "nftables"),
                   help="kube-proxy's mode for the scenarios and lessons opened (default: each scenario's "
                   "cluster.proxyMode); on a flow m switches it")
    return parser


def _with_command(argv: list[str]) -> list[str]:
    """``kubeflow-tui`` and ``kubeflow-tui PATH`` mean ``kubeflow-tui open [PATH]``."""
    for i, tok in enumerate(argv):
        if tok == "--":
            return argv[:i] + ["open"] + argv[i + 1 :]
        if tok.startswith("-"):
            continue
        return argv if tok in COMMANDS else argv[:i] + ["open"] + argv[i:]
    if any(t in ("-h", "--help", "--version") for t in argv):
        return argv
    return argv + ["open"]


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(_with_command(argv))
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        raise
    except _user_error_types() as exc:
        print_error(error_message(exc))
        return EXIT_ERROR


def _crash_log(exc: BaseException) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (
        f"{PROG} {__version__} crashed at {stamp}\n"
        f"python {sys.version.split()[0]} on {sys.platform}\n"
        f"argv: {sys.argv!r}\n\n" + "".join(traceback.format_exception(exc))
    )
    try:
        import platformdirs

        folder = Path(platformdirs.user_log_dir(PROG))
        folder.mkdir(parents=True, exist_ok=True)
    except Exception:  # noqa: BLE001 - fall back to the temp folder
        import tempfile

        folder = Path(tempfile.gettempdir())
    path = folder / f"crash-{stamp}-{os.getpid()}.log"
    path.write_text(text, encoding="utf-8")
    return path


class _exit:  # noqa: N801 - a namespace
    """A command run as the script may hold a big structure to the end of the process (a
    parsed 150k-line dump is ~10^6 objects): freeing them one by one costs more than tracing
    the packet, so once the output is flushed the process ends at once (no teardown) and the
    OS takes the memory back whole."""

    as_script = False
    held: list = []

    @staticmethod
    def now(rc: int) -> int:
        sys.stdout.flush()  # (a BrokenPipeError goes to main's handler)
        sys.stderr.flush()
        os._exit(rc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kubeflow-tui`` script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    _exit.as_script = argv is None
    try:
        rc = run(args)
        return _exit.now(rc) if _exit.held else rc
    except SystemExit as exc:  # argparse: --help, --version, usage errors (exit 2)
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `kubeflow-tui rules ... | head`: the reader left; not an error worth a message.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last-resort handler
        try:
            where = f"; details in {_crash_log(exc)}"
        except OSError:
            where = ""
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {error_message(exc)}{where}",
            file=sys.stderr,
        )
        print(f"{PROG}: this is a bug; please report it with that file", file=sys.stderr)
        return EXIT_INTERNAL
