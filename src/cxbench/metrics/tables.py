"""Small helpers for building a metric's rows from several tables."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def union_rows(first: ir.Table, *rest: ir.Table) -> ir.Table:
    """UNION ALL of tables with the same columns, each cast to the first one's types: engines type the same
    column differently (a timestamp read from text is `timestamp(6)` on DuckDB and `timestamp` on Spark; a
    date cast to a timestamp has no scale on either)."""
    schema = first.schema()
    parts = [first, *(t.select(*[t[c].cast(schema[c]).name(c) for c in schema.names]) for t in rest)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
