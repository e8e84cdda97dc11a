"""The mapping file (`--mapping map.yaml`): any CSV, JSON, Parquet or text export read as contract tables.

```yaml
tables:
  orders:
    files: "Online Retail*.csv"        # file-name pattern(s) in the source folder
    group_by: order_id                 # optional: one row per order; amount summed over its lines
    columns:
      order_id: InvoiceNo              # a source column (any case)
      customer_id: CustomerID
      ts: {column: InvoiceDate, format: "%m/%d/%Y %H:%M"}
      amount: {column: UnitPrice, currency_symbol: true, multiply: Quantity}
      kind: {value: purchase, negative: refund}   # a constant; refund where the amount is negative
  events:
    files: events.csv
    columns:
      ts: {column: time, unit: ms}     # Unix time: s, ms, us or ns
      event: {column: name, map: {page_view: pageview, begin_checkout: checkout}}
```

Column options: `column`, `value` (a constant), `map` (values renamed, compared case-insensitively; others kept),
`format` (strptime directives %Y %y %m %d %H %I %p %M %S %f %b %B %z), `unit` (Unix time), `decimal_comma` (1.234,50),
`currency_symbol` (£12.50, 1,234.50 USD: symbols, letters and thousands separators dropped), `minor_units` (true for
cents, or the number of decimals), `multiply` (another source column), `negative` (orders.kind where the amount is
negative: `kind: {value: purchase, negative: refund}`), `expr` (an expression over the source columns,
`sum(Quantity * UnitPrice)`: parsed and checked by cxbench.adapters.expressions, built as Ibis, never run as SQL;
`sum`/`min`/`max` around it with the table's `group_by`). `group_by` names the contract column or its source column.
`files` may be `{pattern: CDNOW_master.txt, format: whitespace, columns: [customer, date, cds, dollars]}` for a text
file split on runs of spaces (or `delimiter: "|"`), header-less when `columns` names its fields. The file is read
with `yaml.safe_load`; nothing in it is executed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.adapters.base import (
    Adapter,
    ExportFile,
    Inputs,
    Output,
    TextLayout,
    first_reason,
    from_epoch,
    number,
    quoted,
    text,
)
from cxbench.adapters.expressions import Expression, ExpressionError, clean_number_text, parse_expression, translate
from cxbench.core.contract import TABLES_BY_NAME, ColumnType
from cxbench.core.errors import InputError
from cxbench.core.validation import parse_timestamp

_OPTIONS = {"column", "value", "expr", "map", "format", "unit", "decimal_comma", "currency_symbol", "minor_units",
            "multiply", "negative"}
_TABLE_KEYS = {"files", "columns", "group_by"}
_FILE_KEYS = {"pattern", "format", "delimiter", "columns"}
_UNITS = ("s", "ms", "us", "ns")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class ColumnRule:
    """How one contract column is made from the export."""

    target: str
    column: str | None = None
    value: Any = None
    mapping: tuple[tuple[str, str], ...] = ()
    format: str | None = None
    unit: str | None = None
    decimal_comma: bool = False
    currency_symbol: bool = False
    minor_units: int | None = None
    multiply: str | None = None
    negative: str | None = None  # orders.kind: this value where the row's amount is negative (a cancellation line)
    expression: Expression | None = None  # `expr:`, checked (cxbench.adapters.expressions)

    @property
    def reads(self) -> tuple[str, ...]:
        """The source columns it reads."""
        named = tuple(c for c in (self.column, self.multiply) if c is not None)
        return named + (self.expression.columns if self.expression is not None else ())


def _fail(file: Path, message: str) -> InputError:
    return InputError(f"{file}: {message} (see docs/adapters.md, the mapping file)", file=str(file))


def _rule(file: Path, table: str, target: str, spec: Any) -> ColumnRule:
    where = f"tables.{table}.columns.{target}"
    if isinstance(spec, str):
        return ColumnRule(target, column=spec.strip().lower())
    if not isinstance(spec, Mapping):
        raise _fail(file, f"{where}: write a source column name or a mapping such as {{column: NAME, format: ...}}")
    unknown = set(spec) - _OPTIONS
    if unknown:
        raise _fail(file, f"{where}: unknown option {', '.join(sorted(map(str, unknown)))}; the options are "
                          + ", ".join(sorted(_OPTIONS)))
    if sum(k in spec for k in ("column", "value", "expr")) != 1:
        raise _fail(file, f"{where}: give one of column (a source column), expr (an expression over the source "
                          "columns) or value (a constant)")
    expression = None
    if "expr" in spec:
        try:
            expression = parse_expression(spec["expr"])
        except ExpressionError as exc:
            raise _fail(file, f"{where}.expr {str(spec['expr'])[:80]!r}: {exc}") from exc
    mapping = spec.get("map") or {}
    if not isinstance(mapping, Mapping):
        raise _fail(file, f"{where}.map: write source value: contract value pairs")
    unit = spec.get("unit")
    if unit is not None and unit not in _UNITS:
        raise _fail(file, f"{where}.unit: {unit!r} is not one of {', '.join(_UNITS)}")
    minor = spec.get("minor_units")
    if minor is True:
        minor = 2
    if minor is not None and (not isinstance(minor, int) or isinstance(minor, bool) or not 0 <= minor <= 4):
        raise _fail(file, f"{where}.minor_units: write true (cents) or the number of decimals, 0 to 4")
    fmt = spec.get("format")
    if fmt is not None:
        _format_regex(file, where, str(fmt))  # refused now rather than on the first row
    return ColumnRule(
        target,
        column=str(spec["column"]).strip().lower() if "column" in spec else None,
        value=spec.get("value"),
        mapping=tuple((str(k), str(v)) for k, v in mapping.items()),
        format=str(fmt) if fmt is not None else None,
        unit=unit,
        decimal_comma=bool(spec.get("decimal_comma", False)),
        currency_symbol=bool(spec.get("currency_symbol", False)),
        minor_units=minor,
        multiply=str(spec["multiply"]).strip().lower() if spec.get("multiply") is not None else None,
        negative=str(spec["negative"]) if spec.get("negative") is not None else None,
        expression=expression,
    )


# strptime directives -> (regex group, part)
_DIRECTIVES = {
    "Y": (r"(\d{4})", "year"), "y": (r"(\d{2})", "year2"), "m": (r"(\d{1,2})", "month"),
    "d": (r"(\d{1,2})", "day"), "e": (r"(\d{1,2})", "day"), "H": (r"(\d{1,2})", "hour"),
    "I": (r"(\d{1,2})", "hour12"), "p": (r"([AaPp][Mm])", "ampm"), "M": (r"(\d{1,2})", "minute"),
    "S": (r"(\d{1,2})", "second"), "f": (r"(\d{1,9})", "fraction"), "b": (r"([A-Za-z]{3})[A-Za-z]*", "monthname"),
    "B": (r"([A-Za-z]{3})[A-Za-z]*", "monthname"), "z": (r"(Z|[+-]\d{2}:?\d{2})", "offset"),
}


def _format_regex(file: Path, where: str, fmt: str) -> tuple[str, list[str]]:
    pattern, parts, i = "", [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            i += 2
            if directive == "%":
                pattern += "%"
                continue
            if directive not in _DIRECTIVES:
                raise _fail(file, f"{where}.format: %{directive} is not read; use "
                                  + " ".join(f"%{d}" for d in _DIRECTIVES))
            group, part = _DIRECTIVES[directive]
            pattern += group
            parts.append(part)
            continue
        pattern += r"\s+" if char == " " else re.escape(char)
        i += 1
    if not {"year", "year2"} & set(parts) or not {"month", "monthname"} & set(parts) or "day" not in parts:
        raise _fail(file, f"{where}.format: {fmt!r} needs a year, a month and a day (%Y or %y, %m or %b, %d)")
    return "^" + pattern + "$", parts


class _Stage:
    """The table being derived, one projection per step: later steps refer to earlier results as columns, so the
    SQL stays small (an expression used three times is not written out three times)."""

    def __init__(self, table: ir.Table) -> None:
        self.table = table
        self._n = 0

    def keep(self, expr: ir.Value) -> ir.Value:
        self._n += 1
        name = f"_m{self._n}"
        self.table = self.table.mutate(**{name: expr})
        return self.table[name]


def _strptime(raw: ir.StringValue, fmt: str, stage: _Stage) -> ir.TimestampValue:
    """Text in a strptime format as a UTC timestamp (null when it does not match), with the engine's own casts: the
    parts are taken by a regular expression and written as ISO 8601, which every engine casts alike."""
    pattern, parts = _format_regex(Path("mapping"), "format", fmt)
    got = {part: stage.keep(raw.re_extract(pattern, i + 1)) for i, part in enumerate(parts)}

    def two(value: ir.StringValue) -> ir.StringValue:
        return value.lpad(2, "0")

    year = got["year"] if "year" in got else "20" + got["year2"]
    if "month" in got:
        month = two(got["month"])
    else:
        name = got["monthname"].lower()
        month = ibis.cases(*((name == m, ibis.literal(f"{n:02d}")) for n, m in enumerate(_MONTHS, 1)),
                           else_=ibis.null("string"))
    hour = two(got["hour"]) if "hour" in got else ibis.literal("00")
    if "hour12" in got:
        h = got["hour12"].try_cast("int64") % 12 + ibis.cases((got.get("ampm", ibis.literal("am")).lower() == "pm", 12),
                                                           else_=0)
        hour = h.cast("string").lpad(2, "0")
    minute = two(got["minute"]) if "minute" in got else ibis.literal("00")
    second = two(got["second"]) if "second" in got else ibis.literal("00")
    iso = year + "-" + month + "-" + two(got["day"]) + " " + hour + ":" + minute + ":" + second
    if "fraction" in got:
        iso = iso + "." + got["fraction"]
    if "offset" in got:
        iso = iso + got["offset"]
    return parse_timestamp(stage.keep(iso))


def _number_text(raw: ir.StringValue, rule: ColumnRule) -> ir.StringValue:
    return clean_number_text(raw, currency_symbol=rule.currency_symbol, decimal_comma=rule.decimal_comma)


def _derive_column(stage: _Stage, rule: ColumnRule,
                   kind: ColumnType) -> tuple[ir.Value, ir.BooleanValue, ir.Value]:
    """The column's value, whether its source value could not be converted, and why."""
    if rule.value is not None:
        return ibis.literal(str(rule.value)), ibis.literal(False), ibis.literal("")
    t = stage.table
    if rule.expression is not None:
        value, checks = translate(rule.expression, t, currency_symbol=rule.currency_symbol,
                                  decimal_comma=rule.decimal_comma)
        source = stage.keep(value)
        bad_part = stage.keep(first_reason(*checks)) if checks else ibis.null("string")
        name = rule.expression.source if len(rule.expression.source) <= 40 else rule.expression.source[:37] + "..."
        if rule.unit is None and rule.format is None and not rule.mapping:
            if kind is ColumnType.NUMBER and not source.type().is_numeric():
                value = stage.keep(number(source))
                why = ibis.coalesce(bad_part, name + " gives " + quoted(source) + ", not a number")
                return value, bad_part.notnull() | (source.notnull() & value.isnull()), why
            return source, bad_part.notnull(), bad_part.fill_null("")
        # Then its value goes through the format, unit or map as a column's would; its own conversions come first.
        value, bad, why = _convert(stage, rule, kind, source, name)
        return value, bad_part.notnull() | bad, ibis.coalesce(bad_part, why)
    assert rule.column is not None
    return _convert(stage, rule, kind, t[rule.column], rule.column)


def _convert(stage: _Stage, rule: ColumnRule, kind: ColumnType, source: ir.Value,
             name: str) -> tuple[ir.Value, ir.BooleanValue, ir.Value]:
    """A source value (a column, or an expression's value) through the rule's map, unit, format or number options."""
    t = stage.table
    raw = stage.keep(text(source))
    if rule.mapping:
        lowered = raw.lower()
        raw = stage.keep(ibis.cases(*((lowered == k.lower(), ibis.literal(v)) for k, v in rule.mapping), else_=raw))
    if rule.unit is not None:
        value = stage.keep(from_epoch(source, rule.unit))
        return value, raw.notnull() & value.isnull(), name + " " + quoted(raw) + f" is not Unix time in {rule.unit}"
    if rule.format is not None:
        value = stage.keep(_strptime(raw, rule.format, stage))
        return value, raw.notnull() & value.isnull(), name + " " + quoted(raw) + f" does not match the format {rule.format}"
    numeric = rule.decimal_comma or rule.currency_symbol or rule.minor_units is not None or rule.multiply is not None
    if numeric or (kind is ColumnType.NUMBER and source.type().is_numeric()):
        value = stage.keep(number(_number_text(raw, rule)) if not source.type().is_numeric() else number(source))
        bad = raw.notnull() & value.isnull()
        if rule.minor_units is not None:
            value = value / 10 ** rule.minor_units
        if rule.multiply is not None:
            factor = stage.keep(number(t[rule.multiply]))
            bad = bad | factor.isnull()
            value = value * factor
        return value, bad, name + " " + quoted(raw) + " is not a number (check decimal_comma, currency_symbol)"
    if source.type().is_timestamp() or source.type().is_numeric() or source.type().is_boolean():
        return (source if not rule.mapping else raw), ibis.literal(False), ibis.literal("")
    return raw, ibis.literal(False), ibis.literal("")


def _table_output(file: Path, table: str, key: str, columns: dict[str, ColumnRule], group_by: str | None,
                  layout: TextLayout | None) -> Output:
    spec = TABLES_BY_NAME[table]

    def derive(inputs: Inputs) -> ir.Table:
        t = inputs[key]
        for target, rule in columns.items():
            for needed in rule.reads:
                if needed not in t.columns:
                    found = ", ".join(c for c in t.columns if not c.startswith("_"))
                    raise _fail(file, f"tables.{table}.columns.{target}: column {needed!r} is not in the export "
                                      f"(columns found: {found})")
        values: dict[str, ir.Value] = {}
        checks = []
        if layout is not None and "_fields" in t.columns:
            # A line with another number of fields than the names (given, or the header's) is misaligned: set aside,
            # not guessed.
            count = len(layout.names) or len([c for c in t.columns if c not in ("_row", "_file", "_fields")])
            checks.append((t._fields != count, "the line has " + t._fields.cast("string") + f" fields; "
                           + (f"the mapping names {count} columns" if layout.names else f"the header has {count}")))
        stage = _Stage(t)
        for target, rule in columns.items():
            try:
                value, bad, why = _derive_column(stage, rule, spec.column(target).type)
            except ExpressionError as exc:
                raise _fail(file, f"tables.{table}.columns.{target}.expr {rule.expression.source[:80]!r}: {exc}"
                            if rule.expression is not None else f"tables.{table}.columns.{target}: {exc}") from exc
            values[target] = value
            checks.append((bad, why))
        t = stage.table
        for target, rule in columns.items():
            if rule.negative is not None and "amount" in values:
                values[target] = ibis.cases((values["amount"] < 0, ibis.literal(rule.negative)), else_=values[target])
        out = t.select(_row=t._row, _file=t._file, **values, _aside=first_reason(*checks))
        if group_by is None:
            return out
        # One row per key: a column written sum(...), min(...) or max(...) is aggregated so over the key's rows, the
        # other numbers are summed (an order's line amounts), the rest come from its first row.
        how = {c: r.expression.aggregate for c, r in columns.items()
               if r.expression is not None and r.expression.aggregate is not None}
        how |= {c: "sum" for c in columns if c not in how and spec.column(c).type is ColumnType.NUMBER}
        good = out.filter(out._aside.isnull() & out[group_by].notnull())
        firsts = good.mutate(_n=ibis.row_number().over(group_by=good[group_by], order_by=[good._file, good._row]))
        firsts = firsts.filter(firsts._n == 0).drop("_n", *how)
        reduce = {"sum": lambda v: v.sum(), "min": lambda v: v.min(), "max": lambda v: v.max()}
        totals = good.group_by(_key=good[group_by]).aggregate(**{c: reduce[f](good[c]) for c, f in how.items()})
        grouped = firsts.join(totals, firsts[group_by] == totals._key).drop("_key").select(*out.columns)
        return ibis.union(grouped, out.filter(out._aside.notnull() | out[group_by].isnull()))

    return Output(table, (key,), derive, tuple((c, _describe(r)) for c, r in columns.items()))


def _describe(rule: ColumnRule) -> str:
    if rule.value is not None:
        return f"the constant {rule.value}"
    if rule.expression is not None:
        return rule.expression.source
    return f"{rule.column}" + (f" ({rule.format})" if rule.format else "") + (f" (Unix {rule.unit})" if rule.unit else "")


def _files(file: Path, table: str, spec: Any) -> tuple[tuple[str, ...], TextLayout | None]:
    """The file-name patterns of a table, and how to split its lines when they are not a CSV with a header:
    `files: {pattern: "CDNOW_master.txt", format: whitespace, columns: [customer, date, cds, dollars]}`."""
    where = f"tables.{table}.files"
    if isinstance(spec, str):
        return (spec,), None
    if isinstance(spec, list) and spec and all(isinstance(p, str) for p in spec):
        return tuple(spec), None
    if not isinstance(spec, Mapping):
        raise _fail(file, f"{where}: write a file-name pattern, a list of them, or {{pattern: ..., format: "
                          "whitespace, columns: [...]}")
    unknown = set(spec) - _FILE_KEYS
    if unknown:
        raise _fail(file, f"{where}: unknown key {', '.join(sorted(map(str, unknown)))}; use "
                          + ", ".join(sorted(_FILE_KEYS)))
    pattern = spec.get("pattern")
    patterns = tuple(pattern) if isinstance(pattern, list) else (pattern,)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise _fail(file, f"{where}.pattern: write the file-name pattern (CDNOW_master.txt, *.txt)")
    fmt = str(spec.get("format", "")).strip().lower() or None
    delimiter = spec.get("delimiter")
    if fmt not in (None, "csv", "whitespace"):
        raise _fail(file, f"{where}.format: {fmt!r} is not read; write whitespace (fields separated by runs of "
                          "spaces) or csv")
    if delimiter is not None:
        delimiter = {"whitespace": "whitespace", "tab": "\t", "\\t": "\t"}.get(str(delimiter).strip().lower(),
                                                                             str(delimiter))
        if delimiter != "whitespace" and len(delimiter) != 1:
            raise _fail(file, f"{where}.delimiter: write whitespace, tab or one character (; | ,)")
    if fmt == "whitespace" and delimiter not in (None, "whitespace"):
        raise _fail(file, f"{where}: format whitespace splits on spaces; drop delimiter {delimiter!r}")
    names = spec.get("columns")
    if names is not None and (not isinstance(names, list) or not names
                              or not all(isinstance(n, str) and n.strip() for n in names)):
        raise _fail(file, f"{where}.columns: list the file's column names in order, e.g. [customer, date, cds, "
                          "dollars]")
    lowered = tuple(n.strip().lower() for n in names or ())
    if len(set(lowered)) != len(lowered):
        raise _fail(file, f"{where}.columns: a name is given twice")
    if fmt == "whitespace" or delimiter is not None or names:
        return patterns, TextLayout(delimiter or ("whitespace" if fmt == "whitespace" else ","), lowered)
    return patterns, None


def load_mapping(path: str | Path) -> Adapter:
    """The adapter a mapping file declares (errors name the file, the key and the fix)."""
    import yaml

    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot read the mapping file ({exc.strerror or exc})", file=str(file)) from exc
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise _fail(file, f"not a YAML mapping file ({str(exc).splitlines()[0]})") from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("tables"), Mapping) or not document["tables"]:
        raise _fail(file, "write `tables:` with one entry per contract table (orders, events, ...)")
    files: list[ExportFile] = []
    outputs: list[Output] = []
    for table, entry in document["tables"].items():
        if table not in TABLES_BY_NAME:
            raise _fail(file, f"tables.{table}: not a contract table; use one of {', '.join(TABLES_BY_NAME)}")
        if not isinstance(entry, Mapping) or "files" not in entry or not isinstance(entry.get("columns"), Mapping):
            raise _fail(file, f"tables.{table}: give files (a file-name pattern) and columns")
        unknown = set(entry) - _TABLE_KEYS
        if unknown:
            raise _fail(file, f"tables.{table}: unknown key {', '.join(sorted(map(str, unknown)))}; use "
                              + ", ".join(sorted(_TABLE_KEYS)))
        patterns, layout = _files(file, table, entry["files"])
        spec = TABLES_BY_NAME[table]
        known = {c.name for c in spec.columns}
        columns = {}
        for target, rule in entry["columns"].items():
            if target not in known:
                raise _fail(file, f"tables.{table}.columns.{target}: not a column of {table}; its columns are "
                                  + ", ".join(c.name for c in spec.columns))
            columns[target] = _rule(file, table, target, rule)
        for target, rule in columns.items():
            if rule.negative is not None and (table, target) != ("orders", "kind"):
                raise _fail(file, f"tables.{table}.columns.{target}.negative: only orders.kind takes it (the kind of "
                                  "an order whose amount is negative)")
        missing = [c for c in spec.required_columns if c not in columns]
        if missing:
            raise _fail(file, f"tables.{table}: required column {missing[0]} is not mapped; add `{missing[0]}: "
                              "SOURCE_COLUMN` under columns")
        group_by = entry.get("group_by")
        if group_by is not None:
            # The contract column (order_id) or the source column it is mapped from (InvoiceNo).
            group_by = str(group_by).strip()
            by_source = [c for c, r in columns.items() if r.column == group_by.lower()]
            if group_by not in columns and not by_source:
                raise _fail(file, f"tables.{table}.group_by: {group_by} is not one of the mapped columns (write the "
                                  "contract column, e.g. order_id, or the source column it is mapped from)")
            group_by = group_by if group_by in columns else by_source[0]
        for target, rule in columns.items():
            aggregate = rule.expression.aggregate if rule.expression is not None else None
            if aggregate == "sum" and spec.column(target).type is not ColumnType.NUMBER:
                raise _fail(file, f"tables.{table}.columns.{target}.expr {rule.expression.source[:80]!r}: sum(...) "
                                  f"adds numbers and {target} is not one; min(...) or max(...) take the first or last")
            if rule.expression is not None and rule.expression.aggregate is not None and group_by is None:
                raise _fail(file, f"tables.{table}.columns.{target}.expr {rule.expression.source[:80]!r}: "
                                  f"{rule.expression.aggregate}(...) needs the table's group_by (e.g. group_by: "
                                  "order_id: one row per order, its lines aggregated)")
        key = f"{table} export"
        files.append(ExportFile(key, patterns, f"{table} files", layout=layout))
        outputs.append(_table_output(file, table, key, columns, group_by, layout))
    return Adapter(name=f"--mapping {file.name}", title=f"mapping file {file}", reference=str(file),
                   files=tuple(files), outputs=tuple(outputs))
