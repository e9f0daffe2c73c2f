"""The fork server ``serve`` runs sessions through (kubeflow_tui/fork_server.py).

Each test starts a real fork server (``Running``) and runs sessions the way textual-serve
does: a shell command line (the launcher before the usual ``python -m kubeflow_tui …``)
with pipes for stdin, stdout and stderr and the environment textual-serve gives its
sessions.  A session speaks textual's web-driver protocol on those pipes: packets
``D``/``M`` + 4-byte length + payload in, ``__GANGLION__`` and then the same kind of
packets out.  Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")

from kubeflow_tui import fork_server  # noqa: E402
from kubeflow_tui.fork_server import Running, session_environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 60
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMNOZc])")
pytestmark = pytest.mark.timeout(240)


def usual(*args: str) -> str:
    return shlex.join([sys.executable, "-m", "kubeflow_tui", *args])


# The environment of the fork server and of its sessions: fixed once per test (pytest
# changes PYTEST_CURRENT_TEST between a test's set-up and its call).
ENV: dict[str, str] = {}


def session_env(**extra: str) -> dict[str, str]:
    return {**ENV, "COLUMNS": "80", "ROWS": "24", **extra}


def packet(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


class Session:
    """One session as textual-serve starts it: ``sh -c COMMAND`` with three pipes."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.out = b""
        self.send(b"M", json.dumps({"type": "resize", "width": 80, "height": 24}).encode())

    def send(self, kind: bytes, payload: bytes) -> None:
        self.proc.stdin.write(packet(kind, payload))
        self.proc.stdin.flush()

    def wait_for(self, text: bytes) -> None:
        deadline = time.monotonic() + WAIT_S
        start = len(self.out)
        while text not in re.sub(rb" +", b" ", ANSI.sub(b" ", self.out[max(0, start - 512):])):
            assert time.monotonic() < deadline, f"no {text!r} on screen: {self.out[-400:]!r}"
            try:
                data = os.read(self.proc.stdout.fileno(), 65536)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            assert data, f"the session ended before showing {text!r}: {self.stderr()}"
            self.out += data

    def quit(self) -> int:
        self.send(b"M", json.dumps({"type": "quit"}).encode())
        return self.wait()

    def wait(self) -> int:
        try:
            os.set_blocking(self.proc.stdout.fileno(), True)
            self.proc.stdout.read()  # textual-serve reads to the end, too
            return self.proc.wait(timeout=WAIT_S)
        finally:
            self.proc.stdin.close()

    def stderr(self) -> str:
        return self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def gone(pid: int) -> bool:
    """The process has ended and been reaped (no zombie left)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        del state  # "Z": ended, not yet reaped; the fork server reaps it on SIGCHLD
        time.sleep(0.05)
    return False


@pytest.fixture(autouse=True)
def environment():
    ENV.clear()
    ENV.update(session_environment())
    ENV.pop("PYTEST_CURRENT_TEST", None)
    yield
    ENV.clear()


@pytest.fixture
def forks():
    with Running(env=ENV) as running:
        yield running


def test_a_session_through_the_fork_server_reaches_its_first_screen(forks, tmp_path):
    session = Session(forks.command(usual("open", "--class", "net101")), session_env())
    session.wait_for(b"Sign in to class net101")
    (child,) = children(forks.proc.pid)
    # forked from the server (its command line), not a new `python -m kubeflow_tui open`
    assert cmdline(child) == cmdline(forks.proc.pid)
    assert session.quit() == 0
    assert gone(child)


def test_the_launcher_exits_as_the_command_does(forks, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [\n")
    codes = set()
    for args in (("--version",), ("check", str(bad)), ("paths", "nothing")):
        direct = subprocess.run(usual(*args), shell=True, cwd=ROOT, env=session_env(),
                                capture_output=True, timeout=WAIT_S)
        through = subprocess.run(forks.command(usual(*args)), shell=True, cwd=ROOT,
                                 env=session_env(), capture_output=True, timeout=WAIT_S)
        assert (through.returncode, through.stdout, through.stderr) == (
            direct.returncode, direct.stdout, direct.stderr), args
        codes.add(through.returncode)
    assert codes == {0, 2}  # success and failure, each passed on


def session_child(forks: Running, session: Session) -> int:
    """The fork server's child that writes to this session's stdout pipe."""
    pipe = os.fstat(session.proc.stdout.fileno()).st_ino
    for child in children(forks.proc.pid):
        if os.readlink(f"/proc/{child}/fd/1") == f"pipe:[{pipe}]":
            return child
    raise AssertionError("no child of the fork server writes to this session")


def launchers(forks: Running) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            argv = cmdline_safe(int(entry.name))
            if "launch" in argv and forks.socket_path in argv:
                found.append(int(entry.name))
    return found


def cmdline_safe(pid: int) -> list[str]:
    try:
        return cmdline(pid)
    except OSError:
        return []


def test_a_crashing_session_leaves_the_others_running(forks):
    alive = Session(forks.command(usual("open", "--class", "net101")), session_env())
    alive.wait_for(b"Sign in")
    crashing = Session(forks.command(usual("open", "--class", "net101")), session_env())
    crashing.wait_for(b"Sign in")
    crashed = session_child(forks, crashing)
    os.kill(crashed, signal.SIGKILL)
    # the launcher dies of the same signal, as the app process itself would have (the
    # shell textual-serve runs the command with reports that as 128 + the signal)
    assert crashing.wait() in (-signal.SIGKILL, 128 + signal.SIGKILL)
    assert gone(crashed)
    # the other session still answers keys, and a new one still starts
    alive.send(b"D", b"still-here")
    alive.wait_for(b"still-here")
    third = Session(forks.command(usual("open", "--class", "net101")), session_env())
    third.wait_for(b"Sign in")
    assert alive.quit() == 0
    assert third.quit() == 0
    assert forks.proc.poll() is None


def test_a_session_whose_launcher_is_gone_is_ended(forks):
    session = Session(forks.command(usual("open", "--class", "net101")), session_env())
    session.wait_for(b"Sign in")
    child = session_child(forks, session)
    for launcher in launchers(forks):
        os.kill(launcher, signal.SIGKILL)
    assert gone(child)  # ended by the fork server (SIGTERM) and reaped
    session.proc.wait(timeout=WAIT_S)


def test_a_session_with_another_environment_runs_the_usual_command(forks):
    # textual reads TEXTUAL_FPS when it is imported: the pre-imported app would be wrong
    session = Session(forks.command(usual("open", "--class", "net101")), session_env(TEXTUAL_FPS="30"))
    session.wait_for(b"Sign in")
    child = session_child(forks, session)
    assert cmdline(child) == [sys.executable, "-m", "kubeflow_tui", "open", "--class", "net101"]
    assert session.quit() == 0


def test_without_a_fork_server_the_launcher_runs_the_usual_command(tmp_path):
    command = shlex.join([sys.executable, "-I", "-S", fork_server.__file__, "launch",
                          str(tmp_path / "no-server.sock"), "--"]) + " " + usual("--version")
    done = subprocess.run(command, shell=True, cwd=ROOT, env=session_env(), capture_output=True,
                          timeout=WAIT_S)
    assert done.returncode == 0
    assert done.stdout.decode().startswith("kubeflow-tui ")


def test_the_fork_server_ends_its_sessions_when_serve_stops():
    running = Running(env=ENV)
    session = Session(running.command(usual("open", "--class", "net101")), session_env())
    session.wait_for(b"Sign in")
    (child,) = children(running.proc.pid)
    running.stop()
    assert running.proc.returncode == 0
    assert gone(child)
    assert session.wait() in (0, -signal.SIGTERM)
    assert not Path(running.socket_path).exists()


def test_each_session_applies_its_own_limits_in_its_child():
    from kubeflow_tui import session_limits

    env = {**ENV, session_limits.ENV: "512,,"}  # as `serve --session-memory 512` sets it
    with Running(env=env) as running:
        session = Session(running.command(usual("open", "--class", "net101")),
                          {**env, "COLUMNS": "80", "ROWS": "24"})
        session.wait_for(b"Sign in")
        child = session_child(running, session)
        assert cmdline(child) == cmdline(running.proc.pid)  # a fork, not a new process
        limits = Path(f"/proc/{child}/limits").read_text()
        assert re.search(r"^Max address space\s+536870912\s", limits, re.M), limits
        server_limits = Path(f"/proc/{running.proc.pid}/limits").read_text()
        assert not re.search(r"^Max address space\s+536870912\s", server_limits, re.M)

        def nice(pid: int) -> int:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])

        assert nice(child) == min(19, nice(running.proc.pid) + 5)
        assert session.quit() == 0


def test_serve_goes_on_without_a_fork_server_that_cannot_start(monkeypatch):
    said = []

    def no_server(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fork_server, "Running", no_server)
    assert fork_server.start(said.append) is None
    assert said == ["[yellow]warning:[/] no fork server ([Errno 28] No space left on device): "
                    "each session starts as a new process"]


def test_the_warm_up_draws_the_first_screens_and_keeps_nothing(tmp_path, monkeypatch):
    """Before its first fork the fork server signs in to a throwaway class and opens lesson
    1, headless: Textual's caches are then every child's.  Nothing of it may remain for a
    child to inherit but those caches: no file in the data directory, no temporary folder,
    no thread (forking with a thread running is unsafe)."""
    import tempfile
    import threading

    from kubeflow_tui.tui.preload import warm_up

    data = tmp_path / "data"
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(data))
    leftovers = set(Path(tempfile.gettempdir()).glob("kubeflow-tui-warm-up-*"))
    assert warm_up() is True
    assert not data.exists() or not any(data.rglob("*"))
    assert set(Path(tempfile.gettempdir()).glob("kubeflow-tui-warm-up-*")) == leftovers
    assert threading.active_count() == 1


def test_a_fork_server_that_does_not_warm_up_serves_the_same(tmp_path):
    env = {**ENV, fork_server.WARM_UP_ENV: "0"}
    ENV.update(env)
    with Running(env=env) as running:
        session = Session(running.command(usual("open", "--class", "net101")), session_env())
        session.wait_for(b"Sign in to class net101")
        assert session.quit() == 0


def test_a_profiled_session_writes_its_profile(tmp_path):
    """serve_load.py --profile DIR: each child writes where its time went, for pstats."""
    import pstats

    out = tmp_path / "profiles"
    out.mkdir()
    ENV.update({fork_server.PROFILE_ENV: str(out)})
    with Running(env=dict(ENV)) as running:
        session = Session(running.command(usual("open", "--class", "net101")), session_env())
        session.wait_for(b"Sign in to class net101")
        (child,) = children(running.proc.pid)
        assert session.quit() == 0
        assert gone(child)
    stats = pstats.Stats(str(out / f"session-{child}.prof"))
    assert any(name == "run_app" for _file, _line, name in stats.stats)
