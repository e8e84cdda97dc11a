"""Qualtrics: a survey's responses downloaded as CSV or TSV -> surveys (its Net Promoter Score questions).

Format (https://www.qualtrics.com/support/survey-platform/responses/download-data/understanding-your-dataset/): three
header rows, the field ids (`StartDate`, `RecordedDate`, `ResponseId`, `ExternalReference`, `Q1`...), the question
texts, and the import ids as JSON (`{"ImportId":"recordedDate","timeZone":"America/Denver"}`): the times are in
that time zone. A Net Promoter Score question `Q1` comes with `Q1_NPS_GROUP` (1 detractor, 2 passive, 3 promoter):
each such pair is an `nps` answer on 0-10. `Status` 1 (survey preview), 2 (test) and 8 (spam) are not answers
(https://www.qualtrics.com/support/survey-platform/responses/download-data/understanding-your-dataset/#Metadata).
"""

from __future__ import annotations

import json

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from cxbench.adapters.base import Adapter, ExportFile, Inputs, Output, column, first_reason, number, text
from cxbench.core.validation import parse_timestamp

NOT_ANSWERS = ("1", "2", "8", "survey preview", "survey test", "spam")


@ibis.udf.scalar.builtin(name="timezone")
def _local_to_utc(zone: str, local: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[empty-body]
    """DuckDB's timezone(zone, timestamp): a wall-clock time in `zone` as an instant."""


def _header_rows(t: ir.Table) -> ir.BooleanValue:
    """The second and third header rows: question texts and import ids, read as records by the CSV reader."""
    response = text(t.responseid)
    return (response == "Response ID") | response.startswith('{"ImportId"')


def _time_zone(inputs: Inputs, t: ir.Table) -> str | None:
    """The export's time zone, from the import-id header row of RecordedDate."""
    found = inputs.con.execute(t.filter(text(t.recordeddate).startswith('{"ImportId"')).select("recordeddate").limit(1))
    for cell in found["recordeddate"]:
        try:
            zone = json.loads(cell).get("timeZone")
        except (TypeError, ValueError, AttributeError):
            return None
        return zone if isinstance(zone, str) and zone else None
    return None


def _surveys(inputs: Inputs) -> ir.Table:
    t = inputs["responses"]
    zone = _time_zone(inputs, t) if "recordeddate" in t.columns else None
    t = t.filter(~_header_rows(t))
    recorded = parse_timestamp(text(column(t, "recordeddate", "enddate")))
    if zone is not None and zone.upper() not in ("UTC", "GMT", "ETC/UTC"):
        recorded = _local_to_utc(zone, recorded).cast("timestamp")
    status = text(column(t, "status")).lower()
    respondent = ibis.coalesce(text(column(t, "externalreference", "externaldatareference")),
                               text(column(t, "recipientemail")), text(t.responseid))
    questions = sorted(c[: -len("_nps_group")] for c in t.columns if c.endswith("_nps_group"))
    questions = [q for q in questions if q in t.columns]
    parts = []
    for question in questions:
        parts.append(t.select(
            _row=t._row, _file=t._file,
            response_id=text(t.responseid) + (":" + question if len(questions) > 1 else ""),
            respondent_id=respondent,
            ts=recorded,
            survey=ibis.literal("nps"),
            score=number(t[question]),
            scale_min=ibis.literal(0.0),
            scale_max=ibis.literal(10.0),
            channel=text(column(t, "distributionchannel")),
            _aside=first_reason((status.isin(NOT_ANSWERS), "Status " + status + ": a preview, test or spam response")),
        ))
    if not parts:
        return t.select(_row=t._row, _file=t._file, response_id=text(t.responseid), respondent_id=respondent,
                        ts=recorded, survey=ibis.literal("nps"), score=ibis.null("float64"),
                        _aside=ibis.literal("no Net Promoter Score question (a Q..._NPS_GROUP column) in the export: "
                                            "read other questions with --mapping"))
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


ADAPTER = Adapter(
    name="qualtrics",
    title="Qualtrics responses (CSV)",
    reference="https://www.qualtrics.com/support/survey-platform/responses/download-data/understanding-your-dataset/",
    files=(ExportFile("responses", ("*.csv", "*.tsv", "*.csv.gz"), "Qualtrics responses download (CSV)",
                      columns=("responseid",)),),
    outputs=(
        Output("surveys", ("responses",), _surveys, (
            ("response_id", "ResponseId (with the question when the survey has several NPS questions)"),
            ("respondent_id", "ExternalReference, else RecipientEmail, else ResponseId"),
            ("ts", "RecordedDate, in the time zone of the third header row, as UTC"),
            ("survey", "nps, for each question with a _NPS_GROUP column"),
            ("score", "the question's answer, 0-10"),
            ("channel", "DistributionChannel (anonymous, email, ...)"),
        )),
    ),
)
