"""Estimators: what the engine aggregates for a metric, and how a value, its 95 % interval and the
significance of a change are made from those aggregates.

The engine computes only small sufficient statistics per group (counts, sums, means, standard
deviations); everything here works on those few numbers, never on rows.

A change from one period to the next is tested by the estimator's `compare`, which gives a `Comparison`
(a two-sided p-value and the test's name) or None where no test applies:

- NPS and other net scores: z on the difference of two independent net scores, each with its multinomial
  variance (`net_score_z_test`);
- proportions, shares of a breakdown, and census rates whose numerator and denominator count successes and
  trials (bounce rate, CTR, FCR...): the pooled two-proportion z-test (`two_proportion_z_test`);
- means: Welch's unequal-variance t-test from the summary statistics (`welch_t_test`);
- counts of events (pageviews, sessions, tickets, customers won): the exact conditional test of two Poisson
  rates with the periods' lengths in days as exposures (`poisson_rate_test`);
- anything else (money, durations, averages per day, distinct counts, backlogs, derived metrics): None.

The z- and t-tests are large-sample tests: the engine drops them below `--min-sample` (`Comparison.large_sample`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import ibis.expr.types as ir


def _scipy_stats():  # noqa: ANN202 - the scipy.stats module
    """scipy.stats, imported on first use: it costs 0.6 s, which `cxbench --help` should not pay."""
    from scipy import stats

    return stats


def _scipy_special():  # noqa: ANN202 - the scipy.special module
    """scipy.special, imported on first use (0.6 s; scipy.stats, which the tests below no longer need, 1.8 s)."""
    from scipy import special

    return special


def _binomial_functions() -> tuple[Callable[..., float], Callable[..., float], Callable[..., float]]:
    """The binomial pmf, cdf and sf that scipy.stats.binom calls (Boost's, as SciPy ufuncs), called directly:
    through scipy.stats each call spends about 100 µs checking its arguments, and a two-sided test makes ~25."""
    try:
        from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_sf
    except ImportError:  # a SciPy that moved them: the public distribution, slower, the same numbers
        binom = _scipy_stats().binom
        return binom.pmf, binom.cdf, binom.sf
    return _binom_pmf, _binom_cdf, _binom_sf


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """The exact two-sided binomial test's p-value: the probability of every outcome no more likely than k under
    Binomial(n, p), with the relative tolerance 1 + 10⁻⁷ for ties, as R's `binom.test` and SciPy's `binomtest`
    compute it. SciPy's algorithm step for step (a binary search for the other tail's edge beyond the mode),
    so the p-values are SciPy's (checked in the tests), at a hundredth of the cost per call."""
    if not (0 <= k <= n and 0 <= p <= 1):
        raise ValueError(f"binomial test of {k} in {n} at p = {p}")
    pmf, cdf, sf = _binomial_functions()

    def tail_edge(a: Callable[[int], float], d: float, lo: int, hi: int) -> int:
        # The i in lo..hi with a(i) <= d < a(i + 1), a ascending (scipy.stats._binomtest's binary search).
        while lo < hi:
            mid = lo + (hi - lo) // 2
            value = a(mid)
            if value < d:
                lo = mid + 1
            elif value > d:
                hi = mid - 1
            else:
                return mid
        return lo if a(lo) <= d else lo - 1

    d = float(pmf(k, n, p))
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = tail_edge(lambda x: -float(pmf(x, n, p)), -d * rerr, math.ceil(p * n), n)
        y = n - ix + int(d * rerr == float(pmf(ix, n, p)))  # the outcomes beyond the mode no more likely than k
        value = float(cdf(k, n, p)) + (float(sf(n - y, n, p)) if n - y >= 0 else 1.0)
    else:
        ix = tail_edge(lambda x: float(pmf(x, n, p)), d * rerr, 0, math.floor(p * n))
        y = ix + 1  # the outcomes below the mode no more likely than k
        value = (float(cdf(y - 1, n, p)) if y >= 1 else 0.0) + (float(sf(k - 1, n, p)) if k >= 1 else 1.0)
    return min(1.0, value)


def wilson_interval(k: int, n: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of k successes in n trials, as a share (0..1), without continuity
    correction (Wilson 1927; Newcombe 1998, method 3).

    The formula of SciPy's `binomtest(k, n).proportion_ci(method="wilson")`, written out because building a
    `binomtest` also computes its exact p-value, which a scorecard pays thousands of times for nothing
    (`tests/test_statistics.py` checks the two agree).
    """
    p = k / n
    denominator = 2 * (n + Z**2)
    centre = (2 * n * p + Z**2) / denominator
    delta = Z * math.sqrt(4 * n * p * (1 - p) + Z**2) / denominator
    # As SciPy: the bound at 0 successes (or at n) is exactly 0 (or 1).
    return (0.0 if k == 0 else centre - delta, 1.0 if k == n else centre + delta)


CONFIDENCE = 0.95
_ALPHA = 1 - CONFIDENCE
Z = 1.959963984540054  # scipy.stats.norm.ppf(0.975), written out so importing this module needs no SciPy

#: the significance level of `change.significant`
ALPHA = _ALPHA

Stats = Mapping[str, float | int | None]
AggregateBuilder = Callable[[ir.Table], ir.Scalar]


@dataclass(frozen=True)
class Span:
    """The calendar length of a reporting period, for per-day/week/month averages."""

    days: int
    weeks: int  # ISO weeks the period overlaps
    months: int  # calendar months the period overlaps
    #: the part of a partial period the data covers (its first or last period): per-day/week/month averages use it
    covered: Span | None = None


@dataclass(frozen=True)
class Estimate:
    """A metric's value for one group, in its unit; value None means there was nothing to measure."""

    value: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    details: dict[str, object] = field(default_factory=dict)
    reason: str | None = None  # why value is None


class ChangeTest(Enum):
    """The test of a change between two periods, named as the records' `change.test` gives it."""

    NET_SCORE = "NPS difference z"
    TWO_PROPORTION = "two-proportion z"
    WELCH = "Welch's t"
    POISSON = "exact Poisson"


@dataclass(frozen=True)
class Comparison:
    """The outcome of testing a change between two periods: a two-sided p-value, always finite, in 0..1."""

    p_value: float
    test: ChangeTest
    #: the test statistic: z, t, or for the exact Poisson test the current period's count
    statistic: float | None = None
    #: degrees of freedom (Welch's t only)
    df: float | None = None

    @property
    def significant(self) -> bool:
        """Whether the change is significant at 5 % (two-sided)."""
        return self.p_value < ALPHA

    @property
    def large_sample(self) -> bool:
        """Whether the p-value rests on a normal approximation, so it says nothing below `--min-sample`;
        the exact Poisson test holds for any count."""
        return self.test is not ChangeTest.POISSON


class Estimator(Protocol):
    """How one metric turns rows into a value."""

    #: the interval method, as the docs name it (None: no interval, the metric is not a sample)
    interval: str | None
    #: whether the value is an estimate from a sample (small-sample warnings apply)
    sampled: bool
    #: the value of a period without rows (0 for counts), or None: unavailable
    empty_value: float | None
    #: the test `compare` applies to a change (None: changes are reported untested)
    test: ChangeTest | None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        """In-engine aggregates over one group's rows."""
        ...

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        """Value, n and interval from the aggregates (`overall`: the same group without dimension;
        `span`: the period's calendar length)."""
        ...

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        """The test of the change from `previous` to `current` (each period's aggregates; `spans`: their
        calendar lengths; `overall`: their aggregates without dimension; current first), or None when no test
        applies or the data cannot be tested."""
        ...


#: values from this size up are averaged scaled down by 2^-530 (`Mean`): their squares would overflow a double
_LARGE = 1e100
_DOWN = 2.0 ** -530
_UP = 2.0 ** 530


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _int(x: object) -> int:
    return 0 if x is None else int(x)  # type: ignore[arg-type]


def _two_sided_p_from_z(z: float) -> float:
    # 2 × the normal upper tail at |z| = erfc(|z| / √2): SciPy's norm.sf to the last bits, and accurate far in
    # the tail (1.6e-7 stays 1.6e-7), without importing scipy.stats for an NPS or a proportion alone.
    return math.erfc(abs(z) / math.sqrt(2))


def _degenerate(difference: float, test: ChangeTest) -> Comparison:
    """A test whose standard error is 0: every answer of both periods is the same (all promoters, all
    satisfied, one score). The normal approximation is then undefined; its limit is taken instead: no
    difference → p = 1, any difference → p = 0 (z → ±∞), so the p-value stays finite."""
    return Comparison(1.0 if difference == 0 else 0.0, test)


def net_score_z_test(positive1: int, negative1: int, n1: int,
                     positive2: int, negative2: int, n2: int) -> Comparison | None:
    """Two-sided z-test of the difference of two independent net scores (NPS₁ − NPS₂).

    Each net score p₊ − p₋ has the multinomial variance Var = (p₊ + p₋ − (p₊ − p₋)²) / n (the variance of
    a mean of answers scored +1, 0, −1), the usual NPS margin of error; the two periods are independent
    samples, so z = (NPS₁ − NPS₂) / √(Var₁ + Var₂). None when a period has no answers.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    score1, score2 = (positive1 - negative1) / n1, (positive2 - negative2) / n2
    variance1 = max((positive1 + negative1) / n1 - score1 ** 2, 0.0) / n1
    variance2 = max((positive2 + negative2) / n2 - score2 ** 2, 0.0) / n2
    se = math.sqrt(variance1 + variance2)
    if se == 0:
        return _degenerate(score1 - score2, ChangeTest.NET_SCORE)
    z = (score1 - score2) / se
    return Comparison(_two_sided_p_from_z(z), ChangeTest.NET_SCORE, statistic=z)


def net_score_difference(positive1: int, negative1: int, n1: int,
                          positive2: int, negative2: int, n2: int) -> tuple[float, float, float] | None:
    """NPS₁ − NPS₂ of two independent groups of answers, in points (−200..200), with its 95 % interval
    (low, high): each net score has the multinomial variance of `NetScore`, Var = (p₊ + p₋ − (p₊ − p₋)²) / n,
    and the variance of the difference of two independent estimates is the sum Var₁ + Var₂ (as in
    `net_score_z_test`). With `negative` counts of 0 it is the difference of two shares (CSAT) with the
    unpooled Wald variance p (1 − p) / n of each. None when a group has no answers."""
    if n1 <= 0 or n2 <= 0:
        return None
    score1, score2 = (positive1 - negative1) / n1, (positive2 - negative2) / n2
    variance1 = max((positive1 + negative1) / n1 - score1 ** 2, 0.0) / n1
    variance2 = max((positive2 + negative2) / n2 - score2 ** 2, 0.0) / n2
    difference = 100 * (score1 - score2)
    margin = 100 * Z * math.sqrt(variance1 + variance2)
    return difference, difference - margin, difference + margin


def two_proportion_z_test(k1: int, n1: int, k2: int, n2: int) -> Comparison | None:
    """Two-sided two-proportion z-test with the pooled proportion under H₀: p₁ = p₂.

    z = (k₁/n₁ − k₂/n₂) / √(p̂ (1 − p̂) (1/n₁ + 1/n₂)), p̂ = (k₁ + k₂) / (n₁ + n₂) (OpenIntro
    Statistics, 4th ed., §6.2.3). None when a period has no trials. Both
    shares 0 % or both 100 %: p̂ (1 − p̂) = 0 and the shares are equal, p = 1.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    difference = k1 / n1 - k2 / n2
    if se == 0:
        return _degenerate(difference, ChangeTest.TWO_PROPORTION)
    z = difference / se
    return Comparison(_two_sided_p_from_z(z), ChangeTest.TWO_PROPORTION, statistic=z)


def welch_t_test(mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int) -> Comparison | None:
    """Two-sided Welch's t-test (unequal variances) from two groups' means, sample standard deviations and
    sizes: t = (m₁ − m₂) / √(s₁²/n₁ + s₂²/n₂) with the Welch-Satterthwaite degrees of freedom (Welch 1947),
    as SciPy's `ttest_ind_from_stats(equal_var=False)` and R's `t.test` compute it.

    None when a group has fewer than 2 values (no standard deviation). Both standard deviations 0: every
    value of each group is the same, p = 1 for equal means, 0 otherwise.
    """
    if n1 < 2 or n2 < 2 or not all(math.isfinite(x) for x in (mean1, sd1, mean2, sd2)):
        return None
    if sd1 == 0 and sd2 == 0:
        return _degenerate(mean1 - mean2, ChangeTest.WELCH)
    # t and the degrees of freedom do not change when every input is divided by one number: divided by the
    # largest, the squares below stay finite on any scale (sd = 1e300 would overflow s²).
    unit = max(abs(mean1), abs(mean2), sd1, sd2)
    mean1, sd1, mean2, sd2 = mean1 / unit, sd1 / unit, mean2 / unit, sd2 / unit
    v1, v2 = sd1 ** 2 / n1, sd2 ** 2 / n2
    if v1 + v2 == 0:  # both variances below the smallest double (an sd under ~1e-162 of the largest input)
        return _degenerate(mean1 - mean2, ChangeTest.WELCH)
    # df does not change when both variances are divided by one number: by the larger, their squares do not
    # underflow to 0 (0/0) when one sd is tiny beside the other.
    a, b = v1 / max(v1, v2), v2 / max(v1, v2)
    df = (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n2 - 1))
    # t and p as scipy.stats.ttest_ind_from_stats(equal_var=False) makes them: p = 2 F(−|t|) with Student's t
    # distribution function of scipy.special (stdtr), which it calls.
    t = (mean1 - mean2) / math.sqrt(v1 + v2)
    p_value = min(1.0, 2 * float(_scipy_special().stdtr(df, -abs(t))))
    return Comparison(p_value, ChangeTest.WELCH, statistic=t, df=df)


def poisson_rate_test(k1: int, exposure1: float, k2: int, exposure2: float) -> Comparison | None:
    """Exact two-sided test that two Poisson counts have the same rate per unit of exposure.

    Conditional on the total, k₁ | k₁ + k₂ ~ Binomial(k₁ + k₂, t₁ / (t₁ + t₂)) under H₀ (Przyborowski &
    Wilenski 1940); the p-value is the binomial test's, summing the outcomes no more likely than k₁, as R's
    `poisson.test` does. Here the exposures are the periods' calendar lengths in days, so a 31-day month is
    fair against a 30-day one (and a period the data ends in counts in full: its count reads as a drop).
    No event in either period: the only possible outcome was observed, p = 1. None when an exposure is not
    positive.
    """
    if exposure1 <= 0 or exposure2 <= 0 or k1 < 0 or k2 < 0:
        return None
    total = k1 + k2
    if total == 0:
        return Comparison(1.0, ChangeTest.POISSON, statistic=0.0)
    p_value = binomial_two_sided_p(k1, total, exposure1 / (exposure1 + exposure2))
    return Comparison(p_value, ChangeTest.POISSON, statistic=float(k1))


def _whole(x: object) -> int | None:
    """A count from an aggregate (sums arrive as floats), or None when it is no whole number ≥ 0."""
    if x is None:
        return 0
    value = float(x)  # type: ignore[arg-type]
    if not math.isfinite(value) or value < 0 or not value.is_integer():
        return None
    return int(value)


def _days(spans: tuple[Span, Span] | None) -> tuple[float, float]:
    """The exposures of the Poisson test: each period's days (equal when the spans are not known)."""
    return (1.0, 1.0) if spans is None else (float(spans[0].days), float(spans[1].days))


@dataclass(frozen=True)
class NetScore:
    """Net score: % of `positive` rows − % of `negative` rows, −100..100 (NPS, eNPS).

    Interval: normal approximation with the variance of a difference of two multinomial shares,
    Var = (p₊ + p₋ − (p₊ − p₋)²) / n: the variance of p₊ − p₋ when each answer is a promoter, a passive or a
    detractor (multinomial), the usual NPS margin of error. Clipped to −100..100.
    Change: z on the difference of the two periods' net scores with these variances (`net_score_z_test`).
    """

    positive: str
    negative: str
    interval: str | None = "normal approximation, Var = (p₊ + p₋ − (p₊ − p₋)²) / n"
    sampled: bool = True
    empty_value: float | None = None
    test: ChangeTest | None = ChangeTest.NET_SCORE
    counted: tuple[str, ...] = ()  # boolean columns whose counts go into details (mentions scored from text)

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        out = {
            "n": t.count(),
            "positive": t[self.positive].cast("int64").sum(),
            "negative": t[self.negative].cast("int64").sum(),
        }
        for column in self.counted:
            out[column] = t[column].cast("int64").sum()
        return out

    @staticmethod
    def _parts(s: Stats) -> tuple[int, float, float]:
        n = _int(s["n"])
        return n, _int(s["positive"]) / n, _int(s["negative"]) / n

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = _int(s["n"])
        if n == 0:
            return Estimate(None, 0, reason="no answers")
        n, p_pos, p_neg = self._parts(s)
        value = 100 * (p_pos - p_neg)
        se = 100 * math.sqrt(max(p_pos + p_neg - (p_pos - p_neg) ** 2, 0.0) / n)
        details = {
            "positive": _int(s["positive"]),
            "negative": _int(s["negative"]),
            "neutral": n - _int(s["positive"]) - _int(s["negative"]),
            "positive_pct": 100 * p_pos,
            "negative_pct": 100 * p_neg,
            "neutral_pct": 100 * (n - _int(s["positive"]) - _int(s["negative"])) / n,
        }
        details.update({column: _int(s[column]) for column in self.counted})
        return Estimate(value, n, max(-100.0, value - Z * se), min(100.0, value + Z * se), details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return net_score_z_test(_int(current.get("positive")), _int(current.get("negative")), _int(current.get("n")),
                                _int(previous.get("positive")), _int(previous.get("negative")), _int(previous.get("n")))


@dataclass(frozen=True)
class Proportion:
    """Share of rows where `flag` is true, in % (CSAT, CSS, task completion).

    Interval: Wilson score interval (Wilson 1927; Newcombe 1998, method 3), from SciPy's `binomtest`.
    Change: two-proportion z-test with pooled variance (`two_proportion_z_test`).
    """

    flag: str
    interval: str | None = "Wilson score"
    sampled: bool = True
    empty_value: float | None = None
    test: ChangeTest | None = ChangeTest.TWO_PROPORTION
    also_mean: str | None = None  # details.mean_<column>: the mean of another column over the same rows
    complement: str | None = None  # details.<name> = 100 − value (e.g. abandonment)
    #: a boolean column: its true rows are left out of n and k and counted in details.<name> (trials still open)
    set_aside: str | None = None
    #: the reason when every row was set aside
    set_aside_reason: str = "every row is set aside"
    complement_count: str | None = None  # details.<name> = rows where the flag is false (breached tickets)

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        if self.set_aside is None:
            out = {"n": t.count(), "k": t[self.flag].cast("int64").sum()}
        else:
            kept = ~t[self.set_aside]
            out = {"n": kept.cast("int64").sum(), "k": (t[self.flag] & kept).cast("int64").sum(),
                   self.set_aside: t[self.set_aside].cast("int64").sum()}
        if self.also_mean:
            out["mean"] = t[self.also_mean].cast("float64").mean()
        return out

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n, k = _int(s["n"]), _int(s["k"])
        aside = {self.set_aside: _int(s[self.set_aside])} if self.set_aside else {}
        if n == 0:
            reason = self.set_aside_reason if any(aside.values()) else "no answers"
            return Estimate(None, 0, details=aside, reason=reason)
        ci = wilson_interval(k, n)
        details: dict[str, object] = {"count": k, **aside}
        if self.also_mean:
            details[f"mean_{self.also_mean}"] = float(s["mean"] or 0)  # type: ignore[arg-type]
        if self.complement:
            details[self.complement] = 100 - 100 * k / n
        if self.complement_count:
            details[self.complement_count] = n - k
        return Estimate(100 * k / n, n, 100 * ci[0], 100 * ci[1], details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return two_proportion_z_test(_int(current.get("k")), _int(current.get("n")),
                                     _int(previous.get("k")), _int(previous.get("n")))


@dataclass(frozen=True)
class Share:
    """Share of the group's rows that fall in each dimension value, in % (visitor intent).

    Interval: Wilson score on (rows with this value) / (all rows of the group without dimension).
    Change: two-proportion z-test on (rows with this value) / (all rows) of each period.
    """

    interval: str | None = "Wilson score"
    sampled: bool = True
    empty_value: float | None = None
    test: ChangeTest | None = ChangeTest.TWO_PROPORTION

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {"n": t.count()}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        total = _int(overall["n"]) if overall is not None else 0
        k = _int(s["n"])
        if total == 0:
            return Estimate(None, 0, reason="no answers")
        ci = wilson_interval(k, total)
        return Estimate(100 * k / total, total, 100 * ci[0], 100 * ci[1], {"count": k})

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return _share_of_overall_test(current, previous, overall)


def _share_of_overall_test(current: Stats, previous: Stats,
                           overall: tuple[Stats | None, Stats | None] | None) -> Comparison | None:
    """Two-proportion z-test of a breakdown value's `n` over its group's `n` without dimension, per period."""
    if overall is None or overall[0] is None or overall[1] is None:
        return None  # the totals of both periods are needed
    k1, n1 = _int(current.get("n")), _int(overall[0].get("n"))
    k2, n2 = _int(previous.get("n")), _int(overall[1].get("n"))
    if k1 > n1 or k2 > n2:
        return None
    return two_proportion_z_test(k1, n1, k2, n2)


@dataclass(frozen=True)
class Mean:
    """Mean of `value` (CES, mean CSAT, employee satisfaction).

    Interval: Student's t, mean ± t(0.975, n−1) · s / √n with the sample standard deviation.
    Change: Welch's t-test from the two periods' summary statistics (`welch_t_test`).
    `share_at_least`: also report the % of rows with value ≥ this threshold.
    """

    value: str
    share_at_least: float | None = None
    interval: str | None = "Student's t"
    sampled: bool = True
    empty_value: float | None = None
    test: ChangeTest | None = ChangeTest.WELCH
    #: boolean columns whose share of the rows goes into details.<column>_pct (a score's bands)
    shares: tuple[str, ...] = ()
    #: more columns whose mean (over their non-null values) goes into details.mean_<column>, None without any
    means: tuple[str, ...] = ()

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        column = t[self.value].cast("float64")
        large = column.abs() >= _LARGE
        # The plain moments over the ordinary values (DuckDB refuses a variance beyond the largest double:
        # "STDDEV_SAMP is out of range"), and the same moments of every value scaled down by 2^-530; `estimate`
        # takes the scaled ones when a value is large (a custom scale of 0-1e300).
        # An infinite value (an overflow upstream) is left out of the scaled deviation, which DuckDB would refuse
        # too; the mean keeps it, so the record says the value overflowed.
        scaled, finite = column * _DOWN, column.abs() <= sys.float_info.max
        out = {"n": column.count(), "mean": column.mean(), "sd": column.std(how="sample", where=~large),
               "n_large": large.cast("int64").sum(), "mean_scaled": scaled.mean(),
               "sd_scaled": scaled.std(how="sample", where=finite)}
        if self.share_at_least is not None:
            out["k"] = (column >= self.share_at_least).cast("int64").sum()
        for name in self.shares:
            out[f"share_{name}"] = t[name].cast("int64").sum()
        for name in self.means:
            out[f"mean_{name}"] = t[name].cast("float64").mean()
        return out

    @staticmethod
    def moments(s: Stats) -> tuple[float, float | None]:
        """The mean and the sample standard deviation (None when undefined or beyond the largest double)."""
        if _int(s.get("n_large")):
            mean, sd = float(s["mean_scaled"]) * _UP, s.get("sd_scaled")  # type: ignore[arg-type]
            return mean, (_finite(float(sd) * _UP) if sd is not None else None)  # type: ignore[arg-type]
        sd = s.get("sd")
        return float(s["mean"]), (_finite(float(sd)) if sd is not None else None)  # type: ignore[arg-type]

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = _int(s["n"])
        if n == 0:
            return Estimate(None, 0, reason="no answers")
        mean, sd = self.moments(s)
        details: dict[str, object] = {}
        if self.share_at_least is not None:
            details[f"share_at_least_{self.share_at_least:g}"] = 100 * _int(s["k"]) / n
        details.update({f"{name}_pct": 100 * _int(s[f"share_{name}"]) / n for name in self.shares})
        details.update({f"mean_{name}": _finite(float(s[f"mean_{name}"])) if s[f"mean_{name}"] is not None else None
                        for name in self.means})
        if n >= 2 and sd is None and _int(s.get("n_large")):
            details["interval_unavailable"] = "the standard deviation is beyond the largest number a double holds"
        if n < 2 or sd is None:
            return Estimate(mean, n, None, None, details)
        details["sd"] = sd
        half = float(_scipy_special().stdtrit(n - 1, 1 - _ALPHA / 2)) * sd / math.sqrt(n)  # Student's t quantile
        return Estimate(mean, n, mean - half, mean + half, details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        n1, n2 = _int(current.get("n")), _int(previous.get("n"))
        if n1 < 2 or n2 < 2 or current.get("mean") is None or previous.get("mean") is None:
            return None
        (mean1, sd1), (mean2, sd2) = self.moments(current), self.moments(previous)
        if sd1 is None or sd2 is None:
            return None
        return welch_t_test(mean1, sd1, n1, mean2, sd2, n2)


#: The percentiles MeanAndMedian gives beside the median (a duration's distribution).
QUANTILES = (0.1, 0.25, 0.75, 0.9)


@dataclass(frozen=True)
class MeanAndMedian:
    """Mean or median of `value` over every row of the group (resolution and response times), the other in
    details, with the total.

    The median is exact: Ibis's `median()` is DuckDB's QUANTILE_CONT(x, 0.5) and Spark's PERCENTILE(x, 0.5),
    both the mean of the two middle values when n is even (not Spark's percentile_approx). The distribution is in
    details too: the 10th, 25th, 75th and 90th percentiles, exact and interpolated the same way (the value at
    position (n - 1) × p of the sorted values, between its two neighbours).
    No interval: the rows are every ticket of the period, a census, not a sample.
    """

    value: str
    report: str = "mean"  # "mean" or "median": which one is the value
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        column = t[self.value].cast("float64")
        return {"n": column.count(), "total": column.sum(), "median": column.median(),
                **{f"p{round(q * 100)}": column.quantile(q) for q in QUANTILES}}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = _int(s["n"])
        if n == 0:
            return Estimate(None, 0, reason="no answers")
        total, median = float(s["total"]), float(s["median"])  # type: ignore[arg-type]
        mean = total / n
        spread = {f"p{round(q * 100)}": float(s[f"p{round(q * 100)}"]) for q in QUANTILES}  # type: ignore[arg-type]
        if self.report == "median":
            return Estimate(median, n, details={"mean": mean, "total": total, **spread})
        return Estimate(mean, n, details={"median": median, "total": total, **spread})

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None


@dataclass(frozen=True)
class MeanOfComponentMeans:
    """Mean of the per-component means of `value`, each component named in `component` (CXI).

    No interval: the components come from the same respondents, so their errors are not independent.
    Every component must be present; the components are given in `details`.
    """

    value: str
    component: str
    components: Sequence[str]
    interval: str | None = None
    sampled: bool = True
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        out: dict[str, ir.Scalar] = {"n": t.count()}
        for name in self.components:
            selected = t[self.component] == name
            out[f"mean_{name}"] = t[self.value].mean(where=selected)
            out[f"n_{name}"] = selected.cast("int64").sum()
        return out

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = _int(s["n"])
        if n == 0:
            return Estimate(None, 0, reason="no answers")
        missing = [c for c in self.components if _int(s[f"n_{c}"]) == 0]
        means = {c: float(s[f"mean_{c}"]) for c in self.components if c not in missing}  # type: ignore[arg-type]
        details: dict[str, object] = {f"{c}": v for c, v in means.items()}
        if missing:
            return Estimate(None, n, details=details, reason="no answers for component " + ", ".join(missing)
                            + f"; the index needs all of {', '.join(self.components)}")
        return Estimate(sum(means.values()) / len(means), n, details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None


@dataclass(frozen=True)
class Total:
    """A total over the period: a count of rows, a sum, or a distinct count (not a sample: no interval).

    Change: `test=ChangeTest.POISSON` on a count of events (pageviews, sessions, tickets), the exact Poisson
    rate test with the periods' days as exposures; untested by default (a distinct count of people or a
    point-in-time backlog is no count of events in the period and does not grow with its length).
    """

    aggregate: AggregateBuilder
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = 0.0
    share_of_overall: bool = False  # details.share_pct: this breakdown value's % of the group's total
    test: ChangeTest | None = None

    def __post_init__(self) -> None:
        if self.test not in (None, ChangeTest.POISSON):
            raise ValueError(f"a Total is tested with the exact Poisson test or not at all, not {self.test}")

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {"n": t.count(), "total": self.aggregate(t)}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        total = float(s["total"] or 0)
        details: dict[str, object] = {}
        if self.share_of_overall and overall is not None and float(overall["total"] or 0) > 0:
            details["share_pct"] = 100 * total / float(overall["total"])  # type: ignore[arg-type]
        return Estimate(total, int(total) if total.is_integer() else _int(s["n"]), details=details)  # n: what was counted

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return _poisson_of_totals(self.test, current, previous, spans)


def _poisson_of_totals(test: ChangeTest | None, current: Stats, previous: Stats,
                       spans: tuple[Span, Span] | None) -> Comparison | None:
    """The exact Poisson test of two periods' `total`s (a period without rows: 0), or None when the
    estimator has no test or a total is no whole count."""
    if test is not ChangeTest.POISSON:
        return None
    k1, k2 = _whole(current.get("total")), _whole(previous.get("total"))
    if k1 is None or k2 is None:
        return None
    days1, days2 = _days(spans)
    return poisson_rate_test(k1, days1, k2, days2)


@dataclass(frozen=True)
class Ratio:
    """numerator ÷ denominator × factor, both aggregated in the engine (pages per session, CTR, bounce rate...).

    No interval: these are counts of the whole population, not a sample. Unavailable when the denominator is 0.
    `per_unit`: divide the numerator by the number of calendar "day"s, "week"s or "month"s of the period
    instead (mean DAU over every calendar day).

    Change: `test=ChangeTest.TWO_PROPORTION` when the numerator counts successes among the denominator's
    trials (bounced sessions of sessions, clicks of impressions, tickets resolved at first contact of
    tickets): the pooled two-proportion z-test. Untested by default: a ratio of money or time (AOV, session
    duration) has no variance in its two sums, and a count per count that can exceed one (pages per session)
    is no share of trials.
    """

    numerator: AggregateBuilder
    denominator: AggregateBuilder | None = None
    factor: float = 1.0
    per_unit: str | None = None
    denominator_per_unit: str | None = None
    count: AggregateBuilder | None = None  # n, when the denominator is no count (MRR: the paying customers)
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    #: secondary ratios reported in details as (name, numerator, denominator), × factor, None when 0 ÷ 0:
    #: a definition vendors differ on (FCR over resolved tickets only) or a second rate of the same metric
    also: tuple[tuple[str, AggregateBuilder, AggregateBuilder], ...] = ()
    test: ChangeTest | None = None
    #: the record's reason when the denominator is 0
    zero_reason: str = "nothing to divide by"

    def __post_init__(self) -> None:
        if self.test not in (None, ChangeTest.TWO_PROPORTION):
            raise ValueError(f"a Ratio is tested with the two-proportion z-test or not at all, not {self.test}")
        if self.test is not None and (self.denominator is None or self.per_unit or self.denominator_per_unit):
            raise ValueError("the two-proportion test needs a denominator of trials, not a per-day/week/month average")

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        out = {"n": t.count(), "numerator": self.numerator(t).cast("float64")}
        if self.denominator is not None:
            out["denominator"] = self.denominator(t).cast("float64")
        if self.count is not None:
            out["count"] = self.count(t)
        for name, numerator, denominator in self.also:
            out[f"{name}_numerator"] = numerator(t).cast("float64")
            out[f"{name}_denominator"] = denominator(t).cast("float64")
        return out

    def _details(self, s: Stats) -> dict[str, object]:
        details: dict[str, object] = {}
        for name, _, _ in self.also:
            numerator = float(s[f"{name}_numerator"] or 0)
            denominator = float(s[f"{name}_denominator"] or 0)
            details[name] = numerator / denominator * self.factor if denominator else None
            details[f"{name}_numerator"] = numerator
            details[f"{name}_denominator"] = denominator
        return details

    @staticmethod
    def _units(span: Span | None, unit: str | None) -> float:
        if unit is None:
            return 1.0
        if span is None:
            raise ValueError("a per-unit ratio needs the period span")
        # Over the days the data covers: a first week with data from Thursday is averaged over 4 days, not 7.
        span = span.covered or span
        return {"day": span.days, "week": span.weeks, "month": span.months}[unit]

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        numerator = float(s["numerator"] or 0) / self._units(span, self.per_unit)
        if self.denominator is None:
            return Estimate(numerator * self.factor, _int(s["n"]),
                            details={"numerator": float(s["numerator"] or 0), **self._details(s)})
        denominator = float(s["denominator"] or 0) / self._units(span, self.denominator_per_unit)
        details = {"numerator": numerator, "denominator": denominator, **self._details(s)}
        # n is the population divided over (visitors, sessions, impressions), not the rows scanned.
        n = _int(s["count"]) if self.count is not None else round(denominator)
        if denominator == 0:
            return Estimate(None, 0, details=details, reason=self.zero_reason)
        return Estimate(numerator / denominator * self.factor, n, details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        if self.test is not ChangeTest.TWO_PROPORTION:
            return None
        counts = [_whole(s.get(key)) for s in (current, previous) for key in ("numerator", "denominator")]
        k1, n1, k2, n2 = counts
        # Successes and trials must be whole counts with k ≤ n; anything else is no proportion to test.
        if None in counts or k1 > n1 or k2 > n2:  # type: ignore[operator]
            return None
        return two_proportion_z_test(k1, n1, k2, n2)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PercentChange:
    """(`to` − `from`) ÷ `from` × 100 over one row per group (a price from one close to another).

    The rows carry `from_value`, `to_value`, `from_label`, `to_label` (what each value is, e.g. its date)
    and `count` (the observations behind them, reported as n). No interval: nothing is sampled.
    """

    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        # One row per group: max() only picks its values.
        return {"n": t["count"].sum(), "from_value": t.from_value.max(), "to_value": t.to_value.max(),
                "from_label": t.from_label.max(), "to_label": t.to_label.max()}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        n = _int(s["n"])
        if n == 0 or s["from_value"] is None or s["to_value"] is None:
            return Estimate(None, 0, reason="no answers")
        start, end = float(s["from_value"]), float(s["to_value"])  # type: ignore[arg-type]
        details = {"from": start, "from_date": s["from_label"], "to": end, "to_date": s["to_label"]}
        if start == 0:
            return Estimate(None, n, details=details, reason="nothing to divide by: the base value is 0")
        return Estimate(100 * (end - start) / start, n, details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None


@dataclass(frozen=True)
class DistinctShare:
    """Distinct `column` values in the breakdown ÷ distinct values in the whole group × 100
    (feature adoption: users of the feature ÷ active users). No interval: a census, not a sample.
    Change: two-proportion z-test, the users of the breakdown value among the group's users per period."""

    column: str
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = ChangeTest.TWO_PROPORTION

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {"n": t[self.column].nunique()}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        total = _int(overall["n"]) if overall is not None else 0
        if total == 0:
            return Estimate(None, 0, reason="nothing to divide by")
        return Estimate(100 * _int(s["n"]) / total, total, details={"count": _int(s["n"])})

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return _share_of_overall_test(current, previous, overall)


@dataclass(frozen=True)
class Derived:
    """The estimator of a derived metric (CLV ÷ CAC): its value comes from other metrics' records, so the
    engine aggregates nothing for it. No interval of its own."""

    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        raise TypeError("a derived metric aggregates no rows")

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        raise TypeError("a derived metric is combined from its components' records")

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None


@dataclass(frozen=True)
class Sum:
    """Sum of `value` over the period's rows (revenue, MRR, spend): a census, so no interval.

    `count`: a boolean column whose true rows are `n` (orders, not refunds); default every row.
    `details`: more columns whose sums go into details (refunds, paying customers).
    `per_month`: a column added as a monthly average (`expansion_mrr`: MRR + the month's non-recurring revenue).
    Change: `test=ChangeTest.POISSON` when `value` is 1 per event (customers won), the exact Poisson rate test
    with the periods' days as exposures; untested by default (a sum of money is no count).
    """

    value: str
    count: str | None = None
    details: tuple[str, ...] = ()
    per_month: str | None = None
    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = 0.0
    test: ChangeTest | None = None

    def __post_init__(self) -> None:
        if self.test not in (None, ChangeTest.POISSON) or (self.test is not None and self.per_month):
            raise ValueError("a Sum is tested with the exact Poisson test (a plain count of events) or not at all")

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        out = {"n": t.count() if self.count is None else t[self.count].cast("int64").sum(),
               "total": t[self.value].cast("float64").sum()}
        for column in (*self.details, *((self.per_month,) if self.per_month else ())):
            out[column] = t[column].cast("float64").sum()
        return out

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        total = float(s["total"] or 0)
        details: dict[str, object] = {c: float(s[c] or 0) for c in self.details}
        if self.per_month:
            months = months_in(span)
            monthly = float(s[self.per_month] or 0) / months
            details.update({self.value: total, f"{self.per_month}_monthly": monthly, "months": months})
            total += monthly
        return Estimate(total, _int(s["n"]), details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return _poisson_of_totals(self.test, current, previous, spans)


def months_in(span: Span | None) -> float:
    """Months a period stands for: its calendar months from four weeks up, else days ÷ 30.4375 (a week is
    0.23 of a month), so a monthly average of a week is not the week's whole total."""
    if span is None:
        return 1.0
    return float(span.months) if span.days >= 28 else span.days / 30.4375


def periods_per_year(span: Span) -> float:
    """How many periods of this length make a year: 12 for a month, 4 for a quarter, 365.25 ÷ 7 for a week."""
    if span.days >= 28:
        return 12 / span.months
    return 365.25 / span.days


@dataclass(frozen=True)
class Growth:
    """% change of a sum against the previous period's (and the baseline period's) sum.

    The rows carry the same amount in `current`, `previous` or `baseline` by the period they come from
    (see `metrics.periods.comparison_links`). Unavailable when the previous period's sum is 0.
    """

    interval: str | None = None
    sampled: bool = False
    empty_value: float | None = None
    test: ChangeTest | None = None

    def aggregates(self, t: ir.Table) -> dict[str, ir.Scalar]:
        return {"n": t.is_current.cast("int64").sum(), "current": t.current.sum(), "previous": t.previous.sum(),
                "baseline": t.baseline.sum(), "has_baseline": t.is_baseline.cast("int64").sum()}

    def estimate(self, s: Stats, overall: Stats | None = None, span: Span | None = None) -> Estimate:
        current, previous = float(s["current"] or 0), float(s["previous"] or 0)
        details: dict[str, object] = {"current": current, "previous": previous}
        if _int(s["has_baseline"]):
            baseline = float(s["baseline"] or 0)
            details["baseline"] = baseline
            details["growth_vs_baseline"] = 100 * (current - baseline) / baseline if baseline else None
        if previous == 0:
            return Estimate(None, _int(s["n"]), details=details, reason="no sales in the previous period to compare with")
        return Estimate(100 * (current - previous) / previous, _int(s["n"]), details=details)

    def compare(self, current: Stats, previous: Stats, spans: tuple[Span, Span] | None = None,
                overall: tuple[Stats | None, Stats | None] | None = None) -> Comparison | None:
        return None
