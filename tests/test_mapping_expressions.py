"""The mapping file's expressions (`expr:`), whitespace and header-less text files, and line items grouped into
orders: the CDNOW master file and an Online-Retail-style CSV read with only a mapping file (tests/data/adapters/
cdnow_master and online_retail, each README citing the format). Every expected value is worked by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cxbench
from cxbench.adapters import open_export
from cxbench.adapters.expressions import _ALLOWED, ExpressionError, parse_expression, translate
from cxbench.cli import app
from cxbench.core.errors import InputError
from cxbench.core.validation import validate

DATA = Path(__file__).parent / "data" / "adapters"
runner = CliRunner()


def _values(folder: Path, as_of: str, metrics: list[str], mapping: Path | None = None) -> dict[str, float]:
    card = cxbench.compute(folder, mapping=mapping or folder / "map.yaml", metrics=metrics, period="all",
                           as_of=as_of)
    return {r["id"]: r["value"] for r in card.records if not r.to_dict().get("dimension")}


def test_cdnow_master_whitespace_file_read_with_only_a_mapping():
    folder = DATA / "cdnow_master"
    dataset = open_export(folder, mapping=folder / "map.yaml")
    result = validate(dataset, as_of=dt.date(1998, 6, 30))
    orders = dataset.con.to_pyarrow(result.tables["orders"].expr.order_by("_row")).to_pylist()
    # `00004 19970101  2  29.33`: customer 00004 -> "4", 19970101 (%Y%m%d) -> 1997-01-01, the line number as id.
    assert [(o["order_id"], o["customer_id"], o["ts"], o["amount"]) for o in orders[9:11]] == [
        ("line-10", "4", dt.datetime(1997, 1, 1), 29.33), ("line-11", "4", dt.datetime(1997, 1, 18), 29.73)]
    assert (result.reports["orders"].rows, result.reports["orders"].used, result.rejected) == (13, 13, [])
    customers = dataset.con.to_pyarrow(result.tables["customers"].expr.order_by("customer_id")).to_pylist()
    # min(date) per customer: 00003 first bought 1997-01-02.
    assert [(c["customer_id"], c["signup_at"]) for c in customers] == [
        ("1", dt.datetime(1997, 1, 1)), ("2", dt.datetime(1997, 1, 12)), ("3", dt.datetime(1997, 1, 2)),
        ("4", dt.datetime(1997, 1, 1))]
    values = _values(folder, "1998-06-30", ["sales", "aov", "repeat_purchase_rate", "purchase_frequency"])
    # Sales: 11.77 + (12.00 + 77.00) + (20.76 + 20.76 + 19.54 + 57.45 + 20.96 + 16.99) + (29.33 + 29.73 + 14.96
    # + 26.48) = 11.77 + 89.00 + 156.46 + 100.50 = 357.73 over 13 lines: AOV 27.5177. Customers 2, 3 and 4 bought
    # twice or more, 1 once: repeat 3 / 4 = 75 %; 13 orders / 4 customers = 3.25.
    assert values == {"sales": pytest.approx(357.73), "aov": pytest.approx(357.73 / 13),
                      "repeat_purchase_rate": pytest.approx(75.0), "purchase_frequency": pytest.approx(3.25)}


def test_online_retail_invoices_grouped_with_expressions_and_cancellations_as_refunds():
    folder = DATA / "online_retail"
    dataset = open_export(folder, mapping=folder / "map.yaml")
    result = validate(dataset, as_of=dt.date(2010, 12, 31))
    rows = dataset.con.to_pyarrow(result.tables["orders"].expr.order_by("_row")).to_pylist()
    orders = {o["order_id"]: (o["customer_id"], round(o["amount"], 2), o["kind"]) for o in rows}
    # sum(Quantity * UnitPrice) per invoice: 536365 6 x 2.55 + 6 x 3.39 + 8 x 2.75 = 15.30 + 20.34 + 22.00 = 57.64;
    # 536366 2 x 6 x 1.85 = 22.20; 536367 32 x 1.69 + 6 x 2.10 = 54.08 + 12.60 = 66.68; 536380 24 x 1.45 = 34.80;
    # 536384 2 x £1,250.00 = 2500.00; C536379 -1 x 27.50 and C536383 -1 x 4.65 are refunds.
    assert orders == {"536365": ("17850", 57.64, "purchase"), "536366": ("17850", 22.2, "purchase"),
                      "536367": ("13047", 66.68, "purchase"), "C536379": ("14527", -27.5, "refund"),
                      "536380": ("17809", 34.8, "purchase"), "C536383": ("17850", -4.65, "refund"),
                      "536384": ("13047", 2500.0, "purchase")}
    assert rows[-1]["ts"] == dt.datetime(2010, 12, 2, 10, 3) and rows[-1]["channel"] == "france"
    # Eight invoices; 536381 has no CustomerID (row 10), in orders and in customers.
    assert (result.reports["orders"].rows, result.reports["orders"].used) == (8, 7)
    assert sorted((r.table, r.row, r.reason) for r in result.rejected) == [
        ("customers", 10, "missing customer_id"), ("orders", 10, "missing customer_id")]
    values = _values(folder, "2010-12-31", ["sales", "aov", "repeat_purchase_rate"])
    # Sales 57.64 + 22.20 + 66.68 + 34.80 + 2500.00 - 27.50 - 4.65 = 2649.17 over 5 orders: AOV 529.834.
    # Buyers 17850 (2 orders), 13047 (2), 17809 (1); 14527 only cancelled: repeat 2 / 3.
    assert values == {"sales": pytest.approx(2649.17), "aov": pytest.approx(529.834),
                      "repeat_purchase_rate": pytest.approx(200 / 3)}


def test_mapping_suggest_on_online_retail_runs_as_written(tmp_path):
    folder = tmp_path / "retail"
    folder.mkdir()
    (folder / "Online Retail.csv").write_bytes((DATA / "online_retail" / "Online Retail.csv").read_bytes())
    out = tmp_path / "map.yaml"
    result = runner.invoke(app, ["mapping", "suggest", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kind: {value: purchase, negative: refund}" in out.read_text(encoding="utf-8")
    run = runner.invoke(app, ["run", str(folder), "--mapping", str(out), "--metric", "sales", "--metric", "aov",
                              "--period", "all", "--as-of", "2010-12-31", "--format", "json"])
    assert run.exit_code == 0, run.output
    values = {r["id"]: r["value"] for r in json.loads(run.stdout)["metrics"] if not r.get("dimension")}
    # The same hand-worked figures as the written mapping: 2649.17 over 5 orders.
    assert values == {"sales": pytest.approx(2649.17), "aov": pytest.approx(529.834)}


@pytest.mark.parametrize(("expression", "expected"), [
    # 6 x £2.55 = 15.30 (the pound sign dropped by currency_symbol); "x" is no number: null, its row set aside.
    ("Quantity * UnitPrice", [15.3, -27.5, None]),
    ("coalesce(email, customer_id)", ["ana@example.com", "c2", None]),
    ("case when kind = 'R' then 'refund' else 'purchase' end", ["purchase", "refund", "purchase"]),
    ("lower(trim(name))", ["ana", "bob", None]),
    ("case invoice when '1' then 1 else 0 end", [1.0, 0.0, 0.0]),
    ("substr(invoice, 2, 3)", ["", "536", "ERO"]),
    ("round(abs(Quantity * 1.5), 1)", [9.0, 1.5, None]),
    ("concat(name, '-', invoice)", ["Ana-1", "BOB-C5363", "-ZERO"]),
    ("name || '-'", ["Ana-", "BOB-", None]),
    ("nullif(kind, 'R')", ["P", None, "P"]),
    ("cast(Quantity as integer) / 0", [None, None, None]),  # never Infinity
    ("cast(Quantity as integer) % 0", [None, None, None]),  # never NaN
    ("cast(Quantity as integer) % 4", [2.0, -1.0, None]),  # 6 mod 4 = 2; -1 mod 4 = -1 as SQL's % keeps the sign
    ("upper(name) like 'B%'", None),  # a condition, not a value
    # IN with negative numbers: -1 is in (-1, 6), 6 too; 'x' is no number (null, not in).
    ("case when cast(Quantity as integer) in (-1, 6) then 'y' else 'n' end", ["y", "y", "n"]),
    ("99999999999999999999 * 1", [1e20, 1e20, 1e20]),  # beyond 64 bits: a float, not an Ibis error
    # round() beyond 64 bits: 6 x 1e300 stays 6e300 (Ibis cast round(x, 0) to BIGINT: a DuckDB conversion error).
    ("round(Quantity * 1e300)", [6e300, -1e300, None]),
])
def test_valid_expression_equals_the_hand_computed_column(expression, expected):
    table = ibis.memtable({"quantity": ["6", "-1", "x"], "unitprice": ["£2.55", "£27.50", "1"],
                           "email": ["ana@example.com", None, ""], "customer_id": ["c1", "c2", None],
                           "kind": ["P", "R", "P"], "name": [" Ana ", "BOB", None],
                           "invoice": ["1", "C5363", "ZERO"]})
    if expected is None:
        with pytest.raises(ExpressionError, match="gives a condition"):
            translate(parse_expression(expression), table)
        return
    value, checks = translate(parse_expression(expression), table, currency_symbol=True)
    got = ibis.duckdb.connect().to_pyarrow(table.select(v=value)).column("v").to_pylist()
    assert got == pytest.approx(expected) if isinstance(expected[0], float) else got == expected
    if "Quantity" in expression:  # the conversions say which row's value is not a number
        bad = ibis.duckdb.connect().to_pyarrow(table.select(b=checks[0][0], w=checks[0][1])).to_pylist()
        assert [b["b"] for b in bad] == [False, False, True]
        assert bad[2]["w"] == "Quantity 'x' is not a number (check currency_symbol, decimal_comma)"


HOSTILE = [
    ("(select 1)", "(SELECT 1) is not allowed (a query)"),
    ("amount; drop table orders", "one expression only: `;`"),
    ("read_csv('/etc/passwd')", "is not allowed (the function readcsv is not on the list)"),
    ("read_text('/etc/passwd')", "is not allowed"),
    ("getenv('HOME')", "is not allowed (the function getenv is not one cxbench knows)"),
    ("orders.amount", "a table or schema reference is not allowed"),
    ("main.orders.amount", "a table or schema reference is not allowed"),
    ("amount /* '; drop table x; -- */ + 1", "comments (-- or /* */) are not allowed"),
    ("amount -- trailing", "comments (-- or /* */) are not allowed"),
    ("'a' || (select current_user)", "is not allowed (a query)"),
    ("amount in (select amount from orders)", "is not allowed"),
    ("exists (select 1)", "is not allowed"),
    ("*", "is not allowed (a table reference)"),
    ("?", "is not allowed (a parameter)"),
    ("cast(amount as date)", "cast to a number (double, decimal, integer) or to text only"),
    ("sum(amount) + 1", "sum(...) only around the whole expression"),
    ("amount as x", "is not allowed (Alias)"),
    ("trim(leading 'x' from amount)", "is not allowed here"),
    ("amount like 'a%' escape '!'", "is not allowed"),
    (" + ".join(["amount"] * 70), "nested more than 64 levels deep"),
    ("(" * 60 + "amount" + ")" * 60, "brackets nested more than 32 deep"),
    ("1" + " + 1" * 600, "longer than 2000 characters"),
    ("amount +", "cannot be read"),
    # Each nested division doubles DuckDB's expression (NULLIF is expanded to a CASE naming x twice): 12 levels
    # took minutes and gigabytes before being refused.
    ("1/(" * 12 + "amount" + ")" * 12, "too deeply nested for the engine"),
    ("nullif(" * 12 + "amount" + ", 0)" * 12, "too deeply nested for the engine"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_expression_refused_naming_file_table_column_and_part(tmp_path, expression, message):
    mapping = tmp_path / "hostile.yaml"
    quoted = expression.replace("'", "''")
    mapping.write_text(f"tables:\n  orders:\n    files: x.csv\n    columns:\n      order_id: a\n      customer_id: b\n"
                       f"      ts: c\n      amount: {{expr: '{quoted}'}}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_export(DATA / "online_retail", mapping=mapping)
    text = str(caught.value)
    assert text.startswith(f"{mapping}: tables.orders.columns.amount.expr ")
    assert message in text


_SOURCE = ibis.table({"amount": "string", "orders": "string", "x": "string"}, name="export")
# Pieces of SQL an attacker would reach for, glued to a valid expression in any order.
_PIECES = ["amount", "1", "'x'", ";", "--", "/*", "*/", "(", ")", "select", "from", "orders", "union", "drop",
           "table", "read_csv('/etc/passwd')", "copy", "attach", "pragma", "install", "load", ",", ".", "*", "+",
           "=", "or", "1=1", "current_setting('x')", "lower(", "case", "when", "then", "end", "\\", "\"", "$1", "::"]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12) | st.text(max_size=60).map(lambda t: [t]))
def test_any_text_is_either_refused_or_made_only_of_allowed_nodes(pieces):
    source = " ".join(pieces)
    try:
        parsed = parse_expression(source)
    except ExpressionError:
        return
    kinds = {type(node) for node in parsed.tree.walk()}
    assert kinds <= set(_ALLOWED), kinds
    assert not any(node.comments for node in parsed.tree.walk())
    # What is accepted builds an Ibis expression or is refused with a message: never another exception (which the
    # command line would report as an internal error).
    try:
        translate(parsed, _SOURCE, currency_symbol=True)
    except ExpressionError:
        pass


@pytest.mark.parametrize(("entry", "message"), [
    ("amount: {expr: 'sum(q * p)'}", "sum(...) needs the table's group_by"),
    ("amount: q\n      channel: {expr: 'sum(a)'}", "sum(...) adds numbers and channel is not one"),
    ("amount: {expr: 'q', column: q}", "give one of column (a source column), expr"),
    ("amount: {expr: 'missing_column * 2'}", "column 'missing_column' is not in the export (columns found: "),
    ("amount: {expr: 'round(q, 99999999999999999999)'}", "decimals 99999999999999999999 is too large"),
    ("amount: {expr: \"case when q in (1, 'a') then 1 else 0 end\"}",
     "IN takes texts ('a', 'b') or numbers (1, -2), not both"),
])
def test_expression_misuse_names_the_key_and_the_fix(tmp_path, entry, message):
    (tmp_path / "x.csv").write_text("a,b,c,q,p\no1,c1,2026-10-01,2,3\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  orders:\n    files: x.csv\n    columns:\n      order_id: a\n      customer_id: b\n"
                       f"      ts: c\n      {entry}\n", encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate(open_export(tmp_path, mapping=mapping), as_of=dt.date(2026, 10, 30))


def test_whitespace_lines_with_the_wrong_number_of_fields_are_set_aside(tmp_path):
    # Runs of spaces and a tab separate fields; a blank line is no record; line 4 has three fields of four.
    (tmp_path / "cdnow.txt").write_text("00001 19970101  1  11.77\n00002\t19970112   1 12.00\n\n00003 19970102 2\n",
                                        encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  orders:\n    files: {pattern: cdnow.txt, delimiter: whitespace, columns: [c, d, "
                       "n, usd]}\n    columns:\n      order_id: {expr: \"concat(c, '-', d)\"}\n      customer_id: c\n"
                       "      ts: {column: d, format: '%Y%m%d'}\n      amount: usd\n", encoding="utf-8")
    result = validate(open_export(tmp_path, mapping=mapping), as_of=dt.date(1998, 6, 30))
    assert (result.reports["orders"].rows, result.reports["orders"].used) == (3, 2)
    assert [(r.row, r.reason) for r in result.rejected] == [(4, "the line has 3 fields; the mapping names 4 columns")]


def test_mapping_suggest_on_the_cdnow_text_file_runs_after_naming_the_customer(tmp_path):
    folder = tmp_path / "cdnow"
    folder.mkdir()
    (folder / "CDNOW_master.txt").write_bytes((DATA / "cdnow_master" / "CDNOW_master.txt").read_bytes())
    out = tmp_path / "map.yaml"
    result = runner.invoke(app, ["mapping", "suggest", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    # No header: fields named by their look (19970101 a date, 11.77 an amount); the line number is the order id.
    assert 'files: {pattern: "CDNOW_master.txt", format: whitespace, columns: [field1, date, field3, amount]}' in text
    assert 'ts: {column: "date", format: "%Y%m%d"}' in text
    # The documented edit: name the customer's field (docs/adapters.md, the mapping file).
    out.write_text(text.replace("customer_id: TODO", "customer_id: field1  #"), encoding="utf-8")
    values = _values(folder, "1998-06-30", ["sales", "repeat_purchase_rate"], mapping=out)
    # As in the written mapping: 357.73 over 13 lines; 3 of 4 customers bought again.
    assert values == {"sales": pytest.approx(357.73), "repeat_purchase_rate": pytest.approx(75.0)}


def test_whitespace_file_with_a_header_names_its_columns_and_counts_its_fields(tmp_path):
    # The first line names the fields; line 3 has a fourth field the header does not name.
    (tmp_path / "sales.txt").write_text("cust  day       usd\nc1    20260101  5.00\nc2    20260102  7.50  extra\n",
                                        encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  orders:\n    files: {pattern: sales.txt, format: whitespace}\n    columns:\n"
                       "      order_id: {expr: \"concat(cust, '-', _row)\"}\n      customer_id: cust\n"
                       "      ts: {column: day, format: '%Y%m%d'}\n      amount: usd\n", encoding="utf-8")
    dataset = open_export(tmp_path, mapping=mapping)
    result = validate(dataset, as_of=dt.date(2026, 10, 30))
    rows = dataset.con.to_pyarrow(result.tables["orders"].expr).to_pylist()
    assert [(r["order_id"], r["ts"], r["amount"]) for r in rows] == [("c1-2", dt.datetime(2026, 1, 1), 5.0)]
    assert [(r.row, r.reason) for r in result.rejected] == [(3, "the line has 4 fields; the header has 3")]


def test_values_beyond_64_bits_or_unix_time_and_untaken_case_branches_set_aside_only_what_they_must(tmp_path):
    # o1: the CASE branch taken for 'free' is 0, so its price is never used as a number: kept. o2: 2.50 x 4 = 10.00.
    # o3: 1e400 seconds is no time (DuckDB raised a conversion error). o4: 'abc' x 1 is no number. o5: 1e30 cast to
    # a whole number overflows 64 bits (DuckDB raised a conversion error).
    (tmp_path / "x.csv").write_text("id,cust,t,price,qty\no1,c1,1700000000,free,2\no2,c2,1700000000,2.50,4\n"
                                    "o3,c3,1e400,1,1\no4,c4,1700000000,abc,1\no5,c5,1700000000,1,1e30\n",
                                    encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  orders:\n    files: x.csv\n    columns:\n      order_id: id\n      customer_id: cust\n"
                       "      ts: {column: t, unit: s}\n"
                       "      amount: {expr: \"case when price = 'free' then 0 else price * qty end\"}\n"
                       "      channel: {expr: \"cast(cast(qty as integer) as text)\"}\n", encoding="utf-8")
    dataset = open_export(tmp_path, mapping=mapping)
    result = validate(dataset, as_of=dt.date(2026, 10, 30))
    rows = dataset.con.to_pyarrow(result.tables["orders"].expr.order_by("_row")).to_pylist()
    # 1700000000 s after 1970 is 2023-11-14 22:13:20 UTC.
    assert [(r["order_id"], r["amount"], r["channel"], r["ts"]) for r in rows] == [
        ("o1", 0.0, "2", dt.datetime(2023, 11, 14, 22, 13, 20)), ("o2", 10.0, "4", dt.datetime(2023, 11, 14, 22, 13, 20))]
    assert [(r.row, r.reason) for r in result.rejected] == [
        (3, "t '1e400' is not Unix time in s"),
        (4, "price 'abc' is not a number (check currency_symbol, decimal_comma)"),
        (5, "CAST(qty AS INT) '1e+30' is too large for a whole number")]


def test_currency_symbol_keeps_accounting_parentheses_and_unicode_minus_negative():
    # (£12.50) is -12.50 in the accounting format, −£3.00 has the minus sign U+2212: both were read as positive,
    # turning a refund into a sale.
    table = ibis.memtable({"unitprice": ["(£12.50)", "\u2212£3.00", "£4.00", "(1,234.50) USD"]})
    value, _ = translate(parse_expression("UnitPrice * 1"), table, currency_symbol=True)
    got = ibis.duckdb.connect().to_pyarrow(table.select(v=value)).column("v").to_pylist()
    assert got == [-12.5, -3.0, 4.0, -1234.5]


def test_mapping_suggest_reads_a_gzipped_cdnow_file_with_a_bom_tabs_crlf_and_a_misaligned_line(tmp_path):
    import gzip

    folder = tmp_path / "cdnow"
    folder.mkdir()
    # Line 3 has a fifth field: it made suggest fall back to DuckDB, which knows no .txt.gz ("No extension found").
    (folder / "CDNOW_master.txt.gz").write_bytes(gzip.compress(
        "\ufeff00001 19970101  1  11.77\r\n00002\t19970112  1  12.00\r\n00003 19970102 2 20.76 x\r\n"
        "00003 19970330  2  20.76\r\n".encode()))
    out = tmp_path / "map.yaml"
    result = runner.invoke(app, ["mapping", "suggest", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'files: {pattern: "CDNOW_master.txt.gz", format: whitespace, columns: [field1, date, field3, amount]}' in text
    out.write_text(text.replace("customer_id: TODO", "customer_id: field1  #"), encoding="utf-8")
    result = validate(open_export(folder, mapping=out), as_of=dt.date(1998, 6, 30))
    # 4 lines, the third set aside: 11.77 + 12.00 + 20.76 used.
    assert (result.reports["orders"].rows, result.reports["orders"].used) == (4, 3)
    assert [(r.row, r.reason) for r in result.rejected] == [(3, "the line has 5 fields; the mapping names 4 columns")]
    (folder / "CDNOW_master.txt.gz").write_bytes(gzip.compress(b""))
    empty = runner.invoke(app, ["mapping", "suggest", str(folder)])
    assert empty.exit_code == 2 and "the file is empty: nothing to suggest a mapping from" in empty.output
