"""The curriculum cannot drift from the engine.

Every lesson in ``lessons/`` parses, names a scenario and flows that exist, and its flows
run to an outcome.  Every rule, chain name and ``conntrack -L`` line a lesson quotes in a
code block is checked against what the engine generates, and each lesson has a list of
claims (what its text says happens) asserted against the engine's Trace.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from kubeflow_tui import lessons as lessons_mod
from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.netfilter import render_save
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.trace import Trace

ROOT = Path(__file__).resolve().parent.parent
LESSONS_DIR = ROOT / "lessons"
CASES_DIR = ROOT / "cases"
OUTCOMES = {"delivered", "refused", "timeout", "unreachable"}
MAX_CODE_WIDTH = 76  # 80x24 terminals: code blocks are not wrapped by the viewer

EXPECTED_ORDER = [
    "01-one-linux-host",
    "02-clusterip",
    "03-choosing-an-endpoint",
    "04-conntrack",
    "05-masquerade",
    "06-nodeport",
    "07-loadbalancer",
    "08-traffic-policy-local",
    "09-session-affinity",
    "10-kube-proxy-controller",
    "11-debugging-toolkit",
    "12-troubleshooting-drill",
    "13-where-next",
    "14-where-snat-comes-from",
    "15-conntrack-operations",
    "16-rollouts-terminating",
    "17-dns-for-services",
    "18-networkpolicy-meets-kube-proxy",
    "19-kube-proxy-nftables-mode",
    "20-iptables-or-nftables-debugging",
]


# ----------------------------------------------------------------------------- helpers


def _lessons():
    found, errors = lessons_mod.discover(LESSONS_DIR)
    assert not errors, errors
    return {l.id: l for l in found}


LESSONS = _lessons()


def lesson(lid: str):
    return LESSONS[lid]


@lru_cache(maxsize=None)
def scenario(path: str):
    return load_scenario(Path(path))


def run(lid: str, flow: str, **kw) -> Trace:
    """A flow of the lesson's scenario on a fresh cluster (``after`` flows run first)."""
    return ClusterSim(scenario(str(lesson(lid).scenario))).run_flow(flow, **kw)


def run_in(path: str, flow: str) -> Trace:
    return ClusterSim(scenario(str(ROOT / path))).run_flow(flow)


@lru_cache(maxsize=None)
def rules_text(path: str) -> tuple[str, ...]:
    """Every node's rules, as iptables-save prints them (one rule per line)."""
    sc = scenario(path)
    sim = ClusterSim(sc)
    out: list[str] = []
    for node in sc.cluster.nodes:
        out += render_save(sim.node_ruleset(node.name)).splitlines()
    return tuple(out)


def scenario_paths(l) -> list[str]:
    paths = [str(l.scenario)]
    for ref in l.extra.get("see_also", []) or []:
        paths.append(str(lessons_mod.resolve_scenario(ref, l.path)))
    return paths


def code_blocks(l) -> list[list[str]]:
    return [b.splitlines() for b in re.findall(r"^```[^\n]*\n(.*?)^```", l.body, re.S | re.M)]


def joined(lines: list[str]) -> list[str]:
    """Lines of a code block with indented continuation lines joined to their first line."""
    out: list[str] = []
    for line in lines:
        if line.startswith("    ") and out:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def pattern(text: str) -> re.Pattern:
    """``…`` in a lesson stands for any text; whitespace runs compare equal."""
    parts = [re.escape(p) for p in re.split(r"\s+", text.strip())]
    rx = r"\s+".join(parts).replace(re.escape("…"), ".*?")
    return re.compile(rx)


def step_kinds(t: Trace, host: str, packet_no: int | None = None) -> list[str]:
    return [s.kind for s in t.steps if s.host == host and (packet_no is None or s.packet_no == packet_no)]


def first_packet(t: Trace, host: str | None = None):
    return [s for s in t.steps if s.packet_no == 0 and (host is None or s.host == host)]


def label(t: Trace, name: str, host: str | None = None):
    return [s for s in t.steps if s.packet_label == name and (host is None or s.host == host)]


# ----------------------------------------------------------------------------- every lesson


def test_the_curriculum_is_complete_and_in_order():
    assert list(LESSONS) == EXPECTED_ORDER
    assert not lessons_mod.validate(l.path for l in LESSONS.values())


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_lesson_is_short_and_fits_80_columns(lid):
    l = lesson(lid)
    assert l.minutes < 10, "each lesson must be finishable in under 10 minutes"
    for block in code_blocks(l):
        for line in block:
            assert len(line) <= MAX_CODE_WIDTH, f"{lid}: code line too wide: {line!r}"


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_lesson_flows_run_to_an_outcome(lid):
    l = lesson(lid)
    assert l.scenario.is_file()
    names = {f.name for f in scenario(str(l.scenario)).flows}
    for flow in l.flows:
        assert flow in names
        t = run(lid, flow)
        assert t.outcome in OUTCOMES, (flow, t.outcome)
        assert t.steps
    for path in scenario_paths(l)[1:]:
        for f in scenario(path).flows:
            assert ClusterSim(scenario(path)).run_flow(f.name).outcome in OUTCOMES


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_quoted_chain_names_exist(lid):
    """A full KUBE-SVC-/SEP-/EXT-/FW-/SVL- name in a lesson is one the engine generates."""
    l = lesson(lid)
    rules = "\n".join(r for p in scenario_paths(l) for r in rules_text(p))
    # a real cluster's Services, named for comparison (their hash, computed here)
    from kubeflow_tui.kubeproxy import service_chain_name
    rules += "\n" + service_chain_name("KUBE-SVC-", "default/kubernetes:https", "tcp")
    rules += "\n" + service_chain_name("KUBE-SVC-", "kube-system/kube-dns:dns", "udp")
    for name in set(re.findall(r"KUBE-(?:SVC|SEP|EXT|FW|SVL)-[A-Z0-9]{16}", l.body)):
        if lid == "10-kube-proxy-controller":
            continue  # chains that appear after the timeline's events: checked below
        assert name in rules, f"{lid}: {name} is not in the rules of its scenario"


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_quoted_rules_are_real(lid):
    """Each ``-A …`` rule in a code block matches a rule the engine generates
    (``…`` elides text).  Blocks whose first line is a ``# … (not what kube-proxy writes)``
    comment show the common simplified picture a lesson corrects."""
    l = lesson(lid)
    rules = [r for p in scenario_paths(l) for r in rules_text(p)]
    if lid == "10-kube-proxy-controller":
        rules += list(_scale_rules_after_events())
    for block in code_blocks(l):
        if block and block[0].startswith("#") and "not what kube-proxy writes" in block[0]:
            continue
        for line in joined(block):
            if not line.startswith("-A "):
                continue
            rx = pattern(line)
            assert any(rx.fullmatch(r) for r in rules), f"{lid}: no such rule: {line}"


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_quoted_conntrack_lines_are_real(lid):
    """Each ``tcp …``/``udp …`` entry in a code block is one the lesson's flows produce."""
    l = lesson(lid)
    lines: set[str] = set()
    for flow in l.flows:
        for s in run(lid, flow).steps:
            lines.update(c.line for c in s.conntrack)
    if lid == "10-kube-proxy-controller":
        lines.update(_scale_shell_session()["conntrack"].splitlines())
    for block in code_blocks(l):
        for entry in joined(block):
            if not re.match(r"(tcp|udp) +\d+ ", entry):
                continue
            rx = pattern(entry)
            assert any(rx.fullmatch(x.strip()) for x in lines), f"{lid}: no such conntrack entry: {entry}"


# nft statements and declarations as `nft list ruleset` prints them (a code-block line that
# starts with one of these is quoted nftables text)
NFT_STARTS = ("table ip ", "chain ", "map ", "set ", "type ", "elements = ", "comment ", "ip daddr",
              "ip saddr", "meta ", "numgen ", "ct state ", "jump ", "goto ", "masquerade", "dnat ")


@lru_cache(maxsize=None)
def nft_text(path: str) -> tuple[str, ...]:
    """Every node's kube-proxy table in nftables mode, as `nft list ruleset` prints it
    (lines stripped of their tabs)."""
    sc = scenario(path)
    sim = ClusterSim(sc, proxy_mode="nftables")
    from kubeflow_tui.netfilter import render_nft_ruleset
    out: list[str] = []
    for node in sc.cluster.nodes:
        out += [line.strip() for line in render_nft_ruleset([sim.nft_table(node.name)]).splitlines()]
    return tuple(out)


def _sessions(l):
    """Shell sessions quoted in a lesson: per code block, [(host, command, [output lines])]
    for lines ``HOST$ command`` and the lines after them."""
    for block in code_blocks(l):
        session: list[tuple[str, str, list[str]]] = []
        for line in block:
            m = re.match(r"([a-z][a-z0-9-]*)\$ (.+)$", line)
            if m:
                session.append((m.group(1), m.group(2), []))
            elif session:
                session[-1][2].append(line)
        if session:
            yield session


def _output_matches(expected: list[str], actual: list[str]) -> bool:
    """Lesson output lines against real ones: whitespace runs compare equal, ``…`` inside a
    line stands for any text, a line that is only ``…`` for any number of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "…":
        return any(_output_matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and bool(pattern(head).fullmatch(actual[0].strip())) and _output_matches(rest, actual[1:])


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_quoted_shell_sessions_are_real(lid):
    """A ``HOST$ command`` followed by output in a code block prints that output in the
    simulated shell (the lesson's scenario, after its flows, commands in order)."""
    from kubeflow_tui.shell import Shell

    l = lesson(lid)
    if lid == "11-debugging-toolkit":
        return  # a session with its own order and edits: test_11 runs it
    for session in _sessions(l):
        if not any(out for _, _, out in session):
            continue  # commands only, to type along (their own tests check them)
        sim = ClusterSim(scenario(str(l.scenario)))
        for flow in l.flows:
            sim.run_flow(flow)
        shells: dict[str, Shell] = {}
        for host, cmd, expected in session:
            sh = shells.setdefault(host, Shell(sim, host))
            r = sh.run(cmd)
            actual = (r.stdout + r.stderr).splitlines()
            if expected:
                # wrapped lines (indented by 4) may continue the line before them
                assert _output_matches(expected, actual) or _output_matches(joined(expected), actual), f"{lid}: {host}$ {cmd} prints:\n" + "\n".join(actual)


@pytest.mark.parametrize("lid", EXPECTED_ORDER[1:])
def test_from_lesson_2_on_a_debugging_command_is_shown_with_its_output(lid):
    """Each lesson after the first teaches at least one command on a node or pod in context:
    a ``HOST$ command`` line in a code block (its output, when quoted, is checked above)."""
    sessions = list(_sessions(lesson(lid)))
    assert sessions, f"{lid}: no HOST$ command in a code block"
    if lid != "11-debugging-toolkit":  # lesson 11's outputs are asserted by test_11
        assert any(out for session in sessions for _, _, out in session), f"{lid}: no command output quoted"


@pytest.mark.parametrize("lid", EXPECTED_ORDER)
def test_quoted_nft_text_is_real(lid):
    """Each nftables line a lesson quotes outside a shell session is a line of kube-proxy's
    table for the lesson's scenarios; each ``trace id`` line names a rule and verdict the
    lesson's flows really took (``nft monitor trace`` form)."""
    l = lesson(lid)
    in_sessions = {line for session in _sessions(l) for _, _, out in session for line in out}
    lines = {x for p in scenario_paths(l) for x in nft_text(p)}
    steps = [s for flow in l.flows for s in run(lid, flow).steps if s.table == "ip kube-proxy" and s.rule]
    for block in code_blocks(l):
        if block and block[0].startswith("#") and "not what kube-proxy writes" in block[0]:
            continue
        # trace lines continue on indented lines; a listing's indentation is its nesting
        for line in joined(block) if block and block[0].startswith("trace id ") else block:
            text = line.strip()
            if text.startswith("trace id "):
                m = re.fullmatch(r"trace id … ip kube-proxy (\S+) rule (.+) \(verdict (\w+) (\S+)\)", text)
                assert m, f"{lid}: not an nft monitor trace line: {text}"
                chain, rule, verdict, target = m.groups()
                rx = pattern(target)
                assert any(s.chain == chain and s.rule == rule and s.kind == verdict and rx.fullmatch(s.target)
                           for s in steps), f"{lid}: no such trace step: {text}"
                continue
            if line in in_sessions or not text.startswith(NFT_STARTS) or text in ("}", "{"):
                continue
            rx = pattern(text)
            assert any(rx.fullmatch(x) for x in lines), f"{lid}: no such nftables line: {text}"


# ----------------------------------------------------------------------------- lesson claims


def test_01_one_linux_host():
    lid = "01-one-linux-host"
    sc = scenario(str(lesson(lid).scenario))
    assert [n.name for n in sc.cluster.nodes] == ["node-a"]

    t = run(lid, "pod-to-service")
    syn = first_packet(t, "node-a")
    hooks = [s.hook for s in syn if s.hook]
    # received, for another host: PREROUTING -> (route) -> FORWARD -> POSTROUTING
    assert hooks.index("PREROUTING") < hooks.index("FORWARD") < hooks.index("POSTROUTING")
    assert "INPUT" not in hooks and "OUTPUT" not in hooks
    kinds = [s.kind for s in syn]
    assert kinds.index("conntrack-new") < kinds.index("dnat") < kinds.index("route")
    assert any(s.kind == "policy" and s.chain == "FORWARD" for s in syn)  # policy ACCEPT decides
    assert any(s.kind == "return" for s in syn) and any(s.kind == "jump" for s in syn)
    # kube-proxy writes no raw or mangle rules: the trace shows none
    assert not any(s.table in ("raw", "mangle") for s in t.steps)
    # the SYN-ACK walks no nat chain (conntrack)
    assert not any(s.table == "nat" for s in label(t, "SYN-ACK"))

    t = run(lid, "node-to-service")
    syn = first_packet(t, "node-a")
    hooks = [s.hook for s in syn if s.hook]
    assert "PREROUTING" not in hooks and hooks.index("OUTPUT") < hooks.index("POSTROUTING")
    dnat = next(i for i, s in enumerate(syn) if s.kind == "dnat")
    assert any(s.kind == "route" and s.hook == "OUTPUT" for s in syn[dnat:])  # routed again

    t = run(lid, "pod-to-node")
    syn = first_packet(t, "node-a")
    hooks = {s.hook for s in syn if s.hook}
    assert "INPUT" in hooks and "FORWARD" not in hooks
    assert t.outcome == "refused"
    assert any(s.kind == "reject" and not s.rule and s.host == "node-a" for s in t.steps)  # its kernel
    assert any(s.packet_label == "RST" and s.host == "node-a" and s.kind == "send" for s in t.steps)

    t = run(lid, "pod-to-empty-service")
    assert t.outcome == "refused"
    rej = [s for s in t.steps if s.kind == "reject" and s.rule]
    assert len(rej) == 1
    assert (rej[0].table, rej[0].chain, rej[0].hook) == ("filter", "KUBE-SERVICES", "FORWARD")
    assert "has no endpoints" in rej[0].rule
    assert not any(s.kind == "dnat" for s in t.steps)


def test_02_clusterip():
    lid = "02-clusterip"
    t = run(lid, "pod-other-node")
    syn_b = first_packet(t, "node-b")
    path = t.chain_path("node-b", 0)
    # PREROUTING jumps to KUBE-SERVICES for everything; the Service match is there,
    # and it goes through KUBE-SVC before KUBE-SEP (the simplified picture skips KUBE-SVC)
    assert path[:4] == ["nat:PREROUTING", "nat:KUBE-SERVICES", "nat:KUBE-SVC-CDGGSHYLG3RE2FKL",
                        "nat:KUBE-SEP-AFGSLHOD2HFNCBX4"]
    pre = next(s for s in syn_b if s.chain == "PREROUTING" and s.kind == "jump")
    assert pre.rule == '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    assert any(s.kind == "dnat" and s.packet.dst == "10.244.1.5" for s in syn_b)
    # node-a only forwards: no DNAT there
    assert not any(s.kind == "dnat" for s in first_packet(t, "node-a"))
    rev = [s for s in label(t, "SYN-ACK", "node-b") if s.kind == "conntrack-reverse" and "src" in s.changed]
    assert rev and rev[0].packet.src == "10.96.0.1"
    assert not any(s.kind in ("snat", "masquerade") for s in t.steps)
    # the hash names are the same on every node
    for node in ("node-a", "node-b"):
        sim = ClusterSim(scenario(str(lesson(lid).scenario)))
        assert "KUBE-SVC-CDGGSHYLG3RE2FKL" in render_save(sim.node_ruleset(node))

    t = run(lid, "node-host-network")
    syn = first_packet(t, "node-b")
    assert any(s.table == "nat" and s.chain == "OUTPUT" for s in syn)
    assert not any(s.chain == "PREROUTING" for s in syn)
    assert any(s.kind == "mark" for s in syn) and any(s.kind == "masquerade" for s in syn)


def test_03_choosing_an_endpoint():
    lid = "03-choosing-an-endpoint"
    for pod in ("web-1", "web-2", "web-3"):
        t = run(lid, f"to-{pod}")
        assert t.endpoint == pod
        assert any(s.kind == "dnat" for s in first_packet(t, "node-b"))  # the client's node
        assert not any(s.kind == "dnat" for s in first_packet(t, "node-a"))
    t = run(lid, "random-pick")
    rolls = [s for s in t.steps if s.roll is not None]
    assert rolls and all(s.probability is not None for s in rolls)
    assert {round(s.probability, 11) for s in rolls} <= {0.33333333349, 0.5}


def test_04_conntrack():
    lid = "04-conntrack"
    t = run(lid, "pod-other-node")
    syn_b = first_packet(t, "node-b")
    kinds = [s.kind for s in syn_b]
    first_nat = next(i for i, s in enumerate(syn_b) if s.table == "nat")
    assert kinds.index("conntrack-new") < first_nat
    new = next(s for s in syn_b if s.kind == "conntrack-new").conntrack
    assert any("[UNREPLIED] src=10.96.0.1 " in c.line for c in new)
    conf = next(s for s in syn_b if s.kind == "conntrack-confirm")
    assert conf.conntrack[conf.touched].reply[0] == "10.244.1.5"
    # later packets: conntrack-hit, no nat table
    for name in ("ACK", "request"):
        steps = label(t, name, "node-b")
        assert any(s.kind == "conntrack-hit" and "dst" in s.changed for s in steps)
        assert not any(s.table == "nat" for s in steps)
    assert not any(s.table == "nat" for s in t.steps if s.packet_no > 0)
    # the reply: conntrack-reverse on node-b at POSTROUTING, source back to the ClusterIP
    synack = label(t, "SYN-ACK", "node-b")
    assert synack[1].kind == "conntrack-reverse"  # first step after arriving on node-b
    rev = [s for s in synack if s.kind == "conntrack-reverse" and "src" in s.changed]
    assert len(rev) == 1 and rev[0].hook == "POSTROUTING" and rev[0].packet.src == "10.96.0.1"
    assert not any(s.kind in ("snat", "masquerade") for s in t.steps)
    assert t.client_saw == "10.96.0.1:8080"
    # node-a keeps its own entry, without NAT
    a = [c for s in t.steps if s.host == "node-a" for c in s.conntrack]
    assert a and all(c.orig[1] == "10.244.1.5" and c.reply[0] == "10.244.1.5" for c in a)
    last_b = [s for s in t.steps if s.host == "node-b"][-1]
    entry = last_b.conntrack[last_b.touched]
    assert entry.state == "TIME_WAIT" and "ASSURED" in entry.status and "UNREPLIED" not in entry.status


def test_05_masquerade():
    lid = "05-masquerade"
    t = run(lid, "pod-to-service")
    assert t.server_saw == "10.244.2.7:40000"
    assert not any(s.kind in ("mark", "masquerade", "snat") for s in t.steps)
    ret = [s for s in first_packet(t, "node-b") if s.chain == "KUBE-POSTROUTING"]
    assert ret[0].kind == "return" and ret[0].rule_index == 1

    t = run(lid, "node-to-service")
    syn = first_packet(t, "node-b")
    mark_jump = next(s for s in syn if s.target == "KUBE-MARK-MASQ")
    assert mark_jump.chain.startswith("KUBE-SVC-") and "! -s 10.244.0.0/16" in mark_jump.rule
    masq = [s for s in syn if s.kind == "masquerade"]
    assert len(masq) == 1 and masq[0].hook == "POSTROUTING"
    assert masq[0].packet.src == "192.168.1.11" and masq[0].changed == ("sport",)
    clear = next(s for s in syn if s.chain == "KUBE-POSTROUTING" and s.kind == "mark")
    assert clear.packet.mark == 0  # the bit is cleared before MASQUERADE
    assert t.server_saw.startswith("192.168.1.11:") and t.server_saw != "192.168.1.11:40000"
    assert not any(s.kind == "masquerade" for s in t.steps if s.host == "node-a")

    t = run(lid, "hairpin")
    assert t.endpoint == "web-1"
    syn = first_packet(t, "node-a")
    mark_jump = next(s for s in syn if s.target == "KUBE-MARK-MASQ")
    assert mark_jump.chain == "KUBE-SEP-AFGSLHOD2HFNCBX4" and "-s 10.244.1.5/32" in mark_jump.rule
    masq = next(s for s in syn if s.kind == "masquerade")
    assert masq.packet.src == "10.244.1.1"
    assert any(s.kind == "accept" and s.chain == "KUBE-FORWARD" and "--mark 0x4000/0x4000" in s.rule
               for s in syn)
    assert t.server_saw.startswith("10.244.1.1:") and t.client_saw == "10.96.0.1:8080"


def test_05_masquerade_depends_on_kube_proxys_detector():
    # no detector: no "! -s" rule, node-to-service keeps its address and port
    t = run_in("scenarios/no-local-detector.yaml", "node-to-service")
    assert t.server_saw == "192.168.1.11:40000"
    assert not any(s.kind in ("mark", "masquerade") for s in t.steps)
    # masqueradeAll: even the pod's connection is masqueraded on node-b
    t = run_in("scenarios/masquerade-all.yaml", "pod-to-service")
    assert t.server_saw.startswith("192.168.1.11:")
    assert [s.host for s in t.steps if s.kind == "masquerade"] == ["node-b"]


def test_05_the_cni_picks_the_hairpin_source():
    t = run_in("scenarios/cni-no-veth-address.yaml", "hairpin")
    assert t.outcome == "delivered" and t.server_saw.startswith("192.168.1.10:")
    assert "inet 10.244.1.1" not in _shell("scenarios/cni-no-veth-address.yaml", "node-a").run("ip addr").stdout
    assert "inet 10.244.1.1/32" in _shell("scenarios/lesson-masquerade.yaml", "node-a").run("ip addr").stdout


def test_06_nodeport():
    lid = "06-nodeport"
    for flow in ("to-pod-node", "to-other-node"):
        t = run(lid, flow)
        node = "node-a" if flow == "to-pod-node" else "node-b"
        path = t.chain_path(node, 0)
        i = path.index("nat:KUBE-SERVICES")
        assert path[i + 1:i + 6] == ["nat:KUBE-NODEPORTS", "nat:KUBE-EXT-CDGGSHYLG3RE2FKL", "nat:KUBE-MARK-MASQ",
                                     "nat:KUBE-EXT-CDGGSHYLG3RE2FKL", "nat:KUBE-SVC-CDGGSHYLG3RE2FKL"]
        via = next(s for s in first_packet(t, node) if s.target == "KUBE-NODEPORTS")
        assert "--dst-type LOCAL" in via.rule
    t = run(lid, "to-pod-node")
    assert t.server_saw.startswith("10.244.1.1:")
    t = run(lid, "to-other-node")
    b = first_packet(t, "node-b")
    assert any(s.kind == "dnat" for s in b)
    masq = [s for s in b if s.kind == "masquerade"]
    assert masq and masq[0].packet.src == "192.168.1.11"
    assert not any(s.kind in ("dnat", "masquerade") for s in first_packet(t, "node-a"))
    assert t.server_saw.startswith("192.168.1.11:") and t.client_saw == "192.168.1.11:30080"
    rev = [s for s in label(t, "SYN-ACK", "node-b") if s.kind == "conntrack-reverse" and s.changed]
    assert [(s.hook, s.changed) for s in rev] == [("PREROUTING", ("dst", "dport")),
                                                   ("POSTROUTING", ("src", "sport"))]
    assert rev[0].packet.dst == "192.168.1.2" and rev[1].packet.src == "192.168.1.11"


def test_07_loadbalancer():
    lid = "07-loadbalancer"
    for flow, node, saw in (("via-pod-node", "node-a", "10.244.1.1:"),
                            ("via-other-node", "node-b", "192.168.1.11:")):
        t = run(lid, flow)
        lb = [s for s in first_packet(t, "lb")]
        assert any(s.kind == "route" for s in lb)
        assert all(s.packet.dst == "203.0.113.5" for s in lb)  # the balancer does no NAT
        hit = next(s for s in first_packet(t, node) if s.chain == "KUBE-SERVICES" and s.kind == "jump")
        assert "-d 203.0.113.5/32" in hit.rule and hit.target == "KUBE-EXT-CDGGSHYLG3RE2FKL"
        assert not any(s.chain == "KUBE-NODEPORTS" for s in t.steps)
        assert any(s.kind == "masquerade" for s in first_packet(t, node))
        assert t.server_saw.startswith(saw) and t.client_saw == "203.0.113.5:8080"
    t = run(lid, "via-other-node")
    assert {s.host for s in t.steps if s.kind == "conntrack-new" and s.packet_no == 0} == {"node-a", "node-b"}
    # style 2: the proxy balancer
    for flow, node, saw in (("via-pod-node", "node-a", "10.244.1.1:"),
                            ("via-other-node", "node-b", "192.168.1.11:")):
        t = run_in("scenarios/loadbalancer-proxy.yaml", flow)
        lb_syn = [s for s in t.steps if s.host == "lb" and s.kind == "send" and s.packet_label == "SYN"]
        assert lb_syn and lb_syn[0].packet.src == "192.168.1.100" and lb_syn[0].packet.dport == 30080
        assert any(s.chain == "KUBE-NODEPORTS" for s in t.steps if s.host == node)
        assert t.server_saw.startswith(saw)
        assert not any(s.packet.src == "192.168.1.2" for s in t.steps if s.host == "web-1")


def test_08_traffic_policy_local():
    lid = "08-traffic-policy-local"
    t = run(lid, "to-node-with-endpoint")
    assert t.server_saw == "192.168.1.2:40000" and t.client_saw == "192.168.1.10:30080"
    assert not any(s.kind in ("mark", "masquerade") for s in t.steps)
    assert "nat:KUBE-SVL-CDGGSHYLG3RE2FKL" in t.chain_path("node-a", 0)
    assert any(s.chain == "KUBE-POSTROUTING" and s.kind == "return" and s.rule_index == 1
               for s in first_packet(t, "node-a"))

    t = run(lid, "to-node-without-endpoint")
    assert t.outcome == "timeout"
    drop = [s for s in t.steps if s.kind == "drop"]
    assert len(drop) == 1 and drop[0].host == "node-b"
    assert (drop[0].table, drop[0].chain, drop[0].hook) == ("filter", "KUBE-EXTERNAL-SERVICES", "INPUT")
    assert "has no local endpoints" in drop[0].rule
    assert not any(s.kind == "dnat" for s in t.steps)
    assert not any(s.host == "node-a" for s in t.steps)  # node-b does not forward
    assert not any("KUBE-SVL" in r for r in _node_rules(lid, "node-b"))

    # internalTrafficPolicy: Local
    t = run_in("scenarios/internal-local.yaml", "client-on-endpoint-node")
    assert t.outcome == "delivered"
    hit = next(s for s in first_packet(t, "node-a") if s.chain == "KUBE-SERVICES" and s.kind == "jump")
    assert hit.target == "KUBE-SVL-CDGGSHYLG3RE2FKL"
    t = run_in("scenarios/internal-local.yaml", "client-on-other-node")
    assert t.outcome == "timeout"
    drop = [s for s in t.steps if s.kind == "drop"]
    assert len(drop) == 1 and drop[0].host == "node-b"
    assert (drop[0].table, drop[0].chain, drop[0].hook) == ("filter", "KUBE-SERVICES", "FORWARD")
    assert "has no local endpoints" in drop[0].rule


def _node_rules(lid: str, node: str) -> list[str]:
    sim = ClusterSim(scenario(str(lesson(lid).scenario)))
    return render_save(sim.node_ruleset(node)).splitlines()


def test_07_replies_bypass_a_pass_through_balancer():
    t = run("07-loadbalancer", "via-other-node")
    links = [s.why for s in label(t, "SYN-ACK") if s.kind == "link"]
    assert links[-1].startswith("node-b (eth0) → user")
    assert not any(s.host == "lb" for s in label(t, "SYN-ACK"))


def test_08_health_check_node_port():
    t = run_in("scenarios/lb-local-policy.yaml", "via-pod-node")
    assert t.outcome == "delivered" and t.server_saw == "192.168.1.2:40000"
    t = run_in("scenarios/lb-local-policy.yaml", "via-other-node")
    assert t.outcome == "timeout"
    drop = next(s for s in t.steps if s.kind == "drop")
    assert (drop.host, drop.hook, drop.table, drop.chain) == ("node-b", "FORWARD", "filter", "KUBE-EXTERNAL-SERVICES")


def test_09_session_affinity():
    lid = "09-session-affinity"
    sc = scenario(str(lesson(lid).scenario))
    sim = ClusterSim(sc)
    first = sim.run_flow("first-request")
    second = sim.run_flow("second-request")
    assert first.endpoint == "web-2"
    assert second.endpoint == first.endpoint
    dnat = next(s for s in first_packet(first, "node-a") if s.kind == "dnat")
    assert "-m recent --set --name KUBE-SEP-OAIGUPJHOE4YU7HS" in dnat.rule
    syn = first_packet(second, "node-a")
    assert any(s.kind == "conntrack-new" and s.packet.sport == 40001 for s in syn)  # a new connection
    hit = next(s for s in syn if s.chain == "KUBE-SVC-CDGGSHYLG3RE2FKL" and s.kind == "jump")
    assert "--rcheck --seconds 10800 --reap" in hit.rule and hit.target == "KUBE-SEP-OAIGUPJHOE4YU7HS"
    assert not any(s.roll is not None or "statistic" in s.rule for s in syn if s.kind != "no-match")
    assert all(s.roll is None for s in second.steps)
    # in first-request the --rcheck rules did not match (the lists were empty)
    checks = [s for s in first_packet(first, "node-a") if "--rcheck" in s.rule]
    assert checks and all(s.kind == "no-match" for s in checks)
    # the lists are per node: after first-request only node-a's knows the client
    a, b = sim.nodes["node-a"].recent, sim.nodes["node-b"].recent
    assert any("10.244.1.9" in lst.hits for lst in a.values())
    assert not any("10.244.1.9" in lst.hits for lst in b.values())
    # the same flow in one simulator gives the same answer as the flow's `after`
    assert run(lid, "second-request").endpoint == "web-2"


@lru_cache(maxsize=None)
def _scale_timeline():
    """The scale scenario's timeline applied in order: per event, node-b's rules after it."""
    sc = scenario(str(ROOT / "scenarios/scale.yaml"))
    sim = ClusterSim(sc)
    states = [tuple(render_save(sim.node_ruleset("node-b")).splitlines())]
    diffs = []
    for ev in sc.timeline:
        diffs.append(sim.apply_event(ev))
        states.append(tuple(render_save(sim.node_ruleset("node-b")).splitlines()))
    return sim, states, diffs


def _scale_rules_after_events():
    _, states, _ = _scale_timeline()
    return {r for st in states for r in st}


def _svc_jumps(rules) -> list[str]:
    return [r for r in rules if r.startswith("-A KUBE-SVC-") and "-j KUBE-SEP-" in r]


@lru_cache(maxsize=None)
def _scale_shell_session():
    """What lesson 10 tells the learner to type in node-b's shell."""
    from kubeflow_tui.shell import Shell

    sim = ClusterSim(scenario(str(ROOT / "scenarios/scale.yaml")))
    sh = Shell(sim, "node-b")
    for _ in range(10):
        r = sh.run("kubectl exec client -- curl 10.96.0.1:8080")
        assert r.exit_code == 0
        if "from web-1" in r.stdout:
            break
    else:
        pytest.fail("no curl landed on web-1")
    out = {}
    for cmd in ("kubectl scale deployment web --replicas 2", "kubectl delete pod web-1"):
        r = sh.run(cmd)
        assert r.exit_code == 0, r.stderr
    out["conntrack"] = sh.run("conntrack -L").stdout
    out["pods"] = sh.run("kubectl get pods -o wide").stdout
    out["svc"] = sh.run("iptables -t nat -S KUBE-SVC-CDGGSHYLG3RE2FKL").stdout
    return out


def test_10_kube_proxy_controller():
    sim, states, diffs = _scale_timeline()
    probs = [re.search(r"--probability (\S+)", r) for r in _svc_jumps(states[0])]
    assert [p.group(1) if p else None for p in probs] == ["0.25000000000", "0.33333333349", "0.50000000000", None]
    # 1. scale web to 2: web-3 (10.244.2.5) and its chain go; 1/3, 1/2, the rest
    after1 = states[1]
    assert not any("KUBE-SEP-OAIGUPJHOE4YU7HS" in r for r in after1)
    probs = [re.search(r"--probability (\S+)", r) for r in _svc_jumps(after1)]
    assert [p.group(1) if p else None for p in probs] == ["0.33333333349", "0.50000000000", None]
    assert "-KUBE-SEP-OAIGUPJHOE4YU7HS" in diffs[0]["node-b"].replace("-:KUBE", "-KUBE")
    # 2. delete web-1: a replacement with a new IP, a new chain, first in the list
    after2 = states[2]
    assert not any("KUBE-SEP-AFGSLHOD2HFNCBX4" in r for r in after2)
    jumps = _svc_jumps(after2)
    assert "10.244.1.2:8080" in jumps[0] and jumps[0].endswith("-j KUBE-SEP-UIQK3OSOSTRHRPBX")
    # 3. selector version=v2: one jump, no statistic
    jumps = _svc_jumps(states[3])
    assert len(jumps) == 1 and "statistic" not in jumps[0] and "10.244.2.6:8080" in jumps[0]
    t = sim.run_flow("client-to-web-v2")
    assert t.endpoint == "web-v2-1" and t.outcome == "delivered"
    # the shell session: a resync leaves the TCP entry to the deleted pod in place
    sess = _scale_shell_session()
    assert any("src=10.244.1.5 dst=10.244.2.9 sport=8080" in l for l in sess["conntrack"].splitlines())
    assert "10.244.1.5" not in sess["pods"] and "10.244.1.2" in sess["pods"]
    assert "KUBE-SEP-UIQK3OSOSTRHRPBX" in sess["svc"] and "KUBE-SEP-AFGSLHOD2HFNCBX4" not in sess["svc"]


def test_11_debugging_toolkit_commands_work():
    """Every ``node-b$`` command in lesson 11 runs in the simulated shell, in order."""
    from kubeflow_tui.shell import Shell

    lid = "11-debugging-toolkit"
    cmds = [line[len("node-b$ "):] for block in code_blocks(lesson(lid)) for line in joined(block)
            if line.startswith("node-b$ ")]
    assert len(cmds) >= 12
    sim = ClusterSim(scenario(str(lesson(lid).scenario)))
    sh = Shell(sim, "node-b")
    out = {}
    for c in cmds:
        r = sh.run(c)
        assert r.exit_code == 0, (c, r.stderr)
        out.setdefault(c, []).append(r.stdout + r.stderr)
    assert "10.244.1.5" in out["kubectl get endpointslices"][0]
    assert "KUBE-SEP-AFGSLHOD2HFNCBX4" in out["iptables -t nat -S KUBE-SVC-CDGGSHYLG3RE2FKL"][0]
    ct = out["conntrack -L -p tcp --orig-dst 10.96.0.1"][0]
    assert "dst=10.96.0.1" in ct and "src=10.244.1.5" in ct
    curls = out["kubectl exec client-b -- curl 10.96.0.1:8080"]
    assert "[NEW]" in curls[1] and "[UPDATE]" in curls[1] and "ESTABLISHED" in curls[1]
    trace = curls[2]
    assert "nat:KUBE-SVC-CDGGSHYLG3RE2FKL:rule:" in trace and ":JUMP:KUBE-SEP-" in trace
    # later packets: raw and filter lines, no nat line
    later_packets = [p for p in trace.split("PACKET:")[1:] if " SYN" not in p.splitlines()[0]]
    assert later_packets and not any("nat:" in p for p in later_packets)
    assert "deleted" in out["conntrack -D -p tcp --orig-dst 10.96.0.1"][0]
    r = sh.run("iptables -t raw -D PREROUTING -p tcp -d 10.96.0.1 --dport 8080 -j TRACE")
    assert r.exit_code == 0


def test_12_troubleshooting_drill_cases():
    from kubeflow_tui.quiz.cases import CaseSession, load_case

    lid = "12-troubleshooting-drill"
    l = lesson(lid)
    ids = l.case if isinstance(l.case, list) else [l.case]
    have = sorted(p.stem for p in CASES_DIR.glob("*.yaml"))
    assert sorted(ids) == have, "the drill lists every case in cases/"
    # the grouping in the lesson's table is the symptom each case really shows
    table = next(b for b in code_blocks(l) if b and b[0] == "refused:")
    group = {}
    current = None
    for line in table:
        if line.endswith(":"):
            current = {"refused:": "refused", "timeout:": "timeout", "no route to host:": "unreachable",
                       "works, but:": "delivered", "no such host:": "unresolved"}[line]
        else:
            group[line.split()[0]] = current
    assert sorted(group) == have
    for cid in ids:
        session = CaseSession(load_case(CASES_DIR / f"{cid}.yaml"))
        assert session.symptom_outcome == group[cid], cid
    t = run(lid, "no-backend")
    assert t.outcome == "refused"
    assert not any(s.kind == "dnat" for s in t.steps)
    rej = next(s for s in t.steps if s.kind == "reject")
    assert (rej.table, rej.chain, rej.hook, rej.host) == ("filter", "KUBE-SERVICES", "FORWARD", "node-b")
    # a port the Service lacks: no DNAT, no REJECT; the router drops it, a timeout
    t = run(lid, "port-not-in-service")
    assert t.outcome == "timeout"
    assert not any(s.kind in ("dnat", "reject") for s in t.steps)
    last_drop = [s for s in t.steps if s.kind == "drop"][-1]
    assert last_drop.host == "router" and "192.168.1.1" in last_drop.why
    from kubeflow_tui.shell import Shell
    out = Shell(ClusterSim(scenario(str(l.scenario))), "node-b").run("ip route get 10.96.0.1").stdout
    assert out.startswith("10.96.0.1 via 192.168.1.1 dev eth0")


def test_13_where_next():
    lid = "13-where-next"
    t = run(lid, "pod-same-node")
    # what the app models: iptables mode, nat and filter tables of kube-proxy
    assert {s.table for s in t.steps if s.table} == {"nat", "filter"}
    assert "does not model IPVS mode" in lesson(lid).body
    # nftables mode is modelled: the lessons it points to play a scenario in that mode
    for nid in ("19-kube-proxy-nftables-mode", "20-iptables-or-nftables-debugging"):
        assert scenario(str(lesson(nid).scenario)).cluster.proxyMode == "nftables"


def _shell(path: str, host: str):
    from kubeflow_tui.shell import Shell

    return Shell(ClusterSim(scenario(str(ROOT / path))), host)


def _last_entry(t: Trace, host: str):
    last = [s for s in t.steps if s.host == host][-1]
    return last.conntrack[last.touched]


def test_14_where_snat_comes_from():
    lid = "14-where-snat-comes-from"
    t = run(lid, "to-other-node")
    assert t.server_saw.startswith("192.168.1.11:")
    e = _last_entry(t, "node-b")
    assert e.orig[0] == "192.168.1.2" and e.reply[1] == "192.168.1.11"  # SNATed to node-b
    # check yourself: to-pod-node is SNATed to node-a's address on web-1's veth
    e = _last_entry(run(lid, "to-pod-node"), "node-a")
    assert e.orig[0] == "192.168.1.2" and e.reply[1] == "10.244.1.1"
    assert run_in("scenarios/local-policy.yaml", "to-node-with-endpoint").server_saw == "192.168.1.2:40000"
    assert run_in("scenarios/masquerade-all.yaml", "pod-to-service").server_saw.startswith("192.168.1.11:")
    out = _shell("scenarios/nodeport.yaml", "node-b")
    out.sim.run_flow("to-other-node")  # the lesson's command, after that connection
    listing = out.run("conntrack -L -p tcp --orig-port-dst 30080").stdout
    assert "dport=30080 src=10.244.1.5 dst=192.168.1.11" in listing


def test_15_conntrack_operations():
    lid = "15-conntrack-operations"
    e = _last_entry(run(lid, "pod-other-node"), "node-b")
    assert e.state == "TIME_WAIT" and e.line.split()[2] == "119"
    sh = _shell("scenarios/clusterip.yaml", "node-b")
    for cmd in ("conntrack -C", "cat /proc/sys/net/netfilter/nf_conntrack_max", "conntrack -S"):
        assert sh.run(cmd).exit_code == 0, cmd
    assert "insert_failed=" in sh.run("conntrack -S").stdout
    fwd = sh.run("iptables -t filter -S KUBE-FORWARD").stdout.splitlines()
    assert fwd[1].startswith("-A KUBE-FORWARD -m conntrack --ctstate INVALID") and fwd[1].endswith("-j DROP")
    assert "ctstate INVALID" in sh.run("iptables -t filter -L KUBE-FORWARD -n -v").stdout


def test_16_rollouts_terminating():
    lid = "16-rollouts-terminating"
    assert run(lid, "to-web").endpoint == "web-2"
    assert run(lid, "to-solo").endpoint == "solo-1"
    t = run(lid, "to-gone")
    assert t.outcome == "refused"
    rej = next(s for s in t.steps if s.kind == "reject")
    assert "default/gone:http has no endpoints" in rej.rule and rej.host == "node-b"
    yaml_out = _shell("scenarios/terminating.yaml", "node-b").run("kubectl get endpointslices -o yaml").stdout
    assert re.search(r"ready: false\n\s+serving: true\n\s+terminating: true", yaml_out)


def test_17_dns_for_services():
    lid = "17-dns-for-services"
    t = run(lid, "dns-query")
    assert t.outcome == "delivered" and t.endpoint == "coredns-1"
    assert "KUBE-SVC-TCOU7JCQXEZGVUNU" in {s.target for s in t.steps if s.kind == "jump"}
    tcp = run(lid, "dns-over-tcp")
    svc_tcp = {s.target for s in tcp.steps if s.kind == "jump" and s.target.startswith("KUBE-SVC-")}
    assert svc_tcp and "KUBE-SVC-TCOU7JCQXEZGVUNU" not in svc_tcp
    sh = _shell("scenarios/udp.yaml", "app")
    assert sh.run("cat /etc/resolv.conf").stdout == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:5\n")
    assert sh.run("nslookup kube-dns").exit_code != 0
    ok = sh.run("nslookup kube-dns.kube-system")
    assert ok.exit_code == 0 and "Address: 10.96.0.10" in ok.stdout


def test_18_networkpolicy_sees_post_dnat_post_snat():
    lid = "18-networkpolicy-meets-kube-proxy"
    t = run(lid, "pod-other-node")
    arrive = next(s for s in first_packet(t, "node-a") if s.kind == "link")
    assert (arrive.packet.src, arrive.packet.sport, arrive.packet.dst, arrive.packet.dport) == (
        "10.244.2.7", 40000, "10.244.1.5", 8080)
    t = run_in("scenarios/nodeport.yaml", "to-other-node")
    arrive = next(s for s in first_packet(t, "node-a") if s.kind == "link")
    assert arrive.packet.src == "192.168.1.11" and arrive.packet.dst == "10.244.1.5"
    sh = _shell("scenarios/clusterip.yaml", "node-b")
    sh.sim.run_flow("pod-other-node")
    listing = sh.run("conntrack -L -p tcp --orig-dst 10.96.0.1").stdout
    assert "dst=10.96.0.1" in listing and "src=10.244.1.5 dst=10.244.2.7" in listing


def _bench_nft():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_nft", ROOT / "benchmarks" / "bench_nft.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_19_kube_proxy_nftables_mode():
    lid = "19-kube-proxy-nftables-mode"
    sc = scenario(str(lesson(lid).scenario))
    assert sc.cluster.proxyMode == "nftables"
    t = run(lid, "to-web-1")
    syn = first_packet(t, "node-b")
    # the base chains the SYN crosses on node-b, in the lesson's order
    bases = ["filter-prerouting-pre-dnat", "nat-prerouting", "filter-forward", "nat-postrouting"]
    seen = [s.chain for s in syn if s.chain in bases]
    assert list(dict.fromkeys(seen)) == bases
    look = next(s for s in syn if s.chain == "services" and s.kind == "goto")
    assert look.rule == "ip daddr . meta l4proto . th dport vmap @service-ips"
    assert look.target == "service-SUSTUHLJ-default/web/tcp/http"
    assert "10.96.0.1 . tcp . 8080" in look.why
    pick = next(s for s in syn if "numgen random mod 3" in s.rule)
    assert pick.target.startswith("endpoint-HGNPOIJ5-") and "gave 0" in pick.why
    dnat = next(s for s in syn if s.kind == "dnat")
    assert dnat.rule == "meta l4proto tcp dnat to 10.244.1.5:8080" and dnat.host == "node-b"
    t3 = run(lid, "to-web-3")
    pick = next(s for s in first_packet(t3, "node-b") if "numgen random mod 3" in s.rule)
    assert "gave 2" in pick.why and t3.endpoint == "web-3"
    assert any(s.kind == "dnat" and s.host == "node-b" for s in t3.steps)
    # wrong port: refused by cluster-ips-check here; a timeout in iptables mode
    t = run(lid, "wrong-port")
    assert t.outcome == "refused" and t.error == "ECONNREFUSED"
    rej = next(s for s in t.steps if s.kind == "reject")
    assert (rej.host, rej.chain, rej.hook) == ("node-b", "cluster-ips-check", "FORWARD")
    assert ClusterSim(sc, proxy_mode="iptables").run_flow("wrong-port").outcome == "timeout"
    # an address of the Service CIDR that no Service has: dropped on the node
    from kubeflow_tui.shell import Shell
    out = Shell(ClusterSim(sc), "node-b").run("kubectl exec client -- curl 10.96.0.99:8080")
    assert out.exit_code == 28
    # the table of figures: what benchmarks/bench_nft.py counts (10 Services here, and the
    # growth that gives 10,005 at 10,000: one KUBE-SERVICES rule per Service)
    bench = _bench_nft()
    body = lesson(lid).body
    row = re.search(r"^10 +(\d+) +(\d+)$", body, re.M)
    big = re.search(r"^10,000 +([\d,]+) +(\d+)$", body, re.M)
    small = bench.big_scenario(10)
    last = max(range(10), key=lambda s: f"default/s{s}:http")
    assert (int(row.group(1)), int(row.group(2))) == (
        bench.ipt_rules_evaluated(small, f"10.96.0.{last}"), bench.nft_rules_evaluated(small, f"10.96.0.{last}"))
    n = 200
    mid = bench.big_scenario(n)
    last = max(range(n), key=lambda s: f"default/s{s}:http")
    dst = f"10.96.{last >> 8}.{last & 0xff}"
    ipt, nft = bench.ipt_rules_evaluated(mid, dst), bench.nft_rules_evaluated(mid, dst)
    assert nft == int(row.group(2)) == int(big.group(2))  # the same at any size
    assert ipt - n == int(row.group(1)) - 10 == int(big.group(1).replace(",", "")) - 10000


def test_20_iptables_or_nftables_debugging():
    lid = "20-iptables-or-nftables-debugging"
    nft = run(lid, "to-web-1")
    ipt = run_in("scenarios/multi-endpoint.yaml", "to-web-1")
    # the same connection, the same conntrack entry on node-b in both modes
    assert _last_entry(nft, "node-b").line == _last_entry(ipt, "node-b").line
    assert nft.endpoint == ipt.endpoint == "web-1"
    assert {s.table for s in nft.steps if s.table} == {"ip kube-proxy"}
    assert "nat" in {s.table for s in ipt.steps if s.table}
    from kubeflow_tui.shell import Shell
    sh = Shell(ClusterSim(scenario(str(lesson(lid).scenario))), "node-b")
    r = sh.run("iptables-save")
    assert r.exit_code == 0 and r.stdout == ""  # no KUBE- chain on an nftables node
    assert "no-endpoint-services" in sh.run("nft list map ip kube-proxy no-endpoint-services").stdout
    chain = sh.run("nft list chain ip kube-proxy service-SUSTUHLJ-default/web/tcp/http").stdout
    assert "numgen random mod 3" in chain and "counter" not in sh.run("nft list ruleset").stdout
    # wrong-port differs: refused here, a timeout at the router in iptables mode
    assert run(lid, "wrong-port").outcome == "refused"
    t = ClusterSim(scenario(str(lesson(lid).scenario)), proxy_mode="iptables").run_flow("wrong-port")
    assert t.outcome == "timeout" and [s for s in t.steps if s.kind == "drop"][-1].host == "router"
