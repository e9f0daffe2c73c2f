#!/usr/bin/env python3
"""Playback frame rate of the wire picture (``WireView``) while a packet moves: run by hand.

    python benchmarks/wire_playback.py            # 120x40, loadbalancer via-other-node
    python benchmarks/wire_playback.py --size 80x24 --flow clusterip:pod-other-node

A headless Textual app holds one ``WireView`` bound to its ``trace``/``step``; the bench
steps onto every ``link`` step of the flow in turn and waits until the packet has arrived,
so every frame measured is a frame of a packet moving along a link (the path so far drawn
heavy, the label updated).  Prints ONE JSON object:

* ``fps``: frames per second while a packet moves (from the step onto the link to the
  last frame on screen, over every move of the flow), at the widget's designed rate
  (``WireView.FPS`` = 60, ``FRAMES`` = 24 per link: 0.4 s a link).  Target >= 30.  A frame
  is one tick of the widget's animation; it is on screen when Textual has painted it, or
  at once when it changes no cell (the packet still in the same cell).  ``painted``:
  how many paints that took.
* ``max_gap_ms``: the longest time between two consecutive frames on screen during one
  move (what a learner sees as a stall).  Target <= 50 ms.  ``p99_gap_ms``: the 99th percentile of
  those gaps; ``gaps_over_50ms``: how many there were, ``busy_gaps_over_50ms``: how many
  of them this process spent more than 50 ms of CPU time in (the rest were spent waiting
  for a CPU that other jobs on the machine held), ``max_gap_cpu_ms``: the CPU time this
  process used during the longest gap.
* ``lines_per_frame``: how many of the widget's lines Textual asked it to render per frame
  of a move (median / max): the lines that changed, not the whole picture.
* ``load_avg``: the machine's 1-minute load average before and after the run, and
  ``cpus``: the frame gap depends on what else the CPUs are doing.
* ``frame_ms``: the cost of one frame of the widget itself (layout cached; building the
  picture and turning it into terminal lines, as ``render_line`` does), median / max over
  every frame of the flow, measured outside the app.
* ``uncapped_fps``: the same moves with the widget's timer at 1000/s and Textual's
  ``TEXTUAL_FPS`` at 1000: how many frames per second the whole pipeline can turn out
  (headroom over the 30 the design asks for).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pictures"))


WIRE_FPS, WIRE_FRAMES = 60, 24


def _flow(text: str) -> tuple[str, str]:
    name, _, flow = text.partition(":")
    return name, flow


async def moves(size: tuple[int, int], name: str, flow: str, *, fps: int, frames: int) -> dict:
    from harness import PictureApp

    from kubeflow_tui.tui.widgets.wire import WireView

    ticks: list[tuple[float, float, bool]] = []  # (when, CPU time, did it change the picture)
    paints: list[tuple[float, float]] = []  # (when, CPU time) Textual painted the widget
    gaps: list[float] = []
    gap_cpu: list[float] = []  # the CPU time this process used during each gap
    lines: list[int] = []  # lines rendered per painted frame
    frame_lines: list[int] = [0]

    class TimedWire(WireView):
        def _tick(self) -> None:
            before = list(self._strips)
            t, cpu = time.perf_counter(), time.process_time()
            super()._tick()
            ticks.append((t, cpu, self._rows() != before))

        def render_lines(self, crop):  # noqa: ANN001, ANN201 - one call per paint of the widget
            paints.append((time.perf_counter(), time.process_time()))
            frame_lines.append(0)
            return super().render_lines(crop)

        def render_line(self, y: int):  # noqa: ANN201 - only the lines marked dirty
            frame_lines[-1] += 1
            return super().render_line(y)

    WireView.FPS, WireView.FRAMES = fps, frames
    app = PictureApp("wire", name, flow, 0)
    app.widget_class = TimedWire
    moving = 0.0
    count = 0
    painted = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        wire = app.query_one(TimedWire)
        links = [s.index for s in app.trace.steps if s.kind == "link" and s.index > 0]
        for link in links:
            app.step = link - 1
            await pilot.pause()
            ticks.clear()
            paints.clear()
            del frame_lines[:]
            app.step = link
            start = (time.perf_counter(), time.process_time())
            while wire.moving:
                await asyncio.sleep(0.001)
            await pilot.pause()
            # a frame is on screen when it is painted (a frame that changes no cell of the
            # picture, the packet still in the same cell, has nothing to wait for)
            shown = [start]
            for t, cpu, changed in ticks:
                shown.append(next((p for p in paints if p[0] >= t), (t, cpu)) if changed else (t, cpu))
            shown.sort()
            moving += shown[-1][0] - shown[0][0]
            count += len(ticks)
            painted += len(paints)
            gaps.extend(b[0] - a[0] for a, b in zip(shown, shown[1:]))
            gap_cpu.extend(b[1] - a[1] for a, b in zip(shown, shown[1:]))
            lines.extend(frame_lines[1:])  # (the first paint of a move redraws the new step)
            if os.environ.get("WIRE_BENCH_DEBUG"):
                print([round((b[0] - a[0]) * 1000) for a, b in zip(shown, shown[1:])], file=sys.stderr)
    return {"moves": len(links), "frames": count, "painted": painted, "seconds": round(moving, 3),
            "fps": round(count / moving, 1) if moving else 0.0,
            "max_gap_ms": round(max(gaps) * 1000, 1) if gaps else 0.0,
            "p99_gap_ms": round(_percentile(gaps, 99) * 1000, 1) if gaps else 0.0,
            "gaps_over_50ms": sum(g > 0.050 for g in gaps),
            # of those, how many this process spent > 50 ms of CPU in (its own work, not
            # waiting for a CPU the other jobs on the machine held)
            "busy_gaps_over_50ms": sum(g > 0.050 and c > 0.050 for g, c in zip(gaps, gap_cpu)),
            "max_gap_cpu_ms": round(gap_cpu[gaps.index(max(gaps))] * 1000, 1) if gaps else 0.0,
            "median_gap_ms": round(statistics.median(gaps) * 1000, 1) if gaps else 0.0,
            "lines_per_frame": {"median": statistics.median(lines) if lines else 0,
                                "max": max(lines) if lines else 0}}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def frame_cost(size: tuple[int, int], name: str, flow: str) -> dict:
    from picture_traces import scenario, trace_of
    from kubeflow_tui.pictures.wire import Site, WireLayout, WirePicture

    t = trace_of(name, flow)
    layout = WireLayout(Site.from_scenario(scenario(name)).with_trace_hosts(t), *size)
    times = []
    for s in t.steps:
        if s.kind != "link":
            continue
        for f in range(13):
            t0 = time.perf_counter()
            WirePicture(layout, t, s.index, f / 12).canvas().segment_rows(None)
            times.append(time.perf_counter() - t0)
    return {"frames": len(times), "median_ms": round(statistics.median(times) * 1000, 2),
            "max_ms": round(max(times) * 1000, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--flow", default="loadbalancer:via-other-node", help="SCENARIO:FLOW")
    ap.add_argument("--uncapped", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from kubeflow_tui.tui.widgets.wire import WireView

    global WIRE_FPS, WIRE_FRAMES
    WIRE_FPS, WIRE_FRAMES = WireView.FPS, WireView.FRAMES
    w, _, h = args.size.partition("x")
    size = (int(w), int(h))
    name, flow = _flow(args.flow)
    if args.uncapped:
        print(json.dumps(asyncio.run(moves(size, name, flow, fps=1000, frames=60))))
        return 0
    load_before = os.getloadavg()[0]
    capped = asyncio.run(moves(size, name, flow, fps=WIRE_FPS, frames=WIRE_FRAMES))
    load_after = os.getloadavg()[0]
    import subprocess

    env = dict(os.environ, TEXTUAL_FPS="1000")
    out = subprocess.run([sys.executable, __file__, "--size", args.size, "--flow", args.flow, "--uncapped"],
                         capture_output=True, text=True, env=env, check=True).stdout
    uncapped = json.loads(out.strip().splitlines()[-1])
    result = {
        "size": args.size,
        "flow": args.flow,
        "fps": capped["fps"],
        "max_gap_ms": capped["max_gap_ms"],
        "p99_gap_ms": capped["p99_gap_ms"],
        "gaps_over_50ms": capped["gaps_over_50ms"],
        "busy_gaps_over_50ms": capped["busy_gaps_over_50ms"],
        "max_gap_cpu_ms": capped["max_gap_cpu_ms"],
        "median_gap_ms": capped["median_gap_ms"],
        "lines_per_frame": capped["lines_per_frame"],
        "load_avg": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "cpus": os.cpu_count(),
        "moves": capped["moves"],
        "frames": capped["frames"],
        "painted": capped["painted"],
        "frame_ms": frame_cost(size, name, flow),
        "uncapped_fps": uncapped["fps"],
        "uncapped_max_gap_ms": uncapped["max_gap_ms"],
        "targets": {"fps": ">= 30", "max_gap_ms": "<= 50"},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
