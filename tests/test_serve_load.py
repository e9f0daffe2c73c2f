"""benchmarks/serve_load.py end to end, small: real `serve --class`, real websockets, the
sign-in typed as the page types it (step by step, and in one burst), students checked.

Its figures are not asserted (speed is the benchmark's business, not a test's); what it
reports is: the JSON keys the issue names, no failed session, every student apart with
their progress, and the fork server's sessions costing less CPU than the reference's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("textual_serve")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> dict:
    done = subprocess.run([sys.executable, "benchmarks/serve_load.py", "--sessions", "3",
                           "--hold", "0.2", "--timeout", "120", "--json", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_three_students_step_by_step_and_against_the_reference():
    result = run("--compare")
    for key in ("sessions", "failures", "p50_first_screen_s", "p95_first_screen_s",
                "rss_mb_per_session"):
        assert key in result
    assert result["sessions"] == 3 and result["failures"] == 0
    assert result["progress_problems"] == [] and result["reference"]["progress_problems"] == []
    assert result["fork_server"] and not result["reference"]["fork_server"]
    # the reference imports the app in every session; the fork server's sessions do not
    assert result["cpu_s_per_session"] < result["reference"]["cpu_s_per_session"]


def test_three_students_typing_everything_at_once():
    result = run("--burst")
    assert result["failures"] == 0 and result["progress_problems"] == []
