"""Delighted: survey responses (the API's list, as JSON, or the same fields as a CSV table) -> surveys.

Format (Delighted API, "Listing survey responses", http://delightedapp.com/docs/api/listing-survey-responses): one
record per response with `id`, `person` (the person's id, or the person object with `expand[]=person`),
`survey_type` (`nps`, `enps`, `csat`, ...), `score`, `comment`, `created_at` (Unix seconds), `person_properties`.
NPS and eNPS are answered 0-10, CSAT 1-5. A CSV with these fields as columns (a warehouse loader's
`survey_responses` table) is read alike; the person's `Customer ID` property, when set, names the respondent.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import (
    Adapter,
    ExportFile,
    Inputs,
    Output,
    column,
    field,
    first_reason,
    ident,
    instant,
    named,
    number,
    text,
)

#: Delighted's survey types read, with their answer scales.
SCALES = {"nps": (0.0, 10.0), "enps": (0.0, 10.0), "csat": (1.0, 5.0)}


def _surveys(inputs: Inputs) -> ir.Table:
    t = inputs["responses"]
    # Accounts from before survey types had only NPS: no survey_type is an NPS answer.
    kind = text(column(t, "survey_type")).lower().fill_null("nps")
    t = t.mutate(_kind=kind)
    customer = text(field(t, "person_properties.Customer ID", "person_properties.customer_id",
                          "person_properties.customer id"))
    if "person_properties" in t.columns and not t.person_properties.type().is_struct():
        # A CSV (a warehouse loader's table) holds the properties as JSON text: {"Customer ID": "cus_1"}.
        customer = text(text(t.person_properties).re_extract(r'(?i)"customer[ _]?id"\s*:\s*"?([^",}]*)', 1))
    return t.select(
        _row=t._row, _file=t._file,
        response_id=ident(t, "id"),
        respondent_id=ibis.coalesce(customer, ident(t, "person", "person_id")),
        ts=instant(column(t, "created_at")),
        survey=t._kind,
        score=number(column(t, "score")),
        scale_min=ibis.cases(*((t._kind == k, lo) for k, (lo, _) in SCALES.items()), else_=ibis.null("float64")),
        scale_max=ibis.cases(*((t._kind == k, hi) for k, (_, hi) in SCALES.items()), else_=ibis.null("float64")),
        comment=text(column(t, "comment")),
        _aside=first_reason((~t._kind.isin(tuple(SCALES)),
                             "survey_type " + t._kind + " is not read (nps, enps and csat are): use --mapping")),
    )


ADAPTER = Adapter(
    name="delighted",
    title="Delighted survey responses (API JSON or CSV)",
    reference="http://delightedapp.com/docs/api/listing-survey-responses",
    files=(ExportFile("responses", named("survey_responses", "survey_response", "delighted"),
                      "Delighted survey responses (survey_responses.json)", columns=("id", "score", "created_at")),),
    outputs=(
        Output("surveys", ("responses",), _surveys, (
            ("response_id", "id"),
            ("respondent_id", "person_properties' Customer ID when set, else person (the person's id)"),
            ("ts", "created_at (Unix seconds, or ISO 8601 text)"),
            ("survey", "survey_type: nps, enps or csat (nps when there is none)"),
            ("score", "score: 0-10 for nps and enps, 1-5 for csat"),
            ("comment", "comment"),
        )),
    ),
)
