"""What an adapter is, and how an export folder becomes a `Dataset` of contract tables.

An adapter declares the export files it reads (by file-name pattern), the contract tables it produces and, for each,
a function deriving that table as an Ibis expression over the files as the engine read them, with `_row` and
`_file` (the source record each row comes from) and `_aside` (why a record cannot be mapped, null when it can).
Validation then sets aside the `_aside` rows with that reason, beside the rows that break the contract, so every
source record is counted as used or set aside.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from cxbench.core.contract import TABLES_BY_NAME
from cxbench.core.errors import InputError, UsageError
from cxbench.core.sources import (Dataset, IgnoredFile, RawTable, out_of_memory, out_of_memory_error,
                                  read_export_files)
from cxbench.core.validation import parse_timestamp, trim


@dataclass(frozen=True)
class TextLayout:
    """A text file that is not a CSV with a header: fields split on runs of spaces (`whitespace`, CDNOW's
    `00001 19970101  1  11.77`) or on one character without quoting, and the column names of a header-less file."""

    delimiter: str  # "whitespace", or one character
    names: tuple[str, ...] = ()  # lower-cased; empty: the file's first line names the columns


@dataclass(frozen=True)
class ExportFile:
    """One kind of file in a vendor's export: the names it may have, and whether the adapter needs it."""

    key: str
    patterns: tuple[str, ...]  # file-name patterns, any case (`events_*.json`)
    description: str
    required: bool = True
    #: Columns the adapter cannot do without (lower-cased); a file lacking one stops with its name.
    columns: tuple[str, ...] = ()
    #: An API list response (`{"object": "list", "data": [...]}`, `{"tickets": [...]}`) is read as its records: the
    #: first of these keys that is a list of records.
    wrappers: tuple[str, ...] = ()
    #: Read as split text lines rather than as CSV/JSON/Parquet (the mapping file's `format: whitespace`).
    layout: TextLayout | None = None


FILE_SUFFIXES = ("csv", "tsv", "json", "jsonl", "ndjson", "parquet", "csv.gz", "json.gz", "jsonl.gz")


def named(*stems: str) -> tuple[str, ...]:
    """File-name patterns for these names in every format read (`charge` -> charge.csv, charge.json...)."""
    return tuple(f"{stem}.{suffix}" for stem in stems for suffix in FILE_SUFFIXES)


@dataclass(frozen=True)
class Inputs:
    """The export files found, each read as one table (`_row`, `_file` and the vendor's columns, lower-cased)."""

    tables: Mapping[str, ir.Table]
    con: BaseBackend

    def __getitem__(self, key: str) -> ir.Table:
        return self.tables[key]

    def __contains__(self, key: str) -> bool:
        return key in self.tables


@dataclass(frozen=True)
class Output:
    """One contract table an adapter produces, and from which export files."""

    table: str
    reads: tuple[str, ...]  # ExportFile keys it needs (empty: any of `optional` will do)
    derive: Callable[[Inputs], ir.Table]
    columns: tuple[tuple[str, str], ...]  # (contract column, how it is derived), for the docs
    optional: tuple[str, ...] = ()  # ExportFile keys read when present (Stripe's refunds beside its charges)


@dataclass(frozen=True)
class Adapter:
    """A vendor's export format, declared once."""

    name: str
    title: str
    reference: str  # the vendor's documentation of the export format
    files: tuple[ExportFile, ...]
    outputs: tuple[Output, ...]

    @property
    def produces(self) -> tuple[str, ...]:
        return tuple(o.table for o in self.outputs)

    @property
    def option(self) -> str:
        """How the user chose it, for messages."""
        return f"--mapping {self.reference}" if self.name.startswith("--mapping") else f"--from-format {self.name}"


def _find(folder: Path, export: ExportFile, entries: list[Path]) -> list[Path]:
    return sorted(e for e in entries if any(fnmatch.fnmatch(e.name.lower(), p.lower()) for p in export.patterns))


def open_with_adapter(folder: str | Path, adapter: Adapter, con: BaseBackend, only: set[str] | None = None) -> Dataset:
    """The contract tables `adapter` derives from the export files in `folder`."""
    path = Path(folder)
    if not path.exists():
        raise InputError(f"{path}: no such folder. Give the folder holding the {adapter.title} files.", file=str(path))
    if not path.is_dir():
        raise InputError(f"{path}: {adapter.option} reads a folder of export files; put the files in a "
                         "folder and pass the folder.", file=str(path))
    entries = sorted(e for e in path.iterdir() if e.is_file() and not e.name.startswith("."))
    found: dict[str, list[Path]] = {}
    for export in adapter.files:
        files = _find(path, export, entries)
        if files:
            found[export.key] = files
        elif export.required:
            raise InputError(f"{path}: no {export.description} for {adapter.option} (a file named "
                             f"{' or '.join(export.patterns[:3])}...). See docs/adapters.md for what to export.",
                             file=str(path))
    if not found:
        expected = "; ".join(f"{e.description} ({', '.join(e.patterns[:2])}...)" for e in adapter.files)
        raise InputError(f"{path}: none of the files {adapter.option} reads is here. Expected: {expected}. "
                         "See docs/adapters.md for what to export.", file=str(path))
    recognized = {f for files in found.values() for f in files}
    if only is not None:  # the files of the tables asked for only (`--metric nps` reads no orders export)
        wanted = {k for o in adapter.outputs if o.table in only for k in (*o.reads, *o.optional)}
        found = {key: files for key, files in found.items() if key in wanted}
    exports = {export.key: export for export in adapter.files}
    read: dict[str, RawTable] = {
        key: (read_export_files(con, f"{adapter.name} {key}", files) if exports[key].layout is None
              else read_text_lines(con, f"{adapter.name} {key}", files, exports[key].layout))
        for key, files in found.items()}
    unwrapped = {key: unwrap(raw.expr, exports[key].wrappers) for key, raw in read.items()}
    for key, table in unwrapped.items():
        if read[key].note is not None:
            continue  # an empty file: its tables are empty
        missing = [c for c in exports[key].columns if c not in table.columns]
        if missing:
            found = ", ".join(c for c in table.columns if not c.startswith("_")) or "none"
            raise InputError(f"{read[key].origin}: column {missing[0]} is missing from the {exports[key].description} "
                             f"(columns found: {found}). Export the file again with its standard columns "
                             "(docs/adapters.md).", file=read[key].origin, column=missing[0])
    inputs = Inputs(unwrapped, con)
    tables: dict[str, RawTable] = {}
    counted: set[str] = set()  # export files whose unreadable records are already listed under a table
    for output in adapter.outputs:
        reads = output.reads + tuple(k for k in output.optional if k in read)
        if (only is not None and output.table not in only) or not all(k in read for k in output.reads) or not reads:
            continue
        if any(read[k].note is not None for k in output.reads or reads[:1]):
            expr = _empty(con, output.table)
        else:
            expr = output.derive(inputs)
        if "_aside" not in expr.columns:
            expr = expr.mutate(_aside=ibis.null("string"))
        # Derived once and kept, as a CSV file is parsed once: validation reads the table several times (duplicate
        # keys, the checks, the counts), and re-deriving joins and windows each time costs more than holding it.
        expr = expr.cache()
        unparsed = tuple(entry for key in reads if key not in counted for entry in read[key].unparsed)
        counted.update(reads)
        first = read[reads[0]]
        origin = ", ".join(str(f) for key in reads for f in found[key])
        tables[output.table] = RawTable(output.table, origin, expr, note=first.note, text_source=first.text_source,
                                        unparsed=unparsed, adapted=True)
    ignored = [IgnoredFile(e.name, f"not a file {adapter.option} reads") for e in entries
               if e not in recognized]
    return Dataset(location=str(path), con=con, tables=tables, ignored=ignored)


_tables = itertools.count()


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_text_lines(con: BaseBackend, label: str, paths: list[Path], layout: TextLayout) -> RawTable:
    """Text files split into fields in the engine (DuckDB): each line read whole, then split on runs of spaces and
    tabs (`whitespace`, leading and trailing ones dropped) or on the delimiter. Columns: `_row` (the line number),
    `_file`, one per name (text; a line with fewer fields has nulls) and `_fields` (how many fields the line has, for
    the mapping's check). Blank lines are not records. Without names the first line is the header."""
    if con.name != "duckdb":
        raise UsageError("--mapping reads the export with DuckDB")
    db = con.con  # the DuckDB connection under Ibis's
    parts = []
    for path in paths:
        names = layout.names
        # One VARCHAR column per line: the unit separator (0x1f) never occurs in a text export, and no quoting.
        lines = (f"SELECT CAST(row_number() OVER () AS BIGINT) AS _row, line FROM read_csv({_sql_text(str(path))}, "
                 "columns={'line': 'VARCHAR'}, header=false, delim='\x1f', quote='', escape='', auto_detect=false, "
                 "null_padding=false)")
        if layout.delimiter == "whitespace":
            split = "regexp_split_to_array(trim(line, ' \t\r'), '[ \t]+')"
        else:
            split = f"string_split(rtrim(line, '\r'), {_sql_text(layout.delimiter)})"
        body = f"SELECT _row, {split} AS _f FROM ({lines}) WHERE line IS NOT NULL AND trim(line, ' \t\r') <> ''"
        try:
            if not names:
                first = db.execute(f"SELECT _f FROM ({body}) ORDER BY _row LIMIT 1").fetchone()
                names = tuple(str(n).strip().lower() for n in first[0]) if first else ()
                skip = " WHERE _row > (SELECT min(_row) FROM lines)"
            else:
                skip = ""
            if not names:
                continue
            columns = ", ".join(f"trim(_f[{i + 1}]) AS \"{n.replace(chr(34), '')}\"" for i, n in enumerate(names))
            table = f"_cxbench_lines_{os.getpid()}_{next(_tables)}"
            db.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS WITH lines AS ({body}) SELECT _row, "
                       f"{_sql_text(str(path))} AS _file, {columns}, CAST(len(_f) AS BIGINT) AS _fields "
                       f"FROM lines{skip}")
        except Exception as exc:  # noqa: BLE001 - the engine's read errors become one line naming the file
            if out_of_memory(exc):  # the machine's limit, not the file's fault
                raise out_of_memory_error(str(path), "reading", exc) from exc
            raise InputError(f"{path}: could not be read as text lines ({str(exc).splitlines()[0]})",
                             file=str(path)) from exc
        parts.append(con.table(table))
    origin = str(paths[0]) if len(paths) == 1 else str(paths[0].parent)
    if not parts:
        return RawTable(label, origin, con.sql("SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _file "
                                               "WHERE false"), note="the file is empty")
    return RawTable(label, origin, parts[0] if len(parts) == 1 else ibis.union(*parts), text_source=True)


def _empty(con: BaseBackend, table: str) -> ir.Table:
    """A contract table without rows, for an export file that is empty."""
    columns = ", ".join(f'CAST(NULL AS VARCHAR) AS "{c.name}"' for c in TABLES_BY_NAME[table].columns)
    return con.sql(f"SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _file, {columns} WHERE false")


def unwrap(t: ir.Table, keys: tuple[str, ...]) -> ir.Table:
    """The records of an API list response, each numbered by its position in the list (`_row`)."""
    for key in keys:
        if key in t.columns and isinstance(t[key].type(), dt.Array) and isinstance(t[key].type().value_type, dt.Struct):
            items = t.select(_file=t._file, _page=t._row, _item=t[key]).unnest("_item", offset="_position")
            # Pages of a paginated export follow one another: the record's row counts across them.
            numbered = items.mutate(_row=(ibis.row_number().over(group_by=items._file,
                                                                 order_by=[items._page, items._position]) + 1)
                                    .cast("int64"))
            return numbered.select("_row", "_file", "_item").unpack("_item")
    return t




# Expressions shared by the adapters ---------------------------------------------------------------------------------


def column(t: ir.Table, *names: str) -> ir.Value:
    """The first of `names` the table has (vendors and their warehouse loaders spell a field differently), else null."""
    for name in names:
        if name in t.columns:
            return t[name]
    return ibis.null("string")


def field(t: ir.Table, *names: str) -> ir.Value:
    """A column, or a field of a nested object (`recurring.interval`, `discount.coupon.id`) in API JSON."""
    for name in names:
        head, *rest = name.split(".")
        if head not in t.columns:
            continue
        value = t[head]
        for part in rest:
            if not isinstance(value.type(), dt.Struct) or part not in value.type().fields:
                break
            value = value[part]
        else:
            return value
    return ibis.null("string")


def ident(t: ir.Table, *names: str) -> ir.StringValue:
    """An id, whether written as the id or as the expanded object (`"customer": {"id": "cus_..."}`)."""
    for name in names:
        if name.split(".")[0] in t.columns:
            value = field(t, name)
            if isinstance(value.type(), dt.Struct):
                if "id" not in value.type().fields:
                    continue
                return text(value["id"])
            return text(value)
    return ibis.null("string")


def truthy(value: ir.Value) -> ir.BooleanValue:
    if value.type().is_boolean():
        return value.fill_null(False)
    return text(value).lower().isin(("true", "t", "1", "yes")).fill_null(False)




def text(value: ir.Value) -> ir.StringValue:
    """A value as trimmed text, empty as null."""
    if value.type().is_json():  # DuckDB reads a field whose records disagree on its type ("1" and 1) as JSON
        value = value.cast("string").re_replace(r'^"(.*)"$', r"\1")  # "1" -> 1, not the quoted JSON text
    return trim(value.cast("string")).nullif("")  # NULLIF names the value once (nested, a CASE doubled the SQL)


def number(value: ir.Value) -> ir.FloatingValue:
    """A number, whether typed or written as text (BigQuery writes INT64 as text in JSON); null when it is not one."""
    if value.type().is_numeric():
        return value.cast("float64")
    return text(value).try_cast("float64")


EPOCH = ibis.timestamp("1970-01-01 00:00:00")
_UNIT_MICROSECONDS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}
_MAX_MICROSECONDS = 253_402_300_800 * 1_000_000  # 9999-12-31 23:59:59 UTC is 253,402,300,799 s after 1970


def from_epoch(value: ir.Value, unit: str) -> ir.TimestampValue:
    """A Unix time in seconds, milliseconds, microseconds or nanoseconds (number or text) as a UTC timestamp."""
    micros = number(value) * _UNIT_MICROSECONDS[unit]
    # Beyond the years 1-9999, infinite or NaN is no time: null (set aside as not Unix time), not an engine error
    # casting it to 64 bits (Ibis's round() casts to BIGINT).
    micros = ibis.cases((micros.abs() <= _MAX_MICROSECONDS, micros.round()), else_=ibis.null("int64"))
    return EPOCH + micros.as_interval("us")


def instant(value: ir.Value, unit: str = "s") -> ir.TimestampValue:
    """A timestamp as vendors write it: typed, Unix time in `unit` (Stripe's `created`), or ISO 8601 text."""
    dtype = value.type()
    if dtype.is_timestamp() or dtype.is_date():
        return value.cast("timestamp")
    if dtype.is_numeric():
        return from_epoch(value, unit)
    raw = text(value)
    return ibis.cases((raw.re_search(r"^-?\d+(\.\d+)?$"), from_epoch(raw, unit)), else_=parse_timestamp(raw))


#: Currencies without minor units, and with three (Stripe, "Zero-decimal currencies" and "Three-decimal currencies",
#: https://docs.stripe.com/currencies#zero-decimal; ISO 4217).
ZERO_DECIMAL = ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf")
THREE_DECIMAL = ("bhd", "jod", "kwd", "omr", "tnd")


def from_minor_units(amount: ir.Value, currency: ir.Value | str | None = None, decimals: int = 2) -> ir.FloatingValue:
    """An amount in the currency's smallest unit (cents) in the currency's unit: 120000 USD cents -> 1200.00,
    500 JPY -> 500."""
    value = number(amount)
    if currency is None:
        return value / 10 ** decimals
    code = ibis.literal(currency) if isinstance(currency, str) else text(currency).lower()
    divisor = ibis.cases((code.isin(ZERO_DECIMAL), 1.0), (code.isin(THREE_DECIMAL), 1000.0), else_=10.0 ** decimals)
    return value / divisor


def url_path(url: ir.Value) -> ir.StringValue:
    """The path of a URL (`https://shop.example/pricing?x=1` -> `/pricing`); a path stays as it is."""
    raw = text(url)
    path = raw.re_extract(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)", 1)
    path = ibis.cases((raw.re_search(r"^[A-Za-z][A-Za-z0-9+.-]*://"), path), else_=raw.re_extract(r"^([^?#]*)", 1))
    return ibis.cases((path.isnull() | (path == ""), ibis.literal("/")), else_=path)


def first_reason(*checks: tuple[ir.BooleanValue, ir.Value | str]) -> ir.StringValue:
    """The first reason whose condition holds, else null: the `_aside` column."""
    cases = [(condition.fill_null(False), reason if isinstance(reason, ir.Value) else ibis.literal(reason))
             for condition, reason in checks]
    return ibis.cases(*cases, else_=ibis.null("string")) if cases else ibis.null("string")


def quoted(value: ir.Value) -> ir.StringValue:
    return "'" + value.cast("string").fill_null("").substr(0, 40) + "'"


def recode(value: ir.Value, mapping: Mapping[str, str], *, keep: bool = True) -> ir.StringValue:
    """Values renamed (compared lower-cased); others kept (or null with `keep=False`)."""
    raw = text(value)
    lowered = raw.lower()
    cases = [(lowered == source.lower(), ibis.literal(target)) for source, target in mapping.items()]
    return ibis.cases(*cases, else_=raw if keep else ibis.null("string")) if cases else raw

