"""Opening a source: a folder of files, a DuckDB file, or an Ibis connection.

Files are read in place by the engine (DuckDB by default, or Spark); nothing is loaded into pandas.
Every table comes back with a `_row` column: the 1-based position of the record in its file, the header
not counted (for a folder of Parquet files, the position inside each file, with `_file` naming it).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from ibis.backends import BaseBackend

from cxbench.core.contract import TABLES_BY_NAME
from cxbench.core.errors import InputError, UsageError

FILE_FORMATS = ("csv", "parquet", "json", "jsonl")
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")


@dataclass(frozen=True)
class RawTable:
    """A contract table as found in the source, before validation."""

    name: str
    origin: str  # the file (or database table) it came from, for messages
    expr: ibis.Table  # original columns, lower-cased, plus `_row` (int64) and `_file` (string)
    note: str | None = None  # e.g. "the file is empty"
    text_source: bool = False  # every value arrived as text (CSV): padding around values is trimmed
    #: Parquet, read in place: cheap to scan again and numbered by the file itself, so validation leaves it a view.
    #: CSV and JSON are parsed once and kept (re-parsing text per metric costs more than holding it); database
    #: tables too: `row_number() OVER ()` over a view need not give a row the same number twice
    #: (a GROUP BY view numbers its rows differently in each query).
    columnar: bool = False

    @property
    def extra_fields(self) -> tuple[str, ...]:
        """Columns the CSV reader added for rows with more fields than the header."""
        return tuple(c for c in self.expr.columns if re.fullmatch(r"column\d+", c))


@dataclass
class Dataset:
    """The tables a source holds, on the connection that reads them."""

    location: str
    con: BaseBackend
    tables: dict[str, RawTable]
    ignored: list[str] = field(default_factory=list)  # files in the folder that are no contract table

    @property
    def engine(self) -> str:
        return self.con.name


def open_source(source: str | Path | BaseBackend, engine: str | BaseBackend | None = None,
                only: set[str] | None = None, memory_limit: str | None = None) -> Dataset:
    """Open `source` and find its contract tables.

    `source` is a folder of `TABLE.csv|parquet|json|jsonl` files (or `TABLE/` folders of Parquet), a DuckDB
    file, a URL Ibis can connect to, or an open Ibis connection. `engine` chooses what reads a folder:
    `"duckdb"` (default), `"spark"` (a SparkSession on `SPARK_MASTER`, else local), a Spark master URL such as
    `"spark://host:7077"` (a session on that cluster, whose executors must see the folder at the same path), or an
    open Ibis connection such as `ibis.pyspark.connect(session)`.
    """
    if isinstance(source, BaseBackend):
        return _from_connection(source, location=f"{source.name} connection")
    text = str(source)
    if "://" in text:
        try:
            con = ibis.connect(text)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes one clear line
            raise InputError(f"{text}: could not connect ({_first_line(exc)}). Check the URL and that the "
                             "backend's extra is installed.", file=text) from exc
        return _from_connection(con, location=text)
    path = Path(text)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder. Give a folder of CSV/Parquet/JSON files, a DuckDB file "
                         "or a connection URL.", file=str(path))
    if path.is_file():
        if path.suffix.lower() in DUCKDB_SUFFIXES:
            try:
                con = ibis.duckdb.connect(str(path), read_only=True)
            except Exception as exc:  # noqa: BLE001
                raise InputError(f"{path}: not a readable DuckDB database ({_first_line(exc)}).", file=str(path)) from exc
            return _from_connection(con, location=str(path))
        raise InputError(f"{path}: a source is a folder of table files or a DuckDB file ({', '.join(DUCKDB_SUFFIXES)}); "
                         "put the file in a folder named after nothing else and pass the folder.", file=str(path))
    return _from_folder(path, _engine_connection(engine, memory_limit), only)


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def duckdb_memory_limit(value: str | None = None) -> str | None:
    """The memory DuckDB may use (`--memory-limit`, else `$CXBENCH_MEMORY_LIMIT`, else DuckDB's default of 80 % of
    the machine), checked: past it DuckDB spills sorts, windows and cached tables to a temporary folder."""
    chosen = value or os.environ.get("CXBENCH_MEMORY_LIMIT") or None
    if chosen is not None and not _MEMORY.fullmatch(chosen.strip()):
        raise UsageError(f"memory limit {chosen!r}: write an amount such as 4GB, 6GiB or 512MB")
    return chosen.strip() if chosen else None


def _engine_connection(engine: str | BaseBackend | None, memory_limit: str | None = None) -> BaseBackend:
    if isinstance(engine, BaseBackend):
        return engine
    if engine in (None, "duckdb"):
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")  # time-zone-aware inputs convert to UTC whatever the machine's zone
        # Spill to a private temporary folder, not to `.tmp` in the working directory (which may be the data's).
        con.raw_sql(f"SET temp_directory = {_sql_string(tempfile.mkdtemp(prefix='cxbench-duckdb-'))}")
        limit = duckdb_memory_limit(memory_limit)
        if limit is not None:
            con.raw_sql(f"SET memory_limit = {_sql_string(limit)}")
        return con
    from cxbench.core.spark import is_master_url, spark_connection

    if engine in ("spark", "pyspark"):
        return spark_connection()  # SPARK_MASTER, else local[2]
    if isinstance(engine, str) and is_master_url(engine):
        return spark_connection(engine)
    raise UsageError(f"unknown engine {engine!r}: use duckdb, spark or a Spark master URL (spark://HOST:PORT)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _find_table_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in TABLES_BY_NAME:
        candidates = [folder / f"{name}.{fmt}" for fmt in FILE_FORMATS if (folder / f"{name}.{fmt}").is_file()]
        if (folder / name).is_dir():
            candidates.append(folder / name)
        if len(candidates) > 1:
            listed = ", ".join(c.name for c in candidates)
            raise InputError(f"{folder}: table {name} is given twice ({listed}); keep one of them.", file=str(folder))
        if candidates:
            found[name] = candidates[0]
    return found


def _from_folder(folder: Path, con: BaseBackend, only: set[str] | None = None) -> Dataset:
    tables: dict[str, RawTable] = {}
    found = _find_table_files(folder)
    for name, path in found.items():
        if only is None or name in only:
            tables[name] = _read_file(con, name, path)
    used = {p.name for p in found.values()}
    ignored = sorted(p.name for p in folder.iterdir() if p.name not in used and not p.name.startswith("."))
    return Dataset(location=str(folder), con=con, tables=tables, ignored=ignored)


def _check_text_file(path: Path) -> str | None:
    """Stop early on a file that is not text; return a note when it is empty."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        return "the file is empty"
    if b"\x00" in head or head.startswith((b"PAR1", b"\x89PNG", b"PK\x03\x04", b"%PDF")):
        raise InputError(f"{path}: is not a {path.suffix.lstrip('.').upper()} text file (binary content). "
                         "Export the table as CSV with a header row, or name a Parquet file .parquet.", file=str(path))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end of the sample is fine
            raise InputError(f"{path}: is not UTF-8 text (bad byte at offset {exc.start}). "
                             "Save the file as UTF-8.", file=str(path)) from exc
    return None


def _read_file(con: BaseBackend, name: str, path: Path) -> RawTable:
    fmt = "parquet" if path.is_dir() else path.suffix.lower().lstrip(".")
    note = None
    if fmt in ("csv", "json", "jsonl"):
        note = _check_text_file(path)
        if note is not None:
            return RawTable(name, str(path), _empty_table(con, name), note=note)
    if path.is_dir() and not any(path.glob("*.parquet")):
        raise InputError(f"{path}: folder for table {name} holds no .parquet files; put the table's Parquet files in it.",
                         file=str(path))
    if fmt == "csv":
        _csv_header(path)  # stops on duplicate column names before any engine guesses which one to use
    try:
        expr = _read_with_row_numbers(con, name, path, fmt)
        # Reading is lazy: ask for the schema and one row now so a bad file fails here, with its name.
        expr.schema()
        con.execute(expr.limit(1))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the engine's parse errors become one line naming the file
        raise InputError(f"{path}: could not be read as {fmt.upper()} ({_first_line(exc)}). Fix the file or export it "
                         "again with a header row.", file=str(path)) from exc
    return RawTable(name, str(path), expr, note=note, text_source=fmt == "csv", columnar=fmt == "parquet")


_DELIMITERS = (",", ";", "\t", "|")


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter (the most frequent candidate on the header line) and the column names, lower-cased.

    Raises InputError on a duplicate column name: engines silently keep one of the two.
    """
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    delimiter = max(_DELIMITERS, key=first.count)
    names = [n.strip().lower() for n in next(csv.reader([first], delimiter=delimiter), [])]
    seen: set[str] = set()
    for column in names:
        if column and column in seen:
            raise InputError(f"{path}: column {column} appears twice in the header; keep one of them "
                             "(names are compared ignoring case).", file=str(path), column=column)
        seen.add(column)
    return delimiter, names


def _empty_table(con: BaseBackend, name: str) -> ibis.Table:
    spec = TABLES_BY_NAME[name]
    schema = {c.name: "string" for c in spec.columns} | {"_row": "int64", "_file": "string"}
    return con.create_table(f"_cxbench_empty_{name}", schema=ibis.schema(schema), temp=_supports_temp(con),
                            overwrite=True)


def _supports_temp(con: BaseBackend) -> bool:
    return con.name == "duckdb"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _read_with_row_numbers(con: BaseBackend, name: str, path: Path, fmt: str) -> ibis.Table:
    if con.name == "duckdb":
        location = _sql_string(str(path))
        if fmt == "csv":
            # all_varchar: every value arrives as text, so one bad value sets aside its row instead of failing
            # the read; row_number() follows file order (DuckDB preserves insertion order).
            # null_padding/strict_mode=false: a row with too few or too many fields is read (and set aside by
            # validation, which names it) instead of failing the whole file.
            relation = f"read_csv({location}, all_varchar=true, header=true, null_padding=true, strict_mode=false)"
            sql = f"SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {location} AS _file, * FROM {relation}"
        elif fmt in ("json", "jsonl"):
            relation = f"read_json({location}, format='auto')"
            sql = f"SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {location} AS _file, * FROM {relation}"
        else:
            glob = _sql_string(str(path / "*.parquet")) if path.is_dir() else location
            sql = (f"SELECT CAST(file_row_number + 1 AS BIGINT) AS _row, filename AS _file, "
                   f"* EXCLUDE (file_row_number, filename) FROM read_parquet({glob}, file_row_number=true, filename=true)")
        return _lower_case_columns(con.sql(sql))
    # Any other engine (Spark) reads with its own reader, then numbers the rows in file order.
    view = f"_cxbench_raw_{name}"
    if fmt == "csv":
        # As text, like DuckDB's all_varchar: Spark's own type inference would read "2026-10" as a timestamp.
        con.read_csv(str(path), table_name=view, header=True, inferSchema=False, multiLine=True,
                     sep=_csv_header(path)[0], escape='"')
    elif fmt in ("json", "jsonl"):
        con.read_json(str(path), table_name=view, **({"multiLine": True} if fmt == "json" else {}))
    else:
        con.read_parquet(str(path), table_name=view)
    return _number_rows(con, view, origin=str(path))


def _number_rows(con: BaseBackend, table: str, origin: str) -> ibis.Table:
    if con.name == "duckdb":
        sql = f'SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {_sql_string(origin)} AS _file, * FROM "{table}"'
    elif con.name == "pyspark":
        # Numbered per input file (monotonically_increasing_id follows the order inside a file), so a folder
        # of Parquet files keeps its parallelism and reports file and row as DuckDB does. Catalog tables have
        # no input file: then the origin names them.
        file = f"coalesce(nullif(input_file_name(), ''), {_sql_string(origin)})"
        sql = (f"SELECT CAST(row_number() OVER (PARTITION BY _file ORDER BY _order) AS BIGINT) AS _row, * "
               f"FROM (SELECT {file} AS _file, monotonically_increasing_id() AS _order, * FROM `{table}`) "
               f"AS numbered")
        return _lower_case_columns(con.sql(sql).drop("_order"))
    else:
        t = con.table(table)
        return _lower_case_columns(t.mutate(_row=(ibis.row_number() + 1).cast("int64"), _file=ibis.literal(origin)))
    return _lower_case_columns(con.sql(sql))


def _lower_case_columns(expr: ibis.Table) -> ibis.Table:
    renames = {c.strip().lower(): c for c in expr.columns if c != c.strip().lower()}
    return expr.rename(renames) if renames else expr


def _from_connection(con: BaseBackend, location: str) -> Dataset:
    try:
        names = {n.lower(): n for n in con.list_tables()}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{location}: could not list tables ({_first_line(exc)}).", file=location) from exc
    tables = {}
    for name in TABLES_BY_NAME:
        if name in names:
            tables[name] = RawTable(name, f"{location} table {names[name]}", _number_rows(con, names[name], names[name]))
    return Dataset(location=location, con=con, tables=tables)


def describe(value: Any) -> str:
    """A short description of a source for the scorecard's `source` field."""
    if isinstance(value, BaseBackend):
        return f"{value.name} connection"
    return str(value)
