"""Business hours: durations counted in working time, as support teams measure them.

`--business-hours "Mon-Fri 09:00-17:00"` (with `--timezone` and `--holidays FILE`) makes support durations
count only the seconds inside the working windows. The method works in the engine, never row by row in
Python:

    W(t) = working seconds from a fixed origin to the instant t
    duration = W(later) − W(earlier)

A small calendar table is built here for the data's date range: one row per working window, each covering
the slice of the time line from the end of the previous window to the end of its own, with the window's
start (UTC), its length and the working seconds of all earlier windows. A timestamp finds its row by a range
join, and W(t) = cumulative_before + clamp(t − window_start, 0, window_length). Local times are turned into
UTC instants per day with `zoneinfo`, so daylight-saving changes move the windows as they do on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import next_day, previous_day
from cxbench.core.errors import UsageError
from cxbench.core.small_files import read_small_text

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_GROUP = re.compile(r"^(?P<days>[a-z]+(?:-[a-z]+)?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")
_EXAMPLE = 'write it as "Mon-Fri 09:00-17:00" (several groups separated by commas, e.g. '\
           '"Mon-Fri 09:00-17:00, Sat 10:00-14:00")'
# Bounds of the calendar's first and last slices: any timestamp of real data falls between them, and both
# fit the nanosecond timestamps pandas and Arrow use for in-memory tables.
# The calendar's slices run from the first instant to the last one timestamps can hold (0001 to 9999).
_BEFORE_ALL = dt.datetime.min
_AFTER_ALL = dt.datetime.max


@dataclass(frozen=True)
class Window:
    """A working window on one weekday (0 = Monday), in local wall-clock time; `end` may be 24:00."""

    weekday: int
    start_minute: int  # minutes after local midnight
    end_minute: int


@dataclass(frozen=True)
class BusinessHours:
    """Parsed `--business-hours`, `--timezone` and `--holidays`."""

    text: str
    windows: tuple[Window, ...]
    timezone: str = "UTC"
    holidays: frozenset[dt.date] = frozenset()

    def describe(self) -> str:
        """How the run counts working time, for a record's details."""
        out = f"{self.text} ({self.timezone})"
        if self.holidays:
            out += f", {len(self.holidays)} holiday{'s' if len(self.holidays) != 1 else ''}"
        return out

    def windows_utc(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working windows of a local calendar day as naive UTC instants (none on a holiday)."""
        if day in self.holidays:
            return []
        zone = ZoneInfo(self.timezone)
        out = []
        for window in self.windows:
            if window.weekday != day.weekday():
                continue
            midnight = dt.datetime.combine(day, dt.time())
            start = (midnight + dt.timedelta(minutes=window.start_minute)).replace(tzinfo=zone)
            end = (midnight + dt.timedelta(minutes=window.end_minute)).replace(tzinfo=zone)
            out.append((_naive_utc(start), _naive_utc(end)))
        return sorted(out)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _minute(text: str, whole: str) -> int:
    hours, minutes = (int(p) for p in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes > 0):
        raise UsageError(f"--business-hours {whole!r}: {text} is not a time of day; {_EXAMPLE}")
    return 60 * hours + minutes


def _weekday(name: str, whole: str) -> int:
    for index, (short, full) in enumerate(zip(DAY_NAMES, _FULL_DAY_NAMES, strict=True)):
        if name in (short, full):
            return index
    raise UsageError(f"--business-hours {whole!r}: {name!r} is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun; "
                     f"{_EXAMPLE}")


def parse_business_hours(text: str, timezone: str = "UTC",
                         holidays: Iterable[dt.date] = ()) -> BusinessHours:
    """Parse "Mon-Fri 09:00-17:00[, Sat 10:00-14:00...]"; raise UsageError naming the fix.

    A day range may wrap the week ("Sun-Thu"). A window ends after it starts on the same day ("24:00" is
    midnight); a night shift is written as two groups ("Mon-Fri 22:00-24:00, Tue-Sat 00:00-06:00").
    """
    timezone = check_timezone(timezone)
    windows: list[Window] = []
    groups = [g.strip() for g in text.split(",")]
    if not text.strip() or any(not g for g in groups):
        raise UsageError(f"--business-hours {text!r} is empty or has an empty group; {_EXAMPLE}")
    for group in groups:
        match = _GROUP.match(group.lower())
        if match is None:
            raise UsageError(f"--business-hours {text!r}: cannot read {group!r}; {_EXAMPLE}")
        names = match["days"].split("-")
        first = _weekday(names[0], text)
        last = _weekday(names[-1], text)
        start, end = _minute(match["start"], text), _minute(match["end"], text)
        if end <= start:
            raise UsageError(f"--business-hours {text!r}: in {group!r} the end is not after the start; "
                             "write a night shift as two groups, e.g. \"Mon-Fri 22:00-24:00, Tue-Sat 00:00-06:00\"")
        day = first
        while True:
            windows.append(Window(day, start, end))
            if day == last:
                break
            day = (day + 1) % 7
    by_day: dict[int, list[Window]] = {}
    for window in windows:
        by_day.setdefault(window.weekday, []).append(window)
    for day, day_windows in by_day.items():
        day_windows.sort(key=lambda w: w.start_minute)
        for before, after in zip(day_windows, day_windows[1:], strict=False):
            if after.start_minute < before.end_minute:
                raise UsageError(f"--business-hours {text!r}: two windows overlap on {DAY_NAMES[day].title()}; "
                                 "give each day's hours once")
    return BusinessHours(text.strip(), tuple(sorted(windows, key=lambda w: (w.weekday, w.start_minute))),
                         timezone, frozenset(holidays))


def check_timezone(name: str) -> str:
    """The IANA time zone `name` as the zone database spells it (`utc` and `europe/bucharest` are found in any
    case); UsageError when there is none."""
    try:
        ZoneInfo(name)
        return name
    except (ZoneInfoNotFoundError, ValueError) as exc:
        from zoneinfo import available_timezones

        # The zone files are named in mixed case, and their lookup follows the file system's case.
        spelled = {zone.lower(): zone for zone in available_timezones()}.get(str(name).strip().lower())
        if spelled is not None:
            return spelled
        raise UsageError(f"--timezone {name!r} is not a time zone; use an IANA name such as Europe/Bucharest, "
                         "America/New_York or UTC") from exc


def read_holidays(path: str | Path) -> tuple[dt.date, ...]:
    """Dates from a text or CSV file: the first field of each line, YYYY-MM-DD.

    Blank lines and lines starting with # are skipped, and so is a header line (e.g. `date,name`): the first
    line when its first field holds no digit. A first line with digits that is not a date (2026-13-01,
    1/1/2026) is a mistyped date and stops with its line number, like any other.
    """
    file = Path(path)
    try:
        # -sig: Excel and Notepad write a BOM; a device or a file over 10 MB is refused, never read whole
        lines = read_small_text(file, "--holidays", encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise UsageError(f"--holidays {file}: cannot read the file ({exc.strerror or exc}); give a text or CSV file "
                         "with one YYYY-MM-DD date per line") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--holidays {file}: is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8 "
                         "with one YYYY-MM-DD date per line") from exc
    days: list[dt.date] = []
    for number, line in enumerate(lines, start=1):
        field = line.split(",")[0].strip().strip('"')
        if not field or field.startswith("#"):
            continue
        try:
            days.append(dt.date.fromisoformat(field))
        except ValueError as exc:
            if not days and number == _first_content_line(lines) and not any(c.isdigit() for c in field):
                continue  # a header
            raise UsageError(f"--holidays {file}, line {number}: {field!r} is not a date; write one YYYY-MM-DD "
                             "date per line") from exc
    return tuple(sorted(set(days)))


def _first_content_line(lines: Sequence[str]) -> int:
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.strip().startswith("#"):
            return number
    return 0


def calendar_rows(hours: BusinessHours, first: dt.date, last: dt.date) -> list[dict[str, object]]:
    """The calendar of working windows from local day `first` − 1 to `last` + 1, as rows.

    Each row is one slice of the time line `[slice_start, slice_end)` holding one working window that starts at
    `window_start` and lasts `window_seconds`; `before_seconds` is the working time of all earlier windows.
    The slices cover the whole time line: the last one, after the last window, has an empty window.
    """
    rows: list[dict[str, object]] = []
    cumulative = 0.0
    slice_start = _BEFORE_ALL
    day = previous_day(first) or first
    stop = next_day(last) or last
    while day <= stop:
        try:
            windows = hours.windows_utc(day)
        except OverflowError:  # a window whose UTC instant falls before year 1 or after 9999 holds no timestamp
            windows = []
        for start, end in windows:
            length = (end - start).total_seconds()
            rows.append({"slice_start": slice_start, "slice_end": end, "window_start": start,
                         "window_seconds": length, "before_seconds": cumulative})
            cumulative += length
            slice_start = end
        following = next_day(day)
        if following is None:
            break
        day = following
    rows.append({"slice_start": slice_start, "slice_end": _AFTER_ALL, "window_start": slice_start,
                 "window_seconds": 0.0, "before_seconds": cumulative})
    return rows


CALENDAR_SCHEMA = {"slice_start": "timestamp", "slice_end": "timestamp", "window_start": "timestamp",
                   "window_seconds": "float64", "before_seconds": "float64"}


def with_working_seconds(t: ir.Table, column: str, calendar: ir.Table, name: str) -> ir.Table:
    """`t` with `name` = W(t[column]): working seconds from the calendar's origin to that instant (null when
    the instant is null). `calendar` is the memtable of `calendar_rows`."""
    c = calendar.select(**{f"{name}_{k}": calendar[k] for k in CALENDAR_SCHEMA})
    joined = t.left_join(c, (t[column] >= c[f"{name}_slice_start"]) & (t[column] < c[f"{name}_slice_end"]))
    # Milliseconds, then seconds: the one time difference DuckDB and Spark compute alike (IBIS-NOTES trap 2).
    into_window = joined[column].delta(joined[f"{name}_window_start"], unit="millisecond") / 1000
    clamped = ibis.greatest(ibis.literal(0.0), ibis.least(into_window.cast("float64"), joined[f"{name}_window_seconds"]))
    joined = joined.mutate(**{name: joined[f"{name}_before_seconds"] + clamped})
    return joined.drop(*(f"{name}_{k}" for k in CALENDAR_SCHEMA))
