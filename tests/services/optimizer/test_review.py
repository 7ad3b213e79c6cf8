"""The Suggestions work list (SQL filter, sort, page, counts, version), the detail's wording and the history's
local time, on a store filled with suggestions whose numbers are known."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from services import optimizer as sugg
from services.optimizer import detail, review, worklist
from services.store import open_db, write

ACC, PID = "acc-1", "111"


def _row(i: int, **over) -> dict:
    base = {
        "suggestion_key": f"k{i}",
        "profile_id": PID,
        "type": "bid",
        "entity_kind": "keyword",
        "entity_id": f"e{i}",
        "campaign_id": f"c{i % 3}",
        "campaign_name": f"Campaign {i % 3}",
        "ad_group_id": f"g{i}",
        "ad_group_name": f"Group {i}",
        "keyword_text": f"garden hose {i}",
        "match_type": "EXACT",
        "current_value": 1.15,
        "proposed_value": 0.92,
        "change_pct": -0.2,
        "rule": "bid_to_value",
        "reason": f"Lower the bid of keyword {i}: its ACOS is far above the 15 % target, so each click costs more "
        "than it brings back at this seller's margin.",
        "confidence": 0.5,
        "clicks": 100 + i,
        "orders": 3,
        "spend": 50.0,
        "sales": 80.0,
        "acos": 0.625,
        "cvr_raw": 0.03,
        "cvr_shrunk": 0.035,
        "target_acos": 0.15,
        "expected_spend_change": -10.0,
        "expected_sales_change": -5.0,
        "window_start": "2026-10-01",
        "window_end": "2026-10-30",
    }
    base.update(over)
    return base


@pytest.fixture()
def db(tmp_path):
    store = open_db(tmp_path / "s.db")
    rows = [_row(i) for i in range(30)]
    # known impacts at the default margin (target 0.15 / share 0.5 = 0.30): sales x 0.30 - spend
    rows[7].update(
        expected_spend_change=-100.0, expected_sales_change=0.0, type="negative", match_type="NEGATIVE_EXACT"
    )
    rows[11].update(
        expected_spend_change=20.0, expected_sales_change=200.0, type="budget", entity_kind="campaign", rule="budget_up"
    )
    rows[3].update(expected_spend_change=50.0, expected_sales_change=10.0)  # loses 47 a week: last
    rows[5].update(type="placement", current_value=50.0, proposed_value=70.0, keyword_text=None)
    rows[9].update(type="harvest", search_term="b0abcdef12", keyword_text="b0abcdef12", proposed_value=0.85)
    sugg.save_suggestions(store, ACC, pd.DataFrame(rows))
    return store


def test_default_order_is_expected_profit_impact(db):
    wl = worklist.work_list(db, ACC, PID, worklist.ListFilter())
    assert wl.total == 30 and len(wl.rows) == 30
    impacts = wl.rows["expected_profit_change"].tolist()
    assert impacts == sorted(impacts, reverse=True)
    assert wl.rows.iloc[0]["keyword_text"] == "garden hose 7"  # saves $100 a week
    assert impacts[0] == pytest.approx(100.0)
    assert wl.rows.iloc[1]["type"] == "budget" and impacts[1] == pytest.approx(200 * 0.30 - 20)
    assert wl.rows.iloc[-1]["keyword_text"] == "garden hose 3" and impacts[-1] == pytest.approx(10 * 0.30 - 50)


def test_entered_margin_replaces_the_assumed_one(db):
    with write(db):
        db.conn.execute(
            "INSERT INTO product_ads (profile_id, ad_id, campaign_id, asin) VALUES (?, 'a1', 'c2', 'B0AAAAAAAA')", [PID]
        )
    sugg.set_margin(db, ACC, "B0AAAAAAAA", 0.6)
    wl = worklist.work_list(db, ACC, PID, worklist.ListFilter(types=("budget",)))
    assert wl.rows.iloc[0]["expected_profit_change"] == pytest.approx(200 * 0.6 - 20)  # campaign 11 % 3 == 2


def test_filters_pages_and_counts_in_sql(db):
    f = worklist.ListFilter(page_size=7)
    first, third = worklist.work_list(db, ACC, PID, f), worklist.work_list(db, ACC, PID, worklist.ListFilter(page=5))
    assert first.pages == 5 and len(first.rows) == 7 and third.page == 1  # page 5 of 1: the last page there is
    pages = [worklist.work_list(db, ACC, PID, worklist.ListFilter(page_size=7, page=p)).rows for p in range(1, 6)]
    ids = [i for p in pages for i in p["suggestion_id"]]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sorted(ids) == sorted(worklist.matching_ids(db, ACC, PID, worklist.ListFilter()))
    counts = dict(zip(first.by_type["type"], first.by_type["count"]))
    assert counts == {"bid": 26, "negative": 1, "harvest": 1, "budget": 1, "placement": 1}
    bids = worklist.work_list(db, ACC, PID, worklist.ListFilter(types=worklist.type_keys(["Bid changes"])))
    assert bids.total == 26 and set(bids.rows["type"]) == {"bid"}
    hose = worklist.work_list(db, ACC, PID, worklist.ListFilter(search="HOSE 2"))
    assert set(hose.rows["keyword_text"]) == {"garden hose 2"} | {f"garden hose {i}" for i in range(20, 30)}
    one = worklist.work_list(db, ACC, PID, worklist.ListFilter(campaign_id="c1"))
    assert one.total == 10 and set(one.rows["campaign_id"]) == {"c1"}
    camps = worklist.campaign_counts(db, ACC, PID, worklist.ListFilter(campaign_id="c1"))
    assert dict(zip(camps["campaign_id"], camps["count"])) == {"c0": 10, "c1": 10, "c2": 10}
    assert worklist.work_list(db, ACC, PID, worklist.ListFilter(statuses=())).total == 0
    # the list reads only its columns: no evidence, no window, no key
    assert "reason" in first.rows.columns and "window_start" not in first.rows.columns


def test_selected_ids_hidden_by_a_filter_are_not_acted_on(db):
    wl = worklist.work_list(db, ACC, PID, worklist.ListFilter())
    picked = wl.rows["suggestion_id"].tolist()[:3]
    campaign = wl.rows.iloc[0]["campaign_id"]
    visible = worklist.matching_ids(db, ACC, PID, worklist.ListFilter(campaign_id=campaign), among=picked)
    expected = [i for i, c in zip(wl.rows["suggestion_id"][:3], wl.rows["campaign_id"][:3]) if c == campaign]
    assert sorted(visible) == sorted(expected)
    assert worklist.matching_ids(db, ACC, PID, worklist.ListFilter(), among=[]) == []


def test_version_changes_with_every_decision_apply_and_generation(db):
    v0 = worklist.list_version(db, ACC, PID)
    ids = worklist.matching_ids(db, ACC, PID, worklist.ListFilter())
    sugg.approve(db, ids[:1])
    v1 = worklist.list_version(db, ACC, PID)
    assert v1 != v0
    with write(db):  # what an apply records: the history row and the suggestion's status, in one transaction
        db.conn.execute(
            "INSERT INTO change_history (change_id, account_id, profile_id, suggestion_id, applied_at, change_type, "
            "action, ok) VALUES ('h9', ?, ?, ?, '2099-01-01T00:00:00+00:00', 'bid', 'update', 1)",
            [ACC, PID, ids[0]],
        )
        db.conn.execute("UPDATE suggestions SET status = 'applied' WHERE suggestion_id = ?", [ids[0]])
    v2 = worklist.list_version(db, ACC, PID)
    assert v2 not in (v0, v1)
    with write(db):  # a generation a second later
        db.conn.execute(
            "UPDATE suggestions SET created_at = '2099-01-02T00:00:00+00:00' WHERE suggestion_id = ?", [ids[1]]
        )
    assert worklist.list_version(db, ACC, PID) not in (v0, v1, v2)
    assert worklist.list_version(db, "other", PID) == "None|None|None"


def test_freshness_says_when_a_sync_is_newer(db):
    assert not worklist.freshness(db, ACC, PID).stale  # no sync at all: nothing newer
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds")
    with write(db):
        db.conn.execute(
            "INSERT INTO sync_runs (run_id, account_id, started_at, finished_at, status) VALUES ('r', ?, ?, ?, 'ok')",
            [ACC, later, later],
        )
    fr = worklist.freshness(db, ACC, PID)
    assert fr.stale and fr.generated_at is not None and fr.synced_at > fr.generated_at


def test_change_has_the_unit_of_its_type(db):
    rows = worklist.work_list(db, ACC, PID, worklist.ListFilter()).rows
    texts = dict(zip(rows["type"] + rows["keyword_text"].fillna(""), detail.change_texts(rows, "USD")))
    assert texts["bidgarden hose 0"] == "$1.15 → $0.92"
    assert texts["placement"] == "50 % → 70 %"
    assert texts["negativegarden hose 7"] == "Add as negative exact"
    assert texts["harvestb0abcdef12"] == "New exact keyword at $0.85"
    budget = rows[rows["type"] == "budget"].iloc[0].to_dict()
    assert detail.change_text(budget, "EUR") == "€1.15 → €0.92 a day"
    assert detail.field_change("placement_top_pct", "50", "70", "USD") == "50 % → 70 %"
    assert detail.field_change("bid", None, 0.85, "GBP") == "new → £0.85"


def test_product_names_for_asins(db):
    with write(db):
        db.conn.execute(
            "INSERT INTO accounts (account_id, name, region, client_id, client_secret_enc, created_at) "
            "VALUES (?, 'Test seller', 'NA', 'c', 'x', '2026-11-01')",
            [ACC],
        )
        db.conn.execute(
            "INSERT INTO profiles (profile_id, account_id, marketplace_id) VALUES (?, ?, 'ATVPDKIKX0DER')", [PID, ACC]
        )
        db.conn.execute(
            "INSERT INTO products (marketplace_id, asin, name, fetched_at) "
            "VALUES ('ATVPDKIKX0DER', 'B0ABCDEF12', 'Brass Hose Nozzle', '2026-11-01')"
        )
    rows = detail.with_products(db, PID, worklist.work_list(db, ACC, PID, worklist.ListFilter()).rows)
    named = rows[rows["product"].notna()]
    assert named["keyword_text"].tolist() == ["b0abcdef12"] and named["product"].tolist() == ["Brass Hose Nozzle"]


def test_target_sentence_from_evidence_and_the_old_fallback():
    ev = {"target_kind": "acos", "target_value": 0.25, "target_acos": 0.25, "target_source": "campaign override"}
    assert detail.target_sentence(ev) == "Aims at 25 % ACOS (campaign override)."
    tacos = {"target_kind": "tacos", "target_value": 0.1, "target_acos": 0.3, "target_source": "account TACoS target"}
    assert detail.target_sentence(tacos) == "Aims at 30 % ACOS to reach a 10 % TACoS (account TACoS target)."
    profit = {"target_kind": "profit", "target_value": None, "target_acos": 0.125, "target_source": "product margin"}
    assert (
        detail.target_sentence(profit) == "Aims at 12.5 % ACOS, below break-even for the most profit (product margin)."
    )
    assert detail.target_sentence({}, 0.15) == "Aims at 15 % ACOS."
    assert detail.target_sentence({}) is None
    assert detail.evidence_of({"evidence": json.dumps(ev)}) == ev
    assert detail.evidence_of({"evidence": "not json"}) == {} and detail.evidence_of({}) == {}


def test_evidence_table_in_words_and_numbers(db):
    sid = worklist.matching_ids(db, ACC, PID, worklist.ListFilter(types=("budget",)))[0]
    row = detail.suggestion_detail(db, ACC, PID, sid)
    assert detail.suggestion_detail(db, "other-account", PID, sid) is None
    table = detail.evidence_table(db, ACC, PID, row, "USD").set_index("evidence")
    assert table.loc["Clicks", "value"] == "111" and table.loc["Spend", "value"] == "$50.00"
    assert table.loc["ACOS", "value"] == "62.5 %" and table.loc["Conversion rate, shrunk", "value"] == "3.5 %"
    assert table.loc["Expected profit impact", "value"] == "$40.00"  # 200 x 0.30 - 20
    assert table.loc["Target", "value"] == "15 % ACOS"
    assert "Profitable campaign" in table.loc["Rule", "value"]


def test_history_in_the_users_time_zone_with_the_campaign(db):
    with write(db):
        db.conn.execute(
            "INSERT INTO campaigns (profile_id, campaign_id, name) VALUES (?, 'c1', 'Hoses - Exact')", [PID]
        )
        db.conn.execute(
            "INSERT INTO change_history (change_id, account_id, profile_id, applied_at, change_type, action, "
            "campaign_id, field, old_value, new_value, ok) VALUES ('h1', ?, ?, '2026-12-01T14:05:00+00:00', 'bid', "
            "'update', 'c1', 'bid', '1.15', '0.92', 1)",
            [ACC, PID],
        )
    berlin = review.history(db, ACC, PID, "Europe/Berlin")
    assert berlin.iloc[0]["applied_at"] == "2026-12-01 15:05" and berlin.iloc[0]["campaign"] == "Hoses - Exact"
    assert berlin.iloc[0]["change"] == "$1.15 → $0.92"
    assert review.history(db, ACC, PID, None).iloc[0]["applied_at"] == "2026-12-01 14:05"
    assert review.history(db, ACC, PID, "Not/AZone").iloc[0]["applied_at"] == "2026-12-01 14:05"


def test_outcome_sentence_says_what_an_undo_did():
    ok = pd.DataFrame({"ok": [True] * 5})
    assert review.outcome_sentence("apply", ok) == (True, "Amazon accepted 5 of 5 change(s).")
    done, text = review.outcome_sentence("undo", ok)
    assert done and text == "Undone on Amazon: 5 of 5 change(s) put back to their earlier values."
    assert "accepted" not in text
    assert review.outcome_sentence("undo", pd.DataFrame({"ok": [True, False]}))[0] is False


def test_csv_of_the_list_has_the_pages_headers_and_units(db):
    import io

    rows = worklist.matching_rows(db, ACC, PID, worklist.ListFilter())
    back = pd.read_csv(io.BytesIO(review.suggestions_csv(rows, "USD")), dtype=str, keep_default_na=False)
    assert len(back) == 30
    assert back.columns[:4].tolist() == ["Type", "Status", "Change", "Expected profit / week"]
    assert back["Change"].iloc[0] == "Add as negative exact" and back["Expected profit / week"].iloc[0] == "100.00"
    assert back["ACOS"].iloc[1] == "62.50%" and back["Suggestion ID"].str.len().min() > 0
