"""Predicted customer lifetime value: the per-customer summary in the engine, the BG/NBD and Gamma-Gamma fits,
the forecast per customer and the holdout check.

Conventions (those of the BTYD papers' CDNOW summary, which they reproduce exactly, and of `lifetimes`):
- A purchase is an order that is not a refund and not a subscription charge (kind `recurring`): the BG/NBD is
  a model of the non-contractual setting, where a customer's leaving is never seen; monthly charges of a
  contract are regular by construction and would make the model nonsense (on the demo company the fit runs
  off to r → ∞). Orders of one customer on the same calendar day (UTC) are one transaction, whose value is the
  sum of their amounts.
- The calibration period runs to the end of the calibration day. `frequency` is the number of purchase days
  after the first one; `recency` is the time from the first to the last purchase day; `T` the time from the
  first purchase day to the calibration day; times are in days, or weeks of 7 days.
- `monetary_value` is the mean value of the repeat transactions (the first excluded), 0 without one.
- The holdout is every day after the calibration day up to the last day with orders; purchases in it are
  counted the same way, for the customers who bought before the calibration end.
- CLV: expected purchases in each month of the horizon × expected spend per purchase, discounted monthly:
  Σ_k E[spend] · (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^k, months of 365.25/12 days (the `lifetimes`
  `customer_lifetime_value` computation; the last month is partial when the horizon is not whole months).

Only per-customer summary rows leave the engine, never the orders.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cxbench.core.errors import UsageError
from cxbench.core.options import DEFAULTS, TimeUnit
from cxbench.models import BetaGeoModel, GammaGammaModel, ModelFitError
from cxbench.models.arrays import distinct_rows

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

Array = npt.NDArray[np.float64]


DAYS_PER_UNIT: dict[TimeUnit, float] = {TimeUnit.DAY: 1.0, TimeUnit.WEEK: 7.0}
#: The discounting step: a month of 365.25 / 12 days.
DAYS_PER_MONTH = 365.25 / 12
#: Monthly discount rate by default: 1 % a month (about 12.7 % a year), the `lifetimes` default.
DEFAULT_DISCOUNT_RATE = DEFAULTS.clv_discount_rate
#: Horizon by default: 12 months.
DEFAULT_HORIZON_MONTHS = 12
#: Fewer customers with repeat purchases than this and the models are not fitted (their parameters would be noise).
MIN_REPEAT_CUSTOMERS = 20
#: Calibration frequencies of the holdout check, grouped as in figure 4 of Fader, Hardie & Lee (2005): 0 ... 6, 7+.
HOLDOUT_GROUPS = 7
TOP_CUSTOMERS = 10
#: Order kinds that are not purchases of the BG/NBD: refunds, and the charges of a subscription (contractual).
NOT_PURCHASES = ("refund", "recurring")
#: A holdout total further off than this (in %) is flagged in `warnings`.
HOLDOUT_WARNING_PCT = 25.0
#: The longest --horizon: 100 years (1200 months, 5218 weeks). A longer one adds nothing a discounted forecast can
#: show, and is computed month by month (a horizon of 1e8 days would run for minutes).
MAX_HORIZON_MONTHS = 1200
#: A mean dropout probability a/(a+b) below this is flagged: the calibration period saw almost nobody leave.
LOW_DROPOUT = 0.01

_DECIMALS = 6


@dataclass(frozen=True)
class ClvSettings:
    """What a forecast is asked for."""

    calibration_end: dt.date
    time_unit: TimeUnit = TimeUnit.DAY
    horizon: float | None = None  # in time units; None = DEFAULT_HORIZON_MONTHS months
    discount_rate: float = DEFAULT_DISCOUNT_RATE  # per month

    @property
    def days_per_unit(self) -> float:
        return DAYS_PER_UNIT[self.time_unit]

    @property
    def month(self) -> float:
        """One month in time units."""
        return DAYS_PER_MONTH / self.days_per_unit

    @property
    def horizon_units(self) -> float:
        return self.horizon if self.horizon is not None else DEFAULT_HORIZON_MONTHS * self.month

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit": self.time_unit.value,
            "horizon": _round(self.horizon_units),
            "horizon_months": _round(self.horizon_units / self.month),
            "discount_rate": self.discount_rate,
            "discounting": "monthly",
            "month_length": _round(self.month),
        }


def holdout_calibration_end(first: dt.date, last: dt.date) -> dt.date:
    """A calibration end that keeps about the last third of the days `first`..`last` (the orders' history) as the
    holdout: the last day of the month before the day two thirds in, so the holdout starts on the 1st. What
    `cxbench report` and the demo check the forecast on when no --clv-calibration-end is given."""
    days = (last - first).days + 1
    day = first + dt.timedelta(days=days * 2 // 3)
    return day.replace(day=1) - dt.timedelta(days=1)


def make_settings(calibration_end: str | dt.date, time_unit: str | TimeUnit = TimeUnit.DAY,
                  horizon: float | None = None, discount_rate: float = DEFAULT_DISCOUNT_RATE) -> ClvSettings:
    """Settings from user-facing arguments, checked (UsageError names the option to fix)."""
    if isinstance(calibration_end, str):
        try:
            calibration_end = dt.date.fromisoformat(calibration_end)
        except ValueError as exc:
            raise UsageError(f"--calibration-end {calibration_end!r} is not a date; write it as YYYY-MM-DD") from exc
    if isinstance(calibration_end, dt.datetime):
        calibration_end = calibration_end.date()
    try:
        unit = TimeUnit(time_unit)
    except ValueError as exc:
        raise UsageError(f"--time-unit {time_unit!r}: use day or week") from exc
    if horizon is not None and not (math.isfinite(horizon) and horizon > 0):
        raise UsageError(f"--horizon {horizon}: give a positive number of {unit.value}s")
    if horizon is not None and horizon / (DAYS_PER_MONTH / DAYS_PER_UNIT[unit]) > MAX_HORIZON_MONTHS:
        longest = MAX_HORIZON_MONTHS * DAYS_PER_MONTH / DAYS_PER_UNIT[unit]
        raise UsageError(f"--horizon {horizon:g}: longer than {MAX_HORIZON_MONTHS // 12} years; give at most "
                         f"{math.floor(longest)} {unit.value}s")
    if not (math.isfinite(discount_rate) and 0 <= discount_rate < 1):
        raise UsageError(f"--discount-rate {discount_rate}: give the monthly rate as a fraction, e.g. 0.01 for 1 % "
                         "a month")
    return ClvSettings(calibration_end, unit, horizon, discount_rate)


# -- the summary, in the engine ------------------------------------------------------------------------


def summary_query(orders: ir.Table, calibration_end: dt.date) -> ir.Table:
    """One row per customer: purchase days and amounts before and after the calibration end.

    `orders` is the validated orders table (typed, `kind` filled with `purchase`); refunds and subscription
    charges are left out (NOT_PURCHASES). Columns: customer_id,
    first_day, last_day (last purchase day up to the calibration end), last_any (last purchase day at all),
    purchase_days and calibration_amount (up to the calibration end), first_amount (the first day's value),
    holdout_days (purchase days after the calibration end).
    """
    purchases = orders.filter(~orders.kind.isin(NOT_PURCHASES))
    daily = purchases.group_by(customer_id=purchases.customer_id, day=purchases.ts.date()).aggregate(
        amount=purchases.amount.sum())
    daily = daily.mutate(first_day=daily.day.min().over(group_by=daily.customer_id))
    in_calibration = daily.day <= ibis.literal(calibration_end, type="date")
    return daily.group_by("customer_id").aggregate(
        first_day=daily.first_day.min(),
        last_day=daily.day.max(where=in_calibration),
        last_any=daily.day.max(),
        purchase_days=daily.day.count(where=in_calibration),
        calibration_amount=daily.amount.sum(where=in_calibration),
        first_amount=daily.amount.sum(where=daily.day == daily.first_day),
        holdout_days=daily.day.count(where=~in_calibration),
    )


@dataclass
class CustomerSummary:
    """The calibration summary of the customers who bought up to the calibration end (the papers' x, t_x, T, m_x)."""

    customer_ids: list[str]
    frequency: Array
    recency: Array
    T: Array
    monetary_value: Array
    holdout_purchases: Array  # purchase days after the calibration end
    holdout_end: dt.date | None  # the last day with a purchase after the calibration end, if any
    new_customers: int  # customers whose first purchase is after the calibration end

    def __len__(self) -> int:
        return len(self.customer_ids)


def _days(values: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return values.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]").astype(np.int64)


def summarise(con: BaseBackend, orders: ir.Table, settings: ClvSettings, *,
              within_orders: bool = False) -> CustomerSummary:
    """Run the summary in the engine and turn its dates into frequency, recency and T (numpy).

    `within_orders`: refuse (UsageError) a calibration end after the last purchase day or before the first
    (`cxbench clv --calibration-end`, where the user chose it): after the last, T runs on through days without
    data and every customer looks gone; before the first, nobody has bought."""
    table = con.to_pyarrow(summary_query(orders, settings.calibration_end))
    if table.num_rows == 0:
        return CustomerSummary([], *(np.zeros(0) for _ in range(5)), None, 0)  # type: ignore[arg-type]
    if within_orders:
        _check_calibration_end(settings.calibration_end, pc.min(table["first_day"]).as_py(),
                               pc.max(table["last_any"]).as_py())
    first = _days(table["first_day"])
    end = np.datetime64(settings.calibration_end, "D").astype(np.int64)
    cohort = first <= end
    last_any = _days(table["last_any"])
    after = last_any[last_any > end]
    holdout_end = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + int(after.max())) if after.size else None
    table = table.filter(pa.array(cohort))
    first = first[cohort]
    last = _days(table["last_day"])
    days = table["purchase_days"].to_numpy().astype(np.float64)
    frequency = days - 1
    amount = table["calibration_amount"].to_numpy(zero_copy_only=False).astype(np.float64)
    first_amount = table["first_amount"].to_numpy(zero_copy_only=False).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (amount - first_amount) / np.maximum(frequency, 1), 0.0)
    unit = settings.days_per_unit
    ids = [str(v) for v in table["customer_id"].to_pylist()]
    order = _natural_order(ids)
    pick = np.asarray(order, dtype=np.int64)
    return CustomerSummary(
        customer_ids=[ids[i] for i in order],
        frequency=frequency[pick],
        recency=((last - first) / unit)[pick],
        T=((end - first) / unit)[pick],
        monetary_value=monetary[pick],
        holdout_purchases=table["holdout_days"].to_numpy().astype(np.float64)[pick],
        holdout_end=holdout_end,
        new_customers=int((~cohort).sum()),
    )


def _check_calibration_end(end: dt.date, first: dt.date, last: dt.date) -> None:
    if end > last:
        raise UsageError(f"--calibration-end {end}: after the last purchase ({last}); the forecast would count the "
                         f"days without data as days without purchases. Choose a day from {first} to {last}, "
                         "earlier than the last to keep a holdout to check the forecast on")
    if end < first:
        raise UsageError(f"no purchases on or before --calibration-end {end}: move the calibration end later "
                         f"(the first purchase is on {first}; choose a day from {first} to {last})")


def _natural_order(ids: Sequence[str]) -> list[int]:
    """Customer ids in numeric order when they are all whole numbers (1, 2, 10), else in text order."""
    if all(i.isdigit() for i in ids):
        return sorted(range(len(ids)), key=lambda k: (int(ids[k]), ids[k]))
    return sorted(range(len(ids)), key=lambda k: ids[k])


# -- the forecast -------------------------------------------------------------------------------------


def discounted_purchases(model: BetaGeoModel, settings: ClvSettings, x: Array, t_x: Array, T: Array) -> tuple[Array, Array]:
    """Expected purchases over the horizon, and the same discounted month by month.

    Month k of the horizon (k = 1 ... K, the last one cut at the horizon) contributes
    (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^(t_k / month): the discounting of `lifetimes`' `customer_lifetime_value`.
    """
    horizon, month = settings.horizon_units, settings.month
    steps = max(1, math.ceil(horizon / month - 1e-9))
    previous = np.zeros_like(x)
    discounted = np.zeros_like(x)
    for k in range(1, steps + 1):
        t_k = min(k * month, horizon)
        current = model.conditional_expected_purchases(t_k, x, t_x, T)
        discounted += (current - previous) / (1 + settings.discount_rate) ** (t_k / month)
        previous = current
    return previous, discounted


def fit_models(summary: CustomerSummary, settings: ClvSettings) -> tuple[BetaGeoModel, GammaGammaModel]:
    """Fit BG/NBD on every customer and Gamma-Gamma on those with repeat purchases of positive value.

    Raises ModelFitError, naming what to change, when there are too few repeat customers or a fit fails.
    """
    end = settings.calibration_end.isoformat()
    if len(summary) == 0:
        raise ModelFitError(f"no purchases on or before --calibration-end {end}: move the calibration end later "
                            "(it must fall inside the orders' dates)")
    repeat = summary.frequency > 0
    if int(repeat.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelFitError(
            f"{int(repeat.sum())} customers with repeat purchases before --calibration-end {end}, fewer than "
            f"{MIN_REPEAT_CUSTOMERS}: the purchase model cannot be fitted. Move the calibration end later"
            + (" or use --time-unit day" if settings.time_unit is TimeUnit.WEEK else "")
            + ", or give more customers' orders")
    if np.all(summary.recency[repeat] == summary.T[repeat]):
        raise ModelFitError(f"every repeat customer bought last on --calibration-end {end}: the dropout process "
                            "cannot be told from the data. Move the calibration end later")
    bg_nbd = BetaGeoModel.fit(summary.frequency, summary.recency, summary.T)
    spenders = repeat & (summary.monetary_value > 0)
    if int(spenders.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelFitError(f"{int(spenders.sum())} customers with repeat purchases of positive value before "
                            f"--calibration-end {end}, fewer than {MIN_REPEAT_CUSTOMERS}: the spend model cannot be "
                            "fitted. Move the calibration end later")
    values = summary.monetary_value[spenders]
    if np.allclose(values, values[0]):
        raise ModelFitError("every repeat customer spends the same per purchase: the Gamma-Gamma spend model needs "
                            "varying amounts. Check the orders' amount column")
    gamma_gamma = GammaGammaModel.fit(summary.frequency[spenders], values)
    return bg_nbd, gamma_gamma


@dataclass
class ClvForecast:
    """The result of `cxbench clv`: both models, the forecast per customer, totals and the holdout check."""

    settings: ClvSettings
    bg_nbd: BetaGeoModel
    gamma_gamma: GammaGammaModel
    summary: CustomerSummary
    p_alive: Array
    expected_purchases: Array
    expected_spend: Array
    clv: Array
    predicted_holdout: Array | None
    holdout_length: float | None
    meta: dict[str, Any] = field(default_factory=dict)  # source, version, inputs and rejected rows

    def records(self) -> list[dict[str, Any]]:
        """One record per customer, in customer-id order."""
        s = self.summary
        columns: dict[str, Sequence[Any]] = {
            "frequency": s.frequency.astype(np.int64).tolist(),
            "recency": _rounded(s.recency),
            "T": _rounded(s.T),
            "monetary_value": _rounded(s.monetary_value),
            "p_alive": _rounded(self.p_alive),
            "expected_purchases": _rounded(self.expected_purchases),
            "expected_monetary_value": _rounded(self.expected_spend),
            "clv": _rounded(self.clv),
        }
        if self.predicted_holdout is not None:
            columns["holdout_purchases"] = s.holdout_purchases.astype(np.int64).tolist()
            columns["predicted_holdout_purchases"] = _rounded(self.predicted_holdout)
        names = list(columns)
        return [{"customer_id": cid, **{n: columns[n][i] for n in names}} for i, cid in enumerate(s.customer_ids)]

    def totals(self) -> dict[str, Any]:
        n = len(self.summary)
        return {
            "customers": n,
            "customers_with_repeat_purchases": int((self.summary.frequency > 0).sum()),
            "expected_purchases": _round(float(self.expected_purchases.sum())),
            "clv": _round(float(self.clv.sum())),
            "mean_clv": _round(float(self.clv.mean())) if n else None,
            "mean_p_alive": _round(float(self.p_alive.mean())) if n else None,
            "new_customers_after_calibration": self.summary.new_customers,
        }

    def top_customers(self, count: int = TOP_CUSTOMERS) -> list[dict[str, Any]]:
        """The customers with the highest predicted CLV (ties: customer-id order)."""
        order = np.argsort(-self.clv, kind="stable")[:count]
        records = self.records()
        return [records[i] for i in order]

    def holdout(self) -> dict[str, Any]:
        """Predicted vs actual purchases after the calibration end, in total and by calibration frequency."""
        s = self.summary
        if self.predicted_holdout is None or s.holdout_end is None:
            return {"status": "unavailable", "reason": "no orders after the calibration end: the forecast cannot be "
                    "checked. Set --calibration-end earlier than the last order to hold some out"}
        groups = []
        bucket = np.minimum(s.frequency, HOLDOUT_GROUPS).astype(np.int64)
        for g in range(HOLDOUT_GROUPS + 1):
            mask = bucket == g
            n = int(mask.sum())
            actual = float(s.holdout_purchases[mask].sum())
            predicted = float(self.predicted_holdout[mask].sum())
            groups.append({
                "frequency": f"{g}+" if g == HOLDOUT_GROUPS else str(g),
                "customers": n,
                "actual": int(actual),
                "predicted": _round(predicted),
                "actual_mean": _round(actual / n) if n else None,
                "predicted_mean": _round(predicted / n) if n else None,
            })
        actual_total = float(s.holdout_purchases.sum())
        predicted_total = float(self.predicted_holdout.sum())
        return {
            "status": "ok",
            "start": (self.settings.calibration_end + dt.timedelta(days=1)).isoformat(),
            "end": s.holdout_end.isoformat(),
            "length": _round(self.holdout_length),
            "customers": len(s),
            "actual_purchases": int(actual_total),
            "predicted_purchases": _round(predicted_total),
            "error_pct": _round(100 * (predicted_total - actual_total) / actual_total) if actual_total else None,
            "by_frequency": groups,
        }

    def warnings(self) -> list[str]:
        """What to read with care: a forecast far off its holdout, a calibration that shows no dropout."""
        out = []
        dropout = self.bg_nbd.a / (self.bg_nbd.a + self.bg_nbd.b)
        if dropout < LOW_DROPOUT:
            out.append(f"the calibration period shows almost no dropout (mean dropout probability after a purchase "
                       f"{100 * dropout:.2g} %): the forecast assumes customers keep buying; calibrate on a longer "
                       "period if you can")
        holdout = self.holdout()
        if holdout["status"] == "ok" and holdout["error_pct"] is not None and abs(holdout["error_pct"]) > HOLDOUT_WARNING_PCT:
            out.append(f"the forecast is {holdout['error_pct']:+.0f} % off the actual purchases of the holdout: read "
                       "the per-customer values with care (see holdout.by_frequency)")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `cxbench clv --format json` (never NaN or Infinity)."""
        bg = {k: _round(v) for k, v in self.bg_nbd.to_dict().items()} | {"customers": self.bg_nbd.customers}
        gg = ({k: _round(v) for k, v in self.gamma_gamma.to_dict().items()}
              | {"customers": self.gamma_gamma.customers, "mean_spend": _round(self.gamma_gamma.mean_spend)})
        return {
            **{k: v for k, v in self.meta.items() if k not in ("inputs", "rejected")},
            "settings": self.settings.to_dict(),
            **{k: v for k, v in self.meta.items() if k in ("inputs", "rejected")},
            "models": {"bg_nbd": bg, "gamma_gamma": gg},
            "totals": self.totals(),
            "top_customers": self.top_customers(),
            "holdout": self.holdout(),
            "warnings": self.warnings(),
            "customers": self.records(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def forecast(summary: CustomerSummary, settings: ClvSettings) -> ClvForecast:
    """Fit both models and predict every customer of `summary`."""
    bg_nbd, gamma_gamma = fit_models(summary, settings)
    # Day-resolution summaries repeat: each distinct (x, t_x, T) is predicted once.
    (x, t_x, T), back, _ = distinct_rows(summary.frequency, summary.recency, summary.T)
    with np.errstate(over="ignore", under="ignore"):
        p_alive = bg_nbd.probability_alive(x, t_x, T)[back]
        expected, discounted = (v[back] for v in discounted_purchases(bg_nbd, settings, x, t_x, T))
        holdout_length = predicted_holdout = None
        if summary.holdout_end is not None:
            holdout_length = (summary.holdout_end - settings.calibration_end).days / settings.days_per_unit
            predicted_holdout = bg_nbd.conditional_expected_purchases(holdout_length, x, t_x, T)[back]
    spend = gamma_gamma.conditional_expected_spend(summary.frequency, summary.monetary_value)
    values = [p_alive, expected, discounted, spend] + ([predicted_holdout] if predicted_holdout is not None else [])
    if not all(np.isfinite(v).all() for v in values):
        raise ModelFitError("the fitted models give non-finite predictions for some customers; report this with "
                            "the model parameters (cxbench clv --format json)")
    return ClvForecast(settings, bg_nbd, gamma_gamma, summary, p_alive, expected, spend, spend * discounted,
                       predicted_holdout, holdout_length)


def predict(con: BaseBackend, orders: ir.Table, settings: ClvSettings, *,
            within_orders: bool = False) -> ClvForecast:
    """Summary in the engine, then the fits and the forecast (the validated `orders` table of a source);
    `within_orders`: see `summarise`."""
    return forecast(summarise(con, orders, settings, within_orders=within_orders), settings)


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), _DECIMALS)


def _rounded(values: Array) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in np.round(values.astype(np.float64), _DECIMALS).tolist()]
