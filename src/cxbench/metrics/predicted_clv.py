"""Predicted customer lifetime value in the scorecard (METRICS.md §4, `clv_predicted`).

The BG/NBD and Gamma-Gamma models of `cxbench clv` (Fader, Hardie & Lee 2005), calibrated on every order up
to the end of the data (or --to): one forecast per run, reported in the last period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from cxbench.core.engine import data_range
from cxbench.core.errors import UsageError
from cxbench.core.registry import Direction, Family, Metric, MetricContext, MetricUnavailable, Unit
from cxbench.core.stats import ChangeTest, Comparison, Estimate, Span, Stats

if TYPE_CHECKING:
    from cxbench.lifetime_value import ClvForecast


def forecast_for_run(ctx: MetricContext) -> ClvForecast:
    """The run's forecast, made once: calibrated on the orders up to the last order day (or --to)."""
    # The models (NumPy, scipy.optimize) are imported when a run asks for this metric, not with the registry.
    from cxbench.lifetime_value import make_settings, predict
    from cxbench.models import ModelFitError

    bounds = data_range(ctx, ("orders",))
    if bounds is None:
        raise MetricUnavailable("no orders in the source")
    end = min(bounds[1], ctx.options.end) if ctx.options.end else bounds[1]
    options = ctx.options
    try:
        settings = make_settings(end, options.clv_time_unit, options.clv_horizon, options.clv_discount_rate)
    except UsageError as exc:
        raise MetricUnavailable(str(exc)) from exc

    def run() -> ClvForecast | str:
        try:
            return predict(ctx.con, ctx.table("orders"), settings)
        except ModelFitError as exc:
            return f"the CLV models cannot be fitted on the orders up to {end}: {exc}"

    result = ctx.remember(f"clv_forecast:{end}", run)
    if isinstance(result, str):
        raise MetricUnavailable(result)
    return result


def _rows(ctx: MetricContext) -> ir.Table:
    result = forecast_for_run(ctx)
    at = dt.datetime.combine(result.settings.calibration_end, dt.time())
    ids = result.summary.customer_ids
    table = pa.table({
        "ts": pa.array([at] * len(ids), pa.timestamp("us")),
        "_entity": pa.array(ids, pa.string()),
        "clv": pa.array(result.clv.tolist(), pa.float64()),
    })
    return ibis.memtable(table)


def _details(ctx: MetricContext) -> dict[str, object]:
    result = forecast_for_run(ctx)
    settings = result.settings.to_dict()
    return {
        "calibration_end": settings["calibration_end"],
        "time_unit": settings["time_unit"],
        "horizon": settings["horizon"],
        "discount_rate": settings["discount_rate"],
        "bg_nbd": {k: v for k, v in result.bg_nbd.to_dict().items() if k != "log_likelihood"},
        "gamma_gamma": {k: v for k, v in result.gamma_gamma.to_dict().items() if k != "log_likelihood"},
    }


@dataclass(frozen=True)
class MeanWithTotal:
    """Mean of `value` over the rows, with the total and the count in the details. A forecast, not a sample:
    no interval and no significance test."""

    value: str
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {"n": t.count(), "total": t[self.value].sum()}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = int(s["n"] or 0)
        if n == 0:
            return Estimate(None, 0, reason="no answers")
        total = float(s["total"] or 0)
        return Estimate(total / n, n, details={"total": total, "customers": n})

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None  # a model forecast, not a sample mean: no test


METRICS: tuple[Metric, ...] = (
    Metric(
        id="clv_predicted", name="Predicted customer lifetime value", family=Family.REVENUE,
        formula="mean over customers of Σ_months E[spend per purchase] × E[purchases in the month] ÷ (1 + d)^month, "
                "from the BG/NBD purchase model and the Gamma-Gamma spend model; details.total is the sum",
        unit=Unit.MONEY, direction=Direction.UP, inputs=("orders",), rows=_rows, estimator=MeanWithTotal("clv"),
        what_is_counted="CLV forecast (made once, at the end of the data)",
        description="Each customer's predicted value over the next 12 months (by default), discounted 1 % a month: "
                    "the BG/NBD model (Fader, Hardie & Lee 2005) forecasts purchases, the Gamma-Gamma model the "
                    "spend per purchase. The value is the mean per customer; details.total the whole customer base.",
        notes="Calibrated on every order up to the last order day (or --to), so only the last period has a value; "
              "the earlier ones say so. Refunds and subscription charges (kind recurring) are not purchases; orders "
              "on one day are one purchase. When the models cannot be fitted (too few repeat customers, no "
              "convergence) the metric is unavailable with the reason. `cxbench clv` gives the per-customer forecast and the holdout check; its settings are the "
              "clv_time_unit, clv_horizon and clv_discount_rate options here.",
        source="Fader, Hardie & Lee (2005), Marketing Science 24(2) (BG/NBD) and JMR 42(4) (Gamma-Gamma, iso-value "
               "curves); METRICS.md §4",
        extra_details=_details,
    ),
)
