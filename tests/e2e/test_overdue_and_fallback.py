"""Short browser checks: a breached deadline on the case page, the inbox and the diagram; the pages
without the built diagram bundle (npm absent at setup)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install -e '.[dev]')")

from playwright.sync_api import expect  # noqa: E402

from app.services.timers import fire_due  # noqa: E402
from app.web import render  # noqa: E402
from tests.conftest import DEMO_PASSWORD  # noqa: E402
from tests.e2e.pages import inbox, login, svg_classes, wait_for_diagram  # noqa: E402
from tests.flow import REGISTRATION  # noqa: E402


def register_over_api(base_url: str) -> str:
    """The case starts over the JSON API: these tests are about what the pages show afterwards."""
    with httpx.Client(base_url=base_url) as client:
        r = client.post("/api/auth/token", data={"username": "mfa.officer", "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.post("/api/communications", json=REGISTRATION, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]


def test_breached_deadline_is_red_in_the_inbox_and_on_the_diagram(new_session, live_server) -> None:  # type: ignore[no-untyped-def]
    case_id = register_over_api(live_server.url)
    # D1 (5 working days after 19 March, Nauryz holidays skipped) ends at 24:00 on 29 March, Almaty.
    live_server.clock.set(datetime(2024, 4, 1, 4, 0, tzinfo=UTC))
    report = fire_due(live_server.app.state.sessionmaker, live_server.clock)
    assert report.cases_woken == 1 and not report.failures

    s = new_session()
    login(s, "mfa.officer")
    specs = [t["spec"] for t in inbox(s)]
    assert "forward_communication" in specs
    row = s.page.locator('[data-testid=inbox-table] tr[data-task-spec="forward_communication"]')
    expect(row).to_have_class("row-overdue")
    expect(row.locator("[data-testid=overdue]")).to_be_visible()
    s.shot("40-inbox-overdue")

    s.goto(f"/cases/{case_id}")
    expect(s.page.locator("[data-testid=case-overdue]")).to_contain_text("D1")
    markers = wait_for_diagram(s)
    assert {"d1_timer", "forward_communication"} <= set(markers["overdue"]), markers
    assert "forward_communication" not in markers["active"]
    assert "diagram-overdue" in svg_classes(s, "forward_communication")
    assert "diagram-overdue" in svg_classes(s, "d1_timer")
    assert s.page.locator("#diagram .djs-overlay .diagram-badge-overdue").count() >= 2
    s.shot("41-case-overdue")


def test_pages_work_without_the_diagram_bundle(new_session, live_server, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    case_id = register_over_api(live_server.url)
    monkeypatch.setattr(render, "DIAGRAM_BUNDLE", tmp_path / "not-built.js")
    s = new_session()
    login(s, "mfa.officer")
    s.goto(f"/cases/{case_id}")
    expect(s.page.locator("[data-testid=diagram-missing]")).to_be_visible()
    expect(s.page.locator("[data-testid=case-tasks] tbody tr")).to_have_count(1)
    expect(s.page.locator('script[src*="case-diagram.js"]')).to_have_count(0)
    assert s.page.evaluate("typeof window.caseDiagram") == "undefined"
    s.shot("42-case-without-diagram-bundle")
