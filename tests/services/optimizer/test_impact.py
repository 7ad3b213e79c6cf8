"""Impact tracking on the sandbox: apply a bid cut through the journal, advance 21 days, sync, and the measured
effect on clicks and spend has the direction and rough size the sandbox's truth says it should."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dtime

import numpy as np
import pandas as pd
import pytest
import requests

from sandbox.constants import PLC_COMP, PLC_CTR, PLC_VOL_KW, PLC_VOL_PT
from services import optimizer as sugg
from services.optimizer.impact import impact_summary, impacts_csv, measure_impacts


def _expected_clicks_and_spend(world, pid: str, entity_id: str) -> tuple[float, float]:
    """Expected clicks and spend a day of one target from the simulation's own model (no season, weekday or budget
    cap): impressions_j = V vol_j (1 - exp(-b_j / (c k_j))), clicks_j = impressions_j ctr_j, CPC_j ~ 0.75 b_j."""
    t = world.truth_auction(pid)
    i = int(np.flatnonzero(t["entity_id"] == entity_id)[0])
    pct = t["pct"][t["t_camp"][i]]
    bj = t["bid"][i] * (1 + pct / 100.0)
    vol = PLC_VOL_PT if t["pt"][i] else PLC_VOL_KW
    clicks = t["V"][i] * vol * (1 - np.exp(-bj / (t["comp"][i] * PLC_COMP))) * np.clip(t["ctr"][i] * PLC_CTR, 0, 0.5)
    return float(clicks.sum()), float((clicks * 0.75 * bj).sum())


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    from sandbox import demo_credentials, start_sandbox
    from services import accounts, store, sync
    from services.secrets.vault import Vault

    h = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.05)
    path = tmp_path_factory.mktemp("impact") / "store.db"
    db = store.open_db(path)
    vault = Vault(db_path=path)
    account_id = accounts.connect_demo(db, vault, h.url, demo_credentials())
    pid = str(h.world.profiles()[0]["profileId"])
    sync.sync_account(path, account_id, vault, profile_ids=[pid], days=21)
    yield {"h": h, "db": db, "path": path, "vault": vault, "acc": account_id, "pid": pid}
    h.stop()


def test_a_bid_cut_measured_21_days_later_matches_the_truth(synced):
    from services import sync

    h, db, acc, pid = synced["h"], synced["db"], synced["acc"], synced["pid"]
    for r in h.world.truth_products(pid).itertuples(index=False):
        sugg.set_margin(db, acc, str(r.asin), float(r.margin), sku=str(r.sku), source="seller")
    found = sugg.generate(db, acc, pid)
    # the busiest keyword with a bid suggestion, in a campaign that spends well under its budget (a budget cap
    # would blur what the bid does); cut to half its bid so the effect stands well out of the daily noise
    camp = pd.DataFrame(h.world.entities(pid, "campaigns"))
    budget = {c["campaignId"]: float(c["budget"]["budget"]) for c in h.world.entities(pid, "campaigns")}
    spend = pd.read_sql_query(
        "SELECT campaign_id, avg(cost) AS spend FROM campaign_day WHERE profile_id = ? GROUP BY campaign_id",
        db.conn,
        params=[pid],
    ).set_index("campaign_id")["spend"]
    roomy = {c for c in camp["campaignId"] if spend.get(c, 0) < 0.5 * budget[c]}
    bids = found[(found["type"] == "bid") & found["campaign_id"].isin(roomy) & (found["entity_kind"] == "keyword")]
    pick = bids.sort_values("clicks", ascending=False).iloc[0]
    assert pick["clicks"] >= 60, "the busiest keyword should have enough clicks to measure"
    old_bid = float(pick["current_value"])
    with db.conn:
        db.conn.execute(
            "UPDATE suggestions SET proposed_value = ? WHERE suggestion_id = ?",
            [round(old_bid / 2, 2), pick["suggestion_id"]],
        )
    before_truth = _expected_clicks_and_spend(h.world, pid, pick["entity_id"])
    sugg.approve(db, [pick["suggestion_id"]])
    now = datetime.combine(h.world.today, dtime(6, 0), tzinfo=UTC)
    report = sugg.apply_approved(
        db, synced_client(synced), acc, pid, confirmed=True, ids=[pick["suggestion_id"]], now=now
    )
    assert report.succeeded == 1
    after_truth = _expected_clicks_and_spend(h.world, pid, pick["entity_id"])

    assert requests.post(h.url + "/_sandbox/advance", json={"days": 21}, timeout=120).status_code == 200
    sync.sync_account(synced["path"], acc, synced["vault"], profile_ids=[pid], days=25)

    impacts = measure_impacts(db, acc, pid)
    row = impacts[impacts["entity_id"] == pick["entity_id"]].iloc[0]
    assert row["status"] == "measured" and row["scope"] == "keyword"
    true_clicks = after_truth[0] / before_truth[0]
    true_spend = after_truth[1] / before_truth[1]
    got_clicks = row["clicks_after"] / row["clicks_expected"]
    got_spend = row["spend_after"] / row["spend_expected"]
    print(f"clicks x{got_clicks:.2f} (truth x{true_clicks:.2f}); spend x{got_spend:.2f} (truth x{true_spend:.2f})")
    assert true_clicks < 1 and got_clicks < 1 and row["clicks_effect"] < 0  # direction
    assert got_clicks == pytest.approx(true_clicks, rel=0.35)  # rough size: Poisson noise over two weeks
    assert got_spend == pytest.approx(true_spend, rel=0.35)
    assert row["profit_effect"] == pytest.approx(row["profit_after"] - row["profit_expected"], abs=0.02)
    summary = impact_summary(impacts)
    assert summary["measured"] >= 1 and summary["profit_effect"] is not None
    csv = impacts_csv(impacts).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("change_id,applied_on,change_type")


def synced_client(synced):
    return sugg.client_for_profile(synced["db"], synced["vault"], synced["acc"], synced["pid"])
