"""The working-day calendar against the official Kazakhstan calendar, 2022–2026.

Every expectation below was written from the published calendar, not from the code's output.
Sources, abbreviated in the comments:
  LC85   Labour Code art. 85: a public holiday on a Saturday/Sunday moves to the next working day;
         religious days off (Orthodox Christmas, first day of Kurban Ait) do not move.
  D713   Government Decree No. 713 of 6.10.2021 (2022 transfers: 5→7 March, 27→29 August; pm.kz)
  D796   Government Decree No. 796 of October 2022 (22→24 October 2022; zakon.kz 08.10.2022)
  D326   Government Decree No. 326 of 25.04.2023 (1→7 July 2023; zakon.kz)
  O109   Minister of Labour order of 17.04.2024 (4→8 May 2024; zakon.kz / sputnik 18.04.2024)
  O436   Minister of Labour order No. 436 of 21.11.2024 (5→3 January 2025; caravan.kz)
  EGOV   egov.kz holiday calendar as reported by the press for that year
  LAW22  Law of 29.09.2022 on holidays: Republic Day 25 Oct restored, Independence Day 16 Dec only
  KA24   altyalash.kz 07.06.2024: Kurban Ait 2024 on Sunday 16 June, Monday 17 June a working day
  Z26    zakon.kz 09.01.2026 / alau.kz 02.01.2026 / inform.kz 28.11.2025: the 2026 calendar
  C26    taspanews.kz 18.03.2026 (Ministry of Labour): 30 August is not a holiday in 2026
  DUMK26 DUMK religious calendar 2026: Kurban Ait from 27 May
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.calendar import (
    DEFAULT_DATA_PATH,
    CalendarError,
    DayInfo,
    WorkingDayCalendar,
    add_working_days_iso,
    default_calendar,
)


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# ------------------------------------------------------------------ single days, 2022–2026

DAYS = [
    # 2022
    ("2022-01-03", False, "New Year"),  # LC85: 1 Jan (Sat) -> Mon 3 Jan
    ("2022-01-04", False, "New Year"),  # LC85: 2 Jan (Sun) -> Tue 4 Jan
    ("2022-01-05", True, "working day"),  # EGOV: back to work on 5 January
    ("2022-01-07", False, "Orthodox Christmas"),  # LC85: Christmas, Friday
    ("2022-03-05", True, "working Saturday (transfer)"),  # D713
    ("2022-03-07", False, "day off (transfer)"),  # D713
    ("2022-03-08", False, "Women's Day"),  # EGOV: Tuesday
    ("2022-03-21", False, "Nowruz"),  # EGOV: Nauryz 21–23 March, Mon–Wed
    ("2022-03-23", False, "Nowruz"),
    ("2022-05-02", False, "Solidarity"),  # LC85: 1 May (Sun) -> Mon 2 May
    ("2022-05-10", False, "Defender"),  # LC85: 7 May (Sat) -> Tue 10 May (Mon 9 May is Victory Day)
    ("2022-07-11", True, "working day"),  # LC85: Kurban Ait on Saturday 9 July 2022 is not carried over
    ("2022-08-27", True, "working Saturday (transfer)"),  # D713
    ("2022-08-29", False, "day off (transfer)"),  # D713
    ("2022-08-30", False, "Constitution Day"),  # EGOV
    ("2022-10-22", True, "working Saturday (transfer)"),  # D796
    ("2022-10-24", False, "day off (transfer)"),  # D796
    ("2022-10-25", False, "Republic Day"),  # LAW22: restored from 2022
    ("2022-12-16", False, "Independence Day"),  # LAW22
    ("2022-12-19", True, "working day"),  # LAW22: 17 Dec no longer a holiday, so no carry-over of Sat 17 Dec
    # 2023
    ("2023-01-03", False, "New Year"),  # LC85: 1 Jan (Sun) -> Tue 3 Jan (Mon 2 Jan is New Year itself)
    ("2023-01-09", True, "working day"),  # LC85: Christmas on Saturday 7 Jan is not carried over
    ("2023-05-08", False, "Defender"),  # LC85: 7 May (Sun) -> Mon 8 May
    ("2023-06-28", False, "Eid al-Adha"),  # EGOV / sn.kz: first day of Kurban Ait, Wednesday 28 June
    ("2023-07-01", True, "working Saturday (transfer)"),  # D326
    ("2023-07-07", False, "day off (transfer)"),  # D326
    ("2023-12-18", False, "Independence Day"),  # LC85 / EGOV: 16 Dec (Sat) -> Mon 18 Dec
    # 2024
    ("2024-01-02", False, "New Year"),  # EGOV: 1–2 January, Mon–Tue
    ("2024-01-08", True, "working day"),  # LC85: Christmas on Sunday 7 Jan is not carried over
    ("2024-03-08", False, "Women's Day"),  # EGOV: Friday
    ("2024-03-22", False, "Nowruz"),  # EGOV: 21–22 March Thu–Fri
    ("2024-03-25", False, "Nowruz"),  # LC85: 23 March (Sat) -> Mon 25 March
    ("2024-05-04", True, "working Saturday (transfer)"),  # O109
    ("2024-05-07", False, "Defender"),  # EGOV: Tuesday
    ("2024-05-08", False, "day off (transfer)"),  # O109
    ("2024-05-09", False, "Victory Day"),  # EGOV: Thursday
    ("2024-05-10", True, "working day"),  # O109: only 7–9 May off
    ("2024-06-17", True, "working day"),  # KA24
    ("2024-07-08", False, "Capital Day"),  # LC85: 6 July (Sat) -> Mon 8 July
    ("2024-10-25", False, "Republic Day"),  # EGOV: Friday
    # 2025
    ("2025-01-03", False, "day off (transfer)"),  # O436
    ("2025-01-05", True, "working Sunday (transfer)"),  # O436
    ("2025-01-07", False, "Orthodox Christmas"),  # EGOV: Tuesday
    ("2025-03-10", False, "Women's Day"),  # LC85: 8 March (Sat) -> Mon 10 March
    ("2025-03-24", False, "Nowruz"),  # LC85: 22 March (Sat) -> Mon 24 March
    ("2025-03-25", False, "Nowruz"),  # LC85: 23 March (Sun) -> Tue 25 March
    ("2025-05-08", True, "working day"),  # informburo.kz: the Ministry made no 8 May bridge in 2025
    ("2025-06-06", False, "Eid al-Adha"),  # caravan.kz (Ministry): Kurban Ait Friday 6 June
    ("2025-09-01", False, "Constitution Day"),  # LC85: 30 Aug (Sat) -> Mon 1 Sep
    ("2025-10-27", False, "Republic Day"),  # LC85: 25 Oct (Sat) -> Mon 27 Oct
    ("2025-12-31", True, "working day"),  # inform.kz 28.11.2025: 30–31 December are working days
    # 2026
    ("2026-01-02", False, "New Year"),  # Z26: 1–2 January, Thu–Fri
    ("2026-01-05", True, "working day"),  # Z26: first working day of 2026
    ("2026-01-07", False, "Orthodox Christmas"),  # Z26: Wednesday
    ("2026-03-09", False, "Women's Day"),  # Z26: 8 March (Sun) -> Mon 9 March
    ("2026-03-23", False, "Nowruz"),  # Z26: Monday
    ("2026-03-25", False, "Nowruz"),  # Z26: 21–22 March (Sat–Sun) -> 24–25 March
    ("2026-03-26", True, "working day"),  # Z26: rest is 21–25 March
    ("2026-05-11", False, "Victory Day"),  # Z26: 9 May (Sat) -> Mon 11 May
    ("2026-05-27", False, "Kurban Ait"),  # DUMK26 / Z26
    ("2026-07-06", False, "Capital Day"),  # Z26: Monday
    ("2026-08-31", True, "working day"),  # C26: no Constitution Day, so no carry-over of Sun 30 August
    ("2026-10-26", False, "Republic Day"),  # Z26: 25 Oct (Sun) -> Mon 26 Oct
    ("2026-12-16", False, "Independence Day"),  # Z26: Wednesday
]


@pytest.mark.parametrize(("iso", "working", "reason"), DAYS, ids=[d[0] for d in DAYS])
def test_official_calendar_day(cal: WorkingDayCalendar, iso: str, working: bool, reason: str) -> None:
    info = cal.day_info(date.fromisoformat(iso))
    assert info.working is working
    assert reason in info.reason
    assert "not covered" not in info.reason
    assert cal.is_working_day(info.date) is working


def test_transfer_days_cite_their_decree(cal: WorkingDayCalendar) -> None:
    saturday = cal.day_info(date(2024, 5, 4))
    wednesday = cal.day_info(date(2024, 5, 8))
    assert saturday.decree == wednesday.decree
    assert saturday.decree is not None and "17.04.2024" in saturday.decree
    assert "О переносе дня отдыха в 2024 году" in saturday.decree
    assert wednesday.reason == f"day off (transfer): {wednesday.decree}"
    assert cal.day_info(date(2023, 7, 7)).decree.startswith("Government Decree No. 326 of 25.04.2023")
    assert cal.day_info(date(2024, 3, 20)) == DayInfo(date(2024, 3, 20), True, "working day", None)
    assert cal.day_info(date(2024, 3, 24)) == DayInfo(date(2024, 3, 24), False, "weekend", None)


# ------------------------------------------------------------------ counting periods

COUNTS = [
    # D1 example: received Tue 19 March 2024 -> 20 (1), 21–25 Nauryz + weekend, 26 (2) ... 29 (5)
    ("2024-03-19", 5, "2024-03-29"),
    # from a Friday: Mon 18 (1) .. Wed 20 (3), then Nauryz 21–25, Tue 26 (4), Wed 27 (5)
    ("2024-03-15", 5, "2024-03-27"),
    ("2024-03-15", 1, "2024-03-18"),  # Friday + 1 working day = Monday
    # Nauryz 2024: Wed 20 March + 1 -> Thu 21, Fri 22 holidays, Sat 23 holiday, Sun, Mon 25 carry-over
    ("2024-03-20", 1, "2024-03-26"),
    # May 2024: Tue 30 Apr -> 1 May off; 2 (1), 3 (2), Sat 4 worked (3), 6 (4), 7–9 off, Fri 10 (5)
    ("2024-04-30", 5, "2024-05-10"),
    # New Year 2024->2025: Fri 20 Dec -> 23..27 (5), 30 (6), 31 (7), 1–4 Jan off, Sun 5 worked (8),
    # Mon 6 (9), Tue 7 Christmas, Wed 8 (10)
    ("2024-12-20", 10, "2025-01-08"),
    # October 2022: Fri 21 -> Sat 22 worked (1), 23–25 off, Wed 26 (2), Thu 27 (3)
    ("2022-10-21", 3, "2022-10-27"),
    # July 2023: Fri 30 June -> Sat 1 July worked (1), Mon 3 (2)
    ("2023-06-30", 2, "2023-07-03"),
    # Nauryz 2026: Fri 20 March -> 21–25 off -> Thu 26
    ("2026-03-20", 1, "2026-03-26"),
    # August 2026: Fri 28 -> Mon 31 (no Constitution Day carry-over in 2026)
    ("2026-08-28", 1, "2026-08-31"),
    # New Year 2025->2026: Tue 30 Dec 2025 -> Wed 31 (1), 1–4 Jan off, Mon 5 (2), Tue 6 (3), 7 off, Thu 8 (4)
    ("2025-12-30", 4, "2026-01-08"),
    # May 2026: Thu 30 April -> 1–3 off, Mon 4 (1) .. Wed 6 (3), 7 off, Fri 8 (4), 9–11 off, Tue 12 (5)
    ("2026-04-30", 5, "2026-05-12"),
]


@pytest.mark.parametrize(("start", "n", "due"), COUNTS, ids=[f"{s}+{n}" for s, n, _ in COUNTS])
def test_add_working_days(cal: WorkingDayCalendar, start: str, n: int, due: str) -> None:
    assert cal.add_working_days(date.fromisoformat(start), n) == date.fromisoformat(due)


def test_explain_lists_every_day_with_reasons(cal: WorkingDayCalendar) -> None:
    days = cal.explain(date(2024, 3, 19), 5)
    assert [d.date for d in days] == [date(2024, 3, day) for day in range(20, 30)]
    assert [(d.date.day, d.working, d.ordinal) for d in days] == [
        (20, True, 1),
        (21, False, None),
        (22, False, None),
        (23, False, None),
        (24, False, None),
        (25, False, None),
        (26, True, 2),
        (27, True, 3),
        (28, True, 4),
        (29, True, 5),
    ]
    reasons = {d.date.day: d.reason for d in days}
    assert reasons[21] == "Nowruz Holiday"
    assert reasons[24] == "weekend"
    assert reasons[25] == "Nowruz Holiday (carried over from the weekend)"
    assert reasons[26] == "working day"


def test_explain_cites_the_decree_for_transfers(cal: WorkingDayCalendar) -> None:
    days = {d.date: d for d in cal.explain(date(2024, 4, 30), 5)}
    assert days[date(2024, 5, 4)].working and days[date(2024, 5, 4)].ordinal == 3
    assert days[date(2024, 5, 4)].reason.startswith("working Saturday (transfer): Order of the acting Minister")
    assert days[date(2024, 5, 8)].reason.startswith("day off (transfer): ")


def test_n_must_be_positive(cal: WorkingDayCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2024, 3, 19), 0)


def test_count_event_day_setting() -> None:
    counting = WorkingDayCalendar(count_event_day=True)
    # Tue 19 March 2024 is a working day, so it is day 1: 19, 20, 26, 27, 28
    assert counting.add_working_days(date(2024, 3, 19), 5) == date(2024, 3, 28)
    assert counting.add_working_days(date(2024, 3, 19), 1) == date(2024, 3, 19)
    assert counting.explain(date(2024, 3, 19), 1) == [DayInfo(date(2024, 3, 19), True, "working day", None, 1)]
    # Sat 23 March 2024 (Nauryz) is not a working day, so counting starts on Tue 26 March
    assert counting.add_working_days(date(2024, 3, 23), 1) == date(2024, 3, 26)
    assert counting.explain(date(2024, 3, 23), 1)[0].date == date(2024, 3, 23)


# ------------------------------------------------------------------ time zone


def test_due_at_across_the_march_2024_offset_change(cal: WorkingDayCalendar) -> None:
    # Kazakhstan moved from UTC+6 to UTC+5 at 00:00 on 1 March 2024 (clocks set back to 23:00)
    assert cal.due_at(date(2024, 2, 28)) == datetime(2024, 2, 28, 18, 0, tzinfo=UTC)
    assert cal.due_at(date(2024, 2, 29)) == datetime(2024, 2, 29, 18, 0, tzinfo=UTC)
    assert cal.due_at(date(2024, 3, 1)) == datetime(2024, 3, 1, 19, 0, tzinfo=UTC)
    assert cal.due_at(date(2023, 12, 31)) == datetime(2023, 12, 31, 18, 0, tzinfo=UTC)
    assert cal.due_at(date(2026, 5, 12)) == datetime(2026, 5, 12, 19, 0, tzinfo=UTC)


def test_iso_helper_for_timer_expressions() -> None:
    assert add_working_days_iso("2024-03-19", 2) == "2024-03-26T19:00:00+00:00"
    assert add_working_days_iso(date(2024, 3, 19), 5) == "2024-03-29T19:00:00+00:00"
    # Tue 27 Feb 2024 + 2 = Thu 29 Feb (still UTC+6); Wed 28 Feb + 2 = Fri 1 March (UTC+5)
    assert add_working_days_iso("2024-02-27", 2) == "2024-02-29T18:00:00+00:00"
    assert add_working_days_iso("2024-02-28", 2) == "2024-03-01T19:00:00+00:00"
    # an aware instant is first turned into its Almaty date: 20:00Z on 19 March is 20 March locally
    assert add_working_days_iso("2024-03-19T04:00:00+00:00", 1) == "2024-03-20T19:00:00+00:00"
    assert add_working_days_iso("2024-03-19T20:00:00+00:00", 1) == "2024-03-26T19:00:00+00:00"
    with pytest.raises(ValueError):
        add_working_days_iso("19.03.2024", 1)


# ------------------------------------------------------------------ years and coverage


def test_year_summary_2026(cal: WorkingDayCalendar) -> None:
    summary = cal.year(2026)
    assert summary["year"] == 2026 and summary["covered"]
    assert summary["working_weekend_days"] == []  # Z26: no transfers in 2026
    # Z26 counted 246 working days with 31 August off; C26 made 31 August a working day again
    assert summary["working_days"] == 247
    assert len(summary["non_working_weekdays"]) == 14
    assert all(isinstance(d, DayInfo) and not d.working for d in summary["non_working_weekdays"])


def test_year_summary_2024_transfers(cal: WorkingDayCalendar) -> None:
    summary = cal.year(2024)
    assert [d.date for d in summary["working_weekend_days"]] == [date(2024, 5, 4)]
    assert date(2024, 5, 8) in [d.date for d in summary["non_working_weekdays"]]


def test_uncovered_years_are_computed_and_flagged(cal: WorkingDayCalendar) -> None:
    assert cal.covered_years == (2022, 2023, 2024, 2025, 2026)
    info = cal.day_info(date(2027, 3, 15))  # new Constitution Day from 2027 (C26), a Monday
    assert not info.working and "Constitution Day" in info.reason and "not covered" in info.reason
    days = cal.explain(date(2026, 12, 30), 2)
    assert [d.date for d in days] == [
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
        date(2027, 1, 3),
        date(2027, 1, 4),
        date(2027, 1, 5),
    ]
    assert "not covered" not in days[0].reason
    assert all("year 2027 not covered" in d.reason for d in days[1:])
    assert cal.day_info(date(2021, 12, 17)).working is False  # 2021: still the two-day Independence Day


def test_file_agrees_with_holidays_package(cal: WorkingDayCalendar) -> None:
    # holidays 0.109 encodes 2022–2025 transfers from adilet.zan.kz; ours come from the press
    # reports above. They must agree, otherwise one of them is wrong and the decree needs reading.
    assert cal.library_disagreements() == []


def test_default_calendar_is_cached() -> None:
    assert default_calendar() is default_calendar()
    assert default_calendar().data_path == DEFAULT_DATA_PATH


# ------------------------------------------------------------------ data file: version and validation

HEAD = """schema = 1

[[year]]
year = 2024
checked = 2026-11-24
sources = ["test"]

[[decree]]
id = "o109"
kind = "Order"
number = "109"
date = 2024-04-17
title = "О переносе дня отдыха в 2024 году"
sources = ["test"]
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "kz.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_version_is_sha256_of_file_and_follows_edits(tmp_path: Path) -> None:
    path = _write(tmp_path, '\n[[working_day]]\ndate = 2024-05-04\ndecree = "o109"\n')
    first = WorkingDayCalendar(path)
    assert first.version == hashlib.sha256(path.read_bytes()).hexdigest()
    assert WorkingDayCalendar(path).version == first.version
    path.write_text(path.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    assert WorkingDayCalendar(path).version != first.version
    assert default_calendar().version == hashlib.sha256(DEFAULT_DATA_PATH.read_bytes()).hexdigest()


def test_custom_file_is_used(tmp_path: Path) -> None:
    path = _write(tmp_path, '\n[[working_day]]\ndate = 2024-05-04\ndecree = "o109"\n')
    custom = WorkingDayCalendar(path)
    assert custom.is_working_day(date(2024, 5, 4))
    assert custom.is_working_day(date(2024, 5, 8))  # the paired day off was not declared in this file


@pytest.mark.parametrize(
    ("body", "needle", "message"),
    [
        ('\n[[day_off]]\ndate = 2024-02-30\ndecree = "o109"\n', "2024-02-30", "Invalid date"),
        ('\n[[day_off]]\ndate = "2024-05-08"\ndecree = "o109"\n', '"2024-05-08"', "quoted"),
        ('\n[[day_off]]\ndate = "8 May 2024"\ndecree = "o109"\n', "8 May", "does not parse"),
        ('\n[[working_day]]\ndate = 2024-05-06\ndecree = "o109"\n', "2024-05-06", "already a working day"),
        ('\n[[working_day]]\ndate = 2024-03-23\ndecree = "o109"\n', "2024-03-23", "public holiday"),
        ('\n[[day_off]]\ndate = 2024-05-04\ndecree = "o109"\n', "2024-05-04", "is a Saturday"),
        ('\n[[day_off]]\ndate = 2024-05-09\ndecree = "o109"\n', "2024-05-09", "already a holiday (Victory Day)"),
        ('\n[[day_off]]\ndate = 2024-05-08\ndecree = "o110"\n', 'decree = "o110"', "not defined"),
        ('\n[[day_off]]\ndate = 2025-01-03\ndecree = "o109"\n', "2025-01-03", "no [[year]] entry"),
        (
            '\n[[day_off]]\ndate = 2024-05-08\ndecree = "o109"\n\n[[holiday]]\ndate = 2024-05-08  # again\n'
            'name = "x"\nsources = ["x"]\n',
            "# again",
            "listed twice",
        ),
        ('\n[[day_off]]\ndate = 2024-05-08\ndecre = "o109"\n', "[[day_off]]", "lacks decree"),
        ('\n[[day_off]]\ndate = 2024-05-08\ndecree = "o109"\nreson = "typo"\n', "reson", "unknown key"),
    ],
    ids=[
        "impossible-date",
        "quoted-date",
        "unparsable-date",
        "working-weekday",
        "working-holiday",
        "day-off-weekend",
        "day-off-holiday",
        "unknown-decree",
        "uncovered-year",
        "duplicate",
        "missing-key",
        "unknown-key",
    ],
)
def test_validation_errors_name_file_and_line(tmp_path: Path, body: str, needle: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(CalendarError) as caught:
        WorkingDayCalendar(path)
    error = caught.value
    line = _line_of(path, needle)
    assert error.line == line
    assert str(error).startswith(f"{path}:{line}: ")
    assert message in str(error)
    assert isinstance(error, ValueError)


def test_missing_schema_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "kz.toml"
    path.write_text(HEAD.replace("schema = 1\n", ""), encoding="utf-8")
    with pytest.raises(CalendarError, match="schema"):
        WorkingDayCalendar(path)


def test_the_event_day_setting_comes_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.calendar import default_calendar

    default_calendar.cache_clear()
    monkeypatch.setenv("CALENDAR_COUNT_EVENT_DAY", "true")
    try:
        # Tuesday 19 March 2024 counts as day 1: 19, 20, 26, 27, 28 (Nauryz 21-22 and 25 March are off).
        assert default_calendar().add_working_days(date(2024, 3, 19), 5) == date(2024, 3, 28)
    finally:
        monkeypatch.delenv("CALENDAR_COUNT_EVENT_DAY")
        default_calendar.cache_clear()
    assert default_calendar().add_working_days(date(2024, 3, 19), 5) == date(2024, 3, 29)
