"""Key-driver analysis (`cxbench drivers`, issue 18 item 1): the Shapley/LMG decomposition, the odds ratios, the
per-customer table in the engine, the reasons a driver or a target is left out, and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import cxbench
from conftest import write_tables
from cxbench.analyses.drivers import (
    DriverSpec,
    FeatureTable,
    PerfectSeparation,
    Window,
    analyse,
    build_features,
    correlation,
    lmg,
    logit_odds_ratios,
    subset_r2,
)
from cxbench.cli import app
from cxbench.core.options import make_options
from cxbench.core.registry import MetricContext
from cxbench.core.sources import open_source
from cxbench.core.validation import validate

SWISS = Path(__file__).parent / "data" / "swiss" / "swiss.csv"
runner = CliRunner()


# -- the decomposition ------------------------------------------------------------------------------


def test_lmg_splits_r2_as_worked_by_hand_on_three_predictors():
    # Correlations chosen so every subset's R² can be worked by hand: r(y, x1) = 0.6, r(y, x2) = 0.5,
    # r(y, x3) = 0.3, r(x1, x2) = 0.5, x3 uncorrelated with x1 and x2.
    corr = np.array([[1.0, 0.6, 0.5, 0.3],
                     [0.6, 1.0, 0.5, 0.0],
                     [0.5, 0.5, 1.0, 0.0],
                     [0.3, 0.0, 0.0, 1.0]])
    # R²(1) = .36, R²(2) = .25, R²(3) = .09;
    # R²(12) = (r1² + r2² − 2 r1 r2 r12) / (1 − r12²) = (.36 + .25 − .30) / .75 = .413333;
    # x3 is orthogonal, so it adds r3²: R²(13) = .45, R²(23) = .34, R²(123) = .503333.
    r2 = subset_r2(corr, [[0], [1], [2]])
    # bit j set = x(j+1) in the subset: {}, {1}, {2}, {12}, {3}, {13}, {23}, {123}
    assert r2 == pytest.approx([0, .36, .25, .31 / .75, .09, .45, .34, .31 / .75 + .09])
    total, shares = lmg(corr, [[0], [1], [2]])
    # Weights over orders for k = 3: 1/3 for the empty and the two-predictor subsets, 1/6 for each single one.
    # LMG1 = (1/3)(.36) + (1/6)(.413333 − .25) + (1/6)(.45 − .09) + (1/3)(.503333 − .34) = .261667
    # LMG2 = (1/3)(.25) + (1/6)(.413333 − .36) + (1/6)(.34 − .09) + (1/3)(.503333 − .45) = .151667
    # LMG3 = .09 in every order (orthogonal); the three add up to R²(123) = .503333.
    assert total == pytest.approx(.31 / .75 + .09)
    assert shares == pytest.approx([.261667, .151667, .09], abs=1e-6)


def _swiss() -> tuple[np.ndarray, np.ndarray]:
    with SWISS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    data = np.array([[float(r[k]) for k in list(r)[1:]] for r in rows])
    return data[:, 0], data[:, 1:]


def test_lmg_on_swiss_adds_up_to_the_published_r2_of_the_full_model():
    y, x = _swiss()
    assert len(y) == 47
    total, shares = lmg(correlation(y, x), [[i] for i in range(5)])
    # R's summary(lm(Fertility ~ ., data = swiss)): "Multiple R-squared: 0.7067" (the model relaimpo's paper,
    # Grömping 2006, decomposes); the LMG shares add up to it.
    assert round(total, 4) == 0.7067
    assert round(float(shares.sum()), 4) == 0.7067
    # One-predictor R² are the squared correlations cor(swiss) publishes for Fertility: Agriculture 0.3530792,
    # Examination −0.6458827, Education −0.6637889, Catholic 0.4636847, Infant.Mortality 0.4165560.
    r2 = subset_r2(correlation(y, x), [[i] for i in range(5)])
    singles = [r2[1 << i] for i in range(5)]
    assert singles == pytest.approx([r ** 2 for r in (0.3530792, -0.6458827, -0.6637889, 0.4636847, 0.4165560)],
                                    abs=1e-7)


def test_a_group_of_columns_enters_the_decomposition_together():
    # Education and Examination as one group: the group's subsets have the R² of least squares on both columns.
    y, x = _swiss()
    r2 = subset_r2(correlation(y, x), [[0], [1, 2], [3], [4]])
    design = np.column_stack([np.ones(47), x[:, 1], x[:, 2]])
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    assert r2[0b0010] == pytest.approx(1 - residual.var() / y.var())


# -- the odds ratios ----------------------------------------------------------------------------------


def test_odds_ratio_of_one_binary_driver_is_the_cross_product_ratio_of_its_table():
    # 2×2 table: pro customers 10 churned, 40 kept; basic customers 30 churned, 20 kept.
    y = np.array([1] * 10 + [0] * 40 + [1] * 30 + [0] * 20, dtype=float)
    pro = np.array([1] * 50 + [0] * 50, dtype=float)[:, None]
    (effect,), _ = logit_odds_ratios(y, pro, ["plan = pro"], [False])
    # OR = (a·d) / (b·c) = (10 × 20) / (40 × 30) = 0.166667; the logit MLE with one binary predictor equals it.
    assert effect.estimate == pytest.approx(10 * 20 / (40 * 30), rel=1e-6)
    # Wald interval on log OR: SE = √(1/10 + 1/40 + 1/30 + 1/20) = 0.456435 (Woolf) →
    # exp(ln 0.166667 ± 1.959964 × 0.456435) = 0.068148 to 0.407617.
    se = math.sqrt(1 / 10 + 1 / 40 + 1 / 30 + 1 / 20)
    assert (effect.ci_low, effect.ci_high) == pytest.approx(
        (math.exp(math.log(1 / 6) - 1.959964 * se), math.exp(math.log(1 / 6) + 1.959964 * se)), rel=1e-5)


def test_perfect_separation_is_reported_not_fitted():
    x = np.arange(100, dtype=float)[:, None]
    y = (x[:, 0] >= 50).astype(float)  # the driver predicts churn exactly
    with pytest.raises(PerfectSeparation):
        logit_odds_ratios(y, x, ["tickets"], [True])


# -- the analysis on a per-customer table -------------------------------------------------------------


def _features(columns: dict[str, list[Any]], specs: list[DriverSpec]) -> FeatureTable:
    return FeatureTable(pa.table(columns), tuple(specs), (), (1.0, 5.0), (1.0, 7.0), 0, None)


def _numeric(key: str, **kwargs: Any) -> DriverSpec:
    return DriverSpec(key, key.replace("_", " "), threshold=0.0, good_text="at least 0", **kwargs)


def test_too_few_respondents_make_the_target_unavailable_with_the_minimum():
    rng = np.random.default_rng(1)
    table = _features({"nps": rng.integers(0, 11, 30).astype(float).tolist(), "x": rng.normal(size=30).tolist()},
                      [_numeric("x")])
    result = analyse(table, "nps", bootstrap=10)
    assert result.status == "unavailable"
    assert "30 customers with an NPS answer, fewer than 50" in result.reason
    assert result.to_dict()["drivers"] == []


def test_constant_rare_and_collinear_drivers_are_dropped_with_their_reason():
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(size=n)
    rare = [float(v) if i < 20 else None for i, v in enumerate(rng.normal(size=n))]
    y = 7 + 1.5 * x + rng.normal(size=n)
    table = _features({"nps": y.tolist(), "x": x.tolist(), "flat": [3.0] * n, "rare": rare,
                       "double_x": (2 * x).tolist(), "z": rng.normal(size=n).tolist()},
                      [_numeric("x"), _numeric("flat"), _numeric("rare"), _numeric("double_x"), _numeric("z")])
    result = analyse(table, "nps", bootstrap=20)
    assert result.ok
    reasons = {d.key: d.reason for d in result.dropped}
    assert reasons["flat"] == "the same value (3) for every customer"
    assert reasons["rare"].startswith("measured for 10 % of the 200 customers with an NPS answer (needs 30 %")
    # x and 2x carry the same information: the first one found with an infinite VIF goes.
    assert "collinear with the other drivers" in next(r for k, r in reasons.items() if k in ("x", "double_x"))
    kept = {d.key for d in result.drivers}
    assert kept in ({"x", "z"}, {"double_x", "z"})


def test_planted_driver_takes_most_of_the_r2_and_shares_add_up_to_100():
    rng = np.random.default_rng(3)
    n = 300
    strong, weak = rng.normal(size=n), rng.normal(size=n)
    plan = rng.choice(["basic", "pro"], n).tolist()
    y = 2.0 * strong + 0.4 * weak + rng.normal(size=n)
    table = _features({"nps": y.tolist(), "strong": strong.tolist(), "weak": weak.tolist(), "plan": plan},
                      [_numeric("strong"), _numeric("weak"), DriverSpec("plan", "Plan", kind="category")])
    result = analyse(table, "nps", bootstrap=50)
    first = result.drivers[0]
    assert first.key == "strong" and first.importance > 80
    assert first.importance_low <= first.importance <= first.importance_high
    assert sum(d.importance for d in result.drivers) == pytest.approx(100)
    assert first.direction == "higher goes with a higher NPS answer (0-10)"
    # The standardised slope of the planted 2.0: β = 2 · sd(x) / sd(y) with sd(y) ≈ √(4 + 0.16 + 1) ≈ 2.27.
    assert first.effects[0].estimate == pytest.approx(2 / math.sqrt(5.16), abs=0.06)
    plan_driver = next(d for d in result.drivers if d.key == "plan")
    assert plan_driver.performance is None and len(plan_driver.effects) == 1  # one level against the other
    json.dumps(result.to_dict(), allow_nan=False)


def test_over_twelve_drivers_the_ones_with_least_r2_of_their_own_are_dropped():
    rng = np.random.default_rng(4)
    n = 1000
    x = rng.normal(size=(n, 13))
    # d00 is noise (weight 0); d01 ... d12 have weights 10 ... 21: R² of their own about 100 / 3,266 = 0.03 and up
    # (correlation 0.17, six sampling errors of 1/√1000 above d00's 0).
    y = x @ np.array([0, *range(10, 22)]) + rng.normal(size=n)
    names = [f"d{k:02d}" for k in range(13)]
    table = _features({"nps": y.tolist(), **{name: x[:, k].tolist() for k, name in enumerate(names)}},
                      [_numeric(name) for name in names])
    result = analyse(table, "nps", bootstrap=3)
    assert [(d.key, d.reason) for d in result.dropped] == [
        ("d00", "over the 12-driver limit of the exact decomposition; the drivers with the largest R² of their own "
                "are kept")]
    assert len(result.drivers) == 12 and result.drivers[0].key == "d12"


def test_churn_with_a_separating_driver_is_unavailable_with_the_reason():
    n = 120
    tickets = np.arange(n, dtype=float)
    table = _features({"churned": (tickets >= 60).astype(float).tolist(), "tickets": tickets.tolist()},
                      [_numeric("tickets")])
    result = analyse(table, "churn", bootstrap=10)
    assert result.status == "unavailable" and result.reason.startswith("perfect separation")


# -- the per-customer table in the engine ---------------------------------------------------------------

CUSTOMERS = [
    {"customer_id": "c1", "signup_at": "2026-01-01T00:00:00Z", "plan": "pro", "segment": "smb"},
    {"customer_id": "c2", "signup_at": "2026-01-01T00:00:00Z", "plan": "basic", "segment": "consumer"},
    {"customer_id": "c3", "signup_at": "2026-01-01T00:00:00Z", "plan": "pro", "segment": "consumer"},
]


def _survey(rid: str, who: str, survey: str, score: float, ts: str, **extra: Any) -> dict[str, Any]:
    scales = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[survey]
    return {"response_id": rid, "respondent_id": who, "ts": ts, "survey": survey, "score": score,
            "scale_min": scales[0], "scale_max": scales[1], "item": extra.get("item", ""),
            "touchpoint": extra.get("touchpoint", "")}


SURVEYS = [
    _survey("r1", "c1", "nps", 9, "2026-10-01T10:00:00Z"), _survey("r2", "c1", "nps", 7, "2026-10-20T10:00:00Z"),
    _survey("r3", "c2", "nps", 3, "2026-10-02T10:00:00Z"),
    _survey("r4", "c1", "csat", 5, "2026-10-01T10:00:00Z", touchpoint="support"),
    _survey("r5", "c1", "csat", 3, "2026-10-03T10:00:00Z", touchpoint="support"),
    _survey("r6", "c2", "csat", 2, "2026-10-03T10:00:00Z", touchpoint="delivery"),
    _survey("r7", "c3", "csat", 4, "2026-10-04T10:00:00Z", touchpoint="support"),
    _survey("r8", "c1", "ces", 2, "2026-10-01T10:00:00Z"),
    _survey("r9", "c2", "ces", 6, "2026-10-02T10:00:00Z", item="ease"),
    _survey("r10", "c2", "ces", 5, "2026-10-03T10:00:00Z"),
]
TICKETS = [
    {"ticket_id": "t1", "customer_id": "c1", "channel": "chat", "opened_at": "2026-10-01T10:00:00Z",
     "resolved_at": "2026-10-01T12:00:00Z", "contacts": 1},
    {"ticket_id": "t2", "customer_id": "c1", "channel": "email", "opened_at": "2026-10-02T00:00:00Z",
     "resolved_at": "2026-10-03T00:00:00Z", "contacts": 3},
    {"ticket_id": "t3", "customer_id": "c2", "channel": "chat", "opened_at": "2026-10-05T00:00:00Z",
     "resolved_at": "", "contacts": 1},
]
EVENTS = [
    {"user_id": "c1", "ts": "2026-10-01T09:00:00Z", "event": "pageview", "feature": ""},
    {"user_id": "c1", "ts": "2026-10-01T09:05:00Z", "event": "feature_used", "feature": "maps"},
    {"user_id": "c1", "ts": "2026-10-05T09:00:00Z", "event": "feature_used", "feature": "lists"},
    {"user_id": "c1", "ts": "2026-11-02T09:00:00Z", "event": "pageview", "feature": ""},
    {"user_id": "c2", "ts": "2026-10-03T09:00:00Z", "event": "feature_used", "feature": "maps"},
]
SUBSCRIPTIONS = [
    {"subscription_id": "s1", "customer_id": "c1", "start_at": "2026-01-01T00:00:00Z", "end_at": "", "mrr": 49},
    {"subscription_id": "s2", "customer_id": "c2", "start_at": "2026-01-01T00:00:00Z",
     "end_at": "2026-10-15T00:00:00Z", "mrr": 19},
    {"subscription_id": "s3", "customer_id": "c3", "start_at": "2026-01-01T00:00:00Z",
     "end_at": "2026-09-01T00:00:00Z", "mrr": 49},
    {"subscription_id": "s4", "customer_id": "c3", "start_at": "2026-09-01T00:00:00Z", "end_at": "", "mrr": 99},
]


def _context(folder: Path, backend: Any) -> MetricContext:
    tables = {"customers", "surveys", "tickets", "events", "subscriptions"}
    dataset = open_source(folder, backend)
    validation = validate(dataset, only=tables, as_of=make_options(as_of="2026-12-01").as_of)
    return MetricContext(con=dataset.con, tables=validation.tables, options=make_options(as_of="2026-12-01"))


def test_feature_table_per_customer_as_worked_by_hand(tmp_path: Path, backend: Any):
    folder = write_tables(tmp_path / "case", {"customers": CUSTOMERS, "surveys": SURVEYS, "tickets": TICKETS,
                                              "events": EVENTS, "subscriptions": SUBSCRIPTIONS})
    features = build_features(_context(folder, backend))
    rows = {r["customer_id"]: r for r in features.table.to_pylist()}
    assert features.touchpoints == ("support", "delivery")  # 3 support answers, 1 delivery
    assert features.features == 2  # maps and lists
    c1, c2, c3 = rows["c1"], rows["c2"], rows["c3"]
    # NPS: c1 (9 + 7) / 2 = 8; c2 3; c3 none.
    assert (c1["nps"], c2["nps"], c3["nps"]) == (8, 3, None)
    # CSAT on 1-5: c1 support (5 + 3) / 2 = 4; c2 delivery 2; c3 support 4.
    assert (c1["csat_support"], c2["csat_delivery"], c3["csat_support"]) == (4, 2, 4)
    assert (c1["csat"], c2["csat_support"]) == (4, None)
    # CES on 1-7: c1 2; c2 'ease' 6 reversed to 1 + 7 − 6 = 2, and 5: (2 + 5) / 2 = 3.5.
    assert (c1["ces"], c2["ces"], c3["ces"]) == (2, 3.5, None)
    # Tickets: c1 two, resolved in 2 h and 24 h: mean 13 h; one of two at the first contact: 50 %.
    # c2 one still open: FCR 0 %; c3 none.
    assert (c1["tickets"], c1["resolution_hours"], c1["first_contact_resolution"]) == (2, 13, 50)
    assert (c2["tickets"], c2["resolution_hours"], c2["first_contact_resolution"]) == (1, None, 0)
    assert (c3["tickets"], c3["resolution_hours"]) == (0, None)
    # Active days per active month: c1 3 days (Oct 1, Oct 5, Nov 2) in 2 months = 1.5; c2 1 in 1; c3 none: 0.
    assert (c1["days_per_active_month"], c2["days_per_active_month"], c3["days_per_active_month"]) == (1.5, 1, 0)
    # Feature adoption: c1 both features 100 %, c2 one of two 50 %, c3 0 %.
    assert (c1["feature_adoption"], c2["feature_adoption"], c3["feature_adoption"]) == (100, 50, 0)
    # Churn judged at the last subscription date (2026-10-15): c2's only subscription ended then; c3 renewed.
    assert (c1["churned"], c2["churned"], c3["churned"]) == (0, 1, 0)
    assert (c1["plan"], c2["segment"]) == ("pro", "consumer")


def test_window_bounds_the_answers_tickets_and_the_churn_instant(tmp_path: Path):
    folder = write_tables(tmp_path / "case", {"customers": CUSTOMERS, "surveys": SURVEYS, "tickets": TICKETS,
                                              "events": EVENTS, "subscriptions": SUBSCRIPTIONS})
    features = build_features(_context(folder, "duckdb"), Window(None, dt.date(2026, 10, 1)))
    rows = {r["customer_id"]: r for r in features.table.to_pylist()}
    # To Oct 1: c1's first NPS answer (9) and first ticket only; churn judged at Oct 2 00:00, when c2 still pays.
    assert (rows["c1"]["nps"], rows["c1"]["tickets"], rows["c2"]["churned"]) == (9, 1, 0)
    assert features.churn_as_of.isoformat() == "2026-10-02T00:00:00"


# -- the API and the command line -----------------------------------------------------------------------


def _company(tmp_path: Path) -> Path:
    """80 customers whose NPS follows their support CSAT (planted), with tickets and subscriptions."""
    rng = np.random.default_rng(7)
    customers, surveys, tickets, subs = [], [], [], []
    for i in range(80):
        cid = f"c{i}"
        csat = int(rng.integers(1, 6))
        nps = int(min(10, max(0, round(2 * csat + rng.normal(0, 1)))))
        customers.append({"customer_id": cid, "signup_at": "2026-01-01T00:00:00Z",
                          "plan": ["basic", "pro"][i % 2], "segment": "smb"})
        surveys.append(_survey(f"n{i}", cid, "nps", nps, "2026-10-10T10:00:00Z"))
        surveys.append(_survey(f"s{i}", cid, "csat", csat, "2026-10-09T10:00:00Z", touchpoint="support"))
        for k in range(int(rng.integers(0, 3))):
            tickets.append({"ticket_id": f"t{i}-{k}", "customer_id": cid, "channel": "chat",
                            "opened_at": "2026-10-01T10:00:00Z", "resolved_at": "2026-10-01T14:00:00Z",
                            "contacts": int(rng.integers(1, 3))})
        subs.append({"subscription_id": f"s{i}", "customer_id": cid, "start_at": "2026-01-01T00:00:00Z",
                     "end_at": "2026-10-20T00:00:00Z" if rng.random() < 0.3 else "", "mrr": 20})
    subs.append({"subscription_id": "last", "customer_id": "c0", "start_at": "2026-10-30T00:00:00Z", "end_at": "",
                 "mrr": 20})
    return write_tables(tmp_path / "company", {"customers": customers, "surveys": surveys, "tickets": tickets,
                                               "subscriptions": subs})


def test_key_drivers_api_finds_the_planted_driver_and_says_association(tmp_path: Path):
    result = cxbench.key_drivers(_company(tmp_path), targets=["nps", "churn"], bootstrap=30)
    nps = result.get("nps")
    assert nps.ok and nps.drivers[0].key == "csat_support"
    assert nps.drivers[0].quadrant in ("fix first", "keep it up")
    doc = json.loads(result.to_json(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert "not causes" in doc["note"]
    assert doc["settings"]["bootstrap_samples"] == 30 and doc["inputs"]["surveys"]["rows"] == 160
    # First-contact resolution exists only for customers with a ticket: with it the complete rows are too few, so it
    # is the driver dropped (the least measured), with the counts.
    with (tmp_path / "company" / "tickets.csv").open(encoding="utf-8") as f:
        with_ticket = len({r["customer_id"] for r in csv.DictReader(f)})
    assert with_ticket < 50
    assert {d.key: d.reason for d in nps.dropped}["first_contact_resolution"] == (
        f"measured for {100 * with_ticket / 80:.0f} % of the customers with an NPS answer; with it, {with_ticket} "
        "customers have every driver measured, fewer than 50")
    # Churned: customers whose only subscription ended on 2026-10-20 (c0 started another on 2026-10-30).
    with (tmp_path / "company" / "subscriptions.csv").open(encoding="utf-8") as f:
        subs = list(csv.DictReader(f))
    renewed = {r["customer_id"] for r in subs if not r["end_at"]}
    churned = len({r["customer_id"] for r in subs} - renewed)
    churn = result.get("churn")
    # Three terms (support CSAT, tickets, plan; resolution time is 4 h for everyone and segment one value): the
    # smaller group needs 3 × 10 customers.
    assert churn.status == "unavailable"
    assert churn.reason == (f"{churned} churned and {80 - churned} kept customers have every driver measured: the "
                            "smaller group needs 10 per model term (3 terms, 30) for a stable logistic regression")
    assert {d.key: d.reason for d in churn.dropped}["resolution_hours"] == "the same value (4) for every customer"


def test_cli_drivers_prints_a_readable_table_and_writes_json_and_csv(tmp_path: Path):
    folder = _company(tmp_path)
    result = runner.invoke(app, ["drivers", str(folder), "--target", "nps", "--bootstrap", "30"],
                           env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "NPS answer (0-10): 80 customers" in result.output
    assert "CSAT: support" in result.output and "not causes" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    out = tmp_path / "drivers.csv"
    result = runner.invoke(app, ["drivers", str(folder), "-t", "nps", "--bootstrap", "30", "-f", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["target"] == "nps" and rows[0]["driver"] == "csat_support"
    bad = runner.invoke(app, ["drivers", str(folder), "--target", "loyalty"])
    assert bad.exit_code == 2 and "--target loyalty: use nps, csat, churn" in bad.output


# -- the report section ---------------------------------------------------------------------------------


def test_report_drivers_section_holds_the_analysis_numbers_and_draws_in_chromium(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from cxbench.report.model import build_model
    from test_report import _chromium, _open

    folder = _company(tmp_path)
    result = cxbench.key_drivers(folder, targets=["nps", "churn"], bootstrap=30)
    card = cxbench.compute(folder, engine="duckdb", metrics=["nps"])
    assert build_model(card).drivers is None  # only when asked for
    nps = next(t for t in build_model(card, drivers=result).drivers.targets if t.target == "nps")
    points = nps.chart.data[0]["points"]
    plotted = [d for d in result.get("nps").drivers if d.performance is not None]
    assert [(p["label"], p["x"], p["y"]) for p in points] == [
        (d.label, round(d.importance, 6), round(d.performance, 6)) for d in plotted]
    # `cxbench report --drivers` writes the section; the importance does not depend on the bootstrap samples.
    path = tmp_path / "report.html"
    run = runner.invoke(app, ["report", str(folder), "--metric", "nps", "--drivers", "--out", str(path)])
    assert run.exit_code == 0, run.output
    html = path.read_text(encoding="utf-8")
    assert "Why it moved: key drivers" in html and "not causes" in html
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page, errors, requests = _open(browser, path)
        page.evaluate("document.getElementById('why-drivers-nps').scrollIntoView()")
        page.wait_for_function("window.cxReport.settled()")
        drawn = page.evaluate("document.getElementById('chart-drivers-nps').data[0].x")
        assert drawn == [p["x"] for p in points]
        assert errors == []
        assert [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
        browser.close()


def test_touchpoint_names_become_distinct_column_names():
    from cxbench.analyses.drivers import touchpoint_columns

    # "Support" and "support" would both be csat_support: the second is numbered; markup keeps letters only.
    assert touchpoint_columns(["Support", "support", "</script>"]) == [
        ("Support", "csat_support"), ("support", "csat_support_2"), ("</script>", "csat___script_")]


def test_an_effect_against_the_expected_direction_is_flagged():
    rng = np.random.default_rng(5)
    n = 300
    fcr = rng.uniform(0, 100, n)
    # Planted: a higher first-contact resolution with a lower NPS answer (slope −0.05 a point, sd of noise 1).
    table = _features({"nps": (8 - 0.05 * fcr + rng.normal(size=n)).tolist(), "fcr": fcr.tolist()},
                      [DriverSpec("fcr", "First-contact resolution", threshold=100.0)])
    result = analyse(table, "nps", bootstrap=5)
    assert result.drivers[0].direction == "higher goes with a lower NPS answer (0-10)"
    assert any(w.startswith("the association runs against the expected direction") and "First-contact resolution"
               in w for w in result.warnings)
