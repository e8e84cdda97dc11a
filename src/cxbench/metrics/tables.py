"""Small helpers for building a metric's rows from several tables."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from cxbench.core.registry import MetricContext


def union_rows(first: ir.Table, *rest: ir.Table) -> ir.Table:
    """UNION ALL of tables with the same columns, each cast to the first one's types: engines type the same
    column differently (a timestamp read from text is `timestamp(6)` on DuckDB and `timestamp` on Spark; a
    date cast to a timestamp has no scale on either)."""
    schema = first.schema()
    parts = [first, *(t.select(*[t[c].cast(schema[c]).name(c) for c in schema.names]) for t in rest)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def with_acquisition_channel(ctx: MetricContext, rows: ir.Table) -> ir.Table:
    """`rows` with the `acquisition_channel` of the customer in `_entity` (customers table), so a metric can be
    broken down by where its customers came from, as CAC and new_customers are; unchanged when the customers table
    has no such column (the engine then skips the breakdown). customer_id is the customers table's key (its
    duplicates count once), so the join adds no rows and the overall value stays the same."""
    if not ctx.has_column("customers", "acquisition_channel"):
        return rows
    customers = ctx.table("customers")
    lookup = customers.select(_acq_customer=customers.customer_id, acquisition_channel=customers.acquisition_channel)
    return rows.left_join(lookup, rows._entity == lookup._acq_customer).drop("_acq_customer")
