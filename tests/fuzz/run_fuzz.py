#!/usr/bin/env python3
"""A long, seeded mutation fuzz run over real inputs.  Run by hand; pytest does not
collect this file (it is not named ``test_*``) and the normal test run is not slowed.

    python tests/fuzz/run_fuzz.py                       # 250,000 inputs, 3 workers, ~5-10 min
    python tests/fuzz/run_fuzz.py --n 2000 --jobs 1     # a smoke run
    python tests/fuzz/run_fuzz.py --target iptables --n 50000 --seed 7

Targets and what counts as a crash:

* ``scenario``: ``kubeflow_tui.scenario.load_scenario_text(text, source)`` must return a
  ``Scenario`` or raise ``ScenarioError`` (whose ``str`` must not fail).  Inputs: the
  shipped scenarios (``scenarios/``, ``cases/``) mutated as text and as YAML trees.
* ``iptables``: ``kubeflow_tui.netfilter.parse_iptables_save(text)`` must return a
  ``Ruleset`` or raise ``IptablesError``.  On success, ``render_save`` must not raise and its
  output must parse again and render the same (reported separately as ``roundtrip``
  findings: iptables-save output is a fixed point of parse+render).  Inputs: the kernel
  fixtures ``tests/fixtures/netfilter/*.rules`` / ``*.save.kernel``, mutated by line and
  by token.
* ``shell``: ``kubeflow_tui.shell.Shell(sim, host).run(line)`` must return a ``ShellResult``
  and never raise.  The shell has safety nets that turn any exception into an
  "internal error of the simulat..." message: such a message counts as a crash too (the
  harness records the traceback underneath).  Inputs: command lines from the tests, the
  lessons and the shell's help, mutated by token and by character, on nodes, pods and
  clients of several shipped scenarios (a shell's state carries over for a while, so
  the crash file records the lines that led there; a one-line reproducer is tried).

Each input also runs under a 10 s alarm: an input that takes longer is a ``hang``.

Crashes are de-duplicated by (target, exception type, innermost frame in kubeflow_tui);
each new one is minimised and saved under ``tests/fuzz/crashes/`` as
``<target>-<signature>.txt`` (traceback + minimal input) and ``.input`` (the raw input).
The last line on stdout is a JSON summary: counts per target and the crashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CRASH_DIR = HERE / "crashes"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HANG_SECONDS = 10.0
DEFAULT_N = {"scenario": 50_000, "iptables": 100_000, "shell": 100_000}


def log(msg: str) -> None:
    print(f"[fuzz] {msg}", file=sys.stderr, flush=True)


# =========================================================================== hang guard

class Hang(BaseException):  # BaseException: the code under test's `except Exception` won't eat it
    pass


def _on_alarm(signum, frame):  # noqa: ANN001
    raise Hang(f"no answer within {HANG_SECONDS:g} s")


def guarded(fn, *args):  # noqa: ANN001, ANN201
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# =========================================================================== mutators

INTERESTING_NUMBERS = ["0", "-1", "1", "255", "256", "65535", "65536", "2147483647", "2147483648",
                       "4294967296", "18446744073709551616", "99999999999999999999999", "1e309",
                       "-0", "0x10", "0o7", "1_000", ".5", "nan", "inf", "007", ""]
INTERESTING_CHARS = ["\x00", "\ufeff", "\u202e", "\r", "\t", "\n", "\\", "\"", "'", "#", "é", "\u2028",
                     "\x1b", " ", "{", "}", "[", "]", ":", ",", "!", "&", "*", "|", ";", "%", "$"]


class Mutator:
    def __init__(self, rng: random.Random, corpus: list[str], tokens: list[str]):
        self.rng = rng
        self.corpus = corpus
        self.tokens = tokens

    # --- character level
    def _span(self, s: str) -> tuple[int, int]:
        if not s:
            return 0, 0
        a = self.rng.randrange(len(s))
        b = min(len(s), a + self.rng.choice((1, 1, 2, 4, 8, 16, 64)))
        return a, b

    def delete_span(self, s: str) -> str:
        a, b = self._span(s)
        return s[:a] + s[b:]

    def dup_span(self, s: str) -> str:
        a, b = self._span(s)
        return s[:b] + s[a:b] + s[b:]

    def insert_char(self, s: str) -> str:
        i = self.rng.randrange(len(s) + 1)
        return s[:i] + self.rng.choice(INTERESTING_CHARS) + s[i:]

    def flip_char(self, s: str) -> str:
        if not s:
            return s
        i = self.rng.randrange(len(s))
        c = self.rng.choice(INTERESTING_CHARS + [chr(self.rng.randrange(32, 127))])
        return s[:i] + c + s[i + 1:]

    def insert_token(self, s: str) -> str:
        i = self.rng.randrange(len(s) + 1)
        tok = self.rng.choice(self.tokens)
        sep = self.rng.choice((" ", " ", "", "\n"))
        return s[:i] + sep + tok + sep + s[i:]

    def number(self, s: str) -> str:
        nums = list(re.finditer(r"\d+", s))
        if not nums:
            return self.insert_token(s)
        m = self.rng.choice(nums)
        return s[:m.start()] + self.rng.choice(INTERESTING_NUMBERS) + s[m.end():]

    def truncate(self, s: str) -> str:
        return s[: self.rng.randrange(len(s) + 1)]

    # --- line level
    def _lines(self, s: str) -> list[str]:
        return s.split("\n")

    def del_line(self, s: str) -> str:
        ls = self._lines(s)
        if len(ls) > 1:
            del ls[self.rng.randrange(len(ls))]
        return "\n".join(ls)

    def dup_line(self, s: str) -> str:
        ls = self._lines(s)
        i = self.rng.randrange(len(ls))
        ls.insert(self.rng.randrange(len(ls) + 1), ls[i])
        return "\n".join(ls)

    def swap_lines(self, s: str) -> str:
        ls = self._lines(s)
        if len(ls) > 1:
            i, j = self.rng.randrange(len(ls)), self.rng.randrange(len(ls))
            ls[i], ls[j] = ls[j], ls[i]
        return "\n".join(ls)

    def splice_line(self, s: str) -> str:
        ls = self._lines(s)
        other = self._lines(self.rng.choice(self.corpus))
        ls.insert(self.rng.randrange(len(ls) + 1), self.rng.choice(other))
        return "\n".join(ls)

    def indent(self, s: str) -> str:
        ls = self._lines(s)
        i = self.rng.randrange(len(ls))
        ls[i] = self.rng.choice(("  ", "    ", "\t", "- ", "")) + (ls[i].lstrip() if self.rng.random() < 0.5 else ls[i])
        return "\n".join(ls)

    # --- word level (inside one line)
    def word(self, s: str) -> str:
        ls = self._lines(s)
        i = self.rng.randrange(len(ls))
        ws = ls[i].split(" ")
        op = self.rng.randrange(4)
        j = self.rng.randrange(len(ws))
        if op == 0 and len(ws) > 1:
            del ws[j]
        elif op == 1:
            ws[j] = self.rng.choice(self.tokens)
        elif op == 2:
            ws.insert(j, self.rng.choice(self.tokens))
        else:
            k = self.rng.randrange(len(ws))
            ws[j], ws[k] = ws[k], ws[j]
        ls[i] = " ".join(ws)
        return "\n".join(ls)

    OPS = ("delete_span", "dup_span", "insert_char", "flip_char", "insert_token", "number", "truncate",
           "del_line", "dup_line", "swap_lines", "splice_line", "indent", "word", "word", "word", "number")

    def havoc(self, s: str, max_ops: int = 4, weights: dict[str, float] | None = None) -> str:
        ops = list(self.OPS)
        w = [(weights or {}).get(o, 1.0) for o in ops]
        k = 1 if self.rng.random() < 0.5 else self.rng.randint(1, max_ops)  # mostly near-valid inputs
        for _ in range(k):
            s = getattr(self, self.rng.choices(ops, w)[0])(s)
        return s


def tokens_of(texts: list[str], extra: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        for w in t.split():
            if len(w) <= 60:
                seen[w] = None
    for w in extra:
        seen[w] = None
    return list(seen)


# =========================================================================== crashes

class Crashes:
    def __init__(self, target: str, save: bool = True):
        self.target = target
        self.save = save
        self.found: dict[str, dict] = {}
        self.total = 0

    @staticmethod
    def signature(kind: str, tb_text: str) -> str:
        frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', tb_text)
        inner = [f for f in frames if "kubeflow_tui" in f[0]] or frames
        where = f"{Path(inner[-1][0]).name}:{inner[-1][1]}:{inner[-1][2]}" if inner else "?"
        return f"{kind}@{where}"

    def add(self, sig: str, tb_text: str, raw: str, minimal: str | None = None, extra: str = "") -> bool:
        self.total += 1
        if sig in self.found:
            self.found[sig]["count"] += 1
            return False
        h = hashlib.sha1(sig.encode()).hexdigest()[:10]
        entry = {"target": self.target, "signature": sig, "count": 1, "file": None,
                 "minimal": minimal if minimal is not None else raw, "error": tb_text.strip().splitlines()[-1][:300]}
        if self.save:
            CRASH_DIR.mkdir(parents=True, exist_ok=True)
            base = CRASH_DIR / f"{self.target}-{h}"
            base.with_suffix(".input").write_text(raw, encoding="utf-8", errors="surrogateescape")
            body = [f"target: {self.target}", f"signature: {sig}", "", "traceback:", tb_text.rstrip(), ""]
            if extra:
                body += [extra.rstrip(), ""]
            body += ["minimal input (repr):", repr(entry["minimal"]), "", "minimal input:", entry["minimal"], ""]
            base.with_suffix(".txt").write_text("\n".join(body), encoding="utf-8", errors="surrogateescape")
            entry["file"] = str(base.with_suffix(".txt").relative_to(REPO))
        self.found[sig] = entry
        log(f"NEW CRASH {self.target}: {sig}: {entry['error']}")
        return True


def minimise(text: str, still_fails, budget: int = 400) -> str:  # noqa: ANN001
    """Greedy delta debugging: drop lines, then chunks of characters, while it still fails."""
    tries = 0

    def ok(candidate: str) -> bool:
        nonlocal tries
        tries += 1
        try:
            return bool(still_fails(candidate))
        except Hang:
            return False

    # lines
    lines = text.split("\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and tries < budget:
        i, changed = 0, False
        while i < len(lines) and tries < budget:
            cand = lines[:i] + lines[i + chunk:]
            if cand and ok("\n".join(cand)):
                lines, changed = cand, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    text = "\n".join(lines)
    # characters
    chunk = max(1, len(text) // 4)
    while chunk >= 1 and tries < budget:
        i, changed = 0, False
        while i < len(text) and tries < budget:
            cand = text[:i] + text[i + chunk:]
            if cand and ok(cand):
                text, changed = cand, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return text


# =========================================================================== target: scenario

def scenario_corpus() -> list[tuple[str, str]]:
    files = sorted((REPO / "scenarios").rglob("*.y*ml")) + sorted((REPO / "cases").glob("*.y*ml"))
    out = []
    for p in files:
        try:
            out.append((str(p.relative_to(REPO)), p.read_text(encoding="utf-8")))
        except OSError:
            pass
    return out


def _tree_paths(node, prefix=()):  # noqa: ANN001, ANN202
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _tree_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _tree_paths(v, prefix + (i,))


SCALARS = [None, True, False, 0, -1, 1, 65535, 65536, 2**31, 2**64, 1.5, float("nan"), float("inf"), "", "x",
           "10.96.0.1", "10.96.0.1:8080", "10.244.1.0/24", "10.244.1.0/33", "300.1.1.1", "::1", "node-a",
           "web-1", "web", "http", "TCP", "UDP", "SCTP", "tcp", "ClusterIP", "NodePort", "LoadBalancer",
           "ExternalName", "Local", "Cluster", "ClientIP", "None", "30080", "8080", "proxy", "vip",
           "a" * 300, "é", "\x00", "-", "*", "0.0.0.0/0", "192.168.1.10", "203.0.113.5"]


def fuzz_scenario(n: int, seed: int, save: bool) -> dict:
    import yaml

    from kubeflow_tui.scenario import Scenario, ScenarioError, load_scenario_text

    rng = random.Random(seed)
    corpus = scenario_corpus()
    texts = [t for _, t in corpus]
    trees = []
    for name, t in corpus:
        try:
            d = yaml.safe_load(t)
            if isinstance(d, dict):
                trees.append(d)
        except yaml.YAMLError:
            pass
    extra = ["---", "...", "&a", "*a", "<<: *a", "!!str", "!!binary", "!!python/object:os.system", "? ",
             "- ", ": ", "{}", "[]", "~", "null", "yes", "no", "on", "off", "0x1F", "1e3", ".inf", ".nan",
             "!!float", "!!timestamp 2001-12-14", "|", ">", "'", '"', "%YAML 1.1", "%TAG ! tag:x,2000:"]
    tokens = tokens_of(texts, extra)
    mut = Mutator(rng, texts, tokens)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    crashes = Crashes("scenario", save)
    counts = {"inputs": 0, "ok": 0, "scenario_error": 0, "crash": 0, "hang": 0, "text_mutations": 0,
              "tree_mutations": 0}

    def run(text: str) -> tuple[str, str | None]:
        try:
            r = guarded(load_scenario_text, text, "fuzz.yaml")
        except ScenarioError as e:
            s = str(e)  # must render
            if not s.startswith("fuzz.yaml"):
                return "crash", f"ScenarioError text does not start with the source name: {s[:200]!r}\n"
            return "scenario_error", None
        except Hang:
            return "hang", "Hang: " + traceback.format_exc()
        except Exception:  # noqa: BLE001
            return "crash", traceback.format_exc()
        if not isinstance(r, Scenario):
            return "crash", f"returned {type(r).__name__}, not Scenario\n"
        return "ok", None

    def mutate_tree(d):  # noqa: ANN001, ANN202
        import copy

        d = copy.deepcopy(d)
        paths = [p for p in _tree_paths(d) if p]
        for _ in range(rng.randint(1, 3)):
            if not paths:
                break
            path = rng.choice(paths)
            parent = d
            try:
                for el in path[:-1]:
                    parent = parent[el]
                last = path[-1]
                op = rng.randrange(6)
                if op == 0:
                    del parent[last]
                elif op == 1:
                    parent[last] = rng.choice(SCALARS)
                elif op == 2 and isinstance(parent, list):
                    parent.append(copy.deepcopy(parent[last]))
                elif op == 3:  # a value from elsewhere in the tree: names that cross-reference
                    other = rng.choice(paths)
                    v = d
                    for el in other:
                        v = v[el]
                    parent[last] = copy.deepcopy(v)
                elif op == 4 and isinstance(parent, dict):
                    parent[rng.choice(tokens)[:20]] = rng.choice(SCALARS)
                else:
                    parent[last] = [copy.deepcopy(parent[last])] if rng.random() < 0.5 else {"x": parent[last]}
            except (KeyError, IndexError, TypeError):
                continue
            paths = [p for p in _tree_paths(d) if p]
        return d

    t0 = time.monotonic()
    for i in range(n):
        if trees and rng.random() < 0.45:
            counts["tree_mutations"] += 1
            try:
                text = yaml.dump(mutate_tree(rng.choice(trees)), Dumper=dumper, sort_keys=False,
                                 default_flow_style=rng.choice((None, False, True)), allow_unicode=True)
            except Exception:  # noqa: BLE001  (the dumper is not under test)
                continue
        else:
            counts["text_mutations"] += 1
            text = mut.havoc(rng.choice(texts))
        counts["inputs"] += 1
        kind, tb = run(text)
        counts[kind] += 1
        if tb is not None:
            sig = Crashes.signature(kind, tb)
            if sig not in crashes.found:
                minimal = minimise(text, lambda c: run(c)[0] == kind and Crashes.signature(kind, run(c)[1] or "") == sig) \
                    if kind == "crash" else text
                crashes.add(sig, tb, text, minimal, extra="reproduce: load_scenario_text(minimal, 'fuzz.yaml')")
            else:
                crashes.add(sig, tb, text)
        if (i + 1) % 5000 == 0:
            log(f"scenario {i + 1}/{n} ({(i + 1) / (time.monotonic() - t0):.0f}/s) {counts}")
    counts["seconds"] = round(time.monotonic() - t0, 1)
    return {"target": "scenario", "counts": counts, "crashes": list(crashes.found.values())}


# =========================================================================== target: iptables

IPT_EXTRA = ["-A", "-I", "-N", "-X", "-D", "-R", "-P", "-F", "-Z", "-E", "-j", "-g", "-m", "-p", "!", "-s", "-d",
             "-i", "-o", "-c", "-f", "--dport", "--sport", "--dports", "--sports", "--to-destination",
             "--to-source", "--to-ports", "--probability", "statistic", "--mode", "random", "nth", "--every",
             "--packet", "recent", "--name", "--set", "--rcheck", "--update", "--remove", "--seconds",
             "--hitcount", "--reap", "--rsource", "--rdest", "--mask", "conntrack", "--ctstate", "--ctstatus",
             "NEW,ESTABLISHED", "RELATED,ESTABLISHED,DNAT", "INVALID", "mark", "--mark", "0x4000/0x4000",
             "0xffffffff", "0x100000000", "MARK", "--set-xmark", "--or-mark", "--xor-mark", "--and-mark",
             "--set-mark", "CONNMARK", "DNAT", "SNAT", "MASQUERADE", "--random-fully", "--random", "--persistent",
             "REJECT", "--reject-with", "tcp-reset", "icmp-port-unreachable", "icmp-foo", "DROP", "ACCEPT",
             "RETURN", "LOG", "--log-prefix", "TRACE", "NOTRACK", "CT", "--notrack", "QUEUE", "NFQUEUE",
             "multiport", "addrtype", "--dst-type", "--src-type", "LOCAL", "UNICAST", "--limit-iface-in",
             "comment", "--comment", '"a b"', '"unterminated', "'single'", '"esc\\"aped"', "tcp", "udp", "icmp",
             "sctp", "all", "0", "6", "17", "256", "10.0.0.0/8", "1.2.3.4/33", "256.1.1.1", "1.2.3", "0.0.0.0/0",
             "10.0.0.1/255.255.0.0", "::1", "fe80::/64", "eth0", "eth0+", "+", "veryveryverylongifname0",
             "*nat", "*filter", "*raw", "*mangle", "*security", "*bogus", "COMMIT", ":KUBE-NEW - [0:0]",
             ":INPUT DROP [1:2]", ":OUTPUT ACCEPT", ":PREROUTING - [0:0]", "[5:10]", "[-1:0]", "[a:b]",
             "--tcp-flags", "SYN,ACK", "SYN,RST,ACK,FIN", "--syn", "limit", "--limit", "5/sec", "physdev",
             "set", "--match-set", "icmp-type", "--icmp-type", "echo-request", "8/0", "length", "--length",
             "state", "--state", "owner", "--uid-owner", "nfacct", "--nfacct-name", "0:65535", "1:", ":2", "5,6,7",
             "80:70", "65536", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "KUBE-SERVICES", "KUBE-MARK-MASQ",
             "KUBE-POSTROUTING", "KUBE-NODEPORTS", "POSTROUTING", "PREROUTING", "INPUT", "OUTPUT", "FORWARD",
             "# a comment", "--to-destination 10.244.1.5:8080", "--to-destination :80", "--to-destination 1.2.3.4-1.2.3.9:80-90"]


def iptables_corpus() -> list[tuple[str, str]]:
    d = REPO / "tests" / "fixtures" / "netfilter"
    out = []
    for p in sorted(d.glob("*.rules")) + sorted(d.glob("*.save.kernel")):
        out.append((p.name, p.read_text(encoding="utf-8")))
    return out


def _table_blocks(text: str) -> list[str]:
    """The ``*table ... COMMIT`` blocks of a dump (smaller inputs: more of them per second)."""
    blocks, cur = [], None
    for line in text.split("\n"):
        if line.startswith("*"):
            cur = [line]
        elif cur is not None:
            cur.append(line)
            if line.strip() == "COMMIT":
                blocks.append("\n".join(cur) + "\n")
                cur = None
    return blocks


def _window(rng: random.Random, block: str, max_rules: int = 25) -> str:
    """A table block cut down to its header, its declarations and a window of its rules."""
    lines = block.rstrip("\n").split("\n")
    head = [ln for ln in lines if ln.startswith(("*", ":"))]
    rules = [ln for ln in lines if ln.startswith("-")]
    if len(rules) > max_rules:
        a = rng.randrange(len(rules) - max_rules + 1)
        rules = rules[a:a + max_rules]
    return "\n".join(head + rules + ["COMMIT", ""])


def fuzz_iptables(n: int, seed: int, save: bool) -> dict:
    from kubeflow_tui.netfilter import IptablesError, Ruleset, parse_iptables_save, render_save

    rng = random.Random(seed)
    corpus = iptables_corpus()
    texts = [t for _, t in corpus]
    blocks = [b for t in texts for b in _table_blocks(t)]
    tokens = tokens_of(texts, IPT_EXTRA)
    mut = Mutator(rng, blocks, tokens)
    weights = {"word": 3.0, "splice_line": 2.0, "swap_lines": 1.5, "dup_line": 1.5, "del_line": 1.5,
               "truncate": 0.3, "indent": 0.3}
    crashes = Crashes("iptables", save)
    roundtrip = Crashes("iptables-roundtrip", save)
    counts = {"inputs": 0, "ok": 0, "iptables_error": 0, "crash": 0, "hang": 0, "roundtrip_mismatch": 0,
              "whole_files": 0}

    def run(text: str) -> tuple[str, str | None, str | None]:
        try:
            rs = guarded(parse_iptables_save, text, "fuzz.rules")
        except IptablesError as e:
            str(e)
            return "iptables_error", None, None
        except Hang:
            return "hang", "Hang: " + traceback.format_exc(), None
        except Exception:  # noqa: BLE001
            return "crash", traceback.format_exc(), None
        if not isinstance(rs, Ruleset):
            return "crash", f"returned {type(rs).__name__}, not Ruleset\n", None
        # parse -> render must be a fixed point after one round
        try:
            out1 = guarded(render_save, rs)
        except Hang:
            return "hang", "Hang in render_save: " + traceback.format_exc(), None
        except Exception:  # noqa: BLE001
            return "crash", "render_save of a parsed Ruleset raised:\n" + traceback.format_exc(), None
        try:
            out2 = guarded(render_save, guarded(parse_iptables_save, out1, "rendered.rules"))
        except Hang:
            return "ok", None, None
        except Exception:  # noqa: BLE001
            return "ok", None, "re-parse of render_save output raised:\n" + traceback.format_exc()
        if out2 != out1:
            import difflib

            diff = "".join(list(difflib.unified_diff(out1.splitlines(True), out2.splitlines(True),
                                                     "render_save(parse(input))", "render_save(parse(that))"))[:40])
            return "ok", None, "RoundtripMismatch: render(parse(render(parse(x)))) != render(parse(x))\n" + diff
        return "ok", None, None

    t0 = time.monotonic()
    for i in range(n):
        r = rng.random()
        if r < 0.03:
            text = mut.havoc(rng.choice(texts), weights=weights)  # whole fixture files, now and then
            counts["whole_files"] += 1
        elif r < 0.10:  # several tables, one of them mutated
            bs = [_window(rng, rng.choice(blocks)) for _ in range(rng.randint(1, 3))]
            j = rng.randrange(len(bs))
            bs[j] = mut.havoc(bs[j], weights=weights)
            text = "".join(bs)
        else:
            text = mut.havoc(_window(rng, rng.choice(blocks)), weights=weights)
        counts["inputs"] += 1
        kind, tb, rt = run(text)
        counts[kind] += 1
        if tb is not None:
            sig = Crashes.signature(kind, tb)
            if sig not in crashes.found and kind == "crash":
                minimal = minimise(text, lambda c: (lambda k, t, _r: k == kind and Crashes.signature(k, t or "") == sig)(*run(c)))
                crashes.add(sig, tb, text, minimal, extra="reproduce: parse_iptables_save(minimal)")
            else:
                crashes.add(sig, tb, text)
        if rt is not None:
            counts["roundtrip_mismatch"] += 1
            first = rt.splitlines()[0]
            sig = "roundtrip@" + (Crashes.signature("reparse", rt) if first.startswith("re-parse") else _rt_sig(rt))
            if sig not in roundtrip.found:
                minimal = minimise(text, lambda c: (lambda k, t, r2: r2 is not None and _same_rt(r2, rt))(*run(c)), budget=250)
                roundtrip.add(sig, rt, text, minimal,
                              extra="reproduce: a = render_save(parse_iptables_save(minimal)); "
                                    "assert render_save(parse_iptables_save(a)) == a")
            else:
                roundtrip.add(sig, rt, text)
        if (i + 1) % 5000 == 0:
            log(f"iptables {i + 1}/{n} ({(i + 1) / (time.monotonic() - t0):.0f}/s) {counts}")
    counts["seconds"] = round(time.monotonic() - t0, 1)
    return {"target": "iptables", "counts": counts, "crashes": list(crashes.found.values()),
            "roundtrip_findings": list(roundtrip.found.values())}


def _rt_sig(rt: str) -> str:
    """Signature of a round-trip mismatch: the shape of the first changed line pair."""
    minus = [ln[1:] for ln in rt.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:] for ln in rt.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    a, b = (minus[:1] or [""])[0], (plus[:1] or [""])[0]
    # what differs, with addresses/numbers/names blurred
    blur = lambda s: re.sub(r"KUBE-[A-Z]+-[A-Z0-9]+|\d+", "#", s)  # noqa: E731
    sa, sb = set(blur(a).split()), set(blur(b).split())
    return "diff:" + " ".join(sorted(sa ^ sb))[:80]


def _same_rt(r2: str, rt: str) -> bool:
    if r2.splitlines()[0].startswith("re-parse") or rt.splitlines()[0].startswith("re-parse"):
        return Crashes.signature("reparse", r2) == Crashes.signature("reparse", rt)
    return _rt_sig(r2) == _rt_sig(rt)


# =========================================================================== target: shell

SHELL_SEED_LINES = [
    "iptables -t nat -L -n -v --line-numbers", "iptables -t nat -S", "iptables -S", "iptables -L -n",
    "iptables -t nat -L KUBE-SERVICES -n --line-numbers", "iptables -t filter -L -n -v -x",
    "iptables-save", "iptables-save -t nat", "iptables-save -c", "iptables -t nat -S | grep SEP | wc -l",
    "iptables -t nat -F KUBE-SERVICES", "iptables -t nat -D KUBE-SERVICES 1", "iptables -t nat -N TEST",
    "iptables -t nat -A TEST -j RETURN", "iptables -t nat -I KUBE-SERVICES 1 -j TEST", "iptables -t nat -X TEST",
    "iptables -t nat -E TEST TEST2", "iptables -P FORWARD DROP", "iptables -t nat -R KUBE-POSTROUTING 1 -j RETURN",
    "iptables -t raw -A PREROUTING -p tcp -j TRACE", "conntrack -L", "conntrack -L -p tcp --dport 8080",
    "conntrack -D -p tcp", "conntrack -F", "conntrack -C", "conntrack -E", "conntrack -L -o extended",
    "kubectl get svc", "kubectl get svc -A -o wide", "kubectl get endpoints", "kubectl get endpointslices -o yaml",
    "kubectl get pods -o wide", "kubectl get nodes", "kubectl get deployments", "kubectl describe svc web",
    "kubectl scale deployment web --replicas 3", "kubectl delete pod web-1", "kubectl get svc web -o json",
    "kubectl exec -it web-1 -- curl 10.96.0.1:8080", "curl 10.96.0.1:8080", "curl -v http://10.96.0.1:8080/",
    "curl --connect-timeout 2 10.96.0.1:8080", "curl http://web.default.svc.cluster.local:8080",
    "nc -zv -w 2 10.96.0.1 8080", "nc -u 10.96.0.10 53", "ip addr", "ip route", "ip route get 10.96.0.1",
    "ip link", "hostname", "hostname -I", "nslookup web", "dig +short web.default.svc.cluster.local",
    "help", "history", "clear", "echo hi", "whoami", "pwd", "true && false || echo x", "sudo iptables -L",
    "iptables -L 2>/dev/null | head -3", "iptables-save | sort | uniq | tail -n 5", "cat /etc/resolv.conf",
    "exit",
]
SHELL_EXTRA = ["|", "||", "&&", ";", "&", ">", "2>&1", "2>/dev/null", "<", "'", '"', "\\", "$(", "`", "#", "--",
               "-", "-t", "nat", "filter", "raw", "mangle", "security", "-L", "-S", "-A", "-D", "-I", "-R", "-F",
               "-N", "-X", "-E", "-P", "-Z", "-n", "-v", "-x", "--line-numbers", "-j", "-m", "-p", "tcp", "udp",
               "--dport", "0", "-1", "99999999999999999999", "65536", "1e3", "10.96.0.1", "10.96.0.1:8080",
               "10.244.1.5", "256.0.0.1", "::1", "", "web", "web-1", "web-2", "node-a", "node-b", "default",
               "kube-system", "-n", "-A", "-o", "wide", "yaml", "json", "name", "jsonpath={.items}", "--replicas",
               "-1", "abc", "svc", "pods", "po", "ep", "nodes", "deploy", "grep", "-v", "-c", "-i", "-E", "[",
               "(", "*", ".*", "head", "-n", "tail", "wc", "-l", "sort", "-r", "uniq", "tee", "less", "KUBE-SERVICES",
               "KUBE-MARK-MASQ", "KUBE-SVC-", "KUBE-SEP-", "INPUT", "OUTPUT", "PREROUTING", "POSTROUTING", "FORWARD",
               "ACCEPT", "DROP", "RETURN", "DNAT", "--to-destination", "-s", "-d", "!", "--comment", "http://",
               "https://", ":", "/", "-z", "-u", "-w", "--connect-timeout", "-k", "+short", "@10.96.0.10", "route",
               "get", "addr", "link", "-4", "-6", "-c", "-D", "-L", "-E", "-C", "--src", "--dst", "-o", "extended",
               "--orig-dst", "--reply-src", "--state", "ESTABLISHED", "TIME_WAIT", "--mark", "0x4000", "--zone"]


def shell_corpus() -> list[str]:
    lines = list(SHELL_SEED_LINES)
    try:
        from kubeflow_tui.shell.core import HELP_LINES

        names = set(HELP_LINES) | {"iptables-save", "nc"}
    except Exception:  # noqa: BLE001
        names = {"iptables", "iptables-save", "conntrack", "kubectl", "curl", "nc", "ip", "dig", "nslookup"}
    pat = re.compile(r"""["']((?:sudo )?(?:%s)(?: [^"'\n]*)?)["']""" % "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    sources = list((REPO / "tests").glob("test_*.py")) + list((REPO / "lessons").glob("*.md")) + \
        list((REPO / "cases").glob("*.y*ml")) + list((REPO / "kubeflow_tui" / "quiz").glob("*.py"))
    for p in sources:
        try:
            text = p.read_text(encoding="utf-8")
        except OSError:
            continue
        lines += [m.group(1) for m in pat.finditer(text)]
        if p.suffix == ".md":  # command lines in code blocks
            for ln in text.splitlines():
                s = ln.strip().lstrip("$#").strip()
                if s.split(" ", 1)[0] in names:
                    lines.append(s)
    return list(dict.fromkeys(ln for ln in lines if ln and len(ln) < 300))


class _Recorder:
    """Wraps the shell's command functions so that an exception its safety net would turn
    into an 'internal error' message leaves its traceback here."""

    def __init__(self):
        self.tb: str | None = None

    def wrap(self, fn):  # noqa: ANN001, ANN201
        from kubeflow_tui.shell import CommandError

        def w(*a, **k):  # noqa: ANN002, ANN003, ANN202
            try:
                return fn(*a, **k)
            except CommandError:
                raise
            except Exception:  # noqa: BLE001
                if self.tb is None:
                    self.tb = traceback.format_exc()
                raise

        return w


def fuzz_shell(n: int, seed: int, save: bool) -> dict:
    from kubeflow_tui.cluster import ClusterSim
    from kubeflow_tui.scenario import load_scenario
    from kubeflow_tui.shell import Shell, ShellResult

    rng = random.Random(seed)
    seeds = shell_corpus()
    tokens = tokens_of(seeds, SHELL_EXTRA)
    mut = Mutator(rng, seeds, tokens)
    weights = {"word": 4.0, "insert_token": 2.0, "del_line": 0.0, "dup_line": 0.2, "swap_lines": 0.0,
               "splice_line": 0.5, "indent": 0.2, "truncate": 0.5}
    scen_paths = sorted((REPO / "scenarios").glob("*.yaml"))
    scenarios = []
    for p in scen_paths:
        try:
            scenarios.append((p.name, load_scenario(p)))
        except Exception as e:  # noqa: BLE001
            log(f"shell: skipping {p.name}: {e}")
    if not scenarios:
        raise SystemExit("no loadable scenario for the shell target")
    crashes = Crashes("shell", save)
    counts = {"inputs": 0, "exit_0": 0, "exit_nonzero": 0, "crash": 0, "internal_error": 0, "hang": 0,
              "shells": 0, "seed_lines": len(seeds)}
    rec = _Recorder()

    def new_shell(name: str, scenario, seed_: int, host: str | None = None):  # noqa: ANN001, ANN202
        sim = ClusterSim(scenario, seed=seed_)
        hosts = list(sim.topology.hosts)
        host = host or rng.choice(hosts)
        sh = Shell(sim, host)
        for k, fn in list(sh.commands.items()):
            sh.commands[k] = rec.wrap(fn)
        if hasattr(sh, "_kubectl_exec"):
            sh._kubectl_exec = rec.wrap(sh._kubectl_exec)  # type: ignore[method-assign]
        if hasattr(sh, "_builtin"):
            sh._builtin = rec.wrap(sh._builtin)  # type: ignore[method-assign]
        return sh, host

    def run_line(sh, line: str) -> tuple[str, str | None]:  # noqa: ANN001
        rec.tb = None
        try:
            r = guarded(sh._run if hasattr(sh, "_run") else sh.run, line)  # _run: run() without its last net
        except Hang:
            return "hang", "Hang: " + traceback.format_exc()
        except Exception:  # noqa: BLE001
            return "crash", traceback.format_exc()
        if not isinstance(r, ShellResult):
            return "crash", f"returned {type(r).__name__}, not ShellResult\n"
        if "internal error of the simulat" in (r.stderr or ""):
            tb = rec.tb or ("(no traceback recorded)\n" + r.stderr)
            return "internal_error", tb
        return ("exit_0" if r.exit_code == 0 else "exit_nonzero"), None

    def replay(name: str, scenario, seed_: int, host: str, history: list[str], line: str):  # noqa: ANN001, ANN202
        sh, _ = new_shell(name, scenario, seed_, host)
        for h in history:
            run_line(sh, h)
        return run_line(sh, line)

    t0 = time.monotonic()
    sh = None
    history: list[str] = []
    life = 0
    cur = None
    for i in range(n):
        if sh is None or life <= 0:
            name, scenario = rng.choice(scenarios)
            sseed = rng.randrange(1 << 30)
            sh, host = new_shell(name, scenario, sseed)
            cur = (name, scenario, sseed, host)
            history = []
            life = rng.choice((1, 5, 20, 100, 300))
            counts["shells"] += 1
        life -= 1
        base = rng.choice(seeds)
        if rng.random() < 0.15:
            line = base  # a real line, to move the state along
        else:
            line = mut.havoc(base, max_ops=3, weights=weights).replace("\n", " ")
        counts["inputs"] += 1
        kind, tb = run_line(sh, line)
        counts[kind] += 1
        if tb is not None:
            sig = Crashes.signature(kind, tb)
            if sig not in crashes.found:
                name, scenario, sseed, host = cur
                same = lambda k, t: k == kind and Crashes.signature(k, t or "") == sig  # noqa: E731
                alone = same(*replay(name, scenario, sseed, host, [], line))
                if alone:
                    minimal = minimise(line, lambda c: same(*replay(name, scenario, sseed, host, [], c)), budget=150)
                    how = (f"reproduce: sim = ClusterSim(load_scenario('scenarios/{name}'), seed={sseed}); "
                           f"Shell(sim, {host!r}).run(minimal)  # on a fresh shell")
                else:
                    minimal = line
                    how = (f"reproduce: sim = ClusterSim(load_scenario('scenarios/{name}'), seed={sseed}); "
                           f"sh = Shell(sim, {host!r}); run these {len(history)} lines first, then the input:\n"
                           + "\n".join("    " + h for h in history))
                crashes.add(sig, tb, line, minimal, extra=how)
            else:
                crashes.add(sig, tb, line)
            if kind == "hang":
                sh = None  # its state may be odd now
        history.append(line)
        if line.strip() == "exit":
            sh = None
        if (i + 1) % 5000 == 0:
            log(f"shell {i + 1}/{n} ({(i + 1) / (time.monotonic() - t0):.0f}/s) {counts}")
    counts["seconds"] = round(time.monotonic() - t0, 1)
    return {"target": "shell", "counts": counts, "crashes": list(crashes.found.values())}


TARGETS = {"scenario": fuzz_scenario, "iptables": fuzz_iptables, "shell": fuzz_shell}


# =========================================================================== main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Long seeded mutation fuzz run (not collected by pytest).")
    ap.add_argument("--target", choices=sorted(TARGETS), action="append",
                    help="fuzz only this target (repeatable; default: all three)")
    ap.add_argument("--n", type=int, help="inputs per target (default: scenario 50k, iptables 100k, shell 100k)")
    ap.add_argument("--seed", type=int, default=20240501, help="random seed (runs are reproducible)")
    ap.add_argument("--jobs", type=int, default=3, help="targets run in parallel processes (default 3)")
    ap.add_argument("--no-save", action="store_true", help="do not write tests/fuzz/crashes/")
    ap.add_argument("--out", metavar="FILE", help="also write the JSON summary to FILE")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    signal.signal(signal.SIGALRM, _on_alarm)
    targets = a.target or list(TARGETS)

    if a.worker:
        (t,) = targets
        res = TARGETS[t](a.n if a.n is not None else DEFAULT_N[t], a.seed, not a.no_save)
        print(json.dumps(res))
        return 0

    t0 = time.monotonic()
    results = []
    if a.jobs <= 1 or len(targets) == 1:
        for t in targets:
            log(f"{t}: starting")
            results.append(TARGETS[t](a.n if a.n is not None else DEFAULT_N[t], a.seed, not a.no_save))
    else:
        procs = []
        pending = list(targets)
        running: list[tuple[str, subprocess.Popen]] = []
        while pending or running:
            while pending and len(running) < a.jobs:
                t = pending.pop(0)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--target", t, "--seed", str(a.seed)]
                if a.n is not None:
                    cmd += ["--n", str(a.n)]
                if a.no_save:
                    cmd.append("--no-save")
                log(f"{t}: starting worker")
                running.append((t, subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)))
            time.sleep(0.5)
            for t, p in list(running):
                if p.poll() is not None:
                    out = p.stdout.read() if p.stdout else ""
                    running.remove((t, p))
                    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
                    if p.returncode != 0 or not lines:
                        results.append({"target": t, "error": f"worker exited {p.returncode}", "counts": {}, "crashes": []})
                    else:
                        results.append(json.loads(lines[-1]))
                    procs.append(t)
    total_inputs = sum(r.get("counts", {}).get("inputs", 0) for r in results)
    summary = {
        "seed": a.seed,
        "total_inputs": total_inputs,
        "seconds": round(time.monotonic() - t0, 1),
        "targets": {r["target"]: r.get("counts", {}) for r in results},
        "crashes": [c for r in results for c in r.get("crashes", [])],
        "roundtrip_findings": [c for r in results for c in r.get("roundtrip_findings", [])],
        "errors": [r["error"] for r in results if "error" in r],
    }
    print("", file=sys.stderr)
    for r in results:
        print(f"{r['target']:>9}: {r.get('counts', {})}", file=sys.stderr)
    for c in summary["crashes"]:
        print(f"CRASH {c['target']}: {c['signature']} x{c['count']}: {c['error']}\n    minimal: {c['minimal']!r}"
              + (f"\n    saved: {c['file']}" if c.get("file") else ""), file=sys.stderr)
    for c in summary["roundtrip_findings"]:
        print(f"ROUNDTRIP {c['signature']} x{c['count']}: minimal: {c['minimal']!r}", file=sys.stderr)
    text = json.dumps(summary, indent=1)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    bad = summary["crashes"] or summary["errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
