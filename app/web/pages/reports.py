"""The compliance report (services.reports.compliance_report, as GET /api/reports/compliance): a
filter form, a table per deadline label and organisation, and a server-rendered SVG stacked bar
chart of the same numbers (no JavaScript, nothing from the internet)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.clock import local_date
from app.services import auditing, organisation_codes, reports
from app.services.errors import Invalid
from app.web.deps import DbDep, WebDep, WebRoute
from app.web.i18n import N_
from app.web.labels import PROCESS_NAMES
from app.web.messages import Shown, translate
from app.web.pages.common import choices

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OUTCOMES = reports.OUTCOMES  # on_time, late, open, breached: the chart's segments, in this order
OUTCOME_LABELS = {
    "on_time": N_("On time"),
    "late": N_("Late"),
    "open": N_("Open"),
    "breached": N_("Breached"),
}
# The chart's geometry (SVG user units): one horizontal bar per norm and organisation.
LABEL_WIDTH, BAR_AREA, BAR_HEIGHT, BAR_GAP, TOP, COUNT_WIDTH = 170, 480, 18, 8, 8, 50


def chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars (one per row with occurrences) with their segments' x and width, scaled to the longest."""
    shown = [r for r in rows if r["total"]]
    longest = max((r["total"] for r in shown), default=0)
    bars = []
    for i, row in enumerate(shown):
        x, segments = float(LABEL_WIDTH), []
        for outcome in OUTCOMES:
            count = row[outcome]
            if count:
                width = BAR_AREA * count / longest
                segments.append({"outcome": outcome, "count": count, "x": round(x, 2), "width": round(width, 2)})
                x += width
        bars.append({"row": row, "y": TOP + i * (BAR_HEIGHT + BAR_GAP), "segments": segments, "end": round(x, 2)})
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + BAR_GAP)
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_AREA + COUNT_WIDTH,
        "height": height,
        "bar_height": BAR_HEIGHT,
        "label_x": LABEL_WIDTH - 6,
        "longest": longest,
    }


def _day(value: str | None, default: date) -> date | None:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@router.get("/reports/compliance")
def compliance(
    web: WebDep,
    session: DbDep,
    from_: str | None = Query(default=None, alias="from"),
    to: str | None = None,
    organisation: str | None = None,
    key: str | None = None,
) -> Response:
    """Deadlines whose last day falls in the period (default: this year in Almaty), per norm and
    organisation. Who may see it: as the API (services.reports.may_report; 403 page otherwise)."""
    assert web.principal is not None
    organisation = (organisation or "").strip() or None
    key = key or None
    reports.may_report(web.principal, organisation)
    year = local_date(web.now).year
    start, end = _day(from_, date(year, 1, 1)), _day(to, date(year, 12, 31))
    errors: list[Shown] = []
    report: dict[str, Any] | None = None
    if start is None or end is None:
        errors.append(Shown(web.lang._(N_("Enter a date as year-month-day, e.g. 2024-03-19."))))
    else:
        try:
            report = reports.compliance_report(session, web.principal, start, end, web.clock, organisation, key)
        except Invalid as exc:
            items = exc.detail if isinstance(exc.detail, list) else [exc.detail]
            errors += [translate(web.lang, i.get("message", "") if isinstance(i, dict) else str(i)) for i in items]
        else:  # recorded as the API records it: `exported`, in its own transaction (auditing.record_access)
            auditing.exported(
                web.sessionmaker,
                web.principal.username,
                web.clock,
                "compliance_report",
                period=[start.isoformat(), end.isoformat()],
                organisation=organisation,
                definition_key=key,
                details=False,
            )
    rows = [
        {**row, "deadline": norm["deadline"], "norm": norm["norm"]}
        for norm in (report or {}).get("norms", [])
        for row in norm["organisations"]
    ]
    organisations = organisation_codes.codes(session)
    return web.render(
        "compliance.html",
        report=report,
        rows=rows,
        chart=chart(rows),
        errors=errors,
        outcomes=OUTCOMES,
        outcome_labels=OUTCOME_LABELS,
        values={
            "from": from_ if from_ is not None else (start.isoformat() if start else ""),
            "to": to if to is not None else (end.isoformat() if end else ""),
            "organisation": organisation or "",
            "key": key or "",
        },
        organisation_choices=[(code, web.lang.org(code)) for code in organisations],
        process_choices=choices(web.lang, PROCESS_NAMES),
    )
