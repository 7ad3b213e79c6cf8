"""No row lost, no row doubled: for every report of a sync, every metric's total in the store equals the total of the
report document fetched raw from the sandbox; search terms and campaigns agree on spend."""

from __future__ import annotations

import pytest
from synchelp import FAST_POLICY, demo_account, run_sync, vault

from services import accounts
from services.store import open_db
from services.sync import REPORT_SPECS, report_body


def _metric_columns(grain: str) -> dict[str, str]:
    """Amazon column -> store column, for the columns a report adds up."""
    from services.store import METRIC_COLUMNS

    spec = REPORT_SPECS[grain]
    cols = dict(METRIC_COLUMNS) if spec["metrics"] else {}
    for src, dst in spec["map"].items():
        if isinstance(dst, tuple) and dst[1] in ("int", "money") and "OtherSku" in src:
            cols[src] = dst[0]
    return cols


def test_every_report_total_equals_the_store(sandbox, tmp_path):
    path = tmp_path / "totals.db"
    summary = run_sync(path, sandbox.url, days=8)
    assert summary.status == "ok", summary.errors
    db = open_db(path)
    clients = accounts.clients_for(db, vault(), demo_account(path, sandbox.url), policy=FAST_POLICY)
    regions = {r[0]: r[1] for r in db.conn.execute("SELECT profile_id, region FROM profiles")}
    tasks = db.conn.execute(
        "SELECT profile_id, report_type, start, end FROM sync_tasks WHERE status = 'done'"
    ).fetchall()
    assert {t[1] for t in tasks} == set(REPORT_SPECS)
    for pid, grain, start, end in tasks:
        ads = clients.ads(regions[pid])
        rid = ads.create_report(pid, report_body(grain, start, end))
        raw = ads.wait_report(pid, rid, poll=0.05, sleep=__import__("time").sleep)
        cols = _metric_columns(grain)
        stored = db.conn.execute(
            f"SELECT COUNT(*), {', '.join(f'SUM([{c}])' for c in cols.values())} FROM [{grain}] "
            "WHERE profile_id = ? AND date BETWEEN ? AND ?",
            [pid, start, end],
        ).fetchone()
        assert stored[0] == len(raw), (grain, pid)  # one stored row per report row: none lost, none doubled
        for (src, dst), got in zip(cols.items(), stored[1:]):
            want = sum(r.get(src) or 0 for r in raw)
            assert (got or 0) == pytest.approx(want, abs=0.011), (grain, pid, dst)
    for pid in regions:
        spend = [
            db.conn.execute(f"SELECT ROUND(SUM(cost), 2) FROM [{t}] WHERE profile_id = ?", [pid]).fetchone()[0]
            for t in ("campaign_day", "search_term_day")
        ]
        assert spend[0] == pytest.approx(spend[1], abs=0.011), pid
