"""A communication from registration to completion, every step clicked and typed in the browser by
the demo user whose step it is (the walk-through of tests/api/test_communication_flow.py, on the
pages). Asserts what each user sees and does not see, the diagram overlays, the history slider and
the language switch; saves a screenshot of each page (test-artifacts/screenshots/)."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install -e '.[dev]')")

from playwright.sync_api import expect  # noqa: E402

from tests.e2e.conftest import Session  # noqa: E402
from tests.e2e.pages import (  # noqa: E402
    field,
    inbox,
    login,
    logout,
    open_from_inbox,
    ready_task,
    submit_task,
    submit_task_expecting_errors,
    svg_classes,
    wait_for_diagram,
)

REFERENCE = "AL KAZ 7/2024"


def register_communication(s: Session) -> str:
    """MFA officer: the registration form, once with a missing field, then complete. The case id."""
    s.page.click("[data-testid=nav-register]")
    expect(s.page.locator("[data-testid=start-form]")).to_be_visible()
    field(s, "reference").fill(REFERENCE)
    field(s, "type").select_option("AL")
    field(s, "received_on").fill("2024-03-19")
    field(s, "language").select_option("en")
    field(s, "reply_deadline").fill("2024-05-18")
    field(s, "mandates").fill("Special Rapporteur on the situation of human rights defenders")
    s.page.click("[data-testid=start-submit]")  # the subject is missing
    expect(s.page.locator("[data-testid=error-subject]")).to_be_visible()
    expect(field(s, "reference")).to_have_value(REFERENCE)  # what was typed is kept
    s.shot("03-register-error")
    field(s, "subject").fill("Alleged arbitrary detention of a human rights defender")
    s.page.click("[data-testid=start-submit]")
    expect(s.page.locator("[data-testid=case-title]")).to_have_text(REFERENCE)
    return s.page.url.rsplit("/", 1)[1]


def test_communication_from_registration_to_completion(new_session, live_server) -> None:  # type: ignore[no-untyped-def]
    s = new_session()
    db = live_server.database_url

    # Russian by default; anyone not logged in is sent to the login page.
    s.goto("/inbox")
    expect(s.page.locator("[data-testid=login-form]")).to_be_visible()
    assert s.page.get_attribute("html", "lang") == "ru"
    s.shot("01-login", doc="login")
    s.page.fill("#field-username", "mfa.officer")
    s.page.fill("#field-password", "wrong-password")
    s.page.click("[data-testid=login-submit]")
    expect(s.page.locator("[data-testid=login-error]")).to_be_visible()
    expect(s.page.locator("#field-username")).to_have_value("mfa.officer")

    # --- MFA officer registers the communication and forwards it (14-5).
    login(s, "mfa.officer")
    assert inbox(s) == []
    s.shot("02-inbox-empty-mfa-officer")
    case_id = register_communication(s)
    case_path = f"/cases/{case_id}"
    markers = wait_for_diagram(s)
    assert markers["active"] == ["forward_communication"]
    assert "diagram-active" in svg_classes(s, "forward_communication")

    tasks = inbox(s)
    assert [t["spec"] for t in tasks] == ["forward_communication"]
    s.shot("04-inbox-mfa-officer", doc="inbox")
    open_from_inbox(s, "forward_communication")
    expect(s.page.locator("[data-testid=deadline]")).to_be_visible()
    s.page.click("[data-testid=deadline-explanation] summary")
    expect(s.page.locator("[data-testid=deadline-explanation] table.days")).to_be_visible()
    s.shot("05-task-forward")
    # No body chosen: the error sits next to the field and the cover note typed is kept.
    field(s, "information_due_on").fill("2024-04-19")
    field(s, "cover_note").fill("Please provide information")
    submit_task_expecting_errors(s)
    expect(s.page.locator("[data-testid=error-bodies]")).to_be_visible()
    expect(field(s, "cover_note")).to_have_value("Please provide information")
    expect(field(s, "information_due_on")).to_have_value("2024-04-19")
    s.shot("06-task-forward-error")
    field(s, "bodies-MVD").check()
    field(s, "bodies-MINJUST").check()
    submit_task(s)
    assert inbox(s) == []
    logout(s)

    # --- Each body's officer prepares, its head signs (14-7 part 1); each sees only their own body's task.
    minjust_prepare = ready_task(db, "prepare_information", "MINJUST")
    mvd_prepare = ready_task(db, "prepare_information", "MVD")
    for body, officer, head, other_task in (
        ("MVD", "mvd.officer", "mvd.head", minjust_prepare),
        ("MINJUST", "minjust.officer", "minjust.head", mvd_prepare),
    ):
        login(s, officer)
        tasks = inbox(s)
        assert [t["spec"] for t in tasks] == ["prepare_information"], (officer, tasks)
        assert other_task not in {t["id"] for t in tasks}
        s.shot(f"07-inbox-{officer}")
        # Another body's task is not even there for them.
        response = s.goto(f"/tasks/{other_task}")
        assert response is not None and response.status == 404
        s.shot(f"08-other-body-task-404-{officer}")
        # Claim it, then complete it.
        s.goto("/inbox")
        s.page.locator('tr[data-task-spec="prepare_information"] [data-testid=claim]').click()
        expect(s.page.locator('tr[data-task-spec="prepare_information"] [data-testid=unclaim]')).to_be_visible()
        task_id = open_from_inbox(s, "prepare_information")
        expect(s.page.locator("[data-testid=task-assignee]")).not_to_have_text("nobody")
        field(s, "information").fill(f"{body}: the person was released on 20 March.")
        field(s, "contact_person").fill(f"{body} officer")
        s.shot(f"09-task-prepare-{officer}")
        submit_task(s)
        # The signature is the head's: not in the officer's inbox, and its page has no sign button.
        assert inbox(s) == []
        sign_id = ready_task(db, "sign_information", body)
        s.goto(f"/tasks/{sign_id}")
        expect(s.page.locator("[data-testid=cannot-act]")).to_be_visible()
        expect(s.page.locator("[data-testid=complete]")).to_have_count(0)
        expect(s.page.locator("[data-testid=task-form]")).to_have_count(0)
        s.shot(f"10-sign-task-seen-by-{officer}")
        # Their own completed step stays readable, with who did it.
        s.goto(f"/tasks/{task_id}")
        expect(s.page.locator("[data-testid=task-state]")).to_contain_text(officer)
        logout(s)

        login(s, head)
        assert [t["spec"] for t in inbox(s)] == ["sign_information"]
        open_from_inbox(s, "sign_information")
        expect(s.page.locator("[data-testid=earlier-data]")).to_contain_text("the person was released")
        field(s, "approved").select_option("yes")
        s.shot(f"11-task-sign-{head}")
        submit_task(s)
        logout(s)

    # --- The Ombudsman acknowledges the communication; sees no body's information.
    login(s, "ombudsman.officer")
    assert [t["spec"] for t in inbox(s)] == ["ombudsman_acknowledge_communication"]
    open_from_inbox(s, "ombudsman_acknowledge_communication")
    expect(s.page.locator("body")).not_to_contain_text("the person was released")
    field(s, "acknowledged").check()
    s.shot("12-task-ombudsman-acknowledge")
    submit_task(s)
    s.goto(case_path)
    expect(s.page.locator("body")).not_to_contain_text("the person was released")
    expect(s.page.locator("[data-testid=nav-register]")).to_have_count(0)
    logout(s)

    # --- MFA: the meeting (14-7 part 2), the reply in the communication's language (14-8 part 1).
    login(s, "mfa.officer")
    assert [t["spec"] for t in inbox(s)] == ["hold_meeting"]
    s.goto(case_path)
    markers = wait_for_diagram(s)
    for done in ("forward_communication", "prepare_information", "sign_information", "collect_body_information"):
        assert done in markers["completed"], (done, markers)
        assert "diagram-completed" in svg_classes(s, done)
    assert "ombudsman_acknowledge_communication" in markers["completed"]
    assert markers["active"] == ["hold_meeting"]
    assert "diagram-active" in svg_classes(s, "hold_meeting")
    assert markers["overdue"] == []
    assert s.page.locator("#diagram .djs-overlay .diagram-badge-active").count() == 1
    expect(s.page.locator("#diagram-legend")).to_be_visible()
    expect(s.page.locator("[data-testid=case-tasks] tbody tr")).to_have_count(7)
    s.shot("13-case-mid-way", doc="case")

    open_from_inbox(s, "hold_meeting")
    field(s, "meeting_date").fill("2024-04-25")
    field(s, "minutes").fill("Agreed the draft.")
    participants = [
        ("B. Head", "MVD", "Head of department", "head_of_structural_subdivision"),
        ("C. Specialist", "MINJUST", "Chief expert", "specialist"),
    ]
    s.page.click("[data-testid=add-row-participants]")  # one more row, what was typed kept
    expect(field(s, "minutes")).to_have_value("Agreed the draft.")
    for i, (name, org, position, level) in enumerate(participants):
        field(s, f"participants.{i}.full_name").fill(name)
        field(s, f"participants.{i}.organisation").fill(org)
        field(s, f"participants.{i}.position").fill(position)
        field(s, f"participants.{i}.level").select_option(level)
    # MINJUST is represented below the level of head of structural subdivision: the rule refuses.
    submit_task_expecting_errors(s)
    expect(s.page.locator("[data-testid=error-participants]")).to_contain_text("14-7")
    expect(field(s, "participants.1.full_name")).to_have_value("C. Specialist")
    s.shot("14-task-meeting-error")
    field(s, "participants.1.full_name").fill("C. Head")
    field(s, "participants.1.position").fill("Head of department")
    field(s, "participants.1.level").select_option("head_of_structural_subdivision")
    submit_task(s)

    open_from_inbox(s, "draft_reply")
    field(s, "reply_language").select_option("ru")  # the communication is in English
    field(s, "reply_text").fill("The Government of Kazakhstan has the honour ...")
    submit_task_expecting_errors(s)
    expect(s.page.locator("[data-testid=error-reply_language]")).to_be_visible()
    expect(field(s, "reply_text")).to_have_value("The Government of Kazakhstan has the honour ...")
    s.page.locator("[data-field=reply_language]").scroll_into_view_if_needed()
    s.shot("15-task-draft-error", doc="task-form-error", full_page=False)
    field(s, "reply_language").select_option("en")
    submit_task(s)
    assert inbox(s) == []  # the signature is the MFA head's
    logout(s)

    login(s, "mfa.head")
    assert [t["spec"] for t in inbox(s)] == ["sign_reply"]
    open_from_inbox(s, "sign_reply")
    expect(s.page.locator("[data-testid=earlier-data]")).to_contain_text("has the honour")
    field(s, "approved").select_option("yes")
    s.shot("16-task-sign-reply")
    submit_task(s)
    logout(s)

    # --- MFA officer sends the reply and reports (14-9).
    login(s, "mfa.officer")
    open_from_inbox(s, "send_reply")
    field(s, "note_verbale_number").fill("NV-13-1/123")
    field(s, "sent_on").fill("2024-05-10")
    submit_task(s)
    open_from_inbox(s, "report_results")
    field(s, "report_summary").fill("Reply sent on 10 May.")
    field(s, "reported_on").fill("2024-05-15")
    s.shot("17-task-report")
    submit_task(s)
    assert inbox(s) == []
    logout(s)

    # --- The PA and the Ombudsman acknowledge the report; the case completes.
    for user, spec in (("pa.officer", "pa_acknowledge_report"), ("ombudsman.officer", "ombudsman_acknowledge_report")):
        login(s, user)
        assert [t["spec"] for t in inbox(s)] == [spec]
        open_from_inbox(s, spec)
        field(s, "acknowledged").check()
        submit_task(s)
        assert inbox(s) == []
        logout(s)

    # --- The auditor: the finished case, its history with the step slider, the calendar.
    login(s, "auditor")
    expect(s.page.locator("[data-testid=nav-inbox]")).to_have_count(0)
    s.page.click("[data-testid=nav-cases]")
    expect(s.page.locator(f'[data-testid=cases-table] tr[data-case-id="{case_id}"]')).to_be_visible()
    s.shot("18-cases-auditor")
    s.goto(case_path)
    markers = wait_for_diagram(s)
    assert markers["active"] == [] and markers["overdue"] == []
    for done in (
        "draft_reply",
        "sign_reply",
        "send_reply",
        "prepare_and_send_reply",
        "report_results",
        "pa_acknowledge_report",
        "ombudsman_acknowledge_report",
    ):
        assert done in markers["completed"], done
        assert "diagram-completed" in svg_classes(s, done)
    expect(s.page.locator("[data-testid=case-tasks] tbody tr")).to_have_count(13)
    expect(s.page.locator("[data-testid=case-tasks]")).to_contain_text("minjust.head")
    s.shot("19-case-completed-auditor")

    s.page.click("[data-testid=history-link]")
    s.page.wait_for_selector('#diagram[data-rendered="true"]')
    slider = s.page.locator("#history-step")
    steps = int(slider.get_attribute("max") or "0")
    assert steps > 20
    assert s.page.get_attribute("#diagram", "data-rendered-step") == str(steps)
    # Back to the first task's creation: only the forwarding task is open.
    first = s.page.locator("[data-testid=history-table] tr[data-type=task_created]").first.get_attribute("data-step")
    slider.fill(first)
    s.page.wait_for_selector(f'#diagram[data-rendered-step="{first}"]')
    assert s.page.evaluate("window.caseDiagram.markers") == {
        "completed": [],
        "active": ["forward_communication"],
        "overdue": [],
    }
    assert "diagram-active" in svg_classes(s, "forward_communication")
    assert "diagram-completed" not in svg_classes(s, "send_reply")
    expect(s.page.locator("#state-active li[data-element=forward_communication]")).to_be_visible()
    # The keyboard moves it too, one event at a time, until the bodies are at work.
    slider.focus()
    for _ in range(30):
        if "prepare_information" in s.page.evaluate("window.caseDiagram.markers.active"):
            break
        current = int(slider.input_value())
        s.page.keyboard.press("ArrowRight")
        s.page.wait_for_selector(f'#diagram[data-rendered-step="{current + 1}"]')
    markers = s.page.evaluate("window.caseDiagram.markers")
    assert "forward_communication" in markers["completed"]
    assert {"prepare_information", "collect_body_information"} <= set(markers["active"])
    assert "diagram-active" in svg_classes(s, "prepare_information")
    s.page.locator("[data-testid=step-form]").evaluate("e => e.scrollIntoView({block: 'start'})")
    s.shot("20-history-slider", doc="history", full_page=False)
    s.shot("20-history-full")
    # The no-JavaScript address of a step shows the same state.
    s.goto(f"{case_path}/history?step={first}")
    s.page.wait_for_selector(f'#diagram[data-rendered-step="{first}"]')
    assert s.page.evaluate("window.caseDiagram.markers.active") == ["forward_communication"]

    s.page.click("[data-testid=nav-calendar]")
    expect(s.page.locator("[data-testid=calendar-exceptions]")).to_be_visible()
    s.page.goto(s.url("/calendar/2024"))
    expect(s.page.locator('[data-testid=calendar-exceptions] tr[data-date="2024-03-08"]')).to_be_visible()
    s.shot("21-calendar", doc="calendar", full_page=False)
    logout(s)


def test_language_switch_is_remembered_per_user(new_session, live_server) -> None:  # type: ignore[no-untyped-def]
    s = new_session()
    login(s, "mvd.officer")
    assert s.page.get_attribute("html", "lang") == "ru"
    nav_ru = s.page.locator("[data-testid=nav-inbox]").inner_text()
    s.page.click("[data-testid=language-switch]")
    expect(s.page.locator("html")).to_have_attribute("lang", "en")
    expect(s.page).to_have_url(s.url("/inbox"))  # back where they were
    assert s.page.locator("[data-testid=nav-inbox]").inner_text() == "Inbox" != nav_ru
    s.shot("30-inbox-english")
    logout(s)
    expect(s.page.locator("html")).to_have_attribute("lang", "en")  # the login page follows the last choice
    login(s, "mvd.officer")
    expect(s.page.locator("html")).to_have_attribute("lang", "en")

    # Another browser (no cookies): the login page is Russian, the user's own pages English.
    other = new_session()
    other.goto("/login")
    assert other.page.get_attribute("html", "lang") == "ru"
    login(other, "mvd.officer")
    expect(other.page.locator("html")).to_have_attribute("lang", "en")
    # ... and another user who never chose stays in Russian.
    logout(other)
    other.context.clear_cookies()
    login(other, "minjust.officer")
    expect(other.page.locator("html")).to_have_attribute("lang", "ru")
    # Back to Russian.
    s.page.click("[data-testid=language-switch]")
    expect(s.page.locator("html")).to_have_attribute("lang", "ru")
