"""Turning comment themes (`cxbench themes`) into text: the terminal report and the CSV (one row per theme)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cxbench.analyses.themes import VERBATIMS, CommentThemes
from cxbench.output import csv_safe, terminal_text

#: Verbatims are shown on the terminal up to this many characters (the JSON and CSV keep VERBATIM_CHARS).
TERMINAL_VERBATIM = 160


def _number(value: Any, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"


def themes_csv(result: CommentThemes) -> str:
    """One row per theme: label, terms, counts, the score with and without it, the difference and its interval,
    sentiment and the verbatims; text a spreadsheet would run as a formula is neutralised."""
    doc = result.to_dict()
    positive, neutral, negative = doc["groups"]
    rows = []
    for t in doc["themes"]:
        row = {"survey": doc["survey"], "theme": t["id"], "label": t["label"], "terms": "; ".join(t["terms"]),
               "comments": t["comments"], "share_pct": t["share_pct"], positive: t["mix"][positive],
               neutral: t["mix"][neutral], negative: t["mix"][negative], "score_with": t["score_with"],
               "score_without": t["score_without"], "comments_without": t["comments_without"], "impact": t["impact"],
               "ci_low": t["ci_low"], "ci_high": t["ci_high"], "sentiment": t["sentiment"],
               "sentiment_scored": t["sentiment_scored"]}
        for i in range(VERBATIMS):
            row[f"verbatim_{i + 1}"] = t["verbatims"][i]["text"] if i < len(t["verbatims"]) else None
        rows.append(row)
    schema = pa.schema([("survey", pa.string()), ("theme", pa.int64()), ("label", pa.string()), ("terms", pa.string()),
                        ("comments", pa.int64()), ("share_pct", pa.float64()), (positive, pa.int64()),
                        (neutral, pa.int64()), (negative, pa.int64()), ("score_with", pa.float64()),
                        ("score_without", pa.float64()), ("comments_without", pa.int64()), ("impact", pa.float64()),
                        ("ci_low", pa.float64()), ("ci_high", pa.float64()), ("sentiment", pa.float64()),
                        ("sentiment_scored", pa.int64()),
                        *((f"verbatim_{i + 1}", pa.string()) for i in range(VERBATIMS))])
    sink = io.BytesIO()
    pacsv.write_csv(csv_safe(pa.Table.from_pylist(rows, schema=schema)), sink)
    return sink.getvalue().decode("utf-8")


def themes_renderable(result: CommentThemes, source: str) -> Group:
    """`cxbench themes`: the comments read, then one row per theme and its verbatims (readable at 100 columns)."""
    doc = result.to_dict()
    comments, settings, sentiment = doc["comments"], doc["settings"], doc["sentiment"]
    name = doc["score_name"]
    languages = ", ".join(f"{lang} {count:,}" for lang, count in comments["languages"].items()) or "none"
    head = Text.assemble(
        (f"Comment themes of {terminal_text(source)} ({doc['survey']})\n", "bold"),
        f"{comments['analysed']:,} answers with a comment"
        + (f" (the most recent of {comments['answers_with_comment']:,})" if comments["capped"] else "")
        + (f", {comments['first'][:10]} to {comments['last'][:10]}" if comments["first"] else "")
        + f" · {name} of these answers {_number(doc['score']['value'])}\n"
        f"languages: {terminal_text(languages)} · mean sentiment {_number(sentiment['mean'], 2)} "
        f"({sentiment['scored']:,} English comments scored by VADER)",
    )
    parts: list[Any] = [head]
    if doc["status"] != "ok":
        parts.append(Text(terminal_text(f"No themes: {doc['reason']}"), style="yellow"))
        parts.extend(Text(terminal_text(f"note: {w}"), style="yellow") for w in doc["warnings"])
        return Group(*parts)
    positive, neutral, negative = doc["groups"]
    chosen = "chosen by the rule" if settings["themes_chosen_by"] == "rule" else "as asked"
    table = Table(title=f"{settings['themes']} themes ({chosen}); comments without a theme: "
                        f"{comments['without_theme']:,}", title_justify="left",
                  caption=f"mix: % {positive} / {neutral} / {negative}; difference: {name} with the theme minus "
                          f"{name} without it, in points; sentiment: mean VADER score of the English comments, "
                          "−1..1", caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("theme (top terms)", ratio=1, min_width=22, overflow="fold")
    table.add_column("comments", justify="right", no_wrap=True)
    table.add_column("mix %", justify="right", no_wrap=True)
    table.add_column(f"{name} with / w/o", justify="right", no_wrap=True)
    table.add_column("difference [95 % CI]", justify="right", no_wrap=True)
    table.add_column("sentiment", justify="right", no_wrap=True)
    for t in doc["themes"]:
        mix = t["mix"]
        table.add_row(
            Text(terminal_text(f"{t['id']}. {t['label']}")), f"{t['comments']:,} ({t['share_pct']:.0f} %)",
            f"{mix[positive + '_pct']:.0f}/{mix[neutral + '_pct']:.0f}/{mix[negative + '_pct']:.0f}",
            f"{_number(t['score_with'])} / {_number(t['score_without'])}",
            "—" if t["impact"] is None else
            f"{_number(t['impact'], sign=True)} [{_number(t['ci_low'], sign=True)}, {_number(t['ci_high'], sign=True)}]",
            _number(t["sentiment"], 2))
    parts.append(table)
    for t in doc["themes"]:
        lines = Text()
        lines.append(f"{t['id']}. {terminal_text(t['label'])}", style="bold")
        lines.append(f"\n  terms: {terminal_text(', '.join(t['terms']))}", style="dim")
        for v in t["verbatims"]:
            text = v["text"]
            if len(text) > TERMINAL_VERBATIM:
                text = text[:TERMINAL_VERBATIM].rsplit(" ", 1)[0] + "…"
            lines.append(f"\n  “{terminal_text(text)}” ({v['score']:g})")
        parts.append(lines)
    parts.append(Text(f"The difference is the {name} of the answers whose comment has the theme minus that of the "
                      "other commented answers. Associations, not causes. " + sentiment["note"], style="dim"))
    parts.extend(Text(terminal_text(f"note: {w}"), style="yellow") for w in doc["warnings"])
    return Group(*parts)


__all__ = ["themes_csv", "themes_renderable"]
