"""Exports: XES valid against the IEEE 1849-2016 schema and read back by pm4py; a case's history as
CSV and JSON; every export recorded in the audit log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from lxml import etree

from tests.audit.scenario import build
from tests.audit.test_replay import _case_less
from tests.audit.test_tamper_evidence import run_cli

XSD = Path(__file__).resolve().parents[1] / "fixtures" / "xes" / "xes-ieee-1849-2016.xsd"
PERIOD = {"key": "communication", "from": "2024-01-01", "to": "2024-12-31"}


def _validate(content: bytes) -> etree._ElementTree:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.parse(io.BytesIO(content))
    assert schema.validate(document), schema.error_log
    return document


def test_xes_export_is_valid_and_pm4py_reads_it_back(api, clock, prepared_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pm4py = pytest.importorskip("pm4py", reason="pm4py is a test dependency: pip install -e '.[dev]'")
    scenario = build(api, clock, prepared_db)
    r = api.get("auditor", "/api/export/xes", params=PERIOD)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert "attachment" in r.headers["content-disposition"]
    document = _validate(r.content)

    traces = document.getroot().findall("trace")
    names = sorted(t.find("string[@key='concept:name']").get("value") for t in traces)
    assert names == ["AL KAZ 1/2024", "UA KAZ 2/2024"]

    path = tmp_path / "cases.xes"
    path.write_bytes(r.content)
    log = pm4py.read_xes(str(path), return_legacy_log_object=False)
    assert sorted(log["case:concept:name"].unique()) == names
    full = log[log["case:concept:name"] == "AL KAZ 1/2024"]
    done = full[full["lifecycle:transition"] == "complete"]
    forward = done[done["concept:name"] == "Forward to competent bodies and Ombudsman"].iloc[0]
    assert (forward["org:resource"], forward["org:group"], forward["norm"]) == (
        "mfa.officer",
        "MFA",
        "14-5 ч.1; 14-5 ч.2",
    )
    signed = done[done["concept:name"] == "Sign information (first head)"]
    assert sorted(signed["org:group"]) == ["MINJUST", "MVD"]
    assert set(signed["org:resource"]) == {"mvd.head", "minjust.head"}
    breach = full[full["concept:name"] == "deadline_breached"].iloc[0]
    assert (breach["deadline"], breach["org:group"], breach["org:resource"]) == ("D5", "MINJUST", "system:timer")
    aborted = full[full["lifecycle:transition"] == "ate_abort"]  # the escalation ended by MINJUST's submission
    assert list(aborted["concept:name"]) == ["Escalation: D5 breached"]
    assert full[full["lifecycle:transition"] == "start"]["org:resource"].isna().all()  # nobody performs "start"
    assert full["time:timestamp"].is_monotonic_increasing
    assert "instance_completed" in set(full["concept:name"])
    # the period is the day a case started: none started in 2023
    empty = api.get("auditor", "/api/export/xes", params={**PERIOD, "from": "2023-01-01", "to": "2023-12-31"})
    assert _validate(empty.content).getroot().findall("trace") == []

    exported = [p for p in _case_less(prepared_db, "exported") if p["export"] == "xes"]
    assert exported[0]["cases"] == 2 and exported[0]["sha256"] == r.headers["x-content-sha256"]
    assert scenario.full


def test_xes_on_the_command_line_and_who_may_export(api, clock, prepared_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build(api, clock, prepared_db)
    out = tmp_path / "log.xes"
    done = run_cli(
        prepared_db,
        "export",
        "xes",
        "--key",
        "communication",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 case(s)" in done.stdout
    _validate(out.read_bytes())
    assert any(p["export"] == "xes" for p in _case_less(prepared_db, "exported"))  # the CLI's too
    bad = run_cli(prepared_db, "export", "xes", "--key", "nothing", "--from", "2024-01-01", "--to", "2024-01-02")
    assert bad.returncode == 2 and "nothing" in bad.stderr

    assert api.get("mvd.officer", "/api/export/xes", params=PERIOD).status_code == 403
    assert api.get("mfa.officer", "/api/export/xes", params=PERIOD).status_code == 200
    assert api.get("auditor", "/api/export/xes", params={**PERIOD, "key": "nothing"}).status_code == 404
    r = api.get("auditor", "/api/export/xes", params={**PERIOD, "from": "2024-12-31", "to": "2024-01-01"})
    assert r.status_code == 422


def test_a_case_history_as_csv_and_json(api, clock, prepared_db) -> None:  # type: ignore[no-untyped-def]
    scenario = build(api, clock, prepared_db)
    whole = api.get("auditor", f"/api/instances/{scenario.full}/history").json()
    r = api.get("auditor", f"/api/instances/{scenario.full}/history.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    records = json.loads(r.content)
    assert [(e["seq"], e["type"], e["hash"]) for e in records] == [(e["seq"], e["type"], e["hash"]) for e in whole]

    r = api.get("auditor", f"/api/instances/{scenario.full}/history.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(row["seq"]) for row in rows] == [e["seq"] for e in whole]
    assert rows[0]["type"] == "communication_registered" and rows[-1]["type"] == "instance_completed"
    assert json.loads(rows[4]["payload"]) == whole[4]["payload"]

    # A body's export holds only what it may see of the case (its own tasks' events).
    mvd = json.loads(api.get("mvd.officer", f"/api/instances/{scenario.full}/history.json").content)
    assert mvd and all(e["payload"].get("organisation", "MVD") == "MVD" for e in mvd)
    assert len(mvd) < len(whole)
    assert api.get("pa.officer", f"/api/instances/{scenario.open_case}/history.csv").status_code == 404

    exported = {p["export"] for p in _case_less(prepared_db, "exported")}
    assert {"history.json", "history.csv"} <= exported
