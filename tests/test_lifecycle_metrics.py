"""The user_lifecycle metric against a hand-worked case, with PostHog's lifecycle statuses
(posthog.com/docs/product-analytics/lifecycle): new, returning, resurrecting, and dormant shown negative."""

from __future__ import annotations

import cxbench
from conftest import pick, write_tables


def month_event(user: str, month: int) -> dict[str, str]:
    return {"user_id": user, "ts": f"2026-{month:02d}-10T10:00:00Z", "event": "login", "page": ""}


LIFECYCLE_EVENTS = [month_event(u, m) for u, months in (("a", (8, 9, 10)), ("b", (8, 10)), ("c", (9, 10, 11)),
                                                          ("d", (11,))) for m in months]


def test_lifecycle_counts_new_returning_resurrecting_and_dormant_users(tmp_path, backend):
    # PostHog's statuses, by month (a: Aug Sep Oct; b: Aug Oct; c: Sep Oct Nov; d: Nov):
    # Aug: new a, b → new 2.
    # Sep: new c; returning a (Aug and Sep); dormant b (Aug, not Sep) → new 1, returning 1, dormant −1.
    # Oct: returning a, c; resurrecting b (not in Sep, active in Aug) → returning 2, resurrecting 1.
    # Nov: new d; returning c; dormant a, b (in Oct, not Nov) → new 1, returning 1, dormant −2.
    folder = write_tables(tmp_path / "life", {"events": LIFECYCLE_EVENTS})
    card = cxbench.compute(folder, metrics=["user_lifecycle"], engine=backend)
    expected = {
        ("2026-08-01", "new"): 2,
        ("2026-09-01", "new"): 1, ("2026-09-01", "returning"): 1, ("2026-09-01", "dormant"): -1,
        ("2026-10-01", "returning"): 2, ("2026-10-01", "resurrecting"): 1,
        ("2026-11-01", "new"): 1, ("2026-11-01", "returning"): 1, ("2026-11-01", "dormant"): -2,
    }
    found = {(r["period_start"], r["dimension"]["status"]): r["value"] for r in card.records
             if r.ok and r["value"] != 0}
    assert found == expected
    dormant = pick(card, "user_lifecycle", period_start="2026-11-01", dimension={"status": "dormant"})
    assert dormant["n"] == 2  # the users counted, though the value is negative


def test_lifecycle_looks_back_before_from(tmp_path):
    # --from 2026-10-01: October still looks back at September (a and c returning, b resurrecting, as above).
    folder = write_tables(tmp_path / "life", {"events": LIFECYCLE_EVENTS})
    late = cxbench.compute(folder, metrics=["user_lifecycle"], from_="2026-10-01")
    assert pick(late, "user_lifecycle", period_start="2026-10-01", dimension={"status": "returning"})["value"] == 2
    assert pick(late, "user_lifecycle", period_start="2026-10-01", dimension={"status": "resurrecting"})["value"] == 1
