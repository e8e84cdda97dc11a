"""Comment themes (`cxbench themes`, issue 18 item 2): what the survey comments talk about, and how each theme goes
with the score.

1. In the engine: the answered surveys of one type (NPS by default) with a non-empty `comment`, each with its score
   group (promoter / passive / detractor for NPS and eNPS; satisfied / neutral / dissatisfied for CSAT) worked out
   in the engine. Only this per-answer table (comment, score, groups, respondent, time) leaves the engine, capped at
   the `MAX_COMMENTS` most recent answers (the cap is stated in the result).
2. Sentiment: VADER's compound score of each comment (`cxbench.metrics.social.compound_score`, the one the
   social-listening metrics use; Hutto & Gilbert 2014). VADER is English-only: a comment detected as another
   language by `comment_language` (documented there) gets no sentiment and is counted as not scored.
3. Themes: scikit-learn's TF-IDF (words and word pairs; NFC-normalised, Unicode token pattern; English stop words
   and small Romanian, Polish and Indonesian lists) factorised by NMF (seeded). The number of themes is given, or
   chosen by `choose_theme_count`: the largest K (2..8) before two themes start sharing their vocabulary. A comment
   has a theme when the theme holds at least `MEMBERSHIP_SHARE` of its NMF weight and the comment uses one of the
   theme's top terms; a theme is labelled by its top terms.
4. Per theme: comments and share, the score-group mix, the score (NPS) of the answers whose comment has the theme
   against that of the other commented answers, the difference with its 95 % interval (the two groups are
   independent samples: Var = Var₁ + Var₂, each the multinomial NPS variance of `core.stats.NetScore`), the mean
   sentiment and three verbatims (the highest theme weights, distinct texts, trimmed with an ellipsis).

The fitting runs on the per-answer table in memory (at most `MAX_COMMENTS` rows), as the CLV fit does on its
per-customer table. Associations, not causes: a theme that goes with a lower NPS is not shown to lower it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np

from cxbench.core.errors import UsageError
from cxbench.core.options import DEFAULTS
from cxbench.core.stats import net_score_difference

if TYPE_CHECKING:
    from ibis.backends import BaseBackend
    from scipy.sparse import csr_matrix

#: The most recent answers with a comment analysed at most: the per-answer table fitted in memory.
MAX_COMMENTS = 50_000
#: Fewer commented answers than this and no themes are looked for (NMF would fit noise).
MIN_COMMENTS = 20
MIN_THEMES = 2
MAX_THEMES = 8
#: Two themes whose term weights have a cosine similarity of this or more share their vocabulary: one theme split
#: in two. `choose_theme_count` stops before the K where that first happens.
SIMILARITY_LIMIT = 0.2
#: The number of themes is chosen on a seeded sample of at most this many comments (then fitted on all).
SELECTION_SAMPLE = 5_000
#: A comment has a theme when the theme holds at least this share of the comment's NMF weight.
MEMBERSHIP_SHARE = 0.3
TOP_TERMS = 6
LABEL_TERMS = 3
VERBATIMS = 3
#: Verbatims longer than this are cut (at a space) and end with an ellipsis.
VERBATIM_CHARS = 280
SEED = 0
#: Terms of the TF-IDF vocabulary at most (the most frequent), and the least comments a term must occur in.
MAX_TERMS = 10_000
MIN_TERM_COMMENTS = 2

SURVEYS = ("nps", "enps", "csat")
SENTIMENT_NOTE = ("VADER is made for English: comments detected as Romanian, Polish, Indonesian or a non-Latin "
                  "script, and comments with no English stop word and no word of VADER's lexicon, get no "
                  "sentiment (counted as not scored); the detection is a heuristic (docs/analyses.md).")

# Tokens: two or more word characters, at least one a letter (numbers alone are not themes). Python's \w is
# Unicode-aware (ș, ț, ă, ą, ł, ż...) once the text is NFC-normalised: in decomposed form (NFD), a combining mark
# is not \w and `ședință` would split into pieces.
TOKEN_PATTERN = r"(?u)\b(?=\w*[^\W\d_])\w\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)
# Romanian ş and ţ written with a cedilla (legacy encodings) are the comma-below letters ș and ț.
_CEDILLA = str.maketrans({"ş": "ș", "ţ": "ț", "Ş": "Ș", "Ţ": "Ț"})

#: Small stop-word lists (the commonest function words) added to scikit-learn's English list.
STOP_WORDS: dict[str, frozenset[str]] = {
    "ro": frozenset("""și în la de cu pe nu o un una că este e sunt a al ale am ai au fost foarte mai dar sau ce
        care din pentru prin se mi mă ne le lor lui iar după fără acest această aceasta ca cum când tot toate prea
        deja doar nici să va vor fi ar avea are ați eu el ea noi voi ei ele""".split()),
    "pl": frozenset("""i w z na do nie się jest to że a o od po za ale jak tak co czy bardzo już mi mnie był była
        było były są tylko dla przez ten ta te tego jego jej ich też także oraz lub bo by mam ma ja my wy oni
        jestem może""".split()),
    "id": frozenset("""dan yang di ke dari ini itu tidak dengan untuk saya kami kita ada akan juga sudah sangat
        tapi tetapi atau karena pada dalam bisa lebih sekali belum masih agar adalah terlalu banyak aku dia mereka
        sudah telah jadi saja hanya""".split()),
}
#: Letters that mark a language (its diacritics); used before the stop words by `comment_language`.
LANGUAGE_LETTERS = {"ro": "ăâîșțşţ", "pl": "ąćęłńśźżó"}


@cache
def _english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


# Terminal escape sequences (ESC [ ... letter) and control characters are no words: read as spaces.
_ESCAPES = re.compile("\x1b\\[[0-9;?]*[A-Za-z]|[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def normalise(text: str) -> str:
    """What the tokenizer reads: NFC, lower case, cedilla ş/ţ as ș/ț, escape sequences and control characters as
    spaces."""
    return _ESCAPES.sub(" ", unicodedata.normalize("NFC", text)).lower().translate(_CEDILLA)


def tokens(text: str) -> list[str]:
    """The words of `text` as the themes read them (before stop words)."""
    return _TOKEN.findall(normalise(text))


def comment_language(text: str) -> str:
    """A rough language of a comment, for deciding whether VADER (English only) may score it.

    In order: `other` when most letters are outside the Latin alphabets (beyond U+024F: Cyrillic, Greek, CJK...);
    `ro` or `pl` when the comment has letters with that language's diacritics (LANGUAGE_LETTERS; the one with
    more); `ro`, `pl` or `id` when it has more of that language's stop words (STOP_WORDS, less the English ones)
    than English stop words; `en` when it has an English stop word (scikit-learn's list) or a word of VADER's
    lexicon; else `unknown` (nothing for VADER to read: it would score 0, which would pass for neutral).
    A heuristic: languages not listed that use Latin letters and share no English word are `unknown`, and a
    comment mixing languages goes to the one with the most cues.
    """
    lowered = normalise(text)
    letters = len(_LETTER.findall(lowered))
    if letters and len(_NON_LATIN.findall(lowered)) * 2 > letters:
        return "other"
    marked = {lang: len(pattern.findall(lowered)) for lang, pattern in _MARKED.items()}
    best = max(marked, key=lambda lang: marked[lang])
    if marked[best] > 0:
        return best
    words = set(_WORD.findall(lowered))
    english = len(words & _english_stop_words())
    hits = {lang: len(words & listed) for lang, listed in _own_stop_words().items()}
    best = max(hits, key=lambda lang: hits[lang])
    if hits[best] > english:
        return best
    if english or words & _vader_words():
        return "en"
    return "unknown"


_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN = re.compile("[^\\W\\d_\u0000-\u024f]")
_MARKED = {lang: re.compile(f"[{chars}]") for lang, chars in LANGUAGE_LETTERS.items()}
_WORD = re.compile(r"(?u)\w+")


@cache
def _own_stop_words() -> dict[str, frozenset[str]]:
    """Each listed language's stop words that are not English ones (`a`, `to`, `i` say nothing)."""
    return {lang: listed - _english_stop_words() for lang, listed in STOP_WORDS.items()}


@cache
def _vader_words() -> frozenset[str]:
    """The words of VADER's lexicon (the analyser the social metrics use, loaded once)."""
    from cxbench.metrics.social import _analyzer

    return frozenset(_analyzer().lexicon)


# -- the score groups of a survey type -------------------------------------------------------------------------

@dataclass(frozen=True)
class ScoreKind:
    """How the answers of a survey type are grouped and scored."""

    survey: str
    score_name: str
    groups: tuple[str, str, str]  # positive, neutral, negative
    net: bool  # NPS-like (positive − negative) or a share of positive answers (CSAT)
    rule: str

    def group_rows(self, t: ir.Table, promoter_min: float, detractor_max: float) -> tuple[ir.BooleanValue,
                                                                                       ir.BooleanValue]:
        if self.net:
            return t.score >= promoter_min, t.score <= detractor_max
        # CSAT: the top two points of the scale are satisfied (as the csat metric), the bottom two dissatisfied.
        return t.score >= t.scale_max - 1, t.score <= t.scale_min + 1


def score_kind(survey: str, promoter_min: float = DEFAULTS.nps_promoter_min,
               detractor_max: float = DEFAULTS.nps_detractor_max) -> ScoreKind:
    """The grouping of `survey` (nps, enps or csat); UsageError for another."""
    if survey in ("nps", "enps"):
        name = "NPS" if survey == "nps" else "eNPS"
        return ScoreKind(survey, name, ("promoters", "passives", "detractors"), True,
                         f"promoters score {promoter_min:g} or more, detractors {detractor_max:g} or less; "
                         f"{name} = % promoters − % detractors")
    if survey == "csat":
        return ScoreKind(survey, "CSAT %", ("satisfied", "neutral", "dissatisfied"), False,
                         "satisfied: the top two points of the scale, dissatisfied: the bottom two; CSAT % = % satisfied")
    raise UsageError(f"--type {survey!r}: comment themes are computed for {', '.join(SURVEYS)}")


# -- the engine part ------------------------------------------------------------------------------------------

def comment_rows(surveys: ir.Table, kind: ScoreKind, *, promoter_min: float = DEFAULTS.nps_promoter_min,
                 detractor_max: float = DEFAULTS.nps_detractor_max, start: dt.date | None = None,
                 end: dt.date | None = None) -> ir.Table:
    """The per-answer table: answered surveys of `kind.survey` with a non-empty comment, one row each, with
    `positive` and `negative` (the score groups) worked out in the engine. `surveys` is the validated table."""
    s = surveys.filter(surveys.survey == kind.survey, surveys.score.notnull(), surveys.comment.notnull(),
                       surveys.comment.strip().length() > 0)
    if start is not None:
        s = s.filter(s.ts >= ibis.literal(dt.datetime.combine(start, dt.time()), type="timestamp"))
    if end is not None:
        s = s.filter(s.ts < ibis.literal(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), type="timestamp"))
    positive, negative = kind.group_rows(s, promoter_min, detractor_max)
    return s.select(response_id=s.response_id, respondent_id=s.respondent_id, ts=s.ts, score=s.score,
                    comment=s.comment, positive=positive, negative=negative)


@dataclass(frozen=True)
class CommentTable:
    """The answers analysed (at most `cap`, the most recent), and how many had a comment in all."""

    comments: list[str]
    scores: np.ndarray  # the answer's score
    positive: np.ndarray  # bool per answer
    negative: np.ndarray
    total: int  # answers with a comment before the cap
    first: dt.datetime | None
    last: dt.datetime | None


def fetch_comments(con: BaseBackend, rows: ir.Table, cap: int = MAX_COMMENTS) -> CommentTable:
    """Count the commented answers in the engine and bring back the `cap` most recent (ties by response id), in one
    query: the count is a window over all of them, taken before the limit."""
    counted = rows.mutate(_total=rows.response_id.count().over(ibis.window()))
    recent = counted.order_by([counted.ts.desc(), counted.response_id]).limit(cap)
    table = con.to_pyarrow(recent.select("comment", "score", "positive", "negative", "ts", "_total"))
    total = int(table.column("_total")[0].as_py()) if table.num_rows else 0
    comments = [str(c) for c in table.column("comment").to_pylist()]
    scores = np.array(table.column("score").to_pylist(), dtype=float)
    positive = np.array(table.column("positive").to_pylist(), dtype=bool)
    negative = np.array(table.column("negative").to_pylist(), dtype=bool)
    times = [t for t in table.column("ts").to_pylist() if t is not None]
    return CommentTable(comments, scores, positive, negative, total, min(times) if times else None,
                        max(times) if times else None)


# -- the results ----------------------------------------------------------------------------------------------

def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def trim(text: str, limit: int = VERBATIM_CHARS) -> tuple[str, bool]:
    """`text` on one line (runs of white space as one space); longer than `limit` characters, cut at the last space
    before it (or at `limit`) and ended with an ellipsis. Returns the text and whether it was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = head.rfind(" ")
    head = head[:cut] if cut > limit // 2 else head
    return head.rstrip() + "…", True


@dataclass(frozen=True)
class Verbatim:
    """A comment shown for a theme: among those with the highest theme weight."""

    text: str
    trimmed: bool
    score: float
    weight: float
    language: str
    sentiment: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "trimmed": self.trimmed, "score": _round(self.score), "weight": _round(self.weight),
                "language": self.language, "sentiment": _round(self.sentiment)}


@dataclass(frozen=True)
class Theme:
    """One theme: its terms, how often it comes up, its score-group mix and the score with and without it."""

    id: int
    label: str
    terms: tuple[str, ...]
    comments: int
    share: float  # of the comments analysed, %
    mix: tuple[int, int, int]  # positive, neutral, negative answers among its comments
    score_with: float | None
    score_without: float | None
    n_without: int
    impact: float | None  # score_with − score_without, points
    ci_low: float | None
    ci_high: float | None
    impact_reason: str | None
    sentiment: float | None  # mean VADER compound of its English comments
    sentiment_scored: int
    verbatims: tuple[Verbatim, ...]

    def to_dict(self, groups: tuple[str, str, str]) -> dict[str, Any]:
        n = self.comments
        mix: dict[str, Any] = dict(zip(groups, self.mix, strict=True))
        mix.update({f"{g}_pct": _round(100 * c / n if n else None, 2) for g, c in zip(groups, self.mix, strict=True)})
        return {"id": self.id, "label": self.label, "terms": list(self.terms), "comments": n,
                "share_pct": _round(self.share, 2), "mix": mix, "score_with": _round(self.score_with),
                "score_without": _round(self.score_without), "comments_without": self.n_without,
                "impact": _round(self.impact), "ci_low": _round(self.ci_low), "ci_high": _round(self.ci_high),
                "impact_reason": self.impact_reason, "sentiment": _round(self.sentiment),
                "sentiment_scored": self.sentiment_scored, "verbatims": [v.to_dict() for v in self.verbatims]}


@dataclass(frozen=True)
class CommentThemes:
    """The comment themes of one survey type (`cxbench.comment_themes`): JSON via `to_dict()` / `to_json()`."""

    kind: ScoreKind
    themes: tuple[Theme, ...]
    theme_count: int
    chosen_by: str  # "rule" or "--themes"
    answers_with_comment: int
    analysed: int
    cap: int
    first: dt.datetime | None
    last: dt.datetime | None
    without_theme: int
    languages: tuple[tuple[str, int], ...]
    score: float | None  # of all the commented answers analysed
    mix: tuple[int, int, int]
    sentiment: float | None
    sentiment_scored: int
    start: dt.date | None = None
    end: dt.date | None = None
    promoter_min: float = DEFAULTS.nps_promoter_min
    detractor_max: float = DEFAULTS.nps_detractor_max
    reason: str | None = None  # why there are no themes
    warnings: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False)  # source, version, inputs, rows set aside

    @property
    def capped(self) -> bool:
        return self.answers_with_comment > self.analysed

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind
        return {
            "analysis": "comment_themes",
            "status": "ok" if self.themes else "unavailable",
            "reason": self.reason,
            "survey": kind.survey,
            "score_name": kind.score_name,
            "groups": list(kind.groups),
            "settings": {
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "themes": self.theme_count, "themes_chosen_by": self.chosen_by,
                "themes_rule": f"the largest K in {MIN_THEMES}..{MAX_THEMES} before two themes' term weights have "
                               f"a cosine similarity of {SIMILARITY_LIMIT} or more (NMF on TF-IDF, seed {SEED})",
                "membership_share": MEMBERSHIP_SHARE, "max_comments": self.cap, "seed": SEED,
                "score_groups": kind.rule,
                "nps_promoter_min": self.promoter_min if kind.net else None,
                "nps_detractor_max": self.detractor_max if kind.net else None,
                "interval": "95 %, normal approximation: Var(with − without) = Var(with) + Var(without), each "
                            "(p₊ + p₋ − (p₊ − p₋)²) / n",
            },
            "comments": {
                "answers_with_comment": self.answers_with_comment, "analysed": self.analysed,
                "capped": self.capped, "first": _instant(self.first), "last": _instant(self.last),
                "without_theme": self.without_theme, "languages": dict(self.languages),
            },
            "score": {"value": _round(self.score), "n": self.analysed,
                      **dict(zip(kind.groups, self.mix, strict=True))},
            "sentiment": {"model": "VADER 3.3.2 compound score (vaderSentiment), −1..1", "mean": _round(self.sentiment),
                          "scored": self.sentiment_scored, "not_scored": self.analysed - self.sentiment_scored,
                          "note": SENTIMENT_NOTE},
            "themes": [t.to_dict(kind.groups) for t in self.themes],
            "warnings": list(self.warnings),
            "note": "Associations, not causes: a theme that goes with a lower score is not shown to lower it.",
            "meta": self.meta,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def _instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    text = value.replace(microsecond=0).isoformat()
    # The engine's timestamps are UTC (the contract's); naive ones are written with their Z too.
    return text.replace("+00:00", "Z") if value.tzinfo else text + "Z"


# -- the themes -----------------------------------------------------------------------------------------------

def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    stop = set(_english_stop_words()).union(*STOP_WORDS.values())
    return TfidfVectorizer(preprocessor=normalise, token_pattern=TOKEN_PATTERN, stop_words=sorted(stop),
                           ngram_range=(1, 2), min_df=MIN_TERM_COMMENTS, max_features=MAX_TERMS, sublinear_tf=True)


def _nmf(matrix: csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning

    model = NMF(n_components=k, init="nndsvda", random_state=SEED, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
    return weights, model.components_


def _max_similarity(components: np.ndarray) -> float:
    """The largest cosine similarity between two themes' term weights (1 when a theme is empty)."""
    norms = np.linalg.norm(components, axis=1)
    if (norms == 0).any():
        return 1.0
    unit = components / norms[:, None]
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, 0.0)
    return float(similarity.max())


def choose_theme_count(matrix: csr_matrix, max_themes: int = MAX_THEMES) -> int:
    """The number of themes: K = 2, 3, ... up to `max_themes`, fitted in turn; the answer is the last K before one
    whose themes overlap (two with cosine similarity ≥ SIMILARITY_LIMIT: a theme split in two). At least 2. On
    more than SELECTION_SAMPLE comments, chosen on a seeded sample of that many."""
    if matrix.shape[0] > SELECTION_SAMPLE:
        rows = np.sort(np.random.default_rng(SEED).choice(matrix.shape[0], SELECTION_SAMPLE, replace=False))
        matrix = matrix[rows]
    chosen = MIN_THEMES
    for k in range(MIN_THEMES, max_themes + 1):
        _, components = _nmf(matrix, k)
        if _max_similarity(components) >= SIMILARITY_LIMIT:
            break
        chosen = k
    return chosen


def _label(terms: Sequence[str]) -> str:
    """The first LABEL_TERMS terms, skipping one whose words all appear in a term already in the label."""
    chosen: list[str] = []
    for term in terms:
        seen = {w for c in chosen for w in c.split()}
        if chosen and set(term.split()) <= seen:
            continue
        chosen.append(term)
        if len(chosen) == LABEL_TERMS:
            break
    return " · ".join(chosen)


def _score(positive: int, negative: int, n: int, net: bool) -> float | None:
    if n == 0:
        return None
    return 100 * (positive - (negative if net else 0)) / n


def find_themes(table: CommentTable, kind: ScoreKind, *, themes: int | None = None, cap: int = MAX_COMMENTS,
                start: dt.date | None = None, end: dt.date | None = None,
                promoter_min: float = DEFAULTS.nps_promoter_min,
                detractor_max: float = DEFAULTS.nps_detractor_max) -> CommentThemes:
    """Sentiment, themes and their score impact of the commented answers in `table`."""
    from cxbench.metrics.social import compound_score

    n = len(table.comments)
    positive, negative = table.positive, table.negative
    mix_all = (int(positive.sum()), int(n - positive.sum() - negative.sum()), int(negative.sum()))
    # Language and sentiment once per distinct text (answers often repeat a short comment).
    read: dict[str, tuple[str, float | None]] = {}
    for text in table.comments:
        if text not in read:
            language = comment_language(text)
            read[text] = (language, compound_score(text) if language == "en" else None)
    languages = [read[text][0] for text in table.comments]
    sentiment = [read[text][1] for text in table.comments]
    scored = [s for s in sentiment if s is not None]
    base = dict(kind=kind, answers_with_comment=table.total, analysed=n, cap=cap, first=table.first, last=table.last,
                languages=tuple(sorted(Counter(languages).items(), key=lambda kv: (-kv[1], kv[0]))),
                score=_score(mix_all[0], mix_all[2], n, kind.net), mix=mix_all,
                sentiment=float(np.mean(scored)) if scored else None, sentiment_scored=len(scored),
                start=start, end=end, promoter_min=promoter_min, detractor_max=detractor_max)
    notes = []
    if table.total > n:
        notes.append(f"{table.total:,} answers have a comment; the {n:,} most recent were analysed "
                     f"(at most {cap:,})")
    if n < MIN_COMMENTS:
        return CommentThemes(themes=(), theme_count=0, chosen_by="rule", without_theme=n, warnings=tuple(notes),
                             reason=f"{n} {kind.survey} answers with a comment; themes need at least {MIN_COMMENTS}",
                             **base)
    vectorizer = _vectorizer()
    try:
        matrix = vectorizer.fit_transform(table.comments)
    except ValueError:  # no term left: every word a stop word, or none in two comments
        matrix = None
    terms = vectorizer.get_feature_names_out() if matrix is not None else np.array([])
    if matrix is None or len(terms) < MIN_THEMES + 1 or matrix.nnz == 0:
        return CommentThemes(themes=(), theme_count=0, chosen_by="rule", without_theme=n, warnings=tuple(notes),
                             reason="too few words recur across the comments to find themes "
                                    f"(a term must occur in {MIN_TERM_COMMENTS} comments)", **base)
    most = max(MIN_THEMES, min(MAX_THEMES, len(terms) - 1, n - 1))
    if themes is None:
        k, chosen_by = choose_theme_count(matrix, most), "rule"
    else:
        k, chosen_by = min(themes, len(terms) - 1, n - 1), "--themes"
        if k < themes:
            notes.append(f"--themes {themes}: only {k} themes fit {len(terms)} terms and {n} comments")
    weights, components = _nmf(matrix, k)
    totals = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals[:, None] > 0, weights / np.where(totals > 0, totals, 1)[:, None], 0.0)
    # NMF also gives a small weight to comments none of whose words are the theme's ("It was fine." in a delivery
    # theme, when there are fewer themes than kinds of comment): a member must use one of the top terms too.
    tops = [np.argsort(-components[t], kind="stable")[:TOP_TERMS] for t in range(k)]
    uses = np.column_stack([np.asarray((matrix[:, top] > 0).sum(axis=1)).ravel() > 0 for top in tops])
    member = (shares >= MEMBERSHIP_SHARE) & (weights > 0) & uses
    found: list[tuple[int, int]] = [(int(member[:, t].sum()), t) for t in range(k) if member[:, t].any()]
    found.sort(key=lambda ct: (-ct[0], ct[1]))
    result: list[Theme] = []
    for number, (count, t) in enumerate(found, start=1):
        rows = member[:, t]
        top = [str(terms[i]) for i in np.argsort(-components[t], kind="stable")[:TOP_TERMS] if components[t, i] > 0]
        pos, neg = int(positive[rows].sum()), int(negative[rows].sum())
        pos_out, neg_out, n_out = int(positive[~rows].sum()), int(negative[~rows].sum()), int((~rows).sum())
        difference = net_score_difference(pos, neg if kind.net else 0, count,
                                          pos_out, neg_out if kind.net else 0, n_out)
        reason = None if difference is not None else "every commented answer has this theme: nothing to compare with"
        theme_sentiment = [sentiment[i] for i in np.flatnonzero(rows) if sentiment[i] is not None]
        result.append(Theme(
            id=number, label=_label(top), terms=tuple(top), comments=count, share=100 * count / n,
            mix=(pos, count - pos - neg, neg), score_with=_score(pos, neg, count, kind.net),
            score_without=_score(pos_out, neg_out, n_out, kind.net), n_without=n_out,
            impact=difference[0] if difference else None, ci_low=difference[1] if difference else None,
            ci_high=difference[2] if difference else None, impact_reason=reason,
            sentiment=float(np.mean(theme_sentiment)) if theme_sentiment else None,
            sentiment_scored=len(theme_sentiment),
            verbatims=_verbatims(table, weights[:, t], rows, languages, sentiment)))
    return CommentThemes(themes=tuple(result), theme_count=k, chosen_by=chosen_by,
                         without_theme=int((~member.any(axis=1)).sum()), warnings=tuple(notes), **base)


def _verbatims(table: CommentTable, weight: np.ndarray, rows: np.ndarray, languages: Sequence[str],
               sentiment: Sequence[float | None]) -> tuple[Verbatim, ...]:
    """The VERBATIMS comments of a theme with the highest weight, distinct once trimmed (ties: the more recent)."""
    picked: list[Verbatim] = []
    seen: set[str] = set()
    for i in sorted(np.flatnonzero(rows), key=lambda i: (-weight[i], i)):
        text, cut = trim(table.comments[i])
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        picked.append(Verbatim(text, cut, float(table.scores[i]), float(weight[i]), languages[i], sentiment[i]))
        if len(picked) == VERBATIMS:
            break
    return tuple(picked)
