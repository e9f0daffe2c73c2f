#!/usr/bin/env python3
"""Playback frame rate of the wire picture (``WireView``) while a packet moves: run by hand.

    python benchmarks/wire_playback.py            # 120x40, loadbalancer via-other-node
    python benchmarks/wire_playback.py --size 80x24 --flow clusterip:pod-other-node

A headless Textual app holds one ``WireView`` bound to its ``trace``/``step``; the bench
steps onto every ``link`` step of the flow in turn and waits until the packet has arrived,
so every frame measured is a frame of a packet moving along a link (the path so far drawn
heavy, the label updated).  Prints ONE JSON object:

* ``fps``: frames drawn per second while a packet moves (first to last frame of each
  move, over every move of the flow), at the widget's designed rate
  (``WireView.FPS`` = 60, ``FRAMES`` = 24 per link: 0.4 s a link).  Target >= 30.
* ``max_gap_ms``: the longest time between two consecutive frames of one move (what a
  learner sees as a stall).  Target <= 50 ms.
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

    stamps: list[float] = []
    gaps: list[float] = []

    class TimedWire(WireView):
        def render_line(self, y: int):  # noqa: ANN201
            if y == 0:  # a frame starts with its first line
                stamps.append(time.perf_counter())
            return super().render_line(y)

    WireView.FPS, WireView.FRAMES = fps, frames
    app = PictureApp("wire", name, flow, 0)
    app.widget_class = TimedWire
    moving = 0.0
    count = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        wire = app.query_one(TimedWire)
        links = [s.index for s in app.trace.steps if s.kind == "link" and s.index > 0]
        for link in links:
            app.step = link - 1
            await pilot.pause()

            stamps.clear()
            t0 = time.perf_counter()
            app.step = link
            while wire.moving:
                await asyncio.sleep(0.001)
            await pilot.pause()
            del t0
            if len(stamps) > 1:  # frames of this move: from the first to the last drawn
                moving += stamps[-1] - stamps[0]
                count += len(stamps) - 1
            gaps.extend(b - a for a, b in zip(stamps, stamps[1:]))
            if os.environ.get("WIRE_BENCH_DEBUG"):
                print([round((b - a) * 1000) for a, b in zip(stamps, stamps[1:])], file=sys.stderr)
    return {"moves": len(links), "frames": count + len(links), "seconds": round(moving, 3),
            "fps": round(count / moving, 1) if moving else 0.0,
            "max_gap_ms": round(max(gaps) * 1000, 1) if gaps else 0.0,
            "median_gap_ms": round(statistics.median(gaps) * 1000, 1) if gaps else 0.0}


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
    capped = asyncio.run(moves(size, name, flow, fps=WIRE_FPS, frames=WIRE_FRAMES))
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
        "median_gap_ms": capped["median_gap_ms"],
        "moves": capped["moves"],
        "frames": capped["frames"],
        "frame_ms": frame_cost(size, name, flow),
        "uncapped_fps": uncapped["fps"],
        "uncapped_max_gap_ms": uncapped["max_gap_ms"],
        "targets": {"fps": ">= 30", "max_gap_ms": "<= 50"},
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
