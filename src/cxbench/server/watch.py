"""`cxbench watch`: post what is new since the last run to a team's Slack or Teams incoming webhook.

Each run computes the scorecard, takes its findings and the latest records whose change from the previous
period is significant, leaves out those a state file says were posted before, and posts the rest as one
message: `{"text": ...}`, the body both Slack's and Teams' incoming webhooks accept, with the items as data in
`cxbench` beside it. The state file is written only after the post succeeded, so a failed post is retried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxbench.core.errors import UsageError
from cxbench.core.registry import format_value
from cxbench.output import redact, write_atomically

#: seconds a webhook may take to answer
POST_TIMEOUT = 15
#: most items listed in one message (the rest are counted)
MESSAGE_ITEMS = 20
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def every_seconds(text: str) -> float:
    """`--every 1h`: a number and a unit, s, m, h or d (at least a minute apart)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not match:
        raise UsageError(f"--every {text!r}: write a number and a unit, e.g. 30m, 1h or 1d")
    seconds = float(match[1]) * _UNITS[match[2]]
    if seconds < 60:
        raise UsageError(f"--every {text}: at least 1m between runs")
    return seconds


def default_state_path(source: str) -> Path:
    """Where the state of `source` is kept: $CXBENCH_CACHE_DIR or ~/.cache/cxbench, one file per source (never in
    the source folder: the server and the runs read it as it is)."""
    base = os.environ.get("CXBENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cxbench")
    if base == "off":
        base = os.path.join(os.path.expanduser("~/.cache"), "cxbench")
    digest = hashlib.sha256(str(Path(source).resolve() if "://" not in source else source).encode()).hexdigest()[:16]
    return Path(base) / f"watch-{digest}.json"


@dataclass(frozen=True)
class Item:
    """One thing to tell the team: a finding or a significant change, with the key that says it was told."""

    key: str
    kind: str
    text: str
    data: dict[str, Any]


def _segment(segment: Any) -> str:
    return "".join(f" [{k}={v}]" for k, v in sorted(dict(segment).items()))


def items_of(card: Any) -> list[Item]:
    """The findings and the latest significant changes of a scorecard, each with a stable key."""
    items: list[Item] = []
    for f in card.findings:
        key = json.dumps(["finding", f.kind, f.metric, f.period_start and f.period_start.isoformat(),
                          sorted(dict(f.segment).items())], default=str)
        items.append(Item(key, "finding", f"{f.name}{_segment(f.segment)}: {f.message}", f.to_dict()))
    for r in card.latest():
        change = r.change
        if change is None or not change.significant:
            continue
        key = json.dumps(["change", r.id, r.period_start and r.period_start.isoformat(),
                          sorted(dict(r.segment).items())], default=str)
        arrow = "up" if (change.delta or 0) > 0 else "down"
        text = (f"{r.id}{_segment(r.segment)} {arrow} to {format_value(r.value, r.unit)} from "
                f"{format_value(change.previous, r.unit)} ({r.period_start}, significant)")
        items.append(Item(key, "change", text, r.to_dict()))
    return items


def message(source: str, new: list[Item]) -> dict[str, Any]:
    """The webhook body: Slack and Teams read `text` (Markdown-ish lines); `cxbench` carries the items as data."""
    lines = [f"*cxbench* {redact(source)}: {len(new)} new since the last run"]
    lines += [f"• {item.text}" for item in new[:MESSAGE_ITEMS]]
    if len(new) > MESSAGE_ITEMS:
        lines.append(f"… and {len(new) - MESSAGE_ITEMS} more (cxbench run --format json lists them all)")
    return {"text": "\n".join(lines), "cxbench": [{"kind": i.kind, **i.data} for i in new]}


def post(url: str, body: dict[str, Any]) -> int:
    """POST `body` as JSON to the webhook; its HTTP status. Raises UsageError with the reason when it fails."""
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"--webhook {redact(url)}: give the incoming webhook's http(s) URL")
    data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "cxbench-watch"})
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:  # noqa: S310 (scheme checked above)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise UsageError(f"--webhook answered {exc.code} {exc.reason}: check the URL and that the hook is "
                         "still enabled") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"--webhook {redact(url)}: cannot post ({reason}); the items stay new for the next run"
                         ) from None


@dataclass(frozen=True)
class WatchResult:
    new: list[Item]
    posted: bool
    failing: list[Any]  # latest records rated at or below --fail-on


def run_once(card: Any, source: str, *, webhook: str | None, state: Path, fail_on: str | None = None) -> WatchResult:
    """Post the items of `card` not in `state`, then record them there."""
    failing = card.rated_at_or_below(fail_on) if fail_on else []
    seen: set[str] = set()
    if state.exists():
        try:
            seen = set(json.loads(state.read_text(encoding="utf-8")).get("seen", []))
        except (ValueError, AttributeError, OSError):
            seen = set()  # a damaged state file: everything is new once more
    current = items_of(card)
    new = [i for i in current if i.key not in seen]
    posted = False
    if new and webhook:
        post(webhook, message(source, new))
        posted = True
    if new and (posted or not webhook):
        # Only keys still current are kept: a finding that went away and comes back is news again.
        document = {"source": redact(source), "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "seen": sorted({i.key for i in current})}
        state.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(state, json.dumps(document, indent=1))
    return WatchResult(new, posted, failing)
