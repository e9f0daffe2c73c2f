"""Case 20 on the case screen (pilot): the app's name lookup is the symptom, and the check
re-runs it from the app's pod after the learner changed the app's configuration."""

from __future__ import annotations

from helpers import enter_line, flat, press, screen_text, settle

from conftest import REPO
from kubeflow_tui.progress import Progress
from kubeflow_tui.tui.screens.case import CaseScreen

CASE_20 = REPO / "cases" / "20-checkout-cannot-find-payments.yaml"


async def test_lookup_case_investigate_fix_check_diagnose(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = CaseScreen(CASE_20)
        app.push_screen(screen)
        await settle(pilot)
        s = screen.session
        text = flat(screen_text(app))
        assert s.case.title in text and "payments" in text
        assert "short-name" not in text and flat(s.case.model.summary)[:30] not in text
        await enter_line(pilot, screen, "kubectl exec -n shop checkout -- cat /etc/resolv.conf")
        assert "search shop.svc.cluster.local svc.cluster.local cluster.local" in screen_text(app)
        await press(pilot, "f5")  # the check re-runs checkout's lookup: still NXDOMAIN
        assert not s.fixed
        assert "Not yet: checkout's lookup of payments still fails (NXDOMAIN)" in flat(screen_text(app))
        await enter_line(pilot, screen, "kubectl set env deployment/checkout -n shop PAYMENTS_HOST=payments.billing")
        assert "deployment.apps/checkout env updated" in screen_text(app)
        await press(pilot, "f5")
        assert s.fixed and "Now say what was wrong" in flat(screen_text(app))
        assert s.fix_lookup.address == "10.96.120.15"
        await press(pilot, "f2", str(s.question.answer_index + 1))
        assert s.solved and "case solved" in flat(screen_text(app))
        await press(pilot, "escape")
    saved = Progress.load(data_dir).quiz(f"case:{s.case.id}")
    assert saved["solved"] and saved["score"] == 100


async def test_shadowed_name_case_refused_until_the_name_says_its_namespace(make_app, data_dir):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = CaseScreen(REPO / "cases" / "21-cache-refused-after-install.yaml")
        app.push_screen(screen)
        await settle(pilot)
        s = screen.session
        await enter_line(pilot, screen, "kubectl exec -n shop checkout -- nslookup redis")
        assert "redis.shop.svc.cluster.local" in screen_text(app)
        await press(pilot, "f5")
        assert not s.fixed and "still fails the same way" in flat(screen_text(app))
        await enter_line(pilot, screen, "kubectl set env deployment/checkout -n shop REDIS_HOST=redis.infra")
        await press(pilot, "f5")
        assert s.fixed and s.fix_trace.endpoint == "redis-1"
