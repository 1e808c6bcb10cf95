"""The compliance report page (same service and access as GET /api/reports/compliance, with an SVG
chart of the table's numbers), and auditors' reads of the pages recorded as the API records them."""

from __future__ import annotations

import re

from tests import flow
from tests.audit.scenario import build
from tests.audit.test_replay import _case_less
from tests.conftest import Api

URL = "/reports/compliance?from=2024-03-01&to=2024-06-30"


def _cells(page: str, deadline: str, organisation: str) -> dict[str, str]:
    row = re.search(rf'<tr data-deadline="{deadline}" data-organisation="{organisation}">(.*?)</tr>', page, re.S)
    assert row, (deadline, organisation)
    return dict(re.findall(r'data-(?:outcome|value)="(\w+)">([^<]*)<', row[1]))


def test_compliance_page_for_the_auditor_and_the_mfa(site, api: Api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    build(api, clock, prepared_db)  # the clock ends on 16 May 2024 (tests/audit/test_reports.py)
    auditor = site("auditor")
    assert 'data-testid="nav-compliance"' in auditor.get("/cases").text
    r = auditor.get(URL)
    assert r.status_code == 200, r.text[:2000]
    page = r.text
    assert 'data-testid="compliance-table"' in page and "<svg" in page and '<title id="chart-title">' in page
    assert '<desc id="chart-desc">' in page
    d1 = _cells(page, "D1", "MFA")
    assert (d1["on_time"], d1["late"], d1["open"], d1["breached"], d1["worst"]) == ("1", "0", "0", "1", "31")
    d5 = _cells(page, "D5", "MINJUST")
    assert (d5["late"], d5["median"], d5["worst"]) == ("1", "2", "2")
    # The chart draws the same numbers: one bar per norm and organisation, one segment per outcome.
    bar = re.search(r'<g class="bar" data-deadline="D5" data-organisation="MINJUST">(.*?)</g>', page, re.S)
    assert bar and re.findall(r'data-outcome="(\w+)" data-count="(\d+)"', bar[1]) == [("late", "1")]
    assert 'data-total="7"' in page
    assert "Соблюдение установленных сроков" in page  # Russian by default

    mfa = site("mfa.officer")
    page = mfa.get(URL).text
    assert 'data-testid="compliance-table"' in page and "<svg" in page and 'data-testid="nav-compliance"' in page
    # The filter: one organisation, one process, a period with no deadline.
    only = mfa.get(URL + "&organisation=MINJUST&key=communication").text
    assert 'data-total="1"' in only and 'data-organisation="MVD"' not in only
    empty = mfa.get("/reports/compliance?from=2023-01-01&to=2023-01-31").text
    assert 'data-total="0"' in empty and 'data-testid="compliance-empty"' in empty and "<svg" not in empty
    assert _cells(empty, "D1", "")["on_time"] == "0"
    bad = mfa.get("/reports/compliance?from=2024-05-01&to=2024-04-01")
    assert bad.status_code == 200 and 'data-testid="compliance-error"' in bad.text and "<svg" not in bad.text
    # Recorded as the API's report is.
    exported = [p for p in _case_less(prepared_db, "exported") if p["export"] == "compliance_report"]
    assert len(exported) == 4


def test_compliance_page_refused_as_the_api_refuses(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    officer = site("mvd.officer")
    assert 'data-testid="nav-compliance"' not in officer.get("/cases").text
    for url in (URL, URL + "&organisation=MINJUST"):
        r = officer.get(url)
        api_r = api.get("mvd.officer", "/api/reports/compliance", params=dict(re.findall(r"(\w+)=([^&]+)", url)))
        assert r.status_code == api_r.status_code == 403, url
        assert 'data-testid="error-page"' in r.text
    own = officer.get(URL + "&organisation=MVD")  # a member may see their own organisation's, as in the API
    assert own.status_code == 200 and 'data-testid="compliance-table"' in own.text


def test_compliance_page_in_english(site, api: Api) -> None:  # type: ignore[no-untyped-def]
    browser = site("auditor")
    browser.post_form("/language", {"locale": "en", "next": "/reports/compliance"}, page="/cases")
    page = browser.get("/reports/compliance?from=2024-01-01&to=2024-01-31").text
    assert "Compliance with the deadlines" in page and "No deadline ends in this period." in page


def test_auditor_reads_of_the_pages_are_recorded(site, api: Api, prepared_db) -> None:  # type: ignore[no-untyped-def]
    case_id = flow.register(api)["id"]
    task = flow.open_task(api, case_id, "forward_communication")
    before = _case_less(prepared_db, "audit_viewed")
    auditor = site("auditor")
    assert auditor.get(f"/cases/{case_id}").status_code == 200
    assert auditor.get(f"/cases/{case_id}/history").status_code == 200
    assert auditor.get(f"/tasks/{task['id']}").status_code == 200
    viewed = _case_less(prepared_db, "audit_viewed")[len(before) :]
    assert [(p["view"], p.get("instance_id")) for p in viewed] == [
        ("instance", case_id),
        ("history", case_id),
        ("task", case_id),
    ]
    assert viewed[0]["business_key"] == "AL KAZ 1/2024" and viewed[2]["task_id"] == task["id"]
    assert viewed[1]["events"] > 0
    # Other users' reads are not recorded.
    count = len(_case_less(prepared_db, "audit_viewed"))
    site("mfa.officer").get(f"/cases/{case_id}")
    assert len(_case_less(prepared_db, "audit_viewed")) == count
