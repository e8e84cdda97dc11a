"""Social: the engagement rate of the company's posts (METRICS.md §3, seed 003) and social listening over
mentions of the company (§6, seed 001).

Sentiment: a mention's `sentiment` (−1..1) when the data gives one, else the VADER compound score of its
`text` (Hutto & Gilbert 2014, the `vaderSentiment` package, whose lexicon ships inside the package, so it works
offline). Both are read with VADER's standard thresholds: ≥ 0.05 positive, ≤ −0.05 negative, else neutral.
VADER is made for English (social-media English above all): text in other languages mostly scores neutral.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.arrow import to_arrow
from cxbench.core.registry import Direction, Family, Metric, MetricContext, Unit
from cxbench.core.stats import NetScore, Ratio

#: VADER's standard thresholds on the compound score (Hutto's vaderSentiment README)
POSITIVE_MIN = 0.05
NEGATIVE_MAX = -0.05
ENGAGEMENT_COLUMNS = ("likes", "shares", "saves", "comments", "mentions")  # 003's engagement actions
SENTIMENT_MODEL = "VADER 3.3.2 compound score (vaderSentiment), English"
#: VADER's time grows with the square of a text's length (200,000 characters took 100 s; 2,000 take 0.01 s), so a
#: longer text is scored on its first SENTIMENT_TEXT_LIMIT characters (cut at a space), as the notes say.
SENTIMENT_TEXT_LIMIT = 2_000


# -- social posts ---------------------------------------------------------------------------------------

def _post_rows(ctx: MetricContext) -> ir.Table:
    p = ctx.table("social_posts")
    engagement = sum((p[c].fill_null(0) for c in ENGAGEMENT_COLUMNS), ibis.literal(0.0))
    # A post without impressions has no rate: its actions are not added to the pooled rate either, or they would
    # be counted over views that were never reported.
    viewed = p.impressions > 0
    return p.mutate(ts=p.ts, _entity=ibis.null("string"),
                    engagement=ibis.cases((viewed, engagement), else_=0.0),
                    _post_rate=ibis.cases((viewed, engagement / p.impressions), else_=0.0),
                    _viewed=viewed.cast("int64"))


def _engagement_details(ctx: MetricContext) -> dict[str, Any]:
    present = [c for c in ENGAGEMENT_COLUMNS if ctx.has_column("social_posts", c)]
    return {"engagement_columns": ", ".join(present) or "none"}


# -- mentions -------------------------------------------------------------------------------------------

@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_score(text: str) -> float:
    """VADER's compound score of `text`, −1..1: of its first `SENTIMENT_TEXT_LIMIT` characters when longer."""
    if len(text) > SENTIMENT_TEXT_LIMIT:
        head = text[:SENTIMENT_TEXT_LIMIT]
        text = head.rsplit(" ", 1)[0] if " " in head else head
    return float(_analyzer().polarity_scores(text)["compound"])


def _text_scores(ctx: MetricContext) -> ir.Table:
    """(text, compound) for the distinct texts of mentions without a sentiment, scored once per run.

    Scored here, not in an engine UDF: a Python UDF on Spark runs in the cluster's Python workers, which need
    not have vaderSentiment installed (a local Spark session uses the first `python3` on the PATH). Only the
    distinct texts that lack a sentiment leave the engine; the scores go back as a small table joined on the
    text, so the counting stays in the engine.
    """

    def build() -> ir.Table:
        m = ctx.table("mentions")
        missing = m.filter(m.sentiment.isnull() & m.text.notnull()).select("text").distinct()
        texts = to_arrow(ctx.con, missing).column("text").to_pylist()
        rows = [{"_scored_text": text, "_compound": compound_score(text)} for text in texts]
        ctx.memo["mention_texts_cut"] = sum(1 for text in texts if len(text) > SENTIMENT_TEXT_LIMIT)
        return ibis.memtable(rows, schema={"_scored_text": "string", "_compound": "float64"})

    return ctx.remember("mention_text_scores", build)


def _mention_rows(ctx: MetricContext) -> ir.Table:
    m = ctx.table("mentions")
    scores = _text_scores(ctx)
    joined = m.left_join(scores, m.text == scores._scored_text)
    polarity = joined.sentiment.fill_null(joined._compound)
    return joined.select(
        ts=joined.ts, _entity=ibis.null("string"), platform=joined.platform,
        positive=polarity >= POSITIVE_MIN, negative=polarity <= NEGATIVE_MAX,
        scored_from_text=joined.sentiment.isnull(),
    )


def _sentiment_details(ctx: MetricContext) -> dict[str, Any]:
    return {"sentiment_model": SENTIMENT_MODEL, "positive_min": POSITIVE_MIN, "negative_max": NEGATIVE_MAX,
            "sentiment_text_limit": SENTIMENT_TEXT_LIMIT,
            "texts_scored_in_part": ctx.memo.get("mention_texts_cut", 0)}


METRICS: tuple[Metric, ...] = (
    Metric(
        id="social_engagement_rate", name="Social engagement rate", family=Family.WEBSITE,
        formula="(likes + shares + saves + comments + mentions) ÷ impressions × 100, per post, per platform and "
                "overall", unit=Unit.PERCENT, direction=Direction.UP, inputs=("social_posts",), rows=_post_rows,
        estimator=Ratio(lambda t: t.engagement.sum(), lambda t: t.impressions.sum(), factor=100,
                        also=(("mean_post_rate_pct", lambda t: t._post_rate.sum(), lambda t: t._viewed.sum()),)),
        what_is_counted="posts",
        description="Engagement per view of the company's posts (seed 003: total engagement on the post ÷ its "
                    "views × 100). Per platform in dimension `platform` and per post in dimension `post_id`; the "
                    "platform and overall rates pool their posts (all actions ÷ all impressions), so a post "
                    "weighs by its views. `details.mean_post_rate_pct` is the plain mean of the posts' rates, "
                    "the average Hootsuite reports (posts at 4 % of 1,000 views and 1 % of 4,000: mean 2.5 %, pooled 80 ÷ 5,000 = 1.6 %).",
        notes="A post counts in the period it was published in. Engagement columns the data lacks count 0 "
              "(`details.engagement_columns` names those present). A post with 0 impressions has no rate "
              "(unavailable: nothing to divide by) and adds nothing to the platform and overall rates.",
        source="003", dimensions=("platform", "post_id"),
        extra_details=_engagement_details,
    ),
    Metric(
        id="social_listening", name="Social listening (net sentiment of mentions)", family=Family.ADVOCACY,
        formula="% positive mentions − % negative mentions, −100..100; n = mentions, per platform and overall",
        unit=Unit.SCORE, direction=Direction.UP, inputs=("mentions",), rows=_mention_rows,
        estimator=NetScore("positive", "negative", counted=("scored_from_text",)), what_is_counted="mentions",
        description="How often people talk about the company and in what tone (seed 001): `n` is the mention "
                    "count, `details` the positive / neutral / negative counts and shares, the value the net "
                    "sentiment (% positive − % negative). Per platform in dimension `platform`.",
        notes="A mention's `sentiment` (−1..1) when given; otherwise its `text` is scored with VADER "
              "(vaderSentiment 3.3.2, lexicon and rules, offline; made for English, so other languages mostly "
              "score neutral). Thresholds on either: ≥ 0.05 positive, ≤ −0.05 negative, otherwise neutral "
              "(VADER's standard cut-offs). `details.scored_from_text` counts the mentions scored from text. A text "
              "longer than 2,000 characters is scored on its first 2,000 (cut at a space): VADER's time grows with "
              "the square of the length; `details.texts_scored_in_part` counts those distinct texts. "
              "A mention with neither sentiment nor text is set aside by validation. The interval treats the "
              "mentions as a sample of opinion about the company.",
        source="001; VADER (Hutto & Gilbert, ICWSM 2014)", dimensions=("platform",),
        extra_details=_sentiment_details,
    ),
)
