"""The options of a run, defined once: the CLI, the Python API and the engine read defaults and checks from here.

This module imports nothing heavy (no Ibis, no SciPy), so `cxbench --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cxbench.core.errors import UsageError


class Period(StrEnum):
    """Reporting periods (`--period`)."""

    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ALL = "all"


BOUNCE_DEFINITIONS = ("single_page", "ga4")

#: The event names metrics read, as cxbench names them; `--event-name checkout=purchase` says what the data calls one.
EVENT_NAMES: dict[str, str] = {
    "pageview": "a page view",
    "pageleave": "the visitor leaving a page",
    "add_to_cart": "a product put in the cart",
    "checkout": "a cart checked out, that is bought",
}


#: The signals of `customer_health_score` and their default weights (issue 18): each signal is 0..1 per customer,
#: the score is 100 × Σ weight × signal ÷ Σ weight over the signals the customer has. A --benchmarks file may
#: give other weights under `customer_health_score: weights:`.
HEALTH_SIGNALS: dict[str, str] = {
    "activity": "weeks with an event among the 4 weeks (28 days) before the period's end, or the events' last day "
                "when earlier, ÷ 4 (events; unknown where the events do not cover those 28 days)",
    "nps": "the latest NPS answer in the 365 days up to the period's end: promoter 1, passive 0.5, detractor 0 "
           "(surveys; unknown without an answer)",
    "support": "tickets open at the period's end: none 1, one 0.5, two or more 0 (tickets; unknown in periods "
               "ending before the first ticket)",
    "mrr_trend": "MRR at the period's end against its start: not lower 1, lower (contraction) 0 (subscriptions)",
}
#: the longest --trial-days: ten years
MAX_TRIAL_DAYS = 3650
DEFAULT_HEALTH_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("activity", 40.0), ("nps", 20.0), ("support", 20.0), ("mrr_trend", 20.0))
#: Default SLA targets per ticket priority, hours to the first response and to resolution. Zendesk ships no SLA
#: policy (each team sets its targets per priority); these are the starting table help-desk docs commonly show
#: (1 h / 4 h urgent, 4 h / 8 h high, 8 h / 24 h normal, 24 h / 72 h low). A ticket without a priority is held to
#: the normal targets. `--sla-targets` overrides any of them.
SLA_TARGETS: dict[str, tuple[float, float]] = {
    "urgent": (1.0, 4.0), "high": (4.0, 8.0), "normal": (8.0, 24.0), "low": (24.0, 72.0)}
_SLA_EXAMPLE = 'write it as PRIORITY=FIRST/RESOLUTION with m, h or d, e.g. "urgent=30m/4h,high=2h/1d"'
_DURATION_UNITS = {"m": 1 / 60, "h": 1.0, "d": 24.0}


class TimeUnit(StrEnum):
    """The unit of `recency`, `T` and the horizon of the CLV models (`--time-unit`)."""

    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class Options:
    """Everything a run can be told; the defaults are the documented ones. Build checked ones with `make_options`."""

    period: Period = Period.MONTH
    start: dt.date | None = None  # --from, inclusive
    end: dt.date | None = None  # --to, inclusive
    segments: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None  # ids to compute; None = all
    min_sample: int = 30
    nps_promoter_min: float = 9  # promoters: 9-10 (003, 004)
    nps_detractor_max: float = 6  # detractors: 0-6 (003, 004; 000's "below 6" is the minority reading)
    css_positive_min: float = 6  # "6 and above" on a 1-10 scale (004)
    cxi_reverse_effort: bool = False  # True when the CXI effort item asks "how much effort" (high = bad)
    session_timeout_minutes: float = 30  # a new session after this long without an event (GA4, Matomo, PostHog)
    bounce_definition: str = "single_page"  # or "ga4": not engaged (< 10 s, < 2 pageviews, no key event)
    engaged_seconds: float = 10  # GA4's engaged-session threshold
    key_events: tuple[str, ...] = ("checkout", "purchase", "sign_up", "signup")  # GA4 "key events" (conversions)
    #: --event-name CANONICAL=NAME: what the data calls the events the metrics read (`EVENT_NAMES`), e.g.
    #: (("checkout", "begin_checkout"),) for a clickstream without a `checkout` event; sorted pairs, so hashable
    event_names: tuple[tuple[str, str], ...] = ()
    rejected_cap: int = 1000
    vertical: str | None = None  # --vertical: a vertical's benchmark bands where a source gives them
    compare: tuple[dt.date, dt.date] | None = None  # --compare FROM..TO: every record against that window
    #: the day the run treats as today: a subscription running to 2030 or a resolution typed as 2099 stops at
    #: the later of this and the data's last day. None = the machine's date (set it for reproducible runs)
    as_of: dt.date | None = None
    # -- revenue and loyalty (METRICS.md §4) --
    baseline: dt.date | None = None  # --baseline: sales_growth also against the period holding this day (001)
    inactive_days: int = 90  # orders only: a customer is active while their last order is under this many days old
    lifetime_years: float | None = None  # --lifetime-years: CLV's expected lifetime; default 1 ÷ yearly churn (003)
    #: trial_conversion_rate (--trial-days): a trial converts when a paid subscription starts within this many days
    trial_days: int = 30
    #: customer_health_score's (signal, weight) pairs (`HEALTH_SIGNALS`); a --benchmarks file may set them
    health_weights: tuple[tuple[str, float], ...] = DEFAULT_HEALTH_WEIGHTS
    # -- support durations in working time (issue 6: --business-hours, --timezone, --holidays) ----------------
    business_hours: str | None = None  # "Mon-Fri 09:00-17:00": count only these hours; None = calendar time
    #: --timezone: the IANA zone of the report (issue 16): days, weeks and months cut at its local midnight, and
    #: the zone the business hours and holidays are in. One option for both; UTC by default
    timezone: str = "UTC"
    holidays: tuple[dt.date, ...] = ()  # local days without business hours
    #: --sla-targets: per ticket priority, the first-response and resolution targets in hours (`SLA_TARGETS`), in
    #: the same calendar or business time as the durations; sorted (priority, first response, resolution) triples
    sla_targets: tuple[tuple[str, float, float], ...] = ()
    # -- clv_predicted (issue 5): the `cxbench clv` settings the scorecard uses; calibration ends at the data's end
    clv_time_unit: str = "day"  # day or week: the unit of recency, T and clv_horizon
    clv_horizon: float | None = None  # forecast horizon in clv_time_unit; None = 12 months
    clv_discount_rate: float = 0.01  # monthly discount rate of the CLV (lifetimes' default)
    # -- money (issue 16): the reporting currency and the exchange rates (core/reporting.py) -----------------
    currency: str | None = None  # --currency EUR: ISO 4217 code money is reported in; None = the data's one currency
    #: --fx FILE: (date, currency, rate) with rate = units of `currency` (the reporting one) per 1 unit of the
    #: row's currency, sorted; read and checked by `make_options`
    fx: tuple[tuple[dt.date, str, float], ...] = ()

    def sla_target_hours(self) -> dict[str, tuple[float, float]]:
        """Each priority's (first response, resolution) target in hours: `SLA_TARGETS` with `sla_targets` over it."""
        targets = dict(SLA_TARGETS)
        targets.update({priority: (first, resolution) for priority, first, resolution in self.sla_targets})
        return targets

    def event_name(self, canonical: str) -> str:
        """The data's name of a canonical event (`EVENT_NAMES`): the --event-name mapping, else the name itself."""
        return dict(self.event_names).get(canonical, canonical)

    @property
    def today(self) -> dt.date:
        """`as_of`, or the machine's date."""
        return self.as_of or dt.date.today()


#: The documented defaults, for the CLI's option defaults (never copied by hand).
DEFAULTS = Options()


def as_date(value: str | dt.date | None, flag: str) -> dt.date | None:
    """A date from YYYY-MM-DD text (or a date), with an error naming the option."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD") from exc


def compare_window(text: str) -> tuple[dt.date, dt.date]:
    """--compare FROM..TO: two inclusive dates."""
    first, sep, last = text.partition("..")
    if not sep:
        raise UsageError(f"--compare {text!r}: write the window as FROM..TO, e.g. 2026-03-01..2026-03-31")
    lo, hi = as_date(first.strip(), "--compare"), as_date(last.strip(), "--compare")
    assert lo is not None and hi is not None
    if lo > hi:
        raise UsageError(f"--compare {text}: {lo} is after {hi}")
    return lo, hi


def _finite(settings: dict[str, Any], name: str, flag: str) -> None:
    value = settings.get(name)
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
        raise UsageError(f"{flag} {value!r} is not a finite number")


def make_options(*, period: str | Period = Period.MONTH, start: str | dt.date | None = None,
                 end: str | dt.date | None = None, segment: str | Sequence[str] | None = None,
                 metrics: Sequence[str] | None = None, **settings: Any) -> Options:
    """Options from user-facing arguments (text dates, a holidays file...), checked; any `Options` field may be set."""
    try:
        period = Period(period)
    except ValueError as exc:
        raise UsageError(f"unknown period {period!r}: use one of {', '.join(p.value for p in Period)}") from exc
    segments = (segment,) if isinstance(segment, str) else tuple(segment or ())
    first, last = as_date(start, "--from"), as_date(end, "--to")
    if first and last and first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    unknown = set(settings) - {f.name for f in dataclasses.fields(Options)}
    if unknown:
        raise UsageError(f"unknown option {', '.join(sorted(unknown))}")
    for name, flag in (("min_sample", "--min-sample"), ("session_timeout_minutes", "--session-timeout"),
                       ("lifetime_years", "--lifetime-years"), ("nps_detractor_max", "--nps-detractor-max"),
                       ("nps_promoter_min", "nps_promoter_min"), ("clv_discount_rate", "clv_discount_rate")):
        _finite(settings, name, flag)
    if settings.get("min_sample", 1) < 1:
        raise UsageError("min_sample must be at least 1")
    if settings.get("session_timeout_minutes", 30) <= 0:
        raise UsageError("--session-timeout must be a positive number of minutes")
    if settings.get("bounce_definition", "single_page") not in BOUNCE_DEFINITIONS:
        raise UsageError("--bounce-definition: use " + " or ".join(BOUNCE_DEFINITIONS))
    if isinstance(settings.get("compare"), str):
        settings["compare"] = compare_window(settings["compare"])
    for name, flag in (("baseline", "--baseline"), ("as_of", "--as-of")):
        if settings.get(name) is not None:
            settings[name] = as_date(settings[name], flag)
    if settings.get("inactive_days", 90) < 1:
        raise UsageError("--inactive-days must be at least 1")
    trial_days = settings.get("trial_days", DEFAULTS.trial_days)
    # At most ten years: a trial's window is added to its start in the engine, where 1e11 days is no timestamp.
    if isinstance(trial_days, bool) or not isinstance(trial_days, int) or not 1 <= trial_days <= MAX_TRIAL_DAYS:
        raise UsageError(f"--trial-days {trial_days!r}: give a whole number of days from 1 to {MAX_TRIAL_DAYS:,}")
    if "health_weights" in settings:
        settings["health_weights"] = health_weights(settings["health_weights"], "health_weights")
    if settings.get("lifetime_years") is not None and settings["lifetime_years"] <= 0:
        raise UsageError("--lifetime-years must be a positive number of years")
    detractor_max = settings.get("nps_detractor_max", DEFAULTS.nps_detractor_max)
    promoter_min = settings.get("nps_promoter_min", DEFAULTS.nps_promoter_min)
    if not 0 <= detractor_max < promoter_min:
        raise UsageError(f"--nps-detractor-max {detractor_max:g}: must be at least 0 and below the promoters' "
                         f"lowest answer ({promoter_min:g}); the standard is 6, seed 000's 'below 6' is 5")
    if "key_events" in settings:
        settings["key_events"] = tuple(settings["key_events"])
    if settings.get("event_names"):
        settings["event_names"] = event_name_mapping(settings["event_names"])
    _business_hours_settings(settings)
    if settings.get("sla_targets") is not None:
        settings["sla_targets"] = sla_targets(settings["sla_targets"])
    _money_settings(settings)
    return Options(period=period, start=first, end=last, segments=segments,
                   metrics=tuple(metrics) if metrics else None, **settings)


def _business_hours_settings(settings: dict[str, Any]) -> None:
    """Check --business-hours, --timezone and --holidays in place (a holidays file is read here)."""
    from cxbench.core.business_hours import check_timezone, parse_business_hours, read_holidays

    holidays = settings.get("holidays")
    if isinstance(holidays, str | Path):
        settings["holidays"] = read_holidays(holidays)
    elif holidays is not None:
        settings["holidays"] = tuple(sorted({as_date(day, "--holidays") for day in holidays}))  # type: ignore[type-var]
    if settings.get("timezone") is not None:
        settings["timezone"] = check_timezone(settings["timezone"])
    if settings.get("business_hours") is not None:
        parse_business_hours(settings["business_hours"], settings.get("timezone") or "UTC", settings.get("holidays") or ())
    elif settings.get("holidays"):
        raise UsageError("--holidays applies to business hours: add --business-hours, "
                         "e.g. --business-hours \"Mon-Fri 09:00-17:00\"")


def health_weights(given: Mapping[str, Any] | Sequence[tuple[str, Any]], where: str) -> tuple[tuple[str, float], ...]:
    """customer_health_score's weights from a mapping or pairs, checked: each a signal of `HEALTH_SIGNALS`, a finite
    number ≥ 0, not all 0. Signals not named keep no weight (they are left out of the score)."""
    items = list(given.items()) if isinstance(given, Mapping) else list(given)
    if not items:
        raise UsageError(f"{where}: give at least one weight, e.g. activity: 40 (signals: {', '.join(HEALTH_SIGNALS)})")
    pairs: dict[str, float] = {}
    for name, weight in items:
        if name not in HEALTH_SIGNALS:
            raise UsageError(f"{where}: {name!r} is no health signal; use {', '.join(HEALTH_SIGNALS)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise UsageError(f"{where}: the weight of {name} is {weight!r}; give a number of 0 or more")
        pairs[str(name)] = float(weight)
    if not any(pairs.values()):
        raise UsageError(f"{where}: every weight is 0; give at least one signal a weight above 0")
    return tuple((name, pairs[name]) for name in HEALTH_SIGNALS if name in pairs)


def _money_settings(settings: dict[str, Any]) -> None:
    """Check --currency and read --fx in place (a rates file is read here, its rows checked)."""
    if settings.get("currency") is None and not settings.get("fx"):
        return
    from cxbench.core.reporting import check_currency, fx_rates

    if settings.get("currency") is not None:
        settings["currency"] = check_currency(settings["currency"], "--currency")
    if settings.get("fx"):
        if settings.get("currency") is None:
            raise UsageError("--fx gives rates into the reporting currency: add --currency, e.g. --currency EUR")
        settings["fx"] = fx_rates(settings["fx"], settings["currency"])


def event_name_mapping(given: Mapping[str, str] | Sequence[str | tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """`event_names` from a mapping, CANONICAL=NAME texts (`--event-name`) or pairs, checked: each canonical name is
    one of `EVENT_NAMES`, each data name is given, and no two canonical events share a data name."""
    pairs: list[tuple[str, str]] = []
    items = given.items() if isinstance(given, Mapping) else given
    for item in items:
        if isinstance(item, str):
            canonical, sep, name = item.partition("=")
            if not sep:
                raise UsageError(f"--event-name {item!r}: write it as CANONICAL=NAME, e.g. checkout=purchase")
        else:
            canonical, name = item
        pairs.append((str(canonical).strip(), str(name).strip()))
    mapping: dict[str, str] = {}
    for canonical, name in pairs:
        if canonical not in EVENT_NAMES:
            raise UsageError(f"--event-name {canonical}={name}: {canonical!r} is no event cxbench reads; "
                             f"map one of {', '.join(EVENT_NAMES)}")
        if not name:
            raise UsageError(f"--event-name {canonical}=: give the data's name of {canonical}, e.g. {canonical}=NAME")
        if mapping.get(canonical, name) != name:
            raise UsageError(f"--event-name {canonical} is mapped twice ({mapping[canonical]} and {name})")
        mapping[canonical] = name
    by_name: dict[str, list[str]] = {}
    for canonical in EVENT_NAMES:
        by_name.setdefault(mapping.get(canonical, canonical), []).append(canonical)
    shared = {name: events for name, events in by_name.items() if len(events) > 1}
    if shared:
        name, events = next(iter(shared.items()))
        raise UsageError(f"--event-name: {' and '.join(events)} would both read the data's {name!r} events; "
                         "map each to its own name")
    return tuple(sorted(mapping.items()))


def _hours(text: str, whole: str) -> float:
    """"30m", "4h", "1.5d" or a bare number of hours, as hours."""
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in _DURATION_UNITS else "h"
    number = raw[:-1] if raw[-1:] in _DURATION_UNITS else raw
    try:
        value = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise UsageError(f"--sla-targets {whole!r}: {text.strip()!r} is not a duration; {_SLA_EXAMPLE}") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"--sla-targets {whole!r}: {text.strip()!r} is not a positive duration; {_SLA_EXAMPLE}")
    return value


def sla_targets(given: str | Mapping[str, Sequence[float]] | Sequence[tuple[str, float, float]],
                ) -> tuple[tuple[str, float, float], ...]:
    """`sla_targets` from "urgent=1h/4h,high=4h/8h" (`--sla-targets`), a mapping priority -> (first response hours,
    resolution hours), or triples; checked: known priorities, positive finite durations, each priority once."""
    from cxbench.core.contract import TICKET_PRIORITIES

    triples: list[tuple[str, float, float]] = []
    if isinstance(given, str):
        for item in (part.strip() for part in given.split(",")):
            priority, sep, durations = item.partition("=")
            first, slash, resolution = durations.partition("/")
            if not sep or not slash:
                raise UsageError(f"--sla-targets {given!r}: cannot read {item!r}; {_SLA_EXAMPLE}")
            triples.append((priority.strip().lower(), _hours(first, given), _hours(resolution, given)))
    else:
        items = given.items() if isinstance(given, Mapping) else ((t[0], t[1:]) for t in given)
        for item in items:
            if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2 \
                    or isinstance(item[1], str | bytes) or not isinstance(item[1], Sequence) or len(item[1]) != 2:
                raise UsageError(f"sla_targets: {item!r} is not a priority with two targets; give a mapping "
                                 "priority -> (first response hours, resolution hours), e.g. {\"urgent\": (1, 4)}")
            priority, (first, resolution) = item
            for value in (first, resolution):
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                    raise UsageError(f"sla_targets {priority}: {value!r} is not a positive number of hours")
            triples.append((str(priority).strip().lower(), float(first), float(resolution)))
    seen: set[str] = set()
    for priority, _, _ in triples:
        if priority not in TICKET_PRIORITIES:
            raise UsageError(f"--sla-targets: {priority!r} is not a ticket priority; use "
                             f"{', '.join(TICKET_PRIORITIES)}")
        if priority in seen:
            raise UsageError(f"--sla-targets: {priority} is given twice; give each priority once")
        seen.add(priority)
    return tuple(sorted(triples, key=lambda t: TICKET_PRIORITIES.index(t[0])))
