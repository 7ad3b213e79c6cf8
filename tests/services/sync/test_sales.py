"""Total sales and traffic and product names through the sync, against the sandbox over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from synchelp import FAST_POLICY, demo_account, vault

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
from services import connect
from services.store import open_db
from services.sync import sync_account
from services.sync.sales import LAG_DAYS, NO_ROLE_SENTENCE, OTHER_ASINS_PER_SYNC, day_rows, wanted_asins

DAYS = 20


@pytest.fixture(scope="module")
def synced(sandbox, tmp_path_factory):
    path = tmp_path_factory.mktemp("sales") / "demo.db"
    aid = demo_account(path, sandbox.url)
    summary = sync_account(path, aid, vault(), days=DAYS, policy=FAST_POLICY)
    return path, aid, summary


def test_sync_stores_daily_totals_per_asin_days_and_names(synced, sandbox):
    path, _, summary = synced
    assert summary.status == "ok", summary.errors
    assert summary.notes == [] and summary.reports == 3 * 6  # the ad reports are untouched by the extra jobs
    db = open_db(path)
    today = sandbox.world.today
    last = db.conn.execute("SELECT MAX(date), COUNT(DISTINCT date) FROM sales_traffic_account_day").fetchone()
    assert last[0] == (today - dt.timedelta(days=LAG_DAYS)).isoformat()  # ~72 h of lag
    assert last[1] == DAYS - LAG_DAYS + 1
    # per-ASIN day rows sum to the account's daily total, within rounding
    for pid, d, total, asin_sum, n in db.conn.execute(
        "SELECT a.profile_id, a.date, a.ordered_product_sales, SUM(s.ordered_product_sales), COUNT(*) "
        "FROM sales_traffic_account_day a JOIN sales_traffic_day s USING (profile_id, date) GROUP BY 1, 2"
    ):
        assert asin_sum == pytest.approx(total, abs=0.005 * n + 1e-9), (pid, d)
    # ad-attributed sales (longest window the store has) never exceed total sales for an ASIN and day
    over = db.conn.execute(
        "SELECT ap.profile_id, ap.date, ap.asin, SUM(ap.sales_30d) AS ad, MAX(s.ordered_product_sales) AS total "
        "FROM advertised_product_day ap JOIN sales_traffic_day s "
        "ON s.profile_id = ap.profile_id AND s.date = ap.date AND s.asin = ap.asin "
        "GROUP BY 1, 2, 3 HAVING ad > total + 0.005"
    ).fetchall()
    assert over == []
    checked = db.conn.execute(
        "SELECT COUNT(*) FROM advertised_product_day ap JOIN sales_traffic_day s USING (profile_id, date, asin)"
    ).fetchone()[0]
    assert checked > 100
    # names for every advertised ASIN, German ones in DE
    missing = db.conn.execute(
        "SELECT COUNT(DISTINCT pa.asin) FROM product_ads pa JOIN profiles p USING (profile_id) "
        "LEFT JOIN products n ON n.marketplace_id = p.marketplace_id AND n.asin = pa.asin WHERE n.name IS NULL"
    ).fetchone()[0]
    assert missing == 0
    assert connect.sales_traffic_notice(db, synced[1]) is None
    de = db.conn.execute(
        "SELECT n.name FROM products n JOIN product_ads pa ON pa.asin = n.asin JOIN profiles p USING (profile_id) "
        "WHERE n.marketplace_id = 'A1PA6795UKMFR9' AND p.marketplace_id = n.marketplace_id LIMIT 5"
    ).fetchall()
    assert de and all("(" in n for (n,) in de)  # the seller's own listings, numbered
    # other sellers' ASINs (product targets and typed ASINs, most clicked first), at most OTHER_ASINS_PER_SYNC a run
    us = db.conn.execute("SELECT profile_id FROM profiles WHERE country_code = 'US'").fetchone()[0]
    own, others = wanted_asins(db, us)
    named = {a for (a,) in db.conn.execute("SELECT asin FROM products WHERE marketplace_id = 'ATVPDKIKX0DER'")}
    assert others and not own & set(others)
    assert set(others[:OTHER_ASINS_PER_SYNC]) <= named and len(named - own) == OTHER_ASINS_PER_SYNC


def test_later_run_restates_recent_days_and_skips_fresh_names(synced, sandbox):
    path, aid, _ = synced
    db = open_db(path)
    before = dict(db.conn.execute("SELECT marketplace_id || asin, fetched_at FROM products").fetchall())
    again = sync_account(path, aid, vault(), days=DAYS, policy=FAST_POLICY)
    assert again.status == "ok", again.errors
    assert 0 < again.sales_days <= 3 * 14  # only the restated window, not the whole horizon again
    after = dict(db.conn.execute("SELECT marketplace_id || asin, fetched_at FROM products").fetchall())
    assert {k: after[k] for k in before} == before  # names are cached: none fetched again
    assert again.product_names == len(after) - len(before)  # only the next other sellers' ASINs, if any


def test_missing_role_syncs_everything_else_and_says_why(sandbox, tmp_path):
    path = tmp_path / "norole.db"
    creds = {
        "client_id": DEMO_CLIENT["client_id"],
        "client_secret": DEMO_CLIENT["client_secret"],
        "refresh_token": AUTHORIZATIONS["no_sales_role"]["refresh_token"],
    }
    aid = demo_account(path, sandbox.url, creds)
    summary = sync_account(path, aid, vault(), days=5, policy=FAST_POLICY)
    assert summary.status == "ok", summary.errors
    assert summary.failures == 0 and summary.reports == 3 * 6 and summary.coupons > 0
    assert summary.notes == [NO_ROLE_SENTENCE]
    db = open_db(path)
    assert db["sales_traffic_day"].count == 0 and db["campaign_day"].count > 0
    assert db.conn.execute("SELECT COUNT(*) FROM sales_traffic_status WHERE status = 'no_role'").fetchone()[0] == 3
    # what the Connect page shows, after the sync and on every later visit
    assert connect.describe_summary(summary).endswith(NO_ROLE_SENTENCE)
    assert connect.sales_traffic_notice(db, aid) == NO_ROLE_SENTENCE


def test_day_rows_parse_defensively():
    profile = {"profile_id": "1", "currency_code": "USD"}
    doc = {
        "salesAndTrafficByDate": [{"date": "2025-01-02", "salesByDate": {}, "trafficByDate": {"sessions": "7"}}, "x"],
        "salesAndTrafficByAsin": [
            {"parentAsin": "B0PARENT01", "salesByAsin": {"orderedProductSales": {"amount": 12.345}},
             "trafficByAsin": {"browerPageViews": 4}},
            {"childAsin": None},
        ],
    }  # fmt: skip
    account, per_asin = day_rows(profile, dt.date(2025, 1, 2), doc)
    assert account[0]["sessions"] == 7 and account[0]["ordered_product_sales"] == 0.0
    assert per_asin == [
        {"profile_id": "1", "date": "2025-01-02", "asin": "B0PARENT01", "parent_asin": "B0PARENT01", "sku": None,
         "ordered_product_sales": 12.35, "units_ordered": 0, "total_order_items": 0, "sessions": 0, "page_views": 4,
         "buy_box_percentage": None, "unit_session_percentage": None, "currency_code": "USD"}
    ]  # fmt: skip
