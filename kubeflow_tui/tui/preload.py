"""What a served session needs beyond the app's own modules, for the fork server of
``serve`` (kubeflow_tui/fork_server.py) to do once, ahead of every session:

* import the driver textual-serve's sessions run with (``TEXTUAL_DRIVER``), which textual
  imports only when an app starts;
* :func:`warm_up`: run the app once, headless, through what every session shows first (a
  class's sign-in form, then lesson 1 with its text), so that what Textual works out once
  per process and keeps (its caches of parsed selectors, styles and colours, text widths,
  the modules it imports the first time an app runs) is every child's from its start.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time

import textual.drivers.web_driver  # noqa: F401

WARM_UP_NAME = "warm-up"
WARM_UP_PASSPHRASE = "warm-up-passphrase"


def warm_up(timeout: float = 30.0) -> bool:
    """Sign in to a throwaway class in a temporary folder and open lesson 1 until its
    text has mounted, headless at 80x24; nothing of it is kept (the folder is removed) and
    no thread of it is left (the fork server forks next).  False if it did not get there
    within ``timeout`` seconds (the sessions then only start a little slower)."""
    from kubeflow_tui.classroom import Classroom
    from kubeflow_tui.tui.app import KubeflowApp

    folder = tempfile.mkdtemp(prefix="kubeflow-tui-warm-up-")
    reached = False
    try:
        classroom = Classroom(WARM_UP_NAME, root=folder)
        classroom.ensure()
        app = KubeflowApp(classroom=classroom)

        async def student(pilot) -> None:
            nonlocal reached
            deadline = time.monotonic() + timeout
            typed = False
            while time.monotonic() < deadline:
                await pilot.pause(0.02)
                screen = app.screen
                if not typed and screen.query("#passphrase"):
                    await pilot.press(*WARM_UP_NAME, "tab", *WARM_UP_PASSPHRASE, "enter")
                    typed = True
                elif getattr(screen, "lesson", None) is not None and screen.query("#lesson-md MarkdownBlock"):
                    await pilot.pause(0.1)
                    reached = True
                    break
            app.exit(0)

        asyncio.run(app.run_async(headless=True, size=(80, 24), auto_pilot=student))
    except Exception:  # noqa: BLE001 - a warm-up that fails costs only its time
        reached = False
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for thread in threading.enumerate():  # (its workers have ended; wait for any that has not)
        if thread is not threading.current_thread():
            thread.join(timeout=5.0)
    return reached
