"""Turning a key-driver analysis (`cxbench drivers`) into text: the terminal report and the CSV."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxbench.analyses.drivers import POPULATIONS, TARGET_LABELS, KeyDrivers
from cxbench.output import csv_safe, terminal_text

#: The CSV's columns, in order (rows of `KeyDrivers.rows()`).
CSV_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("target", pa.string()), ("status", pa.string()), ("analysed", pa.int64()), ("r2", pa.float64()),
    ("driver", pa.string()), ("label", pa.string()), ("term", pa.string()), ("importance_pct", pa.float64()),
    ("importance_ci_low", pa.float64()), ("importance_ci_high", pa.float64()), ("effect_kind", pa.string()),
    ("effect", pa.float64()), ("effect_ci_low", pa.float64()), ("effect_ci_high", pa.float64()),
    ("p_value", pa.float64()), ("per_unit", pa.float64()), ("direction", pa.string()),
    ("performance_pct", pa.float64()), ("affected_pct", pa.float64()), ("quadrant", pa.string()),
    ("reason", pa.string()),
)


def drivers_csv(result: KeyDrivers) -> str:
    """One row per target, driver and model term (a category has one per level); dropped drivers and unavailable
    targets with their reason. Text a spreadsheet would run as a formula is neutralised."""
    names = [name for name, _ in CSV_COLUMNS]
    rows = [{name: row.get(name) for name in names} for row in result.rows()]
    table = pa.Table.from_pylist(rows, schema=pa.schema(list(CSV_COLUMNS)))
    sink = io.BytesIO()
    pacsv.write_csv(csv_safe(table), sink)
    return sink.getvalue().decode("utf-8")


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _interval(estimate: Any, low: Any, high: Any, digits: int = 2, signed: bool = True) -> str:
    if estimate is None:
        return "—"
    head = f"{estimate:+.{digits}f}" if signed else f"{estimate:.{digits}f}"
    if low is None or high is None:
        return head
    return f"{head} ({low:.{digits}f} to {high:.{digits}f})"


def drivers_renderable(result: KeyDrivers, source: str) -> Group:
    """`cxbench drivers`: per target, the drivers by importance with their effect, reach and quadrant."""
    doc = result.to_dict()
    settings = doc["settings"]
    window = (f"{settings['from'] or 'start'} to {settings['to'] or 'end'}"
              if settings["from"] or settings["to"] else "all the data")
    parts: list[Any] = [Text.assemble(
        (f"Key drivers of {terminal_text(source)}\n", "bold"),
        f"{window} · importance: Shapley share of R² (LMG), 95 % interval from {settings['bootstrap_samples']} "
        f"bootstrap samples (seed {settings['seed']})",
    ), Text(doc["note"], style="italic")]
    for a in doc["analyses"]:
        title = f"{TARGET_LABELS[a['target']]}"
        if a["status"] != "ok":
            parts.append(Text(terminal_text(f"{title}: unavailable: {a['reason']}"), style="yellow"))
            parts.extend(_dropped(a))
            continue
        churn = a["target"] == "churn"
        fit = (f"R² {a['r2']:.3f}" + (f", McFadden pseudo-R² {a['pseudo_r2_mcfadden']:.3f}"
                                      if churn and a.get("pseudo_r2_mcfadden") is not None else ""))
        mean = (f"{100 * a['mean_target']:.1f} % churned" if churn else f"mean {a['mean_target']:.2f}")
        table = Table(title=terminal_text(f"{title}: {a['analysed']:,} customers ({mean}; {fit})"),
                      title_justify="left")
        table.add_column("driver")
        table.add_column("importance", justify="right")
        table.add_column("odds ratio (95 % CI)" if churn else "std. coefficient (95 % CI)", justify="right")
        table.add_column("affected", justify="right")
        table.add_column("quadrant")
        for d in a["drivers"]:
            importance = _pct(d["importance_pct"])
            if d["importance_pct"] is not None and d["importance_ci_low"] is not None:
                importance += f" ({d['importance_ci_low']:.0f}-{d['importance_ci_high']:.0f})"
            for i, e in enumerate(d["effects"]):
                label = d["label"] if d["kind"] != "category" else f"{d['label']}: {e['term'].split(' = ', 1)[1]}"
                effect = _interval(e["estimate"], e["ci_low"], e["ci_high"], signed=not churn)
                first = i == 0
                table.add_row(Text(terminal_text(label)), importance if first else "", effect,
                              _pct(d["affected_pct"]) if first else "", (d["quadrant"] or "") if first else "")
        parts.append(table)
        reference = [d["direction"] for d in a["drivers"] if d["kind"] == "category"]
        if reference:
            parts.append(Text(terminal_text("Categories: " + "; ".join(reference) + "."), style="dim"))
        if a["left_out_missing_driver"]:
            parts.append(Text(f"{a['left_out_missing_driver']:,} of the {a['customers']:,} "
                              f"{POPULATIONS[a['target']]} lack a driver and are left out.", style="dim"))
        parts.extend(_dropped(a))
        parts.extend(Text(terminal_text(f"warning: {w}"), style="yellow") for w in a["warnings"])
    parts.append(Text("Affected: the share of analysed customers on the wrong side of each driver's threshold "
                      "(docs/analyses.md). Quadrant: importance and performance against the drivers' means.",
                      style="dim"))
    return Group(*parts)


def _dropped(analysis: dict[str, Any]) -> list[Text]:
    return [Text(terminal_text(f"dropped {d['label']}: {d['reason']}"), style="dim") for d in analysis["dropped"]]


__all__ = ["drivers_csv", "drivers_renderable"]
