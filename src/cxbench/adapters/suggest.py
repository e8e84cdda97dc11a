"""`cxbench mapping suggest SOURCE`: a starting mapping file from the column names (and a few values) it sees.

Each file's columns are matched to the contract's by common names (InvoiceNo -> order_id, created_at -> ts...); the
file goes to the table whose required columns it covers best. What is guessed is said in a comment; what is not
found is left as a TODO to fill in. Only each file's header and its first rows are read.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

from cxbench.core.contract import TABLES_BY_NAME
from cxbench.core.errors import InputError

_EXPORTS = re.compile(r".*\.(csv|tsv|txt|parquet|json|jsonl|ndjson)(\.gz)?", re.IGNORECASE)

#: Names a column goes by in exports (compared without case, spaces, dashes or underscores), most specific first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "orderid", "invoiceno", "invoice_no", "invoice", "invoice_id", "order_number",
                 "ordernumber", "transaction_id", "name"),
    "customer_id": ("customer_id", "customerid", "customer", "client_id", "clientid", "account_id", "buyer_id",
                    "email", "user_id"),
    "user_id": ("user_id", "userid", "visitor_id", "anonymous_id", "distinct_id", "client_id", "customer_id",
                "user_pseudo_id", "visitor"),
    "respondent_id": ("respondent_id", "customer_id", "user_id", "email", "external_reference", "contact_id"),
    "response_id": ("response_id", "responseid", "id", "#", "token"),
    "ts": ("ts", "timestamp", "event_time", "event_timestamp", "created_at", "date", "datetime", "time",
           "invoicedate", "invoice_date", "order_date", "submitted_at", "submit_date_utc", "recorded_date"),
    "amount": ("amount", "total", "revenue", "sales", "value", "price", "unitprice", "unit_price"),
    "event": ("event", "event_name", "eventname", "action", "event_type", "type", "name"),
    "page": ("page", "path", "page_path", "pathname", "url", "page_url", "page_location"),
    "session_id": ("session_id", "sessionid", "session", "ga_session_id"),
    "score": ("score", "rating", "nps", "csat", "answer", "value"),
    "survey": ("survey", "survey_type", "question_type"),
    "ticket_id": ("ticket_id", "ticketid", "case_id", "id"),
    "channel": ("channel", "via", "via_channel", "source", "medium"),
    "opened_at": ("opened_at", "created_at", "created", "opened", "date_opened"),
    "resolved_at": ("resolved_at", "solved_at", "closed_at", "resolved", "closed"),
    "first_response_at": ("first_response_at", "first_reply_at", "first_responded_at"),
    "priority": ("priority", "ticket_priority", "severity"),
    "group": ("group", "group_name", "group_id", "team"),
    "agent": ("agent", "assignee", "assignee_name", "assignee_id", "owner"),
    "tags": ("tags", "tag_list", "labels"),
    "reopens": ("reopens", "reopen_count", "reopened_count"),
    "agent_replies": ("agent_replies", "replies", "agent_reply_count"),
    "subscription_id": ("subscription_id", "subscriptionid", "subscription", "id"),
    "start_at": ("start_at", "start_date", "started_at", "created_at", "created"),
    "end_at": ("end_at", "ended_at", "end_date", "canceled_at", "cancelled_at"),
    "mrr": ("mrr", "monthly_amount", "monthly_revenue", "amount"),
    "is_trial": ("is_trial", "trial", "on_trial", "trialing"),
    "signup_at": ("signup_at", "signed_up_at", "created_at", "created", "registration_date", "first_seen"),
    "kind": ("kind", "type", "transaction_type"),
}

_FORMATS = (
    (r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$", "%m/%d/%Y %H:%M", "or %d/%m/%Y %H:%M: check a day above 12"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%m/%d/%Y", "or %d/%m/%Y: check a day above 12"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}$", "%d.%m.%Y %H:%M", ""),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y", ""),
    (r"^\d{8}$", "%Y%m%d", ""),
)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-()]+", "", name.lower())


def _describe_file(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The file's column names and a few values of each (as text), read by DuckDB from the file's start."""
    import duckdb

    if _is_empty(path):
        raise InputError(f"{path}: the file is empty: nothing to suggest a mapping from", file=str(path))
    db = duckdb.connect()
    try:
        location = "'" + str(path).replace("'", "''") + "'"
        if _is_text(path):  # DuckDB reads a bare path by its extension, and knows no .txt
            location = f"read_csv({location})"
        rows = db.execute(f"SELECT * FROM {location} LIMIT 5").fetchall()
        names = [d[0] for d in db.description]
    except duckdb.Error as exc:
        raise InputError(f"{path}: could not be read ({str(exc).splitlines()[0]})", file=str(path)) from exc
    finally:
        db.close()
    samples = {n: [str(r[i]) for r in rows if r[i] is not None] for i, n in enumerate(names)}
    return names, samples


def _is_text(path: Path) -> bool:
    return path.name.lower().endswith((".txt", ".txt.gz"))


def _open_text(path: Path) -> Any:
    """The file as text (a .gz uncompressed; a byte-order mark dropped)."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return path.open(encoding="utf-8-sig", errors="replace")


def _is_empty(path: Path) -> bool:
    try:
        with (gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")) as handle:
            return not handle.read(65536).strip()
    except (OSError, EOFError):
        return False


def _whitespace_lines(path: Path) -> tuple[list[str], dict[str, list[str]], bool] | None:
    """A text file of fields separated by runs of spaces (CDNOW's `00001 19970101  1  11.77`): its field names (the
    first line's, or named by the look of the values when the file has no header), a few values of each, and whether
    the first line is a header. None when its first lines are not such fields. Reads the first lines only."""
    try:
        with _open_text(path) as handle:
            lines = [line.split() for line in (handle.readline() for _ in range(20)) if line.strip()]
    except (OSError, EOFError):
        return None
    # The usual number of fields: a line with one more or one less (set aside when the mapping runs) does not
    # make the file unreadable here.
    counts = [len(fields) for fields in lines]
    usual = max(set(counts), key=counts.count) if counts else 0
    lines = [fields for fields in lines if len(fields) == usual]
    if len(lines) < 2 or usual < 2:
        return None
    if any("," in f or ";" in f or "|" in f for fields in lines for f in fields):
        return None
    header = any(re.search(r"[A-Za-z]", f) for f in lines[0]) and not any(
        re.search(r"[A-Za-z]", f) for fields in lines[1:] for f in fields)
    rows = lines[1:] if header else lines
    if header:
        names = [f.strip().lower() for f in lines[0]]
    else:
        names = []
        for i in range(len(lines[0])):
            values = [r[i] for r in rows]
            if all(re.fullmatch(r"(19|20)\d{6}", v) for v in values):
                name = "date"
            elif all(re.fullmatch(r"-?\d+\.\d+", v) for v in values):
                name = "amount"
            else:
                name = f"field{i + 1}"
            names.append(name if name not in names else f"field{i + 1}")
    return names, {n: [r[i] for r in rows] for i, n in enumerate(names)}, header


def _match(names: list[str], table: str) -> dict[str, str]:
    """Contract column -> source column, each source column used once."""
    keys = {_key(n): n for n in names}
    found: dict[str, str] = {}
    used: set[str] = set()
    spec = TABLES_BY_NAME[table]
    for column in sorted(spec.columns, key=lambda c: not c.required):
        for synonym in (column.name, *SYNONYMS.get(column.name, ())):
            source = keys.get(_key(synonym))
            if source is not None and source not in used:
                found[column.name] = source
                used.add(source)
                break
    if spec.time_column is not None and spec.time_column not in found:
        # time_ms, OrderDate, paid_at...: the first other column named like a time.
        for name in names:
            if name not in used and re.search(r"date|time|_at$|^at$", name.lower()):
                found[spec.time_column] = name
                used.add(name)
                break
    if table == "surveys" and "score" not in found:
        # Survey tools name a question's column by its text: "How likely are you to recommend us...?" is NPS.
        for name in names:
            if name not in used and "recommend" in name.lower():
                found["score"] = name
                used.add(name)
                break
    return found


def _best_table(path: Path, names: list[str]) -> tuple[str, dict[str, str]]:
    stem = path.name.lower()

    def score(table: str) -> tuple[int, int, int]:
        matched = _match(names, table)
        spec = TABLES_BY_NAME[table]
        asks_nps = table == "surveys" and "recommend" in matched.get("score", "").lower()
        required = sum(c in matched or (c == "survey" and asks_nps) for c in spec.required_columns)
        return (required - len(spec.required_columns), int(table.rstrip("s") in stem), len(matched))

    table = max(TABLES_BY_NAME, key=score)
    return table, _match(names, table)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _column_line(target: str, source: str, samples: list[str], kind: str, multiply: str | None = None) -> str:
    options = [f"column: {_quote(source)}"]
    notes = []
    if multiply is not None:
        options.append(f"multiply: {_quote(multiply)}")
        notes.append(f"a price per unit: times {multiply}")
    if kind in ("timestamp", "date") and samples:
        value = samples[0].strip()
        if re.fullmatch(r"\d{13}", value):
            options.append("unit: ms")
        elif re.fullmatch(r"\d{16}", value):
            options.append("unit: us")
        elif re.fullmatch(r"\d{9,10}", value):
            options.append("unit: s")
        else:
            for pattern, fmt, note in _FORMATS:
                if re.fullmatch(pattern, value):
                    options.append(f"format: {_quote(fmt)}")
                    if note:
                        notes.append(note)
                    break
        notes.insert(0, f"e.g. {value}")
    if kind == "number" and samples:
        value = samples[0].strip()
        if re.search(r"[^\d.,+\-eE ]", value):
            options.append("currency_symbol: true")
        if re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+", value):
            options.append("decimal_comma: true")
        notes.append(f"e.g. {value}")
    line = f"      {target}: " + (_quote(source) if len(options) == 1 else "{" + ", ".join(options) + "}")
    return line + (f"   # {'; '.join(notes)}" if notes else "")


def suggest_mapping(folder: str | Path) -> str:
    """A mapping file (YAML text) for the export files in `folder`, to check and complete."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path}: no such folder; give the folder of export files", file=str(path))
    files = sorted(p for p in path.iterdir() if p.is_file() and _EXPORTS.fullmatch(p.name))
    if not files:
        raise InputError(f"{path}: no CSV, JSON or Parquet file to suggest a mapping for", file=str(path))
    lines = ["# Suggested by `cxbench mapping suggest`: check every line, fill in the TODOs, then run",
             f"#   cxbench validate {path} --mapping THIS_FILE",
             "# Options per column: docs/adapters.md (the mapping file).", "tables:"]
    taken: set[str] = set()
    for file in files:
        text_lines = _whitespace_lines(file) if _is_text(file) else None
        if text_lines is not None:
            names, samples, header = text_lines
        else:
            names, samples = _describe_file(file)
        table, matched = _best_table(file, names)
        if text_lines is not None and not text_lines[2] and {"date", "amount"} <= set(names):
            # Dated amounts, one per line, no header (CDNOW): purchases, numbered by their line.
            table, matched = "orders", _match(names, "orders")
        spec = TABLES_BY_NAME[table]
        prefix = "" if table not in taken else "# "  # a second file for one table: left commented out
        if text_lines is None:
            block = [f"  {table}:", f"    files: {_quote(file.name)}"]
        else:
            listed = "" if header else ", columns: [" + ", ".join(names) + "]"
            note = "fields separated by spaces" + ("" if header else "; no header: the fields named by their look, "
                                                                         "rename them as you like")
            files = f"{{pattern: {_quote(file.name)}, format: whitespace{listed}}}"
            block = [f"  {table}:", f"    files: {files}   # {note}"]
        quantity = None
        if table == "orders":
            quantity = next((n for n in names if _key(n) in ("quantity", "qty") and n not in matched.values()), None)
            ids = samples.get(matched.get("order_id", ""), [])
            if len(set(ids)) < len(ids):  # an order over several rows: its lines
                block.append("    group_by: order_id   # one row per line item: an order's amounts are summed")
        block.append("    columns:")
        for column in spec.columns:
            if (table, column.name) == ("surveys", "survey") and "recommend" in matched.get("score", "").lower():
                block.append("      survey: {value: nps}   # the score column asks how likely they are to recommend")
            elif column.name in matched:
                block.append(_column_line(column.name, matched[column.name], samples.get(matched[column.name], []),
                                          column.type.value, quantity if column.name == "amount" else None))
            elif (table, column.name) == ("orders", "order_id") and text_lines is not None:
                block.append("      order_id: {expr: \"concat('line-', _row)\"}   # no order id found: the line number")
            elif (table, column.name) == ("orders", "kind") and quantity is not None:
                block.append("      kind: {value: purchase, negative: refund}   # a line of negative quantity is a "
                             "cancellation")
            elif column.required:
                block.append(f"      {column.name}: TODO   # required: {column.description or column.type.value}")
        unused = [n for n in names if n not in matched.values() and n != quantity]
        if unused:
            block.append(f"    # not mapped: {', '.join(unused)}")
        if prefix:
            lines.append(f"  # {file.name} also looks like {table}: one file pattern per table (a glob such as "
                         "orders*.csv reads several)")
        lines.extend(prefix + line for line in block)
        taken.add(table)
    return "\n".join(lines) + "\n"
