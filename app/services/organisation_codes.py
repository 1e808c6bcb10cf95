"""Organisation codes: listing them (form choices, report filters) and checking those named in
registration data (before any task is given to them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Organisation

STATE_BODY = "state_body"


def codes(session: Session, kind: str | None = None) -> list[str]:
    """Every organisation's code (or those of one kind), in order."""
    query = select(Organisation.code).order_by(Organisation.code)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return list(session.scalars(query))


def kind_errors(session: Session, field_name: str, codes: list[str], kind: str = STATE_BODY) -> list[dict[str, str]]:
    """Field errors for each code that is not an existing organisation of `kind`.

    Why up front: a case that gives a task to an unknown code fails mid-run, and a task given to an
    organisation of the wrong kind (the MFA as a "competent body") would misstate the law."""
    known = dict(
        session.execute(select(Organisation.code, Organisation.kind).where(Organisation.code.in_(codes))).all()
    )
    errors = []
    for code in codes:
        found = known.get(code)
        if found is None:
            errors.append({"field": field_name, "message": f"{code!r} is not the code of an existing organisation"})
        elif found != kind:
            errors.append(
                {"field": field_name, "message": f"{code!r} is an organisation of kind {found!r}, not a {kind}"}
            )
    return errors
