"""The Search terms workbench's SQL (filters, sort, paging, totals, wasted spend) against the pandas definitions of
the same views, on the demo seller synced from the sandbox."""

import math
from datetime import timedelta

import pandas as pd
import pytest

from services import analytics
from services.analytics import search_terms as terms
from services.store import open_db


@pytest.fixture(scope="module")
def ctx(demo_store):
    path, _, account_id, sandbox = demo_store
    db = open_db(path)
    us = next(p for p in sandbox.world.profiles() if p["countryCode"] == "US")
    pid = str(us["profileId"])
    _, last = analytics.data_span(db, pid)
    q = analytics.Query(pid, last - timedelta(days=29), last, 7)
    return db, q, analytics.search_terms_table(db, q)


def _keys(df: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(df["keyword_id"].astype(str), df["search_term"]))


def test_a_page_of_rows_and_the_totals_of_every_match(ctx):
    db, q, legacy = ctx
    tp = terms.term_page(db, q, terms.TermFilter(), page=0, page_size=100)
    assert tp.matched == tp.total == len(legacy) > 100
    assert len(tp.rows) == 100 and tp.pages == math.ceil(len(legacy) / 100)
    assert tp.totals["cost"] == pytest.approx(legacy["cost"].sum(), abs=0.01)
    assert tp.totals["clicks"] == legacy["clicks"].sum() and tp.totals["orders"] == legacy["orders"].sum()
    assert tp.rows["cost"].is_monotonic_decreasing
    assert list(tp.rows["cost"]) == sorted(legacy["cost"], reverse=True)[:100]
    # the pages put together are exactly the whole result, each row once, in the page order
    everything = terms.all_terms(db, q, terms.TermFilter())
    big = math.ceil(len(legacy) / 4)
    paged = pd.concat([terms.term_page(db, q, terms.TermFilter(), p, big).rows for p in range(4)])
    assert list(paged["row_key"]) == list(everything["row_key"]) and paged["row_key"].is_unique
    assert _keys(everything) == _keys(legacy)
    # a page past the end shows the last page
    assert terms.term_page(db, q, terms.TermFilter(), 10_000, 100).page == tp.pages - 1


def test_filters_match_the_same_filters_in_pandas(ctx):
    db, q, legacy = ctx
    campaign = legacy["campaign_id"].iloc[0]
    f = terms.TermFilter(campaign_ids=(campaign,), match_types=("BROAD", "PHRASE"), min_clicks=2, orders="without")
    want = legacy[
        (legacy["campaign_id"] == campaign)
        & legacy["match_type"].isin(["BROAD", "PHRASE"])
        & (legacy["clicks"] >= 2)
        & (legacy["orders"] == 0)
    ]
    got = terms.all_terms(db, q, f)
    assert _keys(got) == _keys(want)
    word = legacy["search_term"].iloc[5].split()[0]
    got = terms.term_page(db, q, terms.TermFilter(search=word.upper(), orders="with", sort="clicks"))
    hay = (legacy["search_term"] + " " + legacy["triggered_by"].fillna("")).str.lower()
    want = legacy[hay.str.contains(word.lower(), regex=False) & (legacy["orders"] > 0)]
    assert got.matched == len(want) and got.totals["sales"] == pytest.approx(want["sales"].sum(), abs=0.01)
    assert got.rows["clicks"].is_monotonic_decreasing
    assert got.total == len(legacy)  # the count before any filter, for "x of y"


def test_wasted_spend_needs_the_clicks_that_should_have_brought_an_order(ctx):
    db, q, legacy = ctx
    f = terms.TermFilter(view="wasted")
    wasted = terms.all_terms(db, q, f)
    # the threshold: at least 10 clicks, and 1 / the ad group's CVR (the account's when the group has no order)
    by_group = legacy.groupby("ad_group_id")[["orders", "clicks"]].sum()
    account_cvr = legacy["orders"].sum() / legacy["clicks"].sum()
    cvr = (by_group["orders"] / by_group["clicks"]).where(by_group["orders"] > 0, account_cvr)
    need = legacy["ad_group_id"].map(lambda g: max(10, math.ceil(1 / cvr[g])))
    want = legacy[(legacy["orders"] == 0) & (legacy["clicks"] >= need)]
    assert _keys(wasted) == _keys(want) and len(want) > 0
    assert (wasted["waste_threshold"] >= 10).all()
    s = terms.waste_summary(db, q, f)
    naive = analytics.wasted_spend(legacy)
    assert s.naive_cost == pytest.approx(naive["cost"].sum(), abs=0.01) and s.naive_terms == len(naive)
    assert s.wasted_cost == pytest.approx(want["cost"].sum(), abs=0.01) and s.wasted_terms == len(want)
    assert s.wasted_cost + s.unjudged_cost == pytest.approx(s.naive_cost, abs=0.01)
    single = naive[naive["clicks"] == 1]
    assert s.single_click_terms == len(single) and s.single_click_cost == pytest.approx(single["cost"].sum(), abs=0.01)
    assert s.wasted_cost < s.naive_cost
    # a higher floor judges fewer terms
    stricter = terms.waste_summary(db, q, terms.TermFilter(view="wasted", waste_floor=30))
    assert stricter.wasted_terms < s.wasted_terms


def test_converters_not_exact_and_rows_by_key(ctx):
    db, q, legacy = ctx
    conv = terms.all_terms(db, q, terms.TermFilter(view="converters"))
    assert _keys(conv) == _keys(analytics.converters_not_exact(db, q, legacy)) and len(conv) > 0
    keys = list(conv["row_key"].iloc[:3]) + [terms.row_keys(legacy.iloc[[-1]])[0]]
    picked = terms.rows_by_key(db, q, keys)
    assert sorted(picked["row_key"]) == sorted(keys)
    with pytest.raises(ValueError):
        terms.TermFilter(sort="cost; DROP TABLE campaigns")


def test_ngrams_of_the_filtered_terms_drop_stop_words(ctx):
    db, q, _ = ctx
    grams, count = terms.ngram_page(db, q, terms.TermFilter(), 1, limit=50)
    assert len(grams) == 50 < count and "for" not in set(grams["ngram"]) and grams["cost"].is_monotonic_decreasing


def test_search_terms_and_campaigns_agree_on_spend_to_the_cent(demo_store):
    """Issue 15: the same range on Search terms and Campaigns shows the same spend (once 4,362 repeated search-term
    rows were overwritten in the store, and Search terms showed $683 less). Every profile, the page's totals."""
    path, _, _, sandbox = demo_store
    db = open_db(path)
    checked = 0
    for p in sandbox.world.profiles():
        pid = str(p["profileId"])
        _, last = analytics.data_span(db, pid)
        if last is None:
            continue
        q = analytics.Query(pid, last - timedelta(days=29), last, 7)
        on_terms = terms.term_page(db, q, terms.TermFilter(), page_size=1).totals["cost"]
        on_campaigns = round(float(analytics.campaigns_table(db, q)["cost"].sum()), 2)
        truth = round(sandbox.world.totals(pid, q.start, q.end)["cost"], 2)
        assert on_terms == pytest.approx(on_campaigns, abs=0.005) and on_campaigns == pytest.approx(truth, abs=0.005)
        checked += 1
    assert checked >= 3


def test_asin_search_terms_and_asin_targets_show_the_product_name():
    df = pd.DataFrame(
        {
            "search_term": ["b0abcdefgh", "yoga mat", "b0zzzzzzzz"],
            "triggered_by": ["close-match", 'asin="B0ABCDEFGH"', "loose-match"],
        }
    )
    out = terms.with_product_names(df, {"B0ABCDEFGH": "Zentara Yoga Mat (1)"})
    assert list(out.columns) == ["search_term", "term_product", "triggered_by", "target_product"]
    assert out["term_product"].fillna("").tolist() == ["Zentara Yoga Mat (1)", "", ""]  # unknown ASIN: no name
    assert out["target_product"].fillna("").tolist() == ["", "Zentara Yoga Mat (1)", ""]


@pytest.mark.parametrize("window", [7, 14])
def test_the_syncs_sums_of_a_range_give_exactly_the_rows_summed_from_the_days(ctx, monkeypatch, window):
    """The sync sums the sidebar's common ranges once (`search_term_span`); reading them must give the very rows,
    totals, thresholds and n-grams that summing the day table gives, for both attribution windows."""
    db, q30, _ = ctx
    q = analytics.Query(q30.profile_id, q30.start, q30.end, window)
    built = db.conn.execute(
        "SELECT start, end, rows FROM search_term_spans WHERE profile_id = ? ORDER BY start DESC", [q.profile_id]
    ).fetchall()
    rules = ((q.end - timedelta(days=59)).isoformat(), (q.end - timedelta(days=3)).isoformat())  # the optimizer's
    assert [(s, e) for s, e, _ in built] == [((q.end - timedelta(days=29)).isoformat(), q.end.isoformat()), rules]
    assert terms.has_span(db, q)
    filters = [
        terms.TermFilter(),
        terms.TermFilter(view="wasted", waste_floor=3, waste_expected_orders=1.5, sort="acos", descending=False),
        terms.TermFilter(view="converters", sort="search_term"),
        terms.TermFilter(match_types=("BROAD", "EXACT"), min_clicks=2, orders="with", sort="sales"),
    ]

    def read():
        return (
            [terms.all_terms(db, q, f) for f in filters],
            [terms.term_page(db, q, f, 1, 50) for f in filters],
            terms.waste_summary(db, q, filters[1]),
            terms.ngram_page(db, q, filters[0], 2)[0],
        )

    from_spans = read()
    monkeypatch.setattr(terms, "has_span", lambda db, q: False)
    from_days = read()
    for got, want in zip(from_spans[0], from_days[0]):
        assert len(want) > 0
        pd.testing.assert_frame_equal(got, want)
    for got, want in zip(from_spans[1], from_days[1]):
        pd.testing.assert_frame_equal(got.rows, want.rows)
        assert (got.matched, got.total, got.totals, got.pages) == (want.matched, want.total, want.totals, want.pages)
    assert from_spans[2] == from_days[2] and from_days[2].wasted_terms > 0
    pd.testing.assert_frame_equal(from_spans[3], from_days[3])
