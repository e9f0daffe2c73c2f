"""Record real kernel output for the parser tests: ``sudo python -m tests.kernel.record_fixtures``.

Runs the hand-made self-test flows (``handmade.py``) and writes, per flow,
``fixtures/<flow>.trace.txt`` (xtables-monitor --trace), ``.events.txt`` (conntrack -E),
``.conntrack-open.txt`` and ``.conntrack.txt`` (conntrack -L while open / after close).
"""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

from .handmade import SCENARIO, rules
from .netns import KernelCluster

FIXTURES = Path(__file__).with_name("fixtures")


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    versions = [
        f"kernel {platform.release()}",
        subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout.strip(),
        subprocess.run(["conntrack", "--version"], capture_output=True, text=True).stdout.strip(),
    ]
    (FIXTURES / "VERSIONS.txt").write_text("\n".join(versions) + "\n")
    with KernelCluster(SCENARIO, rules) as kc:
        for flow in SCENARIO.flows:
            res = kc.run_flow(flow.name)
            cap = res.hosts["node-a"]
            (FIXTURES / f"{flow.name}.trace.txt").write_text(cap.trace_text)
            (FIXTURES / f"{flow.name}.events.txt").write_text(cap.events_text)
            (FIXTURES / f"{flow.name}.conntrack-open.txt").write_text(cap.conntrack_open_text)
            (FIXTURES / f"{flow.name}.conntrack.txt").write_text(cap.conntrack_text)
            print(res.summary())


if __name__ == "__main__":
    main()
