"""Limits for one served session, so one that misbehaves ends without harming the others.

``kubeflow-tui serve`` starts one app process per browser tab; each applies these limits
to itself first (``serve`` sets ``KUBEFLOW_TUI_SESSION_LIMITS``):

* address space capped (``RLIMIT_AS``, default 2048 MiB): a session that runs away with
  memory gets MemoryError in its own process, never the machine's OOM killer choosing;
* niceness +5: the server and the other sessions keep the CPU first;
* a watchdog thread: the app calls :func:`beat` from its event loop every second; a loop
  that has not beaten for a whole window (default 60 s) is stuck, whatever share of the
  CPU it gets on a crowded server.  Before the first beat (or in a process that never
  beats) a process that kept a CPU busy for the whole window (90% or more) counts as
  stuck too: a learner's session spends its time waiting for keys.  A stuck session says
  so on stderr and ends.

Stdlib only.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time

ENV = "KUBEFLOW_TUI_SESSION_LIMITS"  # "memory_mib,busy_window_s,busy_share"
DEFAULT = (2048, 60.0, 0.9)
EXIT_STUCK = 75


def parse(value: str) -> tuple[int, float, float]:
    """``"2048,60,0.9"`` (any part may be left empty for its default)."""
    parts = (value.split(",") + ["", "", ""])[:3]
    memory = int(parts[0]) if parts[0].strip() else DEFAULT[0]
    window = float(parts[1]) if parts[1].strip() else DEFAULT[1]
    share = float(parts[2]) if parts[2].strip() else DEFAULT[2]
    if memory < 64 or window <= 0 or not 0 < share <= 1:
        raise ValueError(f"bad session limits {value!r}")
    return memory, window, share


_active = False
_last_beat: float | None = None


def active() -> bool:
    """True once :func:`apply` ran in this process (the app then calls :func:`beat`)."""
    return _active


def beat() -> None:
    """The event loop is alive (called every second from the app's loop)."""
    global _last_beat
    _last_beat = time.monotonic()


def _stuck(message: str) -> None:
    sys.stderr.write(f"kubeflow-tui: {message}; ending this session\n")
    sys.stderr.flush()
    os._exit(EXIT_STUCK)


def _watchdog(window: float, share: float, tick: float) -> None:
    samples: list[tuple[float, float]] = []
    while True:
        time.sleep(tick)
        now, cpu = time.monotonic(), time.process_time()
        last = _last_beat
        if last is not None and now - last >= window:
            _stuck(f"the app did not respond for {now - last:.0f} s")
        samples.append((now, cpu))
        while len(samples) > 2 and now - samples[1][0] >= window:
            samples.pop(0)
        t0, c0 = samples[0]
        if now - t0 >= window and (cpu - c0) / (now - t0) >= share:
            _stuck(f"it kept a CPU busy for {now - t0:.0f} s")


def apply(value: str | None = None) -> tuple[int, float, float]:
    """Apply the limits named by ``value`` (default: the environment variable)."""
    memory, window, share = parse(value if value is not None else os.environ.get(ENV, ""))
    limit = memory * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        os.nice(5)
    except OSError:
        pass
    global _active
    _active = True
    threading.Thread(target=_watchdog, args=(window, share, min(5.0, window / 4)),
                     name="session-watchdog", daemon=True).start()
    return memory, window, share
