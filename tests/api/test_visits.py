"""Country-visit invitations (14-10) over the JSON API: each ground end to end, and every refusal."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.clock import FixedClock
from app.engine import Case, LoadedDefinition
from tests.flow import complete_as as complete
from tests.flow import open_task

VISIT = {
    "mandate": "Special Rapporteur on torture",
    "subject": "Conditions of detention in pre-trial facilities",
    "proposed_dates": "second half of October 2024",
}
AGREE = {"agreed": True, "comment": "No objections"}
REFUSE = {"agreed": False, "comment": "A visit this year would clash with the prison reform"}
DRAFT = {"invitation_text": "The Government of Kazakhstan has the honour to invite ...", "visit_dates": "14-25 Oct"}
SIGN = {"approved": True}
SEND = {"note_verbale_number": "NV-13-1/456", "sent_on": "2024-03-25", "channel": "Permanent Mission, Geneva"}
ACK = {"acknowledged": True}


def start(api: Any, user: str, **body: Any) -> Any:
    return api.post(user, "/api/visit-invitations", json={**VISIT, **body})


def started(api: Any, user: str, **body: Any) -> dict[str, Any]:
    r = start(api, user, **body)
    assert r.status_code == 201, r.text
    return r.json()


def specs(api: Any, user: str) -> list[tuple[str, str]]:
    return sorted((t["task_spec"], t["organisation"]) for t in api.get(user, "/api/tasks").json())


def invite(api: Any, case_id: str) -> dict[str, Any]:
    """The shared tail: the MFA drafts, its first head signs, the MFA sends."""
    complete(api, "mfa.officer", open_task(api, case_id, "draft_invitation"), DRAFT)
    sign = open_task(api, case_id, "sign_invitation")
    assert (sign["organisation"], sign["candidate_role"]) == ("MFA", "head")
    assert api.post("mfa.officer", f"/api/tasks/{sign['id']}/complete", json={"data": SIGN}).status_code == 403
    complete(api, "mfa.head", sign, SIGN)
    send = open_task(api, case_id, "send_invitation")
    assert send["norm"] == "14-10 пп.1; 14-10 пп.2; 14-10 пп.3"
    return complete(api, "mfa.officer", send, SEND)


def history(api: Any, case_id: str) -> list[dict[str, Any]]:
    return api.get("auditor", f"/api/instances/{case_id}/history").json()


def completed_by(api: Any, case_id: str) -> dict[str, str]:
    return {e["payload"]["task"]: e["actor"] for e in history(api, case_id) if e["type"] == "task_completed"}


@pytest.mark.norm("14-10 пп.1")
def test_a_bodys_proposal_agreed_with_the_mfa_is_signed_and_sent(api) -> None:  # type: ignore[no-untyped-def]
    case = started(api, "mvd.officer", ground="body_proposal", proposing_body="MVD")
    assert case["definition"]["key"] == "visit_invitation" and case["status"] == "running"
    assert case["business_key"] == "Visit: Special Rapporteur on torture"
    assert case["started_by"] == "mvd.officer"
    case_id = case["id"]

    # The MFA agrees (or not) with the body's proposal; the body itself has nothing to do yet.
    assert specs(api, "mfa.officer") == [("agree_body_proposal", "MFA")]
    assert specs(api, "mvd.officer") == []
    # The proposer follows the case it started; another body's officers do not see it.
    assert api.get("mvd.officer", f"/api/instances/{case_id}").json()["data"]["proposing_body"] == "MVD"
    assert api.get("minjust.officer", f"/api/instances/{case_id}").status_code == 404
    agree = open_task(api, case_id, "agree_body_proposal")
    assert agree["norm"] == "14-10 пп.1" and agree["form"] == "visit_agreement.json"
    detail = api.get("mfa.officer", f"/api/tasks/{agree['id']}").json()
    assert detail["data"]["proposing_body"] == "MVD" and detail["data"]["ground"] == "body_proposal"
    complete(api, "mfa.officer", agree, AGREE)

    done = invite(api, case_id)
    assert [t["task_spec"] for t in done["next_tasks"]] == ["body_acknowledge_invitation"]
    # The proposing body learns that the invitation went out, and then sees the case.
    assert specs(api, "mvd.officer") == [("body_acknowledge_invitation", "MVD")]
    final = complete(api, "mvd.officer", open_task(api, case_id, "body_acknowledge_invitation"), ACK)["instance"]
    assert final["status"] == "completed" and final["tasks"] == []
    assert "note_verbale_number" not in final["data"]  # a body sees the case as proposed, not the MFA's work
    whole = api.get("auditor", f"/api/instances/{case_id}").json()["data"]
    assert whole["note_verbale_number"] == "NV-13-1/456" and whole["sent_on"] == "2024-03-25"
    assert api.get("mvd.officer", f"/api/instances/{case_id}").status_code == 200
    assert completed_by(api, case_id) == {
        "agree_body_proposal": "mfa.officer",
        "draft_invitation": "mfa.officer",
        "sign_invitation": "mfa.head",
        "send_invitation": "mfa.officer",
        "body_acknowledge_invitation": "mvd.officer",
    }


@pytest.mark.norm("14-10 пп.1")
def test_a_bodys_proposal_the_mfa_does_not_agree_ends_without_an_invitation(api) -> None:  # type: ignore[no-untyped-def]
    case_id = started(api, "minjust.head", ground="body_proposal", proposing_body="MINJUST")["id"]
    r = api.post(
        "mfa.officer",
        f"/api/tasks/{open_task(api, case_id, 'agree_body_proposal')['id']}/complete",
        json={"data": {"agreed": False}},
    )
    assert r.status_code == 422 and "'comment'" in r.json()["detail"][0]["message"]  # a refusal says why
    done = complete(api, "mfa.officer", open_task(api, case_id, "agree_body_proposal"), REFUSE)
    assert [(t["task_spec"], t["organisation"]) for t in done["next_tasks"]] == [("inform_body_not_agreed", "MINJUST")]
    assert specs(api, "minjust.officer") == [("inform_body_not_agreed", "MINJUST")]
    final = complete(api, "minjust.officer", open_task(api, case_id, "inform_body_not_agreed"), ACK)["instance"]
    assert final["status"] == "completed"
    assert "draft_invitation" not in completed_by(api, case_id)
    assert not [e for e in history(api, case_id) if e["payload"].get("task") == "draft_invitation"]


@pytest.mark.norm("14-10 пп.2")
def test_the_mfas_initiative_agreed_by_every_competent_body_is_signed_and_sent(api) -> None:  # type: ignore[no-untyped-def]
    case = started(api, "mfa.officer", ground="mfa_initiative", bodies=["MVD", "MINJUST"])
    case_id = case["id"]
    assert sorted((t["task_spec"], t["organisation"]) for t in case["tasks"]) == [
        ("agree_mfa_initiative", "MINJUST"),
        ("agree_mfa_initiative", "MVD"),
    ]
    # Each body sees and answers only its own agreement.
    assert specs(api, "mvd.officer") == [("agree_mfa_initiative", "MVD")]
    assert specs(api, "minjust.officer") == [("agree_mfa_initiative", "MINJUST")]
    assert specs(api, "mfa.officer") == []
    mvd = open_task(api, case_id, "agree_mfa_initiative", "MVD")
    assert mvd["norm"] == "14-10 пп.2"
    assert api.post("minjust.officer", f"/api/tasks/{mvd['id']}/complete", json={"data": AGREE}).status_code in (
        403,
        404,
    )
    complete(api, "mvd.officer", mvd, AGREE)
    assert open_task(api, case_id, "agree_mfa_initiative", "MINJUST")  # the MFA still waits for MINJUST
    done = complete(api, "minjust.officer", open_task(api, case_id, "agree_mfa_initiative", "MINJUST"), AGREE)
    assert done["next_tasks"] == []  # the next step is the MFA's: a body is not shown it
    assert specs(api, "mfa.officer") == [("draft_invitation", "MFA")]
    whole = api.get("auditor", f"/api/instances/{case_id}").json()["data"]
    assert sorted((a["body"], a["agreed"]) for a in whole["body_agreements"]) == [("MINJUST", True), ("MVD", True)]

    # The first head sends the draft back once, then signs.
    complete(api, "mfa.officer", open_task(api, case_id, "draft_invitation"), DRAFT)
    back = complete(
        api, "mfa.head", open_task(api, case_id, "sign_invitation"), {"approved": False, "comment": "Dates"}
    )
    assert [t["task_spec"] for t in back["next_tasks"]] == ["draft_invitation"]
    final = invite(api, case_id)["instance"]
    assert final["status"] == "completed" and final["tasks"] == []  # the bodies took part: no notice needed


@pytest.mark.norm("14-10 пп.2")
def test_one_competent_body_refusing_means_the_initiative_is_not_agreed(api) -> None:  # type: ignore[no-untyped-def]
    case_id = started(api, "mfa.head", ground="mfa_initiative", bodies=["MVD", "MINJUST"])["id"]
    complete(api, "minjust.officer", open_task(api, case_id, "agree_mfa_initiative", "MINJUST"), REFUSE)
    final = complete(api, "mvd.head", open_task(api, case_id, "agree_mfa_initiative", "MVD"), AGREE)
    assert final["instance"]["status"] == "completed"
    whole = api.get("auditor", f"/api/instances/{case_id}").json()
    assert whole["tasks"] == []
    assert {a["body"]: a["agreed"] for a in whole["data"]["body_agreements"]} == {"MVD": True, "MINJUST": False}
    assert "draft_invitation" not in completed_by(api, case_id)


@pytest.mark.norm("14-10 пп.3")
def test_the_ombudsmans_proposal_accepted_by_the_mfa_is_signed_and_sent(api) -> None:  # type: ignore[no-untyped-def]
    case = started(api, "ombudsman.officer", ground="ombudsman_proposal", period_start="2024-10-14")
    case_id = case["id"]
    consider = open_task(api, case_id, "consider_ombudsman_proposal")
    assert (consider["organisation"], consider["norm"]) == ("MFA", "14-10 пп.3")
    assert specs(api, "ombudsman.officer") == []
    complete(api, "mfa.officer", consider, AGREE)
    done = invite(api, case_id)
    assert [(t["task_spec"], t["organisation"]) for t in done["next_tasks"]] == [
        ("ombudsman_acknowledge_invitation", "OMBUDSMAN")
    ]
    final = complete(api, "ombudsman.officer", open_task(api, case_id, "ombudsman_acknowledge_invitation"), ACK)
    assert final["instance"]["status"] == "completed"


@pytest.mark.norm("14-10 пп.3")
def test_the_ombudsmans_proposal_not_accepted_is_reported_back(api) -> None:  # type: ignore[no-untyped-def]
    case_id = started(api, "ombudsman.officer", ground="ombudsman_proposal")["id"]
    done = complete(api, "mfa.officer", open_task(api, case_id, "consider_ombudsman_proposal"), REFUSE)
    assert [t["task_spec"] for t in done["next_tasks"]] == ["inform_ombudsman_not_accepted"]
    final = complete(api, "ombudsman.officer", open_task(api, case_id, "inform_ombudsman_not_accepted"), ACK)
    assert final["instance"]["status"] == "completed"
    assert "draft_invitation" not in completed_by(api, case_id)


@pytest.mark.norm("14-10 пп.1", "14-10 пп.2", "14-10 пп.3")
def test_only_the_organisation_a_ground_names_may_invoke_it(api) -> None:  # type: ignore[no-untyped-def]
    refused = [
        ("mfa.officer", {"ground": "body_proposal", "proposing_body": "MVD"}, "officer or head"),
        ("minjust.officer", {"ground": "body_proposal", "proposing_body": "MVD"}, "MVD"),
        ("ombudsman.officer", {"ground": "body_proposal", "proposing_body": "MVD"}, "officer or head"),
        ("mvd.officer", {"ground": "mfa_initiative", "bodies": ["MVD"]}, "MFA"),
        ("ombudsman.officer", {"ground": "mfa_initiative", "bodies": ["MVD"]}, "MFA"),
        ("mfa.officer", {"ground": "ombudsman_proposal"}, "Ombudsman"),
        ("mvd.head", {"ground": "ombudsman_proposal"}, "Ombudsman"),
        ("auditor", {"ground": "mfa_initiative", "bodies": ["MVD"]}, "MFA"),
        ("analyst", {"ground": "ombudsman_proposal"}, "Ombudsman"),
        ("pa.officer", {"ground": "body_proposal", "proposing_body": "MVD"}, "officer or head"),
    ]
    for user, body, who in refused:
        r = start(api, user, **body)
        assert r.status_code == 403, (user, body, r.text)
        assert who in r.json()["detail"], (user, r.text)
    assert api.get("auditor", "/api/instances", params={"key": "visit_invitation"}).json() == []
    # An admin may record a proposal on any ground (e.g. one received on paper).
    assert start(api, "admin", ground="body_proposal", proposing_body="MVD").status_code == 201
    assert start(api, "admin", ground="ombudsman_proposal").status_code == 201


@pytest.mark.norm("14-10 пп.1", "14-10 пп.2")
def test_bodies_must_be_existing_state_bodies(api) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ("mvd.officer", {"ground": "body_proposal", "proposing_body": "NOWHERE"}, "proposing_body", "existing"),
        ("admin", {"ground": "body_proposal", "proposing_body": "OMBUDSMAN"}, "proposing_body", "'ombudsman'"),
        ("mfa.officer", {"ground": "mfa_initiative", "bodies": ["MVD", "NOWHERE"]}, "bodies", "'NOWHERE'"),
        ("mfa.officer", {"ground": "mfa_initiative", "bodies": ["MFA"]}, "bodies", "not a state_body"),
        ("mfa.officer", {"ground": "mfa_initiative", "bodies": ["PA"]}, "bodies", "not a state_body"),
        ("mfa.officer", {"ground": "mfa_initiative", "bodies": ["MVD", "MVD"]}, "bodies", "once"),
    ]
    for user, body, field, needle in cases:
        r = start(api, user, **body)
        assert r.status_code == 422, (body, r.text)
        detail = r.json()["detail"]
        assert any(d["field"] == field and needle in d["message"] for d in detail), (body, detail)


@pytest.mark.norm("14-10 пп.1", "14-10 пп.2", "14-10 пп.3")
def test_missing_or_misplaced_fields_are_422_with_the_field(api) -> None:  # type: ignore[no-untyped-def]
    def refused(user: str, body: dict[str, Any], field: str) -> None:
        r = api.post(user, "/api/visit-invitations", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [d["field"] for d in r.json()["detail"]], (body, r.json())

    refused("mfa.officer", {**VISIT, "bodies": ["MVD"]}, "ground")
    refused("mfa.officer", {**VISIT, "ground": "state_visit", "bodies": ["MVD"]}, "ground")
    refused("mfa.officer", {"ground": "mfa_initiative", "subject": "x", "bodies": ["MVD"]}, "mandate")
    refused("mfa.officer", {**VISIT, "ground": "mfa_initiative", "mandate": "  ", "bodies": ["MVD"]}, "mandate")
    refused("mvd.officer", {**VISIT, "ground": "body_proposal"}, "proposing_body")
    refused("mfa.officer", {**VISIT, "ground": "mfa_initiative"}, "bodies")
    refused("mfa.officer", {**VISIT, "ground": "mfa_initiative", "bodies": []}, "bodies")
    refused("mvd.officer", {**VISIT, "ground": "body_proposal", "proposing_body": "MVD", "bodies": ["MVD"]}, "bodies")
    refused("ombudsman.officer", {**VISIT, "ground": "ombudsman_proposal", "proposing_body": "MVD"}, "proposing_body")
    refused("ombudsman.officer", {**VISIT, "ground": "ombudsman_proposal", "invited_by": "me"}, "invited_by")
    refused(
        "ombudsman.officer", {**VISIT, "ground": "ombudsman_proposal", "period_start": "2024-13-01"}, "period_start"
    )
    refused(
        "ombudsman.officer", {**VISIT, "ground": "ombudsman_proposal", "period_start": "2024-03-01"}, "period_start"
    )
    refused(
        "ombudsman.officer",
        {**VISIT, "ground": "ombudsman_proposal", "period_start": "2024-10-14", "period_end": "2024-10-01"},
        "period_end",
    )
    assert api.get("auditor", "/api/instances", params={"key": "visit_invitation"}).json() == []


@pytest.mark.norm("14-10 пп.1", "14-10 пп.2", "14-10 пп.3")
def test_the_generic_start_is_refused(api) -> None:  # type: ignore[no-untyped-def]
    for user in ("mfa.officer", "admin"):
        r = api.post(
            user, "/api/processes/visit_invitation/instances", json={"data": {"ground": "mfa_initiative", "bodies": []}}
        )
        assert r.status_code == 422 and "POST /api/visit-invitations" in r.text, r.text


@pytest.mark.norm("14-10 пп.2")
@pytest.mark.parametrize("refusing", [None, "MINJUST"])
def test_a_case_restored_on_a_freshly_parsed_spec_at_every_step_ends_the_same(refusing: str | None) -> None:
    """The per-body agreements (a multi-instance user task) survive a restart between any two steps."""
    root = Path(__file__).resolve().parents[2]
    forms = {p.name: json.loads(p.read_text()) for p in (root / "bpmn" / "forms").glob("*.json")}
    xml = (root / "bpmn" / "visit_invitation.bpmn").read_bytes()
    clock = FixedClock(datetime(2024, 3, 19, 4, 0, tzinfo=UTC))
    data = {"ground": "mfa_initiative", "bodies": ["MVD", "MINJUST"], "proposing_body": None, **VISIT}
    by_task = {
        "agree_mfa_initiative": AGREE,
        "draft_invitation": DRAFT,
        "sign_invitation": SIGN,
        "send_invitation": SEND,
    }
    case_id = str(uuid.uuid4())
    case = Case.start(LoadedDefinition(xml, "visit_invitation.bpmn", forms), data, clock, case_id)
    for _ in range(10):
        case = Case.restore(
            LoadedDefinition(xml, "visit_invitation.bpmn", forms), case.state(), clock, case_id, case.context.id_counter
        )
        ready = case.ready_tasks()
        if not ready:
            break
        task = ready[-1]
        answer = REFUSE if task.organisation == refusing else by_task[task.bpmn_id]
        case.complete(task.id, answer)
    assert case.is_completed
    agreed = {a["body"]: a["agreed"] for a in case.data()["body_agreements"]}
    assert agreed == {"MVD": True, "MINJUST": refusing is None}
    assert ("note_verbale_number" in case.data()) is (refusing is None)
