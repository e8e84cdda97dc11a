"""Social engagement rate (seed 003) and social listening (seed 001) against hand-worked values.

Every test runs on DuckDB and on Spark. VADER compound scores are worked by hand from its published method
(Hutto & Gilbert 2014; vaderSentiment 3.3.2): the sum x of the words' lexicon valences (plus 0.292 per "!",
at most 4), normalised as x / √(x² + 15).
"""

from __future__ import annotations

import pytest

from conftest import pick

OCT = "2026-10-01"


def post(post_id: str, platform: str, impressions: object, **actions: object) -> dict[str, object]:
    row: dict[str, object] = {"post_id": post_id, "platform": platform, "ts": "2026-10-05T12:00:00Z",
                              "impressions": impressions}
    for column in ("likes", "shares", "saves", "comments", "mentions"):
        row[column] = actions.get(column, "")
    return row


POSTS = [
    post("p1", "instagram", 1000, likes=30, shares=5, saves=3, comments=2, mentions=0),  # 40 / 1000 = 4 %
    post("p2", "instagram", 500, likes=5),  # 5 / 500 = 1 %
    post("p3", "facebook", 2000, likes=10, comments=5),  # 15 / 2000 = 0.75 %
    post("p4", "facebook", 0, likes=3),  # no impressions: no rate, left out of the pooled rates
]


def test_social_engagement_rate_per_post_per_platform_and_overall(run_case):
    # Overall (pooled): (40 + 5 + 15) / (1000 + 500 + 2000) = 60 / 3500 = 1.7143 % → "good" (003: 1-5 %).
    # Instagram: 45 / 1500 = 3 %; Facebook: 15 / 2000 = 0.75 % → "below" (p4's 3 likes over 0 views are not added).
    card = run_case({"social_posts": POSTS}, period="month", metrics=["social_engagement_rate"])
    overall = pick(card, "social_engagement_rate")
    assert overall["value"] == pytest.approx(100 * 60 / 3500)
    assert overall["benchmark"] == {"rating": "good", "source": "003", "applied": "library"}
    assert overall["details"]["engagement_columns"] == "likes, shares, saves, comments, mentions"
    assert pick(card, "social_engagement_rate", dimension={"platform": "instagram"})["value"] == pytest.approx(3.0)
    facebook = pick(card, "social_engagement_rate", dimension={"platform": "facebook"})
    assert facebook["value"] == pytest.approx(0.75) and facebook["benchmark"]["rating"] == "poor"
    assert pick(card, "social_engagement_rate", dimension={"post_id": "p1"})["value"] == pytest.approx(4.0)
    assert pick(card, "social_engagement_rate", dimension={"post_id": "p2"})["value"] == pytest.approx(1.0)
    zero = pick(card, "social_engagement_rate", dimension={"post_id": "p4"})
    assert zero["status"] == "unavailable" and zero["value"] is None and zero["reason"] == "nothing to divide by"


def test_social_engagement_rate_also_gives_the_mean_of_post_rates_as_hootsuite_averages(run_case):
    # Hootsuite's "average engagement rate by impressions" is the mean of the posts' rates: p1 40 / 1000 = 4 %,
    # p2 40 / 4000 = 1 % → (4 + 1) / 2 = 2.5 %. The pooled rate (seed 003 over all posts) is 80 / 5000 = 1.6 %.
    # A post without impressions (p3) is in neither.
    rows = [post("p1", "instagram", 1000, likes=30, comments=10), post("p2", "instagram", 4000, likes=40),
            post("p3", "instagram", 0, likes=5)]
    card = run_case({"social_posts": rows}, period="all", metrics=["social_engagement_rate"])
    overall = pick(card, "social_engagement_rate")
    assert overall["value"] == pytest.approx(1.6)
    assert overall["details"]["mean_post_rate_pct"] == pytest.approx(2.5)
    p1 = pick(card, "social_engagement_rate", dimension={"post_id": "p1"})
    assert p1["details"]["mean_post_rate_pct"] == pytest.approx(4.0)


def test_social_engagement_rate_with_only_some_action_columns(run_case):
    # No saves or mentions columns: they count 0. (12 likes + 3 comments) / 300 = 5 % → "good" (5 is inside 1-5).
    rows = [{"post_id": "p1", "platform": "tiktok", "ts": "2026-10-05T12:00:00Z", "impressions": 300,
             "likes": 12, "comments": 3}]
    record = pick(run_case({"social_posts": rows}, period="all", metrics=["social_engagement_rate"]),
                  "social_engagement_rate")
    assert record["value"] == pytest.approx(5.0) and record["benchmark"]["rating"] == "good"
    assert record["details"]["engagement_columns"] == "likes, comments"


def test_social_engagement_rate_of_a_period_with_only_unviewed_posts_is_unavailable(run_case):
    record = pick(run_case({"social_posts": [post("p4", "facebook", 0, likes=3)]}, period="all",
                           metrics=["social_engagement_rate"]), "social_engagement_rate")
    assert record["status"] == "unavailable" and record["value"] is None


def mention(mention_id: str, platform: str, sentiment: object = "", text: str = "") -> dict[str, object]:
    return {"mention_id": mention_id, "platform": platform, "ts": "2026-10-07T09:00:00Z", "text": text,
            "sentiment": sentiment}


MENTIONS = [
    # Given sentiments, read with VADER's thresholds (≥ 0.05 positive, ≤ −0.05 negative):
    mention("x1", "x", 0.8), mention("x2", "x", 0.05),  # positive (0.05 is on the threshold)
    mention("x3", "x", -0.05), mention("x4", "x", -0.6),  # negative
    mention("x5", "x", 0.0, text="I love it"),  # neutral: a given sentiment wins over the text
    # No sentiment: VADER on the text.
    # love 3.2 + great 3.1 + one "!" 0.292 = 6.592 → 6.592/√(6.592² + 15) = 0.862 → positive
    mention("i1", "instagram", text="I love this brand, great service!"),
    # terrible −2.1 + support 1.7 + hate −2.7 = −3.1 → −3.1/√(3.1² + 15) = −0.625 → negative
    mention("i2", "instagram", text="Terrible support, I hate waiting."),
    # no word of the lexicon → 0 → neutral
    mention("i3", "instagram", text="The store opens at 9."),
    # the text says love, the data's sentiment says −0.9: negative
    mention("i4", "instagram", -0.9, text="I love it"),
]


def test_social_listening_with_and_without_sentiment(run_case):
    # x: positive 2, negative 2, neutral 1 → net (2 − 2)/5 = 0; n 5.
    # instagram: positive 1 (i1), negative 2 (i2, i4), neutral 1 (i3) → net (1 − 2)/4 × 100 = −25.
    # Overall 9 mentions: positive 3, negative 4, neutral 2 → (3 − 4)/9 × 100 = −11.111;
    # shares 33.333 / 44.444 / 22.222 %; 3 scored from text (i1, i2, i3).
    card = run_case({"mentions": MENTIONS}, period="month", metrics=["social_listening"])
    overall = pick(card, "social_listening")
    assert overall["value"] == pytest.approx(-100 / 9)
    assert overall["n"] == 9
    details = overall["details"]
    assert (details["positive"], details["negative"], details["neutral"]) == (3, 4, 2)
    assert details["positive_pct"] == pytest.approx(100 * 3 / 9)
    assert details["negative_pct"] == pytest.approx(100 * 4 / 9)
    assert details["neutral_pct"] == pytest.approx(100 * 2 / 9)
    assert details["scored_from_text"] == 3
    assert "VADER" in details["sentiment_model"]
    x = pick(card, "social_listening", dimension={"platform": "x"})
    assert x["value"] == pytest.approx(0.0) and x["n"] == 5
    instagram = pick(card, "social_listening", dimension={"platform": "instagram"})
    assert instagram["value"] == pytest.approx(-25.0) and instagram["n"] == 4
    assert instagram["details"]["scored_from_text"] == 3


def test_social_listening_text_only_and_a_mention_with_nothing_to_score_set_aside(run_case):
    # m1 and m2 have the same text: scored once, counted twice → 2 positive of 2 → net 100.
    # m3 has neither sentiment nor text: set aside by validation.
    rows = [mention("m1", "x", text="I love it"), mention("m2", "x", text="I love it"), mention("m3", "x")]
    card = run_case({"mentions": rows}, period="all", metrics=["social_listening"])
    record = pick(card, "social_listening")
    assert record["value"] == pytest.approx(100.0) and record["n"] == 2
    doc = card.to_dict()
    assert doc["inputs"]["mentions"]["rejected"] == 1
    assert doc["rejected"][0]["row"] == 3 and "neither sentiment nor text" in doc["rejected"][0]["reason"]


def test_social_listening_when_every_mention_has_a_sentiment_and_there_is_no_text_column(run_case):
    # Nothing to score from text (an empty score table is joined). 0.3 positive, −0.2 negative, 0.01 neutral,
    # 0.9 positive → (2 − 1)/4 × 100 = 25.
    rows = [{"mention_id": f"m{i}", "platform": "x", "ts": "2026-10-07T09:00:00Z", "sentiment": s}
            for i, s in enumerate([0.3, -0.2, 0.01, 0.9])]
    record = pick(run_case({"mentions": rows}, period="all", metrics=["social_listening"]), "social_listening")
    assert record["value"] == pytest.approx(25.0)
    assert record["details"]["scored_from_text"] == 0


def test_social_listening_takes_sentiment_words_and_rejects_other_words_by_row(run_case):
    # Listening tools export sentiment as words: Positive → 1, neutral → 0, NEGATIVE → −1, 0.4 stays a number.
    # Positive 2 (m0, m3), neutral 1, negative 1 → (2 − 1)/4 × 100 = 25. "meh" is neither: row 5 set aside.
    rows = [{"mention_id": f"m{i}", "platform": "x", "ts": "2026-10-07T09:00:00Z", "sentiment": s}
            for i, s in enumerate(["Positive", "neutral", "NEGATIVE", "0.4", "meh"])]
    card = run_case({"mentions": rows}, period="all", metrics=["social_listening"])
    record = pick(card, "social_listening")
    assert record["value"] == pytest.approx(25.0) and record["n"] == 4
    rejected = card.to_dict()["rejected"]
    assert [r["row"] for r in rejected] == [5]
    assert "one of: positive, neutral, negative" in rejected[0]["reason"]
