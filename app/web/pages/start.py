"""Start forms: register a communication (14-5), propose a country visit (14-10), open a
treaty-body case (14-11). Each is described as a JSON Schema (labels only) and rendered like a
task form; the service decides everything else and its field errors come back next to the fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.clock import local_date
from app.db.models import ProcessInstance
from app.services import communications, treaty_bodies, visits
from app.services import forms as form_service
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.principal import Principal
from app.web import forms
from app.web.deps import DbDep, FormDep, Web, WebDep, WebRoute
from app.web.i18n import N_
from app.web.messages import Shown

router = APIRouter(route_class=WebRoute, include_in_schema=False)

DATE = {"type": "string", "format": "date"}
STATE_BODY = {"type": "string", "x-organisation-kind": "state_body"}

REGISTRATION: dict[str, Any] = {
    "title": N_("Register a communication"),
    "description": N_(
        "A communication or recommendation received from UN special procedures (14-5). Registering it "
        "starts the case: the MFA forwards it within 5 working days of receipt (deadline D1)."
    ),
    "required": ["reference", "type", "received_on", "language", "reply_deadline", "subject", "mandates"],
    "properties": {
        "reference": {
            "type": "string",
            "title": N_("Reference"),
            "description": N_("As in the letter, e.g. AL KAZ 1/2024."),
        },
        "type": {"type": "string", "enum": list(communications.TYPES), "title": N_("Type of letter")},
        "received_on": {
            **DATE,
            "title": N_("Received on"),
            "description": N_("The day the MFA received it; D1 counts from it."),
        },
        "language": {
            "type": "string",
            "enum": list(communications.LANGUAGES),
            "title": N_("Language of the communication"),
            "description": N_("The reply must be in this language (14-8 part 1)."),
        },
        "reply_deadline": {
            **DATE,
            "title": N_("Reply deadline"),
            "description": N_("The date the communication states (deadline D2)."),
        },
        "subject": {"type": "string", "title": N_("Subject")},
        "mandates": {
            "type": "array",
            "items": {"type": "string"},
            "title": N_("Mandates"),
            "description": N_("The special procedures that sent it, one per line."),
        },
    },
}

VISIT: dict[str, Any] = {
    "title": N_("Country-visit invitation"),
    "description": N_(
        "14-10: the MFA invites special procedures to visit on a competent body's proposal agreed with the MFA, "
        "on the MFA's initiative agreed with the competent bodies, or on the Ombudsman's proposal."
    ),
    "required": ["ground", "mandate", "subject"],
    "properties": {
        "ground": {"type": "string", "enum": list(visits.GROUNDS), "title": N_("Ground (14-10)")},
        "mandate": {
            "type": "string",
            "title": N_("Special procedure"),
            "description": N_("The mandate invited, e.g. Special Rapporteur on torture."),
        },
        "subject": {"type": "string", "title": N_("Purpose of the visit")},
        "proposed_dates": {
            "type": "string",
            "title": N_("Proposed dates"),
            "description": N_("Free text, e.g. autumn 2024."),
        },
        "period_start": {**DATE, "title": N_("Period starts")},
        "period_end": {**DATE, "title": N_("Period ends")},
        "proposing_body": {
            **STATE_BODY,
            "title": N_("Proposing body"),
            "description": N_("Only for a competent body's proposal."),
        },
        "bodies": {
            "type": "array",
            "items": STATE_BODY,
            "title": N_("Competent state bodies"),
            "description": N_("Only for the MFA's initiative: the bodies whose agreement is needed."),
        },
    },
}

TREATY: dict[str, Any] = {
    "title": N_("Treaty-body case"),
    "description": N_(
        "14-11: the lead state body interacts with a UN treaty body under its rules of procedure; the deadlines "
        "are the treaty body's dates. Give at least one."
    ),
    "required": ["treaty_body", "lead_body", "subject"],
    "properties": {
        "treaty_body": {"type": "string", "enum": list(treaty_bodies.TREATY_BODIES), "title": N_("Treaty body")},
        "lead_body": {**STATE_BODY, "title": N_("Lead body")},
        "subject": {"type": "string", "title": N_("Subject")},
        "reference": {
            "type": "string",
            "title": N_("Reference"),
            "description": N_("E.g. the reporting cycle or CAT/C/KAZ/5."),
        },
        "report_due": {**DATE, "title": N_("State party report due")},
        "list_of_issues_reply_due": {**DATE, "title": N_("Reply to the list of issues due")},
        "follow_up_due": {**DATE, "title": N_("Follow-up to concluding observations due")},
        "individual_communication_observations_due": {
            **DATE,
            "title": N_("Observations on an individual communication due"),
        },
        "reminder_working_days": {
            "type": "integer",
            "title": N_("Reminder (working days before each date)"),
            "description": N_("Between 1 and 60."),
        },
    },
}


def _registration(data: dict[str, Any], web: Web, errors: dict[str, list[Shown]]) -> Any:
    received, due = (forms.as_date(data, n, web.lang, errors) for n in ("received_on", "reply_deadline"))
    if errors or received is None or due is None:
        return None
    return communications.Registration(
        reference=data["reference"],
        type=data["type"],
        received_on=received,
        language=data["language"],
        reply_deadline=due,
        subject=data["subject"],
        mandates=data["mandates"],
    )


def _visit(data: dict[str, Any], web: Web, errors: dict[str, list[Shown]]) -> Any:
    start, end = (forms.as_date(data, n, web.lang, errors) for n in ("period_start", "period_end"))
    if errors:
        return None
    return visits.VisitProposal(
        ground=data["ground"],
        mandate=data["mandate"],
        subject=data["subject"],
        proposed_dates=data.get("proposed_dates"),
        period_start=start,
        period_end=end,
        proposing_body=data.get("proposing_body"),
        bodies=data.get("bodies", []),
    )


def _treaty(data: dict[str, Any], web: Web, errors: dict[str, list[Shown]]) -> Any:
    dates = {n: forms.as_date(data, n, web.lang, errors) for n in treaty_bodies.DATE_FIELDS}
    if errors:
        return None
    return treaty_bodies.TreatyBodyCase(
        treaty_body=data["treaty_body"],
        lead_body=data["lead_body"],
        subject=data["subject"],
        reference=data.get("reference"),
        reminder_working_days=data.get("reminder_working_days", treaty_bodies.DEFAULT_REMINDER_WORKING_DAYS),
        **dates,
    )


Starter = Callable[[Session, Any, Principal, Any], ProcessInstance]
FORMS: dict[str, tuple[dict[str, Any], Callable[..., Any], Starter]] = {
    "/communications/new": (REGISTRATION, _registration, communications.register),
    "/visits/new": (VISIT, _visit, visits.propose),
    "/treaty-body-cases/new": (TREATY, _treaty, treaty_bodies.register),
}


def _initial(path: str, web: Web) -> forms.Values:
    if path == "/communications/new":
        return {"received_on": local_date(web.now).isoformat()}
    if path == "/treaty-body-cases/new":
        return {"reminder_working_days": str(treaty_bodies.DEFAULT_REMINDER_WORKING_DAYS)}
    return {}


def _page(
    web: Web,
    path: str,
    shown: dict[str, Any] | None,
    values: forms.Values,
    errors: dict[str, list[Shown]] | None = None,
    status: int = 200,
) -> Response:
    """The start form; `shown` is its schema with the organisation choices (forms.for_display)."""
    schema = FORMS[path][0]
    fields = forms.build(shown, web.lang, values)
    general = forms.attach(fields, errors or {})
    return web.render(
        "start.html",
        status,
        action=path,
        title=web.lang.name(schema["title"]),
        help=web.lang.name(schema["description"]),
        fields=fields,
        general_errors=general,
    )


def _missing(schema: dict[str, Any], data: dict[str, Any], web: Web) -> dict[str, list[Shown]]:
    """Required fields left empty: what the API's request model refuses before any service runs."""
    message = Shown(web.lang._(N_("This field is required.")))
    return {name: [message] for name in schema.get("required", []) if name not in data}


def _get(path: str) -> Callable[..., Response]:
    def show(web: WebDep, session: DbDep) -> Response:
        return _page(web, path, form_service.for_display(session, FORMS[path][0]), _initial(path, web))

    return show


def _post(path: str) -> Callable[..., Response]:
    def submit(web: WebDep, session: DbDep, form: FormDep) -> Response:
        assert web.principal is not None
        schema, convert, start = FORMS[path]
        shown = form_service.for_display(session, schema)
        session.rollback()  # the start is a write transaction of its own
        parsed = forms.parse(shown, form, web.lang)
        errors = {**_missing(schema, parsed.data, web), **parsed.errors}
        wanted = None if errors else convert(parsed.data, web, errors)
        if wanted is None:
            return _page(web, path, shown, parsed.values, errors, status=422)
        try:
            instance = start(session, wanted, web.principal, web.clock)
        except (Invalid, Conflict, Forbidden) as exc:
            session.rollback()
            return _page(web, path, shown, parsed.values, forms.refusal(exc, web.lang), status=exc.status_code)
        return web.redirect(f"/cases/{instance.id}")

    return submit


for _path in FORMS:
    router.add_api_route(_path, _get(_path), methods=["GET"])
    router.add_api_route(_path, _post(_path), methods=["POST"])
