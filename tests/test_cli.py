"""The ``kubeflow-tui`` command: exit codes, one-line errors, colour, and the trace text.

Tests that need an engine part which is not there yet skip themselves (``_needs``); the
trace renderer is tested on a hand-built Trace, so it needs no engine at all.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from kubeflow_tui import __version__, cli
from kubeflow_tui.render_trace import render_trace_text, rewrites
from kubeflow_tui.trace import ConntrackView, PacketView, Step, Trace

ANSI_COLOR = re.compile(r"\x1b\[[0-9;]*(?:3[0-7]|38;[0-9;]+|9[0-7])m")
ANSI_ANY = re.compile(r"\x1b\[[0-9;]*m")

GOOD_SCENARIO = textwrap.dedent(
    """\
    name: cli-test
    cluster:
      systemServices: false  # web keeps 10.96.0.1
      nodes:
        - {name: node-a, ip: 192.168.1.10, podCIDR: 10.244.1.0/24}
    pods:
      - name: web-1
        node: node-a
        ip: 10.244.1.5
        labels: {app: web}
        ports: [{containerPort: 8080}]
      - {name: client, node: node-a, ip: 10.244.1.7}
    services:
      - name: web
        clusterIP: 10.96.0.1
        selector: {app: web}
        ports: [{port: 8080, targetPort: 8080}]
    clients:
      - {name: laptop, ip: 192.168.1.2}
    flows:
      - {name: to-service, from: client, to: "10.96.0.1:8080"}
    """
)


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "expected an error on stderr"
    assert "Traceback" not in err
    for ln in lines:
        assert ln.startswith("kubeflow-tui: error: "), ln
    return lines[0]


# --------------------------------------------------------------------------- a hand-built Trace

CIP, POD, CLIENT = "10.96.0.1", "10.244.1.5", "192.168.1.2"
SVC = "KUBE-SVC-CDGGSHYLG3RE2FKL"
SEP = "KUBE-SEP-AFGSLHOD2HFNCBX4"


def _ct(state: str, status: tuple[str, ...], event: str) -> ConntrackView:
    line = (
        f"tcp      6 120 {state} src={CLIENT} dst={CIP} sport=40000 dport=8080 "
        f"{'[UNREPLIED] ' if 'UNREPLIED' in status else ''}src={POD} dst={CLIENT} sport=8080 "
        f"dport=40000 {'[ASSURED] ' if 'ASSURED' in status else ''}mark=0 use=1"
    )
    return ConntrackView(
        line=line, proto="tcp", state=state, orig=(CLIENT, CIP, 40000, 8080),
        reply=(POD, CLIENT, 8080, 40000), status=status, event=event,
    )


def hand_built_trace() -> Trace:
    syn = PacketView(CLIENT, CIP, "tcp", 40000, 8080, flags=("SYN",))
    syn_dnat = PacketView(CLIENT, POD, "tcp", 40000, 8080, flags=("SYN",))
    synack = PacketView(POD, CLIENT, "tcp", 8080, 40000, flags=("SYN", "ACK"), direction="reply")
    synack_un = PacketView(CIP, CLIENT, "tcp", 8080, 40000, flags=("SYN", "ACK"), direction="reply")
    new = (_ct("SYN_SENT", ("UNREPLIED",), "new"),)
    seen = (_ct("SYN_RECV", (), "update"),)
    steps = [
        Step(0, "laptop", "send", "The laptop opens a connection to the ClusterIP.", syn, 0, "SYN"),
        Step(1, "laptop", "link", "The SYN crosses the node network.", syn, 0, "SYN", link=("laptop", "node-a")),
        Step(2, "node-a", "conntrack-new", "A new connection: conntrack makes an entry.", syn, 0, "SYN",
             hook="PREROUTING", conntrack=new, touched=0),
        Step(3, "node-a", "jump", "Every packet goes through KUBE-SERVICES.", syn, 0, "SYN",
             hook="PREROUTING", table="nat", chain="PREROUTING", rule_index=1,
             rule='-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
             target="KUBE-SERVICES"),
        Step(4, "node-a", "no-match", "Not this Service.", syn, 0, "SYN", hook="PREROUTING",
             table="nat", chain="KUBE-SERVICES", rule_index=1,
             rule="-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU"),
        Step(5, "node-a", "jump", "The ClusterIP matches.", syn, 0, "SYN", hook="PREROUTING",
             table="nat", chain="KUBE-SERVICES", rule_index=2,
             rule=f"-A KUBE-SERVICES -d {CIP}/32 -p tcp -m tcp --dport 8080 -j {SVC}", target=SVC),
        Step(6, "node-a", "jump", "statistic random p=1.00000000000: the only endpoint.", syn, 0, "SYN",
             hook="PREROUTING", table="nat", chain=SVC, rule_index=1,
             rule=f"-A {SVC} -j {SEP}", target=SEP),
        Step(7, "node-a", "dnat", "DNAT rewrites the destination to the pod.", syn_dnat, 0, "SYN",
             hook="PREROUTING", table="nat", chain=SEP, rule_index=2,
             rule=f"-A {SEP} -p tcp -m tcp -j DNAT --to-destination {POD}:8080",
             changed=("dst",), conntrack=new, touched=0, target="DNAT"),
        Step(8, "node-a", "deliver", "The pod web-1 accepts the connection.", syn_dnat, 0, "SYN"),
        Step(9, "node-a", "send", "web-1 answers.", synack, 1, "SYN-ACK"),
        Step(10, "node-a", "conntrack-reverse", "Conntrack reverses the DNAT: the reply comes from the ClusterIP.",
             synack_un, 1, "SYN-ACK", hook="POSTROUTING", changed=("src",), conntrack=seen, touched=0),
        Step(11, "laptop", "deliver", "The laptop sees the reply from 10.96.0.1:8080.", synack_un, 1, "SYN-ACK"),
    ]
    return Trace(
        scenario="cli-test", flow="to-service", hosts=("laptop", "node-a"), steps=tuple(steps),
        outcome="delivered", summary="Delivered to web-1 through DNAT; conntrack undid it on the way back.",
        seed=7, endpoint="web-1", server_saw=f"{CLIENT}:40000", client_saw=f"{CIP}:8080",
    )


@pytest.fixture
def fake_engine(monkeypatch):
    """trace without the engine: a fake scenario and the hand-built Trace."""
    scenario = SimpleNamespace(
        name="cli-test",
        flows=[SimpleNamespace(name="to-service")],
        pods=[SimpleNamespace(name="web-1")],
        cluster=SimpleNamespace(nodes=[SimpleNamespace(name="node-a")]),
    )
    calls = []

    def run_flow(sc, flow, *, seed, endpoint):
        calls.append((flow, seed, endpoint))
        return hand_built_trace()

    monkeypatch.setattr(cli, "_load_scenario", lambda ref: scenario)
    monkeypatch.setattr(cli, "_run_flow", run_flow)
    return calls


# --------------------------------------------------------------------------- basics


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kubeflow-tui {__version__}"


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("validate", "rules", "trace", "schema", "shell", "quiz", "progress", "serve"):
        assert cmd in out


def test_usage_error_exits_2(capsys):
    assert cli.main(["rules"]) == 2  # FILE missing
    assert "usage:" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli():
    r = subprocess.run([sys.executable, "-m", "kubeflow_tui", "--version"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and __version__ in r.stdout


# --------------------------------------------------------------------------- errors


def test_missing_file_is_one_clean_line(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert cli.main(["validate", str(missing)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(missing) in line


def test_missing_scenario_for_the_app_is_one_clean_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["no-such-scenario.yaml"]) == 2
    assert "no-such-scenario.yaml" in _one_error_line(capsys.readouterr().err)


def test_empty_folder_is_an_error(capsys, tmp_path):
    assert cli.main(["validate", str(tmp_path)]) == 2
    assert "no scenario" in _one_error_line(capsys.readouterr().err)


def test_unknown_flow_lists_the_flows(capsys, fake_engine):
    assert cli.main(["trace", "x.yaml", "nope"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "nope" in line and "to-service" in line


def test_unknown_endpoint(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_SCENARIO)
    assert cli.main(["trace", str(good), "to-service", "--endpoint", "web-9"]) == 2
    assert "web-9" in _one_error_line(capsys.readouterr().err)


def test_trace_real_scenario(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_SCENARIO)
    assert cli.main(["trace", str(good), "to-service", "--json"]) == 0
    trace = Trace.from_json(capsys.readouterr().out)
    assert trace.flow == "to-service" and trace.endpoint == "web-1"
    assert cli.main(["--no-color", "trace", str(good), "to-service"]) == 0
    assert "10.244.1.5:8080 (DNAT)" in capsys.readouterr().out


def test_rules_formats(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_SCENARIO)
    assert cli.main(["rules", str(good), "--format", "restore"]) == 0
    restore = capsys.readouterr().out
    assert "*nat" in restore and "KUBE-SERVICES" in restore and "COMMIT" in restore
    assert cli.main(["rules", str(good)]) == 0
    save = capsys.readouterr().out
    assert "-A KUBE-SERVICES -d 10.96.0.1/32" in save
    assert cli.main(["rules", str(good), "--format", "list", "--table", "nat"]) == 0
    listing = capsys.readouterr().out
    assert "Chain KUBE-SERVICES" in listing
    assert cli.main(["rules", str(good), "--node", "node-z"]) == 2
    assert "node-a" in _one_error_line(capsys.readouterr().err)


def test_trace_file_and_dump_together_is_an_error(capsys, tmp_path):
    dump = tmp_path / "dump.txt"
    dump.write_text("*nat\nCOMMIT\n")
    assert cli.main(["trace", "x.yaml", "f", "--iptables-save", str(dump)]) == 2
    _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("dst", ["10.96.0.1", "10.96.0.1:0", "10.96.0.300:80", "x:80"])
def test_trace_dump_bad_dst(capsys, tmp_path, dst):
    dump = tmp_path / "dump.txt"
    dump.write_text("*nat\nCOMMIT\n")
    rc = cli.main(["trace", "--iptables-save", str(dump), "--src", "192.168.1.2", "--dst", dst])
    assert rc == 2
    assert "--dst" in _one_error_line(capsys.readouterr().err)


def test_crash_prints_a_short_message_and_a_log(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(cli.COMMANDS, "schema", boom)
    assert cli.main(["schema"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error: RuntimeError: kaboom" in err
    log = Path(re.search(r"details in (\S+\.log)", err).group(1))
    assert log.is_file() and "Traceback" in log.read_text() and "kaboom" in log.read_text()


def test_scenario_error_is_clean(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD_SCENARIO.replace("ip: 10.244.1.5", "ip: 10.244.1.500"))
    assert cli.main(["validate", str(bad)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(bad) in line


def test_validate_good_scenario(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_SCENARIO)
    assert cli.main(["validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "good.yaml" in out and "all valid" in out


def test_validate_shipped_material(capsys):
    from kubeflow_tui import resources

    paths = []
    if resources.list_scenarios():
        paths.append(str(resources.scenarios_dir()))
    if resources.list_lessons():
        paths.append(str(resources.lessons_dir()))
    if not paths:
        pytest.skip("no shipped scenarios or lessons yet")
    assert cli.main(["validate", *paths]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------- schema


def test_schema_is_json_schema(capsys, tmp_path):
    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"cluster", "flows", "services"} <= set(schema["properties"])
    assert "cluster" in schema.get("required", [])
    out = tmp_path / "s.json"
    assert cli.main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == schema


# --------------------------------------------------------------------------- trace output & colour


def test_trace_json_is_the_trace(capsys, fake_engine):
    assert cli.main(["trace", "x.yaml", "to-service", "--json", "--seed", "7", "--endpoint", "web-1"]) == 0
    assert Trace.from_json(capsys.readouterr().out) == hand_built_trace()
    assert fake_engine == [("to-service", 7, "web-1")]


def test_trace_text(capsys, fake_engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert cli.main(["trace", "x.yaml", "to-service"]) == 0
    out = capsys.readouterr().out
    assert "to-service" in out and "delivered" in out and "web-1" in out
    assert f"dst {CIP}:8080 → {POD}:8080 (DNAT)" in out


def _colour_run(monkeypatch, capsys, argv, env):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(argv) == 0
    return capsys.readouterr().out


def test_colour_by_default_when_forced(monkeypatch, capsys, fake_engine):
    out = _colour_run(monkeypatch, capsys, ["trace", "x.yaml", "to-service"], {})
    assert ANSI_COLOR.search(out), "expected colour when FORCE_COLOR is set"


def test_no_color_env_is_honoured(monkeypatch, capsys, fake_engine):
    out = _colour_run(monkeypatch, capsys, ["trace", "x.yaml", "to-service"], {"NO_COLOR": "1"})
    assert not ANSI_COLOR.search(out)
    assert "(DNAT)" in ANSI_ANY.sub("", out)


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_color_flag_is_honoured(monkeypatch, capsys, fake_engine, where):
    argv = ["trace", "x.yaml", "to-service"]
    argv = ["--no-color", *argv] if where == "before" else [*argv, "--no-color"]
    out = _colour_run(monkeypatch, capsys, argv, {})
    assert not ANSI_COLOR.search(out)


# --------------------------------------------------------------------------- the renderer


def test_render_trace_sections():
    text = render_trace_text(hand_built_trace(), width=120)
    lines = text.splitlines()
    # header
    assert "cli-test" in lines[0] and "to-service" in lines[0] and "delivered" in lines[0]
    assert "web-1" in lines[1] and "7" in lines[1]
    # one section per packet, in order
    p1 = next(i for i, ln in enumerate(lines) if "packet 1: SYN " in ln)
    p2 = next(i for i, ln in enumerate(lines) if "packet 2: SYN-ACK" in ln)
    assert p1 < p2
    # chain by chain, with rule index and rule text
    assert any("PREROUTING" in ln and "nat:PREROUTING" in ln and "#1" in ln for ln in lines)
    assert any(f"nat:{SEP}" in ln and "#2" in ln and "DNAT" in ln for ln in lines)
    assert f"-A {SEP} -p tcp -m tcp -j DNAT --to-destination {POD}:8080" in text
    # rewrites: the DNAT, and the reply turned back by conntrack
    assert f"dst {CIP}:8080 → {POD}:8080 (DNAT)" in text
    assert f"src {POD}:8080 → {CIP}:8080 (conntrack reverses the NAT)" in text
    # non-matching rules are hidden by default, shown with verbose
    assert "10.96.0.10/32" not in text
    assert "10.96.0.10/32" in render_trace_text(hand_built_trace(), width=120, verbose=True)
    # final conntrack entries per node
    tail = text[text.index("conntrack entries at the end"):]
    assert "node-a" in tail and "SYN_RECV" in tail and "SYN_SENT" not in tail


def test_render_trace_fits_80_columns():
    for line in render_trace_text(hand_built_trace(), width=80).splitlines():
        assert len(line) <= 80


def test_render_trace_without_conntrack():
    t = hand_built_trace()
    bare = Trace(t.scenario, t.flow, t.hosts, tuple(s for s in t.steps if not s.conntrack), "dropped", "")
    text = render_trace_text(bare)
    assert "dropped" in text and "(none" in text


def test_rewrites_mark_and_ports():
    before = PacketView("10.244.1.5", "10.96.0.1", "tcp", 40000, 80)
    after = PacketView("192.168.1.10", "10.96.0.1", "tcp", 61000, 80, mark=0x4000)
    step = Step(0, "node-a", "masquerade", "", after, changed=("src", "sport", "mark"))
    assert rewrites(before, step) == [
        "src 10.244.1.5:40000 → 192.168.1.10:61000 (MASQUERADE)",
        "mark 0x0 → 0x4000 (MASQUERADE)",
    ]
    assert rewrites(None, step) == []


def test_validate_checks_case_files(capsys, tmp_path):
    bad = tmp_path / "case.yaml"
    bad.write_text("title: x\nsymptom: {}\ndiagnosis: {}\n")
    assert cli.main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1:1: scenario: missing required key 'scenario'" in err
    shipped = Path(__file__).resolve().parents[1] / "cases" / "01-web-refuses.yaml"
    assert cli.main(["validate", "--deep", str(shipped)]) == 0
    assert "case: " in capsys.readouterr().out


def test_quiz_finds_shipped_scenarios_and_cases_by_name(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["quiz", "clusterip"]) == 0
    assert capsys.readouterr().out.startswith("Quiz: clusterip")
    for ref in ("01-web-refuses", "01-web-refuses.yaml"):
        assert cli.main(["quiz", ref]) == 0
        assert capsys.readouterr().out.startswith("Incident: client can't reach web: connection refused")
    assert cli.main(["quiz", "nosuch"]) == 2
    assert "quiz: no such file, shipped scenario or case: 'nosuch'" in capsys.readouterr().err


# --------------------------------------------------------------------------- start-up stays light

_PROBE = r"""
import sys, types
ENGINE = ("kubeflow_tui.scenario", "kubeflow_tui.kubeproxy", "kubeflow_tui.netfilter",
          "kubeflow_tui.cluster", "kubeflow_tui.trace", "kubeflow_tui.quiz", "kubeflow_tui.shell",
          "pydantic", "yaml", "textual")
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "yaml", "textual")
                  or m.startswith(ENGINE))
from kubeflow_tui import cli
if sys.argv[1] == "help":
    try:
        cli.main(["--help"])
    except SystemExit:
        pass
else:  # the app launch: a stand-in app records what was imported when it started
    seen = []
    app = types.ModuleType("kubeflow_tui.tui.app")
    app.run_app = lambda path=None, **options: seen.append(loaded()) or 0
    sys.modules["kubeflow_tui.tui"] = types.ModuleType("kubeflow_tui.tui")
    sys.modules["kubeflow_tui.tui.app"] = app
    assert cli.main([]) == 0 and seen
print("LOADED", loaded())
"""


@pytest.mark.parametrize("what", ["help", "app"])
def test_help_and_the_app_launch_import_no_engine(what, tmp_path):
    out = subprocess.run([sys.executable, "-c", _PROBE, what], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("LOADED"))
    assert line == "LOADED []"


def test_open_proxy_mode_reaches_the_app(monkeypatch):
    """``kubeflow-tui SCENARIO --proxy-mode nftables``: the app's engine loads it in that mode."""
    import kubeflow_tui.tui.app as app_module
    from kubeflow_tui import cli

    seen = []
    monkeypatch.setattr(app_module, "run_app", lambda path=None, **options: seen.append((path, options)) or 0)
    assert cli.main(["clusterip", "--proxy-mode", "nftables"]) == 0
    path, options = seen[0]
    assert path.endswith("clusterip.yaml") and options["proxy_mode"] == "nftables"
    from kubeflow_tui.tui.engine import RealEngine

    assert RealEngine(options["proxy_mode"]).load(path).cluster.proxyMode == "nftables"
    assert RealEngine().load(path).cluster.proxyMode == "iptables"


# --------------------------------------------------------------------------- --proxy-mode on shell and quiz


def test_shell_proxy_mode(capsys, monkeypatch):
    import io

    line = "nft list chain ip kube-proxy services; iptables-save -t nat | grep -c KUBE-SERVICES\nexit 0\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(line))
    assert cli.main(["shell", "clusterip", "--node", "node-a", "--proxy-mode", "nftables"]) == 0
    out = capsys.readouterr().out
    assert "\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n" in out
    assert "\n0\n" in out  # kube-proxy writes no iptables rules in nftables mode
    monkeypatch.setattr(sys, "stdin", io.StringIO(line))
    assert cli.main(["shell", "clusterip", "--node", "node-a", "--proxy-mode", "iptables"]) == 0
    captured = capsys.readouterr()
    # iptables mode: no ip kube-proxy table, nft's own error (as recorded from the real nft)
    assert "\tchain services" not in captured.out and "Error: No such file or directory" in captured.out
    assert cli.main(["shell", "clusterip", "--node", "node-a", "--proxy-mode", "ipvs"]) == 2


def test_quiz_proxy_mode(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert cli.main(["quiz", "clusterip", "--export", "json", "--seed", "1", "--proxy-mode", "nftables"]) == 0
    nft = capsys.readouterr().out
    assert cli.main(["quiz", "clusterip", "--export", "json", "--seed", "1"]) == 0
    ipt = capsys.readouterr().out
    assert "ip kube-proxy" in nft and "ip kube-proxy" not in ipt
    assert "KUBE-SVC-" in ipt and "KUBE-SVC-" not in nft
    assert cli.main(["quiz", "clusterip", "--proxy-mode", "nftables"]) == 0
    assert capsys.readouterr().out.startswith("Quiz: clusterip")
    # a troubleshooting case is written for its scenario's mode
    assert cli.main(["quiz", "01-web-refuses", "--proxy-mode", "nftables"]) == 2
    assert "does not apply to a troubleshooting case" in capsys.readouterr().out
    assert cli.main(["quiz", "01-web-refuses", "--proxy-mode", "iptables"]) == 0
    assert capsys.readouterr().out.startswith("Incident:")
