"""Voice of the customer: metrics computed from the `surveys` table (METRICS.md §1).

Every answer row has its scale resolved by validation (`scale_min`/`scale_max`, from the row or the
survey's default). Where a metric averages answers that may come on different scales, each answer is
first mapped linearly onto the survey's most common scale in the data.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import to_arrow
from cxbench.core.contract import CXI_ITEMS
from cxbench.core.registry import Direction, Family, Metric, MetricContext, Unit
from cxbench.core.stats import Mean, MeanOfComponentMeans, NetScore, Proportion, Share
from cxbench.core.validation import DEFAULT_SCALES

_BREAKDOWNS = ("touchpoint", "channel")

def answers(ctx: MetricContext, survey: str) -> ir.Table:
    """The used answers of one survey type, with `_entity` and the breakdown columns the data has."""
    s = ctx.table("surveys")
    s = s.filter(s.survey == survey)
    columns: dict[str, ir.Value] = {"ts": s.ts, "_entity": s.respondent_id, "score": s.score,
                                    "scale_min": s.scale_min, "scale_max": s.scale_max, "item": s.item,
                                    "answer": s.answer, "response_id": s.response_id, "respondent_id": s.respondent_id}
    for column in _BREAKDOWNS:
        if ctx.has_column("surveys", column):
            columns[column] = s[column]
    return s.select(**columns)


def common_scale(ctx: MetricContext, survey: str) -> tuple[float, float]:
    """The (scale_min, scale_max) most answers of `survey` use; the survey's default when there are none."""

    def query() -> tuple[float, float]:
        t = answers(ctx, survey)
        counts = t.group_by(["scale_min", "scale_max"]).aggregate(n=t.count())
        top = to_arrow(ctx.con, counts.order_by([counts.n.desc(), counts.scale_max.desc(), counts.scale_min]).limit(1))
        if top.num_rows == 0:
            return DEFAULT_SCALES[survey]
        (row,) = top.to_pylist()
        return float(row["scale_min"]), float(row["scale_max"])

    return ctx.remember(f"scale:{survey}", query)


def on_scale(t: ir.Table, score: ir.NumericValue, low: float, high: float) -> ir.NumericValue:
    """`score` mapped linearly from the row's own scale onto low..high."""
    # The position on the scale (0..1) first: (score − min) × (high − low) overflows on a scale of 0-1e300.
    return low + (score - t.scale_min) / (t.scale_max - t.scale_min) * (high - low)


def _net_promoter_rows(survey: str):
    def rows(ctx: MetricContext) -> ir.Table:
        t = answers(ctx, survey)
        options = ctx.options
        return t.mutate(promoter=t.score >= options.nps_promoter_min, detractor=t.score <= options.nps_detractor_max)

    return rows


def _csat_rows(ctx: MetricContext) -> ir.Table:
    t = answers(ctx, "csat")
    # The top two points of the scale: 4 and 5 on 1-5 (003).
    return t.mutate(satisfied=t.score >= t.scale_max - 1)


def _rows_on_common_scale(survey: str, value_fn):
    """Answer rows with `value`: each answer mapped onto the survey's most common scale."""

    def rows(ctx: MetricContext) -> ir.Table:
        t = answers(ctx, survey)
        low, high = common_scale(ctx, survey)
        return t.mutate(value=value_fn(t, low, high))

    return rows


def _scale_details(survey: str):
    def details(ctx: MetricContext) -> dict[str, object]:
        low, high = common_scale(ctx, survey)
        return {"scale": f"{low:g}-{high:g}", "scale_min": low, "scale_max": high}

    return details


def _csat_mean_value(t: ir.Table, low: float, high: float) -> ir.NumericValue:
    return on_scale(t, t.score, low, high)


def _ces_value(t: ir.Table, low: float, high: float) -> ir.NumericValue:
    # 004 asks for agreement with "it was easy...": on that wording a high answer means low effort, so it is
    # reversed on its own scale before mapping (item = ease).
    effort = ibis.cases((t.item == "ease", t.scale_min + t.scale_max - t.score), else_=t.score)
    return on_scale(t, effort, low, high)


def _css_rows(ctx: MetricContext) -> ir.Table:
    t = answers(ctx, "css")
    return t.mutate(positive=on_scale(t, t.score, 1, 10) >= ctx.options.css_positive_min)


def _cxi_rows(ctx: MetricContext) -> ir.Table:
    t = answers(ctx, "cxi")
    share = (t.score - t.scale_min) / (t.scale_max - t.scale_min) * 100
    if ctx.options.cxi_reverse_effort:
        # An effort item asked as "how much effort" has high = bad: reversed so 100 = effortless.
        share = ibis.cases((t.item == "effort", 100 - share), else_=share)
    return t.mutate(normalised=share)


def _esat_rows(ctx: MetricContext) -> ir.Table:
    t = answers(ctx, "esat")
    return t.mutate(value=on_scale(t, t.score, 1, 10))


def _intent_rows(ctx: MetricContext) -> ir.Table:
    t = answers(ctx, "intent")
    return t.mutate(intent=t.answer.lower())  # "Buy" and "buy" are one intent (task items are lower-cased too)


def _task_completion_rows(ctx: MetricContext) -> ir.Table:
    tasks = answers(ctx, "task_completion")
    intents = answers(ctx, "intent")
    intents = intents.select(_rid=intents.respondent_id, _its=intents.ts, _intent=intents.answer.lower())
    # The visitor's intent: the task answer's own `item` when set, else the same respondent's intent answer
    # nearest in time, within a day.
    joined = tasks.left_join(
        intents,
        (tasks.respondent_id == intents._rid)
        & (intents._its >= tasks.ts - ibis.interval(days=1))
        & (intents._its <= tasks.ts + ibis.interval(days=1)),
    )
    gap = (joined._its.delta(joined.ts, unit="millisecond")).abs()
    joined = joined.mutate(_rank=ibis.row_number().over(group_by=joined.response_id, order_by=[gap, joined._intent]))
    joined = joined.filter(joined._rank == 0)
    return joined.mutate(intent=joined.item.fill_null(joined._intent), completed=joined.answer == "yes").drop(
        "_rid", "_its", "_intent", "_rank")


SCALE_NOTE = ("Answers on another scale than the most common one are mapped linearly onto it first; "
              "`details.scale` names the scale of the value.")

METRICS: tuple[Metric, ...] = (
    Metric(
        id="nps",
        name="Net Promoter Score",
        family=Family.SURVEYS,
        formula="% promoters (9-10) − % detractors (0-6) on the 0-10 'how likely to recommend' question",
        unit=Unit.SCORE,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_net_promoter_rows("nps"),
        estimator=NetScore("promoter", "detractor"),
        what_is_counted="nps answers",
        description="How likely customers are to recommend you, from −100 (all detractors) to 100 (all promoters).",
        notes="Passives (7-8) count in n but in neither share. Answers on 1-10 are accepted with the same bands. "
              "The bands are options (`nps_promoter_min`, `nps_detractor_max`): seed 000's 'below 6' reading is "
              "`nps_detractor_max=5`. `details` gives the counts and shares of each group.",
        source="003 (bands and benchmark), 004, 000; interval: the variance of a difference of two multinomial shares",
        dimensions=_BREAKDOWNS,
    ),
    Metric(
        id="csat",
        name="Customer Satisfaction (CSAT)",
        family=Family.SURVEYS,
        formula="answers in the top two points of the scale (4 or 5 on 1-5) ÷ all answers × 100",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_csat_rows,
        estimator=Proportion("satisfied"),
        what_is_counted="csat answers",
        description="Share of satisfied answers. Seed 003's worked example: 40 of 50 answers scoring 4 or 5 → 80 %.",
        notes="On a scale other than 1-5 the top two points count as satisfied (e.g. 6-7 on 1-7).",
        source="003",
        dimensions=_BREAKDOWNS,
    ),
    Metric(
        id="csat_mean",
        name="Mean satisfaction score",
        family=Family.SURVEYS,
        formula="mean of the csat answers, on their scale",
        unit=Unit.SCORE,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_rows_on_common_scale("csat", _csat_mean_value),
        estimator=Mean("value"),
        what_is_counted="csat answers",
        description="The average satisfaction score (how seed 001 defines CSAT).",
        notes=SCALE_NOTE,
        source="001",
        dimensions=_BREAKDOWNS,
        extra_details=_scale_details("csat"),
    ),
    Metric(
        id="css",
        name="Customer Satisfaction Score (1-10)",
        family=Family.SURVEYS,
        formula="answers of 6 and above on a 1-10 scale ÷ all answers × 100",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_css_rows,
        estimator=Proportion("positive"),
        what_is_counted="css answers",
        description="Share of positive answers, kept per touchpoint (ordering, onboarding, support...) so gaps "
                    "between touchpoints show.",
        notes="Answers on another scale are mapped linearly onto 1-10 before the 6-and-above rule "
              "(option `css_positive_min`).",
        source="004",
        dimensions=_BREAKDOWNS,
    ),
    Metric(
        id="ces",
        name="Customer Effort Score",
        family=Family.SURVEYS,
        formula="mean effort answer on a 5- or 7-point scale (lower = less effort); 'it was easy' answers reversed",
        unit=Unit.SCORE,
        direction=Direction.DOWN,
        inputs=("surveys",),
        rows=_rows_on_common_scale("ces", _ces_value),
        estimator=Mean("value"),
        what_is_counted="ces answers",
        description="How much effort customers had to make; broken down by contact channel and touchpoint.",
        notes="Rows with `item = ease` answered seed 004's agreement wording ('it was easy to...'), where high means "
              "easy: they are reversed on their own scale (scale_min + scale_max − score) before averaging. "
              + SCALE_NOTE + " The benchmark depends on the scale: good is ≤ 2 on 5 points, ≤ 3 on 7 points.",
        source="003 (scale and benchmark), 004 (agreement wording), 000 (by channel)",
        dimensions=_BREAKDOWNS,
        benchmark_scale_detail="scale_max",
        extra_details=_scale_details("ces"),
    ),
    Metric(
        id="cxi",
        name="Customer Experience Index",
        family=Family.SURVEYS,
        formula="mean of four components (effort, empathy, understanding, efficiency), each answer normalised "
                "to 0-100: (score − min) ÷ (max − min) × 100",
        unit=Unit.SCORE,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_cxi_rows,
        estimator=MeanOfComponentMeans("normalised", "item", CXI_ITEMS),
        what_is_counted="cxi answers",
        description="Quality of customer interactions on a 0-100 index; each component's mean is in `details`.",
        notes="Every item is read with high = good, so the effort item should be asked as ease ('it was easy "
              "to...'). When it asks 'how much effort' instead, set the option `cxi_reverse_effort` and its answers "
              "are reversed (100 − normalised). All four components must have answers in the period, else the "
              "index is unavailable. No interval: the four components come from the same respondents.",
        source="000 (components); normalisation and mean are cxbench's convention",
        dimensions=_BREAKDOWNS,
    ),
    Metric(
        id="enps",
        name="Employee Net Promoter Score",
        family=Family.SURVEYS,
        formula="% promoters (9-10) − % detractors (0-6) on the employee 'how likely to recommend' question",
        unit=Unit.SCORE,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_net_promoter_rows("enps"),
        estimator=NetScore("promoter", "detractor"),
        what_is_counted="enps answers",
        description="The NPS formula on the employee survey.",
        notes="Same bands and options as `nps`.",
        source="001",
    ),
    Metric(
        id="employee_satisfaction",
        name="Employee satisfaction",
        family=Family.SURVEYS,
        formula="mean satisfaction on a 1-10 scale; details: % scoring 7 or more",
        unit=Unit.SCORE,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_esat_rows,
        estimator=Mean("value", share_at_least=7),
        what_is_counted="esat answers",
        extra_details=lambda ctx: {"scale": "1-10", "scale_min": 1.0, "scale_max": 10.0},
        description="How satisfied employees are (survey `esat`); `details.share_at_least_7` is the % scoring ≥ 7.",
        notes="Answers on another scale are mapped linearly onto 1-10.",
        source="001",
    ),
    Metric(
        id="visitor_intent",
        name="Visitor intent",
        family=Family.SURVEYS,
        formula="answers naming each goal ÷ all intent answers × 100",
        unit=Unit.PERCENT,
        direction=Direction.NONE,
        inputs=("surveys",),
        rows=_intent_rows,
        estimator=Share(),
        what_is_counted="intent answers",
        description="Why visitors came: the share of each answer to 'what is the main goal of your visit', one "
                    "record per intent (dimension `intent`); n is all intent answers of the period.",
        source="001",
        dimensions=("intent",),
        overall=False,
    ),
    Metric(
        id="task_completion_rate",
        name="Task completion rate",
        family=Family.SURVEYS,
        formula="'yes' answers ÷ all answers × 100 on 'did you do what you came for', overall and per intent",
        unit=Unit.PERCENT,
        direction=Direction.UP,
        inputs=("surveys",),
        rows=_task_completion_rows,
        estimator=Proportion("completed"),
        what_is_counted="task_completion answers",
        description="Whether visitors achieved the goal of their visit.",
        notes="Per intent: the answer's own `item` when set, else the same respondent's intent answer nearest in "
              "time (within a day). yes/no also accept y/n, true/false, 1/0.",
        source="001",
        dimensions=("intent", *_BREAKDOWNS),
    ),
)
