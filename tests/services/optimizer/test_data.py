"""Loading the optimizer's frames from the store: Amazon's column names mapped to the generic ones."""

from __future__ import annotations

from datetime import date

from services import store
from services.optimizer.data import latest_date, load_input


def _db(tmp_path):
    db = store.open_db(tmp_path / "s.db")
    with store.write(db):
        store.upsert_rows(
            db,
            "ad_groups",
            [
                {
                    "profile_id": "P",
                    "ad_group_id": "G",
                    "campaign_id": "C",
                    "name": "AG",
                    "state": "ENABLED",
                    "default_bid": 0.8,
                }
            ],
        )
        store.upsert_rows(
            db,
            "campaigns",
            [
                {
                    "profile_id": "P",
                    "campaign_id": "C",
                    "name": "Camp",
                    "state": "ENABLED",
                    "targeting_type": "MANUAL",
                    "budget": 20.0,
                    "placement_top_pct": 10.0,
                }
            ],
        )
        store.upsert_rows(
            db,
            "keywords",
            [
                {
                    "profile_id": "P",
                    "keyword_id": "K",
                    "campaign_id": "C",
                    "ad_group_id": "G",
                    "keyword_text": "yoga mat",
                    "match_type": "EXACT",
                    "state": "ENABLED",
                    "bid": None,
                }
            ],
        )
        store.upsert_rows(
            db,
            "target_day",
            [
                {
                    "profile_id": "P",
                    "date": "2026-03-01",
                    "keyword_id": "K",
                    "campaign_id": "C",
                    "ad_group_id": "G",
                    "impressions": 100,
                    "clicks": 10,
                    "cost": 5.0,
                    "purchases_7d": 2,
                    "sales_7d": 60.0,
                    "purchases_14d": 3,
                    "sales_14d": 90.0,
                }
            ],
        )
    return db


def test_load_maps_columns_and_defaults_bid(tmp_path):
    db = _db(tmp_path)
    assert latest_date(db, "P") == date(2026, 3, 1)
    inp = load_input(db, "P")
    assert inp.as_of == date(2026, 3, 1)
    row = inp.target_day.iloc[0]
    assert (row["entity_id"], row["orders"], row["sales"]) == ("K", 2, 60.0)
    ent = inp.entities.iloc[0]
    assert ent["kind"] == "keyword" and ent["bid"] == 0.8 and ent["state"] == "enabled"
    assert inp.campaigns.iloc[0]["state"] == "enabled"
    inp14 = load_input(db, "P", attribution="14d")
    assert inp14.target_day.iloc[0]["orders"] == 3
