"""The simulated shell: one command line in, what the real tools would print out.

``Shell(sim, host).run(line) -> ShellResult``.  A line is split with shlex (bash quoting),
may hold pipelines into a few text filters (``| grep``, ``head``, ``tail``, ``wc -l``,
``sort``), ``;``/``&&``/``||`` lists and ``2>/dev/null``-style redirections.  Every
command is wrapped: whatever goes wrong inside comes back as an error text and exit
code, never a Python traceback.
"""

from __future__ import annotations

import re
import shlex
from typing import Callable

from .base import CommandError, ShellContext, ShellResult, ShellState
from .conntrack_cmd import run_conntrack
from .iptables_cmd import TABLES, chain_names, run_iptables, run_iptables_save
from .legacy_cmd import run_iptables_legacy, run_iptables_legacy_save, warn_list, warn_save
from .kubectl_cmd import resource_names, run_kubectl
from .nft_cmd import run_nft
from .sys_cmd import run_ss, run_sysctl, run_wget
from .tcpdump_cmd import run_tcpdump
from .ping_cmd import run_ping
from .traceroute_cmd import run_traceroute
from .net_cmd import (
    dns_server,
    run_curl,
    run_dig,
    run_host,
    run_hostname,
    run_ip,
    run_nc,
    pod_resolv_conf,
    run_nslookup,
    side_output,
    uses_cluster_dns,
)

Command = Callable[[ShellContext, list[str]], ShellResult]

#: name -> one line of help (the `help` command prints these)
HELP_LINES = {
    "iptables": "list and change this node's rules: -t TABLE -L [CHAIN] -n -v -x --line-numbers, -S, -A/-I/-D/-R, -F, -N, -X, -E, -P",
    "iptables-save": "print this node's rules as iptables-save does ([-t TABLE] [-c])",
    "iptables-legacy": "the node's legacy x_tables backend (rules `iptables` does not show): as iptables",
    "iptables-legacy-save": "print the legacy backend's tables as iptables-legacy-save does",
    "nft": "nftables mode: nft [-a] list ruleset | tables | table ip kube-proxy | chain ip kube-proxy CHAIN | "
           "map ip kube-proxy service-ips | set ip kube-proxy cluster-ips | chains | sets | maps; iptables mode: "
           "nft [-s] list ruleset | table ip nat | chain ip nat CHAIN (iptables-nft's tables)",
    "conntrack": "connection tracking table: -L [filters], -D [filters], -F, -C, -E (events of the next connection)",
    "kubectl": "get svc|endpoints|endpointslices|pods|nodes|deployments [-n NS|-A] [-o wide|yaml|json], describe svc NAME, scale deployment NAME --replicas N, delete pod NAME",
    "curl": "open an HTTP connection through the cluster: curl [-v] [--connect-timeout S] [http://]HOST[:PORT][/PATH]",
    "nc": "open a TCP or UDP connection: nc [-z] [-v] [-u] [-w S] HOST PORT",
    "ip": "addresses, links and routes of this host: ip addr, ip [-br] [-s] link, ip route [show table local], "
          "ip route get IP, ip rule, ip neigh",
    "sysctl": "kernel settings the datapath reads: sysctl net.ipv4.ip_forward, -n, -a",
    "ss": "this host's sockets: ss -tlnp, -uan",
    "wget": "fetch a page through the cluster: wget -qO- URL",
    "tcpdump": "the packets of the last connection on this host: tcpdump -i any|eth0|veth-... -nn -c N -e [host H] [port P] [tcp|udp]",
    "hostname": "this host's name (-I: its addresses)",
    "nslookup": "look up a Service name in the cluster DNS",
    "dig": "look up a name in the cluster DNS: dig NAME, +short, +search, +noall +answer, -x IP",
    "ping": "send ICMP echo requests through the cluster: ping [-c COUNT] [-i INTERVAL] [-W TIMEOUT] [-q] HOST",
    "traceroute": "the routers on the way, from the TTL each one runs out at: traceroute [-n] [-q N] [-m MAX] [-w S] HOST",
    "host": "look up a name or an address in the cluster DNS: host NAME, host IP",
    "watch": "one screen of a command as watch shows it: watch -n 1 'iptables -t nat -L -n -v'",
    "help": "this list",
    "history": "the commands typed in this session",
    "clear": "clear the screen",
    "exit": "leave the shell",
}
FILTERS = ("grep", "head", "tail", "wc", "sort", "uniq", "cat", "less", "more", "tee")
EXTRA = ("echo", "cat", "sudo", "whoami", "pwd", "true", "false")


class Shell:
    """A shell on one host of a running ``ClusterSim`` (a node, a pod or a client)."""

    def __init__(self, sim, host: str):
        hosts = sim.topology.hosts
        if host not in hosts:
            # a client of kind node/pod names a process on that node/in that pod
            for c in sim.scenario.clients:
                if c.name == host and c.kind in ("node", "pod"):
                    host = c.node if c.kind == "node" else c.pod
                    break
        if host not in hosts:
            known = ", ".join(hosts)
            raise ValueError(f"no host named {host!r} in this cluster (hosts: {known})")
        self.sim = sim
        self.host = host
        self.state = ShellState(original_pods={p.name for p in sim.scenario.pods})
        self.ctx = ShellContext(sim, host, self.state)
        self.last_exit = 0
        self.commands: dict[str, Command] = {
            "iptables": warn_list(run_iptables),
            "iptables-save": warn_save(run_iptables_save),
            "iptables-nft": warn_list(run_iptables),
            "iptables-nft-save": warn_save(run_iptables_save),
            "iptables-legacy": run_iptables_legacy,
            "iptables-legacy-save": run_iptables_legacy_save,
            "conntrack": run_conntrack,
            "nft": run_nft,
            "kubectl": run_kubectl,
            "curl": run_curl,
            "nc": run_nc,
            "netcat": run_nc,
            "ip": run_ip,
            "hostname": run_hostname,
            "nslookup": run_nslookup,
            "dig": run_dig,
            "sysctl": run_sysctl,
            "ss": run_ss,
            "wget": run_wget,
            "tcpdump": run_tcpdump,
            "host": run_host,
            "ping": run_ping,
            "traceroute": run_traceroute,
        }

    # ------------------------------------------------------------------ public

    @property
    def history(self) -> list[str]:
        return self.state.history

    @property
    def prompt(self) -> str:
        where = "/" if self.ctx.kind == "pod" else "~"
        return f"root@{self.host}:{where}# "

    def run(self, line: str) -> ShellResult:
        """Run one command line and return what it printed."""
        try:
            return self._run(line)
        except Exception as e:  # the last safety net: never a traceback
            return ShellResult(stderr=f"bash: internal error of the simulated shell: {type(e).__name__}: {e}\n",
                               exit_code=1)

    def complete(self, line: str) -> list[str]:
        """Candidates for the word being typed at the end of ``line``."""
        try:
            return self._complete(line)
        except Exception:
            return []

    # ------------------------------------------------------------------ running

    def _run(self, line: str) -> ShellResult:
        text = line.strip()
        if not text:
            return ShellResult(exit_code=self.last_exit)
        if not text.startswith("#"):
            self.state.history.append(line.rstrip("\n"))
        try:
            lex = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
            lex.whitespace_split = True
            lex.commenters = "#"
            tokens = list(lex)
        except ValueError:
            quote = '"' if text.count('"') % 2 else "'"
            return self._done(ShellResult(stderr=f"bash: unexpected EOF while looking for matching `{quote}'\n",
                                          exit_code=2))
        if not tokens:
            return ShellResult(exit_code=self.last_exit)
        # lists: a ; b, a && b, a || b
        total = ShellResult()
        op = ";"
        seg: list[str] = []
        segments: list[tuple[str, list[str]]] = []
        for tok in tokens:
            if tok in (";", "&&", "||"):
                segments.append((op, seg))
                op, seg = tok, []
            elif tok == "&":
                return self._done(ShellResult(stderr="bash: background jobs are not available in this shell\n",
                                              exit_code=1))
            else:
                seg.append(tok)
        segments.append((op, seg))
        last: ShellResult | None = None
        for op, seg in segments:
            if not seg:
                if op != ";" or segments.index((op, seg)) < len(segments) - 1:
                    near = op if op != ";" else ";"
                    return self._done(ShellResult(stdout=total.stdout, stderr=total.stderr +
                                                  f"bash: syntax error near unexpected token `{near}'\n",
                                                  exit_code=2))
                continue
            if last is not None:
                if op == "&&" and last.exit_code != 0:
                    continue
                if op == "||" and last.exit_code == 0:
                    continue
            r = self._pipeline(seg)
            total.parts = total.chunks + r.chunks
            total.stdout += r.stdout
            total.stderr += r.stderr
            total.exit_code = r.exit_code
            total.trace = r.trace or total.trace
            total.clear = total.clear or r.clear
            if r.clear:
                total.stdout, total.stderr, total.parts = r.stdout, r.stderr, r.chunks
            last = r
            if r.exit:
                total.exit = True
                break
        return self._done(total)

    def _done(self, r: ShellResult) -> ShellResult:
        self.last_exit = r.exit_code
        return r

    def _pipeline(self, tokens: list[str]) -> ShellResult:
        stages: list[list[str]] = [[]]
        for tok in tokens:
            if tok == "|":
                stages.append([])
            else:
                stages[-1].append(tok)
        if any(not s for s in stages):
            return ShellResult(stderr="bash: syntax error near unexpected token `|'\n", exit_code=2)
        result: ShellResult | None = None
        err = ""
        for k, stage in enumerate(stages):
            argv, redir = self._redirections(stage)
            if argv is None:
                return ShellResult(stderr=redir, exit_code=2)
            if k == 0:
                r = self._command(argv)
            elif not argv:  # only redirections ("a | 2>/dev/null"): bash runs nothing
                r = ShellResult()
            else:
                r = self._filter(argv, result.stdout)
            # bash applies redirections left to right: `>/dev/null 2>&1` silences both,
            # `2>&1 >/dev/null` sends stderr where stdout went before
            fd1, fd2 = "out", "err"
            for mark in redir.split():
                if mark == ">null":
                    fd1 = "null"
                elif mark == "2>null":
                    fd2 = "null"
                elif mark == "2>&1":
                    fd2 = fd1
            streams = {"out": "", "err": "", "null": ""}
            streams[fd1] += r.stdout
            streams[fd2] += r.stderr
            r.stdout, r.stderr = streams["out"], streams["err"]
            err += r.stderr
            r.stderr = ""
            trace = result.trace if result is not None else None
            result = r
            result.trace = result.trace or trace
        result.stderr = err
        return result

    def _redirections(self, tokens: list[str]) -> tuple[list[str] | None, str]:
        argv: list[str] = []
        marks: list[str] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok in (">", ">>", ">&", "<", "<<", "&>"):
                fd = "1"
                if argv and argv[-1] in ("1", "2") and tok != "<":
                    fd = argv.pop()
                if i + 1 >= len(tokens):
                    return None, "bash: syntax error near unexpected token `newline'\n"
                target = tokens[i + 1]
                i += 2
                if tok == "<":
                    continue
                if tok == ">&" or (tok == ">" and target.startswith("&")):
                    if target.lstrip("&") == "1" and fd == "2":
                        marks.append("2>&1")
                    continue
                if tok == "&>":
                    marks += ["2>null", ">null"]
                    continue
                marks.append("2>null" if fd == "2" else ">null")
                continue
            argv.append(tok)
            i += 1
        return argv, " ".join(marks)

    def _command(self, argv: list[str]) -> ShellResult:
        while argv and (argv[0] == "sudo" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0])):
            argv = argv[1:]
        if not argv:
            return ShellResult()
        name, args = argv[0], argv[1:]
        if "/" in name:
            name = name.rsplit("/", 1)[1] or name
        fn = self.commands.get(name)
        try:
            if name == "kubectl" and args[:1] == ["exec"]:
                r = self._kubectl_exec(args[1:])
            elif name == "watch":
                r = self._watch(list(args))
            elif fn is not None:
                r = fn(self.ctx, args)
            else:
                return self._builtin(name, args)
            if r.trace is not None and self.ctx.is_node:
                # what this node's xtables-monitor --trace and an armed conntrack -E saw
                side_out, side_err = side_output(self.ctx, r.trace)
                chunks = r.chunks
                r.stdout = side_out + r.stdout
                r.stderr += side_err
                r.parts = [("out", side_out)] + chunks + [("err", side_err)]
            return r
        except CommandError as e:
            return ShellResult(stdout=e.stdout, stderr=e.stderr, exit_code=e.code)
        except Exception as e:
            return ShellResult(stderr=f"{name}: internal error of the simulator: {type(e).__name__}: {e}\n",
                               exit_code=1)

    def _watch(self, args: list[str]) -> ShellResult:
        """``watch [-n S] [-t] [-d] CMD``: one screen of it (procps watch's title line, then
        the command's output); the simulated shell does not repeat it."""
        interval, title = 2.0, True
        while args and args[0].startswith("-"):
            a = args.pop(0)
            if a in ("-n", "--interval") and args:
                try:
                    interval = max(float(args.pop(0)), 0.1)
                except ValueError:
                    return ShellResult(stderr="watch: failed to parse argument\n", exit_code=1)
            elif a.startswith("-n") and len(a) > 2:
                try:
                    interval = max(float(a[2:]), 0.1)
                except ValueError:
                    return ShellResult(stderr="watch: failed to parse argument\n", exit_code=1)
            elif a in ("-t", "--no-title"):
                title = False
            elif a in ("-d", "--differences", "-x", "--exec", "-c", "--color", "-b", "--beep"):
                pass
            elif a == "--":
                break
            else:
                return ShellResult(stderr=f"watch: invalid option -- '{a.lstrip('-')[:1]}'\n", exit_code=1)
        if not args:
            return ShellResult(stderr="\nUsage:\n watch [options] command\n", exit_code=1)
        line = " ".join(args)
        r = self._run_inner(line)
        head = ""
        if title:
            import time as _time

            left = f"Every {interval:.1f}s: {line}"
            right = f"{self.host}: {_time.strftime('%a %b %e %H:%M:%S %Y', _time.gmtime())}"
            width = 80
            if len(left) + 1 + len(right) > width:
                left = left[:max(width - len(right) - 4, 0)] + "..."
            head = left + " " * max(width - len(left) - len(right), 1) + right + "\n\n"
        return ShellResult(stdout=head + r.stdout + r.stderr, exit_code=0)

    def _run_inner(self, line: str) -> ShellResult:
        saved = list(self.state.history)
        try:
            return self._run(line)
        finally:
            self.state.history[:] = saved

    def _kubectl_exec(self, args: list[str]) -> ShellResult:
        """``kubectl exec [-it] POD [-c C] [-n NS] -- CMD ...``: run CMD in the pod."""
        pod = None
        cmd: list[str] = []
        i = 0
        while i < len(args):
            a = args[i]
            i += 1
            if a == "--":
                cmd = args[i:]
                break
            if a in ("-c", "--container", "-n", "--namespace"):
                i += 1
            elif a.startswith("-"):
                continue
            elif pod is None:
                pod = a[4:] if a.startswith("pod/") else a
            else:
                cmd = args[i - 1:]
                break
        if pod is None:
            raise CommandError("error: pod, type/name or --filename must be specified", 1)
        if not cmd:
            raise CommandError("error: you must specify at least one command for the container", 1)
        h = self.sim.topology.hosts.get(pod)
        if h is None or h.kind != "pod":
            raise CommandError(f'Error from server (NotFound): pods "{pod}" not found', 1)
        inner = Shell(self.sim, pod)
        inner.state.history = []
        name = cmd[0]
        fn = inner.commands.get(name)
        if name in ("iptables", "iptables-save", "conntrack") or fn is None and name not in (
                "hostname", "cat", "echo", "pwd", "whoami", "true", "false", "help"):
            if fn is None:
                return ShellResult(stderr=f'error: Internal error occurred: Internal error occurred: error executing '
                                   f'command in container: failed to exec in container: failed to start exec: '
                                   f'OCI runtime exec failed: exec failed: unable to start container process: exec: '
                                   f'"{name}": executable file not found in $PATH: unknown\n', exit_code=1)
        if fn is not None:
            r = fn(inner.ctx, cmd[1:])
        else:
            r = inner._builtin(name, cmd[1:])
        if r.exit_code and not r.exit:
            r.stderr += f"command terminated with exit code {r.exit_code}\n"
        r.clear = r.exit = False
        return r

    # ------------------------------------------------------------------ builtins

    def _builtin(self, name: str, args: list[str]) -> ShellResult:
        if name == "help":
            width = max(len(k) for k in HELP_LINES)
            body = "".join(f"  {k.ljust(width)}  {v}\n" for k, v in HELP_LINES.items())
            extra = ("\nAlso: pipes into grep, head, tail, wc -l, sort; ';', '&&', '||'; 2>/dev/null.\n"
                     "conntrack -E and a raw-table TRACE rule print what the next curl/nc did on this node.\n")
            return ShellResult(stdout=f"Commands on {self.host} ({self.ctx.kind}):\n{body}{extra}")
        if name == "clear":
            return ShellResult(clear=True)
        if name == "history":
            if args and args[0] == "-c":
                self.state.history.clear()
                return ShellResult()
            items = self.state.history
            if args and args[0].isdigit():
                start = max(len(items) - int(args[0]), 0)
            else:
                start = 0
            return ShellResult(stdout="".join(f"{k + 1:>5}  {items[k]}\n" for k in range(start, len(items))))
        if name in ("exit", "logout"):
            code = self.last_exit
            if args:
                try:
                    code = int(args[0]) & 0xFF
                except ValueError:
                    return ShellResult(stderr=f"bash: exit: {args[0]}: numeric argument required\n",
                                       exit_code=2, exit=True)
            return ShellResult(exit_code=code, exit=True)
        if name == "echo":
            newline = True
            if args and args[0] == "-n":
                newline, args = False, args[1:]
            return ShellResult(stdout=" ".join(args) + ("\n" if newline else ""))
        if name == "whoami":
            return ShellResult(stdout="root\n")
        if name == "pwd":
            return ShellResult(stdout=("/" if self.ctx.kind == "pod" else "/root") + "\n")
        if name == "true":
            return ShellResult()
        if name == "false":
            return ShellResult(exit_code=1)
        if name in ("cat", "less", "more"):
            return self._cat(name, args)
        if name in FILTERS:
            return self._filter([name] + args, "")
        return ShellResult(stderr=f"bash: {name}: command not found\n", exit_code=127)

    def _files(self) -> dict[str, str]:
        ctx = self.ctx
        files = {"/etc/hostname": self.host + "\n"}
        if ctx.kind == "pod":
            files["/etc/resolv.conf"] = pod_resolv_conf(ctx).text()
        elif uses_cluster_dns(ctx):
            files["/etc/resolv.conf"] = f"nameserver {dns_server(ctx)}\n"
        else:
            files["/etc/resolv.conf"] = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
        h = ctx.host
        fwd = "1" if h is not None and h.forwarding else "0"
        files["/proc/sys/net/ipv4/ip_forward"] = fwd + "\n"
        if ctx.is_node:
            ct = ctx.sim.conntrack(self.host)
            files["/proc/sys/net/netfilter/nf_conntrack_count"] = f"{len(ct.entries)}\n"
            files["/proc/sys/net/netfilter/nf_conntrack_max"] = f"{ct.max_entries}\n"
        return files

    def _cat(self, name: str, args: list[str]) -> ShellResult:
        files = self._files()
        out = err = ""
        code = 0
        for a in args:
            if a.startswith("-"):
                continue
            if a in files:
                out += files[a]
            else:
                err += f"{name}: {a}: No such file or directory\n"
                code = 1
        return ShellResult(stdout=out, stderr=err, exit_code=code)

    def _filter(self, argv: list[str], text: str) -> ShellResult:
        name, args = argv[0], argv[1:]
        lines = text.splitlines(keepends=True)
        if name in ("cat", "less", "more", "tee"):
            if name == "cat" and [a for a in args if not a.startswith("-")]:
                return self._cat("cat", args)
            return ShellResult(stdout=text)
        if name == "grep":
            invert = icase = count = fixed = word = number = only = False
            e_patterns: list[str] = []
            positional: list[str] = []
            end_opts = False
            i = 0
            while i < len(args):
                a = args[i]
                i += 1
                if a == "--" and not end_opts:
                    end_opts = True
                elif end_opts:
                    positional.append(a)
                elif a == "-e" and i < len(args):
                    e_patterns.append(args[i])
                    i += 1
                elif a.startswith("-") and len(a) > 1 and not positional:
                    for ch in a[1:]:
                        if ch == "v":
                            invert = True
                        elif ch == "i":
                            icase = True
                        elif ch == "c":
                            count = True
                        elif ch == "F":
                            fixed = True
                        elif ch == "w":
                            word = True
                        elif ch == "n":
                            number = True
                        elif ch == "o":
                            only = True
                        elif ch in "EP-":
                            pass
                        else:
                            return ShellResult(stderr=f"grep: invalid option -- '{ch}'\nUsage: grep [OPTION]... "
                                               "PATTERNS [FILE]...\nTry 'grep --help' for more information.\n",
                                               exit_code=2)
                else:
                    positional.append(a)
            pats = e_patterns or positional[:1]
            if not pats:
                return ShellResult(stderr="Usage: grep [OPTION]... PATTERNS [FILE]...\n"
                                          "Try 'grep --help' for more information.\n", exit_code=2)
            regs = []
            for p in pats:
                src = re.escape(p) if fixed else _posix_ere(p)
                if word:
                    src = rf"(?<![\w]){src}(?![\w])"
                try:
                    regs.append(re.compile(src, re.I if icase else 0))
                except re.error:
                    return ShellResult(stderr="grep: Unmatched ( or \\(\n", exit_code=2)
            out = []
            for n, ln in enumerate(lines, 1):
                hit = any(r.search(ln.rstrip("\n")) for r in regs)
                if hit != invert:
                    if only and not invert:
                        for r in regs:
                            out += [m.group(0) + "\n" for m in r.finditer(ln.rstrip("\n")) if m.group(0)]
                    else:
                        out.append(f"{n}:{ln}" if number else ln)
            if count:
                return ShellResult(stdout=f"{len(out)}\n", exit_code=0 if out else 1)
            return ShellResult(stdout="".join(x if x.endswith("\n") else x + "\n" for x in out),
                               exit_code=0 if out else 1)
        if name in ("head", "tail"):
            n = 10
            i = 0
            while i < len(args):
                a = args[i]
                if a == "-n" and i + 1 < len(args):
                    a = "-n" + args[i + 1]
                    i += 1
                m = re.match(r"^-n?\+?(\d+)$", a)
                if m:
                    n = int(m.group(1))
                i += 1
            sel = lines[:n] if name == "head" else (lines[-n:] if n else [])
            return ShellResult(stdout="".join(sel))
        if name == "wc":
            if "-l" in args:
                return ShellResult(stdout=f"{len(lines)}\n")
            words = sum(len(ln.split()) for ln in lines)
            return ShellResult(stdout=f"{len(lines):>7} {words:>7} {len(text.encode()):>7}\n")
        if name == "sort":
            rev = any("r" in a for a in args if a.startswith("-"))
            return ShellResult(stdout="".join(sorted(lines, reverse=rev)))
        if name == "uniq":
            out = []
            for ln in lines:
                if not out or out[-1] != ln:
                    out.append(ln)
            return ShellResult(stdout="".join(out))
        return ShellResult(stderr=f"bash: {name}: command not found\n", exit_code=127)

    # ------------------------------------------------------------------ completion

    def _complete(self, line: str) -> list[str]:
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        if line and not line[-1].isspace() and words:
            cur = words.pop()
        else:
            cur = ""
        # only the last command of a pipeline/list matters
        for k in range(len(words) - 1, -1, -1):
            if words[k] in ("|", ";", "&&", "||"):
                words = words[k + 1:]
                break
        if words and words[0] == "sudo":
            words = words[1:]
        if not words:
            names = sorted(set(self.commands) | set(HELP_LINES) | {"grep", "head", "tail", "wc", "sort"})
            return [n for n in names if n.startswith(cur)]
        cmd, prev = words[0], words[-1]
        cands: list[str] = []
        ctx = self.ctx
        if cmd in ("iptables", "iptables-save", "iptables-nft"):
            table = "filter"
            for k, w in enumerate(words):
                if w in ("-t", "--table") and k + 1 < len(words):
                    table = words[k + 1]
                elif w.startswith("-t") and len(w) > 2 and not w.startswith("--"):
                    table = w[2:]
                elif w.startswith("--table="):
                    table = w.split("=", 1)[1]
            if prev in ("-t", "--table"):
                cands = list(TABLES)
            elif cmd == "iptables" and (prev in ("-L", "-S", "-A", "-D", "-I", "-F", "-X", "-Z", "-R", "-P", "-C",
                                                  "-E", "-j", "-g", "--jump", "--goto")
                                        or re.match(r"^-[nvx]*[LSADIFXZRPCE]$", prev)):
                cands = chain_names(ctx, table)
                if prev in ("-j", "--jump"):
                    cands += ["ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK", "LOG",
                              "TRACE"]
            elif prev in ("-p", "--protocol"):
                cands = ["tcp", "udp", "icmp", "all"]
            elif prev in ("-m", "--match"):
                cands = ["tcp", "udp", "comment", "statistic", "mark", "addrtype", "conntrack", "state", "recent",
                         "multiport"]
            elif cur.startswith("-") or not cur:
                cands = ["-t", "-L", "-S", "-A", "-D", "-I", "-R", "-F", "-N", "-X", "-E", "-P", "-Z", "-C", "-n", "-v",
                         "-x", "--line-numbers", "-p", "-s", "-d", "-i", "-o", "-j", "-g", "-m", "--table",
                         "--list", "--list-rules", "--numeric", "--verbose", "--dport", "--sport",
                         "--to-destination", "--comment"]
                if cmd == "iptables-save":
                    cands = ["-t", "-c", "--table", "--counters"]
            if not cur.startswith("-") and cmd == "iptables" and not cands:
                cands = chain_names(ctx, table)
        elif cmd == "nft":
            table = self.sim.nft_table(ctx.host_name) if ctx.is_node and self.sim.proxy_mode == "nftables" else None
            pos = [w for w in words[1:] if not w.startswith("-")]
            if cur.startswith("-"):
                cands = ["-a", "--handle", "-s", "-v"]
            elif not pos:
                cands = ["list"]
            elif pos == ["list"]:
                cands = ["ruleset", "tables", "table", "chain", "chains", "set", "sets", "map", "maps"]
            elif len(pos) == 2 and pos[1] in ("table", "chain", "set", "map"):
                cands = ["ip"]
            elif len(pos) == 3 and pos[1] in ("table", "chain", "set", "map"):
                cands = (["kube-proxy"] if table is not None or not ctx.is_node
                         else list(self.sim.node_ruleset(ctx.host_name).tables))  # iptables mode: iptables-nft's
            elif len(pos) == 4 and table is None and ctx.is_node and pos[1] == "chain":  # iptables mode: iptables-nft's
                ipt = self.sim.node_ruleset(ctx.host_name).tables.get(pos[3])
                cands = list(ipt.chains) if ipt is not None else []
            elif len(pos) == 4 and table is not None:
                if pos[1] == "chain":
                    cands = list(table.chains)
                elif pos[1] in ("set", "map"):
                    cands = [n for n, st in table.sets.items() if st.is_map == (pos[1] == "map")]
        elif cmd == "conntrack":
            if prev in ("-p", "--proto", "--protonum"):
                cands = ["tcp", "udp", "icmp"]
            elif prev in ("-s", "-d", "-r", "-q", "--src", "--dst", "--orig-src", "--orig-dst", "--reply-src",
                          "--reply-dst"):
                cands = self._addresses()
            else:
                cands = ["-L", "-D", "-F", "-E", "-C", "-G", "-S", "-p", "-s", "-d", "-r", "-q", "--orig-src",
                         "--orig-dst", "--reply-src", "--reply-dst", "--sport", "--dport", "--state", "-o", "-n",
                         "-g", "-j"]
        elif cmd == "kubectl":
            verbs = ["get", "describe", "scale", "delete", "version"]
            pos = [w for w in words[1:] if not w.startswith("-")]
            resources = ["svc", "services", "endpoints", "endpointslices", "pods", "nodes", "deployments"]
            if prev in ("-n", "--namespace"):
                ns = {s.namespace for s in self.sim.scenario.services} | {p.namespace for p in self.sim.scenario.pods}
                cands = sorted(ns)
            elif prev in ("-o", "--output"):
                cands = ["wide", "yaml", "json", "name"]
            elif cur.startswith("-"):
                cands = ["-n", "--namespace", "-A", "--all-namespaces", "-o", "--output", "--replicas"]
            elif len(pos) == 0:
                cands = verbs
            elif len(pos) == 1:
                cands = resources + (["deployment"] if pos[0] == "scale" else []) + (
                    ["pod"] if pos[0] == "delete" else [])
            else:
                from .kubectl_cmd import _RESOURCES

                res = _RESOURCES.get(pos[1].split("/")[0].lower(), "")
                cands = resource_names(ctx, res)
        elif cmd in ("curl", "nc", "netcat", "nslookup", "dig", "ping", "traceroute"):
            names = []
            for svc in self.sim.scenario.services:
                fq = f"{svc.name}.{svc.namespace}.svc.cluster.local"
                names += [svc.name, fq]
                for p in svc.ports:
                    if cmd == "curl":
                        names += [f"{svc.clusterIP}:{p.port}", f"http://{fq}:{p.port}", f"http://{svc.clusterIP}:{p.port}"]
                names.append(svc.clusterIP)
            names += self._addresses()
            cands = names
            if cur.startswith("-"):
                cands = {"curl": ["-v", "-s", "-S", "-I", "-m", "--connect-timeout", "-o", "-w"],
                         "nc": ["-z", "-v", "-u", "-w", "-zv", "-zvu"]}.get(cmd, ["+short", "+search"])
        elif cmd == "ip":
            cands = ["addr", "route", "link", "a", "r", "-br", "-4"] if len(words) == 1 else ["show", "get"]
        elif cmd == "history":
            cands = ["-c"]
        return sorted({c for c in cands if c.startswith(cur)})

    def _addresses(self) -> list[str]:
        out = []
        for h in self.sim.topology.hosts.values():
            out += h.addresses
        return out


def _posix_ere(p: str) -> str:
    """A grep pattern (BRE/ERE spelling) as a Python regex, close enough for filtering."""
    return p.replace(r"\|", "|").replace(r"\(", "(").replace(r"\)", ")")
