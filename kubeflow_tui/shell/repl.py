"""A plain-terminal loop around ``Shell`` (no Textual): ``kubeflow-tui shell FILE --node N``.

Interactive (both ends are terminals): a prompt, readline line editing, history (kept for
the session) and Tab completion from ``Shell.complete``.  Otherwise (a script piped in)
no prompt is printed and each line runs in turn, like ``bash < script``.
"""

from __future__ import annotations

import sys
from typing import TextIO

from .core import Shell

CLEAR = "\x1b[H\x1b[2J"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except Exception:
        return False


def _setup_readline(shell: Shell):
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return None

    matches: list[str] = []

    def completer(text: str, state: int):
        nonlocal matches
        if state == 0:
            line = readline.get_line_buffer()[: readline.get_endidx()]
            matches = shell.complete(line)
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n;|&")
    readline.set_completer(completer)
    readline.parse_and_bind("tab: complete")
    readline.clear_history()
    return readline


def run_repl(sim, host: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run a shell on ``host`` until ``exit`` or end of input; returns the exit status."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    try:
        shell = Shell(sim, host)
    except ValueError as e:
        stdout.write(f"kubeflow-tui shell: {e}\n")
        stdout.flush()
        return 2
    interactive = _isatty(stdin) and _isatty(stdout) and stdin is sys.stdin
    rl = _setup_readline(shell) if interactive else None
    if interactive:
        stdout.write(f"Simulated shell on {host}. Type 'help' for the commands, 'exit' to leave.\n")
    status = 0
    while True:
        try:
            if interactive:
                line = input(shell.prompt)
            else:
                line = stdin.readline()
                if line == "":
                    break
        except EOFError:
            if interactive:
                stdout.write("exit\n")
            break
        except KeyboardInterrupt:
            stdout.write("^C\n")
            status = 130
            continue
        result = shell.run(line.rstrip("\n"))
        if rl is not None and line.strip():
            pass  # input() already added it to readline's history
        if result.clear:
            stdout.write(CLEAR)
        stdout.write(result.terminal)
        stdout.flush()
        status = result.exit_code
        if result.exit:
            break
    return status
