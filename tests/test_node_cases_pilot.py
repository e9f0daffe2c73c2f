"""Cases 22 (a rollout without preStop) and 23 (iptables-legacy vs nft) played end to end
in the case screen with Textual's pilot: investigate, fix in the shell, f5, diagnose."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubeflow_tui.quiz.cases import load_case

ROOT = Path(__file__).resolve().parents[1]
PRESTOP = ("kubectl patch deployment web -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":"
           "[{\"name\":\"web\",\"lifecycle\":{\"preStop\":{\"sleep\":{\"seconds\":10}}}}]}}}}'")


async def _play(name: str, commands: list[str], size=(80, 24)) -> tuple[list[str], object]:
    from textual.app import App
    from textual.widgets import Input, OptionList, RichLog

    from kubeflow_tui.tui.screens.case import CaseScreen

    case = load_case(ROOT / "cases" / f"{name}.yaml")
    screen = CaseScreen(case)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=size) as pilot:
        await pilot.pause()
        for line in commands:
            screen.query_one(Input).value = line
            await pilot.press("enter")
            await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert screen.query_one("#case-question OptionList", OptionList).has_focus
        for _ in range(case.model.diagnosis.answer):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        lines = [line.text for line in screen.query_one(RichLog).lines]
        return lines, screen.session


def _joined(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def test_case_20_rollout_without_prestop_with_pilot():
    lines, session = asyncio.run(_play("22-refused-during-deploys", [
        "iptables-save -t nat | grep DNAT | grep web", PRESTOP]))
    text = _joined(lines)
    assert "--to-destination 10.244.2.5:8080" in text and "deployment.apps/web patched" in text
    assert ("Fixed: the connection that failed works now after `kubectl rollout restart deployment/web` "
            "on a copy of your cluster") in text
    assert session.solved and session.score == 100


def test_case_21_legacy_backend_with_pilot():
    lines, session = asyncio.run(_play("23-half-the-calls-hang", [
        "iptables -L FORWARD -n", "iptables-legacy -P FORWARD ACCEPT"], size=(120, 40)))
    at = next(i for i, line in enumerate(lines) if "node-b$ iptables -L FORWARD -n" in line)
    # the warning iptables prints to stderr comes before its listing, as on a terminal
    assert lines[at + 1].strip() == "# Warning: iptables-legacy tables present, use iptables-legacy to see them"
    assert lines[at + 2].strip().startswith("Chain FORWARD (policy ACCEPT)")
    assert "Fixed: the connection that failed works now." in _joined(lines)
    assert session.solved
