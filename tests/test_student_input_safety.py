"""What a student types never reaches a real process: the simulated shell and the quiz's
typed-command judge spawn nothing and evaluate nothing of it.  And a served session that
misbehaves ends alone (session_limits)."""

from __future__ import annotations

import ast
import builtins
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.resources import find_scenario
from kubeflow_tui.shell import Shell

PACKAGE = Path(__file__).resolve().parents[1] / "kubeflow_tui"
PROBE = "kftprobe"
_REAL_COMPILE = builtins.compile
NASTY = [
    f"touch /tmp/{PROBE}-1",
    f"echo $(touch /tmp/{PROBE}-2)",
    f"echo `touch /tmp/{PROBE}-3`",
    f"true; touch /tmp/{PROBE}-4",
    f"iptables -L | sh -c 'touch /tmp/{PROBE}-5'",
    f"bash -c 'touch /tmp/{PROBE}-6'",
    f"python3 -c \"open('/tmp/{PROBE}-7','w')\"",
    f"eval touch /tmp/{PROBE}-8",
    f"exec touch /tmp/{PROBE}-9",
    f"iptables -t nat -L > /tmp/{PROBE}-10",
    f"iptables -t nat -S | tee /tmp/{PROBE}-11",
    f"kubectl exec web-1 -- touch /tmp/{PROBE}-12",
    f"nc -e /bin/sh 127.0.0.1 9 ; touch /tmp/{PROBE}-13",
    f"iptables -A INPUT -m comment --comment \"__import__('os').system('touch /tmp/{PROBE}-14')\" -j ACCEPT",
    f"iptables -A INPUT -s \"1.2.3.4')or __import__('os').system('touch /tmp/{PROBE}-15')#\" -j ACCEPT",
    f"iptables -t nat -N \"X');__import__('os').system('touch /tmp/{PROBE}-16')#\"",
    f"iptables -A INPUT -p tcp -m tcp --dport \"1)or(__import__('os').system('touch /tmp/{PROBE}-17')\" -j ACCEPT",
    f"conntrack -L -s \"__import__('os').system('touch /tmp/{PROBE}-18')\"",
    f"curl \"http://10.96.0.1:8080/$(touch /tmp/{PROBE}-19)\"",
    f"dig \"$(touch /tmp/{PROBE}-20).default.svc.cluster.local\"",
    f"ip route add 10.0.0.0/8 via \"{PROBE}')#\"",
    f"watch -n 1 touch /tmp/{PROBE}-21",
]


class Forbidden(AssertionError):
    pass


def _deny(what: str):
    def deny(*_a, **_k):
        raise Forbidden(f"{what} was called")
    return deny


def _probe_only_in_strings(source: str) -> bool:
    """True if PROBE occurs in ``source`` only inside string constants."""
    try:
        tree = _REAL_COMPILE(source, "<checked>", "exec", ast.PyCF_ONLY_AST)
    except SyntaxError:
        return PROBE not in source
    outside = source
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and PROBE in node.value:
            seg = ast.get_source_segment(source, node) or ""
            outside = outside.replace(seg, "")
    return PROBE not in outside


@contextlib.contextmanager
def nothing_spawned_or_evaluated(monkeypatch):
    for mod, names in ((os, ["system", "popen", "fork", "forkpty", "execv", "execve", "execvp",
                             "execvpe", "execl", "execlp", "spawnv", "spawnve", "posix_spawn",
                             "posix_spawnp"]),
                       (subprocess, ["Popen", "run", "call", "check_call", "check_output",
                                     "getoutput", "getstatusoutput"])):
        for name in names:
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, _deny(f"{mod.__name__}.{name}"))
    real_compile, real_eval, real_exec = builtins.compile, builtins.eval, builtins.exec
    compiled: list[str] = []

    def checked_compile(source, *a, **k):
        if isinstance(source, (str, bytes)):
            text = source.decode() if isinstance(source, bytes) else source
            compiled.append(text)
            if not _probe_only_in_strings(text):
                raise Forbidden(f"student text compiled as code: {text[:200]!r}")
        return real_compile(source, *a, **k)

    def checked_eval(source, *a, **k):
        if isinstance(source, (str, bytes)) and PROBE in str(source):
            raise Forbidden("student text evaluated")
        return real_eval(source, *a, **k)

    def checked_exec(source, *a, **k):
        if isinstance(source, (str, bytes)) and not _probe_only_in_strings(str(source)):
            raise Forbidden("student text executed")
        return real_exec(source, *a, **k)

    monkeypatch.setattr(builtins, "compile", checked_compile)
    monkeypatch.setattr(builtins, "eval", checked_eval)
    monkeypatch.setattr(builtins, "exec", checked_exec)
    yield compiled
    for n in range(1, 30):
        assert not Path(f"/tmp/{PROBE}-{n}").exists(), f"/tmp/{PROBE}-{n} was created"


@pytest.mark.parametrize("host", ["node-a", "web-1", "client-b"])
def test_the_simulated_shell_runs_nothing_real(monkeypatch, host):
    sim = ClusterSim(load_scenario(find_scenario("clusterip")))
    sim.run_flow("pod-other-node")
    shell = Shell(sim, host)
    with nothing_spawned_or_evaluated(monkeypatch):
        for line in NASTY:
            result = shell.run(line)
            assert isinstance(result.stdout, str) and isinstance(result.stderr, str)


def test_typed_command_answers_run_nothing_real(monkeypatch):
    from kubeflow_tui.quiz import judge_command, scenario_state, standard_command_questions

    scenario = load_scenario(find_scenario("clusterip"))
    question = standard_command_questions(scenario)[0]
    make_sim = scenario_state(scenario)
    with nothing_spawned_or_evaluated(monkeypatch):
        for line in NASTY:
            verdict = judge_command(question, line, make_sim)
            assert not verdict.correct


def test_plain_mode_runs_nothing_real(monkeypatch):
    from kubeflow_tui.plain import PlainSession

    session = PlainSession()
    session.handle("lesson 2")
    session.handle("shell node-a")
    with nothing_spawned_or_evaluated(monkeypatch):
        for line in NASTY:
            session.handle(line)


def test_the_checks_above_would_catch_a_real_spawn(monkeypatch):
    with pytest.raises(Forbidden):
        with nothing_spawned_or_evaluated(monkeypatch):
            subprocess.run(["true"])
    with pytest.raises(Forbidden):
        with nothing_spawned_or_evaluated(monkeypatch):
            compile(f"{PROBE}_payload()", "<x>", "exec")
    assert _probe_only_in_strings(f"x = {PROBE!r}")


FORBIDDEN_IMPORTS = {"subprocess", "pty", "pexpect", "shlex_exec"}
FORBIDDEN_CALLS = {"eval", "exec", "system", "popen", "Popen", "__import__"}


@pytest.mark.parametrize("package", ["shell", "quiz"])
def test_no_process_or_eval_in_the_source(package):
    for path in sorted((PACKAGE / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_IMPORTS, path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in FORBIDDEN_IMPORTS, path
            elif isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                assert name not in FORBIDDEN_CALLS, f"{path}:{node.lineno}: {name}()"


# --------------------------------------------------------------------------- session limits


def _child(code: str, limits: str, timeout: float = 60) -> subprocess.CompletedProcess:
    prelude = f"from kubeflow_tui import session_limits; session_limits.apply({limits!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, timeout=timeout, cwd=PACKAGE.parent)


def test_a_stuck_app_ends_itself():
    # the app's loop beat once, then something blocked it: however little CPU the spin
    # gets on a crowded machine, the missing beats end the session
    done = _child("session_limits.beat()\nwhile True: pass", "256,2,0.99")
    assert done.returncode == 75
    assert "the app did not respond for" in done.stderr


def test_a_busy_process_that_never_beats_ends_itself():
    # (needs most of a CPU for 2 s: a share of 0.3 holds on a loaded machine too)
    done = _child("while True: pass", "256,2,0.3")
    assert done.returncode == 75
    assert "kept a CPU busy" in done.stderr


def test_the_plain_app_beats(monkeypatch):
    from kubeflow_tui import session_limits
    from kubeflow_tui.tui.plain_app import PlainApp

    monkeypatch.setattr(session_limits, "_active", True)
    monkeypatch.setattr(session_limits, "_last_beat", None)

    async def run():
        app = PlainApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(1.3)
    import asyncio

    asyncio.run(run())
    assert session_limits._last_beat is not None


def test_a_session_that_hogs_memory_fails_alone():
    done = _child("x = bytearray(1024 * 1024 * 1024)", "512,60,0.9")
    assert done.returncode == 1 and "MemoryError" in done.stderr


def test_an_idle_session_is_left_alone():
    done = _child("import time; time.sleep(3); print('alive')", "256,1,0.5")
    assert done.returncode == 0 and done.stdout.strip() == "alive"


def test_bad_limits_are_refused():
    from kubeflow_tui.session_limits import parse

    assert parse("") == (2048, 60.0, 0.9)
    assert parse("1024,,") == (1024, 60.0, 0.9)
    for bad in ("10,,", "512,0,", "512,5,2"):
        with pytest.raises(ValueError):
            parse(bad)
