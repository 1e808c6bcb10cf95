"""The calendar over HTTP: deadlines explained day by day, and a year's exceptions."""

from __future__ import annotations


def test_deadline_across_nauryz_2024(api) -> None:  # type: ignore[no-untyped-def]
    r = api.get("mfa.officer", "/api/calendar/deadline", params={"from": "2024-03-19", "working_days": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    # Official 2024 calendar: 21-22 March Nauryz (Thu-Fri), 23 March Nauryz on a Saturday carried over to Monday 25.
    assert body["due_date"] == "2024-03-29"
    assert body["due_at"] == "2024-03-29T19:00:00Z"  # 24:00 in Almaty (UTC+5 since 1 March 2024)
    days = {d["date"]: d for d in body["days"]}
    assert [d["date"] for d in body["days"]][0] == "2024-03-20" and len(body["days"]) == 10
    assert days["2024-03-20"]["working"] and days["2024-03-20"]["working_day_number"] == 1
    assert not days["2024-03-21"]["working"] and "Nowruz" in days["2024-03-21"]["reason"]
    assert not days["2024-03-24"]["working"] and days["2024-03-24"]["reason"] == "weekend"
    assert not days["2024-03-25"]["working"]
    assert days["2024-03-29"]["working_day_number"] == 5
    assert len(body["calendar_version"]) == 64


def test_decreed_transfer_is_explained(api) -> None:  # type: ignore[no-untyped-def]
    year = api.get("mfa.officer", "/api/calendar/2024").json()
    saturdays = {d["date"]: d for d in year["working_weekend_days"]}
    assert "2024-05-04" in saturdays and saturdays["2024-05-04"]["decree"]
    off = {d["date"]: d for d in year["non_working_weekdays"]}
    assert "2024-05-08" in off and "transfer" in off["2024-05-08"]["reason"]


def test_calendar_input_errors(api) -> None:  # type: ignore[no-untyped-def]
    assert (
        api.get("mfa.officer", "/api/calendar/deadline", params={"from": "19.03.2024", "working_days": 5}).status_code
        == 422
    )
    assert (
        api.get("mfa.officer", "/api/calendar/deadline", params={"from": "2024-03-19", "working_days": 0}).status_code
        == 422
    )
    assert (
        api.get("mfa.officer", "/api/calendar/deadline", params={"from": "1800-01-01", "working_days": 5}).status_code
        == 422
    )
    assert api.get("mfa.officer", "/api/calendar/3000").status_code == 422
    assert api.client.get("/api/calendar/2024").status_code == 401
