"""Turning a CLV forecast (`cxbench clv`) into text: the terminal report and the per-customer CSV."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxbench.lifetime_value import ClvForecast
from cxbench.output import csv_safe, terminal_text


def clv_csv(result: ClvForecast) -> str:
    """One row per customer: the `customers` records of the JSON document; a customer id a spreadsheet would run
    as a formula is neutralised."""
    records = result.records()
    sink = io.BytesIO()
    table = pa.Table.from_pylist(records) if records else pa.table({"customer_id": pa.array([], pa.string())})
    pacsv.write_csv(csv_safe(table), sink)
    return sink.getvalue().decode("utf-8")


def _number(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def clv_renderable(result: ClvForecast, source: str) -> Group:
    """`cxbench clv`: the models, the totals, the top customers and the holdout check."""
    doc = result.to_dict()
    settings, models, totals = doc["settings"], doc["models"], doc["totals"]
    unit = settings["time_unit"]
    head = Text.assemble(
        (f"Predicted customer lifetime value of {terminal_text(source)}\n", "bold"),
        f"calibration to {settings['calibration_end']} · horizon {settings['horizon']:g} {unit}s "
        f"({settings['horizon_months']:.1f} months) · discount {100 * settings['discount_rate']:g} % a month",
    )
    bg, gg = models["bg_nbd"], models["gamma_gamma"]
    model_table = Table(title="Models (Fader, Hardie & Lee 2005)", title_justify="left")
    for header in ("model", "parameters", "customers", "log-likelihood"):
        model_table.add_column(header)
    model_table.add_row("BG/NBD purchases", f"r {bg['r']:.3f}  α {bg['alpha']:.3f}  a {bg['a']:.3f}  b {bg['b']:.3f}",
                        f"{bg['customers']:,}", _number(bg["log_likelihood"], 1))
    model_table.add_row("Gamma-Gamma spend", f"p {gg['p']:.3f}  q {gg['q']:.3f}  v {gg['v']:.3f}  "
                        f"(mean spend {gg['mean_spend']:,.2f})", f"{gg['customers']:,}", _number(gg["log_likelihood"], 1))
    total_line = Text(
        f"{totals['customers']:,} customers ({totals['customers_with_repeat_purchases']:,} with repeat purchases): "
        f"{totals['expected_purchases']:,.1f} purchases expected, predicted CLV {totals['clv']:,.2f} in total, "
        f"{_number(totals['mean_clv'])} per customer, mean P(alive) {_number(totals['mean_p_alive'], 3)}")
    top = Table(title="Top customers by predicted CLV", title_justify="left")
    for header in ("customer", "frequency", "recency", "T", "monetary value", "P(alive)", "expected purchases", "CLV"):
        top.add_column(header, justify="left" if header == "customer" else "right")
    for r in doc["top_customers"]:
        top.add_row(Text(terminal_text(r["customer_id"])), str(r["frequency"]), _number(r["recency"]), _number(r["T"]),
                    _number(r["monetary_value"]), _number(r["p_alive"], 3), _number(r["expected_purchases"]),
                    _number(r["clv"]))
    parts: list[Any] = [head, model_table, total_line, top]
    holdout = doc["holdout"]
    if holdout["status"] == "ok":
        check = Table(title=f"Holdout check: purchases {holdout['start']} to {holdout['end']} "
                            f"({holdout['length']:g} {unit}s)", title_justify="left")
        for header in ("calibration purchases", "customers", "actual", "predicted", "actual per customer",
                       "predicted per customer"):
            check.add_column(header, justify="right")
        for g in holdout["by_frequency"]:
            check.add_row(g["frequency"], f"{g['customers']:,}", f"{g['actual']:,}", _number(g["predicted"], 1),
                          _number(g["actual_mean"]), _number(g["predicted_mean"]))
        check.add_row("all", f"{holdout['customers']:,}", f"{holdout['actual_purchases']:,}",
                      _number(holdout["predicted_purchases"], 1), "", "", style="bold")
        parts.append(check)
        if holdout["error_pct"] is not None:
            parts.append(Text(f"Predicted total is {holdout['error_pct']:+.1f} % off the actual purchases.", style="dim"))
    else:
        parts.append(Text(terminal_text(f"Holdout check: {holdout['reason']}"), style="dim"))
    parts.extend(Text(terminal_text(f"warning: {w}"), style="yellow") for w in doc["warnings"])
    return Group(*parts)


__all__ = ["clv_csv", "clv_renderable"]
