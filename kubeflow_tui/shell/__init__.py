"""A simulated node shell over a running ClusterSim: iptables, iptables-save, conntrack,
kubectl, curl, nc, ip, hostname, nslookup, dig -- printing what the real tools print.

    from kubeflow_tui.shell import Shell
    sh = Shell(sim, "node-a")
    r = sh.run("iptables -t nat -L KUBE-SERVICES -n --line-numbers")
    r.stdout, r.stderr, r.exit_code, r.trace, r.clear

``run_repl(sim, host, stdin, stdout)`` is the plain-terminal loop the CLI uses.
"""

from .base import CommandError, ShellResult
from .core import Shell
from .repl import run_repl

__all__ = ["Shell", "ShellResult", "CommandError", "run_repl"]
