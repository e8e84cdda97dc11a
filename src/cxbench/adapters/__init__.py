"""Adapters: a vendor's own export read as cxbench's contract tables (`--from-format`), and the mapping file
for any other export (`--mapping`).

`ADAPTERS` is the registry: one literal tuple, one module per source. docs/adapters.md describes each.
"""

from __future__ import annotations

from pathlib import Path

from ibis.backends import BaseBackend

from cxbench.adapters import (
    delighted,
    ga4,
    posthog,
    qualtrics,
    segment,
    shopify,
    shopify_fivetran,
    stripe,
    typeform,
    zendesk,
)
from cxbench.adapters.base import Adapter, open_with_adapter
from cxbench.core.errors import UsageError
from cxbench.core.sources import Dataset, engine_connection

ADAPTERS: tuple[Adapter, ...] = (
    ga4.ADAPTER,
    stripe.ADAPTER,
    shopify.ADAPTER,
    shopify_fivetran.ADAPTER,
    zendesk.ADAPTER,
    posthog.ADAPTER,
    segment.ADAPTER,
    qualtrics.ADAPTER,
    typeform.ADAPTER,
    delighted.ADAPTER,
)

ADAPTERS_BY_NAME: dict[str, Adapter] = {a.name: a for a in ADAPTERS}


def adapter(name: str) -> Adapter:
    """The adapter called `name`; a UsageError listing the known ones otherwise."""
    found = ADAPTERS_BY_NAME.get(name.strip().lower())
    if found is None:
        raise UsageError(f"--from-format {name}: unknown; use one of {', '.join(ADAPTERS_BY_NAME)}, or --mapping "
                         "FILE for any other export")
    return found


def open_export(source: str | Path, *, from_format: str | None = None, mapping: str | Path | None = None,
                engine: str | BaseBackend | None = None, only: set[str] | None = None,
                memory_limit: str | None = None) -> Dataset:
    """The contract tables of a vendor export folder, read with the adapter `from_format` or the mapping file."""
    if from_format is not None and mapping is not None:
        raise UsageError("give --from-format or --mapping, not both")
    if from_format is None and mapping is None:
        raise UsageError("name the export's format with --from-format SOURCE, or give --mapping FILE")
    if engine not in (None, "duckdb") and not (isinstance(engine, BaseBackend) and engine.name == "duckdb"):
        raise UsageError("--from-format and --mapping read the export with DuckDB: drop --engine/--spark-master, or "
                         "run cxbench convert first and give the Parquet folder it writes to Spark")
    con = engine_connection(engine, memory_limit)
    if mapping is not None:
        from cxbench.adapters.mapping import load_mapping

        return open_with_adapter(source, load_mapping(mapping), con, only)
    assert from_format is not None
    return open_with_adapter(source, adapter(from_format), con, only)


__all__ = ["ADAPTERS", "ADAPTERS_BY_NAME", "Adapter", "adapter", "open_export"]
