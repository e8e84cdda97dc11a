"""Typeform: a form's responses downloaded as CSV -> surveys (its Net Promoter Score questions).

Format: the Results panel's Responses → Download → CSV: one row per response; `#` (the response token), one column
per question titled with the question's text, one column per hidden field named after it, then `Start Date (UTC)`,
`Submit Date (UTC)` and `Network ID`: the fields of the Responses API (`token`, `hidden`, `landed_at`,
`submitted_at`; https://developer.typeform.com/responses/reference/retrieve-responses/) as columns. A Net Promoter
Score® question (or an opinion scale asking how likely one is to recommend, 0-10) is the column whose title asks how
likely the respondent is to *recommend*; each such column gives an `nps` answer. The respondent is the hidden field
`customer_id` (or `user_id`, `email`), passed in the form's link (`...#customer_id=cus_1`); without one the response
token stands in.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import Adapter, ExportFile, Inputs, Output, column, first_reason, number, quoted, text
from cxbench.core.validation import parse_timestamp

#: Hidden fields naming the respondent, most specific first (lower-cased, as the reader gives column names).
RESPONDENT_FIELDS = ("customer_id", "customerid", "user_id", "userid", "uid", "email")
_METADATA = {"#", "start date (utc)", "submit date (utc)", "stage date (utc)", "network id", "tags", "response type"}


def nps_questions(columns: list[str]) -> list[str]:
    """The question columns asking how likely one is to recommend (a Net Promoter Score question)."""
    return [c for c in columns if "recommend" in c and c not in _METADATA and not c.startswith("_")]


def _surveys(inputs: Inputs) -> ir.Table:
    t = inputs["responses"]
    token = text(t["#"])
    submitted = text(column(t, "submit date (utc)"))
    respondent = ibis.coalesce(*(text(t[c]) for c in RESPONDENT_FIELDS if c in t.columns), token)
    kind = text(column(t, "response type")).lower()
    questions = nps_questions(list(t.columns))
    reasons = ((token.isnull(), ibis.literal("no response token (#): not a row of a Typeform download (another CSV "
                                             "in the folder?)")),
               (submitted.isnull() | (kind == "partial"), ibis.literal("not submitted: a partial response")))
    if not questions:
        return t.select(_row=t._row, _file=t._file, response_id=token, respondent_id=respondent,
                        ts=parse_timestamp(submitted), survey=ibis.literal("nps"), score=ibis.null("float64"),
                        _aside=ibis.literal("no Net Promoter Score question (a column asking how likely one is to "
                                            "recommend) in the export: read other questions with --mapping"))
    parts = [t.select(
        _row=t._row, _file=t._file,
        response_id=token + (f":{i}" if len(questions) > 1 else ""),
        respondent_id=respondent,
        ts=parse_timestamp(submitted),  # Typeform writes the submit time in UTC
        survey=ibis.literal("nps"),
        score=number(t[question]),
        scale_min=ibis.literal(0.0),
        scale_max=ibis.literal(10.0),
        _aside=first_reason(*reasons, (text(t[question]).notnull() & number(t[question]).isnull(),
                                       "the answer " + quoted(text(t[question])) + " is not a number")),
    ) for i, question in enumerate(questions, 1)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


ADAPTER = Adapter(
    name="typeform",
    title="Typeform responses (CSV)",
    reference="https://developer.typeform.com/responses/reference/retrieve-responses/",
    files=(ExportFile("responses", ("*.csv", "*.csv.gz"), "Typeform responses download (CSV)",
                      columns=("#", "submit date (utc)")),),
    outputs=(
        Output("surveys", ("responses",), _surveys, (
            ("response_id", "# (the response token; with the question's number when the form has several NPS "
                            "questions)"),
            ("respondent_id", "the hidden field customer_id, else user_id, uid or email, else the token"),
            ("ts", "Submit Date (UTC)"),
            ("survey", "nps, for each question asking how likely one is to recommend"),
            ("score", "the question's answer, 0-10"),
        )),
    ),
)
