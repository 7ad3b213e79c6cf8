"""End-to-end sync against the sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from synchelp import FAST_POLICY, demo_account, duplicates, run_sync, vault

from services import accounts, store
from services.store import open_db
from services.sync import plan_range, windows


@pytest.fixture(scope="module")
def synced(default_sync, sandbox, tmp_path_factory):
    """The session's default-range sync (tests/conftest.py), copied: the second-run test syncs into it again."""
    built, summary, events = default_sync
    path = tmp_path_factory.mktemp("sync") / "demo.db"
    shutil.copyfile(built / "demo.db", path)
    demo_account(path, sandbox.url)  # the account now points at this worker's sandbox (same seed, same world)
    return path, summary, events


def test_full_sync_fills_every_table(synced):
    path, summary, events = synced
    assert summary.status == "ok", summary.errors
    assert summary.failures == 0 and summary.profiles == 3
    db = open_db(path)
    for t in store.DATA_TABLES:
        assert db[t].count > 0, t
    # 95 days in windows of at most 31 days: 4 windows × 6 grains × 3 profiles
    assert summary.reports == 3 * 6 * 4
    spans = db.conn.execute(
        "SELECT MIN(julianday(end) - julianday(start) + 1), MAX(julianday(end) - julianday(start) + 1) FROM sync_tasks"
    ).fetchone()
    assert spans[1] <= 31
    days = db.conn.execute("SELECT COUNT(DISTINCT date) FROM campaign_day").fetchone()[0]
    assert 90 <= days <= 95
    # ids are text, money carries its currency
    row = db.conn.execute(
        "SELECT typeof(campaign_id), typeof(profile_id), currency_code FROM campaign_day LIMIT 1"
    ).fetchone()
    assert row[:2] == ("text", "text") and row[2]
    cur = {r[0]: r[1] for r in db.conn.execute("SELECT profile_id, currency_code FROM profiles")}
    for pid, c in db.conn.execute("SELECT DISTINCT profile_id, currency_code FROM campaign_day"):
        assert cur[pid] == c
    assert not duplicates(path)
    # progress: (stage, done, total, rows), done never goes back
    assert events and events[-1][0] == "done"
    done = [e[1] for e in events]
    assert done == sorted(done) and events[-1][1] == events[-1][2]


def test_totals_match_sandbox_to_the_cent(synced, sandbox):
    path, summary, _ = synced
    db = open_db(path)
    for pid, (start, end) in summary.date_ranges.items():
        truth = sandbox.world.totals(pid, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        got = db.conn.execute(
            "SELECT SUM(impressions), SUM(clicks), ROUND(SUM(cost), 2), SUM(purchases_7d), ROUND(SUM(sales_7d), 2) "
            "FROM campaign_day WHERE profile_id = ? AND date BETWEEN ? AND ?",
            [pid, start, end],
        ).fetchone()
        assert got[0] == truth["impressions"] and got[1] == truth["clicks"], pid
        assert got[2] == pytest.approx(round(truth["cost"], 2), abs=0.005), pid
        assert got[3] == truth["purchases7d"], pid
        assert got[4] == pytest.approx(round(truth["sales7d"], 2), abs=0.005), pid
        # other grains agree with the campaign grain on spend
        for t in ("placement_day", "target_day", "advertised_product_day"):
            c = db.conn.execute(f"SELECT ROUND(SUM(cost), 2) FROM [{t}] WHERE profile_id = ?", [pid]).fetchone()[0]
            assert c == pytest.approx(got[2], abs=0.05), (t, pid)


def test_second_run_refetches_last_14_days_without_duplicates(synced, sandbox):
    path, first, _ = synced
    before = {t: open_db(path)[t].count for t in store.REPORT_TABLES}
    s = run_sync(path, sandbox.url)
    assert s.status == "ok" and not s.resumed
    db = open_db(path)
    spans = db.conn.execute("SELECT DISTINCT start, end FROM sync_tasks WHERE run_id = ?", [s.run_id]).fetchall()
    yesterday = sandbox.world.today - dt.timedelta(days=1)
    assert spans == [((yesterday - dt.timedelta(days=13)).isoformat(), yesterday.isoformat())]
    assert s.reports == 3 * 6
    assert {t: db[t].count for t in store.REPORT_TABLES} == before
    assert not duplicates(path)
    # coupons: one snapshot per coupon per day, the second run the same day replaces it
    assert db.conn.execute("SELECT COUNT(*) FROM coupon_snapshots").fetchone()[0] == db["coupons"].count


def test_plan_range_and_windows():
    today = dt.date(2024, 6, 1)
    y = today - dt.timedelta(days=1)
    assert plan_range(set(), today, None) == (y - dt.timedelta(days=94), y)
    assert plan_range(set(), today, 400) == (y - dt.timedelta(days=94), y)
    assert plan_range(set(), today, 10) == (y - dt.timedelta(days=9), y)
    # covered up to 5 days ago: new days + last 14 covered again
    cov = {y - dt.timedelta(days=i) for i in range(5, 95)}
    assert plan_range(cov, today, None) == (y - dt.timedelta(days=18), y)
    # a hole in the middle is filled
    cov2 = {y - dt.timedelta(days=i) for i in range(0, 95) if i != 50}
    assert plan_range(cov2, today, None)[0] == y - dt.timedelta(days=50)
    w = windows(y - dt.timedelta(days=94), y)
    assert [((b - a).days + 1) for a, b in w] == [31, 31, 31, 2]


def test_revoked_authorization_marks_reconnect(sandbox, tmp_path):
    from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
    from services.sync import sync_account

    path = tmp_path / "r.db"
    db = open_db(path)
    aid = accounts.add_account(
        db,
        vault(),
        "Revoked",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["revoked"]["refresh_token"],
        backend="sandbox",
        sandbox_url=sandbox.url,
    )
    s = sync_account(path, aid, vault(), days=3, policy=FAST_POLICY)
    assert s.status == "reconnect_needed"
    assert accounts.get_account(db, aid)["status"] == "reconnect_needed"
    assert db["campaign_day"].count == 0


def test_profile_filter_and_days(sandbox, tmp_path):
    path = tmp_path / "p.db"
    pid = str(sandbox.world.profiles()[0]["profileId"])
    s = run_sync(path, sandbox.url, profile_ids=[pid], days=5)
    assert s.status == "ok" and s.profiles == 1 and s.reports == 6
    db = open_db(path)
    assert {r[0] for r in db.conn.execute("SELECT DISTINCT profile_id FROM campaign_day")} == {pid}
    assert db.conn.execute("SELECT COUNT(DISTINCT date) FROM campaign_day").fetchone()[0] <= 5
    assert db["profiles"].count == 3  # all profiles are stored, only the chosen one synced


def test_flagged_account_is_not_synced(tmp_path, sandbox):
    """After invalid_grant the account is flagged; later runs (cron) stop before any HTTP call."""
    from cryptography.fernet import Fernet

    from sandbox import demo_credentials
    from services import accounts
    from services.secrets.vault import Vault
    from services.store import open_db
    from services.sync import sync_account

    vault = Vault(secret_keys=Fernet.generate_key().decode())
    path = tmp_path / "flagged.db"
    db = open_db(path)
    aid = accounts.connect_demo(db, vault, sandbox.url, demo_credentials())
    accounts.mark_reconnect_needed(db, aid)
    summary = sync_account(path, aid, vault, days=5)
    assert summary.status == "reconnect_needed" and summary.reports == 0
    assert db.conn.execute("SELECT COUNT(*) FROM sync_runs").fetchone()[0] == 0
    assert db.conn.execute("SELECT COUNT(*) FROM campaign_day").fetchone()[0] == 0
