"""Comment themes (`cxbench themes`, issue 18 item 2): planted themes recovered, a theme's NPS impact worked by hand,
diacritics kept, hostile text kept harmless, the CLI and the report section.

The labelled set: 60 NPS answers in October 2026 whose comments plant three themes of 20 comments each, written in
six wordings per theme: "slow delivery" (14 detractors, 4 passives, 2 promoters), "friendly support" (16
promoters, 4 passives) and "price too high" (4 promoters, 12 passives, 4 detractors).
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cxbench
from conftest import write_tables
from cxbench.analyses import themes as analysis
from cxbench.api import comment_themes
from cxbench.cli import app
from cxbench.core.errors import UsageError
from cxbench.core.stats import net_score_difference

runner = CliRunner()

DELIVERY = ("Slow delivery, the parcel took two weeks.", "Delivery was so slow, I waited ages.",
            "Very slow delivery again.", "The delivery is slow and nobody called.", "Slow delivery ruined the trip.",
            "slow delivery and a broken box")
SUPPORT = ("Friendly support, solved my issue at once.", "Support was friendly and quick.",
           "Such friendly support staff!", "Friendly support as always.", "The support team is friendly.",
           "friendly support, thanks")
PRICE = ("Price too high for what it is.", "Good, but the price is too high.", "The price is too high this year.",
         "Price too high compared to others.", "Nice gear, price too high.", "price too high honestly")
#: theme → (comment wordings, the scores of its 20 answers)
PLANTED = {
    "delivery": (DELIVERY, [2] * 14 + [7] * 4 + [9] * 2),
    "support": (SUPPORT, [10] * 16 + [8] * 4),
    "price": (PRICE, [9] * 4 + [7] * 12 + [5] * 4),
}
WORDS = {"delivery": {"slow", "delivery"}, "support": {"friendly", "support"}, "price": {"price", "high"}}
HOSTILE = ("<script>alert('comment')</script> \x1b[31mrefund never arrived\x1b[0m",
           "\u202erefund never arrived, <b>bold</b> claim\x07")


def _rows(extra: list[tuple[str, float]] = ()) -> list[dict[str, Any]]:
    rows = []
    index = 0
    for texts, scores in PLANTED.values():
        for j, score in enumerate(scores):
            rows.append({"response_id": f"r{index}", "respondent_id": f"c{index}",
                         "ts": f"2026-10-{1 + index % 28:02d}T12:{index % 60:02d}:00Z", "survey": "nps",
                         "score": score, "comment": texts[j % len(texts)]})
            index += 1
    for text, score in extra:
        rows.append({"response_id": f"r{index}", "respondent_id": f"c{index}", "ts": "2026-10-29T12:00:00Z",
                     "survey": "nps", "score": score, "comment": text})
        index += 1
    # Answers without a comment, and a CSAT answer with one, are not read.
    rows.append({"response_id": "r-blank", "respondent_id": "c-blank", "ts": "2026-10-03T12:00:00Z", "survey": "nps",
                 "score": 0, "comment": "   "})
    rows.append({"response_id": "r-none", "respondent_id": "c-none", "ts": "2026-10-03T12:00:00Z", "survey": "nps",
                 "score": 0})
    rows.append({"response_id": "r-csat", "respondent_id": "c-csat", "ts": "2026-10-03T12:00:00Z", "survey": "csat",
                 "score": 1, "comment": "Slow delivery"})
    return rows


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tmp_path_factory.mktemp("planted"), {"surveys": _rows()})


@pytest.fixture(scope="module")
def planted(planted_folder: Path) -> dict[str, Any]:
    return comment_themes(planted_folder, engine="duckdb").to_dict()


def _theme_with(doc: dict[str, Any], words: set[str]) -> dict[str, Any]:
    found = [t for t in doc["themes"] if words <= {w for term in t["terms"] for w in term.split()}]
    assert len(found) == 1, (words, [t["terms"] for t in doc["themes"]])
    return found[0]


def test_planted_themes_are_recovered_with_the_number_chosen_by_the_rule(planted: dict[str, Any]):
    assert planted["status"] == "ok"
    assert planted["comments"]["answers_with_comment"] == 60  # blank, missing and CSAT comments are not read
    assert (planted["settings"]["themes"], planted["settings"]["themes_chosen_by"]) == (3, "rule")
    for name, (texts, scores) in PLANTED.items():
        theme = _theme_with(planted, WORDS[name])
        assert theme["comments"] == len(scores) == 20
        assert theme["share_pct"] == pytest.approx(100 * 20 / 60, abs=0.01)
        assert {v["text"] for v in theme["verbatims"]} <= set(texts)
        assert len(theme["verbatims"]) == 3
    assert planted["comments"]["without_theme"] == 0


def test_a_comment_using_none_of_a_themes_words_is_not_counted_in_it(tmp_path: Path):
    # Three themes fitted to the planted answers plus four generic ones whose words recur ("experience overall")
    # but belong to no planted theme: NMF gives them some weight on a theme, yet they use none of its top terms.
    extra = [("Average experience overall.", 7), ("Average experience overall!", 8),
             ("average experience overall", 6), ("Overall average experience", 7)]
    doc = comment_themes(write_tables(tmp_path, {"surveys": _rows(extra)}), engine="duckdb", themes=3).to_dict()
    for name in PLANTED:
        theme = _theme_with(doc, WORDS[name])
        assert theme["comments"] == 20  # the planted 20, none of the generic four
    assert doc["comments"]["without_theme"] == 4


def test_the_nps_impact_of_slow_delivery_is_worked_by_hand(planted: dict[str, Any]):
    theme = _theme_with(planted, WORDS["delivery"])
    assert theme["mix"] == {"promoters": 2, "passives": 4, "detractors": 14, "promoters_pct": 10.0,
                            "passives_pct": 20.0, "detractors_pct": 70.0}
    # With the theme: 2 promoters, 14 detractors of 20: NPS = (2 − 14) / 20 = −60.
    # Without: support 16 promoters + price 4 promoters, 4 detractors, of 40: NPS = (20 − 4) / 40 = +40.
    # Difference −100. Variances (stats.py's NetScore, Var = (p₊ + p₋ − (p₊ − p₋)²) / n):
    # with (0.1 + 0.7 − 0.36) / 20 = 0.022, without (0.5 + 0.1 − 0.16) / 40 = 0.011; sum 0.033;
    # half-width 100 × 1.959964 × √0.033 = 100 × 1.959964 × 0.181659 = 35.604; interval −135.604 to −64.396.
    assert theme["score_with"] == pytest.approx(-60.0)
    assert theme["score_without"] == pytest.approx(40.0)
    assert theme["comments_without"] == 40
    assert theme["impact"] == pytest.approx(-100.0)
    assert theme["ci_low"] == pytest.approx(-135.604, abs=0.001)
    assert theme["ci_high"] == pytest.approx(-64.396, abs=0.001)
    # All 60: 22 promoters, 18 detractors: NPS (22 − 18) / 60 = 6.667.
    assert planted["score"] == {"value": pytest.approx(6.6667, abs=1e-4), "n": 60, "promoters": 22, "passives": 20,
                                "detractors": 18}


def test_csat_difference_is_the_difference_of_two_shares_with_wald_variances():
    # 30 of 40 satisfied vs 10 of 20: 75 % − 50 % = 25 points; Var = 0.75 × 0.25 / 40 + 0.5 × 0.5 / 20
    # = 0.0046875 + 0.0125 = 0.0171875; half-width 100 × 1.959964 × 0.131101 = 25.695.
    difference, low, high = net_score_difference(30, 0, 40, 10, 0, 20)
    assert difference == pytest.approx(25.0)
    assert (low, high) == (pytest.approx(25 - 25.695, abs=0.001), pytest.approx(25 + 25.695, abs=0.001))
    assert net_score_difference(1, 0, 1, 0, 0, 0) is None


def test_sentiment_is_vaders_compound_score_of_english_comments(planted: dict[str, Any]):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    theme = _theme_with(planted, WORDS["support"])
    for verbatim in theme["verbatims"]:
        assert verbatim["sentiment"] == pytest.approx(vader.polarity_scores(verbatim["text"])["compound"], abs=1e-4)
    expected = sum(vader.polarity_scores(SUPPORT[j % 6])["compound"] for j in range(20)) / 20
    assert theme["sentiment"] == pytest.approx(expected, abs=1e-4)
    assert planted["sentiment"]["scored"] == 60 and planted["comments"]["languages"] == {"en": 60}


# -- languages -------------------------------------------------------------------------------------------------

ROMANIAN = ("Ședință de instalare prea lungă", "O ședință lungă, dar tehnicianul a fost amabil",
            "Ședința de instalare a durat trei ore", "ședință lungă și obositoare",
            # legacy cedilla letters and a decomposed (NFD) spelling are the same word
            "Şedinţă de instalare lungă", unicodedata.normalize("NFD", "Ședință de instalare foarte lungă"))
POLISH = ("Dostawa wolna jak żółw", "Kurier jak żółw, dostawa bardzo wolna", "Żółw byłby szybszy niż ta dostawa",
          "Wolna dostawa, żółw", "Dostawa żółw, czekałem tydzień", "żółw dostawa znowu")
INDONESIAN = ("Pengiriman sangat lambat sekali", "Pengiriman lambat, kecewa", "Pengiriman terlalu lambat",
              "Kenapa pengiriman lambat sekali", "Pengiriman lambat dan barang rusak", "pengiriman lambat lagi")


def test_tokens_keep_diacritics_whole_in_any_normal_form():
    assert analysis.tokens("Ședință żółw") == ["ședință", "żółw"]
    assert analysis.tokens(unicodedata.normalize("NFD", "Ședință żółw")) == ["ședință", "żółw"]
    assert analysis.tokens("Şedinţă 2026 ok") == ["ședință", "ok"]  # cedilla ş/ţ read as ș/ț; numbers are no terms


@pytest.mark.parametrize(("text", "language"), [
    ("Refund took weeks.", "unknown"), ("The refund took weeks", "en"), ("Great service", "en"), ("Pengiriman sangat lambat", "id"),
    ("Dostawa wolna jak żółw", "pl"), ("Şedinţa a fost lungă", "ro"), ("livrarea a fost foarte lenta", "ro"),
    ("Доставка очень медленная", "other"),
])
def test_comment_language_follows_the_documented_heuristic(text: str, language: str):
    assert analysis.comment_language(text) == language


def test_romanian_polish_and_indonesian_themes_keep_their_letters(tmp_path: Path):
    rows = []
    for lang, (texts, score) in enumerate(((ROMANIAN, 5), (POLISH, 3), (INDONESIAN, 6))):
        for j in range(8):
            i = lang * 8 + j
            rows.append({"response_id": f"r{i}", "respondent_id": f"c{i}", "ts": f"2026-10-{1 + j:02d}T12:00:00Z",
                         "survey": "nps", "score": score, "comment": texts[j % 6]})
    doc = comment_themes(write_tables(tmp_path, {"surveys": rows}), themes=3, engine="duckdb").to_dict()
    # Indonesian: 8 answers with the wordings 0, 1, 2, 3, 4, 5, 0, 1; wordings 1 and 5 have no stop word of the
    # list and no English word: unknown (3 answers); the others have sangat/sekali, terlalu, sekali, dan.
    assert doc["comments"]["languages"] == {"id": 5, "pl": 8, "ro": 8, "unknown": 3}
    assert doc["sentiment"]["scored"] == 0 and doc["sentiment"]["mean"] is None
    for word, texts in (("ședință", ROMANIAN), ("żółw", POLISH), ("pengiriman", INDONESIAN)):
        theme = next(t for t in doc["themes"] if word in t["terms"])
        assert theme["comments"] == 8
        assert word in theme["label"]
        assert theme["sentiment"] is None and theme["sentiment_scored"] == 0
        for verbatim in theme["verbatims"]:
            assert verbatim["text"] in texts  # as written: diacritics, cedillas and normal form untouched
            assert verbatim["sentiment"] is None


# -- hostile text ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    huge = "slow delivery " + "x" * 100_000
    extra = [(HOSTILE[0], 1)] * 5 + [(HOSTILE[1], 2)] * 5 + [(huge, 0)]
    return write_tables(tmp_path_factory.mktemp("hostile-themes"), {"surveys": _rows(extra)})


@pytest.fixture(scope="module")
def hostile(hostile_folder: Path) -> analysis.CommentThemes:
    return comment_themes(hostile_folder, engine="duckdb")


def test_hostile_comments_are_trimmed_and_stay_valid_json(hostile: analysis.CommentThemes):
    text = hostile.to_json()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    verbatims = [v for t in doc["themes"] for v in t["verbatims"]]
    long = [v for v in verbatims if v["trimmed"]]
    assert long and all(len(v["text"]) <= analysis.VERBATIM_CHARS + 1 and v["text"].endswith("…") for v in long)
    assert any("<script>" in v["text"] for v in verbatims)  # kept as data, escaped where it is shown


def test_hostile_comments_print_as_text_on_the_terminal_and_in_csv(hostile_folder: Path,
                                                                   hostile: analysis.CommentThemes, tmp_path: Path):
    result = runner.invoke(app, ["themes", str(hostile_folder)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\x1b[31m" in text and "<script>alert('comment')</script>" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    csv_out = tmp_path / "themes.csv"
    assert runner.invoke(app, ["themes", str(hostile_folder), "-f", "csv", "-o", str(csv_out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8"))))
    doc = hostile.to_dict()
    assert [(int(r["theme"]), r["label"], float(r["impact"])) for r in rows] == [
        (t["id"], t["label"], t["impact"]) for t in doc["themes"]]
    cells = [r[f"verbatim_{i}"] for r in rows for i in (1, 2, 3) if r[f"verbatim_{i}"]]
    assert any("<script>" in c for c in cells) and not any(c.startswith(("=", "+", "-", "@")) for c in cells)


# -- CLI, API checks, engines ------------------------------------------------------------------------------------

def test_cli_json_with_a_cap_analyses_the_most_recent_comments(planted_folder: Path):
    result = runner.invoke(app, ["themes", str(planted_folder), "--format", "json", "--max-comments", "30",
                                 "--themes", "3"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # Answer i is dated 2026-10-(1 + i % 28) 12:(i % 60) for i = 0..59: days 5..28 hold two answers each (i = d − 1
    # and d + 27). The 30 most recent are days 28 down to 14: the first is i = 13 (10-14 12:13), the last i = 55
    # (10-28 12:55).
    assert doc["comments"] | {"languages": None} == {
        "answers_with_comment": 60, "analysed": 30, "capped": True, "first": "2026-10-14T12:13:00Z",
        "last": "2026-10-28T12:55:00Z", "without_theme": doc["comments"]["without_theme"], "languages": None}
    assert doc["settings"]["max_comments"] == 30 and doc["settings"]["themes_chosen_by"] == "--themes"
    assert "the 30 most recent were analysed" in doc["warnings"][0]


def test_bad_requests_name_the_option_to_fix(planted_folder: Path, tmp_path: Path):
    with pytest.raises(UsageError, match="--type 'ces'"):
        comment_themes(planted_folder, survey="ces")
    with pytest.raises(UsageError, match="--themes 1"):
        comment_themes(planted_folder, themes=1)
    empty = write_tables(tmp_path / "orders-only", {"orders": [{"order_id": "o1", "customer_id": "c1",
                                                                  "ts": "2026-10-01T00:00:00Z", "amount": 5}]})
    result = runner.invoke(app, ["themes", str(empty)])
    assert result.exit_code == 2 and "no surveys table" in result.output


def test_too_few_comments_give_no_themes_and_say_why(tmp_path: Path):
    rows = [{"response_id": f"r{i}", "respondent_id": f"c{i}", "ts": "2026-10-01T12:00:00Z", "survey": "csat",
             "score": 5 if i % 2 else 1, "comment": "Great"} for i in range(6)]
    doc = comment_themes(write_tables(tmp_path, {"surveys": rows}), survey="csat").to_dict()
    assert doc["status"] == "unavailable" and "at least 20" in doc["reason"]
    # CSAT: 3 satisfied (5 on 1-5), 3 dissatisfied (1): CSAT % = 3 / 6 = 50.
    assert doc["score"] == {"value": 50.0, "n": 6, "satisfied": 3, "neutral": 0, "dissatisfied": 3}


def test_the_engine_part_runs_on_duckdb_and_spark(planted_folder: Path, backend: Any):
    doc = comment_themes(planted_folder, engine=backend, themes=3).to_dict()
    assert doc["comments"]["answers_with_comment"] == 60
    assert (doc["score"]["promoters"], doc["score"]["detractors"]) == (22, 18)
    assert _theme_with(doc, WORDS["delivery"])["impact"] == pytest.approx(-100.0)


# -- the report --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_report(hostile_folder: Path, hostile: analysis.CommentThemes,
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from cxbench.report import write_html

    card = cxbench.compute(hostile_folder, metrics=["nps"], engine="duckdb")
    return write_html(card, tmp_path_factory.mktemp("themes-report") / "report.html", themes=hostile), card


def test_report_section_holds_the_results_numbers_with_text_escaped(hostile_report: tuple[Path, Any],
                                                                     hostile: analysis.CommentThemes):
    from cxbench.report.model import build_model

    path, card = hostile_report
    model = build_model(card, themes=hostile)
    chart = model.themes.chart
    themes = hostile.to_dict()["themes"]
    assert chart.kind == "themes" and chart in model.charts
    assert chart.data[0]["impact"] == [t["impact"] for t in themes]
    assert chart.data[0]["low"] == [t["ci_low"] for t in themes]
    page = path.read_text(encoding="utf-8")
    assert "Why it moved: comment themes" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;comment&#39;)&lt;/script&gt;" in page


def test_report_section_renders_in_chromium_without_errors(hostile_report: tuple[Path, Any]):
    from playwright.sync_api import sync_playwright

    from test_report import _chromium

    path, _ = hostile_report
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
            page.goto(path.as_uri())
            page.wait_for_function("window.cxReport && window.cxReport.settled()")
            page.evaluate("document.getElementById('why-themes').scrollIntoView()")
            page.wait_for_function("window.cxReport.settled()")
            bars = page.evaluate("document.getElementById('chart-themes').data[0].x")
            assert len(bars) == len(page.query_selector_all("table.themes tbody tr")) >= 3
            shown = page.inner_text("#why-themes")
            assert "<script>alert('comment')</script>" in shown
            assert errors == []
        finally:
            browser.close()


def test_report_command_adds_the_section_with_themes(planted_folder: Path, tmp_path: Path):
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(planted_folder), "--metric", "nps", "--themes", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert 'id="why-themes"' in page and 'href="#why-themes"' in page
    assert "friendly · support" in page
    without = tmp_path / "plain.html"
    assert runner.invoke(app, ["report", str(planted_folder), "--metric", "nps", "--out", str(without)]).exit_code == 0
    assert 'id="why-themes"' not in without.read_text(encoding="utf-8")
