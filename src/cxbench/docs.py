"""The metric reference (`docs/metrics.md`) and the data contract (`docs/contract.md`, the README's table list),
generated from the registry and from `core/contract.py` so each definition is written once."""

from __future__ import annotations

from cxbench.core.benchmarks import Benchmark, BenchmarkLibrary
from cxbench.core.contract import TABLES, Column, ColumnType, TableSpec
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


CONTRACT_HEADER = """# The data contract

Generated from `src/cxbench/core/contract.py` by `cxbench docs --page contract --out docs/contract.md`; a test
fails when this file is out of date. What cxbench reads (every table below) and what it writes (the end of
this page).

## Input: a dataset

A source is a folder holding one file per table (`TABLE.csv`, `TABLE.parquet`, `TABLE.json` of records or
`TABLE.jsonl`; a table may also be a folder of Parquet files, `TABLE/*.parquet`), a DuckDB database file holding
tables of these names, or a connection Ibis opens (`postgres://...`, an Ibis connection on a SparkSession).

Every table is optional: a metric whose tables are missing is reported as `unavailable` with the reason. Column
names are lower case (matched case-insensitively). Timestamps are ISO 8601; without an offset they are UTC.
Money is in one currency per dataset. A row that breaks a rule below (a type, an allowed value, a bound, a row
check, a missing required value, a duplicate key) is set aside with its table, row number and reason, never
dropped in silence; a missing required column or an unreadable file stops the run with a message naming the
file and the column.

| table | what a row is | columns (`?` optional) |
|---|---|---|
"""

#: how each column type is read, in words
TYPE_WORDS: dict[ColumnType, str] = {
    ColumnType.STRING: "text",
    ColumnType.TIMESTAMP: "timestamp (ISO 8601; UTC without an offset)",
    ColumnType.DATE: "date (YYYY-MM-DD; a timestamp's date is taken)",
    ColumnType.NUMBER: "number",
    ColumnType.BOOLEAN: "boolean (true/false, 1/0, yes/no, t/f, y/n)",
}

CONTRACT_OUTPUT = """
## Output: a scorecard

`cxbench run SOURCE --format json` writes one JSON document: `cxbench_version`, `source` (a connection's password
shown as `***`), `generated_at` (UTC), `period`, `inputs` (per table: `rows`, `used`, `rejected`), `rejected` (the
rows set aside: `table`, `row`, `reason`), `metrics` (the records) and `findings`; `from`/`to` and `segments` when
given; `currency` (the ISO 4217 code money is in) when `--currency` or the data's one `currency` names it, and
`timezone` (the IANA zone whose midnights cut the periods) when `--timezone` is not UTC
([currency-and-time-zone.md](currency-and-time-zone.md)).

One record per metric, period and segment (and breakdown, in `dimension`): `id`, `period_start`, `period_end`,
`segment` (`{}` for the whole dataset), `value` (in the metric's unit: percentages 0-100, durations in seconds,
money in the reporting currency), `unit`, `n`, `ci_low`, `ci_high`, `benchmark` (`rating`, `source`, `applied`;
`target`, `target_met` with a `--benchmarks` file), `change` (`previous`, `delta`, `significant`, `p_value`,
`test`), `status` (`ok`, or `unavailable` with a `reason` and a null `value`), and when set `warning`,
`details` and `compared_with`. Never NaN, never Infinity. Each metric's definition: [metrics.md](metrics.md).

`--format csv` and `Scorecard.to_pandas()` give one flat row per record, these columns: {flat}. `details` is
the record's details as JSON text. Text cells starting with `=`, `+`, `-`, `@`, tab or carriage return get a
leading `'` in the CSV (spreadsheet formula injection, OWASP); number columns are left as numbers.
"""


def _column_words(column: Column) -> str:
    words = [TYPE_WORDS[column.type]]
    if column.pattern_hint:
        words.append(column.pattern_hint)
    if column.allowed:
        words.append("one of " + ", ".join(f"`{v}`" for v in column.allowed))
    if column.minimum is not None or column.maximum is not None:
        low = "" if column.minimum is None else f"{column.minimum:g}"
        high = "" if column.maximum is None else f"{column.maximum:g}"
        words.append(f"from {low} to {high}" if low and high else f"at least {low}" if low else f"at most {high}")
    return "; ".join(words)


def contract_table_markdown() -> str:
    """Every contract table on one line each: the table of the README and of docs/contract.md."""
    lines = []
    for spec in TABLES:
        columns = ", ".join(f"`{c.name}`" if c.required else f"`{c.name}?`" for c in spec.columns)
        lines.append(f"| [`{spec.name}`](docs/contract.md#{spec.name}) | {spec.description} | {columns} |")
    return "\n".join(lines) + "\n"


def _table_section(spec: TableSpec) -> str:
    out = [f"\n### {spec.name}\n", f"{spec.description}\n", "| column | required | type and allowed values | meaning |",
           "|---|---|---|---|"]
    for c in spec.columns:
        out.append(f"| `{c.name}` | {'yes' if c.required else 'no'} | {_column_words(c)} | {c.description or ''} |")
    facts = []
    if spec.key:
        facts.append(f"key `{spec.key}` (duplicates of one id count once)")
    if spec.time_column:
        facts.append(f"placed in a period by `{spec.time_column}`")
    if spec.entity_column:
        facts.append(f"its customer is `{spec.entity_column}` (joined to `customers` for `--segment`)")
    else:
        facts.append("belongs to no customer (not repeated per `--segment`)")
    sentence = "; ".join(facts)
    out.append("\n" + sentence[0].upper() + sentence[1:] + ".")
    if spec.extra_checks:
        out.append("Rows are also set aside unless: " + "; ".join(spec.extra_checks) + ".")
    return "\n".join(out)


def contract_markdown() -> str:
    """docs/contract.md: every table of the contract with its columns and rules, then the output."""
    from cxbench.api import FLAT_COLUMNS

    index = contract_table_markdown().replace("(docs/contract.md#", "(#")
    out = [CONTRACT_HEADER + index + "\n## The tables"]
    out.extend(_table_section(spec) for spec in TABLES)
    out.append(CONTRACT_OUTPUT.replace("{flat}", ", ".join(f"`{name}`" for name, _ in FLAT_COLUMNS)))
    return "\n".join(out).rstrip("\n") + "\n"
