"""Limits for one served session, so one that misbehaves ends without harming the others.

``kubeflow-tui serve`` starts one app process per browser tab; each applies these limits
to itself first (``serve`` sets ``KUBEFLOW_TUI_SESSION_LIMITS``):

* address space capped (``RLIMIT_AS``, default 2048 MiB): a session that runs away with
  memory gets MemoryError in its own process, never the machine's OOM killer choosing;
* niceness +5: the server and the other sessions keep the CPU first;
* a watchdog thread: a process that kept a CPU busy for a whole window (default 60 s of
  90% or more) is stuck (a learner's session spends its time waiting for keys), so it
  says so on stderr and ends.

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


def _watchdog(window: float, share: float, tick: float) -> None:
    samples: list[tuple[float, float]] = []
    while True:
        time.sleep(tick)
        now, cpu = time.monotonic(), time.process_time()
        samples.append((now, cpu))
        while len(samples) > 2 and now - samples[1][0] >= window:
            samples.pop(0)
        t0, c0 = samples[0]
        if now - t0 >= window and (cpu - c0) / (now - t0) >= share:
            sys.stderr.write(
                f"kubeflow-tui: this session kept a CPU busy for {now - t0:.0f} s; ending it\n"
            )
            sys.stderr.flush()
            os._exit(EXIT_STUCK)


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
    threading.Thread(target=_watchdog, args=(window, share, min(5.0, window / 4)),
                     name="session-watchdog", daemon=True).start()
    return memory, window, share
