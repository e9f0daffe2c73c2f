#!/usr/bin/env python3
"""``kubeflow-tui trace --iptables-save DUMP`` as a whole command, against ``iptables-restore --test``.

    sudo .venv/bin/python benchmarks/bench_trace_cmd.py              # 10,000 Services x 2 (150k lines), 5 runs
    sudo .venv/bin/python benchmarks/bench_trace_cmd.py --quick      # 1,000 Services, 3 runs
    .venv/bin/python benchmarks/bench_trace_cmd.py --services 10000 --endpoints 3 --runs 7

What a learner who pastes a real node's dump waits for: a fresh process that starts Python,
imports what the command needs, reads and parses the dump, traces one packet to a ClusterIP
in the middle of it, and prints the trace (rich text to a pipe).  The reference is what the
kernel's own tool does with the same file: ``iptables-restore --test`` (parse and check it,
commit nothing), run in a scratch network namespace; that needs root, and without it only
the command's own times are printed.  The two run alternately, ``--runs`` times each, so a
machine shared with other jobs slows both alike; the figures are the medians of wall time
and of CPU time (user + system of the child, from ``getrusage``), and their ratios, with the
load average before and after (on a shared machine wall time is mostly waiting for a CPU).
Target: ``ratio_wall`` <= 1.0.  Prints one JSON object (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
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
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "netfilter"))

TARGET_RATIO = 1.0


def _cluster_ip(s: int) -> str:
    # the formula of tests/fixtures/netfilter/kube_dump.py
    return f"10.{96 + s // 65536 % 32}.{s // 256 % 256}.{s % 256}"


def _timed(argv: list[str], stdin_path: Path | None = None, env: dict[str, str] | None = None
           ) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the child, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    if stdin_path is not None:
        with open(stdin_path, "rb") as f:
            r = subprocess.run(argv, stdin=f, capture_output=True, env=env)
    else:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--endpoints", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1,000 Services, 3 runs")
    ap.add_argument("--out", metavar="FILE", help="also write the JSON to FILE")
    a = ap.parse_args(argv)
    if a.quick:
        a.services, a.runs = 1000, 3

    from kube_dump import kube_proxy_dump  # tests/fixtures/netfilter/kube_dump.py

    exe = shutil.which("kubeflow-tui", path=str(Path(sys.executable).parent)) or shutil.which("kubeflow-tui")
    if exe is None:
        print("bench_trace_cmd: kubeflow-tui is not installed next to this Python", file=sys.stderr)
        return 2
    dst = f"{_cluster_ip(a.services // 2)}:80"
    cmd = [exe, "trace", "--iptables-save", "DUMP", "--src", "10.244.1.7", "--dst", dst]

    restore = shutil.which("iptables-restore")
    netns = f"kft-bench-{uuid.uuid4().hex[:6]}"
    ref_note = ""
    if restore is None:
        ref_note = "iptables-restore not found"
    elif os.geteuid() != 0:
        ref_note = "not root: iptables-restore --test needs CAP_NET_ADMIN"
    elif subprocess.run(["ip", "netns", "add", netns], capture_output=True).returncode != 0:
        ref_note = "ip netns add failed"

    with tempfile.TemporaryDirectory(prefix="kft-bench-") as tmp:
        dump = Path(tmp) / f"kube-{a.services}x{a.endpoints}.rules"
        dump.write_text(kube_proxy_dump(a.services, a.endpoints))
        lines = dump.read_text().count("\n")
        print(f"dump: {a.services} Services x {a.endpoints} endpoints, {lines} lines", file=sys.stderr)
        cmd[cmd.index("DUMP")] = str(dump)
        ref_cmd = ["ip", "netns", "exec", netns, restore or "iptables-restore", "--test"]
        mine: list[tuple[float, float]] = []
        ref: list[tuple[float, float]] = []
        # as installed: "pip install" leaves the modules compiled to bytecode (even with
        # PYTHONDONTWRITEBYTECODE set); run from a checkout, they are compiled into a scratch
        # bytecode tree by the unmeasured first run, which also warms the page cache
        env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        load_before = os.getloadavg()
        try:
            _timed(cmd, env=env)
            for i in range(a.runs):
                w, c, r = _timed(cmd, env=env)
                if r.returncode != 0 or b"delivered" not in r.stdout and b"DNAT" not in r.stdout:
                    print(f"bench_trace_cmd: the command failed: {r.stderr.decode()[-400:]}", file=sys.stderr)
                    return 1
                mine.append((w, c))
                if not ref_note:
                    w2, c2, r2 = _timed(ref_cmd, dump)
                    if r2.returncode != 0:
                        ref_note = f"iptables-restore --test refused the dump: {r2.stderr.decode()[-300:]}"
                    else:
                        ref.append((w2, c2))
                print(f"run {i + 1}: kubeflow-tui {w:.3f} s (CPU {c:.3f} s)"
                      + (f"; iptables-restore --test {ref[-1][0]:.3f} s (CPU {ref[-1][1]:.3f} s)" if ref else ""),
                      file=sys.stderr)
        finally:
            if not ref_note or ref:
                subprocess.run(["ip", "netns", "del", netns], capture_output=True)

    med = statistics.median
    out = {
        "command": " ".join(["kubeflow-tui", *cmd[1:3], "DUMP", *cmd[4:]]),
        "dump_services": a.services,
        "dump_endpoints_per_service": a.endpoints,
        "dump_lines": lines,
        "runs": a.runs,
        "wall_s": med(w for w, _ in mine),
        "cpu_s": med(c for _, c in mine),
        "wall_s_runs": [round(w, 3) for w, _ in mine],
        "load_average_before": load_before,
        "load_average": os.getloadavg(),
    }
    if ref:
        out.update({
            "iptables_restore_test_wall_s": med(w for w, _ in ref),
            "iptables_restore_test_cpu_s": med(c for _, c in ref),
            "ratio_wall": med(w for w, _ in mine) / med(w for w, _ in ref),
            "ratio_cpu": med(c for _, c in mine) / med(c for _, c in ref),
            "target_ratio_wall": TARGET_RATIO,
        })
    else:
        out["reference_note"] = ref_note
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
