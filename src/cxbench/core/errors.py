"""Errors and warnings raised by cxbench."""

from __future__ import annotations


class CxbenchError(Exception):
    """Base class of every error cxbench raises on purpose."""


class InputError(CxbenchError):
    """Input that cannot be used at all: an unreadable file or a missing required column.

    The message is one line naming the file, the column and the fix; the CLI exits with code 2.
    """

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.column = column


class UsageError(CxbenchError):
    """An option that makes no sense (an unknown period, a segment column that does not exist...)."""


class CxbenchWarning(UserWarning):
    """A warning from cxbench; the test suite turns these into errors."""


def is_engine_error(exc: BaseException) -> bool:
    """Whether `exc` comes from the engine (DuckDB, Spark) reading data, rather than from cxbench's own code."""
    return any(k.__module__.split(".")[0] in ("duckdb", "_duckdb", "pyspark", "py4j")
               for k in type(exc).__mro__)
