"""What a person does on the pages, as steps the browser tests share (selectors: docs/web.md's hooks)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session as DbSession

from app.db.models import HumanTask
from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import Session


def login(s: Session, username: str, password: str = DEMO_PASSWORD) -> None:
    s.goto("/login")
    s.page.fill("#field-username", username)
    s.page.fill("#field-password", password)
    s.page.click("[data-testid=login-submit]")
    expect(s.page.locator("[data-testid=current-user]")).to_be_visible()


def logout(s: Session) -> None:
    s.page.click("[data-testid=logout]")
    expect(s.page.locator("[data-testid=login-form]")).to_be_visible()


def inbox(s: Session) -> list[dict[str, str]]:
    """The inbox rows: task id and spec (what the person sees as one line each)."""
    s.goto("/inbox")
    rows = s.page.locator("[data-testid=inbox-table] tbody tr")
    return [
        {"id": r.get_attribute("data-task-id") or "", "spec": r.get_attribute("data-task-spec") or ""}
        for r in rows.all()
    ]


def open_from_inbox(s: Session, spec: str) -> str:
    """Click the task's link in the inbox; the task page's id."""
    s.goto("/inbox")
    row = s.page.locator(f'[data-testid=inbox-table] tbody tr[data-task-spec="{spec}"]')
    expect(row).to_have_count(1)
    task_id = row.get_attribute("data-task-id") or ""
    row.locator("[data-testid=task-link]").click()
    expect(s.page).to_have_url(s.url(f"/tasks/{task_id}"))
    expect(s.page.locator("[data-testid=task-form]")).to_be_visible()
    return task_id


def submit_task(s: Session) -> None:
    s.page.click("[data-testid=complete]")
    expect(s.page.locator("[data-testid=completed-note]")).to_be_visible()


def submit_task_expecting_errors(s: Session) -> None:
    s.page.click("[data-testid=complete]")
    expect(s.page.locator("[data-testid=task-form] .field-error").first).to_be_visible()


def field(s: Session, name: str) -> Any:
    return s.page.locator("#field-" + name.replace(".", "-"))


def ready_task(database_url: str, spec: str, organisation: str) -> str:
    """The id of the open task (read from the database: the page never shows other organisations')."""
    engine = create_engine(database_url)
    try:
        with DbSession(engine) as db:
            ids = db.scalars(
                select(HumanTask.id).where(
                    HumanTask.task_spec == spec, HumanTask.organisation == organisation, HumanTask.state == "ready"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(ids) == 1, (spec, organisation, ids)
    return ids[0]


def wait_for_diagram(s: Session) -> dict[str, list[str]]:
    s.page.wait_for_selector('#diagram[data-rendered="true"]')
    return s.page.evaluate("window.caseDiagram.ready.then(api => api.markers)")


def svg_classes(s: Session, element_id: str) -> set[str]:
    locator = s.page.locator(f'#diagram g.djs-element[data-element-id="{element_id}"]')
    return set((locator.get_attribute("class") or "").split())
