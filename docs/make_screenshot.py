"""Export the README screenshot: the app at 120x36 on the ClusterIP scenario, stepped to
the DNAT.  Run from the repository root: ``python docs/make_screenshot.py``."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


async def main() -> None:
    os.environ.setdefault("KUBEFLOW_TUI_DATA_DIR", tempfile.mkdtemp(prefix="kubeflow-shot-"))
    from kubeflow_tui.tui.app import KubeflowApp

    app = KubeflowApp(str(REPO / "scenarios" / "clusterip.yaml"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.5)
        for _ in range(40):
            screen = app.screen
            trace = getattr(screen, "trace", None)
            if trace is not None and trace.steps[screen.index].kind == "dnat":
                break
            await pilot.press("right")
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        app.save_screenshot(filename="screenshot.svg", path=str(REPO / "docs"))


if __name__ == "__main__":
    asyncio.run(main())
