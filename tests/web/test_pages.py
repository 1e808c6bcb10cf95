"""The pages over the services: inbox, task forms, case, history, diagram state, start forms,
calendar, delegations; and that nobody sees another organisation's task or case."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from app.web import render
from tests import flow
from tests.conftest import Api


def web_form(spec: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A step's form data (tests/flow.py) as a browser posts it."""
    out: dict[str, Any] = {}
    for name, value in (flow.FORMS[spec] if data is None else data).items():
        if isinstance(value, bool):
            out[name] = (
                "true"
                if spec.endswith("acknowledge_communication") or "acknowledge" in spec
                else ("yes" if value else "no")
            )
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                for key, item in row.items():
                    out[f"{name}.{i}.{key}"] = item
        else:
            out[name] = value
    return out


def field_block(page: str, name: str) -> str:
    """The HTML of one field's block (label, input, help, errors)."""
    found = re.search(rf'<div class="field[^"]*" data-field="{re.escape(name)}">', page)
    assert found, f"no field {name}"
    depth, at = 1, found.end()
    for tag in re.finditer(r"<(/?)div\b", page[at:]):
        depth += -1 if tag[1] else 1
        if depth == 0:
            return page[at : at + tag.start()]
    raise AssertionError(f"field {name} is not closed")


def complete_on_page(site, api: Api, case_id: str, spec: str, organisation: str | None = None) -> None:  # type: ignore[no-untyped-def]
    task = flow.open_task(api, case_id, spec, organisation)
    browser = site(flow.actor_for(task))
    r = browser.post_form(f"/tasks/{task['id']}/complete", web_form(spec), page=f"/tasks/{task['id']}")
    assert r.status_code == 303, r.text[:3000]


def test_inbox_shows_each_user_their_actionable_tasks(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    mfa = site("mfa.officer")
    page = mfa.get("/inbox").text
    assert page.count('data-testid="task-link"') == 1
    assert "AL KAZ 1/2024" in page and "14-5 ч.1" in page
    assert "29.03.2024" in page  # D1: 5 working days after 19 March, Almaty date, local format
    assert 'data-task-spec="forward_communication"' in page
    assert 'data-testid="inbox-empty"' in site("mvd.officer").get("/inbox").text
    assert site("auditor").get("/", follow_redirects=False).headers["location"] == "/cases"

    complete_on_page(site, api, case["id"], "forward_communication")
    mvd = site("mvd.officer").get("/inbox").text
    assert mvd.count('data-testid="task-link"') == 1 and 'data-task-spec="prepare_information"' in mvd
    assert "19.04.2024" in mvd  # D5, the date the MFA set
    omb = site("ombudsman.officer").get("/inbox").text
    assert 'data-task-spec="ombudsman_acknowledge_communication"' in omb
    assert 'data-task-spec="prepare_information"' not in omb
    head = site("mvd.head").get("/inbox").text  # a head may also do an officer's task; nothing to sign yet
    assert 'data-task-spec="prepare_information"' in head and "sign_information" not in head


def test_claim_release_and_filters(site, api: Api, clock) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    mfa = site("mfa.officer")
    r = mfa.post_form(f"/tasks/{task['id']}/claim", {"next": "/inbox"}, page="/inbox")
    assert r.status_code == 303 and r.headers["location"] == "/inbox"
    assert flow.open_task(api, case["id"], "forward_communication")["assignee"] == "mfa.officer"
    assert 'data-testid="unclaim"' in mfa.get("/inbox").text
    # Claimed by someone else: the colleague no longer sees it among the unclaimed.
    assert 'data-testid="inbox-empty"' in site("mfa.deputy").get("/inbox").text
    r = mfa.post_form(f"/tasks/{task['id']}/unclaim", {"next": "/inbox"}, page="/inbox")
    assert flow.open_task(api, case["id"], "forward_communication")["assignee"] is None

    assert 'data-testid="inbox-empty"' in mfa.get("/inbox?overdue=1").text
    assert 'data-testid="inbox-empty"' in mfa.get("/inbox?due_before=2024-03-28").text
    assert 'data-testid="task-link"' in mfa.get("/inbox?due_before=2024-03-29").text
    assert 'id="filter-error"' in mfa.get("/inbox?due_before=not-a-date").text
    from datetime import timedelta

    clock.advance(timedelta(days=11))
    from app.services.timers import fire_due

    fire_due(api.client.app.state.sessionmaker, clock)
    page = site("mfa.officer").get("/inbox?overdue=1").text  # a new login: the session has expired
    assert 'data-task-spec="forward_communication"' in page and 'data-testid="overdue"' in page
    assert "row-overdue" in page


def test_a_form_error_keeps_the_input_and_shows_the_message_next_to_the_field(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    mfa = site("mfa.officer")
    r = mfa.post_form(
        f"/tasks/{task['id']}/complete",
        {"bodies": ["MVD"], "information_due_on": "2024-06-01", "cover_note": "Please <answer> soon"},
        page=f"/tasks/{task['id']}",
    )
    assert r.status_code == 422
    due = field_block(r.text, "information_due_on")
    assert 'data-testid="error-information_due_on"' in due and 'value="2024-06-01"' in due
    assert "18.05.2024" in due  # the reply deadline it may not pass, in the local format
    assert "Please &lt;answer&gt; soon</textarea>" in field_block(r.text, "cover_note")
    assert 'value="MVD" checked' in field_block(r.text, "bodies")
    assert 'aria-invalid="true"' in due
    # Nothing was completed.
    assert flow.open_task(api, case["id"], "forward_communication")["state"] == "ready"

    r = mfa.post_form(f"/tasks/{task['id']}/complete", {"cover_note": "x"}, page=f"/tasks/{task['id']}")
    assert r.status_code == 422
    assert 'data-testid="error-bodies"' in field_block(r.text, "bodies")
    assert 'data-testid="error-information_due_on"' in field_block(r.text, "information_due_on")


def test_meeting_rows_rules_and_add_row_without_javascript(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    for spec in ("forward_communication", "ombudsman_acknowledge_communication"):
        complete_on_page(site, api, case["id"], spec)
    for org in ("MVD", "MINJUST"):
        for spec in ("prepare_information", "sign_information"):
            complete_on_page(site, api, case["id"], spec, org)
    task = flow.open_task(api, case["id"], "hold_meeting")
    mfa = site("mfa.officer")
    page = mfa.get(f"/tasks/{task['id']}").text
    assert page.count('<fieldset class="row"') == 3
    assert 'id="field-participants-0-full_name" name="participants.0.full_name"' in page
    assert '<option value="head_of_structural_subdivision"' in page
    assert mfa.get(f"/tasks/{task['id']}?rows=5").text.count('<fieldset class="row"') == 5
    # What the bodies submitted reached this step and is shown (the MFA sees it whole).
    assert 'data-testid="earlier-data"' in page and "The person was released on 20 March." in page

    one = {
        "meeting_date": "2024-04-25",
        "minutes": "Agreed.",
        "participants.0.full_name": "B. Head",
        "participants.0.organisation": "MVD",
        "participants.0.position": "Head of department",
        "participants.0.level": "specialist",
        "participants.2.full_name": "C. Head",
        "_rows.participants": "3",
    }
    r = mfa.post_form(f"/tasks/{task['id']}/complete", {**one, "_add_row": "participants"}, page=f"/tasks/{task['id']}")
    assert r.status_code == 200 and r.text.count('<fieldset class="row"') == 4
    assert 'name="participants.1.full_name" type="text" value="C. Head"' in r.text  # renumbered, kept
    r = mfa.post_form(f"/tasks/{task['id']}/complete", one, page=f"/tasks/{task['id']}")
    assert r.status_code == 422
    rows = field_block(r.text, "participants")
    assert 'data-testid="error-participants.1.position"' in rows  # the half-filled second row
    assert 'value="B. Head"' in rows and '<option value="specialist" selected>' in rows
    del one["participants.2.full_name"]
    r = mfa.post_form(f"/tasks/{task['id']}/complete", one, page=f"/tasks/{task['id']}")
    assert r.status_code == 422
    rows = field_block(r.text, "participants")
    assert 'data-testid="error-participants"' in rows  # the diagram's 14-7 ч.2 rule, next to the participants
    assert "руководителя структурного подразделения или выше" in rows
    r = mfa.post_form(f"/tasks/{task['id']}/complete", web_form("hold_meeting"), page=f"/tasks/{task['id']}")
    assert r.status_code == 303
    assert flow.open_task(api, case["id"], "draft_reply")["state"] == "ready"


def test_another_organisations_task_or_case_is_not_found(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    mvd = site("mvd.officer")
    for url in (
        f"/tasks/{task['id']}",
        f"/cases/{case['id']}",
        f"/cases/{case['id']}/history",
        f"/cases/{case['id']}/diagram.xml",
        f"/cases/{case['id']}/diagram-state.json",
        "/tasks/00000000-0000-0000-0000-000000000000",
    ):
        r = mvd.get(url)
        assert r.status_code == 404, url
        assert "AL KAZ" not in r.text and "forward_communication" not in r.text
    for action in ("claim", "unclaim", "complete"):
        r = mvd.post_form(f"/tasks/{task['id']}/{action}", {"bodies": "MVD"}, page="/inbox")
        assert r.status_code == 404, action
    assert 'data-testid="cases-table"' not in mvd.get("/cases").text

    complete_on_page(site, api, case["id"], "forward_communication")
    # Now MVD has a task in the case: it sees the case, its own task, not MINJUST's.
    page = mvd.get(f"/cases/{case['id']}").text
    assert 'data-task-spec="prepare_information"' in page and "MINJUST" not in page.split('data-testid="case-tasks"')[1]
    minjust_task = flow.open_task(api, case["id"], "prepare_information", "MINJUST")
    assert mvd.get(f"/tasks/{minjust_task['id']}").status_code == 404
    state = mvd.get(f"/cases/{case['id']}/diagram-state.json").json()
    assert "forward_communication" not in state["completed"]  # the MFA's steps are not MVD's history
    # The same owners act as in the API: an officer cannot sign (403 page, not a crash).
    complete_on_page(site, api, case["id"], "prepare_information", "MVD")
    sign = flow.open_task(api, case["id"], "sign_information", "MVD")
    r = mvd.post_form(f"/tasks/{sign['id']}/claim", {}, page="/inbox")
    assert r.status_code == 403 and 'data-testid="error-page"' in r.text


def test_every_page_renders_for_an_allowed_user(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    pages = {
        "mfa.officer": [
            "/inbox",
            f"/tasks/{task['id']}",
            f"/cases/{case['id']}",
            f"/cases/{case['id']}/history",
            f"/cases/{case['id']}/history?step=2",
            "/cases",
            "/cases?business_key=AL+KAZ+1%2F2024&status=running&key=communication",
            "/calendar/2024",
            "/delegations",
            "/communications/new",
            "/visits/new",
            "/treaty-body-cases/new",
        ],
        "auditor": [f"/cases/{case['id']}", f"/cases/{case['id']}/history", "/cases", f"/tasks/{task['id']}"],
        "mvd.head": ["/inbox", "/delegations", "/calendar/2025", "/visits/new", "/treaty-body-cases/new"],
        "admin": ["/cases", "/delegations?org=MVD"],
    }
    for user, urls in pages.items():
        browser = site(user)
        for url in urls:
            r = browser.get(url)
            assert r.status_code == 200, (user, url, r.text[:2000])
            assert '<html lang="ru">' in r.text and "<label" in r.text or "<table" in r.text or "<h1" in r.text
    assert site().get("/login").status_code == 200
    assert site("auditor").get(f"/tasks/{task['id']}").text.count('data-testid="task-form"') == 0
    assert site("mfa.officer").get("/calendar").status_code == 200
    assert site("mfa.officer").get("/calendar/1900").status_code == 422
    assert site("mfa.officer").get("/calendar/abc").status_code == 404


def test_task_page_shows_the_case_and_explains_the_deadline(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    task = flow.open_task(api, case["id"], "forward_communication")
    page = site("mfa.officer").get(f"/tasks/{task['id']}").text
    summary = page.split('data-testid="case-summary"')[1]
    assert "AL KAZ 1/2024" in summary and "19.03.2024" in summary and "18.05.2024" in summary
    explained = page.split('data-testid="deadline-explanation"')[1].split("</details>")[0]
    # D1: 5 working days after 19 March 2024; 21, 22 and 25 March are Nauryz holidays.
    assert explained.count('<tr class="working">') == 5 and "29.03.2024" in explained
    assert "22.03.2024" in explained and explained.count('<tr class="off">') == 5
    assert '<select id="field-bodies' not in page and 'id="field-bodies-MVD"' in page
    assert '<input id="field-information_due_on" name="information_due_on" type="date"' in page
    assert '<label for="field-cover_note">' in page


def test_case_page_deadlines_tasks_and_diagram_placeholder(site, api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    complete_on_page(site, api, case["id"], "forward_communication")
    mfa = site("mfa.officer")
    page = mfa.get(f"/cases/{case['id']}").text
    deadlines = page.split('data-testid="deadlines-table"')[1].split("</table>")[0]
    assert 'data-element="d1_timer" data-status="disarmed"' in deadlines
    assert deadlines.count('data-element="d5_timer" data-status="armed"') == 2
    tasks = page.split('data-testid="case-tasks"')[1].split("</table>")[0]
    assert 'data-task-spec="forward_communication" data-state="completed"' in tasks and "mfa.officer" in tasks
    assert f'data-xml-url="/cases/{case["id"]}/diagram.xml"' in page
    assert f'data-state-url="/cases/{case["id"]}/diagram-state.json"' in page
    monkeypatch.setattr(render, "DIAGRAM_BUNDLE", render.STATIC_DIR / "build" / "missing.js")
    page = mfa.get(f"/cases/{case['id']}").text
    assert 'data-testid="diagram-missing"' in page and "case-diagram.js" not in page
    monkeypatch.setattr(render, "DIAGRAM_BUNDLE", render.STATIC_DIR / "css" / "app.css")  # "built"
    page = mfa.get(f"/cases/{case['id']}").text
    assert 'data-testid="diagram-missing"' not in page and '<script src="/static/build/case-diagram.js"' in page
    xml = mfa.get(f"/cases/{case['id']}/diagram.xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert b'id="forward_communication"' in xml.content
    assert mfa.get("/static/css/app.css").status_code == 200
    assert mfa.get("/static/js/history.js").status_code == 200


def test_diagram_state_follows_the_history(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    case = flow.register(api)
    auditor = site("auditor")
    state = auditor.get(f"/cases/{case['id']}/diagram-state.json").json()
    assert state == {"completed": [], "active": ["forward_communication"], "overdue": [], "step": 4, "steps": 4}
    complete_on_page(site, api, case["id"], "forward_communication")
    now = auditor.get(f"/cases/{case['id']}/diagram-state.json").json()
    assert now["completed"] == ["forward_communication"]
    # Elements of the called per-body process, and the call activity and sub-process they run in.
    assert {"collect_body_information", "provide_information", "prepare_information"} <= set(now["active"])
    assert auditor.get(f"/cases/{case['id']}/diagram-state.json?step={now['steps']}").json() == now
    first = auditor.get(f"/cases/{case['id']}/diagram-state.json?step=0").json()
    assert first["active"] == first["completed"] == first["overdue"] == [] and first["step"] == 0
    assert auditor.get(f"/cases/{case['id']}/diagram-state.json?step=999").json()["step"] == now["steps"]

    page = auditor.get(f"/cases/{case['id']}/history?step=3").text
    assert 'id="history-step" name="step" min="0" max="{}" value="3"'.format(now["steps"]) in page
    assert page.count('class="future"') == now["steps"] - 3
    assert '<li data-element="forward_communication">' in page.split('id="state-active"')[1].split("</ul>")[0]
    assert '<script src="/static/js/history.js" defer></script>' in page
    assert (
        'data-state-url-template="/cases/{}/diagram-state.json?step={{step}}"'.format(case["id"]) in html.unescape(page)
        or "diagram-state.json?step={step}" in page
    )


def test_breached_deadline_shows_as_overdue(site, api: Api, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from app.services.timers import fire_due

    case = flow.register(api)
    clock.advance(timedelta(days=11))
    fire_due(api.client.app.state.sessionmaker, clock)
    state = site("auditor").get(f"/cases/{case['id']}/diagram-state.json").json()
    assert state["overdue"] == ["d1_timer", "forward_communication"]
    assert "escalate_d1" in state["active"]
    page = site("mfa.officer").get(f"/cases/{case['id']}").text
    assert 'data-element="d1_timer" data-status="fired"' in page and 'data-testid="case-overdue"' in page


def test_registering_a_communication_on_the_page(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    mfa = site("mfa.officer")
    page = mfa.get("/communications/new").text
    assert 'value="2024-03-19"' in field_block(page, "received_on")  # today, in Almaty
    data = {**flow.REGISTRATION, "reference": "AL KAZ 1-2024", "mandates": "SR on defenders\n\nSR on torture"}
    r = mfa.post_form("/communications/new", data)
    assert r.status_code == 422
    assert 'data-testid="error-reference"' in field_block(r.text, "reference")
    assert 'value="AL KAZ 1-2024"' in field_block(r.text, "reference")
    assert "SR on defenders\n\nSR on torture</textarea>" in field_block(r.text, "mandates")
    r = mfa.post_form("/communications/new", {"reference": "AL KAZ 1/2024"})
    assert r.status_code == 422 and 'data-testid="error-subject"' in r.text and 'data-testid="error-type"' in r.text
    r = mfa.post_form("/communications/new", {**data, "reference": "AL KAZ 1/2024"})
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/")
    case = api.get("mfa.officer", "/api/instances?business_key=AL+KAZ+1/2024").json()[0]
    assert case["data"]["mandates"] == ["SR on defenders", "SR on torture"]
    r = mfa.post_form("/communications/new", {**data, "reference": "AL KAZ 1/2024"})
    assert r.status_code == 409 and 'data-testid="form-errors"' in r.text
    assert site("mvd.officer").get("/communications/new").status_code == 200  # the page; the service decides
    r = site("mvd.officer").post_form("/communications/new", {**data, "reference": "AL KAZ 2/2024"})
    assert r.status_code == 403


def test_visit_and_treaty_body_start_forms(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    mfa = site("mfa.officer")
    r = mfa.post_form("/visits/new", {"ground": "mfa_initiative", "mandate": "SR on torture", "subject": "Visit"})
    assert r.status_code == 422 and 'data-testid="error-bodies"' in field_block(r.text, "bodies")
    r = mfa.post_form(
        "/visits/new",
        {"ground": "mfa_initiative", "mandate": "SR on torture", "subject": "Visit", "bodies": ["MVD", "MINJUST"]},
    )
    assert r.status_code == 303
    mvd = site("mvd.officer")
    r = mvd.post_form("/treaty-body-cases/new", {"treaty_body": "CAT", "lead_body": "MVD", "subject": "Report"})
    assert r.status_code == 422 and 'data-testid="form-errors"' in r.text  # no date at all
    r = mvd.post_form(
        "/treaty-body-cases/new",
        {
            "treaty_body": "CAT",
            "lead_body": "MVD",
            "subject": "Report",
            "report_due": "2024-06-14",
            "reminder_working_days": "ten",
        },
    )
    assert r.status_code == 422 and 'data-testid="error-reminder_working_days"' in r.text
    r = mvd.post_form(
        "/treaty-body-cases/new",
        {
            "treaty_body": "CAT",
            "lead_body": "MVD",
            "subject": "Report",
            "report_due": "2024-06-14",
            "reminder_working_days": "10",
        },
    )
    assert r.status_code == 303
    assert mvd.get(r.headers["location"]).status_code == 200


def test_delegations_page_grants_and_revokes(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    head = site("mvd.head")
    page = head.get("/delegations").text
    assert 'data-testid="grant-form"' in page and '<option value="mvd.deputy"' in page
    r = head.post_form(
        "/delegations/MVD/grant",
        {"user": "mvd.deputy", "from": "2024-03-20", "to": "2024-03-18", "reason": "Leave"},
        page="/delegations",
    )
    assert r.status_code == 422 and 'data-testid="error-to"' in r.text and 'value="Leave"' in r.text
    r = head.post_form(
        "/delegations/MVD/grant",
        {"user": "mvd.deputy", "from": "2024-03-19", "to": "2024-03-29", "reason": "Leave"},
        page="/delegations",
    )
    assert r.status_code == 303
    page = head.get("/delegations").text
    found = re.search(r'data-delegation-id="(\d+)"', page)
    assert found and "mvd.deputy" in page
    # The deputy now sees the head's work; an officer cannot manage delegations.
    deputy = site("mvd.deputy")
    assert 'data-testid="grant-form"' not in deputy.get("/delegations").text
    r = deputy.post_form(f"/delegations/MVD/{found[1]}/revoke", {"reason": "x"}, page="/delegations")
    assert r.status_code == 403
    r = head.post_form(f"/delegations/MVD/{found[1]}/revoke", {"reason": "Back"}, page="/delegations")
    assert r.status_code == 303
    assert site("mfa.officer").get("/delegations?org=MVD").status_code == 404


@pytest.mark.parametrize("user", ["mfa.officer", "auditor"])
def test_case_search_filters(site, api: Api, user: str) -> None:  # type: ignore[no-untyped-def]
    flow.register(api)
    flow.register(api, reference="UA KAZ 2/2024", type="UA")
    browser = site(user)
    assert browser.get("/cases").text.count("data-case-id=") == 2
    assert browser.get("/cases?business_key=UA+KAZ+2%2F2024").text.count("data-case-id=") == 1
    assert browser.get("/cases?status=completed").text.count("data-case-id=") == 0
    assert browser.get("/cases?key=visit_invitation").text.count("data-case-id=") == 0
