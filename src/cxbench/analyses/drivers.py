"""Key-driver analysis (issue 18, item 1): which customer signals go with a higher NPS or CSAT, or with churn.

Two steps, as `lifetime_value.py` does:

1. **In the engine** (Ibis, DuckDB or Spark), one row per customer (`feature_table`): the targets (mean NPS
   answer, mean CSAT answer, churned) and the candidate drivers, each measured as the scorecard's metrics measure
   it (metrics/surveys.py, tickets.py, events.py, subscriptions.py): CSAT per touchpoint and CES on the survey's
   most common scale, tickets opened, mean resolution time (business hours when set), first-contact resolution,
   days active per active month (the per-customer reading of stickiness), feature adoption, plan and segment.
   Only this table of a few columns per customer leaves the engine.
2. **On the driver** (NumPy, statsmodels), per target: the Shapley decomposition of R² (Lindeman, Merenda & Gold
   1980, "LMG"; Grömping 2006, J. Stat. Software 17(1)) over every subset of drivers, with percentile intervals
   from a seeded bootstrap; standardised OLS coefficients with 95 % intervals (statsmodels OLS) for the scores;
   a logistic regression (statsmodels Logit) with odds ratios and 95 % intervals for churn, whose importance is
   the LMG share of the linear probability model's R² (the same 0/1 outcome).

Everything here is an association in observational data, not a cause: the output says so.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cxbench.core.calendar import before_day_after, midnight
from cxbench.core.errors import UsageError
from cxbench.core.registry import MetricContext
from cxbench.metrics import surveys as survey_metrics
from cxbench.metrics import tickets as ticket_metrics
from cxbench.metrics.sessions import page_events, user_days

Array = npt.NDArray[np.float64]

#: What the analysis can explain: the mean NPS answer (0-10), the mean CSAT answer, churned (0/1).
TARGETS = ("nps", "csat", "churn")
TARGET_LABELS = {"nps": "NPS answer (0-10)", "csat": "CSAT answer", "churn": "churn"}
#: Who each target is measured on.
POPULATIONS = {"nps": "customers with an NPS answer", "csat": "customers with a CSAT answer",
               "churn": "customers with a subscription in the window"}
#: The exact decomposition fits 2^k subsets: up to 12 drivers (4,096 subsets per bootstrap sample). Above it the
#: 12 drivers with the largest R² of their own are kept and the others listed as dropped.
MAX_DRIVERS = 12
#: Fewer customers than this (after leaving out those with a driver missing) and the analysis is unavailable;
#: also at least ROWS_PER_TERM customers per model term (a common rule of thumb for regression).
MIN_CUSTOMERS = 50
ROWS_PER_TERM = 10
#: Churn: at least this many churned and this many kept customers per model term (Peduzzi et al. 1996, events per
#: variable), else the logistic regression is unavailable.
EVENTS_PER_TERM = 10
#: A driver measured for fewer of the target's customers than this share is dropped (`min_coverage`): the customers
#: analysed are those with every kept driver, so one rarely measured driver would shrink them to few. Touchpoint
#: CSAT and CES exist only for the customers who answered those surveys.
MIN_COVERAGE = 0.3
#: A driver whose variance inflation factor exceeds this is collinear with the others: dropped.
VIF_DROP = 1000.0
#: Above this, a warning: the shares of correlated drivers are split between them, coefficients are unstable.
VIF_WARN = 10.0
#: Below this R², a warning: the drivers explain little of the target, whatever their shares.
LOW_R2 = 0.05
#: Bootstrap samples of the importance intervals, and the seed (the same data give the same intervals).
DEFAULT_BOOTSTRAP = 500
DEFAULT_SEED = 2006
#: Touchpoints of the CSAT survey taken as drivers: the most answered ones.
MAX_TOUCHPOINTS = 6
#: "Affected" thresholds (documented in docs/analyses.md).
SLOW_RESOLUTION_HOURS = 24.0
WEEKLY_DAYS_PER_MONTH = 4.0
FEATURE_ADOPTION_FLOOR = 50.0
ASSOCIATION_NOTE = ("These are associations in your data, not causes: a driver that goes with a higher score may "
                    "share a cause with it, or follow from it. Test a change before crediting it.")
_DECIMALS = 6


# -- the drivers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverSpec:
    """A candidate driver: its column in the feature table and how its current performance is judged."""

    key: str
    label: str
    kind: str = "numeric"  # numeric | category
    unit: str = ""  # the driver's unit (per_unit effects are target points per one of it)
    good_text: str = ""  # what "doing well" means; performance is the share of customers doing well
    higher_is_better: bool = True
    threshold: float | None = None  # a value on the good side: >= threshold (higher_is_better) or <= threshold


def _specs(touchpoints: Sequence[str], csat_scale: tuple[float, float], ces_scale: tuple[float, float],
           present: set[str]) -> list[DriverSpec]:
    """The candidate drivers the data allows, in a fixed order."""
    low, high = csat_scale
    out = [DriverSpec(key, f"CSAT: {tp}", unit="points", higher_is_better=True, threshold=high - 1,
                      good_text=f"satisfied (mean CSAT ≥ {high - 1:g} on {low:g}-{high:g})")
           for tp, key in touchpoint_columns(touchpoints)]
    if "overall_csat" in present:
        out.append(DriverSpec("overall_csat", "CSAT (all touchpoints)", unit="points", threshold=high - 1,
                              good_text=f"satisfied (mean CSAT ≥ {high - 1:g} on {low:g}-{high:g})"))
    if "ces" in present:
        mid = (ces_scale[0] + ces_scale[1]) / 2
        out.append(DriverSpec("ces", "Customer effort (CES)", unit="points", higher_is_better=False, threshold=mid,
                              good_text=f"effort at or below the scale's midpoint ({mid:g} on "
                                        f"{ces_scale[0]:g}-{ces_scale[1]:g})"))
    if "tickets" in present:
        out += [
            DriverSpec("tickets", "Support tickets opened", unit="tickets", higher_is_better=False, threshold=1,
                       good_text="at most one ticket"),
            DriverSpec("resolution_hours", "Mean resolution time", unit="hours", higher_is_better=False,
                       threshold=SLOW_RESOLUTION_HOURS,
                       good_text=f"tickets resolved within {SLOW_RESOLUTION_HOURS:g} h on average"),
        ]
    if "first_contact_resolution" in present:
        out.append(DriverSpec("first_contact_resolution", "First-contact resolution", unit="% of tickets",
                              threshold=100.0, good_text="every ticket resolved at the first contact"))
    if "days_per_active_month" in present:
        out.append(DriverSpec("days_per_active_month", "Active days per active month", unit="days",
                              threshold=WEEKLY_DAYS_PER_MONTH,
                              good_text=f"active on {WEEKLY_DAYS_PER_MONTH:g}+ days a month (weekly)"))
    if "feature_adoption" in present:
        out.append(DriverSpec("feature_adoption", "Feature adoption", unit="% of features",
                              threshold=FEATURE_ADOPTION_FLOOR,
                              good_text=f"used {FEATURE_ADOPTION_FLOOR:g} %+ of the product's features"))
    for column in ("plan", "segment"):
        if column in present:
            out.append(DriverSpec(column, column.capitalize(), kind="category"))
    return out


# -- the feature table, in the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The days whose answers, tickets and events count (None: unbounded)."""

    first: dt.date | None = None
    last: dt.date | None = None

    def contains(self, ts: ir.TimestampValue) -> ir.BooleanValue:
        ok: ir.BooleanValue = ibis.literal(True)
        if self.first is not None:
            ok = ok & (ts >= ibis.literal(midnight(self.first), type="timestamp"))
        if self.last is not None:
            ok = ok & before_day_after(ts, self.last)
        return ok

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.first.isoformat() if self.first else None,
                "to": self.last.isoformat() if self.last else None}


@dataclass(frozen=True)
class FeatureTable:
    """The per-customer table as it left the engine (Arrow), with what is needed to read it."""

    table: pa.Table
    specs: tuple[DriverSpec, ...]
    touchpoints: tuple[str, ...]
    csat_scale: tuple[float, float]
    ces_scale: tuple[float, float]
    features: int  # distinct product features seen in the window (feature adoption's denominator)
    churn_as_of: dt.datetime | None  # the instant churn is judged at


def _touchpoints(ctx: MetricContext, window: Window) -> tuple[str, ...]:
    if not ctx.has_column("surveys", "touchpoint"):
        return ()
    s = ctx.table("surveys")
    s = s.filter((s.survey == "csat") & s.touchpoint.notnull() & window.contains(s.ts))
    counts = s.group_by(tp=s.touchpoint).aggregate(n=s.count())
    top = ctx.con.to_pyarrow(counts.order_by([counts.n.desc(), counts.tp]).limit(MAX_TOUCHPOINTS)).to_pylist()
    return tuple(str(r["tp"]) for r in top)


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower())


def touchpoint_columns(touchpoints: Sequence[str]) -> list[tuple[str, str]]:
    """Each touchpoint with its column name `csat_<name>` (letters and digits kept; a name two touchpoints would
    share gets a number)."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for tp in touchpoints:
        key = f"csat_{_safe_name(tp)}"
        if key in used:
            key = next(f"{key}_{i}" for i in range(2, len(touchpoints) + 2) if f"{key}_{i}" not in used)
        used.add(key)
        out.append((tp, key))
    return out


def feature_query(ctx: MetricContext, window: Window = Window()) -> tuple[ir.Table, dict[str, Any]]:
    """The per-customer table as an Ibis expression, and what it was built with.

    One row per customer (the `customers` table; without it, every respondent of the nps and csat surveys).
    Columns: `customer_id`; targets `nps` (mean 0-10 answer), `csat` (mean answer on the survey's most common
    scale), `churned` (1/0; null for a customer without a subscription in the window); drivers `csat_<touchpoint>`,
    `overall_csat`, `ces` (mean effort, 'it was easy' answers reversed), `tickets` (opened in the window; 0 without
    any), `resolution_hours` (mean over the resolved ones), `first_contact_resolution` (% resolved at the first
    contact, the scorecard's FCR per customer), `days_per_active_month` (distinct active days ÷ distinct active
    months; 0 without events), `feature_adoption` (% of the window's features the customer used), `plan`,
    `segment`. A driver the data cannot give is absent.
    """
    info: dict[str, Any] = {"touchpoints": (), "csat_scale": (1.0, 5.0), "ces_scale": (1.0, 7.0), "features": 0,
                            "churn_as_of": None}
    parts: list[ir.Table] = []
    has = set(ctx.tables)
    if "customers" in has:
        c = ctx.table("customers")
        cols: dict[str, ir.Value] = {"customer_id": c.customer_id.cast("string")}
        for column in ("plan", "segment"):
            if ctx.has_column("customers", column):
                cols[column] = c[column].cast("string")
        base = c.select(**cols).distinct()
    elif "surveys" in has:
        s = ctx.table("surveys")
        s = s.filter(s.survey.isin(("nps", "csat")) & window.contains(s.ts))
        base = s.select(customer_id=s.respondent_id.cast("string")).distinct()
    else:
        raise UsageError("key drivers need a customers or surveys table")

    if "surveys" in has:
        s = ctx.table("surveys")
        s = s.filter(window.contains(s.ts))
        nps = s.filter(s.survey == "nps")
        parts.append(nps.group_by(_cid=nps.respondent_id.cast("string")).aggregate(nps=nps.score.mean()))
        # CSAT on the survey's most common scale, CES reversed where asked as 'it was easy' (metrics/surveys.py).
        csat_scale = survey_metrics.common_scale(ctx, "csat")
        ces_scale = survey_metrics.common_scale(ctx, "ces")
        info["csat_scale"], info["ces_scale"] = csat_scale, ces_scale
        touchpoints = _touchpoints(ctx, window)
        info["touchpoints"] = touchpoints
        csat = s.filter(s.survey == "csat")
        csat = csat.mutate(_v=survey_metrics.on_scale(csat, csat.score, *csat_scale))
        aggs: dict[str, ir.Value] = {"csat": csat._v.mean(), "overall_csat": csat._v.mean()}
        for tp, key in touchpoint_columns(touchpoints):
            aggs[key] = csat._v.mean(where=csat.touchpoint == tp)
        parts.append(csat.group_by(_cid=csat.respondent_id.cast("string")).aggregate(**aggs))
        ces = s.filter(s.survey == "ces")
        ces = ces.mutate(_v=survey_metrics._ces_value(ces, *ces_scale))
        parts.append(ces.group_by(_cid=ces.respondent_id.cast("string")).aggregate(ces=ces._v.mean()))
    if "tickets" in has:
        # The scorecard's durations (calendar or --business-hours seconds) and its FCR rule, per customer.
        t = ticket_metrics._with_durations(ctx)
        t = t.filter(t.customer_id.notnull() & window.contains(t.opened_at))
        resolved = t.resolved_at.notnull()
        aggs = {"tickets": t.count(), "resolution_hours": (t.resolution_seconds / 3600).mean(where=resolved)}
        if ctx.has_column("tickets", "contacts"):
            counted = ~resolved | t.contacts.notnull()
            first = (resolved & (t.contacts == 1)).cast("float64")
            aggs["first_contact_resolution"] = (first * 100).mean(where=counted)
        parts.append(t.group_by(_cid=t.customer_id.cast("string")).aggregate(**aggs))
    if "events" in has:
        d = user_days(ctx)
        d = d.filter(window.contains(d.day))
        parts.append(d.group_by(_cid=d.user_id.cast("string")).aggregate(
            _days=d.day.nunique(), _months=d.day.truncate("M").nunique()))
        e = ctx.table("events")
        e = e.filter(window.contains(e.ts))
        # Feature adoption's definition: the feature column, else each product event's name (events.py).
        if ctx.has_column("events", "feature"):
            feature = e.feature
        else:
            feature = ibis.cases((e.event.isin(page_events(ctx)), ibis.null("string")), else_=e.event)
        e = e.select(_uid=e.user_id.cast("string"), _f=feature).filter(ibis._._f.notnull())
        info["features"] = int(ctx.con.execute(e._f.nunique()) or 0)
        parts.append(e.group_by(_cid=e._uid).aggregate(_features=e._f.nunique()))
    if "subscriptions" in has:
        subs = ctx.table("subscriptions")
        as_of = _churn_instant(ctx, window)
        info["churn_as_of"] = as_of
        at = ibis.literal(as_of, type="timestamp")
        start = ibis.literal(midnight(window.first), type="timestamp") if window.first else None
        if window.last is not None:
            # The state at the window's last instant, just before the midnight that ends it, as churn_rate reads
            # a period's end (metrics/subscriptions.py): start_at < at ≤ end_at.
            live, active = subs.start_at < at, subs.end_at.isnull() | (subs.end_at >= at)
        else:
            # At the last start or end date in the data: active when start_at ≤ t < end_at.
            live, active = subs.start_at <= at, subs.end_at.isnull() | (subs.end_at > at)
        if start is not None:
            live = live & (subs.end_at.isnull() | (subs.end_at > start))
        # Churned: a subscriber of the window with no subscription active at its end (churn_rate's "active": at
        # least one active subscription, any mrr).
        subs = subs.filter(live).mutate(_active=active.cast("int64"))
        active_at_end = subs._active
        parts.append(subs.group_by(_cid=subs.customer_id.cast("string")).aggregate(
            churned=(active_at_end.max() == 0).cast("int64")))

    table = base
    for part in parts:
        table = table.left_join(part, table.customer_id == part._cid).drop("_cid")
    columns = set(table.columns)
    mutations: dict[str, ir.Value] = {}
    if "tickets" in columns:
        mutations["tickets"] = table.tickets.fill_null(0)
    if "_days" in columns:
        months = table._months.fill_null(0)
        mutations["days_per_active_month"] = ibis.cases(
            (months > 0, table._days.cast("float64") / months.cast("float64")), else_=0.0)
        if info["features"]:
            mutations["feature_adoption"] = table._features.fill_null(0).cast("float64") * 100 / info["features"]
    table = table.mutate(**mutations).drop(*[c for c in ("_days", "_months", "_features") if c in columns])
    return table.order_by("customer_id"), info


def _churn_instant(ctx: MetricContext, window: Window) -> dt.datetime:
    """Where churn is judged: the end of the window, else the last start or end of any subscription."""
    if window.last is not None:
        return midnight(window.last) + dt.timedelta(days=1)
    subs = ctx.table("subscriptions")
    last = ctx.con.to_pyarrow(subs.aggregate(
        a=subs.start_at.max(), b=subs.end_at.max())).to_pylist()[0]
    values = [v for v in (last["a"], last["b"]) if v is not None]
    moment = max(values) if values else dt.datetime(1970, 1, 1)
    return moment.replace(tzinfo=None) if isinstance(moment, dt.datetime) else midnight(moment)


def build_features(ctx: MetricContext, window: Window = Window()) -> FeatureTable:
    """Run `feature_query` in the engine and bring back its rows (one per customer, a few columns)."""
    expr, info = feature_query(ctx, window)
    table = ctx.con.to_pyarrow(expr)
    present = set(table.column_names)
    specs = _specs(info["touchpoints"], info["csat_scale"], info["ces_scale"], present)
    return FeatureTable(table, tuple(s for s in specs if s.key in present), tuple(info["touchpoints"]),
                        info["csat_scale"], info["ces_scale"], info["features"], info["churn_as_of"])


# -- the decomposition -------------------------------------------------------------------------------


def subset_r2(corr: Array, groups: Sequence[Sequence[int]]) -> Array:
    """R² of the regression of y on every subset of the groups of columns, from the correlation matrix of
    [y, x1 ... xc]: R²(S) = r_S' R_SS⁻¹ r_S. Index s of the result is the subset whose bit j is set when group j is
    in it.

    Built up a column at a time with the bordered inverse (partitioned-matrix inverse): adding column a to S, with
    u = R_Sa, w = R_SS⁻¹ u, d = 1 − u'w and e = r_a − w'r_S, R²(S ∪ a) = R²(S) + e²/d. The subsets whose highest
    group is h are those below 2^h with group h added, all updated at once: 2^k small updates instead of 2^k
    linear solves. Raises LinAlgError when a column is (nearly) a combination of the others."""
    k = len(groups)
    c = corr.shape[0] - 1
    r = corr[0, 1:]
    rxx = corr[1:, 1:]
    r2 = np.zeros(1 << k)
    inverse = np.zeros((1 << k, c, c))  # R_SS⁻¹, zero outside S
    for h, cols in enumerate(groups):
        lo = 1 << h
        m = inverse[:lo].copy()
        gain = r2[:lo].copy()
        for a in cols:
            w = m @ rxx[:, a]
            d = 1.0 - w @ rxx[:, a]
            if np.any(d <= 1e-10):
                raise np.linalg.LinAlgError("a driver is a linear combination of the others")
            e = r[a] - w @ r
            gain += e * e / d
            m += w[:, :, None] * w[:, None, :] / d[:, None, None]
            m[:, :, a] = -w / d[:, None]
            m[:, a, :] = -w / d[:, None]
            m[:, a, a] = 1.0 / d
        inverse[lo:2 * lo] = m
        r2[lo:2 * lo] = gain
    return r2


def lmg(corr: Array, groups: Sequence[Sequence[int]]) -> tuple[float, Array]:
    """The full model's R² and each group's LMG share of it (in R² units; they add up to R²).

    LMG_j = Σ_{S ⊆ G∖{j}} |S|! (k − |S| − 1)! / k! · (R²(S ∪ {j}) − R²(S)): the R² gained by adding group j,
    averaged over every order of entering the groups (Lindeman, Merenda & Gold 1980, p. 119; the Shapley value
    of R², Grömping 2006, section 2)."""
    k = len(groups)
    r2 = subset_r2(corr, groups)
    subsets = np.arange(1 << k)
    sizes = np.array([bin(s).count("1") for s in subsets])
    weight = np.array([math.factorial(m) * math.factorial(k - m - 1) / math.factorial(k) for m in range(k)])
    shares = np.zeros(k)
    for j in range(k):
        without = subsets[(subsets >> j) & 1 == 0]
        shares[j] = float(np.sum(weight[sizes[without]] * (r2[without | (1 << j)] - r2[without])))
    return float(r2[-1]), shares


def correlation(y: Array, x: Array) -> Array | None:
    """The correlation matrix of [y, x...], or None when a column is constant (a bootstrap sample may make one)."""
    data = np.column_stack([y, x])
    sd = data.std(axis=0)
    if np.any(sd == 0):
        return None
    return np.corrcoef(data, rowvar=False)


def bootstrap_lmg(y: Array, x: Array, groups: Sequence[Sequence[int]], samples: int,
                  seed: int) -> tuple[Array, Array, int]:
    """Percentile 95 % intervals of each group's share of R² (in %) over `samples` resamples of the rows
    (seeded); samples where a column is constant are skipped and counted."""
    rng = np.random.default_rng(seed)
    n = len(y)
    found = []
    skipped = 0
    for _ in range(samples):
        pick = rng.integers(0, n, n)
        corr = correlation(y[pick], x[pick])
        if corr is None:
            skipped += 1
            continue
        try:
            total, shares = lmg(corr, groups)
        except np.linalg.LinAlgError:
            skipped += 1
            continue
        if total > 0:
            found.append(100 * shares / total)
    if not found:
        nan = np.full(len(groups), np.nan)
        return nan, nan, skipped
    values = np.array(found)
    return np.percentile(values, 2.5, axis=0), np.percentile(values, 97.5, axis=0), skipped


# -- the results --------------------------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), _DECIMALS)


@dataclass(frozen=True)
class Effect:
    """One model term of a driver (a category has one per level against the most common one)."""

    term: str
    kind: str  # "standardised coefficient" | "odds ratio per SD" | "odds ratio vs <level>"
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    per_unit: float | None = None  # the unstandardised slope: target points per unit of the driver (scores)

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "kind": self.kind, "estimate": _round(self.estimate),
                "ci_low": _round(self.ci_low), "ci_high": _round(self.ci_high), "p_value": _round(self.p_value),
                "per_unit": _round(self.per_unit)}


@dataclass(frozen=True)
class Driver:
    """A driver's importance, effect, reach and current performance for one target."""

    key: str
    label: str
    kind: str
    importance: float | None  # share of the model's R², %
    importance_low: float | None
    importance_high: float | None
    r2_contribution: float | None
    effects: tuple[Effect, ...]
    direction: str  # what a higher value goes with
    mean: float | None  # the driver's mean over the analysed customers (numeric drivers)
    performance: float | None  # % of analysed customers on the good side of the threshold
    affected: float | None  # % on the wrong side: 100 − performance
    good: str
    quadrant: str | None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "kind": self.kind, "unit": self.unit or None,
                "importance_pct": _round(self.importance),
                "importance_ci_low": _round(self.importance_low), "importance_ci_high": _round(self.importance_high),
                "r2_contribution": _round(self.r2_contribution), "direction": self.direction,
                "effects": [e.to_dict() for e in self.effects], "mean": _round(self.mean),
                "performance_pct": _round(self.performance), "affected_pct": _round(self.affected),
                "good_means": self.good or None, "quadrant": self.quadrant}


@dataclass(frozen=True)
class Dropped:
    """A candidate driver left out of a model, and why."""

    key: str
    label: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "reason": self.reason}


@dataclass(frozen=True)
class DriverAnalysis:
    """The drivers of one target (nps, csat or churn)."""

    target: str
    status: str  # ok | unavailable
    reason: str | None = None
    customers: int = 0  # with the target
    analysed: int = 0  # with the target and every kept driver
    left_out: int = 0  # with the target but a kept driver missing
    r2: float | None = None
    mean_target: float | None = None
    method: str = ""
    drivers: tuple[Driver, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    warnings: tuple[str, ...] = ()
    pseudo_r2: float | None = None  # churn: McFadden's, of the Logit
    bootstrap_skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "label": TARGET_LABELS[self.target], "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        out |= {"customers": self.customers, "analysed": self.analysed, "left_out_missing_driver": self.left_out,
                "r2": _round(self.r2), "mean_target": _round(self.mean_target), "method": self.method,
                "drivers": [d.to_dict() for d in self.drivers], "dropped": [d.to_dict() for d in self.dropped],
                "warnings": list(self.warnings)}
        if self.target == "churn":
            out["pseudo_r2_mcfadden"] = _round(self.pseudo_r2)
        if self.bootstrap_skipped:
            out["bootstrap_samples_skipped"] = self.bootstrap_skipped
        return out


@dataclass(frozen=True)
class KeyDrivers:
    """The result of `cxbench drivers`: one analysis per target, with what it was computed from."""

    analyses: tuple[DriverAnalysis, ...]
    window: Window
    bootstrap: int
    seed: int
    features: int
    churn_as_of: dt.datetime | None
    min_coverage: float = MIN_COVERAGE
    meta: dict[str, Any] = field(default_factory=dict)  # source, version, generated_at, inputs, rejected

    def get(self, target: str) -> DriverAnalysis:
        return next(a for a in self.analyses if a.target == target)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `cxbench drivers --format json` (never NaN or Infinity)."""
        head = {k: v for k, v in self.meta.items() if k not in ("inputs", "rejected")}
        tail = {k: v for k, v in self.meta.items() if k in ("inputs", "rejected")}
        return {
            **head,
            "settings": {**self.window.to_dict(), "bootstrap_samples": self.bootstrap, "seed": self.seed,
                         "max_drivers": MAX_DRIVERS, "min_customers": MIN_CUSTOMERS,
                         "min_coverage": self.min_coverage,
                         "churn_judged_at": self.churn_as_of.isoformat() if self.churn_as_of else None,
                         "product_features": self.features},
            "note": ASSOCIATION_NOTE,
            **tail,
            "analyses": [a.to_dict() for a in self.analyses],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per target and driver (the CSV), dropped drivers included with their reason."""
        out = []
        for a in self.analyses:
            base = {"target": a.target, "status": a.status, "analysed": a.analysed, "r2": _round(a.r2)}
            if not a.ok:
                out.append(base | {"driver": None, "reason": a.reason})
                continue
            for d in a.drivers:
                for e in d.effects:
                    out.append(base | {
                        "driver": d.key, "label": d.label, "term": e.term, "importance_pct": _round(d.importance),
                        "importance_ci_low": _round(d.importance_low), "importance_ci_high": _round(d.importance_high),
                        "effect_kind": e.kind, "effect": _round(e.estimate), "effect_ci_low": _round(e.ci_low),
                        "effect_ci_high": _round(e.ci_high), "p_value": _round(e.p_value),
                        "per_unit": _round(e.per_unit), "direction": d.direction,
                        "performance_pct": _round(d.performance), "affected_pct": _round(d.affected),
                        "quadrant": d.quadrant, "reason": None})
            for x in a.dropped:
                out.append(base | {"driver": x.key, "label": x.label, "reason": x.reason})
        return out


# -- the fit ------------------------------------------------------------------------------------------


@dataclass
class _Design:
    """The kept drivers as model columns: numeric ones as they are, a category as 0/1 columns per level."""

    specs: list[DriverSpec]
    columns: list[str]  # term names
    groups: list[list[int]]  # each driver's columns
    x: Array
    raw: dict[str, Array]  # each numeric driver's values over the analysed rows
    references: dict[str, str]  # category -> reference level


def _numbers(table: pa.Table, name: str) -> Array:
    """A numeric column as float64, null as NaN."""
    return np.asarray(pc.cast(table[name], pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _labels(table: pa.Table, name: str) -> npt.NDArray[np.object_]:
    """A category column as text (None where null)."""
    return np.array([None if v is None else str(v) for v in table[name].to_pylist()], dtype=object)


def _measured(spec: DriverSpec, values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where a driver has a value."""
    if spec.kind == "category":
        return np.not_equal(values, None)
    return ~np.isnan(values)


def _prepare(features: FeatureTable, target: str,
             min_coverage: float) -> tuple[Array, dict[str, Any], list[Dropped], int, dict[str, float]]:
    """The target's values over the customers who have one, each candidate's values over them, and the
    candidates dropped for coverage or constancy."""
    table = features.table
    y_all = _numbers(table, "churned" if target == "churn" else target)
    has = ~np.isnan(y_all)
    y = y_all[has]
    dropped: list[Dropped] = []
    values: dict[str, Any] = {}
    coverages: dict[str, float] = {}
    for spec in features.specs:
        if target == "csat" and spec.key.startswith(("csat_", "overall_csat")):
            continue  # the target itself, per touchpoint
        if spec.key == "overall_csat" and any(s.key.startswith("csat_") for s in features.specs):
            continue  # per touchpoint instead
        picked = (_labels if spec.kind == "category" else _numbers)(table, spec.key)[has]
        measured = _measured(spec, picked)
        coverage = float(measured.mean()) if len(picked) else 0.0
        coverages[spec.key] = coverage
        if coverage == 0:
            dropped.append(Dropped(spec.key, spec.label, f"not measured for any of the {POPULATIONS[target]}"))
            continue
        if coverage < min_coverage:
            dropped.append(Dropped(spec.key, spec.label, f"measured for {100 * coverage:.0f} % of the {len(y):,} "
                                   f"{POPULATIONS[target]} (needs {100 * min_coverage:.0f} %, --min-coverage)"))
            continue
        present = picked[measured]
        if spec.kind == "category":
            if len(set(present)) < 2:
                dropped.append(Dropped(spec.key, spec.label, "the same value for every customer"))
                continue
        elif np.std(present) == 0:
            dropped.append(Dropped(spec.key, spec.label, f"the same value ({present[0]:g}) for every customer"))
            continue
        values[spec.key] = picked
    return y, values, dropped, int(has.sum()), coverages


def _design(specs: list[DriverSpec], values: dict[str, Any], rows: npt.NDArray[np.bool_]) -> _Design:
    columns: list[str] = []
    groups: list[list[int]] = []
    blocks: list[Array] = []
    raw: dict[str, Array] = {}
    references: dict[str, str] = {}
    for spec in specs:
        v = values[spec.key]
        if spec.kind == "category":
            picked = v[rows].astype(str)
            levels, counts = np.unique(picked, return_counts=True)
            order = sorted(range(len(levels)), key=lambda i: (-counts[i], levels[i]))
            reference = str(levels[order[0]])
            references[spec.key] = reference
            start = len(columns)
            for i in order[1:]:
                level = str(levels[i])
                columns.append(f"{spec.key} = {level}")
                blocks.append((picked == level).astype(np.float64))
            groups.append(list(range(start, len(columns))))
        else:
            raw[spec.key] = v[rows]
            groups.append([len(columns)])
            columns.append(spec.key)
            blocks.append(v[rows])
    return _Design(specs, columns, groups, np.column_stack(blocks), raw, references)


def _vif(x: Array) -> Array:
    corr = np.corrcoef(x, rowvar=False)
    corr = np.atleast_2d(corr)
    try:
        inverse = np.linalg.inv(corr)
    except np.linalg.LinAlgError:
        return np.full(x.shape[1], np.inf)
    diag = np.diag(inverse)
    return np.where(diag > 0, diag, np.inf)


def _group_vif(design: _Design) -> list[float]:
    v = _vif(design.x)
    return [float(np.max(v[g])) for g in design.groups]


class _TooFew(Exception):
    """Too few customers for the model as specified: `analyse` drops the least-measured driver and tries again."""

    def __init__(self, reason: str, analysed: int, left_out: int):
        super().__init__(reason)
        self.reason, self.analysed, self.left_out = reason, analysed, left_out


def analyse(features: FeatureTable, target: str, *, bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
            min_coverage: float = MIN_COVERAGE) -> DriverAnalysis:
    """The drivers of one target from the per-customer table (see the module docstring).

    The customers analysed are those with the target and every kept driver. When they are too few for the model
    (MIN_CUSTOMERS, ROWS_PER_TERM per term, EVENTS_PER_TERM for churn), the driver measured for the fewest customers
    is dropped, with that reason, and the model tried again."""
    if target not in TARGETS:
        raise UsageError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    column = "churned" if target == "churn" else target
    if column not in features.table.column_names:
        needs = {"nps": "nps answers in surveys", "csat": "csat answers in surveys",
                 "churn": "a subscriptions table"}[target]
        return DriverAnalysis(target, "unavailable", f"needs {needs}")
    y, values, dropped, customers, coverage = _prepare(features, target, min_coverage)
    if customers < MIN_CUSTOMERS:
        return DriverAnalysis(target, "unavailable", f"{customers:,} {POPULATIONS[target]}, fewer than "
                              f"{MIN_CUSTOMERS}: too few to tell drivers apart", customers=customers,
                              dropped=tuple(dropped))
    specs = [s for s in features.specs if s.key in values]
    while True:
        if not specs:
            return DriverAnalysis(target, "unavailable", "no candidate driver is measured for enough of these "
                                  "customers", customers=customers, dropped=tuple(dropped))
        try:
            return _fit(target, y, values, specs, dropped, customers, bootstrap, seed)
        except _TooFew as exc:
            partial = [sp for sp in specs if coverage[sp.key] < 1]
            if not partial:
                return DriverAnalysis(target, "unavailable", exc.reason, customers=customers, analysed=exc.analysed,
                                      left_out=exc.left_out, dropped=tuple(dropped))
            worst = min(partial, key=lambda sp: (coverage[sp.key], sp.key))
            dropped.append(Dropped(worst.key, worst.label, f"measured for {100 * coverage[worst.key]:.0f} % of the "
                                   f"{POPULATIONS[target]}; with it, {exc.reason}"))
            specs = [sp for sp in specs if sp.key != worst.key]


def _fit(target: str, y: Array, values: dict[str, Any], specs: list[DriverSpec], dropped: list[Dropped],
         customers: int, bootstrap: int, seed: int) -> DriverAnalysis:
    """One model over the complete rows of `specs` (raises _TooFew when they are too few); appends to `dropped`
    the constant and collinear drivers it leaves out."""
    rows = np.ones(len(y), dtype=bool)
    for spec in specs:
        rows &= _measured(spec, values[spec.key])
    notes: list[str] = []
    n = int(rows.sum())
    if n < MIN_CUSTOMERS:
        raise _TooFew(f"{n:,} customers have every driver measured, fewer than {MIN_CUSTOMERS}", n, len(y) - n)
    design = _design(specs, values, rows)
    yy = y[rows]
    # Constant within the analysed rows, then collinearity: the most collinear driver goes first.
    while True:
        constant = [i for i, g in enumerate(design.groups) if np.all(design.x[:, g].std(axis=0) == 0)]
        if constant:
            spec = design.specs[constant[0]]
            dropped.append(Dropped(spec.key, spec.label, "the same value for every analysed customer"))
        else:
            vif = _group_vif(design) if len(design.columns) > 1 else [1.0]
            worst = int(np.argmax(vif))
            if vif[worst] <= VIF_DROP:
                break
            spec = design.specs[worst]
            shown = "∞" if not math.isfinite(vif[worst]) else format(vif[worst], ".0f")
            dropped.append(Dropped(spec.key, spec.label, f"collinear with the other drivers (variance inflation "
                                   f"factor {shown}): its information is already in them"))
        specs = [s for s in specs if s.key != spec.key]
        if not specs:
            return DriverAnalysis(target, "unavailable", "no driver left once constant and collinear ones are dropped",
                                  customers=customers, dropped=tuple(dropped))
        design = _design(specs, values, rows)
    # Over MAX_DRIVERS: keep those with the largest R² of their own.
    if len(design.specs) > MAX_DRIVERS:
        corr = correlation(yy, design.x)
        own = [float(subset_r2(corr, [g])[-1]) if corr is not None else 0.0 for g in design.groups]
        keep = sorted(np.argsort(own)[::-1][:MAX_DRIVERS].tolist())
        for i, spec in enumerate(design.specs):
            if i not in keep:
                dropped.append(Dropped(spec.key, spec.label, f"over the {MAX_DRIVERS}-driver limit of the exact "
                                       "decomposition; the drivers with the largest R² of their own are kept"))
        specs = [design.specs[i] for i in keep]
        design = _design(specs, values, rows)
    terms = len(design.columns)
    left_out = int(len(y) - n)
    if n < ROWS_PER_TERM * terms:
        raise _TooFew(f"{n:,} customers have every driver measured, fewer than {ROWS_PER_TERM} per model term "
                      f"({terms} terms)", n, left_out)
    if target == "churn":
        churned = int(yy.sum())
        if min(churned, n - churned) < EVENTS_PER_TERM * terms:
            raise _TooFew(f"{churned:,} churned and {n - churned:,} kept customers have every driver measured: the "
                          f"smaller group needs {EVENTS_PER_TERM} per model term ({terms} terms, "
                          f"{EVENTS_PER_TERM * terms}) for a stable logistic regression", n, left_out)
    vif = _group_vif(design) if terms > 1 else [1.0]
    high = [f"{s.label} ({v:.0f})" for s, v in zip(design.specs, vif) if v > VIF_WARN]
    if high:
        notes.append("strongly correlated drivers (variance inflation factor above 10): " + ", ".join(high)
                     + "; their R² is shared between them and their coefficients have wide intervals")
    corr = correlation(yy, design.x)
    if corr is None:  # the target is constant
        return DriverAnalysis(target, "unavailable", f"every analysed customer has the same {TARGET_LABELS[target]}",
                              customers=customers, analysed=n, left_out=left_out, dropped=tuple(dropped))
    r2, contributions = lmg(corr, design.groups)
    if r2 < LOW_R2:
        notes.append(f"together the drivers explain {100 * r2:.1f} % of the variation in the {TARGET_LABELS[target]}: "
                     "most of what moves it is not in these signals; the shares are shares of that small part")
    low, high_ci, skipped = bootstrap_lmg(yy, design.x, design.groups, bootstrap, seed)
    if target == "churn":
        effects, pseudo, reason = _logit_effects(yy, design)
        if reason is not None:
            return DriverAnalysis(target, "unavailable", reason, customers=customers, analysed=n, left_out=left_out,
                                  dropped=tuple(dropped))
        method = ("importance: Shapley decomposition (LMG) of the R² of the linear probability model of churn "
                  f"(0/1), 95 % percentile intervals from {bootstrap} bootstrap samples (seed {seed}); effects: "
                  "logistic regression (statsmodels Logit), odds ratios with 95 % Wald intervals, per standard "
                  "deviation of a numeric driver and against the most common level of a category")
    else:
        effects, pseudo = _ols_effects(yy, design), None
        method = ("importance: Shapley decomposition (LMG) of the OLS R², 95 % percentile intervals from "
                  f"{bootstrap} bootstrap samples (seed {seed}); effects: standardised OLS coefficients "
                  "(statsmodels), 95 % intervals; per_unit: the same slope in target points per unit of the driver")
    if skipped:
        notes.append(f"{skipped} of {bootstrap} bootstrap samples had a constant column and were skipped")
    drivers = []
    total = r2 if r2 > 0 else float("nan")
    for j, spec in enumerate(design.specs):
        share = 100 * contributions[j] / total
        terms_j = tuple(effects[i] for i in design.groups[j])
        drivers.append(_driver(spec, design, share, low[j], high_ci[j], contributions[j], terms_j, target))
    against = [d.label for spec, d in zip(design.specs, drivers) if _against_expectation(spec, d, target)]
    if against:
        notes.append("the association runs against the expected direction, its interval clear of no effect, for: "
                     + ", ".join(against) + ". Check how the signal is measured or what else it stands for (for "
                     "example, customers with harder problems both open more tickets and answer lower) before "
                     "acting on its quadrant")
    drivers = _with_quadrants(drivers)
    drivers.sort(key=lambda d: -(d.importance or 0.0))
    return DriverAnalysis(target, "ok", None, customers, n, left_out, r2, float(yy.mean()), method, tuple(drivers),
                          tuple(dropped), tuple(notes), pseudo, skipped)


def _ols_effects(y: Array, design: _Design) -> list[Effect]:
    import statsmodels.api as sm  # noqa: PLC0415  (statsmodels is loaded when a fit is asked for)

    sy = y.std(ddof=1)
    sx = design.x.std(axis=0, ddof=1)
    z = (design.x - design.x.mean(axis=0)) / sx
    fit = sm.OLS((y - y.mean()) / sy, sm.add_constant(z, has_constant="add")).fit()
    ci = fit.conf_int(0.05)
    out = []
    for i, name in enumerate(design.columns):
        b = float(fit.params[i + 1])
        out.append(Effect(name, "standardised coefficient", b, float(ci[i + 1, 0]), float(ci[i + 1, 1]),
                          float(fit.pvalues[i + 1]), per_unit=b * sy / sx[i]))
    return out


def logit_odds_ratios(y: Array, x: Array, names: Sequence[str], scale: Sequence[bool]) -> tuple[list[Effect], float]:
    """Odds ratios with 95 % Wald intervals from statsmodels' Logit; `scale[i]`: column i is standardised first
    (odds ratio per standard deviation) else taken as it is (a 0/1 level: odds ratio against the reference).
    Raises PerfectSeparation when the data separate the outcome."""
    import statsmodels.api as sm  # noqa: PLC0415
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning  # noqa: PLC0415

    sx = x.std(axis=0, ddof=1)
    cols = np.column_stack([(x[:, i] - x[:, i].mean()) / sx[i] if scale[i] else x[:, i] for i in range(x.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter: judged below from the fit itself
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = sm.Logit(y, sm.add_constant(cols, has_constant="add")).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, PerfectSeparationWarning) as exc:
            raise PerfectSeparation(str(exc)) from exc
    params, ci = np.asarray(fit.params), np.asarray(fit.conf_int(0.05))
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(ci))) or np.max(np.abs(params[1:])) > 20:
        raise PerfectSeparation("an odds ratio runs off to 0 or infinity")
    out = []
    for i, name in enumerate(names):
        kind = "odds ratio per SD" if scale[i] else "odds ratio vs reference"
        out.append(Effect(name, kind, math.exp(params[i + 1]), math.exp(ci[i + 1, 0]), math.exp(ci[i + 1, 1]),
                          float(np.asarray(fit.pvalues)[i + 1])))
    return out, float(fit.prsquared)


class PerfectSeparation(Exception):
    """The churn outcome is predicted exactly by the drivers: the logistic regression has no finite estimate."""


def _logit_effects(y: Array, design: _Design) -> tuple[list[Effect], float | None, str | None]:
    scale = [not name.count(" = ") for name in design.columns]
    try:
        effects, pseudo = logit_odds_ratios(y, design.x, design.columns, scale)
    except PerfectSeparation:
        return [], None, ("perfect separation: the drivers predict churn exactly for some customers (e.g. a plan or "
                          "a value range where everyone churned or nobody did), so the odds ratios are infinite. "
                          "Widen the window or drop the driver")
    except np.linalg.LinAlgError:
        return [], None, "the logistic regression has a singular design (collinear drivers)"
    for e, name in zip(effects, design.columns):
        if " = " in name:
            key = name.split(" = ")[0]
            object.__setattr__(e, "kind", f"odds ratio vs {key} = {design.references[key]}")
    return effects, pseudo, None


def _against_expectation(spec: DriverSpec, driver: Driver, target: str) -> bool:
    """Whether a numeric driver's effect, with its interval clear of no effect, goes the other way than doing
    well on it should: a better value with a lower score, or with more churn."""
    if spec.kind == "category" or spec.threshold is None or not driver.effects:
        return False
    e = driver.effects[0]
    if e.estimate is None or e.ci_low is None or e.ci_high is None:
        return False
    null = 1.0 if target == "churn" else 0.0
    if e.ci_low <= null <= e.ci_high:
        return False
    good_up = spec.higher_is_better != (target == "churn")  # churn: a better value should lower the odds
    return (e.estimate > null) != good_up


def _driver(spec: DriverSpec, design: _Design, share: float, low: float, high: float,
            contribution: float, effects: tuple[Effect, ...], target: str) -> Driver:
    if spec.kind == "category":
        reference = design.references[spec.key]
        return Driver(spec.key, spec.label, spec.kind, share, low, high, contribution, effects,
                      f"levels compared with {spec.key} = {reference}", None, None, None, "", None)
    values = design.raw[spec.key]
    effect = effects[0]
    if effect.estimate is None:
        direction = "unknown"
    elif target == "churn":
        direction = f"higher goes with {'more' if effect.estimate > 1 else 'less'} churn"
    else:
        direction = f"higher goes with {'a higher' if effect.estimate > 0 else 'a lower'} {TARGET_LABELS[target]}"
    threshold = spec.threshold
    if threshold is None:
        performance = None
    elif spec.higher_is_better:
        performance = float(100 * np.mean(values >= threshold - 1e-9))
    else:
        performance = float(100 * np.mean(values <= threshold + 1e-9))
    return Driver(spec.key, spec.label, spec.kind, share, low, high, contribution, effects, direction,
                  float(values.mean()), performance, None if performance is None else 100 - performance,
                  spec.good_text, None, spec.unit)


#: The quadrants of the importance × performance chart.
QUADRANTS = {(True, False): "fix first", (True, True): "keep it up", (False, False): "watch",
             (False, True): "maintain"}


def _with_quadrants(drivers: list[Driver]) -> list[Driver]:
    """Each numeric driver's quadrant: importance above or below the mean importance of the plotted drivers,
    performance above or below their mean performance (the lines drawn in the report)."""
    plotted = [d for d in drivers if d.performance is not None and d.importance is not None
               and math.isfinite(d.importance)]
    if not plotted:
        return drivers
    mid_x = float(np.mean([d.importance for d in plotted]))  # type: ignore[misc]
    mid_y = float(np.mean([d.performance for d in plotted]))  # type: ignore[misc]
    out = []
    for d in drivers:
        if d in plotted:
            quadrant = QUADRANTS[(d.importance >= mid_x, d.performance >= mid_y)]  # type: ignore[operator]
            d = Driver(**{**d.__dict__, "quadrant": quadrant})
        out.append(d)
    return out


def quadrant_lines(analysis: DriverAnalysis) -> tuple[float, float] | None:
    """The (importance, performance) where the report's quadrant lines cross: the plotted drivers' means."""
    plotted = [d for d in analysis.drivers if d.performance is not None and d.importance is not None]
    if not plotted:
        return None
    return (float(np.mean([d.importance for d in plotted])), float(np.mean([d.performance for d in plotted])))


def check_settings(targets: Sequence[str], bootstrap: int, min_coverage: float) -> None:
    """Refuse (UsageError, naming the option) targets, bootstrap samples or a coverage that cannot be used."""
    if bootstrap < 1:
        raise UsageError(f"--bootstrap {bootstrap}: give at least 1 sample (the default is {DEFAULT_BOOTSTRAP})")
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise UsageError(f"--target {', '.join(unknown)}: use {', '.join(TARGETS)}")
    if not (math.isfinite(min_coverage) and 0 < min_coverage <= 1):
        raise UsageError(f"--min-coverage {min_coverage}: give a share between 0 and 1, e.g. 0.3")


def key_drivers(ctx: MetricContext, *, targets: Sequence[str] = TARGETS, window: Window = Window(),
                bootstrap: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                min_coverage: float = MIN_COVERAGE) -> KeyDrivers:
    """The per-customer table in the engine, then each target's analysis."""
    check_settings(targets, bootstrap, min_coverage)
    features = build_features(ctx, window)
    analyses = tuple(analyse(features, t, bootstrap=bootstrap, seed=seed, min_coverage=min_coverage) for t in targets)
    return KeyDrivers(analyses, window, bootstrap, seed, features.features, features.churn_as_of, min_coverage)


__all__ = ["ASSOCIATION_NOTE", "DriverAnalysis", "KeyDrivers", "TARGETS", "Window", "analyse", "build_features",
           "check_settings", "feature_query", "key_drivers", "lmg", "logit_odds_ratios", "subset_r2"]
