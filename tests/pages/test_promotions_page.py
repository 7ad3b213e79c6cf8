"""AppTest of the Promotions page: performance, the create form's errors next to fields, and the round trip
form -> bulk file -> sandbox upload -> sync -> scheduled -> live."""

from datetime import date, timedelta

import requests

from services import connect
from services.promotions import store as promotion_store
from tests.pages.conftest import new_app


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_performance_and_suggestions_tabs(demo_account):
    at = new_app(demo_account, "promotions.py")
    assert not at.exception, at.exception
    overview = at.dataframe[0].value
    assert "Coupon" in set(overview["kind"]) and set(overview["kind"]) & {"Best deal", "Lightning deal"}
    assert {"clips", "redemptions", "clip_to_redeem", "pace", "fee"} <= set(overview.columns)
    assert at.get("plotly_chart"), "the promotion timeline is drawn"


def test_form_errors_shown_and_draft_kept(demo_account):
    at = new_app(demo_account, "promotions.py")
    at.text_area(key="asins").input('=HYPERLINK("x"); NOTANASIN')
    at.number_input(key="percent_off").set_value(90.0)
    at.text_input(key="title_suffix").input("Black Friday 20% off <script>alert(1)</script>")
    at.number_input(key="budget").set_value(50.0)
    at.date_input(key="start_date").set_value(date.today() - timedelta(days=2))
    at.button(key="FormSubmitter:promo_form-Check and save draft").click().run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    for fragment in ("ASIN", "80", "100", "past"):
        assert fragment in errors, (fragment, errors)
    # what was typed is still there, and saved as a draft
    assert at.text_input(key="title_suffix").value.startswith("Black Friday")
    db = connect.open_store()
    records = promotion_store.list_records(db, status="draft")
    assert any("Black Friday" in (r["draft"].get("title_suffix") or "") for r in records)


def test_form_shows_only_the_chosen_discount_and_errors_stay_with_their_profile(demo_account):
    """Why (issue 14): "Both discount fields show whatever discount type is chosen" and "A US form error still
    shows on the UK profile"."""
    at = new_app(demo_account, "promotions.py")
    keys = {n.key for n in at.number_input}
    assert "percent_off" in keys and "money_off" not in keys
    at.radio(key="discount_type").set_value("money").run()
    keys = {n.key for n in at.number_input}
    assert "money_off" in keys and "percent_off" not in keys
    at.text_area(key="asins").input("NOTANASIN")
    at.button(key="FormSubmitter:promo_form-Check and save draft").click().run()
    assert not at.exception, at.exception
    assert any("problem(s) to fix" in e.value for e in at.error)
    box = at.sidebar.selectbox(key="profile_id")
    box.select_index(next(i for i, label in enumerate(box.options) if label.startswith("UK"))).run()
    assert not at.exception, at.exception
    assert not any("problem(s) to fix" in e.value or "ASIN" in e.value for e in at.error), [e.value for e in at.error]


def test_products_picked_by_name_and_an_overlapping_coupon_is_named(demo_account):
    """Why (issue 14): "There is no product picker, and no warning that an ASIN already has a live coupon in the
    same dates." The form offers the account's products by name; a draft on an ASIN a synced coupon already
    promotes in those dates is saved with a warning under the ASINs that names the coupon."""
    import json

    from services.analytics.sales import product_names

    db = connect.open_store()
    pid = db.conn.execute("SELECT profile_id FROM profiles WHERE country_code = 'US'").fetchone()[0]
    tomorrow = date.today() + timedelta(days=1)
    name, start, end, listed = db.conn.execute(
        "SELECT coalesce(name, website_message), start_date_time, end_date_time, asins FROM coupons "
        "WHERE profile_id = ? AND substr(end_date_time, 1, 10) > ? ORDER BY end_date_time DESC",
        [pid, tomorrow.isoformat()],
    ).fetchone()
    asin = json.loads(listed)[0]
    at = new_app(demo_account, "promotions.py")
    picker = at.multiselect(key="asins_picked")
    assert asin in picker.options or asin in [o.split("(")[-1].rstrip(")") for o in picker.options]
    names = product_names(db, pid)
    assert any(names[asin] in o for o in picker.options), "products are offered by name"
    picker.set_value([asin])
    at.number_input(key="percent_off").set_value(15.0)
    at.text_input(key="title_suffix").input("overlap check")
    first = max(tomorrow, date.fromisoformat(start[:10]))
    at.date_input(key="start_date").set_value(first)
    at.date_input(key="end_date").set_value(first + timedelta(days=3))
    at.button(key="FormSubmitter:promo_form-Check and save draft").click().run()
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning).replace("\\", "")  # markdown escapes off: the words
    assert f"{asin} already has the coupon \u201c{name}\u201d" in warnings, warnings
    saved = [
        r for r in promotion_store.list_records(db, status="draft") if r["draft"].get("title_suffix") == "overlap check"
    ]
    assert saved and asin in str(saved[0]["draft"].get("asins"))


def test_valid_coupon_round_trip_to_scheduled_and_live(demo_account):
    from services import demo
    from services.sync import sync_account

    db = connect.open_store()
    us = db.conn.execute("SELECT profile_id, marketplace_id FROM profiles WHERE country_code = 'US'").fetchone()
    asins = sorted(promotion_store.account_asins(db, us[0]))[:2]
    at = new_app(demo_account, "promotions.py")
    at.text_area(key="asins").input("; ".join(asins))
    at.number_input(key="percent_off").set_value(15.0)
    at.text_input(key="title_suffix").input("garden tools from the form")
    at.number_input(key="budget").set_value(1500.0)
    sandbox_today = date.fromisoformat(requests.get(f"{demo.sandbox_url()}/_sandbox/state", timeout=10).json()["today"])
    at.date_input(key="start_date").set_value(sandbox_today + timedelta(days=2))
    at.date_input(key="end_date").set_value(sandbox_today + timedelta(days=20))
    at.button(key="FormSubmitter:promo_form-Check and save draft").click().run()
    assert not at.exception, at.exception
    assert "rules are met" in at.success[0].value
    _button(at, "export_coupon").click().run()
    assert not at.exception, at.exception
    out = at.session_state[f"promo_export_{us[0]}"]  # an export belongs to its profile
    assert out["ok"], out
    body = out["data"]
    assert body.decode("utf-8-sig").splitlines()[0].startswith("ASIN list,Discount type,% off value,Money-off value")

    # Seller Central's stand-in accepts the same file; the next sync links it
    r = requests.post(
        f"{demo.sandbox_url()}/_sandbox/coupons/upload",
        params={"marketplaceId": us[1]},
        data=body,
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert sync_account(connect.db_path(), demo_account, connect.make_vault(), days=3).status == "ok"
    at = new_app(demo_account, "promotions.py")
    overview = at.dataframe[0].value
    mine = overview[overview["promotion_name"].fillna("").str.contains("garden tools from the form")]
    assert list(mine["status"]) == ["Scheduled"]

    requests.post(f"{demo.sandbox_url()}/_sandbox/advance", json={"days": 5}, timeout=300).raise_for_status()
    assert sync_account(connect.db_path(), demo_account, connect.make_vault(), days=7).status == "ok"
    at = new_app(demo_account, "promotions.py")
    overview = at.dataframe[0].value
    mine = overview[overview["promotion_name"].fillna("").str.contains("garden tools from the form")].iloc[0]
    assert mine["status"] == "Live" and mine["clips"] > 0 and mine["redemptions"] > 0


def _count_calls(monkeypatch, module, name: str) -> list:
    """Wrap `module.name(db, profile_id, ...)` so each call records its profile id; returns that list."""
    real = getattr(module, name)
    calls: list = []

    def counted(db, profile_id, *args, **kwargs):
        calls.append(profile_id)
        return real(db, profile_id, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_suggestions_computed_once_per_data_version(demo_account, monkeypatch):
    """A rerun (any widget) reuses the cached suggestions; `suggest` runs again only when a sync changes the data
    version (issue 15: it ran ~100 queries on every rerun)."""
    import streamlit as st

    from services.promotions import suggestions

    real = suggestions.suggest
    calls = _count_calls(monkeypatch, suggestions, "suggest")
    st.cache_data.clear()
    at = new_app(demo_account, "promotions.py")
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert len(calls) == 1, calls
    shown = next(d.value for d in at.dataframe if {"change", "expected_effect"} <= set(d.value.columns))
    direct = real(connect.open_store(), calls[0])
    assert list(shown["reason"]) == list(direct["reason"])


def test_overview_cached_until_a_draft_or_a_sync_changes_it(demo_account, monkeypatch):
    """Reruns reuse the cached overview (issue 15: the Promotions page within 0.3 s warm); saving a draft on the
    create tab is a new entry at once, so the draft shows in the table on the next run."""
    import streamlit as st

    from services import promotions

    calls = _count_calls(monkeypatch, promotions, "promotions_overview")
    st.cache_data.clear()
    at = new_app(demo_account, "promotions.py")
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert len(calls) == 1, calls
    before = len(at.dataframe[0].value)
    at.text_input(key="title_suffix").input("cached overview check")
    at.button(key="FormSubmitter:promo_form-Check and save draft").click().run()
    assert not at.exception, at.exception
    at.run()
    assert len(calls) == 2, calls
    overview = at.dataframe[0].value
    assert len(overview) == before + 1
    assert overview["promotion_name"].fillna("").str.contains("cached overview check").any()
