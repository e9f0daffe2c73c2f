"""lessons.py (front matter, discovery, validate) and progress.py (atomic, corrupt files)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import settle

from kubeflow_tui import lessons
from kubeflow_tui.progress import Progress

REPO = Path(__file__).resolve().parents[2]


def test_repo_lessons_are_valid():
    files = lessons.lesson_files(REPO / "lessons")
    assert len(files) >= 2
    assert lessons.validate(files) == []
    found, errors = lessons.discover(REPO / "lessons")
    assert errors == []
    first = found[0]
    assert first.id.startswith("01-") and first.number == "01"
    assert first.scenario.is_file()
    assert first.flows and first.minutes > 0 and first.body.lstrip().startswith("#")


def test_validate_reports_each_problem(tmp_path):
    scen = tmp_path / "scenarios"
    scen.mkdir()
    (scen / "s.yaml").write_text("name: s\nflows:\n  - {name: a, from: c, to: 10.96.0.1:80}\n")
    d = tmp_path / "lessons"
    d.mkdir()
    (d / "01-ok.md").write_text("---\ntitle: Ok\nscenario: scenarios/s.yaml\nflows: [a]\nminutes: 5\n---\n# Ok\n")
    (d / "02-noflow.md").write_text("---\ntitle: Nope\nscenario: scenarios/s.yaml\nflows: [b]\nminutes: 5\n---\nx\n")
    (d / "03-missing.md").write_text("---\ntitle: M\nflows: [a]\nminutes: zero\n---\nx\n")
    (d / "04-nofront.md").write_text("# just markdown\n")
    (d / "05-badyaml.md").write_text("---\ntitle: [unclosed\n---\nx\n")
    (d / "06-noscen.md").write_text("---\ntitle: N\nscenario: scenarios/nope.yaml\nflows: [a]\nminutes: 1\n---\nx\n")
    errs = lessons.validate(sorted(d.glob("*.md")))
    text = "\n".join(errs)
    assert "01-ok" not in text
    assert "02-noflow.md:1: flows: 'b' is not a flow of scenarios/s.yaml (it has: a)" in text
    assert "03-missing.md:1: front matter: missing required key 'scenario'" in text
    assert "03-missing.md:1: minutes: must be a positive whole number" in text
    assert "04-nofront.md:1: no front matter" in text
    assert "05-badyaml.md:2: front matter is not valid YAML" in text
    assert "06-noscen.md:1: scenario: file not found: scenarios/nope.yaml" in text
    found, errors = lessons.discover(d)
    assert [l.id for l in found] == ["01-ok", "02-noflow", "06-noscen"]
    assert len(errors) == 3


def test_progress_roundtrip_and_atomic(tmp_path):
    p = Progress.load(tmp_path)
    assert p.last is None and p.status("01") == ""
    p.mark("01", flow="f", step=4)
    p.mark("01", flow_done="f", done=True)
    q = Progress.load(tmp_path)
    assert q.last == "01" and q.status("01") == "done" and q.lesson("01")["step"] == 4
    assert q.lesson("01")["flows_done"] == ["f"]
    assert [x.name for x in tmp_path.iterdir()] == ["progress.json"]  # no temp files left
    q.mark("01", step=1)  # a done lesson stays done
    assert Progress.load(tmp_path).status("01") == "done"


def test_progress_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEFLOW_TUI_DATA_DIR", str(tmp_path / "x"))
    p = Progress.load()
    p.mark("02")
    assert json.loads((tmp_path / "x" / "progress.json").read_text())["last"] == "02"


def test_corrupt_progress_is_moved_aside(tmp_path):
    (tmp_path / "progress.json").write_text("{not json")
    p = Progress.load(tmp_path)
    assert "moved to" in p.notice and "corrupt-" in p.notice
    aside = list(tmp_path.glob("progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json"
    assert not (tmp_path / "progress.json").exists()
    p.mark("01")
    assert Progress.load(tmp_path).last == "01"


async def test_app_tells_about_corrupt_progress(make_app, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "progress.json").write_text('["wrong"]')
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("could not be read" in str(n.message) for n in app._notifications)


def test_validate_names_a_case_that_does_not_exist(tmp_path):
    from kubeflow_tui.lessons import validate

    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "clusterip.yaml"
    lesson = tmp_path / "01-x.md"
    lesson.write_text(f'---\ntitle: "x"\nscenario: {scenario}\nflows: [pod-same-node]\nminutes: 5\n'
                      "case: no-such-case\n---\n# x\n")
    errors = validate([lesson])
    assert len(errors) == 1
    assert errors[0].startswith(f"{lesson}:1: case: no case named 'no-such-case' (cases: 01-web-refuses,")
