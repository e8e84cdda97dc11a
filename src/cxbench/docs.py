"""The metric reference (`docs/metrics.md`), generated from the registry so each definition is written once."""

from __future__ import annotations

from cxbench.core.benchmarks import Benchmark, BenchmarkLibrary
from cxbench.core.registry import Family, Metric
from cxbench.core.stats import ChangeTest
from cxbench.core.validation import DEFAULT_SCALES
from cxbench.metrics import REGISTRY


HEADER = """# Metric reference

Generated from the metric registry by `cxbench docs --out docs/metrics.md`; a test fails when this file is
out of date. Every value is reported per period (`--period`), per segment (`--segment`), and per breakdown
where the data has the column. Percentages are 0-100. Intervals are 95 %. A change is significant when its
test's two-sided p-value is below 0.05; the z- and t-tests need `--min-sample` answers in both periods.
"Source" names the seed articles (`000`-`004`, see the README) and references behind a formula.

Default answer scales when a survey row gives no `scale_min`/`scale_max`: {scales}.
"""


#: how each test of a change is described on the page (see `cxbench.core.stats` for the formulas)
CHANGE_TESTS: dict[ChangeTest, str] = {
    ChangeTest.NET_SCORE: "NPS difference z: z = (NPS₁ − NPS₂) / √(Var₁ + Var₂), two-sided",
    ChangeTest.TWO_PROPORTION: "two-proportion z, pooled, two-sided",
    ChangeTest.WELCH: "Welch's t from the periods' means and standard deviations, two-sided",
    ChangeTest.POISSON: "exact Poisson rate test (k₁ | k₁ + k₂ binomial), the periods' days as exposures",
}


def metrics_markdown() -> str:
    """The whole reference page as Markdown."""
    scales = ", ".join(f"{name} {lo:g}-{hi:g}" for name, (lo, hi) in DEFAULT_SCALES.items())
    out = [HEADER.format(scales=scales)]
    for family in Family:
        metrics = [m for m in REGISTRY if m.family is family]
        if not metrics:
            continue
        out.append(f"\n## {family.value}\n")
        out.append("| id | name | unit | better | benchmark |\n|---|---|---|---|---|")
        for m in metrics:
            b = BenchmarkLibrary.builtin().lookup(m.id)
            bench = f"{b.statement} ({b.source})" if b else "—"
            out.append(f"| [`{m.id}`](#{m.id}) | {m.name} | {m.unit.value} | {m.direction.value} | {bench} |")
        for m in metrics:
            out.append(f"\n### {m.id}\n")
            out.append(f"**{m.name}.** {m.description}\n")
            out.append(f"- **Formula:** {m.formula}")
            out.append(f"- **Unit:** {m.unit.value}; **better:** {m.direction.value}")
            out.append(f"- **Reads:** {', '.join(f'`{t}`' for t in m.inputs)}")
            if m.events:
                out.append(f"- **Events read:** {_events(m)}")
            if m.dimensions:
                out.append(f"- **Breakdowns:** {', '.join(f'`{d}`' for d in m.dimensions)}"
                           + ("" if m.overall else " (reported only per breakdown)"))
            interval = m.estimator.interval
            out.append(f"- **95 % interval:** {interval if interval else 'none'}")
            test = m.estimator.test
            out.append(f"- **Change test:** {CHANGE_TESTS[test] if test else 'none (change.significant is null)'}")
            bench = BenchmarkLibrary.builtin().lookup(m.id)
            if bench:
                out.append(f"- **Benchmark:** {bench.statement} ({_source(bench.source)}); ratings: " + _ratings(bench))
                for name in BenchmarkLibrary.builtin().vertical_names:
                    variant = BenchmarkLibrary.builtin().verticals[name].get(m.id)
                    if variant:
                        out.append(f"- **Benchmark, `--vertical {name}`:** {variant.statement} ({_source(variant.source)}); "
                                   "ratings: " + _ratings(variant))
            out.append(f"- **Unavailable when:** no {m.what_is_counted} in the period, or the "
                       f"{', '.join(m.inputs)} table is missing")
            if m.notes:
                out.append(f"- **Notes:** {m.notes}")
            if m.source:
                out.append(f"- **Source:** {m.source}")
    return "\n".join(out) + "\n"


def _events(m: Metric) -> str:
    names = ", ".join(f"`{e}`" + (" (required)" if e in m.required_events else "") for e in m.events)
    text = (f"{names}, as the data names them: `--event-name CANONICAL=NAME` maps one to the data's name "
            "(e.g. `checkout=purchase`); `details.events` says which names were read")
    if m.required_events:
        text += "; a required event that never occurs in `events` makes the metric unavailable, naming it"
    if m.events_replaced_by:
        text += f" (events are read only without a {', '.join(f'`{t}`' for t in m.events_replaced_by)} table)"
    return text


def _source(source: str) -> str:
    return f"seed {source}" if source.isdigit() else source


def _ratings(bench: Benchmark) -> str:
    if bench.by_scale:
        return "; ".join(f"{top}-point scale: " + ", ".join(f"{b.label} {b.describe()}" for b in bands)
                         for top, bands in bench.by_scale)
    return ", ".join(f"{b.label} {b.describe()}" for b in bench.bands)
