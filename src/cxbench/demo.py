"""Demo and benchmark data: a year in the life of Northwind Outfitters, a fictional company.

Northwind sells subscriptions to its trip-planning app (plans basic, pro and business) and outdoor gear
in its online shop. `generate_dataset` writes one file per table of the data contract
(`cxbench.core.contract.TABLES`), with exactly the contract's column names:

- customers sign up all through the period (plus an existing base from before it), use the app, browse
  the shop, fill carts, order, open support tickets, answer surveys, refer friends and churn;
- traffic has a weekly rhythm (less app use and more shopping at weekends) and a season (Black Friday,
  the holidays, the summer hiking season);
- on day `initiative_day(days)` (60 % through the period; `INITIATIVE_DAY` for the default year) a
  customer-experience initiative starts and, ramping up over three weeks, lifts NPS, CSAT, CSS and CXi,
  lowers effort (CES), tickets per customer, time to answer and resolve, churn, cart abandonment and bounce.

The same function makes large Parquet datasets for benchmarks. Everything that grows with the number of
customers is made per block of `_BLOCK_CUSTOMERS` customers, each block from its own random stream, and
written as soon as `chunk_rows` rows are pending, so memory stays bounded whatever the size. Because the
streams belong to blocks and not to chunks, the data does not depend on `chunk_rows`: only how it is split
into files does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cxbench.core.contract import CXI_ITEMS, ORDER_KINDS, SURVEY_TYPES, TABLES, ColumnType, TableSpec

__all__ = ["BAD_ROWS", "DEFAULT_START", "INITIATIVE_DAY", "generate_dataset", "initiative_day", "months_before_initiative"]

#: The demo data's first day.
DEFAULT_START = dt.date(2025, 11, 1)
#: Where the initiative starts, as a share of the period.
INITIATIVE_SHARE = 0.6
#: Days over which the initiative's effects build up to their full size.
RAMP_DAYS = 21


def initiative_day(days: int) -> int:
    """The day offset (from `start`) on which the initiative starts in a dataset of `days` days."""
    return int(round(days * INITIATIVE_SHARE))


#: The initiative's start (day offset from `start`) for the default 365-day dataset.
INITIATIVE_DAY: int = initiative_day(365)


def clv_calibration_end(start: dt.date, days: int) -> dt.date:
    """The demo report's CLV calibration end: the last day of the month before the last third of the history, so
    the last third is the holdout the forecast is checked on (2026-06-30 for the default year)."""
    from cxbench.lifetime_value import holdout_calibration_end

    return holdout_calibration_end(start, start + dt.timedelta(days=days - 1))


def months_before_initiative(start: dt.date, days: int, months: int = 3) -> tuple[dt.date, dt.date] | None:
    """The `months` whole calendar months before the month the initiative starts in (from `start` at the
    earliest): the window the demo compares the latest month with. None when the data has no such month."""
    begins = start + dt.timedelta(days=initiative_day(days))
    last = begins.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    first = max(first, start)
    return (first, last) if first <= last else None

#: Deliberately bad rows per table, added to CSV datasets when `bad_rows=True` (Parquet gets none).
#: surveys: an nps score of 11, a `not-a-date` timestamp, a duplicate response_id, a csat score of 0;
#: orders: a negative amount on a purchase; tickets: resolved before it was opened.
BAD_ROWS: dict[str, int] = {"surveys": 4, "orders": 1, "tickets": 1}

DAY = 86_400
_MONTH = 2_629_800  # seconds in an average month (30.44 days): the billing cycle
_NO_TS = np.iinfo(np.int64).min  # a missing timestamp inside the generator
_BLOCK_CUSTOMERS = 500  # customers per random stream; fixed so the data never depends on chunk_rows
_EPOCH = dt.date(1970, 1, 1)

# Vocabularies. Text columns are kept as integer codes into these while generating (cheap to draw and to
# carry around) and only turned into strings by Arrow when a chunk is written.
SEGMENTS = ("consumer", "small_business", "enterprise")
PLANS = ("basic", "pro", "business")
REGIONS = ("north_america", "europe", "apac", "latam")
ACQUISITION = ("organic_search", "paid_search", "social", "referral", "email", "direct", "partner")
_REFERRAL = ACQUISITION.index("referral")
PLAN_PRICE = np.array([19.0, 49.0, 99.0])  # monthly price per seat

FEATURES = ("trip_planner", "gear_lists", "route_maps", "weather_alerts", "offline_maps", "team_sharing",
            "reports", "integrations")
PRODUCTS = ("alpine-tent-2p", "trail-runner-shoes", "down-jacket", "hydration-pack", "trekking-poles",
            "sleeping-bag-3s", "camp-stove", "rain-shell", "merino-base-layer", "headlamp-400", "water-filter",
            "daypack-24l", "hiking-boots", "insulated-bottle", "camp-chair", "gps-watch", "climbing-harness",
            "kayak-paddle", "bike-helmet", "ski-goggles")
HELP_ARTICLES = ("returns", "shipping-times", "billing", "change-plan", "cancel-subscription", "reset-password",
                 "warranty", "size-guide", "track-order", "app-sync")
BLOG_POSTS = ("best-trails-2026", "layering-guide", "tent-care", "winter-camping", "packing-list", "trail-etiquette")

_STATIC_PAGES = ("/", "/pricing", "/login", "/app/dashboard", "/cart", "/checkout", "/help", "/search", "/contact")
PAGES = (_STATIC_PAGES + tuple(f"/products/{p}" for p in PRODUCTS) + tuple(f"/app/{f}" for f in FEATURES)
         + tuple(f"/help/{a}" for a in HELP_ARTICLES) + tuple(f"/blog/{b}" for b in BLOG_POSTS))
_HOME, _PRICING, _LOGIN, _DASHBOARD, _CART, _CHECKOUT, _HELP, _SEARCH, _CONTACT = range(len(_STATIC_PAGES))
_PRODUCT0 = len(_STATIC_PAGES)
_APP0 = _PRODUCT0 + len(PRODUCTS)
_ARTICLE0 = _APP0 + len(FEATURES)
_BLOG0 = _ARTICLE0 + len(HELP_ARTICLES)

EVENTS = ("pageview", "pageleave", "login", "search", "add_to_cart", "checkout", "feature_used")
_PV, _PL, _LOGIN_EV, _SEARCH_EV, _ADD_EV, _CHECKOUT_EV, _FEATURE_EV = range(len(EVENTS))
_APP, _SHOP, _HELP_KIND = 0, 1, 2  # session kinds

TICKET_CHANNELS = ("phone", "email", "chat", "chatbot", "social")
_SOCIAL = TICKET_CHANNELS.index("social")
_FIRST_RESPONSE_S = np.array([180.0, 4 * 3600.0, 90.0, 5.0, 2 * 3600.0])  # median wait, before the initiative
_RESOLVE_S = np.array([25 * 60.0, 20 * 3600.0, 50 * 60.0, 15 * 60.0, 8 * 3600.0])  # median work, one contact
TICKET_PRIORITY_SHARES = (("low", 0.25), ("normal", 0.50), ("high", 0.18), ("urgent", 0.07))
TICKET_GROUPS = ("payments", "technical", "accounts")
TICKET_AGENTS = ("ana", "ben", "chloe", "dan", "eva", "farid")
#: Tag sets as a help desk writes them (space-separated); the empty set is a ticket without tags.
TICKET_TAGS = ("", "billing refund", "billing", "login bug", "bug", "shipping", "shipping refund", "vip billing",
               "vip bug", "feature_request")

INTENTS = ("buy", "compare prices", "get support", "track order", "browse")
TOUCHPOINTS = ("ordering", "onboarding", "support", "delivery")
_ORDERING, _ONBOARDING, _SUPPORT, _DELIVERY = range(len(TOUCHPOINTS))
SURVEY_CHANNELS = TICKET_CHANNELS + ("web", "in_app")  # ticket channel codes are survey channel codes
_WEB_CH, _IN_APP_CH = len(TICKET_CHANNELS), len(TICKET_CHANNELS) + 1
_EMAIL_CH = TICKET_CHANNELS.index("email")
ITEMS = CXI_ITEMS + ("ease",) + INTENTS  # cxi items, the ces agreement wording, the intent of a task
_EASE = len(CXI_ITEMS)
_INTENT_ITEM0 = len(CXI_ITEMS) + 1
ANSWERS = INTENTS + ("yes", "no")
_YES, _NO = len(INTENTS), len(INTENTS) + 1
_S = {name: i for i, name in enumerate(SURVEY_TYPES)}
COMMENTS = (
    # negative
    "Waited far too long for an answer.", "Had to explain my problem three times.",
    "Checkout kept failing, I almost gave up.", "The app lost my offline maps again.",
    "Refund took weeks.", "Too expensive for what it does.",
    # neutral
    "It was fine.", "Does the job.", "Delivery was on time, packaging could be better.",
    "OK, but the pricing page is confusing.", "Nothing special.", "Average experience overall.",
    # positive
    "Support sorted it out in minutes!", "Love the trip planner, use it every weekend.",
    "Fast delivery and great gear.", "Super easy to upgrade my plan.", "The team really listened.",
    "Best outdoor shop online, thanks Northwind!",
)
_COMMENTS_PER_TONE = 6

ORDER_CHANNELS = ("web", "mobile_app", "sales_team", "subscription")
_WEB, _MOBILE, _SALES_TEAM, _SUBSCRIPTION = range(len(ORDER_CHANNELS))
_K = {name: i for i, name in enumerate(ORDER_KINDS)}

PLATFORMS = ("instagram", "facebook", "x", "linkedin", "tiktok")
MENTION_TEXTS = (
    # negative
    "@northwind my tent arrived with a broken pole, still waiting on support",
    "Northwind app crashed on the trail and I lost my route. Not great.",
    "Third email to @northwind about my refund, zero reply",
    "Cancelled my Northwind subscription, billing was a mess",
    # neutral
    "Anyone tried the Northwind daypack? Thinking of buying one",
    "Northwind has a sale on rain shells this week",
    "Comparing Northwind pro vs business plans for our hiking club",
    "Picked up a camp stove from Northwind, we will see how it does",
    # positive
    "Shout out to @northwind support, fixed my order in one chat!",
    "The Northwind trip planner made our weekend so easy",
    "Northwind boots survived 200 km without a blister. Love them",
    "Upgraded to Northwind pro, the offline maps are worth it",
)
_MENTIONS_PER_TONE = 4

CAMPAIGNS = (("winter_gear_sale", "email"), ("black_friday", "search"), ("holiday_gifts", "social"),
             ("new_year_trails", "email"), ("spring_hike", "social"), ("refer_a_friend", "email"),
             ("summer_camping", "display"), ("back_to_trail", "search"), ("pro_plan_upgrade", "email"),
             ("app_onboarding", "social"), ("fall_layers", "display"))
_CTR = {"email": 0.035, "social": 0.012, "search": 0.045, "display": 0.004}
SPEND_LINES = (  # kind, channel, segment, share of the daily budget
    ("marketing", "paid_search", "consumer", 0.20), ("marketing", "paid_search", "small_business", 0.12),
    ("marketing", "social", "consumer", 0.18), ("marketing", "display", "consumer", 0.08),
    ("marketing", "email", "consumer", 0.04), ("marketing", "affiliates", "consumer", 0.08),
    ("sales", "sales_team", "small_business", 0.12), ("sales", "sales_team", "enterprise", 0.18),
)

# Share of sessions (customers' and visitors') by hour of day (UTC), and of tickets.
_HOURS_WEB = np.array([1.0, .6, .4, .3, .3, .4, .8, 1.5, 2.5, 3, 3.2, 3.2,
                       3, 3, 3, 3, 2.8, 2.8, 3, 3.2, 3, 2.5, 2, 1.5])
_HOURS_WEB /= _HOURS_WEB.sum()
_HOURS_SUPPORT = np.array([.3, .2, .1, .1, .1, .2, .5, 1.5, 3, 4, 4, 3.8,
                           3.2, 3.6, 3.8, 3.6, 3, 2.2, 1.5, 1.2, 1, .8, .6, .4])
_HOURS_SUPPORT /= _HOURS_SUPPORT.sum()
_HOURS_OFFICE = np.array([0] * 8 + [1, 2, 2, 2, 1, 2, 2, 2, 1.5, 1] + [0] * 6, dtype=float)
_HOURS_OFFICE /= _HOURS_OFFICE.sum()

# How CSV timestamps are written: most in UTC with Z, about 5 % with an offset (same instant, local clock),
# so readers have to apply the offset. The choice is a hash of the instant, so one instant is always
# written the same way (a cxi answer's four items, or an intent and its task_completion, share their text).
_OFFSET_MINUTES = np.array([0, 120, -300, 330])
_OFFSET_TEXT = pa.array(["Z", "+02:00", "-05:00", "+05:30"])
_OFFSET_PERCENT = 5

# Number columns written as integers (the rest are float64: money, sentiment, prices).
_INTEGER_COLUMNS = {
    ("events", "scroll_pct"), ("surveys", "score"), ("surveys", "scale_min"), ("surveys", "scale_max"),
    ("tickets", "contacts"), ("tickets", "reopens"), ("tickets", "agent_replies"),
    ("campaigns", "impressions"), ("campaigns", "clicks"),
    ("social_posts", "impressions"), ("social_posts", "likes"), ("social_posts", "shares"),
    ("social_posts", "comments"), ("social_posts", "saves"), ("social_posts", "mentions"),
}
_BIG_TABLES = ("events",)  # written as a folder of part files in Parquet


# --------------------------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    """The period, in epoch seconds, and its daily rhythms."""

    start_s: int
    days: int
    initiative_s: int
    weekend: np.ndarray  # bool per day
    season: np.ndarray  # demand multiplier per day (1 = average)

    @property
    def end_s(self) -> int:
        return self.start_s + self.days * DAY

    def ramp(self, t: np.ndarray) -> np.ndarray:
        """How much of the initiative's effect applies at instants `t`: 0 before it, 1 after three weeks."""
        return np.clip((t - self.initiative_s) / (RAMP_DAYS * DAY), 0.0, 1.0)

    def day_of(self, t: np.ndarray) -> np.ndarray:
        return np.clip((t - self.start_s) // DAY, 0, self.days - 1)

    def weekend_factor(self, weekend: float, weekday: float = 1.0, *, seasonal: bool = True) -> np.ndarray:
        factor = np.where(self.weekend, weekend, weekday)
        return factor * self.season if seasonal else factor


def _calendar(start: dt.date, days: int) -> _Calendar:
    index = np.arange(days)
    dates = np.datetime64(start.isoformat(), "D") + index
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    # An outdoor shop: a summer hiking season, Black Friday to Cyber Monday, then holiday gifts.
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (doy - 80) / 365.25)
    season += 0.6 * (((month == 11) & (dom >= 24)) | ((month == 12) & (dom <= 2)))
    season += 0.2 * ((month == 12) & (dom >= 3) & (dom <= 22))
    start_s = (start - _EPOCH).days * DAY
    return _Calendar(start_s=start_s, days=days, initiative_s=start_s + initiative_day(days) * DAY,
                     weekend=(start.weekday() + index) % 7 >= 5, season=season)


def _hour_seconds(rng: np.random.Generator, n: int, hours: np.ndarray) -> np.ndarray:
    """Seconds after midnight, drawn from an hour-of-day profile."""
    return rng.choice(24, n, p=hours) * 3600 + rng.integers(0, 3600, n)


def _arrivals(rng: np.random.Generator, cal: _Calendar, begin: np.ndarray, end: np.ndarray,
              rate_before: np.ndarray | float, rate_after: np.ndarray | float | None,
              day_factor: np.ndarray, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals for each owner inside its window [begin, end) (epoch seconds).

    The rate per day moves from `rate_before` to `rate_after` as the initiative ramps up and is scaled by
    `day_factor` (weekday and season). Arrivals are drawn at the peak rate and thinned, which keeps this
    one vectorised pass however the rate varies. Returns (owner index, instant).
    """
    n_owners = begin.size
    before = np.broadcast_to(np.asarray(rate_before, dtype=float), (n_owners,))
    after = before if rate_after is None else np.broadcast_to(np.asarray(rate_after, dtype=float), (n_owners,))
    width = np.maximum(end - begin, 0)
    peak = np.maximum(before, after) * day_factor.max()
    counts = rng.poisson(peak * width / DAY)
    owner = np.repeat(np.arange(n_owners), counts)
    t = begin[owner] + (rng.random(owner.size) * width[owner]).astype(np.int64)
    day = cal.day_of(t)
    rate = before[owner] + (after[owner] - before[owner]) * cal.ramp(t)
    keep = rng.random(owner.size) * peak[owner] < rate * day_factor[day]
    owner, day = owner[keep], day[keep]
    # Keep the day, redraw the time of day from the profile, and stay inside the owner's window.
    t = cal.start_s + day * DAY + _hour_seconds(rng, owner.size, hours)
    return owner, np.clip(t, begin[owner], end[owner] - 1)


def _positions(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each group of a repeat by `counts`."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def _pick(rng: np.random.Generator, cumulative: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One choice per element, each from the distribution `cumulative[rows[i]]` (rows of cumulative shares)."""
    u = rng.random(rows.size)
    return (u[:, None] > cumulative[rows]).sum(axis=1)


def _cumulative(shares: list[list[float]]) -> np.ndarray:
    table = np.asarray(shares, dtype=float)
    table = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    table[:, -1] = 1.0 + 1e-9  # never fall off the end through rounding
    return table


def _scores(rng: np.random.Generator, mean: np.ndarray, sd: float, low: int, high: int) -> np.ndarray:
    """Answers on a low..high scale: a latent score plus noise, rounded and clipped."""
    return np.clip(np.rint(mean + rng.normal(0.0, sd, mean.shape)), low, high)


# --------------------------------------------------------------------------------------------- customers


@dataclass
class _Customers:
    """Every customer, as arrays indexed by position (customer id `c_{position + 1}`, in signup order)."""

    signup: np.ndarray
    segment: np.ndarray
    plan: np.ndarray  # the current plan (after any plan change)
    region: np.ndarray
    acquisition: np.ndarray
    paying: np.ndarray
    activity: np.ndarray  # sessions per active day
    sat: np.ndarray  # latent satisfaction, standard normal: happier customers score higher and churn less
    active_from: np.ndarray  # max(signup, start): when their data starts
    active_to: np.ndarray  # churn, drop-off or the end of the period


@dataclass
class _Subscriptions:
    """Subscription rows, sorted by customer then start."""

    customer: np.ndarray
    start: np.ndarray
    end: np.ndarray  # _NO_TS while active
    mrr: np.ndarray
    plan: np.ndarray
    upgrade_from: np.ndarray  # the previous row's mrr when the row starts with an upgrade, else NaN
    changed: np.ndarray  # the row starts with a plan change (no new billing cycle at its start)


def _make_customers(rng: np.random.Generator, cal: _Calendar, n: int) -> tuple[_Customers, _Subscriptions]:
    n_existing = int(round(n * 0.5))
    # The existing base signed up over the previous 18 months, recent months more than older ones.
    back_days = rng.triangular(0.0, 0.0, 540.0, n_existing)
    existing = cal.start_s - (back_days * DAY).astype(np.int64) - 1
    # New signups grow through the year, dip at weekends and follow the season.
    growth = 1.0 + 0.5 * np.arange(cal.days) / max(cal.days, 1)
    weights = growth * cal.weekend_factor(0.85)
    days = rng.choice(cal.days, n - n_existing, p=weights / weights.sum())
    new = cal.start_s + days * DAY + _hour_seconds(rng, days.size, _HOURS_WEB)
    signup = np.sort(np.concatenate([existing, new]))

    segment = rng.choice(3, n, p=[0.55, 0.30, 0.15])
    plan = _pick(rng, _cumulative([[60, 35, 5], [25, 55, 20], [5, 30, 65]]), segment)
    region = rng.choice(len(REGIONS), n, p=[0.40, 0.35, 0.15, 0.10])
    acquisition = rng.choice(len(ACQUISITION), n, p=[0.28, 0.20, 0.15, 0.12, 0.08, 0.12, 0.05])
    paying = rng.random(n) < np.array([0.62, 0.80, 0.92])[plan]
    sat = rng.normal(0.0, 1.0, n)
    activity = rng.gamma(2.0, 0.025, n) * np.array([1.0, 1.15, 1.3])[segment] * np.where(paying, 1.15, 0.8)
    active_from = np.maximum(signup, cal.start_s)

    # Churn: a constant monthly hazard that drops when the initiative starts (3.2 % -> 1.7 % a month),
    # higher for unhappy customers. Inverting the piecewise-constant cumulative hazard draws the churn time.
    risk = np.exp(-0.35 * sat - 0.35**2 / 2)
    h_before = -np.log(1 - 0.032) / 30.44 * risk / DAY  # per second
    h_after = -np.log(1 - 0.017) / 30.44 * risk / DAY
    effort = rng.exponential(1.0, n)
    mass_before = np.maximum(cal.initiative_s - active_from, 0) * h_before
    churn_at = np.where(effort < mass_before, active_from + effort / h_before,
                        np.maximum(active_from, cal.initiative_s) + (effort - mass_before) / h_after)
    churn_at = np.minimum(churn_at, np.iinfo(np.int64).max // 4).astype(np.int64)
    churned = paying & (churn_at < cal.end_s)
    # Free users drift away after a few months of use.
    drop_off = active_from + (rng.exponential(75.0, n) * DAY).astype(np.int64)
    active_to = np.minimum(np.where(paying, churn_at, drop_off), cal.end_s)
    active_to = np.maximum(active_to, active_from)

    # Plan changes: a fifth of subscribers change plan once, mostly upgrades.
    seats = 1 + rng.poisson(np.array([0.0, 0.6, 3.0])[plan])
    span = active_to - active_from
    changes = paying & (rng.random(n) < 0.2) & (span > 2 * DAY)
    change_at = active_from + (rng.uniform(0.1, 0.9, n) * span).astype(np.int64)
    up = (plan == 0) | ((plan == 1) & (rng.random(n) < 0.75))
    new_plan = np.where(up, plan + 1, plan - 1)
    current_plan = np.where(changes, new_plan, plan)

    payer = np.flatnonzero(paying)
    first_end = np.where(changes, change_at, np.where(churned, churn_at, _NO_TS))[payer]
    changer = np.flatnonzero(changes)
    customer = np.concatenate([payer, changer])
    order = np.argsort(customer, kind="stable")  # first rows come before second rows of the same customer
    old_mrr = PLAN_PRICE[plan] * seats
    new_mrr = PLAN_PRICE[new_plan] * seats
    subs = _Subscriptions(
        customer=customer[order],
        start=np.concatenate([signup[payer], change_at[changer]])[order],
        end=np.concatenate([first_end, np.where(churned, churn_at, _NO_TS)[changer]])[order],
        mrr=np.concatenate([old_mrr[payer], new_mrr[changer]])[order],
        plan=np.concatenate([plan[payer], new_plan[changer]])[order],
        upgrade_from=np.concatenate([np.full(payer.size, np.nan), np.where(up, old_mrr, np.nan)[changer]])[order],
        changed=np.concatenate([np.zeros(payer.size, bool), np.ones(changer.size, bool)])[order],
    )
    customers = _Customers(signup=signup, segment=segment, plan=current_plan, region=region,
                           acquisition=acquisition, paying=paying, activity=activity, sat=sat,
                           active_from=active_from, active_to=active_to)
    return customers, subs


# --------------------------------------------------------------------------------------------- one block


class _Counters:
    """Running ids per table, so ids stay unique across blocks and chunks."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, name: str, n: int) -> np.ndarray:
        first = self._next.get(name, 1)
        self._next[name] = first + n
        return np.arange(first, first + n, dtype=np.int64)


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers, pa.int64()), pa.string()), "")


def _text(vocabulary: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Codes into `vocabulary` as strings; a negative code is a null."""
    codes = np.asarray(codes)
    return pa.array(vocabulary, pa.string()).take(pa.array(codes, pa.int32(), mask=codes < 0))


def _person_ids(kind: np.ndarray, number: np.ndarray) -> pa.Array:
    """c_N for a customer (kind 0), v_N for an anonymous visitor (1), e_N for an employee (2)."""
    prefix = _text(("c_", "v_", "e_"), kind)
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(number, pa.int64()), pa.string()), "")


def _block(rng: np.random.Generator, cal: _Calendar, cust: _Customers, subs: _Subscriptions, lo: int, hi: int,
           visitor_base: int, ids: _Counters) -> dict[str, dict[str, Any]]:
    """The rows of customers lo..hi-1 (and of their share of anonymous visitors), per table."""
    sessions = _sessions(rng, cal, cust, lo, hi, visitor_base)
    events, carts, purchases, intent = _session_rows(rng, cal, sessions, ids)
    orders = _orders(rng, cal, cust, subs, lo, hi, purchases, ids)
    tickets, ticket_info = _tickets(rng, cal, cust, lo, hi, ids)
    surveys = _customer_surveys(rng, cal, cust, lo, hi, ticket_info, purchases, intent, ids)
    referrals = _open_referrals(rng, cal, cust, lo, hi)
    return {"events": events, "carts": carts, "orders": orders, "tickets": tickets, "surveys": surveys,
            "referrals": referrals}


def _sessions(rng: np.random.Generator, cal: _Calendar, cust: _Customers, lo: int, hi: int,
              visitor_base: int) -> dict[str, np.ndarray]:
    """Website and app sessions of the block's customers and of its anonymous visitors."""
    begin, end = cust.active_from[lo:hi], cust.active_to[lo:hi]
    owner, t_cust = _arrivals(rng, cal, begin, end, cust.activity[lo:hi], None, cal.weekend_factor(0.8), _HOURS_WEB)

    # Anonymous visitors: 1.2 per customer, more of them at weekends; a third come back once or more.
    n_visitors = int(round(1.2 * (hi - lo)))
    weights = cal.weekend_factor(1.25)
    first_day = rng.choice(cal.days, n_visitors, p=weights / weights.sum())
    first = cal.start_s + first_day * DAY + _hour_seconds(rng, n_visitors, _HOURS_WEB)
    visits = 1 + rng.poisson(0.5, n_visitors)
    visitor = np.repeat(np.arange(n_visitors), visits)
    later = _positions(visits) > 0
    t_visit = first[visitor] + np.where(later, (rng.exponential(12.0, visitor.size) * DAY).astype(np.int64), 0)

    is_customer = np.concatenate([np.ones(owner.size, bool), np.zeros(visitor.size, bool)])
    number = np.concatenate([owner + lo + 1, visitor + visitor_base + 1])
    t = np.concatenate([t_cust, t_visit])
    keep = t < cal.end_s - 3600  # leave room for the session to end inside the period
    order = np.argsort(t[keep], kind="stable")
    is_customer, number, t = is_customer[keep][order], number[keep][order], t[keep][order]
    n = t.size

    weekend = cal.weekend[cal.day_of(t)]
    ramp = cal.ramp(t)
    u = rng.random(n)
    p_app = np.where(weekend, 0.25, 0.50)  # customers use the app on weekdays, shop at weekends
    kind = np.where(is_customer, np.where(u < p_app, _APP, np.where(u < p_app + 0.08, _HELP_KIND, _SHOP)),
                    np.where(u < 0.15, _HELP_KIND, _SHOP))
    p_bounce = np.where(is_customer, 0.34 - 0.09 * ramp, 0.52 - 0.10 * ramp)
    bounced = rng.random(n) < np.where(kind == _APP, 0.5 * p_bounce, p_bounce)
    cart = is_customer & (kind == _SHOP) & ~bounced & (rng.random(n) < np.where(weekend, 0.40, 0.33))
    checkout = cart & (rng.random(n) < 0.30 + 0.12 * ramp)  # abandonment 70 % -> 58 %
    return {"is_customer": is_customer, "number": number, "t": t, "kind": kind, "bounced": bounced,
            "cart": cart, "checkout": checkout, "ramp": ramp}


def _session_rows(rng: np.random.Generator, cal: _Calendar, s: dict[str, np.ndarray], ids: _Counters
                  ) -> tuple[dict[str, Any], dict[str, Any], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Events, carts, purchases and intent answers from the sessions.

    A session is a row of pageviews; each pageview has a slot of ten steps: the pageview at step 0, product
    events at steps 1-5, the pageleave at step 9. A step lasts `gap` seconds, so timestamps follow the story.
    """
    n = s["t"].size
    kind, bounced, cart, checkout = s["kind"], s["bounced"], s["cart"], s["checkout"]
    n_features = 1 + np.minimum(rng.poisson(1.4, n), 7)
    n_browse = np.minimum(rng.geometric(0.4, n), 10)  # shop pages after the landing page
    n_help = 1 + np.minimum(rng.poisson(1.0, n), 4)
    n_pages = np.select([bounced, kind == _APP, kind == _SHOP],
                        [1, 2 + n_features, 1 + n_browse + cart + checkout], 1 + n_help)
    gap = np.where(bounced, rng.integers(1, 5, n), rng.integers(3, 13, n))

    # One row per pageview.
    sess = np.repeat(np.arange(n), n_pages)
    pos = _positions(n_pages)
    m = sess.size
    s_kind, s_bounced, s_cart = kind[sess], bounced[sess], cart[sess]
    nb = n_browse[sess]
    u = rng.random(m)
    landing = np.select([u < 0.35, u < 0.70, u < 0.82, u < 0.94],
                        [_HOME, _PRODUCT0 + _product(rng, m), _PRICING, _BLOG0 + rng.integers(0, len(BLOG_POSTS), m)],
                        _HELP)
    u = rng.random(m)
    browse = np.select([u < 0.70, u < 0.85, u < 0.90, u < 0.95],
                       [_PRODUCT0 + _product(rng, m), _SEARCH, _HOME, _PRICING],
                       _BLOG0 + rng.integers(0, len(BLOG_POSTS), m))
    feature = rng.choice(len(FEATURES), m, p=_share([5, 4, 4, 3, 3, 2, 2, 1]))
    article = _ARTICLE0 + rng.integers(0, len(HELP_ARTICLES), m)
    last = pos == n_pages[sess] - 1
    page = np.select(
        [s_bounced & (s_kind == _HELP_KIND), s_bounced,
         (s_kind == _APP) & (pos == 0), (s_kind == _APP) & (pos == 1), s_kind == _APP,
         (s_kind == _SHOP) & (pos == 0), (s_kind == _SHOP) & s_cart & (pos == nb + 1),
         (s_kind == _SHOP) & s_cart & (pos == nb + 2), (s_kind == _SHOP) & s_cart & (pos == nb),
         s_kind == _SHOP,
         pos == 0, last & (pos >= 2) & (rng.random(m) < 0.3)],
        [_HELP, landing,
         _LOGIN, _DASHBOARD, _APP0 + feature,
         landing, _CART,
         _CHECKOUT, _PRODUCT0 + _product(rng, m),
         browse,
         _HELP, _CONTACT],
        article,
    )
    scroll = np.where(s_bounced, rng.beta(1.2, 3.5, m), rng.beta(2.2, 1.6, m))
    scroll = np.rint(100 * np.minimum(scroll + 0.05 * s["ramp"][sess], 1.0))

    # Events: pageviews, pageleaves (the tracker misses some) and product events in their page's slot.
    leave = rng.random(m) < 0.85
    is_feature = (s_kind == _APP) & (pos >= 2)
    is_search = page == _SEARCH
    is_add = (s_kind == _SHOP) & s_cart & (pos == nb)
    is_checkout = page == _CHECKOUT
    is_login = (page == _LOGIN) & ~s_bounced
    parts = [(np.ones(m, bool), 0, _PV), (leave, 9, _PL), (is_login, 1, _LOGIN_EV), (is_search, 2, _SEARCH_EV),
             (is_feature, 3, _FEATURE_EV), (is_add, 5, _ADD_EV), (is_checkout, 5, _CHECKOUT_EV)]
    ev_row = np.concatenate([np.flatnonzero(mask) for mask, _, _ in parts])
    ev_step = np.concatenate([pos[mask] * 10 + step for mask, step, _ in parts])
    ev_name = np.concatenate([np.full(int(mask.sum()), name, np.int8) for mask, _, name in parts])
    ev_sess = sess[ev_row]
    ts = s["t"][ev_sess] + ev_step * gap[ev_sess]
    order = np.lexsort((ev_step, ts))
    ev_row, ev_name, ev_sess, ts = ev_row[order], ev_name[order], ev_sess[order], ts[order]
    session_ids = ids.take("session", n)
    events = {
        "user_id": _person_ids(np.where(s["is_customer"], 0, 1)[ev_sess], s["number"][ev_sess]),
        "ts": ts,
        "event": _text(EVENTS, ev_name),
        "page": _text(PAGES, page[ev_row]),
        "feature": _text(FEATURES, np.where(ev_name == _FEATURE_EV, feature[ev_row], -1)),
        "session_id": _ids("s_", session_ids[ev_sess]),
        "scroll_pct": np.where(ev_name == _PV, scroll[ev_row], np.nan),
        "event_id": _ids("ev_", ids.take("event", ts.size)),
    }

    # Carts: created by add_to_cart, checked out by the checkout event (same instants as the events).
    c = np.flatnonzero(cart)
    created = s["t"][c] + (n_browse[c] * 10 + 5) * gap[c]
    done = checkout[c]
    checked_out = np.where(done, s["t"][c] + ((n_browse[c] + 2) * 10 + 5) * gap[c], _NO_TS)
    carts = {"cart_id": _ids("cart_", ids.take("cart", c.size)), "user_id": _ids("c_", s["number"][c]),
             "created_at": created, "checked_out_at": checked_out}
    purchases = {"customer": s["number"][c][done] - 1, "ts": checked_out[done],
                 "mobile": rng.random(int(done.sum())) < 0.3}

    # Site intercept survey: 5 % of engaged sessions say why they came, and later whether they managed.
    asked = np.flatnonzero(~bounced & (rng.random(n) < 0.05))
    intent_cum = _cumulative([[5, 0, 25, 50, 20], [45, 30, 0, 5, 20], [0, 0, 60, 40, 0]])
    intent = _pick(rng, intent_cum, kind[asked])
    p_done = np.array([0.70, 0.80, 0.55, 0.75, 0.88])[intent] + 0.07 * s["ramp"][asked]
    intent_rows = {"kind": np.where(s["is_customer"][asked], 0, 1), "number": s["number"][asked],
                   "ts": s["t"][asked] + 5, "intent": intent, "done": rng.random(asked.size) < p_done}
    return events, carts, purchases, intent_rows


def _share(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


_PRODUCT_P = _share([1 / (i + 1) ** 0.8 for i in range(len(PRODUCTS))])  # a few best sellers, a long tail


def _product(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(PRODUCTS), n, p=_PRODUCT_P)


def _orders(rng: np.random.Generator, cal: _Calendar, cust: _Customers, subs: _Subscriptions, lo: int, hi: int,
            purchases: dict[str, np.ndarray], ids: _Counters) -> dict[str, Any]:
    """Purchases (from checked-out carts), cross-sells, refunds, add-ons, monthly charges and upgrades."""
    customer, ts, amount, kind, channel = [], [], [], [], []

    def add(c: np.ndarray, t: np.ndarray, a: np.ndarray, k: int, ch: np.ndarray | int) -> None:
        customer.append(c)
        ts.append(t)
        amount.append(np.round(a, 2))
        kind.append(np.full(c.size, k, np.int8))
        channel.append(np.broadcast_to(np.asarray(ch, np.int8), c.shape))

    p_c, p_t = purchases["customer"], purchases["ts"]
    basket = np.maximum(rng.lognormal(np.log(75.0), 0.55, p_c.size) * np.array([1.0, 1.3, 1.6])[cust.segment[p_c]], 5.0)
    add(p_c, p_t, basket, _K["purchase"], np.where(purchases["mobile"], _MOBILE, _WEB))
    cross = rng.random(p_c.size) < 0.12  # "customers also bought": an accessory in a second order
    add(p_c[cross], p_t[cross] + 120, np.maximum(rng.lognormal(np.log(22.0), 0.4, int(cross.sum())), 3.0),
        _K["cross_sell"], _WEB)
    refund = rng.random(p_c.size) < 0.07 - 0.025 * cal.ramp(p_t)
    refund_at = p_t + (rng.uniform(2, 25, p_c.size) * DAY).astype(np.int64)
    refund &= refund_at < cal.end_s
    share = np.where(rng.random(p_c.size) < 0.7, 1.0, rng.uniform(0.2, 0.6, p_c.size))
    add(p_c[refund], refund_at[refund], -np.maximum(np.round(basket * share, 2), 1.0)[refund], _K["refund"],
        _WEB)

    # Add-ons (extra storage, seats) for paying customers, about one a year.
    payer = np.flatnonzero(cust.paying[lo:hi])
    owner, t = _arrivals(rng, cal, cust.active_from[lo:hi][payer], cust.active_to[lo:hi][payer], 1 / 250, None,
                         cal.weekend_factor(0.7, seasonal=False), _HOURS_WEB)
    add(payer[owner] + lo, t, rng.choice([9.0, 15.0, 29.0, 49.0], owner.size), _K["addon"], _WEB)

    # Monthly charges of each subscription row inside the period; a row that starts with a plan change
    # keeps the billing date (no charge at the change), an upgrade is charged the difference right away.
    first, stop = np.searchsorted(subs.customer, [lo, hi])
    start, end = subs.start[first:stop], subs.end[first:stop]
    limit = np.where(end == _NO_TS, cal.end_s, np.minimum(end, cal.end_s))
    k0 = np.maximum(subs.changed[first:stop].astype(np.int64), -((start - cal.start_s) // _MONTH))
    k1 = -((start - limit) // _MONTH) - 1  # last k with start + k * month < limit
    charges = np.maximum(k1 - k0 + 1, 0)
    row = np.repeat(np.arange(start.size), charges)
    k = k0[row] + _positions(charges)
    add(subs.customer[first:stop][row], start[row] + k * _MONTH, subs.mrr[first:stop][row], _K["recurring"],
        _SUBSCRIPTION)
    upgrade = np.flatnonzero(~np.isnan(subs.upgrade_from[first:stop]))
    rows = upgrade + first
    add(subs.customer[rows], subs.start[rows], subs.mrr[rows] - subs.upgrade_from[rows], _K["upsell"],
        np.where(rng.random(rows.size) < 0.5, _SALES_TEAM, _WEB))

    all_ts = np.concatenate(ts)
    order = np.argsort(all_ts, kind="stable")
    return {"order_id": _ids("o_", ids.take("order", all_ts.size)),
            "customer_id": _ids("c_", np.concatenate(customer)[order] + 1),
            "ts": all_ts[order], "amount": np.concatenate(amount)[order],
            "kind": _text(ORDER_KINDS, np.concatenate(kind)[order]),
            "channel": _text(ORDER_CHANNELS, np.concatenate(channel)[order])}


def _tickets(rng: np.random.Generator, cal: _Calendar, cust: _Customers, lo: int, hi: int, ids: _Counters
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Support tickets: fewer after the initiative, answered and resolved faster, more often at first contact."""
    rate_before = np.where(cust.paying[lo:hi], 0.011, 0.004) * np.exp(-0.25 * cust.sat[lo:hi])
    owner, opened = _arrivals(rng, cal, cust.active_from[lo:hi], cust.active_to[lo:hi], rate_before,
                              0.62 * rate_before, cal.weekend_factor(0.55, seasonal=False), _HOURS_SUPPORT)
    order = np.argsort(opened, kind="stable")
    owner, opened = owner[order], opened[order]
    n = opened.size
    ramp = cal.ramp(opened)
    channel = rng.choice(len(TICKET_CHANNELS), n, p=[0.20, 0.30, 0.25, 0.15, 0.10])
    first_contact = rng.random(n) < 0.60 + 0.14 * ramp
    contacts = np.where(first_contact, 1, 2 + rng.binomial(3, 0.3, n))
    wait = (_FIRST_RESPONSE_S[channel] * (1 - 0.5 * ramp) * rng.lognormal(0.0, 0.6, n)).astype(np.int64) + 1
    stuck = np.where(rng.random(n) < 0.03, 20.0, 1.0)  # a few tickets wait on a supplier or a refund for days
    work = _RESOLVE_S[channel] * contacts**0.8 * stuck * (1 - 0.45 * ramp) * rng.lognormal(0.0, 0.7, n)
    work = work.astype(np.int64)
    first_response = opened + wait
    resolved = first_response + work + 60
    anonymous = (channel == _SOCIAL) & (rng.random(n) < 0.25)  # a public complaint we cannot tie to anyone
    first_response = np.where(first_response < cal.end_s, first_response, _NO_TS)
    resolved = np.where(resolved < cal.end_s, resolved, _NO_TS)  # still open at the end of the period
    customer = owner + lo
    tickets = {"ticket_id": _ids("t_", ids.take("ticket", n)),
               "customer_id": pc.if_else(pa.array(anonymous, pa.bool_()), pa.scalar(None, pa.string()),
                                         _ids("c_", customer + 1)),
               "channel": _text(TICKET_CHANNELS, channel), "opened_at": opened, "resolved_at": resolved,
               "contacts": contacts, "first_response_at": first_response, **_ticket_routing(n, lo, hi, contacts,
                                                                                            first_response, resolved, ramp)}
    done = (resolved != _NO_TS) & ~anonymous
    info = {"customer": customer[done], "resolved": resolved[done], "channel": channel[done],
            "contacts": contacts[done], "ramp": ramp[done]}
    return tickets, info


def _ticket_routing(n: int, lo: int, hi: int, contacts: np.ndarray, first_response: np.ndarray, resolved: np.ndarray,
                    ramp: np.ndarray) -> dict[str, Any]:
    """Priority, group, agent, tags, reopens and agent replies (issue 18), from their own random stream so the
    other ticket columns stay as they were: fewer reopens after the initiative, one reply per first contact."""
    rng = np.random.default_rng([n, lo, hi, 18])
    priority = rng.choice(len(TICKET_PRIORITY_SHARES), n, p=[share for _, share in TICKET_PRIORITY_SHARES])
    group = rng.choice(len(TICKET_GROUPS), n, p=[0.4, 0.4, 0.2])
    agent = rng.integers(0, len(TICKET_AGENTS), n)
    tags = rng.choice(len(TICKET_TAGS), n, p=[0.3, 0.12, 0.12, 0.1, 0.08, 0.08, 0.05, 0.05, 0.04, 0.06])
    answered, solved = first_response != _NO_TS, resolved != _NO_TS
    # One reply per contact, now and then one more; none before the first response.
    replies = np.where(answered, contacts + (rng.random(n) < 0.15), 0)
    reopens = np.where(solved, rng.binomial(2, 0.06 * (1 - 0.5 * ramp)), 0)
    return {"priority": _text(tuple(p for p, _ in TICKET_PRIORITY_SHARES), priority),
            "group": _text(TICKET_GROUPS, group), "agent": _text(TICKET_AGENTS, np.where(answered, agent, -1)),
            "tags": _text(TICKET_TAGS[1:], tags - 1), "reopens": reopens, "agent_replies": replies}


class _SurveyRows:
    """Survey answers as code arrays, gathered part by part and turned into one table at the end."""

    _DEFAULTS = {"kind": 0, "number": 0, "ts": 0, "survey": 0, "score": np.nan, "scale_min": np.nan,
                 "scale_max": np.nan, "item": -1, "answer": -1, "touchpoint": -1, "channel": -1}

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, survey: str, number: np.ndarray, ts: np.ndarray, **columns: Any) -> None:
        n = number.size
        part = {name: np.broadcast_to(np.asarray(columns.get(name, default)), (n,))
                for name, default in self._DEFAULTS.items()}
        part.update(number=number, ts=ts, survey=np.full(n, _S[survey]))
        self.parts.append(part)

    def table(self, rng: np.random.Generator, ids: _Counters) -> dict[str, Any]:
        cols = {name: np.concatenate([p[name] for p in self.parts]) if self.parts
                else np.zeros(0, np.asarray(default).dtype) for name, default in self._DEFAULTS.items()}
        n = cols["ts"].size
        order = np.lexsort((np.arange(n), cols["ts"]))
        cols = {name: value[order] for name, value in cols.items()}
        # A few answers carry a comment whose tone follows the score (low effort is good news for ces).
        score, low, high = cols["score"], cols["scale_min"], cols["scale_max"]
        with np.errstate(invalid="ignore"):
            good = (score - low) / (high - low)
        effort = (cols["survey"] == _S["ces"]) & (cols["item"] != _EASE)
        good = np.where(effort, 1 - good, good)
        tone = np.where(good < 0.4, 0, np.where(good > 0.7, 2, 1))
        commented = ~np.isnan(score) & (rng.random(n) < 0.12)
        comment = np.where(commented, tone * _COMMENTS_PER_TONE + rng.integers(0, _COMMENTS_PER_TONE, n), -1)
        return {"response_id": _ids("r_", ids.take("response", n)),
                "respondent_id": _person_ids(cols["kind"], cols["number"]),
                "ts": cols["ts"], "survey": _text(SURVEY_TYPES, cols["survey"]), "score": score,
                "scale_min": cols["scale_min"], "scale_max": cols["scale_max"], "item": _text(ITEMS, cols["item"]),
                "answer": _text(ANSWERS, cols["answer"]), "touchpoint": _text(TOUCHPOINTS, cols["touchpoint"]),
                "channel": _text(SURVEY_CHANNELS, cols["channel"]), "comment": _text(COMMENTS, comment)}


def _customer_surveys(rng: np.random.Generator, cal: _Calendar, cust: _Customers, lo: int, hi: int,
                      tickets: dict[str, np.ndarray], purchases: dict[str, np.ndarray],
                      intent: dict[str, np.ndarray], ids: _Counters) -> dict[str, Any]:
    rows = _SurveyRows()
    begin, end = cust.active_from[lo:hi], cust.active_to[lo:hi]
    sat, plan = cust.sat, cust.plan

    # NPS, the relationship survey: about one answer per customer every five active months.
    owner, t = _arrivals(rng, cal, begin, end, 1 / 150, None, cal.weekend_factor(0.9, seasonal=False), _HOURS_WEB)
    c = owner + lo
    mean = 7.55 + 0.6 * sat[c] + np.array([-0.15, 0.0, 0.25])[plan[c]] + 0.45 * cal.ramp(t)
    rows.add("nps", c + 1, t, score=_scores(rng, mean, 1.6, 0, 10), scale_min=0, scale_max=10,
             channel=np.where(rng.random(c.size) < 0.6, _EMAIL_CH, _IN_APP_CH))

    # CXi: four items answered together, about one survey per customer every ten active months.
    owner, t = _arrivals(rng, cal, begin, end, 1 / 300, None, cal.weekend_factor(0.9, seasonal=False), _HOURS_WEB)
    c = owner + lo
    for item, base in zip(range(len(CXI_ITEMS)), (3.3, 3.6, 3.7, 3.4), strict=True):
        mean = base + 0.4 * sat[c] + 0.4 * cal.ramp(t)
        rows.add("cxi", c + 1, t, score=_scores(rng, mean, 0.8, 1, 5), scale_min=1, scale_max=5, item=item,
                 channel=_EMAIL_CH)

    # After a resolved ticket: CSAT, CES and the support CSS, answered on the ticket's channel.
    c, resolved, channel, contacts, ramp = (tickets[k] for k in ("customer", "resolved", "channel", "contacts", "ramp"))
    answered_at = resolved + (rng.lognormal(np.log(2 * 3600), 1.0, c.size)).astype(np.int64)
    inside = answered_at < cal.end_s
    extra = contacts - 1  # every extra contact hurts
    ask = inside & (rng.random(c.size) < 0.35)
    mean = 3.95 + 0.35 * sat[c] - 0.3 * extra + 0.3 * ramp
    rows.add("csat", c[ask] + 1, answered_at[ask], score=_scores(rng, mean[ask], 0.85, 1, 5), scale_min=1,
             scale_max=5, touchpoint=_SUPPORT, channel=channel[ask])
    ask = inside & (rng.random(c.size) < 0.25)
    ease = rng.random(c.size) < 0.15  # a minority of surveys use the "it was easy" agreement wording
    effort_mean = 3.6 - 0.3 * sat[c] + 0.45 * extra - 0.6 * ramp
    pick = ask & ~ease
    rows.add("ces", c[pick] + 1, answered_at[pick], score=_scores(rng, effort_mean[pick], 1.1, 1, 7), scale_min=1,
             scale_max=7, touchpoint=_SUPPORT, channel=channel[pick])
    pick = ask & ease
    ease_mean = 3.3 + 0.3 * sat[c] - 0.3 * extra + 0.5 * ramp
    rows.add("ces", c[pick] + 1, answered_at[pick], score=_scores(rng, ease_mean[pick], 0.9, 1, 5), scale_min=1,
             scale_max=5, item=_EASE, touchpoint=_SUPPORT, channel=channel[pick])
    pick = inside & (rng.random(c.size) < 0.15)
    _css(rng, rows, cal, c[pick], answered_at[pick], _SUPPORT, channel[pick], sat)

    # After a purchase: CSS of ordering (minutes later) and delivery (days later), CES and CSAT of the order.
    c, t = purchases["customer"], purchases["ts"]
    after_order = t + rng.integers(60, 1800, c.size)
    pick = (after_order < cal.end_s) & (rng.random(c.size) < 0.25)
    _css(rng, rows, cal, c[pick], after_order[pick], _ORDERING, _WEB_CH, sat)
    pick = (after_order < cal.end_s) & (rng.random(c.size) < 0.10)
    effort_mean = 3.9 - 0.3 * sat[c] - 0.7 * cal.ramp(after_order)
    rows.add("ces", c[pick] + 1, after_order[pick], score=_scores(rng, effort_mean[pick], 1.1, 1, 7), scale_min=1,
             scale_max=7, touchpoint=_ORDERING, channel=_WEB_CH)
    delivered = t + (rng.uniform(4, 9, c.size) * DAY).astype(np.int64)
    pick = (delivered < cal.end_s) & (rng.random(c.size) < 0.20)
    _css(rng, rows, cal, c[pick], delivered[pick], _DELIVERY, _EMAIL_CH, sat)
    pick = (delivered < cal.end_s) & (rng.random(c.size) < 0.15)
    mean = 4.0 + 0.35 * sat[c] + 0.35 * cal.ramp(delivered)
    rows.add("csat", c[pick] + 1, delivered[pick], score=_scores(rng, mean[pick], 0.8, 1, 5), scale_min=1,
             scale_max=5, touchpoint=_DELIVERY, channel=_EMAIL_CH)

    # Onboarding CSS a few days after signing up, for new customers still around.
    c = np.arange(lo, hi)[cust.signup[lo:hi] >= cal.start_s]
    t = cust.signup[c] + (rng.uniform(3, 10, c.size) * DAY).astype(np.int64)
    pick = (t < cust.active_to[c]) & (rng.random(c.size) < 0.35)
    _css(rng, rows, cal, c[pick], t[pick], _ONBOARDING, _IN_APP_CH, sat)

    # Site intercept: the intent, then (same respondent, same instant) whether the task got done.
    kind, number, t, chosen, done = (intent[k] for k in ("kind", "number", "ts", "intent", "done"))
    rows.add("intent", number, t, kind=kind, answer=chosen, channel=_WEB_CH)
    rows.add("task_completion", number, t, kind=kind, answer=np.where(done, _YES, _NO), item=_INTENT_ITEM0 + chosen,
             channel=_WEB_CH)
    return rows.table(rng, ids)


_CSS_BASE = np.array([6.0, 7.3, 6.8, 7.7])  # ordering, onboarding, support, delivery: checkout hurts most


def _css(rng: np.random.Generator, rows: _SurveyRows, cal: _Calendar, c: np.ndarray, t: np.ndarray, touchpoint: int,
         channel: np.ndarray | int, sat: np.ndarray) -> None:
    mean = _CSS_BASE[touchpoint] + 0.5 * sat[c] + 0.7 * cal.ramp(t)
    rows.add("css", c + 1, t, score=_scores(rng, mean, 1.4, 1, 10), scale_min=1, scale_max=10,
             touchpoint=touchpoint, channel=channel)


def _open_referrals(rng: np.random.Generator, cal: _Calendar, cust: _Customers, lo: int, hi: int) -> dict[str, Any]:
    """Referrals that did not (or not yet) bring a customer; happier customers refer more, more so later."""
    rate = np.exp(0.4 * cust.sat[lo:hi]) / 600
    owner, t = _arrivals(rng, cal, cust.active_from[lo:hi], cust.active_to[lo:hi], rate, 1.5 * rate,
                         cal.weekend_factor(1.1, seasonal=False), _HOURS_WEB)
    return {"referrer_id": _ids("c_", owner + lo + 1), "referred_id": pa.nulls(owner.size, pa.string()), "ts": t,
            "converted": np.zeros(owner.size, bool)}


# --------------------------------------------------------------------------------------------- whole-period tables


def _customers_table(cust: _Customers) -> dict[str, Any]:
    n = cust.signup.size
    return {"customer_id": _ids("c_", np.arange(1, n + 1)), "signup_at": cust.signup,
            "segment": _text(SEGMENTS, cust.segment), "plan": _text(PLANS, cust.plan),
            "region": _text(REGIONS, cust.region), "acquisition_channel": _text(ACQUISITION, cust.acquisition),
            "is_paying": cust.paying}


def _subscriptions_table(subs: _Subscriptions, ids: _Counters) -> dict[str, Any]:
    return {"subscription_id": _ids("sub_", ids.take("subscription", subs.customer.size)),
            "customer_id": _ids("c_", subs.customer + 1), "start_at": subs.start, "end_at": subs.end,
            "mrr": subs.mrr, "plan": _text(PLANS, subs.plan)}


def _converted_referrals(rng: np.random.Generator, cal: _Calendar, cust: _Customers) -> dict[str, Any]:
    """Customers who came by referral, each referred by an earlier customer a few days before signing up."""
    referred = np.flatnonzero((cust.acquisition == _REFERRAL) & (np.arange(cust.signup.size) > 0))
    referrer = (rng.random(referred.size) * referred).astype(np.int64)
    ts = cust.signup[referred] - (rng.uniform(1, 14, referred.size) * DAY).astype(np.int64)
    ts = np.minimum(np.maximum(ts, cust.signup[referrer] + 3600), cust.signup[referred])
    keep = ts >= cal.start_s
    return {"referrer_id": _ids("c_", referrer[keep] + 1), "referred_id": _ids("c_", referred[keep] + 1),
            "ts": ts[keep], "converted": np.ones(int(keep.sum()), bool)}


def _employee_surveys(rng: np.random.Generator, cal: _Calendar, n_customers: int, ids: _Counters) -> dict[str, Any]:
    """eNPS and eSat: a round every quarter, about 80 employees (more for a bigger company)."""
    n_employees = 80 + n_customers // 10_000
    mood = rng.normal(0.0, 1.0, n_employees)
    rows = _SurveyRows()
    first_round = min(14, cal.days // 2)
    for round_day in range(first_round, cal.days, 91):
        who = np.flatnonzero(rng.random(n_employees) < 0.8)
        t = cal.start_s + (round_day + rng.integers(0, 7, who.size)) * DAY + _hour_seconds(rng, who.size, _HOURS_OFFICE)
        t = np.minimum(t, cal.end_s - 1)
        ramp = cal.ramp(t)
        rows.add("enps", who + 1, t, kind=2, score=_scores(rng, 7.3 + 0.9 * mood[who] + 0.5 * ramp, 1.5, 0, 10),
                 scale_min=0, scale_max=10)
        rows.add("esat", who + 1, t, kind=2, score=_scores(rng, 6.8 + 0.8 * mood[who] + 0.4 * ramp, 1.3, 1, 10),
                 scale_min=1, scale_max=10)
    return rows.table(rng, ids)


def _spend(rng: np.random.Generator, cal: _Calendar, n_customers: int) -> dict[str, Any]:
    """Daily marketing and sales spend: about 150 per new customer, less at weekends."""
    daily = 1400.0 * n_customers / 3000
    n_lines = len(SPEND_LINES)
    day = np.repeat(np.arange(cal.days), n_lines)
    line = np.tile(np.arange(n_lines), cal.days)
    share = np.array([s for *_, s in SPEND_LINES])[line]
    sales = np.array([k == "sales" for k, *_ in SPEND_LINES])[line]
    weekday = np.where(cal.weekend[day], np.where(sales, 0.1, 0.9), 1.0)
    amount = np.round(daily * share * weekday * cal.season[day] * rng.lognormal(0.0, 0.25, day.size), 2)
    return {"date": cal.start_s // DAY + day, "amount": amount,
            "kind": _text(("marketing", "sales"), sales.astype(np.int8)),
            "channel": _text(tuple(c for _, c, _, _ in SPEND_LINES), line),
            "segment": _text(tuple(s for _, _, s, _ in SPEND_LINES), line)}


def _capex(rng: np.random.Generator, cal: _Calendar, n_customers: int) -> dict[str, Any]:
    """Monthly capital expenditure, with the CX platform bought in the initiative's month."""
    dates = np.datetime64(cal.start_s // DAY, "D") + np.arange(cal.days)
    firsts = np.flatnonzero(dates == dates.astype("datetime64[M]").astype("datetime64[D]"))
    if firsts.size == 0:
        firsts = np.array([0])
    scale = (n_customers / 3000) ** 0.8
    amount = 18_000 * scale * rng.lognormal(0.0, 0.3, firsts.size)
    initiative_month = np.searchsorted(firsts, initiative_day(cal.days), side="right") - 1
    if 0 <= initiative_month < firsts.size:
        amount[initiative_month] += 60_000 * scale
    return {"date": cal.start_s // DAY + firsts, "amount": np.round(amount, 2)}


def _campaigns(rng: np.random.Generator, cal: _Calendar, n_customers: int) -> dict[str, Any]:
    """Daily delivery of each campaign while it runs; the initiative gets its own launch campaign."""
    plans = [(name, channel, int(i * cal.days / len(CAMPAIGNS)) + int(rng.integers(0, 10)), int(rng.integers(14, 41)))
             for i, (name, channel) in enumerate(CAMPAIGNS)]
    plans.append(("cx_promise_launch", "social", initiative_day(cal.days), 30))
    names, channels, day = [], [], []
    for index, (_, channel, first, length) in enumerate(plans):
        running = np.arange(first, min(first + length, cal.days))
        names.append(np.full(running.size, index))
        channels.append(np.full(running.size, list(_CTR).index(channel)))
        day.append(running)
    name, channel, d = np.concatenate(names), np.concatenate(channels), np.concatenate(day)
    base = np.array([6000.0, 9000.0, 5000.0, 20000.0])[channel] * n_customers / 3000
    impressions = np.rint(base * cal.season[d] * rng.lognormal(0.0, 0.3, d.size)).astype(np.int64)
    clicks = rng.binomial(impressions, np.array(list(_CTR.values()))[channel] * rng.uniform(0.8, 1.2, d.size))
    order = np.lexsort((name, d))
    return {"date": cal.start_s // DAY + d[order], "campaign": _text(tuple(p[0] for p in plans), name[order]),
            "channel": _text(tuple(_CTR), channel[order]), "impressions": impressions[order],
            "clicks": clicks[order]}


def _social_posts(rng: np.random.Generator, cal: _Calendar, n_customers: int, ids: _Counters) -> dict[str, Any]:
    per_day = rng.poisson(1.3, cal.days)
    day = np.repeat(np.arange(cal.days), per_day)
    n = day.size
    ts = cal.start_s + day * DAY + _hour_seconds(rng, n, _HOURS_WEB)
    platform = rng.choice(len(PLATFORMS), n, p=[0.35, 0.2, 0.2, 0.15, 0.1])
    impressions = np.rint(rng.lognormal(np.log(2500 * np.sqrt(n_customers / 3000)), 0.8, n)).astype(np.int64)
    engaging = 0.03 + 0.008 * cal.ramp(ts)  # posts about the initiative land better
    return {"post_id": _ids("p_", ids.take("post", n)), "platform": _text(PLATFORMS, platform), "ts": ts,
            "impressions": impressions, "likes": rng.binomial(impressions, engaging),
            "shares": rng.binomial(impressions, 0.004), "comments": rng.binomial(impressions, 0.003),
            "saves": rng.binomial(impressions, 0.002), "mentions": rng.binomial(impressions, 0.001)}


def _mentions(rng: np.random.Generator, cal: _Calendar, n_customers: int, ids: _Counters) -> dict[str, Any]:
    """People talking about Northwind: sentiment turns more positive after the initiative."""
    per_day = rng.poisson(0.6 * n_customers / 365 * cal.season)
    day = np.repeat(np.arange(cal.days), per_day)
    n = day.size
    ts = cal.start_s + day * DAY + _hour_seconds(rng, n, _HOURS_WEB)
    sentiment = np.round(np.clip(rng.normal(0.05 + 0.22 * cal.ramp(ts), 0.45, n), -1.0, 1.0), 2)
    tone = np.where(sentiment < -0.2, 0, np.where(sentiment > 0.2, 2, 1))
    text = tone * _MENTIONS_PER_TONE + rng.integers(0, _MENTIONS_PER_TONE, n)
    return {"mention_id": _ids("m_", ids.take("mention", n)),
            "platform": _text(PLATFORMS, rng.choice(len(PLATFORMS), n, p=[0.3, 0.2, 0.3, 0.1, 0.1])), "ts": ts,
            "text": _text(MENTION_TEXTS, text), "sentiment": sentiment}


def _stock_prices(rng: np.random.Generator, cal: _Calendar) -> dict[str, Any]:
    """Closing prices on trading days (weekdays): a random walk that drifts up once the initiative shows."""
    day = np.flatnonzero(~cal.weekend)
    drift = np.where(cal.start_s + day * DAY >= cal.initiative_s, 0.0012, 0.0002)
    close = 42.0 * np.exp(np.cumsum(drift + rng.normal(0.0, 0.018, day.size)))
    return {"date": cal.start_s // DAY + day, "close": np.round(close, 2)}


# --------------------------------------------------------------------------------------------- writing


def _schema(spec: TableSpec, file_format: str) -> pa.Schema:
    """Arrow types of a table's file: text timestamps in CSV, naive UTC timestamps in Parquet.

    Naive (rather than tz=UTC) Parquet timestamps, because casting a zoned timestamp to a plain one uses the
    reader's session time zone in some engines (DuckDB), which would shift every instant off a UTC machine.
    """
    fields = []
    for column in spec.columns:
        if column.type is ColumnType.TIMESTAMP:
            kind = pa.string() if file_format == "csv" else pa.timestamp("us")
        elif column.type is ColumnType.DATE:
            kind = pa.date32()
        elif column.type is ColumnType.NUMBER:
            kind = pa.int64() if (spec.name, column.name) in _INTEGER_COLUMNS else pa.float64()
        elif column.type is ColumnType.BOOLEAN:
            kind = pa.bool_()
        else:
            kind = pa.string()
        fields.append(pa.field(column.name, kind))
    return pa.schema(fields)


def _timestamps(seconds: np.ndarray, file_format: str) -> pa.Array:
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == _NO_TS
    seconds = np.where(missing, 0, seconds)
    if file_format == "parquet":
        return pa.array(seconds * 1_000_000, pa.timestamp("us"), mask=missing)
    mixed = (seconds.astype(np.uint64) * np.uint64(2654435761)) >> np.uint64(8)
    offset = np.where(mixed % np.uint64(100) < _OFFSET_PERCENT, 1 + (mixed // np.uint64(100)) % np.uint64(3), 0)
    local = seconds + _OFFSET_MINUTES[offset] * 60
    clock = pc.strftime(pa.array(local, pa.timestamp("s"), mask=missing), format="%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(clock, _OFFSET_TEXT.take(pa.array(offset.astype(np.int32))), "")


def _to_arrow(spec: TableSpec, schema: pa.Schema, cols: dict[str, Any], file_format: str) -> pa.Table:
    lengths = {len(v) for v in cols.values()}
    if len(lengths) != 1:
        raise ValueError(f"{spec.name}: columns of different lengths {sorted(lengths)}")
    n = lengths.pop()
    arrays = []
    for column, field in zip(spec.columns, schema, strict=True):
        value = cols.get(column.name)
        if value is None:
            array = pa.nulls(n, field.type)
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            array = value
        elif column.type is ColumnType.TIMESTAMP:
            array = _timestamps(value, file_format)
        elif column.type is ColumnType.DATE:
            array = pa.array(np.asarray(value, dtype=np.int32), pa.date32())
        else:
            value = np.asarray(value)
            array = pa.array(value, mask=np.isnan(value)) if value.dtype.kind == "f" else pa.array(value)
        if array.type != field.type:
            array = array.cast(field.type)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


class _Sink:
    """One table's file(s), written chunk by chunk; never more than `chunk_rows` rows wait in memory.

    CSV: one file with one header, appended to. Parquet: one file of row groups, or for the big tables a
    folder of part files of at most `chunk_rows` rows each.
    """

    def __init__(self, out_dir: Path, spec: TableSpec, file_format: str, chunk_rows: int) -> None:
        self.spec = spec
        self.file_format = file_format
        self.chunk_rows = chunk_rows
        self.schema = _schema(spec, file_format)
        self.rows = 0
        self.parts = 0
        self.folder = file_format == "parquet" and spec.name in _BIG_TABLES
        self.path = out_dir / spec.name if self.folder else out_dir / f"{spec.name}.{file_format}"
        if self.folder:
            self.path.mkdir(parents=True, exist_ok=True)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pacsv.CSVWriter | pq.ParquetWriter | None = None

    def add(self, cols: dict[str, Any]) -> None:
        self.add_table(_to_arrow(self.spec, self.schema, cols, self.file_format))

    def add_table(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self.chunk_rows:
            self._flush(self.chunk_rows)

    def _flush(self, rows: int) -> None:
        table = pa.concat_tables(self._pending)
        self._write(table.slice(0, rows))
        rest = table.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def _write(self, table: pa.Table) -> None:
        if self.folder:
            pq.write_table(table, self.path / f"part-{self.parts:05d}.parquet")
            self.parts += 1
        else:
            if self._writer is None:
                self._writer = (pacsv.CSVWriter(str(self.path), self.schema) if self.file_format == "csv"
                                else pq.ParquetWriter(str(self.path), self.schema))
            if isinstance(self._writer, pq.ParquetWriter):
                self._writer.write_table(table, row_group_size=self.chunk_rows)
            else:
                self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self.rows == 0 and self._writer is None and self.parts == 0:
            self._write(self.schema.empty_table())  # an empty table is still a file with its columns
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _bad_rows(cal: _Calendar, first_survey: pa.Table) -> dict[str, pa.Table]:
    """The deliberately bad rows of a CSV dataset (`BAD_ROWS`), each breaking one contract rule."""
    when = _timestamps(np.array([cal.start_s + 10 * DAY + 3600]), "csv")[0].as_py()
    earlier = _timestamps(np.array([cal.start_s + 9 * DAY]), "csv")[0].as_py()
    survey = dict.fromkeys(first_survey.column_names)
    surveys = [
        {**survey, "response_id": "r_bad_1", "respondent_id": "c_1", "ts": when, "survey": "nps", "score": 11,
         "scale_min": 0, "scale_max": 10},
        {**survey, "response_id": "r_bad_2", "respondent_id": "c_1", "ts": "not-a-date", "survey": "nps", "score": 9,
         "scale_min": 0, "scale_max": 10},
        first_survey.to_pylist()[0],  # the first answer again: its response_id is a duplicate
        {**survey, "response_id": "r_bad_3", "respondent_id": "c_1", "ts": when, "survey": "csat", "score": 0,
         "scale_min": 1, "scale_max": 5, "touchpoint": "support", "channel": "email"},
    ]
    orders = [{"order_id": "o_bad_1", "customer_id": "c_1", "ts": when, "amount": -49.5, "kind": "purchase",
               "channel": "web"}]
    tickets = [{"ticket_id": "t_bad_1", "customer_id": "c_1", "channel": "email", "opened_at": when,
                "resolved_at": earlier, "contacts": 1, "first_response_at": when}]
    tables = {"surveys": surveys, "orders": orders, "tickets": tickets}
    return {name: pa.Table.from_pylist(rows, schema=_schema(_spec(name), "csv")) for name, rows in tables.items()}


def _spec(name: str) -> TableSpec:
    return next(t for t in TABLES if t.name == name)


def _clear_previous(out_dir: Path) -> None:
    """Remove table files a previous run left here, so a table is never given twice (CSV and Parquet)."""
    for spec in TABLES:
        for suffix in ("csv", "parquet", "json", "jsonl"):
            (out_dir / f"{spec.name}.{suffix}").unlink(missing_ok=True)
        folder = out_dir / spec.name
        if folder.is_dir():
            for part in folder.glob("part-*.parquet"):
                part.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()  # an empty folder would still count as the table


# --------------------------------------------------------------------------------------------- entry point


def generate_dataset(out_dir: str | Path, *, customers: int = 3000, days: int = 365, seed: int = 7,
                     start: dt.date = DEFAULT_START, file_format: Literal["csv", "parquet"] = "csv",
                     bad_rows: bool = True, chunk_rows: int = 1_000_000) -> dict[str, int]:
    """Write the Northwind Outfitters dataset to `out_dir`: one file per contract table.

    `customers` and `days` set the size (the default, 3000 customers over a year, gives about 280,000
    events and 18,000 survey answers); `seed` makes it reproducible: the same arguments write the
    same files. `start` is the first day. `file_format` "csv" writes `TABLE.csv` files with ISO 8601
    timestamps (about 5 % carry an offset such as +02:00); "parquet" writes `TABLE.parquet` files with
    naive UTC timestamps, date32 dates and booleans, and the events as a folder `events/part-NNNNN.parquet`.
    `bad_rows` (CSV only) adds the deliberately bad rows counted in `BAD_ROWS`, which validation sets
    aside. At most about `chunk_rows` rows of a table are held in memory before they are written (and each
    events part file holds at most `chunk_rows` rows); the data itself does not depend on `chunk_rows`.
    Table files of an earlier run in `out_dir` are replaced.

    A customer-experience initiative starts on day `initiative_day(days)` (`INITIATIVE_DAY` for a year).

    Returns the number of rows written per table, bad rows included.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format {file_format!r}: use 'csv' or 'parquet'")
    if customers < 1 or days < 1 or chunk_rows < 1:
        raise ValueError("customers, days and chunk_rows must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)

    cal = _calendar(start, days)
    rng = np.random.default_rng(seed)
    cust, subs = _make_customers(rng, cal, customers)
    ids = _Counters()
    sinks = {spec.name: _Sink(out, spec, file_format, chunk_rows) for spec in TABLES}
    try:
        sinks["customers"].add(_customers_table(cust))
        sinks["subscriptions"].add(_subscriptions_table(subs, ids))
        employee = _to_arrow(sinks["surveys"].spec, sinks["surveys"].schema,
                             _employee_surveys(rng, cal, customers, ids), file_format)
        sinks["surveys"].add_table(employee)
        sinks["referrals"].add(_converted_referrals(rng, cal, cust))
        for name, cols in (("spend", _spend(rng, cal, customers)), ("capex", _capex(rng, cal, customers)),
                           ("campaigns", _campaigns(rng, cal, customers)),
                           ("social_posts", _social_posts(rng, cal, customers, ids)),
                           ("mentions", _mentions(rng, cal, customers, ids)),
                           ("stock_prices", _stock_prices(rng, cal))):
            sinks[name].add(cols)

        n_blocks = -(-customers // _BLOCK_CUSTOMERS)
        for b in range(n_blocks):
            lo, hi = b * _BLOCK_CUSTOMERS, min((b + 1) * _BLOCK_CUSTOMERS, customers)
            # Each block has its own stream, so its rows do not depend on how blocks are grouped in chunks.
            block_rng = np.random.default_rng([seed, b])
            visitor_base = int(round(1.2 * lo))
            block = _block(block_rng, cal, cust, subs, lo, hi, visitor_base, ids)
            for name, cols in block.items():
                sinks[name].add(cols)

        if bad_rows and file_format == "csv":
            for name, table in _bad_rows(cal, employee.slice(0, 1)).items():
                sinks[name].add_table(table)
    finally:
        for sink in sinks.values():
            sink.close()
    return {name: sink.rows for name, sink in sinks.items()}
