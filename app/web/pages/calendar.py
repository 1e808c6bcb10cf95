"""A year's working and non-working days, with the reason (holiday, weekend, decree) for each."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.responses import Response

from app.clock import local_date
from app.services import calendar
from app.web.deps import WebDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/calendar")
def this_year(web: WebDep) -> Response:
    return web.redirect(f"/calendar/{local_date(web.now).year}")


@router.get("/calendar/{year}")
def year_page(year: int, web: WebDep) -> Response:
    """The exceptions to Monday-Friday first (with their decrees), then every month as a grid."""
    summary = calendar.year(year)  # 422 outside the covered range: services.calendar says which
    days = calendar.year_days(year)
    months: list[list[list[dict | None]]] = []
    for month in range(1, 13):
        in_month = [d for d in days if d["date"][5:7] == f"{month:02d}"]
        first = date.fromisoformat(in_month[0]["date"]).weekday()
        cells: list[dict | None] = [None] * first + in_month
        cells += [None] * (-len(cells) % 7)
        months.append([cells[i : i + 7] for i in range(0, len(cells), 7)])
    today = local_date(web.now).isoformat()
    return web.render("calendar.html", year=year, summary=summary, months=months, today=today)
