"""Top paths after an entry page (`cxbench paths --entry /pricing`): the most frequent sequences of the next N
pages viewed in the same session after a visitor reaches the page.

- Sessions are the scorecard's (`metrics/sessions.py`: the data's session_id, else a new session after
  `--session-timeout` minutes without an event); pageviews are the `pageview` events (`--event-name`).
- A session counts once, from its **first** view of the entry page (landing on it or reaching it later), like a
  start point in PostHog's Paths. The path is the pages of the next N pageviews of that session, in order
  (`lead(page, 1..N)` over the session's pageviews ordered by time, then place in the data); a session that ends
  sooner ends its path with "(end of session)". A reload of the same page is a step of its own.
- share = sessions following the path ÷ sessions that reached the entry page × 100.

One window pass and one group-by in the engine; only the path counts are brought back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from cxbench.core.calendar import before_day_after, midnight
from cxbench.core.errors import UsageError
from cxbench.core.registry import MetricContext
from cxbench.metrics.sessions import sessionized

#: The label of the end of a session in a path shorter than N pages.
END = "(end of session)"
MAX_LENGTH = 10
_DECIMALS = 6


@dataclass(frozen=True)
class PagePath:
    """One sequence of next pages and how many sessions followed it."""

    pages: tuple[str | None, ...]  # the next N pages; None once the session ended
    sessions: int
    share_pct: float

    @property
    def label(self) -> str:
        shown = []
        for page in self.pages:
            shown.append(END if page is None else page)
            if page is None:
                break
        return " → ".join(shown)

    def to_dict(self) -> dict[str, Any]:
        return {"pages": list(self.pages), "path": self.label, "sessions": self.sessions,
                "share_pct": round(self.share_pct, _DECIMALS)}


@dataclass(frozen=True)
class TopPaths:
    """The result: the entry page, N, the sessions that reached the entry page and the most frequent paths."""

    entry: str
    length: int
    limit: int
    sessions: int  # sessions that reached the entry page
    distinct_paths: int
    paths: tuple[PagePath, ...]
    start: Any = None
    end: Any = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        reason = None if self.sessions else f"no session viewed {self.entry}"
        return {**self.meta, "analysis": "paths",
                "settings": {"entry": self.entry, "length": self.length, "limit": self.limit,
                             "from": self.start.isoformat() if self.start else None,
                             "to": self.end.isoformat() if self.end else None},
                "sessions": self.sessions, "distinct_paths": self.distinct_paths,
                "paths": [p.to_dict() for p in self.paths], **({"reason": reason} if reason else {})}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def records(self) -> list[dict[str, Any]]:
        """One flat row per path (the CSV): rank, step_1..step_N, sessions, share_pct."""
        return [{"rank": i, **{f"step_{k}": (END if page is None else page) for k, page in enumerate(p.pages, 1)},
                 "sessions": p.sessions, "share_pct": round(p.share_pct, _DECIMALS)}
                for i, p in enumerate(self.paths, start=1)]


def path_counts(ctx: MetricContext, entry: str, length: int) -> ir.Table:
    """Sessions per sequence of next pages (`_p1`..`_pN`, null after the session's end), from the first view of
    `entry` in each session whose view falls between --from and --to."""
    e = sessionized(ctx, ("event", "page"))
    e = e.filter(e.event == ctx.event("pageview"))
    session = [e.user_id, e._skey]
    window = ibis.window(group_by=session, order_by=[e.ts, e._row])
    e = e.mutate(_n=ibis.row_number().over(window),
                 **{f"_p{k}": e.page.lead(k).over(window) for k in range(1, length + 1)})
    is_entry = e.page == entry
    options = ctx.options
    if options.start is not None:
        is_entry = is_entry & (e.ts >= ibis.literal(midnight(options.start), type="timestamp"))
    if options.end is not None:
        is_entry = is_entry & before_day_after(e.ts, options.end)
    first = ibis.cases((is_entry, e._n), else_=ibis.null("int64")).min().over(ibis.window(group_by=session))
    e = e.mutate(_first=first)
    starts = e.filter(e._n == e._first)
    keys = [f"_p{k}" for k in range(1, length + 1)]
    return starts.group_by(keys).aggregate(_sessions=starts.count())


def compute_paths(ctx: MetricContext, entry: str, *, length: int = 3, limit: int = 10) -> TopPaths:
    """The `limit` most frequent paths of `length` pages after `entry` (UsageError names what is missing)."""
    if not entry or not entry.strip():
        raise UsageError("--entry: give the page the paths start from, as events.page has it, e.g. /pricing")
    if not 1 <= length <= MAX_LENGTH:
        raise UsageError(f"--length {length}: give 1 to {MAX_LENGTH} pages")
    if limit < 1:
        raise UsageError(f"--limit {limit}: give a positive number of paths")
    if "events" not in ctx.tables:
        raise UsageError("no events table: paths need events (user_id, ts, event, page) as events.csv, "
                         "events.parquet or a database table")
    if not ctx.has_column("events", "page"):
        raise UsageError("events has no page column: paths need the page path of each pageview (events.page)")
    counts = path_counts(ctx, entry, length)
    totals = counts.aggregate(_all=counts._sessions.sum(), _distinct=counts.count())
    ranked = counts.order_by([counts._sessions.desc(), *(counts[f"_p{k}"].asc(nulls_first=True)
                                                         for k in range(1, length + 1))]).limit(limit)
    (total_row,) = ctx.con.to_pyarrow(totals).to_pylist()
    total, distinct = int(total_row["_all"] or 0), int(total_row["_distinct"] or 0)
    paths = tuple(PagePath(tuple(row[f"_p{k}"] for k in range(1, length + 1)), int(row["_sessions"]),
                           100 * int(row["_sessions"]) / total)
                  for row in ctx.con.to_pyarrow(ranked).to_pylist()) if total else ()
    return TopPaths(entry, length, limit, total, distinct, paths, ctx.options.start, ctx.options.end)


__all__ = ["END", "PagePath", "TopPaths", "compute_paths", "path_counts"]
