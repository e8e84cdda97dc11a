"""The report's currency and time zone (issue 16): money converted to `--currency`, timestamps to `--timezone`.

`prepare` runs once per run between validation and the metrics, so every metric, period and filter sees the same
tables:

* **Time zone.** With `--timezone ZONE` (IANA), every timestamp column (not the date columns: a date is already
  a local day) becomes the wall-clock time in ZONE, so days, weeks and months are cut at local midnight and
  `--from`/`--to` are local days, as Zendesk, ChartMogul and Plausible report. The offset of each instant comes
  from Python's `zoneinfo` (the same data the business hours use): the offsets in force over the data's range
  become one CASE expression, `ts + offset`, identical on DuckDB and Spark (no engine time-zone function, whose
  zone data could differ). Durations stay exact: `LocalClock.to_utc` turns wall-clock times back into instants.
* **Currency.** A table with money columns (`TableSpec.money_columns`) and a `currency` column is converted to
  the reporting currency in the engine: a join on (currency, day) with the `--fx` rates, each day taking the rate
  of that day or else of the latest earlier day (an as-of rule). A row in a foreign currency with no rate on or
  before its day is set aside, counted and listed with the currency and the day. Several currencies without
  `--currency` and `--fx` are an error: different money is never added up.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import to_arrow, to_scalar
from cxbench.core.calendar import instant_after
from cxbench.core.contract import CURRENCY_HINT, CURRENCY_PATTERN, ColumnType
from cxbench.core.errors import InputError, UsageError
from cxbench.core.small_files import read_small_text

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from cxbench.core.options import Options
    from cxbench.core.validation import Validation, ValidTable

FxRates = tuple[tuple[dt.date, str, float], ...]

_FX_FORMAT = ("give one rate per line as date,currency,rate (e.g. 2026-03-01,USD,0.92: 0.92 units of the --currency "
              "per 1 USD)")


# -- currency codes and the --fx file ----------------------------------------------------------------------------

def check_currency(code: Any, flag: str) -> str:
    """An ISO 4217 code, upper-cased; a UsageError naming `flag` and an example otherwise."""
    text = str(code).strip()
    if not re.match(CURRENCY_PATTERN, text):
        raise UsageError(f"{flag} {text!r} is not {CURRENCY_HINT}")
    return text.upper()


def fx_rates(given: str | Path | Sequence[Any], currency: str) -> FxRates:
    """The exchange rates into `currency` from an --fx file (CSV with a header `date,currency,rate`, or YAML: a
    list of {date, currency, rate}) or from rows ((date, currency, rate) or mappings), checked.

    `rate` is the number of units of the reporting currency per 1 unit of `currency` (EUR report, USD row, 0.92:
    100 USD = 92 EUR). An optional `to_currency` column must name the reporting currency, so a file of rates
    into another currency is refused rather than applied. Rates are positive and finite; a currency and day
    given twice with two rates is an error. Returns (date, currency, rate) sorted.
    """
    where = "--fx"
    if isinstance(given, str | Path):
        where = f"--fx {given}"
        rows = _read_fx_file(Path(given))
    else:
        rows = [(number, _as_mapping(item)) for number, item in enumerate(given, start=1)]
    found: dict[tuple[dt.date, str], float] = {}
    for number, row in rows:
        line = f"{where}, {'line' if where != '--fx' else 'row'} {number}"
        value = row.get("date")
        try:
            # YAML reads 2026-03-01 as a date (and 2026-03-01 10:00 as a datetime, whose day is taken)
            day = (value.date() if isinstance(value, dt.datetime) else value) if isinstance(value, dt.date) \
                else dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise UsageError(f"{line}: date {row.get('date')!r} is not a YYYY-MM-DD date; {_FX_FORMAT}") from None
        code = check_currency(row.get("currency", ""), f"{line}: currency")
        target = row.get("to_currency")
        if target not in (None, "") and check_currency(target, f"{line}: to_currency") != currency:
            raise UsageError(f"{line}: a rate into {str(target).upper()}, but --currency is {currency}: give rates "
                             f"into {currency}, or report in {str(target).upper()} with --currency")
        try:
            rate = float(str(row.get("rate")).strip())
        except ValueError:
            rate = math.nan
        if not math.isfinite(rate) or rate <= 0:
            raise UsageError(f"{line}: rate {row.get('rate')!r} is not a positive finite number; {_FX_FORMAT}")
        if code == currency and rate != 1:
            raise UsageError(f"{line}: a rate of {rate:g} for {code} into itself; drop the line (it is 1)")
        if found.get((day, code), rate) != rate:
            raise UsageError(f"{line}: {code} on {day} is given twice with two rates ({found[(day, code)]:g} and "
                             f"{rate:g}); keep one")
        found[(day, code)] = rate
    return tuple(sorted((day, code, rate) for (day, code), rate in found.items()))


def _as_mapping(item: Any) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return {str(k).strip().lower(): v for k, v in item.items()}
    if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 3:
        raise UsageError(f"--fx: {item!r} is not a rate; give (date, currency, rate) or a mapping with those keys")
    date, code, rate = item
    return {"date": date, "currency": code, "rate": rate}


def _read_fx_file(path: Path) -> list[tuple[int, Mapping[str, Any]]]:
    try:
        text = read_small_text(path, "--fx", encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"--fx {path}: cannot read the file ({exc.strerror or exc}); {_FX_FORMAT}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--fx {path}: is not UTF-8 text (bad byte at offset {exc.start})") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"--fx {path}: is not valid YAML ({str(exc).splitlines()[0]})") from exc
        if isinstance(loaded, Mapping) and "rates" in loaded:
            loaded = loaded["rates"]
        if not isinstance(loaded, list) or not all(isinstance(r, Mapping) for r in loaded):
            raise UsageError(f"--fx {path}: expected a list of rates, each with date, currency and rate")
        return [(n, _as_mapping(r)) for n, r in enumerate(loaded, start=1)]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("date", "currency", "rate") if c not in header]
    if missing:
        first = text.lstrip("\ufeff").split("\n", 1)[0]
        # A European spreadsheet's "CSV" is separated by semicolons: say so rather than only "no date column".
        hint = (" (the header is separated by semicolons: save the file with commas, decimals with a point)"
                if ";" in first and "," not in first else "")
        raise UsageError(f"--fx {path}: the header has no {', '.join(missing)} column{hint}; {_FX_FORMAT}")
    rows = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows.append((reader.line_num, _as_mapping(row)))
    return rows


# -- the reporting time zone -------------------------------------------------------------------------------------

#: Before this, zones hold their local mean time (one offset); transitions are searched from here on.
_SEARCH_FROM = dt.datetime(1800, 1, 1)
_EDGE = dt.timedelta(days=2)
#: How far past the data's last instant the clock is read day by day towards the as-of day (`_local_clock`).
_NOW_REACH = dt.timedelta(days=366 * 30)


@dataclass(frozen=True)
class LocalClock:
    """The UTC offsets of `zone` over a range of instants: `first` before the first change, then each
    (naive UTC instant of the change, offset in seconds from then on)."""

    zone: str
    first: int
    changes: tuple[tuple[dt.datetime, int], ...]
    clamp: bool = False  # the data reaches the ends of the calendar: keep local times within years 1 to 9999

    @classmethod
    def over(cls, zone: str, lo: dt.datetime, hi: dt.datetime) -> LocalClock:
        """The offsets of `zone` from `lo` to `hi` (naive UTC), read from `zoneinfo` day by day and to the second
        where one changes."""
        info = ZoneInfo(zone)
        lo_safe = max(lo, dt.datetime.min + _EDGE)
        hi_safe = min(hi, dt.datetime.max - _EDGE)

        def offset(moment: dt.datetime) -> int:
            local = moment.replace(tzinfo=dt.UTC).astimezone(info)
            return int(local.utcoffset().total_seconds())  # type: ignore[union-attr]

        at = max(lo_safe - dt.timedelta(days=1), min(_SEARCH_FROM, hi_safe)).replace(hour=0, minute=0, second=0,
                                                                                     microsecond=0)
        first = offset(lo_safe)
        current = offset(at)
        changes: list[tuple[dt.datetime, int]] = []
        stop = hi_safe + dt.timedelta(days=1)
        while at < stop:
            following = at + dt.timedelta(days=1)
            after = offset(following)
            if after != current:
                low, high = at, following  # offset(low) == current, offset(high) == after: find the change's second
                while high - low > dt.timedelta(seconds=1):
                    middle = low + (high - low) / 2
                    middle = middle.replace(microsecond=0)
                    if offset(middle) == current:
                        low = middle
                    else:
                        high = middle
                if high <= lo_safe:
                    first = after
                else:
                    changes.append((high, after))
                current = after
            at = following
        clamp = lo < dt.datetime.min + _EDGE or hi > dt.datetime.max - _EDGE
        return cls(zone, first, tuple(changes), clamp)

    def _offset(self, value: ir.TimestampValue, local: bool) -> ir.IntegerValue:
        if not self.changes:
            return ibis.literal(self.first, type="int64")
        # Latest change first: recent rows, the most of any dataset, stop at the first branches.
        branches = []
        for at, seconds in reversed(self.changes):
            edge = at + dt.timedelta(seconds=seconds) if local else at
            branches.append((value >= ibis.literal(edge, type="timestamp"), ibis.literal(seconds, type="int64")))
        return ibis.cases(*branches, else_=ibis.literal(self.first, type="int64"))

    def to_local(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        """The wall-clock time in the zone of the UTC instant `ts` (naive)."""
        local = ts + self._offset(ts, local=False).as_interval("s")
        if self.clamp:
            # A local time past 9999-12-31 (a UTC+14 zone on the calendar's last day) is no date: it is kept on the
            # last millisecond, inside the last period (whose end, `LAST_INSTANT` itself, tables hold exclusive).
            limits = (ibis.literal(dt.datetime.min, type="timestamp"),
                      ibis.literal(dt.datetime.max - dt.timedelta(milliseconds=1), type="timestamp"))
            local = ibis.cases((ts.isnull(), ibis.null("timestamp")), else_=ibis.greatest(limits[0], ibis.least(local, limits[1])))
        return local

    def to_utc(self, local: ir.TimestampValue) -> ir.TimestampValue:
        """The UTC instant of a wall-clock time made by `to_local` (in the hour a clock turned back twice, the
        later of the two instants)."""
        return local - self._offset(local, local=True).as_interval("s")

    def elapsed_seconds(self, later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
        """Seconds between two wall-clock times, in real time: a night the clocks go forward has 23 hours."""
        # Milliseconds, then seconds: the one time difference DuckDB and Spark compute alike (IBIS-NOTES trap 2).
        return self.to_utc(later).delta(self.to_utc(earlier), unit="millisecond").cast("float64") / 1000


# -- the preparation of a run's tables ---------------------------------------------------------------------------

def prepare(con: BaseBackend, validation: Validation, options: Options) -> tuple[Validation, LocalClock | None]:
    """The validated tables in the report's time zone and currency, with the rows that have no exchange rate set
    aside (counted in the tables' reports and listed with the others). Returns the new validation (whose
    `currency` says which currency money is in) and the clock of the time zone (None for UTC)."""
    tables = dict(validation.tables)
    clock = _local_clock(con, tables, options.timezone, options.today)
    if clock is not None:
        for name, table in tables.items():
            tables[name] = _localized(table, clock)
    reports = dict(validation.reports)
    rejected = list(validation.rejected)
    currencies: set[str] = set()
    for name, table in list(tables.items()):
        if not table.spec.money_columns:
            continue
        tables[name], set_aside, currency = _in_reporting_currency(con, table, options, reports[name].origin)
        if currency is not None:
            currencies.add(currency)
        if set_aside:
            count, listed = set_aside
            report = reports[name]
            reports[name] = dataclasses.replace(report, used=report.used - count, rejected=report.rejected + count)
            rejected.extend(listed[: max(0, options.rejected_cap - len(rejected))])
    if len(currencies) > 1:
        found = ", ".join(sorted(currencies))
        raise InputError(f"the tables' money is in several currencies ({found}); cxbench never adds up different "
                         f"currencies: pass --currency with --fx rates, e.g. --currency {sorted(currencies)[0]} "
                         "--fx rates.csv (date,currency,rate)")
    currency = options.currency or (currencies.pop() if currencies else None)
    return dataclasses.replace(validation, tables=tables, reports=reports, rejected=rejected, currency=currency), clock


def _timestamp_columns(table: ValidTable) -> list[str]:
    return [c.name for c in table.spec.columns if c.type is ColumnType.TIMESTAMP and c.name in table.present]


def _local_clock(con: BaseBackend, tables: Mapping[str, ValidTable], zone: str, today: dt.date,
                 ) -> LocalClock | None:
    """The zone's offsets over every timestamp of the tables (one small query: the first and last instant of each
    table, unioned) and on to the end of the as-of day `today`; None for UTC."""
    if zone == "UTC":
        return None
    parts = []
    for table in tables.values():
        columns = _timestamp_columns(table)
        if not columns:
            continue
        t = table.expr
        parts.append(t.aggregate(
            lo=ibis.least(*(t[c].min() for c in columns)) if len(columns) > 1 else t[columns[0]].min(),
            hi=ibis.greatest(*(t[c].max() for c in columns)) if len(columns) > 1 else t[columns[0]].max(),
        ))
    if not parts:
        return LocalClock(zone, 0, ())  # no timestamps at all: nothing to convert
    both = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    (bounds,) = to_arrow(con, both.aggregate(lo=both.lo.min(), hi=both.hi.max())).to_pylist()
    if bounds["lo"] is None:
        return LocalClock(zone, 0, ())
    # The SLA clock of an open ticket and the backlog's age run to the end of the as-of day ("now", a wall-clock
    # time turned back into an instant): the offsets must be known up to it, not only to the data's last instant,
    # else a change of the clocks between the two (data in winter, --as-of in summer) is missed by an hour.
    # The offsets are read day by day, so a far as-of day (--as-of 9999-12-31) is reached by a jump: the clock over
    # the data and _NOW_REACH beyond it, then the offsets of the two days before now.
    lo, hi, now = bounds["lo"].replace(tzinfo=None), bounds["hi"].replace(tzinfo=None), instant_after(today)
    # Data near 9999-12-31: hi + _NOW_REACH would pass the last instant a datetime holds.
    reach = hi + _NOW_REACH if hi <= dt.datetime.max - _NOW_REACH else dt.datetime.max
    clock = LocalClock.over(zone, lo, max(hi, min(now, reach)))
    if now <= reach:
        return clock
    tail = LocalClock.over(zone, now - _EDGE, now)
    changes = (*clock.changes, (now - _EDGE, tail.first), *tail.changes)
    return dataclasses.replace(clock, changes=changes, clamp=clock.clamp or tail.clamp)


def _localized(table: ValidTable, clock: LocalClock) -> ValidTable:
    columns = _timestamp_columns(table)
    if not columns:
        return table
    t = table.expr
    return dataclasses.replace(table, expr=t.mutate(**{c: clock.to_local(t[c]) for c in columns}))


def _in_reporting_currency(con: BaseBackend, table: ValidTable, options: Options, origin: str,
                           ) -> tuple[ValidTable, tuple[int, list[Any]] | None, str | None]:
    """The table with its money in the reporting currency, the rows set aside for want of a rate (count and the
    first ones listed), and the currency its money is in (None when nothing says)."""
    spec = table.spec
    reporting = options.currency
    if "currency" not in table.present:
        return table, None, reporting  # money in the reporting currency, or in the data's one unnamed currency
    t = table.expr
    assert spec.time_column is not None
    day = t[spec.time_column].date()
    # One small aggregate: rows, first and last day per currency (empty cells together).
    found = to_arrow(con, t.group_by(_currency=t.currency).aggregate(n=t.count(), lo=day.min(), hi=day.max()))
    per_currency = {row["_currency"]: row for row in found.to_pylist()}
    codes = sorted(c for c in per_currency if c is not None)
    if reporting is None:
        if not codes:
            return table, None, None
        if len(codes) == 1 and None not in per_currency:
            return table, None, codes[0]
        raise InputError(f"{origin}: table {spec.name} has money in {_listing(per_currency)}: cxbench never adds up "
                         f"different currencies. Pass the reporting currency and exchange rates, e.g. "
                         f"--currency {codes[0]} --fx rates.csv (date,currency,rate: units of {codes[0]} per 1 unit "
                         "of the row's currency), or fill in every row's currency with one code", file=origin,
                         column="currency")
    foreign = [c for c in codes if c != reporting]
    if not foreign:
        return table, None, reporting
    have = {code for _, code, _ in options.fx}
    lacking = [c for c in foreign if c not in have]
    if lacking:
        raise InputError(f"{origin}: table {spec.name} has money in {_listing(per_currency)} and --currency is "
                         f"{reporting}, but no exchange rate for {', '.join(lacking)}: give them with --fx rates.csv "
                         f"(date,currency,rate: units of {reporting} per 1 unit of the row's currency, e.g. "
                         f"{per_currency[lacking[0]]['lo'] or '2026-01-01'},{lacking[0]},0.92)", file=origin,
                         column="currency")
    rates = _daily_rates(options.fx, {c: per_currency[c] for c in foreign})
    fx = ibis.memtable(rates, schema={"_fx_currency": "string", "_fx_day": "date", "_fx_rate": "float64"})
    t = t.mutate(_fx_day=day)
    joined = t.left_join(fx, [t.currency == fx._fx_currency, t._fx_day == fx._fx_day])
    rate = ibis.cases((joined.currency.isnull() | (joined.currency == reporting), ibis.literal(1.0)),
                      else_=joined._fx_rate)
    joined = joined.mutate(_fx_factor=rate)
    kept_columns = [c for c in t.columns if c != "_fx_day"]
    converted = joined.mutate(**{c: joined[c] * joined._fx_factor for c in spec.money_columns},
                              _fx_code=joined.currency, currency=ibis.literal(reporting))
    set_aside = None
    first_rate = {c: min(d for d, code, _ in options.fx if code == c) for c in foreign}
    if any(per_currency[c]["lo"] is not None and per_currency[c]["lo"] < first_rate[c] for c in foreign):
        missing = converted.filter(converted._fx_factor.isnull())
        count = int(to_scalar(con, missing.count()))
        listed = to_arrow(con, missing.select(_row=missing._row, _code=missing._fx_code, _on=missing._fx_day)
                                .order_by("_row").limit(options.rejected_cap)).to_pylist()
        from cxbench.core.validation import Rejection

        rows = [Rejection(spec.name, int(r["_row"]),
                          f"no {r['_code']} exchange rate on or before {r['_on']} in --fx (the first is "
                          f"{first_rate[r['_code']]}): add a {r['_code']} rate into {reporting} for that day or earlier")
                for r in listed]
        set_aside = (count, rows)
        converted = converted.filter(converted._fx_factor.notnull())
    converted = converted.select(*kept_columns)
    return dataclasses.replace(table, expr=converted), set_aside, reporting


def _listing(per_currency: Mapping[str | None, Mapping[str, Any]]) -> str:
    """'EUR (3 rows), USD (2 rows) and no currency (1 row)'."""
    parts = [f"{code or 'no currency'} ({row['n']:,} row{'s' if row['n'] != 1 else ''})"
             for code, row in sorted(per_currency.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _daily_rates(fx: FxRates, needed: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One rate per currency and day from each currency's first row day to its last: the rate of that day, else of
    the latest earlier day (none before the first rate: those rows are set aside)."""
    out = []
    for code, span in needed.items():
        days = [d for d, c, _ in fx if c == code]
        values = [r for _, c, r in fx if c == code]
        lo, hi = span["lo"], span["hi"]
        if lo is None or hi is None:
            continue
        day = max(lo, days[0])
        while day <= hi:
            index = bisect.bisect_right(days, day) - 1
            out.append({"_fx_currency": code, "_fx_day": day, "_fx_rate": values[index]})
            if day == dt.date.max:
                break
            day += dt.timedelta(days=1)
    return out
