"""The compliance report: per norm (D1-D5) and organisation, on time / late / open / breached, with the
median and worst lateness in working days, over the scenario's two cases."""

from __future__ import annotations

from typing import Any

from tests.audit.scenario import build
from tests.audit.test_replay import _case_less

PERIOD = {"from": "2024-03-01", "to": "2024-06-30"}


def _row(report: dict[str, Any], deadline: str, organisation: str | None = None) -> dict[str, Any]:
    norm = next(n for n in report["norms"] if n["deadline"] == deadline)
    if organisation is None:
        return norm
    return next(o for o in norm["organisations"] if o["organisation"] == organisation)


def _counts(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return row["on_time"], row["late"], row["open"], row["breached"]


def test_compliance_per_norm_and_organisation(api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    build(api, clock, prepared_db)  # the clock ends on 16 May 2024
    r = api.get("auditor", "/api/reports/compliance", params={**PERIOD, "details": "true"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert [n["deadline"] for n in report["norms"]] == ["D1", "D2", "D3", "D4", "D5"]
    # D1: the first case forwarded in time; the second never forwarded, 31 working days late by 16 May.
    assert _counts(_row(report, "D1", "MFA")) == (1, 0, 0, 1)
    assert _row(report, "D1")["worst_lateness_working_days"] == 31
    assert _row(report, "D1")["norm"] == "14-5 ч.1; 14-5 ч.2"
    # D5: MVD on time; MINJUST breached on Friday 19 April and submitted on Tuesday 23: 2 working days late.
    assert _counts(_row(report, "D5", "MVD")) == (1, 0, 0, 0)
    assert _counts(_row(report, "D5", "MINJUST")) == (0, 1, 0, 0)
    assert _row(report, "D5", "MINJUST")["median_lateness_working_days"] == 2
    # D2 (extended to 18 June), D3 (publication), D4 (report): done in time.
    for deadline in ("D2", "D3", "D4"):
        assert _counts(_row(report, deadline, "MFA")) == (1, 0, 0, 0), deadline
    assert report["totals"]["total"] == 7
    late = [o for o in report["occurrences"] if o["outcome"] == "late"]
    assert [(o["deadline"], o["organisation"], o["due_date"], o["lateness_working_days"]) for o in late] == [
        ("D5", "MINJUST", "2024-04-19", 2)
    ]
    assert late[0]["done_at"].startswith("2024-04-23")

    # One organisation's view, and who may ask for it.
    own = api.get("minjust.head", "/api/reports/compliance", params={**PERIOD, "organisation": "MINJUST"}).json()
    assert own["totals"]["total"] == 1 and _counts(_row(own, "D5", "MINJUST")) == (0, 1, 0, 0)
    assert api.get("minjust.head", "/api/reports/compliance", params=PERIOD).status_code == 403
    assert (
        api.get("mvd.officer", "/api/reports/compliance", params={**PERIOD, "organisation": "MINJUST"}).status_code
        == 403
    )
    # A period that holds only the D1 deadlines (due 29 March).
    march = api.get("mfa.head", "/api/reports/compliance", params={"from": "2024-03-01", "to": "2024-03-31"}).json()
    assert march["totals"]["total"] == 2 and _counts(_row(march, "D1")) == (1, 0, 0, 1)

    exported = [p for p in _case_less(prepared_db, "exported") if p["export"] == "compliance_report"]
    assert len(exported) == 3
