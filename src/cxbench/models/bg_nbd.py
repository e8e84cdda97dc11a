"""The BG/NBD purchase model, fitted by maximum likelihood on NumPy and SciPy.

[1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way: an alternative
    to the Pareto/NBD model. Marketing Science 24(2), 275-284.
[2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using the BG/NBD model.
    http://brucehardie.com/notes/021/
[3] Fader, P. S. & Hardie, B. G. S. (2013). Overcoming the BG/NBD model's #NUM! error problem.
    http://brucehardie.com/notes/027/

A customer is summarised by `x` (repeat purchases in the calibration period), `t_x` (time of the last
purchase, measured from the first) and `T` (time from the first purchase to the end of the calibration
period), all in one time unit. While alive, a customer buys at Poisson rate λ ~ Gamma(r, α); after each
purchase they drop out with probability p ~ Beta(a, b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cxbench.models.arrays import LOG_BOUND, SHAPE_LIMIT, Array, distinct_rows
from cxbench.models.errors import ModelFitError


@dataclass(frozen=True)
class BetaGeoModel:
    """A fitted BG/NBD model: r, α (purchase rates ~ Gamma(r, α)), a, b (dropout ~ Beta(a, b))."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    customers: int = 0

    # -- likelihood ---------------------------------------------------------------------------------

    @staticmethod
    def log_likelihood_terms(params: Array, x: Array, t_x: Array, T: Array,
                             x_groups: tuple[Array, npt.NDArray[np.int64]] | None = None) -> tuple[Array, Array]:
        """Per-customer log-likelihood and its gradient with respect to (r, α, a, b).

        Eq. 6 of [1] (computed as in its section 7 and [3]), in logs: L = A1 · (e^A2 + δ(x>0) e^A3) with
        A1 = ln Γ(r+x) − ln Γ(r) + r ln α,
        A2 = ln B(a, b+x) − ln B(a, b) − (r+x) ln(α+T),
        A3 = ln B(a+1, b+x−1) − ln B(a, b) − (r+x) ln(α+t_x);
        the sum of the two exponentials is taken with log-sum-exp so large x or T never overflow ([3]).
        `x_groups`: the distinct values of x and each row's index among them; the special functions of x are
        then evaluated once per distinct x (a few dozen values for a million customers).
        """
        r, alpha, a, b = params
        ux, inverse = x_groups if x_groups is not None else (x, None)
        # x = 0 has no second term; b + x − 1 is then a placeholder kept positive so nothing warns.
        ux1 = np.maximum(ux, 1) - 1
        d_ab = digamma(a + b) - digamma(a + b + ux)
        of_x = [
            gammaln(r + ux) - gammaln(r),
            betaln(a, b + ux) - betaln(a, b),
            betaln(a + 1, b + ux1) - betaln(a, b),
            digamma(r + ux) - digamma(r),
            d_ab,
            digamma(b + ux) - digamma(b) + d_ab,
            digamma(b + ux1) - digamma(b) + d_ab,
        ]
        if inverse is not None:
            of_x = [values[inverse] for values in of_x]
        log_gamma_ratio, beta2, beta3, d_r, d_a2, d_b2, d_b3 = of_x
        repeat = x > 0
        log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
        a1 = log_gamma_ratio + r * np.log(alpha)
        a2 = beta2 - (r + x) * log_alpha_T
        a3 = np.where(repeat, beta3 - (r + x) * log_alpha_tx, -np.inf)
        top = np.maximum(a2, a3)
        log_sum = top + np.log(np.exp(a2 - top) + np.exp(a3 - top))
        ll = a1 + log_sum
        # Weights of the two terms in the sum: d ln(e^A2 + e^A3) = w2 dA2 + w3 dA3.
        w2 = np.exp(a2 - log_sum)
        w3 = 1.0 - w2
        grad_r = d_r + np.log(alpha) - w2 * log_alpha_T - w3 * log_alpha_tx
        grad_alpha = r / alpha - (r + x) * (w2 / (alpha + T) + w3 / (alpha + t_x))
        grad_a = d_a2 + w3 * (digamma(a + 1) - digamma(a))
        grad_b = w2 * d_b2 + w3 * d_b3
        return ll, np.stack([grad_r, grad_alpha, grad_a, grad_b])

    @classmethod
    def fit(cls, x: Array, t_x: Array, T: Array, *, weights: Array | None = None) -> BetaGeoModel:
        """Maximum-likelihood fit (L-BFGS-B on the log-parameters, with the analytic gradient).

        Identical (x, t_x, T) rows are merged first and weighted, which makes summaries at day resolution
        much cheaper to fit. Raises ModelFitError when the optimiser does not converge or a parameter runs
        off to a bound (the data do not identify the model).
        """
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
        if x.size and weights is None:
            rows, _, counts = distinct_rows(x, t_x, T)
            if len(counts) < 0.5 * len(x):
                x, t_x, T = rows
                w = counts.astype(np.float64)
        distinct_x, x_index, _ = distinct_rows(x)
        x_groups = (distinct_x[0], x_index)
        total = float(w.sum())
        scale = T.mean() if T.size and T.mean() > 0 else 1.0

        def objective(log_params: Array) -> tuple[float, Array]:
            params = np.exp(log_params)
            ll, grad = cls.log_likelihood_terms(params, x, t_x, T, x_groups)
            # Per-customer mean keeps the objective's scale the same for 1,000 or 1,000,000 customers.
            value = -float(w @ ll) / total
            gradient = -(grad @ w) * params / total
            if not np.isfinite(value):
                return 1e10, np.zeros(4)
            return value, gradient

        # Start: r = 1, α on the data's time scale, a = b = 1 (a Beta(1, 1) dropout: no prior lean).
        start = np.log(np.array([1.0, scale, 1.0, 1.0]))
        result = minimize(objective, start, jac=True, method="L-BFGS-B",
                          bounds=[(-LOG_BOUND, LOG_BOUND)] * 4, options={"maxiter": 2000, "gtol": 1e-9})
        params = np.exp(result.x)
        # r is a shape (no unit): beyond 1e4 or below 1e-4 the fit has run off rather than found a value. A tiny a
        # (or a huge b) is different: customers who (nearly) never leave, the NBD limit of the model, whose
        # forecasts stay sound; the forecast flags it in its warnings instead.
        at_bound = (np.abs(result.x) > LOG_BOUND - 1e-3) | (np.abs(np.log(params)) > SHAPE_LIMIT) * np.array([1, 0, 0, 0], bool)
        # a and b both collapsing to 0 is no limit model: every dropout probability is 0 or 1, a split the
        # likelihood keeps improving towards without a maximum (seen on 60 CDNOW customers).
        if max(params[2], params[3]) < np.exp(-SHAPE_LIMIT):
            at_bound[2:] = True
        names = ("r", "alpha", "a", "b")
        if not result.success and np.linalg.norm(result.jac) > 1e-4:
            raise ModelFitError(f"the BG/NBD fit did not converge ({result.message}); check that the orders "
                                "cover enough repeat purchases, or move the calibration end later")
        if at_bound.any():
            which = ", ".join(f"{n} = {v:.3g}" for n, v, hit in zip(names, params, at_bound, strict=True) if hit)
            raise ModelFitError(f"the BG/NBD fit runs off to an extreme ({which}): the orders do not identify the model. "
                                "Use more customers or a later calibration end, or a finer --time-unit")
        return cls(*map(float, params), log_likelihood=-float(result.fun) * total, customers=int(round(total)))

    # -- predictions ---------------------------------------------------------------------------------

    @property
    def params(self) -> Array:
        return np.array([self.r, self.alpha, self.a, self.b])

    def _a_safe(self) -> float:
        # The expectations divide by a − 1; at exactly a = 1 the limit is taken by a nudge far below any fit's error.
        return self.a + 1e-9 if abs(self.a - 1.0) < 1e-9 else self.a

    def expected_purchases(self, t: Array | float) -> Array:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t]. Eq. 7 of [1]:
        (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))]."""
        t = np.asarray(t, dtype=np.float64)
        a = self._a_safe()
        z = t / (self.alpha + t)
        head = _scaled_hyp2f1(self.r, a, self.b, np.zeros_like(z), z)
        return (a + self.b - 1) / (a - 1) * (1 - head)

    def conditional_expected_purchases(self, t: Array | float, x: Array, t_x: Array, T: Array) -> Array:
        """E[Y(t) | x, t_x, T]: expected purchases in the next `t` of a customer with this history. Eq. 10 of [1]:

        [(a+b+x−1)/(a−1)] · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
        ÷ [1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)].

        2F1 is taken through Euler's transformation: ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; c; z) equals
        (1−z)^(a−1) 2F1(a+b−1−r, a−1; c; z) with c = a+b+x−1 and 1 − z = (α+T)/(α+T+t), whose parameters do
        not grow with x (no overflow for frequent buyers).
        """
        x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
        t = float(t) if np.ndim(t) == 0 else np.asarray(t, dtype=np.float64)
        r, alpha, b = self.r, self.alpha, self.b
        a = self._a_safe()

        def head(x: Array, T: Array) -> Array:
            c = a + b + x - 1
            z = t / (alpha + T + t)
            return (c / (a - 1)) * (1 - _scaled_hyp2f1(r, a, b, x, z))

        if np.ndim(t) == 0 and x.ndim == 1 and x.size > 1000:
            # 2F1 depends on (x, T) only: evaluated once per distinct pair (a few thousand for a million customers).
            (ux, uT), inverse, _ = distinct_rows(x, T)
            numerator = head(ux, uT)[inverse]
        else:
            numerator = head(x, T)
        return numerator / self._alive_denominator(x, t_x, T)

    def _alive_denominator(self, x: Array, t_x: Array, T: Array) -> Array:
        """1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x), computed in logs."""
        repeat = x > 0
        log_ratio = (np.log(self.a) - np.log(self.b + np.maximum(x, 1) - 1)
                     + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x)))
        # Past e^700 the ratio is infinite for floats; then P(alive) is 0 and the expectation 0, which is right.
        return 1 + np.where(repeat, np.exp(np.minimum(log_ratio, 700.0)), 0.0)

    def probability_alive(self, x: Array, t_x: Array, T: Array) -> Array:
        """P(alive | x, t_x, T) = 1 / [1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)], as derived in [2].

        A customer with no repeat purchase is alive with probability 1 under the BG/NBD (dropout happens only
        right after a purchase): a known property of the model, said in the docs.
        """
        x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        return 1.0 / self._alive_denominator(x, t_x, T)

    def to_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "log_likelihood": self.log_likelihood}


def _scaled_hyp2f1(r: float, a: float, b: float, x: Array, z: Array) -> Array:
    """(1−z)^(r+x) · 2F1(r+x, b+x; a+b+x−1; z), the term shared by eq. 7 and eq. 10 of [1].

    Evaluated through Euler's transformation 2F1(A,B;C;z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z), i.e.
    (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), whose parameters do not grow with x (no overflow for frequent
    buyers). When a and b run into the tens of thousands (a dropout probability with almost no spread across
    customers, as in simulated data) that form overflows to 0 · ∞; there the direct form is finite and is used.
    """
    c = a + b + x - 1
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        value = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        bad = ~np.isfinite(value)
        if np.any(bad):
            direct = (1 - z) ** (r + x) * hyp2f1(r + x, b + x, c, z)
            value = np.where(bad, direct, value)
    return value
