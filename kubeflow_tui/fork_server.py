"""A pre-imported fork server for ``kubeflow-tui serve``: a session costs a fork, not a start.

textual-serve runs a command per browser session.  Run as ``python -m kubeflow_tui open``,
every session imported Python's share of the app again (textual, rich, pydantic and the
app's own modules: about a second of CPU), so a class signing in at once queued on the
server's cores.  Instead ``serve`` starts one **fork server** that imports all of it once
and forks a child per session; the command textual-serve runs becomes a tiny **launcher**
(``python -I -S fork_server.py launch SOCKET -- <the usual command>``, standard library
only) that

1. connects to the fork server's Unix socket and hands it its standard input, output and
   error (``socket.send_fds``: SCM_RIGHTS), its command line, environment and folder;
2. closes its own copies of stdin/stdout, so the session's pipes end with the child;
3. waits for the child's exit status and exits with it (a child killed by a signal kills
   the launcher with that signal); SIGTERM, SIGINT and SIGHUP sent to the launcher are
   passed on to the child.

The child takes the three descriptors as its 0, 1 and 2, the launcher's environment and
folder, and runs ``kubeflow_tui.cli.main`` with the command's arguments, so everything a
session does (``session_limits.apply``, the sign-in, the app) happens in the child as it
did in a process of its own.  Modules read some environment variables once, when they are
imported (textual's driver, colours, frame rate): a child whose environment differs from
the fork server's in anything but the terminal size (``COLUMNS``, ``ROWS``) does not run the
pre-imported app but ``exec``\\s the usual command instead, so it is never wrong, only slower.
``serve`` starts the fork server with the environment textual-serve gives its sessions
(:func:`session_environment`).  If the fork server cannot be reached, the launcher
``exec``\\s the usual command itself.

Before its first fork the fork server also draws what every session shows first (a
class's sign-in form, then lesson 1 with its text) once, headless, in a throwaway class
in a temporary folder (``kubeflow_tui.tui.preload.warm_up``; ``KUBEFLOW_TUI_FORK_WARM_UP=0``
leaves it out): what Textual works out once per process and keeps (its caches of parsed
selectors, styles, colours and text widths) is then every child's from its start.  With
``KUBEFLOW_TUI_PROFILE_DIR`` set, each child writes its cProfile there
(``benchmarks/serve_load.py --profile``).

The fork server accepts connections only from its own user (``SO_PEERCRED``; the socket
lives in a private folder), forks from a single thread, reaps every child (SIGCHLD), ends a
child whose launcher went away (SIGTERM), and ends with ``serve``: it watches a pipe from
``serve`` (its standard input) and, when that closes, sends SIGTERM to its children,
waits a moment for them, and exits.

Standard library only at import time: the launcher runs this file without site-packages.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

SESSION_SIZE_VARS = ("COLUMNS", "ROWS")  # per session; read when the app starts, not on import
# what the shell between textual-serve and the launcher may add; no module reads them on import
SHELL_VARS = ("PWD", "OLDPWD", "SHLVL", "_")
MAX_REQUEST = 1 << 20
PROFILE_ENV = "KUBEFLOW_TUI_PROFILE_DIR"  # each child writes its cProfile there (serve_load.py --profile)
WARM_UP_ENV = "KUBEFLOW_TUI_FORK_WARM_UP"  # "0": no warm-up (serve_load.py --no-warm-up compares)
STOP_GRACE_S = 3.0


# --------------------------------------------------------------------------- the launcher


def launch(socket_path: str, command: list[str]) -> int:
    """Run ``command`` as a child of the fork server at ``socket_path`` (or, when it
    cannot be reached, exec ``command`` here); return the child's exit code."""
    request = {"argv": command, "env": dict(os.environ), "cwd": os.getcwd()}
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect(socket_path)
        socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
        reply = json.loads(conn.recv(MAX_REQUEST) or b"{}")
        pid = int(reply["pid"])
    except (OSError, ValueError, KeyError):
        os.execvp(command[0], command)  # no fork server: the usual way
    # The child has its own copies: the session's input and output end when it does.
    for fd in (0, 1):
        os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)

    def pass_on(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, pass_on)
    while True:
        try:
            data = conn.recv(MAX_REQUEST)
        except InterruptedError:
            continue
        if not data:
            sys.stderr.write("kubeflow-tui: the fork server ended before this session\n")
            return 1
        status = json.loads(data)
        if "signal" in status:
            signum = int(status["signal"])
            if signum not in (signal.SIGKILL, signal.SIGSTOP):  # (these cannot be caught)
                signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return 128 + signum
        return int(status["exit"])


# --------------------------------------------------------------------------- the fork server


def session_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment textual-serve (1.x) gives the processes it starts for sessions,
    but the terminal size: the fork server imports the app in it."""
    from importlib.metadata import version

    env = dict(os.environ if base is None else base)
    env.update({
        "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
        "TEXTUAL_FPS": "60",
        "TEXTUAL_COLOR_SYSTEM": "truecolor",
        "TERM_PROGRAM": "textual",
        "TERM_PROGRAM_VERSION": version("textual-serve"),
    })
    for name in SESSION_SIZE_VARS:
        env.pop(name, None)
    return env


def preload() -> list[str]:
    """Import every module of the app (and, through ``kubeflow_tui.tui.preload``, the driver
    a served session uses) once; return the names that could not be imported (a child
    imports them itself if it needs them)."""
    import importlib
    import pkgutil

    import kubeflow_tui

    failed = []
    # (kubeflow_tui.tui.preload among them: what textual imports only when a session starts)
    names = [m.name for m in pkgutil.walk_packages(kubeflow_tui.__path__, "kubeflow_tui.")
             if not m.name.endswith("__main__")]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional part (e.g. an extra not installed)
            failed.append(name)
    return failed


def _environment_differences(env: dict[str, str], imported_with: dict[str, str]) -> list[str]:
    """The variables (but the terminal size and the shell's own) whose values differ."""
    keys = (set(env) | set(imported_with)) - set(SESSION_SIZE_VARS) - set(SHELL_VARS)
    return sorted(k for k in keys if env.get(k) != imported_with.get(k))


def _app_arguments(argv: list[str]) -> list[str] | None:
    """The arguments after ``-m kubeflow_tui`` (what ``cli.main`` takes), or None."""
    for i in range(len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1] == "kubeflow_tui":
            return argv[i + 2 :]
    return None


class ForkServer:
    def __init__(self, listener: socket.socket, control_fd: int) -> None:
        self.listener = listener
        self.control_fd = control_fd
        self.children: dict[int, socket.socket] = {}  # pid -> its launcher's connection
        self.imported_with = dict(os.environ)
        self.uid = os.getuid()

    # -- the loop (one thread: forking from it is safe) ---------------------------------

    def run(self) -> None:
        import selectors

        self.wake = wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the loop through wake_w
        self._stopping = False
        signal.signal(signal.SIGTERM, self._stop_signal)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops serve, which then stops this
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        sel.register(wake_r, selectors.EVENT_READ, "wake")
        sel.register(self.control_fd, selectors.EVENT_READ, "control")
        self.selector = sel
        while not self._stopping:
            for key, _ in sel.select(timeout=5.0):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                elif key.data == "control":
                    if not os.read(self.control_fd, 512):  # serve has ended
                        self._stopping = True
                else:  # a launcher's connection: readable only when it closed
                    self._launcher_gone(key.data)
            self._reap()
        self._stop_children()

    def _stop_signal(self, *_: object) -> None:
        self._stopping = True

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            if uid != self.uid:
                conn.close()
                return
            conn.settimeout(5.0)
            data, fds, _flags, _addr = socket.recv_fds(conn, MAX_REQUEST, 3)
            request = json.loads(data)
            argv = [str(a) for a in request["argv"]]
            env = {str(k): str(v) for k, v in request["env"].items()}
            cwd = str(request["cwd"])
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            conn.close()
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(conn, fds, argv, env, cwd)  # never returns
        for fd in fds:
            os.close(fd)
        self.children[pid] = conn
        try:
            conn.sendall(json.dumps({"pid": pid}).encode())
        except OSError:
            pass
        conn.setblocking(False)
        import selectors

        self.selector.register(conn, selectors.EVENT_READ, pid)

    def _launcher_gone(self, pid: int) -> None:
        conn = self.children.get(pid)
        if conn is None:
            return
        try:
            if conn.recv(16):
                return  # a launcher never sends more; ignore
        except BlockingIOError:
            return
        except OSError:
            pass
        self.selector.unregister(conn)
        try:
            os.kill(pid, signal.SIGTERM)  # its session is gone: end it like textual-serve would
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            if os.WIFSIGNALED(status):
                result = {"signal": os.WTERMSIG(status)}
            else:
                result = {"exit": os.waitstatus_to_exitcode(status)}
            try:
                self.selector.unregister(conn)
            except (KeyError, ValueError):
                pass
            try:
                conn.setblocking(True)
                conn.sendall(json.dumps(result).encode())
            except OSError:
                pass
            conn.close()

    def _stop_children(self) -> None:
        import time

        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_S
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while self.children:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            conn = self.children.pop(pid, None)
            if conn is not None:
                conn.close()

    # -- in the child ---------------------------------------------------------------------

    def _child(self, conn: socket.socket, fds: list[int], argv: list[str], env: dict[str, str],
               cwd: str) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.listener.close()
            self.selector.close()
            for fd in (*self.wake, self.control_fd):
                os.close(fd)
            for other in self.children.values():
                other.close()
            conn.close()
            for target, fd in zip((0, 1, 2), fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            args = _app_arguments(argv)
            differ = _environment_differences(env, self.imported_with)
            if args is None or differ:
                if differ:
                    sys.stderr.write("kubeflow-tui: this session's environment differs from the "
                                     f"fork server's ({', '.join(differ)}): started afresh\n")
                    sys.stderr.flush()
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            sys.argv = ["kubeflow-tui", *args]
            from kubeflow_tui.cli import main

            profile_dir = os.environ.get(PROFILE_ENV)
            if profile_dir:  # (serve_load.py --profile DIR: where a session's time goes)
                import cProfile

                profiler = cProfile.Profile()
                try:
                    code = profiler.runcall(main, args)
                finally:
                    profiler.dump_stats(os.path.join(profile_dir, f"session-{os.getpid()}.prof"))
            else:
                code = main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - report it, never return into the server's loop
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def serve(socket_path: str) -> None:
    """The fork server: import the app, listen on ``socket_path``, fork per session;
    end when standard input (a pipe from ``serve``) closes or on SIGTERM."""
    import gc

    preload()
    if os.environ.get(WARM_UP_ENV, "1") != "0":
        from kubeflow_tui.tui.preload import warm_up

        warm_up()  # (a first screen drawn once, headless: Textual's caches filled for every child)
    # Everything imported so far lives as long as the server: keep the collector off it,
    # in the server and in every child (whose pages then stay shared with the server).
    gc.collect()
    gc.freeze()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o600)
    listener.listen(64)
    try:
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        os.dup2(2, 1)  # nothing reads that pipe any more: anything printed later goes to stderr
        ForkServer(listener, sys.stdin.fileno()).run()
    finally:
        listener.close()
        try:
            os.unlink(socket_path)
            os.rmdir(os.path.dirname(socket_path))  # its private folder, when serve could not
        except OSError:
            pass


# --------------------------------------------------------------------------- used by serve


class Running:
    """A fork server started for ``serve``; ``command(usual)`` is what textual-serve runs."""

    def __init__(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        import subprocess
        import tempfile

        self.env = session_environment() if env is None else env  # the app is imported in it
        self.folder = tempfile.mkdtemp(prefix="kubeflow-tui-fork-")  # mode 0700
        self.socket_path = os.path.join(self.folder, "sessions.sock")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubeflow_tui.fork_server", "serve", self.socket_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=self.env,
        )
        assert self.proc.stdout is not None
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout) and self.proc.stdout.readline() == b"ready\n"
        if not ready:
            self.stop()
            raise RuntimeError(f"it did not start within {timeout:.0f} s")

    def command(self, usual: str) -> str:
        import shlex

        return shlex.join([sys.executable, "-I", "-S", os.path.abspath(__file__), "launch",
                           self.socket_path, "--"]) + " " + usual

    def stop(self) -> None:
        import shutil
        import subprocess

        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the fork server ends its children and itself
            except OSError:
                pass
            try:
                self.proc.wait(timeout=STOP_GRACE_S + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Running":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(warn) -> Running | None:
    """A fork server for ``serve``, or None (after ``warn``-ing why) when it cannot start:
    the sessions then start as new processes, slower but the same."""
    try:
        return Running()
    except (OSError, RuntimeError) as exc:
        warn(f"[yellow]warning:[/] no fork server ({exc}): each session starts as a new process")
        return None


def _main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[0] == "launch" and argv[2] == "--":
        return launch(argv[1], argv[3:])
    if len(argv) == 2 and argv[0] == "serve":
        serve(argv[1])
        return 0
    sys.stderr.write("usage: fork_server.py launch SOCKET -- COMMAND… | serve SOCKET\n")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
