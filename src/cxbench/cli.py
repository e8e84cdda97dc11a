"""The `cxbench` command line: a thin layer over the API.

Exit codes: 0 done; 1 a metric is rated at or below --fail-on; 2 bad input, usage, or output that cannot be
written; 3 an unexpected error (a bug: one line and how to report it; the traceback with --debug or CXBENCH_DEBUG=1).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from cxbench import __version__
from cxbench.core.errors import CxbenchError, UsageError
from cxbench.core.options import DEFAULTS, Period, TimeUnit
from cxbench.output import redact, terminal_json, terminal_text, write_atomically

# The API (Ibis, SciPy) is imported inside the commands, so `cxbench --help` starts in a fraction of a second.

#: exit code of an unexpected error, distinct from 1 (--fail-on) and 2 (bad input or usage)
CRASH_EXIT = 3
#: errors of the machine rather than of cxbench: one line and exit 2, not a crash
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EISDIR,
                       errno.ENOTDIR, errno.ENAMETOOLONG}
REPORT_HINT = "this is a bug in cxbench: please report it with the command you ran"
_debug = False


def _debugging() -> bool:
    return _debug or os.environ.get("CXBENCH_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def _message_line(prefix: str, message: str, style: str = "bold red") -> Text:
    """An error line printed as text: the message is never read as Rich markup, its control characters are
    escaped and connection passwords masked."""
    return Text.assemble((prefix, style), " ", terminal_text(redact(message)))


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's final flush into a closed pipe stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


class _Commands(TyperGroup):
    """The command group, turning an unexpected exception into one line and exit code 3."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # exits, usage errors and --help: Typer's own
        except CxbenchError as exc:
            _fail(exc)
        except Exception as exc:
            if isinstance(exc, BrokenPipeError):
                _quiet_stdout()  # `cxbench run ... | head`: the reader left; nothing to report
                raise typer.Exit(0) from None
            if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
                where = f" {exc.filename}" if exc.filename else ""
                _err.print(_message_line("error:", f"cannot write or read{where}: {exc.strerror}"),
                           highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
            from cxbench.core.sources import MEMORY_ADVICE, engine_message, out_of_memory

            text = str(exc).strip().splitlines()
            if out_of_memory(exc):  # the machine's limit, not a bug: say how to raise it
                _err.print(_message_line("error:", f"DuckDB ran out of memory ({engine_message(exc)}); "
                                                   f"{MEMORY_ADVICE}."),
                           highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
            if _debugging():
                _err.print(terminal_text(redact("".join(traceback.format_exception(exc)))), markup=False,
                           highlight=False, soft_wrap=True)
            _err.print(_message_line("internal error:", f"{type(exc).__name__}: {text[0] if text else ''}"),
                       highlight=False, soft_wrap=True)
            _err.print(Text(REPORT_HINT + ("" if _debugging() else
                                               " (rerun with --debug or CXBENCH_DEBUG=1 for the traceback)"),
                            style="dim"), highlight=False, soft_wrap=True)
            raise typer.Exit(CRASH_EXIT) from None


app = typer.Typer(
    cls=_Commands,
    name="cxbench",
    help="Customer-experience KPIs from raw customer data, each with its formula, interval and benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_err = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class FunnelOrderChoice(StrEnum):
    ordered = "ordered"
    strict = "strict"
    any = "any"


class BounceDefinition(StrEnum):
    single_page = "single_page"
    ga4 = "ga4"


class DocsPage(StrEnum):
    metrics = "metrics"
    contract = "contract"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _fail(exc: CxbenchError) -> None:
    _err.print(_message_line("error:", str(exc)), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _write(text: str, out: Path | None, json_text: bool = False) -> None:
    """`text` to --out (atomically), or to standard output; on a terminal, control characters are escaped (as JSON
    escapes in JSON, so it stays valid), while a pipe or a file gets the text as it is."""
    if out is None:
        if sys.stdout.isatty():
            text = terminal_json(text) if json_text else "\n".join(terminal_text(line) for line in text.split("\n"))
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        write_atomically(out, text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = f"the disk is full: {reason}"
        _fail(UsageError(f"--out {out}: cannot write it ({reason}); choose another file or free space"))
    _err.print(Text(f"wrote {terminal_text(out)}"))


def _write_renderable(renderable: Any, out: Path | None) -> None:
    """A Rich renderable to the terminal, or as plain text to --out (written atomically)."""
    from cxbench import render

    if out is None:
        render.print_to(renderable, None)
    else:
        _write(render.plain_text(renderable), out)


def _emit(format: OutputFormat, out: Path | None, result: Any, to_csv: Callable[[Any], str],
          renderable: Callable[[], Any]) -> None:
    """Write an analysis result as --format asks: its JSON document, its CSV, or the terminal rendering."""
    if format is OutputFormat.json:
        _write(result.to_json(), out, json_text=True)
    elif format is OutputFormat.csv:
        _write(to_csv(result), out)
    else:
        _write_renderable(renderable(), out)


def _check_out(out: Path | None, protected: list[Path | str | None]) -> None:
    """Refuse an --out that cannot be a file, or that would overwrite one of the run's own inputs, before any work."""
    if out is None:
        return
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder: name a file in it, e.g. --out {out / 'scorecard.json'}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder; choose another path")
            break
    target = out.resolve()
    for item in protected:
        if item is None or (isinstance(item, str) and "://" in item):
            continue
        path = Path(item).resolve()
        if target == path or (path.is_dir() and _is_table_file(target, path)):
            raise UsageError(f"--out {out} would overwrite an input of this run ({item}); write the output elsewhere")


def _is_table_file(target: Path, folder: Path) -> bool:
    """Whether `target` is a file a source folder's tables are read from (TABLE.csv, TABLE/part.parquet...)."""
    from cxbench.core.contract import TABLES_BY_NAME

    try:
        inside = target.relative_to(folder).parts
    except ValueError:
        return False
    first = inside[0].lower()
    return first.split(".")[0] in TABLES_BY_NAME


SourceArg = Annotated[str, typer.Argument(help="A folder of CSV/Parquet/JSON files, a DuckDB file, or a connection URL.")]
EngineOpt = Annotated[Engine | None, typer.Option(
    help="What reads a folder: DuckDB (embedded, the default) or Spark (the cluster of --spark-master or "
         "$SPARK_MASTER, else local).",
    show_default=False)]
MemoryOpt = Annotated[str | None, typer.Option(
    "--memory-limit", metavar="SIZE",
    help="Memory DuckDB may use before it spills to disk, e.g. 6GB (default $CXBENCH_MEMORY_LIMIT, else a quarter "
         "of the machine's memory).")]
SparkMasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", metavar="URL",
    help="Run Spark on this cluster, e.g. spark://HOST:7077 (implies --engine spark; default: $SPARK_MASTER, else "
         "local[2]). The executors read the files: the folder must be at the same path on every worker.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of the terminal.")]
FromFormatOpt = Annotated[str | None, typer.Option(
    "--from-format", metavar="SOURCE",
    help="SOURCE is a vendor's export folder: ga4, stripe, shopify, shopify_fivetran, zendesk, posthog, segment, "
         "qualtrics, typeform or delighted (docs/adapters.md).",
    show_default=False)]
MappingOpt = Annotated[Path | None, typer.Option(
    "--mapping", metavar="FILE",
    help="SOURCE is an export folder read through this YAML mapping file (docs/adapters.md).", show_default=False)]


# Options `run` shares with `report` (and `watch`): declared once.
PeriodOpt = Annotated[Period, typer.Option(help="Reporting period.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")]
SegmentOpt = Annotated[list[str] | None, typer.Option(help="Repeat the metrics per value of this customers column (repeatable).")]
MetricOpt = Annotated[list[str] | None, typer.Option("--metric", "-m", help="Compute only these metric ids (repeatable).")]
MinSampleOpt = Annotated[int, typer.Option(help="Below this many answers a value carries a small-sample warning.")]
NpsDetractorMaxOpt = Annotated[float, typer.Option(help="Highest NPS answer counted as a detractor (6 standard; 5 for 'below 6').")]
SessionTimeoutOpt = Annotated[float, typer.Option(help="Minutes without an event that end a session (when the data has no session_id).")]
BounceDefinitionOpt = Annotated[BounceDefinition | None, typer.Option(help="single_page: one pageview, no other event; ga4: not engaged (< 10 s, < 2 pageviews, no key event).")]
KeyEventOpt = Annotated[list[str] | None, typer.Option(help="Event names that are key events for --bounce-definition ga4 (repeatable).")]
EventNameOpt = Annotated[list[str] | None, typer.Option(help="What the data calls an event cxbench reads, CANONICAL=NAME, e.g. checkout=purchase or pageview=page_view (repeatable; canonical: pageview, pageleave, add_to_cart, checkout).")]
BaselineOpt = Annotated[str | None, typer.Option(help="Also compare sales with the period holding this day, YYYY-MM-DD (e.g. a CX initiative's start).")]
AsOfOpt = Annotated[str | None, typer.Option(help="The day the run treats as today, YYYY-MM-DD (default: the machine's date): a subscription or resolution dated after it stops at the later of it and the data's last day.")]
InactiveDaysOpt = Annotated[int, typer.Option(help="Orders only: a customer with no order for this many days is lost (churn).")]
TrialDaysOpt = Annotated[int, typer.Option(help="trial_conversion_rate: a trial converts when a paid subscription starts within this many days of it.")]
LifetimeYearsOpt = Annotated[float | None, typer.Option(help="Expected customer lifetime for CLV, in years (default: 1 ÷ yearly churn).")]
BusinessHoursOpt = Annotated[str | None, typer.Option(help='Count support durations in these hours only, e.g. "Mon-Fri 09:00-17:00" (comma-separated groups); default: calendar time.')]
TimezoneOpt = Annotated[str | None, typer.Option(help="IANA time zone of the report, e.g. Europe/Bucharest: days, weeks and months cut at its midnight, --from/--to its days, and the zone of --business-hours and --holidays (default UTC).")]
CurrencyOpt = Annotated[str | None, typer.Option(help="Report money in this ISO 4217 currency, e.g. EUR (rows in others are converted with --fx; default: the data's one currency).")]
FxOpt = Annotated[Path | None, typer.Option(help="Exchange rates, CSV (date,currency,rate) or YAML: rate = units of --currency per 1 unit of the row's currency; a day without one takes the latest earlier rate.")]
HolidaysOpt = Annotated[Path | None, typer.Option(help="Text or CSV file of days without business hours, one YYYY-MM-DD per line.")]
SlaTargetsOpt = Annotated[str | None, typer.Option(help='SLA targets per ticket priority, first response/resolution, e.g. "urgent=30m/4h,high=2h/1d" (m, h, d; default urgent=1h/4h, high=4h/8h, normal=8h/24h, low=24h/72h).')]
VerticalOpt = Annotated[str | None, typer.Option(help="Rate against this vertical's benchmarks where a source gives them (saas, ecommerce).")]
BenchmarksOpt = Annotated[Path | None, typer.Option(help="YAML file of your own bands and targets per metric and segment.")]
CompareOpt = Annotated[str | None, typer.Option(help="Also compare every value with this window, FROM..TO (e.g. a campaign's start and end).")]


def _engine(engine: Engine | None, spark_master: str | None) -> str:
    """The API's engine: duckdb (default), spark (SPARK_MASTER or local), or the master URL of --spark-master."""
    if spark_master is None:
        return (engine or Engine.duckdb).value
    if engine is Engine.duckdb:
        raise UsageError("--spark-master is the Spark cluster to run on: drop --engine duckdb, or drop --spark-master")
    from cxbench.core.spark import resolve_master

    return resolve_master(spark_master)


def _compute(source: str, *, period: Period, from_: str | None, to: str | None, segment: list[str] | None,
             metric: list[str] | None, min_sample: int, nps_detractor_max: float, session_timeout: float,
             bounce_definition: BounceDefinition | None, key_event: list[str] | None, event_name: list[str] | None,
             baseline: str | None,
             as_of: str | None, inactive_days: int, lifetime_years: float | None, engine: Engine | None,
             spark_master: str | None, memory_limit: str | None, business_hours: str | None, timezone: str | None,
             holidays: Path | None, vertical: str | None, benchmarks: Path | None, compare: str | None,
             progress: Any = None, from_format: str | None = None, mapping: Path | None = None,
             trial_days: int = DEFAULTS.trial_days,
             sla_targets: str | None = None,
             currency: str | None = None, fx: Path | None = None) -> Any:
    """The scorecard of `cxbench run` and `cxbench report` from their options (raises CxbenchError)."""
    settings: dict[str, object] = {"min_sample": min_sample, "nps_detractor_max": nps_detractor_max,
                                   "session_timeout_minutes": session_timeout, "baseline": baseline, "as_of": as_of,
                                   "inactive_days": inactive_days, "lifetime_years": lifetime_years,
                                   "trial_days": trial_days}
    if bounce_definition is not None:
        settings["bounce_definition"] = bounce_definition.value
    if key_event:
        settings["key_events"] = tuple(key_event)
    if event_name:
        settings["event_names"] = tuple(event_name)
    if business_hours is not None:
        settings["business_hours"] = business_hours
    if timezone is not None:
        settings["timezone"] = timezone
    if holidays is not None:
        settings["holidays"] = holidays
    if sla_targets is not None:
        settings["sla_targets"] = sla_targets
    if currency is not None:
        settings["currency"] = currency
    if fx is not None:
        settings["fx"] = fx
    if vertical is not None:
        settings["vertical"] = vertical
    if compare is not None:
        settings["compare"] = compare
    from cxbench.api import compute

    return compute(source, period=period, from_=from_, to=to, segment=segment, metrics=metric,
                   engine=_engine(engine, spark_master), benchmarks=benchmarks, memory_limit=memory_limit,
                   progress=progress, from_format=from_format, mapping=mapping, **settings)


@app.command()
def run(
    source: SourceArg,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json (docs/contract.md) or csv.")] = OutputFormat.table,
    out: OutOpt = None,
    period: PeriodOpt = Period.MONTH,
    from_: FromOpt = None,
    to: ToOpt = None,
    segment: SegmentOpt = None,
    metric: MetricOpt = None,
    min_sample: MinSampleOpt = DEFAULTS.min_sample,
    nps_detractor_max: NpsDetractorMaxOpt = DEFAULTS.nps_detractor_max,
    session_timeout: SessionTimeoutOpt = DEFAULTS.session_timeout_minutes,
    bounce_definition: BounceDefinitionOpt = None,
    key_event: KeyEventOpt = None,
    event_name: EventNameOpt = None,
    baseline: BaselineOpt = None,
    as_of: AsOfOpt = None,
    inactive_days: InactiveDaysOpt = DEFAULTS.inactive_days,
    trial_days: TrialDaysOpt = DEFAULTS.trial_days,
    lifetime_years: LifetimeYearsOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
    # Support durations in working time (issue 6).
    business_hours: BusinessHoursOpt = None,
    timezone: TimezoneOpt = None,
    holidays: HolidaysOpt = None,
    sla_targets: SlaTargetsOpt = None,
    # Money (issue 16).
    currency: CurrencyOpt = None,
    fx: FxOpt = None,
    # Benchmarks and alerts (issue 7).
    vertical: VerticalOpt = None,
    benchmarks: BenchmarksOpt = None,
    compare: CompareOpt = None,
    fail_on: Annotated[str | None, typer.Option(help="Exit 1 when a metric's latest rating is this band or worse (poor, fair, good, great).")] = None,
    show_unavailable: Annotated[bool, typer.Option(help="Table: one line per unavailable metric with its reason (default: their ids on one line per family).")] = False,
) -> None:
    """Compute the scorecard of SOURCE (the tables and the JSON document: docs/contract.md).

    Exit codes: 0 done; 1 a metric is rated at or below --fail-on; 2 bad input, usage or an --out that cannot be
    written; 3 an unexpected error (please report it).
    """
    try:
        _check_out(out, [source, holidays, benchmarks, mapping, fx])
        from cxbench import render

        with render.metric_progress(_err) as progress:
            card = _compute(source, period=period, from_=from_, to=to, segment=segment, metric=metric,
                            min_sample=min_sample, nps_detractor_max=nps_detractor_max, session_timeout=session_timeout,
                            bounce_definition=bounce_definition, key_event=key_event, event_name=event_name,
                            baseline=baseline, as_of=as_of,
                            inactive_days=inactive_days, lifetime_years=lifetime_years, engine=engine,
                            spark_master=spark_master, memory_limit=memory_limit, business_hours=business_hours,
                            timezone=timezone, holidays=holidays, vertical=vertical, benchmarks=benchmarks,
                            compare=compare, progress=progress, from_format=from_format, mapping=mapping,
                            trial_days=trial_days,
                            sla_targets=sla_targets,
                            currency=currency, fx=fx)
        failing = card.rated_at_or_below(fail_on) if fail_on else []
    except CxbenchError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        _write(card.to_json(), out, json_text=True)
    elif format is OutputFormat.csv:
        _write(render.to_csv(card), out)
    else:
        _write_renderable(render.scorecard_renderable(card, show_unavailable=show_unavailable), out)
    if failing:
        names = ", ".join(sorted({f"{r['id']} ({r['benchmark']['rating']})" for r in failing}))
        _err.print(_message_line(f"--fail-on {fail_on}:",
                                 f"{len(failing)} latest value(s) rated {fail_on} or worse: {names}"),
                   highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def report(
    source: SourceArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    period: PeriodOpt = Period.MONTH,
    from_: FromOpt = None,
    to: ToOpt = None,
    segment: SegmentOpt = None,
    metric: MetricOpt = None,
    min_sample: MinSampleOpt = DEFAULTS.min_sample,
    nps_detractor_max: NpsDetractorMaxOpt = DEFAULTS.nps_detractor_max,
    session_timeout: SessionTimeoutOpt = DEFAULTS.session_timeout_minutes,
    bounce_definition: BounceDefinitionOpt = None,
    key_event: KeyEventOpt = None,
    event_name: EventNameOpt = None,
    baseline: BaselineOpt = None,
    as_of: AsOfOpt = None,
    inactive_days: InactiveDaysOpt = DEFAULTS.inactive_days,
    trial_days: TrialDaysOpt = DEFAULTS.trial_days,
    lifetime_years: LifetimeYearsOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
    # Support durations in working time (issue 6).
    business_hours: BusinessHoursOpt = None,
    timezone: TimezoneOpt = None,
    holidays: HolidaysOpt = None,
    sla_targets: SlaTargetsOpt = None,
    # Money (issue 16).
    currency: CurrencyOpt = None,
    fx: FxOpt = None,
    # Benchmarks and alerts (issue 7).
    vertical: VerticalOpt = None,
    benchmarks: BenchmarksOpt = None,
    compare: CompareOpt = None,
    clv_calibration_end: Annotated[str | None, typer.Option(help="The predicted-CLV holdout check (cxbench clv): the models learn from the orders up to this day, YYYY-MM-DD, and are checked on the later ones (default: when the scorecard has clv_predicted, the last day of the month before the last third of the orders).")] = None,
    themes: Annotated[bool, typer.Option("--themes", help="Add the section 'Why it moved: comment themes' (cxbench themes on the NPS comments, same --from/--to).")] = False,
    drivers: Annotated[bool, typer.Option("--drivers", help="Add the section \"Why it moved: key drivers\" (cxbench drivers, same --from/--to and business hours).")] = False,
    funnel: Annotated[str | None, typer.Option(help="Also show the funnel of these event names, STEP,STEP,... (cxbench funnel), per period and --segment.")] = None,
    funnel_window: Annotated[str, typer.Option(help="The --funnel's conversion window from the first step: 30m, 12h, 7d, 2w.")] = "14d",
    funnel_order: Annotated[FunnelOrderChoice, typer.Option(help="The --funnel's order: ordered, strict or any.")] = FunnelOrderChoice.ordered,
    paths_entry: Annotated[str | None, typer.Option(help="Also show the top paths after this page, e.g. /pricing (cxbench paths).")] = None,
) -> None:
    """Write the report of SOURCE: one self-contained HTML file with charts, findings first (opens offline).

    Same options as `cxbench run`. Exit codes: 0 done; 2 bad input or usage.
    """
    started = time.perf_counter()
    try:
        _check_out(out, [source, holidays, benchmarks, mapping, fx])
        from cxbench import render

        with render.metric_progress(_err) as progress:
            card = _compute(source, period=period, from_=from_, to=to, segment=segment, metric=metric,
                            min_sample=min_sample, nps_detractor_max=nps_detractor_max, session_timeout=session_timeout,
                            bounce_definition=bounce_definition, key_event=key_event, event_name=event_name,
                            baseline=baseline, as_of=as_of,
                            inactive_days=inactive_days, lifetime_years=lifetime_years, engine=engine,
                            spark_master=spark_master, memory_limit=memory_limit, business_hours=business_hours,
                            timezone=timezone, holidays=holidays, vertical=vertical, benchmarks=benchmarks,
                            compare=compare, progress=progress, from_format=from_format, mapping=mapping,
                            trial_days=trial_days,
                            sla_targets=sla_targets,
                            currency=currency, fx=fx)
        forecast = None
        if clv_calibration_end is not None:
            from cxbench.api import predict_clv

            forecast = predict_clv(source, calibration_end=clv_calibration_end, engine=_engine(engine, spark_master),
                                   memory_limit=memory_limit, from_format=from_format, mapping=mapping,
                                   currency=currency, fx=fx, timezone=timezone or "UTC")
        elif any(r.id == "clv_predicted" and r.ok for r in card.records):
            # The scorecard's forecast could be made: check one on the last third of the orders too (the holdout
            # chart); when it cannot be made (too short a history, too few repeat buyers), say so and go on.
            from cxbench.api import predict_clv

            try:
                forecast = predict_clv(source, engine=_engine(engine, spark_master), memory_limit=memory_limit,
                                       from_format=from_format, mapping=mapping, currency=currency, fx=fx,
                                       timezone=timezone or "UTC")
            except CxbenchError as exc:
                _err.print(Text(terminal_text(f"the report leaves out the predicted-CLV holdout check: {exc}")))
        comment_themes = None
        if themes:
            from cxbench.api import comment_themes as find_themes

            comment_themes = find_themes(source, start=from_, end=to, nps_detractor_max=nps_detractor_max,
                                         as_of=as_of, engine=_engine(engine, spark_master), memory_limit=memory_limit,
                                         from_format=from_format, mapping=mapping)
        key_drivers = _report_drivers(source, drivers, from_, to,
                                      {"business_hours": business_hours, "timezone": timezone, "holidays": holidays,
                                       "event_names": tuple(event_name or ()), "as_of": as_of},
                                      engine=_engine(engine, spark_master),
                                      memory_limit=memory_limit, from_format=from_format, mapping=mapping)
        funnel_result = paths_result = None
        if funnel is not None:  # the run's period, segments, dates and event names
            from cxbench.api import funnel as compute_funnel

            funnel_result = compute_funnel(source, funnel, window=funnel_window, order=funnel_order.value,
                                           period=period, segment=segment, from_=from_, to=to, event_names=event_name,
                                           timezone=timezone or "UTC", engine=_engine(engine, spark_master),
                                           memory_limit=memory_limit, from_format=from_format, mapping=mapping)
        if paths_entry is not None:
            from cxbench.api import top_paths

            paths_result = top_paths(source, paths_entry, from_=from_, to=to, event_names=event_name,
                                     session_timeout_minutes=session_timeout, timezone=timezone or "UTC",
                                     engine=_engine(engine, spark_master),
                                     memory_limit=memory_limit, from_format=from_format, mapping=mapping)
    except CxbenchError as exc:
        _fail(exc)
        return
    computed = time.perf_counter()
    from cxbench.report import write_html

    write_html(card, out, benchmarks, clv=forecast, themes=comment_themes, drivers=key_drivers, funnel=funnel_result,
               paths=paths_result)
    _err.print(Text(terminal_text(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; scorecard {computed - started:.1f} s, "
                                  f"report {time.perf_counter() - computed:.1f} s)")))


@app.command()
def validate(
    source: SourceArg,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json, or csv (one row per table, then the rows set aside).")] = OutputFormat.table,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    as_of: Annotated[str | None, typer.Option(help="The day treated as today, YYYY-MM-DD (default: the machine's date): rows dated more than a day after it are set aside as typos.")] = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
    currency: CurrencyOpt = None,
    fx: FxOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Check SOURCE against the data contract (docs/contract.md) and report rows read, used and set aside.

    Exit codes: 0 every table has usable rows; 1 a table has rows but none usable; 2 bad input or usage.
    """
    from cxbench.api import check

    try:
        result = check(source, engine=_engine(engine, spark_master), memory_limit=memory_limit, as_of=as_of,
                       from_format=from_format, mapping=mapping, currency=currency, fx=fx,
                       timezone=timezone or "UTC")
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render

    if format is OutputFormat.table:
        render.print_to(render.validation_renderable(result, redact(source)), None)
    elif format is OutputFormat.csv:
        _write(render.validation_csv(result), None)
    else:
        _write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), None, json_text=True)
    if result.unusable:
        raise typer.Exit(1)


@app.command()
def clv(
    source: SourceArg,
    calibration_end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD, inclusive) of the orders the models learn "
                                                      "from (between the first and the last order); later orders are the holdout the forecast is checked on.")],
    time_unit: Annotated[TimeUnit, typer.Option(help="Unit of recency, T and --horizon.")] = TimeUnit.DAY,
    horizon: Annotated[float | None, typer.Option(help="Forecast horizon in --time-unit units (default: 12 months; at most 100 years).")] = None,
    discount_rate: Annotated[float, typer.Option(help="Monthly discount rate of the CLV (0.01 = 1 % a month).")] = DEFAULTS.clv_discount_rate,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json or csv (one row per customer).")] = OutputFormat.table,
    out: OutOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
    currency: CurrencyOpt = None,
    fx: FxOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Predict each customer's purchases and lifetime value (BG/NBD and Gamma-Gamma) from SOURCE's orders."""
    from cxbench.api import predict_clv

    try:
        _check_out(out, [source, mapping, fx])
        result = predict_clv(source, calibration_end=calibration_end, time_unit=time_unit.value, horizon=horizon,
                             discount_rate=discount_rate, engine=_engine(engine, spark_master),
                             memory_limit=memory_limit, from_format=from_format, mapping=mapping,
                             currency=currency, fx=fx, timezone=timezone or "UTC")
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render, render_clv

    _emit(format, out, result, render_clv.clv_csv, lambda: render_clv.clv_renderable(result, redact(source)))


class ThemeSurvey(StrEnum):
    nps = "nps"
    enps = "enps"
    csat = "csat"


@app.command()
def themes(
    source: SourceArg,
    type: Annotated[ThemeSurvey, typer.Option("--type", help="The survey whose comments are read: nps, enps or csat (its score is compared with and without each theme).")] = ThemeSurvey.nps,
    themes: Annotated[int | None, typer.Option("--themes", "-k", help="Number of themes (default: the largest of 2-8 before two themes share their words).")] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    max_comments: Annotated[int, typer.Option(help="Analyse at most this many of the most recent commented answers.")] = 50_000,
    nps_detractor_max: NpsDetractorMaxOpt = DEFAULTS.nps_detractor_max,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json or csv (one row per theme).")] = OutputFormat.table,
    out: OutOpt = None,
    as_of: AsOfOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """Find the themes of SOURCE's survey comments (TF-IDF + NMF), with each theme's share, score mix, NPS with and
    without it (difference and 95 % interval), VADER sentiment and three verbatims (docs/analyses.md)."""
    from cxbench.api import comment_themes

    try:
        _check_out(out, [source, mapping])
        result = comment_themes(source, survey=type.value, themes=themes, start=from_, end=to,
                                max_comments=max_comments, nps_detractor_max=nps_detractor_max, as_of=as_of,
                                engine=_engine(engine, spark_master), memory_limit=memory_limit,
                                from_format=from_format, mapping=mapping)
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render_themes

    _emit(format, out, result, render_themes.themes_csv,
          lambda: render_themes.themes_renderable(result, redact(source)))


def _report_drivers(source: str, wanted: bool, from_: str | None, to: str | None, settings: dict[str, Any],
                    **kwargs: Any) -> Any:
    """`cxbench report --drivers`: the key drivers over the run's --from/--to, with its business hours, event
    names and --as-of (None when not asked for)."""
    if not wanted:
        return None
    from cxbench.api import key_drivers

    return key_drivers(source, from_=from_, to=to, **{k: v for k, v in settings.items() if v}, **kwargs)


@app.command()
def drivers(
    source: SourceArg,
    target: Annotated[list[str] | None, typer.Option("--target", "-t", help="What to explain: nps, csat or churn (repeatable; default all three).")] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap samples of the importance intervals.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap (the same data and seed give the same intervals).")] = 2006,
    min_coverage: Annotated[float, typer.Option(help="Share of a target's customers a driver must be measured for (0-1).")] = 0.3,
    business_hours: BusinessHoursOpt = None,
    timezone: TimezoneOpt = None,
    holidays: HolidaysOpt = None,
    event_name: EventNameOpt = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json or csv (one row per driver term).")] = OutputFormat.table,
    out: OutOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """Key drivers: which signals (touchpoint CSAT, effort, support, engagement, plan) go with a higher NPS or
    CSAT answer, or with churn, per customer (docs/analyses.md). Associations, not causes."""
    from cxbench.api import key_drivers

    settings: dict[str, object] = {}
    for name, value in (("business_hours", business_hours), ("timezone", timezone), ("holidays", holidays)):
        if value is not None:
            settings[name] = value
    if event_name:
        settings["event_names"] = tuple(event_name)
    try:
        _check_out(out, [source, mapping, holidays])
        result = key_drivers(source, targets=target, from_=from_, to=to, bootstrap=bootstrap, seed=seed,
                             min_coverage=min_coverage, engine=_engine(engine, spark_master),
                             memory_limit=memory_limit, from_format=from_format, mapping=mapping, **settings)
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render_drivers

    _emit(format, out, result, render_drivers.drivers_csv,
          lambda: render_drivers.drivers_renderable(result, redact(source)))


@app.command()
def funnel(
    source: SourceArg,
    steps: Annotated[str, typer.Argument(help="The event names of the steps, in order, separated by commas, e.g. signup,activate,checkout.")],
    window: Annotated[str, typer.Option(help="Conversion window from the user's entry (the first step; with --order any, the first event of any step): 30m, 12h, 7d, 2w (PostHog's default: 14d).")] = "14d",
    order: Annotated[FunnelOrderChoice, typer.Option(help="ordered: steps in this order, other events between allowed; strict: no other event between two steps; any: steps in any sequence within the window.")] = FunnelOrderChoice.ordered,
    period: PeriodOpt = Period.MONTH,
    from_: FromOpt = None,
    to: ToOpt = None,
    segment: SegmentOpt = None,
    event_name: EventNameOpt = None,
    timezone: TimezoneOpt = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json or csv (one row per group and step).")] = OutputFormat.table,
    out: OutOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """How many users go through STEPS (event names) within the window: conversion with 95 % Wilson intervals,
    drop-off and median time per step, per period of the first step and per segment (docs/analyses.md)."""
    from cxbench.api import funnel as compute_funnel

    try:
        _check_out(out, [source, mapping])
        result = compute_funnel(source, steps, window=window, order=order.value, period=period, segment=segment,
                                from_=from_, to=to, event_names=event_name, timezone=timezone or "UTC",
                                engine=_engine(engine, spark_master),
                                memory_limit=memory_limit, from_format=from_format, mapping=mapping)
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render_funnel

    _emit(format, out, result, render_funnel.funnel_csv,
          lambda: render_funnel.funnel_renderable(result, redact(source)))


@app.command()
def paths(
    source: SourceArg,
    entry: Annotated[str, typer.Option(help="The page the paths start from, as events.page has it, e.g. /pricing.")],
    length: Annotated[int, typer.Option(help="How many next pages make a path.")] = 3,
    limit: Annotated[int, typer.Option(help="How many of the most frequent paths to show.")] = 10,
    from_: FromOpt = None,
    to: ToOpt = None,
    session_timeout: SessionTimeoutOpt = DEFAULTS.session_timeout_minutes,
    event_name: EventNameOpt = None,
    timezone: TimezoneOpt = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (terminal), json or csv (one row per path).")] = OutputFormat.table,
    out: OutOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    memory_limit: MemoryOpt = None,
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
) -> None:
    """The most frequent sequences of the next pages viewed in a session after the --entry page (docs/analyses.md)."""
    from cxbench.api import top_paths

    try:
        _check_out(out, [source, mapping])
        result = top_paths(source, entry, length=length, limit=limit, from_=from_, to=to, event_names=event_name,
                           session_timeout_minutes=session_timeout, timezone=timezone or "UTC",
                           engine=_engine(engine, spark_master),
                           memory_limit=memory_limit, from_format=from_format, mapping=mapping)
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render_funnel

    _emit(format, out, result, render_funnel.paths_csv, lambda: render_funnel.paths_renderable(result, redact(source)))


@app.command()
def convert(
    source: Annotated[str, typer.Argument(help="The folder of the vendor's export files.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the contract tables to (TABLE.parquet).")],
    from_format: FromFormatOpt = None,
    mapping: MappingOpt = None,
    as_of: Annotated[str | None, typer.Option(help="The day treated as today, YYYY-MM-DD (default: the machine's date): rows dated more than a day after it are set aside as typos.")] = None,
    memory_limit: MemoryOpt = None,
) -> None:
    """Write the contract tables read from a vendor's export (--from-format or --mapping) as Parquet files in --out,
    and report rows read, used and set aside per table (docs/adapters.md).

    The files hold the rows used, typed; `cxbench run OUT` then reads them as any folder of tables.
    Exit codes: 0 done; 1 a table has rows but none usable; 2 bad input or usage.
    """
    from cxbench.api import convert as convert_export

    try:
        if from_format is None and mapping is None:
            raise UsageError("cxbench convert reads a vendor's export: give --from-format SOURCE or --mapping FILE")
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is a file: name a folder for the Parquet tables")
        if Path(source).resolve() == out.resolve():
            raise UsageError(f"--out {out} is the export folder itself; write the tables to another folder")
        result, written = convert_export(source, out, from_format=from_format, mapping=mapping, as_of=as_of,
                                         memory_limit=memory_limit)
    except CxbenchError as exc:
        _fail(exc)
        return
    from cxbench import render

    render.print_to(render.validation_renderable(result, redact(source)), None)
    for path in written:
        _err.print(Text(terminal_text(f"wrote {path}")))
    if result.unusable:
        raise typer.Exit(1)


mapping_app = typer.Typer(help="Mapping files: read any export with --mapping (docs/adapters.md).",
                          no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")


@mapping_app.command("suggest")
def mapping_suggest(
    source: Annotated[str, typer.Argument(help="The folder of export files.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the mapping file here (default: print it).")] = None,
) -> None:
    """Print a starting mapping file for the export files in SOURCE, guessed from their columns and first values.

    Check it, fill in the TODOs, then run `cxbench run SOURCE --mapping FILE`.
    """
    from cxbench.adapters.suggest import suggest_mapping

    try:
        _check_out(out, [source])
        text = suggest_mapping(source)
    except CxbenchError as exc:
        _fail(exc)
        return
    _write(text, out)


@app.command()
def metrics(
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """List every metric: id, name, formula, unit, benchmark and its source."""
    from cxbench import render

    if format is OutputFormat.table:
        render.print_to(render.catalog_renderable(), None)
    elif format is OutputFormat.csv:
        _write(render.catalog_csv(), None)
    else:
        _write(json.dumps(render.catalog_records(), indent=2, ensure_ascii=False), None, json_text=True)


#: The demo report's funnel and entry page (the demo company's shop events and pages).
DEMO_FUNNEL = "search,add_to_cart,checkout"
DEMO_ENTRY_PAGE = "/pricing"


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo data and the scorecard files.")] = Path("cxbench-demo"),
    customers: Annotated[int, typer.Option(help="Customers in the demo company.")] = 3000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Write a realistic demo dataset and show its scorecard (JSON, CSV and the HTML report written too)."""
    from cxbench import render
    from cxbench.demo import (DEFAULT_START, clv_calibration_end, generate_dataset, initiative_day,
                              months_before_initiative)

    data = out / "data"
    started = time.perf_counter()
    counts = generate_dataset(data, customers=customers, days=days, seed=seed, file_format="csv")
    _err.print(Text(terminal_text(f"demo data: {sum(counts.values()):,} rows in {len(counts)} tables written to "
                                  f"{data} ({time.perf_counter() - started:.1f} s)")))
    before = months_before_initiative(DEFAULT_START, days)
    settings: dict[str, Any] = {}
    if before is not None:
        # The demo's story: a CX initiative; the last column compares each value with the months before it.
        settings["compare"] = f"{before[0]}..{before[1]}"
        begins = DEFAULT_START + dt.timedelta(days=initiative_day(days))
        _err.print(f"the demo company's CX initiative starts on {begins}; the 'vs {before[0]}..{before[1]}' column "
                   f"compares the latest month with the months before it (--compare {before[0]}..{before[1]})")
    from cxbench.api import compute

    try:
        with render.metric_progress(_err) as progress:
            card = compute(data, period="month", progress=progress, **settings)
    except CxbenchError as exc:
        _fail(exc)
        return
    write_atomically(out / "scorecard.json", card.to_json())
    write_atomically(out / "scorecard.csv", render.to_csv(card))
    from cxbench.report import write_html

    forecast = None
    calibration_end = clv_calibration_end(DEFAULT_START, days)
    try:
        from cxbench.api import predict_clv

        forecast = predict_clv(data, calibration_end=calibration_end)
    except CxbenchError as exc:
        _err.print(Text(terminal_text(f"the report leaves out the predicted-CLV holdout check: {exc}")))
    comment_themes = None
    try:
        from cxbench.api import comment_themes as find_themes

        comment_themes = find_themes(data)
    except CxbenchError as exc:
        _err.print(Text(terminal_text(f"the report leaves out the comment themes: {exc}")))
    # Why it moved: the demo shop's purchase funnel and the paths after its pricing page (docs/analyses.md).
    from cxbench.api import funnel, top_paths

    demo_funnel = funnel(data, DEMO_FUNNEL, window="7d")
    demo_paths = top_paths(data, DEMO_ENTRY_PAGE)
    write_html(card, out / "report.html", clv=forecast, themes=comment_themes, funnel=demo_funnel,
               paths=demo_paths)
    render.print_to(render.scorecard_renderable(card), None)
    _err.print(Text(terminal_text(f"wrote {out / 'scorecard.json'}, {out / 'scorecard.csv'} and {out / 'report.html'} "
                                  "(open it in a browser)")))


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the dataset to.")],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 100_000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    bad_rows: Annotated[bool, typer.Option(help="Add a few deliberately bad rows (CSV only).")] = False,
) -> None:
    """Generate a large synthetic dataset (chunked, for benchmarks)."""
    from cxbench.demo import generate_dataset

    if format not in ("parquet", "csv"):
        _fail(CxbenchError(f"--format {format!r}: use parquet or csv"))
    started = time.perf_counter()
    counts = generate_dataset(out, customers=customers, days=days, seed=seed, file_format=format,  # type: ignore[arg-type]
                              bad_rows=bad_rows)
    for name, rows in counts.items():
        _err.print(f"{name:>14}: {rows:>14,} rows")
    _err.print(Text(terminal_text(f"written to {out} in {time.perf_counter() - started:.1f} s")))


@app.command()
def serve(
    source: SourceArg,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        envvar="CXBENCH_TOKEN", show_envvar=True,
        help="Secret every request must send (Authorization: Bearer TOKEN, or open the dashboard once as "
             "/?token=TOKEN); at least 16 characters. Required beyond 127.0.0.1.")] = None,
    benchmarks: BenchmarksOpt = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help="Compute only these metric ids unless a request names its own (repeatable).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Computations at once; more waiting requests get 503 with Retry-After.")] = 2,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds a request waits for its result before a 503 (the computation goes on and is cached).")] = 120.0,
    access_log: Annotated[bool, typer.Option(help="Log every request (a line each on standard error).")] = False,
    memory_limit: MemoryOpt = None,
) -> None:
    """Serve SOURCE's scorecard: an HTTP API (/api/docs) and a live dashboard (/), read-only.

    Results are cached per query and recomputed when the source's files change."""
    from cxbench.server import serve as run_server

    try:
        run_server(source, host=host, port=port, token=token, benchmarks=benchmarks, workers=workers, timeout=timeout,
                   metrics=tuple(metric or ()), access_log=access_log, memory_limit=memory_limit)
    except CxbenchError as exc:
        _fail(exc)


@app.command()
def watch(
    source: SourceArg,
    webhook: Annotated[str | None, typer.Option(
        envvar="CXBENCH_WEBHOOK", help="Slack or Teams incoming-webhook URL to post to (without it, the message is "
                                       "printed).")] = None,
    every: Annotated[str | None, typer.Option(help="Run again at this interval, e.g. 30m, 1h, 1d (default: once, for cron).")] = None,
    state: Annotated[Path | None, typer.Option(help="File remembering what was posted (default: one per source in "
                                                    "$CXBENCH_CACHE_DIR or ~/.cache/cxbench).")] = None,
    period: PeriodOpt = Period.MONTH,
    segment: SegmentOpt = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help="Watch only these metric ids (repeatable).")] = None,
    vertical: Annotated[str | None, typer.Option(help="Rate against this vertical's benchmarks (saas, ecommerce).")] = None,
    benchmarks: BenchmarksOpt = None,
    fail_on: Annotated[str | None, typer.Option(help="Exit 1 when a metric's latest rating is this band or worse (poor, fair, good, great); once only.")] = None,
) -> None:
    """Post the findings and significant changes that are new since the last run to a team's webhook.

    Exit codes: 0 done; 1 a metric is rated at or below --fail-on; 2 bad input or a webhook that refused the post."""
    from cxbench.api import compute
    from cxbench.server import watch as watching

    try:
        interval = watching.every_seconds(every) if every else None
        if interval is not None and fail_on:
            raise UsageError("--fail-on is for a single run (cron, CI): drop --every, or drop --fail-on")
        path = state or watching.default_state_path(source)
        while True:
            try:
                card = compute(source, period=period, segment=segment, metrics=metric, benchmarks=benchmarks,
                               vertical=vertical)
                result = watching.run_once(card, source, webhook=webhook, state=path, fail_on=fail_on)
            except CxbenchError as exc:
                if interval is None:
                    raise
                # a file half written or a webhook down: said, and tried again at the next run
                _err.print(_message_line("error:", str(exc)), highlight=False, soft_wrap=True)
            else:
                if webhook is None and result.new:
                    _write(json.dumps(watching.message(source, result.new), indent=2, ensure_ascii=False), None,
                           json_text=True)
                _err.print(Text(f"{len(result.new)} new item(s)" + (", posted" if result.posted else "")))
            if interval is None:
                break
            time.sleep(interval)
    except CxbenchError as exc:
        _fail(exc)
        return
    if result.failing:
        names = ", ".join(sorted({r.id for r in result.failing}))
        _err.print(_message_line(f"--fail-on {fail_on}:", f"{len(result.failing)} latest value(s) rated {fail_on} or "
                                                         f"worse: {names}"), highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def docs(
    out: Annotated[Path | None, typer.Option(help="Write the page here (default: print it).")] = None,
    page: Annotated[DocsPage, typer.Option(help="metrics: the metric reference (docs/metrics.md); contract: the "
                                                "tables and the output (docs/contract.md).")] = DocsPage.metrics,
) -> None:
    """Print or write the metric reference (docs/metrics.md) or the data contract (docs/contract.md), generated
    from the registry and the contract."""
    from cxbench.docs import contract_markdown, metrics_markdown

    _write(contract_markdown() if page is DocsPage.contract else metrics_markdown(), out)


def _version(value: bool) -> None:
    if value:
        print(f"cxbench {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an unexpected error, print the whole traceback (also CXBENCH_DEBUG=1).")] = False,
) -> None:
    """cxbench: customer-experience KPIs, their formulas, intervals and benchmarks."""
    global _debug
    _debug = debug


def main() -> None:
    """Entry point of the `cxbench` script."""
    app()


if __name__ == "__main__":
    main()
