"""Load and check `kz.toml`, the operator-maintained part of the working-day calendar.

The Government (since 2024 the Minister of Labour) moves days off every year by a decree or an
order; the `holidays` package learns of them late or never. Those transfers therefore live in a
data file that an operator extends without touching code. This module only parses and checks the
file's *shape*; whether a transfer makes sense against the statutory calendar (a "working day"
that already is one, a "day off" on a Saturday) is checked by `WorkingDayCalendar`, which reports
through the same `CalendarError` so every message names the file and the line.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

SCHEMA = 1
TABLES = ("year", "decree", "day_off", "working_day", "holiday", "not_holiday")
DATED_TABLES = ("day_off", "working_day", "holiday", "not_holiday")

_FIELDS: dict[str, tuple[set[str], set[str]]] = {  # table -> (required keys, optional keys)
    "year": ({"year", "checked", "sources"}, {"note"}),
    "decree": ({"id", "kind", "number", "title", "sources"}, {"date", "note"}),
    "day_off": ({"date", "decree"}, {"reason", "note"}),
    "working_day": ({"date", "decree"}, {"reason", "note"}),
    "holiday": ({"date", "name", "sources"}, {"note"}),
    "not_holiday": ({"date", "reason", "sources"}, {"note"}),
}


class CalendarError(ValueError):
    """A problem in the calendar data file; the message starts with `file:line:` when the line is known."""

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        self.reason = message
        super().__init__(where + message)


@dataclass(frozen=True)
class Decree:
    """The act that moved a day off; quoted in every explanation that relies on it."""

    id: str
    kind: str
    number: str
    date: date | None
    title: str
    sources: tuple[str, ...]
    note: str | None = None

    def label(self) -> str:
        """Human citation, e.g. `Government Decree No. 326 of 25.04.2023 «О переносе дня отдыха в 2023 году»`."""
        when = f" of {self.date:%d.%m.%Y}" if self.date else ""
        return f"{self.kind} No. {self.number}{when} «{self.title}»"


@dataclass(frozen=True)
class Transfer:
    """One `[[day_off]]` or `[[working_day]]` entry."""

    date: date
    decree: Decree
    reason: str | None
    line: int | None


@dataclass(frozen=True)
class HolidayOverride:
    """A `[[holiday]]` entry: a non-working holiday the library lacks, misdates or only estimates."""

    date: date
    name: str
    sources: tuple[str, ...]
    line: int | None


@dataclass(frozen=True)
class HolidayRemoval:
    """A `[[not_holiday]]` entry: a day some library version calls a holiday that is not one."""

    date: date
    reason: str
    sources: tuple[str, ...]
    line: int | None


@dataclass(frozen=True)
class YearCoverage:
    """A `[[year]]` entry: the operator has checked that year's transfers (even if there were none)."""

    year: int
    checked: date
    sources: tuple[str, ...]
    note: str | None
    line: int | None


@dataclass(frozen=True)
class CalendarData:
    """Everything `kz.toml` says, checked for shape, plus where each entry sits in the file."""

    path: Path
    version: str
    years: dict[int, YearCoverage]
    decrees: dict[str, Decree]
    days_off: dict[date, Transfer] = field(default_factory=dict)
    working_days: dict[date, Transfer] = field(default_factory=dict)
    holidays: dict[date, HolidayOverride] = field(default_factory=dict)
    not_holidays: dict[date, HolidayRemoval] = field(default_factory=dict)

    def error(self, message: str, line: int | None) -> CalendarError:
        return CalendarError(message, path=self.path, line=line)


class _Locator:
    """Finds the line of the i-th `[[table]]` entry (or one of its keys) in the raw text.

    tomllib reports lines only for syntax errors; semantic errors need this to point the operator
    at the right place.
    """

    _HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
    _ANY_HEADER = re.compile(r"^\s*\[")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        for number, raw in enumerate(self.lines, start=1):
            if match := self._HEADER.match(raw):
                self.headers.setdefault(match.group(1), []).append(number)

    def entry(self, table: str, index: int, key: str | None = None, value: Any = None) -> int | None:
        starts = self.headers.get(table, [])
        if index < len(starts):
            start = starts[index]
            if key is None:
                return start
            key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for offset, raw in enumerate(self.lines[start:], start=start + 1):
                if self._ANY_HEADER.match(raw):
                    break
                if key_re.match(raw):
                    return offset
            return start
        return self.search(value) if value is not None else None

    def search(self, value: Any) -> int | None:
        """Fallback for entries written as inline tables: the first line holding the value's text."""
        needle = value.isoformat() if isinstance(value, date) else str(value)
        for number, raw in enumerate(self.lines, start=1):
            if needle in raw.split("#", 1)[0]:
                return number
        return None


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_data(path: Path) -> CalendarData:
    """Read, version and shape-check the data file; raise `CalendarError` naming the line."""
    raw = path.read_bytes()
    version = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CalendarError(f"not UTF-8 text ({exc})", path=path) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise CalendarError(f"invalid TOML: {exc}", path=path, line=line) from exc
    return _Parser(path, text, doc, version).parse()


class _Parser:
    def __init__(self, path: Path, text: str, doc: dict[str, Any], version: str) -> None:
        self.path = path
        self.doc = doc
        self.version = version
        self.where = _Locator(text)

    def fail(
        self, message: str, table: str | None = None, index: int = 0, key: str | None = None, value: Any = None
    ) -> CalendarError:
        line = self.where.entry(table, index, key, value) if table else None
        return CalendarError(message, path=self.path, line=line)

    def parse(self) -> CalendarData:
        doc = self.doc
        schema = doc.get("schema")
        if schema != SCHEMA:
            raise CalendarError(
                f"`schema = {SCHEMA}` must be set at the top of the file (found {schema!r})",
                path=self.path,
                line=self.where.search("schema"),
            )
        for key in doc:
            if key != "schema" and key not in TABLES:
                raise CalendarError(
                    f"unknown table or key {key!r}; expected one of {', '.join(TABLES)}",
                    path=self.path,
                    line=self.where.search(key),
                )
        entries = {table: self._entries(table) for table in TABLES}
        years = self._years(entries["year"])
        decrees = self._decrees(entries["decree"])
        data = CalendarData(path=self.path, version=self.version, years=years, decrees=decrees)
        seen: dict[date, str] = {}
        for table in DATED_TABLES:
            for index, entry in enumerate(entries[table]):
                day = self._date(entry, table, index, "date")
                if day in seen:
                    raise self.fail(
                        f"{day.isoformat()} is listed twice (already in [[{seen[day]}]])", table, index, "date"
                    )
                seen[day] = table
                if day.year not in years:
                    raise self.fail(
                        f"{day.isoformat()} is in {day.year}, which has no [[year]] entry; add one "
                        f"saying when and from what sources {day.year} was checked",
                        table,
                        index,
                        "date",
                    )
                line = self.where.entry(table, index, "date", day)
                if table in ("day_off", "working_day"):
                    ref = self._str(entry, table, index, "decree")
                    if ref not in decrees:
                        raise self.fail(f"decree {ref!r} is not defined by any [[decree]] id", table, index, "decree")
                    target = data.days_off if table == "day_off" else data.working_days
                    target[day] = Transfer(day, decrees[ref], self._opt_str(entry, table, index, "reason"), line)
                elif table == "holiday":
                    data.holidays[day] = HolidayOverride(
                        day, self._str(entry, table, index, "name"), self._sources(entry, table, index), line
                    )
                else:
                    data.not_holidays[day] = HolidayRemoval(
                        day, self._str(entry, table, index, "reason"), self._sources(entry, table, index), line
                    )
        return data

    def _entries(self, table: str) -> list[dict[str, Any]]:
        value = self.doc.get(table, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise CalendarError(
                f"`{table}` must be an array of tables written as [[{table}]]",
                path=self.path,
                line=self.where.search(table),
            )
        required, optional = _FIELDS[table]
        for index, entry in enumerate(value):
            missing = sorted(required - entry.keys())
            if missing:
                raise self.fail(f"[[{table}]] entry lacks {', '.join(missing)}", table, index)
            unknown = sorted(entry.keys() - required - optional)
            if unknown:
                raise self.fail(
                    f"[[{table}]] has unknown key(s) {', '.join(unknown)}; allowed: "
                    f"{', '.join(sorted(required | optional))}",
                    table,
                    index,
                    unknown[0],
                )
        return value

    def _years(self, entries: list[dict[str, Any]]) -> dict[int, YearCoverage]:
        years: dict[int, YearCoverage] = {}
        for index, entry in enumerate(entries):
            year = entry["year"]
            if not isinstance(year, int) or isinstance(year, bool) or not 1991 <= year <= 2100:
                raise self.fail(f"year must be an integer between 1991 and 2100, got {year!r}", "year", index, "year")
            if year in years:
                raise self.fail(f"year {year} is listed twice", "year", index, "year")
            years[year] = YearCoverage(
                year,
                self._date(entry, "year", index, "checked"),
                self._sources(entry, "year", index),
                self._opt_str(entry, "year", index, "note"),
                self.where.entry("year", index, "year"),
            )
        return years

    def _decrees(self, entries: list[dict[str, Any]]) -> dict[str, Decree]:
        decrees: dict[str, Decree] = {}
        for index, entry in enumerate(entries):
            ident = self._str(entry, "decree", index, "id")
            if ident in decrees:
                raise self.fail(f"decree id {ident!r} is defined twice", "decree", index, "id")
            number = entry["number"]
            if isinstance(number, int) and not isinstance(number, bool):
                number = str(number)
            if not isinstance(number, str) or not number.strip():
                raise self.fail("decree number must be a non-empty string", "decree", index, "number")
            when = self._date(entry, "decree", index, "date") if "date" in entry else None
            decrees[ident] = Decree(
                ident,
                self._str(entry, "decree", index, "kind"),
                number,
                when,
                self._str(entry, "decree", index, "title"),
                self._sources(entry, "decree", index),
                self._opt_str(entry, "decree", index, "note"),
            )
        return decrees

    def _date(self, entry: dict[str, Any], table: str, index: int, key: str) -> date:
        value = entry[key]
        if isinstance(value, datetime):
            raise self.fail(
                f"{key} = {value.isoformat()} has a time; write a plain date like 2024-05-08", table, index, key
            )
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise self.fail(
                    f"{key} = {value!r} does not parse as a date (YYYY-MM-DD)", table, index, key, value
                ) from None
            raise self.fail(
                f"{key} = {value!r} is quoted; write the date without quotes: {key} = {value}", table, index, key, value
            )
        raise self.fail(f"{key} must be a date like 2024-05-08, got {value!r}", table, index, key)

    def _str(self, entry: dict[str, Any], table: str, index: int, key: str) -> str:
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be a non-empty string", table, index, key)
        return value.strip()

    def _opt_str(self, entry: dict[str, Any], table: str, index: int, key: str) -> str | None:
        return self._str(entry, table, index, key) if key in entry else None

    def _sources(self, entry: dict[str, Any], table: str, index: int) -> tuple[str, ...]:
        value = entry["sources"]
        if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
            raise self.fail("sources must be a non-empty list of strings (URLs or citations)", table, index, "sources")
        return tuple(s.strip() for s in value)
