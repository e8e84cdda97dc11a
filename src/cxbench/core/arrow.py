"""Query results as Arrow tables, without pandas.

Ibis's DuckDB `to_pyarrow()` and `execute()` import pandas (its converters): 0.25-0.3 s of a 3 s one-metric run on
M (MAU: 3.0 s instead of 3.3 s), where the event and survey metrics need no pandas at all. (PyArrow imports it to
build an array from a Python list, so the metrics with a period table still do.) On DuckDB the compiled SQL runs on
the connection and the Arrow result is cast to the expression's types, as Ibis does; any other backend goes
through Ibis.
"""

from __future__ import annotations

import functools
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend


def register_in_memory_tables(con: BaseBackend, expr: ir.Expr) -> None:
    """Register the in-memory tables (period grids, lookups) `expr` reads with the backend, before SQL compiled
    from it runs outside Ibis's own execution (CREATE ... AS, a rewritten query, or PySpark's `cache()`, which
    Ibis 12 runs without registering them: TABLE_OR_VIEW_NOT_FOUND)."""
    register = getattr(con, "_run_pre_execute_hooks", None)
    if register is not None:
        register(expr)


def to_arrow(con: BaseBackend, expr: ir.Table) -> pa.Table:
    """`expr`'s rows as an Arrow table of its schema's types (`con.to_pyarrow(expr)`, without pandas on DuckDB)."""
    if getattr(con, "name", None) == "duckdb":
        return _converter().convert_table(_duckdb_arrow(con, expr), expr.schema())
    return con.to_pyarrow(expr)


def _duckdb_arrow(con: Any, expr: ir.Table) -> pa.Table:
    """`expr` compiled and run on the DuckDB connection under Ibis's, its Arrow result as DuckDB types it."""
    register_in_memory_tables(con, expr)
    return con.con.sql(str(con.compile(expr))).to_arrow_table()


def sql_to_arrow(con: Any, sql: str, schema: ibis.Schema) -> pa.Table:
    """A query's result as an Arrow table of `schema`'s types. On DuckDB the SQL goes straight to the connection:
    `con.sql()` would have Ibis parse it back and compile it again (about 2 s over a full scorecard's queries)."""
    if getattr(con, "name", None) == "duckdb":
        return _converter().convert_table(con.con.sql(sql).to_arrow_table(), schema)
    return con.to_pyarrow(con.sql(sql, schema=schema))


@functools.cache
def _converter() -> Any:
    """Ibis's Arrow converter with its DuckDB backend's one addition (in a module that imports pandas): DuckDB types
    an untyped null column INTEGER, which Arrow cannot cast to its null type."""
    from ibis.formats.pyarrow import PyArrowData

    class DuckDBArrow(PyArrowData):
        @classmethod
        def convert_column(cls, column: Any, dtype: Any) -> Any:
            return pa.nulls(len(column)) if dtype.is_null() else super().convert_column(column, dtype)

    return DuckDBArrow


def read_first_row(con: BaseBackend, expr: ir.Table) -> None:
    """Run `expr` for its first row, so a file the engine cannot parse fails now. The row is not converted to the
    expression's types: a column Arrow cannot cast to its Ibis type (an INTERVAL) is no reason to refuse a file."""
    if getattr(con, "name", None) == "duckdb":
        _duckdb_arrow(con, expr.limit(1))
    else:
        con.execute(expr.limit(1))


def to_scalar(con: BaseBackend, expr: ir.Scalar) -> Any:
    """`expr`'s value as a Python value (`con.execute(expr)`, without pandas on DuckDB)."""
    return to_arrow(con, expr.as_table()).column(0)[0].as_py()
