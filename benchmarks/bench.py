#!/usr/bin/env python3
"""kubeflow-tui benchmarks: run by hand, not part of the tests.

    python benchmarks/bench.py            # full run (a few minutes)
    python benchmarks/bench.py --quick    # small sizes, a smoke run
    python benchmarks/bench.py --out bench.json

Prints ONE JSON object on stdout (progress goes to stderr).  Every figure is measured in
the same run and reported next to a reference measured the same way:

* ``first_frame``: process start -> first rendered frame of ``KubeflowApp`` opened on
  lesson 1 (and on a scenario), against a bare Textual app with one ``Static``.  Each run is
  a fresh subprocess (``App.run(headless=True, size=(80, 24))``); the clock starts in the
  parent just before the process is spawned (CLOCK_MONOTONIC is system-wide) and stops in
  the child when ``App._display`` receives the first frame of the screen we wait for.  The
  headless driver skips turning frames into terminal bytes, so the probe does that itself
  (``render_segments``) for both apps: the cost of a real terminal frame is included.
  The app's first frame is its lesson/flow screen: its layout, the panels saying
  "tracing…"; ``lesson_text_frame_*`` is the first frame with the lesson's text (Textual's
  Markdown parses in a thread after mounting) and ``traced_frame_*`` the frame with the
  text and the trace both in.
  Both apps run as installed, with their modules compiled to bytecode (see
  ``bench_first_frame``).  Target: ``first_frame_ratio`` <= 1.3.
* ``playback``: the flow screen auto-playing at its top speed (a timer, capped by design),
  and the step rate when steps are driven as fast as frames come out (each step waits for
  its rendered frame).  Textual caps screen updates at ``TEXTUAL_FPS`` (60 by default);
  the uncapped figure is measured with ``TEXTUAL_FPS=1000``.
* ``parse``: ``parse_iptables_save`` (read + parse) of a kube-proxy-shaped dump of 10,000
  Services x 3 endpoints against ``iptables-restore --test`` on the same file, run in a
  scratch network namespace (needs root; skipped with a note otherwise).  Each run is
  cold: the parser's memos are emptied first, as for the first parse in a process.
  Target: ``parse_ratio`` (wall, medians) <= 1.0; ``parse_cpu_ratio`` compares CPU
  times (steadier on a busy machine), ``parse_warm_ratio`` a parse with the memos kept.
* ``trace``: ``trace_dump(ruleset, src, dst, dport)`` through the 10k dump against a
  10-Service dump (parse excluded, warmed up, median of many).  Targets: <= 2 ms and
  ``trace_ratio`` <= 3.
* ``peak_rss_mb``: ``ru_maxrss`` of the process that generated nothing but parsed and
  traced (its own subprocess).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "netfilter"
SCENARIO = REPO / "scenarios" / "clusterip.yaml"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGETS = {"first_frame_ratio": 1.3, "parse_ratio": 1.0, "trace_10k_ms": 2.0, "trace_ratio": 3.0}


def lesson_1() -> Path:
    """The first lesson, as the app orders them (the file names change as lessons are written)."""
    try:
        from kubeflow_tui import lessons as lessons_mod

        found, _errors = lessons_mod.discover(REPO / "lessons")
        if found:
            return Path(found[0].path)
    except Exception:  # noqa: BLE001
        pass
    files = sorted((REPO / "lessons").glob("*.md"))
    if not files:
        raise SystemExit("no lessons/*.md to open")
    return files[0]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def _child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("TEXTUAL_FPS", None)
    env.update(extra)
    return env


def _run_child(args: list[str], *, env: dict[str, str], timeout: float = 120) -> dict:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=str(REPO))
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {args} printed no result:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


# =========================================================================== children

def _probe_class(base, ready, on_frame):
    """A subclass of ``base`` that calls ``on_frame(app, screen)`` for every frame that
    reaches the driver once ``ready(app, screen)`` is true, after rendering it to
    terminal bytes as a real terminal driver would."""

    class Probe(base):  # type: ignore[misc, valid-type]
        def _display(self, screen, renderable):  # noqa: ANN001
            super()._display(screen, renderable)
            if renderable is None or self._batch_count:
                return
            if not ready(self, screen):
                return
            try:
                renderable.render_segments(self.console)  # the bytes a terminal would get
            except Exception:  # pragma: no cover - only a cost probe
                pass
            on_frame(self, screen)

    css = getattr(base, "CSS_PATH", None)
    if isinstance(css, (str, Path)) and not Path(css).is_absolute():
        import inspect

        # CSS_PATH is relative to the module that defines the class, not to this file
        Probe.CSS_PATH = str(Path(inspect.getfile(base)).parent / css)
    Probe.__name__ = base.__name__
    return Probe


def _watchdog(seconds: float) -> None:
    import threading

    def fire() -> None:
        sys.stdout.write(json.dumps({"error": f"no awaited frame within {seconds:g} s"}) + "\n")
        sys.stdout.flush()
        os._exit(3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def _fail_on_error_screen(screen) -> None:  # noqa: ANN001
    if type(screen).__name__ == "ErrorScreen":
        msg = f"{getattr(screen, 'title_text', '')}: {getattr(screen, 'message', '')}"
        sys.stdout.write(json.dumps({"error": f"the app showed an error: {msg}"}) + "\n")
        sys.stdout.flush()
        os._exit(3)


def child_first_frame(kind: str, target: str) -> None:
    t0 = float(os.environ["KB_T0"])
    _watchdog(60)

    first: dict[str, float] = {}

    def done(app, screen) -> None:  # noqa: ANN001
        t = time.monotonic()
        first.setdefault("ms", (t - t0) * 1000.0)
        if kind != "bare" and "text" not in first:
            if screen.query("MarkdownBlock") or getattr(screen, "lesson_markdown", lambda: None)() is None:
                first["text"] = (t - t0) * 1000.0  # the lesson's text is drawn (a scenario has none)
        if kind != "bare" and (getattr(screen, "trace", None) is None or "text" not in first):
            return  # the learner's screen is up (its layout, the panels saying "tracing…")
        out = {"ms": first["ms"], "ready_ms": (t - t0) * 1000.0, "text_ms": first.get("text", first["ms"]),
               "screen": type(screen).__name__}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        os._exit(0)  # the frame is out; teardown is not part of the figure

    if kind == "bare":
        from textual.app import App
        from textual.widgets import Static

        class Bare(App):
            def compose(self):
                yield Static("Hello from a bare Textual app.")

        app = _probe_class(Bare, lambda a, s: True, done)()
    else:
        from kubeflow_tui.tui.app import KubeflowApp
        from kubeflow_tui.tui.screens.flow import FlowScreen

        def ready(app, screen) -> bool:  # noqa: ANN001
            _fail_on_error_screen(screen)
            return isinstance(screen, FlowScreen)  # the lesson/flow screen, traced or not yet

        app = _probe_class(KubeflowApp, ready, done)(target)
    app.run(headless=True, size=(80, 24))
    sys.stdout.write(json.dumps({"error": "the app exited before the awaited frame"}) + "\n")


def child_playback(target: str, seconds: float) -> None:
    import asyncio

    from kubeflow_tui.tui.app import KubeflowApp
    from kubeflow_tui.tui.screens.flow import SPEEDS, FlowScreen

    frames = {"n": 0}
    frame_ev: asyncio.Event | None = None
    _watchdog(120 + 4 * seconds)

    def ready(app, screen) -> bool:  # noqa: ANN001
        _fail_on_error_screen(screen)
        return isinstance(screen, FlowScreen) and getattr(screen, "trace", None) is not None

    def on_frame(app, screen) -> None:  # noqa: ANN001
        frames["n"] += 1
        if frame_ev is not None:
            frame_ev.set()

    App = _probe_class(KubeflowApp, ready, on_frame)

    async def main() -> dict:
        nonlocal frame_ev
        frame_ev = asyncio.Event()
        app = App(target)
        out: dict = {}
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 30
            while not (isinstance(app.screen, FlowScreen) and app.screen.trace is not None):
                if time.monotonic() > deadline:
                    raise RuntimeError("the flow screen never showed a trace")
                await pilot.pause(0.01)
            await pilot.pause(0.2)
            scr = app.screen
            n_steps = len(scr.trace.steps)
            out["trace_steps"] = n_steps

            # 1. auto-play at top speed, as the learner sees it (timer-driven)
            scr.speed_i = len(SPEEDS) - 1
            scr.index = 0  # (reactive: the view redraws itself)
            await pilot.pause(0.1)
            f0, i0 = frames["n"], scr.index
            t0 = time.perf_counter()
            scr.action_play()
            play_for = min(seconds, (n_steps - 1) / SPEEDS[-1] - 0.1)
            await asyncio.sleep(max(play_for, 0.2))
            dt = time.perf_counter() - t0
            steps = scr.index - i0
            out["autoplay_nominal_steps_per_s"] = SPEEDS[-1]
            out["autoplay_steps_per_s"] = steps / dt
            out["autoplay_frames_per_s"] = (frames["n"] - f0) / dt
            scr.stop_playing()
            await pilot.pause(0.1)

            # 2. steps as fast as frames come out: each step waits for its frame
            lat: list[float] = []
            t_end = time.perf_counter() + seconds
            n = 0
            t0 = time.perf_counter()
            while time.perf_counter() < t_end:
                if scr.index >= n_steps - 1:
                    scr.index = 0
                frame_ev.clear()
                ts = time.perf_counter()
                scr.action_step(1)
                try:
                    await asyncio.wait_for(frame_ev.wait(), 2.0)
                except asyncio.TimeoutError:
                    out["frame_timeouts"] = out.get("frame_timeouts", 0) + 1
                    continue
                lat.append(time.perf_counter() - ts)
                n += 1
            dt = time.perf_counter() - t0
            out["driven_steps_per_s"] = n / dt
            out["driven_step_to_frame_ms_median"] = med(lat) * 1000 if lat else None
            out["driven_step_to_frame_ms_p95"] = (sorted(lat)[int(len(lat) * 0.95)] * 1000) if lat else None
            app.exit(0)
        return out

    res = asyncio.run(main())
    from textual import constants

    res["textual_fps_cap"] = constants.MAX_FPS
    sys.stdout.write(json.dumps(res) + "\n")


def child_engine(big: str, small: str, big_dsts: str, small_dsts: str, parse_reps: int, trace_budget: float) -> None:
    """Parse + trace in one process: timings and its peak RSS."""
    import gc

    from kubeflow_tui.cluster import trace_dump
    from kubeflow_tui.netfilter import parse_iptables_save
    from kubeflow_tui.netfilter.parse import forget_parsed_values

    out: dict = {}
    rss_after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def parse_file(path: str):  # noqa: ANN202
        with open(path, encoding="utf-8") as f:
            return parse_iptables_save(f.read(), path)

    # Cold: the parser's memos emptied before each run, as for the first parse in a
    # process (a plan per rule shape, converted addresses...).  Warm: parsed again with
    # them kept (what re-reading a similar dump costs), for information.
    ts, cpu, warm = [], [], []
    rs_big = None
    for _ in range(parse_reps):
        rs_big = None
        forget_parsed_values()
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        rs_big = parse_file(big)
        ts.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    for _ in range(parse_reps):
        rs_big = None
        gc.collect()
        t = time.perf_counter()
        rs_big = parse_file(big)
        warm.append(time.perf_counter() - t)
    out["parse_s_runs"] = ts
    out["parse_s"] = med(ts)
    out["parse_cpu_s"] = med(cpu)
    out["parse_warm_s"] = med(warm)
    out["parse_rules"] = sum(len(c.rules) for t in rs_big.tables.values() for c in t.chains.values())
    rs_small = parse_file(small)

    def time_traces(rs, dsts: list[str], budget: float, min_n: int, max_n: int) -> tuple[list[float], dict]:
        for d in dsts:  # warm-up (every destination once)
            trace_dump(rs, "192.168.1.2", d, 80)
        xs: list[float] = []
        info: dict = {}
        t_end = time.perf_counter() + budget
        i = 0
        while (len(xs) < min_n or time.perf_counter() < t_end) and len(xs) < max_n:
            d = dsts[i % len(dsts)]
            i += 1
            t = time.perf_counter()
            tr = trace_dump(rs, "192.168.1.2", d, 80)
            xs.append(time.perf_counter() - t)
            info = {"steps": len(tr.steps), "outcome": tr.outcome}
        return xs, info

    big_d, small_d = big_dsts.split(","), small_dsts.split(",")
    xs_small, info_small = time_traces(rs_small, small_d, trace_budget, 50, 5000)
    xs_big, info_big = time_traces(rs_big, big_d, trace_budget, 10, 5000)
    out["trace_small_ms"] = med(xs_small) * 1000
    out["trace_small_n"] = len(xs_small)
    out["trace_small_info"] = info_small
    out["trace_big_ms"] = med(xs_big) * 1000
    out["trace_big_ms_min"] = min(xs_big) * 1000
    out["trace_big_ms_p90"] = sorted(xs_big)[int(len(xs_big) * 0.9)] * 1000
    out["trace_big_n"] = len(xs_big)
    out["trace_big_info"] = info_big

    # Diagnostic (not a target): the same walk with one Evaluator shared between traces,
    # i.e. the compiled chains kept.  Uses internals; skipped if they moved.
    try:
        from kubeflow_tui.cluster import DumpSim
        from kubeflow_tui.cluster.sim import NodeState
        from kubeflow_tui.netfilter.conntrack import ConntrackTable
        from kubeflow_tui.netfilter.eval import Evaluator

        def shared(rs, dsts: list[str], n: int) -> float:
            ev = Evaluator(rs)
            xs = []
            for k in range(n + len(dsts)):
                sim = DumpSim(rs)
                sim.nodes["node"] = NodeState(rs, ev, ConntrackTable())
                t = time.perf_counter()
                sim.trace_packet("192.168.1.2", dsts[k % len(dsts)], 80)
                if k >= len(dsts):
                    xs.append(time.perf_counter() - t)
            return med(xs) * 1000

        out["diag_trace_big_shared_evaluator_ms"] = shared(rs_big, big_d, 200)
        out["diag_trace_small_shared_evaluator_ms"] = shared(rs_small, small_d, 200)
    except Exception as exc:  # noqa: BLE001
        out["diag_error"] = f"{type(exc).__name__}: {exc}"

    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = ru.ru_maxrss / 1024.0  # Linux: KiB
    out["rss_after_import_mb"] = rss_after_import / 1024.0
    sys.stdout.write(json.dumps(out) + "\n")


# =========================================================================== parent

def bench_first_frame(n: int) -> dict:
    data_dir = tempfile.mkdtemp(prefix="kubeflow-bench-data-")
    # Both apps as installed: pip leaves Textual's modules compiled to bytecode, and ours
    # too ("pip install" compiles them even with PYTHONDONTWRITEBYTECODE set).  Run from
    # this checkout, the app's modules are compiled into a scratch bytecode tree by the
    # unmeasured first run (Textual's get a copy there as well).
    pycache = tempfile.mkdtemp(prefix="kubeflow-bench-pycache-")
    try:
        env = _child_env(KUBEFLOW_TUI_DATA_DIR=data_dir, PYTHONPYCACHEPREFIX=pycache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        runs: dict[str, list[float]] = {"bare": [], "lesson": [], "scenario": []}
        ready: dict[str, list[float]] = {"lesson": [], "scenario": []}
        text: list[float] = []
        lesson = lesson_1()
        log(f"lesson 1 is {lesson.relative_to(REPO)}")
        cases = [("bare", "bare", ""), ("lesson", "app", str(lesson)), ("scenario", "app", str(SCENARIO))]
        # one unmeasured run each first (disk cache, .pyc), then interleave the measured runs
        for name, kind, target in cases:
            _run_child(["first-frame", kind, target or "-"], env={**env, "KB_T0": str(time.monotonic())})
        for i in range(n):
            for name, kind, target in cases:
                e = {**env, "KB_T0": str(time.monotonic())}
                r = _run_child(["first-frame", kind, target or "-"], env=e)
                if "error" in r:
                    raise RuntimeError(f"first frame ({name}): {r['error']}")
                runs[name].append(r["ms"])
                if name in ready:
                    ready[name].append(r["ready_ms"])
                if name == "lesson":
                    text.append(r["text_ms"])
            log(f"first frame run {i + 1}/{n}: " + ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in runs.items()))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(pycache, ignore_errors=True)
    bare, lesson_ms, scen = med(runs["bare"]), med(runs["lesson"]), med(runs["scenario"])
    return {
        "first_frame_lesson": str(lesson.relative_to(REPO)),
        "first_frame_ratio": lesson_ms / bare,
        "first_frame_app_ms": lesson_ms,
        "first_frame_bare_ms": bare,
        "first_frame_scenario_ms": scen,
        "first_frame_scenario_ratio": scen / bare,
        "first_frame_runs_ms": {k: [round(x, 1) for x in v] for k, v in runs.items()},
        # the first frame shows the screen's layout and the panels saying "tracing…"; the
        # lesson's text (Textual's Markdown, parsed in a thread) and the engine (scenario,
        # kube-proxy rules, the flow) fill them in just after
        "lesson_text_frame_ms": med(text),
        "lesson_text_frame_ratio": med(text) / bare,
        "traced_frame_lesson_ms": med(ready["lesson"]),
        "traced_frame_lesson_ratio": med(ready["lesson"]) / bare,
        "traced_frame_scenario_ms": med(ready["scenario"]),
        "traced_frame_scenario_ratio": med(ready["scenario"]) / bare,
    }


def bench_playback(seconds: float) -> dict:
    data_dir = tempfile.mkdtemp(prefix="kubeflow-bench-data-")
    try:
        capped = _run_child(["playback", str(SCENARIO), str(seconds)],
                            env=_child_env(KUBEFLOW_TUI_DATA_DIR=data_dir))
        uncapped = _run_child(["playback", str(SCENARIO), str(seconds)],
                              env=_child_env(KUBEFLOW_TUI_DATA_DIR=data_dir, TEXTUAL_FPS="1000"))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "scenario": SCENARIO.name,
        "trace_steps": capped.get("trace_steps"),
        "autoplay_nominal_steps_per_s": capped.get("autoplay_nominal_steps_per_s"),
        "autoplay_steps_per_s": capped.get("autoplay_steps_per_s"),
        "autoplay_frames_per_s": capped.get("autoplay_frames_per_s"),
        "driven_steps_per_s": capped.get("driven_steps_per_s"),
        "driven_step_to_frame_ms_median": capped.get("driven_step_to_frame_ms_median"),
        "textual_fps_cap": capped.get("textual_fps_cap"),
        "driven_steps_per_s_uncapped": uncapped.get("driven_steps_per_s"),
        "driven_step_to_frame_ms_median_uncapped": uncapped.get("driven_step_to_frame_ms_median"),
        "driven_step_to_frame_ms_p95_uncapped": uncapped.get("driven_step_to_frame_ms_p95"),
    }


def _cluster_ip(s: int) -> str:
    # the formula of tests/fixtures/netfilter/kube_dump.py
    return f"10.{96 + s // 65536 % 32}.{s // 256 % 256}.{s % 256}"


def _iptables_restore_test(path: Path, reps: int, cpu: list[float] | None = None
                           ) -> tuple[list[float] | None, str]:
    """Wall times of ``iptables-restore --test`` (and their CPU times into ``cpu``)."""
    exe = shutil.which("iptables-restore")
    ip = shutil.which("ip")
    if exe is None:
        return None, "iptables-restore not found: parse_ratio not measured"
    if os.geteuid() != 0:
        return None, "not root: iptables-restore --test needs CAP_NET_ADMIN; parse_ratio not measured"
    ns = None
    prefix: list[str] = []
    note = ""
    if ip is not None:
        ns = f"kfbench-{uuid.uuid4().hex[:8]}"
        r = subprocess.run([ip, "netns", "add", ns], capture_output=True, text=True)
        if r.returncode == 0:
            prefix = [ip, "netns", "exec", ns]
            note = "in a scratch network namespace"
        else:
            ns = None
            note = f"ip netns add failed ({r.stderr.strip()}); ran in the current namespace (--test commits nothing)"
    try:
        with open(path, "rb") as f:  # a warm-up, also checks that the kernel accepts the dump
            r = subprocess.run([*prefix, exe, "--test"], stdin=f, capture_output=True)
        if r.returncode != 0:
            return None, f"iptables-restore --test refused the dump: {r.stderr.decode()[-300:]}"
        ts = []
        for _ in range(reps):
            with open(path, "rb") as f:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run([*prefix, exe, "--test"], stdin=f, capture_output=True, check=True)
                ts.append(time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if cpu is not None:
                    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        ver = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
        return ts, f"{ver}, {note}".strip(", ")
    finally:
        if ns is not None:
            subprocess.run([ip, "netns", "del", ns], capture_output=True)


def bench_engine(services: int, reps: int, trace_budget: float, workdir: Path) -> dict:
    sys.path.insert(0, str(FIXTURES))
    from kube_dump import kube_proxy_dump  # tests/fixtures/netfilter/kube_dump.py

    big = workdir / f"kube-{services}.rules"
    small = workdir / "kube-10.rules"
    big.write_text(kube_proxy_dump(services, 3))
    small.write_text(kube_proxy_dump(10, 3))
    lines = big.read_text().count("\n")
    log(f"dump: {services} Services x 3 endpoints, {lines} lines, {big.stat().st_size / 1e6:.1f} MB")

    ref_cpu: list[float] = []
    ref, note = _iptables_restore_test(big, reps, ref_cpu)
    log(f"iptables-restore --test: {note}" + (f", median {med(ref):.3f} s" if ref else ""))

    big_dsts = ",".join(_cluster_ip(s) for s in (0, services // 2, services - 1))
    small_dsts = ",".join(_cluster_ip(s) for s in (0, 5, 9))
    eng = _run_child(["engine", str(big), str(small), big_dsts, small_dsts, str(reps), str(trace_budget)],
                     env=_child_env(), timeout=1800)
    log(f"parse median {eng['parse_s']:.3f} s; trace 10k {eng['trace_big_ms']:.2f} ms, "
        f"10-Service {eng['trace_small_ms']:.3f} ms")
    out = {
        "dump_services": services,
        "dump_endpoints_per_service": 3,
        "dump_lines": lines,
        "dump_rules": eng["parse_rules"],
        "parse_s": eng["parse_s"],
        "parse_s_runs": [round(x, 4) for x in eng["parse_s_runs"]],
        "iptables_restore_test_s": med(ref) if ref else None,
        "iptables_restore_test_s_runs": [round(x, 4) for x in ref] if ref else None,
        "iptables_restore_note": note,
        "parse_ratio": (eng["parse_s"] / med(ref)) if ref else None,
        "parse_cpu_s": eng["parse_cpu_s"],
        "iptables_restore_test_cpu_s": med(ref_cpu) if ref_cpu else None,
        "parse_cpu_ratio": (eng["parse_cpu_s"] / med(ref_cpu)) if ref_cpu else None,
        "parse_warm_s": eng["parse_warm_s"],
        "parse_warm_ratio": (eng["parse_warm_s"] / med(ref)) if ref else None,
        "trace_10k_ms": eng["trace_big_ms"],
        "trace_10k_ms_min": eng["trace_big_ms_min"],
        "trace_10k_ms_p90": eng["trace_big_ms_p90"],
        "trace_10k_n": eng["trace_big_n"],
        "trace_10_ms": eng["trace_small_ms"],
        "trace_10_n": eng["trace_small_n"],
        "trace_ratio": eng["trace_big_ms"] / eng["trace_small_ms"],
        "trace_steps": {"10k": eng["trace_big_info"], "10": eng["trace_small_info"]},
        "peak_rss_mb": eng["peak_rss_mb"],
        "rss_after_import_mb": eng["rss_after_import_mb"],
    }
    if "diag_trace_big_shared_evaluator_ms" in eng:
        out["diag_trace_10k_shared_evaluator_ms"] = eng["diag_trace_big_shared_evaluator_ms"]
        out["diag_trace_10_shared_evaluator_ms"] = eng["diag_trace_small_shared_evaluator_ms"]
    elif "diag_error" in eng:
        out["diag_error"] = eng["diag_error"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or so")
    ap.add_argument("--out", metavar="FILE", help="also write the JSON to FILE")
    ap.add_argument("--only", choices=("first-frame", "playback", "engine"), action="append",
                    help="run only this part (repeatable)")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        mode, *rest = a.child
        if mode == "first-frame":
            child_first_frame(rest[0], rest[1])
        elif mode == "playback":
            child_playback(rest[0], float(rest[1]))
        elif mode == "engine":
            child_engine(rest[0], rest[1], rest[2], rest[3], int(rest[4]), float(rest[5]))
        else:
            raise SystemExit(f"unknown child mode {mode}")
        return 0

    parts = a.only or ["first-frame", "playback", "engine"]
    quick = a.quick
    cfg = {
        "first_frame_runs": 2 if quick else 5,
        "playback_seconds": 1.5 if quick else 4.0,
        "services": 1000 if quick else 10_000,
        "parse_reps": 2 if quick else 3,
        "trace_budget_s": 1.0 if quick else 5.0,
    }
    import textual

    result: dict = {
        "bench": "kubeflow-tui",
        "quick": quick,
        "config": cfg,
        "python": platform.python_version(),
        "textual": textual.__version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "targets": TARGETS,
    }
    if quick:
        result["note"] = (f"--quick: the 'big' dump has {cfg['services']} Services, not 10,000 (keys keep their "
                          "names); a smoke run, not figures to quote")
    t_all = time.perf_counter()
    if "first-frame" in parts:
        log(f"first frame: bare Textual vs lesson 1 vs a scenario, {cfg['first_frame_runs']} runs each")
        result.update(bench_first_frame(cfg["first_frame_runs"]))
    if "playback" in parts:
        log("playback of the flow screen")
        result["playback"] = bench_playback(cfg["playback_seconds"])
    if "engine" in parts:
        with tempfile.TemporaryDirectory(prefix="kubeflow-bench-") as d:
            result.update(bench_engine(cfg["services"], cfg["parse_reps"], cfg["trace_budget_s"], Path(d)))
    met = {}
    for key, limit in TARGETS.items():
        v = result.get(key)
        met[key] = None if v is None else bool(v <= limit)
    result["targets_met"] = met
    result["wall_s"] = time.perf_counter() - t_all
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
