"""Validation: every row is checked against the contract inside the engine.

A row that breaks the contract is set aside with its table, row number and the first reason found; the
others are typed (timestamps in UTC, numbers as float64, booleans) and used. For every table
`rows == used + rejected`. Only the counts and a capped list of rejected rows leave the engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from cxbench.core.arrow import register_in_memory_tables, to_arrow, to_scalar
from cxbench.core.calendar import midnight, next_day
from cxbench.core.contract import (
    CXI_ITEMS,
    SCORED_SURVEYS,
    Column,
    ColumnType,
    TableSpec,
    table_spec,
)
from cxbench.core.errors import InputError, is_engine_error
from cxbench.core.sources import Dataset, IgnoredFile, RawTable, out_of_memory, out_of_memory_error, parquet_parts

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

#: How many rejected rows are listed (the counts are never capped).
DEFAULT_REJECTED_CAP = 1000

#: The scale assumed for a survey answer whose row gives no scale_min/scale_max.
DEFAULT_SCALES: dict[str, tuple[float, float]] = {
    "nps": (0, 10),
    "enps": (0, 10),
    "csat": (1, 5),
    "css": (1, 10),
    "ces": (1, 7),
    "cxi": (1, 5),
    "esat": (1, 10),
}

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_NON_FINITE = ("nan", "inf", "infinity")
# An offset only counts after a time of day, so the "-03" of "2026-10-03" is not one.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)? ?(Z|z|[+-]\d{2}(?::?\d{2})?)$"
# The one shape of date-time both engines cast alike; anything else (2026-10, 20261001, 24:00) is refused on
# both rather than read differently by each.
_ISO_LOCAL = r"^\d{4}-\d{2}-\d{2}([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?)?$"
# Plain decimal numbers: DuckDB reads 1_0 as 10 and Spark 9d as 9.0, so neither is accepted.
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_MESSAGE_VALUE_CHARS = 40


@dataclass(frozen=True)
class Rejection:
    """A row set aside."""

    table: str
    row: int
    reason: str
    file: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"table": self.table, "row": self.row, "reason": self.reason}
        if self.file is not None:
            out["file"] = self.file
        return out


@dataclass(frozen=True)
class TableReport:
    """Counts for one table: `rows == used + rejected` always."""

    table: str
    origin: str
    rows: int
    used: int
    rejected: int
    note: str | None = None
    warnings: tuple[str, ...] = ()  # rows kept that look wrong (dates years before the rest)
    #: For a table an adapter made from several export files: (file, rows, rejected) per file.
    files: tuple[tuple[str, int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"rows": self.rows, "used": self.used, "rejected": self.rejected}
        if self.note:
            out["note"] = self.note
        if self.warnings:
            out["warnings"] = list(self.warnings)
        out["file"] = self.origin
        if self.files:
            out["files"] = {file: {"rows": rows, "used": rows - rejected, "rejected": rejected}
                            for file, rows, rejected in self.files}
        return out


@dataclass(frozen=True)
class ValidTable:
    """The rows of a table that passed, typed; every contract column exists (null when the source lacks it)."""

    spec: TableSpec
    expr: ir.Table
    present: frozenset[str]  # contract columns the source actually has
    #: where the facts of the table read as validated (`core/facts.py`) are kept between runs: the validation
    #: cache's entry for these files, when there is one
    cache: ValidationCache | None = None

    def as_validated(self) -> bool:
        """Whether `expr` is still the validated view itself, not a table made from it (localized to a time zone,
        converted to one currency): only its facts hold for every later run on the same files."""
        op = self.expr.op()
        return isinstance(op, ops.DatabaseTable) and op.name.startswith("cxbench_valid_")


@dataclass
class Validation:
    """The outcome of validating a dataset."""

    tables: dict[str, ValidTable]
    reports: dict[str, TableReport]
    rejected: list[Rejection] = field(default_factory=list)
    ignored: tuple[IgnoredFile, ...] = ()  # entries of the source folder not read, with why
    #: the currency money is in (--currency, or the data's one `currency`); None when nothing names it
    currency: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "inputs": {name: report.to_dict() for name, report in self.reports.items()},
            "rejected": [r.to_dict() for r in self.rejected],
        }
        if self.currency is not None:
            out["currency"] = self.currency
        if self.ignored:
            out["ignored_files"] = [i.to_dict() for i in self.ignored]
        return out

    @property
    def unusable(self) -> list[str]:
        """Tables that have rows of which none can be used."""
        return [name for name, r in self.reports.items() if r.rows > 0 and r.used == 0]


def validate(dataset: Dataset, *, rejected_cap: int = DEFAULT_REJECTED_CAP, cache: bool | None = None,
             only: set[str] | None = None, as_of: dt.date | None = None) -> Validation:
    """Check every table of `dataset` (or those named in `only`) against the contract.

    The used rows are a view, not a copy: on DuckDB a Parquet file or folder is read in place by every metric,
    and only the rows set aside (file and row number) are kept, in a small table the view leaves out. Text files
    (CSV, JSON), database tables (whose row numbers are only stable once read) and Spark sources are read once
    and cached (`cache=True` forces that for every table, `cache=False` forbids it). Duplicate ids stay exact:
    the first in file order is used.

    Rows dated after `as_of` (default: today) plus one day are set aside; a table whose earliest dates lie
    years before the rest gets a warning (a 1900 typed for 2019 stretches every period range back to 1900).

    Raises InputError (one line: file, column, fix) when a required column is missing.
    """
    as_of = as_of or dt.date.today()
    tables: dict[str, ValidTable] = {}
    reports: dict[str, TableReport] = {}
    rejected: list[Rejection] = []
    for name, raw in dataset.tables.items():
        if only is not None and name not in only:
            continue
        spec = table_spec(name)
        present = frozenset(c.name for c in spec.columns if c.name in raw.expr.columns)
        keep_view = cache is False or (cache is None and raw.columnar and dataset.con.name == "duckdb")
        try:
            per_file: tuple[tuple[str, int, int], ...] = ()
            early: tuple[str, ...] | None = None
            store: ValidationCache | None = None
            if keep_view:
                used, n_rows, n_rejected, aside, early, store = _validate_in_place(dataset, spec, raw, as_of)
            else:
                checked = check_table(spec, raw, dedupe=_has_duplicate_keys(dataset, spec, raw), as_of=as_of).cache()
                (counts,) = to_arrow(dataset.con, checked.aggregate(
                    rows=checked.count(), rejected=checked._reason.notnull().sum().fill_null(0))).to_pylist()
                n_rows, n_rejected = int(counts["rows"]), int(counts["rejected"])
                per_file = _per_file(dataset, raw, checked) if raw.adapted else ()
                used = checked.filter(checked._reason.isnull()).drop("_reason", "_file")
                aside = checked.filter(checked._reason.notnull())
        except Exception as exc:
            if not is_engine_error(exc):
                raise
            if out_of_memory(exc):  # not the file's fault
                raise out_of_memory_error(raw.origin, "validating", exc) from exc
            # A file the first rows of which read well can still hold a broken page or an unreadable part.
            raise InputError(f"{raw.origin}: could not be read to the end ({str(exc).strip().splitlines()[0][:300]}). "
                             "Write the table again, or remove the damaged file.", file=raw.origin) from exc
        # Records the CSV reader could not split are set aside too: counted, and listed in file order.
        n_rows, n_rejected = n_rows + len(raw.unparsed), n_rejected + len(raw.unparsed)
        warnings = early if early is not None else (
            _early_outliers(dataset, spec, used) if spec.time_column in present else ())
        reports[name] = TableReport(name, raw.origin, n_rows, n_rows - n_rejected, n_rejected, raw.note, warnings,
                                    per_file)
        if n_rejected and len(rejected) < rejected_cap:
            room = rejected_cap - len(rejected)
            found = [Rejection(name, entry[0], entry[1], entry[2] if len(entry) > 2 else None)  # type: ignore[misc]
                     for entry in raw.unparsed[:room]]
            if n_rejected > len(raw.unparsed):
                found.extend(_listed(dataset, name, raw, aside, room))
            rejected.extend(sorted(found, key=lambda r: (r.file or "", r.row))[:room])
        tables[name] = ValidTable(spec, used, present, store)
    return Validation(tables, reports, rejected, tuple(dataset.ignored))


def _per_file(dataset: Dataset, raw: RawTable, checked: ir.Table) -> tuple[tuple[str, int, int], ...]:
    """Rows and rows set aside per source file (records the CSV reader could not split included), when there are
    several: an adapter's table made from charges and refunds, or from pages and tracks."""
    found = to_arrow(dataset.con, checked.group_by("_file").aggregate(
        rows=checked.count(), rejected=checked._reason.notnull().sum().fill_null(0))).to_pylist()
    counts = {str(row["_file"]): [int(row["rows"]), int(row["rejected"])] for row in found}
    for entry in raw.unparsed:
        if len(entry) > 2:
            counts.setdefault(str(entry[2]), [0, 0])
            counts[str(entry[2])][0] += 1
            counts[str(entry[2])][1] += 1
    if len(counts) < 2:
        return ()
    return tuple((_local_path(f), r, j) for f, (r, j) in sorted(counts.items()))


#: Years without a row that separate a table's earliest rows from the rest before they are flagged as typos.
EARLY_GAP_YEARS = 5


def _early_outliers(dataset: Dataset, spec: TableSpec, used: ir.Table) -> tuple[str, ...]:
    """A warning when the earliest rows lie years before the rest (1900 typed for 2019): they are kept, but every
    period range then starts there. One small aggregate: rows per year of the table's time column."""
    column = spec.time_column
    assert column is not None
    per_year = to_arrow(dataset.con, used.filter(used[column].notnull())
                        .group_by(year=used[column].year()).aggregate(n=lambda t: t.count())).to_pylist()
    counts = sorted((int(row["year"]), int(row["n"])) for row in per_year if row["year"] is not None)
    if len(counts) < 2:
        return ()
    total = sum(n for _, n in counts)
    early = 0
    for (year, n), (next_year, _) in zip(counts, counts[1:]):
        early += n
        # A few rows (at most 1 %, or up to 3 of a small table's minority) years before all the others.
        if next_year - year > EARLY_GAP_YEARS and early <= max(0.01 * total, min(3, (total - 1) // 2)):
            first = counts[0][0]
            span = f"{first}" if first == year else f"{first}-{year}"
            return (f"{early} row{'s' if early != 1 else ''} dated {span}, {next_year - year} years before the "
                    f"rest (from {next_year}): check {column} for typos; the periods start at the earliest date",)
    return ()


def _validate_in_place(dataset: Dataset, spec: TableSpec, raw: RawTable, as_of: dt.date,
                       ) -> tuple[ir.Table, int, int, ir.Table, tuple[str, ...], ValidationCache | None]:
    """The used rows as a view over the source, the row counts, the set-aside rows (`_row`, `_file`, `_reason`)
    and the warnings about early dates.

    One pass over the table finds the rows set aside; they are cached (few, by design: a table of mostly bad
    rows is a broken export). The view types the columns and leaves those rows out by (file, row), so the
    checks are not evaluated again by every metric. When the table's files are unchanged since an earlier run
    (`ValidationCache`), that run's counts, rows set aside and warnings are reused and the table is not scanned.
    """
    store = ValidationCache.for_table(spec, raw, dataset.con.name, as_of)
    found = store.load(dataset.con) if store else None
    warnings: tuple[str, ...] | None = None
    if found is not None:
        n_rows, n_rejected, aside, warnings = found
    else:
        checked = check_table(spec, raw, dedupe=_has_duplicate_keys(dataset, spec, raw), as_of=as_of)
        aside = _temporary(dataset.con, "TABLE", f"aside_{spec.name}",
                           checked.filter(checked._reason.notnull()).select("_file", "_row", "_reason"))
        n_rows = int(to_scalar(dataset.con, raw.expr.count()))
        n_rejected = int(to_scalar(dataset.con, aside.count()))
    used = check_table(spec, raw, dedupe=False, with_reason=False)
    if n_rejected:
        keys = aside.select(_aside_file=aside._file, _aside_row=aside._row)
        used = used.anti_join(keys, [used._file == keys._aside_file, used._row == keys._aside_row])
    # A view, not a copy: the same rows, read in place whenever a query runs, but every metric's expression names
    # the view instead of carrying its typing and checks, which Ibis would otherwise compile again into each of a
    # run's ~150 queries (about 4 s of a full scorecard on 18.9 M events).
    view = _temporary(dataset.con, "VIEW", f"valid_{spec.name}", used.drop("_file"))
    if warnings is None:  # not in the cache (or cached by an older cxbench without them)
        if spec.time_column not in raw.expr.columns:
            warnings = ()
        elif (span := _parquet_year_span(raw, spec.time_column)) is not None and span[1] - span[0] < EARLY_GAP_YEARS:
            warnings = ()  # rows years before the rest need a gap of more than EARLY_GAP_YEARS (one spare year)
        else:
            warnings = _early_outliers(dataset, spec, view)
        if store and found is None:
            store.save(dataset.con, n_rows, n_rejected, aside, warnings)
    return view, n_rows, n_rejected, aside, warnings, store


def _parquet_year_span(raw: RawTable, column: str | None) -> tuple[int, int] | None:
    """The earliest and latest year of a typed time column, from the Parquet files' own statistics (no scan), or
    None when a file or row group has none, the column holds text, or the table is not plain Parquet. (A partition
    folder named after a column the files hold stops the table when it is opened: `sources._check_parquet_parts`.)"""
    origin = Path(raw.origin)
    if column is None or not raw.columnar or raw.adapted or not origin.exists():
        return None
    import pyarrow.parquet as pq

    years: list[int] = []
    try:
        for part in parquet_parts(origin) if origin.is_dir() else [origin]:
            metadata = pq.ParquetFile(part).metadata
            names = [metadata.schema.column(i).name.strip().lower() for i in range(metadata.num_columns)]
            if names.count(column) != 1:
                if column in names:
                    return None
                continue  # a part without the column: null there
            index = names.index(column)
            for group in range(metadata.num_row_groups):
                chunk = metadata.row_group(group).column(index)
                stats = chunk.statistics
                if chunk.num_values == 0 or (stats is not None and stats.null_count == chunk.num_values):
                    continue  # no value in this row group
                if stats is None or not stats.has_min_max:
                    return None
                for value in (stats.min, stats.max):
                    if not isinstance(value, (dt.date, dt.datetime)):  # text, or a type without a year
                        return None
                    years.append(value.year)
    except Exception:  # noqa: BLE001 - any unreadable footer: the scan decides
        return None
    return (min(years), max(years)) if years else None


def _temporary(con: BaseBackend, kind: str, name: str, expr: ir.Table) -> ir.Table:
    """`expr` as a temporary view or table of the DuckDB connection. Unlike Ibis's `cache()`, it lives as long as
    the connection, so a view that reads it cannot outlive it. Named after its SQL: validating the same files
    again on a caller's own connection replaces it rather than adding one per run."""
    sql = con.compile(expr)
    name = f"cxbench_{name}_{hashlib.sha256(sql.encode()).hexdigest()[:16]}"
    register_in_memory_tables(con, expr)
    con.raw_sql(f"CREATE OR REPLACE TEMPORARY {kind} \"{name}\" AS {sql}")
    return con.table(name)


@dataclass(frozen=True)
class ValidationCache:
    """What validating one table found (row counts and the rows set aside), kept on disk per version of its files.

    The key is the table's name, every file's path, size and modification time (nanoseconds), the engine, and
    the code that validates (cxbench's version and the contract's and validation's source), so an edited file,
    a new Parquet part or a new cxbench validates again. The folder is `$CXBENCH_CACHE_DIR`, else
    `$XDG_CACHE_HOME/cxbench/validation` or `~/.cache/cxbench/validation`; `CXBENCH_CACHE_DIR=off` turns it
    off. Only Parquet sources read in place are cached; an unwritable folder only means no cache.
    """

    path: Path  # the entry's JSON file; the rows set aside are beside it as .parquet

    @classmethod
    def for_table(cls, spec: TableSpec, raw: RawTable, engine: str,
                  as_of: dt.date | None = None) -> ValidationCache | None:
        folder = _cache_folder()
        origin = Path(raw.origin)
        if folder is None or not origin.exists():
            return None
        files = parquet_parts(origin) if origin.is_dir() else [origin]
        # Size and time, and the file's last 64 KiB (a Parquet footer: schema, row counts, column statistics), so
        # a file rewritten within the file system's timestamp resolution is still told apart.
        stats = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns, _tail_digest(f)) for f in files]
        # The origin as written (and the working directory when relative): the rows set aside are stored with
        # the file names the engine reports for this spelling of the path, which the used rows are matched on.
        where = raw.origin if origin.is_absolute() else [os.getcwd(), raw.origin]
        key = json.dumps([_code_version(), engine, spec.name, where, stats, str(as_of)])
        return cls(folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json")

    def load(self, con: BaseBackend) -> tuple[int, int, ir.Table, tuple[str, ...] | None] | None:
        """The counts, the rows set aside and the early-date warnings (None in an entry written without them)."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8"))
            rows, rejected = int(entry["rows"]), int(entry["rejected"])
            warnings = tuple(str(w) for w in entry["warnings"]) if isinstance(entry.get("warnings"), list) else None
            # Held in the engine (the rows are few), so cleaning the cache folder during the run breaks nothing.
            part = str(self.path.with_suffix(".parquet")).replace("'", "''")
            aside = _temporary(con, "TABLE", "aside",
                               con.sql(f"SELECT _file, _row, _reason FROM read_parquet('{part}')"))
        except Exception:  # noqa: BLE001 - a missing or unreadable entry is a miss, never an error
            return None
        return rows, rejected, aside, warnings

    def save(self, con: BaseBackend, rows: int, rejected: int, aside: ir.Table, warnings: tuple[str, ...] = ()) -> None:
        import pyarrow.parquet as pq

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            part = self.path.with_suffix(f".parquet.{os.getpid()}.tmp")
            pq.write_table(to_arrow(con, aside), part)
            part.replace(self.path.with_suffix(".parquet"))  # the rows first, then the entry that points at them
            entry = self.path.with_suffix(f".json.{os.getpid()}.tmp")
            entry.write_text(json.dumps({"rows": rows, "rejected": rejected, "warnings": list(warnings)}),
                             encoding="utf-8")
            entry.replace(self.path)
        except OSError:
            return


    def fact(self, key: str) -> Any:
        """A fact of the validated table kept by an earlier run (`core/facts.py`), else None."""
        try:
            found = json.loads(self.path.with_suffix(".facts.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found.get(key) if isinstance(found, dict) else None

    def save_fact(self, key: str, value: Any) -> None:
        """Keep a fact of the validated table for later runs on the same files (JSON; a failed write is a miss)."""
        path = self.path.with_suffix(".facts.json")
        try:
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = {}
            found = {**(found if isinstance(found, dict) else {}), key: value}
            part = path.with_suffix(f".json.{os.getpid()}.tmp")
            part.write_text(json.dumps(found), encoding="utf-8")
            part.replace(path)
        except OSError:
            return


def _tail_digest(path: Path, size: int = 65536) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return hashlib.sha256(handle.read()).hexdigest()[:16]


def _cache_folder() -> Path | None:
    setting = os.environ.get("CXBENCH_CACHE_DIR")
    if setting is not None:
        return None if setting.strip().lower() in ("", "off", "0", "false", "no") else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cxbench" / "validation"


@cache
def _code_version() -> str:
    """cxbench's version and a digest of the code that decides which rows are set aside."""
    from cxbench import __version__
    from cxbench.core import contract

    digest = hashlib.sha256()
    for module_file in (contract.__file__, __file__):
        digest.update(Path(module_file).read_bytes())
    return f"{__version__}:{digest.hexdigest()[:16]}"


def _listed(dataset: Dataset, name: str, raw: RawTable, aside: ir.Table, limit: int) -> list[Rejection]:
    """The first `limit` rows set aside, in file order."""
    bad = aside.order_by([aside._file, aside._row]).select("_row", "_file", "_reason").limit(limit)
    arrow = to_arrow(dataset.con, bad)
    files = [_local_path(f) for f in arrow.column("_file").to_pylist()]
    # The file is named only when it is not the table's one file (a folder of Parquet parts).
    many_files = len(set(files)) > 1 or _local_path(raw.origin) != files[0]
    return [Rejection(name, int(row), reason, file if many_files else None)
            for row, file, reason in zip(arrow.column("_row").to_pylist(), files, arrow.column("_reason").to_pylist(),
                                         strict=True)]


def _has_duplicate_keys(dataset: Dataset, spec: TableSpec, raw: RawTable) -> bool:
    """Whether any id repeats: one hash aggregate, far cheaper than the ordered window that picks the first."""
    if spec.key is None or spec.key not in raw.expr.columns:
        return False
    key = raw.expr[spec.key]
    key = trim(key) if raw.text_source and key.type().is_string() else key
    if dataset.con.name == "duckdb" and not _hashes_repeat(dataset.con, raw.expr.select(_k=key)):
        return False  # every id has a hash of its own, so no id repeats: exact without the distinct count
    (counts,) = to_arrow(dataset.con, raw.expr.aggregate(n=key.count(), distinct=key.nunique())).to_pylist()
    return int(counts["n"]) != int(counts["distinct"])


def _hashes_repeat(con: BaseBackend, keys: ir.Table) -> bool:
    """Whether two non-null `_k` share DuckDB's 64-bit hash: always when an id repeats, and by a hash collision
    otherwise (about n² / 2⁶⁵: once in 10⁷ tables of 19 M ids), when the caller counts exactly.

    Sorting the hashes and comparing neighbours took 1.5 s on 18.9 M text ids, the exact distinct count 3.1 s (its
    hash table of 18.9 M strings is the cost)."""
    sql = (f"SELECT count(*) FILTER (WHERE _h = _p) AS n FROM (SELECT _h, lag(_h) OVER (ORDER BY _h) AS _p "
           f"FROM (SELECT hash(_k) AS _h FROM ({con.compile(keys)}) WHERE _k IS NOT NULL))")
    register_in_memory_tables(con, keys)
    return bool(con.raw_sql(sql).fetchone()[0])  # type: ignore[attr-defined]


def _infinite(value: ir.FloatingValue) -> ir.BooleanValue:
    """Whether `value` is +inf or -inf. Not Ibis's `isinf()`: Ibis 12 compiles it for Spark as Python's `==` between
    two SQL nodes, which is always false, so Spark let infinite numbers through."""
    return ~value.isnan() & (value.abs() > sys.float_info.max)


def _local_path(location: str) -> str:
    """A path as the user wrote it: Spark reports files as file:// URIs."""
    if location.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(location).path)
    return location


def check_table(spec: TableSpec, raw: RawTable, *, dedupe: bool = True, with_reason: bool = True,
                as_of: dt.date | None = None) -> ir.Table:
    """Typed columns plus `_reason` (null for a good row), `_row` and `_file`.

    `as_of`: a row whose time (the table's time column) is after this day plus one (any time zone's today) is set
    aside as a typo: a date in 2999 would otherwise become the latest period and the headline.
    `dedupe`: set aside repeated ids (False when the caller knows there are none). `with_reason=False`: the typed
    columns, `_row` and `_file` only (the checks are left out; the caller knows which rows to drop).
    """
    source = raw.expr
    missing = [c for c in spec.required_columns if c not in source.columns]
    if missing:
        column = spec.column(missing[0])
        found = ", ".join(c for c in source.columns if not c.startswith("_")) or "none"
        raise InputError(
            f"{raw.origin}: required column {column.name} is missing from table {spec.name} (columns found: {found}). "
            f"Add a {column.name} column ({column.description or column.type.value}) or rename the column that holds it.",
            file=raw.origin,
            column=column.name,
        )
    # Built in stages, each a projection naming its columns (the text of each value, then its parsed form), so
    # the checks refer to columns rather than repeating the parsing inside every check: the SQL stays a few KB
    # instead of hundreds, which the engine plans in milliseconds rather than seconds.
    present = [c for c in spec.columns if c.name in source.columns]
    texts: dict[str, ir.Value] = {}
    for column in present:
        value = source[column.name]
        if value.type().is_string():
            # Text files pad values ("  9 "); typed sources (Parquet, databases) are taken as written, which
            # spares a trim of every string of a large table.
            stripped = trim(value) if raw.text_source else value
            texts[column.name] = ibis.cases((stripped == "", ibis.null("string")), else_=stripped)
    # An adapter (cxbench.adapters) names in `_aside` why it could not map a row from the vendor's export.
    adapter_reason = {"_aside": source["_aside"].cast("string")} if raw.adapted and "_aside" in source.columns else {}
    stage = source.select(_row=source._row, _file=source._file, **adapter_reason,
                          **{f"_v_{c.name}": source[c.name] for c in present if not source[c.name].type().is_string()},
                          **{f"_t_{name}": expr for name, expr in texts.items()})
    # The UTC offset of each timestamp given as text, once (parsing reads it several times).
    stage = stage.mutate(**{f"_o_{c.name}": utc_offset(stage[f"_t_{c.name}"]) for c in present
                            if c.type in (ColumnType.TIMESTAMP, ColumnType.DATE) and source[c.name].type().is_string()})

    def value_of(name: str) -> ir.Value:
        return stage[f"_v_{name}"] if f"_v_{name}" in stage.columns else stage[f"_t_{name}"]

    def text_of(name: str) -> ir.StringValue:
        # A typed column's text (Parquet, databases) is only read by the messages: written as an expression rather
        # than a column of the stage, it is computed for the rows set aside only (casting 18.9 M timestamps to
        # text cost 0.45 s of every validation).
        if f"_t_{name}" in stage.columns:
            return stage[f"_t_{name}"]
        value = stage[f"_v_{name}"]
        if value.type().is_floating():
            # DuckDB writes nan and inf, Spark NaN and Infinity: one spelling (Python's and JSON's) on every engine.
            return ibis.cases((value.isnan(), "NaN"), (_infinite(value) & (value > 0), "Infinity"),
                              (_infinite(value), "-Infinity"), else_=value.cast("string"))
        return value.cast("string")

    stage = stage.mutate(**{f"_p_{c.name}": _parse(c, value_of(c.name), text_of(c.name),
                                                     stage[f"_o_{c.name}"] if f"_o_{c.name}" in stage.columns else None)
                            for c in present})
    text: dict[str, ir.StringValue] = {c.name: text_of(c.name) for c in present}
    typed: dict[str, ir.Value] = {}
    checks: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    if adapter_reason:
        checks.append((stage._aside.notnull(), stage._aside))
    for column in spec.columns:
        if column.name not in source.columns:
            typed[column.name] = ibis.null(_ibis_type(column.type))
            continue
        typed[column.name] = stage[f"_p_{column.name}"]
        checks.extend(_column_checks(column, value_of(column.name), text[column.name], typed[column.name]))
    # The day after as_of + 1 day; none when that is past 9999-12-31, where no timestamp lies after it.
    first_day_after = next_day(as_of) if as_of is not None else None
    first_day_after = next_day(first_day_after) if first_day_after is not None else None
    if as_of is not None and first_day_after is not None and spec.time_column in text:
        column = spec.time_column
        checks.append((typed[column] >= midnight(first_day_after),
                       column + " " + text[column].substr(0, 40) + f" is after {as_of.isoformat()}, the run's as-of "
                       "date: fix the date, or pass --as-of when the data runs later"))
    def keep(named: dict[str, ir.Value]) -> dict[str, ir.Value]:
        """Helper values a table's rules read several times, kept as columns of one more stage."""
        nonlocal stage
        stage = stage.mutate(**{f"_h_{name}": expr for name, expr in named.items()})
        return {name: stage[f"_h_{name}"] for name in named}

    table_rules = _TABLE_RULES.get(spec.name)
    if table_rules is not None:
        extra_typed, extra_checks = table_rules(typed, text, keep)
        typed.update(extra_typed)
        checks.extend(extra_checks)
    if not with_reason:
        return stage.select(_row=stage._row, _file=stage._file, **typed)
    reason = ibis.cases(*checks, else_=ibis.null("string")) if checks else ibis.null("string")
    out = stage.select(_row=stage._row, _file=stage._file, _reason=reason, **typed)
    if dedupe and spec.key is not None and spec.key in text:
        # Duplicates among good rows: the first in file order is used, the others set aside.
        out = out.mutate(
            _dup=ibis.row_number().over(group_by=[out[spec.key], out._reason.isnull()], order_by=[out._file, out._row])
        )
        key_text = out[spec.key].substr(0, _MESSAGE_VALUE_CHARS)
        out = out.mutate(
            _reason=ibis.cases(
                ((out._reason.isnull()) & out[spec.key].notnull() & (out._dup > 0),
                 "duplicate " + spec.key + " '" + key_text + "': counted once"),
                else_=out._reason,
            )
        ).drop("_dup")
    return out


def _ibis_type(kind: ColumnType) -> str:
    return {
        ColumnType.STRING: "string",
        ColumnType.TIMESTAMP: "timestamp",
        ColumnType.DATE: "timestamp",
        ColumnType.NUMBER: "float64",
        ColumnType.BOOLEAN: "boolean",
    }[kind]


def utc_offset(text: ir.StringValue) -> ir.StringValue:
    """The UTC offset written after a time of day (Z, +02:00, -0130), or '' when there is none."""
    return text.re_extract(_OFFSET, 1).fill_null("")


def parse_timestamp(text: ir.StringValue, offset: ir.StringValue | None = None) -> ir.TimestampValue:
    """ISO 8601 text to a UTC timestamp; an offset (Z, +02:00, -0130) is applied, none means UTC.

    Written with string functions and casts that DuckDB and Spark evaluate alike (both engines give the
    same instant for every accepted form), rather than each engine's own offset parser.
    """
    offset = utc_offset(text) if offset is None else offset
    naive = trim(text.substr(0, text.length() - offset.length()))
    digits = offset.re_replace(":", "")
    sign = ibis.cases((offset.substr(0, 1) == "-", -1), else_=1)
    minutes = ibis.cases(
        ((offset.length() == 0) | (offset.upper() == "Z"), 0),
        (digits.length() == 3, sign * digits.substr(1, 2).cast("int64") * 60),
        else_=sign * (digits.substr(1, 2).cast("int64") * 60 + digits.substr(3, 2).cast("int64")),
    )
    # Offsets in use run from -12:00 to +14:00 with minutes below 60; +25:00 or +99:99 is a typo, not a place.
    possible = (minutes >= -12 * 60) & (minutes <= 14 * 60) & (
        (digits.length() <= 3) | (digits.substr(3, 2).cast("int64") < 60))
    parsed = ibis.cases((naive.re_search(_ISO_LOCAL) & possible, naive.try_cast("timestamp")),
                        else_=ibis.null("timestamp"))
    return parsed - minutes.as_interval("m")


def _parse(column: Column, value: ir.Value, raw_text: ir.StringValue, offset: ir.StringValue | None = None) -> ir.Value:
    dtype = value.type()
    if column.type in (ColumnType.TIMESTAMP, ColumnType.DATE):
        if dtype.is_timestamp():
            return value.cast("timestamp")
        if dtype.is_date():
            return value.cast("timestamp")
        return parse_timestamp(raw_text, offset)
    if column.type is ColumnType.NUMBER:
        if dtype.is_numeric():
            return value.cast("float64")
        words = [(raw_text.lower() == word, ibis.literal(number, type="float64")) for word, number in column.words]
        return ibis.cases(*words, (raw_text.re_search(_NUMBER), raw_text.try_cast("float64")), else_=ibis.null("float64"))
    if column.type is ColumnType.BOOLEAN:
        if dtype.is_boolean():
            return value
        lowered = raw_text.lower()
        return ibis.cases((lowered.isin(_TRUE), True), (lowered.isin(_FALSE), False), else_=ibis.null("boolean"))
    if column.allowed is not None:
        return raw_text.lower()
    if column.pattern is not None:
        return raw_text.upper()
    return raw_text


def number_text(value: ir.NumericValue) -> ir.StringValue:
    """A number as text for messages: 11 rather than 11.0 (the same on every engine).

    Only numbers well inside int64 take the integer form: 1e20 equals its rounding too, and casting it
    to int64 fails on both engines.
    """
    return ibis.cases(
        ((value.abs() < 1e15) & (value == value.round()), value.cast("int64").cast("string")),
        else_=value.cast("string"),
    )


def trim(text: ir.StringValue) -> ir.StringValue:
    """Whitespace removed from both ends.

    Not `strip()`: Ibis writes it as TRIM with a '\f\v' literal, which Spark SQL reads as the letters f and v,
    so "false" lost its f on Spark.
    """
    return text.re_replace(r"^\s+|\s+$", "")


def _quoted(raw_text: ir.StringValue) -> ir.StringValue:
    return "'" + raw_text.substr(0, _MESSAGE_VALUE_CHARS) + "'"


_TYPE_HINTS = {
    ColumnType.TIMESTAMP: "an ISO 8601 timestamp (e.g. 2026-10-01T12:00:00Z)",
    ColumnType.DATE: "an ISO 8601 date (e.g. 2026-10-01)",
    ColumnType.NUMBER: "a number (use a dot for decimals)",
    ColumnType.BOOLEAN: "true or false",
}


def _already_typed(column: Column, value: ir.Value) -> bool:
    dtype = value.type()
    if column.type in (ColumnType.TIMESTAMP, ColumnType.DATE):
        return dtype.is_timestamp() or dtype.is_date()
    if column.type is ColumnType.NUMBER:
        return dtype.is_numeric()
    if column.type is ColumnType.BOOLEAN:
        return dtype.is_boolean()
    return True


def _column_checks(column: Column, value: ir.Value, raw_text: ir.StringValue,
                   parsed: ir.Value) -> list[tuple[ir.BooleanValue, ir.StringValue]]:
    checks: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    typed_source = _already_typed(column, value)
    if column.required:
        checks.append((raw_text.isnull() if value.type().is_string() else value.isnull(),
                       ibis.literal(f"missing {column.name}")))
    if column.type is ColumnType.NUMBER:
        if not typed_source:
            # Engines disagree on whether 'nan' casts to NaN or fails, so the words are caught as text first.
            non_finite = raw_text.lower().re_replace(r"^[+-]", "").isin(_NON_FINITE) | parsed.isnan() | _infinite(parsed)
            checks.append((non_finite, column.name + " " + _quoted(raw_text) + " is not a finite number"))
        elif value.type().is_floating():
            checks.append((parsed.isnan() | _infinite(parsed), column.name + " " + _quoted(raw_text) + " is not a finite number"))
    if column.type in (ColumnType.TIMESTAMP, ColumnType.DATE):
        # Typed sources can hold what text never parses to: infinity, or a date before year 1 (BC), which the
        # period calendar cannot place (Python's dates run from year 1 to 9999).
        year = parsed.year()
        checks.append((parsed.notnull() & (year.isnull() | (year < 1)),
                       column.name + " " + _quoted(raw_text) + " is not a date between the years 1 and 9999"))
    if column.type in _TYPE_HINTS and not typed_source:
        hint = _TYPE_HINTS[column.type]
        if column.words:
            hint += " or one of: " + ", ".join(word for word, _ in column.words)
        checks.append((raw_text.notnull() & parsed.isnull(), column.name + " " + _quoted(raw_text) + f" is not {hint}"))
    if column.type is ColumnType.NUMBER:
        if column.minimum is not None:
            checks.append((parsed < column.minimum,
                           column.name + " " + number_text(parsed) + f" is below the minimum {_fmt(column.minimum)}"))
        if column.maximum is not None:
            checks.append((parsed > column.maximum,
                           column.name + " " + number_text(parsed) + f" is above the maximum {_fmt(column.maximum)}"))
    if column.pattern is not None:
        checks.append((raw_text.notnull() & ~raw_text.re_search(column.pattern),
                       column.name + " " + _quoted(raw_text) + f" is not {column.pattern_hint}"))
    if column.allowed is not None:
        allowed = ", ".join(column.allowed)
        checks.append((raw_text.notnull() & ~raw_text.lower().isin(column.allowed),
                       column.name + " " + _quoted(raw_text) + f" is not one of: {allowed}"))
    return checks


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


Keep = Callable[[dict[str, ir.Value]], dict[str, ir.Value]]
Rules = Callable[
    [dict[str, ir.Value], dict[str, ir.StringValue], Keep],
    tuple[dict[str, ir.Value], Sequence[tuple[ir.BooleanValue, ir.StringValue]]],
]


def _survey_rules(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
    survey, score = typed["survey"], typed["score"]
    default_min = ibis.cases(*((survey == s, lo) for s, (lo, _) in DEFAULT_SCALES.items()), else_=ibis.null("float64"))
    default_max = ibis.cases(*((survey == s, hi) for s, (_, hi) in DEFAULT_SCALES.items()), else_=ibis.null("float64"))
    kept = keep({"scale_min": typed["scale_min"].fill_null(default_min).cast("float64"),
                 "scale_max": typed["scale_max"].fill_null(default_max).cast("float64"),
                 "scored": survey.isin(SCORED_SURVEYS)})
    scale_min, scale_max, scored = kept["scale_min"], kept["scale_max"], kept["scored"]
    item = typed["item"].lower()
    answer = typed["answer"]
    answer_lower = answer.lower()
    yes_no = ibis.cases((answer_lower.isin(_TRUE), "yes"), (answer_lower.isin(_FALSE), "no"), else_=ibis.null("string"))
    scale_text = number_text(scale_min) + "-" + number_text(scale_max)
    checks = [
        (scored & score.isnull(), "missing score for a " + survey + " answer"),
        (scored & (scale_min >= scale_max),
         "scale_min " + number_text(scale_min) + " is not below scale_max " + number_text(scale_max)),
        (survey.isin(("nps", "enps")) & ~((scale_max == 10) & scale_min.isin((0, 1))),
         survey + " answers use a 0-10 or 1-10 scale, not " + scale_text),
        (scored & ((score < scale_min) | (score > scale_max)),
         survey + " score " + number_text(score) + " is outside " + scale_text),
        ((survey == "cxi") & (item.isnull() | ~item.isin(CXI_ITEMS)),
         ibis.literal("cxi answer needs item effort, empathy, understanding or efficiency, not ")
         + item.fill_null("(empty)")),
        ((survey == "ces") & item.notnull() & ~item.isin(("effort", "ease")),
         "ces item " + _quoted(item) + " is not effort or ease (ease marks the 'it was easy' wording)"),
        ((survey == "intent") & answer.isnull(), ibis.literal("intent answer needs the intent in the answer column")),
        ((survey == "task_completion") & yes_no.isnull(),
         "task_completion answer " + _quoted(answer.fill_null("(empty)")) + " is not yes or no"),
    ]
    extra = {
        "scale_min": ibis.cases((scored, scale_min), else_=ibis.null("float64")),
        "scale_max": ibis.cases((scored, scale_max), else_=ibis.null("float64")),
        "item": item,
        "answer": ibis.cases((survey == "task_completion", yes_no), else_=answer),
    }
    return extra, checks


def _orders_rules(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
    kind = typed["kind"].fill_null("purchase")
    amount = typed["amount"]
    checks = [
        ((amount < 0) & (kind != "refund"),
         "amount " + number_text(amount) + " is negative but kind is " + kind + "; a negative amount must be kind refund"),
    ]
    return {"kind": kind}, checks


def _subscriptions_rules(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
    """A row flagged `is_trial` is a free trial: it counts no MRR whatever its `mrr` (a trialing Stripe
    subscription carries its future price), as ChartMogul and Baremetrics leave trials out of MRR; the paid
    subscription that follows brings the MRR (and converts the trial)."""
    mrr = ibis.cases((typed["is_trial"].fill_null(False), ibis.literal(0.0)), else_=typed["mrr"].cast("float64"))
    more, checks = _not_before("end_at", "start_at")(typed, text, keep)
    return {**more, "mrr": mrr}, checks


def _not_before(later: str, earlier: str):
    def rules(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
        return {}, [
            (typed[later] < typed[earlier], ibis.literal(f"{later} ") + text.get(later, ibis.literal("")).substr(0, 40)
             + f" is before {earlier} " + text.get(earlier, ibis.literal("")).substr(0, 40)),
        ]

    return rules


def _all_of(*rules: Rules) -> Rules:
    """Several table rules; a row's first failing check is its reason."""

    def combined(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
        extra: dict[str, ir.Value] = {}
        checks: list[tuple[ir.BooleanValue, ir.StringValue]] = []
        for rule in rules:
            more, found = rule(typed, text, keep)
            extra.update(more)
            checks.extend(found)
        return extra, checks

    return combined


def _mentions_rules(typed: dict[str, ir.Value], text: dict[str, ir.StringValue], keep: Keep):
    # Social listening scores a mention from its sentiment, or from its text when it has none.
    return {}, [
        (typed["sentiment"].isnull() & typed["text"].isnull(),
         ibis.literal("mention has neither sentiment nor text: nothing to score; give one of them")),
    ]


_TABLE_RULES: dict[str, Rules] = {
    "surveys": _survey_rules,
    "orders": _orders_rules,
    "subscriptions": _subscriptions_rules,
    "tickets": _all_of(_not_before("resolved_at", "opened_at"), _not_before("first_response_at", "opened_at")),
    "mentions": _mentions_rules,
    "carts": _not_before("checked_out_at", "created_at"),
}
