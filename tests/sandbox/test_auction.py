"""One advertiser, one auction: targets that match the same query share its impressions."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.world import World

TODAY = dt.date(2026, 8, 15)
TOLERANCE = 1.05  # the reach is fixed; only the competitor auction (bid level) may move the total


@pytest.fixture(scope="module")
def world():
    return World(seed=7, scale="demo", today=TODAY)


def _harvestable_from_broad(w, pid):
    """A planted harvestable term served by a broad or phrase keyword, with that keyword's entity."""
    kws = {k["keywordId"]: k for k in w.entities(pid, "keywords")}
    tst = w.truth_search_terms(pid)
    cand = tst[tst["is_harvestable"] & tst["entity_id"].isin(list(kws))]
    cand = cand[
        [kws[e]["matchType"] in ("BROAD", "PHRASE") and kws[e]["state"] == "ENABLED" for e in cand["entity_id"]]
    ]
    row = cand.sort_values("volume", ascending=False).iloc[0]
    return row["search_term"], kws[row["entity_id"]]


def test_harvested_exact_keyword_takes_traffic_from_its_source_instead_of_adding_it(world):
    w = world
    pid = w.sellers()[0]["profileIds"][0]
    term, source = _harvestable_from_broad(w, pid)
    before = w.truth_query_impressions(pid, term)
    assert before["impressions"].sum() > 0
    src_before = before.loc[before["entity_id"] == source["keywordId"], "impressions"].sum()
    new = w.create_entities(
        pid,
        "keywords",
        [
            {
                "campaignId": source["campaignId"],
                "adGroupId": source["adGroupId"],
                "keywordText": term,
                "matchType": "EXACT",
                "state": "ENABLED",
                "bid": source["bid"],  # same bid: only the match differs
            }
        ],
    )[0]
    after = w.truth_query_impressions(pid, term)
    total_before, total_after = before["impressions"].sum(), after["impressions"].sum()
    assert total_after <= TOLERANCE * total_before, (total_before, total_after)
    own = after.loc[after["entity_id"] == new["keywordId"], "impressions"].sum()
    src_after = after.loc[after["entity_id"] == source["keywordId"], "impressions"].sum()
    assert own == after["impressions"].max()  # the exact match wins the largest share at an equal bid
    assert src_after < 0.75 * src_before  # ... and takes it from its source
    # bid control is what harvesting buys: a higher bid on the exact keyword wins more of the competitor auction
    w.update_entity(pid, "keywords", new["keywordId"], {"bid": round(source["bid"] * 2, 2)})
    assert w.truth_query_impressions(pid, term)["impressions"].sum() > 1.1 * total_after


def test_a_query_first_served_by_a_new_keyword_gets_its_own_reach(world):
    """A new text nobody served yet is new traffic (its reach comes from the new keyword)."""
    w = world
    pid = w.sellers()[0]["profileIds"][0]
    kw = next(k for k in w.entities(pid, "keywords") if k["state"] == "ENABLED" and k["matchType"] == "EXACT")
    text = "sandbox auction test query never generated"
    assert w.truth_query_impressions(pid, text).empty
    w.create_entities(
        pid,
        "keywords",
        [
            {
                "campaignId": kw["campaignId"],
                "adGroupId": kw["adGroupId"],
                "keywordText": text,
                "matchType": "EXACT",
                "state": "ENABLED",
                "bid": 1.0,
            }
        ],
    )
    assert w.truth_query_impressions(pid, text)["impressions"].sum() > 0
