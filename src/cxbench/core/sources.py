"""Opening a source: a folder of files, a DuckDB file, or an Ibis connection.

Files are read in place by the engine (DuckDB by default, or Spark); nothing is loaded into pandas.
Every table comes back with a `_row` column: the 1-based position of the record in its file, the header
not counted (for a folder of Parquet files, the position inside each file, with `_file` naming it).
"""

from __future__ import annotations

import atexit
import csv
import gzip
import itertools
import os
import stat
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ibis
from ibis.backends import BaseBackend

from cxbench.core.arrow import read_first_row
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
    #: Records the CSV reader could not split into the header's fields (row, reason), set aside before validation;
    #: an adapter reading several files gives (row, reason, file).
    unparsed: tuple[tuple[int, str] | tuple[int, str, str], ...] = ()
    #: Made by an adapter (cxbench.adapters) from a vendor's export: its `_aside` column names why a record could not
    #: be mapped (null when it could), and the counts are also given per source file.
    adapted: bool = False


@dataclass(frozen=True)
class IgnoredFile:
    """A file or folder in the source folder that is not read, and why."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.name, "reason": self.reason}


@dataclass
class Dataset:
    """The tables a source holds, on the connection that reads them."""

    location: str
    con: BaseBackend
    tables: dict[str, RawTable]
    ignored: list[IgnoredFile] = field(default_factory=list)  # entries of the folder that are not read, with why

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
    if not text.strip():
        raise UsageError("the source is empty: name a folder of table files, a DuckDB file or a connection URL "
                         "(write . for the current folder)")
    if "://" in text:
        _check_database_file(text)
        try:
            con = ibis.connect(text)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes one clear line
            raise InputError(f"{text}: could not connect ({_first_line(exc)}). Check the URL and that the "
                             "backend's extra is installed.", file=text) from exc
        if con.name == "duckdb":
            _spill_and_limit(con.raw_sql, memory_limit, kept={k.lower() for k in parse_qs(urlsplit(text).query)})
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
            _spill_and_limit(con.raw_sql, memory_limit)
            return _from_connection(con, location=str(path))
        raise InputError(f"{path}: a source is a folder of table files or a DuckDB file ({', '.join(DUCKDB_SUFFIXES)}); "
                         "put the file in a folder named after nothing else and pass the folder.", file=str(path))
    return _from_folder(path, _engine_connection(engine, memory_limit), only)


def _check_database_file(url: str) -> None:
    """A duckdb:// or sqlite:// URL must name an existing file: connecting would create an empty database."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("duckdb", "sqlite") or rest in ("", ":memory:") or rest.startswith(":memory:"):
        return
    file = Path(rest.split("?", 1)[0])
    if not file.is_file():
        raise InputError(f"{scheme}://{file}: no such database file. Check the path (write duckdb:///abs/path for an "
                         "absolute one).", file=str(file))


_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


#: The share of the memory it sees (a container's limit included) that DuckDB may use unless told: a quarter, where
#: DuckDB's own default is 80 %. Measured on a 2-core machine with 23 GiB (DuckDB 1.5.6): the full scorecard on L
#: (94.8 M events) took 195 s and peaked at 11.6 GiB without a limit, 194 s and 6.3 GiB at 6 GB; on M (18.9 M events)
#: 39-41 s at 1 GB, 2 GB and unlimited, peaking at 1.3, 2.3 and 2.5 GiB. Past the limit DuckDB spills sorts to disk,
#: at no measurable cost here, so memory beyond a quarter bought no speed.
DEFAULT_MEMORY_SHARE = 0.25
#: ...but at least 1 GiB, or DuckDB's own default where that is less (a machine under 1.25 GiB)
MEMORY_FLOOR = 2**30
_DUCKDB_DEFAULT_SHARE = 0.8  # DuckDB's default memory_limit: 80 % of the memory it detects
_UNITS = {"bytes": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def duckdb_memory_limit(value: str | None = None) -> str | None:
    """The memory DuckDB may use as asked (`--memory-limit`, else `$CXBENCH_MEMORY_LIMIT`), checked; None when
    neither is given or both are blank (the connection then takes `DEFAULT_MEMORY_SHARE` of the machine). Past it
    DuckDB spills sorts, windows and cached tables to a temporary folder."""
    if value is not None and value.strip():
        chosen, origin = value, "memory limit"
    else:  # blank counts as unset, as an empty variable does
        chosen, origin = os.environ.get("CXBENCH_MEMORY_LIMIT", ""), "$CXBENCH_MEMORY_LIMIT"
        if not chosen.strip():
            return None
    amount = _MEMORY.fullmatch(chosen.strip())
    if amount is None:
        raise UsageError(f"{origin} {chosen!r}: write an amount such as 4GB, 6GiB or 512MB")
    if float(amount.group(1)) == 0:
        # DuckDB takes 0 but then cannot allocate its first block, and the error would name the first file read.
        raise UsageError(f"{origin} {chosen!r}: DuckDB needs some memory; write an amount such as 4GB, 6GiB or 512MB")
    return chosen.strip()


def _engine_connection(engine: str | BaseBackend | None, memory_limit: str | None = None) -> BaseBackend:
    if memory_limit is not None and memory_limit.strip() and engine not in (None, "duckdb"):
        # Said, not ignored: the limit is the DuckDB connection's that cxbench opens.
        where = ("set it on your own connection (SET memory_limit)" if isinstance(engine, BaseBackend)
                 else "Spark's memory comes from spark.driver.memory and spark.executor.memory (spark-defaults.conf "
                      "in $SPARK_CONF_DIR)")
        raise UsageError(f"--memory-limit is the memory of the DuckDB engine cxbench opens; {where}")
    if isinstance(engine, BaseBackend):
        return engine
    if engine in (None, "duckdb"):
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")  # time-zone-aware inputs convert to UTC whatever the machine's zone
        # Reading a file never downloads anything: no extension is fetched from the network on first use.
        con.raw_sql("SET autoinstall_known_extensions = false")
        _spill_and_limit(con.raw_sql, memory_limit)
        return con
    from cxbench.core.spark import is_master_url, spark_connection

    if engine in ("spark", "pyspark"):
        return spark_connection()  # SPARK_MASTER, else local[2]
    if isinstance(engine, str) and is_master_url(engine):
        return spark_connection(engine)
    raise UsageError(f"unknown engine {engine!r}: use duckdb, spark or a Spark master URL (spark://HOST:PORT)")


def _spill_and_limit(run: Callable[[str], Any], memory_limit: str | None,
                     kept: frozenset[str] | set[str] = frozenset()) -> None:
    """Set up a DuckDB connection cxbench opens (on a folder, a database file or a duckdb:// URL, or `side_duckdb`),
    through `run`, its way to run a statement: it spills to a private temporary folder, not to `.tmp` in the working
    directory or beside a database file (either may be the data's), and may use `duckdb_memory_limit`, else
    `DEFAULT_MEMORY_SHARE` of the machine. `kept`: the settings a URL gives itself
    (duckdb:///shop.duckdb?memory_limit=2GB), left as given."""
    limit = duckdb_memory_limit(memory_limit)  # checked first: a wrong amount is refused whatever the URL says
    if "temp_directory" not in kept:
        try:
            run(f"SET temp_directory = {_sql_string(_spill_folder())}")
        except Exception as exc:  # noqa: BLE001
            # A database file already open in this process shares its DuckDB instance, which may have spilled
            # already: DuckDB then refuses to move its folder, and it stays where that instance spills.
            if "temporary directory" not in str(exc):
                raise
    if "memory_limit" in kept or "max_memory" in kept:
        return
    limit = limit or _default_memory_limit()
    if limit is not None:
        run(f"SET memory_limit = {_sql_string(limit)}")


def side_duckdb() -> Any:
    """A plain DuckDB connection that pre-parses a file for another engine (a CSV or JSON Lines file read by Spark):
    it spills to the same private folder and may use the same memory as the DuckDB engine would
    (`$CXBENCH_MEMORY_LIMIT`, else `DEFAULT_MEMORY_SHARE`), not DuckDB's own 80 % beside the engine's."""
    import duckdb

    db = duckdb.connect()
    _spill_and_limit(db.execute, None)
    return db


#: the process's private folder (mkdtemp: mode 700) holding each DuckDB connection's spill folder; removed at exit
_spill_root: str | None = None


def _spill_folder() -> str:
    """A folder for one DuckDB connection to spill to, not made yet: DuckDB makes it when it first spills and removes
    it when the connection closes (a folder made beforehand stayed behind, one per connection)."""
    global _spill_root
    if _spill_root is None or not os.path.isdir(_spill_root):
        _spill_root = tempfile.mkdtemp(prefix="cxbench-duckdb-")
        atexit.register(shutil.rmtree, _spill_root, ignore_errors=True)
    return os.path.join(_spill_root, f"connection-{next(_counter)}")


def _default_memory_limit() -> str | None:
    """`DEFAULT_MEMORY_SHARE` of the memory DuckDB detects (the machine's, or a container's limit), in bytes, read
    back from DuckDB's own default (80 % of it); None, leaving DuckDB's default, if that cannot be read."""
    import duckdb

    # Asked of a new in-memory database: a database file already open in this process shares its DuckDB instance,
    # whose memory_limit is then the one set by the first opening, not DuckDB's default.
    with duckdb.connect() as fresh:
        return _share_of_detected(str(fresh.execute("SELECT current_setting('memory_limit')").fetchone()[0]))


def _share_of_detected(setting: str) -> str | None:
    """`DEFAULT_MEMORY_SHARE` of the memory behind DuckDB's default `setting` (e.g. "18.8 GiB", 80 % of it), in
    bytes; None for a setting that gives no amount: DuckDB's "no limit" (16383.9 PiB, when it cannot detect the
    memory) or 0 bytes (a limit DuckDB would take and then fail every query under)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", setting)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    duckdb_default = float(match.group(1)) * _UNITS[match.group(2).lower()]
    share = duckdb_default / _DUCKDB_DEFAULT_SHARE * DEFAULT_MEMORY_SHARE
    # Never under MEMORY_FLOOR (or DuckDB's own default, when that is less): on a small machine a quarter would be
    # too little for the CSV reader's 30.5 MiB blocks and the sorts of a modest table.
    limit = int(max(share, min(duckdb_default, MEMORY_FLOOR)))
    return f"{limit}B" if limit > 0 else None


#: what to do when DuckDB needs more memory than it may use
MEMORY_ADVICE = ("give it more with --memory-limit SIZE or $CXBENCH_MEMORY_LIMIT (default: a quarter of the "
                 "machine's memory)")


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is DuckDB failing at its memory limit: what DuckDB cannot spill to disk must fit under it."""
    import duckdb

    return isinstance(exc, duckdb.OutOfMemoryException)


#: the same for the DuckDB that pre-parses a CSV or JSON Lines file for Spark (`side_duckdb`), where --memory-limit
#: is a usage error
SIDE_MEMORY_ADVICE = ("give the DuckDB that pre-parses CSV and JSON Lines files for Spark more with "
                      "$CXBENCH_MEMORY_LIMIT (default: a quarter of the machine's memory), or convert the file to "
                      "Parquet, which Spark reads itself")


def out_of_memory_error(origin: str, doing: str, exc: BaseException, *, side: bool = False) -> UsageError:
    """The error for DuckDB running out of memory while `doing` (e.g. "reading") the file `origin`: not the file's
    fault, so it says how to raise the limit rather than to fix or export the file. `side`: the DuckDB was
    `side_duckdb`'s, pre-parsing the file for another engine."""
    advice = SIDE_MEMORY_ADVICE if side else MEMORY_ADVICE
    return UsageError(f"{origin}: DuckDB ran out of memory {doing} it ({engine_message(exc)}); {advice}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def engine_message(exc: BaseException) -> str:
    """An engine error's first line, at most 300 characters: what an error message quotes of it."""
    return _first_line(exc)[:300]


#: File names a table is read from (any case), e.g. `surveys.csv`, `Orders.CSV.gz`, `tickets.tsv`.
_TABLE_FILE = re.compile(r"(?P<table>[a-z_]+)\.(?P<fmt>csv|tsv|parquet|json|jsonl|ndjson)(?P<gz>\.gz)?", re.IGNORECASE)
_COMPRESSED = (".zip", ".bz2", ".xz", ".zst", ".7z", ".tar", ".tgz")


@dataclass(frozen=True)
class _TableFile:
    path: Path
    fmt: str  # csv, parquet, json or jsonl (tsv is read as csv, ndjson as jsonl)
    gzip: bool = False
    delimiter: str | None = None  # a .tsv file's tab; None: guessed from the header line


def _classify(entry: Path) -> tuple[str | None, _TableFile | None, str | None]:
    """(table, how to read it, None), or (None, None, why it is not read)."""
    name = entry.name
    try:
        mode = entry.stat().st_mode  # follows symbolic links
    except OSError as exc:
        why = "a symbolic link that loops" if exc.errno == 40 else f"cannot be opened ({exc.strerror or exc})"
        return None, None, why
    match = _TABLE_FILE.fullmatch(name)
    if stat.S_ISDIR(mode):
        if name.lower() in TABLES_BY_NAME:
            return name.lower(), _TableFile(entry, "parquet"), None
        if match and match["table"].lower() in TABLES_BY_NAME:
            return None, None, (f"a folder named like a file; put the {match['table'].lower()} table's file in the source "
                                f"folder, or its Parquet parts in a folder named {match['table'].lower()}")
        return None, None, "a folder that is not named after a table"
    if not stat.S_ISREG(mode):
        return None, None, "not a regular file (a pipe, socket or device)"
    if match is None:
        lowered = name.lower()
        stem = lowered.split(".", 1)[0]
        if stem in TABLES_BY_NAME and lowered.endswith(_COMPRESSED):
            return None, None, "compressed in a format cxbench does not read; unpack it or compress it with gzip (.gz)"
        if stem in TABLES_BY_NAME:
            return None, None, "named after a table but not .csv, .tsv, .parquet, .json or .jsonl (optionally .gz)"
        return None, None, "not named after a table"
    table = match["table"].lower()
    if table not in TABLES_BY_NAME:
        return None, None, "not named after a table"
    fmt = {"tsv": "csv", "ndjson": "jsonl"}.get(match["fmt"].lower(), match["fmt"].lower())
    if fmt == "parquet" and match["gz"]:
        return None, None, "a gzipped Parquet file; Parquet compresses inside the file, so write it without .gz"
    tab = "\t" if match["fmt"].lower() == "tsv" else None
    return table, _TableFile(entry, fmt, bool(match["gz"]), tab), None


def _find_table_files(folder: Path) -> tuple[dict[str, _TableFile], list[IgnoredFile]]:
    candidates: dict[str, list[_TableFile]] = {}
    ignored: list[IgnoredFile] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror or exc}).", file=str(folder)) from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        table, found, why = _classify(entry)
        if found is not None and table is not None:
            candidates.setdefault(table, []).append(found)
        elif why is not None:
            ignored.append(IgnoredFile(entry.name, why))
    for name, files in candidates.items():
        if len(files) > 1:
            listed = ", ".join(f.path.name for f in files)
            raise InputError(f"{folder}: table {name} is given twice ({listed}); keep one of them.", file=str(folder))
    return {name: files[0] for name, files in candidates.items()}, ignored


def expected_file_names() -> str:
    """The names a folder's files are read under, for messages."""
    return ", ".join(TABLES_BY_NAME)


def _from_folder(folder: Path, con: BaseBackend, only: set[str] | None = None) -> Dataset:
    found, ignored = _find_table_files(folder)
    if not found:
        seen = "; ".join(f"{i.name} ({i.reason})" for i in ignored[:10]) or "the folder is empty"
        raise InputError(f"{folder}: no table found ({seen}). Name each file after its table: "
                         f"{expected_file_names()}, as .csv, .tsv, .parquet, .json or .jsonl (optionally .gz), "
                         "or a folder of Parquet files named after the table.", file=str(folder))
    tables: dict[str, RawTable] = {}
    for name, table_file in found.items():
        if only is None or name in only:
            tables[name] = _read_file(con, name, table_file)
        if table_file.path.is_dir():
            ignored.extend(_not_parts(table_file.path, name))
    return Dataset(location=str(folder), con=con, tables=tables, ignored=ignored)


def _open_text(file: _TableFile):
    return gzip.open(file.path, "rb") if file.gzip else file.path.open("rb")


def _check_text_file(file: _TableFile) -> str | None:
    """Stop early on a file that is not text; return a note when it is empty."""
    path = file.path
    try:
        with _open_text(file) as handle:
            head = handle.read(8192)
    except (OSError, EOFError) as exc:  # unreadable, or a broken .gz
        raise InputError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc}).", file=str(path)) from exc
    if file.gzip:
        _check_gzip_end(path)
    if not head.strip():
        return "the file is empty"
    if file.fmt in ("json", "jsonl") and head.strip() == b"[]":  # an API export with no records yet
        return "the file is empty (no records)"
    kind = "CSV" if file.fmt == "csv" else file.fmt.upper()
    if b"\x00" in head or head.startswith((b"PAR1", b"\x89PNG", b"PK\x03\x04", b"%PDF", b"\x1f\x8b")):
        raise InputError(f"{path}: is not a {kind} text file (binary content). "
                         "Export the table as CSV with a header row, or name a Parquet file .parquet.", file=str(path))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end of the sample is fine
            raise InputError(f"{path}: is not UTF-8 text (bad byte at offset {exc.start}). "
                             "Save the file as UTF-8.", file=str(path)) from exc
    return None


def _mixed_line_endings(file: _TableFile) -> bool:
    """Whether some lines end in CR LF and others in LF alone."""
    crlf = lf = 0
    with _open_text(file) as handle:
        while chunk := handle.read(1 << 22):
            crlf += chunk.count(b"\r\n")
            lf += chunk.count(b"\n")
    return 0 < crlf < lf


def _check_gzip_end(path: Path) -> None:
    """A .gz file cut short (an interrupted download) decompresses without error as far as it goes: read it to its
    end marker once, so the rows lost are not lost in silence."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 22):
                pass
    except EOFError as exc:
        raise InputError(f"{path}: is truncated (the gzip stream ends before its end marker); copy or download the "
                         "file again.", file=str(path)) from exc
    except OSError as exc:
        raise InputError(f"{path}: is not a readable gzip file ({exc}).", file=str(path)) from exc


def _read_file(con: BaseBackend, name: str, file: _TableFile) -> RawTable:
    path, fmt = file.path, file.fmt
    note = None
    if fmt in ("csv", "json", "jsonl"):
        note = _check_text_file(file)
        if note is not None:
            return RawTable(name, str(path), _empty_table(con, name), note=note)
    if path.is_dir():
        _check_parquet_parts(path, name)
    unparsed: tuple[tuple[int, str], ...] = ()
    try:
        if fmt == "csv":
            expr, unparsed = _read_csv(con, name, file)
        elif fmt == "jsonl" and (malformed := _jsonl_malformed(con, file)):
            expr, unparsed = _read_jsonl_lines(con, name, file, malformed)
        else:
            expr = _read_with_row_numbers(con, name, file)
        # Reading is lazy: ask for the schema and one row now so a bad file fails here, with its name.
        expr.schema()
        read_first_row(con, expr)
    except InputError as exc:
        if exc.file is None:  # said of the columns: name the file too
            raise InputError(f"{path}: {exc}", file=str(path), column=exc.column) from exc
        raise
    except UsageError:  # $CXBENCH_MEMORY_LIMIT of the DuckDB that pre-parses a file for Spark: not the file's fault
        raise
    except Exception as exc:  # noqa: BLE001 - the engine's parse errors become one line naming the file
        if out_of_memory(exc):  # on another engine, the DuckDB that pre-parsed the file
            raise out_of_memory_error(str(path), "reading", exc, side=con.name != "duckdb") from exc
        if fmt == "csv" and _mixed_line_endings(file):
            raise InputError(f"{path}: mixes line endings (some lines end in CR LF, others in LF alone), which the "
                             "strict CSV reader cannot split; save the file again with one kind (any editor's "
                             "'line endings' setting, or dos2unix).", file=str(path)) from exc
        advice = "export it again with a header row" if fmt == "csv" else "export it again"
        raise InputError(f"{path}: could not be read as {fmt.upper()} ({_first_line(exc)}). Fix the file or "
                         f"{advice}.", file=str(path)) from exc
    return RawTable(name, str(path), expr, note=note, text_source=fmt in ("csv", "json", "jsonl"),
                    columnar=fmt == "parquet", unparsed=unparsed)


def _check_parquet_parts(folder: Path, name: str) -> None:
    """A table folder's parts: at least one, each readable, and columns whose types can be read together.

    Parts are read by column name (a part may lack a column another has: it is null there). Two parts giving one
    column types that no common type holds (text and a number are read as text; a date and a number are not)
    stop with both files named.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = parquet_parts(folder)
    if not parts:
        raise InputError(f"{folder}: folder for table {name} holds no .parquet files; put the table's Parquet files in it.",
                         file=str(folder))
    seen: dict[str, tuple[pa.DataType, Path]] = {}
    for part in parts:
        try:
            schema = pq.read_schema(part)
        except Exception as exc:  # noqa: BLE001 - unreadable, not Parquet, or a broken footer
            raise InputError(f"{part}: part of table {name} cannot be read as Parquet ({_first_line(exc)}). "
                             "Remove the part or write it again.", file=str(part)) from exc
        # Partition folders (`kind=refund/`) give the column of their key; the reader takes the folder's value.
        folders = {f.partition("=")[0].strip().lower(): f for f in part.relative_to(folder).parts[:-1] if "=" in f}
        for column in schema:
            key = column.name.strip().lower()
            if key in folders:
                raise InputError(f"{part}: column {column.name} is in the file and also named by its partition folder "
                                 f"{folders[key]}/, whose value the reader would take instead of the file's; leave the "
                                 "column out of the files (partitioned writers do) or rename the folder.",
                                 file=str(part), column=key)
            if key in ("filename", "file_row_number"):
                raise InputError(f"{part}: column {column.name} has the name the Parquet reader gives its own column "
                                 "(the part's file, the row's position); rename it.", file=str(part), column=key)
            if key not in seen:
                seen[key] = (column.type, part)
                continue
            first, where = seen[key]
            if not _reconcilable(first, column.type):
                raise InputError(f"{folder}: column {key} is {first} in {where.name} but {column.type} in {part.name}; "
                                 "write the parts with one type for it.", file=str(part), column=key)


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet files of a table folder: `*.parquet` in any case, also in partition subfolders (`year=2026/`),
    without the hidden and `_`-prefixed files writers leave beside them (`_SUCCESS`, `.part.crc`)."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".parquet" and not p.is_dir()
                  and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts))


def _hive_layout(folder: Path, parts: list[Path]) -> bool:
    """Whether the parts sit in partition folders (`kind=refund/`), whose names then give a column's value.

    Raises InputError when some parts do and others sit directly in the table folder: that is no one layout."""
    inside = [any("=" in p for p in part.relative_to(folder).parts[:-1]) for part in parts]
    if any(inside) and not all(inside):
        loose = next(p for p, i in zip(parts, inside, strict=True) if not i)
        nested = next(p for p, i in zip(parts, inside, strict=True) if i)
        raise InputError(f"{folder}: {nested.relative_to(folder)} sits in a partition folder but "
                         f"{loose.relative_to(folder)} does not; keep every part in partition folders, or none.",
                         file=str(folder))
    return all(inside)


def _not_parts(folder: Path, table: str) -> list[IgnoredFile]:
    """Entries of a table folder that are not read as its parts, with why."""
    parts = set(parquet_parts(folder))
    out = []
    for entry in sorted(folder.rglob("*")):
        relative = entry.relative_to(folder)
        if entry.is_dir() or entry in parts or any(p.startswith((".", "_")) for p in relative.parts):
            continue
        out.append(IgnoredFile(f"{table}/{relative}", "not a .parquet file; a table folder holds Parquet parts"))
    return out


def _reconcilable(a, b) -> bool:
    import pyarrow.types as t

    def kind(x) -> str:
        if t.is_integer(x) or t.is_floating(x) or t.is_decimal(x):
            return "number"
        if t.is_string(x) or t.is_large_string(x) or t.is_null(x):
            return "text"
        if t.is_timestamp(x) or t.is_date(x):
            return "time"
        return str(x)

    ka, kb = kind(a), kind(b)
    return ka == kb or "text" in (ka, kb)  # text takes any value; validation then reads it as text


_DELIMITERS = (",", ";", "\t", "|")


def _csv_header(file: _TableFile) -> tuple[str, list[str]]:
    """The delimiter (the most frequent candidate on the header line) and the column names, lower-cased.

    Raises InputError on a duplicate column name: engines silently keep one of the two.
    """
    path = file.path
    with _open_text(file) as raw_handle:
        first = raw_handle.readline().decode("utf-8-sig", errors="replace")
    delimiter = file.delimiter or max(_DELIMITERS, key=first.count)
    names = [n.strip().lower() for n in next(csv.reader([first], delimiter=delimiter), [])]
    seen: set[str] = set()
    for column in names:
        if column and column in seen:
            raise InputError(f"{path}: column {column} appears twice in the header; keep one of them "
                             "(names are compared ignoring case).", file=str(path), column=column)
        seen.add(column)
    return delimiter, names


#: The CSV reader's own words for a record it could not split, as advice.
_UNPARSED_ADVICE = {
    "TOO MANY COLUMNS": "quote values that contain the delimiter",
    "MISSING COLUMNS": "give every row as many fields as the header (an empty field is fine)",
    "UNQUOTED VALUE": "a quoted value is not closed, or text follows its closing quote: write a quote inside a quoted "
                      "value as two quotes (\"\"); a quote never closed takes the rest of the file into this row",
    "INVALID ENCODING": "the row holds bytes that are not UTF-8: save the file as UTF-8",
    "LINE SIZE OVER MAXIMUM": "the row is longer than the CSV reader's 2 MB limit: check for a quote that is never closed",
}


def _csv_relation(location: str, delimiter: str, names: list[str], gz: bool, rejects: str | None = None) -> str:
    """DuckDB's strict RFC 4180 reader: quotes and doubled quotes, quoted delimiters and newlines, every value as
    text. A record with more or fewer fields than the header, or broken quoting, is skipped here and set aside
    (with `rejects`, DuckDB lists it in that table)."""
    columns = ", ".join(f"{_sql_string(n or f'column{i}')}: 'VARCHAR'" for i, n in enumerate(names))
    options = [f"header=true, auto_detect=false, columns={{{columns}}}", f"delim={_sql_string(delimiter)}",
               "quote='\"', escape='\"', strict_mode=true, ignore_errors=true"]
    if gz:
        options.append("compression='gzip'")
    if rejects:
        options.append(f"store_rejects=true, rejects_table='{rejects}_errors', rejects_scan='{rejects}_scans'")
    return f"read_csv({location}, {', '.join(options)})"


def _csv_unparsed(db: Any, file: _TableFile, delimiter: str, names: list[str],
                  into: str | None = None) -> tuple[tuple[int, str], ...]:
    """The records DuckDB's strict reader skips, as (row, reason), from one scan of the file that reads every
    column (the reader checks the text of the columns it reads only). With `into`, the records read are kept in
    that temporary table, numbered `_cx_g` in file order."""
    tag = f"_cxbench_rejects_{os.getpid()}_{next(_counter)}"
    relation = _csv_relation(_sql_string(str(file.path)), delimiter, names, file.gzip, tag)
    if into is not None:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT row_number() OVER () AS _cx_g, * FROM {relation}")
    else:
        every = ", ".join(f"max(length({_identifier(n or f'column{i}')}))" for i, n in enumerate(names))
        db.execute(f"SELECT count(*), {every} FROM {relation}").fetchall()  # fetched: the scan runs to the end
    # DuckDB creates the table on the first record it skips: none means every record was read.
    # The name written in, not passed as a parameter: DuckDB imports pandas to convert parameters (0.2 s).
    exists = db.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{tag}_errors'").fetchone()[0]
    found = db.execute(f"SELECT line, error_type, error_message FROM {tag}_errors ORDER BY line").fetchall() if exists else []
    db.execute(f"DROP TABLE IF EXISTS {tag}_errors")
    db.execute(f"DROP TABLE IF EXISTS {tag}_scans")
    # DuckDB reports a ragged record once per missing or extra field: the fewest (or most) found is the count.
    fields: dict[int, int] = {}
    kinds: dict[int, tuple[str, str]] = {}
    for line, kind, message in found:
        counted = re.search(r"Found: (\d+)", message or "")
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS") and counted:
            n = int(counted.group(1))
            fields[line] = max(fields.get(line, n), n) if kind == "TOO MANY COLUMNS" else min(fields.get(line, n), n)
        kinds.setdefault(line, (kind, message))
    out = []
    for line, (kind, message) in sorted(kinds.items()):
        if line in fields:
            reason = f"the row has {fields[line]} fields, the header {len(names)}: {_UNPARSED_ADVICE[kind]}"
        else:
            reason = _UNPARSED_ADVICE.get(kind, f"the row could not be read as CSV ({str(kind).lower()}: {message})")
        # `line` counts records (a quoted newline does not start one) and the header: the record's row is one less.
        out.append((int(line) - 1, reason))
    return tuple(out)


_counter = itertools.count()


def _numbered_csv_sql(db: Any, kept: str, location: str, unparsed: tuple[tuple[int, str], ...]) -> str:
    """SQL numbering the records kept in table `kept` by their position in the file, skipped records included."""
    if not unparsed:
        return f"SELECT CAST(_cx_g AS BIGINT) AS _row, {location} AS _file, * EXCLUDE (_cx_g) FROM {kept}"
    # The i-th skipped record (row r_i) has r_i - i kept records before it, so the g-th kept record is row
    # g + (the number of skipped records with r_i - i < g): an as-of join on a small table of those steps.
    steps: dict[int, int] = {}
    for i, (row, _) in enumerate(unparsed, start=1):
        steps[row - i] = i
    table = f"{kept}_steps"
    values = ", ".join(f"({before}, {count})" for before, count in steps.items())
    db.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM (VALUES {values}) AS s(_cx_before, _cx_skipped)")
    return (f"SELECT CAST(k._cx_g + coalesce(s._cx_skipped, 0) AS BIGINT) AS _row, {location} AS _file, "
            f"k.* EXCLUDE (_cx_g) FROM {kept} AS k ASOF LEFT JOIN {table} AS s ON k._cx_g > s._cx_before")


def _read_csv(con: BaseBackend, name: str, file: _TableFile) -> tuple[ibis.Table, tuple[tuple[int, str], ...]]:
    """A CSV file read strictly (RFC 4180), every value as text, numbered in file order, and its unreadable records.

    Both engines parse with DuckDB's reader first, so they agree on what a record is: DuckDB reads the file
    itself; Spark reads it with its own reader when every record is well formed, and otherwise is handed the
    records DuckDB kept, numbered.
    """
    delimiter, names = _csv_header(file)
    location = _sql_string(str(file.path))
    kept = f"_cxbench_csv_{name}_{os.getpid()}_{next(_counter)}"
    if con.name == "duckdb":
        # Parsed once into the engine (validation then types and caches it): the scan that lists the skipped
        # records is the one that keeps the others, so the two always agree.
        db = con.con  # the DuckDB connection under Ibis's
        unparsed = _csv_unparsed(db, file, delimiter, names, into=kept)
        return _lower_case_columns(con.sql(_numbered_csv_sql(db, kept, location, unparsed))), unparsed
    db = side_duckdb()
    try:
        unparsed = _csv_unparsed(db, file, delimiter, names)
        view = f"_cxbench_raw_{name}"
        if not unparsed:
            # As text, like DuckDB's all_varchar: Spark's own type inference would read "2026-10" as a timestamp.
            con.read_csv(str(file.path), table_name=view, header=True, inferSchema=False, multiLine=True,
                         sep=delimiter, escape='"')
            return _number_rows(con, view, origin=str(file.path)), unparsed
        _csv_unparsed(db, file, delimiter, names, into=kept)
        rows = db.execute(_numbered_csv_sql(db, kept, location, unparsed)).arrow()
    finally:
        db.close()
    rows = rows.read_all() if hasattr(rows, "read_all") else rows
    # A temporary view of its own name (Ibis would write a catalog table into spark-warehouse/).
    session = con._session  # noqa: SLF001 - Ibis's PySpark backend holds the SparkSession here
    session.createDataFrame(rows.to_pandas()).createOrReplaceTempView(kept)
    return _lower_case_columns(con.table(kept)), unparsed


def _jsonl_malformed(con: BaseBackend, file: _TableFile) -> str | None:
    """Why DuckDB's JSON reader refuses a JSON Lines file as a whole (a line that is not JSON), else None.

    Only a malformed line is answered here: any other failure is left to the normal read, which names the file."""
    import duckdb

    db = con.con if con.name == "duckdb" else side_duckdb()
    location = _sql_string(str(file.path))
    options = "format='newline_delimited'" + (", compression='gzip'" if file.gzip else "")
    try:
        db.execute(f"SELECT count(*) FROM read_json({location}, {options}, columns={{'_cx': 'JSON'}})").fetchall()
    except duckdb.Error as exc:
        return str(exc) if "Malformed JSON" in str(exc) else None
    finally:
        if db is not getattr(con, "con", None):
            db.close()
    return None


_JSON_KINDS = {"ARRAY": "a JSON array", "VARCHAR": "a JSON string", "BIGINT": "a JSON number", "UBIGINT": "a JSON number",
               "DOUBLE": "a JSON number", "BOOLEAN": "JSON true or false", "NULL": "JSON null"}

#: Splits nothing: every line of a JSON Lines file is read whole as one text value (a JSON text cannot hold
#: these control characters unescaped, so a line holding them is not JSON and is set aside anyway).
_WHOLE_LINE = "chr(30) || chr(31)"


def _read_jsonl_lines(con: BaseBackend, name: str, file: _TableFile,
                      malformed: str) -> tuple[ibis.Table, tuple[tuple[int, str], ...]]:
    """A JSON Lines file with lines that are not JSON objects, read line by line: every other line is kept as a
    record (each value as text, as the JSON reader gives it), and each bad line is set aside with its number and
    why, as a CSV record that cannot be split is. `_row` is the line number (blank lines count but are no rows)."""
    location = _sql_string(str(file.path))
    kept = f"_cxbench_jsonl_{name}_{os.getpid()}_{next(_counter)}"
    db = con.con if con.name == "duckdb" else side_duckdb()
    try:
        lines = (f"read_csv({location}, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
                 f"delim={_WHOLE_LINE}, quote='', escape='', strict_mode=false, max_line_size=100000000"
                 + (", compression='gzip'" if file.gzip else "") + ")")
        # CASE, not AND: json_type fails on text that is not JSON, and AND does not promise to stop early.
        db.execute(f"CREATE OR REPLACE TEMP TABLE {kept} AS SELECT _cx_line, line, CASE WHEN json_valid(line) "
                   f"THEN json_type(line) ELSE 'TEXT' END AS _cx_type FROM (SELECT CAST(row_number() OVER () AS "
                   f"BIGINT) AS _cx_line, line FROM {lines}) WHERE trim(coalesce(line, '')) <> ''")
        bad = db.execute(f"SELECT _cx_line, _cx_type FROM {kept} WHERE _cx_type <> 'OBJECT' ORDER BY _cx_line").fetchall()
        keys = [row[0] for row in db.execute(
            f"SELECT k FROM (SELECT unnest(json_keys(line)) AS k, _cx_line FROM {kept} WHERE _cx_type = 'OBJECT') "
            "GROUP BY k ORDER BY min(_cx_line)").fetchall()]
        # A JSON Pointer per key (RFC 6901: ~ is ~0, / is ~1), so keys with any characters are read exactly.
        values = "".join(f", json_extract_string(line, {_sql_string('/' + k.replace('~', '~0').replace('/', '~1'))})"
                         f" AS {_identifier(k)}" for k in keys)
        sql = f"SELECT _cx_line AS _row, {location} AS _file{values} FROM {kept} WHERE _cx_type = 'OBJECT'"
        unparsed = tuple(
            (int(line), "the line is not valid JSON (JSON Lines holds one JSON object per line): fix or remove "
                        "the line, or export the file again" if kind == "TEXT" else
             f"the line is {_JSON_KINDS.get(str(kind), 'a JSON value')}, not an object of named values: fix or "
             "remove the line")
            for line, kind in bad)
        if con.name == "duckdb":
            return _lower_case_columns(con.sql(sql)), unparsed
        rows = db.execute(sql).arrow()
    finally:
        if db is not getattr(con, "con", None):
            db.close()
    rows = rows.read_all() if hasattr(rows, "read_all") else rows
    session = con._session  # noqa: SLF001 - Ibis's PySpark backend holds the SparkSession here
    session.createDataFrame(rows.to_pandas()).createOrReplaceTempView(kept)
    return _lower_case_columns(con.table(kept)), unparsed


def _read_with_row_numbers(con: BaseBackend, name: str, file: _TableFile) -> ibis.Table:
    """A JSON or Parquet table (file or folder of parts) numbered in file order."""
    path, fmt = file.path, file.fmt
    if con.name == "duckdb":
        location = _sql_string(str(path))
        if fmt in ("json", "jsonl"):
            sql = f"SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {location} AS _file, * FROM {_json_relation(con, file)}"
        else:
            parts = parquet_parts(path) if path.is_dir() else []
            files = ("[" + ", ".join(_sql_string(str(p)) for p in parts) + "]") if path.is_dir() else location
            hive = _hive_layout(path, parts) if parts else False
            # union_by_name: parts are matched by column name, and a column one part lacks is null there (by
            # position, a missing column would shift or drop another for every part). hive_partitioning: a part in
            # `kind=refund/` has kind = refund (Hive, Spark and BigQuery write the partition column in the path only).
            sql = (f"SELECT CAST(file_row_number + 1 AS BIGINT) AS _row, filename AS _file, "
                   f"* EXCLUDE (file_row_number, filename) FROM read_parquet({files}, file_row_number=true, "
                   f"filename=true, union_by_name=true, hive_partitioning={'true' if hive else 'false'})")
        return _lower_case_columns(con.sql(sql))
    # Any other engine (Spark) reads with its own reader, then numbers the rows in file order.
    view = f"_cxbench_raw_{name}"
    if fmt in ("json", "jsonl"):
        con.read_json(str(path), table_name=view, **({"multiLine": True} if fmt == "json" else {}))
    else:
        nanos = _nanosecond_timestamps(parquet_parts(path) if path.is_dir() else [path]) if con.name == "pyspark" else {}
        if nanos:
            # Spark cannot read Parquet's nanosecond timestamps (pandas' default; PARQUET_TYPE_ILLEGAL), but reads them
            # as their count of nanoseconds when asked: they are made timestamps again below.
            con._session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")  # noqa: SLF001 - the SparkSession
        con.read_parquet(str(path), table_name=view, mergeSchema=True)
        if nanos:
            view = _spark_microseconds(con, view, nanos)
    return _number_rows(con, view, origin=str(path))


def _nanosecond_timestamps(parts: list[Path]) -> dict[str, bool]:
    """The columns the Parquet `parts` store as nanosecond timestamps, each with whether it is in UTC (a time zone
    was set) rather than a wall clock; from the files' footers only."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    found: dict[str, bool] = {}
    for part in parts:
        for column in pq.read_schema(part):
            if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
                found[column.name] = column.type.tz is not None
    return found


def _spark_microseconds(con: BaseBackend, view: str, nanos: dict[str, bool]) -> str:
    """A view of `view` whose nanosecond counts (the columns of `nanos`) are microsecond timestamps again, as Spark
    reads them from Parquet: in UTC (TIMESTAMP) when the file set a time zone, else wall clocks (TIMESTAMP_NTZ; the
    session's time zone is UTC). The nanoseconds are dropped toward zero, as DuckDB casts TIMESTAMP_NS."""
    session = con._session  # noqa: SLF001 - Ibis's PySpark backend holds the SparkSession here

    def column(name: str) -> str:
        quoted = "`" + name.replace("`", "``") + "`"
        if name not in nanos:
            return quoted
        micros = f"timestamp_micros({quoted} div 1000)"
        return f"{micros if nanos[name] else f'CAST({micros} AS TIMESTAMP_NTZ)'} AS {quoted}"

    columns = ", ".join(column(name) for name in session.table(f"`{view}`").columns)
    typed = f"{view}_us"
    session.sql(f"SELECT {columns} FROM `{view}`").createOrReplaceTempView(typed)
    return typed


def _json_relation(con: BaseBackend, file: _TableFile) -> str:
    """The JSON records with every value as text: one cell of another type (a number written "9", an object
    where text was expected) then sets aside only its own row, not the column's every row."""
    location = _sql_string(str(file.path))
    options = "format='auto'" + (", compression='gzip'" if file.gzip else "")
    # Every key of every record (sample_size=-1: a key that first appears after DuckDB's 20,480-record sample
    # would otherwise be dropped), and keys that appear rarely stay columns rather than one map of everything.
    found = f"{options}, sample_size=-1, map_inference_threshold=-1, field_appearance_threshold=0"
    names = [row[0] for row in con.con.execute(f"DESCRIBE SELECT * FROM read_json({location}, {found})").fetchall()]
    columns = ", ".join(f"{_sql_string(n)}: 'JSON'" for n in names)
    as_text = ", ".join(f"json_extract_string({_identifier(n)}, '$') AS {_identifier(n)}" for n in names)
    return f"(SELECT {as_text} FROM read_json({location}, {options}, columns={{{columns}}}))"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_table(con: BaseBackend, name: str) -> ibis.Table:
    spec = TABLES_BY_NAME[name]
    schema = {c.name: "string" for c in spec.columns} | {"_row": "int64", "_file": "string"}
    return con.create_table(f"_cxbench_empty_{name}", schema=ibis.schema(schema), temp=_supports_temp(con),
                            overwrite=True)


def _supports_temp(con: BaseBackend) -> bool:
    return con.name == "duckdb"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
    seen: dict[str, str] = {}
    for column in expr.columns:
        key = column.strip().lower()
        if key in seen:
            raise InputError(f"columns {seen[key]!r} and {column!r} are one name once case and spaces are ignored; "
                             "keep one of them.", column=key)
        seen[key] = column
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
    if not tables:
        found = ", ".join(sorted(names.values())[:20]) or "none"
        raise InputError(f"{location}: no table named after a contract table (tables found: {found}). Name them "
                         f"{expected_file_names()} (any case), or create views with those names.", file=location)
    return Dataset(location=location, con=con, tables=tables)


def describe(value: Any) -> str:
    """A short description of a source for the scorecard's `source` field."""
    if isinstance(value, BaseBackend):
        return f"{value.name} connection"
    return str(value)


#: How an export file's name ends, for `read_export_files`.
_EXPORT_FILE = re.compile(r".*\.(?P<fmt>csv|tsv|txt|parquet|json|jsonl|ndjson)(?P<gz>\.gz)?", re.IGNORECASE)


def read_export_files(con: BaseBackend, label: str, paths: list[Path]) -> RawTable:
    """Files of one vendor export (any names: `events_20240101.json`, `orders_export_1.csv`) read as one table with
    `_row` (the record's position in its file) and `_file`, for the adapters (`cxbench.adapters`).

    CSV is read strictly as for a contract table (every value as text; records that cannot be split are in
    `unparsed` with their file); JSON keeps its nesting (GA4's `event_params`), typed by DuckDB's detection; Parquet
    is read in place with its types. Several files are matched by column name (a column one file lacks is null
    there). DuckDB only: a vendor's nested JSON is read with DuckDB's JSON reader.
    """
    if con.name != "duckdb":
        raise UsageError("--from-format and --mapping read the export with DuckDB: drop --engine spark, or run "
                         "cxbench convert first and give the Parquet folder it writes to Spark")
    if not paths:
        raise InputError(f"{label}: no file to read", file=label)
    kinds = set()
    files = []
    for path in paths:
        match = _EXPORT_FILE.fullmatch(path.name)
        if match is None:
            raise InputError(f"{path}: not a .csv, .tsv, .json, .jsonl or .parquet file (optionally .gz)", file=str(path))
        fmt = {"tsv": "csv", "txt": "csv", "ndjson": "jsonl"}.get(match["fmt"].lower(), match["fmt"].lower())
        kinds.add("json" if fmt == "jsonl" else fmt)
        files.append(_TableFile(path, fmt, bool(match["gz"]), "\t" if match["fmt"].lower() == "tsv" else None))
    if len(kinds) > 1:
        raise InputError(f"{label}: files of different formats ({', '.join(p.name for p in paths)}); export them in "
                         "one format", file=label)
    origin = str(paths[0]) if len(paths) == 1 else str(paths[0].parent)
    safe = re.sub(r"[^a-z0-9_]", "_", label.lower())
    readable = [f for f in files if f.fmt == "parquet" or _check_text_file(f) is None]  # empty files have no rows
    if not readable:
        return RawTable(label, origin, con.sql("SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _file "
                                               "WHERE false"), note="the file is empty")
    try:
        if files[0].fmt == "csv":
            parts, unparsed = [], []
            for file in readable:
                expr, bad = _read_csv(con, safe, file)
                parts.append(expr)
                unparsed.extend((row, reason, str(file.path)) for row, reason in bad)
            expr = _union_by_name(parts)
            read_first_row(con, expr)
            return RawTable(label, origin, expr, text_source=True, unparsed=tuple(unparsed))
        listed = "[" + ", ".join(_sql_string(str(f.path)) for f in readable) + "]"
        if files[0].fmt == "parquet":
            sql = (f"SELECT CAST(file_row_number + 1 AS BIGINT) AS _row, filename AS _file, "
                   f"* EXCLUDE (file_row_number, filename) FROM read_parquet({listed}, file_row_number=true, "
                   f"filename=true, union_by_name=true)")
        else:
            # DuckDB reads the files in order and keeps it (preserve_insertion_order): the scan position `_g`
            # numbers each file's records in file order.
            sql = (f"SELECT CAST(row_number() OVER (PARTITION BY filename ORDER BY _g) AS BIGINT) AS _row, "
                   f"filename AS _file, * EXCLUDE (_g, filename) FROM (SELECT row_number() OVER () AS _g, * FROM "
                   f"read_json({listed}, format='auto', filename=true, union_by_name=true, "
                   f"maximum_object_size=16777216))")
        table = f"_cxbench_export_{safe}_{os.getpid()}_{next(_counter)}"
        # Parsed once (a JSON export is read by several tables of the adapter).
        con.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        expr = _lower_case_columns(con.table(table))
        return RawTable(label, origin, expr)
    except (InputError, UsageError):  # UsageError: $CXBENCH_MEMORY_LIMIT of the DuckDB that pre-parses for Spark
        raise
    except Exception as exc:  # noqa: BLE001 - the engine's parse errors become one line naming the file
        if out_of_memory(exc):  # on another engine, the DuckDB that pre-parsed the file
            raise out_of_memory_error(str(origin), "reading", exc, side=con.name != "duckdb") from exc
        raise InputError(f"{origin}: could not be read as {files[0].fmt.upper()} ({_first_line(exc)}). Export it "
                         "again.", file=origin) from exc


def _union_by_name(parts: list[ibis.Table]) -> ibis.Table:
    if len(parts) == 1:
        return parts[0]
    names: list[str] = []
    for part in parts:
        names.extend(c for c in part.columns if c not in names)
    aligned = [p.select(*[(p[c].cast("string") if c not in ("_row",) else p[c]).name(c) if c in p.columns
                          else ibis.null("string").name(c) for c in names]) for p in parts]
    return ibis.union(*aligned)


def engine_connection(engine: str | BaseBackend | None = None, memory_limit: str | None = None) -> BaseBackend:
    """The connection that reads a folder: DuckDB (default), Spark, or the one given."""
    return _engine_connection(engine, memory_limit)
