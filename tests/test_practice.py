"""Endless practice: every fault kind of the catalogue makes a case whose symptom shows,
whose investigation commands print what they promise, and whose reference fix makes the
failing connection work; generated case files pass `validate --deep`; the kubectl verbs
that repair a cluster print what kubectl prints."""

from __future__ import annotations

import io

import pytest
import yaml

from kubeflow_tui.cluster import ClusterSim
from kubeflow_tui.quiz.cases import CaseSession, load_case
from kubeflow_tui.quiz.practice import FAULTS, generate, pick_fault, practice_case
from kubeflow_tui.scenario import load_scenario
from kubeflow_tui.shell import Shell
from kubeflow_tui.shell.kubectl_fix import install


@pytest.fixture(autouse=True)
def _private_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "data"))


def _play(case):
    """The symptom shows; the investigation prints what it promises; the check fails
    before the fix and passes after it."""
    session = CaseSession(case)  # raises if the flow does not end as the symptom says
    assert session.symptom_outcome == case.model.symptom.outcome
    for c in case.model.investigate:
        r = session.run(c.command, c.host)
        assert r.exit_code == 0 and c.expect in r.stdout + r.stderr, (c.command, r.stdout, r.stderr)
    if case.model.fix is None:
        assert case.model.fault == "not-ready"  # no shell command makes a failing probe pass
        return
    ok, trace = session.check_fix()
    assert not ok, f"fixed before any fix: {trace.summary if trace else session.fix_error}"
    for c in case.model.fix.commands:
        r = session.run(c.command, c.host)
        assert r.exit_code == 0, (c.command, r.stderr)
    ok, trace = session.check_fix()
    assert ok, trace.summary if trace else session.fix_error
    assert session.answer(case.model.diagnosis.answer).correct and session.solved


def test_the_catalogue_has_at_least_twelve_kinds():
    assert len(FAULTS) >= 12
    assert {"not-ready", "selector-mismatch", "wrong-target-port", "named-port", "local-no-endpoint",
            "source-ranges", "stale-udp-conntrack", "rule-deleted", "missing-masquerade", "conntrack-full",
            "selector-typo", "scaled-to-zero"} <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("seed", [3, 11])
def test_every_fault_shows_its_symptom_and_a_real_fix_removes_it(fault, seed):
    case = practice_case(seed, fault)
    assert case.model.fault == fault
    _play(case)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_incident_names_no_cause(fault):
    case = practice_case(5, fault)
    words = {w for w in fault.split("-") if len(w) > 3} - {"zero"}
    text = (case.id + " " + case.title + " " + case.model.symptom.text).lower()
    assert not any(w in text for w in words), (fault, text)
    d = case.model.diagnosis
    assert len(set(d.options)) == len(d.options) == 4


def test_same_seed_same_case():
    assert generate(7) == generate(7)
    assert {pick_fault(s) for s in range(60)} == set(FAULTS)


def test_cases_generate_writes_files_that_validate_deep(tmp_path, capsys):
    from kubeflow_tui.cli import main

    out = tmp_path / "gen"
    assert main(["cases", "generate", "--seed", "40", "--count", "6", "-o", str(out)]) == 0
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 6 and capsys.readouterr().out.count("practice-") == 6
    for f in files:
        data = yaml.safe_load(f.read_text())
        assert data["fault"] in FAULTS and list(data)[:2] == ["title", "fault"]
        _play(load_case(f))
    assert main(["validate", "--deep", "-q", str(out)]) == 0
    assert main(["cases", "generate", "--count", "0", "-o", str(out)]) == 2


def test_practice_cli_plays_an_incident(monkeypatch, capsys):
    from kubeflow_tui.cli import main

    case = practice_case(12, "selector-typo")
    script = ["hint", "answer", str(case.model.diagnosis.answer + 1)]
    script += [c.command for c in case.model.fix.commands] + ["check"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(script) + "\n"))
    assert main(["practice", "--seed", "12", "--fault", "selector-typo"]) == 0
    out = capsys.readouterr().out
    head = out.split("Hint 1")[0]
    assert case.title in head and "typo" not in head
    assert "Right." in out and "Fixed:" in out and "case solved" in out and "Score: 90/100" in out
    assert main(["practice", "--fault", "no-such-fault"]) == 2


@pytest.mark.slow
def test_two_hundred_seeds_validate_deep_and_a_fix_makes_the_symptom_go_away():
    for seed in range(200):
        _play(practice_case(seed))


# ------------------------------------------------------------------ kubectl repairs


@pytest.fixture
def shell():
    sim = ClusterSim(load_scenario("scenarios/no-endpoints.yaml"))
    return install(Shell(sim, "node-a"))


def test_kubectl_label_and_patch_print_what_kubectl_prints(shell):
    r = shell.run("kubectl label pod web-1 app=web")
    assert r.exit_code == 1 and r.stderr == "error: 'app' already has a value (web-v2), and --overwrite is false\n"
    assert shell.run("kubectl label pod web-1 app=web --overwrite").stdout == "pod/web-1 labeled\n"
    assert "app=web" in shell.run("kubectl get pods --show-labels").stdout
    assert shell.run("kubectl patch svc web -p '{\"spec\":{\"selector\":{\"app\":\"web\"}}}'").stdout == \
        "service/web patched (no change)\n"
    assert shell.run("kubectl patch svc web -p '{\"spec\":{\"selector\":{\"app\":\"x\"}}}'").stdout == \
        "service/web patched\n"
    r = shell.run("kubectl patch svc web -p '{\"spec\":{\"bogus\":1}}'")
    assert r.exit_code == 1 and "spec.bogus" in r.stderr
    r = shell.run("kubectl patch svc nope -p '{}'")
    assert r.stderr == 'Error from server (NotFound): services "nope" not found\n'
    assert "editor" in shell.run("kubectl edit svc web").stderr


def test_kubectl_patch_resyncs_kube_proxy(shell):
    before = shell.run("iptables -t filter -S KUBE-SERVICES").stdout
    assert "has no endpoints" in before
    shell.run("kubectl label pod web-1 app=web --overwrite")
    after = shell.run("iptables -t filter -S KUBE-SERVICES").stdout
    assert "has no endpoints" not in after
    assert "KUBE-SVC-" in shell.run("iptables -t nat -S KUBE-SERVICES").stdout


def test_rollout_restart_replaces_the_pods(shell):
    assert shell.run("kubectl rollout restart deployment/web").stdout == "deployment.apps/web restarted\n"
    rows = {line.split()[0]: line.split() for line in shell.run("kubectl get pods -o wide").stdout.splitlines()[1:]}
    # the old pod had no preStop hook: it exited at SIGTERM and is listed while it shuts down
    assert rows["web-1"][1:3] == ["0/1", "Terminating"] and rows["web-2"][2] == "Running"
    # a second rollout: web-1 has finished by then, web-2 terminates, web-3 is new
    shell.run("kubectl rollout restart deployment/web")
    rows = {line.split()[0]: line.split() for line in shell.run("kubectl get pods -o wide").stdout.splitlines()[1:]}
    assert "web-1" not in rows and rows["web-2"][2] == "Terminating" and rows["web-3"][2] == "Running"


def test_scale_to_zero_and_back(shell):
    assert shell.run("kubectl scale deployment web --replicas=0").stdout == "deployment.apps/web scaled\n"
    table = shell.run("kubectl get deployments").stdout
    assert table.splitlines()[1].split() == ["web", "0/0", "0", "0", "5m"]
    assert shell.run("kubectl scale deployment web --replicas=2").stdout == "deployment.apps/web scaled\n"
    assert shell.run("kubectl get deployments").stdout.splitlines()[1].split()[:2] == ["web", "2/2"]


def test_practice_counts_a_streak(tmp_path):
    from kubeflow_tui.progress import Progress
    from kubeflow_tui.quiz.record import record_result

    prog = Progress.load(tmp_path)
    for solved in (True, True, False, True):
        record_result("practice", right=1, total=1, solved=solved, progress=prog, streak=True)
    entry = Progress.load(tmp_path).quiz("practice")
    assert (entry["streak"], entry["best_streak"], entry["attempts"]) == (1, 2, 4)
