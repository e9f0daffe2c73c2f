"""Load on `kubeflow-tui serve`: N students' browsers at once, as the page talks to it.

    python benchmarks/serve_load.py --sessions 40 [--class NAME] [--json]

Starts `python -m kubeflow_tui serve` on a free port of 127.0.0.1 with a throwaway data
directory, then opens N websocket sessions at once, speaking the protocol of
textual-serve's page (`/ws?width=80&height=24`; JSON text frames `["stdin", …]`,
`["resize", …]`, `["ping", …]` up; the app's terminal output as binary frames down).
For each session it measures the time from opening the websocket to the first screen:
the moment the terminal text (escape sequences removed) shows what the learner reads
first: the lesson's own text (its first sentence), not only its title.  With `--class` (the default) every session signs in as its own student
(`student-<i>`, a passphrase) the way a person does, each step confirmed on screen before
the next: the form is there; the name field shows the name typed; after Tab the
passphrase field shows a dot per character; Enter (`--burst`: all of it in one message
as the websocket opens, before anything is drawn).  The first screen is then the lesson
the student lands on.  When every browser has closed and the server has ended the
sessions (the app quits and saves, as when a tab is closed), each student's progress file
must exist, name that student and the lesson they were on, and no two students may share
one.

Reports p50/p95 time to first screen, failures (a session that never showed its first
screen within the time-out, or closed early), memory per session (the processes the
server started, summed at the fullest moment, divided by N: RSS, which counts pages the
fork server's children share once per child, and PSS, which shares them out) and the
machine's load average before and after.  `--no-fork-server` serves each session as a
new process, for comparison.  With `--json` the last line is one JSON object.  Only
127.0.0.1 is contacted; every wait is bounded; the server and every app process are ended
when the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[()][0-9A-Za-z]|[=>78DEHMNOZc])")
# What the first screen shows: the sign-in form of a class, then the learner's lesson: its
# text, the first sentence of lesson 1 (the lesson's title is in the heading line above the
# text before the text is there; that is not yet a screen to read)
SIGN_IN_MARK = b"Sign in"
LESSON_MARK = b"Before Kubernetes, learn the road"
PLAIN_MARK = b"plain mode"
PASSPHRASE = "load-test-passphrase"
# bytes of earlier output scanned again with each message (longer than any escape sequence
# and any mark; scanning only this much keeps the client's own CPU small beside the server's)
OVERLAP = 512
# the passphrase field shows one of these per character typed
MASK = "\u2022".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def screen_text(raw: bytes) -> bytes:
    """The terminal output with escape sequences removed and runs of spaces squeezed, so
    words Textual wrote with cursor moves between them can still be found."""
    return re.sub(rb" +", b" ", ANSI.sub(b" ", raw))


class Session:
    def __init__(self, index: int, port: int, class_name: str | None, mark: bytes,
                 burst: bool = False) -> None:
        self.burst = burst
        self.mark = mark
        self.plain = mark == PLAIN_MARK
        self.index = index
        self.port = port
        self.class_name = class_name
        self.first_screen_s: float | None = None
        self.error = ""

    @property
    def student(self) -> str:
        return f"student-{self.index:03d}"

    async def run(self, http: aiohttp.ClientSession, timeout: float, hold: float) -> None:
        """Sign in as a student would, each step confirmed on screen before the next:
        wait for the form; type the name and wait until the name field shows it; Tab to
        the passphrase, type it and wait until the field shows as many dots; Enter; wait
        for the lesson."""
        url = f"ws://127.0.0.1:{self.port}/ws?width=80&height=24"
        t0 = time.perf_counter()
        buf = b""
        # (text the screen must show, what to type then); without a class: straight to the lesson
        steps = [] if self.class_name is None else [
            (SIGN_IN_MARK, self.student),
            (self.student.encode(), "\t" + PASSPHRASE),
            (MASK * len(PASSPHRASE), "\r"),
        ]
        if self.burst and steps:
            # as a hurried student: everything in one message as soon as the page is open
            steps = [(b"", f"{self.student}\t{PASSPHRASE}\r")]
        try:
            async with http.ws_connect(url, heartbeat=None, max_msg_size=0) as ws:
                await ws.send_json(["resize", {"width": 80, "height": 24}])
                if steps and not steps[0][0]:  # --burst: before the app has drawn anything
                    await ws.send_json(["stdin", steps.pop(0)[1]])
                deadline = t0 + timeout
                while self.first_screen_s is None:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        tail = screen_text(buf[-4000:]).decode("utf-8", "replace")
                        waiting = f"waiting for {steps[0][0].decode()!r}; " if steps else ""
                        self.error = (f"no first screen within the time-out ({waiting}the screen "
                                      "last showed: " + " ".join(tail.split())[-160:] + ")")
                        return
                    try:
                        msg = await ws.receive(timeout=left)
                    except asyncio.TimeoutError:
                        continue
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        # what is new, with enough before it for an escape sequence or a
                        # mark split between two messages
                        text = screen_text(buf[-OVERLAP:] + msg.data)
                        buf += msg.data
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                      aiohttp.WSMsgType.ERROR):
                        self.error = f"websocket closed ({msg.type.name})"
                        return
                    else:
                        continue
                    if steps and steps[0][0] in text:
                        _, keys = steps.pop(0)
                        await ws.send_json(["stdin", keys])
                        buf = b""
                    elif not steps and self.mark in text:
                        self.first_screen_s = time.perf_counter() - t0
                if self.plain:
                    # plain mode saves progress once a lesson is opened: open lesson 1
                    await ws.send_json(["stdin", "lesson 1\r"])
                    buf = b""
                    while b"End of lesson text" not in screen_text(buf[-200_000:]):
                        msg = await ws.receive(timeout=max(0.1, deadline - time.perf_counter()))
                        if msg.type != aiohttp.WSMsgType.BINARY:
                            self.error = f"websocket closed ({msg.type.name}) in lesson 1"
                            return
                        buf += msg.data
                # keep the session open while the others start, as a class would
                await asyncio.sleep(hold)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"


def group_members(pgid: int, exclude: int) -> list[int]:
    """The processes of the process group ``pgid`` but ``exclude``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            if os.getpgid(int(entry.name)) == pgid:
                pids.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return pids


def group_memory_mb(pgid: int, exclude: int) -> tuple[float, float]:
    """Resident (RSS) and proportional (PSS) memory of the process group ``pgid`` but
    ``exclude``, in MB.  RSS counts a page shared by N processes N times (the fork
    server's children share its imported modules); PSS counts 1/N of it in each."""
    rss_kb = pss_kb = 0
    for pid in group_members(pgid, exclude):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss_kb += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss_kb += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return rss_kb / 1024, pss_kb / 1024


def wait_for_http(port: int, proc: subprocess.Popen, timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("serve did not answer within the time-out")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat); with ``children``,
    plus that of its children that ended and were waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pid: int) -> float:
    """CPU time of the server and every process it started, the ended ones included: the
    server, the fork server (if any) and the sessions, which end as children of one of
    them (each is waited for by its parent)."""
    total = 0.0
    for member in [pid, *group_members(pid, exclude=pid)]:
        try:
            total += cpu_seconds(member, children=True)
        except (OSError, IndexError, ValueError):
            continue
    return total


def check_students(data_dir: Path, sessions: list[Session], class_name: str) -> list[str]:
    """Every student who reached a lesson has a progress file of their own."""
    from kubeflow_tui.classroom import Classroom

    room = Classroom(class_name, root=data_dir)
    found = {s.name: s for s in room.students()}
    problems = []
    folders = set()
    for session in sessions:
        if session.first_screen_s is None:
            continue
        student = found.get(session.student)
        if student is None:
            problems.append(f"{session.student}: no student record")
            continue
        progress = student.progress()
        if progress.notice or not progress.path.is_file():
            problems.append(f"{session.student}: progress missing ({progress.notice or 'no file'})")
        elif not progress.last:
            problems.append(f"{session.student}: progress names no lesson")
        if student.folder in folders:
            problems.append(f"{session.student}: shares a folder")
        folders.add(student.folder)
    return problems


async def run_sessions(port: int, n: int, class_name: str | None, mark: bytes, timeout: float,
                       hold: float, on_sample, burst: bool = False) -> list[Session]:
    sessions = [Session(i, port, class_name, mark, burst) for i in range(n)]
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(s.run(http, timeout, hold)) for s in sessions]
        # memory is sampled while the sessions are open; the largest sample counts
        while not all(t.done() for t in tasks):
            on_sample()
            await asyncio.sleep(0.5)
        await asyncio.gather(*tasks)
    return sessions


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(args: argparse.Namespace, class_name: str | None, fork_server: bool):
    """One run: start serve, open the sessions, end them; the result and what went wrong."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="kft-serve-load-"))
    env = {**os.environ, "KUBEFLOW_TUI_DATA_DIR": str(data), "HOME": str(data)}
    env.pop("NO_COLOR", None)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        env["KUBEFLOW_TUI_PROFILE_DIR"] = str(Path(args.profile).resolve())  # (fork_server.PROFILE_ENV)
    if args.no_warm_up:
        env["KUBEFLOW_TUI_FORK_WARM_UP"] = "0"  # (kubeflow_tui.fork_server.WARM_UP_ENV)
    cmd = [sys.executable, "-m", "kubeflow_tui", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if class_name:
        cmd += ["--class", class_name]
    if args.plain:
        cmd.append("--plain")
    if not fork_server:
        cmd.append("--no-fork-server")
    client_cpu = time.process_time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    memory: list[tuple[float, float]] = []
    try:
        wait_for_http(port, proc, 120)  # (the fork server imports and warms up first)
        idle = len(group_members(proc.pid, exclude=proc.pid))  # the fork server, if any
        load_before = os.getloadavg()[0]
        cpu_before = group_cpu_seconds(proc.pid)  # the server's start (and the fork server's imports)
        t0 = time.perf_counter()
        cpu_samples: list[tuple[float, float]] = []  # (seconds since t0, the group's CPU so far)

        def sample() -> None:
            memory.append(group_memory_mb(proc.pid, exclude=proc.pid))
            cpu_samples.append((time.perf_counter() - t0, group_cpu_seconds(proc.pid)))

        sessions = asyncio.run(run_sessions(
            port, args.sessions, class_name, PLAIN_MARK if args.plain else LESSON_MARK,
            args.timeout, args.hold, sample, args.burst,
        ))
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()[0]
        # the browsers are gone: each session ends as textual-serve ends it (the app quits
        # and saves); wait for that before reading the students' progress
        ended_by = time.monotonic() + args.timeout
        while len(group_members(proc.pid, exclude=proc.pid)) > idle and time.monotonic() < ended_by:
            time.sleep(0.2)
        problems = check_students(data, sessions, class_name) if class_name else []
        server_cpu = cpu_seconds(proc.pid)
        sessions_cpu = group_cpu_seconds(proc.pid) - cpu_before
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(data, ignore_errors=True)

    times = sorted(s.first_screen_s for s in sessions if s.first_screen_s is not None)
    failures = [s for s in sessions if s.first_screen_s is None]
    # what the machine spent (server, launchers, sessions) until 95% of the first screens
    # were there, per session: the share of the CPU-s per session that the p95 waits for
    # (sampled every 0.5 s: the first sample after that moment)
    p95_at = percentile(times, 95) if times else float("inf")
    after = [cpu for at, cpu in cpu_samples if at >= p95_at]
    cpu_to_p95 = round((after[0] - cpu_before) / args.sessions, 3) if after else None
    result = {
        "sessions": args.sessions,
        "class": class_name,
        "plain": args.plain,
        "failures": len(failures),
        "p50_first_screen_s": round(percentile(times, 50), 3),
        "p95_first_screen_s": round(percentile(times, 95), 3),
        "max_first_screen_s": round(times[-1], 3) if times else None,
        "rss_mb_per_session": round(max(m[0] for m in memory) / args.sessions, 1) if memory else None,
        "pss_mb_per_session": round(max(m[1] for m in memory) / args.sessions, 1) if memory else None,
        "fork_server": fork_server,
        "warm_up": fork_server and not args.no_warm_up,
        "burst": args.burst,
        "wall_s": round(wall, 2),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
        # CPU of the web server (textual-serve: relays every session's screen) and of this
        # client, to see where the machine's time went besides the sessions themselves
        "server_cpu_s": round(server_cpu, 2),
        # everything the sessions cost, start to end, server's relaying included: what the
        # machine must find per student whatever else it runs (2 cores give 2 s a second)
        "cpu_s_per_session": round(sessions_cpu / args.sessions, 3),
        "cpu_s_per_session_to_p95": cpu_to_p95,
        "client_cpu_s": round(time.process_time() - client_cpu, 2),
        "progress_problems": problems,
        "cpus": os.cpu_count(),
    }
    print(f"{args.sessions} sessions on {os.cpu_count()} CPUs"
          f"{' as students of ' + repr(class_name) if class_name else ''}"
          f"{'' if fork_server else ', no fork server'}: "
          f"{len(failures)} failures; first screen p50 {result['p50_first_screen_s']} s, "
          f"p95 {result['p95_first_screen_s']} s; {result['rss_mb_per_session']} MB RSS, "
          f"{result['pss_mb_per_session']} MB PSS per session; load average "
          f"{result['load_average_before']} before, {result['load_average_after']} after; "
          f"{result['cpu_s_per_session']} CPU-s per session "
          f"({result['cpu_s_per_session_to_p95']} of them until the p95 first screen)")
    for s in failures[:5]:
        print(f"  {s.student}: {s.error}")
    for p in problems[:5]:
        print(f"  {p}")
    return result, failures, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--class", dest="class_name", default="load-test",
                    help="sign in each session as its own student of this class (default)")
    ap.add_argument("--no-class", action="store_true", help="serve without --class")
    ap.add_argument("--timeout", type=float, default=120.0, help="per session, seconds")
    ap.add_argument("--hold", type=float, default=2.0,
                    help="seconds each session stays open after its first screen")
    ap.add_argument("--plain", action="store_true", help="serve plain mode (serve --plain)")
    ap.add_argument("--no-fork-server", action="store_true",
                    help="serve --no-fork-server: each session a new process (for comparison)")
    ap.add_argument("--profile", metavar="DIR",
                    help="each session (a fork server's child) writes its cProfile to "
                    "DIR/session-PID.prof (python -m pstats reads them); the times grow with it")
    ap.add_argument("--no-warm-up", action="store_true",
                    help="the fork server does not draw a first screen before its first fork "
                    "(for comparison: Textual's caches are then filled by each session)")
    ap.add_argument("--compare", action="store_true",
                    help="then the same again with --no-fork-server, and the ratios (reference: "
                    "the second run, measured in the same invocation)")
    ap.add_argument("--burst", action="store_true",
                    help="type name, Tab, passphrase and Enter in one message the moment the "
                    "websocket opens, before the form is drawn (a hurried student)")
    ap.add_argument("--json", action="store_true", help="end with one JSON line")
    args = ap.parse_args(argv)
    class_name = None if args.no_class else args.class_name

    result, failures, problems = measure(args, class_name, fork_server=not args.no_fork_server)
    bad = bool(failures or problems)
    if args.compare and not args.no_fork_server:
        reference, ref_failures, ref_problems = measure(args, class_name, fork_server=False)
        bad = bad or bool(ref_failures or ref_problems)
        result["reference"] = reference
        # how many times less the fork server's sessions cost / waited than the reference's
        result["cpu_per_session_ratio"] = round(
            reference["cpu_s_per_session"] / result["cpu_s_per_session"], 2
        ) if result["cpu_s_per_session"] else None
        result["p95_ratio"] = round(
            reference["p95_first_screen_s"] / result["p95_first_screen_s"], 2
        ) if result["p95_first_screen_s"] else None
        print(f"fork server: {result['cpu_per_session_ratio']}x less CPU per session, "
              f"{result['p95_ratio']}x shorter p95 than without")
    if args.json:
        print(json.dumps(result))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
